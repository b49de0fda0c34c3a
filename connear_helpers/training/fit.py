"""Train one of the lab's CNNs on the TL bank, on a CPU, resumably.

The recipe (this project's, not the paper's; see issue #11 and the README):

* data: windows drawn at random from the bank (:mod:`.bank`): for the IHC and ANF models, a
  pool of reference responses derived from random (segment, gain, CF) choices, one entry
  replaced every ``refresh_every`` steps, with random window offsets (onsets included: the input
  is padded with its resting value, as :mod:`connear_helpers.cnn.inference` pads); for the cochlea,
  sound and BM velocity windows at random offsets, with a random sign (the TL model is odd in
  the sound pressure, so -p gives -v exactly);
* loss: mean absolute error in CNN units (as the paper), optionally plus ``mean_weight`` times the
  absolute error of each window's time mean, and optionally on ``compress * asinh(y / compress)``
  of both sides, which weighs relative errors above ``compress`` CNN units alike at every level
  (:func:`window_loss`); Adam; the learning rate is
  halved when the validation loss has not improved for ``lr_patience`` validations (down to
  ``min_lr``);
* weights: optionally an exponential moving average of the weights (``ema``, e.g. 0.999), which
  is what validation sees and the run keeps: single-step weights of these small batches move the
  validation loss by +-10 % from one validation to the next;
* validation: fixed batches from held-out bank segments, every ``val_every`` steps;
* stops with a checkpoint on Ctrl-C, ``kill PID`` (SIGTERM) or a file named ``STOP`` in the run
  folder (``touch RUN/STOP``; checked after every step, removed when the run has stopped). Prefer
  the file: cochlea runs stopped with SIGTERM have aborted with a glibc heap error ("corrupted size
  vs. prev_size") before their last checkpoint, 3 of 5 times, cause not found;
* checkpoints at least every ``checkpoint_minutes``: ``last.weights.h5`` and the optimiser state,
  ``best.weights.h5`` (lowest validation loss), ``state.json``; a run always resumes from them.

Command line::

    python -m connear_helpers.training.fit {cochlea,ihc,anfh,anfm,anfl} --bank DIR [DIR ...] --out DIR
        [--architecture NAME] [--minutes M] [--batch-size B] [--lr LR] [--init-weights FILE]
        [--init-architecture NAME] [--mean-weight W] [--compress C] [--ema M] [--refresh-every N]
        [--gain-db LOW HIGH]

Output folder: ``<stage>.weights.h5`` (the best weights, 1-CF model), ``state.json`` (steps,
wall-clock, learning rate, history), ``history.csv``; create ``STOP`` there to stop the run.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import json
import math
import os
import pathlib
import signal
import sys
import threading
import time

import numpy as np

from ..cnn import architectures as _models
from . import bank as _bank

STAGES = ("cochlea", "ihc", "anfh", "anfm", "anfl")
#: The lab's default architecture per stage (models.LAB_ARCHITECTURES).
DEFAULT_ARCHITECTURE = {"cochlea": "cochlea_f64k32", "ihc": "ihc_f32", "anfh": "anf_l8f16",
                        "anfm": "anf_l8f16", "anfl": "anf_l8f16"}
DEFAULT_BATCH = {"cochlea": 8, "ihc": 32, "anfh": 16, "anfm": 16, "anfl": 16}
#: Output samples per training window (20 kHz), before rounding to the architecture's multiple.
DEFAULT_WINDOW = {"cochlea": 2048, "ihc": 2048, "anfh": 2048, "anfm": 2048, "anfl": 2048}
#: Range of the random gain [dB] on the BM velocity of an IHC/ANF training pair (uniform).
GAIN_DB = (-20.0, 20.0)
from ..cnn.units import SCALE_IN, SCALE_OUT  # noqa: E402 (the CNN unit scalings, defined once)
RUN_FORMAT = "connear-lab-cpu-run/1"
STOP_FILE = "STOP"  # a file of this name in the run folder stops the run after its current step


def _family(stage):
    return "anf" if stage.startswith("anf") else stage


def window_layout(architecture, window=2048):
    """(left, W, right, input length): W >= window output samples so that the input length is a
    multiple of the architecture's stride product."""
    info = _models.MODEL_INFO[architecture]
    left, right = info["context"]
    w = int(window) + (-(left + int(window) + right)) % info["multiple"]
    return left, w, right, left + w + right


class Sampler:
    """Random training windows (x, y) in CNN units for one stage, drawn from bank segments."""

    def __init__(self, segments, stage, layout, seed=0, pool=48, channels_per_entry=16, refresh_every=20,
                 gain_db=GAIN_DB):
        """segments: list of (Bank, segment id) pairs to draw from (one or more banks)."""
        self.segments, self.stage = list(segments), stage
        self.family = _family(stage)
        self.left, self.w, self.right, self.length = layout
        self.rng = np.random.default_rng(seed)
        self.gain_db = gain_db
        self.channels_per_entry = channels_per_entry
        self.refresh_every = refresh_every
        self._calls = 0
        self.pool = []
        if self.family != "cochlea":
            for _ in range(pool):
                self.pool.append(self._entry())

    def _entry(self):
        bank, seg = self.segments[int(self.rng.integers(len(self.segments)))]
        gain = float(self.rng.uniform(*self.gain_db))
        held = bank.channels(seg)
        ch = np.sort(self.rng.choice(held, size=min(self.channels_per_entry, held.size), replace=False))
        fibres = (self.stage,) if self.family == "anf" else ()
        d = _bank.derive(bank, seg, gain, ch, fibres=fibres)
        if self.family == "ihc":
            return (d["v"] * SCALE_IN["ihc"]).astype(np.float32), (d["ihc"] * SCALE_OUT["ihc"]).astype(np.float32)
        return (d["ihc"] * SCALE_IN["anf"]).astype(np.float32), (d[self.stage] * SCALE_OUT["anf"]).astype(np.float32)

    def _window(self, x, y, ch):
        """Input window with its context (padded with the resting value) and the target window."""
        n = x.shape[-1]
        t0 = int(self.rng.integers(-self.left, max(n - self.left - self.w, -self.left + 1)))
        lo, hi = t0, t0 + self.length
        src = x[ch, max(lo, 0):min(hi, n)]
        if self.family == "ihc":
            xin = np.zeros(self.length, np.float32)
        else:
            xin = np.empty(self.length, np.float32)
            xin[: max(0, -lo)] = x[ch, 0]
            xin[max(0, -lo) + src.size:] = x[ch, -1]
        xin[max(0, -lo): max(0, -lo) + src.size] = src
        a, b = t0 + self.left, t0 + self.left + self.w
        yw = np.empty(self.w, np.float32)
        ya = y[ch, max(a, 0):min(b, n)]
        yw[: max(0, -a)] = y[ch, 0]
        yw[max(0, -a): max(0, -a) + ya.size] = ya
        yw[max(0, -a) + ya.size:] = y[ch, -1]
        return xin, yw

    def batch(self, batch_size):
        """x (B, length, 1), y (B, W, 1) [IHC/ANF] or (B, W, 201) [cochlea], float32 CNN units."""
        self._calls += 1
        if self.family == "cochlea":
            return self._cochlea_batch(batch_size)
        if self.refresh_every and self._calls % self.refresh_every == 0:
            self.pool[int(self.rng.integers(len(self.pool)))] = self._entry()
        xs, ys = [], []
        for _ in range(batch_size):
            x, y = self.pool[int(self.rng.integers(len(self.pool)))]
            xw, yw = self._window(x, y, int(self.rng.integers(x.shape[0])))
            xs.append(xw)
            ys.append(yw)
        return np.stack(xs)[..., None], np.stack(ys)[..., None]

    def _cochlea_batch(self, batch_size):
        xs, ys = [], []
        for _ in range(batch_size):
            bank, seg = self.segments[int(self.rng.integers(len(self.segments)))]
            sound = bank.array(seg, "sound20")
            v20 = bank.array(seg, "v20")
            n = sound.size
            t0 = int(self.rng.integers(-self.left, max(n - self.left - self.w, -self.left + 1)))
            xin = np.zeros(self.length, np.float32)
            lo, hi = max(t0, 0), min(t0 + self.length, n)
            xin[lo - t0: hi - t0] = sound[lo:hi]
            yw = np.zeros((self.w, 201), np.float32)
            a, b = max(t0 + self.left, 0), min(t0 + self.left + self.w, n)
            yw[a - t0 - self.left: b - t0 - self.left] = np.asarray(v20[:, a:b]).T * SCALE_OUT["cochlea"]
            sign = 1.0 if self.rng.random() < 0.5 else -1.0
            xs.append(sign * xin)
            ys.append(sign * yw)
        return np.stack(xs)[..., None], np.stack(ys)


def training_split(banks):
    """(train, validation) lists of (Bank, segment id) pairs from one or more banks.

    The validation segments are the first bank's held-out ones (:meth:`.bank.Bank.split`) only, so
    that a run's validation loss stays comparable when banks are added to it later; every
    segment of the other banks trains.
    """
    keys = [b.manifest["plan_key"] for b in banks]
    if len(set(keys)) < len(keys):
        raise ValueError("the same bank is given twice (same plan); the second copy would train on the "
                         "first one's validation segments. Give each bank once")
    train, val = banks[0].split()
    train_segments = [(banks[0], i) for i in train]
    for b in banks[1:]:
        train_segments += [(b, i) for i in b.ids]
    return train_segments, [(banks[0], i) for i in val]


def _bank_record(bank):
    engine = bank.manifest.get("reference_options", {}).get("engine")
    return dict(path_name=bank.path.name, plan_key=bank.manifest["plan_key"], segments=len(bank),
                seconds=round(bank.seconds(), 2), **({"engine": engine} if engine else {}),
                **({"cf_every": bank.cf_every} if bank.cf_every > 1 else {}))


def _atomic_json(path, obj):
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)


def _save_weights(model, path):
    tmp = path.with_name(f".{path.name}.tmp.weights.h5")
    clone = model.__class__.from_config(model.get_config())  # uncompiled: no optimiser state in the file
    clone.set_weights(model.get_weights())
    clone.save_weights(tmp)
    os.replace(tmp, path)


def _save_optimizer(opt, path):
    tmp = path.with_name(f".{path.name}.tmp.npz")
    np.savez(tmp, *[np.asarray(v) for v in opt.variables])
    os.replace(tmp, path)


def _load_optimizer(opt, model, path):
    opt.build(model.trainable_variables)
    with np.load(path) as f:
        arrays = [f[f"arr_{i}"] for i in range(len(f.files))]
    if len(arrays) != len(opt.variables):
        raise ValueError(f"{path} holds {len(arrays)} optimiser arrays, the optimiser has {len(opt.variables)}")
    for var, a in zip(opt.variables, arrays):
        var.assign(a)


def _write_run_manifest(out, stage, architecture, state):
    """manifest.json of the run folder (the connear_weights format), so that ``weights=`` and
    ``python -m connear_helpers.training.evaluate --weights RUN`` build the right architecture,
    and so that a run started from the kept weights (``--init-weights RUN/STAGE.weights.h5``)
    counts the training behind them: the steps and CPU-hours up to the kept checkpoint, plus
    what the run itself started from (:func:`init_lineage`)."""
    from ..cnn.weights import file_sha256

    path = out / f"{stage}.weights.h5"
    at_best = [row[1] for row in state["history"] if row[0] == state["best_step"]]
    hours = (at_best[-1] if at_best else state["wall_s"]) / 3600
    lineage = state.get("init_from") or {"steps_total": 0, "cpu_hours_total": 0.0}
    training = {"steps": state["best_step"], "cpu_hours": round(hours, 3),
                "steps_total": state["best_step"] + lineage["steps_total"],
                "cpu_hours_total": round(hours + lineage["cpu_hours_total"], 3)}
    _atomic_json(out / "manifest.json", {"name": f"run {out.name}", "models": {stage: {
        "file": path.name, "architecture": architecture, "sha256": file_sha256(path), "training": training}}})


def _set_entry(path):
    """(manifest, model name, entry) of the weight set whose manifest.json beside ``path`` lists
    that file (same file name and sha256); None for a file of no set."""
    from ..cnn.weights import file_sha256

    path = pathlib.Path(path).expanduser()
    try:
        manifest = json.loads((path.parent / "manifest.json").read_text())
        models = manifest["models"]
        sha = file_sha256(path)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for name, entry in models.items():
        if isinstance(entry, dict) and entry.get("file") == path.name and entry.get("sha256") == sha:
            return manifest, name, entry
    return None


def init_lineage(path):
    """What the weight file ``path`` a run starts from is, when a weight set's manifest beside it
    lists it (same file name and sha256): {"set": "NAME VERSION", "model", "steps_total",
    "cpu_hours_total"}, the training that went into it (its own ``*_total`` figures, or its run's
    figures where the set recorded none); None for a file of no set, so a fine-tuned model's
    manifest entry can count all the training behind it (weight_set)."""
    found = _set_entry(path)
    if found is None:
        return None
    manifest, name, entry = found
    tr = entry.get("training") or {}
    set_name = manifest.get("name", pathlib.Path(path).expanduser().parent.name)
    return {"set": f"{set_name} {manifest.get('version', '')}".strip(),
            "model": name,
            "steps_total": int(tr.get("steps_total", tr.get("steps", 0))),
            "cpu_hours_total": float(tr.get("cpu_hours_total", tr.get("cpu_hours", 0.0)))}


def init_set_architecture(path):
    """The architecture that the manifest of a weight set records for the weight file ``path``
    (None: a file of no set, or an entry without one). A new run from a set's file builds this
    architecture unless told otherwise, so that ``--init-weights connear_weights/anfh.weights.h5``
    continues the shipped ANF-H whatever member of the family it is."""
    found = _set_entry(path)
    return None if found is None else found[2].get("architecture")


def window_loss(mean_weight=0.0, compress=0.0):
    """The training loss: per window, mean |error| + mean_weight x |time mean of the error|.

    y_true, y_pred: (B, W, C) in CNN units; returns (B,). The second term is the error of the
    quantities the evaluation measures as time means (the mean IHC potential of an excitation
    pattern, the mean rate of a rate-level curve); the L1 term alone lets many small opposite
    errors hide a bias of the mean. mean_weight=0 is the paper's L1 loss. For C > 1 (cochlea) the
    mean term is averaged over channels.

    compress > 0 (CNN units) takes both sides through ``compress * asinh(y / compress)`` first:
    linear (the plain loss) well below ``compress``, logarithmic above it, so that an error of 10 %
    costs about ``0.1 * compress`` at any amplitude above it instead of 10 % of the amplitude (the
    plain L1 of a cochlea is dominated by loud windows, whose BM velocity is 100-1000 times that
    of a tone near threshold). 0: off.
    """
    import keras

    ops = keras.ops
    mean_weight, compress = float(mean_weight), float(compress)
    if mean_weight < 0:
        raise ValueError(f"mean_weight must be >= 0, got {mean_weight}")
    if not compress >= 0 or not math.isfinite(compress):
        raise ValueError(f"compress must be >= 0 CNN units (0: off), got {compress}")

    def loss(y_true, y_pred):
        if compress:
            y_true, y_pred = (compress * ops.arcsinh(y / compress) for y in (y_true, y_pred))
        err = y_pred - y_true
        l1 = ops.mean(ops.abs(err), axis=(1, 2))
        if mean_weight == 0.0:
            return l1
        return l1 + mean_weight * ops.mean(ops.abs(ops.mean(err, axis=1)), axis=1)

    name = "l1" if mean_weight == 0.0 else f"l1_plus_{mean_weight:g}_window_mean"
    loss.__name__ = name if not compress else f"{name}_of_asinh_{compress:g}"
    return loss


@dataclasses.dataclass(frozen=True)
class FitConfig:
    """The recipe of a run: everything :func:`fit` needs besides the data, the folder and the time.

    architecture: a models.MODEL_INFO name of the stage's family (None: the architecture that a
        weight set's manifest records for ``init_weights``, else :data:`DEFAULT_ARCHITECTURE`).
    batch_size: windows per step (None: :data:`DEFAULT_BATCH`).
    lr: Adam learning rate of a new run (a resumed run keeps its own).
    window: output samples per window at 20 kHz (None: :data:`DEFAULT_WINDOW`).
    seed: random draws of a new run (each later session adds its session count).
    init_weights: a weight file a new run starts from (the shipped set's, or ANF-H's for ANF-M/L).
    init_architecture: the architecture of ``init_weights`` when it is a narrower or shallower
        member of the family than ``architecture``: the weights are grown into it (:mod:`.grow`;
        None: the same architecture). widen_noise: the noise of a widening.
    checkpoint_minutes: wall-clock minutes between checkpoints.
    val_every: steps between validations; val_batches: fixed validation batches.
    lr_patience, min_lr: halve the learning rate after this many validations without a new best,
        down to min_lr.
    pool, refresh_every: IHC/ANF training pairs kept in memory, and steps between replacing one.
    jit: XLA-compile the training step (1.3x faster per step on one core, ~10 s to compile).
    mean_weight: weight of the window-mean error in the loss (:func:`window_loss`; 0: plain L1). A
        run keeps the value it started with, so that its validation losses stay comparable.
    compress: scale of the asinh compression of the loss in CNN units (:func:`window_loss`; 0:
        off); a run keeps the value it started with.
    gain_db: (low, high) range of the random gain on the BM velocity of the IHC/ANF training and
        validation pairs [dB], uniform; a run keeps the range it started with.
    ema: momentum of an exponential moving average of the weights, updated every step (0: off;
        0.999 averages over about 1000 steps). When on, validation, ``best`` and
        ``<stage>.weights.h5`` use the averaged weights; training goes on from the raw ones.
    """

    architecture: str | None = None
    batch_size: int | None = None
    lr: float = 1e-3
    window: int | None = None
    seed: int = 0
    init_weights: str | None = None
    init_architecture: str | None = None
    widen_noise: float = 1e-3
    checkpoint_minutes: float = 10.0
    val_every: int = 500
    val_batches: int = 16
    lr_patience: int = 6
    min_lr: float = 2e-5
    pool: int = 48
    refresh_every: int = 20
    jit: bool = True
    mean_weight: float = 0.0
    compress: float = 0.0
    ema: float = 0.0
    gain_db: tuple = GAIN_DB


def fit(stage, bank_dir, out_dir, config=None, *, minutes=60.0, max_steps=None, progress=True):
    """Train (or go on training) one stage for ``minutes`` of wall-clock time; returns the state dict.

    stage: "cochlea", "ihc", "anfh", "anfm" or "anfl". bank_dir: a bank folder (:mod:`.bank`), or a
    list of them (validation on the first one's held-out segments, see :func:`training_split`).
    out_dir: the run folder; when it holds a run, training resumes from it (its architecture,
    learning rate and step count win over ``config``'s). config: a :class:`FitConfig` (None: the
    defaults). minutes: wall-clock limit of this session. max_steps: stop at this step count as
    well (tests). progress: print a line per validation. See the module docstring for the rest.
    """
    import keras

    config = config or FitConfig()
    architecture, seed, init_weights = config.architecture, config.seed, config.init_weights  # resuming: the run's own
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {STAGES}")
    if config.init_architecture is not None and init_weights is None:
        raise ValueError("init_architecture (--init-architecture) names the architecture of init_weights "
                         "(--init-weights); give the weight file too")
    out = pathlib.Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    spath = out / "state.json"
    state = json.loads(spath.read_text()) if spath.exists() else None
    if state is not None:
        if state["stage"] != stage:
            raise ValueError(f"{out} holds a {state['stage']} run, not {stage}")
        architecture = state["architecture"]
        seed = state["seed"] + state["sessions"]  # fresh random draws in every session
        mean_weight = state.get("mean_weight", 0.0)  # runs before the option had plain L1
        compress = state.get("compress", 0.0)
        ema_momentum = state.get("ema", 0.0)
        gain_db = tuple(state.get("gain_db", GAIN_DB))
    else:
        mean_weight = config.mean_weight
        compress = config.compress
        ema_momentum = float(config.ema)
        gain_db = tuple(float(g) for g in config.gain_db)
    if len(gain_db) != 2 or not np.all(np.isfinite(gain_db)) or not gain_db[0] < gain_db[1]:
        raise ValueError(f"gain_db must be (low, high) in dB with low < high, got {gain_db}")
    if int(config.refresh_every) != config.refresh_every or config.refresh_every < 0:
        raise ValueError(f"refresh_every must be a whole number of steps >= 0 (0: never), got {config.refresh_every}")
    if not 0.0 <= ema_momentum < 1.0:
        raise ValueError(f"ema must be in [0, 1), got {ema_momentum}")
    if state is None and init_weights is not None:
        recorded = init_set_architecture(init_weights)
        if recorded is not None and config.init_architecture not in (None, recorded):
            raise ValueError(f"init_architecture (--init-architecture) {config.init_architecture!r} is not the "
                             f"architecture that the manifest beside {init_weights} records for it ({recorded!r}); "
                             "leave it out or give that one")
        if architecture is None:  # a new run from a weight set's file: that file's architecture
            architecture = config.init_architecture or recorded
    architecture = architecture or DEFAULT_ARCHITECTURE[stage]
    info = _models.model_info(architecture)
    if info["family"] != _family(stage):
        raise ValueError(f"architecture {architecture!r} is a {info['family']} model, not {_family(stage)}")
    layout = window_layout(architecture, config.window or DEFAULT_WINDOW[stage])
    batch_size = int(config.batch_size or (state or {}).get("batch_size") or DEFAULT_BATCH[stage])

    banks = [_bank.Bank(d) for d in ([bank_dir] if isinstance(bank_dir, (str, os.PathLike)) else bank_dir)]
    if stage == "cochlea":
        partial = [str(b.path) for b in banks if b.cf_every > 1]
        if partial:
            raise ValueError(f"the cochlea CNN predicts all 201 CFs, and these banks hold every K-th CF only "
                             f"(--cf-every): {partial}; train the cochlea on banks of all CFs")
    else:
        without = [str(b.path) for b in banks if "v100" not in b.arrays]
        if without:
            raise ValueError(f"{stage} trains on the 100-kHz BM velocity, which these banks (built with "
                             f"--cochlea-only) lack: {without}; leave them out or build banks without the option")
    train_segments, val_segments = training_split(banks)
    sampler = Sampler(train_segments, stage, layout, seed=seed, pool=config.pool, refresh_every=config.refresh_every,
                      gain_db=gain_db)
    # validation draws its gains from the run's own range (kept for the run, like its loss)
    val_sampler = Sampler(val_segments, stage, layout, seed=10_000, pool=max(8, config.val_batches), refresh_every=0,
                          gain_db=gain_db)
    val_data = [val_sampler.batch(batch_size) for _ in range(config.val_batches)]

    model = _models.build_model(architecture, n_cf=1)
    optimizer = keras.optimizers.Adam(learning_rate=config.lr if state is None else state["lr"])
    # XLA-compiled steps: measured 1.3x faster on one CPU core (benchmarks/bench_cnn_architectures.py)
    model.compile(optimizer=optimizer, loss=window_loss(mean_weight, compress),
                  jit_compile=config.jit and keras.backend.backend() != "torch")
    if state is not None:
        model.load_weights(out / "last.weights.h5")
        _load_optimizer(optimizer, model, out / "optimizer.npz")
    else:
        if init_weights is not None and config.init_architecture not in (None, architecture):
            from ..cnn.weights import load_weights
            from .grow import grow_model

            small = _models.build_model(config.init_architecture, n_cf=1)
            load_weights(small, init_weights)
            grow_model(small, model, noise=config.widen_noise, seed=seed)
        elif init_weights is not None:
            from ..cnn.weights import load_weights

            load_weights(model, init_weights)
        else:  # start the output bias at the mean target (see train._set_output_bias)
            from .train import _output_layer

            layer = _output_layer(model)
            if layer is not None and getattr(layer, "bias", None) is not None:
                layer.bias.assign(np.full(tuple(layer.bias.shape), np.mean([y.mean() for _, y in val_data[:4]]),
                                          dtype="float32"))
        state = dict(format=RUN_FORMAT, stage=stage, architecture=architecture, seed=seed, sessions=0,
                     batch_size=batch_size, layout=dict(zip(("left", "window", "right", "length"), layout)),
                     bank=_bank_record(banks[0]),
                     init_weights=None if init_weights is None else pathlib.Path(init_weights).name,
                     init_from=None if init_weights is None else init_lineage(init_weights),
                     init_architecture=None if init_weights is None else (config.init_architecture or architecture),
                     mean_weight=mean_weight, compress=compress, ema=ema_momentum, gain_db=list(gain_db),
                     step=0, wall_s=0.0,
                     lr=config.lr, best_val=None, best_step=None, wait=0, history=[])
    state["sessions"] += 1
    state["banks"] = [_bank_record(b) for b in banks]  # the data of the latest session (banks can be added)
    # the recipe this session runs with (a resumed run keeps its architecture, seed base, lr, start)
    state["config"] = dataclasses.asdict(dataclasses.replace(
        config, architecture=architecture, batch_size=batch_size, seed=seed, lr=state["lr"],
        init_weights=state["init_weights"], init_architecture=state.get("init_architecture"), window=layout[1],
        mean_weight=mean_weight, compress=compress, ema=ema_momentum, gain_db=gain_db))

    averaged = None  # the moving average of the weights (float64 numpy), when ema is on
    if ema_momentum:
        epath = out / "ema.npz"
        if epath.exists():
            with np.load(epath) as f:
                averaged = [f[f"arr_{i}"] for i in range(len(f.files))]
        else:
            averaged = [np.array(w, np.float64) for w in model.get_weights()]

    @contextlib.contextmanager
    def averaged_weights():  # the model holds the averaged weights inside the with-block
        if averaged is None:
            yield
            return
        raw = model.get_weights()
        model.set_weights([a.astype(r.dtype) for a, r in zip(averaged, raw)])
        try:
            yield
        finally:
            model.set_weights(raw)

    def validate():
        return float(np.mean([model.test_on_batch(x, y) for x, y in val_data]))

    t_start = time.time()
    wall0 = state["wall_s"]
    deadline = t_start + 60.0 * minutes
    last_ckpt = t_start
    train_loss = None  # running mean of the training loss (printed and in history.csv)
    # history.csv restarts from the checkpoint's history: after a crash it may hold validations
    # past the checkpoint, which this session repeats
    fh = open(out / "history.csv", "w", newline="")
    writer = csv.writer(fh)
    writer.writerow(["step", "wall_s", "train_loss", "val_loss", "lr"])
    writer.writerows(state["history"])
    fh.flush()  # readable while the run goes on (training.curves on a running run)

    def checkpoint():
        state["wall_s"] = wall0 + time.time() - t_start
        _save_weights(model, out / "last.weights.h5")
        _save_optimizer(optimizer, out / "optimizer.npz")
        if averaged is not None:
            tmp = out / ".ema.tmp.npz"
            np.savez(tmp, *averaged)
            os.replace(tmp, out / "ema.npz")
        _atomic_json(spath, state)

    terminated = []

    def _stop(signum, frame):  # `kill PID` (SIGTERM): finish the step under way, checkpoint, stop
        # only a flag: an exception raised here, inside a running XLA step, aborted cochlea runs
        # with a heap error ("corrupted size vs. prev_size") before their last checkpoint
        terminated.append(signum)

    # a background job ignores Ctrl-C's SIGINT; SIGTERM or the stop file stop it with a checkpoint
    stop_file = out / STOP_FILE
    stop_file.unlink(missing_ok=True)  # left from an earlier session: it asked that session to stop
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop) if main_thread else None
    try:
        while (time.time() < deadline and (max_steps is None or state["step"] < max_steps)
               and not terminated):
            x, y = sampler.batch(batch_size)
            loss = float(model.train_on_batch(x, y))
            if averaged is not None:
                for a, w in zip(averaged, model.get_weights()):
                    a *= ema_momentum
                    a += (1.0 - ema_momentum) * w
            train_loss = loss if train_loss is None else 0.98 * train_loss + 0.02 * loss
            state["step"] += 1
            if stop_file.exists():
                terminated.append(STOP_FILE)
            if state["step"] % config.val_every == 0:
                with averaged_weights():
                    val = validate()
                    improved = state["best_val"] is None or val < state["best_val"]
                    if improved:
                        _save_weights(model, out / f"{stage}.weights.h5")
                state["history"].append([state["step"], round(wall0 + time.time() - t_start, 1), train_loss, val,
                                         state["lr"]])
                writer.writerow(state["history"][-1])
                fh.flush()
                if improved:
                    state["best_val"], state["best_step"], state["wait"] = val, state["step"], 0
                    _write_run_manifest(out, stage, architecture, state)
                else:
                    state["wait"] += 1
                    if state["wait"] >= config.lr_patience and state["lr"] > config.min_lr:
                        state["lr"] = max(config.min_lr, state["lr"] * 0.5)
                        optimizer.learning_rate.assign(state["lr"])
                        state["wait"] = 0
                if progress:
                    left = max(0.0, deadline - time.time())
                    print(f"{stage} step {state['step']}: train {train_loss:.5f} val {val:.5f} "
                          f"(best {state['best_val']:.5f} @ {state['best_step']}) lr {state['lr']:.2g} "
                          f"{(wall0 + time.time() - t_start) / 3600:.2f} CPU-h, {left / 60:.0f} min left",
                          flush=True)
            if time.time() - last_ckpt > 60.0 * config.checkpoint_minutes:
                checkpoint()
                last_ckpt = time.time()
    except KeyboardInterrupt:
        terminated.append(signal.SIGINT)
    finally:
        checkpoint()
        fh.close()
        stop_file.unlink(missing_ok=True)
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    if terminated and progress:
        print(f"{stage}: stopped at step {state['step']}; checkpoint written", flush=True)
    return state


def _main(argv=None):
    p = argparse.ArgumentParser(prog="python -m connear_helpers.training.fit", description=__doc__.split("\n")[0],
                                epilog=f"To stop a run with a checkpoint: touch OUT/{STOP_FILE}")
    p.add_argument("stage", choices=STAGES)
    p.add_argument("--bank", required=True, nargs="+", help="bank folder(s); validation uses the first one's")
    p.add_argument("--out", required=True)
    p.add_argument("--architecture", default=None,
                   help="a member of the stage's family (default: the one the set's manifest records for --init-weights, else the lab's default for the stage)")
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--window", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--init-weights", default=None)
    p.add_argument("--init-architecture", default=None,
                   help="architecture of --init-weights when it is a narrower or shallower member of the "
                        "family than --architecture: the weights are grown into it (training.grow; a new run only)")
    p.add_argument("--val-every", type=int, default=500)
    p.add_argument("--mean-weight", type=float, default=0.0,
                   help="weight of the window-mean error added to the L1 loss (a new run only)")
    p.add_argument("--compress", type=float, default=0.0,
                   help="loss on C x asinh(y / C) of both sides, C in CNN units (0: off; a new run only)")
    p.add_argument("--refresh-every", type=int, default=FitConfig.refresh_every,
                   help="IHC/ANF: steps between replacing one of the pool's training pairs (this session; "
                        "each new pair costs a fraction of a second of reference IHC/ANF)")
    p.add_argument("--gain-db", type=float, nargs=2, default=list(GAIN_DB), metavar=("LOW", "HIGH"),
                   help="range of the random gain on the BM velocity of IHC/ANF pairs [dB] (a new run only)")
    p.add_argument("--ema", type=float, default=0.0,
                   help="momentum of the moving average of the weights that is validated and kept "
                        "(0: off; a new run only)")
    a = p.parse_args(argv)
    config = FitConfig(architecture=a.architecture, batch_size=a.batch_size, lr=a.lr, window=a.window, seed=a.seed,
                       init_weights=a.init_weights, init_architecture=a.init_architecture, val_every=a.val_every,
                       mean_weight=a.mean_weight, compress=a.compress, ema=a.ema, refresh_every=a.refresh_every,
                       gain_db=tuple(a.gain_db))
    state = fit(a.stage, a.bank, a.out, config, minutes=a.minutes)
    print(f"{a.stage}: {state['step']} steps, {state['wall_s'] / 3600:.2f} CPU-h, best validation "
          f"{state['best_val']} at step {state['best_step']}", file=sys.stderr)


if __name__ == "__main__":
    _main()
