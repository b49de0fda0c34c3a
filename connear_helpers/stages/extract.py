"""Each stage's response to each sound, pooled over time: a (n_sounds, n_units) matrix per stage.

Stages
------
Reference model (verhulst2018), one unit per CF (``time-bins``: per CF and time bin):

=========  ==============================================  ==========
``v``      basilar-membrane velocity                       m/s
``ihc``    inner-hair-cell receptor potential              V
``anfh``   one high-spontaneous-rate ANF                   spikes/s
``anfm``   one medium-spontaneous-rate ANF                 spikes/s
``anfl``   one low-spontaneous-rate ANF                    spikes/s
``cn``     cochlear nucleus (13/3/3 H/M/L fibres per CF)   spikes/s
``ic``     inferior colliculus                             spikes/s
=========  ==============================================  ==========

CoNNear networks (when their weights load): ``<net>_cnn`` is a network's output in SI units and
``<net>_cnn.enc<k>`` / ``<net>_cnn.dec<k>`` the output of its k-th encoder / decoder non-linearity
(tanh, sigmoid or PReLU), where ``<net>`` is ``cochlea``, ``ihc``, ``anfh``, ``anfm`` or ``anfl``;
``"<net>_cnn.*"`` asks for every layer of a network (:func:`cnn_stage_names` lists them). The IHC
and ANF layers have one unit per (CF, filter), the cochlea's encoder layers one per filter. As in
the paper's evaluation, the IHC network is driven by the reference BM velocity and the ANF networks
by the reference IHC potential (full mode), and the cochlea network by the sound.

Pooling (over the whole response: the sound and the silence after it)
----------------------------------------------------------------------
``"time-mean"`` the mean of each unit; ``"time-rms"`` its root-mean-square (the BM velocity
oscillates about 0, so its mean is close to 0 and its RMS is the meaningful summary);
``"time-bins"`` the mean in each of ``n_bins`` equal time bins (n_bins times as many units).

Cost and cache
--------------
The reference TL cochlea costs about 30 s of CPU per second of sound whatever the number of CFs;
sounds run as a verhulst2018 batch, one worker per usable core. The pooled features of every
stage and every pooling are cached per sound (in memory and, by default, on disk in
``pipeline.default_cache_dir() / "stages"`` with :class:`connear_helpers.pipeline.SimulationCache`),
so a second call, another pooling or another stage choice is instant. Features pass through
float32 whether computed or read back, so a cached run gives exactly the numbers of a fresh one.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os

import numpy as np
from scipy.signal import resample_poly

from ..analysis import cf as _cf
from .. import pipeline
from .sounds import SoundSet

__all__ = ["REFERENCE_STAGES", "CNN_NETWORKS", "POOLINGS", "STAGE_LABELS", "StageActivations",
           "activations", "stage_cfs", "cnn_stage_names", "default_cache", "stage_label"]

REFERENCE_STAGES = ("v", "ihc", "anfh", "anfm", "anfl", "cn", "ic")
CNN_NETWORKS = ("cochlea", "ihc", "anfh", "anfm", "anfl")
POOLINGS = ("time-mean", "time-rms", "time-bins")
_POOL = {"time-mean": "mean", "time-rms": "rms", "time-bins": "bins"}
STAGE_LABELS = {"v": "BM velocity", "ihc": "IHC potential", "anfh": "ANF HSR", "anfm": "ANF MSR",
                "anfl": "ANF LSR", "cn": "cochlear nucleus", "ic": "inferior colliculus"}
STAGE_UNITS = {"v": "m/s", "ihc": "V", "anfh": "spikes/s", "anfm": "spikes/s", "anfl": "spikes/s",
               "cn": "spikes/s", "ic": "spikes/s"}
from ..constants import FS_CNN, FS_REFERENCE  # noqa: E402 (defined once, in constants.py)
_VERSION = 2  # 2: the CNN ANF probes get the IHC potential resampled with held edges
_DEFAULT_CACHE = []


def stage_label(stage):
    """A readable name of a stage for plots (str)."""
    if stage in STAGE_LABELS:
        return STAGE_LABELS[stage]
    net, _, layer = stage.partition(".")
    return f"CoNNear {net[:-4]} {layer or 'output'}"


def default_cache():
    """The cache :func:`activations` uses by default: 256 MiB in memory, files in
    ``pipeline.default_cache_dir() / "stages"`` (``$CONNEAR_LAB_CACHE/sims/stages``)."""
    if not _DEFAULT_CACHE:
        _DEFAULT_CACHE.append(pipeline.SimulationCache(max_bytes=256 * 2**20,
                                                      directory=pipeline.default_cache_dir() / "stages"))
    return _DEFAULT_CACHE[0]


def stage_cfs(cf=16):
    """CFs [Hz] of the stage units, as the CoNNear CFs nearest to the request, ascending.

    cf: an int n (n CFs log-spaced from 125 Hz to 8 kHz; duplicates dropped) or CFs in Hz.
    Returns (n_cf,) float array [Hz].
    """
    cfs = _cf.connear_cfs()
    if np.isscalar(cf) and not isinstance(cf, str):
        if int(cf) != cf or cf < 1:
            raise ValueError(f"cf must be a positive number of CFs or CFs in Hz, got {cf!r}")
        wanted = np.geomspace(125.0, 8000.0, int(cf))
    else:
        wanted = np.atleast_1d(np.asarray(cf, dtype=np.float64))
        if wanted.ndim != 1 or wanted.size == 0 or not np.all(np.isfinite(wanted)):
            raise ValueError(f"cf must be an int or a 1-D array of CFs in Hz, got {cf!r}")
        bad = wanted[(wanted < 0.9 * cfs.min()) | (wanted > 1.1 * cfs.max())]
        if bad.size:
            raise ValueError(f"CFs {bad.tolist()} Hz are outside the CoNNear range "
                             f"{cfs.min():.0f}-{cfs.max():.0f} Hz; choose CFs inside it")
    idx = np.unique(_cf.nearest_cf_index(cfs, wanted))
    return np.sort(cfs[idx])


@dataclasses.dataclass
class StageActivations:
    """Pooled responses of several stages to one set of sounds.

    features: dict stage -> (n_sounds, n_units) array, in the stage's unit (m/s, V, spikes/s;
        CNN hidden layers: dimensionless activations).
    unit_cf: dict stage -> (n_units,) CF of each unit [Hz] (NaN for the cochlea CNN's filters).
    cf: (n_cf,) the CFs simulated [Hz]. pooling: "time-mean", "time-rms" or "time-bins".
    n_bins: time bins of "time-bins". sounds: the SoundSet (or None for a plain array).
    mode: "full" or "light" (what ran). note: what was left out and why (missing weights), or None.
    """

    features: dict
    unit_cf: dict
    cf: np.ndarray
    pooling: str
    n_bins: int
    sounds: SoundSet | None
    mode: str
    note: str | None = None

    @property
    def stages(self):
        """The stages present, in order (tuple of str)."""
        return tuple(self.features)

    @property
    def n_sounds(self):
        return next(iter(self.features.values())).shape[0]

    def __getitem__(self, stage):
        if stage not in self.features:
            raise KeyError(f"no stage {stage!r} here; the stages are {', '.join(self.stages)}")
        return self.features[stage]

    def __repr__(self):
        shown = ", ".join(f"{s}{self.features[s].shape}" for s in self.stages)
        return f"StageActivations({self.n_sounds} sounds, {self.pooling}, {self.mode} mode: {shown})"


# ============================================================================================
# pooling


def _pool(resp, n_bins):
    """{"mean": (U,), "rms": (U,), "bins": (U * n_bins,)} of a response (T, ...) over time."""
    r = np.asarray(resp, dtype=np.float64)
    r = r.reshape(r.shape[0], -1)
    bins = np.array_split(r, n_bins, axis=0)
    binned = np.stack([b.mean(axis=0) for b in bins], axis=1)  # (U, n_bins): unit-major order
    return {"mean": r.mean(axis=0), "rms": np.sqrt(np.mean(r ** 2, axis=0)), "bins": binned.reshape(-1)}


# ============================================================================================
# CoNNear probes: the outputs of every non-linearity of a network


class _Probe:
    """A single-CF, uncropped copy of a CoNNear network that returns every non-linearity's output.

    layers: names "enc1", ..., "dec1", ..., and "" for the network output (SI units).
    """

    def __init__(self, net, model):
        import keras

        from ..cnn import architectures as models

        arch = models.model_name_of(model)
        self.net = net
        self.info = models.MODEL_INFO[arch]
        self.family = self.info["family"]
        fresh = models.build_model(arch, n_cf=1, cropped=False)
        fresh.set_weights(model.get_weights())  # the 1-CF graph has the same weight shapes and order
        inner = models.inner_model(fresh)
        nonlin = [lay for lay in inner.layers if isinstance(lay, (keras.layers.Activation, keras.layers.PReLU))]
        n_enc = sum(isinstance(lay, (keras.layers.Conv1D, keras.layers.Conv2D))
                    and not isinstance(lay, keras.layers.Conv2DTranspose) for lay in inner.layers)
        self.layers = [f"enc{k + 1}" if k < n_enc else f"dec{k - n_enc + 1}" for k in range(len(nonlin))] + [""]
        self.extractor = keras.Model(inner.inputs[0], [lay.output for lay in nonlin] + [inner.outputs[0]])
        self.key = _weights_key(model)

    def stage(self, layer):
        return f"{self.net}_cnn" + (f".{layer}" if layer else "")

    def run(self, drive, channels, n_bins, batch=8):
        """Pooled features of every layer: dict stage -> {"mean": (U,), "rms": (U,), "bins": (U*n_bins,)}.

        drive: (T,) sound [Pa] for the cochlea, else (T, C) BM velocity [m/s] or IHC potential [V],
        at 20 kHz. channels: (C,) indices into the 201 CoNNear CFs (cochlea output channels)."""
        from keras import ops

        left, right = self.info["context"]
        mult = self.info["multiple"]
        x = np.asarray(drive, dtype=np.float64) * self.info["input_scale"]
        x = x.reshape(x.shape[0], -1)  # (T, C) or (T, 1)
        n = x.shape[0]
        total = left + n + right
        total += (-total) % mult
        xp = np.pad(x, [(left, total - left - n), (0, 0)], mode="edge").T[:, :, None].astype(np.float32)
        outs = None
        for s in range(0, xp.shape[0], batch):
            got = [ops.convert_to_numpy(o) for o in self.extractor(xp[s:s + batch], training=False)]
            outs = got if outs is None else [np.concatenate([a, b]) for a, b in zip(outs, got)]
        feats = {}
        for layer, y in zip(self.layers, outs):
            # y: (B, T_k, 1, F) conv2d graphs, (B, T_k, F) cochlea, (B, T_pad, n_out) outputs
            stride = total // y.shape[1]
            a = left // stride
            b = max(a + 1, -(-(left + n) // stride))
            y = y[:, a:b]
            if layer == "":
                y = y.reshape(y.shape[0], y.shape[1], -1) * self.info["output_scale"]
                # (T, C): the cochlea's chosen CFs, or the C single-CF rows side by side
                y = y[0][:, channels] if self.family == "cochlea" else np.moveaxis(y[:, :, 0], 0, 1)
            elif self.family == "cochlea":
                y = y[0]                                   # (T_k, F): no CF axis
            else:
                y = np.moveaxis(y[:, :, 0, :], 0, 1)       # (T_k, C, F): unit = (CF, filter)
            feats[self.stage(layer)] = _pool(y, n_bins)
        return feats


def _weights_key(model):
    """A hash of a keras model's architecture name and weights (str)."""
    from ..cnn import architectures as models

    h = hashlib.sha1(models.model_name_of(model).encode())
    for w in model.get_weights():
        h.update(np.ascontiguousarray(w).tobytes())
    return h.hexdigest()[:16]


_PROBES = {}


def _probe(net, model):
    key = (net, id(model))
    if key not in _PROBES:
        _PROBES[key] = (_Probe(net, model), model)  # keep the model alive with its id
    return _PROBES[key][0]


def cnn_stage_names(weights="connear-lab", networks=("ihc", "anfh", "anfm", "anfl")):
    """The CoNNear stage names available for a weight source, in network order.

    weights: "connear-lab", "official", a folder, or a dict name -> file or keras.Model.
    Returns a list of str like ["ihc_cnn.enc1", ..., "ihc_cnn", ...]. Raises
    connear_helpers.cnn.weights.WeightsError (with how to get them) when the weights do not load.
    """
    from ..cnn.weights import load_models

    models = load_models(list(networks), weights)
    names = []
    for net in networks:
        p = _probe(net, models[net])
        names += [p.stage(layer) for layer in p.layers]
    return names


# ============================================================================================
# the computation


def _split_stages(stages):
    ref, cnn = [], []
    for s in (stages,) if isinstance(stages, str) else stages:
        if s in REFERENCE_STAGES:
            ref.append(s)
            continue
        net = str(s).partition(".")[0]
        if not net.endswith("_cnn") or net[:-4] not in CNN_NETWORKS:
            raise ValueError(
                f"unknown stage {s!r}; stages are {', '.join(REFERENCE_STAGES)} (reference model) and "
                "CoNNear layers '<net>_cnn', '<net>_cnn.enc<k>', '<net>_cnn.dec<k>' or '<net>_cnn.*' with "
                f"<net> in {', '.join(CNN_NETWORKS)}")
        cnn.append(s)
    if not ref and not cnn:
        raise ValueError("stages is empty; ask for at least one stage, e.g. ('ihc', 'anfh')")
    return ref, cnn


def _key(*parts):
    text = json.dumps(parts, sort_keys=True, default=lambda o: np.asarray(o).tolist())
    return "stages-" + hashlib.sha1(text.encode()).hexdigest()


def _as_stored(record):
    # the disk cache keeps float32: round fresh results the same way so both agree exactly
    return {k: np.asarray(v, dtype=np.float32).astype(np.float64) for k, v in record.items()}


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _reference_responses(x, fs, cfs, mode, models, reference_options, n_jobs):
    """Raw responses of a few sounds: list of dicts stage -> (T, C), plus "v20"/"ihc20" (20 kHz)."""
    from verhulst2018 import brainstem

    from .. import pipeline

    out = []
    if mode == "full":
        import verhulst2018

        x100 = x if fs == FS_REFERENCE else resample_poly(x, int(FS_REFERENCE // fs), 1, axis=-1)
        res = verhulst2018.simulate(x100 if x100.shape[0] > 1 else x100[0], fs=FS_REFERENCE, cf=cfs,
                                    outputs=REFERENCE_STAGES, progress=False, n_jobs=n_jobs,
                                    **(reference_options or {}))
        for r in (res if isinstance(res, list) else [res]):
            d = {s: getattr(r, s) for s in REFERENCE_STAGES}
            d["v20"] = resample_poly(r.v, 1, 5, axis=0)
            d["ihc20"] = pipeline.resample_held(r.ihc, FS_REFERENCE, FS_CNN)  # the potential rests at ~-58 mV
            out.append(d)
        return out
    from verhulst2018 import anf

    for row in x:
        # light mode as pipeline.simulate_batch runs it: CNN cochlea -> reference IHC (periphery),
        # then the reference ANF synapses on that IHC potential at 20 kHz
        x20 = row if fs == FS_CNN else resample_poly(row, 1, int(fs // FS_CNN))
        r = pipeline.simulate(x20, FS_CNN, mode="light", cf=cfs, stages=("bm", "ihc"),
                               weights={"cochlea": models["cochlea"], "ihc": models["ihc"]})
        d = {"v": r.bm, "ihc": r.ihc_ref, "v20": r.bm, "ihc20": r.ihc_ref}
        for s, fibre in (("anfh", "hsr"), ("anfm", "msr"), ("anfl", "lsr")):
            d[s] = anf.anf_rate(r.ihc_ref, FS_CNN, fibre)
        d["cn"] = brainstem.cochlear_nucleus(d["anfh"], d["anfm"], d["anfl"], FS_CNN)
        d["ic"] = brainstem.inferior_colliculus(d["cn"], FS_CNN)
        out.append(d)
    return out


def _resolve_models(weights, cnn, mode):
    """(models dict or None, note or None) for the CNN stages and the light mode."""
    from ..cnn.weights import WeightsError, load_models

    nets = {s.partition(".")[0][:-4] for s in cnn}
    if mode == "light":  # the CNN cochlea, and the IHC CNN that periphery's light mode runs beside it
        nets |= {"cochlea", "ihc"}
    nets = sorted(nets, key=CNN_NETWORKS.index)
    if not nets:
        return {}, None
    if weights is None:
        return None, ("No CoNNear weights were given (weights=None): the CoNNear stages are left out "
                      "and the reference model is shown alone.")
    try:
        return load_models(nets, weights), None
    except WeightsError as exc:
        return None, pipeline.missing_weights_note(weights, exc).replace(
            "Showing the reference model only.", "The CoNNear stages are left out; the reference model is shown alone.")


def activations(sounds, fs=None, stages=REFERENCE_STAGES, mode="full", pooling="time-mean", *, cf=16,
                n_bins=4, weights="connear-lab", reference_options=None, cache=None, progress=True,
                n_jobs=None):
    """Each stage's response to each sound, pooled over time.

    sounds: a :class:`~connear_helpers.stages.SoundSet`, or (n_sounds, n_samples) sound pressure
        [Pa] at fs (100 kHz or 20 kHz).
    fs: sample rate of a plain array [Hz] (a SoundSet brings its own).
    stages: reference stages ("v", "ihc", "anfh", "anfm", "anfl", "cn", "ic") and CoNNear layers
        ("ihc_cnn.enc1", "anfh_cnn", "ihc_cnn.*", ...; see the module docstring).
    mode: "full" (reference TL cochlea) or "light" (the CoNNear cochlea drives the reference IHC,
        ANF, CN and IC; needs the cochlea weights, else full mode is run and the note says so).
    pooling: "time-mean", "time-rms" or "time-bins" (n_bins equal bins).
    cf: number of CFs (log-spaced 125 Hz - 8 kHz) or CFs in Hz (nearest CoNNear CFs are used).
    weights: CoNNear weights for the CNN stages ("connear-lab", "official", folder, dict, None).
        When they do not load, the CNN stages are left out and ``note`` says how to get them.
    reference_options: options passed to verhulst2018.simulate (e.g. {"irregularities": True}, or
        {"engine": "fast"}: within 1 % of the default exact engine, several times faster).
    cache: a pipeline.SimulationCache (default :func:`default_cache`, on disk), or False (none).
    progress: progress bar over the sounds. n_jobs: worker processes (default: usable cores).
    Returns :class:`StageActivations` with one (n_sounds, n_units) matrix per stage.
    """
    if isinstance(sounds, SoundSet):
        sound_set, x, fs = sounds, sounds.signals, sounds.fs
    else:
        sound_set = None
        x = np.atleast_2d(np.asarray(sounds, dtype=np.float64))
        if fs is None:
            raise ValueError("give fs (Hz) with a plain array of sounds, or pass a SoundSet")
    if x.ndim != 2 or x.shape[0] < 1 or not np.all(np.isfinite(x)):
        raise ValueError(f"sounds must be (n_sounds, n_samples) finite sound pressures in Pa, got shape {x.shape}")
    if fs not in (FS_REFERENCE, FS_CNN):
        raise ValueError(f"fs must be {FS_REFERENCE:.0f} or {FS_CNN:.0f} Hz, got {fs!r}; resample the sounds "
                         "(make_sound_set(fs=...) or scipy.signal.resample_poly)")
    n20 = int(round(x.shape[1] * FS_CNN / fs))
    if n20 < 40:
        raise ValueError(f"the sounds are {x.shape[1]} samples long at {fs:.0f} Hz; give at least 2 ms")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if int(n_bins) != n_bins or n_bins < 1:
        raise ValueError(f"n_bins must be a positive int, got {n_bins!r}")
    if mode not in ("full", "light"):
        raise ValueError(f'mode must be "full" (TL cochlea) or "light" (CNN cochlea), got {mode!r}')
    n_bins = int(n_bins)
    ref, cnn = _split_stages(stages)
    cfs = stage_cfs(cf)
    channels = np.array([_cf.nearest_cf_index(_cf.connear_cfs(), f) for f in cfs])
    models, note = _resolve_models(weights, cnn, mode)
    if models is None:
        cnn = []
        if mode == "light":
            note += " Light mode needs the CoNNear cochlea: the full (TL) reference ran instead."
            mode = "full"
    probes, cnn_stages = _expand_cnn(cnn, models)
    if cache is False:
        cache = pipeline.SimulationCache(max_bytes=0)
    elif cache is None:
        cache = default_cache()
    opts = dict(reference_options or {})
    # a changed reference model or other CNN weights never reuse stale records
    fingerprint = pipeline.reference_fingerprint()
    light = None if mode == "full" else [_weights_key(models["cochlea"]), _weights_key(models["ihc"])]
    nets = sorted(probes, key=CNN_NETWORKS.index)
    hashes = [hashlib.sha1(np.ascontiguousarray(row).tobytes()).hexdigest() for row in x]
    ref_keys = [_key("ref", _VERSION, fingerprint, h, fs, channels, opts, mode, light, n_bins) for h in hashes]
    cnn_keys = [_key("cnn", _VERSION, fingerprint, h, fs, channels, opts, mode, light, n_bins,
                     [(n, probes[n].key) for n in nets]) for h in hashes]
    records = []
    for i in range(x.shape[0]):
        rec = cache.get(ref_keys[i])
        if rec is not None and nets:
            more = cache.get(cnn_keys[i])
            rec = None if more is None else {**rec, **more}
        records.append(rec)
    todo = [i for i, r in enumerate(records) if r is None]
    if todo:
        from tqdm.auto import tqdm

        n_jobs = _usable_cores() if n_jobs is None else int(n_jobs)
        chunk = max(1, 4 * n_jobs)  # a few sounds per worker per batch: bounded memory, few spawns
        with tqdm(total=len(todo), desc="stage activations", unit="sound", disable=not progress) as bar:
            for start in range(0, len(todo), chunk):
                rows = todo[start:start + chunk]
                raw = _reference_responses(x[rows], fs, cfs, mode, models, opts, n_jobs)
                for i, r in zip(rows, raw):
                    rec = _as_stored({f"{st}|{p}": v for st in REFERENCE_STAGES
                                      for p, v in _pool(r[st], n_bins).items()})
                    cache.put(ref_keys[i], rec, disk=True)
                    if nets:
                        x20 = x[i] if fs == FS_CNN else resample_poly(x[i], 1, 5)
                        drives = {"cochlea": x20, "ihc": r["v20"]}  # the ANF networks get r["ihc20"]
                        more = {}
                        for net in nets:
                            feats = probes[net].run(drives.get(net, r["ihc20"]), channels, n_bins)
                            more.update({f"{st}|{p}": v for st, pooled in feats.items() for p, v in pooled.items()})
                        more = _as_stored(more)
                        cache.put(cnn_keys[i], more, disk=True)
                        rec = {**rec, **more}
                    records[i] = rec
                bar.update(len(rows))
    pool = _POOL[pooling]
    features, unit_cf = {}, {}
    for st in ref + [c for c in cnn_stages if c not in ref]:
        features[st] = np.stack([rec[f"{st}|{pool}"] for rec in records])
        unit_cf[st] = _unit_cf(st, features[st].shape[1], cfs)
    notes = [n for n in ((sound_set.note if sound_set is not None else None), note) if n]
    return StageActivations(features, unit_cf, cfs, pooling, n_bins, sound_set, mode, " ".join(notes) or None)


def _expand_cnn(cnn, models):
    """(probes: net -> _Probe, the CNN stage names with "<net>_cnn.*" expanded, in order)."""
    probes, names = {}, []
    for s in cnn:
        net, _, layer = s.partition(".")
        if net[:-4] not in probes:
            probes[net[:-4]] = _probe(net[:-4], models[net[:-4]])
        p = probes[net[:-4]]
        available = [p.stage(lay) for lay in p.layers]
        if layer != "*" and s not in available:
            raise ValueError(f"the {net} network has no layer {layer!r}; it has {', '.join(available)}")
        names += [n for n in (available if layer == "*" else [s]) if n not in names]
    return probes, names


def _unit_cf(stage, n_units, cfs):
    """(n_units,) CF [Hz] of each unit: units are CF-major (then filter, then time bin); NaN for
    the cochlea network's hidden layers, which have no CF axis."""
    if stage.startswith("cochlea_cnn."):
        return np.full(n_units, np.nan)
    return np.repeat(cfs, n_units // cfs.size)
