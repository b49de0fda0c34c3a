"""Front ends: a sound turned into a (time, frequency) input for an encoding model.

* ``kind="mel"``: a log-mel spectrogram computed here (Hann-windowed STFT, triangular filters on
  the HTK mel scale, band energy in dB SPL as ``10·log10(1 + E / p0²)``, so silence gives 0 dB).
* ``kind="anf"``: the auditory-nerve population of :mod:`verhulst2018` at chosen CFs, the
  weighted mean of the HSR/MSR/LSR single-fibre rates (13:3:3 by default, as the model's CN
  and IC stages count them), in spikes/s, averaged in time bins.
* ``kind="ihc"``: the IHC receptor potential (V) at the CFs, averaged in time bins.

Time bin ``t`` of every front end covers ``[t·dt, (t+1)·dt)``: mel frames are centred on
``(t + 1/2)·dt`` and the periphery responses are averaged over the bin, so the front ends line
up bin for bin and ``n_bins = floor(duration / dt)``.

The periphery responses come from one ``verhulst2018.simulate`` run per sound, with outputs
``("ihc", "anfh", "anfm", "anfl", "ic")`` (the same TL cochlea that
``connear_helpers.pipeline.simulate(mode="full", weights=None)`` runs, so the ANF front end and
the IC target of :mod:`.targets` come from one simulation). With ``source="connear"`` or
``mode="light"`` the responses come from ``pipeline.simulate`` instead (CoNNear weights needed).
Responses are kept as 1-ms averages in a :class:`connear_helpers.pipeline.SimulationCache`
(in memory, and on disk under :func:`cache_dir`), so a sound is simulated once.
"""
from __future__ import annotations

import hashlib
import json
import os
from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from ..analysis.stimuli import P0
from ..constants import FIBRES, FS_CNN, FS_REFERENCE

P0_PA = P0  # dB SPL reference (Pa), from connear_helpers.analysis.stimuli
KINDS = ("mel", "anf", "ihc")
#: Fibres per CF that the verhulst2018 CN/IC stages sum (HSR, MSR, LSR).
FIBRE_COUNTS = (13, 3, 3)
#: Resolution of the cached periphery responses (s); bins must be multiples of it.
RECORD_STEP_S = 1e-3
_RECORD_VERSION = 1

__all__ = ["KINDS", "frontend", "frontends", "mel_spectrogram", "mel_frequencies", "pool_bins",
           "periphery_records", "cache_dir", "default_cache"]


# ---------------------------------------------------------------------------------------------
# checks


def _check_signal(signal):
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"signal must be 1-D (n_samples,) sound pressure in Pa, got shape {x.shape}; "
                         "use frontends() for a batch")
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError("signal must be a non-empty array of finite pressures (Pa); remove NaN/inf")
    return x


#: Lowest sample rate accepted (Hz): a smaller one is most likely given in kHz.
FS_MIN_HZ = 1000.0


def _check_fs(fs, minimum=FS_MIN_HZ):
    try:
        value = float(fs)
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"fs must be a positive sample rate in Hz (one number), got {fs!r}")
    if value < minimum:
        raise ValueError(f"fs = {fs!r} Hz is below {minimum:.0f} Hz: give the sample rate in Hz "
                         "(e.g. 20000), not in kHz")
    return value


def _samples_per_bin(bin_s, fs, what="bin_s"):
    if not np.isscalar(bin_s) or not np.isfinite(bin_s) or bin_s <= 0:
        raise ValueError(f"{what} must be a positive duration in s, got {bin_s!r}")
    n = bin_s * fs
    k = int(round(n))
    if k < 1 or abs(n - k) > 1e-6 * max(1.0, n):
        raise ValueError(f"{what} = {bin_s} s is not a whole number of samples at {fs:.0f} Hz "
                         f"({n:.4f}); choose a multiple of {1 / fs:.2e} s")
    return k


# ---------------------------------------------------------------------------------------------
# binning and the mel spectrogram


def pool_bins(x, fs, bin_s):
    """Mean of x over consecutive time bins.

    x: (n_samples, ...) any unit, time on axis 0, at fs (Hz). bin_s: bin width (s), a whole
    number of samples. Returns (floor(n_samples / samples_per_bin), ...) in the unit of x.
    """
    k = _samples_per_bin(bin_s, _check_fs(fs, minimum=0.0))
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0] // k
    return x[: n * k].reshape((n, k) + x.shape[1:]).mean(axis=1)


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_frequencies(n_mels=32, fmin_hz=100.0, fmax_hz=8000.0):
    """Centre frequencies of the mel filters: (n_mels,) Hz, ascending, equally spaced in mel."""
    if int(n_mels) != n_mels or n_mels < 1:
        raise ValueError(f"n_mels must be a positive integer, got {n_mels!r}")
    if not 0 <= fmin_hz < fmax_hz:
        raise ValueError(f"need 0 <= fmin_hz < fmax_hz, got fmin_hz={fmin_hz!r}, fmax_hz={fmax_hz!r}")
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin_hz), _hz_to_mel(fmax_hz), int(n_mels) + 2))
    return edges[1:-1]


def _mel_filters(n_mels, fmin_hz, fmax_hz, n_fft, fs):
    """(n_mels, n_fft // 2 + 1) triangular filters with peak 1 on the HTK mel scale."""
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin_hz), _hz_to_mel(fmax_hz), n_mels + 2))
    f = np.arange(n_fft // 2 + 1) * fs / n_fft
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (f[None, :] - lo) / (mid - lo)
    down = (hi - f[None, :]) / (hi - mid)
    w = np.clip(np.minimum(up, down), 0.0, None)
    # a filter narrower than the FFT bin spacing would be empty: give it its nearest bin
    for m in np.flatnonzero(w.sum(axis=1) == 0):
        w[m, int(np.argmin(np.abs(f - mid[m, 0])))] = 1.0
    return w


def mel_spectrogram(signal, fs, n_mels=32, fmin_hz=100.0, fmax_hz=8000.0, hop_s=0.005, window_s=0.025):
    """Log-mel spectrogram of a sound.

    signal: (n_samples,) sound pressure in Pa at fs (Hz). n_mels: number of bands.
    fmin_hz, fmax_hz: outer edges of the filter bank (Hz; fmax_hz <= fs / 2).
    hop_s: frame step = time bin (s). window_s: Hann window length (s), centred on each bin.
    Returns (spectrogram (floor(duration / hop_s), n_mels) in dB SPL per band, always >= 0,
    centre frequencies (n_mels,) Hz ascending, hop_s in s).
    """
    x = _check_signal(signal)
    fs = _check_fs(fs)
    if fmax_hz > fs / 2 + 1e-9:
        raise ValueError(f"fmax_hz = {fmax_hz} Hz is above the Nyquist frequency {fs / 2:.0f} Hz; "
                         "lower fmax_hz or give the sound at a higher rate")
    hop = _samples_per_bin(hop_s, fs, "hop_s")
    n_win = int(round(window_s * fs))
    if n_win < 2:
        raise ValueError(f"window_s = {window_s} s is shorter than two samples at {fs:.0f} Hz")
    n_fft = 1 << int(np.ceil(np.log2(n_win)))
    n_frames = x.size // hop
    if n_frames < 1:
        raise ValueError(f"the sound lasts {x.size / fs:.4f} s, shorter than one bin of {hop_s} s")
    window = np.hanning(n_win + 2)[1:-1]
    # frame t is centred on sample (t + 1/2)·hop: pad so every window lies inside the array
    centre = (np.arange(n_frames) * hop + hop / 2.0).astype(np.int64)
    start = centre - n_win // 2
    pad = n_win
    xp = np.concatenate([np.zeros(pad), x, np.zeros(pad)])
    idx = start[:, None] + pad + np.arange(n_win)[None, :]
    frames = xp[idx] * window
    spec = np.abs(np.fft.rfft(frames, n=n_fft, axis=1)) ** 2
    # one-sided power in Pa² (Parseval, window power removed): a tone of RMS p puts ~p² in its band
    spec *= 2.0 / (n_fft * np.sum(window**2))
    spec[:, 0] /= 2.0
    energy = spec @ _mel_filters(int(n_mels), float(fmin_hz), float(fmax_hz), n_fft, fs).T
    return (10.0 * np.log10(1.0 + energy / P0_PA**2), mel_frequencies(n_mels, fmin_hz, fmax_hz), float(hop_s))


# ---------------------------------------------------------------------------------------------
# periphery responses (cached)


def cache_dir():
    """Folder of the encoding front ends' cached responses: ``<pipeline.default_cache_dir()>/encoding``."""
    from .. import pipeline

    return pipeline.default_cache_dir() / "encoding"


_CACHE = []


def default_cache():
    """The SimulationCache used when ``cache=None``: the lab's shared memory, files in :func:`cache_dir`."""
    if not _CACHE:
        from .. import pipeline

        _CACHE.append(pipeline.DEFAULT_CACHE.with_directory(cache_dir()))
    return _CACHE[0]


def _key(*parts):
    text = json.dumps(parts, sort_keys=True, default=lambda o: np.asarray(o).tolist())
    return "enc-" + hashlib.sha1(text.encode()).hexdigest()


def _hash(x):
    return hashlib.sha1(np.ascontiguousarray(x, dtype=np.float64).tobytes()).hexdigest()


def _fingerprint():
    from .. import pipeline

    return pipeline.reference_fingerprint()  # the lab's one hash of the model source


def _to_reference_rate(x, fs):
    if fs == FS_REFERENCE:
        return x
    ratio = Fraction(FS_REFERENCE / fs).limit_denominator(10_000)
    return resample_poly(x, ratio.numerator, ratio.denominator)


def _cfs(cf):
    from ..analysis import cf as _cf

    if cf is None:
        raise ValueError("cf must be given for the periphery front ends: CFs in Hz, e.g. "
                         "np.geomspace(250, 8000, 16)")
    freqs = np.atleast_1d(np.asarray(cf, dtype=np.float64))
    if freqs.ndim != 1 or freqs.size == 0 or not np.all(np.isfinite(freqs)) or np.any(freqs <= 0):
        raise ValueError(f"cf must be a 1-D array of positive CFs in Hz, got {cf!r}")
    all_cfs = _cf.connear_cfs()
    lo, hi = all_cfs.min(), all_cfs.max()
    bad = freqs[(freqs < lo * 0.9) | (freqs > hi * 1.1)]
    if bad.size:
        raise ValueError(f"CFs {bad.tolist()} Hz are outside the modelled range {lo:.0f}-{hi:.0f} Hz")
    # the nearest CoNNear CF, ascending: so the front end's frequency axis runs low to high
    idx = np.unique(_cf.nearest_cf_index(all_cfs, freqs).reshape(-1))
    return np.sort(all_cfs[idx])


def _n_jobs(n):
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(cores, n))


def _reference_record(res, n_steps):
    """1-ms averages of one verhulst2018 response; (n_steps, n_cf) arrays."""
    rec = {"ihc": pool_bins(res.ihc, FS_REFERENCE, RECORD_STEP_S)[:n_steps]}
    for f in FIBRES:
        rec[f] = pool_bins(getattr(res, f), FS_CNN, RECORD_STEP_S)[:n_steps]
    ic = np.asarray(res.ic)
    rec["ic"] = pool_bins(ic, FS_CNN, RECORD_STEP_S)[:n_steps]
    # a firing rate cannot be negative: the rectification must come before the averaging
    rec["ic_rectified"] = pool_bins(np.maximum(ic, 0.0), FS_CNN, RECORD_STEP_S)[:n_steps]
    return rec


def periphery_records(signals, fs, cf, mode="full", weights=None, source="reference", cache=None,
                      progress=False, engine="exact"):
    """Periphery responses of a batch of sounds as 1-ms averages (simulated once, then cached).

    signals: list of (n_samples,) sound pressures in Pa (lengths may differ) at fs (Hz).
    cf: CFs in Hz (the nearest CoNNear CFs are used, ascending). mode: "full" (TL cochlea) or
    "light" (CoNNear cochlea). weights: CoNNear weights for source="connear" or light mode.
    source: "reference" (verhulst2018 IHC/ANF, and its CN/IC) or "connear" (the CoNNear IHC/ANF).
    cache: a pipeline.SimulationCache (default :func:`default_cache`). progress: progress bar.
    engine: verhulst2018 engine for the reference in full mode: "exact" (the original's
    arithmetic) or "fast" (within about 1 %, several times quicker; batches run in lockstep);
    see connear_helpers.pipeline. Cache keys name the engine only when it is not "exact".
    Returns (list of dicts "ihc" (V), "anfh", "anfm", "anfl" (spikes/s) and, for the reference
    in full mode, "ic" and "ic_rectified" (spikes/s of the 13+3+3-fibre population), each
    (floor(duration / 1 ms), n_cf); the CFs (n_cf,) Hz).
    """
    fs = _check_fs(fs)
    if mode not in ("full", "light"):
        raise ValueError(f'mode must be "full" (TL cochlea) or "light" (CoNNear cochlea), got {mode!r}')
    if source not in ("reference", "connear"):
        raise ValueError(f'source must be "reference" (verhulst2018) or "connear" (the CNNs), got {source!r}')
    if (source == "connear" or mode == "light") and weights is None:
        raise ValueError(f"source={source!r} with mode={mode!r} runs CoNNear models: give weights "
                         "('connear-lab', 'official' or a folder), or use source='reference', mode='full'")
    from ..pipeline import check_engine

    engine = check_engine(engine)
    cfs = _cfs(cf)
    wlabel = None
    if (source == "connear" or mode == "light") and isinstance(weights, str):
        from ..cnn.weights import cached_model

        # load the CNNs first: missing weights fail here, not after a long TL simulation; a probe
        # of their values goes into the cache key, so retrained weights are never mixed up
        wlabel = [weights]
        for name in (("cochlea",) if mode == "light" else ()) + ("ihc",) + FIBRES:
            w = cached_model(name, weights).weights
            wlabel.append(round(float(np.sum(w[0].numpy())) + float(np.sum(w[-1].numpy())), 12) if w else 0.0)
    cache = default_cache() if cache is None else cache
    xs = [_to_reference_rate(_check_signal(s), fs) for s in signals]
    use_cache = wlabel is not None or weights is None or (source == "reference" and mode == "full")
    # the exact engine keeps the key it always had; another engine is a different simulation
    tag = (mode, source) if engine == "exact" else (mode, source, engine)
    keys = [_key("periphery", _RECORD_VERSION, _fingerprint(), *tag, wlabel, cfs, _hash(x)) for x in xs]
    records = [cache.get(k) if use_cache else None for k in keys]
    todo = [i for i, r in enumerate(records) if r is None]
    if todo and mode == "full" and source == "reference":
        import verhulst2018
        from tqdm.auto import tqdm

        # chunks of one batch per available core, each stored as soon as it is done (an
        # interrupted run keeps what it has simulated)
        by_length = {}
        for i in todo:
            by_length.setdefault(xs[i].size, []).append(i)
        kw = dict(fs=FS_REFERENCE, cf=cfs, outputs=("ihc",) + FIBRES + ("ic",), engine=engine, progress=False)
        with tqdm(total=len(todo), desc="verhulst2018 (front ends, IC)", unit="sound", disable=not progress) as bar:
            for n, rows in by_length.items():
                # the fast engine integrates up to 8 signals in lockstep per worker
                step = _n_jobs(len(rows)) * (8 if engine == "fast" else 1)
                n_steps = int(n / (RECORD_STEP_S * FS_REFERENCE))
                for c in range(0, len(rows), step):
                    chunk = rows[c:c + step]
                    if len(chunk) == 1:
                        res = [verhulst2018.simulate(xs[chunk[0]], **kw)]
                    else:
                        res = verhulst2018.simulate(np.stack([xs[i] for i in chunk]), n_jobs=_n_jobs(len(chunk)), **kw)
                    for i, r in zip(chunk, res):
                        records[i] = _reference_record(r, n_steps)
                        cache.put(keys[i], records[i], disk=True)
                    bar.update(len(chunk))
    elif todo:
        from tqdm.auto import tqdm

        from .. import pipeline

        for i in tqdm(todo, desc="periphery", unit="sound", disable=not progress):
            res = pipeline.simulate(xs[i], FS_REFERENCE, mode=mode, cf=cfs, stages=("ihc", "anf"), weights=weights,
                                     engine=engine)
            tag = "ref" if source == "reference" else "cnn"
            n_steps = int(xs[i].size / (RECORD_STEP_S * FS_REFERENCE))
            rec = {"ihc": pool_bins(getattr(res, f"ihc_{tag}"), FS_CNN, RECORD_STEP_S)[:n_steps]}
            for f in FIBRES:
                rec[f] = pool_bins(getattr(res, f"{f}_{tag}"), FS_CNN, RECORD_STEP_S)[:n_steps]
            records[i] = rec
            if use_cache:
                cache.put(keys[i], rec, disk=True)
    return records, cfs


def _combine(record, kind, fibres, fibre_weights, bin_s):
    steps = _samples_per_bin(bin_s, 1.0 / RECORD_STEP_S, "bin_s (a multiple of 1 ms for the periphery front ends)")
    if kind == "ihc":
        x = record["ihc"]
    else:
        w = np.asarray(fibre_weights, dtype=np.float64)
        x = sum(wi * record[f] for wi, f in zip(w, fibres)) / w.sum()
    n = x.shape[0] // steps
    return x[: n * steps].reshape(n, steps, -1).mean(axis=1)


def _check_fibres(fibres, fibre_weights):
    from ..pipeline import check_fibres

    fibres = check_fibres(fibres)
    if fibre_weights is None:
        fibre_weights = tuple(FIBRE_COUNTS[FIBRES.index(f)] for f in fibres)
    fibre_weights = tuple(float(v) for v in fibre_weights)
    if len(fibre_weights) != len(fibres) or any(v < 0 for v in fibre_weights) or sum(fibre_weights) <= 0:
        raise ValueError(f"fibre_weights must give one non-negative weight per fibre type {fibres}, "
                         f"not all zero; got {fibre_weights!r}")
    return fibres, fibre_weights


def _mel_edges_for_centres(lo_hz, hi_hz, n_mels, fs):
    """Outer edges (Hz) of a mel filter bank whose first and last centres are lo_hz and hi_hz."""
    lo, hi = _hz_to_mel(lo_hz), _hz_to_mel(hi_hz)
    step = (hi - lo) / (n_mels - 1) if n_mels > 1 and hi > lo else max(lo, 1.0) / 4
    return float(_mel_to_hz(max(lo - step, 0.0))), float(min(_mel_to_hz(hi + step), fs / 2))


def frontends(signals, fs, kind="mel", cf=None, bin_s=0.005, n_mels=32, fmin_hz=None, fmax_hz=None,
              window_s=0.025, mode="full", weights=None, source="reference", fibres=FIBRES,
              fibre_weights=None, cache=None, progress=False, engine="exact"):
    """:func:`frontend` of a batch of sounds of one length: returns ((n, n_bins, n_freq), freqs Hz, dt s).

    signals: (n_signals, n_samples) or a list of equally long (n_samples,) pressures in Pa at fs.
    The periphery of all uncached sounds runs as one verhulst2018 batch. Other arguments as
    :func:`frontend`.
    """
    rows = [np.asarray(s, dtype=np.float64) for s in signals]
    if not rows:
        raise ValueError("signals is empty: give at least one sound")
    if len({r.size for r in rows}) != 1:
        raise ValueError(f"frontends() needs sounds of one length, got lengths {sorted({r.size for r in rows})}; "
                         "cut or pad them (encoding.stimulus_set does), or call frontend() per sound")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    fs = _check_fs(fs)
    rows = [_check_signal(r) for r in rows]
    if kind == "mel":
        fmin, fmax = 100.0, min(8000.0, fs / 2)
        if cf is not None:
            fmin, fmax = _mel_edges_for_centres(float(np.min(cf)), float(np.max(cf)), int(n_mels), fs)
        fmin = fmin if fmin_hz is None else fmin_hz
        fmax = fmax if fmax_hz is None else fmax_hz
        out = [mel_spectrogram(r, fs, n_mels, fmin, fmax, bin_s, window_s) for r in rows]
        return np.stack([o[0] for o in out]), out[0][1], out[0][2]
    fibres, fibre_weights = _check_fibres(fibres, fibre_weights)
    records, cfs = periphery_records(rows, fs, cf, mode, weights, source, cache, progress, engine)
    x = np.stack([_combine(r, kind, fibres, fibre_weights, bin_s) for r in records])
    return x, cfs, float(bin_s)


def frontend(signal, fs, kind="mel", cf=None, bin_s=0.005, n_mels=32, fmin_hz=None, fmax_hz=None,
             window_s=0.025, mode="full", weights=None, source="reference", fibres=FIBRES,
             fibre_weights=None, cache=None, progress=False, engine="exact"):
    """One sound as a (time, frequency) input for an encoding model.

    signal: (n_samples,) sound pressure in Pa at fs (Hz).
    kind: "mel" (log-mel spectrogram, dB SPL per band), "anf" (ANF population rate, spikes/s)
        or "ihc" (IHC receptor potential, V).
    cf: CFs in Hz for "anf"/"ihc" (nearest CoNNear CFs, ascending); for "mel", when given, the
        filter bank's first and last centres are min(cf) and max(cf) (unless fmin_hz/fmax_hz,
        the outer edges, are given).
    bin_s: time bin (s); a multiple of 1 ms for "anf"/"ihc".
    n_mels, fmin_hz, fmax_hz, window_s: mel options (defaults 32 bands, 100 Hz-8 kHz, 25 ms).
    mode: "full" (TL cochlea) or "light" (CoNNear cochlea; needs weights).
    weights, source: "reference" (verhulst2018 IHC/ANF) or "connear" (the CoNNear CNNs; needs
        weights, e.g. "connear-lab").
    fibres, fibre_weights: ANF types averaged, with weights (default HSR:MSR:LSR = 13:3:3).
    cache: pipeline.SimulationCache (default :func:`default_cache`). progress: progress bar.
    engine: "exact" or "fast" verhulst2018 engine (reference, full mode; see periphery_records).
    Returns (x (floor(duration / bin_s), n_freq), bin centre frequencies (n_freq,) Hz, dt in s).
    """
    x, freqs, dt = frontends([_check_signal(signal)], fs, kind, cf, bin_s, n_mels, fmin_hz, fmax_hz, window_s,
                             mode, weights, source, fibres, fibre_weights, cache, progress, engine)
    return x[0], freqs, dt
