"""CoNNear CNN architectures (Drakopoulos, Baby & Verhulst 2021) rebuilt in Keras 3.

Every model is built in code from the layer tables of the project specification
(``shared/spec/connear.md`` §1): same layer classes, layer names, weight shapes,
weight order and parameter counts as the authors' Keras 2 JSON descriptions, so
the authors' HDF5 weight files load into these models unchanged (see
:mod:`connear_helpers.cnn.weights`).

Only Keras 3 layers are used (no ``Lambda``, no TensorFlow calls), so the
graphs also build on the JAX and PyTorch backends.

Shapes and units (spec §1.1, §2.2; ``B`` batch, ``T`` samples at 20 kHz
*including* the context, ``C`` cochlear channels):

==========  ==================================  ==================================
model       input (CNN units)                   output (CNN units)
==========  ==================================  ==================================
cochlea     (B, T, 1)  sound pressure in Pa     (B, T', 201) BM velocity in um/s
ihc         (B, T, C)  BM velocity in um/s      (B, T', C)   IHC potential in dV
anf*        (B, T, C)  IHC potential in dV      (B, T', C)   firing rate / 100 (spikes/s)
==========  ==================================  ==================================

``T' = T - left - right`` for the cropped models (default), ``T' = T`` for the
uncropped ones (``cropped=False``), where ``left``/``right`` is the context of
:data:`MODEL_INFO`. ``T`` must be a multiple of ``MODEL_INFO[name]["multiple"]``
(16 for the cochlea, 8 for the IHC, 16384 for the ANF models); the fixed-length
Dierich2020/Zilany2014 variants accept only ``MODEL_INFO[name]["fixed_length"]``.
The SI-unit wrappers in :mod:`connear_helpers.cnn.inference` take care of all of this.

Example::

    from connear_helpers.cnn.architectures import build_model, MODEL_INFO
    ihc = build_model("ihc")            # 201-CF IHC model, random weights
    ihc_1 = build_model("ihc", n_cf=1)  # single-CF variant, same weight shapes
"""

from __future__ import annotations

import weakref

import keras
from keras import layers as L

from ..constants import FS_CNN
from .units import FAMILY_UNITS

__all__ = [
    "MODEL_NAMES",
    "MODEL_INFO",
    "FS",
    "build_model",
    "model_info",
    "inner_model",
    "model_name_of",
    "is_cropped",
    "per_channel_model",
    "expected_weight_layout",
]

#: Sampling rate of every CNN input and output, Hz (spec §2.1; connear_helpers.constants.FS_CNN as an int).
FS = int(FS_CNN)

_N_CF_DEFAULT = 201


def _info(family, left, right, multiple, fixed_length, window, params, n_arrays,
          nonlinearity, rf, files, highpass_hz=None):
    in_unit, in_scale, out_unit, out_scale = FAMILY_UNITS[family]
    return {
        "family": family,               # "cochlea" | "ihc" | "anf"
        "context": (left, right),       # samples of context each window needs (spec §2.1)
        "multiple": multiple,           # model input length T must be a multiple of this
        "fixed_length": fixed_length,   # None, or the only accepted T
        "default_window": window,       # output samples per window used by the wrappers
        "fs": FS,                       # Hz, input and output
        "params": params,               # trainable parameters (spec tables)
        "n_weight_arrays": n_arrays,    # arrays in the HDF5 file
        "nonlinearity": nonlinearity,
        "receptive_field": rf,          # samples either side an output sample depends on
        "official_file": files,         # file of the authors' repository (Appendix W)
        "input_unit": in_unit,          # SI unit of the wrappers' input
        "input_scale": in_scale,        # CNN input = SI input x input_scale
        "output_unit": out_unit,        # SI unit of the wrappers' output
        "output_scale": out_scale,      # SI output = CNN output x output_scale
        "highpass_hz": highpass_hz,     # cochlea: corner of the wrappers' DC block on the output
    }


# "receptive_field": how many samples either side of an output sample can
# influence it (derived from the kernel sizes and strides, and checked with
# gradients on random weights). It is smaller than the context for the IHC, so
# windows stitch exactly, but larger for the cochlea (945 > 256) and the ANF
# models (114681 > 7936): there the trained models rely on the training context.
#: Facts about every model: context, length rule, default window, parameters.
MODEL_INFO = {
    "cochlea": _info("cochlea", 256, 256, 16, None, 8192, 11_689_984, 8,
                     "tanh", 945, "connear/cochlea.h5"),
    # this project's own, smaller cochlea (not the paper's): the same graph with 64 instead of
    # 128 filters per layer (same kernels, receptive field and contexts), 3.2x fewer
    # parameters; it exists so that a trained cochlea fits the repository's weight budget
    "cochlea_small": _info("cochlea", 256, 256, 16, None, 8192, 3_747_840, 8,
                           "tanh", 945, None),
    "ihc": _info("ihc", 256, 256, 8, None, 32256, 1_317_505, 12,
                 "tanh/sigmoid", 105, "connear/ihc.h5"),
    "anfh": _info("anf", 7936, 256, 16384, None, 8192, 1_250_177, 83,
                  "prelu", 114_681, "connear/anfh.h5"),
    "anfm": _info("anf", 7936, 256, 16384, None, 8192, 1_250_177, 83,
                  "prelu", 114_681, "connear/anfm.h5"),
    "anfl": _info("anf", 7936, 256, 16384, None, 8192, 1_248_449, 56,
                  "tanh/sigmoid", 114_681, "connear/anfl.h5"),
    "dierich2020_ihc": _info("ihc", 256, 256, 8, 2560, 2048, 1_317_505, 12,
                             "tanh/sigmoid", 105, "Dierich2020/ihc.h5"),
    "zilany2014_anfh": _info("anf", 7936, 256, 16384, 16384, 8192, 1_250_177, 83,
                             "prelu", 114_681, "Zilany2014/anfh.h5"),
    "zilany2014_anfm": _info("anf", 7936, 256, 16384, 16384, 8192, 1_250_177, 83,
                             "prelu", 114_681, "Zilany2014/anfm.h5"),
    "zilany2014_anfl": _info("anf", 7936, 256, 16384, 16384, 8192, 1_250_177, 83,
                             "prelu", 114_681, "Zilany2014/anfl.h5"),
}

#: This project's CPU-sized members of the same encoder-decoder families (not the paper's), for
#: the "connear-lab" weight set: the paper's graphs with fewer filters (and, for the ANF, fewer
#: strided layers and a shorter left context; for the cochlea, shorter kernels). Each entry:
#: family, filters, kernel, strided layers, left context. Chosen by measured fidelity per
#: CPU-hour (benchmarks/bench_cnn_architectures.py).
LAB_ARCHITECTURES = {
    "cochlea_f64k32": dict(family="cochlea", filters=64, kernel=32, layers=4, left=256),
    "ihc_f16": dict(family="ihc", filters=16, kernel=16, layers=3, left=256),
    "ihc_f32": dict(family="ihc", filters=32, kernel=16, layers=3, left=256),
    "anf_l8f16": dict(family="anf", filters=16, kernel=8, layers=8, left=2048),
    "anf_l8f32": dict(family="anf", filters=32, kernel=8, layers=8, left=2048),
    "anf_l10f16": dict(family="anf", filters=16, kernel=8, layers=10, left=4096),
    # the same network (and weight file) as cochlea_f64k32, whose BM velocity the SI wrappers
    # (inference.cochlea_vbm, cochlea_vbm_tensor) pass through a first-order 10-Hz high-pass:
    # the CPU-trained network puts DC offsets into apical channels for loud sounds, where the
    # TL model's BM velocity has none (a DC velocity would be an ever-growing displacement), and
    # the IHC turns them into shifts of its potential. Gain 0.996, phase +5 deg at the lowest
    # CF (113 Hz).
    "cochlea_f64k32_hp10": dict(family="cochlea", filters=64, kernel=32, layers=4, left=256,
                                highpass_hz=10.0),
}


def _lab_params(a):
    """Trainable parameters and weight arrays of a LAB_ARCHITECTURES entry (hand count)."""
    f, k, n = a["filters"], a["kernel"], a["layers"]
    if a["family"] == "cochlea":  # no biases; decoder convolutions see [decoder, encoder]
        return k * f + (n - 1) * k * f * f + k * f * f + (n - 2) * k * 2 * f * f + k * 2 * f * 201, 2 * n
    if a["family"] == "ihc":
        enc = (k * f + f) + (n - 1) * (k * f * f + f)
        dec = (k * f * f + f) + (n - 2) * (k * 2 * f * f + f) + (k * 2 * f + 1)
        return enc + dec, 4 * n
    enc = (k * f + f) + (n - 1) * (k * f * f + f)
    dec = (k * f * f + f) + (n - 2) * (k * 2 * f * f + f) + (k * 2 * f + 1)
    return enc + dec + (2 * n - 1) * f, 4 * n + 2 * n - 1  # PReLU: one slope per filter


for _name, _a in LAB_ARCHITECTURES.items():
    _params, _arrays = _lab_params(_a)
    _multiple = 2 ** _a["layers"]
    _window = {"cochlea": 8192, "ihc": 32256, "anf": 8192}[_a["family"]]
    _window += (-(_window + _a["left"] + 256)) % _multiple
    MODEL_INFO[_name] = _info(_a["family"], _a["left"], 256, _multiple, None, _window, _params, _arrays,
                              {"cochlea": "tanh", "ihc": "tanh/sigmoid", "anf": "prelu"}[_a["family"]],
                              (_a["kernel"] - 1) * (2 ** _a["layers"] - 1), None,
                              highpass_hz=_a.get("highpass_hz"))

#: Filters per hidden layer of the cochlea architectures.
COCHLEA_FILTERS = {"cochlea": 128, "cochlea_small": 64} | {
    _name: _a["filters"] for _name, _a in LAB_ARCHITECTURES.items() if _a["family"] == "cochlea"}

#: Valid model names for :func:`build_model`.
MODEL_NAMES = tuple(MODEL_INFO)


def model_info(name):
    """Return ``MODEL_INFO[name]``; unknown names raise ``ValueError`` listing the valid ones."""
    _check_name(name)
    return MODEL_INFO[name]


def _check_name(name):
    if name not in MODEL_INFO:
        raise ValueError(
            f"unknown CoNNear model name {name!r}; expected one of "
            f"{', '.join(MODEL_NAMES)}")


# ---------------------------------------------------------------------------
# Name tables (spec §1.3-§1.5)
# ---------------------------------------------------------------------------

def _ihc_names(n_cf, dierich):
    """Layer names of the IHC graphs (201-CF vs 1-CF; Dierich2020 reshapes)."""
    if n_cf == 1:
        return dict(outer="model_5", inner="model_4", outer_input="bmm_input",
                    input="input_3", reshape_in="reshape_5", reshape_out="reshape_6",
                    conv=[f"conv2d_{i}" for i in (7, 8, 9)],
                    act=[f"activation_{i}" for i in range(11, 16)],
                    convt=[f"conv2d_transpose_{i}" for i in (7, 8, 9)],
                    concat=["concatenate_5", "concatenate_6"], crop="cropping1d_4")
    names = dict(outer="model_3", inner="model_2", outer_input="bmm_input",
                 input="input_2", reshape_in="reshape_1", reshape_out="reshape_2",
                 conv=[f"conv2d_{i}" for i in (4, 5, 6)],
                 act=[f"activation_{i}" for i in range(6, 11)],
                 convt=[f"conv2d_transpose_{i}" for i in (4, 5, 6)],
                 concat=["concatenate_3", "concatenate_4"], crop="cropping1d_2")
    if dierich:
        names.update(reshape_in="reshape_3", reshape_out="reshape_4")
    return names


def _anf_names(n_cf, prelu):
    """Layer names of the ANF graphs (201-CF vs 1-CF; PReLU vs tanh/sigmoid)."""
    act = "p_re_lu" if prelu else "activation"
    if n_cf == 1:
        return dict(outer="model_4", inner="model_3", outer_input="bmm_input",
                    input="input_2", reshape_in="reshape_3", reshape_out="reshape_4",
                    conv=[f"conv2d_{i}" for i in range(15, 29)],
                    act=[f"{act}_{i}" for i in range(28, 55)],
                    convt=[f"conv2d_transpose_{i}" for i in range(15, 29)],
                    concat=[f"concatenate_{i}" for i in range(14, 27)],
                    crop="cropping1d_3")
    return dict(outer="model_2", inner="model_1", outer_input="bmm_input",
                input="input_1", reshape_in="reshape_1", reshape_out="reshape_2",
                conv=[f"conv2d_{i}" for i in range(1, 15)],
                act=[f"{act}_{i}" for i in range(1, 28)],
                convt=[f"conv2d_transpose_{i}" for i in range(1, 15)],
                concat=[f"concatenate_{i}" for i in range(1, 14)],
                crop="cropping1d_1")


# ---------------------------------------------------------------------------
# Layer factories: new layers, or re-use of the weight-owning layers of a model
# ---------------------------------------------------------------------------

_WEIGHTED = (L.Conv1D, L.Conv2D, L.Conv2DTranspose, L.PReLU)


class _NewLayers:
    def __call__(self, cls, name, **kwargs):
        return cls(name=name, **kwargs)


class _ReuseLayers:
    """Hands out the weight-owning layers of ``source`` in order (weight sharing)."""

    def __init__(self, source_inner):
        self._layers = iter([lay for lay in source_inner.layers if lay.weights])

    def __call__(self, cls, name, **kwargs):
        if cls in _WEIGHTED:
            layer = next(self._layers)
            if type(layer) is not cls:  # pragma: no cover - guards builder bugs
                raise RuntimeError(f"layer order mismatch: wanted {cls.__name__}, "
                                   f"found {type(layer).__name__} {layer.name}")
            return layer
        return cls(name=name, **kwargs)


# ---------------------------------------------------------------------------
# Graph builders (spec §1.3-§1.5); each returns (inner_input, uncropped, names)
# ---------------------------------------------------------------------------

def _cochlea_graph(make, fixed_length, filters=128, kernel=64):
    x_in = keras.Input(batch_shape=(None, fixed_length, 1), name="input_1")
    enc = []
    x = x_in
    for i in range(1, 5):
        c = make(L.Conv1D, f"conv1d_{i}", filters=filters, kernel_size=kernel, strides=2,
                 padding="same", use_bias=False)(x)
        enc.append(c)
        x = make(L.Activation, f"activation_{i}", activation="tanh")(c)
    x = make(L.Reshape, "reshape_1", target_shape=(-1, 1, filters))(x)
    reshape_idx = 2
    for j in range(1, 5):
        last = j == 4
        x = make(L.Conv2DTranspose, f"conv2d_transpose_{j}",
                 filters=201 if last else filters, kernel_size=(kernel, 1), strides=(2, 1),
                 padding="same", use_bias=False)(x)
        if last:
            x = make(L.Reshape, "g_output", target_shape=(-1, 201))(x)
            break
        x = make(L.Reshape, f"reshape_{reshape_idx}", target_shape=(-1, filters))(x)
        x = make(L.Activation, f"activation_{4 + j}", activation="tanh")(x)
        x = make(L.Concatenate, f"concatenate_{j}", axis=-1)([x, enc[3 - j]])
        x = make(L.Reshape, f"reshape_{reshape_idx + 1}", target_shape=(-1, 1, 2 * filters))(x)
        reshape_idx += 2
    names = dict(outer="model_2", inner="model_1", outer_input="audio_input",
                 input="input_1", reshape_out="g_output", crop="cropping1d_1")
    return x_in, x, names, 1


def _reshape_dims(fixed_length):
    return -1 if fixed_length is None else fixed_length


def _ihc_graph(make, n_cf, fixed_length, dierich, filters=128):
    nm = _ihc_names(n_cf, dierich)
    t = _reshape_dims(fixed_length)
    x_in = keras.Input(batch_shape=(None, fixed_length, n_cf), name=nm["input"])
    x = make(L.Reshape, nm["reshape_in"], target_shape=(t, n_cf, 1))(x_in)
    conv_kw = dict(kernel_size=(16, 1), strides=(2, 1), padding="same")
    enc = []
    for i in range(3):
        c = make(L.Conv2D, nm["conv"][i], filters=filters, **conv_kw)(x)
        enc.append(c)
        x = make(L.Activation, nm["act"][i], activation="tanh")(c)
    for j in range(3):
        last = j == 2
        x = make(L.Conv2DTranspose, nm["convt"][j], filters=1 if last else filters,
                 **conv_kw)(x)
        if last:
            break
        x = make(L.Activation, nm["act"][3 + j], activation="sigmoid")(x)
        x = make(L.Concatenate, nm["concat"][j], axis=-1)([x, enc[1 - j]])
    x = make(L.Reshape, nm["reshape_out"], target_shape=(t, n_cf))(x)
    return x_in, x, nm, n_cf


def _anf_graph(make, n_cf, fixed_length, prelu, filters=64, n_layers=14):
    nm = _anf_names(n_cf, prelu)
    t = _reshape_dims(fixed_length)
    x_in = keras.Input(batch_shape=(None, fixed_length, n_cf), name=nm["input"])
    x = make(L.Reshape, nm["reshape_in"], target_shape=(t, n_cf, 1))(x_in)
    conv_kw = dict(kernel_size=(8, 1), strides=(2, 1), padding="same")

    def nonlin(k, tensor):  # k = 0-based index into the 2 n_layers - 1 non-linearity layers
        if prelu:
            return make(L.PReLU, nm["act"][k], shared_axes=[1, 2])(tensor)
        return make(L.Activation, nm["act"][k],
                    activation="tanh" if k < n_layers else "sigmoid")(tensor)

    enc = []
    for i in range(n_layers):
        c = make(L.Conv2D, nm["conv"][i], filters=filters, **conv_kw)(x)
        enc.append(c)
        x = nonlin(i, c)
    for j in range(n_layers):
        last = j == n_layers - 1
        x = make(L.Conv2DTranspose, nm["convt"][j], filters=1 if last else filters,
                 **conv_kw)(x)
        if last:
            break
        x = nonlin(n_layers + j, x)
        # concatenate_{j+1} = [decoder activation, encoder conv_{n-1-j} (pre-activation)]
        x = make(L.Concatenate, nm["concat"][j], axis=-1)([x, enc[n_layers - 2 - j]])
    x = make(L.Reshape, nm["reshape_out"], target_shape=(t, n_cf))(x)
    return x_in, x, nm, n_cf


def _graph(name, make, n_cf):
    info = MODEL_INFO[name]
    fixed = info["fixed_length"]
    lab = LAB_ARCHITECTURES.get(name)
    if info["family"] == "cochlea":
        return _cochlea_graph(make, fixed, filters=COCHLEA_FILTERS[name], kernel=lab["kernel"] if lab else 64)
    if info["family"] == "ihc":
        return _ihc_graph(make, n_cf, fixed, dierich=name.startswith("dierich"),
                          filters=lab["filters"] if lab else 128)
    if lab:
        return _anf_graph(make, n_cf, fixed, prelu=True, filters=lab["filters"], n_layers=lab["layers"])
    return _anf_graph(make, n_cf, fixed, prelu=info["nonlinearity"] == "prelu")


# Python-side bookkeeping: which CoNNear model a keras.Model is (no Keras tracking).
_REGISTRY = weakref.WeakKeyDictionary()


def _assemble(name, make, n_cf, cropped):
    info = MODEL_INFO[name]
    x_in, uncropped, nm, n_in = _graph(name, make, n_cf)
    if cropped:
        out = L.Cropping1D(cropping=info["context"], name=nm["crop"])(uncropped)
    else:
        out = uncropped
    inner = keras.Model(x_in, out, name=nm["inner"])
    outer_in = keras.Input(batch_shape=(None, info["fixed_length"], n_in),
                           name=nm["outer_input"])
    outer = keras.Model(outer_in, inner(outer_in), name=nm["outer"])
    _REGISTRY[outer] = {"name": name, "n_cf": n_in if info["family"] != "cochlea" else 201,
                        "cropped": bool(cropped)}
    return outer


def build_model(name, n_cf=_N_CF_DEFAULT, cropped=True):
    """Build one CoNNear model with fresh (Glorot-uniform, untrained) weights.

    Parameters
    ----------
    name : str
        One of :data:`MODEL_NAMES`: ``"cochlea"``, ``"ihc"``, ``"anfh"``, ``"anfm"``,
        ``"anfl"``, ``"dierich2020_ihc"``, ``"zilany2014_anfh"``, ``"zilany2014_anfm"``,
        ``"zilany2014_anfl"``.
    n_cf : int
        Number of cochlear channels of the IHC/ANF models: 201 (default) gives the
        authors' 201-CF graph, 1 the single-CF graph (its own layer names, same
        weight shapes and order). Other positive values build the 201-CF graph
        (201-CF layer names) for that many channels. Ignored for the cochlea, which
        always has one input channel (sound) and 201 output CFs.
    cropped : bool
        True (default): the authors' graph ending in ``Cropping1D``; output length
        ``T - left - right``. False: the same graph without the crop (output length
        ``T``, spec §1.6 / original option ``crop=0``); used for chaining models.

    Returns
    -------
    keras.Model
        The *outer* model (two layers: input and the inner model that holds all
        weights), exactly as the authors' files are organised (spec §1.1, §1.7).
        Input ``(B, T, n_cf)`` (cochlea: ``(B, T, 1)``), output ``(B, T', n_cf)``
        (cochlea: ``(B, T', 201)``) in CNN units, see the module docstring.
    """
    _check_name(name)
    if isinstance(n_cf, bool) or not isinstance(n_cf, int) or n_cf < 1:
        raise ValueError(f"n_cf must be a positive integer (201 or 1), got {n_cf!r}")
    if MODEL_INFO[name]["family"] == "cochlea":
        n_cf = 1
    return _assemble(name, _NewLayers(), n_cf, cropped)


def model_name_of(model):
    """Return the CoNNear name (``"ihc"``, …) of a model made by :func:`build_model`.

    Raises ``ValueError`` for a model that was not built by this module.
    """
    entry = _REGISTRY.get(model)
    if entry is None:
        raise ValueError(
            f"the Keras model {getattr(model, 'name', model)!r} was not built by "
            "connear_helpers.cnn.architectures.build_model; build it with build_model(name) or "
            "load_model(name) so that its architecture is known")
    return entry["name"]


def _entry(model):
    model_name_of(model)
    return _REGISTRY[model]


def is_cropped(model):
    """True if ``model`` (from :func:`build_model`) ends with the context crop."""
    return _entry(model)["cropped"]


def inner_model(model):
    """The inner functional model of an outer CoNNear model (the one owning all weights)."""
    inner = [lay for lay in model.layers if isinstance(lay, keras.Model)]
    if len(inner) != 1:
        raise ValueError(f"model {model.name!r} does not have the outer/inner structure "
                         "of a CoNNear model (expected exactly one nested model)")
    return inner[0]


_VIEWS = weakref.WeakKeyDictionary()


def per_channel_model(model, cropped=True):
    """Single-CF view of an IHC/ANF model that *shares* its weights (no copy).

    The returned model maps ``(B', T, 1) -> (B', T', 1)`` with the same layers,
    so a ``(B, T, C)`` computation can be run as a ``(B*C, T, 1)`` batch
    (mathematically identical, spec §1.1) with far smaller intermediate tensors.
    For the cochlea the model itself (or its cropped/uncropped twin) is returned.
    Results are cached per ``(model, cropped)``.
    """
    entry = _entry(model)
    cache = _VIEWS.setdefault(model, {})
    if cropped in cache:
        return cache[cropped]
    if entry["cropped"] == cropped and (entry["n_cf"] == 1 or
                                        MODEL_INFO[entry["name"]]["family"] == "cochlea"):
        view = model
    else:
        view = _assemble(entry["name"], _ReuseLayers(inner_model(model)), 1, cropped)
    cache[cropped] = view
    return view


def expected_weight_layout(model):
    """Ordered ``[(layer_name, variable_name, shape), ...]`` of a CoNNear model.

    This is the order of the arrays in the authors' HDF5 files (spec §1.7):
    the inner model's layers in graph order, kernel before bias, PReLU alpha last.
    """
    out = []
    for layer in inner_model(model).layers:
        for w in layer.weights:
            out.append((layer.name, w.name, tuple(int(s) for s in w.shape)))
    return out
