"""Drawing helpers shared by the paper's figures: grids with a reference and a CoNNear column,
axes, the experimental data, the footnote that names the weights and their measured error."""
from __future__ import annotations


FIBRE_COLOUR = {"anfh": "r", "anfm": "b", "anfl": "c"}


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _columns(setup):
    cols = ["reference (verhulst2018)"]
    if setup.has_cnn:
        cols.append(f"CoNNear ({setup.label})")
    return cols


def _grid(setup, n_rows, row_height=2.6, width=5.0, sharey="row", sharex=True):
    plt = _pyplot()
    n_cols = len(_columns(setup))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(max(width * n_cols, 7.0), row_height * n_rows + 0.8),
                             squeeze=False, sharey=sharey, sharex=sharex)
    for j, title in enumerate(_columns(setup)):
        axes[0, j].set_title(title, fontsize=10)
    return fig, axes


def _khz_axis(ax, lim, ticks):
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    ax.set_xscale("log")
    ax.set_xlim(*lim)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticklabels([f"{t:g}" for t in ticks])


def _finish(fig, setup, title):
    mode = "full: TL cochlea" if setup.mode == "full" else "light: CoNNear cochlea"
    fig.suptitle(f"{title}  [{mode}]", fontsize=11)
    fig.tight_layout()
    if setup.quality and setup.has_cnn and not setup.note:
        width_in, height_in = fig.get_size_inches()
        chars_per_line = max(20, int(width_in * 0.9 / 0.05))
        n_lines = -(-len(setup.quality) // chars_per_line)
        axes_bottom = min(p.y0 for ax in fig.axes for p in [ax.get_position()])
        fig.subplots_adjust(bottom=min(0.5, axes_bottom + (0.14 * n_lines + 0.1) / height_in))
        fig.text(0.5, 0.01, setup.quality, ha="center", va="bottom", fontsize=7, color="0.3", wrap=True)
    if setup.note:
        width_in, height_in = fig.get_size_inches()
        chars_per_line = max(20, int(width_in * 0.9 / 0.055))  # 7.5-pt text, ~0.055 in per char
        n_lines = sum(-(-max(len(line), 1) // chars_per_line) for line in setup.note.splitlines())
        needed_in = 0.16 * n_lines + 0.2  # note box
        axes_bottom = min(p.y0 for ax in fig.axes for p in [ax.get_position()])
        fig.subplots_adjust(bottom=min(0.6, axes_bottom + needed_in / height_in))
        fig.text(0.5, 0.01, setup.note, ha="center", va="bottom", fontsize=7.5, color="darkred",
                 wrap=True, bbox=dict(boxstyle="round", facecolor="mistyrose", edgecolor="darkred"))
    return fig


def _experimental(name):
    from ..analysis.experimental_data import load_experimental

    try:
        return load_experimental(name)
    except (FileNotFoundError, ValueError):
        return None


def _plot_experimental(ax, name, style, label):
    d = _experimental(name)
    if d is not None:
        ax.plot(d["x"], d["y"], style, ms=3.5, label=label, alpha=0.8)
