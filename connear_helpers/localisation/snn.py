"""The spiking network: leaky integrate-and-fire hidden units, leaky output units read by their maximum.

One time step ``dt`` (the input's step) of the network, for input spikes ``x_t`` (n_inputs,):

    h_t = x_t · W_in                                    input current of the hidden units
    v_t = a · v_{t-1} · (1 - s_{t-1}) + h_t             a = exp(-dt / tau_hidden); reset to 0
    s_t = Θ(v_t - threshold)                            a spike (0 or 1)
    u_t = b · u_{t-1} + s_t · W_out                     b = exp(-dt / tau_output); never spikes

and the class scores are ``max_t u_t`` (n_classes,), trained with the negative log-likelihood of
their softmax. The step function Θ has no useful derivative; its backward pass uses the
*surrogate gradient* ``dΘ/dx ≈ σ'(x) = beta · σ(beta x) · (1 - σ(beta x))``, the derivative of a
sigmoid of slope beta (:func:`spike_function`, a Keras custom gradient that works on the
TensorFlow and JAX backends). As usual for surrogate-gradient training (Zenke & Vogels 2021)
the reset ``(1 - s_{t-1})`` passes no gradient.

Dale's law (``dale_ratio``): each hidden unit is excitatory or inhibitory, a fraction
``dale_ratio`` of them excitatory: its outgoing weights are ``±|W_out|`` with one sign per unit.
The input fibres (auditory-nerve fibres are glutamatergic) are then excitatory: ``|W_in|``.

Shapes: input spikes (batch, n_steps, n_inputs) float32; class scores (batch, n_classes).
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np


@dataclasses.dataclass
class NetworkConfig:
    """Sizes, time constants and initialisation of the network.

    n_hidden: hidden LIF units. n_classes: output units. tau_hidden_s, tau_output_s: membrane
    time constants (s). threshold: firing threshold (reset to 0). beta: slope of the surrogate
    gradient's sigmoid (per unit of membrane potential). dale_ratio: None, or the fraction of
    excitatory hidden units (Dale's law). input_weight_bound, output_weight_bound: initial
    weights are uniform in ±bound; None gives 1/sqrt(n_hidden) and 1/sqrt(n_classes), the
    teaching notebook's PyTorch initialisation. seed: int, for the initial weights.
    """

    n_hidden: int = 30
    n_classes: int = 12
    tau_hidden_s: float = 5e-3
    tau_output_s: float = 5e-3
    threshold: float = 1.0
    beta: float = 5.0
    dale_ratio: float | None = None
    input_weight_bound: float | None = None
    output_weight_bound: float | None = None
    seed: int = 0

    def __post_init__(self):
        if self.dale_ratio is not None and not 0.0 <= self.dale_ratio <= 1.0:
            raise ValueError(f"dale_ratio must be None or a fraction between 0 and 1, got {self.dale_ratio!r}")
        if not (self.tau_hidden_s > 0 and self.tau_output_s > 0):
            raise ValueError("tau_hidden_s and tau_output_s must be positive (s)")
        if int(self.n_hidden) < 1 or int(self.n_classes) < 2:
            raise ValueError(f"need n_hidden >= 1 and n_classes >= 2, got {self.n_hidden}, {self.n_classes}")

    @property
    def input_bound(self):
        return 1.0 / np.sqrt(self.n_hidden) if self.input_weight_bound is None else float(self.input_weight_bound)

    @property
    def output_bound(self):
        return 1.0 / np.sqrt(self.n_classes) if self.output_weight_bound is None else float(self.output_weight_bound)

    def dale_signs(self):
        """(n_hidden,) +1 for excitatory and -1 for inhibitory hidden units (all +1 without Dale's law)."""
        n_exc = self.n_hidden if self.dale_ratio is None else int(round(self.dale_ratio * self.n_hidden))
        return np.where(np.arange(self.n_hidden) < n_exc, 1.0, -1.0).astype(np.float32)


def surrogate_derivative(x, beta):
    """The surrogate derivative of the spike at x = v - threshold: beta σ(beta x)(1 - σ(beta x)).

    x: array (membrane potential above threshold). beta: slope. Returns: array like x.
    """
    z = np.asarray(x, dtype=np.float64) * beta
    sig = 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function, without overflow
    return beta * sig * (1.0 - sig)


@functools.lru_cache(maxsize=None)
def spike_function(beta):
    """Θ(x) with the surrogate gradient beta σ(beta x)(1 - σ(beta x)), as a Keras custom gradient.

    beta: slope (float). Returns a function of a tensor x -> tensor of 0.0 and 1.0 (x > 0)
    whose gradient is the sigmoid's derivative; the same on the TensorFlow and JAX backends.
    """
    from keras import ops

    beta = float(beta)

    @ops.custom_gradient
    def spike(x):
        out = ops.cast(ops.greater(x, 0.0), x.dtype)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            # σ(z)(1 - σ(z)) written as σ(z)σ(-z): no cancellation where σ(z) is close to 1
            return upstream * (beta * ops.sigmoid(beta * x) * ops.sigmoid(-beta * x))

        return out, grad

    return spike


def _layers():
    """The network's Keras layers (defined on first use, so that importing stays cheap)."""
    if _LAYERS:
        return _LAYERS
    import keras
    from keras import ops

    class InputWeights(keras.layers.Layer):
        """Input current h = x · W_in of every time step: (B, T, n_inputs) -> (B, T, n_hidden)."""

        def __init__(self, n_hidden, bound, excitatory, seed, **kw):
            super().__init__(**kw)
            self.n_hidden, self.bound, self.excitatory, self.seed = int(n_hidden), float(bound), bool(excitatory), seed

        def build(self, input_shape):
            init = keras.initializers.RandomUniform(-self.bound, self.bound, seed=self.seed)
            self.kernel = self.add_weight(shape=(input_shape[-1], self.n_hidden), initializer=init, name="w_in")

        def effective_kernel(self):
            return ops.abs(self.kernel) if self.excitatory else self.kernel

        def call(self, x):
            return ops.matmul(x, self.effective_kernel())

    class LIFCell(keras.layers.Layer):
        """One step of the hidden LIF units and the leaky output units (module docstring).

        Input h_t (B, n_hidden); states (v, s, u); output concat(u_t, s_t) (B, n_classes + n_hidden).
        """

        def __init__(self, n_hidden, n_classes, alpha_hidden, alpha_output, threshold, beta, signs,
                     bound, seed, **kw):
            super().__init__(**kw)
            self.n_hidden, self.n_classes = int(n_hidden), int(n_classes)
            self.alpha_hidden, self.alpha_output = float(alpha_hidden), float(alpha_output)
            self.threshold, self.beta = float(threshold), float(beta)
            self.signs = None if signs is None else np.asarray(signs, dtype=np.float32)
            self.bound, self.seed = float(bound), seed
            self.state_size = [self.n_hidden, self.n_hidden, self.n_classes]
            self.output_size = self.n_classes + self.n_hidden

        def build(self, input_shape):
            init = keras.initializers.RandomUniform(-self.bound, self.bound, seed=self.seed)
            self.w_out = self.add_weight(shape=(self.n_hidden, self.n_classes), initializer=init, name="w_out")

        def effective_kernel(self):
            if self.signs is None:
                return self.w_out
            return ops.abs(self.w_out) * ops.convert_to_tensor(self.signs[:, None])

        def call(self, h, states):
            v, s, u = states
            v = self.alpha_hidden * v * (1.0 - ops.stop_gradient(s)) + h
            s = spike_function(self.beta)(v - self.threshold)
            u = self.alpha_output * u + ops.matmul(s, self.effective_kernel())
            return ops.concatenate([u, s], axis=-1), [v, s, u]

    class MaxOverTime(keras.layers.Layer):
        """Class scores: the maximum over time of the output units, (B, T, n_classes + ...) -> (B, n_classes)."""

        def __init__(self, n_classes, **kw):
            super().__init__(**kw)
            self.n_classes = int(n_classes)

        def call(self, x):
            return ops.max(x[:, :, :self.n_classes], axis=1)

    _LAYERS.update(InputWeights=InputWeights, LIFCell=LIFCell, MaxOverTime=MaxOverTime)
    return _LAYERS


_LAYERS = {}


@dataclasses.dataclass
class Network:
    """A built network. model: keras.Model, spikes (B, T, n_inputs) -> class scores (B, n_classes).
    recorder: keras.Model, spikes -> (B, T, n_classes + n_hidden), the output units' potentials
    then the hidden spikes at every step. config: NetworkConfig. dt: s."""

    model: object
    recorder: object
    config: NetworkConfig
    dt: float
    n_inputs: int
    n_steps: int

    def scores(self, spikes, batch_size=256):
        """Class scores (B, n_classes) of input spikes (B, T, n_inputs) (numpy)."""
        return np.concatenate([np.asarray(self.model.predict_on_batch(spikes[i:i + batch_size]))
                               for i in range(0, len(spikes), batch_size)])

    def record(self, spikes):
        """(output potentials (B, T, n_classes), hidden spikes (B, T, n_hidden)) of input spikes."""
        y = np.asarray(self.recorder(spikes, training=False))
        return y[:, :, :self.config.n_classes], y[:, :, self.config.n_classes:]

    def weights(self):
        """(W_in (n_inputs, n_hidden), W_out (n_hidden, n_classes)): the effective weights (numpy)."""
        w_in = self.model.get_layer("input_weights").effective_kernel()
        w_out = self.model.get_layer("lif").cell.effective_kernel()
        return np.asarray(w_in), np.asarray(w_out)


def build_network(n_inputs, n_steps, dt, config=None):
    """The network for an input of n_inputs fibres and n_steps steps of dt seconds.

    config: NetworkConfig (default the teaching notebook's: 30 hidden units, 5-ms time constants).
    Returns a :class:`Network` (weights initialised from config.seed).
    """
    import keras

    config = NetworkConfig() if config is None else config
    L = _layers()
    signs = None if config.dale_ratio is None else config.dale_signs()
    x = keras.Input(shape=(int(n_steps), int(n_inputs)), name="spikes")
    h = L["InputWeights"](config.n_hidden, config.input_bound, config.dale_ratio is not None,
                          seed=int(config.seed), name="input_weights")(x)
    cell = L["LIFCell"](config.n_hidden, config.n_classes, np.exp(-dt / config.tau_hidden_s),
                        np.exp(-dt / config.tau_output_s), config.threshold, config.beta, signs,
                        config.output_bound, seed=int(config.seed) + 1)
    seq = keras.layers.RNN(cell, return_sequences=True, name="lif")(h)
    scores = L["MaxOverTime"](config.n_classes, name="max_over_time")(seq)
    model = keras.Model(x, scores, name="localisation_snn")
    recorder = keras.Model(x, seq, name="localisation_snn_recorder")
    return Network(model, recorder, config, float(dt), int(n_inputs), int(n_steps))
