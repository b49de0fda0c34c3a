"""Stimuli: calibration, ramps, SAM tones, clicks, silences, the metric recipes of spec §4.0/§4.1."""
import math

import numpy as np
import pytest
from scipy.signal import hilbert
from scipy.signal import windows

from connear_helpers.analysis import cf
from connear_helpers.analysis import stimuli as st

P0 = 2e-5


# ---------------------------------------------------------------- levels


def test_db_spl_and_pa_round_trip():
    assert st.P0 == P0
    assert st.db_spl_to_pa(0) == pytest.approx(P0)
    assert st.db_spl_to_pa(94) == pytest.approx(1.0024, abs=1e-4)
    levels = np.array([-10.0, 0.0, 35.5, 120.0])
    np.testing.assert_allclose(st.pa_to_db_spl(st.db_spl_to_pa(levels)), levels, atol=1e-12)
    assert st.signal_level_db_spl(np.full(10, st.db_spl_to_pa(70))) == pytest.approx(70)


def test_level_errors():
    with pytest.raises(ValueError, match="positive finite RMS"):
        st.pa_to_db_spl(0.0)
    with pytest.raises(ValueError, match="positive finite RMS"):
        st.pa_to_db_spl(-1.0)
    with pytest.raises(ValueError, match="finite"):
        st.db_spl_to_pa(np.nan)


def test_calibrate_rms_per_row_and_zero_signal():
    x = np.vstack([np.sin(np.arange(100)), 3 * np.cos(np.arange(100))])
    y = st.calibrate_rms(x, [40.0, 80.0])
    np.testing.assert_allclose(st.rms(y), P0 * 10 ** (np.array([40, 80]) / 20), rtol=1e-12)
    with pytest.raises(ValueError, match="RMS is zero"):
        st.calibrate_rms(np.zeros(10), 60)
    with pytest.raises(ValueError, match="NaN"):
        st.calibrate_rms(np.array([1.0, np.nan]), 60)


# ---------------------------------------------------------------- sample counts (spec §4.0)


@pytest.mark.parametrize(
    "duration_s, n_100k, n_20k",
    [
        (5e-3, 500, 100),
        (7.8e-3, 780, 156),
        (2.5e-3, 250, 50),
        (12.8e-3, 1280, 256),
        (35.2e-3, 3520, 704),
        (401.8e-3, 40180, 8036),
        (102.4e-3, 10240, 2048),
        (80e-3, 8000, 1600),
        (400e-3, 40000, 8000),
        (50e-3, 5000, 1000),
    ],
)
def test_sample_counts_of_the_spec(duration_s, n_100k, n_20k):
    assert st.n_samples(duration_s, 100e3) == n_100k
    assert st.n_samples(duration_s, 20e3) == n_20k


# ---------------------------------------------------------------- pure tones and ramps


def test_pure_tone_rms_equals_level_over_the_ramped_tone():
    fs, level = 20e3, 70.0
    tone = st.pure_tone(1000, level, 0.08, fs, ramp_s=5e-3, ramp_shape="bartlett")
    assert tone.shape == (1600,)
    target = P0 * 10 ** (level / 20)
    assert st.rms(tone) == pytest.approx(target, rel=1e-12)
    # the steady part is slightly louder, because the ramps lower the overall RMS
    steady = st.rms(tone[100:-100])
    assert target < steady < target * 1.05


def test_unramped_tone_has_the_peak_of_paper_eq1():
    fs, level = 20e3, 60.0
    tone = st.pure_tone(1000, level, 0.1, fs, ramp_s=0)
    assert np.max(np.abs(tone)) == pytest.approx(P0 * math.sqrt(2) * 10 ** (level / 20), rel=1e-9)


def test_pure_tone_starts_in_sine_phase_and_phase_parameter():
    fs = 100e3
    tone = st.pure_tone(500, 70, 0.04, fs, ramp_s=0)
    assert tone[0] == 0.0 and tone[1] > 0
    cosine = st.pure_tone(500, 70, 0.04, fs, ramp_s=0, phase=np.pi / 2)
    assert cosine[0] == pytest.approx(np.max(cosine))


@pytest.mark.parametrize("shape", ["hann", "bartlett"])
def test_ramp_halves_are_the_split_scipy_window(shape):
    onset, offset = st.raised_cosine_ramp(100, shape)
    win = getattr(windows, shape)(200, sym=True)
    np.testing.assert_array_equal(onset, win[:100])
    np.testing.assert_array_equal(offset, win[100:])
    np.testing.assert_allclose(offset, onset[::-1], atol=1e-15)


def test_apply_ramps_touches_only_the_ends():
    fs = 100e3
    x = np.ones(2000)
    y = st.apply_ramps(x, fs, 5e-3, "hann")
    n_ramp = 500
    np.testing.assert_array_equal(y[n_ramp:-n_ramp], 1.0)
    assert y[0] == 0.0 and y[-1] == 0.0
    assert np.all(np.diff(y[:n_ramp]) > 0)
    np.testing.assert_allclose(y[-n_ramp:], y[:n_ramp][::-1], atol=1e-15)
    # linear (Bartlett) ramp
    z = st.apply_ramps(x, 20e3, 5e-3, "bartlett")
    np.testing.assert_allclose(np.diff(z[:100]), 2 / 199)
    # 20-kHz ramps are 5x shorter in samples than 100-kHz ramps
    assert np.count_nonzero(z < 1) == 2 * 100


def test_ramp_errors():
    with pytest.raises(ValueError, match="longer than the signal"):
        st.apply_ramps(np.ones(100), 20e3, 5e-3)
    with pytest.raises(ValueError, match="ramp shape"):
        st.raised_cosine_ramp(10, "gauss")
    with pytest.raises(ValueError, match="non-negative integer"):
        st.raised_cosine_ramp(-1)


def test_pure_tone_errors():
    with pytest.raises(ValueError, match="fs must be"):
        st.pure_tone(1000, 70, 0.1, 0)
    with pytest.raises(ValueError, match="fs must be"):
        st.pure_tone(1000, 70, 0.1, np.nan)
    with pytest.raises(ValueError, match="Nyquist"):
        st.pure_tone(10e3, 70, 0.1, 20e3)
    with pytest.raises(ValueError, match="positive"):
        st.pure_tone(1000, 70, -0.1, 20e3)
    with pytest.raises(ValueError, match="finite"):
        st.pure_tone(1000, np.nan, 0.1, 20e3)
    with pytest.raises(ValueError, match="finite"):
        st.pure_tone(np.nan, 70, 0.1, 20e3)


# ---------------------------------------------------------------- SAM tones


@pytest.mark.parametrize("depth", [1.0, 0.5])
def test_sam_sidebands_at_fc_plus_minus_fm(depth):
    fs, fc, fm, level = 20e3, 1000.0, 100.0, 70.0
    x = st.sam_tone(fc, fm, depth, level, 0.1, fs, ramp_s=0)  # 2000 samples: 10-Hz bins, exact
    assert st.rms(x) == pytest.approx(P0 * 10 ** (level / 20), rel=1e-12)
    amp = 2 * np.abs(np.fft.rfft(x)) / x.size
    freqs = np.fft.rfftfreq(x.size, 1 / fs)
    carrier_amp = math.sqrt(2) * P0 * 10 ** (level / 20) / math.sqrt(1 + depth**2 / 2)
    at = lambda f: amp[np.argmin(np.abs(freqs - f))]  # noqa: E731
    assert at(fc) == pytest.approx(carrier_amp, rel=1e-9)
    assert at(fc - fm) == pytest.approx(depth / 2 * carrier_amp, rel=1e-9)
    assert at(fc + fm) == pytest.approx(depth / 2 * carrier_amp, rel=1e-9)
    others = np.ones(amp.size, bool)
    for f in (fc - fm, fc, fc + fm):
        others[np.argmin(np.abs(freqs - f))] = False
    assert np.max(amp[others]) < 1e-9 * carrier_amp


def test_sam_depth_and_envelope_starting_at_zero():
    fs, depth = 20e3, 0.6
    x = st.sam_tone(4000, 100, depth, 70, 0.1, fs, ramp_s=0)
    env = np.abs(hilbert(x))[200:-200]
    assert (env.max() - env.min()) / (env.max() + env.min()) == pytest.approx(depth, abs=1e-3)
    full = st.sam_tone(4000, 100, 1.0, 70, 0.1, fs, ramp_s=0)
    env_full = np.abs(hilbert(full))
    # +pi modulator phase: the envelope is 1 - cos, i.e. 0 at t = 0 and maximal at 5 ms
    assert env_full[100] > 0.99 * env_full.max()
    assert np.max(np.abs(full[:5])) < 0.01 * np.max(np.abs(full))


def test_sam_errors():
    for bad in (1.5, -0.1, np.nan):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            st.sam_tone(1000, 100, bad, 70, 0.1, 20e3)
    with pytest.raises(ValueError, match="Nyquist"):
        st.sam_tone(10e3, 100, 1, 70, 0.1, 20e3)
    with pytest.raises(ValueError, match="upper sideband"):
        st.sam_tone(9950, 100, 1, 70, 0.1, 20e3)


# ---------------------------------------------------------------- clicks, silence, tone pairs


def test_click_peak_and_width():
    c = st.click(80, 100e3)
    assert c.shape == (11,)  # 100 µs at 100 kHz, as in the Verhulst example simulation
    np.testing.assert_allclose(c, 2 * math.sqrt(2) * P0 * 10 ** 4)
    assert st.click(80, 20e3).shape == (3,)
    assert np.all(st.click(60, 100e3, polarity="rarefaction") < 0)
    with pytest.raises(ValueError, match="polarity"):
        st.click(60, 100e3, polarity="up")
    with pytest.raises(ValueError, match="positive"):
        st.click(60, 100e3, duration_s=0)


def test_add_silence_counts_and_batch_axis():
    x = np.ones((3, 10))
    y = st.add_silence(x, 100e3, 12.8e-3, 35.2e-3)
    assert y.shape == (3, 1280 + 10 + 3520)
    assert np.all(y[:, :1280] == 0) and np.all(y[:, 1290:] == 0)
    np.testing.assert_array_equal(y[:, 1280:1290], 1.0)
    with pytest.raises(ValueError, match="non-negative"):
        st.add_silence(x, 100e3, -1e-3, 0)


def test_tone_pair():
    fs = 20e3
    pair = st.tone_pair(2000, 60, 0.1, 0.3, fs)
    assert pair.shape == (2000 + 6000 + 2000,)
    np.testing.assert_array_equal(pair[:2000], pair[-2000:])
    assert np.all(pair[2000:8000] == 0)
    assert st.rms(pair[:2000]) == pytest.approx(P0 * 10**3)


# ---------------------------------------------------------------- metric recipes (spec §4.1)


@pytest.mark.parametrize(
    "metric, total, onset, tone",
    [
        ("ihc_excitation_pattern", 2560, 256, 2048),
        ("ihc_ac_dc_ratio", 2560, 704, 1600),
        ("ihc_level_growth", 2560, 704, 1600),
        ("anf_firing_rate_tone", 16292, 8036, 8000),
        ("anf_firing_rate_sam", 16292, 8036, 8000),
        ("anf_rate_level", 9292, 8036, 1000),
        ("anf_synchrony_level", 16292, 8036, 8000),
    ],
)
def test_metric_stimuli_sample_counts_and_calibration(metric, total, onset, tone):
    s = st.metric_stimuli(metric, levels_db_spl=[30, 80], fs=20e3)
    assert s.signals.shape[1] == total
    assert s.tone_onset_sample == onset
    seg = s.signals[:, onset : onset + tone]
    np.testing.assert_allclose(st.rms(seg), P0 * 10 ** (s.levels_db_spl / 20), rtol=1e-12)
    assert np.all(s.signals[:, :onset] == 0)
    assert np.all(s.signals[:, onset + tone :] == 0)
    levels, signals = s  # unpacks as (levels, signals)
    assert signals is s.signals and levels is s.levels_db_spl


def test_metric_stimuli_full_rate_is_five_times_longer():
    s = st.metric_stimuli("ihc_ac_dc_ratio", fs=100e3)
    assert s.signals.shape == (20, 12800)
    assert s.tone_onset_sample == 3520


def test_metric_frequencies_snapped_except_metric1():
    ac = st.metric_stimuli("ihc_ac_dc_ratio")
    expected = [193, 187, 181, 174, 166, 158, 150, 141, 132, 123, 113, 104, 94, 83, 73, 63, 52, 42, 31, 21]
    np.testing.assert_array_equal(ac.cf_index, expected)
    np.testing.assert_allclose(ac.freqs_hz, cf.connear_cfs()[expected])
    np.testing.assert_array_equal(ac.levels_db_spl, 80.0)
    ep = st.metric_stimuli("ihc_excitation_pattern", levels_db_spl=[70], freqs_hz=[1000])
    assert ep.freqs_hz[0] == 1000.0
    rl = st.metric_stimuli("anf_rate_level", levels_db_spl=[0, 50])
    np.testing.assert_allclose(rl.freqs_hz, [1006.9895, 1006.9895, 3972.6887, 3972.6887], atol=1e-4)
    np.testing.assert_array_equal(rl.levels_db_spl, [0, 50, 0, 50])


def test_metric_default_levels_are_the_papers():
    sync = st.metric_stimuli("anf_synchrony_level", freqs_hz=[1000])
    np.testing.assert_array_equal(sync.levels_db_spl, np.arange(0, 101, 5))
    ep = st.metric_recipe("ihc_excitation_pattern")
    assert ep.ramp_shape == "hann" and ep.levels_db_spl[-1] == 100


def test_metric_stimulus_matches_the_building_blocks():
    s = st.metric_stimuli("anf_synchrony_level", levels_db_spl=[60], freqs_hz=[4000])
    tone = st.sam_tone(cf.snap_to_cf(4000), 100, 1.0, 60, 0.4, 20e3, 7.8e-3, "bartlett")
    np.testing.assert_array_equal(s.signals[0, 8036:16036], tone)


def test_onset_recovery_rows_padded_and_intervals():
    s = st.metric_stimuli("anf_onset_recovery", levels_db_spl=[60], intervals_s=[0.1, 0.5])
    assert s.signals.shape == (2, 8036 + 2000 + 10000 + 2000 + 256)
    np.testing.assert_array_equal(s.intervals_s, [0.1, 0.5])
    second = 8036 + 2000 + 2000
    assert np.all(s.signals[0, 8036 + 2000 : second] == 0) and s.signals[0, second + 1] != 0


def test_metric_stimuli_errors():
    with pytest.raises(ValueError, match="ihc_excitation_pattern"):
        st.metric_stimuli("nonsense")
    with pytest.raises(ValueError, match="finite"):
        st.metric_stimuli("anf_rate_level", levels_db_spl=[np.nan])
    with pytest.raises(ValueError, match="only to 'anf_onset_recovery'"):
        st.metric_stimuli("anf_rate_level", intervals_s=[0.1])
