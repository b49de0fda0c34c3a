"""Encoding models in Keras 3: (batch, time, frequency) input -> (batch, time, neurons) rate.

Every model takes the past context ``T`` (bins, the current bin included), the frequency bins
``F``, the outputs ``O`` and, where it has them, hidden units ``H`` as constructor arguments, and
is causal. Each starts with a fixed standardisation of its input (per frequency bin: mean and
standard deviation of the training inputs, set by :func:`connear_helpers.encoding.fit`) and ends
with a fixed per-neuron response scale (the mean training response), so the trainable part works
in units where the input is z-scored and the mean response is 1; the STRFs of :meth:`strfs` are in
those units (normalised response per standard deviation of the input).

* :class:`Linear`: STRF + bias (the classical STRF).
* :class:`LinearNonlinear`: STRF, then a parametric output nonlinearity (LN).
* :class:`NetworkReceptiveField`: H hidden LN units (STRF + sigmoid), then an LN output layer
  (the NRF of Harper et al. 2016).
* :class:`DNet`: an NRF whose hidden and output units are leaky integrators with learnable time
  constants (after Rahman et al. 2019).
* :class:`ConvNet2D`: 2-D convolutions over (time, frequency) with kernels that span only part of
  the frequency axis, then a dense head (as in Pennington & David 2023).

Options of the STRF-based models: ``rank`` (None = full STRF, r = separable of rank r),
``l2`` (squared-weight penalty on the STRF kernels) and ``prefilter`` (None, or "on_off" for the
:class:`~connear_helpers.encoding.layers.OnOffPrefilter` in front: the model then sees 2F inputs,
the ON bands first, and its STRFs have 2F columns). ``seed`` fixes the initial weights.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from .layers import STRF, LeakyIntegrator, OnOffPrefilter, OutputNonlinearity, to_numpy

__all__ = ["EncodingModel", "Linear", "LinearNonlinear", "NetworkReceptiveField", "DNet", "ConvNet2D",
           "MODELS", "build_model"]


def _positive_int(name, value):
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class EncodingModel(keras.Model):
    """Base class: input standardisation, optional ON/OFF prefilter, body, response scale.

    T: past context (bins). F: frequency bins of the input. O: neurons (outputs).
    H: hidden units (models that have them). prefilter: None or "on_off". dt: bin width (s),
    used by the time constants. seed: initial weights (int).
    """

    label = "model"
    has_strfs = True

    def __init__(self, T, F, O, H=None, prefilter=None, dt=0.005, seed=0, prefilter_options=None, name=None):
        super().__init__(name=name)
        self.T, self.F, self.O = _positive_int("T", T), _positive_int("F", F), _positive_int("O", O)
        self.H = None if H is None else _positive_int("H", H)
        if prefilter not in (None, "on_off"):
            raise ValueError(f'prefilter must be None or "on_off", got {prefilter!r}')
        self.prefilter_kind, self.dt, self.seed = prefilter, float(dt), int(seed)
        self.input_mean = self.add_weight(shape=(self.F,), initializer="zeros", trainable=False, name="input_mean")
        self.input_scale = self.add_weight(shape=(self.F,), initializer="ones", trainable=False, name="input_scale")
        self.response_scale = self.add_weight(shape=(self.O,), initializer="ones", trainable=False,
                                              name="response_scale")
        self.prefilter = None
        if prefilter == "on_off":
            self.prefilter = OnOffPrefilter(self.dt, **(prefilter_options or {}), name="on_off")
        self.f_in = 2 * self.F if self.prefilter is not None else self.F
        self.adapted = False

    def _finish(self):
        self(np.zeros((1, self.T + 1, self.F), dtype="float32"))  # create every weight now, seeded

    @property
    def positive_output(self):
        """True when the model's rates cannot be negative (needed for the Poisson loss)."""
        return True

    def body(self, x):
        raise NotImplementedError

    def call(self, x):
        x = (x - self.input_mean) / self.input_scale
        if self.prefilter is not None:
            x = self.prefilter(x)
        return self.body(x) * self.response_scale

    def adapt(self, inputs, responses):
        """Set the input standardisation and response scale from training data.

        inputs: (n, n_bins, F). responses: (n, n_bins, O) in the unit the model should predict.
        The response scale is the mean response of each neuron, or its standard deviation where
        the mean is not positive (signed targets); 1 for a silent neuron.
        """
        x = np.asarray(inputs, dtype=np.float64).reshape(-1, self.F)
        y = np.asarray(responses, dtype=np.float64).reshape(-1, self.O)
        sd = x.std(axis=0)
        self.input_mean.assign(x.mean(axis=0).astype("float32"))
        self.input_scale.assign(np.where(sd > 0, sd, 1.0).astype("float32"))
        mean, std = y.mean(axis=0), y.std(axis=0)
        scale = np.where(mean > 0, mean, np.where(std > 0, std, 1.0))
        self.response_scale.assign(scale.astype("float32"))
        self.adapted = True

    def strfs(self):
        """Spectro-temporal weights: (O or H, T, F_in) array, lag 0 (the current bin) first.

        F_in is F, or 2F with the ON/OFF prefilter (ON bands first). Units: normalised response
        per standard deviation of the input (see the module docstring).
        """
        raise TypeError(f"{type(self).__name__} has no explicit STRF")

    def describe(self):
        """One line: the model, its sizes and options."""
        opts = [f"T={self.T}", f"F={self.F}", f"O={self.O}"] + ([f"H={self.H}"] if self.H else [])
        if getattr(self, "rank", None):
            opts.append(f"rank={self.rank}")
        if getattr(self, "l2", 0):
            opts.append(f"l2={self.l2:g}")
        if self.prefilter is not None:
            opts.append("ON/OFF prefilter")
        n = sum(int(np.prod(w.shape)) for w in self.trainable_weights)
        return f"{self.label} ({', '.join(opts)}; {n} trainable parameters)"


class Linear(EncodingModel):
    """STRF + bias: r[t, o] = sum_τ,f w[τ, f, o] x[t - τ, f] + b[o] (may be negative: use the MSE loss).

    T, F, O: context bins, frequency bins, neurons. rank: None (full) or the rank of a
    separable STRF. l2: squared-weight penalty. prefilter: None or "on_off". dt (s), seed.
    """

    label = "Linear"

    def __init__(self, T, F, O, rank=None, l2=0.0, prefilter=None, dt=0.005, seed=0, prefilter_options=None,
                 name=None):
        super().__init__(T, F, O, None, prefilter, dt, seed, prefilter_options, name=name)
        self.rank, self.l2 = rank, float(l2)
        self.strf = STRF(self.T, self.O, rank=rank, l2=l2, bias_init=1.0, seed=self.seed, name="strf")
        self._finish()

    @property
    def positive_output(self):
        return False

    def body(self, x):
        return self.strf(x)

    def strfs(self):
        return np.transpose(to_numpy(self.strf.full_kernel()), (2, 0, 1))


class LinearNonlinear(EncodingModel):
    """STRF, then a parametric output nonlinearity per neuron (an LN model).

    nonlinearity: "sigmoid" (r = base + gain·sigmoid(STRF·x + b): a 4-parameter logistic),
    "softplus" or "exponential" (see layers.OutputNonlinearity). Other arguments as Linear.
    """

    label = "LN"

    def __init__(self, T, F, O, rank=None, l2=0.0, nonlinearity="sigmoid", prefilter=None, dt=0.005, seed=0,
                 prefilter_options=None, name=None):
        super().__init__(T, F, O, None, prefilter, dt, seed, prefilter_options, name=name)
        self.rank, self.l2, self.nonlinearity = rank, float(l2), nonlinearity
        self.strf = STRF(self.T, self.O, rank=rank, l2=l2, seed=self.seed, name="strf")
        self.output_nl = OutputNonlinearity(nonlinearity, **_initial_output(nonlinearity), name="nonlinearity")
        self._finish()

    def body(self, x):
        return self.output_nl(self.strf(x))

    def strfs(self):
        return np.transpose(to_numpy(self.strf.full_kernel()), (2, 0, 1))


def _initial_output(kind):
    """Initial base and gain that make the output about 1 (the mean response) at z = 0."""
    return {"sigmoid": dict(base_init=0.05, gain_init=1.9), "softplus": dict(base_init=0.05, gain_init=1.37),
            "exponential": dict(gain_init=1.0), "identity": {}}[kind]


class NetworkReceptiveField(EncodingModel):
    """H hidden LN units (each an STRF + bias + sigmoid), then an LN output layer (NRF).

    H: hidden units. l2: penalty on the hidden STRFs and the output weights. nonlinearity:
    the output nonlinearity. strfs() returns the H hidden STRFs. Other arguments as Linear.
    """

    label = "NRF"

    def __init__(self, T, F, O, H=4, rank=None, l2=0.0, nonlinearity="sigmoid", prefilter=None, dt=0.005,
                 seed=0, prefilter_options=None, name=None):
        super().__init__(T, F, O, H, prefilter, dt, seed, prefilter_options, name=name)
        self.rank, self.l2, self.nonlinearity = rank, float(l2), nonlinearity
        self._hidden_layers()
        self.output_nl = OutputNonlinearity(nonlinearity, **_initial_output(nonlinearity), name="nonlinearity")
        self._finish()

    def _hidden_layers(self):
        # hidden STRFs start larger than an LN's: units must differ from the start to specialise
        self.strf = STRF(self.T, self.H, rank=self.rank, l2=self.l2, init_scale=1.0, seed=self.seed, name="strf")
        reg = keras.regularizers.L2(self.l2) if self.l2 > 0 else None
        self.readout = keras.layers.Dense(
            self.O, kernel_regularizer=reg, name="readout",
            kernel_initializer=keras.initializers.GlorotUniform(seed=self.seed + 7))

    def body(self, x):
        return self.output_nl(self.readout(ops.sigmoid(self.strf(x))))

    def strfs(self):
        return np.transpose(to_numpy(self.strf.full_kernel()), (2, 0, 1))


class DNet(NetworkReceptiveField):
    """An NRF whose hidden and output units are leaky integrators with learnable time constants.

    Hidden unit h: s_h = LI_τh(STRF_h·x + b_h), activity sigmoid(s_h); output o:
    r_o = f(LI_τo(sum_h v_oh·activity_h + c_o)), each LI a first-order low-pass
    (layers.LeakyIntegrator). tau_init_s: initial time constants (s). kernel_bins: truncation
    of the integrators (the largest τ is kernel_bins·dt/3). time_constants() gives them.
    Other arguments as NetworkReceptiveField.
    """

    label = "DNet"

    def __init__(self, T, F, O, H=4, rank=None, l2=0.0, nonlinearity="sigmoid", prefilter=None, dt=0.005,
                 seed=0, tau_init_s=0.01, kernel_bins=40, prefilter_options=None, name=None):
        self.tau_init_s, self.kernel_bins = float(tau_init_s), int(kernel_bins)
        super().__init__(T, F, O, H, rank, l2, nonlinearity, prefilter, dt, seed, prefilter_options, name=name)

    def _hidden_layers(self):
        super()._hidden_layers()
        self.hidden_integrator = LeakyIntegrator(self.dt, self.tau_init_s, kernel_bins=self.kernel_bins,
                                                 name="hidden_integrator")
        self.output_integrator = LeakyIntegrator(self.dt, self.tau_init_s, kernel_bins=self.kernel_bins,
                                                 name="output_integrator")

    def body(self, x):
        hidden = ops.sigmoid(self.hidden_integrator(self.strf(x)))
        return self.output_nl(self.output_integrator(self.readout(hidden)))

    def time_constants(self):
        """Learned time constants in s: dict "hidden" (H,), "output" (O,)."""
        return {"hidden": to_numpy(self.hidden_integrator.tau_s()), "output": to_numpy(self.output_integrator.tau_s())}


class ConvNet2D(EncodingModel):
    """2-D convolutional network: causal (time, frequency) convolutions, then a dense head.

    Layer 1 has kernels of (T - 2·(L - 1)) bins x kernel_f bands, layers 2..L of 3 x kernel_f,
    so the past context is exactly T bins; kernels span kernel_f < F bands ("same" padding along
    frequency), each followed by an ELU. The head is Dense(H) + ELU, then Dense(O) and the output
    nonlinearity, applied at every time bin to all bands and channels.
    channels: feature maps per layer (L = len(channels)). kernel_f: bands a kernel spans.
    l2: penalty on all kernels. nonlinearity: output nonlinearity (default "softplus").
    It has no explicit STRF: first_layer_kernels() gives its layer-1 kernels.
    """

    label = "2D-CNN"
    has_strfs = False

    def __init__(self, T, F, O, H=16, channels=(4, 4), kernel_f=5, l2=0.0, nonlinearity="softplus",
                 prefilter=None, dt=0.005, seed=0, prefilter_options=None, name=None):
        super().__init__(T, F, O, H, prefilter, dt, seed, prefilter_options, name=name)
        self.channels = tuple(_positive_int("channels", c) for c in channels)
        if not self.channels:
            raise ValueError("channels must name at least one convolutional layer, e.g. (4, 4)")
        self.kernel_f, self.l2, self.nonlinearity = _positive_int("kernel_f", kernel_f), float(l2), nonlinearity
        if self.kernel_f >= self.f_in:
            raise ValueError(f"kernel_f = {kernel_f} must be smaller than the {self.f_in} input bands: its "
                             "kernels span part of the frequency axis")
        first_t = self.T - 2 * (len(self.channels) - 1)
        if first_t < 1:
            raise ValueError(f"T = {T} bins is too short for {len(self.channels)} layers; give T >= "
                             f"{2 * len(self.channels) - 1}")
        reg = keras.regularizers.L2(self.l2) if self.l2 > 0 else None
        self.kernel_t = [first_t] + [3] * (len(self.channels) - 1)
        self.convs = [keras.layers.Conv2D(c, (kt, self.kernel_f), padding="valid", kernel_regularizer=reg,
                                          kernel_initializer=keras.initializers.HeNormal(seed=self.seed + i),
                                          name=f"conv{i + 1}")
                      for i, (c, kt) in enumerate(zip(self.channels, self.kernel_t))]
        self.flatten = keras.layers.Reshape((-1, self.f_in * self.channels[-1]))
        self.hidden = keras.layers.Dense(self.H, activation="elu", kernel_regularizer=reg, name="hidden",
                                         kernel_initializer=keras.initializers.GlorotUniform(seed=self.seed + 50))
        self.readout = keras.layers.Dense(self.O, kernel_regularizer=reg, name="readout",
                                          kernel_initializer=keras.initializers.GlorotUniform(seed=self.seed + 51))
        self.output_nl = OutputNonlinearity(nonlinearity, **_initial_output(nonlinearity), name="nonlinearity")
        self._finish()

    def body(self, x):
        h = x[..., None]
        kf = self.kernel_f
        for conv, kt in zip(self.convs, self.kernel_t):
            h = ops.pad(h, [[0, 0], [kt - 1, 0], [(kf - 1) // 2, kf // 2], [0, 0]])
            h = ops.elu(conv(h))
        return self.output_nl(self.readout(self.hidden(self.flatten(h))))

    def first_layer_kernels(self):
        """Layer-1 kernels: (channels[0], kernel_t, kernel_f) array, lag 0 first."""
        k = to_numpy(self.convs[0].kernel)[:, :, 0, :]  # (kt, kf, C), the last tap is lag 0
        return np.transpose(k[::-1], (2, 0, 1))


#: Model names of build_model and the comparison, with their classes.
MODELS = {"linear": Linear, "ln": LinearNonlinear, "nrf": NetworkReceptiveField, "dnet": DNet, "cnn2d": ConvNet2D}


def build_model(name, T, F, O, **options):
    """A model by name: "linear", "ln", "nrf", "dnet" or "cnn2d"; options go to its constructor."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {tuple(MODELS)}")
    return MODELS[name](T, F, O, **options)
