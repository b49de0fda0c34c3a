"""connear_helpers.lab.speech: the shipped sentence, WAV loading and calibration, quickstart, cochleagrams."""
import shutil
import subprocess

import numpy as np
import pytest

from connear_helpers.analysis import sounds
from connear_helpers.lab import speech

P0 = 2e-5


def level_db(x):
    return 20 * np.log10(np.sqrt(np.mean(np.asarray(x) ** 2)) / P0)


def test_shipped_sample_is_small_20khz_16bit_mono_speech():
    from scipy.io import wavfile

    path = sounds.SAMPLE_PATH
    assert path.is_file()
    assert path.stat().st_size < 200_000
    fs, x = wavfile.read(path)
    assert fs == 20_000 and x.dtype == np.int16 and x.ndim == 1
    assert 1.5 < x.size / fs < 3.0
    # speech: not clipped, and energy both early and late (a sentence, not a click)
    assert np.abs(x).max() < 32767
    frames = np.sqrt(np.mean(x[: x.size // 2000 * 2000].astype(float).reshape(-1, 2000) ** 2, axis=1))
    assert (frames > 0.05 * frames.max()).sum() >= 0.5 * frames.size


@pytest.mark.parametrize("fs", [20_000.0, 100_000.0])
@pytest.mark.parametrize("level", [40.0, 70.0])
def test_load_speech_sample_rate_and_level(fs, level):
    x = sounds.load_speech_sample(fs=fs, level_db_spl=level)
    n20 = sounds.read_wav(sounds.SAMPLE_PATH)[0].size
    assert x.size == round(n20 * fs / 20_000)
    assert level_db(x) == pytest.approx(level, abs=1e-9)


def test_resampling_keeps_the_spectrum():
    x20 = sounds.load_speech_sample(20_000.0, 70.0)
    x100 = sounds.load_speech_sample(100_000.0, 70.0)
    # same signal: the 100-kHz version decimated back matches the 20-kHz one closely
    from scipy.signal import resample_poly

    back = resample_poly(x100, 1, 5)[: x20.size]
    assert np.sqrt(np.mean((back - x20) ** 2)) < 0.01 * np.sqrt(np.mean(x20**2))


def test_read_wav_scales_like_the_original_notebooks(tmp_path):
    from scipy.io import wavfile

    ints = np.array([0, 16384, -32768, 32767], dtype=np.int16)
    wavfile.write(tmp_path / "a.wav", 16_000, ints)
    x, fs = sounds.read_wav(tmp_path / "a.wav")
    assert fs == 16_000.0
    np.testing.assert_allclose(x, ints / (2**15 + 1))
    stereo = np.stack([ints, np.zeros_like(ints)], axis=1)
    wavfile.write(tmp_path / "b.wav", 16_000, stereo)
    np.testing.assert_allclose(sounds.read_wav(tmp_path / "b.wav")[0], ints / (2**15 + 1) / 2)
    wavfile.write(tmp_path / "c.wav", 8_000, np.array([0.5, -0.25], dtype=np.float32))
    np.testing.assert_allclose(sounds.read_wav(tmp_path / "c.wav")[0], [0.5, -0.25])


def test_load_wav_resamples_any_rate_and_calibrates(tmp_path):
    from scipy.io import wavfile

    fs_in = 16_000
    t = np.arange(fs_in // 2) / fs_in
    wavfile.write(tmp_path / "tone.wav", fs_in, (0.3 * np.sin(2 * np.pi * 500 * t) * 32767).astype(np.int16))
    x = sounds.load_wav(tmp_path / "tone.wav", fs=20_000.0, level_db_spl=60.0)
    assert x.size == 10_000
    assert level_db(x) == pytest.approx(60.0, abs=1e-9)
    raw = sounds.load_wav(tmp_path / "tone.wav", fs=16_000.0, level_db_spl=None)
    assert np.abs(raw).max() == pytest.approx(0.3, rel=1e-3)


def test_load_wav_errors(tmp_path):
    from scipy.io import wavfile

    with pytest.raises(FileNotFoundError, match="does not exist"):
        sounds.load_wav(tmp_path / "nope.wav")
    wavfile.write(tmp_path / "silent.wav", 20_000, np.zeros(100, dtype=np.int16))
    with pytest.raises(ValueError, match="silent"):
        sounds.load_wav(tmp_path / "silent.wav", level_db_spl=70.0)
    with pytest.raises(ValueError, match="fs"):
        sounds.load_wav(sounds.SAMPLE_PATH, fs=-1.0)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_make_speech_sample_recreates_the_shipped_file(tmp_path):
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout
    out = sounds.make_speech_sample(tmp_path / "s.wav")
    a, fs_a = sounds.read_wav(out)
    b, fs_b = sounds.read_wav(sounds.SAMPLE_PATH)
    assert fs_a == fs_b == 20_000.0
    if "1.51" not in version:
        pytest.skip(f"the shipped file was made with espeak-ng 1.51; this is {version.strip()}")
    assert out.read_bytes() == sounds.SAMPLE_PATH.read_bytes()


# ---------------------------------------------------------------------------
# cochleagrams (synthetic results: no simulation needed)
# ---------------------------------------------------------------------------

def fake_result(mode="full", with_cnn=True, n_cf=5, n_t=400):
    from connear_helpers.analysis import cf as connear_cf
    from connear_helpers.pipeline import PeripheryResult

    rng = np.random.default_rng(0)
    cfs = connear_cf.connear_cfs()[np.linspace(0, 200, n_cf).astype(int)]
    kw = dict(cf=cfs, fs=20_000.0, mode=mode, weights="x" if with_cnn else None,
              bm=1e-4 * rng.standard_normal((n_t, n_cf)),
              ihc_ref=-0.057 + 1e-3 * rng.random((n_t, n_cf)))
    for f in ("anfh", "anfm", "anfl"):
        kw[f"{f}_ref"] = 100 * rng.random((n_t, n_cf))
    if with_cnn:
        kw["ihc_cnn"] = kw["ihc_ref"] + 1e-4
        for f in ("anfh", "anfm", "anfl"):
            kw[f"{f}_cnn"] = kw[f"{f}_ref"] * 0.9
    return PeripheryResult(**kw)


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.mark.parametrize("mode", ["full", "light"])
def test_cochleagrams_draws_every_stage_for_both_models(mode):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = fake_result(mode)
    fig = speech.cochleagrams(res, signal=np.zeros(400))
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 9  # BM once (TL or CNN cochlea), IHC and 3 ANF types twice
    texts = " ".join(_texts(fig))
    assert ("no TL model" in texts) == (mode == "light")
    assert ("TL cochlea drives" in texts) == (mode == "full")
    # CF axis: low CFs at the bottom (the image rows follow ascending CF)
    ax = images[-1]
    img = ax.images[0].get_array()
    np.testing.assert_allclose(img[0], res.anfl_cnn[:, np.argmin(res.cf)].reshape(-1, 20).mean(axis=1))
    plt.close(fig)


def test_cochleagrams_says_when_the_cnn_is_missing():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = speech.cochleagrams(fake_result(with_cnn=False, n_cf=1))
    assert sum("no weights" in t for t in _texts(fig)) == 4
    assert len([ax for ax in fig.axes if ax.images]) == 5
    plt.close(fig)


# ---------------------------------------------------------------------------
# quickstart (short, few CFs)
# ---------------------------------------------------------------------------

@pytest.fixture()
def no_lab_weights(tmp_path, monkeypatch):
    from connear_helpers.cnn import weights

    monkeypatch.setattr(weights, "connear_lab_dir", lambda: tmp_path)
    monkeypatch.setattr("connear_helpers.cnn.weights._LOADED", {})


def test_quickstart_without_weights_runs_the_reference_only(no_lab_weights, capsys):
    res = speech.quickstart(mode="light", weights="connear-lab", duration_s=0.02, n_cf=3, progress=False)
    out = capsys.readouterr().out
    assert "not available" in out and "download official" in out and "full mode" in out
    assert res.mode == "full" and res.weights is None
    assert res.ihc_cnn is None and res.anfh_cnn is None
    assert res.bm.shape == (400, 3) and res.anfl_ref.shape == (400, 3)
    assert res.signal.shape == (400,)
    # the sample starts with 50 ms of near-silence: the HSR rate is near its spontaneous rate
    assert 30 < res.anfh_ref[200:].mean() < 120


def test_quickstart_with_random_models_and_quick_sizes():
    keras = pytest.importorskip("keras")
    from connear_helpers.cnn import architectures as models

    keras.utils.set_random_seed(2)
    m = {n: models.build_model(n, n_cf=1) for n in ("ihc", "anfh", "anfm", "anfl")}
    res = speech.quickstart(weights=m, duration_s=0.01, n_cf=2, quick=True, progress=False)
    assert res.cf.size == 2 and res.bm.shape == (200, 2)
    assert res.ihc_cnn.shape == (200, 2) and res.anfl_cnn.shape == (200, 2)
    with pytest.raises(ValueError, match="n_cf"):
        speech.quickstart(weights=None, n_cf=0)
