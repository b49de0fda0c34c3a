"""Cochlear nucleus, inferior colliculus and ABR waves (spec §8)."""
import numpy as np
import pytest
from scipy.signal import lfilter

from verhulst2018 import brainstem as bs

FS_AN = 20000.0


def test_v12_filter_coefficients_at_20khz():
    b, a = bs.alpha_filter(0.5e-3, FS_AN)
    assert b[0] == pytest.approx(0.0022675736961451248, rel=1e-15)
    assert a[1] == pytest.approx(-2 * 0.9047619047619048, rel=1e-15)
    assert a[2] == pytest.approx(0.9047619047619048**2, rel=1e-15)
    b, a = bs.alpha_filter(2e-3, FS_AN)
    assert b[0] == pytest.approx(0.00015241579027587258, rel=1e-15)
    assert a[1] == pytest.approx(-2 * 0.9753086419753086, rel=1e-15)
    np.testing.assert_allclose(b / b[0], [1, 2, 1])


@pytest.mark.parametrize("tau", [0.5e-3, 2e-3])
def test_v12_filters_have_unit_dc_gain(tau):
    b, a = bs.alpha_filter(tau, FS_AN)
    assert b.sum() / a.sum() == pytest.approx(1.0, rel=1e-12)
    step = lfilter(b, a, np.ones(4000))
    assert step[-1] == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("tau", [0.5e-3, 2e-3])
def test_v11_filter_gain(tau):
    # v1.1: (1/(4 fs^2 tau^2)) G has DC gain (m+1)^2/m^2, m = 2 tau fs (spec §8).
    b, a = bs.alpha_filter_v11(tau, FS_AN)
    m = 2 * tau * FS_AN
    dc = b.sum() / a.sum() / (4 * FS_AN**2 * tau**2)
    assert dc == pytest.approx((m + 1) ** 2 / m**2, rel=1e-10)
    # same poles as v1.2
    np.testing.assert_allclose(a, bs.alpha_filter(tau, FS_AN)[1], rtol=1e-14)


def test_delays():
    assert bs.delay_samples(1e-3, FS_AN) == 20
    assert bs.delay_samples(2e-3, FS_AN) == 40
    x = np.arange(1.0, 51.0)[:, None]
    y = bs.delayed(x, 20)
    np.testing.assert_array_equal(y[:20], 0)
    np.testing.assert_array_equal(y[20:], x[:30])
    np.testing.assert_array_equal(bs.delayed(x, 50), 0)
    np.testing.assert_array_equal(bs.delayed(x, 80), 0)


def test_summed_anf_order_and_fibre_vectors():
    rng = np.random.default_rng(0)
    h, m, l = rng.random((3, 100, 4)) * 100
    np.testing.assert_array_equal(bs.summed_anf(h, m, l), (3 * l + 3 * m) + 13 * h)
    nh = np.array([13, 10, 0, 5])
    np.testing.assert_array_equal(bs.summed_anf(h, m, l, n_hsr=nh), (3 * l + 3 * m) + nh * h)
    with pytest.raises(ValueError, match="one number per channel"):
        bs.summed_anf(h, m, l, n_hsr=[1, 2])
    with pytest.raises(ValueError, match="same shape"):
        bs.summed_anf(h, m[:50], l)


def _impulse_response(version):
    x = np.zeros((400, 1))
    x[100] = 1.0
    zero = np.zeros_like(x)
    cn = bs.cochlear_nucleus(x, zero, zero, FS_AN, n_hsr=1, version=version)
    ic = bs.inferior_colliculus(cn, FS_AN, version=version)
    return x, cn[:, 0], ic[:, 0]


def test_cn_ic_impulse_response_and_inhibition_delay():
    x, cn, ic = _impulse_response("1.2")
    exc = 1.5 * lfilter(*bs.alpha_filter(0.5e-3, FS_AN), x[:, 0])
    # nothing before the impulse; excitation only until the 20-sample inhibition delay
    np.testing.assert_array_equal(cn[:100], 0)
    np.testing.assert_array_equal(cn[:120], exc[:120])
    assert cn[120] < exc[120]
    inh = 1.5 * 0.6 * lfilter(*bs.alpha_filter(2e-3, FS_AN), bs.delayed(x, 20)[:, 0])
    np.testing.assert_allclose(cn, exc - inh, rtol=1e-13, atol=1e-18)
    # IC inhibition arrives 40 samples after its excitation
    exc_ic = lfilter(*bs.alpha_filter(0.5e-3, FS_AN), cn)
    np.testing.assert_array_equal(ic[:140], exc_ic[:140])
    assert ic[140] != exc_ic[140]


def test_v12_step_response_steady_state():
    ones = np.ones((6000, 2))
    zero = np.zeros_like(ones)
    cn = bs.cochlear_nucleus(ones, zero, zero, FS_AN, n_hsr=1)
    ic = bs.inferior_colliculus(cn, FS_AN)
    assert cn[-1, 0] == pytest.approx(1.5 * (1 - 0.6), rel=1e-9)  # A (1 - S)
    assert ic[-1, 0] == pytest.approx(1.0 * (1 - 1.5) * 0.6, rel=1e-9)


def test_v11_step_response_steady_state():
    ones = np.ones((20000, 1))
    zero = np.zeros_like(ones)
    cn = bs.cochlear_nucleus(ones, zero, zero, FS_AN, n_hsr=1, version="1.1")
    ic = bs.inferior_colliculus(cn, FS_AN, version="1.1")
    ge = (1 + 1 / (2 * 0.5e-3 * FS_AN)) ** 2  # (1 + u)^2 with u = 1/m
    gi = (1 + 1 / (2 * 2e-3 * FS_AN)) ** 2
    cn_dc = 1.5 * (ge - 0.6 * gi)
    assert cn[-1, 0] == pytest.approx(cn_dc, rel=1e-8)
    # v1.1 IC kept 1/tau^4: DC gain (1+u)^2 / tau^2 for each branch
    ic_dc = 1.0 * (ge / 0.5e-3**2 - 1.5 * gi / 2e-3**2) * cn_dc
    assert ic[-1, 0] == pytest.approx(ic_dc, rel=1e-8)


@pytest.mark.parametrize("m", [1, 10, 15, 20, 30, 40, 41])
def test_short_signals_do_not_crash(m):
    # The original crashes for D/2 < M < D; here the delayed copy is simply all zeros for M <= D.
    rng = np.random.default_rng(m)
    h, mm, l = rng.random((3, m, 2)) * 100
    cn = bs.cochlear_nucleus(h, mm, l, FS_AN)
    ic = bs.inferior_colliculus(cn, FS_AN)
    assert cn.shape == ic.shape == (m, 2)
    if m <= 20:
        r_an = bs.summed_anf(h, mm, l)
        np.testing.assert_array_equal(cn, 1.5 * (lfilter(*bs.alpha_filter(0.5e-3, FS_AN), r_an, axis=0)))


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_abr_waves_scaling(version):
    rng = np.random.default_rng(3)
    r_an, r_cn, r_ic = rng.random((3, 50, 401))
    w1, w3, w5 = bs.abr_waves(r_an, r_cn, r_ic, version=version)
    m1, m3, m5 = {"1.2": (4.2767e-14, 5.1435e-14, 13.3093e-14), "1.1": (6.2755e-14, 7.2161e-14, 3.52e-20)}[
        version
    ]
    assert w1.shape == (50,)
    np.testing.assert_allclose(w1, m1 * r_an.sum(axis=1), rtol=1e-14)
    np.testing.assert_allclose(w3, m3 * r_cn.sum(axis=1), rtol=1e-14)
    np.testing.assert_allclose(w5, m5 * r_ic.sum(axis=1), rtol=1e-14)


def test_brainstem_errors():
    x = np.zeros((10, 2))
    with pytest.raises(ValueError, match="'1.2'"):
        bs.abr_waves(x, x, x, version="2.0")
    with pytest.raises(ValueError, match="same shape"):
        bs.abr_waves(x, x, x[:5])
    with pytest.raises(ValueError, match=r"\(M, C\)"):
        bs.inferior_colliculus(np.zeros(10), FS_AN)
    with pytest.raises(ValueError, match="positive sample rate"):
        bs.cochlear_nucleus(x, x, x, 0)
