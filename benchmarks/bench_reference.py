"""Speed of the verhulst2018 reference model: compiled core against the NumPy specification.

Prints seconds of wall-clock time per second of simulated sound (100 kHz, 1000 sections,
cf="all") for the TL stage alone and for all stages (TL, IHC, decimation, HSR/MSR/LSR),
for the C++ core and the NumPy step, and their ratio, all measured in this one run (the
machines are shared and noisy: compare ratios, not absolute times). The NumPy engine is
timed on a shorter signal and scaled per second of sound.

The work per second of sound depends on the sound: the adaptive integrator takes more
right-hand-side (RHS) evaluations per sample for broadband sounds, and loud sounds update
the poles (1001 square roots, divisions and exp) in up to two thirds of them. So three
stimuli are timed: a 1-kHz tone at 70 dB SPL, speech at 65 dB SPL and a 1-kHz tone at
30 dB SPL. The original model's time (issue #2: ~240 s TL, ~250 s all stages per second of
sound on one core, at ~12 RHS per sample) is dominated by per-evaluation overhead, so the
comparison is also given per RHS evaluation.

    python benchmarks/bench_reference.py [--duration 1.0] [--numpy-duration 0.01] [--batch 0]
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np
from scipy.io import wavfile
from scipy.signal import resample_poly

import verhulst2018
from verhulst2018 import cochlea, middle_ear

ORIGINAL_TL_S = 240.0  # the original, one core, 1 s of sound (issue #2: 235-245 s TL, ~250 s all)
ORIGINAL_ALL_S = 250.0
ORIGINAL_RHS_PER_SAMPLE = 12.0  # issue #2: "about 12 right-hand-side evaluations per sample"
SPEECH = Path(__file__).resolve().parents[1] / "connear_helpers" / "data" / "speech_sample.wav"


def tone(duration, freq, level, fs=verhulst2018.FS):
    t = np.arange(int(duration * fs)) / fs
    x = 2e-5 * np.sqrt(2) * 10 ** (level / 20) * np.sin(2 * np.pi * freq * t)
    n = min(500, x.size // 4)
    x[:n] *= np.linspace(0, 1, n)
    return x


def speech(duration, level, fs=verhulst2018.FS):
    """The repo's speech sample (20 kHz) at fs, from its voiced middle, RMS level in dB SPL."""
    sfs, x = wavfile.read(SPEECH)
    x = resample_poly(x.astype(np.float64), int(fs), sfs)
    start = min(int(0.2 * fs), max(0, x.size - int(duration * fs)))
    x = x[start : start + int(duration * fs)]
    if x.size < int(duration * fs):
        x = np.resize(x, int(duration * fs))
    return x / np.sqrt(np.mean(x**2)) * 2e-5 * 10 ** (level / 20)


def time_stages(x, engine, integrator):
    """(TL seconds, all-stages seconds, RHS evaluations, pole updates) on signal x, cf="all".

    The TL stage alone is cochlea.solve (v of all 1000 sections); all stages is what
    verhulst2018.simulate does for outputs=("anfh", "anfm", "anfl") (middle ear, TL, IHC,
    decimation, three fibre types; intermediates not kept)."""
    fs = verhulst2018.FS
    p = cochlea.tl_parameters(fs, verhulst2018.normal_hearing_poles())
    nodes = verhulst2018.channel_sections("all")
    s = middle_ear.middle_ear_filter(x, fs)
    solve = cochlea.solve_cpp if engine == "cpp" else cochlea.solve_numpy
    t0 = time.perf_counter()
    v, _, _, n_rhs, n_upd = solve(s, p, nodes, integrator, store_y=False)
    t1 = time.perf_counter()
    del v
    t2 = time.perf_counter()
    verhulst2018.simulate(x, cf="all", outputs=("anfh", "anfm", "anfl"), integrator=integrator, engine=engine,
                          progress=False)
    t3 = time.perf_counter()
    return t1 - t0, t3 - t2, n_rhs, n_upd


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=1.0, help="seconds of sound for the C++ core")
    ap.add_argument("--numpy-duration", type=float, default=0.01, help="seconds of sound for the NumPy engine")
    ap.add_argument("--integrator", default="scipy117", choices=cochlea.INTEGRATOR_MODES)
    ap.add_argument("--batch", type=int, default=0, help="also time a batch of this many 0.5-s signals")
    args = ap.parse_args()

    print(f"verhulst2018 speed, 1000 sections, integrator={args.integrator}, {os.cpu_count()} CPUs")
    stimuli = [
        ("tone 1 kHz 70 dB", lambda d: tone(d, 1000, 70)),
        ("speech 65 dB", lambda d: speech(d, 65)),
        ("tone 1 kHz 30 dB", lambda d: tone(d, 1000, 30)),
    ]
    head = (
        f"{'stimulus':<18}{'engine':<12}{'TL [s/s]':>10}{'all [s/s]':>11}{'RHS/sample':>12}"
        f"{'updates/RHS':>13}{'us/RHS':>9}"
    )
    print(head)
    summary = []
    for name, make in stimuli:
        rows = {}
        for engine, duration in (("cpp", args.duration), ("numpy", args.numpy_duration)):
            tl, al, n_rhs, n_upd = time_stages(make(duration), engine, args.integrator)
            n = int(duration * verhulst2018.FS)
            rows[engine] = (tl / duration, al / duration, n_rhs / n, n_upd / n_rhs, tl / n_rhs * 1e6)
            print(f"{name:<18}{engine:<12}" + "".join(f"{x:>{w}.{d}f}" for x, w, d in zip(
                rows[engine], (10, 11, 12, 13, 9), (2, 2, 2, 2, 2))))
        summary.append((name, rows))
    print()
    print("ratios measured in this run, and against the original's ~240 s (TL) / ~250 s (all) per second of sound")
    print("on one core at ~12 RHS per sample (issue #2):")
    for name, rows in summary:
        cpp, npy = rows["cpp"], rows["numpy"]
        per_rhs = ORIGINAL_TL_S / (ORIGINAL_RHS_PER_SAMPLE * verhulst2018.FS) * 1e6 / cpp[4]
        print(
            f"  {name:<18} NumPy/C++ TL {npy[0] / cpp[0]:6.1f}x, all {npy[1] / cpp[1]:6.1f}x | original/C++ "
            f"TL {ORIGINAL_TL_S / cpp[0]:5.1f}x, all {ORIGINAL_ALL_S / cpp[1]:5.1f}x, per RHS evaluation {per_rhs:5.1f}x"
        )
    if args.batch:
        x = np.stack([tone(0.5, 1000, 70) * (1 + 0.1 * i) for i in range(args.batch)])
        kw = dict(cf="all", outputs=("anfh",), progress=False, integrator=args.integrator)
        t0 = time.perf_counter()
        verhulst2018.simulate(x, n_jobs=1, **kw)
        t1 = time.perf_counter()
        verhulst2018.simulate(x, **kw)
        t2 = time.perf_counter()
        n_jobs = min(args.batch, os.cpu_count() or 1)
        print(
            f"batch of {args.batch} x 0.5 s: 1 worker {t1 - t0:.1f} s, {n_jobs} workers {t2 - t1:.1f} s, "
            f"speed-up {(t1 - t0) / (t2 - t1):.2f} (ideal {n_jobs})"
        )


if __name__ == "__main__":
    main()
