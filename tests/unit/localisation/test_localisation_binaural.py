"""Binaural stimuli: Woodworth ITD, ILD, the delays in the rendered waveforms, diffuse noise, classes."""
import numpy as np
import pytest

from connear_helpers.analysis import stimuli
from connear_helpers.localisation import binaural

FS = 100_000.0


def _phase_delay(x, y, freq, fs):
    """Delay of y re x (s) from the phase of their component at freq (|delay| < half a period)."""
    t = np.arange(x.size) / fs
    e = np.exp(-2j * np.pi * freq * t)
    return -np.angle(np.sum(y * e) * np.conj(np.sum(x * e))) / (2 * np.pi * freq)


def test_woodworth_itd_known_values():
    a, c = 0.0875, 343.0
    assert binaural.woodworth_itd(0.0) == 0.0
    assert binaural.woodworth_itd(90.0) == pytest.approx(a / c * (np.pi / 2 + 1), rel=1e-12)
    assert binaural.woodworth_itd(90.0) == pytest.approx(655.8e-6, abs=0.1e-6)
    assert binaural.woodworth_itd(30.0) == pytest.approx(a / c * (np.pi / 6 + 0.5), rel=1e-12)
    az = np.linspace(-90, 90, 37)
    itd = binaural.woodworth_itd(az)
    np.testing.assert_allclose(itd, -itd[::-1], atol=1e-18)  # odd
    assert np.all(np.diff(itd) > 0)  # monotonic
    assert binaural.woodworth_itd(90.0, head_radius_m=0.07) == pytest.approx(0.07 / c * (np.pi / 2 + 1))


def test_azimuth_out_of_range_says_what_to_do():
    with pytest.raises(ValueError, match="between -90 and \\+90"):
        binaural.woodworth_itd(120.0)


def test_classes_known_answers():
    np.testing.assert_allclose(binaural.class_centres(), np.arange(-82.5, 90, 15))
    assert binaural.to_class([-90.0, -75.01, -75.0, 0.0, 89.9, 90.0]).tolist() == [0, 0, 1, 6, 11, 11]


@pytest.mark.parametrize("azimuth", [-70.0, 20.0, 90.0])
def test_tone_reaches_the_ears_with_the_woodworth_itd(azimuth):
    x = binaural.binaural_stimulus(azimuth, 500.0, 60.0, 0.1, FS, phase=0.3, delay_s=2e-3)
    steady = slice(int(0.02 * FS), int(0.08 * FS))
    delay_right = _phase_delay(x[steady, 0], x[steady, 1], 500.0, FS)
    # right re left: the right ear leads (negative delay) for a source on the right
    assert delay_right == pytest.approx(-binaural.woodworth_itd(azimuth), abs=0.05e-6)
    rms = np.sqrt(np.mean(x[steady] ** 2, axis=0))
    np.testing.assert_allclose(rms, stimuli.db_spl_to_pa(60.0), rtol=2e-3)


def test_ild_is_split_between_the_ears():
    x = binaural.binaural_stimulus(90.0, 500.0, 60.0, 0.1, FS, phase=0.0, ild_db_at_90=6.0)
    steady = slice(int(0.02 * FS), int(0.08 * FS))
    left, right = stimuli.pa_to_db_spl(np.sqrt(np.mean(x[steady] ** 2, axis=0)))
    assert right - left == pytest.approx(6.0, abs=0.02)
    assert (right + left) / 2 == pytest.approx(60.0, abs=0.02)
    np.testing.assert_allclose(binaural.ear_levels(60.0, -30.0, 6.0), [61.5, 58.5])


def test_random_starting_phase_comes_from_the_seed():
    a = binaural.binaural_stimulus(0.0, 500.0, 60.0, 0.02, FS, seed=1)
    b = binaural.binaural_stimulus(0.0, 500.0, 60.0, 0.02, FS, seed=1)
    c = binaural.binaural_stimulus(0.0, 500.0, 60.0, 0.02, FS, seed=2)
    np.testing.assert_array_equal(a, b)
    assert np.max(np.abs(a - c)) > 0.1 * np.max(np.abs(a))


def test_narrowband_noise_is_delayed_by_the_itd():
    x = binaural.binaural_stimulus(45.0, 1000.0, 60.0, 0.2, FS, kind="noise", seed=3, ramp_s=0.0)
    spec_l, spec_r = np.fft.rfft(x[:, 0]), np.fft.rfft(x[:, 1])
    f = np.fft.rfftfreq(x.shape[0], 1 / FS)
    band = (f > 900) & (f < 1100)
    # the cross-spectrum's phase rises by 2π f ITD: the right ear leads by the ITD (fit weighted
    # by the cross-power, since the band's edges hold little of the noise)
    cross = spec_r[band] * np.conj(spec_l[band])
    slope = np.polyfit(2 * np.pi * f[band], np.unwrap(np.angle(cross)), 1, w=np.abs(cross))[0]
    assert slope == pytest.approx(binaural.woodworth_itd(45.0), rel=5e-3)
    level = stimuli.pa_to_db_spl(np.sqrt(np.mean(x ** 2, axis=0)))
    np.testing.assert_allclose(level, 60.0, atol=0.05)
    ramped = binaural.binaural_stimulus(45.0, 1000.0, 60.0, 0.2, FS, kind="noise", seed=3)
    power = np.abs(np.fft.rfft(ramped[:, 0])) ** 2
    third = (f > 1000 * 2 ** (-1 / 6) - 20) & (f < 1000 * 2 ** (1 / 6) + 20)  # one third of an octave
    assert power[third].sum() / power.sum() > 0.97


def test_diffuse_noise_level_snr_and_partial_coherence():
    diff = binaural.diffuse_noise(int(0.5 * FS), FS, rms_pa=0.02, seed=4)
    np.testing.assert_allclose(np.sqrt(np.mean(diff ** 2, axis=0)), 0.02, rtol=1e-9)
    # interaural coherence of a diffuse field: high at low frequencies, small at high ones
    seg = diff.reshape(50, -1, 2)
    sl = np.fft.rfft(seg[:, :, 0], axis=1)
    sr = np.fft.rfft(seg[:, :, 1], axis=1)
    fk = np.fft.rfftfreq(seg.shape[1], 1 / FS)
    coh = np.abs(np.mean(sl * np.conj(sr), 0)) / np.sqrt(np.mean(np.abs(sl) ** 2, 0) * np.mean(np.abs(sr) ** 2, 0))
    low = coh[(fk > 150) & (fk < 300)].mean()
    high = coh[(fk > 2500) & (fk < 4500)].mean()
    assert low > 0.8 and high < 0.4
    x = binaural.binaural_stimulus(0.0, 500.0, 60.0, 0.2, FS, snr_db=10.0, seed=5, ramp_s=0.0)
    clean = binaural.binaural_stimulus(0.0, 500.0, 60.0, 0.2, FS, seed=5, ramp_s=0.0)
    noise = x - clean
    snr = 20 * np.log10(np.sqrt(np.mean(clean ** 2, 0)) / np.sqrt(np.mean(noise ** 2, 0)))
    np.testing.assert_allclose(snr, 10.0, atol=0.01)
