"""The paper's figures: one function per figure, and the headless figure run.

``connear-figures --out figures/ [--quick]`` (or ``python -m connear_helpers.paper.figures``) draws
every figure as PNG with the numbers behind it as CSV next to it.

Figure functions (each returns ``(fig, table)``; ``table`` maps column names, with units, to
1-D arrays):

* :func:`fig2_ihc_excitation_patterns` – Metric 1, mean IHC potential across CF (0.5/1/2 kHz)
* :func:`fig3a_ihc_ac_dc_ratio` – Metric 2, AC/DC ratio vs frequency, guinea-pig data
* :func:`fig3b_ihc_level_growth` – Metric 3, RMS of the DC-removed IHC potential vs level (4 kHz)
* :func:`fig4a_anf_adaptation` – ANF adaptation to a 1-s, 1-kHz, 70-dB tone
* :func:`fig4b_anf_onset_recovery` – onset-peak recovery vs inter-stimulus interval (2 kHz)
* :func:`fig5_anf_firing_rates` – Metric 4, HSR/MSR/LSR rates to 70-dB tones and SAM tones
* :func:`fig6a_anf_rate_level` – Metric 5, rate-level curves, guinea-pig and mouse data
* :func:`fig6b_anf_synchrony_level` – Metric 6, synchrony-level curves, cat data

Every figure puts the reference model (verhulst2018) and the CoNNear CNNs side by side, with the
experimental data where the paper has them. ``weights`` is a weight set ("connear-lab",
"official"), a folder of weight files, a dict ``{"ihc": keras.Model or file, ...}``, or None for
the reference only. When the weights cannot be loaded the figure shows the reference alone and
says on the figure how to get them. ``quick=True`` runs the same code on fewer levels,
frequencies and shorter tones (under a minute per figure on 2 CPU cores).

The numbers behind each figure come from the compute functions of
:mod:`connear_helpers.analysis.evaluations` (the panels and the weight-set evaluation use the same
ones); simulation (segmentation, batching, the on-disk cache, the weights a figure needs) is
:mod:`connear_helpers.pipeline`'s. This module draws, and runs the headless figure run.

Reference-model options default to :data:`PAPER_REFERENCE_OPTIONS` (cochlear irregularities of
subject 1 and the SciPy <= 1.16 integrator), with which the paper's curves were made.

The verhulst2018 engine is one of these options: ``reference_options={..., "engine": "fast"}``
(``"exact"``, ``"fast"`` or ``"numpy"``; an unknown name is a ValueError naming them). The
figures reproduce the paper, so they default to the exact engine
(:data:`connear_helpers.pipeline.ENGINE_FOR_COMPARISON`); the panels of
:mod:`connear_helpers.lab.widgets` run the fast one. Cache keys name the engine only when it is not
"exact", so the records of exact simulations keep the keys they had before the engine option.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

from .. import pipeline
from ..analysis import metrics, stimuli
from ..analysis.evaluations import (
    QUICK,
    _pick,
    compute_ac_dc_ratio,
    compute_adaptation,
    compute_anf_firing_rates,
    compute_excitation_patterns,
    compute_level_growth,
    compute_onset_recovery,
    compute_rate_level,
    compute_synchrony_level,
    paper_ac_dc_freqs,
)
from ..constants import FIBRE_LABEL, FIBRES, FS_CNN
from ..pipeline import MODES

FIBRE_COLOUR = {"anfh": "r", "anfm": "b", "anfl": "c"}

# ============================================================================================
# drawing helpers


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


# ============================================================================================
# figures


def fig2_ihc_excitation_patterns(weights="connear-lab", *, quick=False, freqs_hz=None, levels_db_spl=None,
                                 cf=None, mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 2 (Metric 1): IHC excitation patterns, rows 0.5/1/2 kHz, curves per level.

    freqs_hz: tone frequencies (default 500, 1000, 2000 Hz). levels_db_spl: default 0:10:100
    (quick: 30, 60, 90). cf: CFs (Hz) to draw (default all 201).
    Returns (fig, table): table cf_hz and ref_/cnn_<f>Hz_<L>dB_mV columns (mean V_m in mV).
    """
    freqs = _pick(freqs_hz, quick, "fig2", "freqs_hz", (500.0, 1000.0, 2000.0))
    levels = _pick(levels_db_spl, quick, "fig2", "levels_db_spl", tuple(float(v) for v in range(0, 101, 10)))
    d = compute_excitation_patterns(weights, freqs, levels, cf, mode, reference_options, cache, progress)
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


def fig3a_ihc_ac_dc_ratio(weights="connear-lab", *, quick=False, freqs_hz=None, level_db_spl=80.0,
                          mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 3a (Metric 2): AC/DC ratio of the IHC potential vs CF at 80 dB, with guinea-pig data.

    freqs_hz: tone frequencies (default the paper's 20; quick: 6 of them).
    Returns (fig, table): frequency_hz, ac_dc_ratio_ref, ac_dc_ratio_cnn (if CNN).
    """
    if freqs_hz is None:
        freqs_hz = paper_ac_dc_freqs(QUICK["fig3a"]["n_freqs"] if quick else 20)
    d = compute_ac_dc_ratio(weights, freqs_hz, level_db_spl, mode, reference_options, cache, progress)
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
    d = compute_level_growth(weights, freq_hz, levels, mode, reference_options, cache, progress)
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


def fig4a_anf_adaptation(weights="connear-lab", *, quick=False, freq_hz=1000.0, level_db_spl=70.0,
                         tone_s=None, mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 4a: adaptation of HSR/MSR/LSR rates to a 1-kHz, 70-dB tone of 1 s (quick: 0.3 s).

    Returns (fig, table): time_s (from tone onset), rate_<fibre>_ref/_cnn (spikes/s), and
    adaptation_ratio_ref/_cnn (rate at the probe time / rate at the tone end, per fibre H/M/L).
    """
    tone = _pick(tone_s, quick, "fig4a", "tone_s", 1.0)
    d = compute_adaptation(weights, freq_hz, level_db_spl, tone, mode=mode,
                           reference_options=reference_options, cache=cache, progress=progress)
    return draw_adaptation(d)


def draw_adaptation(d):
    """Figure of :func:`compute_adaptation` output; returns (fig, table)."""
    setup = d["setup"]
    fibres = list(d["ref"])
    fig, axes = _grid(setup, len(fibres), row_height=2.2, sharey="row")
    t = d["time_s"]
    keep = t >= -0.005
    table = {"time_s": t[keep]}
    for i, f in enumerate(fibres):
        for j, name in enumerate(("ref", "cnn")):
            data = d[name]
            if data is None:
                continue
            ax = axes[i, j]
            if name == "cnn":
                ax.plot(t[keep], d["ref"][f][keep], color="0.75", lw=0.6)
            ratio = d[f"ratio_{name}"][f]
            ax.plot(t[keep], data[f][keep], color=FIBRE_COLOUR[f], lw=0.7,
                    label=f"{FIBRE_LABEL[f]}: rate at {d['probe_s']:g} s = {100 * ratio:.1f} % of end")
            ax.axvline(d["probe_s"], color="k", lw=0.5, ls=":")
            ax.legend(fontsize=7, loc="upper right")
            table[f"rate_{FIBRE_LABEL[f]}_{name}_spikes_per_s"] = data[f][keep]
            table[f"adaptation_ratio_{name}"] = np.array([d[f"ratio_{name}"][g] for g in fibres])
        axes[i, 0].set_ylabel(f"{FIBRE_LABEL[f]} [spikes/s]")
    for ax in axes[-1]:
        ax.set_xlabel("time after tone onset [s]")
    title = f"Fig. 4a - ANF adaptation ({d['freq_hz']:.0f} Hz, {d['level_db_spl']:g} dB SPL, {d['tone_s']:g} s)"
    return _finish(fig, setup, title), table


def fig4b_anf_onset_recovery(weights="connear-lab", *, quick=False, intervals_s=None, freq_hz=2000.0,
                             mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 4b: recovery of the onset peak vs the interval between two 2-kHz 100-ms tones.

    intervals_s: default 0.1:0.1:1.9 s (quick: 0.1, 0.2, 0.4, 0.8, 1.9).
    Returns (fig, table): interval_s and onset_peak_<fibre>_ref/_cnn (normalised to 1.9 s).
    """
    intervals = _pick(intervals_s, quick, "fig4b", "intervals_s", tuple(round(0.1 * k, 1) for k in range(1, 20)))
    d = compute_onset_recovery(weights, intervals, freq_hz, mode=mode, reference_options=reference_options,
                               cache=cache, progress=progress)
    return draw_onset_recovery(d)


def draw_onset_recovery(d, trace_interval_s=None):
    """Figure of :func:`compute_onset_recovery` output; with trace_interval_s (and traces kept)
    a second row shows the rates for that interval. Returns (fig, table)."""
    setup = d["setup"]
    show_trace = trace_interval_s is not None and "trace_ref" in d
    fig, axes = _grid(setup, 2 if show_trace else 1, row_height=3.2, sharey="row", sharex=False)
    x = d["intervals_s"]
    table = {"interval_s": x}
    for j, name in enumerate(("ref", "cnn")):
        data = d[name]
        if data is None:
            continue
        ax = axes[0, j]
        for f, y in data.items():
            if name == "cnn":
                ax.plot(x, d["ref"][f], color="0.75", lw=0.8)
            ax.plot(x, y, ".-", color=FIBRE_COLOUR[f],
                    label=f"{FIBRE_LABEL[f]} ({d['levels_db_spl'][f]:g} dB SPL)")
            table[f"onset_peak_{FIBRE_LABEL[f]}_{name}"] = y
        ax.set_xlabel("inter-stimulus interval [s]")
        ax.legend(fontsize=7)
        if show_trace:
            k = int(np.argmin(np.abs(x - trace_interval_s)))
            axt = axes[1, j]
            traces = d[f"trace_{name}"]
            for f, tr in traces.items():
                axt.plot(d["time_s"], tr[k], color=FIBRE_COLOUR[f], lw=0.6, label=FIBRE_LABEL[f])
            axt.set_xlabel(f"time [s] (interval {x[k]:g} s)")
            axt.set_ylabel("rate [spikes/s]")
            axt.legend(fontsize=7)
    axes[0, 0].set_ylabel("onset peak of 2nd tone\n(relative to the longest interval)")
    title = f"Fig. 4b - ANF onset-peak recovery ({d['freq_hz']:.0f} Hz tone pairs)"
    return _finish(fig, setup, title), table


def draw_adaptation_recovery(adaptation, recovery, interval_s):
    """One figure of Fig. 4a and 4b: adaptation rates (row 1), recovery curves with the chosen
    interval marked (row 2) and the rates for that interval (row 3); the widgets' view.

    adaptation: :func:`compute_adaptation` output; recovery: :func:`compute_onset_recovery`
    output made with keep_traces=True. Returns (fig, table).
    """
    setup = recovery["setup"]
    fig, axes = _grid(setup, 3, row_height=2.4, sharey="row", sharex=False)
    table = {}
    x = recovery["intervals_s"]
    k = int(np.argmin(np.abs(x - interval_s)))
    t_a = adaptation["time_s"]
    keep = t_a >= -0.005
    table["adaptation_time_s"] = t_a[keep]
    table["interval_s"] = x
    for j, name in enumerate(("ref", "cnn")):
        if recovery[name] is None or adaptation[name] is None:
            continue
        ax = axes[0, j]
        for f, y in adaptation[name].items():
            ax.plot(t_a[keep], y[keep], color=FIBRE_COLOUR[f], lw=0.5, label=FIBRE_LABEL[f])
            table[f"adaptation_{FIBRE_LABEL[f]}_{name}_spikes_per_s"] = y[keep]
        ax.set_xlabel(f"time after onset of a {adaptation['tone_s']:g}-s tone [s]")
        ax.legend(fontsize=7, loc="upper right")
        ax = axes[1, j]
        for f, y in recovery[name].items():
            ax.plot(x, y, ".-", color=FIBRE_COLOUR[f], label=FIBRE_LABEL[f])
            table[f"onset_peak_{FIBRE_LABEL[f]}_{name}"] = y
        ax.axvline(x[k], color="k", lw=0.8, ls=":")
        ax.set_xlabel("inter-stimulus interval [s]")
        ax = axes[2, j]
        for f, tr in recovery[f"trace_{name}"].items():
            ax.plot(recovery["time_s"], tr[k], color=FIBRE_COLOUR[f], lw=0.5, label=FIBRE_LABEL[f])
            table[f"trace_{FIBRE_LABEL[f]}_{name}_spikes_per_s"] = tr[k]
        ax.set_xlabel(f"time [s], tone pair with a {x[k]:g}-s interval")
    table["trace_time_s"] = recovery["time_s"]
    axes[0, 0].set_ylabel("rate [spikes/s]")
    axes[1, 0].set_ylabel("2nd onset peak\n(rel. to longest interval)")
    axes[2, 0].set_ylabel("rate [spikes/s]")
    return _finish(fig, setup, "Fig. 4a-b - ANF adaptation and recovery"), table


def fig5_anf_firing_rates(weights="connear-lab", *, quick=False, freqs_hz=(1000.0, 4000.0), level_db_spl=70.0,
                          tone_s=None, mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 5 (Metric 4): HSR/MSR/LSR rates over the first 80 ms of 70-dB pure and SAM tones.

    tone_s: tone duration (default 0.4 s; quick 0.1 s: the plot shows 80 ms either way).
    Returns (fig, table): time_ms and rate_<kind>_<f>Hz_<fibre>_ref/_cnn (spikes/s).
    """
    tone = _pick(tone_s, quick, "fig5", "tone_s", None)
    d = compute_anf_firing_rates(weights, freqs_hz, ("pure", "sam"), (level_db_spl,), tone, mode=mode,
                                 reference_options=reference_options, cache=cache, progress=progress)
    return draw_anf_firing_rates(d)


def draw_anf_firing_rates(d, plot_window_s=metrics.ANF_FIRING_RATE_PLOT_WINDOW_S):
    """Figure of :func:`compute_anf_firing_rates` output (one row per condition); (fig, table)."""
    setup = d["setup"]
    conds = d["conditions"]
    fig, axes = _grid(setup, len(conds), row_height=2.2, sharey="row")
    sl = metrics.window_slice(plot_window_s, FS_CNN, d["time_s"].size)
    t = d["time_s"][sl] * 1e3
    table = {"time_ms": t}
    for i, (kind, f, level) in enumerate(conds):
        for j, name in enumerate(("ref", "cnn")):
            data = d[name]
            if data is None:
                continue
            ax = axes[i, j]
            for fib, y in data.items():
                if name == "cnn":
                    ax.plot(t, d["ref"][fib][i, sl], color="0.8", lw=0.6)
                ax.plot(t, y[i, sl], color=FIBRE_COLOUR[fib], lw=0.8, label=FIBRE_LABEL[fib])
                table[f"rate_{kind}_{f:.0f}Hz_{level:g}dB_{FIBRE_LABEL[fib]}_{name}"] = y[i, sl]
        label = "SAM tone" if kind == "sam" else "pure tone"
        axes[i, 0].set_ylabel(f"{f / 1e3:.2f} kHz {label}\n{level:g} dB [spikes/s]", fontsize=8)
        axes[i, 0].legend(fontsize=6.5, loc="upper right")
    for ax in axes[-1]:
        ax.set_xlabel("time [ms]")
    return _finish(fig, setup, "Fig. 5 - ANF firing rates"), table


def fig6a_anf_rate_level(weights="connear-lab", *, quick=False, freqs_hz=(1000.0, 4000.0), levels_db_spl=None,
                         mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 6a (Metric 5): rate-level curves at 1 and 4 kHz with guinea-pig and mouse data.

    levels_db_spl: default 0:10:100 (quick: 0:20:80).
    Returns (fig, table): level_db_spl and rate_<fibre>_<f>Hz_ref/_cnn (spikes/s).
    """
    levels = _pick(levels_db_spl, quick, "fig6a", "levels_db_spl", tuple(float(v) for v in range(0, 101, 10)))
    d = compute_rate_level(weights, freqs_hz, levels, mode=mode, reference_options=reference_options,
                           cache=cache, progress=progress)
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
    d = compute_synchrony_level(weights, freqs_hz, levels, tone, mode=mode, reference_options=reference_options,
                                cache=cache, progress=progress)
    return draw_synchrony_level(d)


def draw_synchrony_level(d):
    """Figure of :func:`compute_synchrony_level` output; returns (fig, table)."""
    return _draw_level_curves(d, _SYNCHRONY_DATA, f"vector strength at {d['fm_hz']:g} Hz",
                              "Fig. 6b - ANF synchrony-level curves", "vs", ylim=(0, 1))


# ============================================================================================
# the headless run


def tone_response(freq_hz=1000.0, level_db_spl=70.0, cf=(250.0, 500.0, 1000.0, 2000.0, 4000.0),
                  engine=None):
    """BM velocity, IHC potential and HSR/MSR/LSR rates of verhulst2018 for a tone.

    engine: verhulst2018 engine (None: pipeline.ENGINE_FOR_COMPARISON, "exact"; or "fast").
    Returns (figure, table) where table maps column names to 1-D arrays (time, responses).
    """
    from ..pipeline import ENGINE_FOR_COMPARISON, check_engine

    engine = check_engine(ENGINE_FOR_COMPARISON if engine is None else engine)
    plt = _pyplot()

    import verhulst2018

    fs = verhulst2018.FS
    x = stimuli.pure_tone(freq_hz, level_db_spl, 0.05, fs, ramp_s=5e-3)
    x = stimuli.add_silence(x, fs, 0.01, 0.02)
    out = verhulst2018.simulate(x, fs=fs, cf=np.asarray(cf), outputs=("v", "ihc", "anfh", "anfm", "anfl"),
                              engine=engine, progress=False)
    t = np.arange(x.size) / fs
    t_an = np.arange(out.anfh.shape[0]) / out.fs_anf
    k = int(np.argmin(np.abs(out.cf - freq_hz)))
    fig, ax = plt.subplots(4, 1, figsize=(7, 8), sharex=True)
    ax[0].plot(t * 1e3, x * 1e3, color="0.3")
    ax[0].set_ylabel("pressure [mPa]")
    for i, f in enumerate(out.cf):
        ax[1].plot(t * 1e3, out.v[:, i] * 1e6, lw=0.8, label=f"{f:.0f} Hz")
    ax[1].set_ylabel("BM velocity [µm/s]")
    ax[1].legend(fontsize=7, ncol=3, title="CF", title_fontsize=7)
    ax[2].plot(t * 1e3, out.ihc[:, k] * 1e3, color="C3")
    ax[2].set_ylabel(f"IHC potential [mV]\nCF {out.cf[k]:.0f} Hz")
    for name, label in (("anfh", "HSR"), ("anfm", "MSR"), ("anfl", "LSR")):
        ax[3].plot(t_an * 1e3, getattr(out, name)[:, k], lw=0.8, label=label)
    ax[3].set_ylabel("firing rate [spikes/s]")
    ax[3].set_xlabel("time [ms]")
    ax[3].legend(fontsize=8)
    fig.suptitle(f"verhulst2018: {freq_hz:.0f}-Hz tone at {level_db_spl:.0f} dB SPL")
    fig.tight_layout()
    table = {"time_s": t, "pressure_pa": x}
    for i, f in enumerate(out.cf):
        table[f"vbm_{f:.0f}Hz_m_per_s"] = out.v[:, i]
    table[f"vihc_{out.cf[k]:.0f}Hz_V"] = out.ihc[:, k]
    return fig, table


#: The figures of the headless run, in order: name -> function(weights, quick=..., ...).
def table2_runtime(weights="connear-lab", **kwargs):
    """Table 2: run times per stage, reference vs CoNNear (see connear_helpers.paper.runtime).

    The figure run times each stage once (repeats=1); notebook 08 repeats three times.
    """
    from .runtime import table2_runtime as run

    kwargs.setdefault("repeats", 1)
    return run(weights, **kwargs)


def fig8_backpropagation(weights="connear-lab", **kwargs):
    """Fig. 8: a processing network trained through the frozen CNNs (see connear_helpers.paper.backprop).

    The figure run trains for 100 steps on the CPU (notebook 09: the full 300 steps).
    """
    from .backprop import fig8_backpropagation as run

    kwargs.setdefault("steps", 100)
    return run(weights, **kwargs)


FIGURES = {
    "fig2_ihc_excitation_patterns": fig2_ihc_excitation_patterns,
    "fig3a_ihc_ac_dc_ratio": fig3a_ihc_ac_dc_ratio,
    "fig3b_ihc_level_growth": fig3b_ihc_level_growth,
    "fig4a_anf_adaptation": fig4a_anf_adaptation,
    "fig4b_anf_onset_recovery": fig4b_anf_onset_recovery,
    "fig5_anf_firing_rates": fig5_anf_firing_rates,
    "fig6a_anf_rate_level": fig6a_anf_rate_level,
    "fig6b_anf_synchrony_level": fig6b_anf_synchrony_level,
    "table2_runtime": table2_runtime,
    "fig8_backpropagation": fig8_backpropagation,
}


def save_table(path, table):
    """Write a dict of equal- or unequal-length 1-D arrays as a CSV (shorter columns padded empty)."""
    names = list(table)
    n = max(len(v) for v in table.values())
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for i in range(n):
            f.write(",".join(_csv_cell(table[c], i) for c in names) + "\n")


def _csv_cell(column, i):
    """One CSV cell: numbers with 10 significant digits, text quoted, missing rows empty."""
    if i >= len(column):
        return ""
    value = column[i]
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{value:.10g}"
    text = str(value).replace('"', '""')
    return f'"{text}"' if any(ch in text for ch in ',"\n') else text


def run_all(out, weights="connear-lab", quick=False, mode="full", names=None, cache=None, progress=True):
    """Draw figures and write <name>.png and <name>.csv into the folder out.

    names: figure names (keys of FIGURES; default all). cache: SimulationCache (default: memory
    plus the on-disk folder pipeline.default_cache_dir()). Returns dict name -> (png path, csv path, seconds).
    """
    import matplotlib.pyplot as plt
    from tqdm.auto import tqdm

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = list(FIGURES) if names is None else list(names)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {unknown}; choose from {', '.join(FIGURES)}")
    if cache is None:
        cache = pipeline.DEFAULT_CACHE.with_directory(pipeline.default_cache_dir())
    written = {}
    bar = tqdm(names, desc="figures", unit="figure", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        t0 = time.perf_counter()
        fig, table = FIGURES[name](weights, quick=quick, mode=mode, cache=cache, progress=False)
        png, csv = out / f"{name}.png", out / f"{name}.csv"
        fig.savefig(png, dpi=120)
        plt.close(fig)
        save_table(csv, table)
        written[name] = (png, csv, time.perf_counter() - t0)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="connear-figures",
        description="Regenerate the CoNNear paper's figures (PNG + the numbers behind each as CSV).")
    parser.add_argument("--out", default="figures", help="output folder (default: figures/)")
    parser.add_argument("--quick", action="store_true",
                        help="reduced version: fewer levels and frequencies, shorter tones (a few minutes)")
    parser.add_argument("--weights", default="connear-lab",
                        help="CoNNear weights: connear-lab (default), official, or a folder of weight files")
    parser.add_argument("--mode", choices=MODES, default="full",
                        help="full: verhulst2018 TL cochlea (default); light: CoNNear cochlea")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=list(FIGURES),
                        help="draw only these figures")
    parser.add_argument("--no-cache", action="store_true",
                        help=f"do not read or write the on-disk simulation cache ({pipeline.default_cache_dir()})")
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    cache = pipeline.DEFAULT_CACHE.with_directory(None if args.no_cache else pipeline.default_cache_dir())
    t0 = time.perf_counter()
    written = run_all(args.out, args.weights, args.quick, args.mode, args.only, cache)
    out = pathlib.Path(args.out).resolve()
    for name, (_, _, seconds) in written.items():
        print(f"  {name}.png/.csv  ({seconds:.0f} s)")
    print(f"Wrote {len(written)} figure(s) with their numbers to {out} in {time.perf_counter() - t0:.0f} s")
    if cache.directory is not None:
        print(f"Simulations are cached in {cache.directory} (delete it to recompute; --no-cache skips it)")
    print('Open the lab in JupyterLab:  pip install -e ".[lab]" && jupyter lab notebooks/')
    return 0


if __name__ == "__main__":
    sys.exit(main())
