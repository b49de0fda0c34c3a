"""The speech quickstart: the shipped sentence through both pipelines, and cochleagrams.

The sentence and WAV loading are :mod:`connear_helpers.analysis.sounds`'s
(:func:`~connear_helpers.analysis.sounds.load_speech_sample`, ``load_wav``).

* :func:`quickstart`: the sample through :func:`connear_helpers.pipeline.simulate` (reference
  only, with a message, when CoNNear weights are missing).
* :func:`cochleagrams`: images of BM velocity, IHC potential and the three ANF rates over
  time and CF, reference and CoNNear side by side.
"""
from __future__ import annotations

import numpy as np

from ..analysis.sounds import load_speech_sample
from ..constants import FS_CNN

__all__ = ["quickstart", "cochleagrams"]

#: ``quick=True`` sizes of :func:`quickstart`.
QUICK_DURATION_S = 0.3
QUICK_N_CF = 21


# ---------------------------------------------------------------------------
# quickstart
# ---------------------------------------------------------------------------

def _cnn_names(mode):
    return (("cochlea",) if mode == "light" else ()) + ("ihc", "anfh", "anfm", "anfl")


def quickstart(mode="full", weights="connear-lab", level_db_spl=70.0, duration_s=None, n_cf=201,
               quick=False, progress=True, engine=None):
    """The speech sample through both pipelines (:func:`connear_helpers.pipeline.simulate`).

    mode: "full" (TL cochlea) or "light" (CoNNear cochlea). weights: CoNNear weights (see
    pipeline.simulate). level_db_spl: presentation level. duration_s: first seconds of the
    sentence (None: all, ~2.2 s). n_cf: number of CFs, evenly spaced over the 201 CoNNear CFs.
    quick: 0.3 s and 21 CFs. When the CoNNear weights are missing, a message says how to get
    them and only the reference model runs (light mode then falls back to full mode).
    engine: verhulst2018 engine, "fast" or "exact" (None: pipeline.ENGINE_FOR_PANELS, "fast").
    Returns a :class:`connear_helpers.pipeline.PeripheryResult` at 20 kHz; the sound it used
    is attached as ``result.signal`` ((n,) Pa at 20 kHz).
    """
    from ..analysis import cf as _cf
    from .. import pipeline
    from ..cnn.weights import how_to_get, missing_weights

    engine = pipeline.check_engine(pipeline.ENGINE_FOR_PANELS if engine is None else engine)
    if quick:
        duration_s = QUICK_DURATION_S if duration_s is None else min(duration_s, QUICK_DURATION_S)
        n_cf = min(n_cf, QUICK_N_CF)
    if isinstance(n_cf, bool) or int(n_cf) != n_cf or not 1 <= n_cf <= _cf.N_CF:
        raise ValueError(f"n_cf must be an integer from 1 to {_cf.N_CF}, got {n_cf!r}")
    x = load_speech_sample(fs=FS_CNN, level_db_spl=level_db_spl)
    if duration_s is not None:
        x = x[:max(16, int(duration_s * FS_CNN))]
    cfs = _cf.connear_cfs()
    cf = None if n_cf == _cf.N_CF else cfs[np.unique(np.round(np.linspace(0, _cf.N_CF - 1, int(n_cf))).astype(int))]
    problem = missing_weights(weights, _cnn_names(mode))
    if problem is not None:
        how = "" if "download" in problem else f"\n{how_to_get()}"
        print(f"CoNNear weights are not available: {problem}{how}\n"
              "Showing the reference model (verhulst2018) only"
              + (" in full mode (light mode needs the CoNNear cochlea)." if mode == "light" else "."))
        weights, mode = None, "full"
    result = pipeline.simulate(x, FS_CNN, mode=mode, cf=cf, weights=weights, engine=engine,
                               progress=progress)
    result.signal = x  # the sound, for cochleagrams(); not a dataclass field
    return result


# ---------------------------------------------------------------------------
# cochleagrams
# ---------------------------------------------------------------------------

def _frames(x, hop, fn):
    """Reduce (T, C) to (T // hop, C) frames with fn over axis 1 of (frames, hop, C)."""
    n = (x.shape[0] // hop) * hop
    if n == 0:
        return fn(x[None], axis=1)
    return fn(x[:n].reshape(n // hop, hop, x.shape[1]), axis=1)


def _rms(a, axis):
    return np.sqrt(np.mean(a**2, axis=axis))


_ROWS = (
    ("bm", "BM velocity", "dB re 1 µm/s"),
    ("ihc", "IHC potential", "mV"),
    ("anfh", "ANF HSR", "spikes/s"),
    ("anfm", "ANF MSR", "spikes/s"),
    ("anfl", "ANF LSR", "spikes/s"),
)


def _image_data(result, key, hop):
    """(reference image, CoNNear image), each (n_frames, C) or None, in the row's unit."""
    if key == "bm":
        if result.bm is None:
            return None, None
        img = 20 * np.log10(np.maximum(_frames(result.bm, hop, _rms), 1e-30) / 1e-6)
        return (img, None) if result.mode == "full" else (None, img)
    if key == "ihc":
        ref, cnn = result.ihc_ref, result.ihc_cnn
        f = lambda a: None if a is None else 1e3 * _frames(a, hop, np.mean)  # noqa: E731
        return f(ref), f(cnn)
    ref, cnn = getattr(result, f"{key}_ref"), getattr(result, f"{key}_cnn")
    f = lambda a: None if a is None else _frames(a, hop, np.mean)  # noqa: E731
    return f(ref), f(cnn)


def cochleagrams(result, hop_s=1e-3, signal=None):
    """Cochleagram-style images of a periphery result: BM, IHC and ANF H/M/L (rows) for the
    reference model and CoNNear (columns), time on x, CF on y. Returns the figure.

    result: :class:`connear_helpers.pipeline.PeripheryResult`.
    hop_s: frame length (s): BM shows the RMS velocity per frame in dB re 1 µm/s (60 dB
        range below the largest), IHC the mean potential (mV), ANF the mean rate of one
        fibre (spikes/s).
    signal: (n,) sound pressure at 20 kHz drawn above the images; default ``result.signal``
        when the result comes from :func:`quickstart`, else no waveform.
    In full mode the BM row is the TL cochlea (reference column); in light mode it is the
    CoNNear cochlea (CoNNear column). Missing stages (no weights) say so in their panel.
    """
    import matplotlib.pyplot as plt

    fs = float(result.fs)
    if signal is None:
        signal = getattr(result, "signal", None)
    hop = max(1, int(round(hop_s * fs)))
    order = np.argsort(result.cf)  # low CF at the bottom
    cfs = np.asarray(result.cf)[order]
    n_t = next((getattr(result, k).shape[0] for k in ("bm", "ihc_ref", "ihc_cnn", "anfh_ref", "anfh_cnn")
                if getattr(result, k) is not None), 0)
    dur_ms = 1e3 * n_t / fs
    extra = 1 if signal is not None else 0
    fig, axes = plt.subplots(len(_ROWS) + extra, 2, figsize=(11, 2.0 * (len(_ROWS) + extra) + 0.6),
                             sharex=True, squeeze=False,
                             gridspec_kw={"height_ratios": [0.6] * extra + [1] * len(_ROWS)})
    if signal is not None:
        t = 1e3 * np.arange(len(signal)) / fs
        for ax in axes[0]:
            ax.plot(t, np.asarray(signal) * 1e3, lw=0.4, color="0.3")
            ax.set_ylabel("pressure\n[mPa]")
    ticks = [f for f in (125, 250, 500, 1000, 2000, 4000, 8000) if cfs.min() * 0.95 <= f <= cfs.max() * 1.05]
    for r, (key, label, unit) in enumerate(_ROWS):
        row = axes[r + extra]
        ref, cnn = _image_data(result, key, hop)
        shown = [a for a in (ref, cnn) if a is not None]
        if key == "bm" and shown:
            top = max(float(a.max()) for a in shown)
            vmin, vmax = top - 60.0, top
        elif shown:
            base = ref if ref is not None else shown[0]
            vmin, vmax = float(np.percentile(base, 1)), float(np.percentile(base, 99.5))
            if key != "ihc":
                vmin = 0.0
            if vmax <= vmin:
                vmax = vmin + 1.0
        for c, (img, who) in enumerate(((ref, "reference (verhulst2018)"), (cnn, "CoNNear"))):
            ax = row[c]
            if img is None:
                ax.set_facecolor("0.95")
                ax.text(0.5, 0.5, _missing_text(result, key, c), ha="center", va="center",
                        transform=ax.transAxes, fontsize=8, color="0.35", wrap=True)
                ax.set_yticks([])
                continue
            im = ax.imshow(img[:, order].T, origin="lower", aspect="auto", interpolation="nearest",
                           extent=(0, dur_ms, -0.5, len(cfs) - 0.5), vmin=vmin, vmax=vmax,
                           cmap="magma" if key != "ihc" else "viridis")
            idx = [int(np.argmin(np.abs(np.log(cfs) - np.log(f)))) for f in ticks]
            ax.set_yticks(idx, [f"{f / 1000:g}" for f in ticks])
            ax.set_ylabel(f"{label}\nCF [kHz]", fontsize=8)
            fig.colorbar(im, ax=ax, pad=0.01, fraction=0.04).set_label(unit, fontsize=7)
        if r == 0:
            for c, who in enumerate(("reference (verhulst2018)", "CoNNear")):
                row[c].set_title(who, fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("time [ms]")
    for ax in axes.ravel():
        ax.set_xlim(0, dur_ms)
    fig.suptitle(f"{result.mode} mode: {'TL' if result.mode == 'full' else 'CoNNear'} cochlea, "
                 f"{len(cfs)} CFs, {dur_ms:.0f} ms", fontsize=10)
    fig.tight_layout()
    return fig


def _missing_text(result, key, column):
    if key == "bm":
        return ("light mode: no TL model run" if column == 0 else
                "full mode: the TL cochlea drives\nthe CoNNear IHC (no CNN cochlea)")
    if column == 1 and result.weights is None:
        return "CoNNear: no weights\n(python -m connear_helpers.cnn.weights download official)"
    return "not simulated"
