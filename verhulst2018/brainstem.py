"""Cochlear nucleus, inferior colliculus and ABR waves W1, W3, W5 (spec §8).

CN and IC are same-frequency inhibition-excitation models: a low-passed excitatory copy minus
a delayed, more strongly low-passed inhibitory copy. ``version="1.2"`` (default) uses the
unit-DC-gain alpha-function filters of release v1.2; ``version="1.1"`` reproduces the paper's
unnormalised filters, including the IC's 1/tau**4 scaling that v1.2 fixed.
All arrays are time-major (M, C) at fs_an (normally 20 kHz); rates in spikes/s, waves in V.
"""
import numpy as np
from scipy.signal import lfilter

TAU_EXC = 0.5e-3  # excitatory time constant [s]
TAU_INH = 2e-3  # inhibitory time constant [s]
CN = {"gain": 1.5, "inhibition": 0.6, "delay": 1e-3}
IC = {"gain": 1.0, "inhibition": 1.5, "delay": 2e-3}
WAVE_SCALING = {  # M1, M3, M5: rate -> potential [V per spikes/s]
    "1.2": (4.2767e-14, 5.1435e-14, 13.3093e-14),
    "1.1": (6.2755e-14, 7.2161e-14, 3.5200e-20),
}


def _check_version(version):
    v = str(version)
    if v not in WAVE_SCALING:
        raise ValueError(f"version must be '1.2' (default) or '1.1', got {version!r}.")
    return v


def _check_rate(x, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(
            f"{name} must be time-major of shape (M, C) in spikes/s, got shape {x.shape}; "
            "use x[:, None] for a single channel."
        )
    return x


def _check_fs(fs_an):
    fs_an = float(fs_an)
    if not np.isfinite(fs_an) or fs_an <= 0:
        raise ValueError(f"fs_an must be a positive sample rate in Hz (normally 20000), got {fs_an!r}.")
    return fs_an


def alpha_filter(tau, fs_an):
    """v1.2 unit-DC-gain low-pass 1/(1 + s tau)^2 by the bilinear transform: (b, a), each (3,)."""
    m = 2.0 * tau * fs_an
    a = (m - 1.0) / (m + 1.0)
    g = 1.0 / (m + 1.0) ** 2
    return np.array([g, 2.0 * g, g]), np.array([1.0, -2.0 * a, a * a])


def alpha_filter_v11(tau, fs_an):
    """v1.1 (paper) unnormalised form of the same low-pass: (b, a), each (3,); DC gain (1+u)^2/u^2."""
    u = ((1.0 / tau) / fs_an) / 2.0
    return np.array([1.0, 2.0, 1.0]), np.array(
        [1.0, -2.0 * (1.0 - u) / (1.0 + u), (1.0 - u) ** 2 / (1.0 + u) ** 2]
    )


def delay_samples(delay_s, fs_an):
    """Delay in whole samples at fs_an: round(delay_s * fs_an)."""
    return int(round(delay_s * fs_an))


def delayed(x, d):
    """x (M, C) delayed by d samples along time with zeros shifted in; all zeros when M <= d."""
    y = np.zeros_like(x)
    if d < x.shape[0]:
        y[d:] = x[: x.shape[0] - d]
    return y


def _inhibition_excitation(x, fs_an, stage, version, ic_stage):
    d = delayed(x, delay_samples(stage["delay"], fs_an))
    if version == "1.2":
        exc = lfilter(*alpha_filter(TAU_EXC, fs_an), x, axis=0)
        inh = lfilter(*alpha_filter(TAU_INH, fs_an), d, axis=0)
        return stage["gain"] * (exc - stage["inhibition"] * inh)
    power = 4 if ic_stage else 2  # v1.1 IC used 1/tau^4 (bug, kept for reproduction)
    exc = (1.0 / TAU_EXC**power) * lfilter(*alpha_filter_v11(TAU_EXC, fs_an), x, axis=0)
    inh = lfilter(*alpha_filter_v11(TAU_INH, fs_an), d, axis=0)
    # Written left to right as in spec §8: c * A * (exc - S * (1/tau^p) * G{Zx}).
    return (1.0 / (4.0 * fs_an**2)) * stage["gain"] * (
        exc - stage["inhibition"] * (1.0 / TAU_INH**power) * inh
    )


def _fibre_count(n, n_channels, name):
    n = np.asarray(n, dtype=np.float64)
    if n.ndim > 1 or (n.ndim == 1 and n.shape[0] != n_channels):
        raise ValueError(
            f"{name} must be a scalar or one number per channel ({n_channels}), got shape {n.shape}."
        )
    if not np.all(np.isfinite(n)) or np.any(n < 0):
        raise ValueError(f"{name} must be finite and >= 0 fibres, got {n!r}.")
    return n


def summed_anf(anfh, anfm, anfl, n_hsr=13, n_msr=3, n_lsr=3):
    """Population AN rate r_AN = n_lsr*anfl + n_msr*anfm + n_hsr*anfh, (M, C) [spikes/s].

    anfh, anfm, anfl: single-fibre rates (M, C) [spikes/s]; n_*: scalars or (C,) fibre counts.
    """
    anfh = _check_rate(anfh, "anfh")
    anfm = _check_rate(anfm, "anfm")
    anfl = _check_rate(anfl, "anfl")
    if not (anfh.shape == anfm.shape == anfl.shape):
        raise ValueError(
            f"anfh, anfm and anfl must have the same shape (M, C), got {anfh.shape}, "
            f"{anfm.shape} and {anfl.shape}; compute all three from the same IHC output."
        )
    c = anfh.shape[1]
    nh = _fibre_count(n_hsr, c, "n_hsr")
    nm = _fibre_count(n_msr, c, "n_msr")
    nl = _fibre_count(n_lsr, c, "n_lsr")
    return (nl * anfl + nm * anfm) + nh * anfh


def cochlear_nucleus(anfh, anfm, anfl, fs_an, n_hsr=13, n_msr=3, n_lsr=3, version="1.2"):
    """CN rate r_CN (M, C) [spikes/s] from the three single-fibre ANF rates (M, C) at fs_an [Hz]."""
    version = _check_version(version)
    fs_an = _check_fs(fs_an)
    r_an = summed_anf(anfh, anfm, anfl, n_hsr, n_msr, n_lsr)
    return _inhibition_excitation(r_an, fs_an, CN, version, ic_stage=False)


def inferior_colliculus(r_cn, fs_an, version="1.2"):
    """IC rate r_IC (M, C) [spikes/s] from the CN rate r_cn (M, C) at fs_an [Hz]."""
    version = _check_version(version)
    fs_an = _check_fs(fs_an)
    r_cn = _check_rate(r_cn, "r_cn")
    return _inhibition_excitation(r_cn, fs_an, IC, version, ic_stage=True)


def abr_waves(r_an, r_cn, r_ic, version="1.2"):
    """ABR waves (w1, w3, w5), each (M,) [V]: M1, M3, M5 times the channel sums of r_an, r_cn, r_ic.

    The scalings were calibrated for the 401 'abr' channels; other channel sets scale accordingly.
    """
    version = _check_version(version)
    m1, m3, m5 = WAVE_SCALING[version]
    r_an = _check_rate(r_an, "r_an")
    r_cn = _check_rate(r_cn, "r_cn")
    r_ic = _check_rate(r_ic, "r_ic")
    if not (r_an.shape == r_cn.shape == r_ic.shape):
        raise ValueError(
            f"r_an, r_cn and r_ic must have the same shape (M, C), got {r_an.shape}, {r_cn.shape} "
            f"and {r_ic.shape}; compute r_cn and r_ic from this r_an."
        )
    return m1 * r_an.sum(axis=1), m3 * r_cn.sum(axis=1), m5 * r_ic.sum(axis=1)
