"""The full and light periphery pipelines: reference model and CoNNear side by side.

``simulate(signal, fs, mode="full" | "light", ...)`` is the one entry point the notebooks
use. Every array in the result is at the CNN rate (20 kHz), time-major ``(n_samples, n_cf)``:

* ``mode="full"``: verhulst2018 TL cochlea at 100 kHz -> BM velocity resampled to 20 kHz
  (``resample_poly``, spec §2.3) -> CoNNear IHC -> CoNNear ANF H/M/L. The reference IHC and
  ANF stages run inside verhulst2018 on the same BM velocity (IHC at 100 kHz, resampled to
  20 kHz; ANF from the decimated IHC potential, already at 20 kHz).
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
  model: this function, the paper's figures (:mod:`connear_helpers.figures`), the evaluation of
  weight sets (:mod:`connear_helpers.evaluate`), the runtime table and the replication tests;
* :data:`ENGINE_FOR_PANELS` ("fast"): the interactive panels (:mod:`connear_helpers.widgets`)
  and the speech quickstart;
* :data:`ENGINE_FOR_DATASETS` ("fast"): the CNN training sets (:mod:`connear_helpers.datasets`).
  The TL bank of :mod:`connear_helpers.training.bank` keeps the exact engine.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from scipy.signal import resample_poly

from . import cf as _cf

from .constants import FS_CNN, FS_REFERENCE  # noqa: E402 (defined once, in constants.py)
MODES = ("full", "light")
STAGES = ("bm", "ihc", "anf")
FIBRES = ("anfh", "anfm", "anfl")
_REFERENCE_FIBRE = {"anfh": "hsr", "anfm": "msr", "anfl": "lsr"}
#: verhulst2018 engine where results are compared with the published model (figures, evaluation).
ENGINE_FOR_COMPARISON = "exact"
#: verhulst2018 engine of the interactive panels (widgets, the speech quickstart).
ENGINE_FOR_PANELS = "fast"
#: verhulst2018 engine for generating the CNN training sets (connear_helpers.datasets).
ENGINE_FOR_DATASETS = "fast"


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


def _fit(x, n):
    """Cut or zero-pad x (T, C) along time to n samples."""
    if x.shape[0] >= n:
        return x[:n]
    return np.concatenate([x, np.zeros((n - x.shape[0],) + x.shape[1:], dtype=x.dtype)])


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
    fibres = tuple(fibres)
    if any(f not in FIBRES for f in fibres):
        raise ValueError(f"fibres must be a subset of {FIBRES}, got {fibres!r}")
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
        ihc_ref = _fit(_to_rate(ref.ihc, FS_REFERENCE, FS_CNN), n_out) if want_ihc else None
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
            ihc_ref = _fit(_to_rate(ref_ihc.ihc_potential(v100, FS_REFERENCE), FS_REFERENCE, FS_CNN), n_out)
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
