"""Stage activations: pooling, the reference stages' behaviour, the cache, CoNNear layers and missing weights."""
import numpy as np
import pytest
from scipy.signal import resample_poly

from connear_helpers.analysis import cf as cf_module
from connear_helpers.analysis import stimuli
from connear_helpers.pipeline import SimulationCache
from connear_helpers.stages import extract as act_module
from connear_helpers.stages import REFERENCE_STAGES, SoundSet, activations, cnn_stage_names, stage_cfs

FS = 100_000.0
CFS = (500.0, 1000.0, 4000.0)


def _tone_set():
    rows = [np.concatenate([stimuli.pure_tone(1000.0, level, 0.03, FS), np.zeros(1000)]) for level in (40.0, 80.0)]
    rows.append(np.concatenate([stimuli.pure_tone(4000.0, 80.0, 0.03, FS), np.zeros(1000)]))
    return SoundSet(np.stack(rows), FS, ["1k 40", "1k 80", "4k 80"], ["tone"] * 3, [40.0, 80.0, 80.0], 0.03, 0.01)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    cache = SimulationCache(directory=tmp_path_factory.mktemp("stages-cache"))
    sounds = _tone_set()
    acts = {p: activations(sounds, cf=CFS, pooling=p, cache=cache, progress=False) for p in
            ("time-mean", "time-rms", "time-bins")}
    return sounds, cache, acts


def test_pooling_known_answers():
    t = np.arange(2000) / 20_000.0
    x = 3.0 * np.sin(2 * np.pi * 100.0 * t)[:, None]  # 10 whole periods
    p = act_module._pool(x, 4)
    assert abs(p["mean"][0]) < 1e-12
    assert p["rms"][0] == pytest.approx(3.0 / np.sqrt(2), rel=1e-12)
    ramp = np.arange(8.0)[:, None] * [1.0, 10.0]  # two units
    np.testing.assert_allclose(act_module._pool(ramp, 4)["bins"], [0.5, 2.5, 4.5, 6.5, 5, 25, 45, 65])


def test_stage_cfs_are_connear_cfs():
    got = stage_cfs(3)
    cfs = cf_module.connear_cfs()
    np.testing.assert_array_equal(got, np.sort(cfs[cf_module.nearest_cf_index(cfs, [125.0, 1000.0, 8000.0])]))
    with pytest.raises(ValueError, match="outside"):
        stage_cfs([20.0, 1000.0])


def test_reference_stages_respond_like_a_cochlea(shared):
    _, _, acts = shared
    rms, mean = acts["time-rms"], acts["time-mean"]
    assert rms.stages == REFERENCE_STAGES and rms["v"].shape == (3, 3)
    at_1k = int(np.argmin(np.abs(rms.cf - 1000.0)))
    v = rms["v"][:, at_1k]
    # 40 dB more at the 1-kHz CF: a compressive growth (measured 6x), far less than the linear 100x
    assert 3.0 < v[1] / v[0] < 30.0
    # place coding: the 40-dB 1-kHz tone excites the 1-kHz place far more than the 4-kHz one, and
    # the 4-kHz tone the 4-kHz place (measured: 28x and 5000x)
    assert rms["v"][0, at_1k] > 10 * rms["v"][0, 2] and rms["v"][2, 2] > 10 * rms["v"][2, at_1k]
    # the BM velocity oscillates about 0: its mean is a tiny fraction of its RMS
    assert np.all(np.abs(mean["v"]) < 0.05 * rms["v"])
    # louder tones depolarise the IHC more and drive the LSR fibres harder at the tone's CF
    assert mean["anfl"][1, at_1k] > mean["anfl"][0, at_1k] + 20.0
    assert mean["ihc"][1, at_1k] > mean["ihc"][0, at_1k]
    assert acts["time-bins"]["anfh"].shape == (3, 3 * 4)
    np.testing.assert_allclose(acts["time-bins"]["anfh"].reshape(3, 3, 4).mean(axis=2), mean["anfh"], rtol=2e-3)


def test_cached_results_are_identical_in_memory_and_on_disk(shared):
    sounds, cache, acts = shared
    misses = cache.misses
    again = activations(sounds, cf=CFS, pooling="time-rms", cache=cache, progress=False)
    assert cache.misses == misses  # nothing recomputed
    fresh_process = SimulationCache(directory=cache.directory)  # as a new session would see it
    from_disk = activations(sounds, cf=CFS, pooling="time-rms", cache=fresh_process, progress=False)
    assert fresh_process.disk_hits == 3
    for s in REFERENCE_STAGES:
        np.testing.assert_array_equal(again[s], acts["time-rms"][s])
        np.testing.assert_array_equal(from_disk[s], acts["time-rms"][s])


def test_missing_weights_leave_the_cnn_stages_out(shared, tmp_path):
    sounds, cache, acts = shared
    a = activations(sounds, stages=("ihc", "ihc_cnn.*"), cf=CFS, weights=tmp_path, cache=cache, progress=False)
    assert a.stages == ("ihc",) and "CoNNear weights missing" in a.note and "reference model" in a.note
    np.testing.assert_array_equal(a["ihc"], acts["time-mean"]["ihc"])
    b = activations(sounds, stages=("v",), mode="light", cf=CFS, weights=None, cache=cache, progress=False)
    assert b.mode == "full" and "Light mode needs the CoNNear cochlea" in b.note


def test_cnn_layers_with_random_weights(shared):
    from connear_helpers.cnn import inference
    from connear_helpers.cnn import architectures as models

    sounds, cache, _ = shared
    nets = {"cochlea": models.build_model("cochlea_f64k32"), "ihc": models.build_model("ihc_f16"),
            "anfh": models.build_model("anf_l8f16")}
    names = cnn_stage_names(nets, ("ihc", "anfh"))
    assert names[:6] == ["ihc_cnn.enc1", "ihc_cnn.enc2", "ihc_cnn.enc3", "ihc_cnn.dec1", "ihc_cnn.dec2", "ihc_cnn"]
    assert len(names) == 6 + 8 + 7 + 1  # 8 encoder and 7 decoder PReLUs in the anf_l8f16 network
    a = activations(sounds, stages=("ihc_cnn.*", "anfh_cnn.enc3", "cochlea_cnn.enc1"), cf=CFS, weights=nets,
                    cache=cache, progress=False)
    assert a.note is None and a["ihc_cnn.enc1"].shape == (3, 3 * 16) and a["cochlea_cnn.enc1"].shape == (3, 64)
    assert np.all(np.isnan(a.unit_cf["cochlea_cnn.enc1"])) and a.unit_cf["ihc_cnn.enc1"][16] == a.cf[1]
    # the network's output stage is the lab's inference wrapper on the reference BM velocity
    import verhulst2018

    r = verhulst2018.simulate(sounds.signals[1], fs=FS, cf=a.cf, outputs=("v",), progress=False)
    vihc = inference.ihc_potential(resample_poly(r.v, 1, 5, axis=0).astype(np.float32), nets["ihc"])
    np.testing.assert_allclose(a["ihc_cnn"][1], vihc.mean(axis=0), rtol=1e-4)
    light = activations(sounds, stages=("v", "anfh"), mode="light", cf=CFS, weights=nets, cache=cache,
                        progress=False)
    assert light.mode == "light" and light.note is None
    assert not np.allclose(light["anfh"], activations(sounds, stages=("anfh",), cf=CFS, cache=cache,
                                                      progress=False)["anfh"])


def test_errors_say_what_to_do(shared):
    sounds = shared[0]
    with pytest.raises(ValueError, match="unknown stage 'bm'"):
        activations(sounds, stages=("bm",), cache=False)
    with pytest.raises(ValueError, match="pooling"):
        activations(sounds, pooling="max", cache=False)
    with pytest.raises(ValueError, match="give fs"):
        activations(sounds.signals, cache=False)
    with pytest.raises(ValueError, match="44100"):
        activations(sounds.signals, fs=44_100.0, cache=False)
