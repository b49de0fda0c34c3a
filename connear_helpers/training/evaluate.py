"""Judge a CoNNear weight set against verhulst2018 with the paper's metrics (RMSE tables).

Command line::

    python -m connear_helpers.training.evaluate --weights connear-lab|official|DIR [--quick] [--out FILE]
                                       [--mode full|light] [--no-cache] [--models ihc anfh ...]

prints the tables and writes them as one CSV (long format: metric, fibre, stimulus, freq_hz,
level_db_spl, rmse, unit). From Python, :func:`evaluate` returns the same numbers as a dict (the
training code and the notebooks use it).

The RMSE (paper Eq. 3, :func:`connear_helpers.analysis.metrics.rmse`) compares the CNN with the reference
model on the paper's stimuli (spec §4), with the analysis of :mod:`connear_helpers.analysis.evaluations`
(no analysis code of its own):

* ``ihc_excitation`` (Suppl. Fig. 1): RMSE over the 201 CFs between the mean IHC potentials of
  the reference and the CNN, per level (0:10:90 dB SPL) and tone frequency (0.25-8 kHz), in mV;
* ``ihc_level_growth`` (Fig. 3b): RMSE over levels 0:10:100 of the RMS of the DC-removed IHC
  potential at 4 kHz, in mV;
* ``anf_firing_rate`` (Suppl. Fig. 3): RMSE over time (the whole 8100-sample cropped response)
  between the rates, per level (0:10:90), stimulus (1/4-kHz pure tone and SAM tone) and fibre
  type, in spikes/s. The paper does not document its time window (spec §8);
* ``anf_rate_level`` (Fig. 6a): RMSE over levels 0:10:100 of the rate-level curves, per fibre type
  and CF (1 and 4 kHz), in spikes/s;
* ``anf_synchrony_level`` (Fig. 6b): RMSE over levels 0:5:100 of the synchrony-level curves, per
  fibre type and CF, dimensionless.

Each CNN is judged on its own, as in the paper: the IHC CNN gets the reference BM velocity and
the ANF CNNs the reference IHC potential (``cnn_anf_input="reference"``). ``quick=True`` uses the
stimuli of the quick figures (fewer levels and frequencies, 41 of the 201 CFs, shorter ANF
tones), so its numbers are indicative only. The result also says whether the weights pass the
bar of issue #11 (:data:`BAR`).
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import pathlib
import sys
import time

import numpy as np

from .. import constants, pipeline
from ..analysis import cf as _cf
from ..analysis import evaluations, metrics

_LEVELS_10 = tuple(float(v) for v in range(0, 101, 10))

#: The stimuli of the full and the quick evaluation.
CONFIGS = {
    "full": dict(
        excitation_freqs_hz=metrics.EXCITATION_RMSE_FREQS_HZ,
        excitation_levels_db_spl=_LEVELS_10[:-1],
        excitation_cf=None,
        growth_freq_hz=4000.0,
        growth_levels_db_spl=_LEVELS_10,
        firing_freqs_hz=(1000.0, 4000.0),
        firing_levels_db_spl=_LEVELS_10[:-1],
        firing_tone_s=None,
        rate_level_levels_db_spl=_LEVELS_10,
        synchrony_levels_db_spl=tuple(float(v) for v in range(0, 101, 5)),
        synchrony_tone_s=None,
        anf_freqs_hz=(1000.0, 4000.0),
    ),
    "quick": dict(
        excitation_freqs_hz=evaluations.QUICK["fig2"]["freqs_hz"],
        excitation_levels_db_spl=evaluations.QUICK["fig2"]["levels_db_spl"],
        excitation_cf=tuple(_cf.connear_cfs()[::5]),
        growth_freq_hz=4000.0,
        growth_levels_db_spl=evaluations.QUICK["fig3b"]["levels_db_spl"],
        firing_freqs_hz=(1000.0, 4000.0),
        firing_levels_db_spl=(70.0,),
        firing_tone_s=evaluations.QUICK["fig5"]["tone_s"],
        rate_level_levels_db_spl=evaluations.QUICK["fig6a"]["levels_db_spl"],
        synchrony_levels_db_spl=evaluations.QUICK["fig6b"]["levels_db_spl"],
        synchrony_tone_s=evaluations.QUICK["fig6b"]["tone_s"],
        anf_freqs_hz=(1000.0, 4000.0),
    ),
}

#: The bar of issue #11 for the "connear-lab" weights, per mode: metric -> (what, limit, unit,
#: fibres judged, CFs judged in Hz). Full mode: TL cochlea + CoNNear IHC/ANF; light mode: CoNNear
#: cochlea + IHC + ANF. IHC excitation patterns are judged at 0.5, 1 and 2 kHz, 10-90 dB SPL.
BAR = {
    "full": {
        "ihc_excitation": ("IHC excitation-pattern RMSE at 0.5, 1 and 2 kHz, 10-90 dB SPL", 0.1, "mV", None, None),
        "anf_rate_level": ("ANF rate-level RMSE per fibre type at 1 and 4 kHz", 10.0, "spikes/s",
                           ("HSR", "MSR", "LSR"), (1000.0, 4000.0)),
        "anf_synchrony_level": ("ANF synchrony-level RMSE per fibre type at 1 and 4 kHz", 0.02, "",
                                ("HSR", "MSR", "LSR"), (1000.0, 4000.0)),
    },
    "light": {
        "ihc_excitation": ("IHC excitation-pattern RMSE at 0.5, 1 and 2 kHz, 10-90 dB SPL", 0.3, "mV", None, None),
        "anf_rate_level": ("HSR rate-level RMSE at 1 kHz", 15.0, "spikes/s", ("HSR",), (1000.0,)),
    },
}
#: Reference-model options of the evaluation (issue #11: irregularities off; the paper's integrator).
EVALUATION_REFERENCE_OPTIONS = {"irregularities": False, "subject": 1, "integrator": "legacy"}

#: What the official CoNNear weights reach (issue #4), for comparison in the printout.
OFFICIAL_REFERENCE = {
    "ihc_excitation": "about 0.03-0.04 mV (0.5, 1, 2 kHz, 0-100 dB)",
    "ihc_level_growth": "about 0.04 mV",
    "anf_rate_level": "0.4-2.1 spikes/s",
    "anf_synchrony_level": "0.001-0.003",
}

COLUMNS = ("metric", "fibre", "stimulus", "freq_hz", "level_db_spl", "rmse", "unit")
_UNITS = {"ihc_excitation": "mV", "ihc_level_growth": "mV", "anf_firing_rate": "spikes/s",
          "anf_rate_level": "spikes/s", "anf_synchrony_level": "1"}


def excitation_rmse(ref, cnn):
    """Suppl. Fig. 1: RMSE over CFs between excitation patterns, per level and tone frequency.

    ref, cnn: {tone frequency (Hz): (n_levels, n_cf) mean IHC potential in V}.
    Returns (freqs_hz (n_f,), rmse (n_levels, n_f) in mV).
    """
    return metrics.excitation_pattern_rmse_table({f: np.asarray(v) * 1e3 for f, v in ref.items()},
                                                 {f: np.asarray(v) * 1e3 for f, v in cnn.items()})


def curve_rmse(ref, cnn):
    """RMSE over levels between the curves of the reference and the CNN (rate-level,
    synchrony-level, level growth), one per row: ref, cnn (n_curves, n_levels) or (n_levels,).
    Returns (n_curves,) or float, in the unit of the curves."""
    return metrics.rmse(ref, cnn, axis=-1)


def _setup(weights, mode, family, fibres=constants.FIBRES):
    """A pipeline.Setup with the CNN models; raises WeightsError when they are missing."""
    names = ["ihc"] if family == "ihc" else list(fibres)
    if mode == "light":
        names = ["cochlea", "ihc"] + [n for n in names if n != "ihc"]
    from ..cnn import weights as cnn_weights

    models = cnn_weights.load_models(names, weights)
    return pipeline.Setup(mode, models, None, cnn_weights.weights_label(weights))


def _compare(compute, args, setup, options, **extra):
    """One metric: the reference and the CNN numbers of ``compute`` (a evaluations.compute_* function).

    Full mode: each CNN stage on its own, as the paper evaluates it (the IHC CNN on the reference
    BM velocity, the ANF CNNs on the reference IHC potential). Light mode: end to end, the CoNNear
    chain (cochlea, IHC, ANF) against the full reference model (TL cochlea, IHC, ANF).
    """
    if setup.mode == "full":
        return compute(*args, options=dataclasses.replace(options, mode="full"), setup=setup, **extra)
    cnn = compute(*args, options=dataclasses.replace(options, mode="light", cnn_anf_input="cnn"), setup=setup,
                  **extra)
    reference_only = pipeline.Setup("full", None, None, setup.label)
    ref = compute(*args, options=dataclasses.replace(options, mode="full", cnn_anf_input="reference"),
                  setup=reference_only, **extra)
    return dict(cnn, **{k: v for k, v in ref.items() if k == "ref" or k.endswith("_ref")})


#: The models a weight set is judged on (the cochlea only through the light mode).
MODELS = ("ihc",) + tuple(constants.FIBRES)


def evaluate(weights, quick=False, mode="full", reference_options=None, cache=None, progress=False,
             config=None, models=MODELS):
    """Run the paper's metrics for a weight set against verhulst2018.

    weights: "connear-lab", "official", a folder of weight files, or a dict of models/files
    ({"ihc": ..., "anfh": ..., "anfm": ..., "anfl": ...; "cochlea" for light mode}).
    quick: the reduced stimuli of CONFIGS["quick"]. mode: "full" (reference TL cochlea drives the
    IHC CNN) or "light" (CoNNear cochlea drives both). reference_options: verhulst2018 options
    (default EVALUATION_REFERENCE_OPTIONS), with the exact engine unless they name another
    ("engine": "fast"; pipeline.ENGINE_FOR_COMPARISON). cache: pipeline.SimulationCache (default the shared
    in-memory one; None options mean EVALUATION_REFERENCE_OPTIONS). config: dict overriding
    entries of the chosen CONFIGS entry. models: judge
    only these of MODELS (e.g. ("ihc",) while the ANF models are still training); the result
    then lacks the other metrics, and its bar is not passed.

    Returns a dict:
      weights, mode, quick, reference_options, seconds;
      ihc_excitation: {levels_db_spl (n_l,), freqs_hz (n_f,), n_cf, rmse (n_l, n_f) mV};
      ihc_level_growth: {freq_hz, levels_db_spl, rmse (float, mV)};
      anf_firing_rate: {levels_db_spl (n_l,), columns (12 labels "HSR-tone-1kHz", ...),
        rmse (n_l, 12) spikes/s};
      anf_rate_level, anf_synchrony_level: {levels_db_spl, freqs_hz (n_f,), rmse {"HSR": (n_f,) ...}};
      rows: the long table (list of dicts with COLUMNS); bar: :func:`check_bar` of it.
    Raises connear_helpers.cnn.weights.WeightsError when the weights are not available.
    """
    cfg = dict(CONFIGS["quick" if quick else "full"])
    if config:
        unknown = sorted(set(config) - set(cfg))
        if unknown:
            raise ValueError(f"unknown config entries {unknown}; expected some of {sorted(cfg)}")
        cfg.update(config)
    models = tuple(models)
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ValueError(f"models must be a non-empty subset of {MODELS}, got {models!r}")
    fibres = tuple(f for f in constants.FIBRES if f in models)
    t0 = time.perf_counter()
    opts = pipeline._check_options(EVALUATION_REFERENCE_OPTIONS if reference_options is None else reference_options)
    options = pipeline.RunOptions(weights, mode, reference_options=opts, cache=cache, progress=progress)
    ihc_setup = _setup(weights, mode, "ihc") if "ihc" in models else None
    anf_setup = _setup(weights, mode, "anf", fibres) if fibres else None
    from ..cnn.weights import weights_label

    out = dict(weights=weights_label(weights), mode=mode, quick=bool(quick), reference_options=opts,
               models=models)

    if ihc_setup is not None:
        # Suppl. Fig. 1: excitation patterns
        args = (cfg["excitation_freqs_hz"], cfg["excitation_levels_db_spl"], cfg["excitation_cf"])
        d = _compare(evaluations.compute_excitation_patterns, args, ihc_setup, options)
        freqs, table = excitation_rmse(d["ref"], d["cnn"])
        out["ihc_excitation"] = dict(levels_db_spl=d["levels_db_spl"], freqs_hz=freqs, n_cf=d["cf_hz"].size,
                                     rmse=table)

        # Fig. 3b: level growth
        args = (cfg["growth_freq_hz"], cfg["growth_levels_db_spl"])
        d = _compare(evaluations.compute_level_growth, args, ihc_setup, options)
        out["ihc_level_growth"] = dict(freq_hz=d["freq_hz"], levels_db_spl=d["levels_db_spl"],
                                       rmse=float(curve_rmse(d["rms_ref"] * 1e3, d["rms_cnn"] * 1e3)))
    if fibres:
        _evaluate_anf(out, cfg, mode, anf_setup, fibres, options)
    out["rows"] = table_rows(out)
    out["bar"] = check_bar(out)
    out["seconds"] = time.perf_counter() - t0
    return out


def _evaluate_anf(out, cfg, mode, anf_setup, fibres, options):
    """The ANF metrics of :func:`evaluate` for ``fibres``, into ``out``."""
    # Suppl. Fig. 3: firing rates
    args = (cfg["firing_freqs_hz"], ("pure", "sam"), cfg["firing_levels_db_spl"], cfg["firing_tone_s"])
    d = _compare(evaluations.compute_anf_firing_rates, args, anf_setup, options, fibres=fibres)
    ref, cnn = {}, {}
    levels = np.asarray(cfg["firing_levels_db_spl"], dtype=float)
    for fib in fibres:
        for kind in ("pure", "sam"):
            for f in cfg["firing_freqs_hz"]:
                rows = [i for i, (k, ff, _) in enumerate(d["conditions"])
                        if k == kind and _cf.nearest_cf_index(_cf.connear_cfs(), ff) ==
                        _cf.nearest_cf_index(_cf.connear_cfs(), f)]
                label = f"{constants.FIBRE_LABEL[fib]}-{'tone' if kind == 'pure' else 'SAM'}-{f / 1e3:g}kHz"
                ref[label] = d["ref"][fib][rows]
                cnn[label] = d["cnn"][fib][rows]
    labels, table = metrics.firing_rate_rmse_table(ref, cnn)
    out["anf_firing_rate"] = dict(levels_db_spl=levels, columns=list(labels), rmse=table)

    # Fig. 6a/b: rate-level and synchrony-level curves
    for name, compute, levels_key, extra in (
        ("anf_rate_level", evaluations.compute_rate_level, "rate_level_levels_db_spl", {}),
        ("anf_synchrony_level", evaluations.compute_synchrony_level, "synchrony_levels_db_spl",
         {"tone_s": cfg["synchrony_tone_s"]}),
    ):
        d = _compare(compute, (cfg["anf_freqs_hz"], cfg[levels_key]), anf_setup, options, fibres=fibres, **extra)
        out[name] = dict(levels_db_spl=d["levels_db_spl"], freqs_hz=d["freqs_hz"], rmse={
            constants.FIBRE_LABEL[fib]: np.atleast_1d(curve_rmse(d["ref"][fib], d["cnn"][fib]))
            for fib in fibres})


def table_rows(result):
    """The long table of an evaluate() result: list of dicts with the keys COLUMNS."""
    rows = []

    def add(metric, fibre, stimulus, freq, level, value):
        rows.append(dict(metric=metric, fibre=fibre, stimulus=stimulus, freq_hz=freq, level_db_spl=level,
                         rmse=float(value), unit=_UNITS[metric]))

    e = result.get("ihc_excitation")
    if e is not None:
        for i, level in enumerate(e["levels_db_spl"]):
            for j, f in enumerate(e["freqs_hz"]):
                add("ihc_excitation", "", "pure tone", float(f), float(level), e["rmse"][i, j])
        g = result["ihc_level_growth"]
        add("ihc_level_growth", "", "pure tone", g["freq_hz"], float("nan"), g["rmse"])
    a = result.get("anf_firing_rate", {"columns": []})
    for j, label in enumerate(a["columns"]):
        fibre, kind, khz = label.split("-")
        for i, level in enumerate(a["levels_db_spl"]):
            add("anf_firing_rate", fibre, "pure tone" if kind == "tone" else "SAM tone",
                float(khz.replace("kHz", "")) * 1e3, float(level), a["rmse"][i, j])
    for metric, stimulus in (("anf_rate_level", "pure tone"), ("anf_synchrony_level", "SAM tone")):
        r = result.get(metric, {"rmse": {}})
        for fibre, values in r["rmse"].items():
            for f, v in zip(r["freqs_hz"], values):
                add(metric, fibre, stimulus, float(f), float("nan"), v)
    return rows


def check_bar(result):
    """Whether a result passes the bar of issue #11 for its mode (BAR).

    Returns dict: passed (bool), items: list of (what, worst value, limit, unit, ok) and missing:
    the models of MODELS that were not judged (a set passes only when none is missing). The
    IHC item uses the columns 0.5, 1 and 2 kHz and levels 10-90 dB that were evaluated; the ANF
    items the fibres and CFs the mode's bar names.
    """
    bar = BAR[result.get("mode", "full")]
    items = []
    e = result.get("ihc_excitation")
    if e is not None:
        cols = [j for j, f in enumerate(e["freqs_hz"]) if any(abs(f - g) < 1 for g in (500.0, 1000.0, 2000.0))]
        rows = [i for i, level in enumerate(e["levels_db_spl"]) if 10 <= level <= 90]
        if cols and rows:
            worst = float(np.max(e["rmse"][np.ix_(rows, cols)]))
            what, limit, unit, _, _ = bar["ihc_excitation"]
            items.append((what, worst, limit, unit, worst <= limit))
    for metric in ("anf_rate_level", "anf_synchrony_level"):
        r = result.get(metric)
        if r is None or metric not in bar:
            continue
        what, limit, unit, fibres, cfs = bar[metric]
        cols = [j for j, f in enumerate(r["freqs_hz"]) if any(abs(np.log2(f / g)) < 0.1 for g in cfs)]
        judged = {fib: np.asarray(v)[cols] for fib, v in r["rmse"].items() if fib in fibres}
        if not judged or not cols:
            continue
        worst = float(max(np.max(v) for v in judged.values()))
        if len(judged) < len(fibres):
            what = what.replace("per fibre type", "for " + "/".join(judged))
        items.append((what, worst, limit, unit, worst <= limit))
    missing = [m for m in MODELS if m not in result.get("models", MODELS)]
    return dict(passed=not missing and all(ok for *_, ok in items), items=items, missing=missing)


def write_csv(result, path):
    """Write the long table of an evaluate() result as CSV (header COLUMNS); returns the path."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for row in result["rows"]:
            w.writerow({k: ("" if isinstance(v, float) and math.isnan(v) else
                            (f"{v:.6g}" if isinstance(v, float) else v)) for k, v in row.items()})
    return path


def to_jsonable(result):
    """An evaluate() result with arrays turned into lists (for json.dump, e.g. a manifest)."""
    def conv(x):
        if isinstance(x, dict):
            return {str(k): conv(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [conv(v) for v in x]
        if isinstance(x, np.ndarray):
            return conv(x.tolist())
        if isinstance(x, (np.floating, float)):
            return None if math.isnan(float(x)) else float(x)
        if isinstance(x, (np.integer, np.bool_)):
            return x.item()
        return x
    return conv(result)


def format_result(result):
    """The tables of an evaluate() result as text (str)."""
    lines = [f"CoNNear weights {result['weights']!r} vs verhulst2018 "
             f"({result['mode']} mode{', QUICK: indicative only' if result['quick'] else ''}; "
             f"reference options {result['reference_options']})", ""]
    e = result.get("ihc_excitation")
    if e is not None:
        lines.append(f"IHC excitation-pattern RMSE [mV] over {e['n_cf']} CFs (Suppl. Fig. 1); "
                     f"official weights: {OFFICIAL_REFERENCE['ihc_excitation']}")
        lines.append("level dB  " + "".join(f"{f:>10.0f}Hz" for f in e["freqs_hz"]))
        for i, level in enumerate(e["levels_db_spl"]):
            lines.append(f"{level:8.0f}  " + "".join(f"{v:12.4f}" for v in e["rmse"][i]))
        g = result["ihc_level_growth"]
        lines += ["", f"IHC level-growth RMSE at {g['freq_hz']:.0f} Hz [mV] (Fig. 3b): {g['rmse']:.4f}; "
                  f"official weights: {OFFICIAL_REFERENCE['ihc_level_growth']}", ""]
    a = result.get("anf_firing_rate")
    if a is not None:
        lines.append("ANF firing-rate RMSE [spikes/s] over the cropped response (Suppl. Fig. 3)")
        lines.append("level dB  " + "".join(f"{c:>15s}" for c in a["columns"]))
        for i, level in enumerate(a["levels_db_spl"]):
            lines.append(f"{level:8.0f}  " + "".join(f"{v:15.3f}" for v in a["rmse"][i]))
    for metric, title, fmt in (("anf_rate_level", "ANF rate-level RMSE [spikes/s] (Fig. 6a)", "{:12.3f}"),
                               ("anf_synchrony_level", "ANF synchrony-level RMSE (Fig. 6b)", "{:12.4f}")):
        r = result.get(metric)
        if r is None:
            continue
        lines += ["", f"{title}; official weights: {OFFICIAL_REFERENCE[metric]}",
                  "fibre     " + "".join(f"{f:>10.0f}Hz" for f in r["freqs_hz"])]
        for fibre, values in r["rmse"].items():
            lines.append(f"{fibre:8s}  " + "".join(fmt.format(v) for v in values))
    bar = result["bar"]
    lines += ["", f"Bar of issue #11 ({result['mode']} mode): {'PASSED' if bar['passed'] else 'NOT PASSED'}"
              + (f" (not judged: {', '.join(bar['missing'])})" if bar.get("missing") else "")]
    for what, worst, limit, unit, ok in bar["items"]:
        lines.append(f"  [{'ok' if ok else 'FAIL'}] {what}: worst {worst:.4g} (limit {limit:g} {unit})")
    if "seconds" in result:
        lines.append(f"({result['seconds']:.0f} s)")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m connear_helpers.training.evaluate",
        description="RMSEs of CoNNear weights against verhulst2018 on the paper's metrics.")
    parser.add_argument("--weights", default="connear-lab",
                        help="connear-lab (default), official, or a folder of weight files")
    parser.add_argument("--quick", action="store_true", help="reduced stimuli (indicative numbers, minutes)")
    parser.add_argument("--out", default="evaluation.csv", help="CSV file to write (default evaluation.csv)")
    parser.add_argument("--json", default=None, help="also write the whole result as JSON to this file")
    parser.add_argument("--mode", choices=pipeline.MODES, default="full",
                        help="full: TL cochlea drives the IHC CNN (default); light: CoNNear cochlea")
    parser.add_argument("--no-cache", action="store_true",
                        help=f"do not use the on-disk simulation cache ({pipeline.default_cache_dir()})")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS),
                        help="judge only these models (default all; the bar needs all)")
    parser.add_argument("--engine", choices=("exact", "fast"), default=None,
                        help="verhulst2018 engine (default exact: pipeline.ENGINE_FOR_COMPARISON; "
                             "fast: within 1 %%, not the published model's arithmetic)")
    parser.add_argument("--irregularities", choices=("off", "on"), default="off",
                        help="cochlear irregularities of the reference model (default off, as the bar of issue #11)")
    args = parser.parse_args(argv)
    options = dict(EVALUATION_REFERENCE_OPTIONS, irregularities=args.irregularities == "on")
    if args.engine is not None:
        options["engine"] = args.engine
    from ..cnn.weights import WeightsError, how_to_get

    cache = pipeline.DEFAULT_CACHE.with_directory(None if args.no_cache else pipeline.default_cache_dir())
    try:
        result = evaluate(args.weights, quick=args.quick, mode=args.mode, cache=cache, progress=True,
                          models=args.models, reference_options=options)
    except WeightsError as exc:
        print(f"error: cannot load the CoNNear weights {args.weights!r}:\n{exc}\n{how_to_get()}",
              file=sys.stderr)
        return 2
    print(format_result(result))
    path = write_csv(result, args.out)
    print(f"\nWrote {path.resolve()}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(to_jsonable(result), indent=1))
        print(f"Wrote {pathlib.Path(args.json).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
