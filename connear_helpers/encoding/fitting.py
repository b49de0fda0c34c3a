"""Fitting an encoding model: Poisson or MSE loss, Adam, early stopping on a validation split.

:func:`fit` standardises the inputs and scales the responses (the model's ``adapt``), holds out
whole stimuli for validation, trains with Adam and keeps the weights of the epoch with the lowest
validation loss. The losses are computed on responses divided by each neuron's response scale,
so penalties (``l2``) and learning rates mean the same for any response unit:

* ``"mse"``: mean of ((r - r̂) / s)²;
* ``"poisson"``: mean of r̂/s - (r/s)·log(r̂/s + 1e-6), the Poisson negative log-likelihood up
  to terms without r̂ (for spike counts or rates; needs r̂ >= 0).

With a seed the fit is repeatable: the same seed, data and model (built with its own seed) give
the same weights on one machine; the seed draws the validation split and the batch order.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from .layers import to_numpy

__all__ = ["FitResult", "fit", "predict", "LOSSES"]

LOSSES = ("mse", "poisson")


@dataclasses.dataclass
class FitResult:
    """What a fit did.

    loss: "mse" or "poisson". train_loss, validation_loss: (epochs_run,) per epoch (normalised
    units, penalties included in train_loss). best_epoch: epoch (1-based) whose weights were
    kept. epochs_run: epochs trained. stopped_early: True if the patience ran out.
    train_index, validation_index: stimuli (rows of the inputs) used for each. seconds: wall time.
    """

    loss: str
    train_loss: np.ndarray
    validation_loss: np.ndarray
    best_epoch: int
    epochs_run: int
    stopped_early: bool
    train_index: np.ndarray
    validation_index: np.ndarray
    seconds: float

    def __repr__(self):
        best = self.validation_loss[self.best_epoch - 1] if self.epochs_run else float("nan")
        return (f"FitResult({self.loss}, best epoch {self.best_epoch} of {self.epochs_run}"
                f"{' (stopped early)' if self.stopped_early else ''}, validation loss {best:.4g}, "
                f"{len(self.train_index)} training / {len(self.validation_index)} validation stimuli, "
                f"{self.seconds:.1f} s)")


def _as_responses(responses, n, n_bins):
    y = np.asarray(responses, dtype=np.float64)
    if y.ndim == 4:  # (n, repeats, bins, neurons): fit the mean over repeats
        y = y.mean(axis=1)
    if y.ndim != 3 or y.shape[:2] != (n, n_bins):
        raise ValueError(f"responses must be (n_stimuli, n_bins, n_neurons) or (n_stimuli, n_repeats, n_bins, "
                         f"n_neurons) matching the inputs' (n_stimuli, n_bins) = {(n, n_bins)}; got shape "
                         f"{np.shape(responses)}")
    if not np.all(np.isfinite(y)):
        raise ValueError("responses contain NaN or inf; remove or replace them")
    return y


def _check_inputs(model, inputs):
    x = np.asarray(inputs, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[-1] != model.F:
        raise ValueError(f"inputs must be (n_stimuli, n_bins, F) with F = {model.F} (the model's frequency bins); "
                         f"got shape {np.shape(inputs)}")
    if not np.all(np.isfinite(x)):
        raise ValueError("inputs contain NaN or inf; check the front end")
    return x


def _loss_function(name, scale):
    from keras import ops

    s = ops.convert_to_tensor(np.asarray(scale, dtype="float32"))

    if name == "mse":
        def mse(y_true, y_pred):
            return ops.mean(ops.square((y_true - y_pred) / s))
        return mse

    def poisson(y_true, y_pred):
        p = y_pred / s
        return ops.mean(p - (y_true / s) * ops.log(p + 1e-6))
    return poisson


def fit(model, inputs, responses, loss=None, validation_fraction=0.2, validation=None, epochs=300, batch_size=8,
        learning_rate=5e-3, patience=20, seed=0, adapt=True, progress=False):
    """Train an encoding model with early stopping on held-out stimuli.

    model: an EncodingModel (Linear, LinearNonlinear, ...), trained in place.
    inputs: (n_stimuli, n_bins, F) front-end output. responses: (n_stimuli, n_bins, O) rates
        (e.g. spikes/s), or (n_stimuli, n_repeats, n_bins, O) (their mean is fitted).
    loss: "mse", "poisson", or None: "poisson" for a model with non-negative output and
        non-negative responses, else "mse".
    validation_fraction: share of the stimuli (chosen with the seed, at least one) held out for
        early stopping; ignored when validation = (inputs, responses) is given.
    epochs: at most this many passes. batch_size: stimuli per step. learning_rate: Adam's.
    patience: epochs without a lower validation loss before stopping (the best weights are kept).
    seed: validation split, batch order (and determinism). adapt: set the input standardisation
        and response scale from the training stimuli first (see EncodingModel.adapt).
    progress: a progress bar over epochs.
    Every epoch uses floor(n_train / batch_size) full batches of a fresh random order (one batch
    shape, so the step is compiled once). Returns a :class:`FitResult`.
    """
    import keras

    x = _check_inputs(model, inputs)
    y = _as_responses(responses, x.shape[0], x.shape[1])
    if y.shape[-1] != model.O:
        raise ValueError(f"responses have {y.shape[-1]} neurons but the model has O = {model.O} outputs")
    if loss is None:
        loss = "poisson" if model.positive_output and np.all(y >= 0) else "mse"
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if loss == "poisson" and not model.positive_output:
        raise ValueError(f"the Poisson loss needs non-negative rates, and {type(model).__name__} can predict negative "
                         "ones; use loss='mse', or a model with an output nonlinearity (e.g. LinearNonlinear)")
    if loss == "poisson" and np.any(y < 0):
        raise ValueError("the Poisson loss needs non-negative responses (counts or rates); use loss='mse'")
    rng = np.random.default_rng(seed)
    if validation is None:
        if x.shape[0] < 2:
            raise ValueError("fit needs at least 2 stimuli to hold one out for validation; cut the sound into "
                             "segments, or pass validation=(inputs, responses)")
        if not 0 < validation_fraction < 1:
            raise ValueError(f"validation_fraction must lie in (0, 1), got {validation_fraction!r}")
        order = rng.permutation(x.shape[0])
        n_val = min(x.shape[0] - 1, max(1, int(round(validation_fraction * x.shape[0]))))
        val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
        x_val, y_val, x_tr, y_tr = x[val_idx], y[val_idx], x[train_idx], y[train_idx]
    else:
        x_val = _check_inputs(model, validation[0])
        y_val = _as_responses(validation[1], x_val.shape[0], x_val.shape[1])
        train_idx, val_idx = np.arange(x.shape[0]), np.array([], dtype=int)
        x_tr, y_tr = x, y
    if adapt:
        model.adapt(x_tr, y_tr)
    keras.utils.set_random_seed(int(seed))
    scale = to_numpy(model.response_scale)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=_loss_function(loss, scale))
    # train_on_batch with one batch shape: one trace, and none of fit()'s
    # per-epoch set-up (which costs more than an epoch of these small models)
    bs = int(min(batch_size, x_tr.shape[0]))
    n_batches = x_tr.shape[0] // bs
    x_tr32, y_tr32 = x_tr.astype("float32"), y_tr.astype("float32")
    train_loss, val_loss = [], []
    best, best_weights, wait, stopped = np.inf, model.get_weights(), 0, False
    from tqdm.auto import tqdm

    bar = tqdm(total=int(epochs), desc=f"fitting {getattr(model, 'label', 'model')}", unit="epoch",
               disable=not progress)
    t0 = time.perf_counter()
    try:
        for _ in range(int(epochs)):
            order = rng.permutation(x_tr.shape[0])
            losses = [_scalar(model.train_on_batch(x_tr32[idx], y_tr32[idx]))
                      for idx in np.split(order[: n_batches * bs], n_batches)]
            train_loss.append(float(np.mean(losses)))
            v = _validation_loss(model, x_val, y_val, loss, scale)
            val_loss.append(v)
            bar.update(1)
            bar.set_postfix(val_loss=f"{v:.4g}")
            if v < best - 1e-7:
                best, best_weights, wait = v, model.get_weights(), 0
            else:
                wait += 1
                if wait >= patience:
                    stopped = True
                    break
            if not np.isfinite(train_loss[-1]):
                raise FloatingPointError(f"the training loss became {train_loss[-1]} at epoch {len(train_loss)}; "
                                         "lower learning_rate or check the responses' scale")
    finally:
        bar.close()
    model.set_weights(best_weights)
    val = np.asarray(val_loss, dtype=np.float64)
    return FitResult(loss=loss, train_loss=np.asarray(train_loss, dtype=np.float64), validation_loss=val,
                     best_epoch=int(np.argmin(val)) + 1 if val.size else 0, epochs_run=int(val.size),
                     stopped_early=stopped, train_index=train_idx, validation_index=val_idx,
                     seconds=time.perf_counter() - t0)


def _scalar(value):
    if isinstance(value, (list, tuple)):
        value = value[0]
    return float(np.asarray(value))


def _validation_loss(model, x, y, loss, scale):
    """Validation loss without penalties (NumPy, from the model's predictions)."""
    p = predict(model, x) / scale
    t = y / scale
    if loss == "mse":
        return float(np.mean((t - p) ** 2))
    return float(np.mean(p - t * np.log(p + 1e-6)))


def predict(model, inputs, batch_size=64):
    """Predicted responses: (n_stimuli, n_bins, O) float64 in the unit of the fitted responses.

    inputs: (n_stimuli, n_bins, F), or (n_bins, F) for one stimulus (then (n_bins, O) is returned).
    """
    single = np.ndim(inputs) == 2
    x = _check_inputs(model, inputs).astype("float32")
    out = [to_numpy(model(x[i:i + batch_size])) for i in range(0, x.shape[0], int(batch_size))]
    y = np.concatenate(out, axis=0)
    return y[0] if single else y
