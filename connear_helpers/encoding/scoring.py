"""Scores of an encoding model on held-out data, per neuron.

* CC: Pearson correlation between the prediction and the mean response over repeats, over all
  held-out bins (stimuli concatenated).
* CCnorm: CC divided by CCmax, the correlation that a perfect model of the neuron's rate could
  reach given the trial-to-trial noise of the mean of N repeats. Two estimates of CCmax:

  - ``method="split_half"`` (default): ρ, the mean correlation between the means of two disjoint
    halves of m = floor(N/2) repeats over many random splits, gives the signal-to-noise ratio of
    an m-repeat mean, SNR_m = ρ / (1 - ρ); the N-repeat mean has SNR_N = (N/m)·SNR_m and
    CCmax = sqrt(SNR_N / (1 + SNR_N)) (Spearman-Brown; Hsu, Borst & Theunissen 2004).
  - ``method="signal_power"``: Schoppe et al. (2016), CCnorm = Cov(r̄, r̂) / sqrt(SP·Var(r̂)) with
    the signal power SP = (Var(sum_n r_n) - sum_n Var(r_n)) / (N(N - 1)).

  Both estimate the same quantity, and a model can exceed 1 only by estimation error: each score
  has a jackknife standard error (leave one stimulus out, or one of 10 time blocks with fewer than
  5 stimuli). A neuron whose halves do not correlate (ρ <= 0) gets CCnorm = NaN.
"""
from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

__all__ = ["Scores", "correlation", "cc_max", "ccnorm", "score", "strf_correlation"]

METHODS = ("split_half", "signal_power")
MAX_SPLITS = 32


def _flat(a):
    """(n, bins, O) or (bins, O) -> (n·bins, O)."""
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(-1, a.shape[-1])


def _corr_columns(a, b):
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    den = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (a * b).sum(axis=0) / np.where(den > 0, den, 1.0), np.nan)


def correlation(prediction, response):
    """Pearson correlation per neuron over all bins: (O,).

    prediction, response: (n_stimuli, n_bins, O) or (n_bins, O), any unit. NaN for a constant column.
    """
    p, r = _flat(prediction), _flat(response)
    if p.shape != r.shape:
        raise ValueError(f"prediction and response must have the same shape, got {np.shape(prediction)} and "
                         f"{np.shape(response)}")
    return _corr_columns(p, r)


def _check_repeats(repeats):
    r = np.asarray(repeats, dtype=np.float64)
    if r.ndim == 3:  # (repeats, bins, O): one stimulus
        r = r[None]
    if r.ndim != 4:
        raise ValueError(f"repeats must be (n_stimuli, n_repeats, n_bins, n_neurons), got shape {np.shape(repeats)}")
    if r.shape[1] < 2:
        raise ValueError(f"CCmax needs at least 2 repeats, got {r.shape[1]}; with one repeat report CC only")
    return r


def _splits(n, seed):
    """Up to MAX_SPLITS pairs of disjoint halves (index arrays of floor(n/2) repeats)."""
    m = n // 2
    combos = []
    if math.comb(n, m) * math.comb(n - m, m) // 2 <= MAX_SPLITS:
        seen = set()
        for a in itertools.combinations(range(n), m):
            rest = [i for i in range(n) if i not in a]
            for b in itertools.combinations(rest, m):
                if (b, a) not in seen:
                    seen.add((a, b))
                    combos.append((a, b))
    else:
        rng = np.random.default_rng(seed)
        for _ in range(MAX_SPLITS):
            p = rng.permutation(n)
            combos.append((tuple(p[:m]), tuple(p[m:2 * m])))
    return [(np.array(a), np.array(b)) for a, b in combos], m


def _cc_max_split_half(r, seed):
    """r: (n, R, bins, O). Returns CCmax (O,)."""
    n_rep = r.shape[1]
    splits, m = _splits(n_rep, seed)
    rho = np.mean([_corr_columns(_flat(r[:, a].mean(axis=1)), _flat(r[:, b].mean(axis=1))) for a, b in splits],
                  axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        snr = np.where(rho > 0, (n_rep / m) * rho / (1.0 - rho), np.nan)
        return np.sqrt(snr / (1.0 + snr))


def _ccnorm_signal_power(pred, r):
    """pred: (n, bins, O), r: (n, R, bins, O). Returns CCnorm (O,) after Schoppe et al. (2016)."""
    n_rep = r.shape[1]
    per_rep = np.moveaxis(r, 1, 0).reshape(n_rep, -1, r.shape[-1])  # (R, n·bins, O)
    sp = (per_rep.sum(axis=0).var(axis=0) - per_rep.var(axis=1).sum(axis=0)) / (n_rep * (n_rep - 1))
    mean = per_rep.mean(axis=0)
    p = _flat(pred)
    cov = ((mean - mean.mean(axis=0)) * (p - p.mean(axis=0))).mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sp > 0, cov / np.sqrt(np.where(sp > 0, sp, 1.0) * p.var(axis=0)), np.nan)


def cc_max(repeats, seed=0):
    """Split-half estimate of the best CC any model could reach: (O,); NaN where ρ <= 0.

    repeats: (n_stimuli, n_repeats, n_bins, O) responses of every repeat. seed: random splits
    (used when there are more than 32 distinct splits; fewer are all enumerated).
    """
    return _cc_max_split_half(_check_repeats(repeats), seed)


def _ccnorm(pred, r, method, seed):
    if method == "signal_power":
        return _ccnorm_signal_power(pred, r)
    return correlation(pred, r.mean(axis=1)) / _cc_max_split_half(r, seed)


def ccnorm(prediction, repeats, method="split_half", seed=0):
    """Normalised correlation per neuron: (O,). See the module docstring for the two methods.

    prediction: (n_stimuli, n_bins, O). repeats: (n_stimuli, n_repeats, n_bins, O).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    r = _check_repeats(repeats)
    p = np.asarray(prediction, dtype=np.float64)
    if p.ndim == 2:
        p = p[None]
    if p.shape != r.mean(axis=1).shape:
        raise ValueError(f"prediction {p.shape} must match the repeats' (n_stimuli, n_bins, O) = "
                         f"{r.mean(axis=1).shape}")
    return _ccnorm(p, r, method, seed)


@dataclasses.dataclass
class Scores:
    """Held-out scores per neuron, each (O,).

    cc, cc_se: correlation with the mean response and its jackknife standard error.
    ccnorm, ccnorm_se: normalised correlation and its standard error (NaN without repeats).
    cc_max: the split-half CCmax (NaN without repeats). method: how CCnorm was computed.
    """

    cc: np.ndarray
    cc_se: np.ndarray
    ccnorm: np.ndarray
    ccnorm_se: np.ndarray
    cc_max: np.ndarray
    method: str

    def summary(self):
        """Median over neurons: dict cc, ccnorm (float; NaN-aware)."""
        with np.errstate(all="ignore"):
            return {"cc": float(np.nanmedian(self.cc)) if np.any(np.isfinite(self.cc)) else float("nan"),
                    "ccnorm": float(np.nanmedian(self.ccnorm)) if np.any(np.isfinite(self.ccnorm)) else float("nan")}


def _blocks(n_stimuli, n_bins):
    """Jackknife blocks: one per stimulus (>= 5 stimuli), else 10 runs of bins."""
    if n_stimuli >= 5:
        return [("stimulus", i) for i in range(n_stimuli)]
    edges = np.linspace(0, n_bins, 11).astype(int)
    return [("bins", (edges[k], edges[k + 1])) for k in range(10) if edges[k + 1] > edges[k]]


def _drop(a, block, axis_bins):
    kind, where = block
    if kind == "stimulus":
        return np.delete(a, where, axis=0)
    lo, hi = where
    return np.delete(a, np.arange(lo, hi), axis=axis_bins)


def _jackknife(stat, pred, resp, blocks, axis_bins):
    vals = np.array([stat(_drop(pred, b, 1), _drop(resp, b, axis_bins)) for b in blocks])
    k = len(blocks)
    with np.errstate(invalid="ignore"):
        return np.sqrt((k - 1) / k * np.nansum((vals - np.nanmean(vals, axis=0)) ** 2, axis=0))


def score(prediction, responses, method="split_half", seed=0):
    """CC and CCnorm per neuron on held-out data, with jackknife standard errors.

    prediction: (n_stimuli, n_bins, O) model output (e.g. :func:`predict`).
    responses: (n_stimuli, n_repeats, n_bins, O) repeats (CCnorm possible with >= 2 repeats), or
        (n_stimuli, n_bins, O) mean responses (CCnorm is then NaN).
    method: "split_half" or "signal_power" (module docstring). seed: the random half splits.
    Returns :class:`Scores`.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    p = np.asarray(prediction, dtype=np.float64)
    r = np.asarray(responses, dtype=np.float64)
    if p.ndim != 3:
        raise ValueError(f"prediction must be (n_stimuli, n_bins, O), got shape {p.shape}")
    mean = r.mean(axis=1) if r.ndim == 4 else r
    if mean.shape != p.shape:
        raise ValueError(f"responses {r.shape} do not match the prediction {p.shape}: expected (n_stimuli, "
                         "[n_repeats,] n_bins, O)")
    blocks = _blocks(p.shape[0], p.shape[1])
    cc = correlation(p, mean)
    cc_se = _jackknife(lambda a, b: correlation(a, b), p, mean, blocks, 1)
    nan = np.full(p.shape[-1], np.nan)
    if r.ndim == 4 and r.shape[1] >= 2:
        cn = _ccnorm(p, r, method, seed)
        cn_se = _jackknife(lambda a, b: _ccnorm(a, b, method, seed), p, r, blocks, 2)
        cmax = _cc_max_split_half(r, seed)
    else:
        cn, cn_se, cmax = nan, nan.copy(), nan.copy()
    return Scores(cc=cc, cc_se=cc_se, ccnorm=cn, ccnorm_se=cn_se, cc_max=cmax, method=method)


def strf_correlation(true_strfs, fitted_strfs):
    """Correlation between true and fitted STRFs, per neuron: (O,).

    true_strfs, fitted_strfs: (O, T, F) (or (T, F) for one neuron); the fitted ones may have
    more lags than the true ones (the extra lags are compared with zeros).
    """
    a = np.asarray(true_strfs, dtype=np.float64)
    b = np.asarray(fitted_strfs, dtype=np.float64)
    if a.ndim == 2:
        a, b = a[None], b[None] if b.ndim == 2 else b
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[2]:
        raise ValueError(f"STRFs must be (O, T, F) with matching O and F, got {np.shape(true_strfs)} and "
                         f"{np.shape(fitted_strfs)}")
    t = max(a.shape[1], b.shape[1])
    pad = lambda s: np.pad(s, ((0, 0), (0, t - s.shape[1]), (0, 0)))  # noqa: E731
    a, b = pad(a), pad(b)
    return _corr_columns(a.reshape(a.shape[0], -1).T, b.reshape(b.shape[0], -1).T)
