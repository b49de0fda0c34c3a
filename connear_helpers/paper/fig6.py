"""Fig. 6 (Metrics 5-6): ANF rate-level (6a) and synchrony-level (6b) curves with the
experimental data."""
from __future__ import annotations

import numpy as np

from ..pipeline import RunOptions
from ..analysis.evaluations import (
    _pick,
    compute_rate_level,
    compute_synchrony_level,
)
from ..constants import FIBRE_LABEL, FIBRES
from .plotting import (
    FIBRE_COLOUR,
    _finish,
    _grid,
    _plot_experimental,
)


def fig6a_anf_rate_level(weights="connear-lab", *, quick=False, freqs_hz=(1000.0, 4000.0), levels_db_spl=None,
                         mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 6a (Metric 5): rate-level curves at 1 and 4 kHz with guinea-pig and mouse data.

    levels_db_spl: default 0:10:100 (quick: 0:20:80).
    Returns (fig, table): level_db_spl and rate_<fibre>_<f>Hz_ref/_cnn (spikes/s).
    """
    levels = _pick(levels_db_spl, quick, "fig6a", "levels_db_spl", tuple(float(v) for v in range(0, 101, 10)))
    options = RunOptions(weights, mode, reference_options=reference_options, cache=cache, progress=progress)
    d = compute_rate_level(freqs_hz, levels, options=options)
    return draw_rate_level(d)


_RATE_LEVEL_DATA = {
    "anfh": (("rate_level_hsr_guinea_pig", "guinea pig (Winter & Palmer 1991)"),
             ("rate_level_hsr_mouse", "mouse (Taberner & Liberman 2005)")),
    "anfm": (("rate_level_msr_guinea_pig", "guinea pig (Winter & Palmer 1991)"),
             ("rate_level_msr_mouse", "mouse (Taberner & Liberman 2005)")),
    "anfl": (("rate_level_lsr_guinea_pig", "guinea pig (Winter & Palmer 1991)"),),
}
_SYNCHRONY_DATA = {f: ((f"synchrony_level_{FIBRE_LABEL[f].lower()}_cat", "cat (Joris & Yin 1992)"),) for f in FIBRES}
#: Line style of a CF in the level-curve figures, fixed per octave band around 1 kHz (so that adding
#: or removing a CF never restyles the others): 1 kHz dashed and 4 kHz solid as in the paper.
_OCTAVE_STYLES = ("--", ":", "-", (0, (6, 1.5, 1, 1.5)), "-.")


def _cf_style(freq_hz):
    return _OCTAVE_STYLES[int(round(np.log2(freq_hz / 1000.0))) % len(_OCTAVE_STYLES)]


def _draw_level_curves(d, experimental, ylabel, title, quantity, ylim=None):
    setup = d["setup"]
    fibres = list(d["ref"])
    fig, axes = _grid(setup, len(fibres), row_height=2.5, sharey="row")
    levels = d["levels_db_spl"]
    table = {"level_db_spl": levels}
    for i, fib in enumerate(fibres):
        for j, name in enumerate(("ref", "cnn")):
            data = d[name]
            if data is None:
                continue
            ax = axes[i, j]
            for k, f in enumerate(d["freqs_hz"]):
                style = _cf_style(f)
                if name == "cnn":
                    ax.plot(levels, d["ref"][fib][k], linestyle=style, color="0.7", lw=1)
                ax.plot(levels, data[fib][k], linestyle=style, color=FIBRE_COLOUR[fib], lw=1.5, marker=".",
                        label=f"model, CF {f / 1e3:.2f} kHz")
                table[f"{quantity}_{FIBRE_LABEL[fib]}_{f:.0f}Hz_{name}"] = data[fib][k]
            for (dataset, label), mk in zip(experimental.get(fib, ()), ("o", "s")):
                _plot_experimental(ax, dataset, mk, label)
            if ylim:
                ax.set_ylim(*ylim)
        # one legend per row, outside the data (the experimental points fill the panels)
        drawn = [ax for ax in axes[i] if ax.lines]
        if drawn:
            drawn[-1].legend(fontsize=7.5, handlelength=3.5, loc="upper left", bbox_to_anchor=(1.02, 1.0))
        axes[i, 0].set_ylabel(f"{FIBRE_LABEL[fib]}\n{ylabel}")
    for ax in axes[-1]:
        ax.set_xlabel("level [dB SPL]")
    return _finish(fig, setup, title), table


def draw_rate_level(d):
    """Figure of :func:`compute_rate_level` output; returns (fig, table)."""
    return _draw_level_curves(d, _RATE_LEVEL_DATA, "rate [spikes/s]", "Fig. 6a - ANF rate-level curves", "rate")


def fig6b_anf_synchrony_level(weights="connear-lab", *, quick=False, freqs_hz=(1000.0, 4000.0), levels_db_spl=None,
                              tone_s=None, mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 6b (Metric 6): vector strength at 100 Hz vs level for SAM tones, with cat data.

    levels_db_spl: default 0:5:100 (quick: 20, 50, 80). tone_s: SAM duration (default 0.4 s;
    quick 0.1 s). Returns (fig, table): level_db_spl and vs_<fibre>_<f>Hz_ref/_cnn.
    """
    levels = _pick(levels_db_spl, quick, "fig6b", "levels_db_spl", tuple(float(v) for v in range(0, 101, 5)))
    tone = _pick(tone_s, quick, "fig6b", "tone_s", None)
    options = RunOptions(weights, mode, reference_options=reference_options, cache=cache, progress=progress)
    d = compute_synchrony_level(freqs_hz, levels, tone, options=options)
    return draw_synchrony_level(d)


def draw_synchrony_level(d):
    """Figure of :func:`compute_synchrony_level` output; returns (fig, table)."""
    return _draw_level_curves(d, _SYNCHRONY_DATA, f"vector strength at {d['fm_hz']:g} Hz",
                              "Fig. 6b - ANF synchrony-level curves", "vs", ylim=(0, 1))
