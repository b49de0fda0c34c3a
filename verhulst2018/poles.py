"""Cochlear grid, tonotopy and the starting-pole profiles alpha*_A (spec §4.2, §9).

Pole vectors have one value per node, 1001 values: node 0 is the middle-ear (stapes) node, whose
value is carried but never used; node 1 is the most basal section, node 1000 the apex.
A larger pole means broader tuning and less cochlear gain (outer-hair-cell loss).
"""
import numpy as np

from . import _libm

N_SECTIONS = 1000
N_NODES = N_SECTIONS + 1
COCHLEA_LENGTH = 0.035  # [m]
HELICOTREMA_WIDTH = 0.001  # [m]
BM_LENGTH = COCHLEA_LENGTH - HELICOTREMA_WIDTH  # 0.034 m (this subtraction is exact in double)
GREENWOOD_A = 20682.0  # [Hz]
GREENWOOD_ALPHA = 61.765  # [1/m]
GREENWOOD_B = 140.6  # [Hz]

# Normal-hearing profile: max(floor, C * f**-D), a fit to the original's StartingPoles.dat (§9.2).
NH_POLE_FLOOR = 0.037
NH_POLE_C = 0.34520064006937456
NH_POLE_D = 0.25106776369784695

# Hearing-loss profiles live on this grid and saturate at its top (§9.3).
POLE_GRID_STEP = 0.001
POLE_MAX = 0.302
# Rough fallback without a gain table: median pole ratio r(HL) of the shipped Flat profiles (§9.3).
FALLBACK_HL_DB = np.array([0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0])
FALLBACK_RATIO = np.array([1.00, 1.295, 1.674, 2.189, 2.926, 4.10, 6.30])
FALLBACK_SATURATION_HL_DB = 35.0  # at and above this loss every section is at POLE_MAX


def node_position():
    """Position x of the 1001 nodes along the basilar membrane [m], (1001,), node 0 at x = 0."""
    return np.linspace(0.0, BM_LENGTH, N_NODES)


def section_cf():
    """Greenwood resonance frequency of the 1001 nodes [Hz], (1001,): 20541.4 (node 0) ... 23.68 Hz."""
    return GREENWOOD_A * _libm.power(10.0, (-GREENWOOD_ALPHA) * node_position()) - GREENWOOD_B


def normal_hearing_poles():
    """Normal-hearing starting poles, (1001,): max(0.037, C * cf**-D) (fit to StartingPoles.dat, 4.6e-5)."""
    return np.maximum(NH_POLE_FLOOR, NH_POLE_C * _libm.power(section_cf(), -NH_POLE_D))


def validate_poles(poles):
    """Pole profile as a (1001,) float64 copy, node 0 first.

    Accepts a scalar (all nodes), 1001 values (node 0 ... 1000) or 1000 values (sections 1 ... 1000;
    node 0 then gets the section-1 value). Every value must be finite and in (0, 1).
    """
    p = np.array(poles, dtype=np.float64)
    if p.ndim == 0:
        p = np.full(N_NODES, float(p))
    elif p.ndim == 1 and p.shape[0] == N_SECTIONS:
        p = np.concatenate((p[:1], p))
    elif p.ndim != 1 or p.shape[0] != N_NODES:
        raise ValueError(
            f"poles must be a scalar, {N_NODES} values (node 0 = middle ear first) or {N_SECTIONS} "
            f"values (one per section, base first), got shape {p.shape}; pass a 1-D vector."
        )
    bad = ~np.isfinite(p) | (p <= 0.0) | (p >= 1.0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"poles must be finite and strictly between 0 and 1 (normal hearing 0.037-0.156, "
            f"maximal loss 0.302), got {p[i]!r} at node {i} ({int(bad.sum())} bad values in all)."
        )
    return p


def _nearest_section(freqs_hz, cf_sections):
    # argmin over sections 1..1000 of |cf - F|; ties go to the lower (more basal) index
    return 1 + np.argmin(np.abs(cf_sections[None, :] - freqs_hz[:, None]), axis=1)


def hearing_loss_per_section(frequencies_hz, thresholds_db_hl):
    """Audiogram -> loss per section [dB HL], (1000,) for sections 1 ... 1000 (node order).

    Each audiogram frequency is mapped to its nearest section; the loss is interpolated linearly
    in section index between these anchors and held constant beyond the first and last anchor.
    If two frequencies map to the same section, the later one in the input wins.
    """
    f = np.atleast_1d(np.asarray(frequencies_hz, dtype=np.float64))
    hl = np.atleast_1d(np.asarray(thresholds_db_hl, dtype=np.float64))
    if f.ndim != 1 or hl.ndim != 1 or f.shape != hl.shape or f.size == 0:
        raise ValueError(
            "frequencies_hz and thresholds_db_hl must be 1-D and of the same non-zero length, got "
            f"shapes {f.shape} and {hl.shape}; give one threshold per audiogram frequency."
        )
    if not (np.all(np.isfinite(f)) and np.all(np.isfinite(hl))):
        raise ValueError(
            f"audiogram values must be finite, got frequencies {f} Hz and thresholds {hl} dB HL; "
            "remove missing (NaN) or infinite entries."
        )
    cf = section_cf()[1:]
    lo, hi = cf[-1], cf[0]
    out_of_range = (f < lo) | (f > hi)
    if out_of_range.any():
        raise ValueError(
            f"audiogram frequencies must lie within the model's CF range {lo:.2f}-{hi:.1f} Hz, got "
            f"{f[out_of_range]} Hz; drop those entries (the loss is held constant beyond the ends)."
        )
    idx = _nearest_section(f, cf)
    # Later entries win for duplicate sections: keep the last occurrence of each index.
    rev_unique, rev_pos = np.unique(idx[::-1], return_index=True)
    anchors_hl = hl[::-1][rev_pos]
    sections = np.arange(1, N_SECTIONS + 1)
    return np.interp(sections, rev_unique, anchors_hl)


def poles_from_audiogram(frequencies_hz, thresholds_db_hl):
    """APPROXIMATE hearing-loss pole profile, (1001,), from an audiogram ([Hz], [dB HL]).

    This is the "rough fallback without a gain table" of spec §9.3, not the authors' OHC_ind
    algorithm (which needs a gain table that is not published): the normal-hearing pole of each
    section is multiplied by the median ratio r(HL) of the shipped Flat profiles (ln r interpolated
    linearly in HL between 0, 5, ..., 30 dB), rounded UP to the 0.001 pole grid and capped at 0.302.
    Between 30 and 35 dB HL ln(pole) goes linearly to ln(0.302); from 35 dB HL on every section is
    at 0.302, the largest representable loss (about 35 dB). Negative thresholds (better than
    average hearing) are treated as 0 dB HL, since the model has no poles sharper than normal.
    Expect median errors of 1.5-5 % and up to ~75 % at a few sections versus the shipped profiles.
    With 0 dB HL everywhere the result is the normal-hearing profile rounded up to the grid.
    Node 0 copies section 1.
    """
    hl = np.clip(hearing_loss_per_section(frequencies_hz, thresholds_db_hl), 0.0, None)
    p_nh = normal_hearing_poles()[1:]
    ln_r30 = _libm.log(FALLBACK_RATIO[-1])
    # Per section, the ratio that reaches the cap at 35 dB (never below the 30-dB ratio).
    ln_r35 = np.maximum(_libm.log(POLE_MAX / p_nh), ln_r30)
    ln_r = np.interp(np.minimum(hl, 30.0), FALLBACK_HL_DB, _libm.log(FALLBACK_RATIO))
    high = hl > 30.0
    frac = np.clip((hl[high] - 30.0) / (FALLBACK_SATURATION_HL_DB - 30.0), 0.0, 1.0)
    ln_r[high] = ln_r30 + frac * (ln_r35[high] - ln_r30)
    p = p_nh * _libm.exp(ln_r)
    # Round up to the grid; the 1e-9 guard keeps exact grid values (e.g. the 0.037 floor) in place.
    p = np.ceil(p / POLE_GRID_STEP - 1e-9) / round(1.0 / POLE_GRID_STEP)
    p = np.minimum(p, POLE_MAX)
    return validate_poles(p)
