"""Inner-hair-cell receptor potential (spec §5, Altoè et al. 2017) and its decimation to fs/5 (spec §6).

The IHC runs at the cochlea's sample rate; the decimation to the ANF rate lives here too because
its start-up fix uses the IHC's first sample and its output is simply "the IHC potential at fs/5".
"""
import math

import numpy as np
from scipy.signal import firwin, upfirdn

from . import _libm
from ._compiled import core as compiled_core

# Cilia displacement per BM velocity, u = 0.118 s * v (the "magic constant" of the original).
CILIA_GAIN_S = 0.118

C_M = 12.5e-12  # membrane capacitance [F]
G_MET = 30e-9  # maximal MET conductance [S]
S1 = 16e-9  # MET Boltzmann slopes [m]
S0 = 3 * S1
X0 = 20e-9  # MET half-activation displacement [m]
TAU_MET = 50e-6  # MET adaptation-free open-probability time constant [s]
EP = 90e-3  # endocochlear potential [V]
G_K = 230e-9  # fast and slow K+ conductances, each [S]
V_K = -31e-3  # K+ half activation [V]
S_K = 10.5e-3  # K+ activation slope [V]
E_KF = -71e-3  # fast K+ reversal [V]
E_KS = -78e-3  # slow K+ reversal [V]
TAU_KF = 0.3e-3  # [s]
TAU_KS = 8e-3  # [s]
V_REST_INITIAL = -0.05703  # start value of the membrane potential [V] (actual rest is -57.656 mV)
WARMUP_S = 0.05
BLOCK_ELEMENTS = 1 << 20  # samples x channels per block of the memoryless MET nonlinearity

DECIMATION = 5
DECIMATION_TAPS = 31
START_ROWS = 5  # decimated rows replaced by the first IHC sample (spec §6)


def met_open_probability(u):
    """Steady-state MET open probability (double Boltzmann) for cilia displacement u [m]; same shape."""
    u = np.asarray(u, dtype=np.float64)
    d = X0 - u
    with np.errstate(over="ignore"):  # exp -> inf for u < -34 um gives 0, which is the right limit
        return 1.0 / (1.0 + _libm.exp(d / S0) * (1.0 + _libm.exp(d / S1)))


def k_activation(v):
    """Steady-state K+ activation for membrane potential v [V]; same shape."""
    v = np.asarray(v, dtype=np.float64)
    return 1.0 / (1.0 + _libm.exp(-(v - V_K) / S_K))


def ihc_rates(fs):
    """Per-step decay factors (alpha_MET, alpha_Kf, alpha_Ks) at fs [Hz]."""
    dt = 1.0 / fs
    return math.exp(-dt / TAU_MET), math.exp(-dt / TAU_KF), math.exp(-dt / TAU_KS)


def _check_fs(fs):
    fs = float(fs)
    if not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"fs must be a positive sample rate in Hz (the model uses 100000), got {fs!r}.")
    return fs


class _Cell:
    """State arrays of the IHC membrane model; step() is one sample of spec §5 in the original order."""

    def __init__(self, fs, n):
        self.dt = 1.0 / fs
        self.a_met, self.a_f, self.a_s = ihc_rates(fs)
        self.v = np.full(n, V_REST_INITIAL)
        self.m_met = np.full(n, met_open_probability(0.0))
        self.m_f = np.full(n, k_activation(V_REST_INITIAL))
        self.m_s = self.m_f.copy()
        self._t1 = np.empty(n)
        self._t2 = np.empty(n)
        self._mk = np.empty(n)

    def step(self):
        v, t1, t2, mk = self.v, self._t1, self._t2, self._mk
        # mk = m_K,inf(V) with the V before this step: 1 / (1 + exp(-(V - V_K) / s_K))
        np.subtract(v, V_K, out=mk)
        np.negative(mk, out=mk)
        np.divide(mk, S_K, out=mk)
        mk[:] = _libm.exp(mk)
        np.add(mk, 1.0, out=mk)
        np.divide(1.0, mk, out=mk)
        # m_f, m_s <- (1 - alpha) * mk + alpha * m
        np.multiply(mk, 1.0 - self.a_f, out=t1)
        np.multiply(self.m_f, self.a_f, out=self.m_f)
        np.add(t1, self.m_f, out=self.m_f)
        np.multiply(mk, 1.0 - self.a_s, out=t1)
        np.multiply(self.m_s, self.a_s, out=self.m_s)
        np.add(t1, self.m_s, out=self.m_s)
        # I_MET = (G_MET * m_MET) * (V - EP)
        np.multiply(self.m_met, G_MET, out=t1)
        np.subtract(v, EP, out=t2)
        np.multiply(t1, t2, out=t1)
        # total = ((0 + I_MET) + I_Kf) + I_Ks, with I_K = (G_K * m) * (V - E_K)
        np.multiply(self.m_f, G_K, out=t2)
        np.subtract(v, E_KF, out=mk)
        np.multiply(t2, mk, out=t2)
        np.add(t1, t2, out=t1)
        np.multiply(self.m_s, G_K, out=t2)
        np.subtract(v, E_KS, out=mk)
        np.multiply(t2, mk, out=t2)
        np.add(t1, t2, out=t1)
        # V <- V + dt * (-(total) / C_m)
        np.negative(t1, out=t1)
        np.divide(t1, C_M, out=t1)
        np.multiply(t1, self.dt, out=t1)
        np.add(v, t1, out=v)


def ihc_potential(v, fs, engine="exact", simd=True, overwrite_input=False):
    """IHC receptor potential [V], (T, C) float64, from BM velocity v (T, C) [m/s] at fs [Hz].

    The input is scaled by 0.118 s to cilia displacement inside. A 50-ms warm-up with the MET
    conductance at rest (int(fs*0.05) steps, not part of the output) precedes sample 0.
    engine: "exact" (compiled time loop; "cpp" is its old name) or "numpy" (this module's loop, the specification).
    simd=False makes the compiled loop use its portable path (the same numbers; for tests).
    overwrite_input=True writes the result into v (a C-contiguous float64 array) instead of new
    memory, for callers that no longer need the velocity (compiled engine only).
    """
    if engine not in ("exact", "cpp", "numpy"):
        raise ValueError(
            f'engine must be "exact" (compiled; "cpp" is its old name) or "numpy", got {engine!r}; '
            'the fast engine runs this stage inside its own loop (verhulst2018.fast)'
        )
    fs = _check_fs(fs)
    v = np.asarray(v, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(
            f"v must be time-major BM velocity of shape (T, C) in m/s, got shape {v.shape}; "
            "use v[:, None] for a single channel."
        )
    n_t, n_c = v.shape
    n_warmup = int(fs * WARMUP_S)
    if engine != "numpy":
        _core = compiled_core()
        cell = _Cell(fs, n_c)
        constants = dict(gain=CILIA_GAIN_S, x0=X0, s0=S0, s1=S1, a_met=cell.a_met, a_f=cell.a_f, a_s=cell.a_s,
                         g_met=G_MET, ep=EP, g_k=G_K, v_k=V_K, s_k=S_K, e_kf=E_KF, e_ks=E_KS, c_m=C_M, dt=cell.dt)
        in_place = overwrite_input and v.flags.c_contiguous and v.flags.writeable
        return _core.ihc_run(v, cell.v, cell.m_met, cell.m_f, cell.m_s, constants, n_warmup, simd,
                             v if in_place else None)
    # The warm-up is identical in every channel: run it once on one lane, then broadcast.
    warm = _Cell(fs, 1)
    for _ in range(n_warmup):
        warm.step()
    cell = _Cell(fs, n_c)
    cell.v[:] = warm.v
    cell.m_f[:] = warm.m_f
    cell.m_s[:] = warm.m_s
    a_met = cell.a_met
    out = np.empty((n_t, n_c))
    # The open probability's steady state has no memory, so it is evaluated for a block of
    # samples at once; blocks keep the temporaries small for long, many-channel inputs.
    block = max(1, BLOCK_ELEMENTS // max(n_c, 1))
    for start in range(0, n_t, block):
        stop = min(start + block, n_t)
        m_inf = met_open_probability(v[start:stop] * CILIA_GAIN_S)
        m_inf *= 1.0 - a_met  # (1 - alpha_MET) * m_MET,inf(u[n])
        m_met = cell.m_met
        for n in range(stop - start):
            np.multiply(m_met, a_met, out=m_met)
            np.add(m_inf[n], m_met, out=m_met)
            cell.step()
            out[start + n] = cell.v
    return out


def ihc_rest_potential(fs=100000.0):
    """Resting IHC potential [V] after the warm-up at fs [Hz] (-0.0576563205 V at 100 kHz)."""
    return float(ihc_potential(np.zeros((1, 1)), fs)[0, 0])


def decimation_filter():
    """The 31-tap Hamming-windowed FIR low-pass (cutoff fs/10) used for decimation by 5; (31,)."""
    return firwin(DECIMATION_TAPS, 1.0 / DECIMATION, window="hamming")


def decimate_ihc(vihc):
    """IHC potential (T, C) [V] at fs -> (ceil(T/5), C) [V] at fs/5, zero-phase, with the start-up fix.

    Output row m is centred on input row 5m (spec §6); this equals
    scipy.signal.decimate(vihc, 5, n=30, ftype='fir', axis=0) computed the same way (upfirdn),
    after which rows 0..4 of every channel are set to vihc[0, 0] (first channel's first sample)
    to remove the zero-padding transient. The last ~3 rows still lean towards 0 V; pad with silence.
    """
    x = np.asarray(vihc, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(
            f"vihc must be a time-major IHC potential of shape (T, C) with T >= 1, got shape "
            f"{x.shape}; use vihc[:, None] for a single channel."
        )
    n_in = x.shape[0]
    n_out = -(-n_in // DECIMATION)
    h = decimation_filter()
    half_len = (DECIMATION_TAPS - 1) // 2
    # Pad the filter in front so that output sample m is centred on input 5m, as resample_poly does.
    n_pre = DECIMATION - half_len % DECIMATION
    first = (half_len + n_pre) // DECIMATION
    h = np.concatenate((np.zeros(n_pre), h))
    y = upfirdn(h, x, up=1, down=DECIMATION, axis=0)
    if y.shape[0] < first + n_out:  # extra tail zeros: cannot change the values that exist
        y = np.concatenate((y, np.zeros((first + n_out - y.shape[0], x.shape[1]))))
    y = np.ascontiguousarray(y[first:first + n_out])
    y[:START_ROWS] = x[0, 0]
    return y
