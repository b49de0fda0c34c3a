"""The lab's labelled sound set and sound sets from WAV folders."""
import numpy as np
import pytest
from scipy.io import wavfile

from connear_helpers.analysis import corpus
from connear_helpers.analysis import stimuli
from connear_helpers.stages import SoundSetSpec, make_sound_set, sounds as sounds_module, wav_sound_set

FS = 20_000.0


@pytest.fixture(scope="module")
def quick_set():
    return make_sound_set(SoundSetSpec.quick(n_speech=1), fs=FS)


def test_categories_lengths_and_silence(quick_set):
    s = quick_set
    cats, counts = s.category_counts()
    assert cats == ["speech", "harmonic", "tone", "noise", "sam", "click"]
    assert counts == [1, 2, 4, 2, 2, 2] and len(s) == 13
    n_sound = int(round(0.03 * FS))
    assert s.signals.shape == (13, n_sound + int(round(0.01 * FS)))
    assert np.all(s.signals[:, n_sound:] == 0)


def test_every_sound_is_calibrated_to_its_level(quick_set):
    s = quick_set
    n_sound = int(round(s.duration_s * FS))
    rms = np.sqrt(np.mean(s.signals[:, :n_sound] ** 2, axis=1))
    np.testing.assert_allclose(rms, stimuli.db_spl_to_pa(s.levels_db_spl), rtol=1e-9)
    tones = [i for i, c in enumerate(s.categories) if c == "tone"]
    assert sorted(set(s.levels_db_spl[tones])) == [40.0, 80.0]


def test_tones_and_noises_have_their_frequencies(quick_set):
    s = quick_set
    n = int(round(s.duration_s * FS))
    f = np.fft.rfftfreq(n, 1 / FS)
    for i, name in enumerate(s.names):
        power = np.abs(np.fft.rfft(s.signals[i, :n])) ** 2
        if name.startswith("tone 4000 Hz"):
            assert abs(f[np.argmax(power)] - 4000.0) <= FS / n
        if name == "noise 1000-8000 Hz":
            band = (f >= 900) & (f <= 8100)
            assert power[band].sum() / power.sum() > 0.97  # ramps spread a little energy


def test_same_spec_same_sounds(quick_set):
    again = make_sound_set(SoundSetSpec.quick(n_speech=1), fs=FS)
    np.testing.assert_array_equal(again.signals, quick_set.signals)
    assert again.fingerprint() == quick_set.fingerprint()
    other = make_sound_set(SoundSetSpec.quick(n_speech=0, seed=1), fs=FS)
    noise = [i for i, c in enumerate(other.categories) if c == "noise"]
    assert not np.allclose(other.signals[noise], quick_set.signals[np.array(noise) + 1])


def test_speech_falls_back_to_the_shipped_sample_without_tts(monkeypatch):
    def no_engine(*args, **kwargs):
        raise corpus.NoTTSEngineError("none")

    monkeypatch.setattr(corpus, "tts_corpus", no_engine)
    s = make_sound_set(SoundSetSpec.quick(n_speech=2), fs=FS)
    assert s.categories[:2] == ("speech", "speech") and "shipped sample" in s.note
    assert np.all(np.std(s.signals[:2], axis=1) > 0)


def test_wav_folder_with_categories_and_join(tmp_path, quick_set):
    rng = np.random.default_rng(0)
    (tmp_path / "birds").mkdir()
    wavfile.write(tmp_path / "birds" / "a.wav", 16000, (rng.standard_normal(8000) * 3000).astype(np.int16))
    wavfile.write(tmp_path / "b.wav", 16000, (rng.standard_normal(200) * 3000).astype(np.int16))
    w = wav_sound_set(tmp_path, fs=FS, duration_s=0.03, pad_s=0.01, level_db_spl=60.0)
    assert sorted(w.categories) == ["birds", "wav"]
    n = int(0.03 * FS)
    np.testing.assert_allclose(np.sqrt(np.mean(w.signals[:, :n] ** 2, axis=1)), stimuli.db_spl_to_pa(60.0), rtol=1e-9)
    joined = quick_set + w
    assert len(joined) == len(quick_set) + 2 and joined.categories[-2:] == w.categories
    with pytest.raises(ValueError, match="same fs"):
        quick_set + wav_sound_set(tmp_path, fs=FS, duration_s=0.02, pad_s=0.01)


def test_subset_and_errors(quick_set):
    sub = quick_set.subset([0, 3])
    assert sub.names == (quick_set.names[0], quick_set.names[3])
    np.testing.assert_array_equal(sub.category_codes(), [0, 1])
    with pytest.raises(ValueError, match="too short"):
        make_sound_set(SoundSetSpec(duration_s=0.005), fs=FS)
    with pytest.raises(ValueError, match="needs 2 names"):
        sounds_module.SoundSet(np.zeros((2, 10)), FS, ["a"], ["x", "y"], [1, 2], 0.0005)
