"""Build a training set and train CoNNear stages in one command, on one machine, to a time budget.

Two recipes. ``--recipe cpu`` (the default) is this project's, for the lab's CPU-sized
architectures on one CPU core (:mod:`connear_helpers.training.cpu_recipe`)::

    python -m connear_helpers.training.train_all --out WORK [--minutes 60] [--ship connear_weights]

``--recipe paper`` is the whole method of the paper in one call: reference simulations of a speech corpus
(:mod:`connear_helpers.training.datasets`, on a Dask cluster), then one model per stage
(:mod:`connear_helpers.training.train`), then a weight folder in the ``connear-lab`` format that
``weights=`` accepts, with each model's training facts in its manifest::

    python -m connear_helpers.training.train_all --out DIR --n-sentences 150 \\
        [--stages cochlea ihc anfh anfm anfl] [--corpus tts|WAV_FOLDER] [--workers 16] \\
        [--train-minutes 5] [--parallel] [--epochs 50] [--cfs all|N] [--cochlea-model cochlea_small]

    DIR/data/                 the dataset (resumable: a second call reuses finished shards)
    DIR/train/<stage>/        each stage's training run (checkpoints, history, facts)
    DIR/weights/              <stage>.weights.h5 + manifest.json (file, sha256, architecture,
                              data, epochs, wall-clock, hardware per model)

``--parallel`` trains all stages at once, one process each, sharing the machine's GPU (each
process gets an equal share of its memory); without it they train one after another.
Judge the result with ``python -m connear_helpers.training.evaluate --weights DIR/weights`` before
copying the folder to ``connear_weights/`` (see that folder's README).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

from .datasets import STAGES

__all__ = ["train_all", "write_weight_set"]

MANIFEST_FORMAT = "connear-lab-weights/1"


def write_weight_set(run_dirs, out_dir, command=None):
    """Collect trained stages into a ``connear-lab`` weight folder.

    run_dirs: {stage: training output folder of :func:`connear_helpers.training.train.train`}.
    out_dir: the weight folder to write (created). Returns the manifest (dict), also written as
    ``out_dir/manifest.json``: {"format", "created", "command", "models": {stage: {"file",
    "sha256", "architecture", "data", "training", "wall_clock_s", "hardware", "software"}}}.
    """
    from ..cnn.weights import file_sha256

    out = pathlib.Path(out_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    models = {}
    for stage, run in run_dirs.items():
        run = pathlib.Path(run)
        facts_path = run / f"{stage}.training.json"
        if not facts_path.is_file():
            raise FileNotFoundError(f"{facts_path} is missing: the {stage!r} training did not finish")
        facts = json.loads(facts_path.read_text())
        src = run / facts["weights_file"]
        dst = out / f"{stage}.weights.h5"
        shutil.copyfile(src, dst)
        sha = file_sha256(dst)
        if sha != facts["weights_sha256"]:
            raise RuntimeError(f"{dst} does not match the sha256 its training recorded; copy it again")
        t = facts["training"]
        models[stage] = {
            "file": dst.name,
            "sha256": sha,
            "architecture": facts["model"]["name"],  # a connear_helpers.cnn.architectures.build_model name
            "model": facts["model"],
            "data": {k: v for k, v in facts["data"].items() if k != "dir"},
            "training": {k: t[k] for k in ("loss", "optimizer", "learning_rate", "batch_size", "epochs_run",
                                           "best_epoch", "best_val_loss_cnn_units", "best_val_mae_si", "si_unit",
                                           "stopped_early", "stopped_at_time_limit", "small", "mixed_precision")
                         if k in t},
            "wall_clock_s": facts["wall_clock_s"],
            "hardware": facts["hardware"],
            "software": facts["software"],
        }
    manifest = {
        "format": MANIFEST_FORMAT,
        "created": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command,
        "models": models,
    }
    tmp = out / ".manifest.tmp.json"
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, out / "manifest.json")
    return manifest


def _gpu_share_env(n_processes):
    """Environment that lets n processes share one GPU (JAX: a memory fraction each; TF: growth)."""
    env = dict(os.environ)
    env.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", f"{0.9 / max(n_processes, 1):.3f}")
    env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    return env


def train_all(out_dir, n_sentences, stages=STAGES, corpus="tts", workers=None, cf_index=None,
              epochs=50, train_minutes=None, parallel=False, small=False, seed=0, reference="verhulst2018",
              scheduler=None, train_options=None, cochlea_model="cochlea", progress=True):
    """Dataset, training and weight folder in one call; returns the weight manifest (dict).

    out_dir: work folder (see the module doc). n_sentences: recordings of the corpus to simulate.
    stages: any of "cochlea", "ihc", "anfh", "anfm", "anfl". corpus: "tts" or a WAV folder.
    workers / scheduler: Dask LocalCluster size, or a scheduler address / "synchronous".
    cf_index: CFs for the dataset (default the 201 CoNNear CFs). epochs, train_minutes: per
    stage (the time limit stops a stage after the step that passes it). parallel: one process
    per stage, all at once. small: smoke run (2 epochs, few sequences). reference: see
    :func:`connear_helpers.training.datasets.build_dataset`. train_options: more keyword arguments for
    :func:`connear_helpers.training.train.train`; with parallel, only those with a command-line option of
    ``python -m connear_helpers.training.train`` (e.g. batch_size, max_sequences, no_tensorboard=True).
    cochlea_model: the cochlea architecture to train, "cochlea" (the paper's, 11.7 M
    parameters) or "cochlea_small" (this project's, 3.7 M; see connear_helpers.cnn.architectures).
    """
    from . import datasets
    from . import train

    stages = list(stages)
    unknown = [s for s in stages if s not in STAGES]
    if unknown or not stages:
        raise ValueError(f"stages must be a non-empty list of {STAGES}, got {stages!r}")
    if cochlea_model not in ("cochlea", "cochlea_small"):
        raise ValueError(f"cochlea_model must be 'cochlea' or 'cochlea_small', got {cochlea_model!r}")
    out = pathlib.Path(out_dir).expanduser().resolve()
    data_dir, runs_dir = out / "data", out / "train"
    t0 = time.time()
    datasets.build_dataset(data_dir, stages, corpus=corpus, n_sentences=n_sentences, seed=seed, cf_index=cf_index,
                           scheduler=scheduler, workers=workers, reference=reference, progress=progress)
    t_data = time.time() - t0
    if progress:
        print(f"dataset ready in {t_data:.0f} s: {data_dir}", file=sys.stderr)
    run_dirs = {s: runs_dir / s for s in stages}
    opts = dict(train_options or {})
    if parallel and len(stages) > 1:
        procs = {}
        env = _gpu_share_env(len(stages))
        for s in stages:
            cmd = [sys.executable, "-m", "connear_helpers.training.train", s, "--data", str(data_dir), "--out",
                   str(run_dirs[s]), "--epochs", str(epochs), "--seed", str(seed)]
            if train_minutes is not None:
                cmd += ["--minutes", str(train_minutes)]
            if small:
                cmd.append("--small")
            if s == "cochlea" and cochlea_model != "cochlea":
                cmd += ["--model", cochlea_model]
            if run_dirs[s].joinpath("checkpoints", "last.keras").exists():
                cmd.append("--resume")
            for k, v in opts.items():  # keyword arguments of train() that have a command-line option
                flag = f"--{k.replace('_', '-')}"
                if v is True:
                    cmd.append(flag)
                elif v not in (None, False):
                    cmd += [flag, str(v)]
            runs_dir.mkdir(parents=True, exist_ok=True)
            log = open(runs_dir / f"{s}.log", "w")
            procs[s] = (subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT), log)
        failed = []
        for s, (p, log) in procs.items():
            if p.wait() != 0:
                failed.append(s)
            log.close()
        if failed:
            raise RuntimeError(f"training failed for {failed}; see {runs_dir}/<stage>.log")
    else:
        for s in stages:
            resume = run_dirs[s].joinpath("checkpoints", "last.keras").exists()
            train.train(s, data_dir, run_dirs[s], epochs=epochs, small=small, seed=seed, resume=resume,
                        time_limit_s=None if train_minutes is None else 60 * train_minutes,
                        verbose="auto" if progress else 0,
                        **({"model_name": cochlea_model} if s == "cochlea" and cochlea_model != "cochlea" else {}),
                        **opts)
    command = "python -m connear_helpers.training.train_all " + " ".join(
        [f"--n-sentences {n_sentences}", "--stages " + " ".join(stages), f"--corpus {corpus}",
         f"--epochs {epochs}"] + ([f"--train-minutes {train_minutes}"] if train_minutes else [])
        + (["--parallel"] if parallel else []) + (["--small"] if small else [])
        + ([f"--cochlea-model {cochlea_model}"] if "cochlea" in stages and cochlea_model != "cochlea" else []))
    manifest = write_weight_set(run_dirs, out / "weights", command=command)
    manifest["dataset_seconds"] = round(t_data, 1)
    manifest["total_seconds"] = round(time.time() - t0, 1)
    (out / "weights" / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def _main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m connear_helpers.training.train_all",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", choices=("cpu", "paper"), default="cpu",
                    help="cpu: TL bank + CPU-sized architectures, one stage after another (default); "
                         "paper: speech dataset + the paper's architectures (for a GPU)")
    ap.add_argument("--out", required=True, help="work folder (cpu: bank/, runs/; paper: data/, train/, weights/)")
    ap.add_argument("--minutes", type=float, default=60.0, help="cpu recipe: training minutes per stage")
    ap.add_argument("--bank-segments", type=int, default=48, help="cpu recipe: sounds in the TL bank")
    ap.add_argument("--ship", default=None, metavar="DIR",
                    help="cpu recipe: update the weight set in DIR (e.g. connear_weights) where a stage improved")
    ap.add_argument("--n-sentences", type=int, default=None, help="paper recipe: recordings of the corpus")
    ap.add_argument("--stages", nargs="+", default=list(STAGES), choices=STAGES)
    ap.add_argument("--corpus", default="tts", help="'tts' (offline text-to-speech) or a folder of WAV files")
    ap.add_argument("--workers", type=int, default=None, help="Dask LocalCluster workers (default: one per core)")
    ap.add_argument("--scheduler", default=None, help="Dask scheduler address, or 'synchronous'")
    ap.add_argument("--cfs", default=None, help="dataset CFs: all (201), N spread evenly, or a comma list")
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--train-minutes", type=float, default=None, help="time limit per stage")
    ap.add_argument("--parallel", action="store_true", help="train the stages at once (one process each)")
    ap.add_argument("--small", action="store_true", help="smoke run: 2 epochs on few sequences")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cochlea-model", choices=("cochlea", "cochlea_small"), default="cochlea",
                    help="cochlea architecture: the paper's (11.7 M parameters) or this project's smaller one (3.7 M)")
    args = ap.parse_args(argv)
    if args.recipe == "cpu":
        from .cpu_recipe import train_all_cpu

        try:
            train_all_cpu(args.out, args.stages, args.minutes, args.bank_segments, args.seed, args.ship)
        except (ValueError, FileNotFoundError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.n_sentences is None:
        ap.error("--recipe paper needs --n-sentences")
    cfs = args.cfs
    if cfs is not None and cfs != "all":
        cfs = int(cfs) if cfs.isdigit() else [int(c) for c in cfs.split(",")]
    try:
        manifest = train_all(args.out, args.n_sentences, stages=args.stages, corpus=args.corpus,
                             workers=args.workers, scheduler=args.scheduler, cf_index=cfs, epochs=args.epochs,
                             train_minutes=args.train_minutes, parallel=args.parallel, small=args.small,
                             seed=args.seed, cochlea_model=args.cochlea_model)
    except (ValueError, RuntimeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for stage, m in manifest["models"].items():
        t = m["training"]
        print(f"{stage}: {t['epochs_run']} epochs, validation MAE {t['best_val_mae_si']} {t['si_unit']}, "
              f"{m['wall_clock_s']} s")
    print(f"weights: {pathlib.Path(args.out).expanduser().resolve() / 'weights'} "
          f"(dataset {manifest['dataset_seconds']} s, total {manifest['total_seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
