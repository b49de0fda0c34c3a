"""Middle-ear band-pass and emission filter (spec §3, §4.10, §13.1)."""
import numpy as np
import pytest
from scipy.signal import freqz, lfilter

from verhulst2018 import middle_ear as me

FS = 100000.0
# SciPy butter values at 100 kHz quoted in spec §3 (before the 18-dB gain).
SPEC_B = np.array([0.09683894773891115, 0.0, -0.09683894773891115])
SPEC_A = np.array([1.0, -1.7977389079873187, 0.8063221045221778])


def test_gain_constants():
    assert me.MIDDLE_EAR_GAIN == pytest.approx(7.943282347242816, rel=1e-15)
    # q0f = M_po * w from the cochlea's constants (spec §4.3).
    m_so = 2 * 1000.0 / (0.001 * 0.001)
    l_z = 1 / (2.3030 * 61.765)
    m_po = m_so * l_z**2 / (4 * 1.5) ** 2
    assert m_po == pytest.approx(2745.7103920927248, rel=1e-14)
    assert me.EMISSION_GAIN == pytest.approx(m_po * 0.001, rel=1e-14)


def test_coefficients_at_100khz_match_spec():
    b, a = me.middle_ear_coefficients(FS)
    np.testing.assert_allclose(b, me.MIDDLE_EAR_GAIN * SPEC_B, rtol=1e-15, atol=1e-18)
    np.testing.assert_allclose(a, SPEC_A, rtol=1e-15)
    b0, a0 = me.bandpass_coefficients(FS)
    np.testing.assert_allclose(b0, SPEC_B, rtol=1e-15, atol=1e-18)


@pytest.mark.parametrize("fs", [44100.0, 100000.0, 200000.0])
def test_coefficients_match_closed_form(fs):
    w1, w2 = np.tan(np.pi * 600 / fs), np.tan(np.pi * 4000 / fs)
    delta, prod = w2 - w1, w1 * w2
    a0 = 1 + delta + prod
    b, a = me.bandpass_coefficients(fs)
    np.testing.assert_allclose(b, [delta / a0, 0, -delta / a0], rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(a, [1, 2 * (prod - 1) / a0, (1 - delta + prod) / a0], rtol=1e-14)


def test_frequency_response_is_18db_bandpass_600_4000():
    b, a = me.middle_ear_coefficients(FS)
    centre = np.sqrt(600.0 * 4000.0)  # pre-warped bilinear: peak at the geometric centre
    _, h = freqz(b, a, worN=[600.0, centre, 4000.0, 50.0, 30000.0], fs=FS)
    db = 20 * np.log10(np.abs(h))
    # exactly -3.01 dB re the peak at the corners because the design pre-warps them
    assert db[1] == pytest.approx(18.0, abs=2e-3)
    assert db[0] == pytest.approx(18.0 - 10 * np.log10(2), abs=2e-3)
    assert db[2] == pytest.approx(18.0 - 10 * np.log10(2), abs=2e-3)
    assert db[3] < -3.0 and db[4] < 6.0


def test_filter_axes_1d_and_time_major_2d():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(500)
    b, a = me.middle_ear_coefficients(FS)
    y = me.middle_ear_filter(x, FS)
    np.testing.assert_array_equal(y, lfilter(b, a, x))
    x2 = np.stack([x, 2 * x], axis=1)  # (T, C)
    y2 = me.middle_ear_filter(x2, FS)
    assert y2.shape == (500, 2)
    np.testing.assert_array_equal(y2[:, 0], y)
    np.testing.assert_allclose(y2[:, 1], 2 * y, rtol=1e-15)


def test_dc_is_blocked_and_zero_in_zero_out():
    y = me.middle_ear_filter(np.ones(20000), FS)
    assert abs(y[-1]) < 1e-6
    np.testing.assert_array_equal(me.middle_ear_filter(np.zeros(10), FS), 0.0)


def test_emission_filter_uses_q0f_gain():
    x = np.zeros(100)
    x[0] = 1.0
    b, a = me.bandpass_coefficients(FS)
    np.testing.assert_array_equal(me.emission_filter(x, FS), lfilter(me.EMISSION_GAIN * b, a, x))
    ratio = me.middle_ear_filter(x, FS)[5] / me.emission_filter(x, FS)[5]
    assert ratio == pytest.approx(me.MIDDLE_EAR_GAIN / me.EMISSION_GAIN, rel=1e-12)


def test_errors_are_explicit():
    with pytest.raises(ValueError, match="sample rate above 8000"):
        me.middle_ear_coefficients(8000.0)
    with pytest.raises(ValueError, match="sample rate"):
        me.middle_ear_filter(np.zeros(10), float("nan"))
    with pytest.raises(ValueError, match=r"\(T, C\)"):
        me.middle_ear_filter(np.zeros((2, 3, 4)), FS)
