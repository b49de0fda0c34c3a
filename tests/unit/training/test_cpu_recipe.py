"""The CPU recipe's order and starting points (the training itself is tested in test_fit)."""
import json

from connear_helpers.training import train_all as TA
from connear_helpers.training import cpu_recipe as R


def test_order_resume_and_starting_weights(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(R._bank, "build_bank", lambda *a, **k: None)

    def fake_fit(stage, bank_dir, run, config, **kw):
        calls.append((stage, config.architecture, config.init_weights))
        assert config.ema == R.EMA[stage] > 0  # every run keeps the moving average of its weights
        run.mkdir(parents=True, exist_ok=True)
        (run / "state.json").write_text(json.dumps({"architecture": config.architecture or "anf_l8f16"}))
        (run / f"{stage}.weights.h5").write_bytes(b"")
        return {"stage": stage}

    monkeypatch.setattr(R._fit, "fit", fake_fit)
    ship = tmp_path / "set"
    ship.mkdir()
    (ship / "manifest.json").write_text(json.dumps({"models": {"ihc": {"file": "ihc.weights.h5",
                                                                       "architecture": "ihc_f32"}}}))
    R.train_all_cpu(tmp_path / "work", stages=("anfl", "ihc", "anfm", "anfh"), minutes=1, ship=None)
    assert [c[0] for c in calls] == ["ihc", "anfh", "anfm", "anfl"]  # the recipe's order
    # no shipped set: IHC and ANF-H from scratch, ANF-M and ANF-L from ANF-H's weights
    assert calls[0][2] is None and calls[1][2] is None
    assert calls[2][2].endswith("anfh.weights.h5") and calls[3][2].endswith("anfh.weights.h5")
    assert "about 0 h 4 min of training left" in capsys.readouterr().err
    # a second call resumes every run (no starting weights); a new run starts from the shipped set
    calls.clear()
    monkeypatch.setattr("connear_helpers.training.weight_set.assemble", lambda *a, **k: (None, []))
    R.train_all_cpu(tmp_path / "work2", stages=("ihc",), minutes=1, ship=ship)
    assert calls == [("ihc", "ihc_f32", str(ship / "ihc.weights.h5"))]
    calls.clear()
    R.train_all_cpu(tmp_path / "work2", stages=("ihc",), minutes=1, ship=ship)
    assert calls == [("ihc", None, None)]


def test_train_all_command_line_dispatches_the_cpu_recipe(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(R, "train_all_cpu", lambda *a: seen.setdefault("args", a))
    assert TA._main(["--out", str(tmp_path), "--minutes", "5", "--stages", "ihc", "--ship", "S"]) == 0
    assert seen["args"][1:] == (["ihc"], 5.0, 48, 0, "S")
