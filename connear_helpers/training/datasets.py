"""Training sets for the CoNNear models: speech -> Verhulst et al. (2018) reference -> HDF5 shards.

Recipe (spec §2.3, §2.7), per recording of the corpus (:mod:`connear_helpers.analysis.corpus`):

1. resample to 100 kHz (``resample_poly``) and RMS-calibrate the whole recording to its level
   (paper: half of the sentences at 70 dB SPL, half at 130 dB SPL: ``levels=(70, 130)``,
   ``level_mode="cycle"``; ``level_mode="all"`` renders every recording at every level);
2. embed it in silence: ANF stages 0.5 s before and 1 s after (spec §2.7); cochlea/IHC stages
   their model context (256 samples = 12.8 ms at 20 kHz) either side; then zeros at the end
   until the windows tile the stimulus exactly;
3. run the reference (:func:`verhulst2018_reference`: ``verhulst2018.simulate`` at 100 kHz at the
   201 CoNNear CFs of spec §3, i.e. the "abr" probe set taken every second point, or a subset),
   with the fast engine by default (``reference_options={"engine": "fast"}``,
   :data:`connear_helpers.pipeline.ENGINE_FOR_DATASETS`: within 1 % of the exact engine;
   ``{"engine": "exact"}`` gives the original's arithmetic). With the fast engine, the stimuli of a
   shard that follow each other with equal lengths (one recording at several levels,
   ``level_mode="all"``) are simulated as one batch, integrated in lockstep;
4. bring everything to 20 kHz: sound and BM velocity ``v`` and IHC potential ``ihc`` with
   ``resample_poly(x, 1, 5)`` (= ``resample_poly(x, 20e3, 100e3)``, spec §2.3 step 4); the ANF
   rates are computed by the reference at 20 kHz already;
5. convert to CNN units (spec §2.2) and store float32: sound in Pa, ``v`` x 1e6 (um/s),
   ``ihc`` x 10 (dV), ``anfh/anfm/anfl`` x 0.01 (100 spikes/s).

Windows (spec §2.1, §2.7) are *not* copied into the files: every stimulus is stored once as a
continuous 20-kHz signal, and window ``k`` of a stimulus is its samples
``[k·hop, k·hop + left + window + right)`` (model input, context included) and, for the target,
``[k·hop + left, k·hop + left + window)``, with ``hop = window / 2`` (50 % overlap):

========  ======  ======  =====  ============  =====
family    left    window  right  input length  hop
========  ======  ======  =====  ============  =====
cochlea   256     2048    256    2560          1024
ihc       256     2048    256    2560          1024
anf       7936    8192    256    16384         4096
========  ======  ======  =====  ============  =====

This stores each sample once instead of 2.25x (IHC) or 4x (ANF) and lets one simulation serve
several models: ``--stage anf`` stores ``ihc`` and all three ANF rates; ``--stage cochlea ihc``
stores sound, ``v`` and ``ihc``. The models are trained on single-CF sequences (N_cf = 1, spec
§2.7), so every window yields one training sequence per stored CF (the cochlea: one sequence
with all CFs as targets).

Layout of a dataset folder::

    DIR/manifest.json      configuration, units, CFs, windows, one entry per finished shard
                           (authoritative; written atomically after every shard)
    DIR/stimuli.csv        one row per stimulus: shard, stimulus_id, sentence_id, utterance_id,
                           level_db_spl, seed, offset, n_samples, engine, voice, rate, pitch, text/path
    DIR/windows.csv        one row per (model family, stimulus, window): shard, stimulus_id,
                           sentence_id, level_db_spl, seed, window_index, input_start/stop,
                           target_start/stop (samples at 20 kHz from the stimulus start), n_cf
                           (every window holds all CFs of manifest.json "cf_hz"/"cf_index")
    DIR/shard-00000.h5     signals/<name>  float32 (n_samples_total, n_cf) CNN units, 20 kHz
                           (signals/audio: (n_samples_total, 1) Pa); stimuli concatenated along
                           time; stimulus/{id, offset, n_samples, level_db_spl, speech_start,
                           speech_samples}; cf_hz (n_cf,) Hz; attrs: config_key, entry (JSON)

Generation runs on Dask (``dask.distributed``), one task per shard (a fixed group of
``stimuli_per_shard`` stimuli), on a LocalCluster by default or on an existing cluster
(``scheduler="tcp://host:8786"``: the workers must see ``DIR`` and the corpus paths, and have
verhulst2018 and the TTS engine installed). Shards are written atomically (temporary file, then
rename); a rerun of the same command skips every shard whose file and manifest entry exist with
the same stimuli, so a stopped run resumes, and a larger ``n_sentences`` extends a dataset.

Command line::

    python -m connear_helpers.training.datasets build --stage ihc --corpus tts --out DIR --n-sentences 40 \\
        [--levels 70 130] [--cfs all|N|i,j,…] [--scheduler ADDR|synchronous] [--workers N]
    python -m connear_helpers.training.datasets info DIR

Reading: :func:`load_dataset` gives (inputs, targets) in CNN units, split by sentence.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import json
import math
import os
import pathlib
import platform
import socket
import sys
import threading
import time
import traceback
import uuid

import numpy as np

from .. import constants as _constants

__all__ = [
    "STAGES",
    "WINDOWS",
    "STAGE_SIGNALS",
    "CNN_SCALE",
    "DEFAULT_LEVELS",
    "WindowSpec",
    "build_dataset",
    "prepare_stimulus",
    "verhulst2018_reference",
    "load_dataset",
    "dataset_info",
    "split_sentences",
    "window_starts",
    "DatasetError",
]

FORMAT = "connear-lab-dataset/1"
FS_REFERENCE = int(_constants.FS_REFERENCE)  # as ints, for sample counts
FS_CNN = int(_constants.FS_CNN)
DECIMATION = FS_REFERENCE // FS_CNN

#: Trainable stages and the family of windows each uses.
STAGES = ("cochlea", "ihc", "anfh", "anfm", "anfl")
FAMILY = {"cochlea": "cochlea", "ihc": "ihc", "anfh": "anf", "anfm": "anf", "anfl": "anf"}
#: Shorthand accepted wherever stages are given.
STAGE_ALIASES = {"anf": ("anfh", "anfm", "anfl"), "all": STAGES}

#: (input signal, target signal) of each stage.
STAGE_SIGNALS = {
    "cochlea": ("audio", "v"),
    "ihc": ("v", "ihc"),
    "anfh": ("ihc", "anfh"),
    "anfm": ("ihc", "anfm"),
    "anfl": ("ihc", "anfl"),
}

from ..cnn.units import CNN_SCALE, CNN_UNIT, SI_UNIT  # noqa: E402 (spec §2.2; defined once, in cnn/units.py)

#: Paper levels (spec §2.7): half of the sentences at 70 dB SPL, half at 130 dB SPL.
DEFAULT_LEVELS = (70.0, 130.0)

N_CF_ALL = 201


@dataclasses.dataclass(frozen=True)
class WindowSpec:
    """Context and window lengths of a model family, samples at 20 kHz (spec §2.1)."""

    left: int
    window: int
    right: int

    @property
    def length(self):
        """Model input length (left + window + right)."""
        return self.left + self.window + self.right

    @property
    def hop(self):
        """Window hop: 50 % overlap (spec §2.7)."""
        return self.window // 2


WINDOWS = {
    "cochlea": WindowSpec(256, 2048, 256),
    "ihc": WindowSpec(256, 2048, 256),
    "anf": WindowSpec(7936, 8192, 256),
}

#: Silence (samples at 20 kHz) put before/after every recording, per family: the model context
#: (cochlea, IHC) or the paper's 0.5 s / 1 s (ANF, spec §2.7).
SILENCE_SAMPLES = {"cochlea": (256, 256), "ihc": (256, 256), "anf": (10_000, 20_000)}


class DatasetError(RuntimeError):
    """A dataset folder does not fit the request (other settings, missing stage, …)."""


# ---------------------------------------------------------------------------------------------
# helpers: stages, CFs, windows


def _resolve_stages(stages):
    if isinstance(stages, str):
        stages = [s for s in stages.replace(",", " ").split() if s]
    out = []
    for s in stages:
        for t in STAGE_ALIASES.get(s, (s,)):
            if t not in STAGES:
                raise ValueError(
                    f"unknown stage {t!r}; expected some of {STAGES} (or 'anf' for all three ANF "
                    "stages, 'all' for every stage)"
                )
            if t not in out:
                out.append(t)
    if not out:
        raise ValueError(f"give at least one stage of {STAGES}")
    return [s for s in STAGES if s in out]


def _signals_for(stages):
    names = []
    for s in stages:
        for n in STAGE_SIGNALS[s]:
            if n not in names:
                names.append(n)
    order = ("audio", "v", "ihc", "anfh", "anfm", "anfl")
    return [n for n in order if n in names]


def _resolve_cf_index(cf_index):
    """Indices (sorted, unique) into the 201 CoNNear CFs from None/"all"/int N/list."""
    if cf_index is None or (isinstance(cf_index, str) and cf_index == "all"):
        return np.arange(N_CF_ALL)
    if isinstance(cf_index, str):
        parts = [p for p in cf_index.replace(";", ",").split(",") if p.strip()]
        cf_index = int(parts[0]) if len(parts) == 1 else [int(p) for p in parts]
    if np.isscalar(cf_index):
        n = int(cf_index)
        if not 1 <= n <= N_CF_ALL:
            raise ValueError(f"number of CFs must be 1…{N_CF_ALL}, got {n}")
        return np.unique(np.round(np.linspace(0, N_CF_ALL - 1, n)).astype(int))
    idx = np.unique(np.asarray(cf_index, dtype=int))
    if idx.size == 0 or idx.min() < 0 or idx.max() >= N_CF_ALL:
        raise ValueError(
            f"CF indices must lie in 0…{N_CF_ALL - 1} (rows of the CoNNear CF list, 0 = 12 kHz); "
            f"got {cf_index!r}"
        )
    return idx


def window_starts(n_samples, family):
    """Input-window starts (samples at 20 kHz) of a stimulus of n_samples for a family.

    Returns: int64 array (n_windows,), k·hop for every window that fits entirely.
    """
    w = WINDOWS[family]
    if n_samples < w.length:
        return np.zeros(0, dtype=np.int64)
    return np.arange((n_samples - w.length) // w.hop + 1, dtype=np.int64) * w.hop


def _silence_samples(stages, silence_s):
    if silence_s is not None:
        before, after = silence_s
        if before < 0 or after < 0:
            raise ValueError(f"silences must be >= 0 s, got {silence_s!r}")
        return int(round(before * FS_CNN)), int(round(after * FS_CNN))
    fam = {FAMILY[s] for s in stages}
    return (max(SILENCE_SAMPLES[f][0] for f in fam), max(SILENCE_SAMPLES[f][1] for f in fam))


def _primary_family(stages):
    return max({FAMILY[s] for s in stages}, key=lambda f: WINDOWS[f].length)


# ---------------------------------------------------------------------------------------------
# one stimulus


def prepare_stimulus(signal, fs, level_db_spl, stages=("ihc",), silence_s=None):
    """Resample a recording to 100 kHz, calibrate it and embed it in silence.

    signal: (n_samples,) waveform, any unit (full scale). fs: its rate in Hz.
    level_db_spl: RMS level of the whole recording (dB SPL). stages: the stages it serves
    (sets the silences and the window tiling). silence_s: (before, after) in s to override
    the defaults (context for cochlea/IHC, 0.5 s / 1 s for ANF).
    Returns: (x (5·n_samples,) sound pressure in Pa at 100 kHz, layout dict with n_samples,
    speech_start, speech_samples, all in samples at 20 kHz).
    """
    from ..analysis.corpus import resample
    from ..analysis.stimuli import calibrate_rms

    stages = _resolve_stages(stages)
    x = calibrate_rms(resample(np.asarray(signal, dtype=np.float64), fs, FS_REFERENCE),
                      float(level_db_spl))
    n_speech = math.ceil(x.size / DECIMATION)
    before, after = _silence_samples(stages, silence_s)
    w = WINDOWS[_primary_family(stages)]
    total = before + n_speech + after
    if total <= w.length:
        total = w.length
    else:
        total = w.length + math.ceil((total - w.length) / w.hop) * w.hop
    out = np.zeros(total * DECIMATION)
    out[before * DECIMATION: before * DECIMATION + x.size] = x
    return out, {"n_samples": int(total), "speech_start": int(before), "speech_samples": int(n_speech)}


def verhulst2018_reference(signal_pa, cf_hz, signals, **options):
    """The reference responses at 20 kHz, in SI units (the default ``reference``).

    signal_pa: (n,) sound pressure in Pa at 100 kHz (n a multiple of 5), or (n_signals, n) for a
    batch (run in this process; with the fast engine up to 8 signals integrated in lockstep).
    cf_hz: (n_cf,) CFs in Hz (the model's nearest sections are used; CoNNear CFs are exact
    section CFs). signals: names among "v" (BM velocity, m/s), "ihc" (V), "anfh"/"anfm"/"anfl"
    (spikes/s). options: passed to ``verhulst2018.simulate`` (e.g. irregularities=True,
    subject=1, engine="fast"; the engine is "exact" when not given: :func:`build_dataset` passes
    its default, pipeline.ENGINE_FOR_DATASETS).
    Returns: dict name -> (n / 5, n_cf) float64 at 20 kHz: v and ihc via
    ``resample_poly(x, 1, 5)`` (spec §2.3), ANF rates as the model gives them (20 kHz); a list
    of such dicts, one per row, for a batch.
    """
    import verhulst2018
    from scipy.signal import resample_poly

    wanted = tuple(signals)
    x = np.asarray(signal_pa, dtype=np.float64)
    # no engine in a dataset's options means the exact one (the datasets built before the option)
    options = {"engine": "exact", **options}
    if x.ndim == 2:
        options.setdefault("n_jobs", 1)  # a Dask worker already has its core
    res = verhulst2018.simulate(x, fs=FS_REFERENCE, cf=np.asarray(cf_hz, dtype=np.float64), outputs=wanted,
                                progress=False, **options)
    outs = []
    for r in (res if x.ndim == 2 else [res]):
        out = {}
        for name in wanted:
            a = getattr(r, name)
            if name in ("v", "ihc"):
                a = resample_poly(a, 1, DECIMATION, axis=0)
            out[name] = a
        outs.append(out)
    return outs if x.ndim == 2 else outs[0]


_REFERENCES = {"verhulst2018": verhulst2018_reference}


def _resolve_reference(reference):
    if callable(reference):
        return reference, f"{reference.__module__}:{reference.__qualname__}"
    if reference in _REFERENCES:
        return _REFERENCES[reference], reference
    raise ValueError(
        f"unknown reference {reference!r}; expected 'verhulst2018' or a callable "
        "(signal_pa_100k, cf_hz, signals, **options) -> {name: (n/5, n_cf) SI array}"
    )


def _prepare(stim, cfg):
    """(sound (n,) Pa at 100 kHz, layout) of one stimulus, as prepare_stimulus makes it."""
    from ..analysis.corpus import Utterance, load_utterance

    utt = Utterance.from_dict(stim["utterance"])
    audio, fs = load_utterance(utt)
    return prepare_stimulus(audio, fs, stim["level_db_spl"], cfg["stages"],
                            silence_s=None if cfg["silence_samples"] is None else
                            tuple(s / FS_CNN for s in cfg["silence_samples"]))


def _lockstep_runs(sizes, cfg, reference):
    """Index lists of the stimuli (in order) simulated together: consecutive stimuli of equal
    length, up to 8, when the built-in reference runs the fast engine (one recording at several
    levels, integrated in lockstep); otherwise one stimulus at a time."""
    batched = reference is verhulst2018_reference and cfg["reference_options"].get("engine") == "fast"
    runs = []
    for i, n in enumerate(sizes):
        if batched and runs and sizes[runs[-1][-1]] == n and len(runs[-1]) < 8:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _reference_options(reference, options):
    """The reference options a dataset is built and keyed with (dict).

    For the built-in reference the engine defaults to pipeline.ENGINE_FOR_DATASETS and is
    checked; it is left out when it is "exact", so datasets built before there was an engine
    option keep their settings (verhulst2018_reference then runs the exact engine)."""
    opts = dict(options or {})
    if reference is not verhulst2018_reference:
        return opts
    from ..pipeline import ENGINE_FOR_DATASETS, check_engine

    engine = check_engine(opts.pop("engine", ENGINE_FOR_DATASETS))
    if engine != "exact":
        opts["engine"] = engine
    return opts


def _simulate_stimuli(stims, cfg, reference):
    """Yield (data, layout) of each stimulus in order (see :func:`_simulate_stimulus`), running
    the runs of :func:`_lockstep_runs` as one batch each."""
    prepared = [_prepare(stim, cfg) for stim in stims]
    ref_names = [s for s in cfg["signals"] if s != "audio"]
    for run in _lockstep_runs([x.size for x, _ in prepared], cfg, reference):
        responses = [None] * len(run)
        if ref_names and len(run) > 1:
            xs = np.stack([prepared[i][0] for i in run])
            responses = reference(xs, np.asarray(cfg["cf_hz"]), ref_names, **cfg["reference_options"])
        for i, resp in zip(run, responses):
            yield _simulate_stimulus(stims[i], cfg, reference, prepared[i], resp)


def _simulate_stimulus(stim, cfg, reference, prepared=None, responses=None):
    """All stored signals of one stimulus: dict name -> float32 (n, n_cf or 1) in CNN units.

    prepared: (sound, layout) from :func:`_prepare` if already made; responses: the reference's
    responses if already simulated (e.g. in a batch)."""
    from scipy.signal import resample_poly

    x, layout = _prepare(stim, cfg) if prepared is None else prepared
    n = layout["n_samples"]
    names = cfg["signals"]
    ref_names = [s for s in names if s != "audio"]
    cf_hz = np.asarray(cfg["cf_hz"])
    if responses is None:
        responses = reference(x, cf_hz, ref_names, **cfg["reference_options"]) if ref_names else {}
    out = {}
    for name in names:
        if name == "audio":
            a = resample_poly(x, 1, DECIMATION)[:, None]
        else:
            if name not in responses:
                raise DatasetError(f"the reference returned no {name!r}; it must return {ref_names}")
            a = np.asarray(responses[name])
            if a.shape != (n, cf_hz.size):
                raise DatasetError(
                    f"the reference returned {name} with shape {a.shape}; expected (n_samples at "
                    f"20 kHz, n_cf) = ({n}, {cf_hz.size}) for stimulus {stim['stimulus_id']}"
                )
        out[name] = (a * CNN_SCALE[name]).astype(np.float32)
        if not np.all(np.isfinite(out[name])):
            raise DatasetError(f"non-finite {name} values for stimulus {stim['stimulus_id']}")
    return out, layout


# ---------------------------------------------------------------------------------------------
# one shard (a Dask task)


def _build_shard(task):
    """Simulate the stimuli of one shard and write its HDF5 file atomically; return its entry."""
    import h5py

    t0 = time.time()
    cfg = task["config"]
    reference, _ = _resolve_reference(task["reference"])
    out_dir = pathlib.Path(task["out_dir"])
    final = out_dir / task["file"]
    tmp = out_dir / f".{task['file']}.{uuid.uuid4().hex[:8]}.tmp"
    n_cf = len(cfg["cf_hz"])
    stim_entries = []
    try:
        with h5py.File(tmp, "w") as f:
            dsets = {}
            for name in cfg["signals"]:
                width = 1 if name == "audio" else n_cf
                dsets[name] = f.create_dataset(
                    f"signals/{name}", shape=(0, width), maxshape=(None, width), dtype="float32",
                    chunks=(1024, width), compression=cfg["compression"])
                dsets[name].attrs["unit"] = CNN_UNIT[name]
                dsets[name].attrs["si_unit"] = SI_UNIT[name]
                dsets[name].attrs["cnn_scale"] = CNN_SCALE[name]
            offset = 0
            for stim, (data, layout) in zip(task["stimuli"], _simulate_stimuli(task["stimuli"], cfg, reference)):
                n = layout["n_samples"]
                for name, a in data.items():
                    dsets[name].resize(offset + n, axis=0)
                    dsets[name][offset:offset + n] = a
                u = stim["utterance"]
                stim_entries.append({
                    "stimulus_id": stim["stimulus_id"], "sentence_id": stim["sentence_id"],
                    "utterance_id": u["utterance_id"], "level_db_spl": stim["level_db_spl"],
                    "seed": stim["seed"], "offset": offset, "n_samples": n,
                    "speech_start": layout["speech_start"],
                    "speech_samples": layout["speech_samples"],
                    "engine": u["engine"], "voice": u["voice"], "rate": u["rate"],
                    "pitch": u["pitch"], "text": u["text"], "path": u["path"],
                })
                offset += n
            f.create_dataset("stimulus/id", data=[s["stimulus_id"] for s in stim_entries],
                             dtype=h5py.string_dtype())
            for key in ("offset", "n_samples", "speech_start", "speech_samples"):
                f[f"stimulus/{key}"] = np.array([s[key] for s in stim_entries], dtype=np.int64)
            f["stimulus/level_db_spl"] = np.array([s["level_db_spl"] for s in stim_entries])
            f["cf_hz"] = np.asarray(cfg["cf_hz"], dtype=np.float64)
            f["cf_hz"].attrs["unit"] = "Hz"
            entry = {
                "file": task["file"], "shard": task["shard"], "stimuli": stim_entries,
                "n_samples": offset, "wall_s": round(time.time() - t0, 3),
                "host": socket.gethostname(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            f.attrs["format"] = FORMAT
            f.attrs["config_key"] = task["config_key"]
            f.attrs["fs"] = FS_CNN
            f.attrs["entry"] = json.dumps(entry)
        entry["bytes"] = tmp.stat().st_size
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    return entry


# ---------------------------------------------------------------------------------------------
# manifest


def _atomic_write_text(path, text):
    path = pathlib.Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _read_manifest(out_dir):
    p = pathlib.Path(out_dir) / "manifest.json"
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(
            f"{p} is not valid JSON ({exc}); it may have been edited by hand. Restore it or build "
            "into a new folder"
        ) from exc


def _write_manifest(out_dir, manifest):
    manifest["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    _atomic_write_text(pathlib.Path(out_dir) / "manifest.json", json.dumps(manifest, indent=1))


def _write_tables(out_dir, manifest):
    out_dir = pathlib.Path(out_dir)
    shards = [manifest["shards"][k] for k in sorted(manifest["shards"])]
    stim_fields = ["shard", "stimulus_id", "sentence_id", "utterance_id", "level_db_spl", "seed",
                   "offset", "n_samples", "speech_start", "speech_samples", "engine", "voice",
                   "rate", "pitch", "text", "path"]
    tmp = out_dir / f".stimuli.csv.{uuid.uuid4().hex[:8]}.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=stim_fields, extrasaction="ignore")
        w.writeheader()
        for e in shards:
            for s in e["stimuli"]:
                w.writerow({**s, "shard": e["file"]})
    os.replace(tmp, out_dir / "stimuli.csv")
    families = sorted({FAMILY[s] for s in manifest["stages"]})
    n_cf = len(manifest["cf_hz"])
    win_fields = ["family", "shard", "stimulus_id", "sentence_id", "level_db_spl", "seed",
                  "window_index", "input_start", "input_stop", "target_start", "target_stop", "n_cf"]
    tmp = out_dir / f".windows.csv.{uuid.uuid4().hex[:8]}.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(win_fields)
        for fam in families:
            spec = WINDOWS[fam]
            for e in shards:
                for s in e["stimuli"]:
                    for k, start in enumerate(window_starts(s["n_samples"], fam)):
                        w.writerow([fam, e["file"], s["stimulus_id"], s["sentence_id"],
                                    s["level_db_spl"], s["seed"], k, int(start),
                                    int(start + spec.length), int(start + spec.left),
                                    int(start + spec.left + spec.window), n_cf])
    os.replace(tmp, out_dir / "windows.csv")


def _config_key(cfg):
    keep = {k: v for k, v in cfg.items() if k not in ("n_sentences",)}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


def _software():
    import scipy

    from ..analysis import corpus

    sw = {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__}
    try:
        import h5py

        sw["h5py"] = h5py.__version__
    except ImportError:  # pragma: no cover
        pass
    for e in corpus.ENGINES:
        v = corpus.engine_version(e)
        if v:
            sw[e] = v
    return sw


def _plan(cfg):
    """Stimuli and shards of a build: list of task dicts (without config)."""
    from ..analysis.corpus import corpus_plan

    utts = corpus_plan(cfg["corpus"], cfg["n_sentences"], seed=cfg["seed"], engines=cfg["engines"])
    levels = cfg["levels"]
    stimuli = []
    for i, u in enumerate(utts):
        chosen = levels if cfg["level_mode"] == "all" else [levels[i % len(levels)]]
        for lev in chosen:
            stimuli.append({
                "stimulus_id": f"{u.utterance_id}@{lev:g}dB", "sentence_id": u.sentence_id,
                "utterance": u.to_dict(), "level_db_spl": float(lev), "seed": int(u.seed),
            })
    k = cfg["stimuli_per_shard"]
    return [{"shard": j, "file": f"shard-{j:05d}.h5", "stimuli": stimuli[j * k:(j + 1) * k]}
            for j in range(math.ceil(len(stimuli) / k))]


def _adopt_orphan(path, key, ids):
    """Entry stored in a finished shard file whose manifest entry is missing (or None)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("config_key") != key:
                return None
            entry = json.loads(f.attrs["entry"])
        entry["bytes"] = path.stat().st_size
    except Exception:  # unreadable (e.g. truncated by a crash) -> rebuild it
        return None
    return entry if [s["stimulus_id"] for s in entry["stimuli"]] == ids else None


class _build_lock:
    """``DIR/.build.lock`` while a build runs: one build per folder at a time (a stale lock of a
    process that no longer runs on this host is taken over)."""

    def __init__(self, out):
        self.path = pathlib.Path(out) / ".build.lock"

    def __enter__(self):
        me = {"host": socket.gethostname(), "pid": os.getpid()}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    other = json.loads(self.path.read_text())
                except (OSError, json.JSONDecodeError):
                    other = {}
                if other.get("host") == me["host"] and not _pid_alive(other.get("pid")):
                    self.path.unlink(missing_ok=True)
                    continue
                raise DatasetError(
                    f"another build is writing to {self.path.parent} (lock {self.path}: {other}); "
                    "wait for it to finish, or delete the lock file if that build is gone"
                ) from None
            with os.fdopen(fd, "w") as fh:
                json.dump(me, fh)
            return self
        raise DatasetError(f"could not take the lock {self.path}; delete it and retry")

    def __exit__(self, *exc):
        self.path.unlink(missing_ok=True)


def _pid_alive(pid):
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------------------------------------
# scheduling


def _run_tasks(tasks, scheduler, workers, progress):
    """Yield (task, entry or None, error text or None) as tasks finish."""
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), desc="shards", unit="shard", disable=not progress)
    try:
        if scheduler == "synchronous":
            for t in tasks:
                try:
                    yield t, _build_shard(t), None
                except Exception:
                    yield t, None, traceback.format_exc()
                bar.update(1)
            return
        try:
            from dask.distributed import Client, LocalCluster, as_completed
        except ImportError as exc:
            raise ImportError(
                "dataset generation runs on Dask: install it with `pip install \"dask[distributed]\"`, "
                "or pass scheduler='synchronous' (--scheduler synchronous) to run in this process"
            ) from exc
        cluster = None
        if scheduler is None:
            n = int(workers or os.cpu_count() or 1)
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(scheduler)
        try:
            futures = {}
            for t in tasks:
                key = f"shard-{t['shard']}-{uuid.uuid4().hex[:6]}"
                futures[client.submit(_build_shard, t, pure=False, key=key)] = t
            for fut in as_completed(futures):
                t = futures[fut]
                try:
                    yield t, fut.result(), None
                except Exception:
                    yield t, None, traceback.format_exc()
                bar.update(1)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    finally:
        bar.close()


def build_dataset(out_dir, stages, corpus="tts", n_sentences=10, levels=DEFAULT_LEVELS,
                  level_mode="cycle", seed=0, cf_index=None, stimuli_per_shard=2, silence_s=None,
                  engines=None, scheduler=None, workers=None, reference="verhulst2018",
                  reference_options=None, compression=None, progress=True):
    """Build (or resume, or extend) a training set in ``out_dir``.

    out_dir: folder (created; it may hold an earlier build with the same settings).
    stages: stage names (``"ihc"``, ``["cochlea", "ihc"]``, ``"anf"`` = anfh+anfm+anfl, …).
    corpus: ``"tts"`` or a folder of WAV files. n_sentences: recordings to use.
    levels: RMS levels in dB SPL. level_mode: ``"cycle"`` (recording i at levels[i % n], the
    paper's half/half) or ``"all"`` (every recording at every level).
    seed: corpus seed (TTS voices, WAV subset). cf_index: None/"all" (the 201 CoNNear CFs), an
    int N (N CFs spread evenly) or indices into the 201 CFs (0 = 12 kHz).
    stimuli_per_shard: stimuli per shard = per Dask task. silence_s: (before, after) s override.
    engines: TTS engines (see :func:`connear_helpers.analysis.corpus.tts_plan`).
    scheduler: None (a LocalCluster of ``workers`` processes, default one per core), a Dask
    scheduler address, or ``"synchronous"`` (in this process, no Dask).
    reference: ``"verhulst2018"`` or a callable like :func:`verhulst2018_reference` (must be
    importable by the workers). reference_options: dict for it (e.g. {"irregularities": True});
    for "verhulst2018" its "engine" defaults to pipeline.ENGINE_FOR_DATASETS ("fast"; "exact"
    for the original's arithmetic). The engine is part of the settings a dataset is resumed
    with; an exact one is not written into them, as before there was a choice.
    compression: None, "lzf" or "gzip" for the HDF5 signals.
    Returns: the manifest (dict). Raises RuntimeError naming the failed shards (rerun to retry).
    """
    stages = _resolve_stages(stages)
    out = pathlib.Path(out_dir).expanduser().resolve()
    if level_mode not in ("cycle", "all"):
        raise ValueError(f"level_mode must be 'cycle' or 'all', got {level_mode!r}")
    levels = [float(v) for v in np.atleast_1d(levels)]
    if not levels or not all(np.isfinite(levels)):
        raise ValueError(f"levels must be finite dB SPL values, got {levels!r}")
    if int(stimuli_per_shard) < 1:
        raise ValueError(f"stimuli_per_shard must be >= 1, got {stimuli_per_shard!r}")
    if compression not in (None, "lzf", "gzip"):
        raise ValueError(f"compression must be None, 'lzf' or 'gzip', got {compression!r}")
    if scheduler not in (None, "synchronous") and not isinstance(scheduler, str):
        raise ValueError(f"scheduler must be None, 'synchronous' or an address, got {scheduler!r}")
    from ..analysis.cf import connear_cfs
    from ..analysis.corpus import SENTENCES_FILE, _resolve_engines

    idx = _resolve_cf_index(cf_index)
    ref_fn, ref_name = _resolve_reference(reference)
    reference_options = _reference_options(ref_fn, reference_options)
    corpus_desc = "tts" if str(corpus) == "tts" else str(pathlib.Path(corpus).expanduser().resolve())
    if corpus_desc == "tts":
        engines = list(_resolve_engines(engines))
        sentences_sha = hashlib.sha256(SENTENCES_FILE.read_bytes()).hexdigest()[:16]
    else:
        engines, sentences_sha = None, None
    cfg = {
        "format": FORMAT, "stages": stages, "signals": _signals_for(stages),
        "corpus": corpus_desc, "engines": engines, "sentences_sha256": sentences_sha,
        "n_sentences": int(n_sentences), "levels": levels, "level_mode": level_mode,
        "seed": int(seed), "cf_index": idx.tolist(), "cf_hz": connear_cfs()[idx].tolist(),
        "stimuli_per_shard": int(stimuli_per_shard),
        "silence_samples": None if silence_s is None else list(_silence_samples(stages, silence_s)),
        "reference": ref_name, "reference_options": reference_options,
        "compression": compression, "fs": FS_CNN,
    }
    key = _config_key(cfg)
    shards = _plan(cfg)  # fails early (no TTS engine, no WAV files) before anything is written
    out.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(out)
    if manifest is not None and manifest.get("config_key") != key:
        old = manifest.get("config", {})
        diff = "; ".join(f"{k}: {old.get(k)!r} -> {cfg[k]!r}" for k in cfg
                         if k != "n_sentences" and old.get(k) != cfg[k])
        hint = ""
        old_engine = old.get("reference_options", {}).get("engine", "exact")  # none: the exact one
        if ref_fn is verhulst2018_reference and old_engine != cfg["reference_options"].get("engine", "exact"):
            hint = (f"; its reference ran the {old_engine} engine: pass reference_options="
                    f"{{'engine': '{old_engine}'}} or --reference-engine {old_engine} to resume it")
        raise DatasetError(
            f"{out} holds a dataset built with other settings ({diff}). Use the same settings to "
            f"resume or extend it{hint}, or build into another --out folder"
        )
    if manifest is None:
        silence = _silence_samples(stages, silence_s)
        manifest = {
            "format": FORMAT, "config_key": key, "config": dict(cfg),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "stages": stages, "fs": FS_CNN,
            "signals": {n: {"cnn_unit": CNN_UNIT[n], "si_unit": SI_UNIT[n],
                            "cnn_scale": CNN_SCALE[n]} for n in cfg["signals"]},
            "cf_hz": cfg["cf_hz"], "cf_index": cfg["cf_index"],
            "windows": {f: {**dataclasses.asdict(WINDOWS[f]), "hop": WINDOWS[f].hop,
                            "length": WINDOWS[f].length}
                        for f in sorted({FAMILY[s] for s in stages})},
            "silence_samples": {"before": silence[0], "after": silence[1]},
            "software": _software(), "shards": {},
        }
    manifest["config"]["n_sentences"] = max(int(n_sentences), manifest["config"].get("n_sentences", 0))
    tasks, skipped, adopted = [], 0, 0
    for sh in shards:
        ids = [s["stimulus_id"] for s in sh["stimuli"]]
        path = out / sh["file"]
        entry = manifest["shards"].get(sh["file"])
        if entry is not None and path.is_file() and [s["stimulus_id"] for s in entry["stimuli"]] == ids:
            skipped += 1
            continue
        if path.is_file():
            orphan = _adopt_orphan(path, key, ids)
            if orphan is not None:
                manifest["shards"][sh["file"]] = orphan
                adopted += 1
                continue
        manifest["shards"].pop(sh["file"], None)
        tasks.append({**sh, "config": cfg, "config_key": key, "out_dir": str(out),
                      "reference": reference})
    failures = []
    with _build_lock(out):
        for stale in out.glob(".shard-*.tmp"):  # left by a killed worker of an earlier run
            stale.unlink()
        _write_manifest(out, manifest)
        if progress:
            print(f"dataset {out}: {len(shards)} shards planned, {skipped + adopted} already done, "
                  f"{len(tasks)} to build", file=sys.stderr)
        try:
            if tasks:
                for task, entry, err in _run_tasks(tasks, scheduler, workers, progress):
                    if err is not None:
                        failures.append((task["file"], err))
                        continue
                    manifest["shards"][task["file"]] = entry
                    _write_manifest(out, manifest)
        finally:
            _write_manifest(out, manifest)
            _write_tables(out, manifest)
    if failures:
        msg = "\n".join(f"--- {f}:\n{e}" for f, e in failures)
        raise RuntimeError(
            f"{len(failures)} of {len(tasks)} shards failed (the others are saved); fix the cause "
            f"and rerun the same command to build only the missing shards:\n{msg}"
        )
    return manifest


# ---------------------------------------------------------------------------------------------
# reading


def dataset_info(data_dir):
    """The manifest of a dataset folder (dict); raises DatasetError if there is none."""
    d = pathlib.Path(data_dir).expanduser()
    m = _read_manifest(d)
    if m is None:
        raise DatasetError(
            f"no dataset at {d} (manifest.json missing); build one with "
            "`python -m connear_helpers.training.datasets build --stage ... --out DIR`"
        )
    if m.get("format") != FORMAT:
        raise DatasetError(f"{d}/manifest.json has format {m.get('format')!r}; expected {FORMAT!r}")
    return m


def split_sentences(sentence_ids, val_fraction=0.1, seed=0):
    """Choose the validation sentences: a seeded ranking of the unique ids, the first
    round(val_fraction · n) (at least 1 and at most n − 1 when 0 < val_fraction and n >= 2).

    Returns: set of validation sentence ids (every other id is training).
    """
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
    ids = sorted(set(sentence_ids))
    if val_fraction == 0 or len(ids) < 2:
        return set()
    rank = sorted(ids, key=lambda s: hashlib.sha256(f"{seed}:{s}".encode()).hexdigest())
    n_val = min(max(1, round(val_fraction * len(ids))), len(ids) - 1)
    return set(rank[:n_val])


class _Index:
    """Sequences of one stage and split: arrays over (shard, start, cf column)."""

    def __init__(self, data_dir, stage, split, val_fraction, seed, cf_index, max_sequences):
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}; expected one of {STAGES}")
        if split not in ("train", "val", "all"):
            raise ValueError(f"split must be 'train', 'val' or 'all', got {split!r}")
        self.dir = pathlib.Path(data_dir).expanduser()
        m = self.manifest = dataset_info(self.dir)
        self.stage = stage
        self.family = FAMILY[stage]
        self.spec = WINDOWS[self.family]
        self.in_name, self.out_name = STAGE_SIGNALS[stage]
        stored = list(m["signals"])
        if self.in_name not in stored or self.out_name not in stored:
            raise DatasetError(
                f"{self.dir} was built for stages {m['stages']} (signals {stored}); stage {stage!r} "
                f"needs {self.in_name!r} and {self.out_name!r}. Build it with --stage {stage}"
            )
        all_cf = np.asarray(m["cf_index"])
        if cf_index is None:
            cols = np.arange(all_cf.size)
        else:
            want = _resolve_cf_index(cf_index)
            missing = sorted(set(want.tolist()) - set(all_cf.tolist()))
            if missing:
                raise DatasetError(f"CF indices {missing} are not in {self.dir} (it has {all_cf.tolist()})")
            cols = np.searchsorted(all_cf, want)
        self.cf_cols = cols
        self.cf_hz = np.asarray(m["cf_hz"])[cols]
        self.per_cf = stage != "cochlea"
        self.shard_files = sorted(m["shards"])
        sentences = [s["sentence_id"] for f in self.shard_files for s in m["shards"][f]["stimuli"]]
        val = split_sentences(sentences, val_fraction, seed)
        if split == "val" and not val:
            raise DatasetError(
                f"no validation sentences: {self.dir} holds {len(set(sentences))} distinct sentence(s) "
                f"and val_fraction={val_fraction}; build at least 2 sentences with val_fraction > 0, or "
                "use val_fraction=0 (--val-fraction 0) to train without validation"
            )
        rows, stims = [], []
        for si, f in enumerate(self.shard_files):
            for s in m["shards"][f]["stimuli"]:
                in_split = split == "all" or ((s["sentence_id"] in val) == (split == "val"))
                if not in_split:
                    continue
                stims.append(s)
                for start in window_starts(s["n_samples"], self.family):
                    rows.append((si, s["offset"] + start))
        self.stimuli = stims
        self.sentences = sorted({s["sentence_id"] for s in stims})
        win = np.array(rows, dtype=np.int64).reshape(-1, 2)
        if self.per_cf:
            n_c = cols.size
            seq = np.column_stack([np.repeat(win, n_c, axis=0),
                                   np.tile(np.arange(n_c), len(win))])
        else:
            seq = np.column_stack([win, np.full(len(win), -1)])
        if max_sequences is not None and len(seq) > max_sequences:
            pick = np.sort(np.random.default_rng(seed).choice(len(seq), int(max_sequences), replace=False))
            seq = seq[pick]
        self.seq = seq  # (n, 3): shard index, input start row, CF column (or -1)
        self._cache = {}
        self.cache_shards = 2
        self._lock = threading.Lock()

    def __len__(self):
        return len(self.seq)

    def shard_arrays(self, si):
        """(input, target) arrays of one shard for the selected CF columns (the last
        ``cache_shards`` shards are kept in memory)."""
        with self._lock:
            if si in self._cache:
                return self._cache[si]
            import h5py

            path = self.dir / self.shard_files[si]
            if not path.is_file():
                raise DatasetError(f"shard {path} is listed in manifest.json but missing; rerun the build to recreate it")
            with h5py.File(path, "r") as f:
                a_in = f[f"signals/{self.in_name}"][()]
                a_out = f[f"signals/{self.out_name}"][()]
            if self.in_name != "audio":
                a_in = a_in[:, self.cf_cols]
            a_out = a_out[:, self.cf_cols]
            while len(self._cache) >= self.cache_shards:
                self._cache.pop(next(iter(self._cache)))
            self._cache[si] = (a_in, a_out)
            return a_in, a_out

    def gather(self, rows):
        """Inputs and targets of sequences ``rows`` (index array into self.seq), in that order."""
        L, left, W = self.spec.length, self.spec.left, self.spec.window
        seq = self.seq[rows]
        n_t = self.cf_cols.size
        x = np.empty((len(seq), L, 1), dtype=np.float32)
        y = np.empty((len(seq), W, 1 if self.per_cf else n_t), dtype=np.float32)
        for si in np.unique(seq[:, 0]):
            sel = np.nonzero(seq[:, 0] == si)[0]
            a_in, a_out = self.shard_arrays(int(si))
            starts = seq[sel, 1]
            ti = starts[:, None] + np.arange(L)[None, :]
            to = starts[:, None] + left + np.arange(W)[None, :]
            if self.per_cf:
                c = seq[sel, 2][:, None]
                x[sel, :, 0] = a_in[ti, c]
                y[sel, :, 0] = a_out[to, c]
            else:
                x[sel, :, 0] = a_in[ti, 0]
                y[sel] = a_out[to]
        return x, y


def _keras_batches(index, batch_size, shuffle, seed, mix_shards):
    import keras

    index.cache_shards = mix_shards + 1

    class WindowBatches(keras.utils.PyDataset):
        """Batches (x, y) of one stage/split, CNN units, reshuffled each epoch.

        x: (B, left + window + right, 1); y: (B, window, 1) (cochlea: (B, window, n_cf)).
        Shuffling: shards in random order, taken ``mix_shards`` at a time, whose sequences are
        shuffled together (so only those shards need to be in memory at once).
        """

        def __init__(self):
            super().__init__()
            self.index = index
            self.batch_size = int(batch_size)
            self.shuffle = shuffle
            self._epoch = 0
            self._order = np.arange(len(index))
            self._reorder()

        def _reorder(self):
            if not self.shuffle:
                self._order = np.arange(len(self.index))
                return
            rng = np.random.default_rng([seed, self._epoch])
            shard = self.index.seq[:, 0]
            shards = rng.permutation(np.unique(shard))
            blocks = [shards[i:i + mix_shards] for i in range(0, len(shards), mix_shards)]
            parts = [rng.permutation(np.nonzero(np.isin(shard, b))[0]) for b in blocks]
            self._order = np.concatenate(parts) if parts else shard

        def __len__(self):
            return math.ceil(len(self.index) / self.batch_size)

        def __getitem__(self, i):
            if not 0 <= i < len(self):
                raise IndexError(f"batch {i} out of range 0…{len(self) - 1}")
            return self.index.gather(self._order[i * self.batch_size:(i + 1) * self.batch_size])

        def on_epoch_end(self):
            self._epoch += 1
            self._reorder()

        @property
        def n_sequences(self):
            return len(self.index)

    return WindowBatches()


def load_dataset(data_dir, stage, split="train", val_fraction=0.1, seed=0, *, batch_size=None,
                 shuffle=None, cf_index=None, max_sequences=None, mix_shards=8):
    """Training or validation data of one stage, in CNN units, split by sentence.

    data_dir: a folder made by :func:`build_dataset`. stage: "cochlea", "ihc", "anfh", "anfm",
    "anfl". split: "train", "val" (sentences chosen by :func:`split_sentences` with
    val_fraction and seed: no sentence is in both) or "all".
    cf_index: restrict to these CoNNear CF indices (default: all stored).
    max_sequences: keep a seeded random subset of at most this many sequences.
    batch_size: None returns arrays; an int returns a ``keras.utils.PyDataset`` of batches
    (for ``model.fit``; shuffled each epoch when shuffle is None/True for "train"), which
    shuffles ``mix_shards`` shards together and keeps about that many in memory.

    Returns (arrays): x (n, L_in, 1) float32, y (n, W, 1) float32 — one single-CF sequence per
    (window, CF), L_in = left + window + right (2560 for cochlea/IHC, 16384 for ANF), W = 2048 or
    8192; for the cochlea x (n, 2560, 1) sound in Pa and y (n, 2048, n_cf). Units: inputs/targets
    as the CNN sees them: BM velocity in um/s, IHC potential in dV (V x 10), ANF rate x 0.01.
    """
    index = _Index(data_dir, stage, split, val_fraction, seed, cf_index, max_sequences)
    if batch_size is not None:
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        if int(mix_shards) < 1:
            raise ValueError(f"mix_shards must be >= 1, got {mix_shards!r}")
        return _keras_batches(index, batch_size, split == "train" if shuffle is None else shuffle,
                              seed, int(mix_shards))
    rows = np.arange(len(index))
    if shuffle:
        rows = np.random.default_rng(seed).permutation(rows)
    return index.gather(rows)


# ---------------------------------------------------------------------------------------------
# command line


def _info_text(data_dir):
    m = dataset_info(data_dir)
    shards = m["shards"]
    stims = [s for e in shards.values() for s in e["stimuli"]]
    n_samples = sum(s["n_samples"] for s in stims)
    lines = [
        f"dataset {data_dir}", f"  stages     {', '.join(m['stages'])}",
        f"  corpus     {m['config']['corpus']} (seed {m['config']['seed']})",
        f"  levels     {m['config']['levels']} dB SPL ({m['config']['level_mode']})",
        f"  CFs        {len(m['cf_hz'])} ({min(m['cf_hz']):.0f}-{max(m['cf_hz']):.0f} Hz)",
        f"  shards     {len(shards)}, {sum(e.get('bytes', 0) for e in shards.values()) / 1e6:.1f} MB",
        f"  stimuli    {len(stims)} from {len({s['sentence_id'] for s in stims})} sentences, "
        f"{n_samples / FS_CNN:.1f} s of stimulus at 20 kHz",
        f"  build time {sum(e['wall_s'] for e in shards.values()):.0f} s of worker time",
    ]
    for fam in sorted({FAMILY[s] for s in m["stages"]}):
        n_win = sum(len(window_starts(s["n_samples"], fam)) for s in stims)
        lines.append(f"  {fam:8s}   {n_win} windows, {n_win * len(m['cf_hz'])} single-CF sequences")
    return "\n".join(lines)


def _parse_cfs(text):
    if text == "all":
        return None
    return text


def _main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m connear_helpers.training.datasets",
        description="Build and inspect CoNNear training sets (see the module docstring).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build, resume or extend a dataset")
    b.add_argument("--stage", nargs="+", required=True,
                   help=f"one or more of {', '.join(STAGES)}, or anf (= anfh anfm anfl)")
    b.add_argument("--corpus", default="tts", help="'tts' (offline text-to-speech) or a folder of WAV files")
    b.add_argument("--out", required=True, help="dataset folder (resumed if it exists)")
    b.add_argument("--n-sentences", type=int, required=True, help="recordings to use")
    b.add_argument("--levels", type=float, nargs="+", default=list(DEFAULT_LEVELS),
                   help="RMS levels in dB SPL (default 70 130, as the paper)")
    b.add_argument("--level-mode", choices=("cycle", "all"), default="cycle",
                   help="cycle: recording i at levels[i %% n] (paper); all: every recording at every level")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--cfs", default="all", help="all (201 CFs), N (N CFs spread evenly) or comma-separated indices")
    b.add_argument("--stimuli-per-shard", type=int, default=2,
                   help="stimuli per shard = per Dask task (default 2; keep shards >= workers)")
    b.add_argument("--silence", type=float, nargs=2, default=None, metavar=("BEFORE_S", "AFTER_S"),
                   help="override the silences (default: context for cochlea/IHC, 0.5 1.0 for ANF)")
    b.add_argument("--engines", default="espeak-ng", help="TTS engines: espeak-ng, flite, all, or a comma list")
    b.add_argument("--reference-engine", choices=("exact", "fast", "numpy"), default=None,
                   help="verhulst2018 engine (default: fast, connear_helpers.pipeline.ENGINE_FOR_DATASETS; "
                        "exact: the original's arithmetic)")
    b.add_argument("--irregularities", action="store_true",
                   help="reference with cochlear irregularities (subject 1), as the original notebooks")
    b.add_argument("--scheduler", default=None,
                   help="Dask scheduler address (default: a LocalCluster), or 'synchronous'")
    b.add_argument("--workers", type=int, default=None, help="LocalCluster workers (default: one per core)")
    b.add_argument("--compression", choices=("none", "lzf", "gzip"), default="none")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    i = sub.add_parser("info", help="summarise a dataset folder")
    i.add_argument("dir")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "info":
            print(_info_text(args.dir))
            return 0
        opts = {"irregularities": True, "subject": 1} if args.irregularities else {}
        if args.reference_engine is not None:
            opts["engine"] = args.reference_engine
        build_dataset(
            args.out, args.stage, corpus=args.corpus, n_sentences=args.n_sentences,
            levels=args.levels, level_mode=args.level_mode, seed=args.seed,
            cf_index=_parse_cfs(args.cfs), stimuli_per_shard=args.stimuli_per_shard,
            silence_s=args.silence, engines=args.engines, scheduler=args.scheduler,
            workers=args.workers, reference_options=opts,
            compression=None if args.compression == "none" else args.compression,
            progress=not args.quiet)
        print(_info_text(args.out))
        return 0
    except (DatasetError, ValueError, FileNotFoundError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from ..analysis.corpus import NoTTSEngineError

        if isinstance(exc, NoTTSEngineError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(_main())
