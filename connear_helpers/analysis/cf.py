"""Characteristic frequencies (CFs) of the CoNNear models and the nearest-CF rule (spec §3).

The 201 CoNNear CFs are the Greenwood resonance frequencies of the Verhulst et al. (2018)
transmission-line model at every 4th grid point between grid indices 110 and 910 (the "abr" probe
set, 401 points, taken every second point). They are computed here from the formula, in Hz, in
descending order (index 0 = base, 12009.82 Hz; index 200 = apex, 113.25 Hz), exactly like the rows
of the original ``connear/cf.txt`` (which stores them in kHz).
"""

import numpy as np

#: Greenwood map constants of the Verhulst et al. (2018) cochlea: CF = A·10^(−α·x) − B.
GREENWOOD_A_HZ = 20682.0
GREENWOOD_ALPHA_PER_M = 61.765
GREENWOOD_B_HZ = 140.6

#: Transmission-line grid: 1000 sections, 1001 points spanning 0…0.034 m (0.035 m BM − 1 mm helicotrema).
N_SECTIONS = 1000
BM_LENGTH_M = 0.034

#: The "abr" probe set: grid indices 110, 112, …, 910 (401 points).
ABR_PROBE_INDICES = np.arange(110, 911, 2)

#: Number of CoNNear channels.
N_CF = 201


def greenwood_cf(x_m):
    """Greenwood resonance frequency of the TL model at distance x from the stapes.

    x_m: array-like, distance from the base (m).
    Returns: ndarray of the same shape, CF (Hz).
    """
    x = np.asarray(x_m, dtype=float)
    return GREENWOOD_A_HZ * 10.0 ** (-GREENWOOD_ALPHA_PER_M * x) - GREENWOOD_B_HZ


def abr_probe_cfs():
    """CFs of the 401 "abr" probe points of the reference model (grid indices 110:2:910).

    Returns: (401,) CF (Hz), descending.
    """
    dx = BM_LENGTH_M / N_SECTIONS
    return greenwood_cf(ABR_PROBE_INDICES * dx)


def connear_cfs():
    """The 201 CoNNear CFs (every second "abr" probe point, grid indices 110, 114, …, 910).

    Returns: (201,) CF (Hz), descending (index 0 = 12009.82 Hz, index 200 = 113.25 Hz).
    """
    dx = BM_LENGTH_M / N_SECTIONS
    grid = 110 + 4 * np.arange(N_CF)
    return greenwood_cf(grid * dx)


def nearest_cf_index(cfs, freq):
    """Index of the CF nearest to each frequency: argmin |CF − f| (first minimum on ties).

    cfs: (n_cf,) CFs (Hz). freq: scalar or array-like of frequencies (Hz).
    Returns: int for a scalar freq, else int ndarray with the shape of freq.
    """
    cfs = np.asarray(cfs, dtype=float)
    if cfs.ndim != 1 or cfs.size == 0:
        raise ValueError(
            f"cfs must be a non-empty 1-D array of CFs in Hz; got shape {cfs.shape}. "
            "Pass e.g. connear_cfs()."
        )
    f = np.asarray(freq, dtype=float)
    if not np.all(np.isfinite(f)) or np.any(f < 0):
        raise ValueError(
            f"freq must be finite and non-negative (Hz); got {freq!r}. Pass frequencies in Hz."
        )
    idx = np.argmin(np.abs(cfs[None, :] - f.reshape(-1, 1)), axis=1)
    if f.ndim == 0:
        return int(idx[0])
    return idx.reshape(f.shape)


def snap_to_cf(freq, cfs=None):
    """The CF nearest to each frequency (spec §4.0: tone frequencies are snapped to a CF).

    freq: scalar or array-like (Hz). cfs: (n_cf,) CFs (Hz); default the 201 CoNNear CFs.
    Returns: float for a scalar freq, else ndarray with the shape of freq (Hz).
    """
    if cfs is None:
        cfs = connear_cfs()
    cfs = np.asarray(cfs, dtype=float)
    idx = nearest_cf_index(cfs, freq)
    if np.ndim(idx) == 0:
        return float(cfs[idx])
    return cfs[idx]


def log_spaced_cf_frequencies(f_low_hz=150.0, f_high_hz=8000.0, n=20, cfs=None):
    """Log-spaced frequencies snapped to CFs, as the AC/DC-ratio block builds them (spec §4.3).

    f_low_hz, f_high_hz: range (Hz). n: number of frequencies (20 in the paper, 10 in the notebooks).
    cfs: (n_cf,) CFs (Hz); default the 201 CoNNear CFs.
    Returns: (n,) snapped frequencies (Hz), ascending (duplicates kept if n is large).
    """
    if not (np.isfinite(f_low_hz) and np.isfinite(f_high_hz) and 0 < f_low_hz < f_high_hz):
        raise ValueError(
            f"need 0 < f_low_hz < f_high_hz (Hz); got {f_low_hz!r}, {f_high_hz!r}."
        )
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}.")
    freqs = np.logspace(np.log10(f_low_hz), np.log10(f_high_hz), int(n))
    return np.asarray(snap_to_cf(freqs, cfs), dtype=float).reshape(-1)
