"""The shipped set: scores against the bar, per-stage replacement only when better, the manifest."""
import json

import numpy as np
import pytest

pytest.importorskip("keras")

from connear_helpers.cnn import weights as W  # noqa: E402
from connear_helpers.cnn import architectures as M  # noqa: E402
from connear_helpers.training import weight_set as WS  # noqa: E402


def _result(mode, ep=0.05, rl=5.0, sync=0.01, hsr_1k=None):
    """A synthetic evaluate() result (the fields scores() and summary() read)."""
    curves = {"freqs_hz": np.array([1006.99, 3972.69])}
    rl_rmse = {f: np.array([rl, rl]) for f in ("HSR", "MSR", "LSR")}
    if hsr_1k is not None:
        rl_rmse["HSR"] = np.array([hsr_1k, 99.0])
    return {"mode": mode, "bar": {"passed": False, "items": [], "missing": []}, "rows": [],
            "ihc_excitation": {"freqs_hz": np.array([250.0, 500.0, 1000.0, 2000.0]),
                               "levels_db_spl": np.array([0.0, 10.0, 90.0, 100.0]),
                               "rmse": np.array([[9.0, 9.0, 9.0, 9.0], [9.0, ep, ep, ep], [9.0, ep, ep, 2 * ep],
                                                 [9.0, 9.0, 9.0, 9.0]])},
            "anf_rate_level": dict(curves, rmse=rl_rmse),
            "anf_synchrony_level": dict(curves, rmse={f: np.array([sync, sync]) for f in ("HSR", "MSR", "LSR")})}


def test_scores_are_relative_to_the_bar():
    s = WS.scores(_result("full", ep=0.05, rl=5.0, sync=0.03), _result("light", ep=0.15, hsr_1k=7.5))
    assert s["ihc"] == pytest.approx(1.0)  # worst 0.1 mV at 2 kHz, 90 dB: exactly the bar
    assert s["anfh"] == s["anfm"] == s["anfl"] == pytest.approx(1.5)  # synchrony 0.03 / 0.02
    assert s["cochlea"] == pytest.approx(1.0)  # light 0.3 mV / 0.3; HSR 1 kHz 7.5 / 15 (4 kHz not judged)
    text = WS.summary(_result("full"), _result("light", hsr_1k=7.5))
    assert "0.100 mV" in text and "not passed" in text
    # an error just above the bar must not be rounded onto it
    text = WS.summary(_result("full", ep=0.0512), _result("light", ep=0.1585, hsr_1k=7.5))
    assert "excitation patterns 0.102 mV" in text and "light mode 0.317 mV" in text


def _fake_run(tmp_path, stage, architecture, seed):
    run = tmp_path / f"runs{seed}" / stage
    run.mkdir(parents=True)
    m = M.build_model(architecture, n_cf=1)
    rng = np.random.default_rng(seed)
    m.set_weights([rng.normal(size=w.shape).astype("f4") for w in m.get_weights()])
    m.save_weights(run / f"{stage}.weights.h5")
    layout = dict(left=256, window=2048, right=256, length=2560)
    (run / "state.json").write_text(json.dumps(dict(architecture=architecture, step=10, wall_s=36.0, sessions=1,
                                                    batch_size=4, layout=layout, lr=1e-3, best_val=0.1,
                                                    best_step=10, bank={"segments": 2}, init_weights=None)))
    return run


def test_a_stage_is_replaced_only_when_it_improved(tmp_path, monkeypatch):
    arch = {"cochlea": "cochlea_f64k32", "ihc": "ihc_f16", "anfh": "anf_l8f16", "anfm": "anf_l8f16",
            "anfl": "anf_l8f16"}
    first = {s: _fake_run(tmp_path, s, a, 1) for s, a in arch.items()}
    second = {s: _fake_run(tmp_path, s, a, 2) for s, a in arch.items() if s in ("ihc", "anfh")}
    judged = []

    def fake_judge(folder, quick=False, progress=True, cache=None):
        manifest = json.loads((folder / "manifest.json").read_text())
        judged.append(manifest)
        better_ihc = manifest["models"]["ihc"]["sha256"] == _sha(second["ihc"] / "ihc.weights.h5")
        return _result("full", ep=0.05 if better_ihc else 0.2, rl=20.0), _result("light", ep=0.4, hsr_1k=20.0)

    _patch_judges(monkeypatch, fake_judge)
    out = tmp_path / "connear_weights"
    manifest, changed = WS.assemble(first, out, progress=False)
    assert sorted(changed) == sorted(arch) and manifest["scores"]["ihc"] == pytest.approx(4.0)
    assert manifest["models"]["ihc"]["architecture"] == "ihc_f16" and manifest["version"]
    # the set loads: the manifest's architecture is built
    monkeypatch.setenv("CONNEAR_LAB_WEIGHTS_DIR", str(out))
    from connear_helpers.cnn.weights import load_model

    assert M.model_name_of(load_model("ihc", "connear-lab")) == "ihc_f16"
    assert W.weights_label("connear-lab") == f"connear-lab {manifest['version']}"
    assert "trained by this project" in W.weights_quality("connear-lab")
    # second round: the IHC improved (replaced), ANF-H did not (kept), the rest untouched
    old_anfh = (out / "anfh.weights.h5").read_bytes()
    manifest, changed = WS.assemble(second, out, progress=False)
    assert changed == ["ihc"] and manifest["scores"]["ihc"] == pytest.approx(1.0)
    assert (out / "anfh.weights.h5").read_bytes() == old_anfh
    assert _sha(out / "ihc.weights.h5") == _sha(second["ihc"] / "ihc.weights.h5")
    # nothing better: nothing written
    before = (out / "manifest.json").read_text()
    _, changed = WS.assemble({"anfh": second["anfh"]}, out, progress=False)
    assert changed == [] and (out / "manifest.json").read_text() == before


def test_a_better_stage_that_worsens_another_score_is_not_shipped(tmp_path, monkeypatch):
    """A better IHC (full mode) that makes light mode worse (the cochlea's score) is no improvement."""
    arch = {"cochlea": "cochlea_f64k32", "ihc": "ihc_f16", "anfh": "anf_l8f16", "anfm": "anf_l8f16",
            "anfl": "anf_l8f16"}
    first = {s: _fake_run(tmp_path, s, a, 1) for s, a in arch.items()}
    better_ihc = {"ihc": _fake_run(tmp_path / "b", "ihc", "ihc_f16", 2)}
    worse_light = {"value": True}

    def fake_judge(folder, quick=False, progress=True, cache=None):
        manifest = json.loads((folder / "manifest.json").read_text())
        new = manifest["models"]["ihc"]["sha256"] == _sha(better_ihc["ihc"] / "ihc.weights.h5")
        light_ep = 0.6 if (new and worse_light["value"]) else 0.4
        return _result("full", ep=0.05 if new else 0.2, rl=5.0), _result("light", ep=light_ep, hsr_1k=5.0)

    _patch_judges(monkeypatch, fake_judge)
    out = tmp_path / "connear_weights"
    WS.assemble(first, out, progress=False)
    before = (out / "manifest.json").read_text()
    manifest, changed = WS.assemble(better_ihc, out, progress=False)
    assert changed == [] and (out / "manifest.json").read_text() == before
    assert manifest["scores"]["cochlea"] == pytest.approx(2 * 0.4 / 0.3, abs=1e-4)  # the shipped score (worst cell 2 ep)
    worse_light["value"] = False  # the same IHC without the light-mode regression is shipped
    manifest, changed = WS.assemble(better_ihc, out, progress=False)
    assert changed == ["ihc"] and manifest["scores"]["ihc"] == pytest.approx(1.0)


def _patch_judges(monkeypatch, fake_judge):
    """judge() and judge_light() from one fake (its light-mode result gives the cochlea's score)."""
    monkeypatch.setattr(WS, "judge", fake_judge)
    monkeypatch.setattr(WS, "judge_light", lambda folder, quick=False, progress=True, cache=None:
                        WS._cochlea_score(fake_judge(folder)[1]))


def test_the_cochlea_is_shipped_without_the_ihc_that_spoils_its_chain(tmp_path, monkeypatch):
    """Cochlea and IHC both retrained: together they worsen light mode (the shipped cochlea's errors
    had partly cancelled the shipped IHC's), the new cochlea with the shipped IHC improves it, the
    new IHC with the shipped cochlea worsens it: the set takes the new cochlea only."""
    arch = {"cochlea": "cochlea_f64k32", "ihc": "ihc_f16", "anfh": "anf_l8f16", "anfm": "anf_l8f16",
            "anfl": "anf_l8f16"}
    first = {s: _fake_run(tmp_path, s, a, 1) for s, a in arch.items()}
    second = {s: _fake_run(tmp_path / "b", s, arch[s], 2) for s in ("cochlea", "ihc")}
    light_ep = {(False, False): 0.4, (True, True): 0.5, (True, False): 0.3, (False, True): 0.45}
    calls = []

    def fake_judge(folder, quick=False, progress=True, cache=None):
        manifest = json.loads((folder / "manifest.json").read_text())
        new = tuple(manifest["models"][s]["sha256"] == _sha(second[s] / f"{s}.weights.h5") for s in ("cochlea", "ihc"))
        calls.append(new)
        return (_result("full", ep=0.05 if new[1] else 0.2, rl=5.0),
                _result("light", ep=light_ep[new], hsr_1k=5.0))

    _patch_judges(monkeypatch, fake_judge)
    out = tmp_path / "connear_weights"
    WS.assemble(first, out, progress=False)
    calls.clear()
    manifest, changed = WS.assemble(second, out, progress=False)
    assert changed == ["cochlea"]
    assert _sha(out / "cochlea.weights.h5") == _sha(second["cochlea"] / "cochlea.weights.h5")
    assert _sha(out / "ihc.weights.h5") == _sha(first["ihc"] / "ihc.weights.h5")
    assert manifest["scores"]["cochlea"] == pytest.approx(2 * 0.3 / 0.3, abs=1e-4)
    assert manifest["scores"]["ihc"] == pytest.approx(4.0)  # the shipped IHC's
    # judged: the candidate pair, each alone in light mode, then the chosen set for the manifest
    assert sorted(calls) == sorted([(True, True), (True, False), (False, True), (True, False)])
    # a later IHC that the new cochlea carries well is then shipped (the chain now has that cochlea)
    light_ep[(True, True)] = 0.25
    manifest, changed = WS.assemble({"ihc": second["ihc"]}, out, progress=False)
    assert changed == ["ihc"] and manifest["scores"]["ihc"] == pytest.approx(1.0)
    assert manifest["scores"]["cochlea"] == pytest.approx(2 * 0.25 / 0.3, abs=1e-4)


def test_a_chosen_candidate_pair_is_the_pair_written(tmp_path, monkeypatch):
    """Cochlea and IHC both retrained and best together: after the light-mode judgements of each
    alone, the set written holds both candidates (the files and manifest of the judged pair)."""
    arch = {"cochlea": "cochlea_f64k32", "ihc": "ihc_f16", "anfh": "anf_l8f16", "anfm": "anf_l8f16",
            "anfl": "anf_l8f16"}
    first = {s: _fake_run(tmp_path, s, a, 1) for s, a in arch.items()}
    second = {s: _fake_run(tmp_path / "b", s, arch[s], 2) for s in ("cochlea", "ihc")}
    light_ep = {(False, False): 0.4, (True, True): 0.25, (True, False): 0.3, (False, True): 0.45}

    def fake_judge(folder, quick=False, progress=True, cache=None):
        manifest = json.loads((folder / "manifest.json").read_text())
        new = tuple(manifest["models"][s]["sha256"] == _sha(second[s] / f"{s}.weights.h5") for s in ("cochlea", "ihc"))
        return (_result("full", ep=0.05 if new[1] else 0.2, rl=5.0),
                _result("light", ep=light_ep[new], hsr_1k=5.0))

    _patch_judges(monkeypatch, fake_judge)
    out = tmp_path / "connear_weights"
    WS.assemble(first, out, progress=False)
    manifest, changed = WS.assemble(second, out, progress=False)
    assert changed == ["cochlea", "ihc"]
    for stage in ("cochlea", "ihc"):
        assert _sha(out / f"{stage}.weights.h5") == _sha(second[stage] / f"{stage}.weights.h5")
        assert manifest["models"][stage]["sha256"] == _sha(second[stage] / f"{stage}.weights.h5")
    assert manifest["scores"]["cochlea"] == pytest.approx(2 * 0.25 / 0.3, abs=1e-4)
    assert manifest["scores"]["ihc"] == pytest.approx(1.0)


def _sha(path):
    from connear_helpers.cnn.weights import file_sha256

    return file_sha256(path)


def test_a_second_set_of_a_day_gets_its_own_version():
    import datetime

    day = datetime.date(2026, 12, 2)
    assert WS.set_version(day) == "2026.12.02"
    assert WS.set_version(day, "2026.12.01") == "2026.12.02"
    assert WS.set_version(day, "2026.12.02") == "2026.12.02.2"
    assert WS.set_version(day, "2026.12.02.2") == "2026.12.02.3"
    assert WS.set_version(day, "2026.12.02.2", new_weights=False) == "2026.12.02.2"  # measured again
    assert WS.set_version(day, "2026.12.021") == "2026.12.02"  # not the same day
