"""Backpropagation through frozen CoNNear models: restoring a synaptopathic ANF response (paper Fig. 8).

Spec §4.12. Two IHC-ANF chains share the same frozen CoNNear models (IHC, uncropped ->
ANF HSR, cropped): the "normal" one sums 10 HSR fibres per IHC, the "synaptopathic" one
8 (20 % deafferentation). A small processing network ``P`` (a few Conv1D layers, Keras 3)
is trained by backpropagating *through* the frozen chain so that

    8 · ANF_H(IHC(P(x)))  ≈  10 · ANF_H(IHC(x))

for 4-kHz SAM tones of several levels and modulation depths. The loss is the mean absolute
error of the time signals plus ``spectral_weight`` times the mean absolute error of their
magnitude spectra (|rfft| / N). Only ``P``'s weights are updated; the CoNNear models are
never changed.

Inputs, as in the paper, are fed directly as IHC inputs: a stimulus of L dB SPL is made in Pa
(:func:`connear_helpers.analysis.stimuli.sam_tone`) and its values are used as the IHC CNN's input in
CNN units (µm/s) times ``input_gain`` (default 1; the paper's source data are a 70-dB SAM tone
in exactly these units, peak ≈ 0.14). Each example is one 16384-sample ANF segment: 7936
samples of silent context, the tone (``response_samples`` long), silence; the loss uses the
first ``response_samples`` output samples (the response to the tone).

Not given by the paper (our choices, all arguments): the architecture of ``P`` (residual:
``P(x) = x + s·f(x/s)`` with ``f`` = Conv1D layers, the last initialised to zero so that
training starts from the identity), Adam with learning rate 1e-3, the training set, the
number of steps and the loss weighting.

Rates in the results are summed over the fibres, in spikes/s; losses are in CNN units
(×100 spikes/s summed over the fibres), like the paper's source data.

``quick=True`` (6 steps on 2 short stimuli) runs in well under a minute on a laptop CPU and
only shows the mechanics; the full default (300 steps, batches of 4 out of 28 stimuli) takes
about 10-20 minutes on a laptop CPU (about 1 s per stimulus and step on 2 cores), a minute or
two on a GPU.

Without trained CoNNear weights the models are untrained (random) and the figure says so.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..cnn.architectures import MODEL_INFO
from ..constants import FS_CNN
from ..cnn.units import ANF_SCALING

__all__ = [
    "N_FIBRES_NORMAL",
    "N_FIBRES_SYNAPTOPATHIC",
    "BackpropResult",
    "processing_network",
    "training_stimuli",
    "frozen_chain",
    "fig8_loss",
    "train",
    "run",
    "plot",
    "table",
    "fig8",
    "fig8_backpropagation",
]

FS = FS_CNN
N_FIBRES_NORMAL = 10
N_FIBRES_SYNAPTOPATHIC = 8
CARRIER_HZ = 4000.0
FM_HZ = 100.0
#: ANF model input segment (samples) and its left context (spec §2.1).
SEGMENT = MODEL_INFO["anfh"]["multiple"]
LEFT_CONTEXT = MODEL_INFO["anfh"]["context"][0]

#: Defaults of the full run and of ``quick=True``.
FULL = dict(levels_db_spl=(30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0), modulation_depths=(0.25, 0.5, 0.75, 1.0),
            response_samples=4096, steps=300, batch_size=4)
QUICK = dict(levels_db_spl=(70.0, 60.0), modulation_depths=(1.0,), response_samples=2048, steps=6, batch_size=2)
#: The stimulus shown in the figure (paper Fig. 8: 4-kHz SAM tone, 70 dB SPL, 100 % modulation).
EVAL_LEVEL_DB_SPL = 70.0
EVAL_DEPTH = 1.0
_FIBRE_LABEL = {"anfh": "HSR", "anfm": "MSR", "anfl": "LSR"}


@dataclasses.dataclass
class BackpropResult:
    """Before/after responses of the Fig. 8 use case. Time series are (response_samples,) at 20 kHz.

    stimulus, processed: IHC input before and after P (CNN units, µm/s; = Pa values x input_gain).
    response_normal: 10-fibre summed HSR rate to the unprocessed stimulus [spikes/s].
    response_before, response_after: 8-fibre summed rate to the unprocessed / processed stimulus [spikes/s].
    loss_history: training-batch loss per step; loss_before/after: loss over all training stimuli.
    trained: True when the CoNNear models had trained weights; message: why not, else None.
    """

    fs: float
    stimulus: np.ndarray
    processed: np.ndarray
    response_normal: np.ndarray
    response_before: np.ndarray
    response_after: np.ndarray
    loss_history: list
    loss_before: float
    loss_after: float
    trained: bool
    message: str | None
    settings: dict
    processing_model: object = dataclasses.field(repr=False, default=None)

    @property
    def time_s(self):
        return np.arange(self.stimulus.size) / self.fs


def _require_tensorflow():
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"the backpropagation use case trains with tf.GradientTape and needs the TensorFlow backend of "
            f"Keras; found KERAS_BACKEND={keras.backend.backend()!r}. Set KERAS_BACKEND=tensorflow.")


def processing_network(n_layers=3, n_filters=16, kernel_size=64, input_scale=0.1, name="processing"):
    """The processing network P: (B, T, 1) -> (B, T, 1), IHC-input units.

    ``P(x) = x + s·f(x / s)`` with ``s = input_scale`` and ``f`` = ``n_layers`` Conv1D layers
    ('same' padding; tanh between them, a linear last layer with zero-initialised weights),
    so that P starts as the identity.
    """
    import keras
    from keras import layers

    if int(n_layers) < 1:
        raise ValueError(f"n_layers must be >= 1, got {n_layers!r}")
    x_in = keras.Input((None, 1), name="ihc_input")
    h = layers.Rescaling(1.0 / input_scale, name="normalise")(x_in)
    for i in range(int(n_layers) - 1):
        h = layers.Conv1D(n_filters, kernel_size, padding="same", activation="tanh", name=f"conv_{i + 1}")(h)
    h = layers.Conv1D(1, kernel_size, padding="same", kernel_initializer="zeros", name=f"conv_{int(n_layers)}")(h)
    h = layers.Rescaling(input_scale, name="denormalise")(h)
    out = layers.Add(name="residual")([x_in, h])
    return keras.Model(x_in, out, name=name)


def training_stimuli(levels_db_spl, modulation_depths, response_samples, carrier_hz=CARRIER_HZ, fm_hz=FM_HZ,
                     input_gain=1.0):
    """SAM tones as IHC inputs: (n_levels * n_depths, 16384, 1) float32 and the (level, depth) of each row.

    Each row: 7936 samples of silent context, a SAM tone of ``response_samples`` samples
    (2.5-ms Hann ramps, calibrated in dB SPL, values used as µm/s times ``input_gain``), silence.
    """
    from ..analysis import stimuli

    n_resp = int(response_samples)
    if not 16 <= n_resp <= SEGMENT - LEFT_CONTEXT - MODEL_INFO["anfh"]["context"][1]:
        raise ValueError(
            f"response_samples must be from 16 to {SEGMENT - LEFT_CONTEXT - 256}, got {response_samples!r}")
    conditions = [(float(L), float(m)) for L in np.atleast_1d(levels_db_spl) for m in np.atleast_1d(modulation_depths)]
    if not conditions:
        raise ValueError("give at least one level and one modulation depth")
    x = np.zeros((len(conditions), SEGMENT, 1), dtype=np.float32)
    for i, (level, depth) in enumerate(conditions):
        s = stimuli.sam_tone(carrier_hz, fm_hz, depth, level, n_resp / FS, FS, ramp_s=2.5e-3, ramp_shape="hann")
        x[i, LEFT_CONTEXT:LEFT_CONTEXT + s.size, 0] = s * input_gain
    return x, conditions


def frozen_chain(ihc_model, anf_model, response_samples):
    """f(x): IHC input (B, 16384, 1) in CNN units -> ANF output (B, response_samples, 1) in CNN units
    (one fibre), through the uncropped IHC and the cropped ANF model; differentiable, weights untouched."""
    from ..cnn.architectures import per_channel_model

    ihc_u = per_channel_model(ihc_model, cropped=False)
    anf_c = per_channel_model(anf_model, cropped=True)
    n = int(response_samples)

    def chain(x):
        return anf_c(ihc_u(x, training=False), training=False)[:, :n, :]

    return chain


def fig8_loss(y, target, spectral_weight=1.0):
    """Mean absolute error of the time signals + spectral_weight x that of |rfft| / N; (B, N, 1) tensors."""
    from keras import ops

    y = ops.convert_to_tensor(y, dtype="float32")
    target = ops.convert_to_tensor(target, dtype="float32")
    l_time = ops.mean(ops.abs(y - target))
    n = y.shape[1]

    def mag(a):
        re, im = ops.rfft(ops.transpose(a, (0, 2, 1)))
        return ops.sqrt(re * re + im * im + 1e-12) / n

    l_freq = ops.mean(ops.abs(mag(y) - mag(target)))
    return l_time + spectral_weight * l_freq


def _batched(fn, x, batch_size):
    return np.concatenate([np.asarray(fn(x[i:i + batch_size])) for i in range(0, len(x), batch_size)])


def train(ihc_model, anf_model, x, steps, batch_size=4, learning_rate=1e-3, spectral_weight=1.0,
          response_samples=4096, n_normal=N_FIBRES_NORMAL, n_pathological=N_FIBRES_SYNAPTOPATHIC,
          network=None, seed=0, progress=True):
    """Train P through the frozen chain on IHC inputs ``x`` (n, 16384, 1); returns (P, loss history,
    loss before, loss after) with losses over all of ``x`` before and after training."""
    import keras
    import tensorflow as tf
    from tqdm.auto import tqdm

    _require_tensorflow()
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 3 or x.shape[1] != SEGMENT or x.shape[2] != 1:
        raise ValueError(f"x must have shape (n, {SEGMENT}, 1) (IHC inputs of one ANF segment), got {x.shape}")
    chain = frozen_chain(ihc_model, anf_model, response_samples)
    p = network if network is not None else processing_network()
    target = n_normal * _batched(chain, x, batch_size)
    weight = float(spectral_weight)

    def full_loss():
        y = n_pathological * _batched(lambda b: chain(p(b, training=False)), x, batch_size)
        return float(fig8_loss(y, target, weight))

    loss_before = full_loss()
    opt = keras.optimizers.Adam(learning_rate=learning_rate)
    opt.build(p.trainable_variables)

    @tf.function(reduce_retracing=True)
    def step(xb, tb):
        with tf.GradientTape() as tape:
            y = n_pathological * chain(p(xb, training=True))
            loss = fig8_loss(y, tb, weight)
        grads = tape.gradient(loss, p.trainable_variables)
        opt.apply_gradients(zip(grads, p.trainable_variables))
        return loss

    rng = np.random.default_rng(seed)
    bs = min(int(batch_size), len(x))
    history = []
    order = np.array([], dtype=int)
    with tqdm(total=int(steps), desc="training P", unit="step", disable=not progress) as bar:
        for _ in range(int(steps)):
            if order.size < bs:
                order = np.concatenate([order, rng.permutation(len(x))])
            idx, order = order[:bs], order[bs:]
            history.append(float(step(tf.constant(x[idx]), tf.constant(target[idx]))))
            bar.set_postfix(loss=f"{history[-1]:.4g}")
            bar.update()
    return p, history, loss_before, full_loss()


def run(weights="connear-lab", quick=False, levels_db_spl=None, modulation_depths=None, response_samples=None,
        steps=None, batch_size=None, learning_rate=1e-3, spectral_weight=1.0, anf="anfh",
        n_normal=N_FIBRES_NORMAL, n_pathological=N_FIBRES_SYNAPTOPATHIC, input_gain=1.0, network=None,
        seed=0, progress=True):
    """The Fig. 8 experiment; returns a :class:`BackpropResult`.

    weights: CoNNear weights for the IHC and ANF models ("connear-lab", "official", a path, a
        dict {"ihc": model or source, "anfh": ...}, or "untrained"); missing weights -> untrained
        models and a message.
    quick: use the QUICK sizes (2 stimuli, 2048 samples, 6 steps), whatever the size arguments say.
    levels_db_spl, modulation_depths, response_samples, steps, batch_size: sizes; None = the FULL defaults.
    anf: which ANF model ("anfh", the paper's choice; "anfm"/"anfl" also work).
    seed: seeds the untrained models (if any), P's initial weights and the batch order.
    """
    import keras

    from ..cnn.weights import load_models_or_untrained

    _require_tensorflow()
    s = dict(levels_db_spl=levels_db_spl, modulation_depths=modulation_depths,
             response_samples=response_samples, steps=steps, batch_size=batch_size)
    s = dict(QUICK) if quick else {k: (FULL[k] if v is None else v) for k, v in s.items()}
    if n_pathological > n_normal or n_pathological < 1:
        raise ValueError(f"n_pathological must be from 1 to n_normal = {n_normal}, got {n_pathological!r}")
    models, trained, message = load_models_or_untrained(("ihc", anf), weights, seed=seed)
    if message:
        print(message + " The use case then only demonstrates the mechanics of training through the models.")
    keras.utils.set_random_seed(int(seed))
    if network is None:
        network = processing_network()
    x, conditions = training_stimuli(s["levels_db_spl"], s["modulation_depths"], s["response_samples"],
                                     input_gain=input_gain)
    p, history, loss_before, loss_after = train(
        models["ihc"], models[anf], x, s["steps"], batch_size=s["batch_size"], learning_rate=learning_rate,
        spectral_weight=spectral_weight, response_samples=s["response_samples"], n_normal=n_normal,
        n_pathological=n_pathological, network=network, seed=seed, progress=progress)

    x_eval, _ = training_stimuli([EVAL_LEVEL_DB_SPL], [EVAL_DEPTH], s["response_samples"], input_gain=input_gain)
    chain = frozen_chain(models["ihc"], models[anf], s["response_samples"])
    x_proc = np.asarray(p(x_eval, training=False))
    one = np.asarray(chain(x_eval))[0, :, 0] / ANF_SCALING
    after = np.asarray(chain(x_proc))[0, :, 0] / ANF_SCALING
    n = int(s["response_samples"])
    window = slice(LEFT_CONTEXT, LEFT_CONTEXT + n)
    settings = dict(s, learning_rate=learning_rate, spectral_weight=spectral_weight, anf=anf, n_normal=n_normal,
                    n_pathological=n_pathological, input_gain=input_gain, seed=seed, quick=bool(quick),
                    conditions=conditions, carrier_hz=CARRIER_HZ, fm_hz=FM_HZ,
                    eval_level_db_spl=EVAL_LEVEL_DB_SPL, eval_depth=EVAL_DEPTH)
    return BackpropResult(
        fs=FS, stimulus=x_eval[0, window, 0].astype(np.float64), processed=x_proc[0, window, 0].astype(np.float64),
        response_normal=n_normal * one.astype(np.float64), response_before=n_pathological * one.astype(np.float64),
        response_after=n_pathological * after.astype(np.float64), loss_history=history,
        loss_before=loss_before, loss_after=loss_after, trained=trained, message=message, settings=settings,
        processing_model=p)


def plot(result, stimulus_ms=51.2):
    """Fig. 8: (a) stimulus before/after P (first ``stimulus_ms``), (b) summed ANF responses, (c) loss. Returns the figure."""
    import matplotlib.pyplot as plt

    r = result
    t_ms = 1e3 * r.time_s
    s = r.settings
    fig, ax = plt.subplots(3, 1, figsize=(8, 8.5), gridspec_kw={"height_ratios": [1, 1.3, 0.8]})
    k = t_ms < stimulus_ms
    ax[0].plot(t_ms[k], r.processed[k], color="C0", lw=0.9, label="processed by P")
    ax[0].plot(t_ms[k], r.stimulus[k], color="0.2", lw=0.6, label="unprocessed")
    ax[0].set_ylabel("IHC input [CNN units]")
    ax[0].set_xlabel("time [ms]")
    ax[0].set_title(f"(a) {s['carrier_hz'] / 1e3:g}-kHz SAM tone, {s['eval_level_db_spl']:g} dB SPL, "
                    f"m = {s['eval_depth']:g}", fontsize=9, loc="left")
    ax[0].legend(fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False)
    nn, npat = s["n_normal"], s["n_pathological"]
    # drawn so that none hides another: the target in black, the processed response translucent,
    # the unprocessed synaptopathic one dashed on top
    ax[1].plot(t_ms, r.response_normal, color="k", lw=1.0, label=f"{nn} fibres (normal), unprocessed", zorder=1)
    ax[1].plot(t_ms, r.response_after, color="C0", lw=0.9, alpha=0.6,
               label=f"{npat} fibres (synaptopathy), processed", zorder=2)
    ax[1].plot(t_ms, r.response_before, color="C3", lw=0.8, ls="--",
               label=f"{npat} fibres (synaptopathy), unprocessed", zorder=3)
    ax[1].set_ylabel(f"summed {_FIBRE_LABEL.get(s['anf'], s['anf'])} rate [spikes/s]")
    ax[1].set_xlabel("time [ms]")
    ax[1].set_title("(b) summed ANF responses of the frozen CoNNear IHC-ANF models", fontsize=9, loc="left")
    peaks = [float(np.max(np.abs(y))) for y in (r.response_normal, r.response_before, r.response_after)]
    if min(peaks) > 0 and max(peaks) > 10 * min(peaks):
        # traces of very different size (e.g. untrained models): a symmetric log axis shows them all
        ax[1].set_yscale("symlog", linthresh=0.05 * min(peaks))
        ax[1].set_ylabel(ax[1].get_ylabel() + "\n(symmetric log scale)")
    ax[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.18), ncol=2, frameon=False)
    ax[2].plot(np.arange(1, len(r.loss_history) + 1), r.loss_history, color="C2",
               marker="." if len(r.loss_history) < 30 else None)
    ax[2].axhline(r.loss_before, color="0.5", ls=":", lw=0.8, label=f"all stimuli, before: {r.loss_before:.4g}")
    ax[2].axhline(r.loss_after, color="C2", ls=":", lw=0.8, label=f"all stimuli, after: {r.loss_after:.4g}")
    ax[2].set_xlabel("training step")
    ax[2].set_ylabel("L1 loss (time + spectrum)")
    ax[2].set_title("(c) training of P (batch loss)", fontsize=9)
    ax[2].legend(fontsize=8)
    title = "Backpropagation through CoNNear: restoring a synaptopathic ANF response (paper Fig. 8)"
    if not r.trained:
        title += "\nUNTRAINED CoNNear models (weights missing): shows the mechanics only, not the paper's result"
    fig.suptitle(title, fontsize=10, color="k" if r.trained else "C3")
    fig.tight_layout()
    return fig


def table(result):
    """The numbers behind the figure as a dict of columns (time series, then the loss history)."""
    r = result
    return {
        "time_ms": 1e3 * r.time_s,
        "stimulus_unprocessed": r.stimulus,
        "stimulus_processed": r.processed,
        f"rate_{r.settings['n_normal']}fibres_unprocessed_spikes_per_s": r.response_normal,
        f"rate_{r.settings['n_pathological']}fibres_unprocessed_spikes_per_s": r.response_before,
        f"rate_{r.settings['n_pathological']}fibres_processed_spikes_per_s": r.response_after,
        "step": np.arange(1, len(r.loss_history) + 1),
        "batch_loss": np.asarray(r.loss_history),
    }


def fig8(weights="connear-lab", quick=False, **kwargs):
    """Run the use case (:func:`run`, same arguments) and return ``(figure, table)``."""
    result = run(weights=weights, quick=quick, **kwargs)
    return plot(result), table(result)


def fig8_backpropagation(weights="connear-lab", *, quick=False, mode=None, cache=None, progress=False, **kwargs):
    """:func:`fig8` with the call signature of the figure run (``connear_helpers.paper.figures.FIGURES``).

    ``mode`` and ``cache`` are accepted and ignored (the use case has no cochlea and caches nothing).
    """
    return fig8(weights=weights, quick=quick, progress=progress, **kwargs)
