"""The notebook's explorer: choose a front end, a model and a target; fit; see the prediction and STRFs.

:func:`update_explorer` is the plain function behind the panel (the tests call it);
:func:`explorer_panel` wraps it in ipywidgets, in the style of :mod:`connear_helpers.lab.widgets`.
Fits are remembered by the study, so returning to a choice is instant.
"""
from __future__ import annotations

import html

from .plots import plot_prediction, plot_strfs
from .study import FRONTEND_LABELS, MODEL_LABELS, TARGET_LABELS

__all__ = ["update_explorer", "explorer_panel"]


def update_explorer(study, frontend="mel", model="linear", target="synthetic", neuron=0, stimulus=0):
    """Fit (or recall) a model and draw its prediction and STRFs.

    frontend, model, target: as EncodingStudy.fit. neuron: index of the neuron (prediction) and
    of the STRF (neuron, or hidden unit for NRF/DNet), taken modulo their counts. stimulus:
    index into the test stimuli. Returns (fig, fitted).
    """
    import matplotlib.pyplot as plt

    fitted = study.fit(frontend, model, target)
    n_out = study.responses(target, frontend).n_neurons
    has_true = target == "synthetic" and not fitted.model.H
    n_img = 1 if not fitted.model.has_strfs else (1 + has_true + (fitted.model.prefilter is not None))
    fig = plt.figure(figsize=(9, 5.6), constrained_layout=True)
    grid = fig.add_gridspec(2, max(n_img, 1))
    plot_prediction(study, fitted, int(neuron) % n_out, stimulus, ax=fig.add_subplot(grid[0, :]))
    plot_strfs(study, fitted, neuron, axes=[fig.add_subplot(grid[1, j]) for j in range(n_img)])
    return fig, fitted


def explorer_panel(study, frontend=None, model="linear", target=None, run=True):
    """ipywidgets panel over :func:`update_explorer`: front end, model, target, neuron, test stimulus.

    Returns an ipywidgets.VBox (``.refresh()`` redraws).
    """
    import ipywidgets as w

    from ..lab.widgets import panel

    frontend = frontend or study.frontends[0]
    target = target or study.target_names[0]
    n_max = max([study.responses(t, f).n_neurons for t in study.target_names for f in study.frontends] + [6])
    controls = {
        "frontend": w.Dropdown(options=[(FRONTEND_LABELS[f], f) for f in study.frontends], value=frontend,
                               description="front end"),
        "model": w.Dropdown(options=[(v, k) for k, v in MODEL_LABELS.items()], value=model, description="model"),
        "target": w.Dropdown(options=[(TARGET_LABELS[t], t) for t in study.target_names], value=target,
                             description="target"),
        "neuron": w.IntSlider(value=0, min=0, max=n_max - 1, description="neuron", continuous_update=False),
        "stimulus": w.IntSlider(value=0, min=0, max=max(0, study.test_index.size - 1), description="test stimulus",
                                continuous_update=False),
    }
    def summary(fitted, seconds):
        sc = fitted.scores.summary()
        return (f"{html.escape(fitted.model.describe())}: median held-out CC {sc['cc']:.2f}, "
                f"CCnorm {sc['ccnorm']:.2f} ({seconds:.1f} s)")

    header = ("<h4>Encoding-model explorer</h4><p>Choose a front end, a model and a target: the model is "
              "fitted on the training stimuli and shown on a held-out one. The STRF images show the "
              "fitted weights (and the true ones for the synthetic neurons).</p>")
    box = panel(header, controls, lambda **values: update_explorer(study, **values), dpi=90, summary=summary,
                busy="<b>fitting...</b> a new model takes a few seconds to a minute; fitted ones are instant",
                run=run)
    box.study = study
    return box
