"""IHC receptor potential (spec §5) and decimation to fs/5 (spec §6)."""
import numpy as np
import pytest
from scipy.signal import decimate

from verhulst2018 import ihc

FS = 100000.0


def test_constants_of_spec_13_1():
    assert ihc.met_open_probability(0.0) == pytest.approx(0.1280182405000467, rel=1e-15)
    a_met, a_f, a_s = ihc.ihc_rates(FS)
    assert a_met == pytest.approx(0.8187307530779818, rel=1e-15)
    assert a_f == pytest.approx(0.9672161004820059, rel=1e-15)
    assert a_s == pytest.approx(0.9987507809245809, rel=1e-15)


def test_rest_potential():
    rest = ihc.ihc_rest_potential(FS)
    assert rest == pytest.approx(-0.0576563205, abs=1e-9)
    # Golden run of spec §13.2: V_IHC[0, 0] = -0.05765632053178816 with a BM velocity of order
    # 1e-15 m/s in its first row; that tiny drive accounts for the 4.6e-13 V difference to silence.
    assert rest == pytest.approx(-0.05765632053178816, abs=1e-12)


def test_silence_stays_at_rest_and_channels_are_identical():
    out = ihc.ihc_potential(np.zeros((2000, 3)), FS)
    assert out.shape == (2000, 3) and out.dtype == np.float64
    np.testing.assert_array_equal(out[:, 0], out[:, 2])
    # The 50-ms warm-up leaves a slow tail of the 8-ms K+ conductance: ~2.3e-8 V drift in 20 ms.
    assert np.ptp(out) < 5e-8


def test_polarity_and_saturation():
    v = np.zeros((3000, 4))
    v[1000:2000, 0] = 1e-7  # condensation-like: positive velocity -> depolarisation
    v[1000:2000, 1] = -1e-7
    v[1000:2000, 2] = 1e-5
    v[1000:2000, 3] = -1.0  # overflowing exp inside m_MET: must give m = 0, not NaN
    out = ihc.ihc_potential(v, FS)
    rest = out[999, 0]
    assert out[1999, 0] > rest + 3e-3
    assert out[1999, 1] < rest - 3e-3
    assert out[1999, 2] > out[1999, 0]
    assert np.all(np.isfinite(out))
    assert out[1999, 3] < out[1999, 1]  # MET fully closed: deepest hyperpolarisation
    # Depolarisation is bounded well below the endocochlear potential by the K+ currents.
    assert out[:, 2].max() < -0.02


def test_channel_independence_bitwise():
    rng = np.random.default_rng(1)
    v = 1e-6 * rng.standard_normal((800, 5))
    both = ihc.ihc_potential(v, FS)
    alone = ihc.ihc_potential(v[:, 3:4], FS)
    np.testing.assert_array_equal(both[:, 3:4], alone)


def test_float32_input_is_promoted():
    v = (1e-7 * np.ones((50, 2))).astype(np.float32)
    out = ihc.ihc_potential(v, FS)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, ihc.ihc_potential(v.astype(np.float64), FS))


def test_ihc_errors():
    with pytest.raises(ValueError, match=r"\(T, C\)"):
        ihc.ihc_potential(np.zeros(10), FS)
    with pytest.raises(ValueError, match="positive sample rate"):
        ihc.ihc_potential(np.zeros((10, 1)), 0.0)


def test_decimation_filter():
    h = ihc.decimation_filter()
    assert h.shape == (31,)
    assert h[15] == pytest.approx(0.1996606672986955, rel=1e-15)
    np.testing.assert_allclose(h, h[::-1], rtol=1e-14, atol=1e-18)
    assert h.sum() == pytest.approx(1.0, rel=1e-14)
    k = np.arange(31)
    raw = 0.2 * np.sinc(0.2 * (k - 15)) * (0.54 - 0.46 * np.cos(2 * np.pi * k / 30))
    np.testing.assert_allclose(h, raw / raw.sum(), rtol=1e-14)


@pytest.mark.parametrize("n", [1, 3, 5, 6, 29, 6000, 6001, 6004])
def test_decimate_equals_scipy_decimate_with_startup_fix(n):
    rng = np.random.default_rng(n)
    x = -0.057 + 1e-3 * rng.standard_normal((n, 3))
    y = ihc.decimate_ihc(x)
    assert y.shape == (-(-n // 5), 3)
    ref = decimate(x, 5, n=30, ftype="fir", axis=0)
    ref[:5] = x[0, 0]
    np.testing.assert_array_equal(y, ref)


def test_decimate_startup_rows_and_alignment():
    t = np.arange(3000)
    x = np.stack([-0.05 + 1e-3 * np.sin(2 * np.pi * 100 * t / FS), np.full(3000, -0.06)], axis=1)
    y = ihc.decimate_ihc(x)
    # rows 0..4 of every channel take the first channel's first sample
    np.testing.assert_array_equal(y[:5], x[0, 0])
    # interior: unit DC gain, zero phase (row m is centred on input 5m)
    np.testing.assert_allclose(y[10:590, 1], -0.06, rtol=1e-13)
    np.testing.assert_allclose(y[10:590, 0], x[50:2950:5, 0], atol=2e-8)
    # end effect of the zero padding (not corrected, as in the original): for T a multiple of 5
    # the last two rows are off by ~+0.7 mV and ~-3.7 mV (side lobes of the truncated filter)
    assert y[-2, 1] > -0.06 + 5e-4
    assert y[-1, 1] < -0.06 - 3e-3


def test_decimate_errors():
    with pytest.raises(ValueError, match=r"\(T, C\)"):
        ihc.decimate_ihc(np.zeros(10))
    with pytest.raises(ValueError, match="T >= 1"):
        ihc.decimate_ihc(np.zeros((0, 3)))
