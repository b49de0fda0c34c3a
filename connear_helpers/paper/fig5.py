"""Fig. 5 (Metric 4): HSR/MSR/LSR firing rates to 70-dB pure and SAM tones."""
from __future__ import annotations


from ..analysis import metrics
from ..pipeline import RunOptions
from ..analysis.evaluations import (
    _pick,
    compute_anf_firing_rates,
)
from ..constants import FIBRE_LABEL, FS_CNN
from .plotting import (
    FIBRE_COLOUR,
    _finish,
    _grid,
)


def fig5_anf_firing_rates(weights="connear-lab", *, quick=False, freqs_hz=(1000.0, 4000.0), level_db_spl=70.0,
                          tone_s=None, mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 5 (Metric 4): HSR/MSR/LSR rates over the first 80 ms of 70-dB pure and SAM tones.

    tone_s: tone duration (default 0.4 s; quick 0.1 s: the plot shows 80 ms either way).
    Returns (fig, table): time_ms and rate_<kind>_<f>Hz_<fibre>_ref/_cnn (spikes/s).
    """
    tone = _pick(tone_s, quick, "fig5", "tone_s", None)
    options = RunOptions(weights, mode, reference_options=reference_options, cache=cache, progress=progress)
    d = compute_anf_firing_rates(freqs_hz, ("pure", "sam"), (level_db_spl,), tone,
                                 options=options)
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
