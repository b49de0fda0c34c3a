"""Train a CoNNear model on a dataset of :mod:`connear_helpers.training.datasets`.

The paper's recipe (spec §2.7): single-CF models (N_cf = 1) trained on windows with their context,
inputs and targets in CNN units (spec §2.2), mean absolute error (L1) loss, Adam with learning
rate 1e-4. The paper does not state batch size or epoch count; the defaults here are ours. Added
for robustness (not in the paper): validation split by sentence, ReduceLROnPlateau (x0.5 after
``lr_patience`` epochs without validation improvement), EarlyStopping (``patience`` epochs), and
a new network's output bias starts at the mean training target (``--zero-output-bias`` turns
that off).

Command line::

    python -m connear_helpers.training.train {cochlea,ihc,anfh,anfm,anfl} --data DIR --out DIR \\
        [--epochs N] [--batch-size B] [--lr 1e-4] [--resume] [--init-weights FILE]
        [--mixed-precision auto|on|off] [--small] [--minutes M]

Output folder::

    OUT/<stage>.weights.h5        final weights (best validation epoch), Keras 3 format, of the
                                  1-CF model; same arrays as the 201-CF model, so
                                  connear_helpers.cnn.weights.load_weights(build_model(stage), path) works
    OUT/<stage>.training.json     training facts: data, options, history, wall-clock, hardware
    OUT/checkpoints/last.keras    model + optimiser state after the last finished epoch (resume)
    OUT/checkpoints/best.weights.h5, OUT/checkpoints/state.json (epoch, callback state, history)
    OUT/history.csv, OUT/logs/    per-epoch log; TensorBoard logs (``tensorboard --logdir OUT/logs``)

The same code runs on CPU and GPU: mixed precision (float16 compute, float32 weights) is used
only on a GPU ("auto"); several GPUs train synchronously with tf.distribute.MirroredStrategy.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import pathlib
import platform
import sys
import time

import numpy as np

from .datasets import CNN_SCALE, SI_UNIT, STAGE_SIGNALS, STAGES, DatasetError, dataset_info, load_dataset

__all__ = ["train", "DEFAULT_BATCH_SIZE", "PAPER_LEARNING_RATE", "hardware_info"]

#: Adam learning rate of the paper (spec §2.7).
PAPER_LEARNING_RATE = 1e-4
#: Batch sizes (single-CF sequences) used when none is given; not stated in the paper.
DEFAULT_BATCH_SIZE = {"cochlea": 16, "ihc": 32, "anfh": 8, "anfm": 8, "anfl": 8}
DEFAULT_EPOCHS = 50
#: --small: a smoke run – at most this many epochs and sequences.
SMALL_EPOCHS = 2
SMALL_SEQUENCES = {"train": 256, "val": 64}

TRAINING_FORMAT = "connear-lab-training/1"


# ---------------------------------------------------------------------------------------------
# hardware, precision, distribution


def _gpus():
    """The GPUs the Keras backend sees (TensorFlow or JAX devices; none for other backends)."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return [d for d in jax.devices() if d.platform == "gpu"]
    if backend != "tensorflow":
        return []
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


def hardware_info():
    """Facts about this machine for the training record (dict)."""
    info = {"platform": platform.platform(), "machine": platform.machine(),
            "cpu_count": os.cpu_count(), "hostname": platform.node()}
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        info["cpu"] = platform.processor()
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
                break
    except OSError:
        pass
    gpus = []
    for g in _gpus():
        if hasattr(g, "device_kind"):  # a JAX device
            gpus.append(g.device_kind)
            continue
        try:
            import tensorflow as tf

            gpus.append(tf.config.experimental.get_device_details(g).get("device_name", g.name))
        except Exception:
            gpus.append(g.name)
    info["gpus"] = gpus
    return info


def _software_info():
    import keras

    sw = {"python": platform.python_version(), "numpy": np.__version__, "keras": keras.__version__,
          "backend": keras.backend.backend()}
    if sw["backend"] == "tensorflow":
        import tensorflow as tf

        sw["tensorflow"] = tf.__version__
    elif sw["backend"] == "jax":
        import jax

        sw["jax"] = jax.__version__
    return sw


def _resolve_precision(mode, gpus):
    if mode not in ("auto", "on", "off"):
        raise ValueError(f"mixed_precision must be 'auto', 'on' or 'off', got {mode!r}")
    if mode == "on" and not gpus:
        raise ValueError(
            "mixed precision was requested (--mixed-precision on) but no GPU is visible; float16 "
            "compute only pays off on a GPU. Use --mixed-precision auto or off on a CPU"
        )
    return "mixed_float16" if (mode == "on" or (mode == "auto" and gpus)) else "float32"


def _strategy(gpus):
    import keras

    if keras.backend.backend() == "tensorflow" and len(gpus) > 1:
        import tensorflow as tf

        return tf.distribute.MirroredStrategy()
    return None


# ---------------------------------------------------------------------------------------------
# models


def _build_default(stage, model_name=None):
    try:
        from ..cnn.architectures import build_model
    except ImportError as exc:  # pragma: no cover - the module ships with the package
        raise ImportError(
            "connear_helpers.cnn.architectures.build_model is not available; install the full package, or "
            "pass model_builder=callable(stage) -> keras.Model to train()"
        ) from exc
    return build_model(model_name or stage, n_cf=1)


def _compile(model, lr):
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="mean_absolute_error")


def _check_model(model, stage, x, y):
    """One forward pass on one batch; a clear error if the output shape does not fit the data."""
    try:
        pred = model(x[:1], training=False)
    except Exception as exc:
        raise ValueError(
            f"the {stage} model cannot take the dataset's inputs of shape {tuple(x.shape[1:])} "
            f"(samples with context, channels): {exc}. Check that the model matches the stage"
        ) from exc
    if tuple(pred.shape[1:]) != tuple(y.shape[1:]):
        raise ValueError(
            f"the {stage} model maps inputs {tuple(x.shape[1:])} to {tuple(pred.shape[1:])}, but "
            f"the targets are {tuple(y.shape[1:])} (window, channels). Build the model with the "
            f"stage's context cropping (and, for the cochlea, all 201 CFs in the dataset)"
        )


def _save_model_weights(model, path):
    """Save the model's own weights, without the optimiser's state (which Keras 3 writes into
    ``.weights.h5`` files of compiled models and which would triple the file's size)."""
    clone = model.__class__.from_config(model.get_config())   # not compiled (clone_model is)
    clone.set_weights(model.get_weights())
    clone.save_weights(path)


def _output_layer(model):
    """The last layer (nested models included) that has a bias, or None (e.g. the cochlea)."""
    found = None
    for layer in model.layers:
        if hasattr(layer, "layers"):
            found = _output_layer(layer) or found
        elif getattr(layer, "bias", None) is not None:
            found = layer
    return found


def _set_output_bias(model, data, n_batches=16, seed=0):
    """Set the output layer's bias to the mean target of a few training batches (CNN units).

    A network's output starts near zero, and Adam moves a bias by about the learning rate per
    step, so at lr 1e-4 the bias alone would need ~10,000 steps to reach an ANF-H mean target of
    ~1 (100 spikes/s); starting it there removes that drift. Per output channel when the bias
    has one entry per channel.
    Returns the value(s) set (list), or None when the model has no output bias.
    """
    layer = _output_layer(model)
    if layer is None:
        return None
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(data), size=min(n_batches, len(data)), replace=False)
    y = np.concatenate([np.asarray(data[int(i)][1], dtype=np.float64).reshape(-1, data[int(i)][1].shape[-1])
                        for i in picks])
    shape = tuple(layer.bias.shape)
    mean = y.mean(axis=0) if shape == (y.shape[-1],) and y.shape[-1] > 1 else np.full(shape, y.mean())
    layer.bias.assign(np.asarray(mean, dtype="float32"))
    return [round(float(v), 6) for v in np.ravel(mean)]


# ---------------------------------------------------------------------------------------------
# callbacks


def _atomic_json(path, obj):
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _callbacks(out, state, resume, epochs_goal, lr_patience, lr_factor, min_lr, patience,
               tensorboard, t_start, monitor):
    import keras

    ckpt = out / "checkpoints"

    class ResumableReduceLR(keras.callbacks.ReduceLROnPlateau):
        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            s = state.get("reduce_lr") or {}
            self.wait = s.get("wait", 0)
            self.cooldown_counter = s.get("cooldown_counter", 0)
            self.best = s.get("best", self.best)

    class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            s = state.get("early_stopping") or {}
            self.wait = s.get("wait", 0)
            self.best = s.get("best", None)
            self.best_epoch = s.get("best_epoch", 0)

    reduce_lr = ResumableReduceLR(monitor=monitor, factor=lr_factor, patience=lr_patience,
                                  min_lr=min_lr, verbose=1)
    early = ResumableEarlyStopping(monitor=monitor, patience=patience, verbose=1)

    class SaveState(keras.callbacks.Callback):
        """After every epoch: last.keras (model + optimiser), then state.json (atomic)."""

        def on_epoch_end(self, epoch, logs=None):
            logs = {k: float(v) for k, v in (logs or {}).items()}
            tmp = ckpt / ".last.tmp.keras"
            self.model.save(tmp)
            os.replace(tmp, ckpt / "last.keras")
            hist = state.setdefault("history", {})
            for k, v in logs.items():
                hist.setdefault(k, []).append(v)
            state["epoch"] = epoch + 1
            state["epochs_requested"] = epochs_goal
            cur = logs.get(monitor)
            if cur is not None and (state.get("best") is None or cur < state["best"]):
                state["best"], state["best_epoch"] = cur, epoch + 1
            state["reduce_lr"] = {"wait": int(reduce_lr.wait), "cooldown_counter": int(reduce_lr.cooldown_counter),
                                  "best": None if reduce_lr.best is None else float(reduce_lr.best)}
            state["early_stopping"] = {"wait": int(early.wait),
                                       "best": None if early.best is None else float(early.best),
                                       "best_epoch": int(early.best_epoch)}
            state["wall_s"] = state.get("wall_s_before", 0.0) + time.time() - t_start
            _atomic_json(ckpt / "state.json", state)

        def on_train_end(self, logs=None):
            state["stopped_early"] = bool(early.stopped_epoch > 0)
            _atomic_json(ckpt / "state.json", state)

    cbs = [
        reduce_lr,
        early,
        keras.callbacks.ModelCheckpoint(
            str(ckpt / "best.weights.h5"), monitor=monitor, save_best_only=True,
            save_weights_only=True, initial_value_threshold=state.get("best")),
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=resume),
    ]
    if tensorboard:
        cbs.append(keras.callbacks.TensorBoard(log_dir=str(out / "logs")))
    cbs.append(SaveState())
    return cbs


def _TimeLimit(deadline, state):
    """Callback: stop training after the step that passes ``deadline`` (time.time())."""
    import keras

    class TimeLimit(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if time.time() > deadline:
                self.model.stop_training = True
                state["stopped_at_time_limit"] = True

    return TimeLimit()


# ---------------------------------------------------------------------------------------------
# training


def _resolve_tensorboard(mode, verbose):
    import importlib.util

    if mode not in ("auto", True, False):
        raise ValueError(f"tensorboard must be 'auto', True or False, got {mode!r}")
    have = importlib.util.find_spec("tensorboard") is not None
    if mode is True and not have:
        raise ValueError("TensorBoard logs were requested but the tensorboard package is missing; "
                         "`pip install tensorboard`, or run without TensorBoard logs")
    if mode == "auto" and not have and verbose:
        print("TensorBoard logs skipped: the tensorboard package is not installed "
              "(`pip install tensorboard`)", file=sys.stderr)
    return have and mode is not False


def train(stage, data_dir, out_dir, *, epochs=DEFAULT_EPOCHS, batch_size=None,
          lr=None, resume=False, init_weights=None, output_bias="mean", mixed_precision="auto", small=False,
          val_fraction=0.1, seed=0, patience=8, lr_patience=3, lr_factor=0.5, min_lr=1e-6,
          cf_index=None, max_sequences=None, model_name=None, model_builder=None,
          tensorboard="auto", verbose="auto", time_limit_s=None):
    """Train one CoNNear model; returns the training facts (dict, also written as JSON).

    stage: "cochlea", "ihc", "anfh", "anfm" or "anfl". data_dir: dataset folder
    (:func:`connear_helpers.training.datasets.build_dataset`). out_dir: output folder (see module doc).
    epochs: last epoch to reach (a resumed run continues up to it). batch_size: sequences per
    step (default :data:`DEFAULT_BATCH_SIZE`; the global batch under MirroredStrategy).
    lr: Adam learning rate (default: the paper's 1e-4 for a new run, the saved rate when
    resuming; given with resume, it replaces the saved rate). resume: continue from
    OUT/checkpoints/last.keras (model and optimiser state as saved; without resume an existing
    checkpoint is an error). init_weights: start a new run from these weights (a weight file
    or set that :func:`connear_helpers.cnn.weights.load_weights` accepts, of the same
    architecture; e.g. fine-tune official weights, or start ANF-M from ANF-H).
    output_bias: "mean" (a new run from random weights starts the output layer's bias at the
    mean training target, see :func:`_set_output_bias`) or None (Keras' zeros).
    mixed_precision: "auto" (on with a GPU),
    "on" (GPU required), "off". small: smoke run (at most 2 epochs, 256/64 sequences).
    val_fraction, seed: validation split by sentence. patience / lr_patience / lr_factor / min_lr:
    EarlyStopping and ReduceLROnPlateau on the validation loss. cf_index, max_sequences: use
    a subset of the data. model_name: a :func:`connear_helpers.cnn.architectures.build_model` name other
    than the stage (e.g. a smaller architecture). model_builder: callable(stage) -> uncompiled
    keras.Model mapping (B, L_in, 1) to the targets' shape (overrides model_name).
    tensorboard: "auto" (write TensorBoard logs if the ``tensorboard`` package is installed),
    True (require it), False. time_limit_s: stop after the training step that passes this
    wall-clock time (seconds since the call), finishing the epoch's validation and checkpoints.
    """
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {STAGES}")
    if int(epochs) < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs!r}")
    if lr is not None and not lr > 0:
        raise ValueError(f"the learning rate must be > 0, got {lr!r}")
    if output_bias not in ("mean", None):
        raise ValueError(f"output_bias must be 'mean' or None, got {output_bias!r}")
    if init_weights is not None and resume:
        raise ValueError("init_weights starts a new run; it cannot be combined with resume")
    if time_limit_s is not None and not time_limit_s > 0:
        raise ValueError(f"time_limit_s must be > 0 seconds, got {time_limit_s!r}")
    tensorboard = _resolve_tensorboard(tensorboard, verbose)
    t_start = time.time()
    data_dir = pathlib.Path(data_dir).expanduser().resolve()
    out = pathlib.Path(out_dir).expanduser().resolve()
    ckpt = out / "checkpoints"
    last = ckpt / "last.keras"
    if last.exists() and not resume:
        raise FileExistsError(
            f"{out} already holds a training run ({last}); pass resume=True (--resume) to continue "
            "it, or choose another output folder"
        )
    manifest = dataset_info(data_dir)
    batch_size = int(batch_size or DEFAULT_BATCH_SIZE[stage])
    epochs = int(epochs)
    caps = {"train": max_sequences, "val": max_sequences}
    if small:
        epochs = min(epochs, SMALL_EPOCHS)
        caps = {k: min(v or SMALL_SEQUENCES[k], SMALL_SEQUENCES[k]) for k, v in caps.items()}
    train_ds = load_dataset(data_dir, stage, "train", val_fraction, seed, batch_size=batch_size,
                            cf_index=cf_index, max_sequences=caps["train"])
    if len(train_ds.index) == 0:
        raise DatasetError(
            f"no training sequences for stage {stage!r} in {data_dir}: the stimuli are shorter "
            "than one window, or every sentence went to validation; build more sentences"
        )
    val_ds = None
    if val_fraction > 0:
        val_ds = load_dataset(data_dir, stage, "val", val_fraction, seed, batch_size=batch_size,
                              cf_index=cf_index, max_sequences=caps["val"])
    monitor = "val_loss" if val_ds is not None else "loss"

    import keras

    gpus = _gpus()
    policy = _resolve_precision(mixed_precision, gpus)
    old_policy = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(policy)
    try:
        strategy = _strategy(gpus)
        scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
        state = {}
        with scope:
            if resume and last.exists():
                state_path = ckpt / "state.json"
                state = json.loads(state_path.read_text()) if state_path.exists() else {}
                model = keras.models.load_model(last)
                if lr is not None:
                    model.optimizer.learning_rate.assign(lr)
                lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
                if verbose:
                    print(f"resuming {stage} from {last} after epoch {state.get('epoch', 0)} "
                          f"(learning rate {lr:g})", file=sys.stderr)
            else:
                if resume and verbose:
                    print(f"no checkpoint in {ckpt}; starting {stage} from scratch", file=sys.stderr)
                model = model_builder(stage) if model_builder is not None else _build_default(stage, model_name)
                if init_weights is not None:
                    from ..cnn.weights import load_weights

                    load_weights(model, init_weights)
                    state["init_weights"] = str(init_weights)
                lr = PAPER_LEARNING_RATE if lr is None else lr
                _compile(model, lr)
        x0, y0 = train_ds[0]
        _check_model(model, stage, x0, y0)
        if output_bias == "mean" and not (resume and last.exists()) and init_weights is None:
            state["output_bias_init"] = _set_output_bias(model, train_ds, seed=seed)
        ckpt.mkdir(parents=True, exist_ok=True)
        initial_epoch = int(state.get("epoch", 0))
        state["wall_s_before"] = float(state.get("wall_s", 0.0))
        finished = bool(state.get("stopped_early")) and epochs <= state.get("epochs_requested", 0)
        if state.get("stopped_early") and not finished:
            state["early_stopping"] = None  # more epochs asked for: start patience afresh
        state["stopped_early"] = finished
        callbacks = _callbacks(out, state, resume, epochs, lr_patience, lr_factor, min_lr, patience,
                               tensorboard, t_start, monitor)
        if time_limit_s is not None:
            callbacks.insert(0, _TimeLimit(t_start + float(time_limit_s), state))
        if initial_epoch < epochs and not finished:
            model.fit(train_ds, validation_data=val_ds, epochs=epochs, initial_epoch=initial_epoch,
                      callbacks=callbacks, verbose=verbose)
        elif verbose:
            print(f"{stage}: training already finished at epoch {initial_epoch}; pass a larger "
                  "--epochs to continue", file=sys.stderr)
        best = ckpt / "best.weights.h5"
        if best.exists():
            model.load_weights(best)
        weights = out / f"{stage}.weights.h5"
        tmp = out / f".{stage}.tmp.weights.h5"
        _save_model_weights(model, tmp)
        os.replace(tmp, weights)
        facts = _facts(stage, model, manifest, data_dir, train_ds, val_ds, state, weights, policy,
                       strategy, batch_size, lr, epochs, small, val_fraction, seed, patience,
                       lr_patience, lr_factor, min_lr, model_name, model_builder, t_start)
        _atomic_json(out / f"{stage}.training.json", facts)
        return facts
    finally:
        keras.mixed_precision.set_global_policy(old_policy)


def _facts(stage, model, manifest, data_dir, train_ds, val_ds, state, weights, policy, strategy,
           batch_size, lr, epochs, small, val_fraction, seed, patience, lr_patience, lr_factor,
           min_lr, model_name, model_builder, t_start):
    target = STAGE_SIGNALS[stage][1]
    cfg = manifest["config"]
    stims = [s for e in manifest["shards"].values() for s in e["stimuli"]]
    best = state.get("best")
    scale = CNN_SCALE[target]
    hist = state.get("history", {})
    from ..cnn.weights import file_sha256

    return {
        "format": TRAINING_FORMAT,
        "stage": stage,
        "model": {"name": model_name or (stage if model_builder is None else
                                         getattr(model_builder, "__qualname__", "custom")),
                  "keras_name": model.name, "n_params": int(model.count_params()),
                  "input": "single-CF (N_cf = 1) sequences, CNN units",
                  "note": "weights of the 1-CF graph; the same arrays fit the 201-CF model"},
        "weights_file": weights.name,
        "weights_sha256": file_sha256(weights),
        "data": {
            "dir": str(data_dir), "corpus": cfg["corpus"], "engines": cfg.get("engines"),
            "levels_db_spl": cfg["levels"], "level_mode": cfg["level_mode"],
            "reference": cfg["reference"], "reference_options": cfg["reference_options"],
            "n_stimuli": len(stims), "n_sentences": len({s["sentence_id"] for s in stims}),
            "seconds_of_stimulus": round(sum(s["n_samples"] for s in stims) / manifest["fs"], 2),
            "n_cf": len(manifest["cf_hz"]),
            "split": {"val_fraction": val_fraction, "seed": seed, "by": "sentence",
                      "train_sentences": len(train_ds.index.sentences),
                      "val_sentences": 0 if val_ds is None else len(val_ds.index.sentences),
                      "train_sequences": len(train_ds.index),
                      "val_sequences": 0 if val_ds is None else len(val_ds.index)},
        },
        "training": {
            "loss": "mean absolute error (CNN units)", "optimizer": "Adam", "learning_rate": lr,
            "init_weights": state.get("init_weights"),
            "output_bias_init_cnn_units": state.get("output_bias_init"),
            "batch_size": batch_size, "epochs_requested": epochs, "epochs_run": state.get("epoch", 0),
            "stopped_early": bool(state.get("stopped_early")), "small": bool(small),
            "stopped_at_time_limit": bool(state.get("stopped_at_time_limit")),
            "early_stopping_patience": patience,
            "reduce_lr": {"patience": lr_patience, "factor": lr_factor, "min_lr": min_lr},
            "final_learning_rate": (hist.get("learning_rate") or [lr])[-1],
            "best_epoch": state.get("best_epoch"),
            "monitor": "val_loss" if val_ds is not None else "loss (no validation split)",
            "best_val_loss_cnn_units": best,
            "best_val_mae_si": None if best is None else best / scale,
            "si_unit": SI_UNIT[target],
            "history": hist,
            "mixed_precision": policy,
            "replicas": 1 if strategy is None else int(strategy.num_replicas_in_sync),
        },
        "wall_clock_s": round(float(state.get("wall_s", time.time() - t_start)), 1),
        "wall_clock_this_run_s": round(time.time() - t_start, 1),
        "hardware": hardware_info(),
        "software": _software_info(),
        "finished": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


# ---------------------------------------------------------------------------------------------
# command line


def _main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m connear_helpers.training.train",
                                 description="Train a CoNNear model (see the module docstring).")
    ap.add_argument("stage", choices=STAGES)
    ap.add_argument("--data", required=True, help="dataset folder (python -m connear_helpers.training.datasets build)")
    ap.add_argument("--out", required=True, help="output folder for weights, checkpoints and logs")
    ap.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    ap.add_argument("--batch-size", type=int, default=None, help="default: cochlea 16, ihc 32, anf 8")
    ap.add_argument("--lr", type=float, default=None,
                    help="Adam learning rate (default: paper's 1e-4; with --resume: the saved rate)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints/last.keras")
    ap.add_argument("--zero-output-bias", action="store_true",
                    help="start the output bias at zero (Keras default) instead of the mean target")
    ap.add_argument("--init-weights", default=None,
                    help="start from these weights (file or set of the same architecture)")
    ap.add_argument("--mixed-precision", choices=("auto", "on", "off"), default="auto")
    ap.add_argument("--small", action="store_true", help="smoke run: at most 2 epochs on 256 sequences")
    ap.add_argument("--val-fraction", type=float, default=0.1, help="share of sentences for validation")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--patience", type=int, default=8, help="EarlyStopping patience (epochs)")
    ap.add_argument("--lr-patience", type=int, default=3, help="ReduceLROnPlateau patience (epochs)")
    ap.add_argument("--cfs", default=None, help="train on these CF indices only (N or comma list)")
    ap.add_argument("--max-sequences", type=int, default=None)
    ap.add_argument("--model", default=None, help="build_model name other than the stage")
    ap.add_argument("--no-tensorboard", action="store_true")
    ap.add_argument("--minutes", type=float, default=None, help="stop training after this wall-clock time")
    args = ap.parse_args(argv)
    from ..cnn.weights import WeightsError

    try:
        facts = train(args.stage, args.data, args.out, epochs=args.epochs, batch_size=args.batch_size,
                      lr=args.lr, resume=args.resume, init_weights=args.init_weights,
                      output_bias=None if args.zero_output_bias else "mean",
                      mixed_precision=args.mixed_precision,
                      small=args.small, val_fraction=args.val_fraction, seed=args.seed,
                      patience=args.patience, lr_patience=args.lr_patience, cf_index=args.cfs,
                      max_sequences=args.max_sequences, model_name=args.model,
                      tensorboard=False if args.no_tensorboard else "auto",
                      time_limit_s=None if args.minutes is None else 60 * args.minutes)
    except (DatasetError, ValueError, FileExistsError, WeightsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    t = facts["training"]
    print(f"{args.stage}: {t['epochs_run']} epochs, best {facts['training']['best_val_loss_cnn_units']} "
          f"(CNN units) = {t['best_val_mae_si']} {t['si_unit']}; {facts['wall_clock_s']} s; "
          f"weights {pathlib.Path(args.out) / facts['weights_file']}")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
