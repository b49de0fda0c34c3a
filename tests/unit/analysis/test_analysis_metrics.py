"""Metrics on synthetic signals with known answers (spec §4, §9 item 7)."""
import math

import numpy as np
import pytest

from connear_helpers.analysis import cf
from connear_helpers.analysis import metrics as m

FS = 20e3
REST = -0.0577  # a resting IHC potential (V)


# ---------------------------------------------------------------- windows


def test_spec_windows_in_samples():
    assert m.window_slice(m.IHC_DC_WINDOW_S, FS, 2048) == slice(148, 348)
    assert m.window_slice(m.IHC_AC_WINDOW_S, FS, 2048) == slice(1448, 1848)
    assert m.window_slice(m.ANF_RATE_LEVEL_WINDOW_S, FS, 8100) == slice(300, 900)
    assert m.window_slice(m.ANF_SYNCHRONY_WINDOW_S, FS, 8100) == slice(100, 8100)
    assert m.window_slice(m.IHC_AC_WINDOW_S, 100e3, 10240) == slice(7240, 9240)
    assert m.window_slice(None, FS, 10) == slice(0, 10)
    assert m.window_slice(slice(2, 5), FS, 10) == slice(2, 5)


def test_window_errors():
    with pytest.raises(ValueError, match="outside the response"):
        m.window_slice(m.IHC_AC_WINDOW_S, FS, 1000)
    with pytest.raises(ValueError, match="no samples"):
        m.window_slice((0.01, 0.01), FS, 1000)
    with pytest.raises(ValueError, match="outside the response"):
        m.window_slice(slice(0, 20), FS, 10)
    with pytest.raises(ValueError, match="seconds"):
        m.window_slice("all", FS, 10)


# ---------------------------------------------------------------- Metric 1


def test_excitation_pattern_is_the_mean_per_cf_within_the_window():
    t = np.arange(2048) / FS
    # 625 Hz: 32-sample period, 64 whole periods in 2048 samples, so the sine averages to 0
    v = np.stack([REST + 0.001 * k + 0.002 * np.sin(2 * np.pi * 625 * t) for k in range(4)], axis=1)
    np.testing.assert_allclose(m.excitation_pattern(v, FS), REST + 0.001 * np.arange(4), atol=1e-12)
    w = v.copy()
    w[:100] += 1.0  # outside the window: no effect
    np.testing.assert_allclose(
        m.excitation_pattern(w, FS, window=(0.005, 0.1024)),
        m.excitation_pattern(v, FS, window=(0.005, 0.1024)),
    )


# ---------------------------------------------------------------- Metric 2


def _ac_dc_trace(a, d, f=500.0, n=2048):
    """Rest until the tone, then d + a·sin in the AC window; 500 Hz puts peaks on samples."""
    t = np.arange(n) / FS
    v = np.full(n, REST)
    v[448:] = d + a * np.sin(2 * np.pi * f * t[448:])
    return v


def test_ac_dc_ratio_of_a_sinusoid_on_an_offset():
    a, d = 0.004, REST + 0.008
    v = _ac_dc_trace(a, d)
    ac, dc = m.ac_dc_components(v, FS)
    assert ac == pytest.approx(a / math.sqrt(2), rel=1e-12)
    assert dc == pytest.approx(d - REST, rel=1e-12)
    assert m.ac_dc_ratio(v, FS) == pytest.approx((a / math.sqrt(2)) / (d - REST), rel=1e-12)


def test_ac_dc_ratio_per_cf_and_windows_respected():
    v = np.stack([_ac_dc_trace(0.004, REST + 0.008), _ac_dc_trace(0.001, REST + 0.01)], axis=1)
    expected = [(0.004 / math.sqrt(2)) / 0.008, (0.001 / math.sqrt(2)) / 0.01]
    np.testing.assert_allclose(m.ac_dc_ratio(v, FS), expected, rtol=1e-12)
    w = v.copy()
    w[:148] += 0.5  # before the DC window
    w[348:1448] -= 0.3  # between the windows (includes the onset response)
    w[1848:] *= 7.0  # after the AC window
    np.testing.assert_allclose(m.ac_dc_ratio(w, FS), expected, rtol=1e-12)


def test_ac_dc_curve_picks_the_nearest_cf():
    cfs = cf.connear_cfs()
    freqs = np.array([500.0, 4000.0])
    idx = cf.nearest_cf_index(cfs, freqs)
    v = np.full((2, 2048, 201), REST)
    v[0, :, idx[0]] = _ac_dc_trace(0.004, REST + 0.008)
    v[1, :, idx[1]] = _ac_dc_trace(0.001, REST + 0.01)
    cf_hz, ratio = m.ac_dc_curve(v, freqs, FS)
    np.testing.assert_allclose(cf_hz, cfs[idx])
    np.testing.assert_allclose(ratio, [(0.004 / math.sqrt(2)) / 0.008, (0.001 / math.sqrt(2)) / 0.01])
    cf_hz1, ratio1 = m.ac_dc_curve(v[np.arange(2), :, idx], freqs, FS)
    np.testing.assert_allclose(ratio1, ratio)
    with pytest.raises(ValueError, match="one frequency per response"):
        m.ac_dc_curve(v, [500.0], FS)


# ---------------------------------------------------------------- Metric 3


def test_level_growth_rms_of_dc_removed_potential():
    a = 0.003
    v = np.full(2048, REST)
    t = np.arange(2048) / FS
    v[448:] += a * np.sin(2 * np.pi * 500 * t[448:])  # 1600 samples = 40 whole periods
    expected = a / math.sqrt(2) * math.sqrt(1600 / 2048)
    assert m.half_wave_rectified_rms(v, FS) == pytest.approx(expected, rel=1e-12)
    assert m.half_wave_rectified_rms(v, FS, window=slice(448, 2048)) == pytest.approx(a / math.sqrt(2))
    # with rectification: RMS of a half-wave-rectified sine is a/2
    assert m.half_wave_rectified_rms(v, FS, window=slice(448, 2048), rectify=True) == pytest.approx(a / 2)
    growth = m.level_growth(np.stack([v, REST + 2 * (v - REST)]), FS)
    np.testing.assert_allclose(growth, [expected, 2 * expected], rtol=1e-12)


def test_level_growth_dc_window_respected():
    v = np.full(2048, REST)
    v[448:] += 0.001
    w = v.copy()
    w[:148] = 5.0  # outside the DC window but inside the RMS window: changes the RMS only
    base = m.half_wave_rectified_rms(v, FS, window=slice(148, 2048))
    assert m.half_wave_rectified_rms(w, FS, window=slice(148, 2048)) == pytest.approx(base)


# ---------------------------------------------------------------- Metric 5


def test_rate_level_of_a_known_ramp():
    levels = np.arange(0, 101, 10)
    n = 8100
    t_idx = np.arange(n)
    rates = np.stack([2.0 * L + 0.1 * t_idx for L in levels])  # a rate ramp in time, offset by level
    expected = 2.0 * levels + 0.1 * np.mean(np.arange(300, 900))  # mean of samples 300…899
    np.testing.assert_allclose(m.rate_level(rates, FS), expected, rtol=1e-12)
    rates[:, :300] = 1e4
    rates[:, 900:] = -1e4
    np.testing.assert_allclose(m.rate_level(rates, FS), expected, rtol=1e-12)
    assert m.mean_rate(rates[3], FS, m.ANF_RATE_LEVEL_WINDOW_S) == pytest.approx(expected[3])


def test_rate_level_per_cf():
    rates = np.ones((3, 8100, 2)) * np.array([10.0, 20.0])
    np.testing.assert_allclose(m.rate_level(rates, FS), [[10, 20]] * 3)


# ---------------------------------------------------------------- Metric 6


def _t(n=8000):
    return np.arange(n) / FS


def test_vector_strength_of_a_modulated_rate_is_half_the_depth():
    for a in (0.2, 0.6, 1.0):
        r = 100.0 * (1 + a * np.cos(2 * np.pi * 100 * _t()))
        assert m.vector_strength(r, FS, 100.0) == pytest.approx(a / 2, abs=1e-12)


def test_vector_strength_of_a_half_wave_rectified_sine_is_pi_over_4():
    # continuous-time value pi/4; sampling 200 points per period moves it by < 1e-4
    r = np.maximum(np.sin(2 * np.pi * 100 * _t()), 0.0)
    assert m.vector_strength(r, FS, 100.0) == pytest.approx(math.pi / 4, rel=2e-4)
    fine = np.maximum(np.sin(2 * np.pi * 100 * np.arange(40000) / 100e3), 0.0)
    assert m.vector_strength(fine, 100e3, 100.0) == pytest.approx(math.pi / 4, rel=1e-5)


def test_vector_strength_of_phase_locked_impulses_is_one():
    r = np.zeros(8000)
    r[37::200] = 1000.0  # one spike per 100-Hz period, always at the same phase
    assert m.vector_strength(r, FS, 100.0) == pytest.approx(1.0, abs=1e-12)


def test_vector_strength_zero_for_constant_and_unrelated_frequencies():
    assert m.vector_strength(np.full(8000, 50.0), FS, 100.0) == pytest.approx(0.0, abs=1e-12)
    r = 50.0 * (1 + np.sin(2 * np.pi * 100 * _t()))
    for f in (50.0, 250.0, 1000.0):
        assert m.vector_strength(r, FS, f) == pytest.approx(0.0, abs=1e-12)


def test_vector_strength_window_and_channels():
    n = 8100
    t = np.arange(n) / FS
    r = np.stack([100 * (1 + a * np.cos(2 * np.pi * 100 * t)) for a in (0.5, 0.8)], axis=1)
    r[:100] = 3000.0  # the onset, outside the synchrony window [100, 8100)
    vs = m.vector_strength(r, FS, 100.0, window=m.ANF_SYNCHRONY_WINDOW_S)
    np.testing.assert_allclose(vs, [0.25, 0.4], atol=1e-12)
    levels = np.stack([r[:, 0], r[:, 1]])
    np.testing.assert_allclose(m.synchrony_level(levels, FS, 100.0), [0.25, 0.4], atol=1e-12)


def test_vector_strength_errors():
    with pytest.raises(ValueError, match="mean rate in the window is zero"):
        m.vector_strength(np.sin(2 * np.pi * 100 * _t()), FS, 100.0)
    with pytest.raises(ValueError, match="fs/2"):
        m.vector_strength(np.ones(8000), FS, 10e3)
    with pytest.raises(ValueError, match="NaN"):
        m.vector_strength(np.full(8000, np.nan), FS, 100.0)
    with pytest.raises(ValueError, match="dimensions"):
        m.vector_strength(np.ones((2, 3, 4)), FS, 100.0)


# ---------------------------------------------------------------- Fig. 4


def test_adaptation_ratio_of_a_step():
    fs = FS
    n = int(1.02 * fs)
    rate = np.full((n, 2), 100.0)
    onset = 0.01
    rate[: int((onset + 0.5) * fs)] = [200.0, 150.0]
    np.testing.assert_allclose(m.adaptation_ratio(rate, fs, 0.4, 1.0, onset_s=onset), [2.0, 1.5])
    with pytest.raises(ValueError, match="outside the response"):
        m.adaptation_ratio(rate, fs, 0.4, 1.5, onset_s=onset)


def test_onset_peak_recovery():
    intervals = np.array([0.1, 0.2, 0.3])
    onsets = m.second_tone_onsets(intervals, 0.01, 0.1)
    np.testing.assert_allclose(onsets, [0.21, 0.31, 0.41])
    n = int(0.6 * FS)
    responses = np.zeros((3, n))
    peaks = [50.0, 80.0, 100.0]
    for row, (t0, p) in enumerate(zip(onsets, peaks)):
        responses[row, int(0.01 * FS) + 5] = 500.0  # first tone: ignored
        responses[row, int(t0 * FS) + 3] = p
    np.testing.assert_allclose(m.onset_peak_recovery(responses, FS, onsets, 0.1), [0.5, 0.8, 1.0])


# ---------------------------------------------------------------- RMSE (Eq. 3) and tables


def test_rmse_known_arrays():
    assert m.rmse([0, 0, 0, 0], [1, -1, 1, -1]) == pytest.approx(1.0)
    assert m.rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(math.sqrt(4 / 3))
    assert m.rmse([1, 2, 3], [1, 2, 3]) == 0.0
    np.testing.assert_allclose(m.rmse([[0, 0], [1, 1]], [[3, 4], [1, 1]], axis=1), [math.sqrt(12.5), 0])
    with pytest.raises(ValueError, match="same shape"):
        m.rmse(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        m.rmse([np.nan], [1.0])


def test_excitation_pattern_rmse_table_shape_and_values():
    ref = {1000.0: np.zeros((3, 201)), 500.0: np.ones((3, 201))}
    cnn = {1000.0: np.full((3, 201), 2.0), 500.0: np.ones((3, 201))}
    freqs, table = m.excitation_pattern_rmse_table(ref, cnn)
    np.testing.assert_array_equal(freqs, [500.0, 1000.0])
    np.testing.assert_allclose(table, [[0, 2]] * 3)
    with pytest.raises(ValueError, match="same conditions"):
        m.excitation_pattern_rmse_table(ref, {1000.0: cnn[1000.0]})


def test_firing_rate_rmse_table_column_order():
    ref = {"LSR-SAM-4kHz": np.zeros((2, 10)), "HSR-tone-1kHz": np.zeros((2, 10))}
    cnn = {"LSR-SAM-4kHz": np.full((2, 10), 3.0), "HSR-tone-1kHz": np.ones((2, 10))}
    labels, table = m.firing_rate_rmse_table(ref, cnn)
    assert labels == ["HSR-tone-1kHz", "LSR-SAM-4kHz"]
    np.testing.assert_allclose(table, [[1, 3], [1, 3]])
    cnn["HSR-tone-1kHz"][:, :5] = 100.0
    _, windowed = m.firing_rate_rmse_table(ref, cnn, fs=FS, window=slice(5, 10))
    np.testing.assert_allclose(windowed, [[1, 3], [1, 3]])
    with pytest.raises(ValueError, match="unknown condition"):
        m.firing_rate_rmse_table({"HSR-click": ref["LSR-SAM-4kHz"]}, {"HSR-click": ref["LSR-SAM-4kHz"]})
    assert len(m.FIRING_RATE_RMSE_COLUMNS) == 12


def test_excitation_rmse_table_reproduces_supplementary_figure_1(shared_dir):
    """The paper's Suppl. Fig. 1 columns for 0.5/1/2 kHz = RMSE over CFs of its Fig. 2 patterns (mV)."""
    src = shared_dir / "paper_sourcedata"
    for variant, suppl in (("tanh", "tanh"), ("tanh-sigm", "tanhsigm")):
        ref, cnn = {}, {}
        for f in (500.0, 1000.0, 2000.0):
            r = np.loadtxt(src / "Figure2" / f"vm_{f}Hz_refIHC.csv", delimiter=",", skiprows=1)
            c = np.loadtxt(src / "Figure2" / f"vm_{f}Hz_CoNNearIHC_{variant}.csv", delimiter=",", skiprows=1)
            ref[f], cnn[f] = r[:, 1:11].T, c[:, 1:11].T  # levels 0:10:90 as rows, CFs as columns
        freqs, table = m.excitation_pattern_rmse_table(ref, cnn)
        published = np.loadtxt(
            src / "SupplementaryFigure1" / f"rmse_IHC_excitation_{suppl}.txt", comments="#"
        )
        np.testing.assert_array_equal(published[:, 0], np.arange(0, 91, 10))
        np.testing.assert_allclose(table, published[:, 2:5], rtol=0, atol=2e-6)
