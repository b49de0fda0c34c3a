"""Training and evaluation: one code for the abstract and the periphery input.

:func:`train` runs Adam on the negative log-likelihood of the softmax of the class scores (the
teaching notebook: learning rate 0.005, 150 epochs of 64 batches of 64), drawing fresh spikes for
every batch from the input source. :func:`evaluate` reports accuracy, mean absolute error (degrees,
between the true value and the centre of the chosen class) and the confusion matrix on samples
drawn with another seed. :func:`accuracy_vs_snr` and :func:`accuracy_vs_frequency` test a network
trained on the periphery input on noisy tones and on other tone frequencies.

Reproducibility: ``seed`` fixes the initial weights (NetworkConfig.seed) and every batch (batch
``i`` of epoch ``e`` is drawn from ``numpy.random.default_rng([seed, e, i])``); Keras' global seed
is set and, on TensorFlow, deterministic ops are switched on while :func:`train` runs (and back off
after it, see :func:`determinism`). The same seed then gives the same weights and losses on one machine and backend.
"""
from __future__ import annotations

import contextlib
import dataclasses
import time

import numpy as np

from . import binaural
from .snn import NetworkConfig, build_network


@dataclasses.dataclass
class TrainingConfig:
    """epochs, batches_per_epoch, batch_size: the schedule. learning_rate: Adam's. seed: int."""

    epochs: int = 150
    batches_per_epoch: int = 64
    batch_size: int = 64
    learning_rate: float = 0.005
    seed: int = 0


@dataclasses.dataclass
class TrainingResult:
    """network: the trained snn.Network. loss, accuracy: (epochs,) mean over each epoch's batches
    (training data). seconds: wall time of the training (s). config: TrainingConfig."""

    network: object
    loss: np.ndarray
    accuracy: np.ndarray
    seconds: float
    config: TrainingConfig


@dataclasses.dataclass
class Evaluation:
    """accuracy: fraction correct. mae_deg: mean |true - centre of the chosen class| (degrees).
    confusion: (n_classes, n_classes) counts, rows true class, columns chosen class.
    true_deg, predicted_deg: (n,) degrees (predicted = class centre). chance: 1 / n_classes.
    value_name: "IPD" or "azimuth"."""

    accuracy: float
    mae_deg: float
    confusion: np.ndarray
    true_deg: np.ndarray
    predicted_deg: np.ndarray
    chance: float
    value_name: str

    def __str__(self):
        return (f"{self.value_name}: accuracy {100 * self.accuracy:.1f} % (chance {100 * self.chance:.1f} %), "
                f"mean absolute error {self.mae_deg:.1f} degrees over {self.true_deg.size} test samples")


@contextlib.contextmanager
def determinism(seed):
    """Seed Keras (Python, NumPy, backend) and run TensorFlow with deterministic ops inside the block.

    TensorFlow has no public switch back, so the previous state is restored through its internal
    config module (deterministic ops also turn XLA off, which the rest of the lab should keep).
    """
    import keras

    keras.utils.set_random_seed(int(seed))
    if keras.backend.backend() != "tensorflow":
        yield
        return
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config

    was_on = tf_config.is_op_determinism_enabled()
    tf.config.experimental.enable_op_determinism()
    try:
        yield
    finally:
        if not was_on:
            tf_config.disable_op_determinism()


def train(source, network=None, training=None, progress=True, callback=None):
    """Train a network on an input source (abstract or periphery).

    source: an input of connear_helpers.localisation.inputs (sample(rng, batch_size)).
    network: NetworkConfig (its n_classes must match the source's), or a snn.Network to go on
        training. training: TrainingConfig. progress: a tqdm bar over epochs with the loss.
    callback: called as callback(epoch, loss, accuracy) after every epoch (e.g. a live plot).
    Returns a :class:`TrainingResult`.
    """
    import keras

    training = TrainingConfig() if training is None else training
    with determinism(training.seed):
        return _train(source, network, training, progress, callback)


def _train(source, network, training, progress, callback):
    import keras

    if network is None or isinstance(network, NetworkConfig):
        cfg = NetworkConfig(n_classes=source.n_classes) if network is None else network
        if cfg.n_classes != source.n_classes:
            raise ValueError(f"the network has {cfg.n_classes} output units but the input has "
                             f"{source.n_classes} classes; make them equal")
        net = build_network(source.n_inputs, source.n_steps, source.dt, cfg)
    else:
        net = network
    net.model.compile(optimizer=keras.optimizers.Adam(training.learning_rate),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
    from tqdm.auto import tqdm

    losses, accs = [], []
    t0 = time.perf_counter()
    bar = tqdm(range(int(training.epochs)), desc="training", unit="epoch", disable=not progress)
    for epoch in bar:
        el, ea = [], []
        for i in range(int(training.batches_per_epoch)):
            rng = np.random.default_rng([int(training.seed), epoch, i])
            x, values = source.sample(rng, training.batch_size)
            y = binaural.to_class(values, source.n_classes).astype(np.int32)
            logs = net.model.train_on_batch(x, y, return_dict=True)  # metrics are per batch
            el.append(float(logs["loss"]))
            ea.append(float(logs["accuracy"]))
        losses.append(np.mean(el))
        accs.append(np.mean(ea))
        bar.set_postfix(loss=f"{losses[-1]:.3f}", accuracy=f"{accs[-1]:.2f}")
        if callback is not None:
            callback(epoch, losses[-1], accs[-1])
    return TrainingResult(net, np.asarray(losses), np.asarray(accs), time.perf_counter() - t0, training)


def predict(network, spikes):
    """Chosen class (B,) int of input spikes (B, T, n_inputs)."""
    return np.argmax(network.scores(spikes), axis=1)


def evaluate(network, source, n_samples=4096, seed=12345, batch_size=256):
    """Accuracy, mean absolute error and confusion matrix on test samples with fresh spikes.

    network: snn.Network (or TrainingResult). source: an input source; a PresentationSet gives
    each of its presentations in turn (n_samples=None: each once). n_samples: test samples.
    seed: int, independent of the training's batches ([seed, epoch, batch]).
    Returns an :class:`Evaluation`.
    """
    net = getattr(network, "network", network)
    k = source.n_classes
    rng = np.random.default_rng(int(seed))
    true, chosen = [], []
    for x, values in source.batches(rng, n_samples, batch_size):
        true.append(values)
        chosen.append(predict(net, x))
    true = np.concatenate(true)
    chosen = np.concatenate(chosen)
    true_class = binaural.to_class(true, k)
    centres = binaural.class_centres(k)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (true_class, chosen), 1)
    return Evaluation(accuracy=float(np.mean(true_class == chosen)),
                      mae_deg=float(np.mean(np.abs(true - centres[chosen]))),
                      confusion=confusion, true_deg=true, predicted_deg=centres[chosen],
                      chance=1.0 / k, value_name=source.value_name)


def accuracy_vs_snr(network, config, snrs_db, n_presentations=48, repeats=4, seed=7, cache=None,
                    progress=False):
    """Accuracy and error of a network trained on clean tones, in a diffuse noise.

    network: snn.Network. config: the PeripheryConfig it was trained with. snrs_db: SNRs (dB);
    None in the list means no noise. n_presentations: simulated presentations per SNR, each
    heard ``repeats`` times with fresh spikes. Returns a dict of (n_snr,) arrays: "snr_db"
    (nan for no noise), "accuracy", "mae_deg".
    """
    from .inputs import PresentationSet

    out = {"snr_db": [], "accuracy": [], "mae_deg": []}
    for snr in snrs_db:
        cfg = dataclasses.replace(config, snr_db=snr)
        test = PresentationSet(cfg, n_presentations, seed=seed, cache=cache, progress=progress)
        ev = evaluate(network, test, n_samples=repeats * len(test), seed=seed)
        out["snr_db"].append(np.nan if snr is None else float(snr))
        out["accuracy"].append(ev.accuracy)
        out["mae_deg"].append(ev.mae_deg)
    return {k: np.asarray(v) for k, v in out.items()}


def accuracy_vs_frequency(network, config, freqs_hz, n_presentations=48, repeats=4, seed=8, cache=None,
                          progress=False, n_phases=4):
    """Accuracy and error of a network trained at one tone frequency, tested at others.

    The network keeps its inputs (the CFs of config), the tone changes. The test sounds come
    from a tone bank per frequency (:class:`inputs.ToneBankInput`, n_phases simulated starting
    phases, new ones), n_presentations x repeats random azimuths with fresh spikes: clean
    tones need no simulation per azimuth. Other arguments as :func:`accuracy_vs_snr`.
    Returns a dict of (n_freq,) arrays: "freq_hz", "accuracy", "mae_deg".
    """
    from .inputs import ToneBankInput

    out = {"freq_hz": [], "accuracy": [], "mae_deg": []}
    for f in freqs_hz:
        cfg = dataclasses.replace(config, freq_hz=float(f), snr_db=None)
        test = ToneBankInput(cfg, n_phases=n_phases, seed=seed, cache=cache, progress=progress)
        ev = evaluate(network, test, n_samples=repeats * n_presentations, seed=seed)
        out["freq_hz"].append(float(f))
        out["accuracy"].append(ev.accuracy)
        out["mae_deg"].append(ev.mae_deg)
    return {k: np.asarray(v) for k, v in out.items()}
