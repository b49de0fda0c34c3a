"""Speed of the CoNNear architectures on one CPU core: training steps and inference, and light mode.

For each architecture (the paper's and this project's CPU-sized ones, models.LAB_ARCHITECTURES)
it prints, measured in this one run (compare ratios, the machines are shared and noisy):

* training: steps per second of the recipe of connear_helpers.training.fit (its batch size and
  window, XLA-compiled step), and sequences x samples per second;
* inference: seconds for 1 s of sound (20 kHz) at 201 CFs (the IHC and ANF models run each CF as a
  sequence; the cochlea gives all 201 at once), through connear_helpers.cnn.inference.

Then light mode end to end (CoNNear cochlea, IHC, ANF H/M/L) for 1 s of sound at 201 CFs and at
5 CFs (a widget's typical request), with the architectures of the shipped set (or the lab's
defaults when no set is shipped), against the reference model (exact engine, TL + IHC + ANF).

    taskset -c 0 python benchmarks/bench_cnn_architectures.py [--repeats 3] [--only ihc_f32 anf_l8f16]

Pin it to one core (taskset) to measure one core.
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from connear_helpers.cnn import inference  # noqa: E402
from connear_helpers.cnn import architectures as models
from connear_helpers.training import fit  # noqa: E402

FS = 20_000
CANDIDATES = ("ihc", "ihc_f16", "ihc_f32", "anfh", "anf_l8f16", "anf_l8f32", "anf_l10f16", "cochlea",
              "cochlea_small", "cochlea_f64k32")


def _stage(name):
    family = models.MODEL_INFO[name]["family"]
    return {"ihc": "ihc", "anf": "anfh", "cochlea": "cochlea"}[family]


def train_speed(name, repeats):
    """(steps per second, batch, input length) of the CPU recipe's training step."""
    import keras

    stage = _stage(name)
    left, w, right, length = fit.window_layout(name, fit.DEFAULT_WINDOW[stage])
    batch = fit.DEFAULT_BATCH[stage]
    m = models.build_model(name, n_cf=1)
    m.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mean_absolute_error", jit_compile=True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, length, 1)).astype("f4")
    y = rng.standard_normal((batch, w, 201 if stage == "cochlea" else 1)).astype("f4")
    for _ in range(2):
        m.train_on_batch(x, y)
    n = max(3, repeats * 3)
    t0 = time.perf_counter()
    for _ in range(n):
        m.train_on_batch(x, y)
    return n / (time.perf_counter() - t0), batch, length


def inference_seconds(name, repeats, n_cf=201, seconds=1.0):
    """Seconds to run the model on `seconds` of sound at n_cf CFs (SI wrappers, default windows)."""
    m = models.build_model(name, n_cf=1)
    family = models.MODEL_INFO[name]["family"]
    n = int(seconds * FS)
    rng = np.random.default_rng(1)
    if family == "cochlea":
        x = 0.02 * rng.standard_normal(n)
        run = lambda: inference.cochlea_vbm(x, m)  # noqa: E731
    elif family == "ihc":
        x = 1e-6 * rng.standard_normal((n, n_cf))
        run = lambda: inference.ihc_potential(x, m)  # noqa: E731
    else:
        x = -0.055 + 1e-3 * rng.standard_normal((n, n_cf))
        run = lambda: inference.anf_rate(x, m)  # noqa: E731
    run()
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def light_mode_seconds(n_cf, repeats):
    """Seconds for 1 s of sound through the CoNNear chain at n_cf CFs (cochlea, IHC, ANF H/M/L)."""
    from connear_helpers import pipeline

    try:
        weights = "connear-lab"
        from connear_helpers.cnn.weights import load_model

        load_model("cochlea", weights)
    except Exception:  # no shipped set: the lab's default architectures, untrained (same speed)
        weights = {s: models.build_model(fit.DEFAULT_ARCHITECTURE[s], n_cf=1) for s in fit.STAGES}
    from connear_helpers.analysis.cf import connear_cfs

    cf = connear_cfs() if n_cf == 201 else connear_cfs()[np.linspace(0, 200, n_cf).astype(int)]
    x = 0.02 * np.random.default_rng(2).standard_normal(FS)
    kw = dict(mode="light", cf=cf, stages=("bm", "ihc", "anf"), weights=weights)
    pipeline.simulate(x, FS, **kw)
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        pipeline.simulate(x, FS, **kw)
        best = min(best, time.perf_counter() - t0)
    return best


def reference_seconds(n_cf):
    import verhulst2018

    from connear_helpers.analysis.cf import connear_cfs

    cf = connear_cfs() if n_cf == 201 else connear_cfs()[np.linspace(0, 200, n_cf).astype(int)]
    x = 0.02 * np.random.default_rng(2).standard_normal(100_000)
    t0 = time.perf_counter()
    verhulst2018.simulate(x, fs=100_000, cf=cf, outputs=("ihc", "anfh", "anfm", "anfl"), progress=False)
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--only", nargs="*", default=None, help="architectures to time (default all)")
    p.add_argument("--no-light", action="store_true", help="skip the light-mode and reference timings")
    a = p.parse_args()
    names = a.only or CANDIDATES
    print(f"{'architecture':16s} {'params':>10s} {'train steps/s':>14s} {'batch x length':>15s} "
          f"{'infer 1 s @201 CFs [s]':>24s}")
    for name in names:
        steps, batch, length = train_speed(name, a.repeats)
        inf = inference_seconds(name, a.repeats)
        print(f"{name:16s} {models.MODEL_INFO[name]['params']:10d} {steps:14.2f} {batch:>6d} x {length:<7d} "
              f"{inf:24.2f}", flush=True)
    if a.no_light:
        return
    print("\nlight mode (CoNNear cochlea, IHC, ANF H/M/L) for 1 s of sound, against the reference model "
          "(exact engine, TL + IHC + ANF H/M/L):")
    for n_cf in (201, 5):
        light = light_mode_seconds(n_cf, a.repeats)
        ref = reference_seconds(n_cf)
        print(f"  {n_cf:3d} CFs: light {light:7.2f} s, reference {ref:7.2f} s, ratio {ref / light:6.1f}x", flush=True)


if __name__ == "__main__":
    main()
