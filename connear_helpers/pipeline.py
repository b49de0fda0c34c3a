"""The full and light periphery pipelines: reference model and CoNNear side by side.

This module owns every simulation of the package: :func:`simulate` (one signal), :func:`simulate_batch` and
:func:`reference_batch` (many, segmented at long silences, cached), the simulation cache, and
:func:`prepare` (the CoNNear models a run needs). It may import :mod:`.cnn`, :mod:`.cf`, :mod:`.constants`
and verhulst2018; never the figures, panels or training code, which call it.

``simulate(signal, fs, mode="full" | "light", ...)`` is the one entry point the notebooks
use. Every array in the result is at the CNN rate (20 kHz), time-major ``(n_samples, n_cf)``:

* ``mode="full"``: verhulst2018 TL cochlea at 100 kHz -> BM velocity resampled to 20 kHz
  (``resample_poly``, spec §2.3) -> CoNNear IHC -> CoNNear ANF H/M/L. The reference IHC and
  ANF stages run inside verhulst2018 on the same BM velocity (IHC at 100 kHz, resampled to
  20 kHz with its ends held, :func:`resample_held`; ANF from the decimated IHC potential,
  already at 20 kHz).
* ``mode="light"``: CoNNear cochlea at 20 kHz -> CoNNear IHC -> CoNNear ANF; the reference
  IHC runs on the CNN cochlea's BM velocity (resampled to 100 kHz, spec §2.4) and the
  reference ANF on that IHC potential resampled back to 20 kHz. No TL model is run.

By default the CoNNear ANF models are driven by the CoNNear IHC (the chain). With
``cnn_anf_input="reference"`` they are driven by the reference IHC potential instead, which
is how the paper evaluates each CNN stage on its own (spec §2.3 step 5).

Reference-model engine (``engine=``, issue #12): "exact" (the original's floating-point
operations) or "fast" (cheaper numerics within 1 % of "exact", several signals integrated in
lockstep; ``verhulst2018/fast.py``); "numpy" is the slow specification. The package's default
per use is set here, once:

* :data:`ENGINE_FOR_COMPARISON` ("exact"): wherever a result is compared with the published
  model: this function, the paper's figures (:mod:`connear_helpers.paper.figures`), the evaluation of
  weight sets (:mod:`connear_helpers.training.evaluate`), the runtime table and the replication tests;
* :data:`ENGINE_FOR_PANELS` ("fast"): the interactive panels (:mod:`connear_helpers.lab.widgets`)
  and the speech quickstart;
* :data:`ENGINE_FOR_DATASETS` ("fast"): the CNN training sets (:mod:`connear_helpers.training.datasets`).
  The TL bank of :mod:`connear_helpers.training.bank` keeps the exact engine.

Batches (:func:`simulate_batch`, used by the figures, the evaluation and the panels)
------------------------------------------------------------------------------------
The same pipeline as :func:`simulate` (full mode: verhulst2018 at
100 kHz, outputs resampled to 20 kHz, CoNNear IHC on the BM velocity, CoNNear ANF on the IHC
potential; light mode: ``simulate(mode="light")``), for a whole batch of stimuli:

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
"""
from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import os
import pathlib

import numpy as np
from scipy.signal import resample_poly

from .analysis import cf as _cf

from .constants import FIBRE_LABEL, FIBRES, FS_CNN, FS_REFERENCE  # noqa: E402 (defined once, in constants.py)
MODES = ("full", "light")
STAGES = ("bm", "ihc", "anf")
_REFERENCE_FIBRE = {"anfh": "hsr", "anfm": "msr", "anfl": "lsr"}
#: verhulst2018 engine where results are compared with the published model (figures, evaluation).
ENGINE_FOR_COMPARISON = "exact"
#: verhulst2018 engine of the interactive panels (widgets, the speech quickstart).
ENGINE_FOR_PANELS = "fast"
#: verhulst2018 engine for generating the CNN training sets (connear_helpers.training.datasets).
ENGINE_FOR_DATASETS = "fast"
#: verhulst2018 options the paper's curves were made with (spec §2.3; README "Agreement").
PAPER_REFERENCE_OPTIONS = {"irregularities": True, "subject": 1, "integrator": "legacy"}
_REFERENCE_OPTION_NAMES = ("irregularities", "subject", "integrator", "nonlinear", "poles", "engine")
#: Splicing of long silences (see the module docstring), in seconds.
SPLICE_LEAD_S = 10e-3
SPLICE_TAIL_S = 50e-3
#: Samples of resting potential put in front of the CoNNear ANF input (see the module docstring).
ANF_CNN_REST_PAD = 256
#: Version of the cached records' arithmetic (2: the IHC potential resampled with held edges).
_ENGINE_VERSION = 2


def check_engine(engine):
    """The canonical verhulst2018 engine name ("exact", "fast" or "numpy"; "cpp" = "exact").

    Raises ValueError naming the choices for anything else (verhulst2018.check_engine).
    """
    import verhulst2018

    return verhulst2018.check_engine(engine)


@dataclasses.dataclass
class PeripheryResult:
    """Reference and CoNNear responses at the CNN rate; stages not asked for are ``None``.

    cf: (n_cf,) Hz; fs: 20000.0 Hz.
    bm: (n_samples, n_cf) BM velocity the IHC stages received [m/s] (TL or CNN cochlea).
    ihc_ref, ihc_cnn: (n_samples, n_cf) IHC receptor potential [V].
    anfh_ref ... anfl_cnn: (n_samples, n_cf) firing rate of ONE fibre [spikes/s].
    """

    cf: np.ndarray
    fs: float
    mode: str
    weights: object
    bm: np.ndarray | None = None
    ihc_ref: np.ndarray | None = None
    ihc_cnn: np.ndarray | None = None
    anfh_ref: np.ndarray | None = None
    anfh_cnn: np.ndarray | None = None
    anfm_ref: np.ndarray | None = None
    anfm_cnn: np.ndarray | None = None
    anfl_ref: np.ndarray | None = None
    anfl_cnn: np.ndarray | None = None

    def __repr__(self):
        names = [f.name for f in dataclasses.fields(self)][4:]
        shown = ", ".join(f"{n}{tuple(getattr(self, n).shape)}" for n in names if getattr(self, n) is not None)
        return f"PeripheryResult({self.mode}, {len(self.cf)} CFs, fs={self.fs:.0f} Hz; {shown})"


def _check(signal, fs, mode, stages):
    if mode not in MODES:
        raise ValueError(f'mode must be "full" (TL cochlea) or "light" (CNN cochlea), got {mode!r}')
    if isinstance(stages, str):
        stages = (stages,)
    unknown = [s for s in stages if s not in STAGES]
    if unknown or not stages:
        raise ValueError(f"stages must be a non-empty subset of {STAGES}, got {tuple(stages)!r}")
    if fs not in (FS_CNN, FS_REFERENCE):
        raise ValueError(
            f"fs must be {FS_CNN:.0f} Hz (the CNN rate) or {FS_REFERENCE:.0f} Hz (the reference model's "
            f"rate), got {fs!r}; resample the signal first, e.g. scipy.signal.resample_poly"
        )
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"signal must be 1-D (n_samples,) sound pressure in Pa, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("signal contains NaN or inf; remove them")
    n_min = 16 if fs == FS_CNN else 80
    if x.size < n_min:
        raise ValueError(f"signal has {x.size} samples; give at least {n_min} at {fs:.0f} Hz")
    return x, tuple(stages)


def _channels(cf):
    """Indices into the 201 CoNNear CFs for cf=None (all) or CFs in Hz (nearest)."""
    cfs = _cf.connear_cfs()
    if cf is None:
        return np.arange(cfs.size)
    freqs = np.atleast_1d(np.asarray(cf, dtype=np.float64))
    if freqs.ndim != 1 or not np.all(np.isfinite(freqs)):
        raise ValueError("cf must be None (all 201 CFs) or a 1-D array of CFs in Hz")
    lo, hi = cfs.min(), cfs.max()
    bad = freqs[(freqs < lo * 0.9) | (freqs > hi * 1.1)]
    if bad.size:
        raise ValueError(f"CFs {bad.tolist()} Hz are outside the CoNNear range {lo:.0f}-{hi:.0f} Hz")
    return np.asarray(_cf.nearest_cf_index(cfs, freqs)).reshape(-1)


def _to_rate(x, fs_from, fs_to):
    """Resample along time (axis 0) with resample_poly's default Kaiser FIR (spec §2.3)."""
    if fs_from == fs_to:
        return x
    if fs_from > fs_to:
        return resample_poly(x, 1, int(round(fs_from / fs_to)), axis=0)
    return resample_poly(x, int(round(fs_to / fs_from)), 1, axis=0)


#: Output samples of held edge in front of and behind a signal in :func:`resample_held` (resample_poly's
#: filter reaches 10 output samples for 1:5 and 5:1).
_HOLD_PAD_OUT = 100


def resample_held(x, fs_from, fs_to):
    """Resample along time (axis 0) like :func:`_to_rate`, with each end first continued by its
    edge value: for a signal that rests at a nonzero value, the IHC potential (about -57.7 mV).

    resample_poly pads with zeros, which pulls the first and last ~10 output samples of a resting
    potential towards 0 V (measured at 100 -> 20 kHz: -34.6 mV, then -62.5, -55.2, ... mV). The
    continuation holds the potential at its edge value instead; away from the ends (more than 10
    output samples) the result equals :func:`_to_rate`'s. x: (T,) or (T, C); same length rule
    as resample_poly.
    """
    x = np.asarray(x, dtype=np.float64)
    up, down = (1, int(round(fs_from / fs_to))) if fs_from > fs_to else (int(round(fs_to / fs_from)), 1)
    if up == down:
        return x
    n_out = -(-x.shape[0] * up // down)
    pad_in = _HOLD_PAD_OUT * down  # a whole number of output samples, beyond the filter's reach
    padded = np.pad(x, ((pad_in, pad_in),) + ((0, 0),) * (x.ndim - 1), mode="edge")
    first = _HOLD_PAD_OUT * up
    return resample_poly(padded, up, down, axis=0)[first:first + n_out]


def simulate(
    signal,
    fs,
    mode="full",
    cf=None,
    stages=STAGES,
    weights="connear-lab",
    fibres=FIBRES,
    cnn_anf_input="cnn",
    poles="normal",
    irregularities=False,
    integrator="scipy117",
    engine=ENGINE_FOR_COMPARISON,
    progress=None,
):
    """Run the reference model and the CoNNear models on one signal.

    signal: (n_samples,) sound pressure in Pa at ``fs`` (20 kHz or 100 kHz).
    mode: "full" (TL cochlea, then CNN IHC/ANF) or "light" (CNN cochlea).
    cf: None for the 201 CoNNear CFs, or CFs in Hz (the nearest CoNNear CFs are used).
    stages: subset of ("bm", "ihc", "anf"); later stages need the earlier ones' inputs,
        which are computed but only stored when asked for.
    weights: CoNNear weights: "connear-lab" (the shipped set), "official", a weight file or folder,
        a dict mapping model names ("cochlea", "ihc", "anfh", ...) to any of these or to keras
        models (:mod:`connear_helpers.cnn.weights`), or None to run the reference stages only
        (the ``*_cnn`` fields stay None). Light mode needs the cochlea weights in any case.
    fibres: which ANF types, a subset of ("anfh", "anfm", "anfl").
    cnn_anf_input: "cnn" (CoNNear IHC -> CoNNear ANF, the chain) or "reference" (the
        reference IHC potential drives the CoNNear ANF, as in the paper's evaluation).
    poles, irregularities, integrator: passed to verhulst2018.simulate (full mode).
    engine: verhulst2018 engine of the TL cochlea, IHC and ANF in full mode: "exact" (default,
        :data:`ENGINE_FOR_COMPARISON`) or "fast" (within 1 %, several times faster); see the
        module docstring. Light mode runs no TL model; its reference IHC/ANF stages are exact.

    Returns a :class:`PeripheryResult` at 20 kHz with n_samples = len(signal) * 20 kHz / fs.
    """
    x, stages = _check(signal, fs, mode, stages)
    engine = check_engine(engine)
    fibres = check_fibres(fibres)
    if cnn_anf_input not in ("cnn", "reference"):
        raise ValueError(f'cnn_anf_input must be "cnn" or "reference", got {cnn_anf_input!r}')
    channels = _channels(cf)
    cfs = _cf.connear_cfs()[channels]
    n_out = int(round(x.size * FS_CNN / fs))
    want_ihc = "ihc" in stages or "anf" in stages
    want_anf = "anf" in stages
    res = PeripheryResult(cf=cfs, fs=FS_CNN, mode=mode, weights=weights)

    if mode == "full":
        import verhulst2018

        x100 = _to_rate(x, fs, FS_REFERENCE)
        outputs = ("v",) + (("ihc",) if want_ihc else ()) + (fibres if want_anf else ())
        ref = verhulst2018.simulate(
            x100, fs=FS_REFERENCE, cf=cfs, outputs=outputs, poles=poles, irregularities=irregularities,
            integrator=integrator, engine=engine, progress=progress,
        )
        bm = _fit(_to_rate(ref.v, FS_REFERENCE, FS_CNN), n_out)
        ihc_ref = _fit(resample_held(ref.ihc, FS_REFERENCE, FS_CNN), n_out) if want_ihc else None
        anf_ref = {f: _fit(getattr(ref, f), n_out) for f in fibres} if want_anf else {}
    else:
        from .cnn import inference
        from .cnn.weights import cached_model

        if weights is None:
            raise ValueError("light mode runs the CoNNear cochlea: give weights (e.g. 'connear-lab' or 'official')")
        x20 = _to_rate(x, fs, FS_CNN)
        bm = inference.cochlea_vbm(x20.astype(np.float32), cached_model("cochlea", weights))[:, channels].astype(np.float64)
        ihc_ref, anf_ref = None, {}
        if want_ihc:
            from verhulst2018 import anf as ref_anf
            from verhulst2018 import ihc as ref_ihc

            v100 = _to_rate(bm, FS_CNN, FS_REFERENCE)
            ihc_ref = _fit(resample_held(ref_ihc.ihc_potential(v100, FS_REFERENCE), FS_REFERENCE, FS_CNN), n_out)
            if want_anf:
                anf_ref = {f: ref_anf.anf_rate(ihc_ref, FS_CNN, _REFERENCE_FIBRE[f]) for f in fibres}

    if "bm" in stages:
        res.bm = bm
    if "ihc" in stages:
        res.ihc_ref = ihc_ref
    for f, r in anf_ref.items():
        setattr(res, f"{f}_ref", r)

    if weights is not None and want_ihc:
        from .cnn import inference
        from .cnn.weights import cached_model

        ihc_cnn = inference.ihc_potential(bm.astype(np.float32), cached_model("ihc", weights)).astype(np.float64)
        if "ihc" in stages:
            res.ihc_cnn = ihc_cnn
        if want_anf:
            drive = ihc_cnn if cnn_anf_input == "cnn" else ihc_ref
            for f in fibres:
                rate = inference.anf_rate(drive.astype(np.float32), cached_model(f, weights))
                setattr(res, f"{f}_cnn", rate.astype(np.float64))
    return res


def cnn_chain_tensor(signal, cochlea, ihc, anf, channels=None):
    """Differentiable light chain: sound pressure tensor (T,) in Pa at 20 kHz -> dict of tensors.

    cochlea, ihc, anf: keras models (``weights.load_model(name, ..., n_cf=1)`` for IHC/ANF).
    channels: indices into the 201 CFs to pass on to the IHC and ANF (default all).
    Returns {"bm": (T, C) m/s, "ihc": (T, C) V, "anf": (T, C) spikes/s}, all tensors, so
    ``tf.GradientTape`` can differentiate any of them with respect to ``signal``.
    """
    from keras import ops

    from .cnn import inference

    bm = inference.cochlea_vbm_tensor(signal, cochlea)
    if channels is not None:
        bm = ops.take(bm, ops.convert_to_tensor(np.asarray(channels, dtype=np.int32)), axis=-1)
    vihc = inference.ihc_potential_tensor(bm, ihc)
    rate = inference.anf_rate_tensor(vihc, anf)
    return {"bm": bm, "ihc": vihc, "anf": rate}


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


def reference_fingerprint():
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
# the CoNNear models of a run


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


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How an evaluation simulates: the arguments every compute function of
    :mod:`connear_helpers.analysis.evaluations` shares.

    weights: CoNNear weight source ("connear-lab", "official", a folder, a file, a dict of models)
        or None (the reference model only).
    mode: "full" (TL cochlea drives the CNN stages) or "light" (the CoNNear cochlea).
    cnn_anf_input: what drives the CoNNear ANF models: "reference" (the reference IHC potential,
        the paper's evaluation of each stage) or "cnn" (the CoNNear IHC, the chain).
    reference_options: verhulst2018.simulate options, a dict (None: :data:`PAPER_REFERENCE_OPTIONS`;
        "engine" is one of them, default :data:`ENGINE_FOR_COMPARISON`).
    cache: a :class:`SimulationCache` (None: the shared in-memory one).
    progress: show progress bars.
    """

    weights: object = "connear-lab"
    mode: str = "full"
    cnn_anf_input: str = "reference"
    reference_options: dict | None = None
    cache: object = None
    progress: bool = False

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f'mode must be "full" (TL cochlea) or "light" (CNN cochlea), got {self.mode!r}')
        if self.cnn_anf_input not in ("cnn", "reference"):
            raise ValueError(f'cnn_anf_input must be "cnn" or "reference", got {self.cnn_anf_input!r}')

    def prepare(self, family):
        """The :class:`Setup` (models) of these options for family "ihc" or "anf" (:func:`prepare`)."""
        return prepare(self.weights, self.mode, family, self.cnn_anf_input)


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


def check_fibres(fibres):
    """The ANF fibre types as a tuple, checked: a non-empty subset of ("anfh", "anfm", "anfl").
    One name may be given as a string. The labels "HSR", "MSR", "LSR" are errors that name the
    model to use instead."""
    fibres = (fibres,) if isinstance(fibres, str) else tuple(fibres)
    bad = [f for f in fibres if f not in FIBRES]
    if bad or not fibres:
        by_label = {v.lower(): k for k, v in FIBRE_LABEL.items()}
        hint = [f"{f!r} -> {by_label[str(f).lower()]!r}" for f in bad if str(f).lower() in by_label]
        raise ValueError(f"fibres must be a non-empty subset of {FIBRES}, got {fibres!r}"
                         + (f" (use the model names: {', '.join(hint)})" if hint else ""))
    return fibres


def _check_options(options):
    """The reference options (dict) as cache keys and _run_tl use them.

    The engine (default :data:`ENGINE_FOR_COMPARISON`) is checked and named canonically; it is
    left out when it is "exact", so that the keys of exact simulations stay those written before
    there was an engine option (records on disk are found again). No "engine" means "exact".
    """
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
    base = ("ref", _ENGINE_VERSION, reference_fingerprint(), opts, outs, splice, lead, tail)
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
            skey = _key("tl", _ENGINE_VERSION, reference_fingerprint(), opts, _hash_array(seg), union)
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
            "ihc": _fit(resample_held(vihc, FS_REFERENCE, FS_CNN), n_out),
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
    """Reference and CoNNear responses of a batch of stimuli, like pipeline.simulate per row.

    signals: (n, n_samples) sound pressure (Pa) at fs (100 or 20 kHz). setup: from
    :func:`prepare` (mode and models). channels / row_channels: as :func:`reference_batch`.
    family: "ihc" (BM and IHC) or "anf" (also the ANF rates). fibres: ANF types run through the
    CNNs (the reference always gives all three). cnn_anf_input: "reference" (the paper's
    evaluation: the reference IHC potential drives the ANF CNNs) or "cnn" (the CNN chain).
    Returns a list of n :class:`connear_helpers.pipeline.PeripheryResult` at 20 kHz; the CNN
    fields are None without models.
    """
    cache = _resolve_cache(cache)
    opts = _check_options(reference_options)
    x = np.atleast_2d(np.asarray(signals, dtype=np.float64))
    anf = family == "anf"
    fibres = check_fibres(fibres)
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
                res = simulate(x20, FS_CNN, mode="light", cf=all_cfs[row_ch[i]],
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
        res = PeripheryResult(cf=all_cfs[row_ch[i]], fs=FS_CNN, mode=setup.mode,
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
