"""Speed of the verhulst2018 reference model: compiled core against the NumPy specification.

Prints seconds of wall-clock time per second of simulated sound (100 kHz, 1000 sections,
cf="all") for the TL stage alone and for all stages (TL, IHC, decimation, HSR/MSR/LSR),
for the C++ core and the NumPy step, and their ratio, all measured in this one run (the
machines are shared and noisy: compare ratios, not absolute times). The NumPy engine is
timed on a shorter signal and scaled per second of sound. Optionally times a batch on
one worker against all cores.

    python benchmarks/bench_reference.py [--duration 1.0] [--numpy-duration 0.01] [--batch 0]
"""
import argparse
import os
import time

import numpy as np

import verhulst2018
from verhulst2018 import anf, cochlea, ihc, middle_ear

ORIGINAL_TL_S = 240.0  # the original, one core, 1 s of sound (issue #2: 235-245 s TL, ~250 s all)
ORIGINAL_ALL_S = 250.0


def stimulus(duration, fs=verhulst2018.FS):
    t = np.arange(int(duration * fs)) / fs
    x = 2e-5 * np.sqrt(2) * 10 ** (70 / 20) * np.sin(2 * np.pi * 1000 * t)
    n = min(500, x.size // 4)
    x[:n] *= np.linspace(0, 1, n)
    return x


def time_stages(x, engine, integrator):
    """Seconds for (TL alone, all stages) on signal x with cf="all"."""
    fs = verhulst2018.FS
    p = cochlea.tl_parameters(fs, verhulst2018.normal_hearing_poles())
    nodes = verhulst2018.channel_sections("all")
    s = middle_ear.middle_ear_filter(x, fs)
    solve = cochlea.solve_cpp if engine == "cpp" else cochlea.solve_numpy
    t0 = time.perf_counter()
    v, *_ = solve(s, p, nodes, integrator)
    t1 = time.perf_counter()
    vihc = ihc.ihc_potential(v, fs, engine=engine)
    dec = ihc.decimate_ihc(vihc)
    for fibre in ("hsr", "msr", "lsr"):
        anf.anf_rate(dec, fs / 5, fibre, engine=engine)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=1.0, help="seconds of sound for the C++ core")
    ap.add_argument("--numpy-duration", type=float, default=0.01, help="seconds of sound for the NumPy engine")
    ap.add_argument("--integrator", default="scipy117", choices=cochlea.INTEGRATOR_MODES)
    ap.add_argument("--batch", type=int, default=0, help="also time a batch of this many 0.1-s signals")
    args = ap.parse_args()

    print(f"verhulst2018 speed, 1000 sections, 70-dB 1-kHz tone, integrator={args.integrator}, {os.cpu_count()} CPUs")
    cpp_tl, cpp_all = time_stages(stimulus(args.duration), "cpp", args.integrator)
    np_tl, np_all = time_stages(stimulus(args.numpy_duration), "numpy", args.integrator)
    rows = [
        ("C++ core", cpp_tl / args.duration, cpp_all / args.duration),
        ("NumPy step", np_tl / args.numpy_duration, np_all / args.numpy_duration),
    ]
    print(f"{'engine':<12}{'TL [s/s]':>12}{'all stages [s/s]':>20}")
    for name, tl, al in rows:
        print(f"{name:<12}{tl:>12.2f}{al:>20.2f}")
    print(f"ratio NumPy / C++: TL {rows[1][1] / rows[0][1]:.1f}x, all stages {rows[1][2] / rows[0][2]:.1f}x")
    print(
        f"against the original's ~{ORIGINAL_TL_S:.0f} s (TL) / ~{ORIGINAL_ALL_S:.0f} s (all) per second of sound "
        f"on one core (issue #2): {ORIGINAL_TL_S / rows[0][1]:.1f}x / {ORIGINAL_ALL_S / rows[0][2]:.1f}x faster"
    )
    if args.batch:
        x = np.stack([stimulus(0.1) * (1 + 0.1 * i) for i in range(args.batch)])
        kw = dict(cf="all", outputs=("anfh",), progress=False, integrator=args.integrator)
        t0 = time.perf_counter()
        verhulst2018.simulate(x, n_jobs=1, **kw)
        t1 = time.perf_counter()
        verhulst2018.simulate(x, **kw)
        t2 = time.perf_counter()
        n_jobs = min(args.batch, os.cpu_count() or 1)
        print(
            f"batch of {args.batch} x 0.1 s: 1 worker {t1 - t0:.1f} s, {n_jobs} workers {t2 - t1:.1f} s, "
            f"speed-up {(t1 - t0) / (t2 - t1):.2f} (ideal {n_jobs})"
        )


if __name__ == "__main__":
    main()
