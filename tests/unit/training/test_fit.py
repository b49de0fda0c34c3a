"""The CPU training loop on the bank: windows line up, runs checkpoint, resume and stop on time."""
import dataclasses
import json

import numpy as np
import pytest

pytest.importorskip("keras")

from connear_helpers.cnn import architectures as M  # noqa: E402
from connear_helpers.training import bank as B  # noqa: E402
from connear_helpers.training import fit as F  # noqa: E402

from .test_bank import TINY_PLAN  # noqa: E402



class _FakeSampler(F.Sampler):
    """A sampler whose pool holds ramps: x = y = sample index, so alignment is visible."""

    def __init__(self, family, layout, n=3000):
        self.family, self.stage = family, {"ihc": "ihc", "anf": "anfh"}[family]
        self.left, self.w, self.right, self.length = layout
        self.rng = np.random.default_rng(0)
        self.refresh_every, self._calls = 0, 0
        ramp = np.tile(np.arange(1.0, n + 1, dtype=np.float32), (2, 1))
        self.pool = [(ramp, ramp)]


@pytest.mark.parametrize("family, architecture", [("ihc", "ihc_f16"), ("anf", "anf_l8f16")])
def test_windows_line_up_and_pad_with_the_resting_value(family, architecture):
    layout = F.window_layout(architecture, 512)
    left, w, right, length = layout
    assert length % M.MODEL_INFO[architecture]["multiple"] == 0 and w >= 512
    s = _FakeSampler(family, layout)
    for _ in range(200):
        x, y = s.batch(4)
        assert x.shape == (4, length, 1) and y.shape == (4, w, 1)
        for xi, yi in zip(x[..., 0], y[..., 0]):
            target = xi[left:left + w]
            inside = target > 0
            # inside the signal, the target is the input at the same time
            np.testing.assert_array_equal(yi[inside], target[inside])
            # outside, the input is the resting value: 0 for the IHC (BM at rest), the edge
            # sample for the ANF (the IHC resting potential), as inference pads
            if family == "ihc":
                assert np.all(xi[xi <= 0] == 0)
            else:
                assert np.all(xi >= 1)


def test_fit_checkpoints_resumes_and_writes_a_loadable_run(tiny_bank_path, tmp_path):
    out = tmp_path / "run"
    config = F.FitConfig(architecture="ihc_f16", window=256, batch_size=4, val_every=5, val_batches=2, pool=4,
                         jit=False)
    state = F.fit("ihc", tiny_bank_path, out, config, minutes=5, max_steps=10, progress=False)
    assert state["step"] == 10 and state["sessions"] == 1 and len(state["history"]) == 2
    for name in ("last.weights.h5", "optimizer.npz", "state.json", "history.csv", "ihc.weights.h5",
                 "manifest.json"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["models"]["ihc"]["architecture"] == "ihc_f16"
    # the run folder is a weight source: load_model builds the manifest's architecture
    from connear_helpers.cnn import weights as W

    assert M.model_name_of(W.load_model("ihc", out, n_cf=1)) == "ihc_f16"
    assert W.resolve_weights(str(out), "ihc") == out / "ihc.weights.h5"
    # the time limit stops a run as well (checked before each step: 0 steps when the set-up after
    # the clock started took longer than the limit, as on a loaded machine; 1 otherwise)
    assert F.fit("ihc", tiny_bank_path, tmp_path / "timed", config, minutes=1e-4, max_steps=50,
                 progress=False)["step"] <= 1
    # a second session goes on from the checkpoint (same architecture, more steps)
    first = state["step"]
    state = F.fit("ihc", tiny_bank_path, out, dataclasses.replace(config, architecture="ihc_f32", lr=0.5),
                  minutes=5, max_steps=15, progress=False)
    assert state["architecture"] == "ihc_f16" and state["step"] == 15 and state["sessions"] == 2
    # state.json records what ran: the run's own architecture and learning rate, the new validation interval
    assert state["config"]["architecture"] == "ihc_f16" and state["config"]["lr"] == state["history"][-1][4] != 0.5
    assert state["config"]["val_every"] == 5 and state["config"]["seed"] == 1  # seed + sessions before
    assert first == 10 and len(state["history"]) == 3
    with pytest.raises(ValueError, match="holds a ihc run"):
        F.fit("anfh", tiny_bank_path, out, minutes=0.01, progress=False)


def test_unknown_stage_and_wrong_family_are_errors(tiny_bank_path, tmp_path):
    with pytest.raises(ValueError, match="unknown stage"):
        F.fit("ohc", tiny_bank_path, tmp_path / "a", minutes=0.01)
    with pytest.raises(ValueError, match="is a anf model"):
        F.fit("ihc", tiny_bank_path, tmp_path / "b", F.FitConfig(architecture="anf_l8f16"), minutes=0.01)



def test_sigterm_stops_a_run_with_a_checkpoint(tiny_bank_path, tmp_path, monkeypatch):
    """`kill PID` on a background run (which ignores Ctrl-C's SIGINT) must not lose the steps
    since the last checkpoint: the step under way finishes, the run stops and the state on disk
    has the step it reached."""
    import os
    import signal

    batch = F.Sampler.batch
    drawn = []

    def batch_then_kill(self, batch_size):
        if self.refresh_every:  # the training sampler (validation batches are drawn once, up front)
            drawn.append(1)
            if len(drawn) == 8:  # SIGTERM arrives while step 8 is prepared: step 8 is the last
                os.kill(os.getpid(), signal.SIGTERM)
        return batch(self, batch_size)

    monkeypatch.setattr(F.Sampler, "batch", batch_then_kill)
    before = signal.getsignal(signal.SIGTERM)
    out = tmp_path / "run"
    config = F.FitConfig(architecture="ihc_f16", window=256, batch_size=4, val_every=5, val_batches=2, pool=4,
                         jit=False, checkpoint_minutes=1e3)
    state = F.fit("ihc", tiny_bank_path, out, config, minutes=5, max_steps=50, progress=False)
    assert state["step"] == 8
    assert json.loads((out / "state.json").read_text())["step"] == 8
    assert (out / "last.weights.h5").is_file()
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is restored


def test_ihc_and_anf_runs_refuse_a_cochlea_only_bank(tiny_bank_path, tmp_path):
    extra = tmp_path / "cochlea_bank"
    B.build_bank(extra, plan=[dict(TINY_PLAN[1], id="seg0000")], progress=False, cochlea_only=True)
    for stage in ("ihc", "anfh"):
        with pytest.raises(ValueError, match="cochlea-only"):
            F.fit(stage, [tiny_bank_path, extra], tmp_path / stage, minutes=0.01, progress=False)
        assert not (tmp_path / stage / "state.json").exists()


def test_command_line_passes_the_pool_refresh_and_a_bad_one_is_refused(tiny_bank_path, tmp_path, monkeypatch):
    seen = {}

    def fake_fit(stage, bank, out, config, minutes):
        seen.update(stage=stage, refresh_every=config.refresh_every, minutes=minutes)
        return {"step": 0, "wall_s": 0.0, "best_val": None, "best_step": None}

    monkeypatch.setattr(F, "fit", fake_fit)
    F._main(["anfh", "--bank", str(tiny_bank_path), "--out", str(tmp_path / "r"), "--refresh-every", "5",
             "--minutes", "2"])
    assert seen == {"stage": "anfh", "refresh_every": 5, "minutes": 2.0}
    monkeypatch.undo()
    with pytest.raises(ValueError, match="refresh_every"):
        F.fit("anfh", tiny_bank_path, tmp_path / "bad", F.FitConfig(refresh_every=-1), minutes=0.01, progress=False)


def test_a_stop_file_stops_a_run_with_a_checkpoint_and_is_removed(tiny_bank_path, tmp_path, monkeypatch):
    """`touch RUN/STOP` (the signal-free way to stop a background run) ends the run after the
    step under way, with its state on disk, and the file is gone so that a resume trains on."""
    batch = F.Sampler.batch
    drawn = []
    out = tmp_path / "run"

    def batch_then_stop(self, batch_size):
        if self.refresh_every:
            drawn.append(1)
            if len(drawn) == 6:  # the file appears while step 6 is prepared: step 6 is the last
                (out / F.STOP_FILE).touch()
        return batch(self, batch_size)

    monkeypatch.setattr(F.Sampler, "batch", batch_then_stop)
    config = F.FitConfig(architecture="ihc_f16", window=256, batch_size=4, val_every=5, val_batches=2, pool=4,
                         jit=False, checkpoint_minutes=1e3)
    state = F.fit("ihc", tiny_bank_path, out, config, minutes=5, max_steps=50, progress=False)
    assert state["step"] == 6
    assert json.loads((out / "state.json").read_text())["step"] == 6
    assert not (out / F.STOP_FILE).exists()
    # a stale stop file (one the run never saw) does not stop the next session at its first step
    monkeypatch.setattr(F.Sampler, "batch", batch)
    (out / F.STOP_FILE).touch()
    state = F.fit("ihc", tiny_bank_path, out, config, minutes=5, max_steps=9, progress=False)
    assert state["step"] == 9


def test_banks_can_be_added_to_a_run_without_moving_its_validation_set(tiny_bank_path, tmp_path):
    """A second bank adds training segments only: validation stays on the first bank's
    held-out segments, so a resumed run's validation losses remain comparable."""
    extra = tmp_path / "bank2"
    B.build_bank(extra, plan=[dict(TINY_PLAN[1], id="seg0000")], progress=False)
    first, second = B.Bank(tiny_bank_path), B.Bank(extra)
    train, val = F.training_split([first])
    train2, val2 = F.training_split([first, second])
    ids = lambda pairs: [(p[0].path, p[1]) for p in pairs]  # noqa: E731
    assert ids(val2) == ids(val) == [(first.path, i) for i in first.split()[1]]
    assert ids(train2) == ids(train) + [(second.path, "seg0000")]
    assert not set(ids(train)) & set(ids(val))
    out = tmp_path / "run"
    config = F.FitConfig(architecture="ihc_f16", window=256, batch_size=4, val_every=5, val_batches=2, pool=4,
                         jit=False)
    F.fit("ihc", tiny_bank_path, out, config, minutes=5, max_steps=5, progress=False)
    state = F.fit("ihc", [tiny_bank_path, extra], out, config, minutes=5, max_steps=10, progress=False)
    assert [b["path_name"] for b in state["banks"]] == [first.path.name, "bank2"]
    assert state["bank"]["path_name"] == first.path.name and state["step"] == 10
    with pytest.raises(ValueError, match="same bank is given twice"):
        F.training_split([first, B.Bank(tiny_bank_path)])


def test_window_loss_adds_the_error_of_each_windows_mean():
    import keras

    y = np.zeros((2, 64, 3), np.float32)
    offset = np.full_like(y, 0.5)  # a bias: every sample 0.5 high
    wiggle = np.zeros_like(y)
    wiggle[:, ::2], wiggle[:, 1::2] = 0.5, -0.5  # zero mean, |e| = 0.5
    for weight in (0.0, 2.0):
        loss = F.window_loss(weight)
        biased = keras.ops.convert_to_numpy(loss(y, offset))
        zero_mean = keras.ops.convert_to_numpy(loss(y, wiggle))
        np.testing.assert_allclose(biased, 0.5 * (1 + weight), rtol=1e-6)
        np.testing.assert_allclose(zero_mean, 0.5, rtol=1e-6)  # L1 alone: no mean error
    # the weight-0 loss is Keras's mean absolute error
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 4, 64, 1)).astype(np.float32)
    np.testing.assert_allclose(np.mean(keras.ops.convert_to_numpy(F.window_loss(0.0)(a, b))),
                               float(keras.losses.MeanAbsoluteError()(a, b)), rtol=1e-6)
    with pytest.raises(ValueError, match="mean_weight"):
        F.window_loss(-1.0)


def test_the_compressed_loss_weighs_relative_errors_alike_above_its_scale():
    import keras

    c = 0.1  # CNN units
    loss = F.window_loss(0.0, compress=c)

    def of(amplitude, rel_error, loss=loss):  # a sine window of this amplitude, rel_error too large
        y = (amplitude * np.sin(np.linspace(0, 20 * np.pi, 256)))[None, :, None].astype(np.float32)
        return float(keras.ops.convert_to_numpy(loss(y, (1 + rel_error) * y))[0])

    # far below the scale it is the plain L1 (asinh(x) = x - x**3 / 6 + ...)
    np.testing.assert_allclose(of(1e-4, 0.1), of(1e-4, 0.1, F.window_loss(0.0)), rtol=1e-5)
    # far above, a 10 % error costs about c ln(1.1) wherever the sine is large, at 10 or 1000 units
    # (the plain L1: 100 times more at the louder one)
    assert abs(of(1000.0, 0.1) / of(10.0, 0.1) - 1) < 0.02
    assert 0.5 * c * np.log(1.1) < of(1000.0, 0.1) < c * np.log(1.1)
    plain = F.window_loss(0.0)
    y = np.full((1, 8, 1), 1000.0, np.float32)
    assert float(keras.ops.convert_to_numpy(plain(y, 1.1 * y))[0]) == pytest.approx(100.0, rel=1e-6)
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="compress"):
            F.window_loss(0.0, compress=bad)


def test_a_run_keeps_its_loss_when_resumed(tiny_bank_path, tmp_path):
    config = F.FitConfig(architecture="ihc_f16", window=256, batch_size=4, val_every=5, val_batches=2, pool=4,
                         jit=False, mean_weight=1.0, compress=0.5)
    state = F.fit("ihc", tiny_bank_path, tmp_path / "run", config, minutes=5, max_steps=5, progress=False)
    assert state["mean_weight"] == 1.0 == state["config"]["mean_weight"]
    assert state["compress"] == 0.5 == state["config"]["compress"]
    state = F.fit("ihc", tiny_bank_path, tmp_path / "run", dataclasses.replace(config, mean_weight=0.0, compress=0.0),
                  minutes=5, max_steps=10, progress=False)
    assert state["mean_weight"] == 1.0 == state["config"]["mean_weight"]  # validation losses stay comparable
    assert state["compress"] == 0.5 == state["config"]["compress"]
    from connear_helpers.training import weight_set as WS

    recipe = WS._model_entry("ihc", tmp_path / "run")["training"]["recipe"]
    assert "1 x window-mean error of C asinh(y / C), C = 0.5 CNN units" in recipe


def test_a_fine_tune_of_a_set_counts_the_training_behind_it(tiny_bank_path, tmp_path):
    """A run started from a weight set's file records which model it was and what training went
    into it; the manifest entry of the fine-tune then gives the totals (own + the set's)."""
    from connear_helpers.cnn.weights import file_sha256
    from connear_helpers.training import weight_set as WS

    config = F.FitConfig(architecture="ihc_f16", window=256, batch_size=4, val_every=5, val_batches=2, pool=4,
                         jit=False)
    F.fit("ihc", tiny_bank_path, tmp_path / "first", config, minutes=5, max_steps=5, progress=False)
    shipped = tmp_path / "set"
    shipped.mkdir()
    (shipped / "ihc.weights.h5").write_bytes((tmp_path / "first" / "ihc.weights.h5").read_bytes())
    training = {"steps": 30000, "cpu_hours": 1.5, "steps_total": 40000, "cpu_hours_total": 2.25}
    (shipped / "manifest.json").write_text(json.dumps({"name": "connear-lab", "version": "2026.01.01", "models": {
        "ihc": {"file": "ihc.weights.h5", "sha256": file_sha256(shipped / "ihc.weights.h5"), "training": training}}}))
    tuned = dataclasses.replace(config, init_weights=str(shipped / "ihc.weights.h5"))
    state = F.fit("ihc", tiny_bank_path, tmp_path / "tuned", tuned, minutes=5, max_steps=5, progress=False)
    assert state["init_from"] == {"set": "connear-lab 2026.01.01", "model": "ihc", "steps_total": 40000,
                                  "cpu_hours_total": 2.25}
    entry = WS._model_entry("ihc", tmp_path / "tuned")["training"]
    assert entry["steps"] == 5 and entry["steps_total"] == 40005
    assert entry["cpu_hours_total"] == pytest.approx(2.25 + state["wall_s"] / 3600, abs=0.006)
    # the kept checkpoint's CPU time is the run's when its validation was made, not the run's end
    saved = json.loads((tmp_path / "tuned" / "state.json").read_text())
    assert [row[0] for row in saved["history"]] == [5] and saved["best_step"] == 5
    saved["history"][0][1], saved["wall_s"] = 7200.0, 10800.0
    (tmp_path / "tuned" / "state.json").write_text(json.dumps(saved))
    entry = WS._model_entry("ihc", tmp_path / "tuned")["training"]
    assert entry["cpu_hours_at_best"] == 2.0 and entry["cpu_hours"] == 3.0
    # a set that recorded no totals: its own figures count; an altered file is no set's model
    del training["steps_total"], training["cpu_hours_total"]
    (shipped / "manifest.json").write_text(json.dumps({"name": "connear-lab", "version": "2026.01.01", "models": {
        "ihc": {"file": "ihc.weights.h5", "sha256": file_sha256(shipped / "ihc.weights.h5"), "training": training}}}))
    assert F.init_lineage(shipped / "ihc.weights.h5")["cpu_hours_total"] == 1.5
    (shipped / "ihc.weights.h5").write_bytes((shipped / "ihc.weights.h5").read_bytes() + b"\0")
    assert F.init_lineage(shipped / "ihc.weights.h5") is None
    assert "steps_total" not in WS._model_entry("ihc", tmp_path / "first")["training"]


def test_ema_keeps_the_moving_average_of_the_weights_and_validates_it(tiny_bank_path, tmp_path):
    """With ema=m the run keeps a = m a + (1 - m) w after every step, starting from the weights it
    starts with; the validated and kept weights (``<stage>.weights.h5``) are a, and a resumed run
    goes on averaging from the saved a."""
    import keras

    config = F.FitConfig(architecture="ihc_f16", window=256, batch_size=4, val_every=1, val_batches=2, pool=4,
                         jit=False)
    F.fit("ihc", tiny_bank_path, tmp_path / "first", config, minutes=5, max_steps=3, progress=False)
    start = tmp_path / "first" / "ihc.weights.h5"
    ema = dataclasses.replace(config, init_weights=str(start), ema=0.75)
    out = tmp_path / "run"

    def weights(path):
        model = M.build_model("ihc_f16", n_cf=1)
        model.load_weights(path)
        return [np.asarray(w, np.float64) for w in model.get_weights()]

    def saved_average():
        with np.load(out / "ema.npz") as f:
            return [f[f"arr_{i}"] for i in range(len(f.files))]

    state = F.fit("ihc", tiny_bank_path, out, ema, minutes=5, max_steps=1, progress=False)
    assert state["ema"] == 0.75 == state["config"]["ema"]
    from connear_helpers.training import weight_set as WS

    assert "weights averaged (EMA 0.75)" in WS._model_entry("ihc", out)["training"]["recipe"]
    expected = [0.75 * a + 0.25 * w for a, w in zip(weights(start), weights(out / "last.weights.h5"))]
    for got, want in zip(saved_average(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    # the kept weights are the average (float32), not the raw weights of the last step
    kept = weights(out / "ihc.weights.h5")
    for k, want in zip(kept, expected):
        np.testing.assert_array_equal(k, want.astype(np.float32))
    assert any(not np.array_equal(k, w) for k, w in zip(kept, weights(out / "last.weights.h5")))
    # resumed (asking for another momentum): the run's own, from the saved average
    before = saved_average()
    state = F.fit("ihc", tiny_bank_path, out, dataclasses.replace(ema, ema=0.0), minutes=5, max_steps=2,
                  progress=False)
    assert state["ema"] == 0.75
    for got, a, w in zip(saved_average(), before, weights(out / "last.weights.h5")):
        np.testing.assert_allclose(got, 0.75 * a + 0.25 * w, rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match="ema must be in"):
        F.fit("ihc", tiny_bank_path, tmp_path / "bad", dataclasses.replace(config, ema=1.0), minutes=1,
              progress=False)
    keras.backend.clear_session()


def test_history_csv_restarts_from_the_checkpoint(tiny_bank_path, tmp_path):
    """A run that died after its last checkpoint left validations in history.csv that the next
    session repeats; the file is rewritten from the checkpoint's history, so steps only increase."""
    import csv

    out = tmp_path / "run"
    config = F.FitConfig(architecture="ihc_f16", window=256, batch_size=4, val_every=2, val_batches=2, pool=4,
                         jit=False)
    F.fit("ihc", tiny_bank_path, out, config, minutes=5, max_steps=4, progress=False)
    with open(out / "history.csv", "a") as f:  # validations of steps 6 and 8, lost with the process
        f.write("6,1.0,0.5,0.5,0.001\n8,1.1,0.5,0.5,0.001\n")
    state = F.fit("ihc", tiny_bank_path, out, config, minutes=5, max_steps=6, progress=False)
    rows = list(csv.reader(open(out / "history.csv")))
    assert rows[0] == ["step", "wall_s", "train_loss", "val_loss", "lr"]
    assert [int(r[0]) for r in rows[1:]] == [2, 4, 6] == [h[0] for h in state["history"]]


def test_a_run_draws_its_gains_from_its_own_range_and_keeps_it(tiny_bank_path, tmp_path, monkeypatch):
    """--gain-db: the training and the validation pairs of a run are drawn from its range (so that
    its validation loss measures what it trains for), and a resumed run keeps the range."""
    gains = []
    derive = B.derive

    def spy(bank, seg, gain_db, channels, fibres=B.FIBRES):
        gains.append(gain_db)
        return derive(bank, seg, gain_db, channels, fibres=fibres)

    monkeypatch.setattr(B, "derive", spy)
    config = F.FitConfig(architecture="ihc_f16", window=256, batch_size=4, val_every=2, val_batches=2, pool=4,
                         jit=False, gain_db=(25.0, 40.0))
    state = F.fit("ihc", tiny_bank_path, tmp_path / "loud", config, minutes=5, max_steps=2, progress=False)
    assert len(gains) >= 8 and all(25.0 <= g <= 40.0 for g in gains)
    assert state["gain_db"] == [25.0, 40.0] and state["config"]["gain_db"] == (25.0, 40.0)
    gains.clear()
    state = F.fit("ihc", tiny_bank_path, tmp_path / "loud", dataclasses.replace(config, gain_db=(-20.0, 20.0)),
                  minutes=5, max_steps=4, progress=False)
    assert gains and all(25.0 <= g <= 40.0 for g in gains) and state["gain_db"] == [25.0, 40.0]
    from connear_helpers.training import weight_set as WS

    assert "random gains 25 to 40 dB" in WS._recipe(state)
    for bad in ((20.0, -20.0), (0.0, float("nan"))):
        with pytest.raises(ValueError, match="gain_db"):
            F.fit("ihc", tiny_bank_path, tmp_path / "bad", dataclasses.replace(config, gain_db=bad), minutes=0.01)


def test_history_csv_is_readable_while_a_resumed_run_goes_on(tiny_bank_path, tmp_path, monkeypatch):
    """training.curves reads history.csv of running runs: from the start of a session it holds
    the header and the checkpoint's validations, not an empty buffer."""
    out = tmp_path / "run"
    config = F.FitConfig(architecture="ihc_f16", window=256, batch_size=4, val_every=2, val_batches=2, pool=4,
                         jit=False)
    F.fit("ihc", tiny_bank_path, out, config, minutes=5, max_steps=2, progress=False)
    seen = []
    batch = F.Sampler.batch

    def spy(self, batch_size):
        seen.append((out / "history.csv").read_text())
        return batch(self, batch_size)

    monkeypatch.setattr(F.Sampler, "batch", spy)
    F.fit("ihc", tiny_bank_path, out, config, minutes=5, max_steps=3, progress=False)
    assert seen and all(text.startswith("step,wall_s,train_loss,val_loss,lr") and text.count("\n") >= 2
                        for text in seen), seen


def test_a_new_run_from_a_sets_file_builds_that_files_architecture(tiny_bank_path, tmp_path):
    """--init-weights of a set's file without --architecture continues that file's member of the
    family (ihc_f16 here, not the default ihc_f32); a file of no set keeps the default, which
    then cannot load it, and says so."""
    from connear_helpers.cnn.weights import file_sha256

    config = F.FitConfig(architecture="ihc_f16", window=256, batch_size=4, val_every=5, val_batches=2, pool=4,
                         jit=False)
    F.fit("ihc", tiny_bank_path, tmp_path / "first", config, minutes=5, max_steps=2, progress=False)
    assert F.DEFAULT_ARCHITECTURE["ihc"] != "ihc_f16"
    shipped = tmp_path / "set"
    shipped.mkdir()
    (shipped / "ihc.weights.h5").write_bytes((tmp_path / "first" / "last.weights.h5").read_bytes())
    (shipped / "manifest.json").write_text(json.dumps({"name": "connear-lab", "version": "2026.01.01", "models": {
        "ihc": {"file": "ihc.weights.h5", "architecture": "ihc_f16",
                "sha256": file_sha256(shipped / "ihc.weights.h5")}}}))
    assert F.init_set_architecture(shipped / "ihc.weights.h5") == "ihc_f16"
    tuned = dataclasses.replace(config, architecture=None, init_weights=str(shipped / "ihc.weights.h5"))
    state = F.fit("ihc", tiny_bank_path, tmp_path / "tuned", tuned, minutes=5, max_steps=2, progress=False)
    assert state["architecture"] == "ihc_f16" and state["init_architecture"] == "ihc_f16"
    # the set's architecture is the wrong family for another stage: an error that names both
    with pytest.raises(ValueError, match="ihc model, not anf"):
        F.fit("anfh", tiny_bank_path, tmp_path / "wrong", tuned, minutes=5, max_steps=2, progress=False)
    # an --init-architecture that contradicts the manifest is an error, not a silent misload
    with pytest.raises(ValueError, match="records for it"):
        F.fit("ihc", tiny_bank_path, tmp_path / "contra", dataclasses.replace(tuned, init_architecture="ihc_f32"),
              minutes=5, max_steps=2, progress=False)
    (shipped / "manifest.json").unlink()
    assert F.init_set_architecture(shipped / "ihc.weights.h5") is None


def test_a_run_started_from_another_runs_weights_counts_the_training_behind_them(tiny_bank_path, tmp_path):
    """The run folder's manifest records the steps and CPU-hours up to the kept checkpoint, plus
    what that run started from, so a run from RUN/ihc.weights.h5 (e.g. a fine-tune with another
    gain range) keeps the lineage back to the shipped set."""
    from connear_helpers.cnn.weights import file_sha256

    config = F.FitConfig(architecture="ihc_f16", window=256, batch_size=4, val_every=3, val_batches=2, pool=4,
                         jit=False)
    first = F.fit("ihc", tiny_bank_path, tmp_path / "first", config, minutes=5, max_steps=7, progress=False)
    assert first["best_step"] in (3, 6)
    entry = json.loads((tmp_path / "first" / "manifest.json").read_text())["models"]["ihc"]
    assert entry["sha256"] == file_sha256(tmp_path / "first" / "ihc.weights.h5")
    assert entry["training"]["steps"] == entry["training"]["steps_total"] == first["best_step"]
    lineage = F.init_lineage(tmp_path / "first" / "ihc.weights.h5")
    assert lineage["set"] == "run first" and lineage["steps_total"] == first["best_step"]
    second = F.fit("ihc", tiny_bank_path, tmp_path / "second", dataclasses.replace(
        config, architecture=None, init_weights=str(tmp_path / "first" / "ihc.weights.h5")),
        minutes=5, max_steps=3, progress=False)
    assert second["architecture"] == "ihc_f16" and second["init_from"] == lineage
    assert F.init_lineage(tmp_path / "second" / "ihc.weights.h5")["steps_total"] == 3 + first["best_step"]
