"""Ridge regression from a stage's units to each target, with nested cross-validation.

The method of Tuckute et al. (2023, PLoS Biol) for model stages and voxels, in small:

* outer loop: K-fold over sounds (shuffled, seeded). Every sound is predicted once, by a model
  fitted without it; the explained variance of a target is
  ``R² = 1 - Σ(y - ŷ)² / Σ(y - ȳ)²`` over these held-out predictions (it is negative when the
  prediction is worse than the mean, and ~0 or below for a target the stage cannot predict).
* inner loop: in each outer training set the regularisation strength is chosen per target by
  efficient leave-one-out cross-validation (scikit-learn ``RidgeCV``, ``alpha_per_target``) from
  a grid relative to the features' total variance.
* features: centred per unit and scaled by one factor per stage (its RMS), both from the training
  sounds, so the grid means the same for every stage while units keep their relative sizes (a
  per-unit z-score would blow numerically constant units, e.g. silent CFs, up to full weight).
* noise ceiling: with repeats ``(n_sounds, n_targets, n_repeats)`` the target is the mean over
  repeats, and its reliability is the split-half correlation (mean over random halves of the
  repeats) raised to the full set of repeats by Spearman-Brown, ``2r / (1 + r)``: the fraction of
  the target's variance across sounds that is repeatable. The corrected explained variance is
  ``R² / reliability`` (NaN where the reliability is below ``min_reliability``).
* summary: the median over targets, with a percentile bootstrap interval over targets.
"""
from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["RegressionResult", "regress", "split_half_reliability", "spearman_brown", "bootstrap_median",
           "ALPHA_GRID"]

#: Ridge strengths, as fractions of the trace of X^T X of the (centred, scaled) training features.
ALPHA_GRID = np.logspace(-9, 3, 25)


def spearman_brown(r, factor=2.0):
    """Reliability of ``factor`` times as many repeats as gave correlation r: f·r / (1 + (f-1)·r)."""
    r = np.asarray(r, dtype=np.float64)
    return factor * r / (1.0 + (factor - 1.0) * r)


def _corr_columns(a, b):
    """Pearson r of matching columns of a and b (n, m) -> (m,); NaN for a constant column."""
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    den = np.sqrt((a ** 2).sum(axis=0) * (b ** 2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (a * b).sum(axis=0) / np.where(den > 0, den, 1.0), np.nan)


def _check_targets(Y, n_sounds=None):
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim not in (2, 3):
        raise ValueError(f"targets must be (n_sounds, n_targets) or (n_sounds, n_targets, n_repeats), "
                         f"got shape {Y.shape}")
    if n_sounds is not None and Y.shape[0] != n_sounds:
        raise ValueError(f"the features have {n_sounds} sounds (rows) but the targets have {Y.shape[0]}; "
                         "give both for the same sounds in the same order")
    if not np.all(np.isfinite(Y)):
        raise ValueError("the targets contain NaN or inf; remove those targets or sounds first")
    return Y


def split_half_reliability(Y, n_splits=20, seed=0):
    """Split-half reliability of targets with repeats.

    Y: (n_sounds, n_targets, n_repeats), n_repeats >= 2.
    n_splits: random halvings of the repeats to average over (all of them when there are fewer).
    Returns (r_half, reliability): each (n_targets,): the mean correlation across sounds of the two
    half means, and its Spearman-Brown value 2r/(1+r) for the mean of all repeats.
    """
    Y = _check_targets(Y)
    if Y.ndim != 3 or Y.shape[2] < 2:
        raise ValueError(f"split-half reliability needs repeats: (n_sounds, n_targets, n_repeats >= 2), "
                         f"got shape {Y.shape}")
    k = Y.shape[2]
    rng = np.random.default_rng(seed)
    splits = [np.arange(k)] if k == 2 else [rng.permutation(k) for _ in range(int(n_splits))]
    rs = []
    for perm in splits:
        a, b = perm[: k // 2], perm[k // 2:]
        rs.append(_corr_columns(Y[:, :, a].mean(axis=2), Y[:, :, b].mean(axis=2)))
    r = np.nanmean(np.stack(rs), axis=0) if len(rs) > 1 else rs[0]
    return r, spearman_brown(r)


def bootstrap_median(values, n_boot=1000, ci=0.95, seed=0):
    """Median of values (NaN ignored) and its percentile bootstrap interval over the values.

    values: (n,). Returns (median, (low, high)); NaNs when no value is finite.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.nan, (np.nan, np.nan)
    rng = np.random.default_rng(seed)
    meds = np.median(v[rng.integers(0, v.size, size=(int(n_boot), v.size))], axis=1)
    lo, hi = np.percentile(meds, [50 * (1 - ci), 50 * (1 + ci)])
    return float(np.median(v)), (float(lo), float(hi))


@dataclasses.dataclass
class RegressionResult:
    """What :func:`regress` found.

    explained_variance: (n_targets,) cross-validated R² on held-out sounds (NaN: constant target).
    corrected: (n_targets,) R² / reliability, or None without repeats (NaN: unreliable target).
    reliability: (n_targets,) Spearman-Brown split-half reliability, or None without repeats.
    prediction: (n_sounds, n_targets) held-out prediction of every sound.
    alpha: (n_folds, n_targets) the ridge strength chosen in each outer fold.
    median, ci: median R² over targets and its bootstrap interval (low, high).
    median_corrected, ci_corrected: the same for the corrected values (NaN without repeats).
    """

    explained_variance: np.ndarray
    corrected: np.ndarray | None
    reliability: np.ndarray | None
    prediction: np.ndarray
    alpha: np.ndarray
    median: float
    ci: tuple
    median_corrected: float
    ci_corrected: tuple

    def __repr__(self):
        text = f"RegressionResult(median R² {self.median:.3f} [{self.ci[0]:.3f}, {self.ci[1]:.3f}]"
        if self.corrected is not None:
            text += (f", noise-corrected {self.median_corrected:.3f} "
                     f"[{self.ci_corrected[0]:.3f}, {self.ci_corrected[1]:.3f}]")
        return text + f", {self.explained_variance.size} targets)"


def _scale(X_train, X_test):
    mu = X_train.mean(axis=0)
    a, b = X_train - mu, X_test - mu
    s = np.sqrt(np.mean(a ** 2))
    if s > 0:
        a, b = a / s, b / s
    return a, b


def regress(X, Y, *, n_folds=5, alphas=None, seed=0, min_reliability=0.1, n_boot=1000, ci=0.95,
            n_splits=20):
    """Cross-validated ridge regression from features X to every target in Y.

    X: (n_sounds, n_units) one stage's activations. Y: (n_sounds, n_targets) responses, or
        (n_sounds, n_targets, n_repeats) with repeats (then fitted to their mean and corrected by
        the noise ceiling; see the module docstring).
    n_folds: outer folds over sounds (2 <= n_folds <= n_sounds). alphas: ridge strengths as
        fractions of trace(X^T X) (default :data:`ALPHA_GRID`). seed: fold assignment, the halves
        of the reliability and the bootstrap. min_reliability: below it the corrected value is NaN.
    n_boot, ci: bootstrap resamples and coverage of the median's interval. n_splits: halvings for
        the reliability.
    Returns a :class:`RegressionResult`.
    """
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import KFold

    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or not np.all(np.isfinite(X)):
        raise ValueError(f"X must be a finite (n_sounds, n_units) array, got shape {X.shape}")
    Y = _check_targets(Y, X.shape[0])
    n = X.shape[0]
    if not 2 <= int(n_folds) <= n:
        raise ValueError(f"n_folds must be between 2 and the number of sounds ({n}), got {n_folds}")
    rel = None
    if Y.ndim == 3:
        if Y.shape[2] >= 2:
            _, rel = split_half_reliability(Y, n_splits=n_splits, seed=seed)
        Y = Y.mean(axis=2)
    grid = ALPHA_GRID if alphas is None else np.asarray(alphas, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or np.any(grid <= 0):
        raise ValueError(f"alphas must be positive fractions of trace(X^T X), got {alphas!r}")
    pred = np.zeros_like(Y)
    chosen = []
    for train, test in KFold(int(n_folds), shuffle=True, random_state=seed).split(X):
        a, b = _scale(X[train], X[test])
        ym = Y[train].mean(axis=0)
        trace = float(np.sum(a ** 2))
        if trace == 0:  # constant features: the best prediction is the training mean
            pred[test] = ym
            chosen.append(np.full(Y.shape[1], np.nan))
            continue
        model = RidgeCV(alphas=grid * trace, alpha_per_target=True, fit_intercept=True).fit(a, Y[train])
        pred[test] = model.predict(b).reshape(len(test), -1)
        chosen.append(np.broadcast_to(np.asarray(model.alpha_) / trace, (Y.shape[1],)).copy())
    ss = np.sum((Y - Y.mean(axis=0)) ** 2, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ev = np.where(ss > 0, 1.0 - np.sum((Y - pred) ** 2, axis=0) / np.where(ss > 0, ss, 1.0), np.nan)
    med, interval = bootstrap_median(ev, n_boot, ci, seed)
    corrected, med_c, interval_c = None, np.nan, (np.nan, np.nan)
    if rel is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            corrected = np.where(rel >= min_reliability, ev / rel, np.nan)
        med_c, interval_c = bootstrap_median(corrected, n_boot, ci, seed)
    return RegressionResult(ev, corrected, rel, pred, np.stack(chosen), med, interval, med_c, interval_c)
