"""Speech corpora for training the CoNNear models: offline text-to-speech, or any folder of WAV files.

The paper trained on 2310 TIMIT sentences (spec §2.7), which cannot be shipped. This module gives
two sources of speech that :mod:`connear_helpers.training.datasets` turns into training data:

``"tts"`` — synthesised English sentences
    The sentences of ``connear_helpers/data/sentences.txt`` (202 phonetically varied sentences
    written for this project) spoken by Debian's text-to-speech engines: ``espeak-ng`` (default;
    ``apt-get install espeak-ng``) and optionally ``flite`` (``apt-get install flite``), with
    several voices/variants, speaking rates and pitches. Everything is drawn from a seed, so the
    same seed gives the same corpus (given the same engine version). Sentence ``i`` of a corpus
    of ``n`` uses text ``perm[i % 202]`` of a seeded permutation, so a larger ``n`` repeats texts
    with other voices; the first ``n`` utterances never depend on how many are requested.

a folder of WAV files — TIMIT or your own recordings
    :func:`load_wav_folder` / :func:`wav_folder_plan` read every ``*.wav`` (any case) below a
    folder: RIFF WAV (PCM 8/16/24/32-bit or float) and NIST SPHERE files (the original LDC
    TIMIT format, which also ends in ``.WAV``). Multi-channel files are averaged to mono.

Using TIMIT (LDC93S1)
---------------------
TIMIT's licence forbids redistribution, so the repository never contains it. If you hold a copy::

    python -m connear_helpers.training.datasets build --stage ihc --corpus /data/TIMIT/TRAIN \\
        --n-sentences 2310 --out /data/connear-ihc

``TRAIN`` holds ``DR*/<speaker>/<SENTENCE>.WAV`` (16 kHz, 16-bit NIST SPHERE; converted RIFF copies
work as well). Recordings are grouped into sentences by file name (``SA1``, ``SX228``, …): TIMIT's
speakers read shared texts, and grouping by name keeps every reading of one text in the same
training/validation split. Which 2310 of the 4620 training recordings the paper used is not
documented; ``--n-sentences 2310`` takes a seeded random 2310.

Units: every waveform returned here is dimensionless full scale (about -1 … 1), *not* sound
pressure; :mod:`connear_helpers.training.datasets` calibrates it to a level in dB SPL (Pa). Shapes:
``(n_samples,)``; ``fs`` in Hz.

Command line::

    python -m connear_helpers.analysis.corpus write --out DIR --n-sentences 20 [--fs 16000] [--seed 0]
    python -m connear_helpers.analysis.corpus engines
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
from fractions import Fraction

import numpy as np

__all__ = [
    "Utterance",
    "Recording",
    "ENGINES",
    "ESPEAK_VOICES",
    "ESPEAK_VARIANTS",
    "FLITE_VOICES",
    "NoTTSEngineError",
    "load_sentences",
    "available_engines",
    "engine_version",
    "tts_plan",
    "wav_folder_plan",
    "corpus_plan",
    "synthesize",
    "load_utterance",
    "tts_corpus",
    "load_wav_folder",
    "write_tts_corpus",
    "read_wav",
    "resample",
]

SENTENCES_FILE = pathlib.Path(__file__).resolve().parents[1] / "data" / "sentences.txt"

#: Text-to-speech engines this module can drive (executable names).
ENGINES = ("espeak-ng", "flite")

#: espeak-ng English voices (all ship with Debian's espeak-ng-data; no MBROLA voices needed).
ESPEAK_VOICES = (
    "en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc",
    "en-gb-x-gbclan", "en-gb-x-gbcwmd",
)
#: espeak-ng voice variants (speaker characteristics): male m1–m7, female f1–f5, Klatt formant voices.
ESPEAK_VARIANTS = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt3",
)
#: espeak-ng speaking rate (words per minute) and pitch (0–99) ranges drawn from.
ESPEAK_RATE_WPM = (130, 200)
ESPEAK_PITCH = (25, 75)

#: flite built-in voices with a 16-kHz sample rate (``kal`` is 8 kHz and left out).
FLITE_VOICES = ("awb", "rms", "slt", "kal16")
#: flite duration stretch (>1 = slower) and mean F0 (Hz) ranges drawn from.
FLITE_STRETCH = (0.85, 1.25)
FLITE_F0_HZ = {"awb": (90, 140), "rms": (85, 130), "kal16": (90, 140), "slt": (150, 230)}


class NoTTSEngineError(RuntimeError):
    """No usable text-to-speech engine is installed."""


@dataclasses.dataclass(frozen=True)
class Utterance:
    """One recording of the corpus: how to (re)make it, and which sentence it reads.

    utterance_id: unique id (``"tts00017"``, or the WAV path relative to the folder).
    sentence_id: id of the *text* (the split key: recordings with one sentence_id share a split).
    engine: ``"espeak-ng"``, ``"flite"`` or ``"wav"``.
    text: the sentence (None for WAV files). voice: TTS voice (``"en-gb+f3"``) or "".
    rate: espeak-ng words/min or flite duration stretch x100 (None for WAV).
    pitch: espeak-ng pitch 0–99 or flite mean F0 in Hz (None for WAV).
    path: absolute WAV path (None for TTS). seed: the seed the parameters were drawn from.
    """

    utterance_id: str
    sentence_id: str
    engine: str
    text: str | None = None
    voice: str = ""
    rate: int | None = None
    pitch: int | None = None
    path: str | None = None
    seed: int = 0

    def to_dict(self):
        """Plain dict (JSON-serialisable) of the fields."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        """Inverse of :meth:`to_dict`."""
        return cls(**d)


@dataclasses.dataclass
class Recording:
    """An utterance with its waveform: signal (n_samples,) float64 full scale, fs in Hz."""

    utterance: Utterance
    signal: np.ndarray
    fs: float


# ---------------------------------------------------------------------------------------------
# sentences and engines


def load_sentences(path=None):
    """The sentence list: non-empty lines of ``path`` not starting with "#".

    path: text file, one sentence per line (default: the repo's ``data/sentences.txt``).
    Returns: list of str.
    """
    p = pathlib.Path(path) if path is not None else SENTENCES_FILE
    if not p.is_file():
        raise FileNotFoundError(
            f"sentence list {p} not found; expected a text file with one sentence per line "
            "(the package ships connear_helpers/data/sentences.txt — reinstall the package "
            "if it is missing)"
        )
    lines = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines()]
    out = [ln for ln in lines if ln and not ln.startswith("#")]
    if not out:
        raise ValueError(f"{p} holds no sentences; write one sentence per line")
    return out


def available_engines():
    """The text-to-speech engines of :data:`ENGINES` found on PATH (tuple of str)."""
    return tuple(e for e in ENGINES if shutil.which(e))


def engine_version(engine):
    """Version line of an engine (str), or None if it is not installed."""
    exe = shutil.which(engine)
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else None


def _no_engine_message(wanted):
    return (
        f"no text-to-speech engine found (looked for {', '.join(wanted)} on PATH). "
        "Install one with `apt-get install espeak-ng` (optionally also `apt-get install flite`), "
        "or use your own speech instead: pass a folder of WAV files (e.g. TIMIT) as the corpus "
        "(`--corpus /path/to/wavs`, or connear_helpers.analysis.corpus.load_wav_folder(path))."
    )


def _resolve_engines(engines):
    if engines is None:
        engines = ("espeak-ng",)
    elif isinstance(engines, str):
        engines = ENGINES if engines == "all" else tuple(e.strip() for e in engines.split(","))
    engines = tuple(engines)
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise ValueError(f"unknown TTS engine(s) {unknown}; expected some of {ENGINES} or 'all'")
    found = tuple(e for e in engines if shutil.which(e))
    if not found:
        raise NoTTSEngineError(_no_engine_message(engines))
    return found


# ---------------------------------------------------------------------------------------------
# corpus plans (which recordings, with which parameters) – cheap, no audio


def _seed_int(*parts):
    h = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:4], "little")


def tts_plan(n_sentences, seed=0, engines=None, sentences=None):
    """The first ``n_sentences`` utterances of the seeded TTS corpus (no audio is made).

    n_sentences: number of utterances (int >= 1; more than the sentence list repeats texts
        with other voices). seed: int. engines: "espeak-ng" (default), "flite", "all", or a
        list; engines that are not installed are dropped (error if none is left).
    sentences: list of str (default :func:`load_sentences`).
    Returns: list of :class:`Utterance`; sentence_id ``"s###"`` is the index into the list.
    """
    n = _check_count(n_sentences)
    engines = _resolve_engines(engines)
    texts = load_sentences() if sentences is None else list(sentences)
    order = np.random.default_rng(_seed_int("tts-order", seed)).permutation(len(texts))
    plan = []
    for i in range(n):
        k = int(order[i % len(texts)])
        item_seed = _seed_int("tts", seed, i)
        rng = np.random.default_rng(item_seed)
        engine = engines[int(rng.integers(len(engines)))]
        if engine == "espeak-ng":
            voice = f"{ESPEAK_VOICES[rng.integers(len(ESPEAK_VOICES))]}+" \
                    f"{ESPEAK_VARIANTS[rng.integers(len(ESPEAK_VARIANTS))]}"
            rate = int(rng.integers(ESPEAK_RATE_WPM[0], ESPEAK_RATE_WPM[1] + 1))
            pitch = int(rng.integers(ESPEAK_PITCH[0], ESPEAK_PITCH[1] + 1))
        else:
            voice = FLITE_VOICES[rng.integers(len(FLITE_VOICES))]
            rate = int(round(100 * rng.uniform(*FLITE_STRETCH)))
            lo, hi = FLITE_F0_HZ[voice]
            pitch = int(rng.integers(lo, hi + 1))
        plan.append(Utterance(
            utterance_id=f"tts{i:05d}", sentence_id=f"s{k:03d}", engine=engine, text=texts[k],
            voice=voice, rate=rate, pitch=pitch, seed=item_seed,
        ))
    return plan


def _is_wav(p):
    return p.is_file() and p.suffix.lower() == ".wav"


def wav_folder_plan(path, n_sentences=None, seed=0, recursive=True):
    """Utterances for the WAV files below a folder (no audio is read).

    path: folder. n_sentences: take this many files (a seeded random choice; None = all, in
    path order). recursive: also search sub-folders. utterance_id = path relative to the folder,
    without extension; sentence_id = lower-case file stem (TIMIT: ``sa1``, ``sx228``; recordings
    of one text share it), unless the folder holds a ``corpus.csv`` with columns
    ``utterance_id`` and ``sentence_id`` (as :func:`write_tts_corpus` writes), which then decides.
    Returns: list of :class:`Utterance`.
    """
    root = pathlib.Path(path).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(
            f"WAV folder {root} not found; pass an existing folder that contains .wav files "
            "(or use the text-to-speech corpus: --corpus tts)"
        )
    files = sorted(p for p in (root.rglob("*") if recursive else root.iterdir()) if _is_wav(p))
    if not files:
        raise FileNotFoundError(
            f"no .wav files found {'below' if recursive else 'in'} {root}; expected RIFF WAV or "
            "NIST SPHERE files ending in .wav/.WAV"
        )
    if n_sentences is not None:
        n = _check_count(n_sentences)
        if n > len(files):
            raise ValueError(
                f"asked for {n} recordings but {root} holds only {len(files)} .wav files; "
                f"ask for at most {len(files)}"
            )
        order = np.random.default_rng(_seed_int("wav-order", seed)).permutation(len(files))
        files = [files[int(i)] for i in order[:n]]
    groups = _sentence_table(root / "corpus.csv")
    plan = []
    for f in files:
        rel = f.relative_to(root).with_suffix("").as_posix()
        plan.append(Utterance(utterance_id=rel, sentence_id=groups.get(rel, f.stem.lower()),
                              engine="wav", path=str(f.resolve()), seed=int(seed)))
    return plan


def _sentence_table(path):
    """{utterance_id: sentence_id} from a corpus.csv, or {} if there is none."""
    import csv

    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if rows and not {"utterance_id", "sentence_id"} <= set(rows[0]):
        raise ValueError(
            f"{path} lacks the columns utterance_id and sentence_id (found {sorted(rows[0])}); "
            "fix or remove it"
        )
    return {r["utterance_id"]: r["sentence_id"] for r in rows}


def corpus_plan(corpus, n_sentences, seed=0, engines=None):
    """Plan for ``corpus`` = ``"tts"`` (see :func:`tts_plan`) or a WAV folder path."""
    if str(corpus) == "tts":
        return tts_plan(n_sentences, seed=seed, engines=engines)
    return wav_folder_plan(corpus, n_sentences=n_sentences, seed=seed)


def _check_count(n):
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"the number of sentences must be a positive integer, got {n!r}")
    return int(n)


# ---------------------------------------------------------------------------------------------
# audio


def resample(signal, fs_in, fs_out):
    """Polyphase resampling (scipy.signal.resample_poly) of a (n_samples,) signal along time.

    fs_in, fs_out: Hz (rational ratios, e.g. 22050 -> 100000 = up 2000 / down 441).
    Returns: ndarray (ceil(n · fs_out / fs_in),).
    """
    from scipy.signal import resample_poly

    if fs_in == fs_out:
        return np.asarray(signal, dtype=np.float64)
    ratio = Fraction(float(fs_out) / float(fs_in)).limit_denominator(100_000)
    return resample_poly(np.asarray(signal, dtype=np.float64), ratio.numerator, ratio.denominator)


def _read_sphere(path):
    """NIST SPHERE (TIMIT) reader: uncompressed PCM. Returns (signal float64 full scale, fs)."""
    with open(path, "rb") as fh:
        head = fh.read(1024)
        if not head.startswith(b"NIST_1A"):
            raise ValueError(f"{path} is not a NIST SPHERE file")
        header_size = int(head.split(b"\n")[1].strip())
        if header_size > 1024:
            head += fh.read(header_size - 1024)
        fields = {}
        for line in head[:header_size].split(b"\n")[2:]:
            parts = line.decode("ascii", "replace").split(None, 2)
            if len(parts) == 3:
                fields[parts[0]] = parts[2].strip()
            if parts and parts[0] == "end_head":
                break
        fh.seek(header_size)
        raw = fh.read()
    coding = fields.get("sample_coding", "pcm")
    if coding not in ("pcm",):
        raise ValueError(
            f"{path}: SPHERE sample_coding {coding!r} is not supported (expected plain 'pcm'); "
            "convert the file to RIFF WAV first, e.g. with `sox FILE out.wav` or `sph2pipe -f wav`"
        )
    width = int(fields.get("sample_n_bytes", 2))
    channels = int(fields.get("channel_count", 1))
    fs = float(fields.get("sample_rate"))
    byte_format = fields.get("sample_byte_format", "01")
    order = ">" if byte_format.startswith("10") and width > 1 else "<"
    if width not in (1, 2, 4):
        raise ValueError(f"{path}: SPHERE sample width {width} bytes is not supported (1, 2 or 4)")
    x = np.frombuffer(raw[: len(raw) // width * width], dtype=f"{order}i{width}").astype(np.float64)
    x /= float(2 ** (8 * width - 1))
    if channels > 1:
        x = x[: len(x) // channels * channels].reshape(-1, channels).mean(axis=1)
    return x, fs


def read_wav(path):
    """Read a RIFF WAV or NIST SPHERE file as mono full-scale float.

    Returns: (signal (n_samples,) float64 in about [-1, 1], fs in Hz). Integer PCM is divided by
    2^(bits-1) (8-bit unsigned is centred first); multi-channel files are averaged.
    """
    path = pathlib.Path(path)
    with open(path, "rb") as fh:
        magic = fh.read(7)
    if magic.startswith(b"NIST_1A"):
        return _read_sphere(path)
    from scipy.io import wavfile

    try:
        fs, x = wavfile.read(path)
    except Exception as exc:  # scipy raises ValueError for many malformed files
        raise ValueError(
            f"cannot read {path} as a WAV file ({exc}); expected RIFF WAV (PCM or float) or "
            "NIST SPHERE; convert it, e.g. with `sox FILE -b 16 out.wav`"
        ) from exc
    if x.dtype == np.uint8:
        x = (x.astype(np.float64) - 128.0) / 128.0
    elif np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float64) / float(2 ** (8 * x.dtype.itemsize - 1))
    else:
        x = x.astype(np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    return x, float(fs)


def _run(cmd, what):
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except FileNotFoundError as exc:
        raise NoTTSEngineError(_no_engine_message((cmd[0],))) from exc
    if res.returncode != 0:
        raise RuntimeError(
            f"{what} failed (exit {res.returncode}): {res.stderr.strip()[:500]}; command: "
            f"{' '.join(cmd[:-1])} …"
        )


def synthesize(utterance, fs=None):
    """Speak one TTS utterance. Returns (signal (n_samples,) float64 full scale, fs in Hz).

    fs: output rate in Hz (None: the engine's own, 22050 Hz for espeak-ng, 16 kHz for flite).
    Leading/trailing silence of the engine is kept. Raises :class:`NoTTSEngineError` if the
    engine is not installed.
    """
    u = utterance
    exe = shutil.which(u.engine)
    if exe is None:
        raise NoTTSEngineError(_no_engine_message((u.engine,)))
    with tempfile.TemporaryDirectory(prefix="connear-tts-") as tmp:
        wav = os.path.join(tmp, "u.wav")
        if u.engine == "espeak-ng":
            cmd = [exe, "-v", u.voice, "-s", str(u.rate), "-p", str(u.pitch), "-w", wav, u.text]
        elif u.engine == "flite":
            cmd = [exe, "-voice", u.voice, "--setf", f"duration_stretch={u.rate / 100:.2f}",
                   "--setf", f"int_f0_target_mean={u.pitch}", "-o", wav, "-t", u.text]
        else:
            raise ValueError(f"utterance {u.utterance_id} has engine {u.engine!r}, not a TTS engine")
        _run(cmd, f"{u.engine} for utterance {u.utterance_id}")
        x, fs_native = read_wav(wav)
    if x.size == 0 or not np.any(x):
        raise RuntimeError(
            f"{u.engine} produced silence for {u.utterance_id} (voice {u.voice!r}); check that "
            f"`{u.engine}` works on this machine, or pick other engines"
        )
    if fs is not None:
        x = resample(x, fs_native, fs)
        fs_native = float(fs)
    return x, fs_native


def load_utterance(utterance, fs=None):
    """Waveform of an utterance (synthesised or read). Returns (signal (n,), fs in Hz)."""
    if utterance.engine == "wav":
        x, fs_native = read_wav(utterance.path)
        if x.size == 0 or not np.any(x):
            raise ValueError(f"{utterance.path} is empty or all zeros; remove it from the folder")
        if fs is not None:
            x, fs_native = resample(x, fs_native, fs), float(fs)
        return x, fs_native
    return synthesize(utterance, fs=fs)


def _progress(iterable, total, desc, progress):
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="utt", disable=not progress)


def tts_corpus(n_sentences, fs=None, seed=0, engines=None, progress=False):
    """Synthesise a TTS corpus in memory. Returns a list of :class:`Recording`.

    See :func:`tts_plan` for n_sentences, seed, engines; fs in Hz (None = engine rate).
    """
    plan = tts_plan(n_sentences, seed=seed, engines=engines)
    out = []
    for u in _progress(plan, len(plan), "synthesising", progress):
        x, f = synthesize(u, fs=fs)
        out.append(Recording(u, x, f))
    return out


def load_wav_folder(path, fs=None, n_sentences=None, seed=0, recursive=True, progress=False):
    """Read a folder of WAV files (TIMIT, own recordings). Returns a list of :class:`Recording`.

    path: folder; fs: resample every file to this rate in Hz (None = keep each file's rate);
    n_sentences/seed: take a seeded random subset; recursive: search sub-folders.
    """
    plan = wav_folder_plan(path, n_sentences=n_sentences, seed=seed, recursive=recursive)
    out = []
    for u in _progress(plan, len(plan), "reading", progress):
        x, f = load_utterance(u, fs=fs)
        out.append(Recording(u, x, f))
    return out


def write_tts_corpus(out_dir, n_sentences, fs=None, seed=0, engines=None, progress=True):
    """Write a TTS corpus as 16-bit WAV files plus ``corpus.csv`` (the plan) into ``out_dir``.

    Files are ``<utterance_id>.wav``; the folder can then be used as a WAV corpus, and
    ``corpus.csv`` keeps the sentence ids (the split key). Returns: list of file paths.
    """
    import csv

    from scipy.io import wavfile

    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = tts_plan(n_sentences, seed=seed, engines=engines)
    paths = []
    for u in _progress(plan, len(plan), "synthesising", progress):
        x, f = synthesize(u, fs=fs)
        peak = np.max(np.abs(x))
        pcm = np.round(x / max(peak, 1e-12) * 0.9 * 32767).astype(np.int16)
        p = out / f"{u.utterance_id}.wav"
        tmp = p.with_name(p.name + ".tmp")
        wavfile.write(tmp, int(round(f)), pcm)
        os.replace(tmp, p)
        paths.append(str(p))
    with open(out / "corpus.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(plan[0].to_dict()))
        w.writeheader()
        for u in plan:
            w.writerow(u.to_dict())
    return paths


# ---------------------------------------------------------------------------------------------
# command line


def _main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m connear_helpers.analysis.corpus", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write", help="synthesise a TTS corpus into a folder of WAV files")
    w.add_argument("--out", required=True, help="output folder")
    w.add_argument("--n-sentences", type=int, required=True)
    w.add_argument("--fs", type=float, default=None, help="sample rate in Hz (default: engine's)")
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--engines", default="espeak-ng", help="espeak-ng, flite, all, or a comma list")
    sub.add_parser("engines", help="list installed TTS engines")
    args = ap.parse_args(argv)
    if args.cmd == "engines":
        found = available_engines()
        for e in ENGINES:
            print(f"{e:10s} {engine_version(e) or 'not installed'}")
        if not found:
            print(_no_engine_message(ENGINES), file=sys.stderr)
            return 1
        return 0
    try:
        paths = write_tts_corpus(args.out, args.n_sentences, fs=args.fs, seed=args.seed,
                                 engines=args.engines)
    except NoTTSEngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(paths)} WAV files and corpus.csv to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
