"""Figures of notebook 11: recovery curves, the stage-by-stage matrix, RDM images, stage scores.

Every function returns a matplotlib Figure (drawn with pyplot, so a notebook shows it).
"""
from __future__ import annotations

import numpy as np

from .extract import stage_label

__all__ = ["plot_recovery", "plot_stage_matrix", "plot_rdms", "plot_stage_scores"]

_CATEGORY_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
                     "tab:gray", "tab:olive", "tab:cyan")


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _short(stage):
    return stage if "." not in stage else stage.replace("_cnn.", " ")


def _finish(fig, note=None, right=1.0, top=1.0):
    """Lay the figure out, leaving room at the bottom for the note (wrapped) when there is one."""
    import textwrap

    bottom = 0.0
    if note:
        width = int(fig.get_figwidth() * 17)  # characters of 7-pt text per line
        text = "\n".join(textwrap.fill(part, width) for part in str(note).splitlines())
        n_lines = text.count("\n") + 1
        fig.text(0.01, 0.01, text, fontsize=7, color="darkred", va="bottom")
        bottom = (0.08 + 0.12 * n_lines) / fig.get_figheight()
    fig.tight_layout(rect=(0, bottom, right, top))


def plot_recovery(recovery, note=None):
    """Curves of noise-corrected R² and RSA r against the candidate stage, one per synthetic region.

    recovery: :class:`~connear_helpers.stages.correspondence.Recovery`. note: text under the figure.
    The source stage of each region is marked with a star: a method recovers it when the star is
    the curve's maximum.
    """
    plt = _pyplot()
    cands = recovery.candidates
    x = np.arange(len(cands))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    cmap = plt.get_cmap("viridis")
    for k, src in enumerate(recovery.sources):
        colour = cmap(k / max(1, len(recovery.sources) - 1))
        for ax, values in zip(axes, (recovery.regression[k], recovery.rsa[k])):
            ax.plot(x, values, "-o", color=colour, ms=4, label=f"from {_short(src)}")
            if src in cands:
                j = cands.index(src)
                ax.plot(x[j], values[j], "*", color=colour, ms=14, mec="k")
    axes[0].set_ylabel("median noise-corrected R² (held-out sounds)")
    axes[1].set_ylabel(f"RSA Spearman r ({recovery.metric} RDMs)")
    axes[0].set_title("Ridge regression")
    axes[1].set_title("Representational similarity")
    for ax in axes:
        ax.set_xticks(x, [_short(c) for c in cands], rotation=45, ha="right")
        ax.set_xlabel("stage the targets are compared with")
        ax.axhline(0, color="0.7", lw=0.8)
        ax.grid(alpha=0.3)
    lo = np.nanmin(recovery.regression)
    axes[0].set_ylim(max(-0.5, lo - 0.05) if np.isfinite(lo) else -0.5, 1.15)
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, title="synthetic region", fontsize=7, loc="center right")
    fig.suptitle(f"Synthetic regions made from one stage (split-half reliability {recovery.reliability:g}); "
                 "★ = the stage they were made from")
    _finish(fig, note, right=0.86)
    return fig


def _heatmap(ax, values, labels, title, cbar_label, vmin, vmax, cmap):
    im = ax.imshow(values, vmin=vmin, vmax=vmax, cmap=cmap)
    n = len(labels)
    ax.set_xticks(range(n), [_short(s) for s in labels], rotation=45, ha="right")
    ax.set_yticks(range(n), [_short(s) for s in labels])
    for i in range(n):
        for j in range(n):
            v = values[i, j]
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if v < vmin + 0.5 * (vmax - vmin) else "black")
    ax.set_title(title)
    ax.figure.colorbar(im, ax=ax, shrink=0.8, label=cbar_label)


def plot_stage_matrix(matrix, note=None):
    """Heat maps: each stage predicted from each other (R²), and the RSA r of each pair of stages.

    matrix: :class:`~connear_helpers.stages.correspondence.StageMatrix`. note: text under the figure.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
    _heatmap(axes[0], matrix.regression, matrix.stages, "Stage predicted from stage (ridge, held-out sounds)",
             "median R² over the predicted stage's units", 0.0, 1.0, "magma")
    axes[0].set_ylabel("predictor stage (features)")
    axes[0].set_xlabel("predicted stage (targets)")
    _heatmap(axes[1], matrix.rsa, matrix.stages, f"RDM correlation ({matrix.metric})", "Spearman r",
             min(0.0, float(np.nanmin(matrix.rsa))), 1.0, "viridis")
    axes[1].set_xlabel("stage")
    axes[1].set_ylabel("stage")
    _finish(fig, note)
    return fig


def plot_rdms(acts, stages=None, metric="euclidean", max_columns=4, note=None):
    """RDM images of each stage, sounds grouped by category (the coloured bars mark the categories).

    acts: StageActivations (with its SoundSet for the categories). stages: which (default all).
    metric: "correlation" or "euclidean". Dissimilarities are shown as percentiles within each
    RDM, as RSA compares ranks.
    """
    from scipy.stats import rankdata

    from .rsa import rdm

    plt = _pyplot()
    from matplotlib.colors import ListedColormap

    stages = tuple(acts.stages if stages is None else stages)
    sounds = acts.sounds
    if sounds is not None:
        cats, _ = sounds.category_counts()
        codes = sounds.category_codes()
    else:
        cats, codes = ["sounds"], np.zeros(acts.n_sounds, dtype=int)
    order = np.argsort(codes, kind="stable")
    ncol = min(max_columns, len(stages))
    nrow = -(-len(stages) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.1 * ncol + 1.2, 3.0 * nrow + 0.6), squeeze=False)
    colours = ListedColormap([_CATEGORY_COLOURS[k % len(_CATEGORY_COLOURS)] for k in range(len(cats))])
    n = acts.n_sounds
    im = None
    for ax, s in zip(axes.flat, stages):
        d = rdm(acts[s], metric)[np.ix_(order, order)]
        pct = rankdata(d.reshape(-1)).reshape(d.shape)
        pct = 100 * (pct - pct.min()) / max(1.0, pct.max() - pct.min())
        np.fill_diagonal(pct, 0.0)
        im = ax.imshow(pct, cmap="cividis", vmin=0, vmax=100, extent=(0, n, n, 0))
        # category bars along both axes
        ax.imshow(codes[order][None, :], cmap=colours, vmin=-0.5, vmax=len(cats) - 0.5, aspect="auto",
                  extent=(0, n, -0.06 * n, -0.01 * n))
        ax.imshow(codes[order][:, None], cmap=colours, vmin=-0.5, vmax=len(cats) - 0.5, aspect="auto",
                  extent=(-0.06 * n, -0.01 * n, n, 0))
        ax.set_xlim(-0.07 * n, n)
        ax.set_ylim(n, -0.07 * n)
        ax.set_title(stage_label(s), fontsize=9)
        ax.set_xlabel("sound (by category)")
        ax.set_ylabel("sound")
        ax.set_xticks([])
        ax.set_yticks([])
    spare = list(axes.flat)[len(stages):]
    for ax in spare:
        ax.axis("off")
    handles = [plt.Rectangle((0, 0), 1, 1, color=_CATEGORY_COLOURS[k % len(_CATEGORY_COLOURS)]) for k in range(len(cats))]
    fig.suptitle(f"Representational dissimilarity matrices ({metric}), {acts.pooling} pooling")
    if spare:  # the legend in the first empty panel, else beside the grid
        spare[0].legend(handles, cats, loc="center", fontsize=8, title="category")
        _finish(fig, note, right=0.9, top=0.95)
    else:
        fig.legend(handles, cats, loc="center right", fontsize=8, title="category")
        _finish(fig, note, right=0.8, top=0.95)
    if im is not None:
        fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.6, label="dissimilarity (percentile)")
    return fig


def plot_stage_scores(scores_by_region, note=None):
    """Regression and RSA scores of one or more target regions against every stage.

    scores_by_region: a StageScores, or a dict region -> StageScores (same stages).
    Error bars: bootstrap intervals of the median over targets; filled RSA markers: p < 0.05.
    """
    plt = _pyplot()
    if not isinstance(scores_by_region, dict):
        scores_by_region = {scores_by_region.region: scores_by_region}
    first = next(iter(scores_by_region.values()))
    x = np.arange(len(first.stages))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    corrected = all(np.any(np.isfinite(s.corrected)) for s in scores_by_region.values())
    width = 0.8 / len(scores_by_region)
    for k, (region, sc) in enumerate(scores_by_region.items()):
        colour = _CATEGORY_COLOURS[k % len(_CATEGORY_COLOURS)]
        y = sc.corrected if corrected else sc.explained_variance
        lohi = sc.ci_corrected if corrected else sc.ci
        dx = (k - (len(scores_by_region) - 1) / 2) * width
        axes[0].errorbar(x + dx, y, yerr=np.abs(np.stack([y - lohi[:, 0], lohi[:, 1] - y])), fmt="o", color=colour,
                         capsize=2, label=region)
        sig = sc.p_value < 0.05
        axes[1].plot(x + dx, sc.rsa, "-", color=colour, lw=0.8)
        axes[1].plot((x + dx)[sig], sc.rsa[sig], "o", color=colour, label=f"{region} (p < 0.05)")
        axes[1].plot((x + dx)[~sig], sc.rsa[~sig], "o", mfc="white", color=colour)
        if sc.rsa_ceiling is not None and np.isfinite(sc.rsa_ceiling):
            axes[1].axhline(sc.rsa_ceiling, color=colour, ls=":", lw=1)
    axes[0].set_ylabel("median noise-corrected R²" if corrected else "median R² (held-out sounds)")
    axes[1].set_ylabel("RSA Spearman r (dotted: the targets' ceiling)")
    for ax in axes:
        ax.set_xticks(x, [_short(s) for s in first.stages], rotation=45, ha="right")
        ax.set_xlabel("stage")
        ax.axhline(0, color="0.7", lw=0.8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Which stage explains the targets?")
    _finish(fig, note)
    return fig
