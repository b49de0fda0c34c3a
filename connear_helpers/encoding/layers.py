"""Keras 3 layers of the encoding models (any backend): STRF, output nonlinearity, leaky
integrator, ON/OFF prefilter. Every layer works on (batch, time, channels) tensors and is causal:
the output at bin t depends on the inputs at bins <= t only.
"""
from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

__all__ = ["STRF", "OutputNonlinearity", "LeakyIntegrator", "OnOffPrefilter", "causal_conv", "inverse_softplus"]


def inverse_softplus(y):
    """x with softplus(x) = y, for y > 0 (float)."""
    y = float(y)
    return y + math.log(-math.expm1(-y))


def causal_conv(x, kernel):
    """y[b, t, k] = sum over lag τ and channel f of kernel[τ, f, k] · x[b, t - τ, f] (zeros before t = 0).

    x: (batch, time, channels) tensor. kernel: (T, channels, k) tensor, lag τ = 0 first.
    Returns (batch, time, k).
    """
    lags = kernel.shape[0]
    xp = ops.pad(x, [[0, 0], [lags - 1, 0], [0, 0]])
    # ops.conv is a cross-correlation: reversing the lag axis makes it a causal convolution
    return ops.conv(xp, ops.flip(kernel, axis=0), strides=1, padding="valid")


@keras.saving.register_keras_serializable(package="connear_lab_encoding")
class STRF(keras.layers.Layer):
    """Spectro-temporal receptive fields: units k = 1..K each sum their input over T past bins.

    y[t, k] = sum_τ sum_f w[τ, f, k] x[t - τ, f] + b[k].
    lags: T (bins of past context, the current bin included). units: K.
    rank: None for a full (T, F) kernel per unit, or r for a separable kernel of rank r,
        w[τ, f, k] = sum_i u[τ, i, k] v[f, i, k] (fewer parameters: r·(T + F) instead of T·F).
    l2: weight of the squared-weight penalty on the kernel (or on both factors).
    bias_init: initial bias. seed: initial weights.
    """

    def __init__(self, lags, units, rank=None, l2=0.0, bias_init=0.0, init_scale=0.01, seed=None, **kwargs):
        super().__init__(**kwargs)
        if int(lags) != lags or lags < 1:
            raise ValueError(f"lags (T) must be a positive number of bins, got {lags!r}")
        if rank is not None and (int(rank) != rank or rank < 1):
            raise ValueError(f"rank must be None (full STRF) or a positive integer, got {rank!r}")
        self.lags, self.units = int(lags), int(units)
        self.rank = None if rank is None else int(rank)
        self.l2, self.bias_init, self.init_scale, self.seed = float(l2), float(bias_init), float(init_scale), seed

    def build(self, input_shape):
        f = int(input_shape[-1])
        reg = keras.regularizers.L2(self.l2) if self.l2 > 0 else None
        seed = None if self.seed is None else int(self.seed)
        if self.rank is None:
            init = keras.initializers.RandomNormal(stddev=self.init_scale / math.sqrt(self.lags * f), seed=seed)
            self.kernel = self.add_weight(shape=(self.lags, f, self.units), initializer=init, regularizer=reg,
                                          name="kernel")
        else:
            s = math.sqrt(self.init_scale / math.sqrt(self.lags * f))
            self.temporal = self.add_weight(shape=(self.lags, self.rank, self.units), regularizer=reg,
                                            initializer=keras.initializers.RandomNormal(stddev=s, seed=seed),
                                            name="temporal")
            self.spectral = self.add_weight(shape=(f, self.rank, self.units), regularizer=reg,
                                            initializer=keras.initializers.RandomNormal(
                                                stddev=s, seed=None if seed is None else seed + 1),
                                            name="spectral")
        self.bias = self.add_weight(shape=(self.units,), initializer=keras.initializers.Constant(self.bias_init),
                                    name="bias")

    def full_kernel(self):
        """The kernel as a (T, F, K) tensor (the product of the factors when separable)."""
        if self.rank is None:
            return self.kernel
        return ops.einsum("tik,fik->tfk", self.temporal, self.spectral)

    def call(self, x):
        return causal_conv(x, self.full_kernel()) + self.bias

    def get_config(self):
        return {**super().get_config(), "lags": self.lags, "units": self.units, "rank": self.rank, "l2": self.l2,
                "bias_init": self.bias_init, "init_scale": self.init_scale, "seed": self.seed}


@keras.saving.register_keras_serializable(package="connear_lab_encoding")
class OutputNonlinearity(keras.layers.Layer):
    """A parametric static nonlinearity per output unit, with learnable parameters.

    kind: "sigmoid": r = base + gain · sigmoid(z) (with the STRF's scale and bias, a
    4-parameter logistic); "softplus": r = base + gain · softplus(z); "exponential":
    r = gain · exp(z); "identity": r = z. base, gain >= 0, so the first three give r >= 0.
    base_init, gain_init: initial base and gain (in the model's normalised response unit).
    """

    KINDS = ("sigmoid", "softplus", "exponential", "identity")

    def __init__(self, kind="sigmoid", base_init=0.05, gain_init=2.0, **kwargs):
        super().__init__(**kwargs)
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {self.KINDS}, got {kind!r}")
        self.kind, self.base_init, self.gain_init = kind, float(base_init), float(gain_init)

    @property
    def positive(self):
        return self.kind != "identity"

    def build(self, input_shape):
        k = int(input_shape[-1])
        if self.kind == "identity":
            return
        self.raw_gain = self.add_weight(shape=(k,), initializer=keras.initializers.Constant(
            inverse_softplus(self.gain_init)), name="raw_gain")
        if self.kind in ("sigmoid", "softplus"):
            self.raw_base = self.add_weight(shape=(k,), initializer=keras.initializers.Constant(
                inverse_softplus(self.base_init)), name="raw_base")

    def call(self, z):
        if self.kind == "identity":
            return z
        gain = ops.softplus(self.raw_gain)
        if self.kind == "exponential":
            return gain * ops.exp(ops.minimum(z, 30.0))
        f = ops.sigmoid(z) if self.kind == "sigmoid" else ops.softplus(z)
        return ops.softplus(self.raw_base) + gain * f

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "base_init": self.base_init, "gain_init": self.gain_init}


def _exponential_kernel(tau_bins, length):
    """(length, C) impulse responses (1 - a)·a^k, a = exp(-1/τ), normalised to unit sum (DC gain 1)."""
    a = ops.exp(-1.0 / tau_bins)[None, :]
    k = ops.cast(ops.arange(length), a.dtype)[:, None]
    h = ops.power(a, k)
    return h / ops.sum(h, axis=0, keepdims=True)


@keras.saving.register_keras_serializable(package="connear_lab_encoding")
class LeakyIntegrator(keras.layers.Layer):
    """A first-order low-pass (leaky integrator) per channel with a learnable time constant.

    s[t] = a·s[t-1] + (1 - a)·u[t], a = exp(-dt/τ), computed as a causal convolution with its
    impulse response truncated at ``kernel_bins`` bins and renormalised to unit DC gain (exact
    for τ << kernel_bins·dt; τ is kept below kernel_bins·dt/3 so the truncation stays under 5 %).
    dt: bin width (s). tau_init_s: initial τ (s). tau_min_s: lower bound of τ (default dt/2).
    """

    def __init__(self, dt, tau_init_s=0.01, tau_min_s=None, kernel_bins=40, **kwargs):
        super().__init__(**kwargs)
        self.dt, self.tau_init_s = float(dt), float(tau_init_s)
        self.tau_min_s = float(dt) / 2 if tau_min_s is None else float(tau_min_s)
        self.kernel_bins = int(kernel_bins)
        self.tau_max_s = self.kernel_bins * self.dt / 3.0
        if not self.tau_min_s < self.tau_init_s < self.tau_max_s:
            raise ValueError(f"tau_init_s must lie between {self.tau_min_s:g} s and {self.tau_max_s:g} s "
                             f"(kernel_bins·dt/3), got {tau_init_s!r}; raise kernel_bins for longer time constants")

    def build(self, input_shape):
        c = int(input_shape[-1])
        frac = (self.tau_init_s - self.tau_min_s) / (self.tau_max_s - self.tau_min_s)
        self.raw_tau = self.add_weight(shape=(c,), initializer=keras.initializers.Constant(
            math.log(frac / (1 - frac))), name="raw_tau")

    def tau_s(self):
        """Time constants (C,) in s (a tensor)."""
        return self.tau_min_s + (self.tau_max_s - self.tau_min_s) * ops.sigmoid(self.raw_tau)

    def call(self, u):
        h = _exponential_kernel(self.tau_s() / self.dt, self.kernel_bins)
        lags = self.kernel_bins
        up = ops.pad(u, [[0, 0], [lags - 1, 0], [0, 0]])
        return ops.depthwise_conv(up, ops.flip(h, axis=0)[:, :, None], strides=1, padding="valid")

    def get_config(self):
        return {**super().get_config(), "dt": self.dt, "tau_init_s": self.tau_init_s, "tau_min_s": self.tau_min_s,
                "kernel_bins": self.kernel_bins}


@keras.saving.register_keras_serializable(package="connear_lab_encoding")
class OnOffPrefilter(keras.layers.Layer):
    """Bipolar adaptation prefilter: each frequency band split into an ON and an OFF channel.

    With m[t] the band's own leaky average (time constant τ_f) and w_f in (0, 1) the adaptation
    strength, d[t] = x[t] - w_f·m[t]; ON = max(d, 0) (increments over the adapted level) and
    OFF = max(-d, 0) (decrements). τ_f and w_f are learnable, per band. Output: (batch, time,
    2F), the F ON channels first. dt: bin width (s). tau_init_s: initial τ (s).
    strength_init: initial w. kernel_bins: truncation of the leaky average (see LeakyIntegrator).
    """

    def __init__(self, dt, tau_init_s=0.05, strength_init=0.8, kernel_bins=60, **kwargs):
        super().__init__(**kwargs)
        if not 0 < strength_init < 1:
            raise ValueError(f"strength_init must lie in (0, 1), got {strength_init!r}")
        self.dt, self.tau_init_s, self.strength_init = float(dt), float(tau_init_s), float(strength_init)
        self.kernel_bins = int(kernel_bins)
        self.average = LeakyIntegrator(dt, tau_init_s, kernel_bins=kernel_bins, name="adaptation")

    def build(self, input_shape):
        f = int(input_shape[-1])
        self.average.build(input_shape)
        w = self.strength_init
        self.raw_strength = self.add_weight(shape=(f,), initializer=keras.initializers.Constant(
            math.log(w / (1 - w))), name="raw_strength")

    def strength(self):
        """Adaptation strengths w (F,) in (0, 1) (a tensor)."""
        return ops.sigmoid(self.raw_strength)

    def tau_s(self):
        """Adaptation time constants (F,) in s (a tensor)."""
        return self.average.tau_s()

    def call(self, x):
        d = x - self.strength() * self.average(x)
        return ops.concatenate([ops.relu(d), ops.relu(-d)], axis=-1)

    def get_config(self):
        return {**super().get_config(), "dt": self.dt, "tau_init_s": self.tau_init_s,
                "strength_init": self.strength_init, "kernel_bins": self.kernel_bins}


def to_numpy(x):
    """A tensor or variable (any backend) as a float64 NumPy array."""
    if hasattr(x, "numpy"):  # TensorFlow and torch: avoids NumPy 2's __array__(copy=) deprecation path
        return np.asarray(x.numpy(), dtype=np.float64)
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)
