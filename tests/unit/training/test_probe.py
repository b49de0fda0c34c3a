"""The sinusoid probe of an IHC model: the reference side is the IHC's physics, the error is CNN - reference."""
import numpy as np
import pytest

from connear_helpers.training import probe as P


def test_the_probe_reports_the_reference_and_the_models_error():
    amps = (1e-7, 1e-6, 1e-5, 1e-4)
    ref, err = P.ihc_mean_potential_table(lambda v: np.full(v.shape, -0.055), freqs_hz=(500.0, 2000.0),
                                          amplitudes=amps)
    assert ref.shape == err.shape == (4, 2)
    np.testing.assert_allclose(ref + err, -0.055, rtol=0, atol=1e-12)
    # the reference: near rest (-57 to -58 mV) at 1e-7 m/s; at 2 kHz it depolarises with amplitude
    # and saturates (mean of the rectified potential; measured -50.1 mV at 1e-5 m/s)
    assert np.all((-0.059 < ref[0]) & (ref[0] < -0.057))
    assert np.all(np.diff(ref[:, 1]) > -1e-6) and ref[2, 1] - ref[0, 1] > 0.005
    with pytest.raises(ValueError, match="shape"):
        P.ihc_mean_potential_table(lambda v: v[:10], freqs_hz=(500.0,), amplitudes=(1e-6,))


def test_the_cochlea_probe_reports_the_tl_input_output_function_and_the_models_error():
    from connear_helpers.analysis import cf as CF

    cfs = CF.connear_cfs()
    k = CF.nearest_cf_index(cfs, 1400.0)
    rms = 3e-7  # m/s: what the fake CNN gives at the CF, whatever the level

    def fake_cnn(p):
        out = np.zeros((p.size, cfs.size))
        out[:, k] = rms * np.sqrt(2) * np.sin(2 * np.pi * 1400.0 * np.arange(p.size) / 20000.0)
        return out

    levels = (0.0, 20.0, 60.0, 80.0)
    ref, err = P.cochlea_gain_table(fake_cnn, freqs_hz=(1400.0,), levels_db=levels)
    assert ref.shape == err.shape == (4, 1)
    np.testing.assert_allclose(ref + err, 20 * np.log10(rms / 1e-6), rtol=0, atol=0.05)
    # the TL at its CF: linear at low levels (20 dB more sound, about 20 dB more velocity; measured
    # 19.9 dB at the 1-kHz CF), compressive at high levels (measured 7.6 dB for 60 -> 80 dB SPL)
    growth_low, growth_high = ref[1, 0] - ref[0, 0], ref[3, 0] - ref[2, 0]
    assert 17.0 < growth_low < 21.0
    assert 0.0 < growth_high < 12.0
    with pytest.raises(ValueError, match="shape"):
        P.cochlea_gain_table(lambda p: np.zeros((p.size, 3)), freqs_hz=(1400.0,), levels_db=(40.0,))


def test_the_cochlea_spread_probe_shows_the_tl_s_steep_apical_and_shallow_basal_slopes():
    from connear_helpers.analysis import cf as CF

    cfs = CF.connear_cfs()
    floor = 1e-7 * 10 ** (np.arange(cfs.size) / 100)  # m/s: a fake CNN, 0.2 dB more per channel

    def fake_cnn(p):
        t = np.arange(p.size) / 20000.0
        return np.sqrt(2) * np.sin(2 * np.pi * 2000.0 * t)[:, None] * floor

    octaves = (-1.0, 0.0, 1.0)
    cf_used, ref, err = P.cochlea_spread_table(fake_cnn, tones=((2000.0, 90.0),), octaves=octaves)
    assert cf_used.shape == ref.shape == err.shape == (1, 3)
    k = [CF.nearest_cf_index(cfs, 2000.0 * 2.0 ** o) for o in octaves]
    np.testing.assert_allclose(cf_used[0], cfs[k])
    assert cf_used[0, 0] < 2000.0 / 1.9 and cf_used[0, 2] > 2000.0 * 1.9
    # each CF's CNN velocity is read from its own channel
    np.testing.assert_allclose(ref[0] + err[0], 20 * np.log10(floor[k] / 1e-6), rtol=0, atol=0.05)
    # TL physics at 90 dB SPL: an octave apical of the tone's place the BM barely moves (measured
    # 49.6 dB below the velocity at the tone's CF), an octave basal it still follows the loud tone
    # (measured 2.5 dB above: a loud tone's peak lies basal of its CF's place)
    apical, basal = ref[0, 0] - ref[0, 1], ref[0, 2] - ref[0, 1]
    assert apical < -30.0
    assert -10.0 < basal < 8.0
    with pytest.raises(ValueError, match="shape"):
        P.cochlea_spread_table(lambda p: np.zeros((p.size, 3)), tones=((1000.0, 40.0),), octaves=(0.0,))
