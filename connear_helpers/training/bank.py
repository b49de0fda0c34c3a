"""A bank of reference-model BM velocities, and the CNN training pairs derived from it.

The TL cochlea is the one expensive stage of verhulst2018 (about 20 s per second of sound on one
core); the IHC and ANF stages cost about a hundredth of it. So the TL model runs once per sound,
here, and the IHC and ANF training pairs are derived from its BM velocity as often as needed:
any BM waveform, at any gain, is a valid IHC input, and its target is whatever the reference IHC
makes of it (the same holds for the ANF and the reference IHC potential).

The sounds (:func:`bank_plan`, all from a seed) are never the evaluation's own stimuli:
espeak-ng sentences of the offline corpus at 20-100 dB SPL, and sequences of 2-5 events with
silent gaps: pure tones, SAM tones, harmonic complexes, broadband and band-pass noise bursts and
click trains, at frequencies log-uniform over 0.1-12 kHz and levels over 0-100 dB SPL.

On disk (``DIR``)::

    manifest.json                      the plan, the reference options, software, and which
                                       segments are done (written after each one: resumable)
    seg0007.sound20.npy   (n20,)        sound pressure [Pa] at 20 kHz (the cochlea CNN's input)
    seg0007.v20.npy       (201, n20)    BM velocity [m/s] at 20 kHz, the 201 CoNNear CFs
    seg0007.v100.npy      (201, n100)   BM velocity [m/s] at 100 kHz (drives the reference IHC)

All float32, channel-major (one CF's waveform is contiguous: windows are read by memory map).
``n100 = 5 n20``; ``v20 = resample_poly(v100, 1, 5)`` as in the evaluation's full mode.
A bank built with ``cochlea_only=True`` (``--cochlea-only``) leaves out ``v100``, 5/6 of the disk
(about 2.8 GB instead of 17 GB for 96 segments): the cochlea CNN trains on ``sound20`` and
``v20`` alone, while the IHC and ANF pairs need ``v100``.
A bank built with ``cf_every=K`` (``--cf-every K``, IHC and ANF banks only) stores ``v20`` and
``v100`` of every K-th CF only, CF indices ``segment number % K, + K, ...`` (so that the bank
as a whole holds every CF): about 1/K of the disk for the same sound. Neighbouring CFs give
nearly the same training pairs, so a bank with K = 4 holds more sounds per gigabyte.

:func:`derive` turns a segment, a gain and some CFs into the IHC and ANF signals at 20 kHz
(reference IHC at 100 kHz from the gained velocity, resampled; reference ANF H/M/L from its
decimated potential), over the whole segment, exactly as the evaluation computes them.
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import time

import numpy as np

from ..analysis import cf as _cf

from .. import constants as _constants

FS_REFERENCE = int(_constants.FS_REFERENCE)  # as ints, for sample counts
FS_CNN = int(_constants.FS_CNN)
DECIMATION = FS_REFERENCE // FS_CNN
#: Options of the reference model for the bank (irregularities off, the paper's integrator).
REFERENCE_OPTIONS = {"irregularities": False, "integrator": "legacy"}
BANK_FORMAT = "connear-lab-bank/1"
FIBRES = ("anfh", "anfm", "anfl")
_N_CF = 201  # the CoNNear CFs

_LEAD_S = 0.05  # silence before the first event of a segment
_TAIL_S = 0.06  # silence after the last one (the TL's last two samples are 0)


# ---------------------------------------------------------------------------------------------
# the plan: what sounds the bank holds


def bank_plan(n_segments, seed=0, speech_fraction=0.35):
    """The seeded list of segment descriptions (plain dicts; no audio is made).

    n_segments: int >= 1. speech_fraction: share of segments that are one spoken sentence.
    Each dict: id, kind ("speech" | "events"), and for speech {utterance (index in the TTS
    corpus), level_db_spl}, for events {events: [dict(type, start_s, duration_s, level_db_spl,
    ...)], duration_s}.
    """
    n = int(n_segments)
    if n < 1:
        raise ValueError(f"n_segments must be >= 1, got {n_segments!r}")
    rng = np.random.default_rng([seed, 2026])
    n_speech = int(round(speech_fraction * n))
    kinds = np.array(["speech"] * n_speech + ["events"] * (n - n_speech))
    rng.shuffle(kinds)
    plan, k_speech = [], 0
    for i, kind in enumerate(kinds):
        if kind == "speech":
            plan.append(dict(id=f"seg{i:04d}", kind="speech", utterance=k_speech,
                             level_db_spl=round(float(rng.uniform(20.0, 100.0)), 2)))
            k_speech += 1
            continue
        events, t = [], _LEAD_S
        for _ in range(int(rng.integers(2, 6))):
            ev = _random_event(rng)
            ev["start_s"] = round(t, 5)
            events.append(ev)
            t += ev["duration_s"] + float(rng.uniform(0.01, 0.3))
        plan.append(dict(id=f"seg{i:04d}", kind="events", events=events,
                         duration_s=round(events[-1]["start_s"] + events[-1]["duration_s"] + _TAIL_S, 5)))
    return plan


def _log_uniform(rng, lo, hi):
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _random_event(rng):
    kind = str(rng.choice(["tone", "tone", "sam", "complex", "noise", "clicks"]))
    ev = dict(type=kind, level_db_spl=round(float(rng.uniform(0.0, 100.0)), 2),
              duration_s=round(float(rng.uniform(0.03, 0.35)), 4))
    if kind in ("tone", "sam"):
        ev["freq_hz"] = round(_log_uniform(rng, 100.0, 12000.0), 2)
        ev["ramp_s"] = round(float(rng.uniform(1e-3, 10e-3)), 4)
    if kind == "sam":
        ev["fm_hz"] = round(_log_uniform(rng, 4.0, 300.0), 2)
        ev["depth"] = round(float(rng.uniform(0.1, 1.0)), 3)
        ev["freq_hz"] = min(ev["freq_hz"], 12000.0 - ev["fm_hz"])
    if kind == "complex":
        ev["f0_hz"] = round(_log_uniform(rng, 80.0, 600.0), 2)
        ev["n_harmonics"] = int(rng.integers(3, 20))
        ev["ramp_s"] = 5e-3
    if kind == "noise":
        lo = _log_uniform(rng, 80.0, 8000.0)
        ev["band_hz"] = [round(lo, 1), round(min(lo * _log_uniform(rng, 1.2, 64.0), 15000.0), 1)]
        ev["ramp_s"] = 2e-3
    if kind == "clicks":
        ev["rate_hz"] = round(_log_uniform(rng, 5.0, 200.0), 2)
        ev["level_db_spl"] = round(float(rng.uniform(30.0, 100.0)), 2)  # dB peSPL
        ev["polarity"] = str(rng.choice(["condensation", "rarefaction"]))
    return ev


def render_segment(spec, seed=0):
    """The sound of one segment: (n,) pressure [Pa] at 100 kHz, n a multiple of 5."""
    from ..analysis import stimuli as st

    fs = FS_REFERENCE
    if spec["kind"] == "speech":
        from ..analysis import corpus

        utt = corpus.tts_plan(spec["utterance"] + 1, seed=seed)[spec["utterance"]]
        audio, fs_audio = corpus.load_utterance(utt)
        x = st.calibrate_rms(corpus.resample(np.asarray(audio, dtype=np.float64), fs_audio, fs),
                             spec["level_db_spl"])
        x = np.concatenate([np.zeros(int(_LEAD_S * fs)), x, np.zeros(int(_TAIL_S * fs))])
    else:
        x = np.zeros(int(round(spec["duration_s"] * fs)))
        for k, ev in enumerate(spec["events"]):
            rng = np.random.default_rng([seed, int(spec["id"][3:]), k])
            e = _render_event(ev, fs, rng)
            i0 = int(round(ev["start_s"] * fs))
            x[i0:i0 + e.size] += e[: x.size - i0]
    return np.concatenate([x, np.zeros((-x.size) % DECIMATION)])


def _render_event(ev, fs, rng):
    from scipy.signal import butter, sosfilt

    from ..analysis import stimuli as st

    n = int(round(ev["duration_s"] * fs))
    kind = ev["type"]
    if kind == "tone":
        return st.pure_tone(ev["freq_hz"], ev["level_db_spl"], ev["duration_s"], fs, ramp_s=ev["ramp_s"],
                            phase=float(rng.uniform(0, 2 * np.pi)))
    if kind == "sam":
        return st.sam_tone(ev["freq_hz"], ev["fm_hz"], ev["depth"], ev["level_db_spl"], ev["duration_s"], fs,
                           ramp_s=ev["ramp_s"], ramp_shape="hann")
    if kind == "complex":
        t = np.arange(n) / fs
        k = np.arange(1, ev["n_harmonics"] + 1)
        k = k[k * ev["f0_hz"] < 12000.0]
        phases = rng.uniform(0, 2 * np.pi, k.size)
        s = np.sin(2 * np.pi * ev["f0_hz"] * t[:, None] * k[None, :] + phases).sum(axis=1)
        return st.calibrate_rms(st.apply_ramps(s, fs, ev["ramp_s"]), ev["level_db_spl"])
    if kind == "noise":
        sos = butter(4, ev["band_hz"], "bandpass", fs=fs, output="sos")
        s = sosfilt(sos, rng.standard_normal(n + 2000))[2000:]
        return st.calibrate_rms(st.apply_ramps(s, fs, ev["ramp_s"]), ev["level_db_spl"])
    if kind == "clicks":
        c = st.click(ev["level_db_spl"], fs, polarity=ev["polarity"])
        s = np.zeros(n)
        for i in np.arange(0, n - c.size, int(round(fs / ev["rate_hz"]))):
            s[i:i + c.size] = c
        return s
    raise ValueError(f"unknown event type {kind!r}")


# ---------------------------------------------------------------------------------------------
# building the bank (the TL runs)


def _software():
    import platform

    import scipy

    import verhulst2018  # noqa: F401

    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__}


def _plan_key(plan, options):
    return hashlib.sha256(json.dumps([plan, options], sort_keys=True).encode()).hexdigest()[:16]


def _atomic_save(path, array):
    tmp = path.with_name(f".{path.name}.tmp.npy")
    np.save(tmp, np.ascontiguousarray(array, dtype=np.float32))
    os.replace(tmp, path)


def _atomic_json(path, obj):
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)


def simulate_segment(spec, seed=0, engine=None):
    """Run the reference TL for one segment: (sound20 (n20,), v20 (201, n20), v100 (201, n100))."""
    import verhulst2018
    from scipy.signal import resample_poly

    x = render_segment(spec, seed)
    kw = dict(REFERENCE_OPTIONS)
    if engine is not None:
        kw["engine"] = engine
    res = verhulst2018.simulate(x, fs=FS_REFERENCE, cf=_cf.connear_cfs(), outputs=("v",), progress=False, **kw)
    v100 = np.asarray(res.v, dtype=np.float64).T
    v20 = resample_poly(v100, 1, DECIMATION, axis=1)
    return resample_poly(x, 1, DECIMATION), v20, v100


ARRAYS = ("sound20", "v20", "v100")
COCHLEA_ARRAYS = ("sound20", "v20")


def held_channels(seg_id, cf_every=1):
    """CF indices (0-200) whose BM velocity a segment of a ``cf_every`` bank stores (sorted)."""
    k = int(cf_every)
    return np.arange(int(seg_id[3:]) % k if k > 1 else 0, _N_CF, k)


def build_bank(out_dir, n_segments=40, seed=0, progress=True, engine=None, plan=None, cochlea_only=False,
               cf_every=1):
    """Simulate the bank into ``out_dir`` (resumable: finished segments are kept). Returns the manifest.

    plan: a list of segment dicts to use instead of :func:`bank_plan` (tests, custom banks).
    cochlea_only: store no ``v100`` (a bank for the cochlea CNN only; see the module docstring).
    cf_every: store every K-th CF only (:func:`held_channels`; IHC and ANF banks, not with
    ``cochlea_only``, whose CNN needs all 201).
    A folder made with another plan (seed, segment count, options, ``cf_every``) or with the
    other ``cochlea_only`` is an error, not a mix.
    """
    if isinstance(cf_every, bool) or int(cf_every) != cf_every or not 1 <= cf_every <= _N_CF:
        raise ValueError(f"cf_every must be a whole number from 1 to {_N_CF}, got {cf_every!r}")
    cf_every = int(cf_every)
    if cochlea_only and cf_every > 1:
        raise ValueError("a cochlea-only bank needs all 201 CFs (the cochlea CNN predicts them all); "
                         "use cf_every (--cf-every) only for IHC and ANF banks")
    arrays = COCHLEA_ARRAYS if cochlea_only else ARRAYS
    plan = bank_plan(n_segments, seed) if plan is None else plan
    if cf_every > 1 and not all(re.fullmatch(r"seg\d+", str(s["id"])) for s in plan):
        raise ValueError("with cf_every the segment ids must be seg<number> (the number picks the held CFs), "
                         f"got {[s['id'] for s in plan][:4]}")
    out = pathlib.Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    # the engine is part of what was simulated (the exact engine's banks keep their old key)
    options = REFERENCE_OPTIONS if engine in (None, "exact") else dict(REFERENCE_OPTIONS, engine=engine)
    key = _plan_key(plan, options) if cf_every == 1 else _plan_key(plan, dict(options, cf_every=cf_every))
    mpath = out / "manifest.json"
    if mpath.exists():
        manifest = json.loads(mpath.read_text())
        if manifest.get("plan_key") != key:
            raise ValueError(
                f"{out} holds a bank of another plan (seed {manifest.get('seed')}, "
                f"{len(manifest.get('plan', []))} segments, engine "
                f"{manifest.get('reference_options', {}).get('engine', 'exact')}, one CF in "
                f"{manifest.get('cf_every', 1)}); choose another folder or remove it")
        if tuple(manifest.get("arrays", ARRAYS)) != arrays:
            has_v100 = "v100" in manifest.get("arrays", ARRAYS)
            raise ValueError(f"{out} holds a bank {'with' if has_v100 else 'without'} v100; finish it "
                             f"{'without' if has_v100 else 'with'} --cochlea-only (cochlea_only), or choose "
                             f"another folder")
    else:
        manifest = dict(format=BANK_FORMAT, plan_key=key, seed=seed, plan=plan, arrays=list(arrays),
                        reference_options=options, cf_hz=[float(f) for f in _cf.connear_cfs()],
                        software=_software(), done={}, seconds={})
        if cf_every > 1:
            manifest["cf_every"] = cf_every
        _atomic_json(mpath, manifest)
    todo = [s for s in plan if s["id"] not in manifest["done"]]
    from tqdm.auto import tqdm

    bar = tqdm(todo, desc="TL bank", unit="segment", disable=not progress)
    for spec in bar:
        t0 = time.perf_counter()
        sound20, v20, v100 = simulate_segment(spec, seed, engine)
        if cf_every > 1:
            rows = held_channels(spec["id"], cf_every)
            v20, v100 = v20[rows], v100[rows]
        for name, a in (("sound20", sound20), ("v20", v20), ("v100", v100)):
            if name not in arrays:
                continue
            _atomic_save(out / f"{spec['id']}.{name}.npy", a)
        manifest["done"][spec["id"]] = int(sound20.size)
        manifest["seconds"][spec["id"]] = round(time.perf_counter() - t0, 2)
        _atomic_json(mpath, manifest)
    return manifest


# ---------------------------------------------------------------------------------------------
# reading the bank and deriving training pairs


class Bank:
    """A finished (or partly finished) bank folder, read by memory map."""

    def __init__(self, path):
        self.path = pathlib.Path(path).expanduser()
        mpath = self.path / "manifest.json"
        if not mpath.exists():
            raise FileNotFoundError(
                f"no bank at {self.path} (manifest.json missing); build one with "
                f"`python -m connear_helpers.training.bank build --out {self.path}`")
        self.manifest = json.loads(mpath.read_text())
        self.ids = [s["id"] for s in self.manifest["plan"] if s["id"] in self.manifest["done"]]
        if not self.ids:
            raise ValueError(f"the bank at {self.path} has no finished segment yet")
        self.specs = {s["id"]: s for s in self.manifest["plan"]}
        self.arrays = tuple(self.manifest.get("arrays", ARRAYS))  # banks before the option hold all three
        self.cf_every = int(self.manifest.get("cf_every", 1))
        self._maps = {}

    def __len__(self):
        return len(self.ids)

    def seconds(self):
        """Seconds of sound in the finished segments."""
        return sum(self.manifest["done"][i] for i in self.ids) / FS_CNN

    def channels(self, seg_id):
        """CF indices (0-200) of the rows of a segment's ``v20`` and ``v100`` (all 201 unless ``cf_every``)."""
        return held_channels(seg_id, self.cf_every)

    def rows(self, seg_id, channels):
        """Rows of a segment's ``v20``/``v100`` that hold the CF indices ``channels``."""
        held = self.channels(seg_id)
        channels = np.asarray(channels, dtype=int)
        rows = np.minimum(np.searchsorted(held, channels), held.size - 1)
        if np.any(held[rows] != channels):
            missing = sorted(set(channels.tolist()) - set(held.tolist()))
            raise ValueError(f"segment {seg_id} of the bank at {self.path} holds one CF in {self.cf_every} "
                             f"({held.size} of 201, from index {held[0]}), not CF indices {missing[:8]}; "
                             f"choose channels from bank.channels({seg_id!r})")
        return rows

    def array(self, seg_id, name):
        """Memory-mapped float32 array ``name`` ("sound20", "v20", "v100") of a segment.

        ``v20`` and ``v100`` have one row per CF of :meth:`channels` (all 201 unless ``cf_every``)."""
        if name not in self.arrays:
            raise ValueError(
                f"the bank at {self.path} holds no {name!r} (it was built with --cochlea-only, for the "
                f"cochlea CNN); the IHC and ANF models train on a bank built without --cochlea-only")
        key = (seg_id, name)
        if key not in self._maps:
            self._maps[key] = np.load(self.path / f"{seg_id}.{name}.npy", mmap_mode="r")
        return self._maps[key]

    def split(self, val_every=8):
        """(train ids, validation ids): every ``val_every``-th finished segment is held out."""
        val = self.ids[val_every - 1::val_every] or self.ids[-1:]
        train = [i for i in self.ids if i not in val]
        if not train:
            raise ValueError(f"the bank at {self.path} has one segment; training needs at least two")
        return train, val


def derive(bank, seg_id, gain_db, channels, fibres=FIBRES):
    """Reference IHC and ANF responses to a segment's BM velocity times a gain, at 20 kHz.

    channels: CF indices (0-200) that the segment holds (:meth:`Bank.channels`). Returns dict of
    float64 arrays (len(channels), n20), SI units: "v" (BM velocity m/s, the CNN input), "ihc"
    (V), and each fibre in ``fibres`` (spikes/s).
    The IHC runs at 100 kHz on ``10**(gain_db/20) * v100`` and is resampled to 20 kHz with its
    ends held (:func:`connear_helpers.pipeline.resample_held`); the ANF runs on its decimated
    potential (the reference's own decimation), over the whole segment.
    """
    from verhulst2018 import anf, ihc

    from ..pipeline import resample_held

    g = 10.0 ** (float(gain_db) / 20.0)
    rows = bank.rows(seg_id, channels)
    v100 = np.ascontiguousarray(np.asarray(bank.array(seg_id, "v100"))[rows].T, dtype=np.float64) * g
    vihc100 = ihc.ihc_potential(v100, float(FS_REFERENCE), overwrite_input=True)
    out = {"v": np.asarray(bank.array(seg_id, "v20"))[rows].astype(np.float64) * g,
           "ihc": resample_held(vihc100, FS_REFERENCE, FS_CNN).T}
    if fibres:
        vdec = ihc.decimate_ihc(vihc100)
        for fib in fibres:
            out[fib] = anf.anf_rate(vdec, float(FS_CNN), fib[3:]).T
    return out


def _main(argv=None):
    import argparse

    p = argparse.ArgumentParser(prog="python -m connear_helpers.training.bank",
                                description="Simulate the TL bank the lab's CNNs train on.")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="simulate (or finish) a bank")
    b.add_argument("--out", required=True, help="bank folder")
    b.add_argument("--segments", type=int, default=40)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--engine", default=None,
                   help="verhulst2018 engine: exact (default) or fast (about 3x faster per segment, within 1 %% of "
                        "the exact engine's BM velocity; recorded in the bank's manifest)")
    b.add_argument("--cochlea-only", action="store_true",
                   help="store no 100-kHz BM velocity: a bank for the cochlea CNN only, 1/6 of the disk")
    b.add_argument("--cf-every", type=int, default=1, metavar="K",
                   help="store every K-th CF only (IHC and ANF banks; about 1/K of the disk for the same sound)")
    i = sub.add_parser("info", help="what a bank holds")
    i.add_argument("path")
    a = p.parse_args(argv)
    if a.cmd == "build":
        m = build_bank(a.out, a.segments, a.seed, engine=a.engine, cochlea_only=a.cochlea_only,
                       cf_every=a.cf_every)
        print(f"{len(m['done'])} of {len(m['plan'])} segments in {a.out}")
    else:
        bank = Bank(a.path)
        kinds = {}
        for i in bank.ids:
            k = bank.specs[i]["kind"]
            kinds[k] = kinds.get(k, 0) + bank.manifest["done"][i] / FS_CNN
        print(f"{len(bank)} segments, {bank.seconds():.1f} s of sound: "
              + ", ".join(f"{k} {s:.1f} s" for k, s in kinds.items()))
        print(f"TL time: {sum(bank.manifest['seconds'].values()) / 60:.1f} min")
        print("arrays: " + ", ".join(bank.arrays) + ("" if "v100" in bank.arrays else " (cochlea only)")
              + (f", one CF in {bank.cf_every}" if bank.cf_every > 1 else ", all 201 CFs"))


if __name__ == "__main__":
    _main()
