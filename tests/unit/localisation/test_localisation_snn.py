"""The spiking network: surrogate gradient values, a gradient check of one LIF step (TensorFlow
here, JAX in a subprocess), Dale's law, and the same seed giving the same training."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from connear_helpers.localisation import snn

BETA = 5.0
ALPHA, ALPHA_OUT, THRESHOLD = 0.9, 0.95, 1.0

# One LIF step, its surrogate gradients and its spike function's gradient on the current backend:
# run(case) -> dict. The same code runs here (TensorFlow) and in a subprocess with KERAS_BACKEND=jax.
STEP_CODE = textwrap.dedent('''
    import numpy as np
    import connear_helpers  # keeps TensorFlow's start-up lines quiet
    import keras
    from keras import ops
    from connear_helpers.localisation import snn


    def run(case):
        L = snn._layers()
        cell = L["LIFCell"](3, 2, case["alpha"], case["alpha_out"], case["threshold"], case["beta"], None,
                            0.5, seed=0)
        cell.build((None, 3))
        arr = lambda k: ops.convert_to_tensor(np.asarray(case[k], dtype="float32"))
        h0, v0, s_prev, u0, w0 = arr("h"), arr("v"), arr("s_prev"), arr("u"), arr("w_out")
        c_s, c_u, x = arr("c_s"), arr("c_u"), arr("x")
        spike = snn.spike_function(case["beta"])

        def loss(h, v, u, w):  # the weight as an argument, through the stateless call
            (out, (v1, s1, u1)), _ = cell.stateless_call([w], [], h, [v, s_prev, u])
            return ops.sum(c_s * s1) + ops.sum(c_u * u1)

        if keras.backend.backend() == "jax":
            import jax

            g = jax.grad(loss, argnums=(0, 1, 2, 3))(h0, v0, u0, w0)
            gx = jax.grad(lambda t: ops.sum(spike(t)))(x)
        else:
            import tensorflow as tf

            args = [tf.Variable(t) for t in (h0, v0, u0, w0)]
            with tf.GradientTape() as tape:
                value = loss(*args)
            g = tape.gradient(value, args)
            xv = tf.Variable(x)
            with tf.GradientTape() as tape:
                y = ops.sum(spike(xv))
            gx = tape.gradient(y, xv)
        return {"grads": [np.asarray(t).tolist() for t in g], "spike": np.asarray(spike(x)).tolist(),
                "spike_grad": np.asarray(gx).tolist(), "backend": keras.backend.backend()}
''')
SUBPROCESS_MAIN = "import json, sys\nprint(json.dumps(run(json.loads(sys.stdin.read()))))\n"


def _case():
    rng = np.random.default_rng(0)
    return {
        "alpha": ALPHA, "alpha_out": ALPHA_OUT, "threshold": THRESHOLD, "beta": BETA,
        "w_out": rng.uniform(-1, 1, (3, 2)).tolist(),
        # v1 = 0.9 v (1 - s_prev) + h lands within ±0.6 of the threshold, where the surrogate matters
        "h": [[0.7, 0.2, 1.1], [0.3, 0.95, 0.6]],
        "v": [[0.5, 0.9, 0.1], [0.8, 0.3, 0.2]],
        "s_prev": [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]],
        "u": [[0.2, -0.1], [0.0, 0.4]],
        "c_s": [[1.0, -2.0, 0.5], [0.3, 0.7, -1.0]],
        "c_u": [[0.6, -0.4], [1.5, 0.2]],
        "x": np.linspace(-2.0, 2.0, 41).tolist(),
    }


def _smooth_loss(case, h, v, u, w):
    """The LIF step with Θ replaced by the sigmoid whose derivative is the surrogate (float64)."""
    s_prev = np.asarray(case["s_prev"])
    v1 = case["alpha"] * v * (1 - s_prev) + h
    s1 = 1 / (1 + np.exp(-case["beta"] * (v1 - case["threshold"])))
    u1 = case["alpha_out"] * u + s1 @ w
    return np.sum(np.asarray(case["c_s"]) * s1) + np.sum(np.asarray(case["c_u"]) * u1)


def _finite_differences(case, eps=1e-6):
    args = [np.asarray(case[k], dtype=np.float64) for k in ("h", "v", "u", "w_out")]
    grads = []
    for i, a in enumerate(args):
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus = [b.copy() for b in args]
            minus = [b.copy() for b in args]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            g[idx] = (_smooth_loss(case, *plus) - _smooth_loss(case, *minus)) / (2 * eps)
        grads.append(g)
    return grads


def _check(result, case):
    x = np.asarray(case["x"])
    np.testing.assert_array_equal(result["spike"], (x > 0).astype(float))  # the forward pass is a step
    sig = 1 / (1 + np.exp(-BETA * x))
    np.testing.assert_allclose(result["spike_grad"], BETA * sig * (1 - sig), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(result["spike_grad"], snn.surrogate_derivative(x, BETA), rtol=1e-5, atol=1e-7)
    fd = _finite_differences(case)
    g_h, g_v, g_u, g_w = (np.asarray(g) for g in result["grads"])
    # input current, membrane potential and output potential: the smooth surrogate's gradient
    np.testing.assert_allclose(g_h, fd[0], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(g_v, fd[1], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(g_u, fd[2], rtol=1e-4, atol=1e-6)
    assert np.max(np.abs(g_h)) > 0.1  # the check is not vacuous
    # the output weights see the actual (0/1) spikes: d loss / d W = spikes^T c_u
    s_prev = np.asarray(case["s_prev"])
    v1 = ALPHA * np.asarray(case["v"]) * (1 - s_prev) + np.asarray(case["h"])
    np.testing.assert_allclose(g_w, (v1 > THRESHOLD).astype(float).T @ np.asarray(case["c_u"]), rtol=1e-6, atol=1e-6)


def test_surrogate_derivative_is_the_sigmoid_derivative():
    x = np.array([-1e3, -1.0, 0.0, 0.3, 1e3])
    np.testing.assert_allclose(snn.surrogate_derivative(x, 4.0),
                               [0.0, 4 * np.exp(-4) / (1 + np.exp(-4)) ** 2, 1.0, 4 * 0.7685247834990178 * 0.2314752165009822, 0.0],
                               rtol=1e-12, atol=1e-300)


def test_lif_step_gradient_tensorflow():
    import connear_helpers  # noqa: F401  (quiet TensorFlow)
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("this process runs another Keras backend")
    namespace = {"__name__": "lif_step"}
    exec(compile(STEP_CODE, "<lif-step>", "exec"), namespace)
    case = _case()
    result = namespace["run"](case)
    assert result["backend"] == "tensorflow"
    _check(result, case)


def test_lif_step_gradient_jax():
    pytest.importorskip("jax")
    case = _case()
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", STEP_CODE + SUBPROCESS_MAIN], input=json.dumps(case), env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["backend"] == "jax"
    _check(result, case)


def test_dale_signs_and_config_errors():
    cfg = snn.NetworkConfig(n_hidden=10, dale_ratio=0.8)
    np.testing.assert_array_equal(cfg.dale_signs(), [1] * 8 + [-1] * 2)
    np.testing.assert_array_equal(snn.NetworkConfig(n_hidden=4).dale_signs(), [1] * 4)
    with pytest.raises(ValueError, match="fraction between 0 and 1"):
        snn.NetworkConfig(dale_ratio=1.5)
