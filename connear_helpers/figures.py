"""The paper's figures: one function per figure, and the headless figure run.

``connear-figures --out figures/ [--quick]`` (or ``python -m connear_helpers.figures``) draws
every figure as PNG with the numbers behind it as CSV next to it.

Figure functions (each returns ``(fig, table)``; ``table`` maps column names, with units, to
1-D arrays):

* :func:`fig2_ihc_excitation_patterns` – Metric 1, mean IHC potential across CF (0.5/1/2 kHz)
* :func:`fig3a_ihc_ac_dc_ratio` – Metric 2, AC/DC ratio vs frequency, guinea-pig data
* :func:`fig3b_ihc_level_growth` – Metric 3, RMS of the DC-removed IHC potential vs level (4 kHz)
* :func:`fig4a_anf_adaptation` – ANF adaptation to a 1-s, 1-kHz, 70-dB tone
* :func:`fig4b_anf_onset_recovery` – onset-peak recovery vs inter-stimulus interval (2 kHz)
* :func:`fig5_anf_firing_rates` – Metric 4, HSR/MSR/LSR rates to 70-dB tones and SAM tones
* :func:`fig6a_anf_rate_level` – Metric 5, rate-level curves, guinea-pig and mouse data
* :func:`fig6b_anf_synchrony_level` – Metric 6, synchrony-level curves, cat data

Every figure puts the reference model (verhulst2018) and the CoNNear CNNs side by side, with the
experimental data where the paper has them. ``weights`` is a weight set ("connear-lab",
"official"), a folder of weight files, a dict ``{"ihc": keras.Model or file, ...}``, or None for
the reference only. When the weights cannot be loaded the figure shows the reference alone and
says on the figure how to get them. ``quick=True`` runs the same code on fewer levels,
frequencies and shorter tones (under a minute per figure on 2 CPU cores).

The compute functions behind the figures (``compute_*``) return plain dicts of arrays; the
notebooks' widgets (:mod:`connear_helpers.widgets`) and the evaluation
(:mod:`connear_helpers.evaluate`) use them too, so every number is computed in one place.

Simulation engine (:func:`simulate_batch`)
------------------------------------------
The same pipeline as :func:`connear_helpers.periphery.simulate` (full mode: verhulst2018 at
100 kHz, outputs resampled to 20 kHz, CoNNear IHC on the BM velocity, CoNNear ANF on the IHC
potential; light mode: ``periphery.simulate(mode="light")``), for a whole batch of stimuli:

* the TL cochlea of all stimuli of a figure runs as one parallel verhulst2018 batch;
* long silences are not integrated by the TL model (its cost is about 30-70 s of CPU per second of
  sound): each stimulus is split at silences longer than 60 ms into segments that keep 10 ms of
  silence before and 50 ms after their sound; the BM velocity is taken as 0 elsewhere (it is
  exactly 0 before the first sound; 50 ms after a tone it has decayed to nothing), and the IHC
  and ANF stages, which carry the slow memory, run on the re-assembled full-length velocity.
  Measured against the unsplit run (legacy integrator): at most 2e-6 relative for a skipped
  leading silence and 5e-4 for the tone pairs of Fig. 4b (``splice=False`` turns this off;
  with the "scipy117" integrator even the leading silence gives 3e-4, as much as shifting the
  stimulus by one sample, because that integrator's rounding depends on absolute time);
* results are cached: in memory (LRU, bounded in bytes) per (stimulus, mode, weights, options),
  and, if the cache has a folder, the reference part on disk as ``.npz``
  (:func:`default_cache_dir`: ``$CONNEAR_LAB_CACHE/sims`` or ``~/.cache/connear-lab/sims``).

The CoNNear ANF models get the IHC potential with 256 samples of resting potential in front, so
that the windowing of :mod:`connear_helpers.cnn.inference` starts a window exactly at the analysis
region (left crop 7936 samples): that window then sees the stimulus' own 396.8-ms silence as its
left context, exactly like the single 16384-sample window of the original evaluation (spec §2.3).

Reference-model options default to :data:`PAPER_REFERENCE_OPTIONS` (cochlear irregularities of
subject 1 and the SciPy <= 1.16 integrator), with which the paper's curves were made.

The verhulst2018 engine is one of these options: ``reference_options={..., "engine": "fast"}``
(``"exact"``, ``"fast"`` or ``"numpy"``; an unknown name is a ValueError naming them). The
figures reproduce the paper, so they default to the exact engine
(:data:`connear_helpers.periphery.ENGINE_FOR_COMPARISON`); the panels of
:mod:`connear_helpers.widgets` run the fast one. Cache keys name the engine only when it is not
"exact", so the records of exact simulations keep the keys they had before the engine option.
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import json
import os
import pathlib
import sys
import time

import numpy as np
from scipy.signal import resample_poly

from . import cf as _cf
from . import metrics
from . import stimuli

from .constants import FS_CNN, FS_REFERENCE  # noqa: E402 (defined once, in constants.py)
MODES = ("full", "light")
FIBRES = ("anfh", "anfm", "anfl")
FIBRE_LABEL = {"anfh": "HSR", "anfm": "MSR", "anfl": "LSR"}
FIBRE_COLOUR = {"anfh": "r", "anfm": "b", "anfl": "c"}
#: Model contexts (left, right) in samples at 20 kHz: the "cropped output" of spec §2.1.
IHC_CONTEXT = (256, 256)
ANF_CONTEXT = (7936, 256)
#: verhulst2018 options the paper's curves were made with (spec §2.3; README "Agreement").
PAPER_REFERENCE_OPTIONS = {"irregularities": True, "subject": 1, "integrator": "legacy"}
_REFERENCE_OPTION_NAMES = ("irregularities", "subject", "integrator", "nonlinear", "poles", "engine")
#: Splicing of long silences (see the module docstring), in seconds.
SPLICE_LEAD_S = 10e-3
SPLICE_TAIL_S = 50e-3
#: Samples of resting potential put in front of the CoNNear ANF input (see the module docstring).
ANF_CNN_REST_PAD = 256
_ENGINE_VERSION = 1

# ============================================================================================
# caches


def default_cache_dir():
    """Folder of the on-disk simulation cache: ``$CONNEAR_LAB_CACHE/sims`` if that variable is
    set, else ``~/.cache/connear-lab/sims``. Returns a pathlib.Path (not created here)."""
    env = os.environ.get("CONNEAR_LAB_CACHE")
    if env:
        return pathlib.Path(env).expanduser() / "sims"
    return pathlib.Path("~/.cache/connear-lab/sims").expanduser()


class _Store:
    """The in-memory part of a cache (shared by caches made with SimulationCache.with_directory)."""

    def __init__(self, max_bytes):
        self.max_bytes = int(max_bytes)
        self.items = collections.OrderedDict()
        self.bytes = 0


class SimulationCache:
    """An in-memory LRU cache of simulation records, bounded in bytes, with an optional folder.

    Records are dicts of NumPy arrays. ``get``/``put`` take a string key. With ``directory`` set,
    records stored with ``disk=True`` are also written there as ``<key>.npz`` (float32, so a record
    read back from disk agrees with the computed one to about 1e-7 relative) and found again by
    later processes. ``max_bytes=0`` keeps nothing in memory.
    """

    def __init__(self, max_bytes=1 << 30, directory=None, _store=None):
        self._store = _store if _store is not None else _Store(max_bytes)
        self.directory = None if directory is None else pathlib.Path(directory).expanduser()
        self.hits = 0
        self.disk_hits = 0
        self.misses = 0

    @property
    def max_bytes(self):
        return self._store.max_bytes

    def with_directory(self, directory):
        """A cache sharing this one's memory, reading and writing records in directory (or none)."""
        return SimulationCache(directory=directory, _store=self._store)

    def __repr__(self):
        where = f", folder {self.directory}" if self.directory else ""
        return (f"SimulationCache({len(self)} records, {self._store.bytes / 2**20:.1f} of "
                f"{self.max_bytes / 2**20:.0f} MiB{where}; hits {self.hits}, disk hits "
                f"{self.disk_hits}, misses {self.misses})")

    def __len__(self):
        return len(self._store.items)

    @staticmethod
    def _size(record):
        return sum(v.nbytes for v in record.values() if isinstance(v, np.ndarray))

    def get(self, key, disk=True):
        """The record stored under key, or None."""
        items = self._store.items
        if key in items:
            items.move_to_end(key)
            self.hits += 1
            return items[key]
        if disk and self.directory is not None:
            path = self.directory / f"{key}.npz"
            if path.is_file():
                try:
                    with np.load(path) as f:
                        record = {k: f[k].astype(np.float64) for k in f.files}
                except (OSError, ValueError):
                    record = None  # a damaged file is recomputed and rewritten
                if record is not None:
                    self.disk_hits += 1
                    self._remember(key, record)
                    return record
        self.misses += 1
        return None

    def put(self, key, record, disk=False):
        """Store a record (dict of arrays); with disk=True also in the folder, if there is one."""
        self._remember(key, record)
        if disk and self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f".{key}.{os.getpid()}.tmp.npz"
            np.savez(tmp, **{k: np.asarray(v, dtype=np.float32) for k, v in record.items()})
            os.replace(tmp, self.directory / f"{key}.npz")

    def _remember(self, key, record):
        st = self._store
        size = self._size(record)
        if size > st.max_bytes:
            return
        if key in st.items:
            st.bytes -= self._size(st.items.pop(key))
        st.items[key] = record
        st.bytes += size
        while st.bytes > st.max_bytes and st.items:
            _, old = st.items.popitem(last=False)
            st.bytes -= self._size(old)

    def clear(self):
        """Forget the in-memory records (files in the folder stay)."""
        self._store.items.clear()
        self._store.bytes = 0


#: The cache used when a function gets ``cache=None``: memory only, shared by figures and widgets.
DEFAULT_CACHE = SimulationCache(
    max_bytes=int(float(os.environ.get("CONNEAR_LAB_SIM_CACHE_MB", "1024")) * 2**20)
)


def _resolve_cache(cache):
    return DEFAULT_CACHE if cache is None else cache


_FINGERPRINT = []


def _fingerprint_files():
    """The files whose bytes key the simulation cache: the reference model's source and its
    compiled core (a rebuild with other compiler options or a C++-only change invalidates it)."""
    import verhulst2018
    from verhulst2018._compiled import core

    root = pathlib.Path(verhulst2018.__file__).resolve().parent
    files = [p for p in sorted(root.iterdir()) if p.suffix in (".py", ".cpp", ".h", ".hpp", ".dat")]
    return files + [pathlib.Path(core().__file__).resolve()]


def _model_fingerprint():
    """Hash of the reference model's source and compiled core (so a changed model never reuses
    stale files)."""
    if not _FINGERPRINT:
        h = hashlib.sha1()
        for path in _fingerprint_files():
            h.update(path.name.encode())
            h.update(path.read_bytes())
        _FINGERPRINT.append(h.hexdigest()[:16])
    return _FINGERPRINT[0]


def _hash_array(x):
    return hashlib.sha1(np.ascontiguousarray(x, dtype=np.float64).tobytes()).hexdigest()


def _key(*parts):
    text = json.dumps(parts, sort_keys=True, default=lambda o: np.asarray(o).tolist())
    return hashlib.sha1(text.encode()).hexdigest()


# ============================================================================================
# weights


@dataclasses.dataclass
class Setup:
    """How a figure runs: the mode actually used, the CoNNear models (or None) and a note.

    mode: "full" or "light". models: dict name -> keras.Model, or None (reference only).
    note: text put on the figure (missing weights, mode fallback) or None. label: the weights'
    name for legends.
    """

    mode: str
    models: dict | None
    note: str | None
    label: str
    quality: str | None = None  # which weight set is shown and how good it is (a footnote)

    @property
    def has_cnn(self):
        return self.models is not None


def missing_weights_note(weights, error):
    """The note a figure shows when weights cannot be loaded (str)."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    # a figure is often shared: name the weights folder, not this machine's path to it
    from .cnn import weights as cnn_weights

    first = first.replace(str(cnn_weights.connear_lab_dir()), "connear_weights")
    if len(first) > 400:
        first = first[:397] + "..."
    how = "" if "download official" in first else " " + cnn_weights.how_to_get()
    return (f"CoNNear weights missing ({cnn_weights.weights_label(weights)}): {first}\n"
            f"Showing the reference model only.{how}")


def prepare(weights="connear-lab", mode="full", family="ihc", cnn_anf_input="reference"):
    """Resolve the weights a figure needs; never raises for missing weights.

    weights: see the module docstring. mode: "full" or "light". family: "ihc" (needs the IHC CNN)
    or "anf" (the three ANF CNNs, plus the IHC CNN when cnn_anf_input="cnn"). Light mode also
    needs the cochlea CNN; without it the figure falls back to the full (TL) reference.
    Returns a :class:`Setup`.
    """
    if mode not in MODES:
        raise ValueError(f'mode must be "full" (TL cochlea) or "light" (CNN cochlea), got {mode!r}')
    if family not in ("ihc", "anf"):
        raise ValueError(f'family must be "ihc" or "anf", got {family!r}')
    if cnn_anf_input not in ("cnn", "reference"):
        raise ValueError(f'cnn_anf_input must be "cnn" or "reference", got {cnn_anf_input!r}')
    names = ["ihc"] if family == "ihc" else list(FIBRES) + (["ihc"] if cnn_anf_input == "cnn" else [])
    if mode == "light":
        names = ["cochlea"] + (names if "ihc" in names else ["ihc"] + names)
    from .cnn import weights as cnn_weights

    label = cnn_weights.weights_label(weights)
    if weights is None:
        note = None
        if mode == "light":
            note = ("Light mode runs the CoNNear cochlea and needs weights; showing the full "
                    f"(TL) reference model instead. {cnn_weights.how_to_get()}")
        return Setup("full", None, note, label)
    try:
        models = cnn_weights.load_models(names, weights)
    except cnn_weights.WeightsError as exc:
        note = missing_weights_note(weights, exc)
        if mode == "light":
            note += "\nLight mode needs the CoNNear cochlea: showing the full (TL) reference."
        return Setup("full", None, note, label)
    return Setup(mode, models, None, label, cnn_weights.weights_quality(weights))


def _models_key(models):
    if models is None:
        return None
    parts = []
    for name in sorted(models):
        m = models[name]
        w = m.weights
        probe = float(np.sum(w[0].numpy())) + float(np.sum(w[-1].numpy())) if w else 0.0
        parts.append((name, id(m), round(probe, 12)))
    return parts


# ============================================================================================
# simulation engine


def _check_options(options):
    """The reference options (dict) as cache keys and _run_tl use them.

    The engine (default periphery.ENGINE_FOR_COMPARISON) is checked and named canonically; it is
    left out when it is "exact", so that the keys of exact simulations stay those written before
    there was an engine option (records on disk are found again). No "engine" means "exact".
    """
    from .periphery import ENGINE_FOR_COMPARISON, check_engine

    opts = dict(PAPER_REFERENCE_OPTIONS if options is None else options)
    unknown = sorted(set(opts) - set(_REFERENCE_OPTION_NAMES))
    if unknown:
        raise ValueError(
            f"unknown reference options {unknown}; allowed: {', '.join(_REFERENCE_OPTION_NAMES)} "
            "(passed to verhulst2018.simulate)")
    engine = check_engine(opts.pop("engine", ENGINE_FOR_COMPARISON))
    if engine != "exact":
        opts["engine"] = engine
    return opts


def _segments(x, lead, tail):
    """Sample ranges [(start, stop)] of x to integrate with the TL model (see module docstring).

    Sound separated by more than lead + tail zeros is split into segments with lead zeros before
    and tail zeros after it (a leading or trailing silence shorter than that is kept whole). When
    there are several segments, each one gets exactly tail zeros after its sound, even past the end
    of x (stop > x.size: the caller pads), so that repeated sounds give identical segments.
    """
    nz = np.flatnonzero(x)
    if nz.size == 0:
        return []
    gap = lead + tail
    starts = [int(nz[0])]
    stops = []
    for k in np.flatnonzero(np.diff(nz) > gap):
        stops.append(int(nz[k]) + 1)
        starts.append(int(nz[k + 1]))
    stops.append(int(nz[-1]) + 1)
    several = len(starts) > 1
    out = []
    for s, e in zip(starts, stops):
        s0 = 0 if (s == starts[0] and s <= gap) else s - lead
        if several:
            e0 = e + tail
        else:
            e0 = x.size if x.size - e <= gap else e + tail
        out.append((s0, e0))
    return out


def _run_tl(segments, cfs, opts, cache, progress, keep=()):
    """BM velocity (n, C) at 100 kHz of each unique segment; dict segment-key -> array.

    Segments whose key is in ``keep`` are looked up in and stored in the memory cache (those of
    stimuli split into several segments, e.g. tone pairs, whose segments recur)."""
    import verhulst2018

    out = {}
    todo = {}
    for key, seg in segments.items():
        rec = cache.get(key, disk=False) if key in keep else None
        if rec is not None:
            out[key] = rec["v"]
        else:
            todo[key] = seg
    by_length = collections.defaultdict(list)
    for key, seg in todo.items():
        by_length[seg.size].append(key)
    for keys in by_length.values():
        batch = np.stack([todo[k] for k in keys])
        # opts come from _check_options: no "engine" there means the exact one
        kw = dict(fs=FS_REFERENCE, cf=cfs, outputs=("v",), progress=progress, **{"engine": "exact", **opts})
        # segments of equal length (e.g. one tone at several levels) run as one batch: with the
        # fast engine up to 8 of them are integrated in lockstep
        res = verhulst2018.simulate(batch[0] if len(keys) == 1 else batch, **kw)
        res = [res] if len(keys) == 1 else res
        for k, r in zip(keys, res):
            out[k] = r.v
            if k in keep:
                cache.put(k, {"v": r.v})
    return out


def reference_batch(signals, fs=FS_REFERENCE, channels=None, row_channels=None, anf=False,
                    reference_options=None, cache=None, splice=True, progress=False):
    """verhulst2018 responses of a batch of stimuli at 20 kHz (one parallel TL batch).

    signals: (n, n_samples) sound pressure (Pa) at fs (100 kHz, or 20 kHz: up-sampled first).
    channels: indices into the 201 CoNNear CFs kept for every row (default all 201).
    row_channels: (n,) one channel index per row instead (e.g. each tone at its own CF).
    anf: also compute the HSR/MSR/LSR rates. reference_options: verhulst2018.simulate options
    (default PAPER_REFERENCE_OPTIONS), including "engine" ("exact" when absent; "fast" runs the TL
    cochlea with the fast engine, the IHC and ANF stages stay exact).
    cache: SimulationCache (default DEFAULT_CACHE).
    splice: skip long silences in the TL model (module docstring). progress: progress bars.
    Returns a list of n dicts: "bm" BM velocity (m/s), "ihc" IHC potential (V), and with anf
    "anfh", "anfm", "anfl" rates (spikes/s); each (n_samples·20 kHz/fs, n_channels).
    """
    cache = _resolve_cache(cache)
    opts = _check_options(reference_options)
    x = np.atleast_2d(np.asarray(signals, dtype=np.float64))
    if x.ndim != 2 or x.shape[1] < 16:
        raise ValueError(f"signals must be (n_stimuli, n_samples) in Pa, got shape {np.shape(signals)}")
    if fs not in (FS_REFERENCE, FS_CNN):
        raise ValueError(f"fs must be {FS_REFERENCE:.0f} or {FS_CNN:.0f} Hz, got {fs!r}")
    x100 = x if fs == FS_REFERENCE else resample_poly(x, 5, 1, axis=-1)
    n_out = int(round(x.shape[1] * FS_CNN / fs))
    all_cfs = _cf.connear_cfs()
    if row_channels is not None:
        row_ch = [np.atleast_1d(np.asarray(c, dtype=int)) for c in row_channels]
        if len(row_ch) != x.shape[0]:
            raise ValueError(f"row_channels must give one channel per row: {x.shape[0]} rows, "
                             f"{len(row_ch)} entries")
    else:
        ch = np.arange(all_cfs.size) if channels is None else np.atleast_1d(np.asarray(channels, dtype=int))
        row_ch = [ch] * x.shape[0]
    outs = ("bm", "ihc") + (FIBRES if anf else ())
    lead, tail = (int(SPLICE_LEAD_S * FS_REFERENCE), int(SPLICE_TAIL_S * FS_REFERENCE)) if splice else (0, 0)
    base = ("ref", _ENGINE_VERSION, _model_fingerprint(), opts, outs, splice, lead, tail)
    hashes = [_hash_array(x100[i]) for i in range(x.shape[0])]
    keys = [_key(*base, hashes[i], row_ch[i]) for i in range(x.shape[0])]
    results = []
    for i, k in enumerate(keys):
        rec = cache.get(k)
        if rec is None and row_ch[i].size < all_cfs.size:  # a record of all 201 CFs serves any subset
            whole = cache.get(_key(*base, hashes[i], np.arange(all_cfs.size)))
            if whole is not None:
                rec = {name: a[:, row_ch[i]] for name, a in whole.items()}
        results.append(rec)
    todo = [i for i, r in enumerate(results) if r is None]
    if not todo:
        return results
    union = np.unique(np.concatenate([row_ch[i] for i in todo]))
    cfs = all_cfs[union]
    plans, segments, recurring = {}, {}, set()
    for i in todo:
        ranges = [(0, x100.shape[1])] if not splice else _segments(x100[i], lead, tail)
        plan = []
        for s, e in ranges:
            seg = x100[i, s:e]
            if seg.size < e - s:  # a segment reaching past the end: pad with silence
                seg = np.concatenate([seg, np.zeros(e - s - seg.size)])
            skey = _key("tl", _ENGINE_VERSION, _model_fingerprint(), opts, _hash_array(seg), union)
            segments[skey] = seg
            plan.append((s, e, skey))
        plans[i] = plan
        if len(plan) > 1:
            recurring.update(k for _, _, k in plan)
    velocity = _run_tl(segments, cfs, opts, cache, progress, recurring)
    # The IHC stage of several rows runs as one call (its 50-ms warm-up is a Python loop):
    # rows are stacked along the channel axis in chunks of at most _IHC_CHUNK_ELEMENTS.
    chunk, size = [], 0
    for n_i, i in enumerate(todo):
        chunk.append(i)
        size += x100.shape[1] * row_ch[i].size
        if size >= _IHC_CHUNK_ELEMENTS or n_i == len(todo) - 1:
            _finish_rows(chunk, plans, velocity, union, row_ch, x100.shape[1], n_out, anf, keys, cache, results)
            chunk, size = [], 0
    return results


_IHC_CHUNK_ELEMENTS = 20_000_000


def _finish_rows(rows, plans, velocity, union, row_ch, n_samples, n_out, anf, keys, cache, results):
    """BM velocity of each row from its segments, then the IHC and ANF stages; fills results."""
    from verhulst2018 import anf as ref_anf
    from verhulst2018 import ihc as ref_ihc

    blocks = []
    for i in rows:
        cols = np.searchsorted(union, row_ch[i])
        v = np.zeros((n_samples, cols.size))
        for s, e, skey in plans[i]:
            stop = min(e, n_samples)
            v[s:stop] = velocity[skey][:stop - s, cols]
        blocks.append(v)
    vihc_all = ref_ihc.ihc_potential(np.concatenate(blocks, axis=1), FS_REFERENCE)
    start = 0
    for i, v in zip(rows, blocks):
        vihc = vihc_all[:, start:start + v.shape[1]]
        start += v.shape[1]
        rec = {
            "bm": _fit(resample_poly(v, 1, 5, axis=0), n_out),
            "ihc": _fit(resample_poly(vihc, 1, 5, axis=0), n_out),
        }
        if anf:
            dec = ref_ihc.decimate_ihc(vihc)  # per row: its start-up fix uses the row's first sample
            for f, fibre in zip(FIBRES, ("hsr", "msr", "lsr")):
                rec[f] = _fit(ref_anf.anf_rate(dec, FS_CNN, fibre), n_out)
        cache.put(keys[i], rec, disk=True)
        results[i] = rec


def _fit(x, n):
    if x.shape[0] >= n:
        return x[:n]
    return np.concatenate([x, np.zeros((n - x.shape[0],) + x.shape[1:])])


def _cnn_anf(vihc, model):
    """CoNNear ANF rate (B, T, C) of IHC potential (B, T, C) in V, with a resting-potential
    prelude so that a window starts at the analysis region (module docstring)."""
    from .cnn import inference

    pad = np.repeat(vihc[:, :1, :], ANF_CNN_REST_PAD, axis=1)
    y = inference.anf_rate(np.concatenate([pad, vihc], axis=1).astype(np.float32), model, window=8192)
    return np.asarray(y[:, ANF_CNN_REST_PAD:, :], dtype=np.float64)


def simulate_batch(signals, fs, setup, channels=None, row_channels=None, family="ihc",
                   fibres=FIBRES, cnn_anf_input="reference", reference_options=None, cache=None,
                   splice=True, progress=False):
    """Reference and CoNNear responses of a batch of stimuli, like periphery.simulate per row.

    signals: (n, n_samples) sound pressure (Pa) at fs (100 or 20 kHz). setup: from
    :func:`prepare` (mode and models). channels / row_channels: as :func:`reference_batch`.
    family: "ihc" (BM and IHC) or "anf" (also the ANF rates). fibres: ANF types run through the
    CNNs (the reference always gives all three). cnn_anf_input: "reference" (the paper's
    evaluation: the reference IHC potential drives the ANF CNNs) or "cnn" (the CNN chain).
    Returns a list of n :class:`connear_helpers.periphery.PeripheryResult` at 20 kHz; the CNN
    fields are None without models.
    """
    from . import periphery

    cache = _resolve_cache(cache)
    opts = _check_options(reference_options)
    x = np.atleast_2d(np.asarray(signals, dtype=np.float64))
    anf = family == "anf"
    fibres = tuple(fibres)
    all_cfs = _cf.connear_cfs()
    if row_channels is not None:
        row_ch = [np.atleast_1d(np.asarray(c, dtype=int)) for c in row_channels]
    else:
        ch = np.arange(all_cfs.size) if channels is None else np.atleast_1d(np.asarray(channels, dtype=int))
        row_ch = [ch] * x.shape[0]
    models = setup.models
    rkeys = [_key("res", _ENGINE_VERSION, setup.mode, _models_key(models), _hash_array(x[i]), fs,
                  row_ch[i], family, fibres, cnn_anf_input, opts, splice) for i in range(x.shape[0])]
    records = [cache.get(k, disk=False) for k in rkeys]
    todo = [i for i, r in enumerate(records) if r is None]
    if todo:
        if setup.mode == "full":
            refs = reference_batch(x[todo], fs, row_channels=[row_ch[i] for i in todo], anf=anf,
                                   reference_options=opts, cache=cache, splice=splice, progress=progress)
            new = [{"bm": r["bm"], "ihc_ref": r["ihc"], **{f"{f}_ref": r[f] for f in FIBRES if f in r}}
                   for r in refs]
        else:
            new = []
            for i in todo:
                x20 = x[i] if fs == FS_CNN else resample_poly(x[i], 1, 5)
                res = periphery.simulate(x20, FS_CNN, mode="light", cf=all_cfs[row_ch[i]],
                                         stages=("bm", "ihc"), weights=models)
                rec = {"bm": res.bm, "ihc_ref": res.ihc_ref, "ihc_cnn": res.ihc_cnn}
                if anf:
                    from verhulst2018 import anf as ref_anf

                    for f, fibre in zip(FIBRES, ("hsr", "msr", "lsr")):
                        rec[f"{f}_ref"] = ref_anf.anf_rate(res.ihc_ref, FS_CNN, fibre)
                new.append(rec)
        if models is not None:
            _add_cnn(new, models, family, fibres, cnn_anf_input)
        for i, rec in zip(todo, new):
            cache.put(rkeys[i], rec)
            records[i] = rec
    out = []
    for i, rec in enumerate(records):
        res = periphery.PeripheryResult(cf=all_cfs[row_ch[i]], fs=FS_CNN, mode=setup.mode,
                                        weights=setup.label)
        for name, value in rec.items():
            setattr(res, name, value)
        out.append(res)
    return out


def _add_cnn(records, models, family, fibres, cnn_anf_input):
    """Add ihc_cnn (and anf*_cnn) to records, batching rows of equal shape."""
    from .cnn import inference

    groups = collections.defaultdict(list)
    for j, rec in enumerate(records):
        groups[rec["bm"].shape].append(j)
    for idx in groups.values():
        if "ihc_cnn" not in records[idx[0]] and (family == "ihc" or cnn_anf_input == "cnn"):
            bm = np.stack([records[j]["bm"] for j in idx]).astype(np.float32)
            ihc = np.asarray(inference.ihc_potential(bm, models["ihc"]), dtype=np.float64)
            for j, y in zip(idx, ihc):
                records[j]["ihc_cnn"] = y
        if family == "anf":
            drive_name = "ihc_cnn" if cnn_anf_input == "cnn" else "ihc_ref"
            drive = np.stack([records[j][drive_name] for j in idx])
            for f in fibres:
                rates = _cnn_anf(drive, models[f])
                for j, y in zip(idx, rates):
                    records[j][f"{f}_cnn"] = y


# ============================================================================================
# stimuli


def build_stimuli(metric, fs, levels_db_spl=None, freqs_hz=None, tone_s=None, fm_hz=None,
                  modulation_depth=None, intervals_s=None, kind=None):
    """Stimuli of a metric (spec §4.1), optionally with another tone duration, fm, depth or kind.

    metric: a name of connear_helpers.stimuli.metric_names(). fs: Hz. levels_db_spl, freqs_hz,
    intervals_s: as stimuli.metric_stimuli. tone_s: tone duration (s) instead of the recipe's.
    fm_hz, modulation_depth: SAM parameters. kind: "pure" or "sam" instead of the recipe's kind
    (same ramps and silences). Without overrides this is exactly stimuli.metric_stimuli.
    Returns a stimuli.StimulusSet (signals (n_rows, n_samples) in Pa).
    """
    recipe = stimuli.metric_recipe(metric)
    if tone_s is None and fm_hz is None and modulation_depth is None and kind in (None, recipe.kind):
        return stimuli.metric_stimuli(metric, levels_db_spl, freqs_hz, fs, intervals_s)
    if recipe.kind == "tone_pair" or kind == "tone_pair":
        raise ValueError("tone pairs take no tone_s/fm_hz/depth/kind overrides; use intervals_s")
    recipe = dataclasses.replace(
        recipe,
        kind=recipe.kind if kind is None else kind,
        tone_s=recipe.tone_s if tone_s is None else float(tone_s),
        fm_hz=recipe.fm_hz if fm_hz is None else float(fm_hz),
        modulation_depth=recipe.modulation_depth if modulation_depth is None else float(modulation_depth),
    )
    if recipe.kind not in ("pure", "sam"):
        raise ValueError(f'kind must be "pure" or "sam", got {recipe.kind!r}')
    levels = np.atleast_1d(np.asarray(recipe.levels_db_spl if levels_db_spl is None else levels_db_spl, float))
    freqs = np.atleast_1d(np.asarray(recipe.freqs_hz if freqs_hz is None else freqs_hz, float))
    cfs = _cf.connear_cfs()
    idx = np.atleast_1d(_cf.nearest_cf_index(cfs, freqs))
    if recipe.snap_to_cf:
        freqs = cfs[idx]
    rows, row_l, row_f, row_i = [], [], [], []
    for f, i in zip(freqs, idx):
        for level in levels:
            if recipe.kind == "pure":
                tone = stimuli.pure_tone(f, level, recipe.tone_s, fs, recipe.ramp_s, recipe.ramp_shape)
            else:
                tone = stimuli.sam_tone(f, recipe.fm_hz, recipe.modulation_depth, level, recipe.tone_s,
                                        fs, recipe.ramp_s, recipe.ramp_shape)
            rows.append(stimuli.add_silence(tone, fs, recipe.silence_before_s, recipe.silence_after_s))
            row_l.append(level)
            row_f.append(f)
            row_i.append(i)
    return stimuli.StimulusSet(
        metric=metric, fs=float(fs), signals=np.stack(rows), levels_db_spl=np.asarray(row_l),
        freqs_hz=np.asarray(row_f), cf_index=np.asarray(row_i, dtype=int),
        tone_onset_s=recipe.silence_before_s, tone_s=recipe.tone_s, recipe=recipe)


def _fs_for(setup):
    return FS_REFERENCE if setup.mode == "full" else FS_CNN


def _crop(x, context):
    left, right = context
    return x[left:x.shape[0] - right]


# ============================================================================================
# compute functions (the numbers behind figures, widgets and the evaluation)


def compute_excitation_patterns(weights="connear-lab", freqs_hz=(500.0, 1000.0, 2000.0),
                                levels_db_spl=tuple(range(0, 101, 10)), cf=None, mode="full",
                                reference_options=None, cache=None, progress=False, setup=None):
    """Metric 1: mean IHC potential across CF for pure tones (spec §4.2).

    freqs_hz: tone frequencies (Hz, not snapped). levels_db_spl: levels (dB SPL). cf: CFs (Hz) to
    keep (default all 201; the reference cost does not depend on it, the CNN's does).
    Returns dict: setup, freqs_hz (n_f,), levels_db_spl (n_l,), cf_hz (n_cf,),
    ref {freq: (n_l, n_cf) V}, cnn {freq: (n_l, n_cf) V} or None.
    """
    setup = setup or prepare(weights, mode, "ihc")
    fs = _fs_for(setup)
    stim = build_stimuli("ihc_excitation_pattern", fs, levels_db_spl, freqs_hz)
    channels = _channels(cf)
    res = simulate_batch(stim.signals, fs, setup, channels=channels, family="ihc",
                         reference_options=reference_options, cache=cache, progress=progress)
    freqs = np.unique(stim.freqs_hz)
    levels = np.asarray(stim.levels_db_spl[stim.freqs_hz == freqs[0]])
    ref, cnn = {}, ({} if setup.has_cnn else None)

    def patterns(rows, field):
        return np.stack([metrics.excitation_pattern(_crop(getattr(res[r], field), IHC_CONTEXT), FS_CNN) for r in rows])

    for f in freqs:
        rows = np.flatnonzero(stim.freqs_hz == f)
        ref[float(f)] = patterns(rows, "ihc_ref")
        if cnn is not None:
            cnn[float(f)] = patterns(rows, "ihc_cnn")
    return dict(setup=setup, freqs_hz=freqs, levels_db_spl=levels, cf_hz=res[0].cf, ref=ref, cnn=cnn)


def _channels(cf):
    if cf is None:
        return None
    return np.unique(np.atleast_1d(_cf.nearest_cf_index(_cf.connear_cfs(), np.asarray(cf, float))))


def compute_ac_dc_ratio(weights="connear-lab", freqs_hz=None, level_db_spl=80.0, mode="full",
                        reference_options=None, cache=None, progress=False, setup=None):
    """Metric 2: AC/DC ratio of the IHC potential vs frequency, each tone at its own CF (§4.3).

    freqs_hz: tone frequencies (Hz; default the paper's 20 log-spaced 150-8000 Hz), snapped to CFs.
    level_db_spl: tone level (dB SPL).
    Returns dict: setup, freqs_hz (n,) snapped (Hz), ratio_ref, ratio_cnn (n,) or None,
    trace_ref, trace_cnn (n, 2048) cropped IHC potentials (V), time_s (2048,) from the crop start,
    ac_window_s, dc_window_s (the analysis windows, s).
    """
    setup = setup or prepare(weights, mode, "ihc")
    fs = _fs_for(setup)
    stim = build_stimuli("ihc_ac_dc_ratio", fs, [level_db_spl], freqs_hz)
    res = simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="ihc",
                         reference_options=reference_options, cache=cache, progress=progress)
    ref = np.stack([_crop(r.ihc_ref[:, 0], IHC_CONTEXT) for r in res])
    freqs, ratio_ref = metrics.ac_dc_curve(ref, stim.freqs_hz, FS_CNN)
    out = dict(setup=setup, freqs_hz=freqs, ratio_ref=ratio_ref, ratio_cnn=None, trace_ref=ref,
               trace_cnn=None, time_s=np.arange(ref.shape[1]) / FS_CNN,
               ac_window_s=metrics.IHC_AC_WINDOW_S, dc_window_s=metrics.IHC_DC_WINDOW_S,
               level_db_spl=float(level_db_spl))
    if setup.has_cnn:
        cnn = np.stack([_crop(r.ihc_cnn[:, 0], IHC_CONTEXT) for r in res])
        out["trace_cnn"] = cnn
        out["ratio_cnn"] = metrics.ac_dc_curve(cnn, stim.freqs_hz, FS_CNN)[1]
    return out


def compute_level_growth(weights="connear-lab", freq_hz=4000.0, levels_db_spl=tuple(range(0, 101, 10)),
                         mode="full", reference_options=None, cache=None, progress=False, setup=None):
    """Metric 3: RMS of the DC-removed IHC potential vs level at the CF of freq_hz (spec §4.4).

    Returns dict: setup, freq_hz (snapped, Hz), levels_db_spl (n,), rms_ref, rms_cnn (n,) in V
    (rms_cnn None without CNN).
    """
    setup = setup or prepare(weights, mode, "ihc")
    fs = _fs_for(setup)
    stim = build_stimuli("ihc_level_growth", fs, levels_db_spl, [freq_hz])
    res = simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="ihc",
                         reference_options=reference_options, cache=cache, progress=progress)
    ref = np.stack([_crop(r.ihc_ref[:, 0], IHC_CONTEXT) for r in res])
    out = dict(setup=setup, freq_hz=float(stim.freqs_hz[0]), levels_db_spl=stim.levels_db_spl,
               rms_ref=metrics.level_growth(ref, FS_CNN), rms_cnn=None)
    if setup.has_cnn:
        cnn = np.stack([_crop(r.ihc_cnn[:, 0], IHC_CONTEXT) for r in res])
        out["rms_cnn"] = metrics.level_growth(cnn, FS_CNN)
    return out


def _anf_responses(res, fibres, setup):
    """Cropped ANF rates: ref/cnn dicts fibre -> (n_rows, n_crop) spikes/s (channel 0)."""
    ref = {f: np.stack([_crop(getattr(r, f"{f}_ref")[:, 0], ANF_CONTEXT) for r in res]) for f in fibres}
    cnn = None
    if setup.has_cnn:
        cnn = {f: np.stack([_crop(getattr(r, f"{f}_cnn")[:, 0], ANF_CONTEXT) for r in res]) for f in fibres}
    return ref, cnn


def compute_anf_firing_rates(weights="connear-lab", freqs_hz=(1000.0, 4000.0), kinds=("pure", "sam"),
                             levels_db_spl=(70.0,), tone_s=None, fm_hz=None, modulation_depth=None,
                             fibres=FIBRES, mode="full", cnn_anf_input="reference",
                             reference_options=None, cache=None, progress=False, setup=None):
    """Metric 4: ANF firing rates over time to pure and SAM tones at CFs (spec §4.5).

    freqs_hz: tone frequencies (Hz), snapped to CFs and read at those CFs. kinds: "pure" and/or
    "sam". levels_db_spl: levels. tone_s: tone duration (default 0.4 s). fm_hz,
    modulation_depth: SAM parameters (default 100 Hz, 1).
    Returns dict: setup, time_s (n_crop,) from the crop start (tone onset at 5 ms), conditions:
    list of (kind, freq_hz snapped, level), ref / cnn: {fibre: (n_conditions, n_crop) spikes/s}.
    """
    setup = setup or prepare(weights, mode, "anf", cnn_anf_input)
    fs = _fs_for(setup)
    conditions, ref, cnn = [], {f: [] for f in fibres}, ({f: [] for f in fibres} if setup.has_cnn else None)
    for kind in kinds:
        metric = "anf_firing_rate_sam" if kind == "sam" else "anf_firing_rate_tone"
        stim = build_stimuli(metric, fs, levels_db_spl, freqs_hz, tone_s=tone_s,
                             fm_hz=fm_hz if kind == "sam" else None,
                             modulation_depth=modulation_depth if kind == "sam" else None)
        res = simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="anf",
                             fibres=fibres, cnn_anf_input=cnn_anf_input,
                             reference_options=reference_options, cache=cache, progress=progress)
        r, c = _anf_responses(res, fibres, setup)
        for f in fibres:
            ref[f].append(r[f])
            if cnn is not None:
                cnn[f].append(c[f])
        conditions += [(kind, float(f), float(level)) for f, level in zip(stim.freqs_hz, stim.levels_db_spl)]
    n = min(a.shape[1] for a in ref[fibres[0]])
    ref = {f: np.concatenate([a[:, :n] for a in v]) for f, v in ref.items()}
    if cnn is not None:
        cnn = {f: np.concatenate([a[:, :n] for a in v]) for f, v in cnn.items()}
    return dict(setup=setup, time_s=np.arange(n) / FS_CNN, conditions=conditions, ref=ref, cnn=cnn)


def compute_rate_level(weights="connear-lab", freqs_hz=(1000.0, 4000.0), levels_db_spl=tuple(range(0, 101, 10)),
                       fibres=FIBRES, mode="full", cnn_anf_input="reference", reference_options=None,
                       cache=None, progress=False, setup=None):
    """Metric 5: mean rate 10-40 ms after onset of 50-ms tones vs level, at CFs (spec §4.6).

    Returns dict: setup, freqs_hz (n_f,) snapped, levels_db_spl (n_l,), ref / cnn:
    {fibre: (n_f, n_l) spikes/s}.
    """
    setup = setup or prepare(weights, mode, "anf", cnn_anf_input)
    fs = _fs_for(setup)
    stim = build_stimuli("anf_rate_level", fs, levels_db_spl, freqs_hz)
    res = simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="anf",
                         fibres=fibres, cnn_anf_input=cnn_anf_input,
                         reference_options=reference_options, cache=cache, progress=progress)
    r, c = _anf_responses(res, fibres, setup)
    n_l = np.atleast_1d(levels_db_spl).size
    n_f = stim.signals.shape[0] // n_l

    def curves(d):
        return None if d is None else {f: metrics.rate_level(v, FS_CNN).reshape(n_f, n_l) for f, v in d.items()}

    return dict(setup=setup, freqs_hz=np.asarray(stim.freqs_hz[::n_l]), levels_db_spl=stim.levels_db_spl[:n_l],
                ref=curves(r), cnn=curves(c))


def compute_synchrony_level(weights="connear-lab", freqs_hz=(1000.0, 4000.0), levels_db_spl=tuple(range(0, 101, 5)),
                            tone_s=None, fm_hz=100.0, modulation_depth=1.0, fibres=FIBRES, mode="full",
                            cnn_anf_input="reference", reference_options=None, cache=None, progress=False,
                            setup=None):
    """Metric 6: vector strength at fm of the rate to SAM tones vs level, at CFs (spec §4.7).

    tone_s: SAM duration (default 0.4 s); the analysis window is the whole tone (from 5 ms after the
    crop start). Returns dict: setup, freqs_hz (n_f,), levels_db_spl (n_l,), fm_hz,
    ref / cnn: {fibre: (n_f, n_l) vector strength}.
    """
    setup = setup or prepare(weights, mode, "anf", cnn_anf_input)
    fs = _fs_for(setup)
    stim = build_stimuli("anf_synchrony_level", fs, levels_db_spl, freqs_hz, tone_s=tone_s,
                         fm_hz=None if fm_hz == 100.0 else fm_hz,
                         modulation_depth=None if modulation_depth == 1.0 else modulation_depth)
    res = simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="anf",
                         fibres=fibres, cnn_anf_input=cnn_anf_input,
                         reference_options=reference_options, cache=cache, progress=progress)
    r, c = _anf_responses(res, fibres, setup)
    onset = metrics.ANF_SYNCHRONY_WINDOW_S[0]
    window = (onset, onset + stim.tone_s)
    n_l = np.atleast_1d(levels_db_spl).size
    n_f = stim.signals.shape[0] // n_l

    def curves(d):
        if d is None:
            return None
        return {f: metrics.synchrony_level(v, FS_CNN, fm_hz, window).reshape(n_f, n_l) for f, v in d.items()}

    return dict(setup=setup, freqs_hz=np.asarray(stim.freqs_hz[::n_l]), levels_db_spl=stim.levels_db_spl[:n_l],
                fm_hz=float(fm_hz), ref=curves(r), cnn=curves(c))


def compute_adaptation(weights="connear-lab", freq_hz=1000.0, level_db_spl=70.0, tone_s=1.0,
                       probe_s=None, fibres=FIBRES, mode="full", cnn_anf_input="reference",
                       reference_options=None, cache=None, progress=False, setup=None):
    """Fig. 4a: ANF rates to a long tone and the adaptation ratio rate(probe)/rate(end) (§4.8).

    tone_s: tone duration (s). probe_s: time after onset of the probe (default 0.4 s, or
    tone_s/3 for tones shorter than 0.5 s). Rates are averaged over the 10 ms before each time.
    Returns dict: setup, time_s (n,) from tone onset, ref / cnn {fibre: (n,) spikes/s},
    ratio_ref / ratio_cnn {fibre: float}, probe_s, tone_s, freq_hz (snapped).
    """
    setup = setup or prepare(weights, mode, "anf", cnn_anf_input)
    fs = _fs_for(setup)
    stim = build_stimuli("anf_adaptation", fs, [level_db_spl], [freq_hz],
                         tone_s=None if tone_s == 1.0 else tone_s)
    res = simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="anf",
                         fibres=fibres, cnn_anf_input=cnn_anf_input,
                         reference_options=reference_options, cache=cache, progress=progress)
    r, c = _anf_responses(res, fibres, setup)
    onset = stim.tone_onset_s - ANF_CONTEXT[0] / FS_CNN
    probe = probe_s if probe_s is not None else (0.4 if stim.tone_s >= 0.5 else stim.tone_s / 3)

    def ratio(d):
        if d is None:
            return None
        return {f: float(metrics.adaptation_ratio(v[0], FS_CNN, probe, stim.tone_s, onset)) for f, v in d.items()}

    n = r[fibres[0]].shape[1]
    return dict(setup=setup, time_s=np.arange(n) / FS_CNN - onset, ref={f: v[0] for f, v in r.items()},
                cnn=None if c is None else {f: v[0] for f, v in c.items()}, ratio_ref=ratio(r),
                ratio_cnn=ratio(c), probe_s=float(probe), tone_s=float(stim.tone_s),
                freq_hz=float(stim.freqs_hz[0]), level_db_spl=float(level_db_spl))


#: Fig. 4b levels: 40 dB above each fibre type's threshold (spec §4.8).
RECOVERY_LEVELS_DB_SPL = {"anfh": 60.0, "anfm": 65.0, "anfl": 75.0}


def compute_onset_recovery(weights="connear-lab", intervals_s=tuple(round(0.1 * k, 1) for k in range(1, 20)),
                           freq_hz=2000.0, levels_db_spl=None, fibres=FIBRES, mode="full",
                           cnn_anf_input="reference", reference_options=None, cache=None, progress=False,
                           setup=None, keep_traces=False):
    """Fig. 4b: onset peak of the second of two 100-ms tones vs the silent interval (spec §4.8).

    intervals_s: offset-to-onset intervals (s); peaks are normalised by the longest one.
    levels_db_spl: {fibre: level} (default RECOVERY_LEVELS_DB_SPL: 60/65/75 dB).
    keep_traces: also return the cropped rates (for the widgets' waveform view).
    Returns dict: setup, intervals_s (n,), ref / cnn {fibre: (n,) normalised peak},
    and with keep_traces trace_ref / trace_cnn {fibre: (n, n_crop) spikes/s}, time_s.
    """
    setup = setup or prepare(weights, mode, "anf", cnn_anf_input)
    fs = _fs_for(setup)
    levels = dict(RECOVERY_LEVELS_DB_SPL if levels_db_spl is None else levels_db_spl)
    intervals = np.asarray(sorted(set(float(i) for i in intervals_s)))
    out = dict(setup=setup, intervals_s=intervals, ref={}, cnn={} if setup.has_cnn else None,
               freq_hz=float(_cf.snap_to_cf(freq_hz)), levels_db_spl=levels)
    traces_ref, traces_cnn = {}, {}
    tone_s = stimuli.metric_recipe("anf_onset_recovery").tone_s
    stims = {f: build_stimuli("anf_onset_recovery", fs, [levels[f]], [freq_hz], intervals_s=intervals)
             for f in fibres}
    if setup.mode == "full":  # the reference of all levels as one parallel batch (then cached)
        reference_batch(np.concatenate([st.signals for st in stims.values()]), fs,
                        row_channels=np.concatenate([st.cf_index for st in stims.values()]), anf=True,
                        reference_options=reference_options, cache=cache, progress=progress)
    for f in fibres:
        stim = stims[f]
        res = simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="anf",
                             fibres=(f,), cnn_anf_input=cnn_anf_input,
                             reference_options=reference_options, cache=cache, progress=progress)
        r, c = _anf_responses(res, (f,), setup)
        onsets = metrics.second_tone_onsets(stim.intervals_s, stim.tone_onset_s - ANF_CONTEXT[0] / FS_CNN, tone_s)
        out["ref"][f] = metrics.onset_peak_recovery(r[f], FS_CNN, onsets, tone_s)
        traces_ref[f] = r[f]
        if c is not None:
            out["cnn"][f] = metrics.onset_peak_recovery(c[f], FS_CNN, onsets, tone_s)
            traces_cnn[f] = c[f]
    if keep_traces:
        out["trace_ref"], out["trace_cnn"] = traces_ref, (traces_cnn if setup.has_cnn else None)
        out["time_s"] = np.arange(next(iter(traces_ref.values())).shape[1]) / FS_CNN
    return out


# ============================================================================================
# drawing helpers


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _columns(setup):
    cols = ["reference (verhulst2018)"]
    if setup.has_cnn:
        cols.append(f"CoNNear ({setup.label})")
    return cols


def _grid(setup, n_rows, row_height=2.6, width=5.0, sharey="row", sharex=True):
    plt = _pyplot()
    n_cols = len(_columns(setup))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(max(width * n_cols, 7.0), row_height * n_rows + 0.8),
                             squeeze=False, sharey=sharey, sharex=sharex)
    for j, title in enumerate(_columns(setup)):
        axes[0, j].set_title(title, fontsize=10)
    return fig, axes


def _khz_axis(ax, lim, ticks):
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    ax.set_xscale("log")
    ax.set_xlim(*lim)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticklabels([f"{t:g}" for t in ticks])


def _finish(fig, setup, title):
    mode = "full: TL cochlea" if setup.mode == "full" else "light: CoNNear cochlea"
    fig.suptitle(f"{title}  [{mode}]", fontsize=11)
    fig.tight_layout()
    if setup.quality and setup.has_cnn and not setup.note:
        width_in, height_in = fig.get_size_inches()
        chars_per_line = max(20, int(width_in * 0.9 / 0.05))
        n_lines = -(-len(setup.quality) // chars_per_line)
        axes_bottom = min(p.y0 for ax in fig.axes for p in [ax.get_position()])
        fig.subplots_adjust(bottom=min(0.5, axes_bottom + (0.14 * n_lines + 0.1) / height_in))
        fig.text(0.5, 0.01, setup.quality, ha="center", va="bottom", fontsize=7, color="0.3", wrap=True)
    if setup.note:
        width_in, height_in = fig.get_size_inches()
        chars_per_line = max(20, int(width_in * 0.9 / 0.055))  # 7.5-pt text, ~0.055 in per char
        n_lines = sum(-(-max(len(line), 1) // chars_per_line) for line in setup.note.splitlines())
        needed_in = 0.16 * n_lines + 0.2  # note box
        axes_bottom = min(p.y0 for ax in fig.axes for p in [ax.get_position()])
        fig.subplots_adjust(bottom=min(0.6, axes_bottom + needed_in / height_in))
        fig.text(0.5, 0.01, setup.note, ha="center", va="bottom", fontsize=7.5, color="darkred",
                 wrap=True, bbox=dict(boxstyle="round", facecolor="mistyrose", edgecolor="darkred"))
    return fig


def _experimental(name):
    from .experimental_data import load_experimental

    try:
        return load_experimental(name)
    except (FileNotFoundError, ValueError):
        return None


def _plot_experimental(ax, name, style, label):
    d = _experimental(name)
    if d is not None:
        ax.plot(d["x"], d["y"], style, ms=3.5, label=label, alpha=0.8)


# ============================================================================================
# figures

#: Reduced settings of quick=True (same code path; fewer levels/frequencies, shorter tones).
QUICK = {
    "fig2": dict(freqs_hz=(500.0, 1000.0, 2000.0), levels_db_spl=(30.0, 60.0, 90.0)),
    "fig3a": dict(n_freqs=5),
    "fig3b": dict(levels_db_spl=(0.0, 30.0, 60.0, 90.0)),
    "fig4a": dict(tone_s=0.3),
    "fig4b": dict(intervals_s=(0.1, 0.2, 0.4, 0.8, 1.9)),
    "fig5": dict(tone_s=0.1),
    "fig6a": dict(levels_db_spl=(0.0, 20.0, 40.0, 60.0, 80.0)),
    "fig6b": dict(levels_db_spl=(20.0, 50.0, 80.0), tone_s=0.1),
}


def _pick(value, quick, fig, key, default):
    if value is not None:
        return value
    return QUICK[fig][key] if quick else default


def paper_ac_dc_freqs(n_freqs=20):
    """Tone frequencies of Fig. 3a: the paper's 20 log-spaced 150-8000 Hz snapped to CFs, or
    n_freqs of them evenly picked (always including both ends). Returns (n,) Hz."""
    full = np.asarray(stimuli.metric_recipe("ihc_ac_dc_ratio").freqs_hz)
    if n_freqs >= full.size:
        return full
    idx = np.unique(np.round(np.linspace(0, full.size - 1, int(n_freqs))).astype(int))
    return full[idx]


def fig2_ihc_excitation_patterns(weights="connear-lab", *, quick=False, freqs_hz=None, levels_db_spl=None,
                                 cf=None, mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 2 (Metric 1): IHC excitation patterns, rows 0.5/1/2 kHz, curves per level.

    freqs_hz: tone frequencies (default 500, 1000, 2000 Hz). levels_db_spl: default 0:10:100
    (quick: 30, 60, 90). cf: CFs (Hz) to draw (default all 201).
    Returns (fig, table): table cf_hz and ref_/cnn_<f>Hz_<L>dB_mV columns (mean V_m in mV).
    """
    freqs = _pick(freqs_hz, quick, "fig2", "freqs_hz", (500.0, 1000.0, 2000.0))
    levels = _pick(levels_db_spl, quick, "fig2", "levels_db_spl", tuple(float(v) for v in range(0, 101, 10)))
    d = compute_excitation_patterns(weights, freqs, levels, cf, mode, reference_options, cache, progress)
    return draw_excitation_patterns(d)


def draw_excitation_patterns(d):
    """Figure of :func:`compute_excitation_patterns` output; returns (fig, table)."""
    plt = _pyplot()
    setup = d["setup"]
    freqs, levels, cfk = d["freqs_hz"], d["levels_db_spl"], d["cf_hz"] / 1e3
    fig, axes = _grid(setup, len(freqs))
    colours = plt.cm.viridis(np.linspace(0, 0.95, len(levels)))
    table = {"cf_hz": d["cf_hz"]}
    for i, f in enumerate(freqs):
        for j, (name, data) in enumerate((("ref", d["ref"]), ("cnn", d["cnn"]))):
            if data is None:
                continue
            ax = axes[i, j]
            if name == "cnn":
                for k in range(len(levels)):
                    ax.semilogx(cfk, d["ref"][f][k] * 1e3, color="0.75", lw=0.8, zorder=1)
            for k, level in enumerate(levels):
                ax.semilogx(cfk, data[f][k] * 1e3, color=colours[k], lw=1.2, label=f"{level:g} dB")
                table[f"{name}_{f:g}Hz_{level:g}dB_mV"] = data[f][k] * 1e3
            ax.axvline(f / 1e3, color="k", lw=0.6, ls=":")
            # the whole CF range (0.11-12 kHz), so that no pattern is cut at its peak
            _khz_axis(ax, (0.1, 14), [0.125, 0.25, 0.5, 1, 2, 4, 8])
            ax.set_ylabel(f"{f / 1e3:g} kHz tone\nmean $V_m$ [mV]")
    # one legend for the levels, outside the data (high-level patterns fill the panels' corners)
    axes[0, -1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), title="level",
                       title_fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("CF [kHz]")
    return _finish(fig, setup, "Fig. 2 - IHC excitation patterns"), table


def fig3a_ihc_ac_dc_ratio(weights="connear-lab", *, quick=False, freqs_hz=None, level_db_spl=80.0,
                          mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 3a (Metric 2): AC/DC ratio of the IHC potential vs CF at 80 dB, with guinea-pig data.

    freqs_hz: tone frequencies (default the paper's 20; quick: 6 of them).
    Returns (fig, table): frequency_hz, ac_dc_ratio_ref, ac_dc_ratio_cnn (if CNN).
    """
    if freqs_hz is None:
        freqs_hz = paper_ac_dc_freqs(QUICK["fig3a"]["n_freqs"] if quick else 20)
    d = compute_ac_dc_ratio(weights, freqs_hz, level_db_spl, mode, reference_options, cache, progress)
    return draw_ac_dc_ratio(d)


def draw_ac_dc_ratio(d, inset_freq_hz=None):
    """Figure of :func:`compute_ac_dc_ratio` output, optionally with a waveform inset at the
    tone nearest inset_freq_hz; returns (fig, table)."""
    setup = d["setup"]
    fig, axes = _grid(setup, 1, row_height=3.6, sharey=True)
    fk = d["freqs_hz"] / 1e3
    table = {"frequency_hz": d["freqs_hz"], "ac_dc_ratio_ref": d["ratio_ref"]}
    for j, (name, ratio) in enumerate((("ref", d["ratio_ref"]), ("cnn", d["ratio_cnn"]))):
        if ratio is None:
            continue
        ax = axes[0, j]
        if name == "cnn":
            ax.loglog(fk, np.abs(d["ratio_ref"]), color="0.7", lw=1, label="reference")
            table["ac_dc_ratio_cnn"] = ratio
        ax.loglog(fk, np.abs(ratio), "k.-", lw=1.5, label="model")
        for cell, style in ((1, "o"), (2, "s")):
            d_exp = _experimental(f"ac_dc_ratio_guinea_pig_cell{cell}")
            if d_exp is not None:
                ax.loglog(d_exp["x"] / 1e3, d_exp["y"], style, mfc="none", ms=4, alpha=0.8,
                          label=f"guinea pig IHC {cell} (Palmer & Russell 1986)")
        _khz_axis(ax, (0.1, 10), [0.1, 0.25, 0.5, 1, 2, 4, 8])
        ax.set_xlabel("frequency [kHz]")
        ax.legend(fontsize=7)
        if inset_freq_hz is not None:
            k = int(np.argmin(np.abs(d["freqs_hz"] - inset_freq_hz)))
            trace = (d["trace_ref"] if name == "ref" else d["trace_cnn"])[k]
            ins = ax.inset_axes([0.08, 0.08, 0.42, 0.32])
            t = d["time_s"] * 1e3
            ins.plot(t, trace * 1e3, lw=0.6, color="k")
            for (a, b), colour in ((d["ac_window_s"], "C1"), (d["dc_window_s"], "C0")):
                ins.axvspan(a * 1e3, b * 1e3, color=colour, alpha=0.3)
            ins.set_title(f"{d['freqs_hz'][k]:.0f} Hz: $V_m$ [mV] vs ms", fontsize=6.5)
            ins.tick_params(labelsize=6)
    axes[0, 0].set_ylabel(f"AC/DC ratio at {d['level_db_spl']:g} dB SPL")
    return _finish(fig, setup, "Fig. 3a - IHC AC/DC ratio"), table


def fig3b_ihc_level_growth(weights="connear-lab", *, quick=False, freq_hz=4000.0, levels_db_spl=None,
                           mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 3b (Metric 3): RMS of the DC-removed IHC potential vs level at 4 kHz.

    levels_db_spl: default 0:10:100 (quick: 0, 30, 60, 90).
    Returns (fig, table): level_db_spl, vihc_rms_ref_mV, vihc_rms_cnn_mV (if CNN).
    """
    levels = _pick(levels_db_spl, quick, "fig3b", "levels_db_spl", tuple(float(v) for v in range(0, 101, 10)))
    d = compute_level_growth(weights, freq_hz, levels, mode, reference_options, cache, progress)
    return draw_level_growth(d)


def draw_level_growth(d):
    """Figure of :func:`compute_level_growth` output; returns (fig, table)."""
    setup = d["setup"]
    fig, axes = _grid(setup, 1, row_height=3.4, sharey=True)
    table = {"level_db_spl": d["levels_db_spl"], "vihc_rms_ref_mV": d["rms_ref"] * 1e3}
    for j, (name, rms) in enumerate((("ref", d["rms_ref"]), ("cnn", d["rms_cnn"]))):
        if rms is None:
            continue
        ax = axes[0, j]
        if name == "cnn":
            ax.plot(d["levels_db_spl"], d["rms_ref"] * 1e3, color="0.7", lw=1, label="reference")
            table["vihc_rms_cnn_mV"] = rms * 1e3
        ax.plot(d["levels_db_spl"], rms * 1e3, "k.-", label="model")
        ax.set_xlabel("level [dB SPL]")
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel(f"RMS of DC-removed $V_m$ [mV]\nCF {d['freq_hz']:.0f} Hz")
    return _finish(fig, setup, "Fig. 3b - IHC potential-level growth"), table


def fig4a_anf_adaptation(weights="connear-lab", *, quick=False, freq_hz=1000.0, level_db_spl=70.0,
                         tone_s=None, mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 4a: adaptation of HSR/MSR/LSR rates to a 1-kHz, 70-dB tone of 1 s (quick: 0.3 s).

    Returns (fig, table): time_s (from tone onset), rate_<fibre>_ref/_cnn (spikes/s), and
    adaptation_ratio_ref/_cnn (rate at the probe time / rate at the tone end, per fibre H/M/L).
    """
    tone = _pick(tone_s, quick, "fig4a", "tone_s", 1.0)
    d = compute_adaptation(weights, freq_hz, level_db_spl, tone, mode=mode,
                           reference_options=reference_options, cache=cache, progress=progress)
    return draw_adaptation(d)


def draw_adaptation(d):
    """Figure of :func:`compute_adaptation` output; returns (fig, table)."""
    setup = d["setup"]
    fibres = list(d["ref"])
    fig, axes = _grid(setup, len(fibres), row_height=2.2, sharey="row")
    t = d["time_s"]
    keep = t >= -0.005
    table = {"time_s": t[keep]}
    for i, f in enumerate(fibres):
        for j, name in enumerate(("ref", "cnn")):
            data = d[name]
            if data is None:
                continue
            ax = axes[i, j]
            if name == "cnn":
                ax.plot(t[keep], d["ref"][f][keep], color="0.75", lw=0.6)
            ratio = d[f"ratio_{name}"][f]
            ax.plot(t[keep], data[f][keep], color=FIBRE_COLOUR[f], lw=0.7,
                    label=f"{FIBRE_LABEL[f]}: rate at {d['probe_s']:g} s = {100 * ratio:.1f} % of end")
            ax.axvline(d["probe_s"], color="k", lw=0.5, ls=":")
            ax.legend(fontsize=7, loc="upper right")
            table[f"rate_{FIBRE_LABEL[f]}_{name}_spikes_per_s"] = data[f][keep]
            table[f"adaptation_ratio_{name}"] = np.array([d[f"ratio_{name}"][g] for g in fibres])
        axes[i, 0].set_ylabel(f"{FIBRE_LABEL[f]} [spikes/s]")
    for ax in axes[-1]:
        ax.set_xlabel("time after tone onset [s]")
    title = f"Fig. 4a - ANF adaptation ({d['freq_hz']:.0f} Hz, {d['level_db_spl']:g} dB SPL, {d['tone_s']:g} s)"
    return _finish(fig, setup, title), table


def fig4b_anf_onset_recovery(weights="connear-lab", *, quick=False, intervals_s=None, freq_hz=2000.0,
                             mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 4b: recovery of the onset peak vs the interval between two 2-kHz 100-ms tones.

    intervals_s: default 0.1:0.1:1.9 s (quick: 0.1, 0.2, 0.4, 0.8, 1.9).
    Returns (fig, table): interval_s and onset_peak_<fibre>_ref/_cnn (normalised to 1.9 s).
    """
    intervals = _pick(intervals_s, quick, "fig4b", "intervals_s", tuple(round(0.1 * k, 1) for k in range(1, 20)))
    d = compute_onset_recovery(weights, intervals, freq_hz, mode=mode, reference_options=reference_options,
                               cache=cache, progress=progress)
    return draw_onset_recovery(d)


def draw_onset_recovery(d, trace_interval_s=None):
    """Figure of :func:`compute_onset_recovery` output; with trace_interval_s (and traces kept)
    a second row shows the rates for that interval. Returns (fig, table)."""
    setup = d["setup"]
    show_trace = trace_interval_s is not None and "trace_ref" in d
    fig, axes = _grid(setup, 2 if show_trace else 1, row_height=3.2, sharey="row", sharex=False)
    x = d["intervals_s"]
    table = {"interval_s": x}
    for j, name in enumerate(("ref", "cnn")):
        data = d[name]
        if data is None:
            continue
        ax = axes[0, j]
        for f, y in data.items():
            if name == "cnn":
                ax.plot(x, d["ref"][f], color="0.75", lw=0.8)
            ax.plot(x, y, ".-", color=FIBRE_COLOUR[f],
                    label=f"{FIBRE_LABEL[f]} ({d['levels_db_spl'][f]:g} dB SPL)")
            table[f"onset_peak_{FIBRE_LABEL[f]}_{name}"] = y
        ax.set_xlabel("inter-stimulus interval [s]")
        ax.legend(fontsize=7)
        if show_trace:
            k = int(np.argmin(np.abs(x - trace_interval_s)))
            axt = axes[1, j]
            traces = d[f"trace_{name}"]
            for f, tr in traces.items():
                axt.plot(d["time_s"], tr[k], color=FIBRE_COLOUR[f], lw=0.6, label=FIBRE_LABEL[f])
            axt.set_xlabel(f"time [s] (interval {x[k]:g} s)")
            axt.set_ylabel("rate [spikes/s]")
            axt.legend(fontsize=7)
    axes[0, 0].set_ylabel("onset peak of 2nd tone\n(relative to the longest interval)")
    title = f"Fig. 4b - ANF onset-peak recovery ({d['freq_hz']:.0f} Hz tone pairs)"
    return _finish(fig, setup, title), table


def draw_adaptation_recovery(adaptation, recovery, interval_s):
    """One figure of Fig. 4a and 4b: adaptation rates (row 1), recovery curves with the chosen
    interval marked (row 2) and the rates for that interval (row 3); the widgets' view.

    adaptation: :func:`compute_adaptation` output; recovery: :func:`compute_onset_recovery`
    output made with keep_traces=True. Returns (fig, table).
    """
    setup = recovery["setup"]
    fig, axes = _grid(setup, 3, row_height=2.4, sharey="row", sharex=False)
    table = {}
    x = recovery["intervals_s"]
    k = int(np.argmin(np.abs(x - interval_s)))
    t_a = adaptation["time_s"]
    keep = t_a >= -0.005
    table["adaptation_time_s"] = t_a[keep]
    table["interval_s"] = x
    for j, name in enumerate(("ref", "cnn")):
        if recovery[name] is None or adaptation[name] is None:
            continue
        ax = axes[0, j]
        for f, y in adaptation[name].items():
            ax.plot(t_a[keep], y[keep], color=FIBRE_COLOUR[f], lw=0.5, label=FIBRE_LABEL[f])
            table[f"adaptation_{FIBRE_LABEL[f]}_{name}_spikes_per_s"] = y[keep]
        ax.set_xlabel(f"time after onset of a {adaptation['tone_s']:g}-s tone [s]")
        ax.legend(fontsize=7, loc="upper right")
        ax = axes[1, j]
        for f, y in recovery[name].items():
            ax.plot(x, y, ".-", color=FIBRE_COLOUR[f], label=FIBRE_LABEL[f])
            table[f"onset_peak_{FIBRE_LABEL[f]}_{name}"] = y
        ax.axvline(x[k], color="k", lw=0.8, ls=":")
        ax.set_xlabel("inter-stimulus interval [s]")
        ax = axes[2, j]
        for f, tr in recovery[f"trace_{name}"].items():
            ax.plot(recovery["time_s"], tr[k], color=FIBRE_COLOUR[f], lw=0.5, label=FIBRE_LABEL[f])
            table[f"trace_{FIBRE_LABEL[f]}_{name}_spikes_per_s"] = tr[k]
        ax.set_xlabel(f"time [s], tone pair with a {x[k]:g}-s interval")
    table["trace_time_s"] = recovery["time_s"]
    axes[0, 0].set_ylabel("rate [spikes/s]")
    axes[1, 0].set_ylabel("2nd onset peak\n(rel. to longest interval)")
    axes[2, 0].set_ylabel("rate [spikes/s]")
    return _finish(fig, setup, "Fig. 4a-b - ANF adaptation and recovery"), table


def fig5_anf_firing_rates(weights="connear-lab", *, quick=False, freqs_hz=(1000.0, 4000.0), level_db_spl=70.0,
                          tone_s=None, mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 5 (Metric 4): HSR/MSR/LSR rates over the first 80 ms of 70-dB pure and SAM tones.

    tone_s: tone duration (default 0.4 s; quick 0.1 s: the plot shows 80 ms either way).
    Returns (fig, table): time_ms and rate_<kind>_<f>Hz_<fibre>_ref/_cnn (spikes/s).
    """
    tone = _pick(tone_s, quick, "fig5", "tone_s", None)
    d = compute_anf_firing_rates(weights, freqs_hz, ("pure", "sam"), (level_db_spl,), tone, mode=mode,
                                 reference_options=reference_options, cache=cache, progress=progress)
    return draw_anf_firing_rates(d)


def draw_anf_firing_rates(d, plot_window_s=metrics.ANF_FIRING_RATE_PLOT_WINDOW_S):
    """Figure of :func:`compute_anf_firing_rates` output (one row per condition); (fig, table)."""
    setup = d["setup"]
    conds = d["conditions"]
    fig, axes = _grid(setup, len(conds), row_height=2.2, sharey="row")
    sl = metrics.window_slice(plot_window_s, FS_CNN, d["time_s"].size)
    t = d["time_s"][sl] * 1e3
    table = {"time_ms": t}
    for i, (kind, f, level) in enumerate(conds):
        for j, name in enumerate(("ref", "cnn")):
            data = d[name]
            if data is None:
                continue
            ax = axes[i, j]
            for fib, y in data.items():
                if name == "cnn":
                    ax.plot(t, d["ref"][fib][i, sl], color="0.8", lw=0.6)
                ax.plot(t, y[i, sl], color=FIBRE_COLOUR[fib], lw=0.8, label=FIBRE_LABEL[fib])
                table[f"rate_{kind}_{f:.0f}Hz_{level:g}dB_{FIBRE_LABEL[fib]}_{name}"] = y[i, sl]
        label = "SAM tone" if kind == "sam" else "pure tone"
        axes[i, 0].set_ylabel(f"{f / 1e3:.2f} kHz {label}\n{level:g} dB [spikes/s]", fontsize=8)
        axes[i, 0].legend(fontsize=6.5, loc="upper right")
    for ax in axes[-1]:
        ax.set_xlabel("time [ms]")
    return _finish(fig, setup, "Fig. 5 - ANF firing rates"), table


def fig6a_anf_rate_level(weights="connear-lab", *, quick=False, freqs_hz=(1000.0, 4000.0), levels_db_spl=None,
                         mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 6a (Metric 5): rate-level curves at 1 and 4 kHz with guinea-pig and mouse data.

    levels_db_spl: default 0:10:100 (quick: 0:20:80).
    Returns (fig, table): level_db_spl and rate_<fibre>_<f>Hz_ref/_cnn (spikes/s).
    """
    levels = _pick(levels_db_spl, quick, "fig6a", "levels_db_spl", tuple(float(v) for v in range(0, 101, 10)))
    d = compute_rate_level(weights, freqs_hz, levels, mode=mode, reference_options=reference_options,
                           cache=cache, progress=progress)
    return draw_rate_level(d)


_RATE_LEVEL_DATA = {
    "anfh": (("rate_level_hsr_guinea_pig", "guinea pig (Winter & Palmer 1991)"),
             ("rate_level_hsr_mouse", "mouse (Taberner & Liberman 2005)")),
    "anfm": (("rate_level_msr_guinea_pig", "guinea pig (Winter & Palmer 1991)"),
             ("rate_level_msr_mouse", "mouse (Taberner & Liberman 2005)")),
    "anfl": (("rate_level_lsr_guinea_pig", "guinea pig (Winter & Palmer 1991)"),),
}
_SYNCHRONY_DATA = {f: ((f"synchrony_level_{FIBRE_LABEL[f].lower()}_cat", "cat (Joris & Yin 1992)"),) for f in FIBRES}
#: Line style of a CF in the level-curve figures, fixed per octave band around 1 kHz (so that adding
#: or removing a CF never restyles the others): 1 kHz dashed and 4 kHz solid as in the paper.
_OCTAVE_STYLES = ("--", ":", "-", (0, (6, 1.5, 1, 1.5)), "-.")


def _cf_style(freq_hz):
    return _OCTAVE_STYLES[int(round(np.log2(freq_hz / 1000.0))) % len(_OCTAVE_STYLES)]


def _draw_level_curves(d, experimental, ylabel, title, quantity, ylim=None):
    setup = d["setup"]
    fibres = list(d["ref"])
    fig, axes = _grid(setup, len(fibres), row_height=2.5, sharey="row")
    levels = d["levels_db_spl"]
    table = {"level_db_spl": levels}
    for i, fib in enumerate(fibres):
        for j, name in enumerate(("ref", "cnn")):
            data = d[name]
            if data is None:
                continue
            ax = axes[i, j]
            for k, f in enumerate(d["freqs_hz"]):
                style = _cf_style(f)
                if name == "cnn":
                    ax.plot(levels, d["ref"][fib][k], linestyle=style, color="0.7", lw=1)
                ax.plot(levels, data[fib][k], linestyle=style, color=FIBRE_COLOUR[fib], lw=1.5, marker=".",
                        label=f"model, CF {f / 1e3:.2f} kHz")
                table[f"{quantity}_{FIBRE_LABEL[fib]}_{f:.0f}Hz_{name}"] = data[fib][k]
            for (dataset, label), mk in zip(experimental.get(fib, ()), ("o", "s")):
                _plot_experimental(ax, dataset, mk, label)
            if ylim:
                ax.set_ylim(*ylim)
        # one legend per row, outside the data (the experimental points fill the panels)
        drawn = [ax for ax in axes[i] if ax.lines]
        if drawn:
            drawn[-1].legend(fontsize=7.5, handlelength=3.5, loc="upper left", bbox_to_anchor=(1.02, 1.0))
        axes[i, 0].set_ylabel(f"{FIBRE_LABEL[fib]}\n{ylabel}")
    for ax in axes[-1]:
        ax.set_xlabel("level [dB SPL]")
    return _finish(fig, setup, title), table


def draw_rate_level(d):
    """Figure of :func:`compute_rate_level` output; returns (fig, table)."""
    return _draw_level_curves(d, _RATE_LEVEL_DATA, "rate [spikes/s]", "Fig. 6a - ANF rate-level curves", "rate")


def fig6b_anf_synchrony_level(weights="connear-lab", *, quick=False, freqs_hz=(1000.0, 4000.0), levels_db_spl=None,
                              tone_s=None, mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 6b (Metric 6): vector strength at 100 Hz vs level for SAM tones, with cat data.

    levels_db_spl: default 0:5:100 (quick: 20, 50, 80). tone_s: SAM duration (default 0.4 s;
    quick 0.1 s). Returns (fig, table): level_db_spl and vs_<fibre>_<f>Hz_ref/_cnn.
    """
    levels = _pick(levels_db_spl, quick, "fig6b", "levels_db_spl", tuple(float(v) for v in range(0, 101, 5)))
    tone = _pick(tone_s, quick, "fig6b", "tone_s", None)
    d = compute_synchrony_level(weights, freqs_hz, levels, tone, mode=mode, reference_options=reference_options,
                                cache=cache, progress=progress)
    return draw_synchrony_level(d)


def draw_synchrony_level(d):
    """Figure of :func:`compute_synchrony_level` output; returns (fig, table)."""
    return _draw_level_curves(d, _SYNCHRONY_DATA, f"vector strength at {d['fm_hz']:g} Hz",
                              "Fig. 6b - ANF synchrony-level curves", "vs", ylim=(0, 1))


# ============================================================================================
# the headless run


def tone_response(freq_hz=1000.0, level_db_spl=70.0, cf=(250.0, 500.0, 1000.0, 2000.0, 4000.0),
                  engine=None):
    """BM velocity, IHC potential and HSR/MSR/LSR rates of verhulst2018 for a tone.

    engine: verhulst2018 engine (None: periphery.ENGINE_FOR_COMPARISON, "exact"; or "fast").
    Returns (figure, table) where table maps column names to 1-D arrays (time, responses).
    """
    from .periphery import ENGINE_FOR_COMPARISON, check_engine

    engine = check_engine(ENGINE_FOR_COMPARISON if engine is None else engine)
    plt = _pyplot()

    import verhulst2018

    fs = verhulst2018.FS
    x = stimuli.pure_tone(freq_hz, level_db_spl, 0.05, fs, ramp_s=5e-3)
    x = stimuli.add_silence(x, fs, 0.01, 0.02)
    out = verhulst2018.simulate(x, fs=fs, cf=np.asarray(cf), outputs=("v", "ihc", "anfh", "anfm", "anfl"),
                              engine=engine, progress=False)
    t = np.arange(x.size) / fs
    t_an = np.arange(out.anfh.shape[0]) / out.fs_anf
    k = int(np.argmin(np.abs(out.cf - freq_hz)))
    fig, ax = plt.subplots(4, 1, figsize=(7, 8), sharex=True)
    ax[0].plot(t * 1e3, x * 1e3, color="0.3")
    ax[0].set_ylabel("pressure [mPa]")
    for i, f in enumerate(out.cf):
        ax[1].plot(t * 1e3, out.v[:, i] * 1e6, lw=0.8, label=f"{f:.0f} Hz")
    ax[1].set_ylabel("BM velocity [µm/s]")
    ax[1].legend(fontsize=7, ncol=3, title="CF", title_fontsize=7)
    ax[2].plot(t * 1e3, out.ihc[:, k] * 1e3, color="C3")
    ax[2].set_ylabel(f"IHC potential [mV]\nCF {out.cf[k]:.0f} Hz")
    for name, label in (("anfh", "HSR"), ("anfm", "MSR"), ("anfl", "LSR")):
        ax[3].plot(t_an * 1e3, getattr(out, name)[:, k], lw=0.8, label=label)
    ax[3].set_ylabel("firing rate [spikes/s]")
    ax[3].set_xlabel("time [ms]")
    ax[3].legend(fontsize=8)
    fig.suptitle(f"verhulst2018: {freq_hz:.0f}-Hz tone at {level_db_spl:.0f} dB SPL")
    fig.tight_layout()
    table = {"time_s": t, "pressure_pa": x}
    for i, f in enumerate(out.cf):
        table[f"vbm_{f:.0f}Hz_m_per_s"] = out.v[:, i]
    table[f"vihc_{out.cf[k]:.0f}Hz_V"] = out.ihc[:, k]
    return fig, table


#: The figures of the headless run, in order: name -> function(weights, quick=..., ...).
def table2_runtime(weights="connear-lab", **kwargs):
    """Table 2: run times per stage, reference vs CoNNear (see connear_helpers.runtime).

    The figure run times each stage once (repeats=1); notebook 08 repeats three times.
    """
    from .runtime import table2_runtime as run

    kwargs.setdefault("repeats", 1)
    return run(weights, **kwargs)


def fig8_backpropagation(weights="connear-lab", **kwargs):
    """Fig. 8: a processing network trained through the frozen CNNs (see connear_helpers.backprop).

    The figure run trains for 100 steps on the CPU (notebook 09: the full 300 steps).
    """
    from .backprop import fig8_backpropagation as run

    kwargs.setdefault("steps", 100)
    return run(weights, **kwargs)


FIGURES = {
    "fig2_ihc_excitation_patterns": fig2_ihc_excitation_patterns,
    "fig3a_ihc_ac_dc_ratio": fig3a_ihc_ac_dc_ratio,
    "fig3b_ihc_level_growth": fig3b_ihc_level_growth,
    "fig4a_anf_adaptation": fig4a_anf_adaptation,
    "fig4b_anf_onset_recovery": fig4b_anf_onset_recovery,
    "fig5_anf_firing_rates": fig5_anf_firing_rates,
    "fig6a_anf_rate_level": fig6a_anf_rate_level,
    "fig6b_anf_synchrony_level": fig6b_anf_synchrony_level,
    "table2_runtime": table2_runtime,
    "fig8_backpropagation": fig8_backpropagation,
}


def save_table(path, table):
    """Write a dict of equal- or unequal-length 1-D arrays as a CSV (shorter columns padded empty)."""
    names = list(table)
    n = max(len(v) for v in table.values())
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for i in range(n):
            f.write(",".join(_csv_cell(table[c], i) for c in names) + "\n")


def _csv_cell(column, i):
    """One CSV cell: numbers with 10 significant digits, text quoted, missing rows empty."""
    if i >= len(column):
        return ""
    value = column[i]
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{value:.10g}"
    text = str(value).replace('"', '""')
    return f'"{text}"' if any(ch in text for ch in ',"\n') else text


def run_all(out, weights="connear-lab", quick=False, mode="full", names=None, cache=None, progress=True):
    """Draw figures and write <name>.png and <name>.csv into the folder out.

    names: figure names (keys of FIGURES; default all). cache: SimulationCache (default: memory
    plus the on-disk folder default_cache_dir()). Returns dict name -> (png path, csv path, seconds).
    """
    import matplotlib.pyplot as plt
    from tqdm.auto import tqdm

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = list(FIGURES) if names is None else list(names)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {unknown}; choose from {', '.join(FIGURES)}")
    if cache is None:
        cache = DEFAULT_CACHE.with_directory(default_cache_dir())
    written = {}
    bar = tqdm(names, desc="figures", unit="figure", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        t0 = time.perf_counter()
        fig, table = FIGURES[name](weights, quick=quick, mode=mode, cache=cache, progress=False)
        png, csv = out / f"{name}.png", out / f"{name}.csv"
        fig.savefig(png, dpi=120)
        plt.close(fig)
        save_table(csv, table)
        written[name] = (png, csv, time.perf_counter() - t0)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="connear-figures",
        description="Regenerate the CoNNear paper's figures (PNG + the numbers behind each as CSV).")
    parser.add_argument("--out", default="figures", help="output folder (default: figures/)")
    parser.add_argument("--quick", action="store_true",
                        help="reduced version: fewer levels and frequencies, shorter tones (a few minutes)")
    parser.add_argument("--weights", default="connear-lab",
                        help="CoNNear weights: connear-lab (default), official, or a folder of weight files")
    parser.add_argument("--mode", choices=MODES, default="full",
                        help="full: verhulst2018 TL cochlea (default); light: CoNNear cochlea")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=list(FIGURES),
                        help="draw only these figures")
    parser.add_argument("--no-cache", action="store_true",
                        help=f"do not read or write the on-disk simulation cache ({default_cache_dir()})")
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    cache = DEFAULT_CACHE.with_directory(None if args.no_cache else default_cache_dir())
    t0 = time.perf_counter()
    written = run_all(args.out, args.weights, args.quick, args.mode, args.only, cache)
    out = pathlib.Path(args.out).resolve()
    for name, (_, _, seconds) in written.items():
        print(f"  {name}.png/.csv  ({seconds:.0f} s)")
    print(f"Wrote {len(written)} figure(s) with their numbers to {out} in {time.perf_counter() - t0:.0f} s")
    if cache.directory is not None:
        print(f"Simulations are cached in {cache.directory} (delete it to recompute; --no-cache skips it)")
    print('Open the lab in JupyterLab:  pip install -e ".[lab]" && jupyter lab notebooks/')
    return 0


if __name__ == "__main__":
    sys.exit(main())
