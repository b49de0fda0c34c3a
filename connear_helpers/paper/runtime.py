"""Execution time of the reference model and of the CoNNear CNNs, stage by stage (paper Table 2).

Spec §4.11. Every stage of the two pipelines is timed on one signal (default: the first
0.8192 s of the shipped speech sample at 70 dB SPL, the ANF window length the paper's
"~820 ms of audio" refers to), for 201 cochlear channels and for one channel (CF 1 kHz):

* reference (verhulst2018, always on the CPU): TL cochlea (100 kHz, BM velocity), IHC
  (100 kHz, then decimated to 20 kHz), ANF H, M and L (20 kHz);
* CoNNear (Keras 3, on the CPU and on a GPU when TensorFlow sees one): cochlea, IHC,
  ANF H, M and L, each through :mod:`connear_helpers.cnn.inference` (windowing with context,
  unit scaling, chunked batches), i.e. what a user of the package pays.

Times are wall-clock (``time.perf_counter``) of whole stage calls, the mean over
``repeats`` runs. Each CNN stage is called first on one and on two channels as a warm-up,
so graph tracing is not timed. The "total" rows are sums of the stage rows. Two
properties of the models show up in the numbers and are noted in the table: the TL
cochlea solves all 1000 sections whatever the number of channels kept, and the CoNNear
cochlea always computes all 201 channels.

Execution times do not depend on the weight values, so when trained weights are missing
the CNNs are timed with untrained (random) weights of the same architecture, and a
message says so.

``table_2(quick=True)`` times a 50-ms signal once (about a minute on 2 CPU cores; the
201-channel ANF models dominate, each needs a 16384-sample window per channel). The default
(0.82 s, 3 repeats) takes about 5-10 minutes on a laptop CPU.

Public: :func:`table_2` (figure and table; :func:`table2_runtime` is the same with the signature
of the figure run), :func:`measure` (table), :func:`plot`,
:func:`format_table`, :func:`available_devices`, :func:`machine_info`.
"""
from __future__ import annotations

import math
import os
import platform
import time

import numpy as np
from scipy.signal import resample_poly

from ..analysis import cf as _cf

__all__ = [
    "STAGES",
    "DEFAULT_DURATION_S",
    "QUICK_DURATION_S",
    "available_devices",
    "machine_info",
    "measure",
    "plot",
    "format_table",
    "table_2",
    "table2_runtime",
]

from ..constants import FS_CNN, FS_REFERENCE  # noqa: E402 (defined once, in constants.py)

#: Stages timed, in pipeline order, and their labels.
STAGES = ("cochlea", "ihc", "anfh", "anfm", "anfl")
STAGE_LABELS = {"cochlea": "cochlea", "ihc": "IHC", "anfh": "ANF H", "anfm": "ANF M", "anfl": "ANF L",
                "total": "total"}
_REFERENCE_FIBRE = {"anfh": "hsr", "anfm": "msr", "anfl": "lsr"}

#: Default signal duration (s): one ANF window of 8192 output samples (paper: "~820 ms").
DEFAULT_DURATION_S = 0.8192
#: Signal duration (s) of ``quick=True``.
QUICK_DURATION_S = 0.05
#: Channel counts of Table 2.
DEFAULT_N_CHANNELS = (201, 1)
#: CF (Hz) of the single channel.
SINGLE_CF_HZ = 1000.0

COLUMNS = ("stage", "implementation", "device", "n_channels", "time_s", "time_min_s", "repeats",
           "signal_s", "realtime_factor", "weights", "note")

_NOTES = {
    ("reference", "cochlea"): "TL solves all 1000 sections for any number of channels",
    ("CoNNear", "cochlea"): "the CNN cochlea always computes all 201 channels",
    ("reference", "total"): "sum of the stages",
    ("CoNNear", "total"): "sum of the stages",
}


# ---------------------------------------------------------------------------
# machine
# ---------------------------------------------------------------------------

def available_devices():
    """Devices the CNNs can be timed on: [("CPU", "/CPU:0")] plus ("GPU", name) if TensorFlow sees a GPU."""
    import tensorflow as tf

    out = [("CPU", "/CPU:0")]
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        out.append(("GPU", gpus[0].name))
    return out


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info():
    """What the times were measured on: CPU, cores, TensorFlow/Keras versions, GPUs (a dict of str)."""
    import keras
    import tensorflow as tf

    gpus = []
    for d in tf.config.list_physical_devices("GPU"):
        try:
            gpus.append(tf.config.experimental.get_device_details(d).get("device_name", d.name))
        except (ValueError, RuntimeError):
            gpus.append(d.name)
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return {
        "cpu": _cpu_name(),
        "cpu_cores": str(len(cores)),
        "gpu": ", ".join(gpus) or "none",
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
    }


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------

def _signal_20k(signal, fs, duration_s):
    """The benchmark signal at 20 kHz, cut or tiled to duration_s (Pa, float64)."""
    if signal is None:
        from ..analysis.sounds import load_speech_sample

        x = load_speech_sample(fs=FS_CNN, level_db_spl=70.0)
    else:
        x = np.asarray(signal, dtype=np.float64)
        if x.ndim != 1 or x.size < 16:
            raise ValueError(f"signal must be 1-D sound pressure in Pa with at least 16 samples, got shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("signal contains NaN or inf; remove them")
        if fs == FS_REFERENCE:
            x = resample_poly(x, 1, 5)
        elif fs != FS_CNN:
            raise ValueError(f"fs must be {FS_CNN:.0f} or {FS_REFERENCE:.0f} Hz, got {fs!r}; resample the signal first")
    if duration_s is None:
        return x
    n = int(round(float(duration_s) * FS_CNN))
    if n < 16:
        raise ValueError(f"duration_s = {duration_s!r} s is too short; give at least 16 samples (0.8 ms)")
    reps = math.ceil(n / x.size)
    return np.tile(x, reps)[:n]


def _channel_indices(n):
    """Indices into the 201 CoNNear CFs for n channels: all, the 1-kHz channel, or evenly spaced."""
    if isinstance(n, bool) or int(n) != n or not 1 <= int(n) <= _cf.N_CF:
        raise ValueError(f"channel counts must be integers from 1 to {_cf.N_CF}, got {n!r}")
    n = int(n)
    if n == _cf.N_CF:
        return np.arange(_cf.N_CF)
    if n == 1:
        return np.atleast_1d(_cf.nearest_cf_index(_cf.connear_cfs(), SINGLE_CF_HZ)).astype(int)
    return np.unique(np.round(np.linspace(0, _cf.N_CF - 1, n)).astype(int))


def _resolve_devices(devices):
    found = available_devices()
    if devices in (None, "auto"):
        return found
    if isinstance(devices, str):
        devices = (devices,)
    names = {k for k, _ in found}
    out = []
    for d in devices:
        key = str(d).upper()
        if key not in ("CPU", "GPU"):
            raise ValueError(f'devices must be "auto" or a list of "CPU"/"GPU", got {devices!r}')
        if key not in names:
            raise ValueError(f"TensorFlow sees no {key} on this machine (it sees {sorted(names)}); "
                             'use devices="auto"')
        out.append(next(item for item in found if item[0] == key))
    return out


# ---------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------

def _timed(fn, repeats):
    """Run fn() ``repeats`` times; returns (last result, list of wall-clock seconds)."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, times


class _Table:
    def __init__(self, signal_s, weights=""):
        self.cols = {c: [] for c in COLUMNS}
        self.signal_s = signal_s
        self.weights = weights

    def add(self, stage, implementation, device, n_channels, times, note=None):
        times = list(times)
        mean = float(np.mean(times))
        row = dict(stage=stage, implementation=implementation, device=device, n_channels=int(n_channels),
                   time_s=mean, time_min_s=float(np.min(times)), repeats=len(times), signal_s=self.signal_s,
                   realtime_factor=mean / self.signal_s,
                   weights=self.weights if implementation == "CoNNear" else "",
                   note=note or _NOTES.get((implementation, stage), ""))
        for c in COLUMNS:
            self.cols[c].append(row[c])


def _reference_rows(table, x20, n_channels, stages, reference_repeats, bar, engine="exact"):
    """Time the verhulst2018 stages; returns {n: (v20 (T, n) m/s, vihc20 (T, n) V)} for the CNN inputs."""
    import verhulst2018
    from verhulst2018 import anf as ref_anf
    from verhulst2018 import ihc as ref_ihc

    x100 = resample_poly(x20, 5, 1)
    n_out = x20.size
    inputs = {}
    for n in n_channels:
        cfs = _cf.connear_cfs()[_channel_indices(n)]
        times = {}
        ref, times["cochlea"] = _timed(
            lambda: verhulst2018.simulate(x100, fs=FS_REFERENCE, cf=cfs, outputs=("v",), engine=engine,
                                          progress=False),
            reference_repeats)
        bar.update()
        vihc_an, times["ihc"] = _timed(lambda: ref_ihc.decimate_ihc(ref_ihc.ihc_potential(ref.v, FS_REFERENCE)),
                                       reference_repeats)
        bar.update()
        for f in ("anfh", "anfm", "anfl"):
            if f in stages:
                _, times[f] = _timed(lambda: ref_anf.anf_rate(vihc_an, FS_CNN, _REFERENCE_FIBRE[f]), reference_repeats)
                bar.update()
        for s in STAGES:
            if s in times and s in stages:
                table.add(s, "reference", "CPU", n, times[s])
        table.add("total", "reference", "CPU", n, [sum(np.mean(times[s]) for s in times if s in stages)])
        v20 = resample_poly(ref.v, 1, 5, axis=0)[:n_out]
        inputs[n] = (v20, vihc_an[:n_out])
    return inputs


def _cnn_rows(table, x20, n_channels, stages, models, devices, repeats, ref_inputs, bar):
    import tensorflow as tf

    from ..cnn import inference

    x32 = x20.astype(np.float32)
    for dev_name, dev in devices:
        with tf.device(dev):
            # the cochlea's input does not depend on the channel count: warm up once
            inference.cochlea_vbm(x32, models["cochlea"])
            vbm_all, t_cochlea = _timed(lambda: inference.cochlea_vbm(x32, models["cochlea"]), repeats)
            bar.update()
            for n in n_channels:
                ch = _channel_indices(n)
                times = {"cochlea": t_cochlea}
                if n in ref_inputs:
                    vbm, vihc = ref_inputs[n]
                else:
                    vbm, vihc = vbm_all[:, ch], None
                vbm = np.asarray(vbm, dtype=np.float32)
                ihc_in = vbm
                _warm_up(lambda v: inference.ihc_potential(v, models["ihc"]), ihc_in)
                vihc_cnn, times["ihc"] = _timed(lambda: inference.ihc_potential(ihc_in, models["ihc"]), repeats)
                bar.update()
                anf_in = np.asarray(vihc if vihc is not None else vihc_cnn, dtype=np.float32)
                for f in ("anfh", "anfm", "anfl"):
                    if f not in stages:
                        continue
                    _warm_up(lambda v: inference.anf_rate(v, models[f]), anf_in)
                    _, times[f] = _timed(lambda: inference.anf_rate(anf_in, models[f]), repeats)
                    bar.update()
                for s in STAGES:
                    if s in times and s in stages:
                        table.add(s, "CoNNear", dev_name, n, times[s])
                table.add("total", "CoNNear", dev_name, n, [sum(np.mean(times[s]) for s in times if s in stages)])


def _warm_up(fn, x):
    """Call a per-channel stage on one, then two channels: traces the graph for any batch size."""
    fn(x[:, :1])
    if x.shape[1] > 1:
        fn(x[:, :2])


def measure(signal=None, fs=FS_CNN, duration_s=DEFAULT_DURATION_S, n_channels=DEFAULT_N_CHANNELS,
            stages=STAGES, devices="auto", weights="connear-lab", repeats=3, reference_repeats=1,
            reference=True, cnn=True, quick=False, progress=True, engine=None):
    """Time every stage; returns the table (dict of equal-length lists, columns :data:`COLUMNS`).

    signal: (n_samples,) sound pressure in Pa at ``fs`` (20 or 100 kHz); None = the speech
        sample of :func:`connear_helpers.analysis.sounds.load_speech_sample` at 70 dB SPL.
    duration_s: the signal is cut (or repeated) to this duration; None keeps it whole.
    n_channels: channel counts to time (default 201 and 1; one channel = CF 1 kHz).
    stages: subset of ("cochlea", "ihc", "anfh", "anfm", "anfl"); the cochlea and the IHC
        always run because they make the next stage's input, but only listed stages are
        reported and summed.
    devices: "auto" (CPU, plus the GPU if TensorFlow sees one) or a list of "CPU"/"GPU";
        the reference model always runs on the CPU.
    weights: CoNNear weights ("connear-lab", "official", a path, a dict name -> keras model,
        or "untrained"). Missing weights: the untrained architecture is timed, with a message.
    repeats, reference_repeats: runs averaged per CNN stage and per reference stage.
    reference, cnn: time the reference model / the CNNs.
    quick: a 50-ms signal and one run of everything (overrides duration_s and the repeats).
    progress: show a progress bar.
    engine: verhulst2018 engine of the reference cochlea (None: pipeline.ENGINE_FOR_COMPARISON,
        "exact", as the paper's Table 2 times the published model; "fast": issue #12). The
        reference IHC and ANF rows time the exact stage functions in either case.

    Columns: stage ("cochlea", "ihc", "anfh", "anfm", "anfl", "total"), implementation
    ("reference" or "CoNNear"), device ("CPU"/"GPU"), n_channels, time_s (mean wall-clock
    seconds of a whole stage call), time_min_s, repeats, signal_s (signal duration),
    realtime_factor (time_s / signal_s), weights ("trained"/"untrained" for the CNN rows), note.
    """
    from tqdm.auto import tqdm

    from ..cnn.weights import load_models_or_untrained
    from ..pipeline import ENGINE_FOR_COMPARISON, check_engine

    engine = check_engine(ENGINE_FOR_COMPARISON if engine is None else engine)
    if quick:
        duration_s, repeats, reference_repeats = QUICK_DURATION_S, 1, 1
    for name, r in (("repeats", repeats), ("reference_repeats", reference_repeats)):
        if isinstance(r, bool) or int(r) != r or r < 1:
            raise ValueError(f"{name} must be a positive integer, got {r!r}")
    stages = tuple(stages)
    unknown = [s for s in stages if s not in STAGES]
    if unknown or not stages:
        raise ValueError(f"stages must be a non-empty subset of {STAGES}, got {stages!r}")
    n_channels = tuple(int(n) for n in np.atleast_1d(n_channels))
    for n in n_channels:
        _channel_indices(n)
    x20 = _signal_20k(signal, fs, duration_s)
    table = _Table(x20.size / FS_CNN)
    dev = _resolve_devices(devices) if cnn else []
    models = None
    if cnn:
        models, trained, message = load_models_or_untrained(("cochlea", "ihc") + tuple(f for f in ("anfh", "anfm", "anfl")
                                                                           if f in stages), weights)
        table.weights = "trained" if trained else "untrained"
        if message:
            print(message + " Execution times do not depend on the weight values.")
    n_fibres = sum(f in stages for f in ("anfh", "anfm", "anfl"))
    total = (len(n_channels) * (2 + n_fibres) if reference else 0) + \
        (len(dev) * (1 + len(n_channels) * (1 + n_fibres)) if cnn else 0)
    with tqdm(total=total, desc="timing stages", unit="stage", disable=not progress) as bar:
        ref_inputs = {}
        if reference:
            ref_inputs = _reference_rows(table, x20, n_channels, stages, int(reference_repeats), bar, engine)
        if cnn:
            _cnn_rows(table, x20, n_channels, stages, models, dev, int(repeats), ref_inputs, bar)
    return table.cols


# ---------------------------------------------------------------------------
# presentation
# ---------------------------------------------------------------------------

def _lookup(table, stage, implementation, device, n):
    for i in range(len(table["stage"])):
        if (table["stage"][i], table["implementation"][i], table["device"][i], table["n_channels"][i]) == \
                (stage, implementation, device, n):
            return table["time_s"][i]
    return None


def _series(table):
    """[(implementation, device)] in the order reference CPU, CoNNear CPU, CoNNear GPU."""
    seen = []
    for impl, dev in zip(table["implementation"], table["device"]):
        if (impl, dev) not in seen:
            seen.append((impl, dev))
    order = {("reference", "CPU"): 0, ("CoNNear", "CPU"): 1, ("CoNNear", "GPU"): 2}
    return sorted(seen, key=lambda s: order.get(s, 9))


def _ordered_unique(values):
    out = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def format_table(table):
    """Table 2 as text: one line per (channels, stage), one column per implementation/device, speed-ups."""
    series = _series(table)
    heads = [f"{impl} {dev} [s]" for impl, dev in series]
    has_ref = ("reference", "CPU") in series
    cnn_series = [s for s in series if s[0] == "CoNNear"]
    if has_ref:
        heads += [f"speed-up {dev}" for _, dev in cnn_series]
    lines = []
    signal_s = table["signal_s"][0] if table["signal_s"] else float("nan")
    lines.append(f"Execution time for {signal_s * 1e3:.1f} ms of sound (mean wall-clock time of a whole stage call)")
    lines.append(f"{'channels':>8}  {'stage':<8}" + "".join(f"{h:>20}" for h in heads))
    for n in _ordered_unique(table["n_channels"]):
        for stage in _ordered_unique(table["stage"]):
            vals = [_lookup(table, stage, impl, dev, n) for impl, dev in series]
            if all(v is None for v in vals):
                continue
            cells = ["-" if v is None else f"{v:.4g}" for v in vals]
            if has_ref:
                ref = vals[0]
                for impl, dev in cnn_series:
                    v = _lookup(table, stage, impl, dev, n)
                    cells.append("-" if v is None or ref is None or v <= 0 else f"{ref / v:.3g}x")
            lines.append(f"{n:>8}  {STAGE_LABELS[stage]:<8}" + "".join(f"{c:>20}" for c in cells))
    notes = _ordered_unique([nt for nt in table["note"] if nt])
    if notes:
        lines.append("notes: " + "; ".join(notes))
    return "\n".join(lines)


def plot(table, info=None):
    """Bar chart of the table: one panel per channel count, stages on x, log time axis. Returns the figure."""
    import matplotlib.pyplot as plt

    series = _series(table)
    counts = _ordered_unique(table["n_channels"])
    stages = [s for s in (*STAGES, "total") if s in table["stage"]]
    colours = {("reference", "CPU"): "0.45", ("CoNNear", "CPU"): "C0", ("CoNNear", "GPU"): "C2"}
    fig, axes = plt.subplots(1, len(counts), figsize=(5.2 * len(counts), 4.2), sharey=True, squeeze=False)
    width = 0.8 / max(len(series), 1)
    all_vals = [v for v in table["time_s"] if v > 0]
    for ax, n in zip(axes[0], counts):
        for k, (impl, dev) in enumerate(series):
            xs, ys = [], []
            for i, s in enumerate(stages):
                v = _lookup(table, s, impl, dev, n)
                if v is not None and v > 0:
                    xs.append(i + (k - (len(series) - 1) / 2) * width)
                    ys.append(v)
            bars = ax.bar(xs, ys, width=width, color=colours.get((impl, dev), f"C{k + 3}"),
                          label=f"{'reference (verhulst2018)' if impl == 'reference' else 'CoNNear'} {dev}")
            for b, y in zip(bars, ys):
                ax.annotate(f"{y:.2g}", (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom",
                            fontsize=6, rotation=90, xytext=(0, 2), textcoords="offset points")
        ax.set_xticks(range(len(stages)), [STAGE_LABELS[s] for s in stages])
        ax.set_yscale("log")
        ax.set_title(f"{n} channel{'s' if n != 1 else ''}")
        ax.grid(axis="y", which="major", alpha=0.3)
        if all_vals:
            ax.set_ylim(min(all_vals) / 3, max(all_vals) * 8)
    axes[0][0].set_ylabel("wall-clock time [s]")
    axes[0][-1].legend(fontsize=8, loc="upper left")
    signal_s = table["signal_s"][0] if table["signal_s"] else float("nan")
    title = f"Execution time per stage for {signal_s * 1e3:.0f} ms of sound"
    if info:
        title += f"\n{info.get('cpu', '')} ({info.get('cpu_cores', '?')} cores); GPU: {info.get('gpu', 'none')}"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def table_2(signal=None, fs=FS_CNN, duration_s=DEFAULT_DURATION_S, n_channels=DEFAULT_N_CHANNELS,
            stages=STAGES, devices="auto", weights="connear-lab", repeats=3, reference_repeats=1,
            quick=False, progress=True, engine=None):
    """Measure (see :func:`measure`), print the text table and return ``(figure, table)``."""
    table = measure(signal=signal, fs=fs, duration_s=duration_s, n_channels=n_channels, stages=stages,
                    devices=devices, weights=weights, repeats=repeats, reference_repeats=reference_repeats,
                    quick=quick, progress=progress, engine=engine)
    info = machine_info()
    print(format_table(table))
    print("measured on: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    return plot(table, info), table


def table2_runtime(weights="connear-lab", *, quick=False, mode=None, cache=None, progress=False, **kwargs):
    """:func:`table_2` with the call signature of the figure run (``connear_helpers.paper.figures.FIGURES``).

    ``mode`` and ``cache`` are accepted and ignored (both pipelines are timed, nothing is cached).
    """
    return table_2(weights=weights, quick=quick, progress=progress, **kwargs)
