"""The ipywidgets panel of notebook 11: choose the synthetic targets, their reliability, the pooling
and the RSA metric, and see which stage regression and RSA pick.

The update function is plain and tested::

    state = CorrespondenceState(sounds, cf=10, quick=True)
    fig, table = update_correspondence(state, sources=("ihc", "ic"), reliability=0.5,
                                       pooling="time-rms", metric="euclidean")

``correspondence_panel(sounds, ...)`` wraps it in controls (-> ipywidgets.VBox). Activations are
computed once per pooling (and cached on disk), so moving a control costs only the analysis.
"""
from __future__ import annotations

import html

import numpy as np

from .extract import POOLINGS, REFERENCE_STAGES, activations
from .correspondence import synthetic_recovery
from .plots import plot_recovery

__all__ = ["CorrespondenceState", "update_correspondence", "correspondence_panel"]


class CorrespondenceState:
    """What the panel's updates share: the sounds, how activations are computed, and those computed.

    sounds: a SoundSet. stages, cf, mode, weights, n_bins, cache: as
    :func:`~connear_helpers.stages.activations`. quick: fewer targets and permutations. seed: the
    synthetic targets.
    """

    def __init__(self, sounds, stages=REFERENCE_STAGES, cf=16, mode="full", weights=None, n_bins=4, cache=None,
                 quick=False, seed=0):
        self.sounds = sounds
        self.kw = dict(stages=stages, cf=cf, mode=mode, weights=weights, n_bins=n_bins, cache=cache)
        self.quick = bool(quick)
        self.seed = int(seed)
        self._acts = {}

    def acts(self, pooling):
        """The StageActivations for a pooling (computed once)."""
        if pooling not in self._acts:
            self._acts[pooling] = activations(self.sounds, pooling=pooling, progress=False, **self.kw)
        return self._acts[pooling]


def update_correspondence(state, sources=("v", "ihc", "anfl", "ic"), reliability=0.8, pooling="time-rms",
                          metric="euclidean"):
    """Synthetic regions from the chosen stages: recovery curves (fig) and the numbers (table).

    sources: stages to make the synthetic targets from (at least one). reliability: their split-half
    reliability in (0, 1]. pooling: "time-mean", "time-rms" or "time-bins". metric: RSA metric.
    Returns (matplotlib Figure, dict column -> 1-D array with the picked stage per source).
    """
    sources = tuple(sources)
    if not sources:
        raise ValueError("choose at least one stage to make synthetic targets from")
    acts = state.acts(pooling)
    rec = synthetic_recovery(acts, sources, reliability=float(reliability), metric=metric,
                             n_targets=20 if state.quick else 40, n_permutations=0, n_boot=100,
                             seed=state.seed)
    fig = plot_recovery(rec, note=acts.note)
    table = {"source": np.array(sources),
             "regression picks": np.array([rec.scores[s].best_regression for s in sources]),
             "RSA picks": np.array([rec.scores[s].best_rsa for s in sources])}
    return fig, table


def correspondence_panel(sounds, stages=REFERENCE_STAGES, cf=16, mode="full", weights=None, quick=False,
                         cache=None, run=True, sources=("v", "ihc", "anfl", "ic"), pooling="time-rms"):
    """Controls for :func:`update_correspondence` over a sound set. Returns an ipywidgets.VBox.

    sounds, stages, cf, mode, weights, cache: as :func:`~connear_helpers.stages.activations`.
    quick: fewer targets. run: draw once at once. sources, pooling: the starting choice.
    """
    import ipywidgets as w

    from ..lab.widgets import panel

    state = CorrespondenceState(sounds, stages, cf, mode, weights, cache=cache, quick=quick)
    names = list(state.acts(pooling).stages)
    controls = {
        "sources": w.SelectMultiple(options=names, value=[s for s in sources if s in names] or names[:1],
                                    rows=min(8, len(names)), description="targets from"),
        "reliability": w.FloatSlider(value=0.8, min=0.1, max=1.0, step=0.05, description="reliability",
                                     continuous_update=False),
        "pooling": w.Dropdown(options=list(POOLINGS), value=pooling, description="pooling"),
        "metric": w.ToggleButtons(options=["euclidean", "correlation"], value="euclidean", description="RSA"),
    }
    def summary(table, seconds):
        picks = "; ".join(f"{s}: regression {r}, RSA {q}" for s, r, q in
                          zip(table["source"], table["regression picks"], table["RSA picks"]))
        return f"done in {seconds:.1f} s. Picked: {html.escape(picks)}"

    header = ("<h4>Which stage do regression and RSA pick?</h4><p>Synthetic regions are random read-outs "
              "of the chosen stages plus noise of the chosen split-half reliability.</p>")
    rows = [w.HBox([controls["sources"], w.VBox([controls["reliability"], controls["pooling"], controls["metric"]])])]
    box = panel(header, controls, lambda **values: update_correspondence(state, **values), rows=rows, dpi=80,
                busy="<b>computing...</b> (a new pooling is instant once its activations are cached)",
                summary=summary, run=run)
    box.state = state
    return box
