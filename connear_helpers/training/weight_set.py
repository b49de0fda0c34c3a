"""The shipped "connear-lab" weight set: assembled from training runs, judged, replaced only where better.

``python -m connear_helpers.training.weight_set --runs RUNS --out connear_weights`` takes each
stage's run folder (``RUNS/<stage>/``, :mod:`.fit`), judges the candidate models with
:func:`connear_helpers.training.evaluate.evaluate` in full and light mode, and writes the set: per stage,
the candidate replaces the shipped model only if its score improved (lower is better; a score
of 1 is the bar of issue #11):

* ihc: worst IHC excitation-pattern RMSE at 0.5/1/2 kHz, 10-90 dB (full mode) / 0.1 mV;
* anfh, anfm, anfl: max(worst rate-level RMSE / 10 spikes/s, worst synchrony-level RMSE / 0.02)
  at 1 and 4 kHz (full mode, the fibre's own curves);
* cochlea: max(light-mode excitation-pattern RMSE / 0.3 mV, light-mode HSR rate-level RMSE at
  1 kHz / 15 spikes/s), the chain judged end to end.

A set is written only if no score of the resulting set is worse than the shipped set's. Light
mode runs the IHC and ANF-H networks too, so a better IHC can worsen the cochlea's score: the
candidate cochlea, IHC and ANF-H are judged in light mode in each combination (at most 7 light
evaluations), and the set takes the combination that improves most without a worse score.

``manifest.json`` holds, per model, its file, sha256, architecture, parameter count, training
facts (recipe, steps, CPU-hours, sessions, learning rate, validation loss, the step and CPU-hours
of the kept checkpoint, start weights), the
bank it learnt from and the software, and for the set its version (the date), both evaluation
tables (the long tables of :func:`connear_helpers.training.evaluate.table_rows`), the bar and the scores,
and a one-line ``summary`` that figures and panels show beside CoNNear output.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import shutil
import sys
import tempfile

import numpy as np

FORMAT = "connear-lab-weights/2"
STAGES = ("cochlea", "ihc", "anfh", "anfm", "anfl")
_FIBRE_LABEL = {"anfh": "HSR", "anfm": "MSR", "anfl": "LSR"}


def _worst_excitation(result):
    e = result["ihc_excitation"]
    cols = [j for j, f in enumerate(e["freqs_hz"]) if any(abs(f - g) < 1 for g in (500.0, 1000.0, 2000.0))]
    rows = [i for i, level in enumerate(e["levels_db_spl"]) if 10 <= level <= 90]
    return float(np.max(np.asarray(e["rmse"])[np.ix_(rows, cols)]))


def _curve(result, metric, fibre, cfs):
    r = result[metric]
    cols = [j for j, f in enumerate(r["freqs_hz"]) if any(abs(np.log2(f / g)) < 0.1 for g in cfs)]
    return float(np.max(np.asarray(r["rmse"][fibre])[cols]))


def scores(full, light):
    """{stage: score} of evaluate() results in full and light mode (see the module docstring)."""
    out = {"ihc": _worst_excitation(full) / 0.1}
    for stage, fib in _FIBRE_LABEL.items():
        out[stage] = max(_curve(full, "anf_rate_level", fib, (1000.0, 4000.0)) / 10.0,
                         _curve(full, "anf_synchrony_level", fib, (1000.0, 4000.0)) / 0.02)
    out["cochlea"] = _cochlea_score(light, rounded=False)
    return {k: round(v, 4) for k, v in out.items()}


def _cochlea_score(light, rounded=True):
    """The cochlea's score: the light-mode chain against the bar (see the module docstring)."""
    score = max(_worst_excitation(light) / 0.3, _curve(light, "anf_rate_level", "HSR", (1000.0,)) / 15.0)
    return round(score, 4) if rounded else score


def summary(full, light):
    """One line on the set's measured error, for figures, panels and the README. The IHC potentials
    have three decimals (mV), so that an error just above the bar (0.1 mV; 0.3 mV in light mode)
    does not read as the bar itself."""
    rl = max(_curve(full, "anf_rate_level", f, (1000.0, 4000.0)) for f in _FIBRE_LABEL.values())
    sync = max(_curve(full, "anf_synchrony_level", f, (1000.0, 4000.0)) for f in _FIBRE_LABEL.values())
    passed = full["bar"]["passed"] and light["bar"]["passed"]
    return (f"measured against the reference model: IHC excitation patterns {_worst_excitation(full):.3f} mV, "
            f"ANF rate-level {rl:.1f} spikes/s, synchrony-level {sync:.3f} (worst RMSE, full mode); light mode "
            f"{_worst_excitation(light):.3f} mV, HSR rate-level {_curve(light, 'anf_rate_level', 'HSR', (1000.0,)):.1f} "
            f"spikes/s; bar of issue #11 {'passed' if passed else 'not passed'}")


def _software():
    import keras
    import scipy

    info = {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "keras": keras.__version__, "backend": keras.backend.backend()}
    if info["backend"] == "tensorflow":
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
    return info


def _recipe(state):
    """The recipe of a run in words (its loss: plain L1, or L1 plus the window-mean term, of the
    asinh-compressed values when the run compressed them; the moving average of the weights when the
    run kept one)."""
    w = state.get("mean_weight", 0.0)
    loss = "L1 loss" if not w else f"L1 loss + {w:g} x window-mean error"
    c = state.get("compress", 0.0)
    if c:
        loss += f" of C asinh(y / C), C = {c:g} CNN units"
    m = state.get("ema", 0.0)
    adam = "Adam" if not m else f"Adam, weights averaged (EMA {m:g})"
    from .fit import GAIN_DB

    lo, hi = state.get("gain_db", GAIN_DB)  # runs before the option drew from the default range
    return f"connear_helpers.training.fit ({loss}, {adam}, bank windows, random gains {lo:g} to {hi:g} dB)"


def _model_entry(stage, run):
    """Manifest entry of a run's best weights (the file is copied separately)."""
    from ..cnn.architectures import MODEL_INFO
    from ..cnn.weights import file_sha256

    state = json.loads((run / "state.json").read_text())
    path = run / f"{stage}.weights.h5"
    cpu_hours = round(state["wall_s"] / 3600, 2)
    # the run's CPU time when its kept (best) checkpoint was validated: the run may go on past it
    at_best = [row[1] for row in state.get("history", []) if row[0] == state["best_step"]]
    lineage = state.get("init_from")  # fit.init_lineage: the shipped model a fine-tune started from
    totals = {} if not lineage else {
        "steps_total": state["step"] + lineage["steps_total"],
        "cpu_hours_total": round(state["wall_s"] / 3600 + lineage["cpu_hours_total"], 2),
        "init_from": lineage}
    return {"file": f"{stage}.weights.h5", "sha256": file_sha256(path), "architecture": state["architecture"],
            "params": MODEL_INFO[state["architecture"]]["params"],
            "training": {"recipe": _recipe(state),
                         "steps": state["step"], "cpu_hours": cpu_hours, **totals,
                         "sessions": state["sessions"], "batch_size": state["batch_size"],
                         "window": state["layout"], "learning_rate_now": state["lr"],
                         "best_validation_loss_cnn_units": state["best_val"], "best_step": state["best_step"],
                         "cpu_hours_at_best": round(at_best[-1] / 3600, 2) if at_best else None,
                         "init_weights": state.get("init_weights"),
                         **({"init_grown_from": state["init_architecture"]}
                            if state.get("init_architecture") not in (None, state["architecture"]) else {})},
            "data": state["bank"]}


def _write_manifest(folder, manifest):
    tmp = folder / ".manifest.tmp.json"
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, folder / "manifest.json")


def judge(folder, quick=False, progress=True, cache=None):
    """Evaluate a weight folder in full and light mode: (full result, light result)."""
    from . import evaluate as _evaluate

    cache = _cache(cache)
    full = _evaluate.evaluate(str(folder), quick=quick, mode="full", progress=progress, cache=cache)
    light = _evaluate.evaluate(str(folder), quick=quick, mode="light", progress=progress, cache=cache)
    return full, light


def judge_light(folder, quick=False, progress=True, cache=None):
    """The cochlea's score of a weight folder: light mode (CNN cochlea -> IHC -> ANF-H) only."""
    from . import evaluate as _evaluate

    light = _evaluate.evaluate(str(folder), quick=quick, mode="light", progress=progress, cache=_cache(cache),
                               models=("ihc", "anfh"))
    return _cochlea_score(light)


def _cache(cache):
    from .. import pipeline

    if cache is None:  # the on-disk cache: the reference simulations are the same for every candidate
        cache = pipeline.DEFAULT_CACHE.with_directory(pipeline.default_cache_dir())
    return cache


#: The stages that light mode chains (CNN cochlea -> IHC -> ANF-H): the cochlea's score depends on
#: all three, every other score on its own model only.
CHAIN = ("cochlea", "ihc", "anfh")


def _subsets(items):
    """All subsets of ``items``, largest first."""
    items = list(items)
    out = [[x for k, x in enumerate(items) if mask >> k & 1] for mask in range(2 ** len(items))]
    return sorted(out, key=len, reverse=True)


def assemble(runs, out_dir="connear_weights", quick=False, progress=True, cache=None, force=False):
    """Build the candidate set from ``runs`` ({stage: run folder} or a folder of stage folders),
    judge it, choose which candidate models replace the shipped ones, and write the set.

    The full-mode score of the IHC and of each ANF model depends on that model only: a candidate
    whose own score is not better is not taken. The cochlea's score (light mode) depends on the
    CNN cochlea, IHC and ANF-H together, so a better IHC can worsen it (a shipped cochlea whose
    errors partly cancel the shipped IHC's): every combination of the candidate cochlea and the
    candidate IHC/ANF-H that improved on their own is judged in light mode, and the set takes the
    combination in which no score is worse than the shipped set's and the scores improve most
    (sum of log(shipped / new)). That combination is then judged in full and light mode for the
    manifest. Returns (manifest, changed stages). Nothing is written when no combination
    improves without worsening a score; force writes all of ``runs``.
    """
    from . import evaluate as _evaluate

    out = pathlib.Path(out_dir)
    if not isinstance(runs, dict):
        runs = {s: pathlib.Path(runs) / s for s in STAGES if (pathlib.Path(runs) / s / f"{s}.weights.h5").is_file()}
    runs = {s: pathlib.Path(r) for s, r in runs.items()}
    shipped = json.loads((out / "manifest.json").read_text()) if (out / "manifest.json").is_file() else None
    old_scores = (shipped or {}).get("scores", {})
    with tempfile.TemporaryDirectory(prefix="connear-candidate-") as tmp:
        cand = pathlib.Path(tmp)
        entries = {}

        def compose(use):
            """Write the set that takes the runs' models for the stages in ``use`` into cand."""
            for stage in STAGES:
                if stage in use:
                    shutil.copyfile(runs[stage] / f"{stage}.weights.h5", cand / f"{stage}.weights.h5")
                    entries[stage] = _model_entry(stage, runs[stage])
                elif shipped and stage in shipped["models"]:
                    shutil.copyfile(out / shipped["models"][stage]["file"], cand / f"{stage}.weights.h5")
                    entries[stage] = dict(shipped["models"][stage], file=f"{stage}.weights.h5")
                else:
                    raise FileNotFoundError(f"no {stage} model: neither a run in {sorted(runs)} nor a shipped one")
            _write_manifest(cand, {"format": FORMAT, "models": entries})

        compose(set(runs))
        full, light = judge(cand, quick, progress, cache)
        cand_scores = scores(full, light)
        if force or not all(s in old_scores for s in STAGES):
            use = set(runs)  # forced, or the first set (nothing to compare with)
        else:
            better = [s for s in runs if s != "cochlea" and cand_scores[s] < old_scores[s]]
            fixed = {s for s in better if s not in CHAIN}
            free = [s for s in CHAIN if s in runs and (s == "cochlea" or s in better)]
            options = []
            for chain_part in _subsets(free):
                use_k = fixed | set(chain_part)
                if not use_k:
                    continue
                if use_k & set(CHAIN) == set(runs) & set(CHAIN):
                    light_score = cand_scores["cochlea"]  # the chain already judged
                elif not use_k & set(CHAIN):
                    light_score = old_scores["cochlea"]  # the shipped chain
                else:
                    compose(use_k)
                    light_score = judge_light(cand, quick, progress, cache)
                    if progress:
                        print(f"light mode with the candidate {', '.join(s for s in CHAIN if s in use_k)}: "
                              f"cochlea score {light_score:.3f} (shipped {old_scores['cochlea']:.3f})", file=sys.stderr)
                new = {s: cand_scores[s] if s in use_k else old_scores[s] for s in STAGES if s != "cochlea"}
                new["cochlea"] = light_score
                if all(new[s] <= old_scores[s] * (1 + 1e-9) for s in STAGES):
                    gain = sum(np.log(old_scores[s] / new[s]) for s in STAGES)
                    if gain > 0:
                        options.append((gain, len(use_k), sorted(use_k)))
            if not options:
                if progress:
                    worse = {s: (old_scores[s], cand_scores[s]) for s in STAGES
                             if cand_scores[s] > old_scores[s] * (1 + 1e-9)}
                    print("not shipped: no combination of the candidates improves on the shipped set without "
                          "worsening a score (candidate set: "
                          + (", ".join(f"{s} {a:.3f} -> {b:.3f}" for s, (a, b) in worse.items()) or "no better score")
                          + ")", file=sys.stderr)
                return shipped, []
            use = set(max(options)[2])
            # the light-mode judgements above left cand holding the last combination they judged:
            # write the chosen one back (and judge it, unless it is the candidate set judged first)
            compose(use)
            if use != set(runs):
                full, light = judge(cand, quick, progress, cache)
        new_scores = scores(full, light)
        worse = {s: (old_scores[s], new_scores[s]) for s in STAGES
                 if s in old_scores and new_scores[s] > old_scores[s] * (1 + 1e-9)}
        if worse and not force:  # the final judgement of the chosen set must confirm the choice
            if progress:
                print("not shipped: the chosen set makes these scores worse (shipped -> candidate): "
                      + ", ".join(f"{s} {a:.3f} -> {b:.3f}" for s, (a, b) in worse.items()), file=sys.stderr)
            return shipped, []
        changed = [s for s in STAGES if s in use]
        out.mkdir(parents=True, exist_ok=True)
        for stage in STAGES:
            shutil.copyfile(cand / f"{stage}.weights.h5", out / f"{stage}.weights.h5")
    manifest = {
        "format": FORMAT,
        "name": "connear-lab",
        "version": set_version(datetime.date.today(), (shipped or {}).get("version"), bool(changed)),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "about": ("CoNNear weights trained by the connear-lab project itself on CPU-sized architectures "
                  "(connear_helpers.cnn.architectures.LAB_ARCHITECTURES), not the authors' weights"),
        "models": entries,
        "software": _software(),
        "hardware": {"cpu": _cpu(), "cores_used_for_training": 1},
        "scores": new_scores,
        "summary": summary(full, light),
        "evaluation": {"quick": bool(quick),
                       "reference_options": _evaluate.EVALUATION_REFERENCE_OPTIONS,
                       "full": {"bar": _evaluate.to_jsonable(full["bar"]), "rows": _evaluate.to_jsonable(full["rows"])},
                       "light": {"bar": _evaluate.to_jsonable(light["bar"]),
                                 "rows": _evaluate.to_jsonable(light["rows"])}},
    }
    _write_manifest(out, manifest)
    return manifest, changed


def set_version(today, shipped_version=None, new_weights=True):
    """The version of a set written today: the date (YYYY.MM.DD), with ".2", ".3", ... when the
    shipped set already has today's date and other weights, so that two sets never share a
    version; a set with the shipped weights (measured again) keeps the shipped version."""
    base = today.strftime("%Y.%m.%d")
    if not shipped_version or not (shipped_version == base or shipped_version.startswith(base + ".")):
        return base
    if not new_weights:
        return shipped_version
    n = int(shipped_version[len(base) + 1:] or 1) if shipped_version != base else 1
    return f"{base}.{n + 1}"


def _cpu():
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _main(argv=None):
    p = argparse.ArgumentParser(prog="python -m connear_helpers.training.weight_set",
                                description="Judge training runs and update the shipped connear-lab weight set.")
    p.add_argument("--runs", required=True, help="folder holding <stage>/ run folders of connear_helpers.training.fit")
    p.add_argument("--out", default="connear_weights", help="the weight set folder (default connear_weights)")
    p.add_argument("--quick", action="store_true", help="quick evaluation (indicative; not for shipping)")
    p.add_argument("--force", action="store_true", help="write the set even if no stage improved")
    a = p.parse_args(argv)
    manifest, changed = assemble(a.runs, a.out, quick=a.quick, force=a.force)
    if not changed:
        print("no stage improved on the shipped set; nothing written")
        return 0
    print(f"updated {', '.join(changed)} in {a.out} (version {manifest['version']}):\n{manifest['summary']}")
    print("scores (1 = the bar of issue #11, lower is better): "
          + ", ".join(f"{k} {v:.2f}" for k, v in manifest["scores"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
