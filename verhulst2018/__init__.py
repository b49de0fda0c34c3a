"""The human auditory periphery model of Verhulst, Altoè & Vasilkov (2018).

Sound pressure (Pa, 100 kHz) -> middle ear -> nonlinear transmission-line cochlea
(BM velocity ``v`` and displacement ``y``) -> inner-hair-cell receptor potential
(``ihc``) -> decimation by 5 -> auditory-nerve-fibre synapses (``anfh``, ``anfm``,
``anfl``) -> cochlear nucleus (``cn``) -> inferior colliculus (``ic``) -> ABR waves
(``w1``, ``w3``, ``w5``); the ear-canal pressure gives the otoacoustic ``emission``.

>>> import verhulst2018
>>> out = verhulst2018.simulate(signal, fs=100_000, cf="abr")
>>> out.v.shape, out.anfh.shape     # (n_samples, 401), (n_samples / 5, 401)

Engines (``engine=``): "exact" (default; the original's floating-point operations, compiled),
"fast" (the same model with cheaper numerics, within a stated tolerance of "exact", and batches
integrated in lockstep: see verhulst2018/fast.py) and "numpy" (the slow executable specification).
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import os

import numpy as np

from . import anf as _anf
from . import brainstem as _brainstem
from . import cochlea as _cochlea
from . import fast as _fast
from . import ihc as _ihc
from . import middle_ear as _middle_ear
from .poles import normal_hearing_poles, poles_from_audiogram, section_cf, validate_poles

__all__ = [
    "simulate",
    "check_engine",
    "ENGINES",
    "PeripheryResponse",
    "poles_from_audiogram",
    "normal_hearing_poles",
    "section_cf",
    "FS",
    "OUTPUTS",
]

FS = 100_000.0  # Hz, the rate the model is built for (spec §12.3)
DECIMATION = 5
OUTPUTS = ("v", "y", "ihc", "anfh", "anfm", "anfl", "cn", "ic", "w1", "w3", "w5", "emission")
DEFAULT_OUTPUTS = ("v", "y", "ihc", "anfh", "anfm", "anfl")
FIBRE_COUNTS = (13, 3, 3)  # HSR, MSR, LSR fibres per CF for CN, IC and the waves
#: The engines: "exact" (compiled, the original's arithmetic), "fast" (cheaper numerics within a
#: stated tolerance, batched lanes) and "numpy" (the executable specification). "cpp" is the old
#: name of "exact" and still accepted.
ENGINES = ("exact", "fast", "numpy")
ENGINE_ALIASES = {"cpp": "exact"}
DEFAULT_ENGINE = "exact"


def check_engine(engine):
    """The canonical engine name for ``engine`` ("exact", "fast", "numpy"; "cpp" = "exact").

    Raises ValueError naming the choices for anything else.
    """
    name = ENGINE_ALIASES.get(engine, engine) if isinstance(engine, str) else engine
    if name not in ENGINES:
        raise ValueError(
            f"engine must be one of {ENGINES} ('exact': the original's arithmetic, for comparisons with "
            f"the published model; 'fast': within a stated tolerance, for panels and datasets; 'numpy': the "
            f"slow specification), got {engine!r}"
        )
    return name


@dataclasses.dataclass
class PeripheryResponse:
    """The model's response to one signal. Outputs not asked for are ``None``.

    cf: (n_channels,) Hz, the CF of each output column (base to apex for "all"/"half"/"abr").
    section: (n_channels,) index of the model node (1 = base ... 1000 = apex) of each column.
    v, y: (n_samples, n_channels) BM velocity [m/s] and displacement [m] at fs_bm.
    ihc: (n_samples, n_channels) IHC receptor potential [V] at fs_ihc.
    anfh, anfm, anfl: (ceil(n_samples / 5), n_channels) firing rate of ONE high-, medium- or
        low-spontaneous-rate fibre [spikes/s] at fs_anf.
    cn, ic: (ceil(n_samples / 5), n_channels) cochlear-nucleus and inferior-colliculus rates
        [spikes/s] of the fibre population (13/3/3 HSR/MSR/LSR fibres per CF by default).
    w1, w3, w5: (ceil(n_samples / 5),) ABR waves I, III and V [V] (sums over the channels;
        calibrated for ``cf="abr"``).
    emission: (n_samples,) ear-canal pressure, the otoacoustic emission output [Pa].
    Row j of v, y and ihc is time (j + 1) / fs_bm; the last two rows of v and y are 0 (the
    reference's integration stops two samples before the end: pad your signal with silence).
    """

    cf: np.ndarray
    section: np.ndarray
    fs_bm: float
    fs_ihc: float
    fs_anf: float
    v: np.ndarray | None = None
    y: np.ndarray | None = None
    ihc: np.ndarray | None = None
    anfh: np.ndarray | None = None
    anfm: np.ndarray | None = None
    anfl: np.ndarray | None = None
    cn: np.ndarray | None = None
    ic: np.ndarray | None = None
    w1: np.ndarray | None = None
    w3: np.ndarray | None = None
    w5: np.ndarray | None = None
    emission: np.ndarray | None = None
    n_rhs_evaluations: int = 0
    n_pole_updates: int = 0
    options: dict = dataclasses.field(default_factory=dict)

    def __repr__(self):
        shown = [n for n in OUTPUTS if getattr(self, n) is not None]
        shapes = ", ".join(f"{n}{tuple(getattr(self, n).shape)}" for n in shown)
        return f"PeripheryResponse({len(self.cf)} CFs {self.cf[0]:.0f}-{self.cf[-1]:.0f} Hz; {shapes})"


def channel_sections(cf):
    """Node indices (n_channels,) for a probe option "all" | "half" | "abr" | CFs in Hz."""
    if isinstance(cf, str):
        choices = {"all": (1, 1001), "half": (1, 1000), "abr": (110, 911)}
        if cf not in choices:
            raise ValueError(f'cf must be "all", "half", "abr" or an array of CFs in Hz, got {cf!r}')
        start, stop = choices[cf]
        step = 1 if cf == "all" else 2
        return np.arange(start, stop, step)
    freqs = np.atleast_1d(np.asarray(cf, dtype=np.float64))
    if freqs.ndim != 1 or freqs.size == 0:
        raise ValueError(f"cf must be a 1-D array of CFs in Hz, got shape {freqs.shape}")
    if not np.all(np.isfinite(freqs)):
        raise ValueError("cf contains NaN or inf; give CFs in Hz")
    f = section_cf()
    lo, hi = f[-1], f[1]
    bad = freqs[(freqs < lo) | (freqs > hi)]
    if bad.size:
        raise ValueError(
            f"CFs {bad.tolist()} Hz are outside the model's range {lo:.2f}-{hi:.1f} Hz "
            "(1000 sections from apex to base); choose CFs inside it"
        )
    # nearest section (spec §4.11); node 0 is the stapes and never a channel
    return 1 + np.argmin(np.abs(f[1:, None] - freqs[None, :]), axis=0)


def _check_signal(signal):
    x = np.asarray(signal)
    if x.dtype == object or not np.issubdtype(x.dtype, np.number):
        raise TypeError(f"signal must be a numeric array of sound pressure in Pa, got dtype {x.dtype}")
    if np.iscomplexobj(x):
        raise TypeError("signal must be real-valued sound pressure in Pa, got a complex array")
    x = x.astype(np.float64)
    if x.ndim == 0 or x.ndim > 2:
        raise ValueError(
            f"signal must be 1-D (n_samples,) or 2-D (n_signals, n_samples), got {x.ndim}-D shape {x.shape}"
        )
    if x.shape[-1] < 3:
        raise ValueError(
            f"signal has {x.shape[-1]} samples; the model needs at least 3 (pad it with silence, "
            "which the model needs at both ends anyway)"
        )
    if x.ndim == 2 and x.shape[0] == 0:
        raise ValueError("the batch is empty: give at least one signal")
    bad = ~np.isfinite(x)
    if bad.any():
        idx = np.argwhere(bad)[0]
        raise ValueError(f"signal contains NaN or inf (first at index {tuple(int(i) for i in idx)}); remove them")
    return x


def _check_outputs(outputs):
    if isinstance(outputs, str):
        outputs = (outputs,)
    outputs = tuple(outputs)
    unknown = [o for o in outputs if o not in OUTPUTS]
    if unknown:
        raise ValueError(f"unknown outputs {unknown}; choose from {OUTPUTS}")
    if not outputs:
        raise ValueError(f"ask for at least one output from {OUTPUTS}")
    return outputs


def _resolve_poles(poles):
    if isinstance(poles, str):
        if poles != "normal":
            raise ValueError(
                f'poles must be "normal", an array of starting poles (1000 or 1001 values) or '
                f"verhulst2018.poles_from_audiogram(...), got {poles!r}"
            )
        return normal_hearing_poles()
    return validate_poles(poles)


def _simulate_one(x, options, progress=None):
    """Run every stage for one signal (n_samples,) in Pa at 100 kHz; progress(j) per 5000 samples."""
    o = options
    if o["engine"] == "fast":
        return _simulate_fast(x[None, :], options, progress)[0]
    outputs = o["outputs"]
    sections = o["sections"]
    p = _cochlea.tl_parameters(FS, o["poles"], o["nonlinear"], o["irregularities"], o["subject"])
    s = _middle_ear.middle_ear_filter(x, FS)
    exact = o["engine"] == "exact"
    solve = _cochlea.solve_cpp if exact else _cochlea.solve_numpy
    v, y, q0, n_rhs, n_updates = solve(s, p, sections, o["integrator"], progress, store_y="y" in outputs)
    res = _response(o, n_rhs, n_updates)
    if "v" in outputs:
        res.v = v
    if "y" in outputs:
        res.y = y
    if "emission" in outputs:
        res.emission = _middle_ear.emission_filter(q0, FS)
    need_anf = {"anfh", "anfm", "anfl", "cn", "ic", "w1", "w3", "w5"} & set(outputs)
    if "ihc" in outputs or need_anf:
        # the velocity is not needed afterwards unless asked for: reuse its memory
        vihc = _ihc.ihc_potential(v, FS, engine=o["engine"], overwrite_input="v" not in outputs)
        if "ihc" in outputs:
            res.ihc = vihc
        if need_anf:
            vihc_an = _ihc.decimate_ihc(vihc)
            del vihc
            brainstem = bool({"cn", "ic", "w1", "w3", "w5"} & set(outputs))
            rates = {}
            for name, fibre in (("anfh", "hsr"), ("anfm", "msr"), ("anfl", "lsr")):
                if name in outputs or brainstem:
                    rates[name] = _anf.anf_rate(vihc_an, res.fs_anf, fibre, engine=o["engine"])
                    if name in outputs:
                        setattr(res, name, rates[name])
            if brainstem:
                _add_brainstem(res, rates, o)
    return res


def _response(o, n_rhs, n_updates):
    """An empty PeripheryResponse for the options ``o`` (outputs are set by the caller)."""
    sections = o["sections"]
    return PeripheryResponse(
        cf=section_cf()[sections],
        section=sections,
        fs_bm=FS,
        fs_ihc=FS,
        fs_anf=FS / DECIMATION,
        n_rhs_evaluations=int(n_rhs),
        n_pole_updates=int(n_updates),
        options={k: val for k, val in o.items() if k not in ("poles",)},
    )


def _simulate_fast(x, options, progress=None):
    """The fast engine for signals (n_signals, n_samples) in Pa at 100 kHz, integrated in lockstep.

    Returns one PeripheryResponse per signal. All stages up to the ANF run in the compiled loop;
    the emission filter and CN/IC/waves are applied afterwards.
    """
    o = options
    outputs = set(o["outputs"])
    brainstem = bool({"cn", "ic", "w1", "w3", "w5"} & outputs)
    loop_outputs = outputs & {"v", "y", "ihc", "anfh", "anfm", "anfl"}
    if brainstem:
        loop_outputs |= {"anfh", "anfm", "anfl"}
    p = _cochlea.tl_parameters(FS, o["poles"], o["nonlinear"], o["irregularities"], o["subject"])
    s = np.stack([_middle_ear.middle_ear_filter(row, FS) for row in x])
    out = _fast.solve_fast(s, p, o["sections"], tuple(loop_outputs), o["integrator"], progress)
    results = []
    for i in range(x.shape[0]):
        # the fast engine evaluates the poles at every right-hand-side evaluation (no hysteresis)
        res = _response(o, out["n_rhs_evaluations"], out["n_rhs_evaluations"])
        res.options["isa"] = out["isa"]
        for name in ("v", "y", "ihc", "anfh", "anfm", "anfl"):
            if name in outputs:
                setattr(res, name, out[name][i])
        if "emission" in outputs:
            res.emission = _middle_ear.emission_filter(out["q0"][i], FS)
        if brainstem:
            _add_brainstem(res, {name: out[name][i] for name in ("anfh", "anfm", "anfl")}, o)
        results.append(res)
    return results


def _add_brainstem(res, rates, o):
    n_h, n_m, n_l = o["fibres"]
    version = o["brainstem_version"]
    fs_an = res.fs_anf
    r_an = _brainstem.summed_anf(rates["anfh"], rates["anfm"], rates["anfl"], n_h, n_m, n_l)
    r_cn = _brainstem.cochlear_nucleus(rates["anfh"], rates["anfm"], rates["anfl"], fs_an, n_h, n_m, n_l, version=version)
    r_ic = _brainstem.inferior_colliculus(r_cn, fs_an, version=version)
    w1, w3, w5 = _brainstem.abr_waves(r_an, r_cn, r_ic, version=version)
    out = o["outputs"]
    res.cn = r_cn if "cn" in out else None
    res.ic = r_ic if "ic" in out else None
    res.w1 = w1 if "w1" in out else None
    res.w3 = w3 if "w3" in out else None
    res.w5 = w5 if "w5" in out else None


def simulate(
    signal,
    fs=100_000,
    cf="abr",
    outputs=DEFAULT_OUTPUTS,
    nonlinear=True,
    irregularities=False,
    subject=1,
    poles="normal",
    integrator="scipy117",
    engine=DEFAULT_ENGINE,
    resample=False,
    fibres=FIBRE_COUNTS,
    brainstem_version="1.2",
    n_jobs=None,
    progress=None,
):
    """Simulate the auditory periphery for one signal or a batch.

    signal: (n_samples,) sound pressure in Pa, or (n_signals, n_samples) for a batch.
    fs: sample rate of ``signal`` in Hz. The model runs at 100 kHz; any other rate is an
        error unless ``resample=True``, which resamples the signal to 100 kHz (polyphase,
        scipy.signal.resample_poly) and returns outputs at 100 kHz / 20 kHz.
    cf: "all" (1000 sections), "half" (500), "abr" (401, the ABR calibration set) or an
        array of CFs in Hz (the nearest sections are used; ``out.cf`` says which).
    outputs: any of v y ihc anfh anfm anfl cn ic w1 w3 w5 emission. Only these are kept.
    nonlinear: False for the linear model (poles fixed at their starting values).
    irregularities: random cochlear roughness (seeded by ``subject``); off by default.
    poles: "normal" (the normal-hearing profile), an array of one starting pole per section
        (1000 values, or 1001 with the stapes node first), or ``poles_from_audiogram(...)``.
    integrator: "scipy117" (default; SciPy >= 1.17 DOPRI5 behaviour, as the public reference
        case) or "legacy" (SciPy <= 1.16, as the published results); see cochlea.py. The fast
        engine takes two fixed steps per sample for "scipy117" and one for "legacy" (fast.py).
    engine: "exact" (default: compiled, the original's floating-point operations; use it to compare
        with the published model), "fast" (cheaper numerics, within about 1 % of "exact"; batches
        are integrated in lockstep, several signals per SIMD lane group: for interactive use and
        datasets; see verhulst2018/fast.py) or "numpy" (the slow executable specification).
        "cpp" is an old name of "exact".
    fibres: numbers of (HSR, MSR, LSR) fibres per CF for cn, ic and the waves.
    brainstem_version: "1.2" (unit-gain CN/IC filters) or "1.1" (the paper's form).
    n_jobs: worker processes for a batch (default: one per CPU core, at most one per signal; with
        the fast engine, one per group of up to 8 signals integrated in lockstep).
        Workers are spawned and re-import the main module: in a script, call simulate under
        ``if __name__ == "__main__":``.
    progress: show a progress bar (default: for batches and signals longer than 0.5 s).

    Returns a :class:`PeripheryResponse` for a 1-D signal, and a list of them (one per row)
    for a 2-D batch. Memory: 8 bytes x n_samples x n_channels per stored output.
    """
    x = _check_signal(signal)
    outputs = _check_outputs(outputs)
    if not np.isscalar(fs) or not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"fs must be a positive sample rate in Hz, got {fs!r}")
    if fs != FS:
        if not resample:
            raise ValueError(
                f"the model runs at fs = {FS:.0f} Hz but the signal is at {fs} Hz; resample it to "
                f"{FS:.0f} Hz, or pass resample=True to let simulate() do it (outputs are then at "
                f"{FS:.0f} Hz and {FS / DECIMATION:.0f} Hz)"
            )
        from fractions import Fraction

        from scipy.signal import resample_poly

        ratio = Fraction(FS / fs).limit_denominator(10_000)
        x = resample_poly(x, ratio.numerator, ratio.denominator, axis=-1)
    if integrator not in _cochlea.INTEGRATOR_MODES:
        raise ValueError(f"integrator must be one of {_cochlea.INTEGRATOR_MODES}, got {integrator!r}")
    engine = check_engine(engine)
    if brainstem_version not in ("1.1", "1.2"):
        raise ValueError(f'brainstem_version must be "1.1" or "1.2", got {brainstem_version!r}')
    if len(tuple(fibres)) != 3:
        raise ValueError(f"fibres must be (n_hsr, n_msr, n_lsr), got {fibres!r}")
    options = dict(
        outputs=outputs,
        sections=channel_sections(cf),
        nonlinear=bool(nonlinear),
        irregularities=bool(irregularities),
        subject=int(subject),
        poles=_resolve_poles(poles),
        integrator=integrator,
        engine=engine,
        fibres=tuple(fibres),
        brainstem_version=brainstem_version,
    )
    if x.ndim == 1:
        if progress is None:
            progress = x.size > 0.5 * FS
        return _run_with_progress(x, options, progress)
    return _simulate_batch(x, options, n_jobs, True if progress is None else progress)


def _run_with_progress(x, options, progress):
    if not progress:
        return _simulate_one(x, options)
    from tqdm.auto import tqdm

    n = x.size
    with tqdm(total=n / FS, desc="verhulst2018 TL cochlea", unit="s of sound", bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} s [{elapsed}<{remaining}]") as bar:
        done = [0]

        def advance(j):
            bar.update((j - done[0]) / FS)
            done[0] = j

        res = _simulate_one(x, options, advance)
        bar.update((n - done[0]) / FS)
    return res


def _batch_groups(options, n):
    """Index lists of the signals each task simulates: one signal, or with the fast engine groups of
    up to fast.MAX_LANES signals integrated in lockstep."""
    if options["engine"] != "fast":
        return [[i] for i in range(n)]
    size = _fast.MAX_LANES
    return [list(range(i, min(i + size, n))) for i in range(0, n, size)]


def _simulate_group(x, options):
    """Responses (list) for the signals x (n_signals, n_samples) of one task."""
    if options["engine"] == "fast":
        return _simulate_fast(x, options)
    return [_simulate_one(row, options) for row in x]


def _simulate_batch(x, options, n_jobs, progress):
    n = x.shape[0]
    groups = _batch_groups(options, n)
    if n_jobs is None:
        n_jobs = min(len(groups), os.cpu_count() or 1)
    n_jobs = max(1, min(int(n_jobs), len(groups)))
    from tqdm.auto import tqdm

    bar = tqdm(total=n, desc="verhulst2018", unit="signal", disable=not progress)
    results = [None] * n
    try:
        if n_jobs == 1:
            for g in groups:
                for i, res in zip(g, _simulate_group(x[g], options)):
                    results[i] = res
                bar.update(len(g))
            return results
        # "spawn": safe beside threads of TensorFlow or Jupyter in the parent process
        ctx = multiprocessing.get_context("spawn")
        try:
            with concurrent.futures.ProcessPoolExecutor(n_jobs, mp_context=ctx) as pool:
                futures = {pool.submit(_simulate_group, x[g], options): g for g in groups}
                for fut in concurrent.futures.as_completed(futures):
                    g = futures[fut]
                    for i, res in zip(g, fut.result()):
                        results[i] = res
                    bar.update(len(g))
        except concurrent.futures.process.BrokenProcessPool as err:
            raise RuntimeError(
                "verhulst2018.simulate: a worker process of the batch died. Workers are started "
                "with 'spawn' and import the main script again, so in a script call simulate() under "
                "`if __name__ == \"__main__\":`; or run the batch in this process with n_jobs=1 "
                "(a worker can also die when memory runs out: fewer n_jobs or channels help)."
            ) from err
        return results
    finally:
        bar.close()
