"""connear_helpers.pipeline: the full and light pipelines, their fields, errors and gradients.

The CNNs run with random (untrained) weights here: these tests check the plumbing (which
signal reaches which stage, units, rates, lengths) and differentiability, not accuracy.
"""
import numpy as np
import pytest

pytest.importorskip("keras")

import verhulst2018  # noqa: E402
from connear_helpers.analysis import cf as connear_cf  # noqa: E402
from connear_helpers import pipeline  # noqa: E402

FS = 20_000.0


@pytest.fixture(scope="module")
def random_models():
    import keras

    from connear_helpers.cnn import architectures as models

    keras.utils.set_random_seed(3)
    return {n: models.build_model(n, n_cf=1) for n in ("cochlea", "ihc", "anfh", "anfm", "anfl")}


def tone(n=2000, level=60.0, freq=1000.0, fs=FS):
    t = np.arange(n) / fs
    return 2e-5 * np.sqrt(2) * 10 ** (level / 20) * np.sin(2 * np.pi * freq * t) * np.hanning(n)


@pytest.fixture(scope="module")
def full(random_models):
    return pipeline.simulate(tone(), FS, mode="full", cf=[1000.0, 4000.0], weights=random_models, progress=False)


def test_result_fields_shapes_and_rates(full):
    assert full.fs == 20_000.0
    np.testing.assert_allclose(full.cf, connear_cf.connear_cfs()[connear_cf.nearest_cf_index(connear_cf.connear_cfs(), [1000.0, 4000.0])])
    for name in ("bm", "ihc_ref", "ihc_cnn", "anfh_ref", "anfh_cnn", "anfm_ref", "anfm_cnn", "anfl_ref", "anfl_cnn"):
        assert getattr(full, name).shape == (2000, 2), name
        assert np.all(np.isfinite(getattr(full, name))), name


def test_full_mode_reference_is_verhulst2018_resampled(full):
    from scipy.signal import resample_poly

    x100 = resample_poly(tone(), 5, 1)
    ref = verhulst2018.simulate(x100, cf=full.cf, outputs=("v", "ihc", "anfh"), progress=False)
    np.testing.assert_allclose(full.bm, resample_poly(ref.v, 1, 5, axis=0)[:2000], rtol=0, atol=1e-12 * np.abs(ref.v).max())
    np.testing.assert_allclose(full.ihc_ref, pipeline.resample_held(ref.ihc, 1e5, FS)[:2000], rtol=1e-12)
    # ... which is resample_poly's away from the ends, and at the ends the potential there (at rest
    # at the start), where resample_poly's zero padding gives ~-35 mV
    inner = slice(20, -20)
    np.testing.assert_allclose(full.ihc_ref[inner], resample_poly(ref.ihc, 1, 5, axis=0)[inner], rtol=1e-12)
    assert full.ihc_ref[0, 0] == pytest.approx(-0.05766, abs=2e-4)
    np.testing.assert_allclose(full.ihc_ref[-1], ref.ihc[5 * 1999], atol=1e-4)  # V; still recovering there
    assert abs(resample_poly(ref.ihc, 1, 5, axis=0)[0, 0] + 0.05766) > 5e-3
    np.testing.assert_array_equal(full.anfh_ref, ref.anfh[:2000])
    # resting IHC potential and an HSR onset response
    assert full.ihc_ref[100, 0] == pytest.approx(-0.05766, abs=2e-4)
    assert full.anfh_ref[:, 0].max() > 200


def test_resample_held_holds_the_ends_and_keeps_time_alignment():
    from scipy.signal import resample_poly

    rest = np.full((1003, 2), -0.0577)
    y = pipeline.resample_held(rest, 1e5, FS)
    assert y.shape == (201, 2)  # ceil(1003 / 5), as resample_poly
    np.testing.assert_allclose(y, -0.0577, rtol=1e-12)
    assert abs(resample_poly(rest, 1, 5, axis=0)[0, 0] + 0.0577) > 0.01  # the zero padding's pull
    # a step odd about input 500 gives 0.5 at output 100 (output m is centred on input 5 m)
    step = np.where(np.arange(1000) < 500, 0.0, 1.0)
    step[500] = 0.5
    y = pipeline.resample_held(step, 1e5, FS)
    assert y.shape == (200,) and y[99] < 0.5 < y[101] and abs(y[100] - 0.5) < 1e-9
    # away from the ends it is resample_poly's; up-sampling too
    x = np.random.default_rng(0).normal(size=400) - 0.05
    np.testing.assert_allclose(pipeline.resample_held(x, 1e5, FS)[10:-10], resample_poly(x, 1, 5)[10:-10], rtol=1e-12)
    np.testing.assert_allclose(pipeline.resample_held(x, FS, 1e5)[50:-50], resample_poly(x, 5, 1)[50:-50], rtol=1e-12)
    # up-sampled, a constant stays within the polyphase filter's DC ripple (0.07 %), at the ends too
    np.testing.assert_allclose(pipeline.resample_held(np.full(40, 3.0), FS, 1e5), 3.0, rtol=1e-3)


def test_light_mode_reference_ihc_is_driven_by_the_cnn_cochlea(random_models):
    from verhulst2018 import ihc as ref_ihc
    from scipy.signal import resample_poly

    res = pipeline.simulate(tone(), FS, mode="light", cf=[2000.0], stages=("bm", "ihc"), weights=random_models)
    assert res.anfh_ref is None and res.anfh_cnn is None
    expected = pipeline.resample_held(ref_ihc.ihc_potential(resample_poly(res.bm, 5, 1, axis=0), 1e5), 1e5, FS)
    np.testing.assert_allclose(res.ihc_ref, expected[:2000], rtol=1e-12)


def test_reference_only_without_weights():
    res = pipeline.simulate(tone(1000), FS, mode="full", cf=[1000.0], weights=None, fibres=("anfl",), progress=False)
    assert res.ihc_cnn is None and res.anfl_cnn is None and res.anfh_ref is None
    assert res.anfl_ref.shape == (1000, 1)


def test_cnn_anf_input_option(random_models):
    kw = dict(mode="full", cf=[1000.0], weights=random_models, fibres=("anfh",), progress=False)
    chain = pipeline.simulate(tone(1000), FS, **kw)
    ref_driven = pipeline.simulate(tone(1000), FS, cnn_anf_input="reference", **kw)
    np.testing.assert_array_equal(chain.anfh_ref, ref_driven.anfh_ref)
    assert not np.allclose(chain.anfh_cnn, ref_driven.anfh_cnn)


def test_100khz_input_gives_20khz_output(random_models):
    res = pipeline.simulate(tone(5000, fs=1e5), 1e5, mode="full", cf=[1000.0], stages=("bm",), weights=None, progress=False)
    assert res.bm.shape == (1000, 1)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(mode="medium"), "mode"),
        (dict(fs=44_100.0), "fs must be"),
        (dict(stages=("bm", "cn")), "stages"),
        (dict(signal=np.full(100, np.nan)), "NaN"),
        (dict(signal=np.zeros((2, 100))), "1-D"),
        (dict(cf=[50_000.0]), "outside"),
        (dict(fibres=("anfx",)), "fibres"),
        (dict(cnn_anf_input="tl"), "cnn_anf_input"),
        (dict(mode="light", weights=None), "light mode"),
    ],
)
def test_clear_errors(kwargs, match):
    kw = dict(signal=tone(400), fs=FS, weights=None, progress=False)
    kw.update(kwargs)
    sig, fs = kw.pop("signal"), kw.pop("fs")
    with pytest.raises(ValueError, match=match):
        pipeline.simulate(sig, fs, **kw)


def test_fibre_names_are_checked_where_a_batch_is_simulated():
    """The compute functions of the metrics (and simulate_batch under them) reject unknown fibre
    names before simulating, and name the model for the labels HSR/MSR/LSR."""
    from connear_helpers.analysis import evaluations

    assert pipeline.check_fibres("anfm") == ("anfm",)
    assert pipeline.check_fibres(["anfl", "anfh"]) == ("anfl", "anfh")
    with pytest.raises(ValueError, match="non-empty"):
        pipeline.check_fibres(())
    with pytest.raises(ValueError, match="'HSR' -> 'anfh'"):
        evaluations.compute_rate_level((1000.0,), (60.0,), fibres=("HSR",))
    with pytest.raises(ValueError, match="fibres"):
        pipeline.simulate_batch(tone(400)[None], FS, pipeline.prepare(None, "full"), family="anf",
                                fibres=("anfx",))


def test_missing_weight_set_says_how_to_get_it(tmp_path, monkeypatch):
    from connear_helpers.cnn import weights

    monkeypatch.setattr(weights, "connear_lab_dir", lambda: tmp_path)

    monkeypatch.setattr("connear_helpers.cnn.weights._LOADED", {})
    with pytest.raises(Exception, match="official"):
        pipeline.simulate(tone(400), FS, mode="light", cf=[1000.0], weights="connear-lab")


def test_gradient_of_summed_anf_rate_matches_finite_difference(random_models):
    import tensorflow as tf

    x0 = tone(1024, level=70.0).astype(np.float32)
    m = random_models
    x = tf.Variable(x0)

    def total(sig):
        return tf.reduce_sum(pipeline.cnn_chain_tensor(sig, m["cochlea"], m["ihc"], m["anfh"], channels=[100])["anf"])

    with tf.GradientTape() as tape:
        f = total(x)
    grad = tape.gradient(f, x).numpy().astype(np.float64)
    assert np.all(np.isfinite(grad)) and np.abs(grad).max() > 0
    # directional derivatives: along the gradient (= |grad|) and along a mix of the gradient
    # and a random direction; float32 outputs, so steps of 0.1 Pa (signal peak 0.09 Pa)
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(x0.size)
    for direction in (grad, grad / np.linalg.norm(grad) + noise / np.linalg.norm(noise)):
        d = direction / np.linalg.norm(direction)
        eps = 0.1
        plus = float(total(tf.constant((x0 + eps * d).astype(np.float32))))
        minus = float(total(tf.constant((x0 - eps * d).astype(np.float32))))
        fd = (plus - minus) / (2 * eps)
        assert grad @ d == pytest.approx(fd, rel=0.02)


def test_the_package_exports_the_notebook_names_without_loading_keras():
    import subprocess
    import sys

    import connear_helpers
    from connear_helpers import pipeline
    from connear_helpers.cnn import weights

    assert connear_helpers.simulate is pipeline.simulate
    assert connear_helpers.PeripheryResult is pipeline.PeripheryResult
    assert connear_helpers.load_model is weights.load_model
    with pytest.raises(AttributeError, match="no_such_name"):
        connear_helpers.no_such_name
    code = ("import sys, connear_helpers\nfrom connear_helpers import simulate\n"
            "print('keras' in sys.modules, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.split() == ["False", "False"], out.stderr[-2000:]


@pytest.mark.parametrize("kwargs, match", [(dict(mode="medium"), "mode"), (dict(cnn_anf_input="tl"), "cnn_anf_input")])
def test_run_options_check_their_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pipeline.RunOptions(**kwargs)


def test_run_options_reach_the_simulation():
    """A compute function simulates with its options' cache and reference options (and none of
    the shared cache): the options are not silently dropped on the way."""
    from connear_helpers.analysis import evaluations

    with pytest.raises(ValueError, match="unknown reference options"):
        evaluations.compute_level_growth(4000.0, (40.0,), options=pipeline.RunOptions(
            weights=None, reference_options={"irregularity": True}))
    cache = pipeline.SimulationCache()
    before = len(pipeline.DEFAULT_CACHE)
    options = pipeline.RunOptions(weights=None, cache=cache,
                                  reference_options={"irregularities": False, "engine": "fast"})
    d = evaluations.compute_level_growth(4000.0, (40.0,), options=options)
    assert len(cache) > 0 and len(pipeline.DEFAULT_CACHE) == before
    assert d["setup"].mode == "full" and not d["setup"].has_cnn and d["rms_ref"].shape == (1,)
    assert 0 < d["rms_ref"][0] < 0.02  # V: a 40-dB tone at its CF moves the IHC by a few mV


def test_run_options_choose_what_drives_the_cnn_anf(random_models):
    """cnn_anf_input travels in RunOptions to the simulation: the CNN rates differ between the
    chain and the reference-driven evaluation, the reference rates do not."""
    from connear_helpers.analysis import evaluations

    kw = dict(weights=random_models, reference_options={"irregularities": False, "engine": "fast"})
    d = {src: evaluations.compute_rate_level((1000.0,), (60.0,), fibres=("anfh",),
                                             options=pipeline.RunOptions(cnn_anf_input=src, **kw))
         for src in ("reference", "cnn")}
    np.testing.assert_array_equal(d["reference"]["ref"]["anfh"], d["cnn"]["ref"]["anfh"])
    assert not np.allclose(d["reference"]["cnn"]["anfh"], d["cnn"]["cnn"]["anfh"])
