"""Fig. 4: ANF adaptation to a 1-s tone (4a) and the recovery of the onset peak (4b)."""
from __future__ import annotations

import numpy as np

from ..pipeline import RunOptions
from ..analysis.evaluations import (
    _pick,
    compute_adaptation,
    compute_onset_recovery,
)
from ..constants import FIBRE_LABEL
from .plotting import (
    FIBRE_COLOUR,
    _finish,
    _grid,
)


def fig4a_anf_adaptation(weights="connear-lab", *, quick=False, freq_hz=1000.0, level_db_spl=70.0,
                         tone_s=None, mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 4a: adaptation of HSR/MSR/LSR rates to a 1-kHz, 70-dB tone of 1 s (quick: 0.3 s).

    Returns (fig, table): time_s (from tone onset), rate_<fibre>_ref/_cnn (spikes/s), and
    adaptation_ratio_ref/_cnn (rate at the probe time / rate at the tone end, per fibre H/M/L).
    """
    tone = _pick(tone_s, quick, "fig4a", "tone_s", 1.0)
    options = RunOptions(weights, mode, reference_options=reference_options, cache=cache, progress=progress)
    d = compute_adaptation(freq_hz, level_db_spl, tone, options=options)
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
    options = RunOptions(weights, mode, reference_options=reference_options, cache=cache, progress=progress)
    d = compute_onset_recovery(intervals, freq_hz, options=options)
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
