"""A labelled sound set the lab makes offline, and sound sets from a folder of WAV files.

Every sound of a set has the same length: ``duration_s`` of sound (ramped, calibrated to a level
in dB SPL, RMS over the sound) followed by ``pad_s`` of silence, so that the slow stages (ANF
adaptation, CN, IC) are seen ending too and every stage pools over the same time span.

Categories of :func:`make_sound_set` (each sound carries its category, name and level):

* ``speech`` -- excerpts of espeak-ng sentences of the offline TTS corpus
  (:func:`connear_helpers.analysis.corpus.tts_corpus`): the ``duration_s`` window with the most energy of
  each sentence. Without a TTS engine (e.g. on Colab) the excerpts come from the shipped sample
  sentence (:func:`connear_helpers.analysis.sounds.load_speech_sample`) and the set's ``note`` says so.
* ``harmonic`` -- harmonic complexes (sine phase, all harmonics of F0 up to 8 kHz).
* ``tone`` -- pure tones at several frequencies and levels.
* ``noise`` -- Gaussian noises band-limited to several bands (seeded).
* ``sam`` -- sinusoidally amplitude-modulated tones (100 % depth).
* ``click`` -- trains of 100-us condensation clicks at several rates.
"""
from __future__ import annotations

import dataclasses
import hashlib
import pathlib

import numpy as np

from ..analysis import stimuli

__all__ = ["SoundSet", "SoundSetSpec", "make_sound_set", "wav_sound_set"]

CATEGORIES = ("speech", "harmonic", "tone", "noise", "sam", "click")


@dataclasses.dataclass
class SoundSet:
    """Sounds with their labels.

    signals: (n_sounds, n_samples) sound pressure [Pa] at fs [Hz].
    names: (n_sounds,) str, one short description per sound.
    categories: (n_sounds,) str, the category of each sound ("speech", "tone", ...).
    levels_db_spl: (n_sounds,) level of each sound [dB SPL], RMS over its sound part.
    duration_s: length of the sound part [s]; the rest of each row is silence (pad_s).
    note: text to show with results made from this set (e.g. a fallback that was taken), or None.
    """

    signals: np.ndarray
    fs: float
    names: tuple
    categories: tuple
    levels_db_spl: np.ndarray
    duration_s: float
    pad_s: float = 0.0
    note: str | None = None

    def __post_init__(self):
        self.signals = np.atleast_2d(np.asarray(self.signals, dtype=np.float64))
        n = self.signals.shape[0]
        self.names = tuple(str(s) for s in self.names)
        self.categories = tuple(str(s) for s in self.categories)
        self.levels_db_spl = np.asarray(self.levels_db_spl, dtype=np.float64).reshape(-1)
        for what, value in (("names", self.names), ("categories", self.categories),
                            ("levels_db_spl", self.levels_db_spl)):
            if len(value) != n:
                raise ValueError(f"a SoundSet of {n} signals needs {n} {what}, got {len(value)}; "
                                 "give one entry per row of signals")
        if not np.all(np.isfinite(self.signals)):
            raise ValueError("signals contain NaN or inf; give finite sound pressures in Pa")

    def __len__(self):
        return self.signals.shape[0]

    def __repr__(self):
        counts = ", ".join(f"{c} {n}" for c, n in zip(*self.category_counts()))
        return (f"SoundSet({len(self)} sounds of {self.duration_s * 1e3:.0f} ms + {self.pad_s * 1e3:.0f} ms "
                f"silence at {self.fs / 1e3:.0f} kHz: {counts})")

    def category_counts(self):
        """(categories in order of first appearance, number of sounds of each)."""
        cats = list(dict.fromkeys(self.categories))
        return cats, [self.categories.count(c) for c in cats]

    def category_codes(self):
        """(n_sounds,) int index of each sound's category in ``category_counts()[0]``."""
        cats = self.category_counts()[0]
        return np.array([cats.index(c) for c in self.categories], dtype=int)

    def subset(self, index):
        """The sounds at ``index`` (int array, boolean mask or slice) as a new SoundSet."""
        idx = np.arange(len(self))[index]
        idx = np.atleast_1d(idx)
        return dataclasses.replace(self, signals=self.signals[idx], names=[self.names[i] for i in idx],
                                   categories=[self.categories[i] for i in idx],
                                   levels_db_spl=self.levels_db_spl[idx])

    def __add__(self, other):
        if not isinstance(other, SoundSet):
            return NotImplemented
        if other.fs != self.fs or other.signals.shape[1] != self.signals.shape[1]:
            raise ValueError(
                f"cannot join sound sets of {self.signals.shape[1]} samples at {self.fs:.0f} Hz and "
                f"{other.signals.shape[1]} samples at {other.fs:.0f} Hz; make both with the same fs, "
                "duration_s and pad_s")
        notes = [n for n in (self.note, other.note) if n]
        return SoundSet(np.concatenate([self.signals, other.signals]), self.fs, self.names + other.names,
                        self.categories + other.categories,
                        np.concatenate([self.levels_db_spl, other.levels_db_spl]),
                        max(self.duration_s, other.duration_s), max(self.pad_s, other.pad_s),
                        " ".join(notes) or None)

    def fingerprint(self):
        """A short hash of the signals and fs (str): equal sets give equal fingerprints."""
        h = hashlib.sha1(np.ascontiguousarray(self.signals).tobytes())
        h.update(repr(float(self.fs)).encode())
        return h.hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class SoundSetSpec:
    """What :func:`make_sound_set` makes. Frequencies in Hz, levels in dB SPL, times in s.

    duration_s: sound part of every sound; pad_s: silence after it; ramp_s: on/off ramps (Hann).
    level_db_spl: level of every sound except the tones, which have tone_levels_db_spl.
    n_speech: number of TTS sentence excerpts. harmonic_f0s_hz: F0 of each harmonic complex.
    tone_freqs_hz x tone_levels_db_spl: the pure tones. noise_bands_hz: (low, high) edges of each
    noise. sam_tones: (carrier, modulation frequency) of each SAM tone. click_rates_hz: rate of
    each click train. seed: the speech corpus and the noise samples are drawn from it.
    """

    duration_s: float = 0.2
    pad_s: float = 0.02
    ramp_s: float = 0.005
    level_db_spl: float = 70.0
    n_speech: int = 12
    harmonic_f0s_hz: tuple = (100.0, 150.0, 220.0, 330.0, 500.0, 750.0)
    tone_freqs_hz: tuple = (250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)
    tone_levels_db_spl: tuple = (40.0, 60.0, 80.0)
    noise_bands_hz: tuple = ((125.0, 500.0), (500.0, 2000.0), (2000.0, 8000.0), (800.0, 1250.0),
                             (3200.0, 5000.0), (100.0, 10000.0))
    sam_tones: tuple = ((1000.0, 20.0), (1000.0, 100.0), (4000.0, 50.0), (4000.0, 200.0))
    click_rates_hz: tuple = (50.0, 100.0, 200.0, 400.0)
    seed: int = 0

    @classmethod
    def quick(cls, **changes):
        """A small set (14 sounds of 30 ms + 10 ms silence) for quick checks and the notebook's CI mode."""
        kw = dict(duration_s=0.03, pad_s=0.01, n_speech=2, harmonic_f0s_hz=(125.0, 500.0),
                  tone_freqs_hz=(500.0, 4000.0), tone_levels_db_spl=(40.0, 80.0),
                  noise_bands_hz=((125.0, 1000.0), (1000.0, 8000.0)),
                  sam_tones=((1000.0, 100.0), (4000.0, 200.0)), click_rates_hz=(100.0, 400.0))
        kw.update(changes)
        return cls(**kw)

    @property
    def n_sounds(self):
        return (self.n_speech + len(self.harmonic_f0s_hz) + len(self.tone_freqs_hz) * len(self.tone_levels_db_spl)
                + len(self.noise_bands_hz) + len(self.sam_tones) + len(self.click_rates_hz))


def _ramped(x, fs, spec, level):
    return stimuli.calibrate_rms(stimuli.apply_ramps(x, fs, spec.ramp_s, "hann"), level)


def _loudest_window(x, n, fs):
    """The n-sample window of x with the most energy (5-ms steps); zero-padded if x is shorter."""
    if x.size <= n:
        return np.concatenate([x, np.zeros(n - x.size)])
    c = np.concatenate([[0.0], np.cumsum(x ** 2)])
    step = max(1, int(0.005 * fs))
    starts = np.arange(0, x.size - n + 1, step)
    best = starts[np.argmax(c[starts + n] - c[starts])]
    return x[best:best + n]


def _speech(spec, fs, n):
    from ..analysis import corpus

    if spec.n_speech == 0:
        return [], [], None
    try:
        recs = corpus.tts_corpus(spec.n_speech, fs=fs, seed=spec.seed)
        sig = [_loudest_window(r.signal, n, fs) for r in recs]
        names = [f"speech {r.utterance.sentence_id} ({r.utterance.voice})" for r in recs]
        return sig, names, None
    except corpus.NoTTSEngineError:
        from ..analysis.sounds import load_speech_sample

        x = load_speech_sample(fs=fs, level_db_spl=None)
        # the loudest window of each of n_speech equal parts of the sentence
        edges = np.linspace(0, x.size, spec.n_speech + 1).astype(int)
        sig = [_loudest_window(x[a:max(b, a + n)], n, fs) for a, b in zip(edges[:-1], edges[1:])]
        names = [f"speech sample part {k + 1}" for k in range(spec.n_speech)]
        note = ("No text-to-speech engine (espeak-ng) is installed: the speech sounds are "
                f"{spec.n_speech} excerpts of the one shipped sample sentence.")
        return sig, names, note


def _band_noise(rng, n, fs, lo, hi):
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / fs)
    spec[(f < lo) | (f > hi)] = 0.0
    return np.fft.irfft(spec, n)


def make_sound_set(spec=None, fs=100_000.0, progress=False):
    """The lab's offline sound set (see the module docstring).

    spec: a :class:`SoundSetSpec` (default ``SoundSetSpec()``: 50 sounds of 200 ms).
    fs: sample rate [Hz] (100 kHz for the reference model, 20 kHz for the CNNs).
    progress: progress bar while making the sounds.
    Returns a :class:`SoundSet`; rows are (round(duration_s·fs) + round(pad_s·fs)) samples of
    sound pressure [Pa]. The same spec gives the same sounds (given the same espeak-ng version).
    """
    from tqdm.auto import tqdm

    spec = SoundSetSpec() if spec is None else spec
    if not isinstance(spec, SoundSetSpec):
        raise TypeError(f"spec must be a SoundSetSpec, got {type(spec).__name__}; e.g. SoundSetSpec.quick()")
    fs = float(fs)
    n = int(round(spec.duration_s * fs))
    if n < 2 * int(spec.ramp_s * fs) or n < 16:
        raise ValueError(f"duration_s = {spec.duration_s} s is too short for two {spec.ramp_s}-s ramps at "
                         f"{fs:.0f} Hz; give a longer duration_s or a shorter ramp_s")
    if spec.n_sounds < 3:
        raise ValueError(f"the spec makes {spec.n_sounds} sounds; give at least 3")
    t = np.arange(n) / fs
    rng = np.random.default_rng([int(spec.seed), 11])
    rows, names, cats, levels = [], [], [], []
    bar = tqdm(total=spec.n_sounds, desc="sound set", unit="sound", disable=not progress)

    def add(x, name, cat, level):
        rows.append(_ramped(x, fs, spec, level))
        names.append(name)
        cats.append(cat)
        levels.append(level)
        bar.update(1)

    speech_rows, speech_names, note = _speech(spec, fs, n)
    for x, name in zip(speech_rows, speech_names):
        add(x, name, "speech", spec.level_db_spl)
    for f0 in spec.harmonic_f0s_hz:
        top = min(8000.0, 0.45 * fs)
        k = np.arange(1, int(top // f0) + 1)
        add(np.sin(2 * np.pi * f0 * k[:, None] * t).sum(axis=0), f"harmonic complex F0 {f0:g} Hz",
            "harmonic", spec.level_db_spl)
    for f in spec.tone_freqs_hz:
        for level in spec.tone_levels_db_spl:
            add(np.sin(2 * np.pi * f * t), f"tone {f:g} Hz {level:g} dB", "tone", float(level))
    for lo, hi in spec.noise_bands_hz:
        add(_band_noise(rng, n, fs, lo, min(hi, 0.45 * fs)), f"noise {lo:g}-{hi:g} Hz", "noise",
            spec.level_db_spl)
    for fc, fm in spec.sam_tones:
        add((1 - np.cos(2 * np.pi * fm * t)) * np.sin(2 * np.pi * fc * t), f"SAM {fc:g} Hz, fm {fm:g} Hz",
            "sam", spec.level_db_spl)
    width = stimuli.click(0.0, fs).size
    for rate in spec.click_rates_hz:
        x = np.zeros(n)
        for s in np.arange(spec.ramp_s, spec.duration_s - spec.ramp_s, 1.0 / rate):
            i = int(round(s * fs))
            x[i:i + width] = 1.0
        add(x, f"clicks {rate:g}/s", "click", spec.level_db_spl)
    bar.close()
    signals = np.pad(np.stack(rows), [(0, 0), (0, int(round(spec.pad_s * fs)))])
    return SoundSet(signals, fs, names, cats, levels, spec.duration_s, spec.pad_s, note)


def wav_sound_set(folder, fs=100_000.0, duration_s=0.2, level_db_spl=70.0, pad_s=0.02, ramp_s=0.005,
                  n_sounds=None, seed=0, progress=False):
    """A sound set from a folder of WAV files (yours): one sound per file.

    folder: a folder with .wav files (sub-folders too); a file in a sub-folder gets the
    sub-folder's name as its category, a file directly in the folder the category "wav".
    fs [Hz]: every file is resampled to it. duration_s [s]: the window of each file with the
    most energy (shorter files are padded with silence). level_db_spl: RMS level of each window.
    pad_s: silence after each sound [s]. n_sounds, seed: a seeded random choice of files.
    Returns a :class:`SoundSet`; join it to the lab's set with ``+`` (same fs, duration_s, pad_s).
    """
    from ..analysis import corpus

    root = pathlib.Path(folder).expanduser()
    plan = corpus.wav_folder_plan(root, n_sentences=n_sounds, seed=seed)
    fs = float(fs)
    n = int(round(duration_s * fs))
    spec = SoundSetSpec(duration_s=duration_s, pad_s=pad_s, ramp_s=ramp_s)
    rows, names, cats = [], [], []
    from tqdm.auto import tqdm

    for u in tqdm(plan, desc="reading WAV files", unit="file", disable=not progress):
        x, _ = corpus.load_utterance(u, fs=fs)
        window = _loudest_window(x, n, fs)
        if not np.any(window):
            raise ValueError(f"{u.path} is silent where it was read; remove it from {root}")
        rows.append(_ramped(window, fs, spec, level_db_spl))
        rel = pathlib.PurePath(u.utterance_id)
        names.append(rel.name)
        cats.append(rel.parts[0] if len(rel.parts) > 1 else "wav")
    signals = np.pad(np.stack(rows), [(0, 0), (0, int(round(pad_s * fs)))])
    return SoundSet(signals, fs, names, cats, [float(level_db_spl)] * len(rows), duration_s, pad_s)
