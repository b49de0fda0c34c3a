"""Spike trains from firing rates: inhomogeneous Poisson fibres, optionally with a dead time.

Each time step of length ``dt`` a fibre fires with probability ``rate · dt`` (clipped to 1), the
Bernoulli approximation of a Poisson process, which is close when ``rate · dt`` is small (at
0.05 ms steps a fibre driven at 1000 spikes/s fires with probability 0.05 a step).

With an absolute refractory period ``refractory_s`` a fibre cannot fire for that long after a
spike. Its hazard while it can fire is raised to ``rate / (1 - rate · refractory_s)``, so that its
mean rate stays ``rate`` for rates that change slowly compared with the dead time (a rate at or
above ``1 / refractory_s`` makes the fibre fire as soon as it can).
"""
from __future__ import annotations

import numpy as np


def _check(rates, dt, n_fibres, refractory_s):
    r = np.asarray(rates, dtype=np.float64)
    if r.ndim != 3:
        raise ValueError(f"rates must be (n_trials, n_steps, n_channels) in spikes/s, got shape {r.shape}")
    if not np.all(np.isfinite(r)) or np.any(r < 0):
        raise ValueError("rates must be finite and non-negative (spikes/s); clip negative values first")
    if not dt > 0:
        raise ValueError(f"dt must be a positive time step in s, got {dt!r}")
    if int(n_fibres) != n_fibres or n_fibres < 1:
        raise ValueError(f"n_fibres must be a positive whole number of fibres per channel, got {n_fibres!r}")
    if refractory_s < 0:
        raise ValueError(f"refractory_s must be >= 0 s, got {refractory_s!r}")
    return r


def poisson_spikes(rates, dt, n_fibres, rng, refractory_s=0.0):
    """Spike trains of n_fibres independent fibres per channel driven by the same rate.

    rates: (n_trials, n_steps, n_channels) spikes/s, one value per step of dt.
    dt: time step (s). n_fibres: fibres per channel. rng: numpy.random.Generator.
    refractory_s: absolute refractory period (s); 0 for a plain Poisson process.
    Returns: (n_trials, n_steps, n_channels · n_fibres) float32 of 0 and 1; fibre j of channel c
    is column c · n_fibres + j.
    """
    r = _check(rates, dt, n_fibres, refractory_s)
    n_fibres = int(n_fibres)
    b, t, c = r.shape
    if refractory_s == 0:
        p = np.minimum(r * dt, 1.0).astype(np.float32)
        u = rng.random((b, t, c, n_fibres), dtype=np.float32)
        return (u < p[..., None]).astype(np.float32).reshape(b, t, c * n_fibres)
    with np.errstate(divide="ignore"):
        hazard = np.where(r * refractory_s < 1.0, r / np.maximum(1.0 - r * refractory_s, 1e-12), np.inf)
    p = np.minimum(hazard * dt, 1.0).astype(np.float32)
    dead_steps = refractory_s / dt
    out = np.zeros((b, t, c, n_fibres), dtype=np.float32)
    since = np.full((b, c, n_fibres), np.inf)  # steps since the last spike
    u = rng.random((b, t, c, n_fibres), dtype=np.float32)
    for k in range(t):
        fire = (u[:, k] < p[:, k, :, None]) & (since >= dead_steps)
        out[:, k] = fire
        since = np.where(fire, 1.0, since + 1.0)
    return out.reshape(b, t, c * n_fibres)
