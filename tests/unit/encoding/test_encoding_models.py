"""encoding models and layers: known outputs for set weights, causality, separable kernels,
the leaky integrator's impulse response and the ON/OFF prefilter's step response."""
import numpy as np
import pytest

from connear_helpers import encoding
from connear_helpers.encoding import layers
from connear_helpers.encoding.targets import causal_filter

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 60, 6)).astype("float32")


def _set_kernel(model, w_otf):
    """Put STRFs (O, T, F) into a full-kernel model."""
    model.strf.kernel.assign(np.transpose(w_otf, (1, 2, 0)).astype("float32"))


def test_linear_model_is_the_causal_strf_filter_of_the_standardised_input():
    m = encoding.Linear(T=5, F=6, O=3)
    w = RNG.standard_normal((3, 5, 6))
    _set_kernel(m, w)
    m.strf.bias.assign(np.array([0.5, -1.0, 2.0], dtype="float32"))
    mean, scale, resp = RNG.standard_normal(6), 1 + RNG.random(6), np.array([2.0, 3.0, 10.0])
    m.input_mean.assign(mean.astype("float32"))
    m.input_scale.assign(scale.astype("float32"))
    m.response_scale.assign(resp.astype("float32"))
    expected = (causal_filter((X - mean) / scale, w) + [0.5, -1.0, 2.0]) * resp
    assert np.allclose(encoding.predict(m, X), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    assert np.allclose(m.strfs(), w, atol=1e-6)  # lag 0 first, (O, T, F)


def test_separable_strf_is_the_sum_of_rank_one_products():
    m = encoding.Linear(T=4, F=6, O=2, rank=2)
    u, v = RNG.standard_normal((4, 2, 2)), RNG.standard_normal((6, 2, 2))
    m.strf.temporal.assign(u.astype("float32"))
    m.strf.spectral.assign(v.astype("float32"))
    w = m.strfs()
    assert w.shape == (2, 4, 6)
    for o in range(2):
        assert np.allclose(w[o], np.outer(u[:, 0, o], v[:, 0, o]) + np.outer(u[:, 1, o], v[:, 1, o]), atol=1e-5)
        assert np.linalg.matrix_rank(w[o], tol=1e-5) == 2
    n_full = sum(int(np.prod(x.shape)) for x in encoding.Linear(T=4, F=6, O=2).trainable_weights)
    n_sep = sum(int(np.prod(x.shape)) for x in m.trainable_weights)
    assert (n_full, n_sep) == (4 * 6 * 2 + 2, 2 * 2 * (4 + 6) + 2)


@pytest.mark.parametrize("name", ["linear", "ln", "nrf", "dnet", "cnn2d"])
@pytest.mark.parametrize("prefilter", [None, "on_off"])
def test_every_model_is_causal(name, prefilter):
    m = encoding.build_model(name, 8, 6, 3, prefilter=prefilter)
    changed = X.copy()
    changed[:, 40:] += 3.0
    a, b = encoding.predict(m, X), encoding.predict(m, changed)
    assert np.array_equal(a[:, :40], b[:, :40])
    assert np.abs(a[:, 40:] - b[:, 40:]).max() > 1e-3


def test_models_with_an_output_nonlinearity_give_non_negative_rates():
    big = 30 * X
    for name in ("ln", "nrf", "dnet", "cnn2d"):
        m = encoding.build_model(name, 8, 6, 3)
        assert m.positive_output and encoding.predict(m, big).min() >= 0.0
    assert not encoding.Linear(8, 6, 3).positive_output


def test_strfs_have_one_image_per_neuron_or_hidden_unit_and_two_halves_with_the_prefilter():
    assert encoding.LinearNonlinear(7, 6, 3).strfs().shape == (3, 7, 6)
    assert encoding.NetworkReceptiveField(7, 6, 3, H=5).strfs().shape == (5, 7, 6)
    assert encoding.DNet(7, 6, 3, H=4, prefilter="on_off").strfs().shape == (4, 7, 12)
    with pytest.raises(TypeError, match="no explicit STRF"):
        encoding.ConvNet2D(7, 6, 3, kernel_f=3).strfs()
    assert encoding.ConvNet2D(7, 6, 3, channels=(4, 4), kernel_f=3).first_layer_kernels().shape == (4, 5, 3)


def test_leaky_integrator_impulse_response_is_the_first_order_low_pass():
    dt, tau = 0.005, 0.02
    li = layers.LeakyIntegrator(dt, tau_init_s=tau, kernel_bins=40)
    impulse = np.zeros((1, 50, 1), dtype="float32")
    impulse[0, 0, 0] = 1.0
    h = np.asarray(li(impulse))[0, :, 0]
    a = np.exp(-dt / tau)
    expected = (1 - a) * a ** np.arange(50)
    expected[40:] = 0.0  # truncated at kernel_bins ...
    expected /= expected.sum()  # ... and renormalised to unit DC gain
    assert float(layers.to_numpy(li.tau_s())[0]) == pytest.approx(tau, rel=1e-5)
    assert np.allclose(h, expected, atol=1e-6)
    assert h.sum() == pytest.approx(1.0, abs=1e-5)


def test_on_off_prefilter_step_response():
    dt, tau, w = 0.005, 0.02, 0.8
    pre = layers.OnOffPrefilter(dt, tau_init_s=tau, strength_init=w, kernel_bins=60)
    step = np.zeros((1, 80, 2), dtype="float32")
    step[0, 20:, 0] = 1.0   # band 0: an increment
    step[0, 20:, 1] = -1.0  # band 1: a decrement
    y = np.asarray(pre(step))[0]
    on, off = y[:, :2], y[:, 2:]
    a = np.exp(-dt / tau)
    k = np.arange(60)
    k_avg = (1 - a) * a**k / ((1 - a) * a**k).sum()
    expected = 1.0 - w * np.cumsum(k_avg)[:60]  # d = x - w * average(x) after the step
    assert np.allclose(on[20:80, 0], expected, atol=1e-5)
    assert np.allclose(off[20:80, 1], expected, atol=1e-5)
    assert on[20, 0] > 0.7 and on[79, 0] == pytest.approx(1 - w, abs=1e-4)  # transient, then adapted
    assert np.all(off[:, 0] == 0) and np.all(on[:, 1] == 0) and np.all(y[:20] == 0)


def test_dnet_time_constants_start_at_the_given_value():
    m = encoding.DNet(8, 6, 3, H=4, dt=0.005, tau_init_s=0.015)
    tc = m.time_constants()
    assert tc["hidden"].shape == (4,) and tc["output"].shape == (3,)
    assert np.allclose(tc["hidden"], 0.015, rtol=1e-5) and np.allclose(tc["output"], 0.015, rtol=1e-5)


def test_constructor_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="T must be a positive integer"):
        encoding.Linear(0, 6, 3)
    with pytest.raises(ValueError, match="prefilter"):
        encoding.Linear(5, 6, 3, prefilter="adaptive")
    with pytest.raises(ValueError, match="smaller than the 6 input bands"):
        encoding.ConvNet2D(5, 6, 3, kernel_f=6)
    with pytest.raises(ValueError, match="unknown model"):
        encoding.build_model("gru", 5, 6, 3)
    with pytest.raises(ValueError, match="tau_init_s"):
        layers.LeakyIntegrator(0.005, tau_init_s=1.0, kernel_bins=40)
