"""Probe an IHC model with sinusoidal BM velocities: its mean potential against the reference's.

The IHC stage sees one BM velocity waveform per channel and knows nothing of CF, so its errors
are a function of the waveform alone. A grid of pure sinusoids (frequency x amplitude, 0.1 s with
a 10-ms onset ramp) shows where in that space a CNN departs from the reference IHC, e.g. at the
velocities of loud sounds that its training data seldom held. Stimuli of the probe are BM
velocities, not sounds: no evaluation stimulus goes through the TL model here.

    python -m connear_helpers.training.probe [--weights connear-lab]

prints, per amplitude [m/s] and frequency, the reference's mean potential [mV] over 50-95 ms and
the CNN's error [mV].
"""
from __future__ import annotations

import argparse

import numpy as np

from .. import constants as _constants

FS_REFERENCE = float(_constants.FS_REFERENCE)
FS_CNN = float(_constants.FS_CNN)
FREQS_HZ = (250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)
AMPLITUDES = tuple(float(a) for a in np.logspace(-7, -3, 9))  # m/s
DURATION_S, RAMP_S, MEAN_FROM_S, MEAN_TO_S = 0.1, 0.01, 0.05, 0.095


def _sinusoids(fs, freqs_hz, amplitude):
    t = np.arange(int(round(DURATION_S * fs))) / fs
    return (amplitude * np.minimum(1.0, t / RAMP_S))[:, None] * np.sin(2 * np.pi * np.outer(t, freqs_hz))


def ihc_mean_potential_table(ihc_cnn, freqs_hz=FREQS_HZ, amplitudes=AMPLITUDES):
    """(reference, cnn - reference): (n_amplitudes, n_freqs) mean IHC potentials over 50-95 ms [V].

    ihc_cnn: a function from BM velocity (T, C) [m/s] at 20 kHz to IHC potential (T, C) [V]
    (e.g. ``lambda v: inference.ihc_potential(v, model, fs=20000)``). The reference IHC runs at
    100 kHz on the same sinusoids and is compared at the same times.
    """
    from verhulst2018 import ihc

    freqs = np.asarray(freqs_hz, dtype=float)
    ref = np.empty((len(amplitudes), freqs.size))
    err = np.empty_like(ref)
    a20, b20 = int(MEAN_FROM_S * FS_CNN), int(MEAN_TO_S * FS_CNN)
    a100, b100 = int(MEAN_FROM_S * FS_REFERENCE), int(MEAN_TO_S * FS_REFERENCE)
    for i, amp in enumerate(amplitudes):
        v100 = np.ascontiguousarray(_sinusoids(FS_REFERENCE, freqs, amp))
        ref[i] = ihc.ihc_potential(v100, FS_REFERENCE, overwrite_input=True)[a100:b100].mean(axis=0)
        cnn = np.asarray(ihc_cnn(_sinusoids(FS_CNN, freqs, amp).astype(np.float32)), dtype=float)
        if cnn.shape != (int(round(DURATION_S * FS_CNN)), freqs.size):
            raise ValueError(f"ihc_cnn returned shape {cnn.shape}; expected (T, C) = "
                             f"({int(round(DURATION_S * FS_CNN))}, {freqs.size})")
        err[i] = cnn[a20:b20].mean(axis=0) - ref[i]
    return ref, err


def _main(argv=None):
    p = argparse.ArgumentParser(prog="python -m connear_helpers.training.probe", description=__doc__.split("\n")[0])
    p.add_argument("--weights", default="connear-lab", help="weight set or folder with the IHC model")
    a = p.parse_args(argv)
    from ..cnn import inference
    from ..cnn import weights as cnn_weights

    model = cnn_weights.load_model("ihc", a.weights, n_cf=1)
    ref, err = ihc_mean_potential_table(lambda v: inference.ihc_potential(v, model, fs=FS_CNN))
    print(f"IHC mean potential, reference [mV] / CNN - reference [mV] ({cnn_weights.weights_label(a.weights)})")
    print("amplitude [m/s] " + "".join(f"{f:>15.0f} Hz" for f in FREQS_HZ))
    for amp, r, e in zip(AMPLITUDES, ref * 1e3, err * 1e3):
        print(f"{amp:15.1e} " + "".join(f"{ri:11.2f} /{ei:+6.2f}" for ri, ei in zip(r, e)))


if __name__ == "__main__":
    _main()
