"""Speech for the quickstart: the shipped sample sentence, WAV loading (spec §2.6), cochleagrams.

The repository ships one synthetic English sentence, ``connear_helpers/data/speech_sample.wav``
("The cold wind blew across the harbour.", espeak-ng, 20 kHz, 16-bit mono, about 2.2 s; how it
was made: ``connear_helpers/data/README.md`` and :func:`make_speech_sample`).

* :func:`load_speech_sample` / :func:`load_wav`: a WAV file as sound pressure in Pa at a chosen
  rate and level (integer samples divided by 2^15 + 1 or 2^31 + 1, ``resample_poly`` to the
  rate, RMS over the whole signal set to ``p0·10^(L/20)``, spec §2.6).
* :func:`quickstart`: the sample through :func:`connear_helpers.pipeline.simulate` (reference
  only, with a message, when CoNNear weights are missing).
* :func:`cochleagrams`: images of BM velocity, IHC potential and the three ANF rates over
  time and CF, reference and CoNNear side by side.
"""
from __future__ import annotations

import math
import pathlib
import shutil
import subprocess
import tempfile
from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from .constants import FS_CNN

__all__ = [
    "SAMPLE_PATH",
    "SAMPLE_TEXT",
    "read_wav",
    "load_wav",
    "load_speech_sample",
    "make_speech_sample",
    "quickstart",
    "cochleagrams",
]

#: The shipped sentence and how it was synthesised (see connear_helpers/data/README.md).
SAMPLE_PATH = pathlib.Path(__file__).resolve().parent / "data" / "speech_sample.wav"
SAMPLE_TEXT = "The cold wind blew across the harbour."
SAMPLE_FS = int(FS_CNN)
ESPEAK_OPTIONS = ("-v", "en-us", "-s", "160", "-p", "50")
#: Silence kept before the first and after the last voiced sample of the sample (s).
SAMPLE_PADDING_S = (0.05, 0.05)

P0 = 2e-5
#: ``quick=True`` sizes of :func:`quickstart`.
QUICK_DURATION_S = 0.3
QUICK_N_CF = 21


# ---------------------------------------------------------------------------
# WAV files
# ---------------------------------------------------------------------------

def read_wav(path):
    """Read a WAV file: returns (samples (n,) float64, about -1..1, fs in Hz); stereo is averaged.

    Integer samples are divided by 2^15 + 1 (16-bit) or 2^31 + 1 (32-bit) as in the
    original notebooks (spec §2.6); 8-bit unsigned by 128 after removing the offset;
    float files are used as they are.
    """
    from scipy.io import wavfile

    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"WAV file {str(path)!r} does not exist")
    fs, x = wavfile.read(path)
    if x.dtype == np.int16:
        y = x.astype(np.float64) / (2**15 + 1)
    elif x.dtype == np.int32:
        y = x.astype(np.float64) / (2**31 + 1)
    elif x.dtype == np.uint8:
        y = (x.astype(np.float64) - 128.0) / 128.0
    elif np.issubdtype(x.dtype, np.floating):
        y = x.astype(np.float64)
    else:
        raise ValueError(f"{path} has samples of type {x.dtype}; expected 8/16/32-bit PCM or float")
    if y.ndim == 2:
        y = y.mean(axis=1)
    return y, float(fs)


def _resample(x, fs_in, fs_out):
    if fs_in == fs_out:
        return x
    ratio = Fraction(float(fs_out) / float(fs_in)).limit_denominator(10_000)
    return resample_poly(x, ratio.numerator, ratio.denominator)


def load_wav(path, fs=FS_CNN, level_db_spl=70.0):
    """A WAV file as sound pressure: (n,) float64 in Pa at ``fs`` Hz, RMS = p0·10^(L/20) over the whole signal.

    level_db_spl: None keeps the file's full-scale values (no calibration).
    """
    if not (np.isscalar(fs) and np.isfinite(fs) and fs > 0):
        raise ValueError(f"fs must be a positive sampling rate in Hz, got {fs!r}")
    x, fs_file = read_wav(path)
    x = _resample(x, fs_file, float(fs))
    if level_db_spl is None:
        return x
    if not np.isfinite(level_db_spl):
        raise ValueError(f"level_db_spl must be a finite level in dB SPL, got {level_db_spl!r}")
    r = math.sqrt(float(np.mean(x**2)))
    if r == 0:
        raise ValueError(f"{path} is silent (all samples 0); it cannot be calibrated to a level")
    return P0 * 10.0 ** (level_db_spl / 20.0) * x / r


def load_speech_sample(fs=FS_CNN, level_db_spl=70.0):
    """The shipped sentence as sound pressure: (n,) float64 in Pa at ``fs`` Hz (20 or 100 kHz
    for the models), calibrated to ``level_db_spl`` dB SPL RMS over the whole signal (~2.2 s)."""
    if not SAMPLE_PATH.is_file():
        raise FileNotFoundError(
            f"the speech sample {SAMPLE_PATH} is missing from the installation; restore it from git or "
            "re-create it with `python -m connear_helpers.speech make-sample` (needs espeak-ng)")
    return load_wav(SAMPLE_PATH, fs=fs, level_db_spl=level_db_spl)


def make_speech_sample(path=SAMPLE_PATH, text=SAMPLE_TEXT, espeak_options=ESPEAK_OPTIONS):
    """Synthesise ``text`` with espeak-ng into a 20-kHz 16-bit mono WAV (how the shipped sample was made).

    espeak-ng speaks at 22050 Hz; the voiced part (|x| > 1 % of full scale) is kept with 50 ms of
    silence either side, resampled to 20 kHz with ``resample_poly(x, 400, 441)`` and scaled to a
    peak of 0.9 full scale. Returns the path. Needs ``espeak-ng`` (``apt-get install espeak-ng``).
    """
    from scipy.io import wavfile

    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed; install it with `apt-get install espeak-ng`")
    with tempfile.TemporaryDirectory(prefix="connear-speech-") as tmp:
        raw = pathlib.Path(tmp) / "raw.wav"
        subprocess.run([exe, *espeak_options, "-w", str(raw), text], check=True, capture_output=True)
        x, fs_in = read_wav(raw)
    voiced = np.nonzero(np.abs(x) > 0.01)[0]
    if voiced.size == 0:
        raise RuntimeError("espeak-ng produced silence")
    pad = [int(p * fs_in) for p in SAMPLE_PADDING_S]
    x = x[max(voiced[0] - pad[0], 0):voiced[-1] + pad[1]]
    y = _resample(x, fs_in, SAMPLE_FS)
    y = 0.9 * y / np.abs(y).max()
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wavfile.write(path, SAMPLE_FS, np.round(y * 32767).astype(np.int16))
    return path


# ---------------------------------------------------------------------------
# quickstart
# ---------------------------------------------------------------------------

def _cnn_names(mode):
    return (("cochlea",) if mode == "light" else ()) + ("ihc", "anfh", "anfm", "anfl")


def quickstart(mode="full", weights="connear-lab", level_db_spl=70.0, duration_s=None, n_cf=201,
               quick=False, progress=True, engine=None):
    """The speech sample through both pipelines (:func:`connear_helpers.pipeline.simulate`).

    mode: "full" (TL cochlea) or "light" (CoNNear cochlea). weights: CoNNear weights (see
    pipeline.simulate). level_db_spl: presentation level. duration_s: first seconds of the
    sentence (None: all, ~2.2 s). n_cf: number of CFs, evenly spaced over the 201 CoNNear CFs.
    quick: 0.3 s and 21 CFs. When the CoNNear weights are missing, a message says how to get
    them and only the reference model runs (light mode then falls back to full mode).
    engine: verhulst2018 engine, "fast" or "exact" (None: pipeline.ENGINE_FOR_PANELS, "fast").
    Returns a :class:`connear_helpers.pipeline.PeripheryResult` at 20 kHz; the sound it used
    is attached as ``result.signal`` ((n,) Pa at 20 kHz).
    """
    from . import cf as _cf
    from . import pipeline
    from .cnn.weights import how_to_get, missing_weights

    engine = pipeline.check_engine(pipeline.ENGINE_FOR_PANELS if engine is None else engine)
    if quick:
        duration_s = QUICK_DURATION_S if duration_s is None else min(duration_s, QUICK_DURATION_S)
        n_cf = min(n_cf, QUICK_N_CF)
    if isinstance(n_cf, bool) or int(n_cf) != n_cf or not 1 <= n_cf <= _cf.N_CF:
        raise ValueError(f"n_cf must be an integer from 1 to {_cf.N_CF}, got {n_cf!r}")
    x = load_speech_sample(fs=FS_CNN, level_db_spl=level_db_spl)
    if duration_s is not None:
        x = x[:max(16, int(duration_s * FS_CNN))]
    cfs = _cf.connear_cfs()
    cf = None if n_cf == _cf.N_CF else cfs[np.unique(np.round(np.linspace(0, _cf.N_CF - 1, int(n_cf))).astype(int))]
    problem = missing_weights(weights, _cnn_names(mode))
    if problem is not None:
        how = "" if "download" in problem else f"\n{how_to_get()}"
        print(f"CoNNear weights are not available: {problem}{how}\n"
              "Showing the reference model (verhulst2018) only"
              + (" in full mode (light mode needs the CoNNear cochlea)." if mode == "light" else "."))
        weights, mode = None, "full"
    result = pipeline.simulate(x, FS_CNN, mode=mode, cf=cf, weights=weights, engine=engine,
                               progress=progress)
    result.signal = x  # the sound, for cochleagrams(); not a dataclass field
    return result


# ---------------------------------------------------------------------------
# cochleagrams
# ---------------------------------------------------------------------------

def _frames(x, hop, fn):
    """Reduce (T, C) to (T // hop, C) frames with fn over axis 1 of (frames, hop, C)."""
    n = (x.shape[0] // hop) * hop
    if n == 0:
        return fn(x[None], axis=1)
    return fn(x[:n].reshape(n // hop, hop, x.shape[1]), axis=1)


def _rms(a, axis):
    return np.sqrt(np.mean(a**2, axis=axis))


_ROWS = (
    ("bm", "BM velocity", "dB re 1 µm/s"),
    ("ihc", "IHC potential", "mV"),
    ("anfh", "ANF HSR", "spikes/s"),
    ("anfm", "ANF MSR", "spikes/s"),
    ("anfl", "ANF LSR", "spikes/s"),
)


def _image_data(result, key, hop):
    """(reference image, CoNNear image), each (n_frames, C) or None, in the row's unit."""
    if key == "bm":
        if result.bm is None:
            return None, None
        img = 20 * np.log10(np.maximum(_frames(result.bm, hop, _rms), 1e-30) / 1e-6)
        return (img, None) if result.mode == "full" else (None, img)
    if key == "ihc":
        ref, cnn = result.ihc_ref, result.ihc_cnn
        f = lambda a: None if a is None else 1e3 * _frames(a, hop, np.mean)  # noqa: E731
        return f(ref), f(cnn)
    ref, cnn = getattr(result, f"{key}_ref"), getattr(result, f"{key}_cnn")
    f = lambda a: None if a is None else _frames(a, hop, np.mean)  # noqa: E731
    return f(ref), f(cnn)


def cochleagrams(result, hop_s=1e-3, signal=None):
    """Cochleagram-style images of a periphery result: BM, IHC and ANF H/M/L (rows) for the
    reference model and CoNNear (columns), time on x, CF on y. Returns the figure.

    result: :class:`connear_helpers.pipeline.PeripheryResult`.
    hop_s: frame length (s): BM shows the RMS velocity per frame in dB re 1 µm/s (60 dB
        range below the largest), IHC the mean potential (mV), ANF the mean rate of one
        fibre (spikes/s).
    signal: (n,) sound pressure at 20 kHz drawn above the images; default ``result.signal``
        when the result comes from :func:`quickstart`, else no waveform.
    In full mode the BM row is the TL cochlea (reference column); in light mode it is the
    CoNNear cochlea (CoNNear column). Missing stages (no weights) say so in their panel.
    """
    import matplotlib.pyplot as plt

    fs = float(result.fs)
    if signal is None:
        signal = getattr(result, "signal", None)
    hop = max(1, int(round(hop_s * fs)))
    order = np.argsort(result.cf)  # low CF at the bottom
    cfs = np.asarray(result.cf)[order]
    n_t = next((getattr(result, k).shape[0] for k in ("bm", "ihc_ref", "ihc_cnn", "anfh_ref", "anfh_cnn")
                if getattr(result, k) is not None), 0)
    dur_ms = 1e3 * n_t / fs
    extra = 1 if signal is not None else 0
    fig, axes = plt.subplots(len(_ROWS) + extra, 2, figsize=(11, 2.0 * (len(_ROWS) + extra) + 0.6),
                             sharex=True, squeeze=False,
                             gridspec_kw={"height_ratios": [0.6] * extra + [1] * len(_ROWS)})
    if signal is not None:
        t = 1e3 * np.arange(len(signal)) / fs
        for ax in axes[0]:
            ax.plot(t, np.asarray(signal) * 1e3, lw=0.4, color="0.3")
            ax.set_ylabel("pressure\n[mPa]")
    ticks = [f for f in (125, 250, 500, 1000, 2000, 4000, 8000) if cfs.min() * 0.95 <= f <= cfs.max() * 1.05]
    for r, (key, label, unit) in enumerate(_ROWS):
        row = axes[r + extra]
        ref, cnn = _image_data(result, key, hop)
        shown = [a for a in (ref, cnn) if a is not None]
        if key == "bm" and shown:
            top = max(float(a.max()) for a in shown)
            vmin, vmax = top - 60.0, top
        elif shown:
            base = ref if ref is not None else shown[0]
            vmin, vmax = float(np.percentile(base, 1)), float(np.percentile(base, 99.5))
            if key != "ihc":
                vmin = 0.0
            if vmax <= vmin:
                vmax = vmin + 1.0
        for c, (img, who) in enumerate(((ref, "reference (verhulst2018)"), (cnn, "CoNNear"))):
            ax = row[c]
            if img is None:
                ax.set_facecolor("0.95")
                ax.text(0.5, 0.5, _missing_text(result, key, c), ha="center", va="center",
                        transform=ax.transAxes, fontsize=8, color="0.35", wrap=True)
                ax.set_yticks([])
                continue
            im = ax.imshow(img[:, order].T, origin="lower", aspect="auto", interpolation="nearest",
                           extent=(0, dur_ms, -0.5, len(cfs) - 0.5), vmin=vmin, vmax=vmax,
                           cmap="magma" if key != "ihc" else "viridis")
            idx = [int(np.argmin(np.abs(np.log(cfs) - np.log(f)))) for f in ticks]
            ax.set_yticks(idx, [f"{f / 1000:g}" for f in ticks])
            ax.set_ylabel(f"{label}\nCF [kHz]", fontsize=8)
            fig.colorbar(im, ax=ax, pad=0.01, fraction=0.04).set_label(unit, fontsize=7)
        if r == 0:
            for c, who in enumerate(("reference (verhulst2018)", "CoNNear")):
                row[c].set_title(who, fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("time [ms]")
    for ax in axes.ravel():
        ax.set_xlim(0, dur_ms)
    fig.suptitle(f"{result.mode} mode: {'TL' if result.mode == 'full' else 'CoNNear'} cochlea, "
                 f"{len(cfs)} CFs, {dur_ms:.0f} ms", fontsize=10)
    fig.tight_layout()
    return fig


def _missing_text(result, key, column):
    if key == "bm":
        return ("light mode: no TL model run" if column == 0 else
                "full mode: the TL cochlea drives\nthe CoNNear IHC (no CNN cochlea)")
    if column == 1 and result.weights is None:
        return "CoNNear: no weights\n(python -m connear_helpers.cnn.weights download official)"
    return "not simulated"


def _main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(prog="python -m connear_helpers.speech")
    sub = parser.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("make-sample", help="re-create the shipped speech sample with espeak-ng")
    mk.add_argument("--out", default=str(SAMPLE_PATH))
    args = parser.parse_args(argv)
    print(make_speech_sample(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
