"""Widen a trained CNN into a member of the same family with more filters, keeping its function.

A model that has stopped improving on more data (the ANF-H of ``anf_l8f16``: training and
validation loss alike, no trend over several CPU-hours) is short of capacity. Training a wider
architecture from scratch would throw away its CPU-hours; instead the trained weights are copied
into the wider graph so that it computes the same function (Chen, Goodfellow & Shlens 2016,
"Net2Net", function-preserving widening), and training goes on from there.

The rule, for every hidden layer of ``f`` filters widened to ``F >= f``: new filter ``j`` is a copy
of old filter ``j mod f`` (kernel, bias, PReLU slope), and every layer that reads those channels
divides the weights it applies to a copy by the number of copies of its old channel, so that the
sum over the copies is the old weight. Element-wise non-linearities (tanh, sigmoid, PReLU) keep
copies equal, and the skip connections concatenate ``[decoder, encoder]`` channels, each block
mapped on its own. The model's input and output channels (1 sound or IHC channel in, 1 or 201
out) are not widened.

Copies of one filter receive equal gradients and would stay equal; ``noise`` adds Gaussian noise
of that fraction of each kernel's standard deviation to the widened kernels to let them part
(0: exact copy of the function, up to float rounding).

All three families (cochlea, IHC, ANF) share the encoder-decoder layout this relies on: strided
encoder convolutions (each followed by its non-linearity), then transposed convolutions whose
input is, after the first, the concatenation of the previous decoder activation and an encoder
output.
"""
from __future__ import annotations

import numpy as np

from ..cnn import architectures as _models


def channel_map(f_old, f_new):
    """New channel -> old channel of one widened block: ``j mod f_old`` for j < f_new (int array)."""
    if f_new < f_old:
        raise ValueError(f"cannot widen {f_old} filters into {f_new}: the new architecture must have at least as many")
    return np.arange(f_new) % f_old


def _split(kernel, axis, in_map):
    """Gather ``kernel`` along the input-channel ``axis`` by ``in_map`` and divide by the copy counts."""
    counts = np.bincount(in_map, minlength=kernel.shape[axis])
    out = np.take(kernel, in_map, axis=axis)
    shape = [1] * kernel.ndim
    shape[axis] = len(in_map)
    return out / counts[in_map].reshape(shape)


def _weighted_layers(model):
    return [lay for lay in _models.inner_model(model).layers if lay.weights]


def widen_arrays(narrow_layers, wide_layers, noise=0.0, seed=0):
    """The widened weights, as one list of arrays per layer of ``wide_layers``.

    narrow_layers: the weight-owning layers of the trained model, in graph order, each a
    ``(kind, [arrays])`` pair with kind "conv" (encoder Conv1D/Conv2D, kernel ``(..., in, out)``),
    "convt" (Conv2DTranspose, kernel ``(..., out, in)``) or "prelu" (slopes, channels last).
    wide_layers: the same for the wider model (its arrays give the shapes). Raises ValueError
    when the two are not the same family and depth.
    """
    if [k for k, _ in narrow_layers] != [k for k, _ in wide_layers]:
        raise ValueError(f"the two models differ in depth ({len(narrow_layers)} and {len(wide_layers)} "
                         "weight-owning layers): widening keeps the depth and kernel sizes, only the filters grow")
    rng = np.random.default_rng(seed)
    out = []
    in_map = None  # channel map of the current tensor (None: model input, not widened)
    enc_maps = []  # output maps of the encoder convolutions, for the skip connections
    n_convt = sum(k == "convt" for k, _ in narrow_layers)
    j_convt = 0
    for (kind, old), (_, new) in zip(narrow_layers, wide_layers):
        if len(old) != len(new):
            raise ValueError(f"a {kind} layer holds {len(old)} arrays in one model and {len(new)} in the other")
        if kind == "prelu":
            out.append([np.take(a, in_map, axis=-1) for a in old])
            continue
        k_old = old[0]
        if kind == "conv":
            ax_in, ax_out = k_old.ndim - 2, k_old.ndim - 1
        else:
            ax_in, ax_out = k_old.ndim - 1, k_old.ndim - 2
            if j_convt > 0:  # [previous decoder activation, encoder output]
                skip_map, f_skip_old = enc_maps[-1 - j_convt]
                in_map = np.concatenate([in_map, k_old.shape[ax_in] - f_skip_old + skip_map])
            j_convt += 1
        f_in_new, f_out_new = new[0].shape[ax_in], new[0].shape[ax_out]
        f_out_old = k_old.shape[ax_out]
        if in_map is None:  # the model's input: not widened
            if f_in_new != k_old.shape[ax_in]:
                raise ValueError(f"the models' inputs differ in channels ({k_old.shape[ax_in]} vs {f_in_new})")
            in_map = np.arange(f_in_new)
        last = kind == "convt" and j_convt == n_convt
        out_map = np.arange(f_out_new) if last else channel_map(f_out_old, f_out_new)
        if last and f_out_new != f_out_old:
            raise ValueError(f"the models' outputs differ in channels ({f_out_old} vs {f_out_new})")
        if len(in_map) != f_in_new:
            raise ValueError(f"a {kind} layer reads {f_in_new} channels in the wide model, but the widened "
                             f"narrow model gives {len(in_map)}")
        kernel = np.take(_split(k_old, ax_in, in_map), out_map, axis=ax_out)
        if noise and not last:
            kernel = kernel + rng.normal(0.0, noise * float(np.std(k_old)), kernel.shape)
        arrays = [kernel.astype(new[0].dtype)]
        arrays += [np.take(b, out_map, axis=-1).astype(b.dtype) for b in old[1:]]  # the bias
        if tuple(arrays[0].shape) != tuple(new[0].shape):
            raise ValueError(f"kernel shape {arrays[0].shape} does not fit the wide model's {new[0].shape}: "
                             "widening keeps the kernel sizes, only the filters grow")
        out.append(arrays)
        in_map = out_map
        if kind == "conv":
            enc_maps.append((out_map, f_out_old))
    return out


def _kind(layer):
    import keras

    if isinstance(layer, keras.layers.Conv2DTranspose):
        return "convt"
    if isinstance(layer, keras.layers.PReLU):
        return "prelu"
    if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D)):
        return "conv"
    raise ValueError(f"cannot widen a layer of type {type(layer).__name__} ({layer.name})")


def widen_model(narrow, wide, noise=0.0, seed=0):
    """Set the weights of ``wide`` (a built model of a wider architecture of the same family) from
    the trained ``narrow`` model so that it computes the same function (up to ``noise``, see the
    module docstring); returns ``wide``. Both from :func:`connear_helpers.cnn.architectures.build_model`."""
    na, wi = _models.model_name_of(narrow), _models.model_name_of(wide)
    fa, fw = _models.model_info(na)["family"], _models.model_info(wi)["family"]
    if fa != fw:
        raise ValueError(f"cannot widen a {fa} model ({na!r}) into a {fw} model ({wi!r})")
    nl, wl = _weighted_layers(narrow), _weighted_layers(wide)
    arrays = widen_arrays([(_kind(lay), [np.asarray(w) for w in lay.get_weights()]) for lay in nl],
                          [(_kind(lay), [np.asarray(w) for w in lay.get_weights()]) for lay in wl], noise, seed)
    for lay, a in zip(wl, arrays):
        lay.set_weights(a)
    return wide
