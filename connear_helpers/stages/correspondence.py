"""Which stage corresponds best to a set of targets: the analyses of notebook 11.

* :func:`score_stages`: one set of targets (a region) against every stage: median (noise-corrected)
  explained variance of the ridge regression and the RSA correlation with its permutation p-value.
* :func:`synthetic_recovery`: for each source stage S, synthetic voxels made from S with a chosen
  reliability are scored against every stage; a method works when it ranks S first.
* :func:`stage_matrix`: every stage predicted from every other (each responsive unit of the
  predicted stage is a target), and the RSA correlation of every pair of stages.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .regression import regress
from .rsa import rsa
from .targets import Targets, synthetic_targets

__all__ = ["StageScores", "score_stages", "Recovery", "synthetic_recovery", "StageMatrix", "stage_matrix",
           "responsive_units"]


@dataclasses.dataclass
class StageScores:
    """One set of targets scored against several stages (arrays follow ``stages``).

    explained_variance, ci: (n_stages,) median cross-validated R² over targets, (n_stages, 2) its
    bootstrap interval. corrected, ci_corrected: the same, noise-corrected (NaN without repeats).
    rsa, p_value: (n_stages,) Spearman r between the RDMs and its permutation p-value.
    rsa_ceiling: split-half reliability of the targets' RDM (None without repeats).
    region: the targets' region. regression, rsa_results: the full results per stage.
    """

    stages: tuple
    explained_variance: np.ndarray
    ci: np.ndarray
    corrected: np.ndarray
    ci_corrected: np.ndarray
    rsa: np.ndarray
    p_value: np.ndarray
    rsa_ceiling: float | None
    region: str
    regression: dict
    rsa_results: dict

    @property
    def regression_score(self):
        """The corrected values when the targets have repeats, else the raw ones: (n_stages,)."""
        return self.corrected if np.any(np.isfinite(self.corrected)) else self.explained_variance

    @property
    def best_regression(self):
        """The stage with the highest (noise-corrected) median explained variance."""
        return self.stages[int(np.nanargmax(self.regression_score))]

    @property
    def best_rsa(self):
        """The stage with the highest RSA correlation."""
        return self.stages[int(np.nanargmax(self.rsa))]

    def table(self):
        """The numbers as columns (dict name -> 1-D array), for printing or CSV."""
        return {"stage": np.array(self.stages), "median R2": self.explained_variance,
                "R2 low": self.ci[:, 0], "R2 high": self.ci[:, 1], "median R2 corrected": self.corrected,
                "corrected low": self.ci_corrected[:, 0], "corrected high": self.ci_corrected[:, 1],
                "RSA r": self.rsa, "RSA p": self.p_value}

    def __repr__(self):
        rows = [f"StageScores for {self.region!r}: best regression {self.best_regression}, best RSA {self.best_rsa}"]
        for i, s in enumerate(self.stages):
            rows.append(f"  {s:>14s}  R2 {self.explained_variance[i]:6.3f}  corrected {self.corrected[i]:6.3f}  "
                        f"RSA r {self.rsa[i]:6.3f} (p {self.p_value[i]:.3g})")
        return "\n".join(rows)


def _responses(targets):
    return targets.responses if isinstance(targets, Targets) else np.asarray(targets, dtype=np.float64)


def score_stages(acts, targets, stages=None, *, metric="correlation", n_folds=5, n_permutations=1000, seed=0,
                 n_boot=1000, progress=False):
    """Score a set of targets against every stage by regression and RSA.

    acts: :class:`~connear_helpers.stages.StageActivations`. targets: :class:`Targets` or an array
    (n_sounds, n_targets[, n_repeats]) for the same sounds. stages: which (default all of acts).
    metric: RSA dissimilarity ("correlation" or "euclidean"). n_folds, seed, n_boot: as
    :func:`~connear_helpers.stages.regress`. n_permutations: RSA permutation test (0: none).
    Returns :class:`StageScores`.
    """
    from tqdm.auto import tqdm

    Y = _responses(targets)
    stages = tuple(acts.stages if stages is None else stages)
    if Y.shape[0] != acts.n_sounds:
        raise ValueError(f"the targets have {Y.shape[0]} sounds but the activations {acts.n_sounds}; give "
                         "targets for the sounds the activations were computed for, in the same order")
    reg, res = {}, {}
    for s in tqdm(stages, desc="stages", disable=not progress):
        reg[s] = regress(acts[s], Y, n_folds=n_folds, seed=seed, n_boot=n_boot)
        res[s] = rsa(acts[s], Y, metric, n_permutations=n_permutations, seed=seed)
    ceiling = res[stages[0]].ceiling

    def col(f):
        return np.array([f(s) for s in stages], dtype=np.float64)

    return StageScores(
        stages,
        col(lambda s: reg[s].median), np.array([reg[s].ci for s in stages], dtype=np.float64),
        col(lambda s: reg[s].median_corrected), np.array([reg[s].ci_corrected for s in stages], dtype=np.float64),
        col(lambda s: res[s].correlation), col(lambda s: res[s].p_value), ceiling,
        targets.regions[0] if isinstance(targets, Targets) and len(set(targets.regions)) == 1 else "targets",
        reg, res)


@dataclasses.dataclass
class Recovery:
    """Synthetic targets from each source stage scored against every candidate stage.

    sources, candidates: stage names. regression, rsa: (n_sources, n_candidates) median
    noise-corrected R² and RSA r. scores: dict source -> :class:`StageScores`.
    reliability: the targets' split-half reliability. metric: the RSA metric.
    """

    sources: tuple
    candidates: tuple
    regression: np.ndarray
    rsa: np.ndarray
    scores: dict
    reliability: float
    metric: str

    @property
    def recovered_by_regression(self):
        """(n_sources,) bool: the best stage by regression is the source."""
        return np.array([self.scores[s].best_regression == s for s in self.sources])

    @property
    def recovered_by_rsa(self):
        """(n_sources,) bool: the best stage by RSA is the source."""
        return np.array([self.scores[s].best_rsa == s for s in self.sources])

    def __repr__(self):
        reg = ", ".join(f"{s}->{self.scores[s].best_regression}" for s in self.sources)
        rs = ", ".join(f"{s}->{self.scores[s].best_rsa}" for s in self.sources)
        return (f"Recovery(reliability {self.reliability:g}; regression picks {reg}; RSA ({self.metric}) "
                f"picks {rs})")


def synthetic_recovery(acts, sources=None, candidates=None, *, reliability=0.8, n_targets=40, n_repeats=4,
                       metric="euclidean", n_folds=5, n_permutations=200, seed=0, n_boot=200, progress=False):
    """Do regression and RSA find the stage that synthetic targets were made from?

    acts: StageActivations. sources: stages to make targets from (default all). candidates: stages
    to score against (default all). reliability, n_targets, n_repeats: the synthetic targets
    (:func:`~connear_helpers.stages.synthetic_targets`; target seed ``seed`` + source index).
    metric, n_folds, n_permutations, n_boot: as :func:`score_stages`.
    Returns :class:`Recovery`.
    """
    from tqdm.auto import tqdm

    sources = tuple(acts.stages if sources is None else sources)
    candidates = tuple(acts.stages if candidates is None else candidates)
    scores = {}
    for k, s in enumerate(tqdm(sources, desc="synthetic regions", disable=not progress)):
        t = synthetic_targets(acts[s], n_targets=n_targets, reliability=reliability, n_repeats=n_repeats,
                              region=f"from {s}", seed=seed + k)
        scores[s] = score_stages(acts, t, candidates, metric=metric, n_folds=n_folds,
                                 n_permutations=n_permutations, seed=seed, n_boot=n_boot)
    return Recovery(sources, candidates, np.stack([scores[s].regression_score for s in sources]),
                    np.stack([scores[s].rsa for s in sources]), scores, float(reliability), metric)


def responsive_units(X, rel_tol=1e-6):
    """(n_units,) bool: units whose variance over sounds exceeds rel_tol times the stage's mean unit variance.

    Units that barely change (a CF no sound reaches, rounding-level wiggles) are no target to predict."""
    v = np.var(np.asarray(X, dtype=np.float64), axis=0)
    return v > rel_tol * max(v.mean(), np.finfo(float).tiny)


@dataclasses.dataclass
class StageMatrix:
    """Every stage against every other.

    stages: the order of rows and columns. regression: (n, n) median cross-validated R² over the
    responsive units of the column stage predicted from the row stage. ci: (n, n, 2) its bootstrap
    interval. rsa: (n, n) Spearman r between the two stages' RDMs (symmetric, 1 on the diagonal).
    metric: the RSA metric.
    """

    stages: tuple
    regression: np.ndarray
    ci: np.ndarray
    rsa: np.ndarray
    metric: str


def stage_matrix(acts, stages=None, *, metric="euclidean", n_folds=5, seed=0, n_boot=200, progress=False):
    """Predict every stage from every other, and correlate every pair of RDMs.

    acts: StageActivations. stages: which and in what order (default all of acts). metric: RSA
    metric. n_folds, seed, n_boot: as :func:`~connear_helpers.stages.regress`.
    Returns :class:`StageMatrix`.
    """
    from tqdm.auto import tqdm

    from .rsa import _spearman_upper, rdm

    stages = tuple(acts.stages if stages is None else stages)
    n = len(stages)
    ev = np.full((n, n), np.nan)
    ci = np.full((n, n, 2), np.nan)
    bar = tqdm(total=n * n, desc="stage x stage", disable=not progress)
    for j, target in enumerate(stages):
        Y = acts[target][:, responsive_units(acts[target])]
        for i, source in enumerate(stages):
            if Y.shape[1]:
                r = regress(acts[source], Y, n_folds=n_folds, seed=seed, n_boot=n_boot)
                ev[i, j], ci[i, j] = r.median, r.ci
            bar.update(1)
    bar.close()
    rdms = [rdm(acts[s], metric) for s in stages]
    r = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            r[i, j] = r[j, i] = _spearman_upper(rdms[i], rdms[j])
    return StageMatrix(stages, ev, ci, r, metric)
