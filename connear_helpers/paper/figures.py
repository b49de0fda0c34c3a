"""The headless figure run, and the registry of the paper's figures (one module per figure: fig2 ... fig6).

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
from ..analysis import stimuli
from .fig2 import fig2_ihc_excitation_patterns
from .fig3 import fig3a_ihc_ac_dc_ratio, fig3b_ihc_level_growth
from .fig4 import fig4a_anf_adaptation, fig4b_anf_onset_recovery
from .fig5 import fig5_anf_firing_rates
from .fig6 import fig6a_anf_rate_level, fig6b_anf_synchrony_level
from ..pipeline import MODES
from .plotting import _pyplot


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
