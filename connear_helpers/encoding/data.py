"""Stimulus sets for encoding experiments, and a reader for the user's own recordings.

Stimuli (:func:`stimulus_set`): the package's speech sample, sentences of the espeak-ng TTS corpus
(:func:`connear_helpers.analysis.corpus.tts_corpus`), random tone-pip sequences and amplitude-modulated
noise, all cut into segments of one duration (5-ms ramps at the cuts) at a chosen level.

Recordings file format (:func:`load_responses`, written by :func:`save_responses`): an ``.npz``
file, or an HDF5 file (``.h5``/``.hdf5``) with these datasets at its root:

=====================  =====================================================  ===================
name                   shape, type                                            unit
=====================  =====================================================  ===================
``stimuli``            (n_stimuli, n_samples) float                           Pa (sound pressure)
``fs``                 scalar float                                           Hz (of ``stimuli``)
``bin_s``              scalar float                                           s (response bins)
``spike_counts``       (n_stimuli, n_repeats, n_bins, n_neurons) integers     spikes per bin
  *or* ``psth``        (n_stimuli, n_repeats, n_bins, n_neurons) or           spikes/s
                       (n_stimuli, n_bins, n_neurons) float (one repeat)
``neuron_ids``         optional (n_neurons,) str                              -
``stimulus_names``     optional (n_stimuli,) str                              -
=====================  =====================================================  ===================

Response bin t covers [t·bin_s, (t+1)·bin_s) from the stimulus onset, and n_bins must equal
floor(n_samples / fs / bin_s): pad the stimuli with silence to cover a response that outlasts
them, and pad shorter stimuli with zeros to one length.
"""
from __future__ import annotations

import pathlib

import numpy as np

from ..constants import FS_CNN
from .targets import Responses

__all__ = ["StimulusSet", "stimulus_set", "load_responses", "save_responses", "FORMAT_KEYS"]

FS_DEFAULT = FS_CNN
FORMAT_KEYS = ("stimuli", "fs", "bin_s", "spike_counts", "psth", "neuron_ids", "stimulus_names")
RAMP_S = 5e-3


class StimulusSet:
    """Equally long sounds: signals (n_stimuli, n_samples) Pa at fs (Hz), with names and kinds."""

    def __init__(self, signals, fs, names, kinds, notes=()):
        self.signals = np.asarray(signals, dtype=np.float64)
        self.fs = float(fs)
        self.names = tuple(names)
        self.kinds = tuple(kinds)
        self.notes = tuple(notes)

    @property
    def duration_s(self):
        return self.signals.shape[1] / self.fs

    def __len__(self):
        return self.signals.shape[0]

    def __repr__(self):
        counts = {k: self.kinds.count(k) for k in dict.fromkeys(self.kinds)}
        parts = ", ".join(f"{v} {k}" for k, v in counts.items())
        return f"StimulusSet({len(self)} segments of {self.duration_s:.2f} s at {self.fs:.0f} Hz: {parts})"


def _segments(x, n, fs):
    """Cut x into whole segments of n samples with ramps; a final part shorter than n is dropped."""
    from ..analysis import stimuli

    return [stimuli.apply_ramps(x[i * n:(i + 1) * n], fs, RAMP_S) for i in range(x.size // n)]


def _tone_pips(n, fs, level_db_spl, freq_range_hz, rng, pips_per_s=30.0):
    """Random tone-pip sequence: pips of 20-80 ms at log-uniform frequencies and levels level-20..level+10."""
    from ..analysis import stimuli

    x = np.zeros(n)
    n_pips = max(1, int(round(pips_per_s * n / fs)))
    for _ in range(n_pips):
        dur = rng.uniform(0.02, 0.08)
        f = float(np.exp(rng.uniform(*np.log(freq_range_hz))))
        pip = stimuli.pure_tone(f, rng.uniform(level_db_spl - 20, level_db_spl + 10), dur, fs, ramp_s=5e-3,
                                phase=rng.uniform(0, 2 * np.pi))
        start = int(rng.integers(0, max(1, n - pip.size)))
        x[start:start + pip.size] += pip[: n - start]
    return stimuli.calibrate_rms(stimuli.apply_ramps(x, fs, RAMP_S), level_db_spl)


def _modulated_noise(n, fs, level_db_spl, rng, depth_db=15.0, corr_s=0.05):
    """Gaussian noise with a random level contour (smoothed, +-depth_db/2 about the mean)."""
    from scipy.ndimage import gaussian_filter1d

    from ..analysis import stimuli

    contour = gaussian_filter1d(rng.standard_normal(n), corr_s * fs)
    contour = depth_db / 2 * contour / max(np.max(np.abs(contour)), 1e-12)
    x = rng.standard_normal(n) * 10 ** (contour / 20)
    return stimuli.calibrate_rms(stimuli.apply_ramps(x, fs, RAMP_S), level_db_spl)


def stimulus_set(segment_s=1.0, n_sentences=4, n_tone_segments=2, n_noise_segments=2, speech_sample=True,
                 level_db_spl=65.0, freq_range_hz=(200.0, 8000.0), max_segments_per_sound=None, fs=FS_DEFAULT,
                 seed=0, progress=False):
    """A set of equally long sound segments for fitting encoding models.

    segment_s: segment duration (s). n_sentences: TTS sentences (espeak-ng; skipped with a note
    if no engine is installed), each cut into whole segments. n_tone_segments: segments of random
    tone pips (frequencies in freq_range_hz). n_noise_segments: segments of noise with a random
    level contour. speech_sample: include the package's speech sample (cut into segments).
    level_db_spl: RMS level of each sentence, the sample, and each tone/noise segment (dB SPL).
    max_segments_per_sound: keep at most this many segments of each sentence (None: all).
    fs: sample rate (Hz). seed: the TTS voices and the random tones and noise.
    Returns a :class:`StimulusSet` (speech, then TTS, tones, noise).
    """
    from ..analysis import corpus
    from ..analysis.sounds import load_speech_sample
    from ..analysis import stimuli

    n = int(round(segment_s * fs))
    if n < int(round(4 * RAMP_S * fs)):
        raise ValueError(f"segment_s = {segment_s} s is too short; give at least {4 * RAMP_S} s")
    signals, names, kinds, notes = [], [], [], []

    def add(parts, name, kind):
        parts = parts if max_segments_per_sound is None else parts[: int(max_segments_per_sound)]
        for j, p in enumerate(parts):
            signals.append(p)
            names.append(f"{name} [{j}]" if len(parts) > 1 else name)
            kinds.append(kind)

    if speech_sample:
        add(_segments(load_speech_sample(fs, level_db_spl), n, fs), "speech sample", "speech")
    if n_sentences:
        try:
            recs = corpus.tts_corpus(int(n_sentences), fs=fs, seed=seed, progress=progress)
        except corpus.NoTTSEngineError as exc:
            notes.append(f"TTS sentences skipped: {exc}")
            recs = []
        for rec in recs:
            x = stimuli.calibrate_rms(rec.signal, level_db_spl)
            add(_segments(x, n, fs), f"TTS {rec.utterance.utterance_id}", "tts")
    rng = np.random.default_rng(seed)
    for i in range(int(n_tone_segments)):
        add([_tone_pips(n, fs, level_db_spl, freq_range_hz, rng)], f"tone pips {i}", "tones")
    for i in range(int(n_noise_segments)):
        add([_modulated_noise(n, fs, level_db_spl, rng)], f"modulated noise {i}", "noise")
    if not signals:
        raise ValueError("the stimulus set is empty: ask for some sentences, tone or noise segments, or make "
                         "segment_s shorter than the speech sample (about 2.2 s)")
    return StimulusSet(np.stack(signals), fs, names, kinds, notes)


# ---------------------------------------------------------------------------------------------
# recordings


class RecordingsFormatError(ValueError):
    """A recordings file that does not follow the documented format."""


def _fail(path, what):
    raise RecordingsFormatError(f"{path}: {what}. The format is described in connear_helpers.encoding.data "
                                "(datasets stimuli, fs, bin_s and spike_counts or psth); save_responses() "
                                "writes it")


def _read(path):
    suffix = path.suffix.lower()
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as f:
                return {k: f[k] for k in f.files}
        except (OSError, ValueError) as exc:
            _fail(path, f"cannot be read as an NPZ file ({exc})")
    if suffix in (".h5", ".hdf5"):
        import h5py

        try:
            with h5py.File(path, "r") as f:
                out = {}
                for k in f.keys():
                    if isinstance(f[k], h5py.Dataset):
                        out[k] = f[k][()]
                return out
        except OSError as exc:
            _fail(path, f"cannot be read as an HDF5 file ({exc})")
    _fail(path, f"has the suffix {suffix!r}; expected .npz, .h5 or .hdf5")


def _strings(values, n, name, path):
    if values is None:
        return None
    arr = np.atleast_1d(np.asarray(values))
    if arr.ndim != 1 or arr.size != n:
        _fail(path, f"{name} must hold {n} names, found shape {arr.shape}")
    return tuple(v.decode() if isinstance(v, bytes) else str(v) for v in arr.tolist())


def load_responses(path):
    """Read recordings in the documented format (module docstring).

    path: an .npz, .h5 or .hdf5 file. Returns :class:`~connear_helpers.encoding.targets.Responses`
    with repeats (n_stimuli, n_repeats, n_bins, n_neurons) in spikes/s, dt = bin_s, the stimuli
    (n_stimuli, n_samples) Pa, fs, neuron_ids and stimulus_names. Raises RecordingsFormatError
    (a ValueError) naming what is wrong with the file.
    """
    path = pathlib.Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"recordings file {str(path)!r} does not exist")
    d = _read(path)
    missing = [k for k in ("stimuli", "fs", "bin_s") if k not in d]
    if missing:
        _fail(path, f"has no {', '.join(missing)} (found {', '.join(sorted(d)) or 'nothing'})")
    if ("spike_counts" in d) == ("psth" in d):
        _fail(path, "must hold exactly one of spike_counts and psth" + (" (it has both)" if "psth" in d else ""))
    stim = np.asarray(d["stimuli"])
    if stim.ndim == 1:
        stim = stim[None]
    if stim.ndim != 2 or not np.issubdtype(stim.dtype, np.number) or stim.shape[1] == 0:
        _fail(path, f"stimuli must be (n_stimuli, n_samples) numbers (Pa), found shape {stim.shape} of {stim.dtype}")
    stim = stim.astype(np.float64)
    if not np.all(np.isfinite(stim)):
        _fail(path, "stimuli contain NaN or inf")
    fs, bin_s = (np.asarray(d[k]) for k in ("fs", "bin_s"))
    for name, v in (("fs", fs), ("bin_s", bin_s)):
        if v.size != 1 or not np.issubdtype(v.dtype, np.number) or not np.isfinite(v) or float(v) <= 0:
            _fail(path, f"{name} must be one positive number, found {v!r}")
    fs, bin_s = float(fs), float(bin_s)
    if "spike_counts" in d:
        counts = np.asarray(d["spike_counts"])
        if counts.ndim != 4:
            _fail(path, f"spike_counts must be (n_stimuli, n_repeats, n_bins, n_neurons), found shape {counts.shape}")
        if not np.issubdtype(counts.dtype, np.number) or not np.all(np.isfinite(counts)):
            _fail(path, "spike_counts must be finite numbers")
        if np.any(counts < 0) or np.any(counts != np.round(counts)):
            _fail(path, "spike_counts must be whole numbers >= 0 (spikes per bin); store rates as psth")
        repeats = counts.astype(np.float64) / bin_s
    else:
        psth = np.asarray(d["psth"])
        if psth.ndim == 3:
            psth = psth[:, None]
        if psth.ndim != 4 or not np.issubdtype(psth.dtype, np.number):
            _fail(path, f"psth must be (n_stimuli, [n_repeats,] n_bins, n_neurons) in spikes/s, found shape "
                        f"{np.shape(d['psth'])}")
        if not np.all(np.isfinite(psth)) or np.any(psth < 0):
            _fail(path, "psth must hold finite rates >= 0 (spikes/s)")
        repeats = psth.astype(np.float64)
    if repeats.shape[0] != stim.shape[0]:
        _fail(path, f"the responses are to {repeats.shape[0]} stimuli but stimuli holds {stim.shape[0]}")
    n_bins = int(np.floor(stim.shape[1] / fs / bin_s + 1e-9))
    if repeats.shape[2] != n_bins:
        _fail(path, f"the responses have {repeats.shape[2]} bins of {bin_s} s but the stimuli last "
                    f"{stim.shape[1] / fs:.4f} s = {n_bins} bins; pad the stimuli with silence to the response window")
    ids = _strings(d.get("neuron_ids"), repeats.shape[3], "neuron_ids", path)
    names = _strings(d.get("stimulus_names"), stim.shape[0], "stimulus_names", path)
    return Responses(repeats=repeats, dt=bin_s, neuron_ids=ids or tuple(f"neuron {i}" for i in range(repeats.shape[3])),
                     stimuli=stim, fs=fs, stimulus_names=names or tuple(f"stimulus {i}" for i in range(stim.shape[0])))


def save_responses(path, stimuli, fs, bin_s, spike_counts=None, psth=None, neuron_ids=None, stimulus_names=None):
    """Write recordings in the documented format (.npz, or HDF5 for .h5/.hdf5); returns the path.

    stimuli: (n_stimuli, n_samples) Pa at fs (Hz). bin_s: response bin (s). Give one of
    spike_counts (n_stimuli, n_repeats, n_bins, n_neurons) counts per bin, or psth (spikes/s).
    neuron_ids, stimulus_names: optional lists of str. The file is checked by reading it back.
    """
    path = pathlib.Path(path).expanduser()
    if (spike_counts is None) == (psth is None):
        raise ValueError("give exactly one of spike_counts (counts per bin) and psth (spikes/s)")
    d = {"stimuli": np.asarray(stimuli, dtype=np.float64), "fs": np.float64(fs), "bin_s": np.float64(bin_s)}
    if spike_counts is not None:
        d["spike_counts"] = np.asarray(spike_counts)
    else:
        d["psth"] = np.asarray(psth, dtype=np.float64)
    if neuron_ids is not None:
        d["neuron_ids"] = np.asarray([str(v) for v in neuron_ids])
    if stimulus_names is not None:
        d["stimulus_names"] = np.asarray([str(v) for v in stimulus_names])
    suffix = path.suffix.lower()
    if suffix == ".npz":
        np.savez(path, **d)
    elif suffix in (".h5", ".hdf5"):
        import h5py

        with h5py.File(path, "w") as f:
            for k, v in d.items():
                f.create_dataset(k, data=v.astype("S") if v.dtype.kind == "U" else v)
    else:
        raise ValueError(f"path must end in .npz, .h5 or .hdf5, got {path.name!r}")
    load_responses(path)
    return path
