"""Stimuli of the CoNNear evaluation (spec §4.0, §4.1): pure tones, SAM tones, clicks, ramps, dB SPL in Pa.

Conventions
-----------
* Every signal is sound pressure in pascal (Pa); ``fs`` is in Hz; durations are in seconds.
* Time is the last axis of a signal; a stack of stimuli has a leading batch axis
  ``(n_stimuli, n_samples)``.
* Sample counts are ``int(duration_s * fs)`` (truncation), as in the original notebooks
  (spec §4.0: 5 ms at 100 kHz = 500 samples, 401.8 ms at 20 kHz = 8036 samples, ...).
* **Calibration** (spec §4.0): a tone or SAM tone of L dB SPL is
  ``p0 · 10^(L/20) · s / rms(s)`` with ``p0 = 2e-5 Pa``, the RMS taken over the *ramped* tone
  segment only (not over the silences). So the RMS of the whole ramped tone is exactly
  ``p0·10^(L/20)``; the steady (unramped) part is very slightly louder. For an unramped sinusoid
  this equals the peak amplitude ``p0·√2·10^(L/20)`` of the paper's Eq. 1.
* Ramps (spec §4.0): a symmetric SciPy window of length ``2·N_r`` (``N_r = int(ramp_s·fs)``) is
  split in halves; the first ``N_r`` samples are multiplied by the rising half and the last
  ``N_r`` by the falling half. Metric 1 uses ``"hann"``, Metrics 2–6 ``"bartlett"``.
"""

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import windows as _windows

from . import cf as _cf

#: Reference sound pressure (Pa): 0 dB SPL.
P0 = 2e-5

#: Sampling rate of every CoNNear CNN (Hz) and of the reference model (Hz).
from ..constants import FS_CNN, FS_REFERENCE  # noqa: E402 (defined once, in constants.py)

#: Peak amplitude factor of a click of L dB peSPL in the Verhulst et al. (2018) model:
#: peak = CLICK_PEAK_FACTOR · p0 · 10^(L/20) (spec verhulst2018.md §2).
CLICK_PEAK_FACTOR = 2.0 * math.sqrt(2.0)

RAMP_SHAPES = ("hann", "bartlett")


# --------------------------------------------------------------------------------------------
# validation helpers


def _check_fs(fs):
    if isinstance(fs, bool) or not np.isscalar(fs) or not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"fs must be a positive finite sampling rate in Hz; got {fs!r}.")
    return float(fs)


def _check_duration(name, value, allow_zero=False):
    if isinstance(value, bool) or not np.isscalar(value) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite duration in seconds; got {value!r}.")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {bound} (seconds); got {value!r}.")
    return float(value)


def _check_level(name, value):
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (dB); got {value!r}. Pass a number such as 70.")
    return arr


def _check_frequency(name, freq_hz, fs):
    if isinstance(freq_hz, bool) or not np.isscalar(freq_hz) or not np.isfinite(freq_hz):
        raise ValueError(f"{name} must be a finite frequency in Hz; got {freq_hz!r}.")
    if freq_hz < 0:
        raise ValueError(f"{name} must be non-negative (Hz); got {freq_hz!r}.")
    if freq_hz >= fs / 2:
        raise ValueError(
            f"{name} = {freq_hz} Hz is not below the Nyquist frequency fs/2 = {fs / 2} Hz; "
            "lower the frequency or raise fs."
        )
    return float(freq_hz)


def _check_signal(signal):
    x = np.asarray(signal, dtype=float)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(
            f"signal must have at least one sample along its last (time) axis; got shape {x.shape}."
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("signal contains NaN or infinite values; pass a finite pressure signal (Pa).")
    return x


def n_samples(duration_s, fs):
    """Number of samples of a segment: int(duration_s · fs), truncated as in the notebooks.

    duration_s: duration (s), >= 0. fs: sampling rate (Hz).
    Returns: int, number of samples.
    """
    fs = _check_fs(fs)
    duration_s = _check_duration("duration_s", duration_s, allow_zero=True)
    return int(duration_s * fs)


# --------------------------------------------------------------------------------------------
# levels


def db_spl_to_pa(level_db_spl):
    """RMS sound pressure of a level: p0 · 10^(L/20).

    level_db_spl: scalar or array-like (dB SPL).
    Returns: float or ndarray, RMS pressure (Pa).
    """
    level = _check_level("level_db_spl", level_db_spl)
    out = P0 * 10.0 ** (level / 20.0)
    return float(out) if out.ndim == 0 else out


def pa_to_db_spl(pressure_rms_pa):
    """Level of an RMS sound pressure: 20·log10(p_rms / p0); the inverse of db_spl_to_pa.

    pressure_rms_pa: scalar or array-like of positive RMS pressures (Pa), converted element-wise.
    Returns: float or ndarray, level (dB SPL). Use signal_level_db_spl for a waveform.
    """
    p = np.asarray(pressure_rms_pa, dtype=float)
    if not np.all(np.isfinite(p)) or np.any(p <= 0):
        raise ValueError(
            f"pressure_rms_pa must be positive finite RMS pressures in Pa; got {pressure_rms_pa!r}. "
            "For a waveform use signal_level_db_spl(signal)."
        )
    out = 20.0 * np.log10(p / P0)
    return float(out) if out.ndim == 0 else out


def rms(signal):
    """Root-mean-square along the last (time) axis.

    signal: (..., n_samples) any unit.
    Returns: float or (...,) ndarray, same unit.
    """
    x = _check_signal(signal)
    out = np.sqrt(np.mean(x**2, axis=-1))
    return float(out) if out.ndim == 0 else out


def signal_level_db_spl(signal):
    """Level of a pressure waveform: 20·log10(rms(signal) / p0), RMS over the whole last axis.

    signal: (..., n_samples) pressure (Pa).
    Returns: float or (...,) ndarray, level (dB SPL).
    """
    return pa_to_db_spl(rms(signal))


def calibrate_rms(signal, level_db_spl):
    """Scale a signal to a level: p0 · 10^(L/20) · s / rms(s), RMS over the whole given signal.

    signal: (n_samples,) or (..., n_samples) waveform, any unit; each row is calibrated separately.
    level_db_spl: scalar or array broadcastable to signal.shape[:-1] (dB SPL).
    Returns: ndarray like signal, pressure (Pa) whose RMS over the last axis is p0·10^(L/20).
    """
    x = _check_signal(signal)
    level = _check_level("level_db_spl", level_db_spl)
    r = np.sqrt(np.mean(x**2, axis=-1, keepdims=True))
    if np.any(r == 0):
        raise ValueError(
            "cannot calibrate a signal whose RMS is zero (all samples are 0); "
            "calibrate the tone segment before adding silence."
        )
    target = P0 * 10.0 ** (level / 20.0)
    return x / r * np.expand_dims(target, -1)


# --------------------------------------------------------------------------------------------
# ramps and silence


def raised_cosine_ramp(n_ramp, shape="hann"):
    """Onset and offset halves of a symmetric window of length 2·n_ramp (spec §4.0).

    n_ramp: number of ramp samples N_r (int >= 0). shape: "hann" (raised cosine) or "bartlett" (linear).
    Returns: (onset, offset), each (n_ramp,) gain in [0, 1]; offset is the time-reverse of onset.
    """
    if isinstance(n_ramp, bool) or int(n_ramp) != n_ramp or n_ramp < 0:
        raise ValueError(f"n_ramp must be a non-negative integer number of samples; got {n_ramp!r}.")
    n_ramp = int(n_ramp)
    if shape not in RAMP_SHAPES:
        raise ValueError(f"ramp shape must be one of {RAMP_SHAPES}; got {shape!r}.")
    if n_ramp == 0:
        return np.zeros(0), np.zeros(0)
    win = getattr(_windows, shape)(2 * n_ramp, sym=True)
    return win[:n_ramp], win[n_ramp:]


def apply_ramps(signal, fs, ramp_s, shape="hann"):
    """Multiply the first and last int(ramp_s·fs) samples by the halves of a 2·N_r window.

    signal: (..., n_samples) any unit. fs: Hz. ramp_s: ramp duration (s), >= 0.
    shape: "hann" or "bartlett".
    Returns: ndarray like signal, ramped copy.
    """
    x = _check_signal(signal).copy()
    n_ramp = n_samples(ramp_s, fs)
    if 2 * n_ramp > x.shape[-1]:
        raise ValueError(
            f"the two ramps ({n_ramp} samples each) are longer than the signal "
            f"({x.shape[-1]} samples); shorten ramp_s or lengthen the signal."
        )
    onset, offset = raised_cosine_ramp(n_ramp, shape)
    if n_ramp:
        x[..., :n_ramp] *= onset
        x[..., -n_ramp:] *= offset
    return x


def add_silence(signal, fs, before_s, after_s):
    """Embed a signal between zeros: [int(before_s·fs) zeros | signal | int(after_s·fs) zeros].

    signal: (..., n_samples) any unit. fs: Hz. before_s, after_s: silence durations (s), >= 0.
    Returns: ndarray (..., n_before + n_samples + n_after), same unit.
    """
    x = _check_signal(signal)
    n_before = n_samples(_check_duration("before_s", before_s, allow_zero=True), fs)
    n_after = n_samples(_check_duration("after_s", after_s, allow_zero=True), fs)
    pad = [(0, 0)] * (x.ndim - 1) + [(n_before, n_after)]
    return np.pad(x, pad)


# --------------------------------------------------------------------------------------------
# stimuli


def _time_axis(duration_s, fs):
    n = n_samples(_check_duration("duration_s", duration_s), fs)
    if n < 1:
        raise ValueError(
            f"duration_s = {duration_s} s gives no sample at fs = {fs} Hz; use a longer duration."
        )
    return np.arange(n) / fs


def pure_tone(freq_hz, level_db_spl, duration_s, fs, ramp_s=5e-3, ramp_shape="hann", phase=0.0):
    """Ramped pure tone sin(2π f t + phase) calibrated to level_db_spl RMS over the ramped tone.

    freq_hz: frequency (Hz), below fs/2. level_db_spl: dB SPL (RMS of the ramped tone).
    duration_s: tone duration including ramps (s). fs: Hz. ramp_s: each ramp (s), 0 for none.
    ramp_shape: "hann" or "bartlett". phase: starting phase (rad); 0 starts in sine phase.
    Returns: (int(duration_s·fs),) pressure (Pa).
    """
    fs = _check_fs(fs)
    freq_hz = _check_frequency("freq_hz", freq_hz, fs)
    if not np.isfinite(phase):
        raise ValueError(f"phase must be finite (rad); got {phase!r}.")
    t = _time_axis(duration_s, fs)
    s = np.sin(2 * np.pi * freq_hz * t + phase)
    s = apply_ramps(s, fs, ramp_s, ramp_shape)
    return calibrate_rms(s, level_db_spl)


def sam_tone(
    carrier_hz,
    fm_hz,
    modulation_depth,
    level_db_spl,
    duration_s,
    fs,
    ramp_s=7.8e-3,
    ramp_shape="bartlett",
    modulator_phase=np.pi,
    carrier_phase=0.0,
):
    """Ramped SAM tone [1 + m·cos(2π fm t + φm)]·sin(2π fc t + φc), calibrated like pure_tone.

    carrier_hz: fc (Hz). fm_hz: modulation frequency (Hz). modulation_depth: m in [0, 1].
    level_db_spl: dB SPL (RMS of the ramped SAM tone). duration_s: s. fs: Hz. ramp_s: s.
    ramp_shape: "hann" or "bartlett". modulator_phase: φm (rad), π makes the envelope start at 0
    (paper Eq. 2). carrier_phase: φc (rad).
    Returns: (int(duration_s·fs),) pressure (Pa).
    """
    fs = _check_fs(fs)
    carrier_hz = _check_frequency("carrier_hz", carrier_hz, fs)
    fm_hz = _check_frequency("fm_hz", fm_hz, fs)
    if (
        isinstance(modulation_depth, bool)
        or not np.isscalar(modulation_depth)
        or not np.isfinite(modulation_depth)
        or not 0.0 <= modulation_depth <= 1.0
    ):
        raise ValueError(
            f"modulation_depth must be in [0, 1] (1 = 100 %); got {modulation_depth!r}."
        )
    if carrier_hz + fm_hz >= fs / 2:
        raise ValueError(
            f"the upper sideband fc + fm = {carrier_hz + fm_hz} Hz is not below fs/2 = {fs / 2} Hz; "
            "lower the carrier or raise fs."
        )
    if not (np.isfinite(modulator_phase) and np.isfinite(carrier_phase)):
        raise ValueError("modulator_phase and carrier_phase must be finite (rad).")
    t = _time_axis(duration_s, fs)
    envelope = 1.0 + modulation_depth * np.cos(2 * np.pi * fm_hz * t + modulator_phase)
    s = envelope * np.sin(2 * np.pi * carrier_hz * t + carrier_phase)
    s = apply_ramps(s, fs, ramp_s, ramp_shape)
    return calibrate_rms(s, level_db_spl)


def click(level_db_pespl, fs, duration_s=100e-6, polarity="condensation"):
    """Rectangular click of peak CLICK_PEAK_FACTOR·p0·10^(L/20), the Verhulst et al. (2018) peSPL.

    level_db_pespl: dB peSPL. fs: Hz. duration_s: click width (s); the click holds every sample
    with 0 <= t <= duration_s (100 µs = 11 samples at 100 kHz, 3 at 20 kHz).
    polarity: "condensation" (positive pressure) or "rarefaction" (negative).
    Returns: (n_click,) pressure (Pa); embed it with add_silence.
    """
    fs = _check_fs(fs)
    duration_s = _check_duration("duration_s", duration_s)
    level = float(_check_level("level_db_pespl", level_db_pespl))
    if polarity not in ("condensation", "rarefaction"):
        raise ValueError(
            f"polarity must be 'condensation' or 'rarefaction'; got {polarity!r}."
        )
    n = int(math.floor(duration_s * fs + 1e-9)) + 1
    sign = 1.0 if polarity == "condensation" else -1.0
    return np.full(n, sign * CLICK_PEAK_FACTOR * P0 * 10.0 ** (level / 20.0))


def tone_pair(
    freq_hz,
    level_db_spl,
    tone_s,
    interval_s,
    fs,
    ramp_s=7.8e-3,
    ramp_shape="bartlett",
):
    """Two identical calibrated pure tones separated by interval_s of silence (offset to onset).

    freq_hz: Hz. level_db_spl: dB SPL of each tone. tone_s: each tone's duration (s).
    interval_s: silence between the first tone's end and the second tone's start (s). fs: Hz.
    ramp_s, ramp_shape: as pure_tone.
    Returns: (2·int(tone_s·fs) + int(interval_s·fs),) pressure (Pa).
    """
    tone = pure_tone(freq_hz, level_db_spl, tone_s, fs, ramp_s, ramp_shape)
    gap = np.zeros(n_samples(_check_duration("interval_s", interval_s, allow_zero=True), fs))
    return np.concatenate([tone, gap, tone])


# --------------------------------------------------------------------------------------------
# the stimulus recipes of the evaluation metrics (spec §4.1)


@dataclass(frozen=True)
class MetricRecipe:
    """The stimulus recipe of one evaluation block (spec §4.1); durations in s, frequencies in Hz."""

    name: str
    paper: str
    kind: str  # "pure", "sam" or "tone_pair"
    freqs_hz: tuple
    levels_db_spl: tuple
    tone_s: float
    ramp_s: float
    ramp_shape: str
    silence_before_s: float
    silence_after_s: float
    snap_to_cf: bool = True
    fm_hz: float = 100.0
    modulation_depth: float = 1.0
    intervals_s: tuple = ()
    notes: str = ""


def _levels(start, stop, step):
    return tuple(float(v) for v in np.arange(start, stop + step / 2, step))


#: The recipes. Defaults are the paper's values (figure reproduction), spec §4.1 / quirk 12.
METRIC_RECIPES = {
    r.name: r
    for r in (
        MetricRecipe(
            "ihc_excitation_pattern", "Metric 1, Fig. 2, Suppl. Fig. 1", "pure",
            (500.0, 1000.0, 2000.0), _levels(0, 100, 10), 102.4e-3, 5e-3, "hann",
            12.8e-3, 12.8e-3, snap_to_cf=False,
            notes="frequencies not snapped; notebooks use 0:10:90 dB, sourcedata 0:10:100 dB",
        ),
        MetricRecipe(
            "ihc_ac_dc_ratio", "Metric 2, Fig. 3a, Fig. 7a", "pure",
            tuple(float(f) for f in np.logspace(np.log10(150.0), np.log10(8000.0), 20)),
            (80.0,), 80e-3, 5e-3, "bartlett", 35.2e-3, 12.8e-3,
            notes="20 log-spaced frequencies 150-8000 Hz snapped to CFs (notebooks: 10)",
        ),
        MetricRecipe(
            "ihc_level_growth", "Metric 3, Fig. 3b", "pure",
            (4000.0,), _levels(0, 100, 10), 80e-3, 5e-3, "bartlett", 35.2e-3, 12.8e-3,
        ),
        MetricRecipe(
            "anf_firing_rate_tone", "Metric 4, Fig. 5, Fig. 7e, Suppl. Fig. 3", "pure",
            (1000.0, 4000.0), (70.0,), 400e-3, 7.8e-3, "bartlett", 401.8e-3, 12.8e-3,
        ),
        MetricRecipe(
            "anf_firing_rate_sam", "Metric 4, Fig. 5, Fig. 7e, Suppl. Fig. 3", "sam",
            (1000.0, 4000.0), (70.0,), 400e-3, 7.8e-3, "bartlett", 401.8e-3, 12.8e-3,
        ),
        MetricRecipe(
            "anf_rate_level", "Metric 5, Fig. 6a, Fig. 7c", "pure",
            (1000.0, 4000.0), _levels(0, 100, 10), 50e-3, 2.5e-3, "bartlett", 401.8e-3, 12.8e-3,
        ),
        MetricRecipe(
            "anf_synchrony_level", "Metric 6, Fig. 6b, Fig. 7d", "sam",
            (1000.0, 4000.0), _levels(0, 100, 5), 400e-3, 7.8e-3, "bartlett", 401.8e-3, 12.8e-3,
            notes="paper/sourcedata levels 0:5:100 dB (notebooks 0:10:100)",
        ),
        MetricRecipe(
            "anf_adaptation", "Fig. 4a", "pure",
            (1000.0,), (70.0,), 1.0, 7.8e-3, "bartlett", 401.8e-3, 12.8e-3,
            notes="ramps and silences not documented; assumed as Metric 4 (spec §4.8)",
        ),
        MetricRecipe(
            "anf_onset_recovery", "Fig. 4b", "tone_pair",
            (2000.0,), (60.0, 65.0, 75.0), 100e-3, 7.8e-3, "bartlett", 401.8e-3, 12.8e-3,
            intervals_s=tuple(round(0.1 * k, 10) for k in range(1, 20)),
            notes="60/65/75 dB = 40 dB above the HSR/MSR/LSR thresholds; ramps and "
            "offset-to-onset intervals assumed (spec §4.8); rows end-padded to equal length",
        ),
    )
}


@dataclass(frozen=True, eq=False)
class StimulusSet:
    """Stimuli of one metric, one row per condition; unpacks as ``levels, signals = ...``.

    signals: (n_rows, n_samples) pressure (Pa). levels_db_spl, freqs_hz: (n_rows,) per-row level
    (dB SPL) and (CF-snapped) frequency (Hz). cf_index: (n_rows,) nearest CoNNear channel.
    intervals_s: (n_rows,) tone-pair intervals (s) or None. tone_onset_s: tone start within a row (s).
    """

    metric: str
    fs: float
    signals: np.ndarray
    levels_db_spl: np.ndarray
    freqs_hz: np.ndarray
    cf_index: np.ndarray
    tone_onset_s: float
    tone_s: float
    recipe: MetricRecipe
    intervals_s: np.ndarray = field(default=None)

    def __iter__(self):
        return iter((self.levels_db_spl, self.signals))

    @property
    def tone_onset_sample(self):
        """Index of the first tone sample within a row (int)."""
        return n_samples(self.tone_onset_s, self.fs)


def metric_names():
    """Names of the metric stimulus recipes (spec §4.1, §4.8).

    Returns: list of str.
    """
    return list(METRIC_RECIPES)


def metric_recipe(metric):
    """The stimulus recipe of a metric.

    metric: one of metric_names().
    Returns: MetricRecipe.
    """
    try:
        return METRIC_RECIPES[metric]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown metric {metric!r}; expected one of {', '.join(METRIC_RECIPES)}."
        ) from None


def metric_stimuli(metric, levels_db_spl=None, freqs_hz=None, fs=FS_CNN, intervals_s=None):
    """Build the stimuli of a metric exactly as spec §4.0/§4.1: one row per (frequency, level).

    metric: one of metric_names(). levels_db_spl: iterable (dB SPL), default the paper's list.
    freqs_hz: iterable (Hz), default the paper's; snapped to the nearest CoNNear CF except for
    "ihc_excitation_pattern". fs: Hz (20 kHz for the CNNs, 100 kHz for the reference model).
    intervals_s: tone-pair intervals (s), "anf_onset_recovery" only.
    Returns: StimulusSet; rows are frequency-major ((f0, L0), (f0, L1), ..., (f1, L0), ...),
    and intervals vary fastest for "anf_onset_recovery".
    """
    recipe = metric_recipe(metric)
    fs = _check_fs(fs)
    levels = recipe.levels_db_spl if levels_db_spl is None else levels_db_spl
    levels = np.atleast_1d(_check_level("levels_db_spl", levels)).astype(float).reshape(-1)
    freqs = recipe.freqs_hz if freqs_hz is None else freqs_hz
    freqs = np.atleast_1d(np.asarray(freqs, dtype=float)).reshape(-1)
    if levels.size == 0 or freqs.size == 0:
        raise ValueError("need at least one level and one frequency.")
    cfs = _cf.connear_cfs()
    cf_index = _cf.nearest_cf_index(cfs, freqs)
    if recipe.snap_to_cf:
        freqs = cfs[cf_index]
    if recipe.kind == "tone_pair":
        intervals = recipe.intervals_s if intervals_s is None else intervals_s
        intervals = np.atleast_1d(np.asarray(intervals, dtype=float)).reshape(-1)
        if intervals.size == 0 or not np.all(np.isfinite(intervals)) or np.any(intervals < 0):
            raise ValueError(f"intervals_s must be non-negative finite seconds; got {intervals_s!r}.")
    elif intervals_s is not None:
        raise ValueError(
            f"intervals_s applies only to 'anf_onset_recovery', not to {metric!r}; leave it None."
        )
    else:
        intervals = np.array([np.nan])

    rows, row_level, row_freq, row_cf, row_interval = [], [], [], [], []
    for f, idx in zip(freqs, cf_index):
        for level in levels:
            for interval in intervals:
                if recipe.kind == "pure":
                    tone = pure_tone(f, level, recipe.tone_s, fs, recipe.ramp_s, recipe.ramp_shape)
                elif recipe.kind == "sam":
                    tone = sam_tone(
                        f, recipe.fm_hz, recipe.modulation_depth, level, recipe.tone_s, fs,
                        recipe.ramp_s, recipe.ramp_shape,
                    )
                else:
                    tone = tone_pair(
                        f, level, recipe.tone_s, interval, fs, recipe.ramp_s, recipe.ramp_shape
                    )
                rows.append(add_silence(tone, fs, recipe.silence_before_s, recipe.silence_after_s))
                row_level.append(level)
                row_freq.append(f)
                row_cf.append(idx)
                row_interval.append(interval)
    length = max(r.size for r in rows)
    signals = np.zeros((len(rows), length))
    for i, r in enumerate(rows):
        signals[i, : r.size] = r
    return StimulusSet(
        metric=metric,
        fs=fs,
        signals=signals,
        levels_db_spl=np.asarray(row_level),
        freqs_hz=np.asarray(row_freq),
        cf_index=np.asarray(row_cf, dtype=int),
        tone_onset_s=recipe.silence_before_s,
        tone_s=recipe.tone_s,
        recipe=recipe,
        intervals_s=np.asarray(row_interval) if recipe.kind == "tone_pair" else None,
    )
