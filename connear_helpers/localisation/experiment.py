"""The runs of notebook 12 and of benchmarks/bench_snn_localisation.py, in one place.

:data:`ABSTRACT_NETWORK` and :data:`ABSTRACT_TRAINING` are the teaching notebook's settings;
:data:`PERIPHERY_INPUT`, :data:`PERIPHERY_NETWORK` and :data:`PERIPHERY_TRAINING` are this lab's
for the two ears (the same network, with a hidden time constant short enough to follow a
500-Hz tone, see :data:`PERIPHERY_NETWORK`). ``quick=True`` shrinks every size (the notebook's CI
mode) and runs the same code.
"""
from __future__ import annotations

import dataclasses

import time

import numpy as np

from . import inputs, snn, training

#: The teaching notebook's network: 30 hidden LIF units, 5-ms time constants, threshold 1.
ABSTRACT_NETWORK = snn.NetworkConfig()
#: The teaching notebook's schedule: Adam, learning rate 0.005, 150 epochs of 64 batches of 64.
ABSTRACT_TRAINING = training.TrainingConfig()

#: The periphery input: a 500-Hz tone at 60 dB SPL, 8 CFs from 0.7 to 2 times the tone
#: (349-1007 Hz), 12 HSR fibres per CF and ear (192 inputs, like the teaching notebook's 200),
#: 40 ms heard from 20 ms after the onset (past the onset burst, whose peak would otherwise
#: dominate the maximum of the output units), in 0.1-ms steps (20 per period of the tone).
PERIPHERY_INPUT = inputs.PeripheryConfig(freq_hz=500.0, level_db_spl=60.0, fibres=("anfh",), n_fibres=12,
                                         window_s=0.04, window_start_s=0.02, dt=1e-4)
#: The same network for the ears, with a 1-ms hidden time constant (5 ms would average away the
#: 2-ms period of the tone: the hidden units must detect coincidences of the two ears' spikes),
#: a 10-ms output time constant (the output units average over 5 periods) and initial input
#: weights of ±0.25 (found by a small search; ±0.15 learns as well but more slowly, 5-ms or 0.5-ms
#: hidden time constants did not learn in 5 epochs).
PERIPHERY_NETWORK = snn.NetworkConfig(tau_hidden_s=1e-3, tau_output_s=1e-2, input_weight_bound=0.25)
#: The periphery schedule: fewer epochs than the abstract input (each batch has 4 times more steps).
PERIPHERY_TRAINING = training.TrainingConfig(epochs=40)
#: Starting phases simulated for the training bank.
N_PHASES = 8


def quick_training(cfg, epochs=3, batches_per_epoch=8, batch_size=32):
    """A shrunken schedule for quick runs (same learning rate and seed)."""
    return dataclasses.replace(cfg, epochs=epochs, batches_per_epoch=batches_per_epoch, batch_size=batch_size)


def periphery_input(quick=False, **changes):
    """PERIPHERY_INPUT with changes (PeripheryConfig fields); quick shortens the window to 10 ms,
    starting 5 ms after the onset (sounds of 25 ms instead of 70 ms)."""
    cfg = dataclasses.replace(PERIPHERY_INPUT, **changes)
    if quick:
        cfg = dataclasses.replace(cfg, window_s=min(cfg.window_s, 0.01), window_start_s=min(cfg.window_start_s, 0.005))
    return cfg


#: Test sizes: presentations simulated for the clean test set and for each SNR, and fresh spike
#: draws per presentation (the frequency sweep draws as many from a tone bank per frequency).
N_TEST = 96
N_ROBUSTNESS = 24
REPEATS = 8
#: Robustness sweeps: SNRs of the diffuse noise (dB; None = no noise) and tone frequencies (Hz).
SNRS_DB = (None, 20.0, 10.0, 0.0, -10.0)
FREQS_HZ = (250.0, 350.0, 500.0, 700.0, 1000.0)


@dataclasses.dataclass
class Run:
    """One input's trained network and its test. name: "abstract" or "periphery". source: the
    training input. test: the test input (independent draws). result: training.TrainingResult.
    evaluation: training.Evaluation. seconds: training + test wall time (s). note: what the
    periphery used when it is not what was asked for (missing CoNNear weights), or None."""

    name: str
    source: object
    test: object
    result: object
    evaluation: object
    seconds: float
    note: str | None = None

    @property
    def network(self):
        return self.result.network


def run_abstract(quick=False, epochs=None, seed=0, progress=True, callback=None):
    """Train and test the network on the teaching notebook's input.

    quick: 3 epochs of 8 batches of 32. epochs: override the number of epochs (None: 150, or
    3 in quick mode). Returns a :class:`Run` (test: 4096 samples, 512 in quick mode).
    """
    t0 = time.perf_counter()
    source = inputs.AbstractIPDInput()
    cfg = quick_training(ABSTRACT_TRAINING) if quick else ABSTRACT_TRAINING
    cfg = dataclasses.replace(cfg, seed=seed, **({} if epochs is None else {"epochs": int(epochs)}))
    net = dataclasses.replace(ABSTRACT_NETWORK, seed=seed)
    result = training.train(source, net, cfg, progress=progress, callback=callback)
    ev = training.evaluate(result, source, n_samples=512 if quick else 4096, seed=seed + 12345)
    return Run("abstract", source, source, result, ev, time.perf_counter() - t0)


def periphery_sources(config=None, quick=False, n_test=None, seed=0, cache=None, progress=False):
    """The training bank and the independent test set of the periphery input.

    config: PeripheryConfig (default :func:`periphery_input`). quick: 2 starting phases and 12
    test presentations (one per class). n_test: test presentations (default N_TEST).
    Returns (ToneBankInput, PresentationSet).
    """
    config = periphery_input(quick) if config is None else config
    bank = inputs.ToneBankInput(config, n_phases=2 if quick else N_PHASES, seed=seed, cache=cache,
                                progress=progress)
    n = config.n_classes if quick else (N_TEST if n_test is None else int(n_test))
    test = inputs.PresentationSet(config, n, seed=seed + 1000, cache=cache, progress=progress)
    return bank, test


def run_periphery(bank, test, quick=False, epochs=None, seed=0, progress=True, callback=None):
    """Train the network on a tone bank and test it on a PresentationSet. Returns a :class:`Run`."""
    t0 = time.perf_counter()
    cfg = quick_training(PERIPHERY_TRAINING) if quick else PERIPHERY_TRAINING
    cfg = dataclasses.replace(cfg, seed=seed, **({} if epochs is None else {"epochs": int(epochs)}))
    net = dataclasses.replace(PERIPHERY_NETWORK, seed=seed, n_classes=bank.n_classes)
    result = training.train(bank, net, cfg, progress=progress, callback=callback)
    ev = training.evaluate(result, test, n_samples=(2 if quick else REPEATS) * len(test), seed=seed + 12345)
    return Run("periphery", bank, test, result, ev, time.perf_counter() - t0, note=bank.note or test.note)


def robustness(run, quick=False, snrs_db=None, freqs_hz=None, seed=0, cache=None, progress=False):
    """Accuracy of a periphery run against the SNR of a diffuse noise and against tone frequency.

    The clean, trained-frequency point is the run's own test. quick: one SNR (10 dB, 6
    presentations) and one other frequency (350 Hz). Returns (snr dict, frequency dict) as
    training.accuracy_vs_snr / accuracy_vs_frequency, sorted by frequency.
    """
    config = run.test.config
    snrs = ((10.0,) if quick else SNRS_DB) if snrs_db is None else tuple(snrs_db)
    freqs = ((350.0,) if quick else FREQS_HZ) if freqs_hz is None else tuple(freqs_hz)
    n = 6 if quick else N_ROBUSTNESS
    repeats = 2 if quick else REPEATS
    own = run.evaluation
    noisy = [s for s in snrs if s is not None]
    snr = training.accuracy_vs_snr(run.network, config, noisy, n, repeats, seed + 2000, cache, progress)
    snr = {k: np.append(v, np.nan if k == "snr_db" else (own.accuracy if k == "accuracy" else own.mae_deg))
           for k, v in snr.items()}
    others = [f for f in freqs if f != config.freq_hz]
    freq = training.accuracy_vs_frequency(run.network, config, others, n, repeats, seed + 3000, cache, progress,
                                          n_phases=2 if quick else 4)
    freq = {k: np.append(v, config.freq_hz if k == "freq_hz" else (own.accuracy if k == "accuracy" else own.mae_deg))
            for k, v in freq.items()}
    order = np.argsort(freq["freq_hz"])
    freq = {k: v[order] for k, v in freq.items()}
    return snr, freq


def summary(runs, snr=None, freq=None):
    """Plain-text lines with the measured numbers (accuracy, error, robustness)."""
    lines = []
    for r in runs:
        ev = r.evaluation
        lines.append(f"{r.name:9s}: test accuracy {100 * ev.accuracy:5.1f} % (chance {100 * ev.chance:.1f} %), "
                     f"mean absolute error {ev.mae_deg:4.1f} degrees ({ev.true_deg.size} test samples); "
                     f"{r.result.config.epochs} epochs in {r.result.seconds / 60:.1f} min")
        if r.note:
            lines.append(f"           note: {r.note}")
    if snr is not None:
        pts = ", ".join(f"{'clean' if np.isnan(s) else f'{s:+.0f} dB'}: {100 * a:.0f} %"
                        for s, a in zip(snr["snr_db"], snr["accuracy"]))
        lines.append(f"accuracy against SNR (diffuse noise): {pts}")
    if freq is not None:
        pts = ", ".join(f"{f:.0f} Hz: {100 * a:.0f} %" for f, a in zip(freq["freq_hz"], freq["accuracy"]))
        lines.append(f"accuracy against tone frequency: {pts}")
    return lines
