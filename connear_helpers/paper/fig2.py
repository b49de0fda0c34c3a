"""Fig. 2 (Metric 1): IHC excitation patterns, reference and CoNNear, 0.5/1/2 kHz tones."""
from __future__ import annotations

import numpy as np

from ..pipeline import RunOptions
from ..analysis.evaluations import (
    _pick,
    compute_excitation_patterns,
)
from .plotting import (
    _finish,
    _grid,
    _khz_axis,
    _pyplot,
)


def fig2_ihc_excitation_patterns(weights="connear-lab", *, quick=False, freqs_hz=None, levels_db_spl=None,
                                 cf=None, mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 2 (Metric 1): IHC excitation patterns, rows 0.5/1/2 kHz, curves per level.

    freqs_hz: tone frequencies (default 500, 1000, 2000 Hz). levels_db_spl: default 0:10:100
    (quick: 30, 60, 90). cf: CFs (Hz) to draw (default all 201).
    Returns (fig, table): table cf_hz and ref_/cnn_<f>Hz_<L>dB_mV columns (mean V_m in mV).
    """
    freqs = _pick(freqs_hz, quick, "fig2", "freqs_hz", (500.0, 1000.0, 2000.0))
    levels = _pick(levels_db_spl, quick, "fig2", "levels_db_spl", tuple(float(v) for v in range(0, 101, 10)))
    options = RunOptions(weights, mode, reference_options=reference_options, cache=cache, progress=progress)
    d = compute_excitation_patterns(freqs, levels, cf, options=options)
    return draw_excitation_patterns(d)


def draw_excitation_patterns(d):
    """Figure of :func:`compute_excitation_patterns` output; returns (fig, table)."""
    plt = _pyplot()
    setup = d["setup"]
    freqs, levels, cfk = d["freqs_hz"], d["levels_db_spl"], d["cf_hz"] / 1e3
    fig, axes = _grid(setup, len(freqs))
    colours = plt.cm.viridis(np.linspace(0, 0.95, len(levels)))
    table = {"cf_hz": d["cf_hz"]}
    for i, f in enumerate(freqs):
        for j, (name, data) in enumerate((("ref", d["ref"]), ("cnn", d["cnn"]))):
            if data is None:
                continue
            ax = axes[i, j]
            if name == "cnn":
                for k in range(len(levels)):
                    ax.semilogx(cfk, d["ref"][f][k] * 1e3, color="0.75", lw=0.8, zorder=1)
            for k, level in enumerate(levels):
                ax.semilogx(cfk, data[f][k] * 1e3, color=colours[k], lw=1.2, label=f"{level:g} dB")
                table[f"{name}_{f:g}Hz_{level:g}dB_mV"] = data[f][k] * 1e3
            ax.axvline(f / 1e3, color="k", lw=0.6, ls=":")
            # the whole CF range (0.11-12 kHz), so that no pattern is cut at its peak
            _khz_axis(ax, (0.1, 14), [0.125, 0.25, 0.5, 1, 2, 4, 8])
            ax.set_ylabel(f"{f / 1e3:g} kHz tone\nmean $V_m$ [mV]")
    # one legend for the levels, outside the data (high-level patterns fill the panels' corners)
    axes[0, -1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), title="level",
                       title_fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("CF [kHz]")
    return _finish(fig, setup, "Fig. 2 - IHC excitation patterns"), table
