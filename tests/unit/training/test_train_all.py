"""Dataset + training + weight folder in one call (connear_helpers.training.train_all), on toy data."""
import json

import numpy as np
import pytest
from scipy.io import wavfile
from toy_training import fake_reference, tiny_model

keras = pytest.importorskip("keras")
from connear_helpers.training import train_all as TA  # noqa: E402
from connear_helpers.cnn.weights import file_sha256  # noqa: E402


@pytest.fixture(scope="module")
def wav_corpus(tmp_path_factory):
    wavs = tmp_path_factory.mktemp("corpus")
    fs = 16000
    t = np.arange(int(0.3 * fs)) / fs
    for i in range(2):
        x = 0.3 * np.sin(2 * np.pi * (400 + 300 * i) * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
        wavfile.write(wavs / f"s{i}.wav", fs, np.round(x * 32767 / 1.5).astype(np.int16))
    return wavs


def test_in_process_run_writes_a_loadable_weight_folder(wav_corpus, tmp_path):
    out = tmp_path / "run"
    manifest = TA.train_all(out, 2, stages=["ihc"], corpus=str(wav_corpus), cf_index=[56, 122],
                            epochs=1, small=True, scheduler="synchronous", reference=fake_reference,
                            train_options={"model_builder": tiny_model, "batch_size": 2, "val_fraction": 0.5,
                                           "tensorboard": False}, progress=False)
    folder = out / "weights"
    saved = json.loads((folder / "manifest.json").read_text())
    assert saved["models"].keys() == {"ihc"} == manifest["models"].keys()
    entry = saved["models"]["ihc"]
    assert entry["file"] == "ihc.weights.h5" and entry["sha256"] == file_sha256(folder / "ihc.weights.h5")
    assert entry["training"]["epochs_run"] == 1 and entry["data"]["n_sentences"] == 2
    assert "dir" not in entry["data"]  # no path of the machine that trained it
    assert saved["dataset_seconds"] >= 0 and saved["total_seconds"] >= saved["dataset_seconds"]
    m = tiny_model("ihc")
    m.load_weights(folder / "ihc.weights.h5")
    # a second call reuses the dataset and resumes the finished training
    again = TA.train_all(out, 2, stages=["ihc"], corpus=str(wav_corpus), cf_index=[56, 122], epochs=1,
                         small=True, scheduler="synchronous", reference=fake_reference,
                         train_options={"model_builder": tiny_model, "batch_size": 2, "val_fraction": 0.5,
                                        "tensorboard": False}, progress=False)
    assert again["models"]["ihc"]["sha256"] == entry["sha256"]


def test_parallel_run_trains_the_real_models_in_their_own_processes(wav_corpus, tmp_path):
    out = tmp_path / "par"
    # the cochlea model maps one input to all 201 CFs: the dataset has them all
    manifest = TA.train_all(out, 2, stages=["cochlea", "ihc"], corpus=str(wav_corpus), cf_index=None,
                            epochs=1, small=True, parallel=True, scheduler="synchronous",
                            reference=fake_reference, train_minutes=5,
                            train_options={"batch_size": 2, "max_sequences": 2, "val_fraction": 0.5,
                                           "no_tensorboard": True}, cochlea_model="cochlea_small",
                            progress=False)
    assert manifest["models"].keys() == {"cochlea", "ihc"}
    assert manifest["models"]["ihc"]["architecture"] == "ihc"
    assert manifest["models"]["cochlea"]["architecture"] == "cochlea_small"
    assert manifest["models"]["cochlea"]["model"]["n_params"] == 3_747_840
    assert "--cochlea-model cochlea_small" in manifest["command"]
    from connear_helpers.cnn import architectures as models
    from connear_helpers.cnn import weights

    folder = out / "weights"
    weights.load_weights(models.build_model("ihc"), weights.resolve_weights(folder, "ihc"))
    assert models.model_name_of(weights.cached_model("cochlea", folder)) == "cochlea_small"  # the manifest's
    with pytest.raises(weights.WeightsNotFoundError, match="'anfh'"):
        weights.resolve_weights(folder, "anfh")


def test_unknown_stage_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="stages"):
        TA.train_all(tmp_path, 1, stages=["ihc", "ohc"])
    with pytest.raises(ValueError, match="cochlea_model"):
        TA.train_all(tmp_path, 1, stages=["cochlea"], cochlea_model="cochlea_tiny")
