"""Inference on any input length: windowing, stitching, units, checks and gradients.

Random weights throughout (no official weights, no network). The ANF models run with
batch 1 and one CF on inputs of one or a few 16384-sample windows to stay fast.
"""
import os
import subprocess
import sys
import textwrap

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("keras")

from connear_helpers.cnn import inference as I  # noqa: E402
from connear_helpers.cnn import architectures as M  # noqa: E402
from connear_helpers.cnn import weights as W  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

FS = 20000


def _randomize(model, seed, scale=0.05):
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if len(w.shape) <= 3 and w.shape[-1] in (1, 64, 128) and "kernel" not in w.path:
            w.assign(rng.normal(scale=scale, size=tuple(w.shape)).astype("f4"))
    return model


@pytest.fixture(scope="module")
def ihc():
    return _randomize(M.build_model("ihc"), 1)


@pytest.fixture(scope="module")
def cochlea():
    return M.build_model("cochlea")


@pytest.fixture(scope="module")
def anfh():
    return _randomize(M.build_model("anfh", n_cf=1), 2)


def _float64_copy(model):
    """The same network (same weights) computing in float64, one CF, uncropped (for one_piece)."""
    import keras

    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float64")
    try:
        copy = M.build_model(M.model_name_of(model), n_cf=1, cropped=False)
    finally:
        keras.config.set_dtype_policy(policy)
    assert all(w.dtype == "float64" for w in copy.weights)
    copy.set_weights(model.get_weights())
    return copy


def tone(n, f=1000.0, amp=1.0, phase=0.0):
    t = np.arange(n) / FS
    return amp * np.sin(2 * np.pi * f * t + phase)


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def one_piece(model, x_cnn, left, right_min, dtype="f4"):
    """Run the *uncropped* model once on [zeros(left), x, zeros(>= right_min)], padded to
    the model's multiple, and return the samples aligned with x (independent of the
    windowing code)."""
    name = M.model_name_of(model)
    m = M.MODEL_INFO[name]["multiple"]
    n_b, n_t, n_c = x_cnn.shape
    total = left + n_t + right_min
    total += (-total) % m
    xp = np.zeros((n_b, total, n_c), dtype)
    xp[:, left:left + n_t] = x_cnn
    runner = M.per_channel_model(model, cropped=False)
    if M.MODEL_INFO[name]["family"] == "cochlea":
        return runner.predict_on_batch(xp)[:, left:left + n_t]
    y = runner.predict_on_batch(np.transpose(xp, (0, 2, 1)).reshape(-1, total, 1))
    y = y.reshape(n_b, n_c, total).transpose(0, 2, 1)
    return y[:, left:left + n_t]


# ---------------------------------------------------------------------------
# Seamless windows
# ---------------------------------------------------------------------------

def test_ihc_long_tone_in_windows_equals_one_piece(ihc):
    n = 12001  # 0.6 s, odd length
    vbm = np.stack([tone(n, 1000, 2e-6), tone(n, 4000, 1e-6, 0.3), tone(n, 500, 5e-7)], 1)
    whole = I.ihc_potential(vbm, ihc, window=n)  # a single window
    assert I.window_plan(n, "ihc", window=n)["n_windows"] == 1
    windowed = I.ihc_potential(vbm, ihc, window=1000)  # 13 windows
    assert I.window_plan(n, "ihc", window=1000)["n_windows"] == 13
    default = I.ihc_potential(vbm, ihc)  # 8192-sample windows
    assert windowed.shape == whole.shape == (n, 3)
    assert rel_err(windowed, whole) < 1e-5
    assert rel_err(default, whole) < 1e-5
    ref = one_piece(ihc, vbm[None].astype("f4") * 1e6, 256, 256)[0] / 10
    assert rel_err(whole, ref) < 1e-5


def test_cochlea_exact_context_windows_equal_one_piece(cochlea):
    n = 5003
    sig = tone(n, 1000, 0.02) + tone(n, 3000, 0.01)
    windowed = I.cochlea_vbm(sig, cochlea, window=1024, context="exact")
    plan = I.window_plan(n, "cochlea", window=1024, context="exact")
    assert plan["n_windows"] == 5 and plan["left"] >= 945 and plan["right"] >= 945
    ref = one_piece(cochlea, sig[None, :, None].astype("f4"), plan["left"], 945)[0] / 1e6
    assert windowed.shape == (n, 201)
    assert rel_err(windowed, ref) < 1e-5
    # the training context (256 < receptive field 945) gives the same shape, finite values
    spec = I.cochlea_vbm(sig, cochlea, window=1024)
    assert spec.shape == (n, 201) and np.all(np.isfinite(spec))


def test_anf_windows_are_stitched_from_model_calls_with_spec_context(anfh):
    n = 20001
    v = tone(n, 1000, 0.01) - 0.05  # IHC potential in V
    rate = I.anf_rate(v, anfh)
    assert rate.shape == (n,)
    # by hand: three windows of 16384 samples, hop 8192, 7936 samples of the first input
    # value in front (the IHC at rest) and the last value at the end
    xp = np.full(2 * 8192 + 16384, v[-1] * 10, "f4")
    xp[:7936] = v[0] * 10
    xp[7936:7936 + n] = v * 10
    wins = np.stack([xp[k * 8192:k * 8192 + 16384] for k in range(3)])[:, :, None]
    y = anfh.predict_on_batch(wins)[:, :, 0].reshape(-1)[:n] * 100  # cropped model
    assert rel_err(rate, y) < 1e-5


def test_anf_exact_context_windows_equal_one_piece(anfh):
    n = 20001
    v = tone(n, 1000, 0.01) - 0.05
    plan = I.window_plan(n, "anfh", window=16384, context="exact")
    assert plan["n_windows"] == 2 and plan["left"] >= 114681 and plan["right"] >= 114681
    windowed = I.anf_rate(v, anfh, window=16384, context="exact")
    whole = I.anf_rate(v, anfh, window=n, context="exact")
    assert I.window_plan(n, "anfh", window=n, context="exact")["n_windows"] == 1
    assert rel_err(windowed, whole) < 1e-5


# ---------------------------------------------------------------------------
# Lengths, shapes, units
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 7, 1001, 2049])
def test_ihc_output_length_equals_input_length(ihc, n):
    v = np.random.default_rng(n).normal(scale=1e-6, size=(n, 2))
    assert I.ihc_potential(v, ihc).shape == (n, 2)


def test_output_lengths_cochlea_and_anf(cochlea, anfh):
    assert I.cochlea_vbm(np.zeros(777), cochlea).shape == (777, 201)
    assert I.cochlea_vbm(np.zeros((2, 33)), cochlea).shape == (2, 33, 201)
    assert I.anf_rate(np.full(16385, -0.05), anfh).shape == (16385,)
    assert I.anf_rate(np.full((2, 100, 1), -0.05), anfh).shape == (2, 100, 1)


def test_shapes_1d_2d_3d(ihc):
    rng = np.random.default_rng(3)
    v = rng.normal(scale=1e-6, size=(2, 300, 4))
    y3 = I.ihc_potential(v, ihc)
    assert y3.shape == (2, 300, 4)
    # the same numbers up to float32 summation order (oneDNN picks kernels by tensor shape and
    # CPU): 1e-5 of the output's range
    tol = 1e-5 * np.abs(y3).max()
    np.testing.assert_allclose(I.ihc_potential(v[1], ihc), y3[1], rtol=0, atol=tol)
    np.testing.assert_allclose(I.ihc_potential(v[0, :, 2], ihc), y3[0, :, 2], rtol=0, atol=tol)


def test_unit_scaling_against_direct_model_calls(ihc, cochlea, anfh):
    from connear_helpers.cnn import units

    assert (units.COCHLEA_SCALING, units.IHC_SCALING, units.ANF_SCALING) == (1e6, 10.0, 0.01)
    rng = np.random.default_rng(4)
    # IHC: input m/s x 1e6 -> model -> /10 -> V
    v = rng.normal(scale=3e-6, size=(2048, 2))
    direct = one_piece(ihc, (v * 1e6)[None].astype("f4"), 256, 256)[0] / 10
    assert rel_err(I.ihc_potential(v, ihc), direct) < 1e-5
    # ANF: input V x 10 -> model -> x100 -> spikes/s (one window of 16384)
    u = -0.05 + rng.normal(scale=0.005, size=8192)
    xp = np.full((1, 16384, 1), u[-1] * 10, "f4")  # edge padding: the IHC at rest
    xp[0, :7936, 0] = u[0] * 10
    xp[0, 7936:7936 + 8192, 0] = u * 10
    direct = anfh.predict_on_batch(xp)[0, :, 0] * 100
    assert rel_err(I.anf_rate(u, anfh), direct) < 1e-5
    # cochlea: Pa in, model -> /1e6 -> m/s
    p = rng.normal(scale=0.1, size=512)
    xp = np.zeros((1, 1024, 1), "f4")
    xp[0, 256:768, 0] = p
    direct = cochlea.predict_on_batch(xp)[0] / 1e6
    assert rel_err(I.cochlea_vbm(p, cochlea, window=512), direct) < 1e-5


def test_batch_size_does_not_change_results(ihc):
    v = np.random.default_rng(5).normal(scale=1e-6, size=(1500, 5))
    a = I.ihc_potential(v, ihc, window=512)
    b = I.ihc_potential(v, ihc, window=512, batch_size=3)
    assert rel_err(b, a) < 1e-5


def test_fixed_length_models_through_wrappers():
    d = M.build_model("dierich2020_ihc", n_cf=1)
    assert I.ihc_potential(np.zeros((3000, 2)), d).shape == (3000, 2)
    assert I.window_plan(3000, "dierich2020_ihc") == {
        "left": 256, "right": 256, "window": 2048, "n_windows": 2, "length": 2560,
        "multiple": 8}
    with pytest.raises(ValueError, match="exactly 2560"):
        I.window_plan(3000, "dierich2020_ihc", window=1000)
    with pytest.raises(ValueError, match="exactly 16384"):
        I.window_plan(3000, "zilany2014_anfh", context="exact")


def test_window_plan_rules():
    p = I.window_plan(20000, "anfh")
    assert p == {"left": 7936, "right": 256, "window": 8192, "n_windows": 3,
                 "length": 16384, "multiple": 16384}
    p = I.window_plan(100, "ihc")
    assert p["window"] == 104 and p["length"] % 8 == 0
    p = I.window_plan(10000, "cochlea", context=(300, 300))
    assert p["left"] >= 300 and (p["left"] - 256) % 16 == 0 and p["length"] % 16 == 0
    with pytest.raises(ValueError, match="context"):
        I.window_plan(100, "ihc", context="wide")
    with pytest.raises(ValueError, match="at least 1 sample"):
        I.window_plan(0, "ihc")


# ---------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------

def test_input_checks(ihc, anfh, monkeypatch, tmp_path):
    v = np.zeros((100, 2))
    with pytest.raises(ValueError, match=r"fs = 20000 Hz.*44100.*resample_poly"):
        I.ihc_potential(v, ihc, fs=44100)
    assert I.ihc_potential(v, ihc, fs=20000).shape == (100, 2)
    bad = v.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        I.ihc_potential(bad, ihc)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        I.anf_rate(bad, anfh)
    with pytest.raises(ValueError, match="empty"):
        I.ihc_potential(np.zeros((0, 2)), ihc)
    with pytest.raises(ValueError, match=r"shape \(T,\), \(T, n_cf\)"):
        I.ihc_potential(np.zeros((1, 2, 3, 4)), ihc)
    with pytest.raises(ValueError, match="expected a ihc model.*'anfh'"):
        I.ihc_potential(v, anfh)
    with pytest.raises(ValueError, match="anf model is needed"):
        I.anf_rate(v, None)
    with pytest.raises(ValueError, match=r"\(T,\) or \(batch, T\)"):
        I.cochlea_vbm(np.zeros((2, 3, 4)), M.build_model("cochlea", cropped=False))
    monkeypatch.setenv("CONNEAR_LAB_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(W.WeightsNotFoundError, match="set is missing"):
        I.anf_rate(v, "anfl")


# ---------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------

def test_ihc_gradient_matches_finite_difference(ihc):
    rng = np.random.default_rng(6)
    x0 = rng.normal(scale=1e-6, size=(64, 2))
    d = rng.normal(size=(64, 2))
    x = tf.Variable(x0.astype("f4"))
    with tf.GradientTape() as tape:
        f = tf.reduce_sum(I.ihc_potential_tensor(x, ihc))
    g = tape.gradient(f, x).numpy()
    assert g.shape == (64, 2) and np.all(np.isfinite(g))
    # Central differences on a float64 copy of the network: in float32 the rounding of the
    # 128 summed outputs (which depends on the CPU's kernels) would swamp the difference.
    f64 = _float64_copy(ihc)
    h = 1e-9  # m/s; the CNN sees 1e-3
    fp = one_piece(f64, ((x0 + h * d) * 1e6)[None], 256, 256, dtype="f8").sum() / 10
    fm = one_piece(f64, ((x0 - h * d) * 1e6)[None], 256, 256, dtype="f8").sum() / 10
    fd = (fp - fm) / (2 * h)
    analytic = float(np.sum(g * d))
    assert abs(analytic - fd) <= 1e-2 * abs(fd)
    # the tensor path computes the same values as the NumPy path
    np.testing.assert_allclose(I.ihc_potential_tensor(x0, ihc).numpy(),
                               I.ihc_potential(x0, ihc), rtol=1e-5, atol=1e-9)


def test_gradient_flows_from_anf_rate_back_to_the_sound(cochlea, ihc, anfh):
    n = 256
    p0 = 0.02 * np.sin(2 * np.pi * 1000 * np.arange(n) / FS)

    def chain(p):
        vbm = I.cochlea_vbm_tensor(p, cochlea)[:, 122:123]  # ~1 kHz channel, m/s
        vihc = I.ihc_potential_tensor(vbm, ihc)               # V
        rate = I.anf_rate_tensor(vihc, anfh)                  # spikes/s
        return tf.reduce_sum(tf.cast(rate, "float64"))        # exact sum for the FD

    p = tf.Variable(p0.astype("f4"))
    with tf.GradientTape() as tape:
        f = chain(p)
    g = tape.gradient(f, p).numpy()
    assert g.shape == (n,) and np.all(np.isfinite(g)) and np.any(g != 0)
    # The finite difference along the gradient's own direction (the largest directional
    # derivative; along a random direction it can be near 0 and drown in float32 rounding).
    # The step is large enough for the chain's float32 rounding (~1e-4 in the summed rate) to
    # stay far below the tolerance, and the chain is nearly linear over it at 60 dB: measured
    # on 8 random cochlea networks, |analytic - fd| / |fd| at most 1.2e-2 with h = 0.01 Pa (and
    # 2.5e-2 once in CI, for a network with a small gradient), 2.3e-3 with h = 0.1 Pa, 2.2e-3
    # with h = 0.3 Pa (rounding falls as 1/h; the curvature error stays small).
    d = g / np.linalg.norm(g)
    h = 1e-1  # Pa, along a unit vector over 256 samples
    fd = (float(chain(tf.constant((p0 + h * d).astype("f4"))))
          - float(chain(tf.constant((p0 - h * d).astype("f4"))))) / (2 * h)
    analytic = float(np.sum(g * d))
    assert abs(analytic - fd) <= 2e-2 * abs(fd)


# ---------------------------------------------------------------------------
# Second Keras backend
# ---------------------------------------------------------------------------

def test_ihc_runs_on_the_jax_backend(ihc, tmp_path):
    pytest.importorskip("jax")
    src = M.build_model("ihc", n_cf=1)
    src.set_weights(ihc.get_weights())
    wpath = W.save_weights_keras2_layout(src, tmp_path / "ihc.h5")
    v = np.random.default_rng(8).normal(scale=1e-6, size=(600, 2)).astype("f4")
    np.save(tmp_path / "v.npy", v)
    script = textwrap.dedent(f"""
        import numpy as np, keras
        assert keras.backend.backend() == "jax", keras.backend.backend()
        from connear_helpers.cnn import inference as I
        from connear_helpers.cnn import weights as W
        m = W.load_model("ihc", weights=r"{wpath}", n_cf=1)
        y = I.ihc_potential(np.load(r"{tmp_path / 'v.npy'}"), m)
        np.save(r"{tmp_path / 'y.npy'}", y)
    """)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu",
               PYTHONPATH=repo + os.pathsep + os.environ.get("PYTHONPATH", ""))
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    y_jax = np.load(tmp_path / "y.npy")
    assert rel_err(y_jax, I.ihc_potential(v, ihc)) < 1e-4
