"""Fig. 3 (Metrics 2-3): the IHC AC/DC ratio against frequency (3a, guinea-pig data) and the
IHC potential-level growth at 4 kHz (3b)."""
from __future__ import annotations

import numpy as np

from ..pipeline import RunOptions
from ..analysis.evaluations import (
    QUICK,
    _pick,
    compute_ac_dc_ratio,
    compute_level_growth,
    paper_ac_dc_freqs,
)
from .plotting import (
    _experimental,
    _finish,
    _grid,
    _khz_axis,
)


def fig3a_ihc_ac_dc_ratio(weights="connear-lab", *, quick=False, freqs_hz=None, level_db_spl=80.0,
                          mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 3a (Metric 2): AC/DC ratio of the IHC potential vs CF at 80 dB, with guinea-pig data.

    freqs_hz: tone frequencies (default the paper's 20; quick: 6 of them).
    Returns (fig, table): frequency_hz, ac_dc_ratio_ref, ac_dc_ratio_cnn (if CNN).
    """
    if freqs_hz is None:
        freqs_hz = paper_ac_dc_freqs(QUICK["fig3a"]["n_freqs"] if quick else 20)
    options = RunOptions(weights, mode, reference_options=reference_options, cache=cache, progress=progress)
    d = compute_ac_dc_ratio(freqs_hz, level_db_spl, options=options)
    return draw_ac_dc_ratio(d)


def draw_ac_dc_ratio(d, inset_freq_hz=None):
    """Figure of :func:`compute_ac_dc_ratio` output, optionally with a waveform inset at the
    tone nearest inset_freq_hz; returns (fig, table)."""
    setup = d["setup"]
    fig, axes = _grid(setup, 1, row_height=3.6, sharey=True)
    fk = d["freqs_hz"] / 1e3
    table = {"frequency_hz": d["freqs_hz"], "ac_dc_ratio_ref": d["ratio_ref"]}
    for j, (name, ratio) in enumerate((("ref", d["ratio_ref"]), ("cnn", d["ratio_cnn"]))):
        if ratio is None:
            continue
        ax = axes[0, j]
        if name == "cnn":
            ax.loglog(fk, np.abs(d["ratio_ref"]), color="0.7", lw=1, label="reference")
            table["ac_dc_ratio_cnn"] = ratio
        ax.loglog(fk, np.abs(ratio), "k.-", lw=1.5, label="model")
        for cell, style in ((1, "o"), (2, "s")):
            d_exp = _experimental(f"ac_dc_ratio_guinea_pig_cell{cell}")
            if d_exp is not None:
                ax.loglog(d_exp["x"] / 1e3, d_exp["y"], style, mfc="none", ms=4, alpha=0.8,
                          label=f"guinea pig IHC {cell} (Palmer & Russell 1986)")
        _khz_axis(ax, (0.1, 10), [0.1, 0.25, 0.5, 1, 2, 4, 8])
        ax.set_xlabel("frequency [kHz]")
        ax.legend(fontsize=7)
        if inset_freq_hz is not None:
            k = int(np.argmin(np.abs(d["freqs_hz"] - inset_freq_hz)))
            trace = (d["trace_ref"] if name == "ref" else d["trace_cnn"])[k]
            ins = ax.inset_axes([0.08, 0.08, 0.42, 0.32])
            t = d["time_s"] * 1e3
            ins.plot(t, trace * 1e3, lw=0.6, color="k")
            for (a, b), colour in ((d["ac_window_s"], "C1"), (d["dc_window_s"], "C0")):
                ins.axvspan(a * 1e3, b * 1e3, color=colour, alpha=0.3)
            ins.set_title(f"{d['freqs_hz'][k]:.0f} Hz: $V_m$ [mV] vs ms", fontsize=6.5)
            ins.tick_params(labelsize=6)
    axes[0, 0].set_ylabel(f"AC/DC ratio at {d['level_db_spl']:g} dB SPL")
    return _finish(fig, setup, "Fig. 3a - IHC AC/DC ratio"), table


def fig3b_ihc_level_growth(weights="connear-lab", *, quick=False, freq_hz=4000.0, levels_db_spl=None,
                           mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 3b (Metric 3): RMS of the DC-removed IHC potential vs level at 4 kHz.

    levels_db_spl: default 0:10:100 (quick: 0, 30, 60, 90).
    Returns (fig, table): level_db_spl, vihc_rms_ref_mV, vihc_rms_cnn_mV (if CNN).
    """
    levels = _pick(levels_db_spl, quick, "fig3b", "levels_db_spl", tuple(float(v) for v in range(0, 101, 10)))
    options = RunOptions(weights, mode, reference_options=reference_options, cache=cache, progress=progress)
    d = compute_level_growth(freq_hz, levels, options=options)
    return draw_level_growth(d)


def draw_level_growth(d):
    """Figure of :func:`compute_level_growth` output; returns (fig, table)."""
    setup = d["setup"]
    fig, axes = _grid(setup, 1, row_height=3.4, sharey=True)
    table = {"level_db_spl": d["levels_db_spl"], "vihc_rms_ref_mV": d["rms_ref"] * 1e3}
    for j, (name, rms) in enumerate((("ref", d["rms_ref"]), ("cnn", d["rms_cnn"]))):
        if rms is None:
            continue
        ax = axes[0, j]
        if name == "cnn":
            ax.plot(d["levels_db_spl"], d["rms_ref"] * 1e3, color="0.7", lw=1, label="reference")
            table["vihc_rms_cnn_mV"] = rms * 1e3
        ax.plot(d["levels_db_spl"], rms * 1e3, "k.-", label="model")
        ax.set_xlabel("level [dB SPL]")
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel(f"RMS of DC-removed $V_m$ [mV]\nCF {d['freq_hz']:.0f} Hz")
    return _finish(fig, setup, "Fig. 3b - IHC potential-level growth"), table
