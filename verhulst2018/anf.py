"""Auditory-nerve synapse: three-store vesicle diffusion with refractoriness (spec §7, paper §2.4).

Input is the decimated IHC potential (see ``ihc.decimate_ihc``) at fs_an = fs/5; one call gives
the firing rate of one fibre of one spontaneous-rate class in every channel.
"""
import math

import numpy as np

from . import _libm
from ._compiled import core as compiled_core

R1 = 220.0  # reserve-pool maximal replenishment [vesicles/s] (paper Table 1: 300; code: 220)
A_Q = 700.0  # RRP replenishment rate [1/s]
M_RRP = 14.0  # RRP size [vesicles]
L_RESERVE = 60.0  # reserve pool size [vesicles]
TAU_REF = 0.6e-3  # relative-refractory time constant and absolute refractory period [s]
S_CA = 1.5e-3  # Boltzmann sensitivity of the Ca activation [V]
TAU_CA = 0.2e-3  # Ca-channel activation time constant [s]
V_REST = -0.05703  # rest potential used to place V_half [V]
WARMUP_S = 0.05
BLOCK_ELEMENTS = 1 << 20  # samples x channels per block of the memoryless Ca nonlinearity

# Per fibre class: sp = spontaneous release [1/s], psr = peak release rate k_max [1/s].
FIBRES = {
    "hsr": {"sp": 68.5, "psr": 3000.0},
    "msr": {"sp": 10.0, "psr": 1000.0},
    "lsr": {"sp": 1.0, "psr": 800.0},
}
_ALIASES = {"h": "hsr", "m": "msr", "l": "lsr", "high": "hsr", "medium": "msr", "low": "lsr"}


def fibre_name(fibre):
    """Canonical fibre class name ('hsr', 'msr' or 'lsr') for 'hsr'/'h', 'msr'/'m', 'lsr'/'l'."""
    key = str(fibre).lower()
    key = _ALIASES.get(key, key)
    if key not in FIBRES:
        raise ValueError(
            f"fibre must be one of 'hsr', 'msr', 'lsr' (or 'h', 'm', 'l'), got {fibre!r}; "
            "call anf_rate once per fibre class."
        )
    return key


def fibre_constants(fibre, fs_an=20000.0):
    """Derived synapse constants of spec §7 for one fibre class at fs_an [Hz], as a dict."""
    p = FIBRES[fibre_name(fibre)]
    sp, psr = p["sp"], p["psr"]
    dt = 1.0 / fs_an
    r = R1 / L_RESERVE
    l_ss = L_RESERVE - sp / r
    m_ss = M_RRP * (l_ss / L_RESERVE - sp / A_Q)
    v_half = S_CA * math.log((psr - sp) / sp) + V_REST
    return {
        "sp": sp,
        "psr": psr,
        "dt": dt,
        "r": r,
        "L_ss": l_ss,
        "M_ss": m_ss,
        "pp": psr / m_ss,
        "V_half": v_half,
        "k0": math.sqrt(1.0 / (1.0 + math.exp(-(V_REST - v_half) / S_CA))),
        "alpha_ca": math.exp(-dt / TAU_CA),
        "alpha_ref": math.exp(-dt / TAU_REF),
        "n_ref": int(round(TAU_REF * fs_an)),
    }


def anf_rate(vihc_decimated, fs_an, fibre, engine="exact", simd=True):
    """Firing rate [spikes/s], (M, C) float64, of one fibre of class `fibre` ('hsr'|'msr'|'lsr').

    vihc_decimated: IHC potential (M, C) [V] at fs_an [Hz] (normally 20 kHz, from decimate_ihc).
    A 50-ms warm-up at the nominal rest activation precedes row 0 (not part of the output).
    engine: "exact" (compiled time loop; "cpp" is its old name) or "numpy" (this module's loop, the specification);
    simd=False makes the compiled path use its portable loops (the same numbers; for tests).
    """
    if engine not in ("exact", "cpp", "numpy"):
        raise ValueError(
            f'engine must be "exact" (compiled; "cpp" is its old name) or "numpy", got {engine!r}; '
            'the fast engine runs this stage inside its own loop (verhulst2018.fast)'
        )
    x = np.asarray(vihc_decimated, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(
            f"vihc_decimated must be time-major of shape (M, C) in V, got shape {x.shape}; "
            "use x[:, None] for a single channel."
        )
    fs_an = float(fs_an)
    if not np.isfinite(fs_an) or fs_an <= 0:
        raise ValueError(f"fs_an must be a positive sample rate in Hz (normally 20000), got {fs_an!r}.")
    c = fibre_constants(fibre, fs_an)
    if c["n_ref"] < 1:
        raise ValueError(
            f"fs_an = {fs_an:g} Hz is too low: the {TAU_REF * 1e3:g}-ms refractory period must span at "
            "least one sample; use fs_an >= 1000 Hz (the model uses 20000)."
        )
    n_m, n_c = x.shape
    dt, n_ref = c["dt"], c["n_ref"]
    a_ca, a_ref = c["alpha_ca"], c["alpha_ref"]
    pp = c["pp"]
    rw_factor = c["r"] * dt
    rq_factor = A_Q * dt

    q = np.full(n_c, c["M_ss"])
    w = np.full(n_c, c["L_ss"])
    k = np.full(n_c, c["k0"])
    rho = np.zeros(n_c)
    avail = np.ones(n_c)
    history = np.zeros((n_ref, n_c))
    ptr = 0
    e = np.empty(n_c)
    rq = np.empty(n_c)
    rw = np.empty(n_c)
    tmp = np.empty(n_c)
    fire = np.empty(n_c)
    n_warmup = int(WARMUP_S * fs_an)
    block = max(1, BLOCK_ELEMENTS // max(n_c, 1))

    def ca_drive(start, stop):
        # Ca activation input (square-root domain) has no memory: a block of samples at once
        if engine != "numpy":  # the same numbers, compiled
            _core = compiled_core()
            return _core.ca_drive(x[start:stop], c["V_half"], S_CA, a_ca, simd)
        k_in = np.sqrt(1.0 / (1.0 + _libm.exp(-(x[start:stop] - c["V_half"]) / S_CA)))
        k_in *= 1.0 - a_ca
        return k_in

    if engine != "numpy":
        _core = compiled_core()
        constants = dict(c, M=M_RRP, L=L_RESERVE, rw_factor=rw_factor, rq_factor=rq_factor)
        state = dict(q=q, w=w, k=k, rho=rho, avail=avail, history=history, ptr=0)
        out = np.empty((n_m, n_c))
        for start in range(0, max(n_m, 1), block):
            stop = min(start + block, n_m)
            out[start:stop] = _core.anf_loop(ca_drive(start, stop), constants, state, n_warmup if start == 0 else 0)
        return out * fs_an

    def step(clamp_low):
        # P_rel = (pp * k^2) * dt;  e = P_rel * q
        np.multiply(k, k, out=e)
        np.multiply(e, pp, out=e)
        np.multiply(e, dt, out=e)
        if clamp_low:
            np.maximum(q, 0.0, out=q)
            np.maximum(w, 0.0, out=w)
        np.minimum(q, M_RRP, out=q)
        np.minimum(w, L_RESERVE, out=w)
        np.multiply(e, q, out=e)
        # Rw = (r dt) (L - w);  Rq = (a_q dt) max(w/L - q/M, 0)
        np.subtract(L_RESERVE, w, out=rw)
        np.multiply(rw, rw_factor, out=rw)
        np.divide(w, L_RESERVE, out=rq)
        np.divide(q, M_RRP, out=tmp)
        np.subtract(rq, tmp, out=rq)
        np.maximum(rq, 0.0, out=rq)
        np.multiply(rq, rq_factor, out=rq)
        # q <- (q + Rq) - e;  w <- (w - Rq) + Rw
        np.add(q, rq, out=q)
        np.subtract(q, e, out=q)
        np.subtract(w, rq, out=w)
        np.add(w, rw, out=w)
        # fire = (A - rho) e; the firing of n_ref bins ago returns to the available fraction
        np.subtract(avail, rho, out=fire)
        np.multiply(fire, e, out=fire)
        nonlocal ptr
        rec = history[ptr]
        np.multiply(rho, a_ref, out=rho)
        np.multiply(rec, 1.0 - a_ref, out=tmp)
        np.add(rho, tmp, out=rho)
        np.subtract(avail, fire, out=avail)
        np.add(avail, rec, out=avail)
        history[ptr] = fire
        ptr = (ptr + 1) % n_ref

    for _ in range(n_warmup):
        step(clamp_low=False)

    out = np.empty((n_m, n_c))
    for start in range(0, n_m, block):
        k_in = ca_drive(start, min(start + block, n_m))
        for m in range(k_in.shape[0]):
            np.multiply(k, a_ca, out=k)
            np.add(k, k_in[m], out=k)
            step(clamp_low=True)
            out[start + m] = fire
    out *= fs_an
    return out
