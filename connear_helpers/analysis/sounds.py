"""Sound files and the shipped speech sample (spec §2.6).

The repository ships one synthetic English sentence, ``connear_helpers/data/speech_sample.wav``
("The cold wind blew across the harbour.", espeak-ng, 20 kHz, 16-bit mono, about 2.2 s; how it
was made: ``connear_helpers/data/README.md`` and :func:`make_speech_sample`, or
``python -m connear_helpers.analysis.sounds make-sample``).

* :func:`read_wav`: samples and rate of a WAV file (integers divided by 2^15 + 1 or 2^31 + 1);
* :func:`load_wav` / :func:`load_speech_sample`: a WAV file as sound pressure in Pa at a chosen
  rate and level (``resample_poly`` to the rate, RMS over the whole signal set to ``p0·10^(L/20)``).
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

from ..constants import FS_CNN
from .stimuli import P0

__all__ = ["SAMPLE_PATH", "SAMPLE_TEXT", "read_wav", "load_wav", "load_speech_sample", "make_speech_sample"]

#: The shipped sentence and how it was synthesised (see connear_helpers/data/README.md).
SAMPLE_PATH = pathlib.Path(__file__).resolve().parents[1] / "data" / "speech_sample.wav"
SAMPLE_TEXT = "The cold wind blew across the harbour."
SAMPLE_FS = int(FS_CNN)
ESPEAK_OPTIONS = ("-v", "en-us", "-s", "160", "-p", "50")
#: Silence kept before the first and after the last voiced sample of the sample (s).
SAMPLE_PADDING_S = (0.05, 0.05)



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
            "re-create it with `python -m connear_helpers.analysis.sounds make-sample` (needs espeak-ng)")
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


def _main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(prog="python -m connear_helpers.analysis.sounds")
    sub = parser.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("make-sample", help="re-create the shipped speech sample with espeak-ng")
    mk.add_argument("--out", default=str(SAMPLE_PATH))
    args = parser.parse_args(argv)
    print(make_speech_sample(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
