"""Training CLI/function (connear_helpers.training.train) on a tiny dataset with a tiny stand-in model."""
import json

import numpy as np
import pytest
from scipy.io import wavfile
from toy_training import fake_reference, tiny_model

from connear_helpers.training import datasets as D

keras = pytest.importorskip("keras")
from connear_helpers.training import train as T  # noqa: E402


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    wavs = root / "wavs"
    wavs.mkdir()
    fs = 16000
    t = np.arange(480) / fs
    for i in range(2):
        wavfile.write(wavs / f"s{i}.wav", fs,
                      np.round(0.3 * np.sin(2 * np.pi * (400 + 300 * i) * t) * 32767).astype(np.int16))
    out = root / "ds"
    D.build_dataset(out, "ihc", corpus=str(wavs), n_sentences=2, levels=(70, 130), level_mode="all",
                    cf_index=[56, 122, 150], scheduler="synchronous", reference=fake_reference,
                    progress=False)
    return out


def test_one_epoch_writes_weights_and_facts_then_resumes(data_dir, tmp_path):
    out = tmp_path / "run"
    facts = T.train("ihc", data_dir, out, epochs=1, batch_size=4, model_builder=tiny_model,
                    val_fraction=0.5, verbose=0)
    w = out / "ihc.weights.h5"
    assert w.is_file() and (out / "ihc.training.json").is_file()
    saved = json.loads((out / "ihc.training.json").read_text())
    assert saved["weights_sha256"] == facts["weights_sha256"]
    assert saved["training"]["epochs_run"] == 1
    assert saved["training"]["loss"].startswith("mean absolute error")
    assert saved["training"]["optimizer"] == "Adam" and saved["training"]["learning_rate"] == 1e-4
    assert saved["training"]["mixed_precision"] == "float32" or T._gpus()
    sp = saved["data"]["split"]
    assert sp["by"] == "sentence" and sp["train_sentences"] == sp["val_sentences"] == 1
    assert sp["train_sequences"] == sp["val_sequences"] == 2 * 3      # 2 levels x 3 CFs
    assert saved["data"]["n_stimuli"] == 4 and saved["wall_clock_s"] > 0
    assert "cpu_count" in saved["hardware"] and "gpus" in saved["hardware"]
    m = tiny_model("ihc")
    m.load_weights(w)
    assert (out / "checkpoints" / "last.keras").is_file()
    assert (out / "history.csv").read_text().count("\n") == 2

    with pytest.raises(FileExistsError, match="--resume"):
        T.train("ihc", data_dir, out, epochs=2, model_builder=tiny_model, val_fraction=0.5, verbose=0)
    facts2 = T.train("ihc", data_dir, out, epochs=2, batch_size=4, model_builder=tiny_model,
                     val_fraction=0.5, resume=True, verbose=0)
    assert facts2["training"]["epochs_run"] == 2
    assert len(facts2["training"]["history"]["loss"]) == 2
    assert facts2["wall_clock_s"] >= facts["wall_clock_s"]
    state = json.loads((out / "checkpoints" / "state.json").read_text())
    assert state["epoch"] == 2


def test_mixed_precision_on_needs_a_gpu(data_dir, tmp_path):
    if T._gpus():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="no GPU"):
        T.train("ihc", data_dir, tmp_path / "mp", epochs=1, model_builder=tiny_model,
                mixed_precision="on", val_fraction=0.5, verbose=0)


def test_wrong_model_shape_is_explained(data_dir, tmp_path):
    def uncropped(stage):
        inp = keras.Input((None, 1))
        return keras.Model(inp, keras.layers.Conv1D(1, 3, padding="same")(inp))

    with pytest.raises(ValueError, match="context cropping"):
        T.train("ihc", data_dir, tmp_path / "bad", epochs=1, model_builder=uncropped,
                val_fraction=0.5, verbose=0)


def test_cli_small_run_with_the_connear_ihc_model(data_dir, tmp_path):
    models = pytest.importorskip("connear_helpers.cnn.architectures")
    out = tmp_path / "cli"
    rc = T._main(["ihc", "--data", str(data_dir), "--out", str(out), "--small", "--epochs", "1",
                  "--batch-size", "2", "--max-sequences", "2", "--val-fraction", "0.5",
                  "--no-tensorboard"])
    assert rc == 0
    facts = json.loads((out / "ihc.training.json").read_text())
    assert facts["model"]["n_params"] == 1_317_505 and facts["training"]["small"] is True
    import h5py

    with h5py.File(out / "ihc.weights.h5", "r") as f:   # model weights only, no optimiser state
        assert "optimizer" not in f and "layers" in f
    assert (out / "ihc.weights.h5").stat().st_size < 1.1 * 4 * 1_317_505
    # the 1-CF weights fit the 201-CF model
    weights = pytest.importorskip("connear_helpers.cnn.weights")
    m = models.build_model("ihc")
    weights.load_weights(m, out / "ihc.weights.h5")


def test_cli_small_run_on_the_jax_backend(data_dir, tmp_path):
    """The device machines lent to this project have JAX but no TensorFlow: the same training
    command must run with KERAS_BACKEND=jax and record that backend."""
    import os
    import subprocess
    import sys

    pytest.importorskip("jax")
    out = tmp_path / "jax"
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu",
               PYTHONPATH=repo + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "connear_helpers.training.train", "ihc", "--data", str(data_dir), "--out", str(out),
           "--small", "--epochs", "1", "--batch-size", "2", "--max-sequences", "2", "--val-fraction", "0.5",
           "--no-tensorboard"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    facts = json.loads((out / "ihc.training.json").read_text())
    assert facts["software"]["backend"] == "jax" and "jax" in facts["software"]
    assert (out / "ihc.weights.h5").exists()


def test_time_limit_stops_after_the_step_that_passes_it(data_dir, tmp_path):
    out = tmp_path / "timed"
    facts = T.train("ihc", data_dir, out, epochs=50, batch_size=1, model_builder=tiny_model,
                    val_fraction=0.5, verbose=0, time_limit_s=1e-3, patience=100)
    t = facts["training"]
    assert t["stopped_at_time_limit"] and t["epochs_run"] == 1  # one step, then validation and checkpoints
    assert (out / "ihc.weights.h5").is_file() and (out / "checkpoints" / "last.keras").is_file()
    with pytest.raises(ValueError, match="time_limit_s"):
        T.train("ihc", data_dir, tmp_path / "bad", model_builder=tiny_model, time_limit_s=0, verbose=0)


def test_resume_with_a_new_learning_rate(data_dir, tmp_path):
    out = tmp_path / "lr"
    T.train("ihc", data_dir, out, epochs=1, batch_size=4, model_builder=tiny_model,
            val_fraction=0.5, verbose=0)
    kept = T.train("ihc", data_dir, out, epochs=2, batch_size=4, model_builder=tiny_model,
                   val_fraction=0.5, resume=True, verbose=0)
    assert kept["training"]["learning_rate"] == pytest.approx(1e-4)     # the saved rate
    new = T.train("ihc", data_dir, out, epochs=3, batch_size=4, model_builder=tiny_model,
                  val_fraction=0.5, resume=True, lr=5e-4, verbose=0)
    assert new["training"]["learning_rate"] == pytest.approx(5e-4)
    assert new["training"]["history"]["learning_rate"][-1] == pytest.approx(5e-4)
    assert new["training"]["history"]["learning_rate"][0] == pytest.approx(1e-4)


def test_init_weights_start_a_new_run_from_a_weight_file(data_dir, tmp_path):
    pytest.importorskip("connear_helpers.cnn.architectures")
    import h5py

    first = tmp_path / "first"
    small = ["--small", "--epochs", "1", "--batch-size", "2", "--max-sequences", "2",
             "--val-fraction", "0.5", "--no-tensorboard"]
    assert T._main(["ihc", "--data", str(data_dir), "--out", str(first), *small]) == 0
    second = tmp_path / "second"
    # a vanishing learning rate: the new run must end where the init weights put it
    assert T._main(["ihc", "--data", str(data_dir), "--out", str(second), "--lr", "1e-12",
                    "--init-weights", str(first / "ihc.weights.h5"), *small]) == 0
    facts = json.loads((second / "ihc.training.json").read_text())
    assert facts["training"]["init_weights"].endswith("ihc.weights.h5")

    def arrays(path):
        out = []
        with h5py.File(path, "r") as f:
            f.visititems(lambda n, o: out.append((n, o[()])) if isinstance(o, h5py.Dataset) else None)
        return [(n, x) for n, x in out if n.startswith("layers/")]     # not the optimiser's

    a, b = arrays(first / "ihc.weights.h5"), arrays(second / "ihc.weights.h5")
    assert [n for n, _ in a] == [n for n, _ in b] and len(a) >= 12
    for (_, x), (_, y) in zip(a, b):
        np.testing.assert_allclose(y, x, atol=1e-7)
    # fresh weights differ from them (the comparison above can fail)
    fresh = tmp_path / "fresh"
    assert T._main(["ihc", "--data", str(data_dir), "--out", str(fresh), "--seed", "3", *small]) == 0
    c = arrays(fresh / "ihc.weights.h5")
    assert any(np.abs(x - z).max() > 1e-3 for (_, x), (_, z) in zip(a, c))


def test_init_weights_of_another_architecture_are_refused(data_dir, tmp_path, capsys):
    pytest.importorskip("connear_helpers.cnn.architectures")
    from connear_helpers.cnn.architectures import build_model

    path = tmp_path / "anfl.weights.h5"
    build_model("anfl", n_cf=1).save_weights(path)
    rc = T._main(["ihc", "--data", str(data_dir), "--out", str(tmp_path / "x"), "--small",
                  "--init-weights", str(path), "--no-tensorboard", "--val-fraction", "0.5"])
    assert rc == 2
    assert "ihc" in capsys.readouterr().err


def test_output_bias_starts_at_the_mean_target():
    rng = np.random.default_rng(1)
    data = [(None, 0.7 + 0.1 * rng.standard_normal((4, 2048, 1)).astype("float32")) for _ in range(5)]
    model = tiny_model("ihc")
    got = T._set_output_bias(model, data)
    want = np.mean([d[1].mean() for d in data])
    assert got == [pytest.approx(want, abs=1e-5)]
    assert float(np.asarray(model.layers[-2].bias)[0]) == pytest.approx(want, abs=1e-5)
    # with a zero input the output is the bias: the network starts at the mean target
    out = np.asarray(model(np.zeros((1, 2560, 1), "float32")))
    np.testing.assert_allclose(out, want, atol=1e-5)
    # one value per output channel when the output layer has one bias per channel
    inp = keras.Input((None, 1))
    multi = keras.Model(inp, keras.layers.Conv1D(3, 1)(inp))
    data3 = [(None, np.broadcast_to(np.array([1.0, 2.0, 3.0], "float32"), (2, 8, 3)))]
    assert T._set_output_bias(multi, data3) == [1.0, 2.0, 3.0]
    # no bias (the CoNNear cochlea): nothing to set
    nobias = keras.Model(inp, keras.layers.Conv1D(1, 1, use_bias=False)(inp))
    assert T._set_output_bias(nobias, data) is None


def test_a_new_run_records_its_output_bias(data_dir, tmp_path):
    facts = T.train("ihc", data_dir, tmp_path / "b", epochs=1, batch_size=4, model_builder=tiny_model,
                    val_fraction=0.5, verbose=0)
    assert len(facts["training"]["output_bias_init_cnn_units"]) == 1
    facts0 = T.train("ihc", data_dir, tmp_path / "z", epochs=1, batch_size=4, model_builder=tiny_model,
                     val_fraction=0.5, output_bias=None, verbose=0)
    assert facts0["training"]["output_bias_init_cnn_units"] is None
