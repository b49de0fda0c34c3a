"""The fast engine: the same model, integrated with cheaper numerics, one signal or many in lockstep.

``simulate(..., engine="fast")`` runs the transmission-line cochlea, the IHC, the decimation and the
three ANF synapses in one compiled time loop (``verhulst2018._core.fast_run``, _fast.cpp and
_fast_kernel.h). It is not bit-exact with the original, which is not bit-exact with itself either:
the 1 % hysteresis of its pole update turns any last-bit difference into another trajectory
(issue #12). It agrees with the exact engine within the tolerances that
tests/unit/verhulst2018/test_v18_fast_engine.py states and measures (relative RMS error over all
channels at most 1 % for v, y and ihc, at most 2 % per channel for the ANF rates).

Scheme (what differs from the exact engine; spec §4.4-4.10):

* **Time stepping**: DOPRI5's fifth-order formula with *fixed* steps, no error control, the last
  stage of a step reused as the first of the next: 6 right-hand-side (RHS) evaluations per step.
  ``integrator="scipy117"`` takes two steps per sample (12 RHS; the exact engine re-estimates its
  step at every sample, mostly splits the sample in two and needs ~12.4), ``"legacy"`` one (6 RHS;
  the exact engine's carried step is one sample in ~99 % of the samples, ~7 RHS). One step per
  sample is not accurate enough for "scipy117" (2 % relative RMS at 8 kHz, 30 dB): the delayed
  displacement is a piecewise cubic in time with a kink inside every sample, which limits any
  Runge-Kutta step to third order, and the reference resolves it with its split steps.
* **Poles**: the pole of every section is evaluated at every RHS evaluation from that stage's
  velocity, like the original, but without the 1 % hysteresis (the pole follows the velocity; the
  original's hysteresis is a ±1 % quantisation of the same curve), and the Zweig terms omega d and
  rho follow from it through polynomials in P (Chebyshev fits, ~3e-9 relative) instead of two
  square roots, a division and an exp. The delay D = 1 / (a omega dt) is set once per step, from
  the velocity extrapolated to the step's middle (V + h/2 dV/dt), so that the delayed
  displacements of all stages of a step are interpolated at once (the original's cubic, in
  float32 like its interpolation) from five ring entries kept per section. Evaluating the whole
  pole once per step is not enough at high levels and high CFs (2-10 % per channel in the ANF
  rates for 80-100 dB tones and clicks): the pole's dips near the velocity's zero crossings are
  then only a step or two wide.
* **Tridiagonal solve**: the Thomas algorithm, made parallel: the 1001 nodes of a signal are cut
  into blocks separated by single nodes; the blocks are swept side by side (one SIMD lane each),
  the separators solved as a small tridiagonal system, and the blocks corrected with precomputed
  "spike" vectors (the matrix never changes). Without pivoting, like the Thomas algorithm, so the
  tiny apical displacements keep their relative accuracy (a pivoting solver does not).
* **Batched lanes**: up to ``MAX_LANES`` signals (same length and options) integrated in lockstep,
  one signal per SIMD lane at each node: their Thomas sweeps run side by side, the node's
  constants are read once for all of them, their delay lines are interleaved in memory, and each
  signal keeps its own poles. ``simulate`` groups a batch this way (and runs groups in parallel
  worker processes).
* **Stages fused per sample**: IHC (one exp for both MET Boltzmann terms, since
  exp(d/s1) = exp(d/s0)^3), decimation (the 31-tap FIR, streamed) and ANF (the three fibre types)
  run on the stored channels as the cochlea advances, with a vectorised exp (Taylor polynomial,
  about 2 ulp); no (T, 1000) velocity array is kept unless asked for.
* **Instruction sets**: AVX-512, AVX2+FMA and a portable build of the same source, chosen at run
  time (``isa()``); they round differently, all within the same tolerance. Denormals are flushed
  to zero while the loop runs (the first milliseconds of the apical displacements would otherwise
  cost ~100 cycles per operation).

The equations, the stimulus interpolation, the middle ear, the emission filter, the irregularities,
the float32 delay lines, the output conventions (row j = time (j + 1)/fs, the last two rows of v
and y zero, the decimation's start rows, the warm-ups) and the CN/IC/wave stages are those of the
exact engine. ``n_rhs_evaluations`` counts the RHS evaluations, and ``n_pole_updates`` is the same
number (the poles are re-evaluated in every one).

Accuracy against the exact engine: see tests/unit/verhulst2018/test_v18_fast_engine.py and the README. Where the
exact engine is chaotic (500-Hz tones at 100 dB SPL: a 1e-12 relative change of the input moves
its ANF rates by 2 % per channel) no engine can agree with it better than it agrees with itself.
"""
from __future__ import annotations

import numpy as np

from . import anf as _anf
from . import ihc as _ihc
from ._compiled import core as compiled_core
from .cochlea import INTEGRATOR_MODES, SHERA_C, initial_poles
from .poles import N_NODES

#: Steps per sample of the fast engine for each integrator mode of the exact engine.
STEPS_PER_SAMPLE = {"scipy117": 2, "legacy": 1}
#: Where in the next step the poles are evaluated (fraction of a step ahead of its start).
POLE_LEAD = 0.5
#: Signals integrated in lockstep in one call of the compiled loop (more are run in groups).
MAX_LANES = 8
#: Lanes (blocks x signals) a call aims at, so that the sweeps fill the SIMD registers.
TARGET_LANES = 32
MIRROR = 5  # mirrored ring entries (see _fast.cpp)
POLE_FIT_DEGREES = (6, 7, 12)  # polynomials for the Zweig terms a(P), 1/a(P), rho(P) on P in [0, 0.32]
POLE_FIT_TERMS = 17  # coefficients per row passed to the compiled loop
POLE_FIT_HIGH = 0.32  # poles never exceed the passive pole 0.31


def zweig_fit():
    """Monomial coefficients (3, 17) in t = 2P/0.32 - 1 of a(P), 1/a(P) and rho(P) (spec §4.5):
    least-squares Chebyshev fits at 64 Chebyshev points of degrees 6, 7 and 12, whose relative errors
    on P in [0, 0.32] are about 3e-9, 2e-9 and 3e-9 (below the float32 ring's 6e-8)."""
    from numpy.polynomial import chebyshev

    x = np.cos(np.pi * (np.arange(64) + 0.5) / 64)
    pole = (x + 1) * POLE_FIT_HIGH / 2
    a = (pole + np.sqrt(pole**2 + SHERA_C * (1 - pole**2))) / SHERA_C
    d = 2 * (pole - a)
    rho = (2 * a) * np.sqrt(1 - (d / 2) ** 2) * np.exp(-pole / a)
    out = np.zeros((3, POLE_FIT_TERMS))
    for row, (f, deg) in enumerate(zip((a, 1 / a, rho), POLE_FIT_DEGREES)):
        out[row, : deg + 1] = chebyshev.cheb2poly(chebyshev.chebfit(x, f, deg))
    return out


def blocks_for(n_signals):
    """Blocks per signal for a group of ``n_signals``: one for a multiple of 8 signals (a batch:
    the lanes are the signals), else a power of two such that the lanes (signals x blocks) are at
    least TARGET_LANES and a multiple of 8 (one AVX-512 register of doubles)."""
    if n_signals % 8 == 0:
        return 1
    b = 1
    while n_signals * b < TARGET_LANES or (n_signals * b) % 8:
        b *= 2
    return b


def _thomas_factors(a, b, c):
    """Thomas factors (1/pivot m, c') of the tridiagonal system (a sub, b diagonal, c super)."""
    n = b.size
    m = np.empty(n)
    cp = np.empty(n)
    prev = 0.0
    for i in range(n):
        m[i] = 1.0 / (b[i] - a[i] * prev)
        cp[i] = c[i] * m[i]
        prev = cp[i]
    return m, cp


def _thomas_solve(a, m, cp, r):
    n = r.size
    z = np.empty(n)
    prev = 0.0
    for i in range(n):
        prev = (r[i] - a[i] * prev) * m[i]
        z[i] = prev
    q = np.empty(n)
    nxt = 0.0
    for i in range(n - 1, -1, -1):
        nxt = z[i] - cp[i] * nxt
        q[i] = nxt
    return q


def build_plan(p, n_signals=1, blocks=None, steps=2, lead=POLE_LEAD):
    """Per-slot arrays and factors of the compiled loop for TL parameters ``p`` (cochlea.TLParameters).

    Slot i = row * lanes + block * n_signals + signal holds node block * rows + row (rows = block
    length + 1 separator node; with one block, rows = 1001). Returns a dict (arrays (slots,),
    scalars) and the node of each slot ((rows, lanes) int, -1 for padding).
    """
    if blocks is None:
        blocks = blocks_for(n_signals)
    blocks = int(blocks)
    if blocks == 1:
        rows = N_NODES
        m = N_NODES
    else:
        rows = -(-(N_NODES + 1) // blocks)  # blocks * rows - 1 >= 1001 nodes (with separators)
        m = rows - 1
    n_pad = blocks * rows - N_NODES - (1 if blocks > 1 else 0)
    if n_pad < 0:
        raise AssertionError("layout does not cover the nodes")
    lanes = blocks * n_signals
    # node of (row, block), -1 for padding
    node = np.arange(blocks)[None, :] * rows + np.arange(rows)[:, None]
    node = np.where(node < N_NODES, node, -1)
    if blocks > 1 and np.any(node[m, : blocks - 1] < 0):
        raise AssertionError("a separator fell into the padding")

    real = node >= 0
    take = np.where(real, node, 1)  # padding copies node 1's pole constants (never counted)

    def per_node(values, pad):
        out = np.asarray(values, dtype=np.float64)[take]
        return np.where(real, out, pad)

    a_full, b_full, c_full = p.tri_a.copy(), p.tri_b.copy(), p.tri_c.copy()
    a_full[0] = 0.0
    c_full[-1] = 0.0
    tri_a = np.zeros((rows, blocks))
    tri_m = np.ones((rows, blocks))
    tri_cp = np.zeros((rows, blocks))
    spike_left = np.zeros((rows, blocks))
    spike_right = np.zeros((rows, blocks))
    for blk in range(blocks):
        nodes = node[:m, blk]
        ok = nodes >= 0
        a = np.where(ok, a_full[np.where(ok, nodes, 0)], 0.0)
        b = np.where(ok, b_full[np.where(ok, nodes, 0)], 1.0)
        c = np.where(ok, c_full[np.where(ok, nodes, 0)], 0.0)
        a_first, c_last = a[0], c[-1]
        a[0] = 0.0
        c[-1] = 0.0
        mm, cp = _thomas_factors(a, b, c)
        tri_a[:m, blk], tri_m[:m, blk], tri_cp[:m, blk] = a, mm, cp
        if blocks > 1:
            e = np.zeros(m)
            if blk > 0:
                e[0] = a_first
                spike_left[:m, blk] = _thomas_solve(a, mm, cp, e)
            e = np.zeros(m)
            if blk < blocks - 1:
                e[-1] = c_last
                spike_right[:m, blk] = _thomas_solve(a, mm, cp, e)
    n_sep = max(blocks - 1, 1)
    sep_a, sep_c = np.zeros(n_sep), np.zeros(n_sep)
    red_a, red_m, red_cp = np.zeros(n_sep), np.ones(n_sep), np.zeros(n_sep)
    if blocks > 1:
        red_b = np.zeros(n_sep)
        red_c = np.zeros(n_sep)
        for blk in range(blocks - 1):
            s = node[m, blk]
            sep_a[blk], sep_c[blk] = a_full[s], c_full[s]
            red_a[blk] = -a_full[s] * spike_left[m - 1, blk] if blk > 0 else 0.0
            red_b[blk] = b_full[s] - a_full[s] * spike_right[m - 1, blk] - c_full[s] * spike_left[0, blk + 1]
            red_c[blk] = -c_full[s] * spike_right[0, blk + 1] if blk + 1 < blocks - 1 else 0.0
        red_m, red_cp = _thomas_factors(red_a, red_b, red_c)

    omega = per_node(p.omega, 0.0)
    omega2 = per_node(p.omega**2, 0.0)
    omega2[0, 0] = 0.0  # the stapes: g_0 = d_m V_0
    zasq = per_node(p.zasq, 0.0)
    inv_omega_dt = 1.0 / (np.asarray(p.omega)[take] * p.dt)
    ring_length = np.asarray(p.ring_length)[take].astype(np.int32)

    def lanes_of(a):
        """(rows, blocks) -> (rows, blocks, signals) flattened: slot order."""
        return np.ascontiguousarray(np.repeat(np.asarray(a)[:, :, None], n_signals, axis=2).reshape(-1))

    # a batch (one block, a multiple of 8 signals) keeps the node constants of the sweeps once per row
    shared = blocks == 1 and n_signals % 8 == 0

    plan = {
        "signals": int(n_signals),
        "blocks": blocks,
        "rows": int(rows),
        "steps": int(steps),
        "dt": float(p.dt),
        "lead": float(lead),
        "p0x": float(p.p0x),
        "k0": float(p.k0),
        "kg0": float(p.kg0),
        "d_m": float(p.d_m),
        "shared": bool(shared),
        "sep_a": sep_a,
        "sep_c": sep_c,
        "red_a": red_a,
        "red_m": red_m,
        "red_cp": red_cp,
        "pole_fit": np.ascontiguousarray(zweig_fit().reshape(-1)),
    }
    # the pole hyperbola (spec 4.7.3) with its constants combined per node:
    # P = min(c0 + c1 |V| + c2 sqrt(1 + (c3 |V| - c4)^2), PoleE); the linear model's poles are constant
    if np.ptp(p.passive_pole) != 0:
        raise ValueError("the fast engine needs one passive pole for all nodes (the model's 0.31)")
    if p.nonlinear:
        k, inv_knee, inv_sa = np.asarray(p.kappa), 1.0 / np.asarray(p.knee_1), 1.0 / np.asarray(p.hyp_a)
        pole_c = (
            p.start_pole - 0.01 * k * p.sin_theta,
            0.01 * p.sin_theta * k * inv_knee,
            0.01 * p.cos_theta * p.hyp_b,
            k * inv_knee * inv_sa,
            k * inv_sa,
        )
    else:
        zero = np.zeros(N_NODES)
        pole_c = (initial_poles(p), zero, zero, zero, zero)
    for name, values in (
        ("omega", omega),
        ("omega2", omega2),
        ("inv_omega_dt", inv_omega_dt),
        ("zasq", zasq),
        ("tri_a", tri_a),
        ("tri_m", tri_m),
        ("tri_cp", tri_cp),
        ("spike_left", spike_left),
        ("spike_right", spike_right),
    ) + tuple((f"pole_c{j}", np.asarray(cj)[take]) for j, cj in enumerate(pole_c)):
        shared_name = name not in ("spike_left", "spike_right")
        plan[name] = np.ascontiguousarray(np.asarray(values)[:, 0]) if shared and shared_name else lanes_of(values)
        if name.startswith("pole_c"):
            plan[name] = plan[name].astype(np.float32)  # enough for a pole (7e-8 relative)
    plan["passive_pole"] = float(p.passive_pole[0])
    # one ring per node and signal; the signals of a node interleaved (entry t of signal s at
    # t * n_signals + s), so that a batch writes and reads neighbouring memory
    lengths = lanes_of(ring_length).astype(np.int32)
    node_len = np.asarray(ring_length, dtype=np.int64).reshape(-1)  # per (row, block)
    node_start = np.concatenate(([0], np.cumsum((node_len + MIRROR) * n_signals)[:-1]))
    starts = (node_start[:, None] + np.arange(n_signals)[None, :]).reshape(-1)
    size = int(node_start[-1] + (node_len[-1] + MIRROR) * n_signals)
    if size >= 2**31:
        raise ValueError(f"{n_signals} signals need more ring memory than one call can index; use fewer per call")
    plan["ring_length"] = lengths
    plan["ring_start"] = starts.astype(np.int32)
    plan["ring_size"] = size
    # the delays must stay inside the rings and in the past (spec 4.6, 12.3): a = 1/(D omega dt)
    # lies in [0.089, 0.092] for poles in [0, 0.31]
    omega_dt = np.asarray(p.omega) * p.dt
    if np.any(np.floor(1.0 / (0.085 * omega_dt)) + 3 > np.asarray(p.ring_length)) or np.any(1.0 / (0.095 * omega_dt) < 3):
        raise ValueError(
            f"fs = {p.fs:g} Hz is too low for the delay lines of the fast engine (the model runs at 100000 Hz); "
            "resample the signal to 100 kHz"
        )
    return plan, node


def store_slots(node, sections, n_signals):
    """Slot index (n_signals, n_channels) of each stored section of each signal."""
    rows, blocks = node.shape
    lanes = blocks * n_signals
    where = {int(n): (r, b) for (r, b), n in np.ndenumerate(node) if n >= 0}
    out = np.empty((n_signals, len(sections)), dtype=np.int64)
    for c, sec in enumerate(np.asarray(sections)):
        r, b = where[int(sec)]
        out[:, c] = r * lanes + b * n_signals + np.arange(n_signals)
    return out


def stage_constants(fs):
    """IHC (with the decimation taps) and ANF constants the compiled loop reads, at fs [Hz]."""
    a_met, a_f, a_s = _ihc.ihc_rates(fs)
    ihc = dict(
        gain=_ihc.CILIA_GAIN_S, x0=_ihc.X0, s0=_ihc.S0, a_met=a_met, a_f=a_f, a_s=a_s, g_met=_ihc.G_MET,
        ep=_ihc.EP, g_k=_ihc.G_K, v_k=_ihc.V_K, s_k=_ihc.S_K, e_kf=_ihc.E_KF, e_ks=_ihc.E_KS, c_m=_ihc.C_M,
        dt=1.0 / fs, v_rest=_ihc.V_REST_INITIAL, m_met_rest=float(_ihc.met_open_probability(0.0)),
        n_warmup=int(fs * _ihc.WARMUP_S), decimation_taps=_ihc.decimation_filter(),
    )
    fs_an = fs / _ihc.DECIMATION
    fibres = []
    for fibre in ("hsr", "msr", "lsr"):
        c = _anf.fibre_constants(fibre, fs_an)
        fibres.append(dict(
            c, s_ca=_anf.S_CA, M=_anf.M_RRP, L=_anf.L_RESERVE, rw_factor=c["r"] * c["dt"],
            rq_factor=_anf.A_Q * c["dt"], fs_an=fs_an, n_warmup=int(_anf.WARMUP_S * fs_an),
        ))
    return ihc, fibres


def solve_fast(stimuli, p, sections, outputs=("v",), integrator="scipy117", progress=None, isa="auto",
               blocks=None):
    """Run the fast engine on middle-ear-filtered stimuli (n_signals, T) [Pa] at p.fs, in lockstep.

    p: cochlea.TLParameters (the same for all signals). sections: node indices (n_channels,) of the
    stored channels. outputs: any of v y ihc anfh anfm anfl (computed only as far as needed).
    integrator: "scipy117" (two fixed steps per sample) or "legacy" (one).
    Returns a dict of lists with one entry per signal (None where not asked for): v, y, ihc
    (T, n_channels) [m/s, m, V], anfh/anfm/anfl (ceil(T/5), n_channels) [spikes/s] and q0 (T,) the
    raw emission; and n_rhs_evaluations (per signal) and isa (the instruction set used).
    progress(j) is called every 5000 samples. isa: "auto" (the best this CPU has), "avx512", "avx2"
    or "portable" (for tests). blocks: blocks per signal of the tridiagonal solve (default:
    blocks_for(n_signals); for tests).
    """
    if integrator not in INTEGRATOR_MODES:
        raise ValueError(f"integrator must be one of {INTEGRATOR_MODES}, got {integrator!r}")
    x = np.atleast_2d(np.asarray(stimuli, dtype=np.float64))
    n_signals, n_t = x.shape
    if n_signals > 64:
        raise ValueError(f"solve_fast takes at most 64 signals per call, got {n_signals}; split the batch")
    plan, node = build_plan(p, n_signals, blocks, STEPS_PER_SAMPLE[integrator])
    padded = np.zeros((n_signals, n_t + 2))
    padded[:, :n_t] = x
    slots = store_slots(node, sections, n_signals)
    want = {name: name in outputs for name in ("v", "y", "ihc", "anfh", "anfm", "anfl")}
    ihc_c, anf_c = stage_constants(p.fs)
    return compiled_core().fast_run(padded, plan, slots, want, ihc_c, anf_c, progress, isa)


def isa():
    """The instruction set the fast engine uses on this CPU: "avx512", "avx2" or "portable"."""
    return compiled_core().fast_isa()


__all__ = ["solve_fast", "build_plan", "isa", "STEPS_PER_SAMPLE", "MAX_LANES"]
