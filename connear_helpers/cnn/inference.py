"""Run the CoNNear CNNs on inputs of any length, in SI units.

The CNNs need a fixed amount of context around every output sample and an input
length that is a multiple of 2^N (spec §2.1). The functions here hide that:

1. the input is padded in front by the left context and at the end up to a
   whole number of windows plus the right context, with the input's rest value:
   zeros for the cochlea (silence) and the IHC (BM at rest), the first and last
   samples for the ANF (whose input at rest is the IHC resting potential, not 0 V);
2. it is cut into windows of ``W + left + right`` samples that overlap by the
   context, each window is run through the model, and only its ``W`` central
   output samples are kept (the context part of each output is dropped);
3. the kept parts are put back end to end and cut to the input's length.

Window starts are spaced by ``W`` (a valid window length, see :func:`window_plan`),
so the stride grid of the encoder stays aligned between windows. Whenever the
context is at least the model's receptive field (``MODEL_INFO[name]
["receptive_field"]``: 105 samples for the IHC, so always with the default
context), the stitched output is identical to running the whole padded
signal in one piece: there are no seams. The cochlea (945 samples) and the ANF
models (114,681 samples) reach further than the context they were trained with
(256 and 7936 samples); there the windowed result is what the trained models
compute under their training conditions, and ``context="exact"`` gives the
seamless one-piece result at a higher cost.

All cochlear channels are processed as one batch. The IHC and ANF models are run
as their single-CF view on a ``(B * n_windows * C, T_w, 1)`` batch (spec §1.1;
mathematically identical to the 201-CF graph, much smaller intermediates).
Long inputs are processed in chunks of at most ``batch_size`` sequences, so the
memory used by the network activations stays bounded, whatever the input length,
by about ``batch_size * T_w * bytes_per_sample`` (:func:`estimate_batch_bytes`;
bytes_per_sample = 3000 cochlea, 1500 IHC, 1000 ANF). The default ``batch_size``
keeps this under ``memory_budget`` = :data:`DEFAULT_MEMORY_BUDGET` = 512 MiB,
i.e. 20 cochlea windows of 8704 samples, 10 IHC windows of 32768 samples or 32
ANF windows of 16384 samples per call. On top of that come the input, a padded
copy of it and the output array (each about ``B * T * C * 4`` bytes).

Public functions (NumPy in, NumPy out, fs = 20 kHz):

* :func:`cochlea_vbm`: sound pressure (Pa) -> BM velocity (m/s), 201 CFs
* :func:`ihc_potential`: BM velocity (m/s) -> IHC receptor potential (V)
* :func:`anf_rate`: IHC receptor potential (V) -> firing rate of one fibre (spikes/s)
* :func:`run_model`: the same windowing in CNN units, for any model
* :func:`dc_block`: the first-order high-pass that the cochlea wrappers apply to the output of
  architectures with a ``highpass_hz`` (``cochlea_f64k32_hp10``)

Differentiable twins (backend tensors in, tensors out, no NumPy conversion, so
``tf.GradientTape`` can take gradients through them): :func:`cochlea_vbm_tensor`,
:func:`ihc_potential_tensor`, :func:`anf_rate_tensor`, :func:`run_model_tensor`.
"""

from __future__ import annotations

import math

import numpy as np

from .architectures import (
    FS,
    MODEL_INFO,
    model_name_of,
    per_channel_model,
)
from .units import ANF_SCALING, COCHLEA_SCALING, IHC_SCALING

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "window_plan",
    "estimate_batch_bytes",
    "run_model",
    "run_model_tensor",
    "dc_block",
    "dc_block_tensor",
    "dc_block_coefficients",
    "cochlea_vbm",
    "ihc_potential",
    "anf_rate",
    "cochlea_vbm_tensor",
    "ihc_potential_tensor",
    "anf_rate_tensor",
]

#: Default budget (bytes) for the activations of one chunk of windows.
DEFAULT_MEMORY_BUDGET = 512 * 2**20

# Peak bytes of network activations per input sample of one sequence (float32,
# single-CF view; cochlea: 201 outputs), rounded up from the peak resident-memory
# growth measured on the TensorFlow CPU backend (about 2200, 1200 and 800).
_BYTES_PER_SAMPLE = {"cochlea": 3000, "ihc": 1500, "anf": 1000}


# ---------------------------------------------------------------------------
# Window planning
# ---------------------------------------------------------------------------

def _round_up_congruent(value, residue, modulus):
    """Smallest v >= value with v % modulus == residue % modulus."""
    residue %= modulus
    return value + ((residue - value) % modulus)


def window_plan(n_samples, name, window=None, context="spec"):
    """How an input of ``n_samples`` samples is cut into windows for model ``name``.

    Parameters
    ----------
    n_samples : int
        Length of the input (samples at 20 kHz), >= 1.
    name : str
        Model name (see ``MODEL_INFO``).
    window : int or None
        Wanted number of output samples per window; ``None`` uses
        ``MODEL_INFO[name]["default_window"]`` (8192 samples; IHC 32256, since its
        windows are exact anyway and longer ones waste less). It is shortened to
        the input length for short inputs and rounded up so that
        ``window + left + right`` is a multiple of ``MODEL_INFO[name]["multiple"]``.
        Fixed-length models (Dierich2020, Zilany2014) always use their fixed length.
    context : "spec", "exact" or (int, int)
        ``"spec"``: the training context of spec §2.1 (256/256, ANF 7936/256).
        ``"exact"``: at least the receptive field on both sides, which makes the
        windowed output equal to the one-piece output (costly for the ANF models).
        A pair ``(left, right)``: at least these many samples; the left context is
        rounded up to keep the encoder's stride grid aligned with the spec context
        (``left ≡ spec_left mod multiple``).

    Returns
    -------
    dict with keys ``left``, ``right`` (context samples), ``window`` (W, output
    samples per window), ``n_windows``, ``length`` (samples per model input,
    ``W + left + right``) and ``multiple``.
    """
    info = MODEL_INFO[name]
    if isinstance(n_samples, bool) or int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"the input must have at least 1 sample, got {n_samples!r}")
    n_samples = int(n_samples)
    m = info["multiple"]
    spec_l, spec_r = info["context"]
    fixed = info["fixed_length"]
    rf = info["receptive_field"]
    if isinstance(context, str):
        if context == "spec":
            want_l, want_r = spec_l, spec_r
        elif context == "exact":
            want_l, want_r = max(rf, spec_l), max(rf, spec_r)
        else:
            raise ValueError(f"context must be 'spec', 'exact' or a pair (left, right) of "
                             f"sample counts, got {context!r}")
    else:
        try:
            want_l, want_r = (int(c) for c in context)
        except (TypeError, ValueError):
            raise ValueError(f"context must be 'spec', 'exact' or a pair (left, right) of "
                             f"sample counts, got {context!r}") from None
        if want_l < 0 or want_r < 0:
            raise ValueError(f"context samples must be >= 0, got {context!r}")
    if fixed is not None:
        if (want_l, want_r) != (spec_l, spec_r):
            raise ValueError(
                f"model {name!r} accepts only inputs of exactly {fixed} samples, so its "
                f"context is fixed at {spec_l}/{spec_r} samples; found context={context!r}. "
                "Use context='spec' (the default).")
        if window is not None and window != fixed - spec_l - spec_r:
            raise ValueError(
                f"model {name!r} accepts only inputs of exactly {fixed} samples, so each "
                f"window has {fixed - spec_l - spec_r} output samples; found "
                f"window={window!r}. Leave window=None.")
        w = fixed - spec_l - spec_r
        return {"left": spec_l, "right": spec_r, "window": w,
                "n_windows": math.ceil(n_samples / w), "length": fixed, "multiple": m}
    left = _round_up_congruent(want_l, spec_l, m)
    if window is None:
        window = info["default_window"]
    if isinstance(window, bool) or int(window) != window or window < 1:
        raise ValueError(f"window must be a positive number of samples, got {window!r}")
    w_req = min(int(window), n_samples)
    if context == "exact":
        # left + right ≡ 0 and W ≡ 0 (mod m): every window starts on the same phase
        # of the stride grid as a single window covering the whole input would
        right = _round_up_congruent(want_r, -left, m)
    else:
        right = want_r
    w = _round_up_congruent(w_req, -(left + right), m)
    return {"left": left, "right": right, "window": w,
            "n_windows": math.ceil(n_samples / w), "length": w + left + right,
            "multiple": m}


def estimate_batch_bytes(name, length, batch_size):
    """Approximate peak activation memory (bytes) of one chunk: ``batch_size`` sequences
    of ``length`` samples through model ``name`` (single-CF view; cochlea: 201 outputs)."""
    return int(_BYTES_PER_SAMPLE[MODEL_INFO[name]["family"]] * length * batch_size)


def _default_batch(name, length, memory_budget):
    per_seq = estimate_batch_bytes(name, length, 1)
    return max(1, int(memory_budget // per_seq))


# ---------------------------------------------------------------------------
# Model resolution
# ---------------------------------------------------------------------------

def _resolve_model(model, family, weights, default_name=None):
    """Return (keras model, name). ``model`` may be a keras.Model, a name, or None."""
    if model is None:
        if default_name is None:
            raise ValueError(
                f"a {family} model is needed: pass a keras.Model from "
                "connear_helpers.cnn.weights.load_model(...) or a model name such as 'anfh'")
        model = default_name
    if isinstance(model, str):
        if model not in MODEL_INFO:
            raise ValueError(f"unknown CoNNear model name {model!r}; expected one of "
                             f"{', '.join(MODEL_INFO)}")
        from .weights import cached_model

        model = cached_model(model, weights)
    name = model_name_of(model)
    if MODEL_INFO[name]["family"] != family:
        raise ValueError(
            f"expected a {family} model here, found the {name!r} model "
            f"({MODEL_INFO[name]['family']} family); pass the right model")
    return model, name


# ---------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------

def _check_fs(fs):
    if fs is None:
        return
    if not np.isscalar(fs) or float(fs) != FS:
        raise ValueError(
            f"the CoNNear CNNs run at fs = {FS} Hz, found fs = {fs!r}. Resample the "
            f"signal first, e.g. scipy.signal.resample_poly(x, {FS}, fs_in, axis=0) "
            "with integer rates (spec §2.3).")


def _as_float32(x, what, unit):
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a numeric array in {unit}; could not convert "
                         f"it ({exc})") from None
    if arr.size == 0:
        raise ValueError(f"{what} is empty (shape {arr.shape}); expected at least one "
                         "sample")
    if not np.all(np.isfinite(arr)):
        n_bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"{what} contains {n_bad} NaN or infinite value(s); expected finite values in "
            f"{unit}. Check the stage that produced it (e.g. a division by zero or an "
            "unstable filter) or replace them, e.g. with numpy.nan_to_num.")
    return arr.astype(np.float32)


def _channels_input(x, what, unit):
    """(T,), (T, C) or (B, T, C) -> (B, T, C) float32 and a function restoring the shape."""
    arr = _as_float32(x, what, unit)
    if arr.ndim == 1:
        return arr[None, :, None], lambda y: y[0, :, 0]
    if arr.ndim == 2:
        return arr[None], lambda y: y[0]
    if arr.ndim == 3:
        return arr, lambda y: y
    raise ValueError(f"{what} must have shape (T,), (T, n_cf) or (batch, T, n_cf) with "
                     f"time on the first axis (after batch); found shape {arr.shape}")


# ---------------------------------------------------------------------------
# Core: NumPy path (chunked) and tensor path (differentiable)
# ---------------------------------------------------------------------------

def run_model(x, model, *, window=None, context="spec", batch_size=None,
              memory_budget=DEFAULT_MEMORY_BUDGET):
    """Run a CoNNear model on a ``(B, T, C)`` array of any length, in CNN units.

    Parameters
    ----------
    x : array, shape (B, T, C) (cochlea: C = 1), CNN units (spec §2.2), 20 kHz.
    model : keras.Model from :func:`connear_helpers.cnn.architectures.build_model` (any n_cf,
        cropped or not: the weights are what matters).
    window, context : see :func:`window_plan`.
    batch_size : int or None
        Sequences per model call; ``None`` picks the largest count whose activation
        memory estimate stays under ``memory_budget`` bytes.

    Returns
    -------
    numpy.ndarray, float32, shape (B, T, C) (cochlea: (B, T, 201)), CNN units,
    sample ``t`` of the output aligned with sample ``t`` of the input.
    """
    name = model_name_of(model)
    family = MODEL_INFO[name]["family"]
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 3:
        raise ValueError(f"run_model expects shape (batch, T, channels), found {x.shape}")
    n_b, n_t, n_c = x.shape
    if family == "cochlea" and n_c != 1:
        raise ValueError(f"the cochlea model takes one input channel (sound), found "
                         f"{n_c} channels in an input of shape {x.shape}")
    plan = window_plan(n_t, name, window, context)
    left, w, n_w, length = plan["left"], plan["window"], plan["n_windows"], plan["length"]
    runner = per_channel_model(model, cropped=False)
    if batch_size is None:
        batch_size = _default_batch(name, length, memory_budget)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")

    padded_len = (n_w - 1) * w + length
    xp = np.zeros((n_b, padded_len, n_c), dtype=np.float32)
    xp[:, left:left + n_t, :] = x
    if family == "anf":
        # the ANF's input at rest is the IHC resting potential, not 0 V (which would be a
        # strongly depolarised cell): extend the signal's own first and last samples
        xp[:, :left, :] = x[:, :1, :]
        xp[:, left + n_t:, :] = x[:, -1:, :]
    n_out_c = 201 if family == "cochlea" else n_c
    out = np.empty((n_b, n_w, w, n_out_c), dtype=np.float32)
    n_seq = n_b * n_w * n_c  # cochlea: n_c == 1
    # equal chunks (the last one zero-padded) so the compiled call is traced once
    n_chunks = math.ceil(n_seq / batch_size)
    batch_size = math.ceil(n_seq / n_chunks)
    for start in range(0, n_seq, batch_size):
        idx = np.arange(start, min(start + batch_size, n_seq))
        b_i, k_i, c_i = np.unravel_index(idx, (n_b, n_w, n_c))
        # gather windows: (n, length)
        offs = k_i[:, None] * w + np.arange(length)[None, :]
        chunk = np.zeros((batch_size, length, 1), dtype=np.float32)
        chunk[:len(idx), :, 0] = xp[b_i[:, None], offs, c_i[:, None]]
        y = np.asarray(_predict(runner, chunk))[:len(idx), left:left + w, :]
        if family == "cochlea":
            out[b_i, k_i] = y
        else:
            out[b_i, k_i, :, c_i] = y[:, :, 0]
    return out.reshape(n_b, n_w * w, n_out_c)[:, :n_t, :]


def _predict(runner, batch):
    return runner.predict_on_batch(batch)


def run_model_tensor(x, model, *, window=None, context="spec", batch_size=None,
                     memory_budget=DEFAULT_MEMORY_BUDGET):
    """Differentiable :func:`run_model`: backend tensor ``(B, T, C)`` in, tensor out.

    Uses only ``keras.ops`` (padding, slicing, reshapes), so gradients flow from
    the output back to ``x`` (e.g. with ``tf.GradientTape`` on TensorFlow). The
    forward pass is chunked like :func:`run_model`, but a gradient tape keeps every
    chunk's activations, so memory grows with the input length while recording.
    ``T`` must be known (static) when the function is called.
    """
    from keras import ops

    name = model_name_of(model)
    family = MODEL_INFO[name]["family"]
    x = ops.convert_to_tensor(x, dtype="float32")
    if len(x.shape) != 3:
        raise ValueError(f"expected a tensor of shape (batch, T, channels), found "
                         f"{tuple(x.shape)}")
    n_b, n_t, n_c = x.shape
    if n_b is None or n_t is None or n_c is None:
        raise ValueError("run_model_tensor needs static (known) batch, time and channel "
                         f"sizes, found {tuple(x.shape)}")
    if family == "cochlea" and n_c != 1:
        raise ValueError(f"the cochlea model takes one input channel, found {n_c}")
    plan = window_plan(n_t, name, window, context)
    left, w, n_w, length = plan["left"], plan["window"], plan["n_windows"], plan["length"]
    runner = per_channel_model(model, cropped=False)
    if batch_size is None:
        batch_size = _default_batch(name, length, memory_budget)
    padded_len = (n_w - 1) * w + length
    if family == "anf":  # rest is the IHC resting potential: extend the edge samples
        xp = ops.concatenate([ops.repeat(x[:, :1, :], left, axis=1), x,
                              ops.repeat(x[:, -1:, :], padded_len - left - n_t, axis=1)], axis=1)
    else:
        xp = ops.pad(x, [[0, 0], [left, padded_len - left - n_t], [0, 0]])
    wins = ops.stack([xp[:, k * w:k * w + length, :] for k in range(n_w)], axis=1)
    # (B, n_w, length, C) -> (B, n_w, C, length) -> (B*n_w*C, length, 1)
    wins = ops.reshape(ops.transpose(wins, (0, 1, 3, 2)), (n_b * n_w * n_c, length, 1))
    n_seq = n_b * n_w * n_c
    outs = []
    for start in range(0, n_seq, batch_size):
        y = runner(wins[start:start + batch_size], training=False)
        outs.append(y[:, left:left + w, :])
    y = outs[0] if len(outs) == 1 else ops.concatenate(outs, axis=0)
    if family == "cochlea":
        y = ops.reshape(y, (n_b, n_w * w, 201))
    else:
        y = ops.reshape(y, (n_b, n_w, n_c, w))
        y = ops.reshape(ops.transpose(y, (0, 1, 3, 2)), (n_b, n_w * w, n_c))
    return y[:, :n_t, :]


# ---------------------------------------------------------------------------
# DC block of the cochlea output
# ---------------------------------------------------------------------------

def dc_block_coefficients(highpass_hz, fs=FS):
    """``(b, a)`` of the first-order Butterworth high-pass at ``highpass_hz`` (Hz) for rate ``fs``."""
    from scipy.signal import butter

    if not 0 < highpass_hz < fs / 2:
        raise ValueError(f"highpass_hz must lie between 0 and {fs / 2} Hz, got {highpass_hz!r}")
    return butter(1, highpass_hz, btype="highpass", fs=fs)


def dc_block(vbm, highpass_hz, fs=FS):
    """First-order high-pass of BM velocity along time, starting from rest.

    vbm: array (T, C) or (B, T, C) in m/s at ``fs`` Hz; returns float32, same shape. It removes
    a constant offset with a time constant of 1 / (2 pi highpass_hz) (16 ms at 10 Hz) and passes
    a tone at f with gain f / sqrt(f**2 + highpass_hz**2).
    """
    from scipy.signal import lfilter

    b, a = dc_block_coefficients(highpass_hz, fs)
    x = np.asarray(vbm)
    return lfilter(b, a, x.astype(np.float64), axis=-2).astype(np.float32)


def dc_block_tensor(vbm, highpass_hz, fs=FS):
    """Differentiable :func:`dc_block`: tensor (B, T, C) -> tensor (B, T, C).

    The filter's impulse response over the T samples (exact for a signal of length T that starts
    from rest), applied as a linear convolution by FFT.
    """
    from keras import ops
    from scipy.signal import lfilter

    n_t = vbm.shape[1]
    b, a = dc_block_coefficients(highpass_hz, fs)
    impulse = np.zeros(n_t)
    impulse[0] = 1.0
    h = lfilter(b, a, impulse)
    n_fft = 1 << (2 * n_t - 1).bit_length()
    h_f = np.fft.rfft(h, n_fft)
    h_re = ops.convert_to_tensor(h_f.real.astype(np.float32))
    h_im = ops.convert_to_tensor(h_f.imag.astype(np.float32))
    x = ops.transpose(vbm, (0, 2, 1))  # (B, C, T): the FFT runs over the last axis
    x = ops.pad(x, [[0, 0], [0, 0], [0, n_fft - n_t]])
    x_re, x_im = ops.rfft(x)
    y = ops.irfft((x_re * h_re - x_im * h_im, x_re * h_im + x_im * h_re))
    return ops.transpose(y[:, :, :n_t], (0, 2, 1))


# ---------------------------------------------------------------------------
# SI-unit wrappers
# ---------------------------------------------------------------------------

def cochlea_vbm(signal, model=None, *, fs=None, weights="connear-lab", window=None,
                context="spec", batch_size=None, memory_budget=DEFAULT_MEMORY_BUDGET):
    """Basilar-membrane velocity of the CoNNear cochlea.

    Parameters
    ----------
    signal : array, shape (T,) or (B, T)
        Sound pressure in Pa at 20 kHz.
    model : keras.Model, str or None
        A cochlea model (``load_model("cochlea", ...)``); a name or ``None``
        (= ``"cochlea"``) loads it with ``weights``.
    fs : float or None
        Sampling rate of ``signal`` in Hz, if you want it checked (must be 20000).
    weights : weight source used when ``model`` is a name or None.
    window, context, batch_size, memory_budget : see :func:`run_model`.

    Returns
    -------
    numpy.ndarray, float32, shape (T, 201) or (B, T, 201)
        BM velocity in m/s at 20 kHz for the 201 CFs of ``connear_helpers.analysis.cf``
        (column 0 = 12 kHz … column 200 = 113 Hz); for an architecture with a ``highpass_hz``
        in ``MODEL_INFO`` (``cochlea_f64k32_hp10``) after :func:`dc_block`.
    """
    _check_fs(fs)
    model, _ = _resolve_model(model, "cochlea", weights, "cochlea")
    arr = _as_float32(signal, "signal", "Pa")
    if arr.ndim not in (1, 2):
        raise ValueError(f"signal must have shape (T,) or (batch, T), found {arr.shape}")
    x = arr.reshape(-1, arr.shape[-1], 1)
    y = run_model(x, model, window=window, context=context, batch_size=batch_size,
                  memory_budget=memory_budget)
    y /= COCHLEA_SCALING
    highpass_hz = MODEL_INFO[model_name_of(model)]["highpass_hz"]
    if highpass_hz is not None:
        y = dc_block(y, highpass_hz)
    return y[0] if arr.ndim == 1 else y


def ihc_potential(vbm, model=None, *, fs=None, weights="connear-lab", window=None,
                  context="spec", batch_size=None, memory_budget=DEFAULT_MEMORY_BUDGET):
    """Inner-hair-cell receptor potential of the CoNNear IHC model.

    Parameters
    ----------
    vbm : array, shape (T,), (T, C) or (B, T, C)
        BM velocity in m/s at 20 kHz, one column per cochlear channel (any C).
    model : keras.Model, str or None
        An IHC model (``"ihc"`` or ``"dierich2020_ihc"``); a name or ``None``
        (= ``"ihc"``) loads it with ``weights``.
    fs, weights, window, context, batch_size, memory_budget : see :func:`cochlea_vbm`.

    Returns
    -------
    numpy.ndarray, float32, same shape as ``vbm``
        IHC receptor potential in V at 20 kHz.
    """
    _check_fs(fs)
    model, _ = _resolve_model(model, "ihc", weights, "ihc")
    x, restore = _channels_input(vbm, "vbm", "m/s")
    y = run_model(x * np.float32(COCHLEA_SCALING), model, window=window, context=context,
                  batch_size=batch_size, memory_budget=memory_budget)
    y /= IHC_SCALING
    return restore(y)


def anf_rate(vihc, model, *, fs=None, weights="connear-lab", window=None, context="spec",
             batch_size=None, memory_budget=DEFAULT_MEMORY_BUDGET):
    """Firing rate of one auditory-nerve fibre (CoNNear ANF H, M or L model).

    Parameters
    ----------
    vihc : array, shape (T,), (T, C) or (B, T, C)
        IHC receptor potential in V at 20 kHz, one column per cochlear channel.
    model : keras.Model or str
        An ANF model (``"anfh"``, ``"anfm"``, ``"anfl"`` or a Zilany2014 one); a
        name loads it with ``weights``.
    fs, weights, window, context, batch_size, memory_budget : see :func:`cochlea_vbm`.

    Returns
    -------
    numpy.ndarray, float32, same shape as ``vihc``
        Instantaneous firing rate in spikes/s at 20 kHz.
    """
    _check_fs(fs)
    model, _ = _resolve_model(model, "anf", weights)
    x, restore = _channels_input(vihc, "vihc", "V")
    y = run_model(x * np.float32(IHC_SCALING), model, window=window, context=context,
                  batch_size=batch_size, memory_budget=memory_budget)
    y /= ANF_SCALING
    return restore(y)


def _tensor_channels(x, what):
    from keras import ops

    x = ops.convert_to_tensor(x, dtype="float32")
    nd = len(x.shape)
    if nd == 1:
        return x[None, :, None], lambda y: y[0, :, 0]
    if nd == 2:
        return x[None], lambda y: y[0]
    if nd == 3:
        return x, lambda y: y
    raise ValueError(f"{what} must have shape (T,), (T, n_cf) or (batch, T, n_cf), found "
                     f"{tuple(x.shape)}")


def cochlea_vbm_tensor(signal, model, *, weights="connear-lab", window=None,
                       context="spec", batch_size=None):
    """Differentiable :func:`cochlea_vbm`: tensor (T,) or (B, T) in Pa -> tensor
    (T, 201) or (B, T, 201) in m/s (with :func:`dc_block_tensor` where the architecture has a
    ``highpass_hz``). ``model`` must be a cochlea keras.Model."""
    from keras import ops

    model, _ = _resolve_model(model, "cochlea", weights)
    x = ops.convert_to_tensor(signal, dtype="float32")
    if len(x.shape) not in (1, 2):
        raise ValueError(f"signal must have shape (T,) or (batch, T), found {tuple(x.shape)}")
    y = run_model_tensor(ops.reshape(x, (-1, x.shape[-1], 1)), model, window=window,
                         context=context, batch_size=batch_size) / COCHLEA_SCALING
    highpass_hz = MODEL_INFO[model_name_of(model)]["highpass_hz"]
    if highpass_hz is not None:
        y = dc_block_tensor(y, highpass_hz)
    return y[0] if len(x.shape) == 1 else y


def ihc_potential_tensor(vbm, model, *, weights="connear-lab", window=None,
                         context="spec", batch_size=None):
    """Differentiable :func:`ihc_potential`: tensor (T,), (T, C) or (B, T, C) of BM
    velocity in m/s -> same-shape tensor of IHC potential in V."""
    model, _ = _resolve_model(model, "ihc", weights)
    x, restore = _tensor_channels(vbm, "vbm")
    y = run_model_tensor(x * COCHLEA_SCALING, model, window=window, context=context,
                         batch_size=batch_size)
    return restore(y / IHC_SCALING)


def anf_rate_tensor(vihc, model, *, weights="connear-lab", window=None,
                    context="spec", batch_size=None):
    """Differentiable :func:`anf_rate`: tensor (T,), (T, C) or (B, T, C) of IHC
    potential in V -> same-shape tensor of firing rate in spikes/s."""
    model, _ = _resolve_model(model, "anf", weights)
    x, restore = _tensor_channels(vihc, "vihc")
    y = run_model_tensor(x * IHC_SCALING, model, window=window, context=context,
                         batch_size=batch_size)
    return restore(y / ANF_SCALING)
