"""Learning curves of CPU training runs: validation loss, and the judged sets' scores, against CPU-hours.

A run of :mod:`.fit` writes ``history.csv`` (step, wall-clock seconds since the run began, summed
over its sessions, the training loss's moving average, the validation loss on held-out bank
segments, the learning rate). Runs are pinned to one core, so wall-clock is CPU time. This module
reads those files and draws one panel per run (the validation loss is in each stage's own CNN
units, so stages are not compared on one axis), with

* the validation loss and the training loss (moving average) against CPU-hours, log scale;
* the best validation loss so far (the weights a run keeps);
* the scores of judged weight sets (``manifest.json`` of :mod:`.weight_set`: the stage's score,
  1 = the bar of issue #11, lower is better) at the CPU-hours where their weights were the run's
  best, on a second axis.

It also prints a table: per run, CPU-hours, steps, best validation loss, and how much the best
validation loss fell in the last CPU-hour and in the hour before (the trend that says whether more
CPU time on the same recipe is worth it).

The score history of the shipped sets (:func:`set_history`, :func:`plot_set_history`) is the other
view: per model, the set's score (1 = the bar) against the CPU-hours the model had been trained
for, all training runs together, read from the sets' manifests alone (run folders are not kept
in the repository; every shipped set's manifest is, in git).

Command line::

    python -m connear_helpers.training.curves RUN [RUN ...] [--manifest FILE ...] [--out curves.png]
    python -m connear_helpers.training.curves --history [MANIFEST ...] [--out scores.png]

``--history`` without files reads every committed version of ``connear_weights/manifest.json``
from the git history of the current folder.
"""
from __future__ import annotations

import argparse
import csv
import json
import pathlib
import subprocess

import numpy as np

from .weight_set import STAGES

__all__ = ["read_run", "best_so_far", "trend", "score_points", "plot_learning_curves", "format_table",
           "model_cpu_hours", "set_history", "manifests_from_git", "plot_set_history", "format_history"]

_COLUMNS = ("step", "wall_s", "train_loss", "val_loss", "lr")


def read_run(run_dir):
    """One run folder of :mod:`.fit` as a dict: stage, architecture, name, hours_before (the CPU-hours
    of the shipped model a fine-tune started from, ``init_from`` in state.json; 0 for a run from
    scratch), and arrays step, cpu_hours (the run's own), train_loss, val_loss, lr (one entry per
    validation, in order of steps).

    Raises FileNotFoundError (naming the file) if the folder has no history.csv or state.json, and
    ValueError if the history is empty (the run has not validated yet)."""
    run = pathlib.Path(run_dir)
    state_path, hist_path = run / "state.json", run / "history.csv"
    for p in (state_path, hist_path):
        if not p.is_file():
            raise FileNotFoundError(f"{p} not found: give a run folder of connear_helpers.training.fit")
    state = json.loads(state_path.read_text())
    rows = []
    with open(hist_path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{hist_path}: columns {missing} missing (not a history of connear_helpers.training.fit)")
        for r in reader:
            rows.append([float(r[c]) if r[c] not in ("", "None") else np.nan for c in _COLUMNS])
    if not rows:
        raise ValueError(f"{hist_path} has no rows yet: the run writes one at each validation")
    a = np.asarray(rows, dtype=float)
    a = a[np.argsort(a[:, 0], kind="stable")]
    lineage = state.get("init_from") or {}
    return {"name": run.name, "path": str(run), "stage": state.get("stage", run.name),
            "hours_before": float(lineage.get("cpu_hours_total") or 0.0),
            "architecture": state.get("architecture", "?"), "step": a[:, 0].astype(np.int64),
            "cpu_hours": a[:, 1] / 3600.0, "train_loss": a[:, 2], "val_loss": a[:, 3], "lr": a[:, 4]}


def best_so_far(val_loss):
    """The running minimum of a validation-loss series (NaN entries keep the previous best)."""
    v = np.asarray(val_loss, dtype=float)
    out = np.minimum.accumulate(np.where(np.isnan(v), np.inf, v))
    return np.where(np.isinf(out), np.nan, out)


def trend(run, hours=1.0):
    """Relative fall of the best validation loss over the last ``hours`` CPU-hours and over the
    ``hours`` before them: (last, previous), e.g. 0.05 = 5 % lower at the end of the window than
    at its start; NaN where the run is shorter than the window."""
    t, best = run["cpu_hours"], best_so_far(run["val_loss"])
    end = t[-1]

    def at(time):
        i = np.searchsorted(t, time, side="right") - 1
        return best[i] if i >= 0 else np.nan

    def fall(t0, t1):
        if t0 < t[0]:
            return float("nan")
        b0, b1 = at(t0), at(t1)
        return float(1.0 - b1 / b0)

    return fall(end - hours, end), fall(end - 2 * hours, end - hours)


def score_points(manifest_paths, runs):
    """Scores of judged weight sets, placed on the runs' time axes.

    manifest_paths: manifest.json files of weight sets (:mod:`.weight_set`); runs: results of
    :func:`read_run`. Returns {run name: [(cpu_hours, score, version), ...]}: a set's model is
    placed on the run that trained it, at the run's CPU-hours of the model's best step (the step
    whose weights it holds): the run of the same stage and architecture whose history has that
    step with the model's best validation loss (``best_validation_loss_cnn_units``; where a
    manifest lacks it, the step alone decides). A model trained by no given run is left out."""
    out = {r["name"]: [] for r in runs}
    manifests = [(pathlib.Path(p), json.loads(pathlib.Path(p).read_text())) for p in manifest_paths]
    versions = [str(m.get("version", p.parent.name)) for p, m in manifests]
    for (path, m), version in zip(manifests, versions):
        if versions.count(version) > 1:  # e.g. a candidate judged beside the shipped set of its day
            version = f"{version} ({path.parent.name})"
        scores = m.get("scores") or {}
        for stage, entry in (m.get("models") or {}).items():
            if stage not in scores:
                continue
            training = entry.get("training") or {}
            best_step = training.get("best_step")
            for r in runs:
                if r["stage"] != stage or r["architecture"] != entry.get("architecture"):
                    continue
                at_best = np.flatnonzero(r["step"] == best_step)
                if not at_best.size:
                    continue  # the history lacks the step: another run's weights
                best_val = training.get("best_validation_loss_cnn_units")
                if best_val is not None and not np.isclose(r["val_loss"][at_best[0]], best_val, rtol=1e-9, atol=0.0):
                    continue  # a run that passed the same step count with other weights
                out[r["name"]].append((float(r["cpu_hours"][at_best[0]]), float(scores[stage]), str(version)))
    return out


def _point_labels(points):
    """Labels of score points [(cpu_hours, score, version), ...]: a model kept in several sets is one
    point, labelled with its sets ("a", "a, b", or "a to z" for three or more): {(hours, score): label}."""
    versions = {}
    for h, s, v in points:
        vs = versions.setdefault((h, s), [])
        if v not in vs:
            vs.append(v)
    return {k: ", ".join(vs) if len(vs) <= 2 else f"{vs[0]} to {vs[-1]}" for k, vs in versions.items()}


def plot_learning_curves(runs, points=None, ncols=3):
    """Figure with one panel per run (results of :func:`read_run`); points: :func:`score_points`.

    The time axis is the model's CPU-hours: a fine-tune's curve starts at the CPU-hours of the
    shipped model it started from (``hours_before``), so that a model's runs line up."""
    import matplotlib.pyplot as plt

    points = points or {}
    n = len(runs)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False, layout="constrained")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, r in zip(axes.flat, runs):
        before = r.get("hours_before", 0.0)
        t = r["cpu_hours"] + before
        ax.plot(t, r["train_loss"], color="0.6", lw=0.8, label="training (moving average)")
        ax.plot(t, r["val_loss"], color="C0", lw=0.8, alpha=0.6, label="validation")
        ax.plot(t, best_so_far(r["val_loss"]), color="C0", lw=1.8, label="best validation")
        ax.set_yscale("log")
        # two lines: one line was wider than a panel and was cut at the figure's edge
        ax.set_xlabel("CPU-hours of the model (one core)" if not before else
                      f"CPU-hours of the model (one core)\n{before:.2f} h before this run", fontsize=8 if before else None)
        ax.set_ylabel("L1 loss (CNN units)")
        ax.set_title(f"{r['name']} ({r['architecture']}, {r['step'][-1]} steps)",
                     fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        pts = points.get(r["name"]) or []
        if pts:
            ax2 = ax.twinx()
            ax2.plot([p[0] + before for p in pts], [p[1] for p in pts], "o--", color="C3", ms=5, label="set score")
            for (h, s), label in _point_labels(pts).items():
                ax2.annotate(label, (h + before, s), textcoords="offset points", xytext=(3, 3), fontsize=7,
                             color="C3")
            ax2.axhline(1.0, color="C3", lw=0.8, ls=":")
            ax2.set_ylabel("score (1 = bar of #11)", color="C3")
            ax2.set_ylim(0, 1.2 * max([1.0] + [p[1] for p in pts]))  # room for the labels above the points
    axes.flat[0].legend(fontsize=7, loc="lower left")
    return fig


def format_table(runs):
    """Text table: per run, CPU-hours (the run's own, and before it: see :func:`read_run`), steps,
    best validation loss and its fall in the last two CPU-hours (see :func:`trend`)."""
    lines = [f"{'run':<14}{'architecture':<16}{'CPU-h':>7}{'before':>8}{'steps':>8}{'best val':>11}"
             f"{'fall, last h':>14}{'hour before':>13}"]
    for r in runs:
        falls = ["-" if np.isnan(x) else f"{100 * x:.1f} %" for x in trend(r)]
        lines.append(f"{r['name']:<14}{r['architecture']:<16}{r['cpu_hours'][-1]:>7.2f}"
                     f"{r.get('hours_before', 0.0):>8.2f}{r['step'][-1]:>8d}"
                     f"{best_so_far(r['val_loss'])[-1]:>11.4g}{falls[0]:>14}{falls[1]:>13}")
    return "\n".join(lines)


def model_cpu_hours(entry):
    """CPU-hours of training behind a set's model (one ``models`` entry of a manifest), up to the
    weights it holds: the hours of the model it was fine-tuned from (``init_from``, all runs before)
    plus its own run's hours at the kept checkpoint (``cpu_hours_at_best``; ``cpu_hours``, the whole
    run, in sets that predate that field). NaN if the manifest has no training hours."""
    training = entry.get("training") or {}
    own = training.get("cpu_hours_at_best")
    if own is None:
        own = training.get("cpu_hours")
    if own is None:
        return float("nan")
    before = (training.get("init_from") or {}).get("cpu_hours_total") or 0.0
    return float(before) + float(own)


def set_history(manifests):
    """The score history of weight sets: manifests is a list of manifest dicts (or paths) in order.

    Returns {stage: [(cpu_hours, score, version), ...]} (:func:`model_cpu_hours`; the score of
    :mod:`.weight_set`, 1 = the bar of issue #11). A model kept from one set to the next appears
    at the same CPU-hours again (with the score measured for that set: the cochlea's light-mode
    score also moves with the IHC and ANF-H it is chained with)."""
    out = {}
    for m in manifests:
        if not isinstance(m, dict):
            m = json.loads(pathlib.Path(m).read_text())
        scores = m.get("scores") or {}
        for stage, entry in (m.get("models") or {}).items():
            if stage in scores:
                out.setdefault(stage, []).append((model_cpu_hours(entry), float(scores[stage]),
                                                  str(m.get("version", "?"))))
    return out


def manifests_from_git(path="connear_weights/manifest.json", repo="."):
    """Every committed version of the manifest at ``path`` in the git repository ``repo``, oldest
    first, as dicts. Raises RuntimeError (with git's message) outside a git checkout."""
    def git(*args):
        r = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"git {' '.join(args)} failed: {r.stderr.strip()} (run from a git clone of "
                               "connear-lab, or give the manifest files)")
        return r.stdout

    commits = git("log", "--format=%H", "--", path).split()[::-1]
    if not commits:
        raise RuntimeError(f"no commit touches {path} in {repo}")
    return [json.loads(git("show", f"{c}:{path}")) for c in commits]


def plot_set_history(history):
    """Figure with one panel per model: the sets' scores against the model's CPU-hours
    (:func:`set_history`), the bar (score 1) dotted; points labelled with the set versions."""
    import matplotlib.pyplot as plt

    stages = [s for s in STAGES if s in history] + [s for s in history if s not in STAGES]
    ncols = min(3, len(stages))
    nrows = -(-len(stages) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False,
                             layout="constrained")
    for ax in axes.flat[len(stages):]:
        ax.set_visible(False)
    for ax, stage in zip(axes.flat, stages):
        pts = history[stage]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color="C3", ms=4, lw=1)
        for (h, s), label in _point_labels(pts).items():
            ax.annotate(label, (h, s), textcoords="offset points", xytext=(3, 3), fontsize=6, color="C3")
        ax.axhline(1.0, color="k", lw=0.8, ls=":")
        ax.set_ylim(0, 1.1 * max([1.2] + [p[1] for p in pts]))
        ax.margins(x=0.3)
        ax.set_xlabel("CPU-hours of the model (one core)")
        ax.set_ylabel("score (1 = bar; lower is better)")
        ax.set_title({"cochlea": "cochlea (light-mode score)"}.get(stage, stage), fontsize=9)
        ax.grid(True, alpha=0.3)
    return fig


def format_history(history):
    """Text table of :func:`set_history`: per model and set, CPU-hours and score."""
    lines = [f"{'model':<9}{'set':<16}{'CPU-h':>7}{'score':>8}"]
    for stage, pts in history.items():
        for h, s, v in pts:
            lines.append(f"{stage:<9}{v:<16}{h:>7.2f}{s:>8.3f}")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m connear_helpers.training.curves",
                                description="learning curves of CPU training runs (connear_helpers.training.fit)")
    p.add_argument("runs", nargs="*", help="run folders (each with history.csv and state.json)")
    p.add_argument("--manifest", nargs="*", default=[], help="manifest.json files of judged weight sets")
    p.add_argument("--history", nargs="*", default=None, metavar="MANIFEST",
                   help="draw the sets' scores against each model's CPU-hours instead (no run folders); "
                        "without files: every committed connear_weights/manifest.json of this git clone")
    p.add_argument("--out", default="learning_curves.png", help="figure file to write (default learning_curves.png)")
    args = p.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    if args.history is not None:
        if args.runs:
            p.error("--history draws the sets' scores from manifests: give no run folders with it")
        history = set_history(args.history or manifests_from_git())
        print(format_history(history))
        fig = plot_set_history(history)
        fig.savefig(args.out, dpi=120)
        print(f"wrote {args.out}")
        return
    if not args.runs:
        p.error("give run folders of connear_helpers.training.fit, or --history")
    runs = [read_run(r) for r in args.runs]
    print(format_table(runs))
    fig = plot_learning_curves(runs, score_points(args.manifest, runs))
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
