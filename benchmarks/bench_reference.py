"""Speed of the verhulst2018 model: the exact engine, the fast engine, and the fast engine's batches.

Prints CPU seconds per second of simulated sound (100 kHz, 1000 sections, cf="all", one core)
for the TL stage alone and for all stages (TL, IHC, decimation, HSR/MSR/LSR), for

* ``exact``: the compiled engine that repeats the original's floating-point operations;
* ``fast``: the fast engine, one signal (verhulst2018/fast.py);
* ``fast x8``: the fast engine integrating 8 signals in lockstep (the same stimulus at 8 levels
  0.5 dB apart), per signal,

for three stimuli: a 1-kHz tone at 70 dB SPL (loud: the poles move all the time), speech at 65 dB
SPL and a 1-kHz tone at 30 dB SPL, and the ratios measured in this one run, and against the
original's ~240 s (TL) / ~250 s (all stages) per second of sound on one core (issue #2; SciPy 1.17,
~12 right-hand-side evaluations per sample). The times are CPU times of this process
(time.process_time), so that other work on a shared machine does not count; pin the run to one
core (``taskset -c 0``) so that nothing runs in parallel. Compare ratios, not absolute times.

    taskset -c 0 python benchmarks/bench_reference.py [--duration 1.0] [--batch-duration 0.5]
        [--integrator scipy117|legacy] [--skip-exact]
"""
import argparse
import time
from pathlib import Path

import numpy as np
from scipy.io import wavfile
from scipy.signal import resample_poly

import verhulst2018
from verhulst2018 import cochlea, fast, middle_ear

ORIGINAL_TL_S = 240.0  # the original, one core, 1 s of sound (issue #2: 235-245 s TL, ~250 s all)
ORIGINAL_ALL_S = 250.0
SPEECH = Path(__file__).resolve().parents[1] / "connear_helpers" / "data" / "speech_sample.wav"
BATCH = 8
ALL_STAGES = ("anfh", "anfm", "anfl")


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


def cpu_seconds(fn):
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def time_engine(x, engine, integrator):
    """(TL seconds, all-stages seconds, RHS evaluations) for signals x (n, T), cf="all".

    TL: the cochlea alone, v of all 1000 sections kept. All stages: what simulate does for
    outputs=("anfh", "anfm", "anfl") (middle ear, TL, IHC, decimation, three fibre types)."""
    fs = verhulst2018.FS
    p = cochlea.tl_parameters(fs, verhulst2018.normal_hearing_poles())
    nodes = verhulst2018.channel_sections("all")
    s = np.stack([middle_ear.middle_ear_filter(row, fs) for row in x])
    if engine == "exact":
        tl, out = cpu_seconds(lambda: [cochlea.solve_cpp(row, p, nodes, integrator, store_y=False) for row in s])
        n_rhs = out[0][3]
    else:
        tl, out = cpu_seconds(lambda: fast.solve_fast(s, p, nodes, ("v",), integrator))
        n_rhs = out["n_rhs_evaluations"]
    del out
    kw = dict(cf="all", outputs=ALL_STAGES, integrator=integrator, engine=engine, progress=False, n_jobs=1)
    al, _ = cpu_seconds(lambda: verhulst2018.simulate(x if x.shape[0] > 1 else x[0], **kw))
    return tl, al, n_rhs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=1.0, help="seconds of sound per single-signal run")
    ap.add_argument("--batch-duration", type=float, default=0.5, help="seconds of sound per signal of the batch")
    ap.add_argument("--integrator", default="scipy117", choices=cochlea.INTEGRATOR_MODES)
    ap.add_argument("--skip-exact", action="store_true", help="time the fast engine only")
    args = ap.parse_args()

    print(
        f"verhulst2018 speed: 1000 sections, cf='all', integrator={args.integrator}, fast engine's "
        f"instruction set: {fast.isa()}; CPU seconds per second of sound"
    )
    stimuli = [
        ("tone 1 kHz 70 dB", lambda d: tone(d, 1000, 70)),
        ("speech 65 dB", lambda d: speech(d, 65)),
        ("tone 1 kHz 30 dB", lambda d: tone(d, 1000, 30)),
    ]
    engines = [("fast", "fast", 1, args.duration), (f"fast x{BATCH}", "fast", BATCH, args.batch_duration)]
    if not args.skip_exact:
        engines.insert(0, ("exact", "exact", 1, args.duration))
    print(f"{'stimulus':<18}{'engine':<10}{'TL [s/s]':>10}{'all [s/s]':>11}{'RHS/sample':>12}")
    summary = []
    for name, make in stimuli:
        rows = {}
        for label, engine, n, duration in engines:
            x = make(duration)[None, :] * 10 ** (0.5 * np.arange(n)[:, None] / 20)  # levels 0.5 dB apart
            tl, al, n_rhs = time_engine(x, engine, args.integrator)
            per = n * duration
            rows[label] = (tl / per, al / per)
            print(f"{name:<18}{label:<10}{tl / per:>10.2f}{al / per:>11.2f}{n_rhs / x.shape[1]:>12.2f}", flush=True)
        summary.append((name, rows))
    print()
    print(f"ratios measured in this run, and against the original's ~{ORIGINAL_TL_S:.0f} s (TL) / "
          f"~{ORIGINAL_ALL_S:.0f} s (all stages) per second of sound on one core (issue #2):")
    for name, rows in summary:
        parts = []
        for label, (tl, al) in rows.items():
            parts.append(f"{label}: original/{label} TL {ORIGINAL_TL_S / tl:5.0f}x, all {ORIGINAL_ALL_S / al:5.0f}x")
        print(f"  {name:<18}" + " | ".join(parts))
        if "exact" in rows:
            ex, fa, fb = rows["exact"], rows["fast"], rows[f"fast x{BATCH}"]
            print(
                f"  {'':<18}exact/fast TL {ex[0] / fa[0]:5.1f}x, all {ex[1] / fa[1]:5.1f}x | exact/fast x{BATCH} "
                f"TL {ex[0] / fb[0]:5.1f}x, all {ex[1] / fb[1]:5.1f}x | fast/fast x{BATCH} all {fa[1] / fb[1]:4.2f}x"
            )
    print()
    print("targets (issue #12): fast, one signal, all stages >= 50x the original (<= 5 s); batched >= 150x "
          "(<= 1.7 s per signal)")


if __name__ == "__main__":
    main()
