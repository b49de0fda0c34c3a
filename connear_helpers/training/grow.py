"""Grow a trained CNN into a wider or deeper member of its family, keeping what it learnt.

**Wider** (:func:`widen_model`). A model short of filters: the trained weights are copied into
the wider graph so that it computes the same function (Chen, Goodfellow & Shlens 2016, "Net2Net",
function-preserving widening), and training goes on from there. For every hidden layer of ``f``
filters widened to ``F >= f``: new filter ``j`` is a copy of old filter ``j mod f`` (kernel, bias,
PReLU slope), and every layer that reads those channels divides the weights it applies to a copy
by the number of copies of its old channel, so that the sum over the copies is the old weight.
Element-wise non-linearities (tanh, sigmoid, PReLU) keep copies equal, and the skip connections
concatenate ``[decoder, encoder]`` channels, each block mapped on its own. The model's input and
output channels (1 sound or IHC channel in, 1 or 201 out) are not widened. Copies of one filter
receive equal gradients and would stay equal; ``noise`` adds Gaussian noise of that fraction of
each kernel's standard deviation to the widened kernels to let them part (0: exact copy of the
function, up to float rounding).

**Deeper** (:func:`deepen_model`). A model whose receptive field is shorter than the memory of
what it imitates (the ANF synapse's reserve pool refills with a 0.27-s time constant; 8 strided
layers of kernel 8 see 89 ms): more strided levels at the bottleneck, the outer levels kept. The
``n`` encoder layers and the decoder layers after the first are copied into the outer levels of
the deeper model (same positions from the input and from the output, so every skip connection
joins the same pair of layers as before); the shallow model's first decoder layer, which read
the bottleneck activation, becomes the deeper model's decoder layer at that level, reading the
same encoder layer through the skip connection (its weights on the new inner levels' output
start at zero). The new inner levels keep their initialisation. This is not exact: the skip
connection carries the encoder's output before its non-linearity, where the shallow decoder saw
it after; the first validation of a run tells how close it starts.

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
    return _transfer(narrow, wide, lambda a, b: widen_arrays(a, b, noise, seed))


def _transfer(small, big, rule):
    na, nb = _models.model_name_of(small), _models.model_name_of(big)
    fa, fb = _models.model_info(na)["family"], _models.model_info(nb)["family"]
    if fa != fb:
        raise ValueError(f"cannot grow a {fa} model ({na!r}) into a {fb} model ({nb!r})")
    sl, bl = _weighted_layers(small), _weighted_layers(big)
    arrays = rule([(_kind(lay), [np.asarray(w) for w in lay.get_weights()]) for lay in sl],
                  [(_kind(lay), [np.asarray(w) for w in lay.get_weights()]) for lay in bl])
    for lay, a in zip(bl, arrays):
        lay.set_weights(a)
    return big


def _levels(layers):
    """Split ``(kind, arrays)`` layers into encoder and decoder levels: lists of the level's
    convolution followed by its PReLU, if any."""
    enc, dec = [], []
    for kind, arrays in layers:
        if kind == "prelu":
            (dec or enc)[-1].append(arrays)
        else:
            (enc if kind == "conv" else dec).append([arrays])
    return enc, dec


def deepen_arrays(shallow_layers, deep_layers):
    """The deeper model's weights from the shallower one's (see the module docstring), as one list
    of arrays per layer of ``deep_layers``; layers as in :func:`widen_arrays`."""
    enc_s, dec_s = _levels(shallow_layers)
    enc_d, dec_d = _levels(deep_layers)
    d = len(enc_d) - len(enc_s)
    if d <= 0 or len(dec_d) - len(dec_s) != d:
        raise ValueError(f"a model of {len(enc_s)} levels cannot be deepened into one of {len(enc_d)}: the new "
                         "architecture must have more strided levels")
    new_enc = [list(level) for level in enc_d]
    new_dec = [list(level) for level in dec_d]

    def put(target, source, where):
        for a_new, a_old in zip(target, source):
            if len(a_new) != len(a_old) or any(x.shape != y.shape for x, y in zip(a_new, a_old)):
                raise ValueError(f"the {where} differs in shape ({[x.shape for x in a_old]} vs "
                                 f"{[x.shape for x in a_new]}): deepening keeps the filters and kernel sizes")
        return [[np.asarray(y, dtype=x.dtype) for x, y in zip(a_new, a_old)] for a_new, a_old in zip(target, source)]

    for i, level in enumerate(enc_s):
        new_enc[i] = put(enc_d[i], level, f"encoder level {i}")
    for j in range(1, len(dec_s)):
        new_dec[j + d] = put(dec_d[j + d], dec_s[j], f"decoder level {j}")
    # the shallow bottleneck decoder: reads the same encoder layer, now through the skip connection
    (kernel, *rest), *prelu = dec_s[0]
    (k_new, *rest_new), *prelu_new = dec_d[d]
    f_skip = kernel.shape[-1]
    if k_new.shape[:-1] != kernel.shape[:-1] or k_new.shape[-1] != 2 * f_skip:
        raise ValueError(f"the decoder at the old bottleneck has kernel {k_new.shape}; expected "
                         f"{kernel.shape[:-1] + (2 * f_skip,)}: deepening keeps the filters and kernel sizes")
    k = np.zeros_like(k_new)
    k[..., f_skip:] = kernel  # input channels [decoder below, encoder]: the encoder block
    new_dec[d] = [[k] + [np.asarray(b, dtype=b_new.dtype) for b, b_new in zip(rest, rest_new)]] + put(
        prelu_new, prelu, "bottleneck decoder's PReLU")
    out = []
    for level in new_enc + new_dec:
        out.extend(level)
    return out


def deepen_model(shallow, deep):
    """Set the weights of ``deep`` (a built model of a deeper architecture of the same family and
    filters) from the trained ``shallow`` one (see the module docstring); returns ``deep``."""
    return _transfer(shallow, deep, deepen_arrays)


def grow_model(small, big, noise=0.0, seed=0):
    """Widen (same depth) or deepen (same filters) ``small`` into ``big``; returns ``big``."""
    n_small, n_big = (len(_levels([(_kind(lay), []) for lay in _weighted_layers(m)])[0]) for m in (small, big))
    if n_small == n_big:
        return widen_model(small, big, noise, seed)
    return deepen_model(small, big)
