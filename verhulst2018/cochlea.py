"""Nonlinear transmission-line (TL) cochlea of Verhulst et al. (2018).

The cochlea is 1000 sections plus the middle-ear node (1001 nodes; node 0 is the
stapes, node 1 the most basal section, node 1000 the apex). Each sample interval
is integrated with DOPRI5 exactly as the reference does (spec §4.10): the pole of
each section is updated *inside* the integrator's stages, so the result depends
on every stage value and the integrator has to be reproduced step for step.

Two engines run this exact scheme:

* ``engine="exact"`` (old name "cpp") -- the compiled core ``verhulst2018._core`` (_tl.cpp), bit for
  bit the NumPy specification (default);
* ``engine="numpy"`` -- :func:`solve_numpy` below, a readable NumPy version that
  is the executable specification the tests compare the C++ core against.

A third, ``engine="fast"``, integrates the same equations with cheaper numerics (fixed steps, poles
once per step, a parallel tridiagonal solve, batched lanes): see fast.py.

Two integrator modes (spec §4.10):

* ``"scipy117"`` (default) -- SciPy >= 1.17: the initial step is estimated afresh
  (HINIT, one extra right-hand-side evaluation) at the start of every sample.
  The public reference case was made this way.
* ``"legacy"`` -- SciPy <= 1.16 (Fortran DOPRI5): the step size predicted at the
  end of a sample is carried into the next one. The published results and the
  original CoNNear training data were made this way.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from . import _libm
from ._compiled import core as compiled_core
from .poles import BM_LENGTH, GREENWOOD_A, GREENWOOD_ALPHA, GREENWOOD_B, N_NODES, N_SECTIONS, section_cf

# Mechanical constants (spec §4.1)
BM_WIDTH = 0.001  # m
SCALA_HEIGHT = 0.001  # m
FLUID_DENSITY = 1000.0  # kg/m^3
STAPES_AREA = 3e-6  # m^2
MIDDLE_EAR_DAMPING = 0.30451925e12
ZWEIG_N_WAVELENGTHS = 1.5
SHERA_MU_MAX = 3.0
SHERA_C = 120.8998691636393
PASSIVE_POLE = 0.31  # saturating pole alpha*_P ("PoleE")
COMPRESSION_SLOPE = 0.4
KNEE_VAR = 1.0
IRREGULARITY_SIZE = 0.05  # "IrrPct"
POLE_FACTOR = 100.0
POLE_TOLERANCE = 0.01  # 1 % hysteresis of the pole update
STIMULUS_CUBIC = 0.1666667  # the reference's literal constant, not 1/6

INTEGRATOR_MODES = ("scipy117", "legacy")
RTOL = 1e-2
ATOL = 1e-13


def _knee_velocities():
    """Knee velocities V_k1, V_k2 (m/s) of the pole nonlinearity (spec §4.7.1)."""
    v1 = 0.6807e-8 / 3 / np.sqrt(2)
    v2 = 26.490e-11 / 3 / np.sqrt(2)
    k1db = 20.0 + 20.0
    k1l = 10 ** (k1db / 20)
    vst1 = 20 * _libm.log10(v1) + k1db
    vst2 = 20 * _libm.log10(v2) + k1db
    k2db = (vst1 - vst2) / (1 - COMPRESSION_SLOPE)
    return k1l * v1, v2 * 10 ** (k2db / 20) * k1l


VELOCITY_KNEE_1, VELOCITY_KNEE_2 = _knee_velocities()


@dataclasses.dataclass(frozen=True)
class TLParameters:
    """Everything the time stepping needs; arrays have one value per node (1001,)."""

    fs: float
    dt: float
    omega: np.ndarray  # rad/s, node 0 holds omega_co
    zasq: np.ndarray  # S_i of the tridiagonal system
    tri_a: np.ndarray  # sub-diagonal
    tri_b: np.ndarray  # diagonal
    tri_c: np.ndarray  # super-diagonal (tri_c[1000] = 0)
    tri_cp: np.ndarray  # c'_i of the Thomas algorithm (constant in time)
    tri_m: np.ndarray  # 1 / pivot m_i of the Thomas algorithm
    tri_b0: float
    p0x: float
    d_m: float
    k0: float
    kg0: float
    q0f: float
    n_buffer: int  # ring-buffer length of the NumPy engine (the longest delay of all nodes)
    ring_length: np.ndarray  # per-node ring length of the compiled core (same numbers, less memory)
    start_pole: np.ndarray  # PS_i
    knee_1: np.ndarray  # V1_i (m/s)
    kappa: np.ndarray
    hyp_a: np.ndarray  # Sa_i
    hyp_b: np.ndarray  # Sb_i
    cos_theta: np.ndarray
    sin_theta: np.ndarray
    passive_pole: np.ndarray  # PoleE_i
    nonlinear: bool


def tl_parameters(fs, poles, nonlinear=True, irregularities=False, subject=1):
    """Build the TL model's constants (spec §4.1-4.8).

    poles: (1001,) starting poles alpha*_A, node 0 first.
    """
    poles = np.asarray(poles, dtype=np.float64)
    dt = 1.0 / fs
    f = section_cf()
    dx = BM_LENGTH / N_SECTIONS
    m_so = 2 * FLUID_DENSITY / (BM_WIDTH * SCALA_HEIGHT)
    l_z = 1 / (2.3030 * GREENWOOD_ALPHA)  # 2.3030, not ln 10 (spec §12.12)
    omega_co = 2 * np.pi * GREENWOOD_A - GREENWOOD_B  # mixed units, as the reference
    m_po = m_so * l_z**2 / (4 * ZWEIG_N_WAVELENGTHS) ** 2
    omega = (2 * np.pi) * f
    omega[0] = omega_co
    m_s = (m_so * omega_co) / omega
    m_s[0] = m_so

    tri_a = np.zeros(N_NODES)
    tri_b = np.zeros(N_NODES)
    tri_c = np.zeros(N_NODES)
    zasq = np.ones(N_NODES)
    tri_b[0] = 1 + m_so * dx
    tri_c[0] = (-omega_co) / omega[1]
    i = np.arange(1, N_NODES)
    tri_a[i] = ((-m_s[i]) * omega[i]) / omega[i - 1]
    zasq[i] = (((omega[i] * m_s[i]) * m_s[i - 1]) * dx**2) / (omega_co * m_po)
    tri_b[i] = (zasq[i] + m_s[i]) + m_s[i - 1]
    j = np.arange(1, N_NODES - 1)
    tri_c[j] = (-m_s[j - 1]) * omega[j] / omega[j + 1]

    # Thomas algorithm factors, multiply-by-reciprocal form (spec §4.4)
    tri_cp = np.zeros(N_NODES)
    tri_m = np.zeros(N_NODES)
    tri_cp[0] = tri_c[0] / tri_b[0]
    for k in range(1, N_NODES):
        tri_m[k] = 1 / (tri_b[k] - tri_a[k] * tri_cp[k - 1])
        tri_cp[k] = tri_c[k] * tri_m[k]

    p0x = m_so * dx / (m_po * BM_WIDTH)
    ring_length = (np.floor(SHERA_MU_MAX / (f * dt)) + 1).astype(np.int64)
    n_buffer = int(np.max(ring_length))

    # irregularities (spec §4.8); the draw is made whether or not they are used
    r = 2 * (np.random.RandomState(subject).random_sample(N_NODES) - 0.5)
    knee_1 = np.full(N_NODES, VELOCITY_KNEE_1)
    knee_2 = np.full(N_NODES, VELOCITY_KNEE_2)
    start_pole = poles.copy()
    if irregularities:
        rn = _libm.power(10.0, r / 20 / KNEE_VAR)
        knee_1 = VELOCITY_KNEE_1 * rn
        knee_2 = VELOCITY_KNEE_2 * rn
        start_pole = (1 + IRREGULARITY_SIZE * r / 2) * poles

    # per-node hyperbola of the pole nonlinearity (spec §4.7.2)
    passive_pole = np.full(N_NODES, PASSIVE_POLE)
    ratio = knee_2 / knee_1
    theta0 = _libm.arctan((passive_pole - start_pole) * POLE_FACTOR / (ratio - 1))
    theta = theta0 / 2
    s_foc = start_pole * POLE_FACTOR / ratio
    s_e = _libm.cos((np.pi - theta0) * 0.5)
    return TLParameters(
        fs=float(fs),
        dt=dt,
        omega=omega,
        zasq=zasq,
        tri_a=tri_a,
        tri_b=tri_b,
        tri_c=tri_c,
        tri_cp=tri_cp,
        tri_m=tri_m,
        tri_b0=float(tri_b[0]),
        p0x=p0x,
        d_m=-p0x * STAPES_AREA * MIDDLE_EAR_DAMPING,
        k0=-(BM_WIDTH * m_po) / STAPES_AREA,
        kg0=(m_po * BM_WIDTH) / (m_so * STAPES_AREA * dx),
        q0f=m_po * BM_WIDTH,
        n_buffer=n_buffer,
        ring_length=ring_length,
        start_pole=start_pole,
        knee_1=knee_1,
        kappa=_libm.cos(theta) / _libm.cos(2 * theta),
        hyp_a=s_foc * np.sqrt(1 - s_e**2),
        hyp_b=s_foc * s_e,
        cos_theta=_libm.cos(theta),
        sin_theta=_libm.sin(theta),
        passive_pole=passive_pole,
        nonlinear=bool(nonlinear),
    )


def pole_from_velocity(p, velocity):
    """Instantaneous pole P^ (1001,) for BM velocities (1001,) in m/s (spec §4.7.3)."""
    x = (np.abs(velocity) / p.knee_1 - 1) * p.kappa
    yp = p.hyp_b * np.sqrt(1 + (x / p.hyp_a) ** 2)
    s = x * p.sin_theta + yp * p.cos_theta
    return np.minimum(p.start_pole + s / POLE_FACTOR, p.passive_pole)


def initial_poles(p):
    """Poles at rest: P^(V=0) for the nonlinear model, min(PS, PoleE) for the linear one."""
    if p.nonlinear:
        return pole_from_velocity(p, np.zeros(N_NODES))
    return np.minimum(p.start_pole, p.passive_pole)


def zweig_parameters(pole):
    """Zweig impedance terms (d, mu, rho), each (1001,), for poles (1001,) (spec §4.5)."""
    a = (pole + np.sqrt(pole**2 + SHERA_C * (1 - pole**2))) / SHERA_C
    d = 2 * (pole - a)
    mu = 1 / ((2 * np.pi) * a)
    rho = ((2 * a) * np.sqrt(1 - (d / 2) ** 2)) * _libm.exp(-pole / a)
    return d, mu, rho


def _solve_tridiagonal(p, r):
    """Thomas algorithm with the constant factors of ``p`` (spec §4.4); r (1001,)."""
    n = N_NODES
    z = np.empty(n)
    z[0] = r[0] / p.tri_b0
    a, m = p.tri_a, p.tri_m
    for i in range(1, n):
        z[i] = (r[i] - a[i] * z[i - 1]) * m[i]
    q = np.empty(n)
    q[n - 1] = z[n - 1]
    cp = p.tri_cp
    for i in range(n - 2, -1, -1):
        q[i] = z[i] - cp[i] * q[i + 1]
    return q


def _seq_sum(x):
    """Sequential (left-to-right) sum, as DOPRI5 accumulates its norms."""
    return float(np.cumsum(x)[-1])


# DOPRI5 coefficients (Hairer & Wanner)
C2, C3, C4, C5 = 1 / 5, 3 / 10, 4 / 5, 8 / 9
A21 = 1 / 5
A31, A32 = 3 / 40, 9 / 40
A41, A42, A43 = 44 / 45, -56 / 15, 32 / 9
A51, A52, A53, A54 = 19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729
A61, A62, A63, A64, A65 = 9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656
A71, A73, A74, A75, A76 = 35 / 384, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84
E1, E3, E4, E5, E6, E7 = 71 / 57600, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40


class _NumpyTL:
    """State of one TL cochlea for the NumPy engine (ring buffer, poles, pointers)."""

    def __init__(self, p, stimulus):
        self.p = p
        self.s = stimulus
        self.n_buf = p.n_buffer
        self.buffer = np.zeros((N_NODES, self.n_buf))
        self.write = 0
        self.j = 0
        self.t_j = 0.0
        self.q0 = 0.0
        self.n_rhs = 0
        self.n_updates = 0
        self.set_poles(initial_poles(p))

    def set_poles(self, pole):
        self.pole = pole
        self.d, self.mu, self.rho = zweig_parameters(pole)
        self.update_pointers()

    def update_pointers(self):
        p = self.p
        d_exact = ((2 * np.pi) * self.mu) / (p.omega * p.dt)
        d_int = np.floor(d_exact) + 1
        self.frac = d_int - d_exact
        n = self.n_buf
        k1 = ((self.write + n) - d_int.astype(np.int64)) % n
        self.k = np.stack([(k1 + n - 1) % n, k1, (k1 + 1) % n, (k1 + 2) % n])

    def delayed_displacement(self, phi):
        """Cubic interpolation of Y(t - tau_i) with the gcc fast-math float32 arithmetic."""
        self.frac = self.frac + phi
        e = self.frac
        late = e >= 1
        k = np.where(late, (self.k + 1) % self.n_buf, self.k)
        rows = np.arange(N_NODES)
        y0, y1, y2, y3 = (self.buffer[rows, k[c]].astype(np.float32) for c in range(4))
        nu = np.where(late, e - 1, e).astype(np.float32)
        a0 = (y1 - y0) + (y3 - y2)  # float32
        out = (a0.astype(np.float64) * (nu.astype(np.float64) - 1) + (y0 - y1).astype(np.float64)) * (
            nu * nu
        ).astype(np.float64) + (y1.astype(np.float64) + (y2 - y0).astype(np.float64) * nu.astype(np.float64))
        self.frac = self.frac - phi
        return out

    def rhs(self, t, state):
        self.n_rhs += 1
        p = self.p
        v = state[:N_NODES]
        y = state[N_NODES:]
        phi = (t - self.t_j) / p.dt
        j, s = self.j, self.s
        a = s[j - 1] if j > 0 else 0.0
        b, c, d = s[j], s[j + 1], s[j + 2]
        force = b + phi * ((c - b) - STIMULUS_CUBIC * (1 - phi) * (((d - a) - 3 * (c - b)) * phi + ((d + 2 * a) - 3 * b)))
        if p.nonlinear:
            new = pole_from_velocity(p, v)
            change = np.abs(new[1:] - self.pole[1:]) / np.abs(self.pole[1:])
            if not np.max(change) <= POLE_TOLERANCE:  # NaN counts as a change
                self.n_updates += 1
                self.set_poles(new)
        y_delayed = self.delayed_displacement(phi)
        om = p.omega
        g = (om * self.d) * v + om * om * (y + self.rho * y_delayed)
        g[0] = p.d_m * v[0]
        r = p.zasq * g
        r[0] = g[0] + p.p0x * force
        q = _solve_tridiagonal(p, r)
        dv = q - g
        dv[0] = p.k0 * q[0] + p.kg0 * (g[0] + p.p0x * force)
        self.q0 = q[0]
        return np.concatenate([dv, v])

    def end_of_sample(self, t_next, state):
        self.t_j = t_next
        self.write = (self.write + 1) % self.n_buf
        self.buffer[:, self.write] = state[N_NODES:]
        self.update_pointers()
        self.j += 1


def _hinit(f, x, y, k1, h_max):
    sk = ATOL + RTOL * np.abs(y)
    dnf = _seq_sum((k1 / sk) ** 2)
    dny = _seq_sum((y / sk) ** 2)
    if dnf <= 1e-10 or dny <= 1e-10:
        h = 1e-6
    else:
        h = np.sqrt(dny / dnf) * 0.01
    h = min(h, h_max)
    f1 = f(x + h, y + h * k1)
    der2 = np.sqrt(_seq_sum(((f1 - k1) / sk) ** 2)) / h
    der12 = max(abs(der2), np.sqrt(dnf))
    if der12 <= 1e-15:
        h1 = max(1e-6, abs(h) * 1e-3)
    else:
        h1 = (0.01 / der12) ** (1.0 / 5)
    return min(100 * abs(h), h1, h_max)


def _dopri5_interval(f, x, x_end, y, h, mode):
    """Integrate one sample interval [x, x_end] (spec §4.10). Returns (x, y, h_next)."""
    n = y.size
    k1 = f(x, y)
    h_max = x_end - x
    if mode == "scipy117" or h == 0.0:
        h = _hinit(f, x, y, k1, h_max)
    facold = 1e-4
    reject = False
    last = False
    for _ in range(500):
        if x + 1.01 * h - x_end > 0:
            h = x_end - x
            last = True
        k2 = f(x + C2 * h, y + (h * A21) * k1)
        k3 = f(x + C3 * h, y + h * (A31 * k1 + A32 * k2))
        k4 = f(x + C4 * h, y + h * (A41 * k1 + A42 * k2 + A43 * k3))
        k5 = f(x + C5 * h, y + h * (A51 * k1 + A52 * k2 + A53 * k3 + A54 * k4))
        xph = x + h
        k6 = f(xph, y + h * (A61 * k1 + A62 * k2 + A63 * k3 + A64 * k4 + A65 * k5))
        y_new = y + h * (A71 * k1 + A73 * k3 + A74 * k4 + A75 * k5 + A76 * k6)
        k7 = f(xph, y_new)
        err_i = (E1 * k1 + E3 * k3 + E4 * k4 + E5 * k5 + E6 * k6 + E7 * k7) * h
        sk = ATOL + RTOL * np.maximum(np.abs(y), np.abs(y_new))
        err = np.sqrt(_seq_sum((err_i / sk) ** 2) / n)
        fac11 = err**0.17
        fac = fac11 / facold**0.04
        fac = max(0.1, min(5.0, fac / 0.9))
        h_new = h / fac
        if err <= 1.0:
            facold = max(err, 1e-4)
            y = y_new
            k1 = k7
            x = xph
            if last:
                return x, y, h_new
            if abs(h_new) > h_max:
                h_new = h_max
            if reject:
                h_new = min(abs(h_new), abs(h))
            reject = False
        else:
            h_new = h / min(5.0, fac11 / 0.9)
            reject = True
            last = False
        h = h_new
    raise RuntimeError("DOPRI5 needed more than 500 steps in one sample interval")


def solve_numpy(stimulus, p, store_nodes, integrator="scipy117", progress=None, store_y=True):
    """Run the TL cochlea with the NumPy engine (slow; the executable specification).

    stimulus: (T,) middle-ear-filtered pressure at p.fs.
    Returns v, y: (T, n_store) m/s and m (last two rows 0; y is None with store_y=False),
    q0: (T,) raw emission, the number of right-hand-side evaluations and of pole updates.
    """
    if integrator not in INTEGRATOR_MODES:
        raise ValueError(f"integrator must be one of {INTEGRATOR_MODES}, got {integrator!r}")
    s = np.asarray(stimulus, dtype=np.float64)
    n_t = s.size
    store_nodes = np.asarray(store_nodes)
    v_out = np.zeros((n_t, store_nodes.size))
    y_out = np.zeros((n_t, store_nodes.size)) if store_y else None
    q0 = np.zeros(n_t)
    tl = _NumpyTL(p, s)
    state = np.zeros(2 * N_NODES)
    t = 0.0
    h = 0.0
    for j in range(n_t - 2):
        if progress is not None and j > 0 and j % 5000 == 0:
            progress(j)
        t, state, h = _dopri5_interval(tl.rhs, t, t + p.dt, state, h, integrator)
        tl.end_of_sample(t, state)
        v_out[j] = state[store_nodes]
        if store_y:
            y_out[j] = state[N_NODES + store_nodes]
        q0[j] = tl.q0
    return v_out, y_out, q0, tl.n_rhs, tl.n_updates


def _core_parameters(p):
    """The TL parameters as the dict the compiled core reads."""
    fields = dataclasses.asdict(p)
    fields["initial_pole"] = initial_poles(p)
    return fields


def solve_cpp(stimulus, p, store_nodes, integrator="scipy117", progress=None, simd=True, store_y=True):
    """Run the TL cochlea with the compiled core (same results as :func:`solve_numpy`).

    stimulus: (T,) middle-ear-filtered pressure at p.fs.
    Returns v, y: (T, n_store) m/s and m (last two rows 0), q0: (T,) raw emission,
    the number of right-hand-side evaluations and of pole updates. ``progress(j)`` is
    called every 5000 samples when given. ``simd=False`` runs the portable loops instead of
    the AVX2 ones (the same numbers; for tests); ``store_y=False`` returns None for y.
    """
    _core = compiled_core()
    if integrator not in INTEGRATOR_MODES:
        raise ValueError(f"integrator must be one of {INTEGRATOR_MODES}, got {integrator!r}")
    s = np.ascontiguousarray(stimulus, dtype=np.float64)
    nodes = np.ascontiguousarray(store_nodes, dtype=np.int64)
    return _core.solve(s, _core_parameters(p), nodes, integrator == "legacy", progress, simd, store_y)
