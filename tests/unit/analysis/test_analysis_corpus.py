"""Speech corpus: offline text-to-speech (espeak-ng, flite) and the WAV-folder loader."""
import shutil

import numpy as np
import pytest
from scipy.io import wavfile

from connear_helpers.analysis import corpus

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="the espeak-ng binary is not installed (apt-get install espeak-ng)",
)


def test_sentence_list_is_large_unique_and_clean():
    s = corpus.load_sentences()
    assert len(s) >= 200
    assert len(set(s)) == len(s)
    assert all(len(x.split()) >= 4 and not x.startswith("#") for x in s)


@needs_espeak
def test_tts_plan_is_deterministic_prefix_stable_and_varied():
    a = corpus.tts_plan(30, seed=4)
    b = corpus.tts_plan(60, seed=4)
    assert a == b[:30]
    assert corpus.tts_plan(30, seed=5) != a
    assert len({u.voice for u in a}) > 5
    assert len({u.rate for u in a}) > 5 and len({u.pitch for u in a}) > 5
    assert len({u.sentence_id for u in a}) == 30
    # beyond the sentence list the texts repeat (same sentence_id) with other voices
    n = len(corpus.load_sentences())
    big = corpus.tts_plan(n + 3, seed=4)
    assert big[n].sentence_id == big[0].sentence_id and big[n].text == big[0].text


@needs_espeak
def test_espeak_produces_non_silent_speech_at_the_requested_rate():
    u = corpus.tts_plan(1, seed=0)[0]
    x, fs = corpus.synthesize(u)
    assert fs == 22050.0
    assert 0.5 < x.size / fs < 10.0                      # a sentence lasts seconds
    assert np.sqrt(np.mean(x**2)) > 0.01 and np.abs(x).max() <= 1.0
    y, fs2 = corpus.synthesize(u, fs=16000)
    assert fs2 == 16000.0
    assert abs(y.size - x.size * 16000 / 22050) <= 1
    x2, _ = corpus.synthesize(u)
    np.testing.assert_array_equal(x, x2)                  # deterministic
    recs = corpus.tts_corpus(2, fs=20000, seed=1)
    assert [r.fs for r in recs] == [20000.0, 20000.0]
    assert all(np.abs(r.signal).max() > 0.05 for r in recs)


@pytest.mark.skipif(shutil.which("flite") is None, reason="flite not installed (optional engine)")
def test_flite_voices_work():
    plan = corpus.tts_plan(6, seed=2, engines="flite")
    assert {u.engine for u in plan} == {"flite"}
    x, fs = corpus.synthesize(plan[0])
    assert fs == 16000.0 and np.abs(x).max() > 0.05


def test_missing_engine_gives_clear_error(monkeypatch):
    monkeypatch.setattr(corpus.shutil, "which", lambda name: None)
    with pytest.raises(corpus.NoTTSEngineError) as e:
        corpus.tts_plan(3)
    msg = str(e.value)
    assert "apt-get install espeak-ng" in msg and "WAV" in msg
    with pytest.raises(corpus.NoTTSEngineError):
        corpus.synthesize(corpus.Utterance("x", "s0", "espeak-ng", "hello there", "en-us", 150, 50))


def _sphere(path, x, fs):
    body = x.astype("<i2").tobytes()
    head = (f"NIST_1A\n   1024\nsample_rate -i {fs}\nsample_n_bytes -i 2\nchannel_count -i 1\n"
            f"sample_byte_format -s2 01\nsample_coding -s3 pcm\nsample_count -i {x.size}\nend_head\n")
    path.write_bytes(head.encode().ljust(1024, b" ") + body)


def test_load_wav_folder_reads_riff_and_sphere(tmp_path):
    fs = 16000
    t = np.arange(1600) / fs
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    (tmp_path / "DR1" / "FAKS0").mkdir(parents=True)
    (tmp_path / "DR2" / "MREB0").mkdir(parents=True)
    _sphere(tmp_path / "DR1" / "FAKS0" / "SA1.WAV", np.round(tone * 32767).astype(np.int16), fs)
    wavfile.write(tmp_path / "DR2" / "MREB0" / "SA1.wav", fs, np.round(tone * 32767).astype(np.int16))
    wavfile.write(tmp_path / "DR2" / "MREB0" / "sx9.wav", 8000,
                  np.stack([tone[::2], tone[::2]], axis=1).astype(np.float32))  # stereo float
    (tmp_path / "notes.txt").write_text("not audio")
    recs = corpus.load_wav_folder(tmp_path)
    assert [r.utterance.utterance_id for r in recs] == ["DR1/FAKS0/SA1", "DR2/MREB0/SA1", "DR2/MREB0/sx9"]
    # recordings of one TIMIT text share the sentence id (the split key)
    assert [r.utterance.sentence_id for r in recs] == ["sa1", "sa1", "sx9"]
    for r in recs[:2]:
        assert r.fs == fs
        np.testing.assert_allclose(r.signal, tone, atol=2e-4)
    assert recs[2].fs == 8000 and recs[2].signal.ndim == 1
    same = corpus.load_wav_folder(tmp_path, fs=20000)
    assert all(r.fs == 20000 for r in same)
    assert same[2].signal.size == 2000 and same[0].signal.size == 2000
    sub = corpus.load_wav_folder(tmp_path, n_sentences=2, seed=3)
    assert len(sub) == 2
    assert [r.utterance.utterance_id for r in sub] == [
        r.utterance.utterance_id for r in corpus.load_wav_folder(tmp_path, n_sentences=2, seed=3)]


def test_wav_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        corpus.load_wav_folder(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no .wav files"):
        corpus.load_wav_folder(tmp_path)
    wavfile.write(tmp_path / "a.wav", 16000, np.ones(100, dtype=np.int16))
    with pytest.raises(ValueError, match="at most 1"):
        corpus.load_wav_folder(tmp_path, n_sentences=5)


@needs_espeak
def test_write_tts_corpus_round_trip(tmp_path):
    paths = corpus.write_tts_corpus(tmp_path, 2, fs=16000, seed=7, progress=False)
    assert len(paths) == 2 and (tmp_path / "corpus.csv").is_file()
    recs = corpus.load_wav_folder(tmp_path)
    assert [r.fs for r in recs] == [16000.0, 16000.0]
    assert all(np.abs(r.signal).max() > 0.5 for r in recs)
    plan = corpus.tts_plan(2, seed=7)
    # corpus.csv keeps the sentence ids of the texts (the split key), not the file names
    assert [r.utterance.sentence_id for r in recs] == [u.sentence_id for u in plan]
