"""Evaluation metrics of the CoNNear paper (spec §4) as pure functions of simulation outputs.

Conventions
-----------
* Inputs are SI: IHC receptor potential ``vihc`` in V, ANF firing rate in spikes/s, ``fs`` in Hz.
* One response has time on axis 0 and CF channels (if any) on axis 1: ``(n_samples,)`` or
  ``(n_samples, n_cf)``. A series over levels (or frequencies, or intervals) adds a leading axis:
  ``(n_levels, n_samples)`` or ``(n_levels, n_samples, n_cf)``.
* Analysis windows are ``(start_s, stop_s)`` in seconds from the first sample of the array passed
  in, converted to samples ``[round(start_s·fs), round(stop_s·fs))``; a Python ``slice`` of sample
  indices is accepted as well, and ``None`` means the whole response. The default windows are the
  spec's, defined on the **cropped** model output (the first sample after the left context), e.g.
  the AC window ``IHC_AC_WINDOW_S`` = samples [1448, 1848) at 20 kHz (= [7240, 9240) at 100 kHz).
"""

import math

import numpy as np

from . import cf as _cf

#: Metric 2/3 DC window: 15–5 ms before tone onset = cropped samples [148, 348) at 20 kHz (spec §4.3).
IHC_DC_WINDOW_S = (7.4e-3, 17.4e-3)
#: Metric 2 AC window: 50–70 ms after tone onset = cropped samples [1448, 1848) at 20 kHz (spec §4.3).
IHC_AC_WINDOW_S = (72.4e-3, 92.4e-3)
#: Metric 5 window: 10–40 ms after tone onset = cropped samples [300, 900) at 20 kHz (spec §4.6).
ANF_RATE_LEVEL_WINDOW_S = (15e-3, 45e-3)
#: Metric 6 window: the whole 400-ms SAM tone = cropped samples [100, 8100) at 20 kHz (spec §4.7).
ANF_SYNCHRONY_WINDOW_S = (5e-3, 405e-3)
#: Metric 4 plotting window: the first 80 ms of the cropped response (spec §4.5).
ANF_FIRING_RATE_PLOT_WINDOW_S = (0.0, 80e-3)

#: Column order of Suppl. Fig. 3 / 5b (ANF firing-rate RMSE tables).
FIRING_RATE_RMSE_COLUMNS = tuple(
    f"{fibre}-{stimulus}"
    for fibre in ("HSR", "MSR", "LSR")
    for stimulus in ("tone-1kHz", "tone-4kHz", "SAM-1kHz", "SAM-4kHz")
)

#: Tone frequencies (Hz) of the columns of Suppl. Fig. 1 / 5a (IHC excitation-pattern RMSE tables).
EXCITATION_RMSE_FREQS_HZ = (250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)


# --------------------------------------------------------------------------------------------
# helpers


def _check_fs(fs):
    if isinstance(fs, bool) or not np.isscalar(fs) or not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"fs must be a positive finite sampling rate in Hz; got {fs!r}.")
    return float(fs)


def _as_response(x, name, min_ndim=1, max_ndim=2):
    arr = np.asarray(x, dtype=float)
    if not min_ndim <= arr.ndim <= max_ndim:
        raise ValueError(
            f"{name} must have {min_ndim} to {max_ndim} dimensions "
            f"({_shape_doc(min_ndim, max_ndim)}); got shape {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; pass finite simulation outputs.")
    return arr


def _shape_doc(min_ndim, max_ndim):
    if min_ndim == 1:
        return "(n_samples,) or (n_samples, n_cf)"
    return "(n_levels, n_samples) or (n_levels, n_samples, n_cf)"


def window_slice(window, fs, n):
    """Sample slice of an analysis window within a response of n samples.

    window: None (whole response), (start_s, stop_s) in s, or a slice of sample indices.
    fs: Hz. n: number of samples of the response.
    Returns: slice with 0 <= start < stop <= n.
    """
    fs = _check_fs(fs)
    if window is None:
        start, stop = 0, n
    elif isinstance(window, slice):
        if window.step not in (None, 1):
            raise ValueError(f"window slices must have step 1; got {window!r}.")
        start, stop, _ = window.indices(n)
        if (window.start is not None and not -n <= window.start <= n) or (
            window.stop is not None and not -n <= window.stop <= n
        ):
            raise ValueError(
                f"window {window!r} reaches outside the response of {n} samples; "
                "pass sample indices inside the response."
            )
    else:
        try:
            start_s, stop_s = (float(v) for v in window)
        except (TypeError, ValueError):
            raise ValueError(
                f"window must be None, a slice of samples or (start_s, stop_s) in seconds; got {window!r}."
            ) from None
        if not (np.isfinite(start_s) and np.isfinite(stop_s)):
            raise ValueError(f"window bounds must be finite seconds; got {window!r}.")
        start, stop = int(round(start_s * fs)), int(round(stop_s * fs))
        if start < 0 or stop > n:
            raise ValueError(
                f"window {window!r} s = samples [{start}, {stop}) lies outside the response of "
                f"{n} samples ({n / fs:.6g} s at fs = {fs:g} Hz); check fs, that the response is "
                "the cropped model output, or pass a window inside it."
            )
    if stop <= start:
        raise ValueError(
            f"window {window!r} selects no samples (samples [{start}, {stop})); "
            "pass start < stop."
        )
    return slice(start, stop)


def _scalar(x):
    return float(x) if np.ndim(x) == 0 else x


# --------------------------------------------------------------------------------------------
# IHC metrics


def excitation_pattern(vihc, fs, window=None):
    """Metric 1: mean IHC receptor potential per CF over the window (spec §4.2).

    vihc: (n_samples, n_cf) or (n_samples,) receptor potential (V). fs: Hz.
    window: analysis window (default: all samples of the cropped 2048-sample output).
    Returns: (n_cf,) or float, mean potential (V).
    """
    v = _as_response(vihc, "vihc")
    sl = window_slice(window, fs, v.shape[0])
    return _scalar(np.mean(v[sl], axis=0))


def ac_dc_components(vihc, fs, ac_window=IHC_AC_WINDOW_S, dc_window=IHC_DC_WINDOW_S):
    """Metric 2: AC and DC components of the IHC potential (spec §4.3, mid-range estimates).

    vihc: (n_samples,) or (n_samples, n_cf) receptor potential (V). fs: Hz.
    ac_window, dc_window: analysis windows (defaults: the spec's, on the cropped output).
    Returns: (ac, dc), each float or (n_cf,): ac = half peak-to-peak in the AC window / √2 (V);
    dc = mid-range in the AC window − mid-range in the DC window (V).
    """
    v = _as_response(vihc, "vihc")
    ac_seg = v[window_slice(ac_window, fs, v.shape[0])]
    dc_seg = v[window_slice(dc_window, fs, v.shape[0])]
    amplitude = (ac_seg.max(axis=0) - ac_seg.min(axis=0)) / 2.0
    ac = amplitude / math.sqrt(2.0)
    dc_half = (dc_seg.max(axis=0) - dc_seg.min(axis=0)) / 2.0
    dc = (ac_seg.min(axis=0) + amplitude) - (dc_seg.min(axis=0) + dc_half)
    return _scalar(ac), _scalar(dc)


def ac_dc_ratio(vihc, fs, ac_window=IHC_AC_WINDOW_S, dc_window=IHC_DC_WINDOW_S, absolute=False):
    """Metric 2: AC/DC ratio of the IHC potential per CF (spec §4.3).

    vihc: (n_samples,) or (n_samples, n_cf) receptor potential (V). fs: Hz.
    ac_window, dc_window: as ac_dc_components. absolute: return |AC/DC| (the light notebook's plot).
    Returns: float or (n_cf,) ratio (dimensionless); inf/nan where the DC component is 0.
    """
    ac, dc = ac_dc_components(vihc, fs, ac_window, dc_window)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.asarray(ac) / np.asarray(dc)
    if absolute:
        ratio = np.abs(ratio)
    return _scalar(ratio)


def ac_dc_curve(
    vihc_responses,
    freqs_hz,
    fs,
    cfs=None,
    ac_window=IHC_AC_WINDOW_S,
    dc_window=IHC_DC_WINDOW_S,
    absolute=False,
):
    """Metric 2: AC/DC ratio vs frequency, each tone read at the CF nearest to it (spec §4.3).

    vihc_responses: (n_freqs, n_samples) single-CF responses (V), one per tone, or
    (n_freqs, n_samples, n_cf) all-CF responses, from which the channel nearest each tone is taken.
    freqs_hz: (n_freqs,) tone frequencies (Hz). fs: Hz. cfs: (n_cf,) CFs (Hz), default the 201
    CoNNear CFs. ac_window, dc_window, absolute: as ac_dc_ratio.
    Returns: (cf_hz, ratio), each (n_freqs,): the CF-snapped frequencies (Hz) and the ratios.
    """
    v = _as_response(vihc_responses, "vihc_responses", 2, 3)
    freqs = np.atleast_1d(np.asarray(freqs_hz, dtype=float))
    if freqs.ndim != 1 or freqs.size != v.shape[0]:
        raise ValueError(
            f"freqs_hz must list one frequency per response: {v.shape[0]} responses but "
            f"freqs_hz has shape {freqs.shape}."
        )
    cfs = _cf.connear_cfs() if cfs is None else np.asarray(cfs, dtype=float)
    idx = _cf.nearest_cf_index(cfs, freqs)
    if v.ndim == 3:
        if v.shape[2] != cfs.size:
            raise ValueError(
                f"vihc_responses has {v.shape[2]} CF channels but cfs has {cfs.size}; "
                "pass the CFs of the simulated channels."
            )
        traces = v[np.arange(v.shape[0]), :, idx]
    else:
        traces = v
    ratios = np.array([ac_dc_ratio(t, fs, ac_window, dc_window, absolute) for t in traces])
    return cfs[idx], ratios


def half_wave_rectified_rms(vihc, fs, dc_window=IHC_DC_WINDOW_S, window=None, rectify=False):
    """Metric 3: RMS of the DC-removed IHC potential (spec §4.4).

    vihc: (n_samples,) or (n_samples, n_cf) receptor potential (V). fs: Hz.
    dc_window: window whose mean is the resting potential removed (default the spec's DC window).
    window: RMS window (default all samples of the cropped output, as the paper).
    rectify: also half-wave rectify max(v − DC, 0); the paper's numbers use False (no
    rectification is applied in the original code despite the name).
    Returns: float or (n_cf,) RMS potential (V).
    """
    v = _as_response(vihc, "vihc")
    dc = np.mean(v[window_slice(dc_window, fs, v.shape[0])], axis=0)
    centred = v - dc
    if rectify:
        centred = np.maximum(centred, 0.0)
    seg = centred[window_slice(window, fs, v.shape[0])]
    return _scalar(np.sqrt(np.mean(seg**2, axis=0)))


def level_growth(vihc_levels, fs, dc_window=IHC_DC_WINDOW_S, window=None, rectify=False):
    """Metric 3: half_wave_rectified_rms for each level of a level series (Fig. 3b).

    vihc_levels: (n_levels, n_samples) or (n_levels, n_samples, n_cf) potential (V). fs: Hz.
    dc_window, window, rectify: as half_wave_rectified_rms.
    Returns: (n_levels,) or (n_levels, n_cf) RMS potential (V); the paper plots 1e3× (mV).
    """
    v = _as_response(vihc_levels, "vihc_levels", 2, 3)
    return np.array([half_wave_rectified_rms(x, fs, dc_window, window, rectify) for x in v])


# --------------------------------------------------------------------------------------------
# ANF metrics


def mean_rate(rate, fs, window=None):
    """Mean firing rate over a window.

    rate: (n_samples,) or (n_samples, n_cf) firing rate (spikes/s). fs: Hz. window: analysis window.
    Returns: float or (n_cf,) mean rate (spikes/s).
    """
    r = _as_response(rate, "rate")
    return _scalar(np.mean(r[window_slice(window, fs, r.shape[0])], axis=0))


def rate_level(rates, fs, window=ANF_RATE_LEVEL_WINDOW_S):
    """Metric 5: mean rate 10–40 ms after onset for each level (spec §4.6).

    rates: (n_levels, n_samples) or (n_levels, n_samples, n_cf) cropped ANF rates (spikes/s).
    fs: Hz. window: analysis window (default cropped samples [300, 900) at 20 kHz).
    Returns: (n_levels,) or (n_levels, n_cf) mean rate (spikes/s).
    """
    r = _as_response(rates, "rates", 2, 3)
    sl = window_slice(window, fs, r.shape[1])
    return np.mean(r[:, sl], axis=1)


def vector_strength(rate, fs, freq_hz, window=None):
    """Metric 6: vector strength of a rate at freq_hz, VS = |X[k]| / |X[0]| (spec §4.7).

    X = FFT(rate[window]) / N, k = ceil(freq_hz·N/fs) (the bin at or above freq_hz). For
    r = r0(1 + a·cos 2π f t) VS = a/2; for a half-wave-rectified sine VS = π/4.
    rate: (n_samples,) or (n_samples, n_cf) firing rate (spikes/s, or any non-negative unit).
    fs: Hz. freq_hz: analysis frequency (Hz), in (0, fs/2). window: analysis window.
    Returns: float or (n_cf,) vector strength (dimensionless, 0 ≤ VS ≤ 1 for non-negative rates).
    """
    fs = _check_fs(fs)
    r = _as_response(rate, "rate")
    seg = r[window_slice(window, fs, r.shape[0])]
    n = seg.shape[0]
    if isinstance(freq_hz, bool) or not np.isscalar(freq_hz) or not np.isfinite(freq_hz):
        raise ValueError(f"freq_hz must be a finite frequency in Hz; got {freq_hz!r}.")
    if not 0 < freq_hz < fs / 2:
        raise ValueError(
            f"freq_hz = {freq_hz} Hz must lie in (0, fs/2 = {fs / 2} Hz); pass the modulation "
            "frequency (e.g. 100 Hz) in Hz."
        )
    k = int(math.ceil(freq_hz * n / fs - 1e-9))
    if k < 1 or k > n // 2:
        raise ValueError(
            f"freq_hz = {freq_hz} Hz falls outside the FFT of a {n}-sample window at fs = {fs} Hz; "
            "lengthen the window."
        )
    # One DFT bin is enough; it equals np.fft.rfft(seg, axis=0)[k].
    phase = np.exp(-2j * np.pi * k * np.arange(n) / n)
    xk = np.abs(phase @ seg) / n
    x0 = np.abs(np.sum(seg, axis=0)) / n
    scale = np.max(np.abs(seg), axis=0)
    if np.any(x0 <= 1e-12 * np.maximum(scale, np.finfo(float).tiny)):
        raise ValueError(
            "the mean rate in the window is zero, so the vector strength is undefined; "
            "pass a rate with a positive mean (spikes/s), not a zero-mean waveform."
        )
    return _scalar(xk / x0)


def synchrony_level(rates, fs, fm_hz=100.0, window=ANF_SYNCHRONY_WINDOW_S):
    """Metric 6: vector strength at the modulation frequency for each level (spec §4.7).

    rates: (n_levels, n_samples) or (n_levels, n_samples, n_cf) cropped ANF rates (spikes/s).
    fs: Hz. fm_hz: modulation frequency (Hz). window: default cropped samples [100, 8100) at 20 kHz.
    Returns: (n_levels,) or (n_levels, n_cf) vector strength (dimensionless).
    """
    r = _as_response(rates, "rates", 2, 3)
    return np.array([vector_strength(x, fs, fm_hz, window) for x in r])


# --------------------------------------------------------------------------------------------
# Fig. 4: adaptation and recovery


def _mean_before(r, fs, t_s, average_s, what):
    stop = int(round(t_s * fs))
    start = stop - max(1, int(round(average_s * fs)))
    if start < 0 or stop > r.shape[0]:
        raise ValueError(
            f"the {what} averaging window [{start}, {stop}) samples lies outside the response of "
            f"{r.shape[0]} samples; check onset_s, the probe times and fs."
        )
    return np.mean(r[start:stop], axis=0)


def adaptation_ratio(rate, fs, probe_s=0.4, reference_s=1.0, onset_s=0.0, average_s=10e-3):
    """Fig. 4a: rate at probe_s after onset relative to the rate at reference_s after onset.

    Each rate is the mean over the average_s seconds just before the given time (so a reference
    at the tone's end stays inside the tone). The paper's averaging is undocumented (spec §4.8).
    rate: (n_samples,) or (n_samples, n_fibres) firing rate (spikes/s). fs: Hz.
    probe_s, reference_s: times after tone onset (s). onset_s: tone onset in the array (s).
    average_s: averaging length (s), at least one sample.
    Returns: float or (n_fibres,) ratio rate(probe)/rate(reference) (dimensionless).
    """
    fs = _check_fs(fs)
    r = _as_response(rate, "rate")
    for name, value in (("probe_s", probe_s), ("reference_s", reference_s), ("onset_s", onset_s)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a non-negative finite time (s); got {value!r}.")
    if not np.isfinite(average_s) or average_s <= 0:
        raise ValueError(f"average_s must be a positive duration (s); got {average_s!r}.")
    probe = _mean_before(r, fs, onset_s + probe_s, average_s, "probe")
    reference = _mean_before(r, fs, onset_s + reference_s, average_s, "reference")
    with np.errstate(divide="ignore", invalid="ignore"):
        return _scalar(probe / reference)


def second_tone_onsets(intervals_s, first_onset_s, tone_s):
    """Onsets of the second tone of tone pairs with offset-to-onset intervals (Fig. 4b).

    intervals_s: (n_intervals,) silences between the tones (s). first_onset_s: first tone onset (s).
    tone_s: tone duration (s).
    Returns: (n_intervals,) second-tone onsets (s).
    """
    return first_onset_s + tone_s + np.asarray(intervals_s, dtype=float)


def onset_peak_recovery(responses, fs, second_onsets_s, tone_s=0.1, reference_index=-1):
    """Fig. 4b: peak rate to the second tone of each pair, relative to one reference pair.

    responses: (n_intervals, n_samples) or (n_intervals, n_samples, n_fibres) rates (spikes/s).
    fs: Hz. second_onsets_s: (n_intervals,) second-tone onsets within each response (s).
    tone_s: second-tone duration (s); the peak is taken over [onset, onset + tone_s).
    reference_index: row used for normalisation (default the last = longest interval, 1.9 s).
    Returns: (n_intervals,) or (n_intervals, n_fibres) normalised onset peaks (1 at the reference).
    """
    fs = _check_fs(fs)
    r = _as_response(responses, "responses", 2, 3)
    onsets = np.atleast_1d(np.asarray(second_onsets_s, dtype=float))
    if onsets.shape != (r.shape[0],):
        raise ValueError(
            f"second_onsets_s must give one onset per response: {r.shape[0]} responses but "
            f"shape {onsets.shape}."
        )
    peaks = np.array(
        [np.max(x[window_slice((t0, t0 + tone_s), fs, r.shape[1])], axis=0) for x, t0 in zip(r, onsets)]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        return peaks / peaks[reference_index]


# --------------------------------------------------------------------------------------------
# RMSE (paper Eq. 3) and the tables of Suppl. Figs. 1, 3 and 5


def rmse(reference, estimate, axis=None):
    """Paper Eq. 3: sqrt(mean((x − x̂)²)) between a reference and a CNN output.

    reference, estimate: arrays of the same shape, same unit. axis: axis (or axes) to average
    over; None averages over everything.
    Returns: float or ndarray, RMSE in the unit of the inputs.
    """
    a = np.asarray(reference, dtype=float)
    b = np.asarray(estimate, dtype=float)
    if a.shape != b.shape:
        raise ValueError(
            f"reference and estimate must have the same shape; got {a.shape} and {b.shape}. "
            "Crop/truncate the CNN output to the reference length first."
        )
    if a.size == 0:
        raise ValueError("cannot compute an RMSE of empty arrays.")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("reference or estimate contains NaN or infinite values.")
    return _scalar(np.sqrt(np.mean((a - b) ** 2, axis=axis)))


def excitation_pattern_rmse_table(reference, cnn):
    """Suppl. Fig. 1/5a: RMSE over CFs between excitation patterns, per level and tone frequency.

    reference, cnn: dicts {tone frequency (Hz): (n_levels, n_cf) mean potentials}, same keys and
    shapes, any one unit (V in, V out; the paper's tables are in mV, i.e. patterns given in mV).
    Returns: (freqs_hz, table): (n_freqs,) sorted frequencies (Hz) and (n_levels, n_freqs) RMSE.
    """
    freqs = _matching_keys(reference, cnn)
    freqs = sorted(freqs, key=float)
    columns = [rmse(_2d(reference[f], f), _2d(cnn[f], f), axis=1) for f in freqs]
    return np.array([float(f) for f in freqs]), np.stack(columns, axis=1)


def firing_rate_rmse_table(reference, cnn, fs=None, window=None):
    """Suppl. Fig. 3/5b: RMSE over time between ANF rates, per level and condition.

    reference, cnn: dicts {label: (n_levels, n_samples) rate (spikes/s)} with labels from
    FIRING_RATE_RMSE_COLUMNS (e.g. "HSR-tone-1kHz", "LSR-SAM-4kHz"), same keys and shapes.
    fs: Hz (needed only with a window in seconds). window: time window (default all samples; the
    paper's window is undocumented, spec §8).
    Returns: (labels, table): labels in the paper's column order and (n_levels, n_labels) RMSE
    (spikes/s).
    """
    labels = _matching_keys(reference, cnn)
    unknown = sorted(set(labels) - set(FIRING_RATE_RMSE_COLUMNS))
    if unknown:
        raise ValueError(
            f"unknown condition label(s) {unknown}; expected labels from "
            f"{', '.join(FIRING_RATE_RMSE_COLUMNS)}."
        )
    labels = [c for c in FIRING_RATE_RMSE_COLUMNS if c in labels]
    columns = []
    for label in labels:
        a, b = _2d(reference[label], label), _2d(cnn[label], label)
        if window is not None:
            if fs is None:
                raise ValueError("pass fs (Hz) together with a window.")
            sl = window_slice(window, fs, a.shape[1])
            a, b = a[:, sl], b[:, sl]
        columns.append(rmse(a, b, axis=1))
    return labels, np.stack(columns, axis=1)


def _matching_keys(reference, cnn):
    if not isinstance(reference, dict) or not isinstance(cnn, dict):
        raise TypeError("reference and cnn must be dicts mapping a condition to an array.")
    if set(reference) != set(cnn):
        raise ValueError(
            f"reference and cnn must have the same conditions; got {sorted(map(str, reference))} "
            f"and {sorted(map(str, cnn))}."
        )
    if not reference:
        raise ValueError("no conditions given; pass at least one array per dict.")
    return list(reference)


def _2d(x, key):
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 2:
        raise ValueError(
            f"condition {key!r} must be a (n_levels, n_values) array; got shape {arr.shape}."
        )
    return arr
