"""The lab's weights from a CPU, in one command: TL bank, each stage in turn, then the shipped set.

    python -m connear_helpers.training.train_all --recipe cpu --out WORK [--minutes 60] [--stages ...]
        [--bank-segments 48] [--ship connear_weights]

1. ``WORK/bank``: the TL bank (:mod:`.bank`; resumable, reused when present);
2. ``WORK/runs/<stage>``: each stage trained for ``--minutes`` of wall-clock time by :mod:`.fit`
   (one process, pinned to whatever cores the command was given: run it under
   ``taskset -c 1`` to leave the other core free). A stage resumes its run when the folder holds
   one; a new run starts from the shipped set's weights of that stage when there are any (never
   from scratch then); ANF-M and ANF-L start from ANF-H's weights when neither exists; the runs
   keep a moving average of their weights (:data:`EMA`);
3. with ``--ship DIR``: :func:`.weight_set.assemble` judges the runs and updates the set in DIR
   (per stage, only where the evaluation improved).

Progress: one line per stage start with the time left in all, and the stage's own validation
lines (steps, losses, learning rate, minutes left).
"""
from __future__ import annotations

import json
import pathlib
import sys
import time

from . import bank as _bank
from . import fit as _fit

ORDER = ("ihc", "anfh", "anfm", "anfl", "cochlea")
#: Momentum of the weights' moving average per stage (:class:`.fit.FitConfig` ``ema``): about the
#: last 1000 steps (500 for the cochlea, whose steps take 5x longer). A new run only.
EMA = {"ihc": 0.999, "anfh": 0.999, "anfm": 0.999, "anfl": 0.999, "cochlea": 0.998}


def _shipped_weights(ship, stage):
    """(file, architecture) of the shipped set's model for ``stage``, or (None, None)."""
    if ship is None:
        return None, None
    path = pathlib.Path(ship) / "manifest.json"
    if not path.is_file():
        return None, None
    entry = json.loads(path.read_text()).get("models", {}).get(stage)
    if not entry:
        return None, None
    return pathlib.Path(ship) / entry["file"], entry.get("architecture")


def train_all_cpu(out_dir, stages=ORDER, minutes=60.0, bank_segments=48, seed=0, ship=None, progress=True):
    """Bank, training of ``stages`` (in the order of :data:`ORDER`), optionally the shipped set.

    Returns {stage: fit state}, plus "shipped": the stages the set took (with ``ship``).
    """
    stages = [s for s in ORDER if s in stages]
    if not stages:
        raise ValueError(f"stages must be some of {ORDER}")
    out = pathlib.Path(out_dir).expanduser()
    bank_dir, runs = out / "bank", out / "runs"
    t0 = time.time()
    _bank.build_bank(bank_dir, bank_segments, seed, progress=progress)
    states = {}
    for k, stage in enumerate(stages):
        left_min = minutes * (len(stages) - k)
        if progress:
            print(f"[{k + 1}/{len(stages)}] {stage}: {minutes:g} min; about {left_min // 60:.0f} h "
                  f"{left_min % 60:.0f} min of training left in all", file=sys.stderr, flush=True)
        run = runs / stage
        init, arch = None, None
        if not (run / "state.json").is_file():
            init, arch = _shipped_weights(ship, stage)
            if init is None and stage in ("anfm", "anfl") and (runs / "anfh" / "anfh.weights.h5").is_file():
                init, arch = runs / "anfh" / "anfh.weights.h5", json.loads(
                    (runs / "anfh" / "state.json").read_text())["architecture"]
        config = _fit.FitConfig(architecture=arch, init_weights=None if init is None else str(init), seed=seed,
                                val_every=200 if stage == "cochlea" else 500, ema=EMA[stage])
        states[stage] = _fit.fit(stage, bank_dir, run, config, minutes=minutes, progress=progress)
    if ship is not None:
        from .weight_set import assemble

        manifest, changed = assemble({s: runs / s for s in stages}, ship, progress=progress)
        states["shipped"] = changed
        if progress:
            print(f"shipped set: {'updated ' + ', '.join(changed) if changed else 'unchanged (no stage improved)'}"
                  + (f"; {manifest['summary']}" if manifest else ""), file=sys.stderr)
    if progress:
        print(f"done in {(time.time() - t0) / 3600:.2f} h", file=sys.stderr)
    return states
