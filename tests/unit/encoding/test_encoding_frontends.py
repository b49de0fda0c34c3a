"""encoding front ends: the mel spectrogram's calibration and timing, binning, and the periphery
front ends and the IC target against verhulst2018 run directly (a 60-ms tone at 4 CFs)."""
import numpy as np
import pytest

from connear_helpers import encoding
from connear_helpers.analysis import stimuli
from connear_helpers.pipeline import SimulationCache

FS = 20_000.0


def test_mel_band_of_a_tone_reads_its_level_and_silence_reads_zero():
    tone = stimuli.pure_tone(1000.0, 60.0, 0.5, FS, ramp_s=0.0)
    spec, freqs, dt = encoding.mel_spectrogram(tone, FS, n_mels=24, fmin_hz=100.0, fmax_hz=8000.0, hop_s=0.005)
    assert spec.shape == (100, 24) and dt == 0.005
    assert np.all(np.diff(freqs) > 0) and freqs[0] > 100 and freqs[-1] < 8000
    band = int(np.argmax(spec[50]))
    assert abs(freqs[band] - 1000.0) < 0.5 * (freqs[band + 1] - freqs[band - 1])
    # the band's triangle weighs the tone by w <= 1: level 60 + 10 log10(w) dB, a few dB at most below
    lo, hi = freqs[band - 1], freqs[band + 1]
    w = 1 - abs(1000.0 - freqs[band]) / ((hi - freqs[band]) if 1000.0 > freqs[band] else (freqs[band] - lo))
    assert spec[50, band] == pytest.approx(60.0 + 10 * np.log10(w), abs=0.5)
    assert spec[50].max() - np.sort(spec[50])[-3] > 10  # a tone excites one or two bands
    silent, _, _ = encoding.mel_spectrogram(np.zeros(4000), FS)
    assert np.all(silent == 0.0)


def test_mel_frames_are_centred_on_their_bins():
    x = np.zeros(int(0.2 * FS))
    x[int(0.1025 * FS)] = 1.0  # a click in the middle of bin 20 (100-105 ms)
    spec, _, _ = encoding.mel_spectrogram(x, FS, hop_s=0.005, window_s=0.01)
    assert int(np.argmax(spec.sum(axis=1))) == 20


def test_pool_bins_averages_whole_bins_and_refuses_fractional_ones():
    x = np.arange(25.0)[:, None]
    assert np.allclose(encoding.pool_bins(x, 1000.0, 0.005)[:, 0], [2, 7, 12, 17, 22])
    with pytest.raises(ValueError, match="whole number of samples"):
        encoding.pool_bins(x, 1000.0, 0.0025)


@pytest.fixture(scope="module")
def tone_case(tmp_path_factory):
    """A 60-ms 1-kHz tone at 60 dB SPL through verhulst2018 directly and through the front end."""
    import verhulst2018

    tone = stimuli.add_silence(stimuli.pure_tone(1000.0, 60.0, 0.05, FS), FS, 0.0, 0.01)
    cf = [4000.0, 500.0, 1000.0, 2000.0]
    cache = SimulationCache(max_bytes=1 << 24, directory=tmp_path_factory.mktemp("sims"))
    x, cfs, dt = encoding.frontend(tone, FS, "anf", cf=cf, bin_s=0.005, cache=cache)
    from connear_helpers.encoding.front_ends import _to_reference_rate

    x100 = _to_reference_rate(tone, FS)
    ref = verhulst2018.simulate(x100, fs=100_000, cf=np.sort(cfs), outputs=("ihc", "anfh", "anfm", "anfl", "ic"),
                                progress=False)
    return {"tone": tone, "cf": cf, "cache": cache, "anf": (x, cfs, dt), "ref": ref}


def test_anf_front_end_is_the_13_3_3_weighted_fibre_mean_in_bins(tone_case):
    x, cfs, dt = tone_case["anf"]
    ref = tone_case["ref"]
    assert np.allclose(cfs, np.sort(cfs)) and cfs.size == 4 and dt == 0.005 and x.shape == (12, 4)
    mean = (13 * ref.anfh + 3 * ref.anfm + 3 * ref.anfl) / 19  # 20 kHz, 100 samples per bin
    expected = mean[:1200].reshape(12, 100, 4).mean(axis=1)
    assert np.allclose(x, expected, rtol=1e-6)  # the disk cache stores float32; here: memory
    # the CF at the tone fires most during the tone
    assert int(np.argmax(x[2:10].mean(axis=0))) == int(np.argmin(np.abs(cfs - 1000.0)))


def test_ihc_front_end_and_ic_target_come_from_the_same_cached_simulation(tone_case):
    ref, cache = tone_case["ref"], tone_case["cache"]
    misses = cache.misses
    vihc, cfs, _ = encoding.frontend(tone_case["tone"], FS, "ihc", cf=tone_case["cf"], bin_s=0.01, cache=cache)
    assert cache.misses == misses  # no new simulation
    assert np.allclose(vihc, ref.ihc[:6000].reshape(6, 1000, 4).mean(axis=1), rtol=1e-6)
    ic = encoding.ic_population([tone_case["tone"]], FS, tone_case["cf"], bin_s=0.005, n_repeats=4, seed=0,
                                cache=cache)
    expected = np.maximum(ref.ic, 0)[:1200].reshape(12, 100, 4).mean(axis=1) / 19
    assert np.allclose(ic.rates[0], expected, rtol=1e-6)
    assert ic.repeats.shape == (1, 4, 12, 4) and np.allclose(ic.repeats * 0.005, np.round(ic.repeats * 0.005))
    # a fresh memory cache finds the record on disk, stored as float32
    disk = SimulationCache(max_bytes=1 << 24, directory=cache.directory)
    again, _, _ = encoding.frontend(tone_case["tone"], FS, "anf", cf=tone_case["cf"], cache=disk)
    assert disk.disk_hits == 1 and np.allclose(again, tone_case["anf"][0], rtol=1e-5)


def test_front_end_errors_say_what_to_do():
    x = np.zeros(2000)
    with pytest.raises(ValueError, match="kind must be one of"):
        encoding.frontend(x, FS, "gammatone")
    with pytest.raises(ValueError, match="cf must be given"):
        encoding.frontend(x, FS, "anf")
    with pytest.raises(ValueError, match="multiple of 1 ms"):
        encoding.frontend(x, FS, "anf", cf=[1000.0], bin_s=0.0025)
    with pytest.raises(ValueError, match="give weights"):
        encoding.frontend(x, FS, "anf", cf=[1000.0], source="connear")
    with pytest.raises(ValueError, match="Nyquist"):
        encoding.mel_spectrogram(x, FS, fmax_hz=12000.0)
    with pytest.raises(ValueError, match="one length"):
        encoding.frontends([x, x[:1000]], FS, "mel")


@pytest.mark.parametrize("fs, message", [
    (20.0, "not in kHz"), (float("nan"), "positive sample rate in Hz"), (-1.0, "positive sample rate in Hz"),
    ("20k", "positive sample rate in Hz"), ([20_000.0, 1.0], "positive sample rate in Hz")])
@pytest.mark.parametrize("kind", ["mel", "anf"])
def test_a_wrong_sample_rate_is_refused_before_any_simulation(fs, message, kind):
    with pytest.raises(ValueError, match=message):
        encoding.frontend(np.zeros(2000), fs, kind, cf=[1000.0])


def test_bad_signals_and_options_are_refused_with_what_to_do():
    x = np.zeros(2000)
    with pytest.raises(ValueError, match="remove NaN"):
        encoding.frontend(np.where(np.arange(2000) == 5, np.nan, x), FS, "mel")
    with pytest.raises(ValueError, match="use frontends"):
        encoding.frontend(np.zeros((2, 2000)), FS, "mel")
    with pytest.raises(ValueError, match="remove NaN"):
        encoding.frontends([x, np.full(2000, np.inf)], FS, "anf", cf=[1000.0])
    with pytest.raises(ValueError, match="engine must be one of"):
        encoding.frontend(x, FS, "anf", cf=[1000.0], engine="gpu")
    with pytest.raises(ValueError, match="outside the modelled range"):
        encoding.frontend(x, FS, "anf", cf=[20.0])
    with pytest.raises(ValueError, match="shorter than one bin"):
        encoding.mel_spectrogram(x[:50], FS)


def test_light_mode_without_weights_says_where_to_get_them(tmp_path, monkeypatch):
    from connear_helpers.cnn import weights

    monkeypatch.setenv("CONNEAR_LAB_CACHE", str(tmp_path))  # no downloaded official weights here
    with pytest.raises(ValueError, match="give weights"):
        encoding.frontend(np.zeros(2000), FS, "anf", cf=[1000.0], mode="light")
    with pytest.raises(weights.WeightsNotFoundError, match="download official"):
        encoding.frontend(np.zeros(2000), FS, "anf", cf=[1000.0], mode="light", weights="official")


def test_the_fast_engine_is_another_cached_simulation_within_a_few_percent(tone_case):
    cache = tone_case["cache"]
    misses = cache.misses
    fast, cfs, _ = encoding.frontend(tone_case["tone"], FS, "anf", cf=tone_case["cf"], cache=cache, engine="fast")
    assert cache.misses == misses + 1  # not the exact engine's record
    exact = tone_case["anf"][0]
    assert np.abs(fast - exact).max() <= 0.02 * np.abs(exact).max()
