"""Figures of an encoding study (matplotlib; each function returns the figure)."""
from __future__ import annotations

import numpy as np

from .study import FRONTEND_LABELS, MODEL_LABELS, TARGET_LABELS

__all__ = ["plot_frontends", "plot_strf_recovery", "plot_scores", "plot_prediction", "plot_strfs"]

FRONTEND_COLOURS = {"mel": "tab:orange", "anf": "tab:blue", "ihc": "tab:green", "anf_connear": "tab:purple"}
UNITS = {"mel": "dB SPL", "anf": "spikes/s", "ihc": "V", "anf_connear": "spikes/s"}


def _freq_axis(ax, freqs, n_ticks=5):
    idx = np.unique(np.linspace(0, len(freqs) - 1, min(n_ticks, len(freqs))).round().astype(int))
    ax.set_yticks(idx)
    ax.set_yticklabels([f"{freqs[i] / 1000:.2g}" for i in idx])
    ax.set_ylabel("frequency (kHz)")


def plot_frontends(study, stimulus=0):
    """The waveform of one stimulus, each front end's input and the IC target's rate (if built)."""
    import matplotlib.pyplot as plt

    stimulus = int(stimulus)
    panels = list(study.inputs) + (["ic"] if "ic" in study.targets else [])
    fig, axes = plt.subplots(len(panels) + 1, 1, figsize=(8, 1.8 * (len(panels) + 1)), sharex=True,
                             constrained_layout=True)
    x = study.signals[stimulus]
    t = np.arange(x.size) / study.fs
    axes[0].plot(t, x, lw=0.5, color="k")
    axes[0].set_ylabel("pressure (Pa)")
    name = study.names[stimulus] if len(study.names) > stimulus else f"stimulus {stimulus}"
    axes[0].set_title(f"{name}: the front ends and the IC target ({study.bin_s * 1e3:g}-ms bins)")
    extent_t = (0, study.n_bins * study.bin_s)
    for ax, key in zip(axes[1:], panels):
        if key == "ic":
            img, freqs, unit, label = study.targets["ic"].rates[stimulus], study.cf, "spikes/s", "IC rate (target)"
        else:
            img, freqs, _ = study.inputs[key]
            img, unit, label = img[stimulus], UNITS[key], FRONTEND_LABELS[key]
        im = ax.imshow(img.T, aspect="auto", origin="lower", cmap="magma",
                       extent=(extent_t[0], extent_t[1], -0.5, img.shape[1] - 0.5))
        _freq_axis(ax, freqs)
        ax.set_title(label, fontsize=9, loc="left")
        fig.colorbar(im, ax=ax, label=unit, pad=0.01)
    axes[-1].set_xlabel("time (s)")
    return fig


def plot_strf_recovery(curves):
    """STRF correlation (true vs fitted, Linear model) against seconds of training sound.

    curves: dict front end -> result of EncodingStudy.strf_recovery. Lines: median over the
    synthetic neurons, shading: their range.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5), constrained_layout=True)
    for key, c in curves.items():
        r = np.asarray(c["strf_corr"], dtype=np.float64)
        col = FRONTEND_COLOURS.get(key, None)
        ax.plot(c["seconds"], np.median(r, axis=1), "o-", color=col, label=FRONTEND_LABELS.get(key, key))
        ax.fill_between(c["seconds"], r.min(axis=1), r.max(axis=1), color=col, alpha=0.2)
    ax.axhline(0.9, color="grey", ls=":", lw=1)
    ax.set_xlabel("training sound (s)")
    ax.set_ylabel("r (true vs fitted STRF)")
    ax.set_ylim(min(0.0, ax.get_ylim()[0]), 1.0)
    ax.set_title("Recovering a known STRF")
    ax.legend(fontsize=8)
    return fig


def plot_scores(fitted):
    """Bar plots of held-out CC and CCnorm (mean over neurons, error bar: SEM) per target,
    model and front end. fitted: list of Fitted (EncodingStudy.compare)."""
    import matplotlib.pyplot as plt

    targets = list(dict.fromkeys(f.target for f in fitted))
    fronts = list(dict.fromkeys(f.frontend for f in fitted))
    mods = list(dict.fromkeys(f.model_name for f in fitted))
    fig, axes = plt.subplots(2, len(targets), figsize=(4.5 * len(targets), 5.5), squeeze=False,
                             constrained_layout=True)
    width = 0.8 / max(1, len(fronts))
    for j, tgt in enumerate(targets):
        for row, (attr, label) in enumerate((("cc", "CC"), ("ccnorm", "CCnorm"))):
            ax = axes[row, j]
            for i, fr in enumerate(fronts):
                means, errs = [], []
                for m in mods:
                    hit = [f for f in fitted if f.target == tgt and f.frontend == fr and f.model_name == m]
                    v = getattr(hit[0].scores, attr) if hit else np.array([np.nan])
                    v = v[np.isfinite(v)]
                    means.append(v.mean() if v.size else np.nan)
                    errs.append(v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else 0.0)
                ax.bar(np.arange(len(mods)) + (i - (len(fronts) - 1) / 2) * width, means, width, yerr=errs,
                       color=FRONTEND_COLOURS.get(fr), label=FRONTEND_LABELS.get(fr, fr), capsize=2)
            ax.set_xticks(np.arange(len(mods)))
            ax.set_xticklabels([MODEL_LABELS.get(m, m) for m in mods])
            ax.set_ylabel(f"held-out {label}")
            ax.set_ylim(0, 1.1 if attr == "ccnorm" else 1.0)
            if attr == "ccnorm":
                ax.axhline(1.0, color="grey", ls=":", lw=1)
            if row == 0:
                ax.set_title(TARGET_LABELS.get(tgt, tgt))
    axes[0, 0].legend(fontsize=8, loc="lower right")
    return fig


def plot_prediction(study, fitted, neuron=0, stimulus=0, ax=None):
    """Predicted against true response of one neuron to one test stimulus (index into the test set)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.5), constrained_layout=True)
    resp = study.responses(fitted.target, fitted.frontend)
    s = int(stimulus) % study.test_index.size
    i = study.test_index[s]
    t = (np.arange(study.n_bins) + 0.5) * study.bin_s
    ax.plot(t, resp.repeats[i, :, :, neuron].mean(axis=0), color="0.6", lw=1,
            label=f"mean of {resp.repeats.shape[1]} repeats")
    if resp.rates is not None:
        ax.plot(t, resp.rates[i, :, neuron], color="k", lw=1, label="true rate")
    ax.plot(t, fitted.prediction[s, :, neuron], color=FRONTEND_COLOURS.get(fitted.frontend, "r"), lw=1.5,
            label=f"{MODEL_LABELS[fitted.model_name]} on {FRONTEND_LABELS[fitted.frontend]}")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("rate (spikes/s)")
    sc = fitted.scores
    ident = resp.neuron_ids[neuron] if len(resp.neuron_ids) > neuron else f"neuron {neuron}"
    ax.set_title(f"{ident}, test stimulus {s}: CC {sc.cc[neuron]:.2f}, CCnorm {sc.ccnorm[neuron]:.2f} "
                 f"(all test stimuli)", fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    return ax.figure


def _strf_image(ax, w, freqs, dt, title):
    lim = float(np.max(np.abs(w))) or 1.0
    t_ms = np.arange(w.shape[0]) * dt * 1e3
    im = ax.imshow(w.T, aspect="auto", origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim,
                   extent=(t_ms[0] - dt * 500, t_ms[-1] + dt * 500, -0.5, w.shape[1] - 0.5))
    _freq_axis(ax, freqs)
    ax.set_xlabel("lag (ms)")
    ax.set_title(title, fontsize=9)
    return im


def plot_strfs(study, fitted, neuron=0, axes=None):
    """The fitted STRF of one neuron (or hidden unit) as an image, beside the true one (synthetic target).

    Each image has its own symmetric colour scale (a fitted STRF equals the true one up to a gain).
    With the ON/OFF prefilter the ON and OFF halves are shown side by side. For the 2D-CNN, one
    layer-1 kernel is shown instead. Returns the figure.
    """
    import matplotlib.pyplot as plt

    model = fitted.model
    _, freqs, dt = study.inputs[fitted.frontend]
    if not model.has_strfs:
        k = model.first_layer_kernels()
        if axes is None:
            _, axes = plt.subplots(1, 1, figsize=(4, 3), constrained_layout=True)
        ax = np.atleast_1d(axes)[0]
        kk = k[int(neuron) % k.shape[0]]
        lim = float(np.max(np.abs(kk))) or 1.0
        ax.imshow(kk.T, aspect="auto", origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_xlabel("lag (bins)")
        ax.set_ylabel("band offset")
        ax.set_title(f"2D-CNN layer-1 kernel {int(neuron) % k.shape[0]} (no explicit STRF)", fontsize=9)
        return ax.figure
    w = model.strfs()
    unit = int(neuron) % w.shape[0]
    what = "hidden unit" if model.H else "neuron"
    images = [(w[unit], f"fitted STRF, {what} {unit}")]
    if model.prefilter is not None:
        images = [(w[unit][:, :model.F], f"fitted ON STRF, {what} {unit}"),
                  (w[unit][:, model.F:], f"fitted OFF STRF, {what} {unit}")]
    true = study.true_strfs(fitted.target, fitted.frontend)
    if true is not None and not model.H:
        images.insert(0, (true[unit], f"true STRF, neuron {unit}"))
    if axes is None:
        _, axes = plt.subplots(1, len(images), figsize=(3.6 * len(images), 3), constrained_layout=True)
    axes = np.atleast_1d(axes)
    for ax, (img, title) in zip(axes, images):
        # each image on its own symmetric scale: true and fitted STRFs differ by a gain
        ax.figure.colorbar(_strf_image(ax, img, freqs, dt, title), ax=ax, label="weight (a.u.)", pad=0.01)
    return axes[0].figure
