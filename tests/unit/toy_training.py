"""Toy stand-ins shared by the training tests: a cheap reference model and a tiny network."""
import numpy as np


def fake_reference(signal_pa, cf_hz, signals, **options):
    """Cheap stand-in for verhulst2018 (SI units at 20 kHz)."""
    base = signal_pa[::5][:, None] * np.arange(1, len(cf_hz) + 1)[None, :]
    return {n: (1e-6 * base if n == "v" else -0.05 + 1e-3 * base) for n in signals}


def tiny_model(stage):
    """(B, 2560, 1) -> (B, 2048, 1): two small convolutions and the IHC context crop."""
    import keras

    inp = keras.Input((None, 1))
    h = keras.layers.Conv1D(4, 9, padding="same", activation="tanh")(inp)
    h = keras.layers.Conv1D(1, 9, padding="same")(h)
    return keras.Model(inp, keras.layers.Cropping1D((256, 256))(h), name="tiny")
