"""Representational similarity analysis: dissimilarity matrices and their rank correlation.

* :func:`rdm`: the representational dissimilarity matrix (RDM) of a response matrix
  (n_sounds, n_units): ``1 - Pearson r`` between the patterns of two sounds across units
  ("correlation") or their Euclidean distance ("euclidean"). Units are centred across sounds
  first (``center=True``), so a pattern shared by all sounds (resting potential, spontaneous
  rates) does not make every pair look alike.
* :func:`rsa`: the Spearman correlation of the upper triangles of two RDMs, and a permutation
  test: the sounds of one RDM are relabelled at random (rows and columns together) ``n_permutations``
  times; the one-sided p-value ``(1 + #{null >= observed}) / (1 + n_permutations)`` is exact for
  the hypothesis that the two representations are unrelated (exchangeable sounds).
"""
from __future__ import annotations

import dataclasses

import numpy as np
from scipy.stats import rankdata

__all__ = ["rdm", "rsa", "RSAResult", "METRICS"]

METRICS = ("correlation", "euclidean")


def _features(X, what):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim == 3:  # repeats: their mean
        X = X.mean(axis=2)
    if X.ndim != 2 or X.shape[0] < 3 or not np.all(np.isfinite(X)):
        raise ValueError(f"{what} must be a finite (n_sounds >= 3, n_units) array, got shape {np.shape(X)}")
    return X


def rdm(X, metric="correlation", center=True):
    """Representational dissimilarity matrix of responses.

    X: (n_sounds, n_units) responses (or (n_sounds, n_units, n_repeats): their mean is used).
    metric: "correlation" (1 - Pearson r across units) or "euclidean". center: subtract each
    unit's mean over sounds first.
    Returns (n_sounds, n_sounds) symmetric, zero diagonal. A sound whose pattern is constant
    across units has correlation distance 1 to every other sound.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    X = _features(X, "X")
    if center:
        X = X - X.mean(axis=0)
    if metric == "euclidean":
        sq = np.sum(X ** 2, axis=1)
        d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0.0))
    else:
        Z = X - X.mean(axis=1, keepdims=True)
        norm = np.sqrt(np.sum(Z ** 2, axis=1))
        Z = np.divide(Z, norm[:, None], out=np.zeros_like(Z), where=norm[:, None] > 0)
        d = 1.0 - Z @ Z.T
    d = (d + d.T) / 2
    np.fill_diagonal(d, 0.0)
    return d


@dataclasses.dataclass
class RSAResult:
    """What :func:`rsa` found.

    correlation: Spearman r between the RDMs' upper triangles. p_value: one-sided permutation p.
    null: (n_permutations,) correlations with relabelled sounds. rdm_x, rdm_y: (n_sounds, n_sounds).
    ceiling: Spearman-Brown split-half correlation of the target RDM (needs repeats), else None.
    """

    correlation: float
    p_value: float
    null: np.ndarray
    rdm_x: np.ndarray
    rdm_y: np.ndarray
    ceiling: float | None = None

    def __repr__(self):
        c = "" if self.ceiling is None else f", ceiling {self.ceiling:.3f}"
        return f"RSAResult(Spearman r {self.correlation:.3f}, p = {self.p_value:.4g}{c})"


def _spearman_upper(a, b):
    iu = np.triu_indices(a.shape[0], 1)
    ra, rb = rankdata(a[iu]), rankdata(b[iu])
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = np.sqrt(np.sum(ra ** 2) * np.sum(rb ** 2))
    return float(np.sum(ra * rb) / den) if den > 0 else np.nan


def rsa(X, Y, metric="correlation", *, center=True, n_permutations=1000, seed=0):
    """Spearman correlation between the RDMs of X and Y, with a permutation test over sounds.

    X: (n_sounds, n_units) a stage's activations. Y: (n_sounds, n_targets) responses or
        (n_sounds, n_targets, n_repeats) (their mean; with >= 2 repeats the noise ceiling is given).
    metric, center: as :func:`rdm`. n_permutations: relabellings for the null (0: no test, p NaN).
    seed: the relabellings. Returns :class:`RSAResult`.
    """
    Xf = _features(X, "X")
    Y = np.asarray(Y, dtype=np.float64)
    Yf = _features(Y, "Y")
    if Xf.shape[0] != Yf.shape[0]:
        raise ValueError(f"X has {Xf.shape[0]} sounds (rows) but Y has {Yf.shape[0]}; give both for the "
                         "same sounds in the same order")
    dx, dy = rdm(Xf, metric, center), rdm(Yf, metric, center)
    n = dx.shape[0]
    iu = np.triu_indices(n, 1)
    rx = rankdata(dx[iu])
    rx = (rx - rx.mean()) / np.sqrt(np.sum((rx - rx.mean()) ** 2))
    ry_flat = rankdata(dy[iu])
    ry_flat = ry_flat - ry_flat.mean()
    norm_y = np.sqrt(np.sum(ry_flat ** 2))
    observed = float(np.sum(rx * ry_flat) / norm_y) if norm_y > 0 else np.nan
    # Relabelling sounds only reorders the pairs' dissimilarities, so their ranks move with them:
    # rank once, then index the rank matrix with each permutation.
    RY = np.zeros((n, n))
    RY[iu] = ry_flat
    RY = RY + RY.T
    rng = np.random.default_rng(seed)
    null = np.empty(int(n_permutations))
    step = max(1, 2_000_000 // max(1, iu[0].size))
    for s in range(0, null.size, step):
        m = min(step, null.size - s)
        perms = np.argsort(rng.random((m, n)), axis=1)
        null[s:s + m] = (RY[perms[:, iu[0]], perms[:, iu[1]]] @ rx) / norm_y if norm_y > 0 else np.nan
    p = (1.0 + np.sum(null >= observed - 1e-12)) / (1.0 + null.size) if null.size else np.nan
    ceiling = None
    if Y.ndim == 3 and Y.shape[2] >= 2:
        k = Y.shape[2]
        half = rng.permutation(k)
        r = _spearman_upper(rdm(Y[:, :, half[: k // 2]].mean(axis=2), metric, center),
                            rdm(Y[:, :, half[k // 2:]].mean(axis=2), metric, center))
        ceiling = float(2 * r / (1 + r)) if np.isfinite(r) and r > -1 else np.nan
    return RSAResult(observed, float(p), null, dx, dy, ceiling)
