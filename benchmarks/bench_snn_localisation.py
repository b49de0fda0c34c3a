"""Sound localisation with a spiking network (issue #16): the long runs behind the bar.

    python benchmarks/bench_snn_localisation.py                      # both inputs, full sizes
    python benchmarks/bench_snn_localisation.py --only abstract      # the 150-epoch abstract run
    python benchmarks/bench_snn_localisation.py --only periphery --epochs-periphery 20

Prints the test accuracy and mean absolute error of the teaching notebook's abstract input (bar:
>= 80 %, <= 6 degrees) and of the periphery input (reference model, 500-Hz tone at 60 dB SPL,
CFs 349-1007 Hz; bar: >= 60 %, <= 10 degrees), the periphery network's accuracy against the SNR
of a diffuse noise and against tone frequency, and the run times; writes them as JSON
(``--out``). The periphery responses are cached on disk (connear_helpers.pipeline.default_cache_dir),
so a second run only trains. Pin it to one core with ``taskset -c 0`` to compare timings.
"""
import argparse
import json
import pathlib
import sys
import time


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=("abstract", "periphery"), help="run one input only")
    p.add_argument("--epochs-abstract", type=int, default=None, help="default 150 (the teaching notebook)")
    p.add_argument("--epochs-periphery", type=int, default=None, help="default experiment.PERIPHERY_TRAINING")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-robustness", action="store_true", help="skip the SNR and frequency sweeps")
    p.add_argument("--out", default="snn_localisation_benchmark.json", help="JSON file of the numbers")
    args = p.parse_args(argv)

    import numpy as np

    import connear_helpers  # noqa: F401  (quiet TensorFlow)
    import keras
    from connear_helpers.localisation import experiment

    report = {"backend": keras.backend.backend(), "seed": args.seed}
    runs = []
    t_all = time.perf_counter()
    if args.only in (None, "abstract"):
        run = experiment.run_abstract(epochs=args.epochs_abstract, seed=args.seed, progress=False,
                                      callback=_log("abstract"))
        runs.append(run)
        report["abstract"] = _numbers(run)
        print("\n".join(experiment.summary([run])), flush=True)
    snr = freq = None
    if args.only in (None, "periphery"):
        t0 = time.perf_counter()
        bank, test = experiment.periphery_sources(seed=args.seed, progress=True)
        report["periphery_simulation_s"] = time.perf_counter() - t0
        run = experiment.run_periphery(bank, test, epochs=args.epochs_periphery, seed=args.seed, progress=False,
                                       callback=_log("periphery"))
        runs.append(run)
        report["periphery"] = _numbers(run)
        report["periphery"]["config"] = {k: (list(v) if isinstance(v, tuple) else v)
                                         for k, v in vars(bank.config).items() if k != "weights"}
        print("\n".join(experiment.summary([run])), flush=True)
        if not args.no_robustness:
            t0 = time.perf_counter()
            snr, freq = experiment.robustness(run, seed=args.seed, progress=True)
            report["robustness_s"] = time.perf_counter() - t0
            report["accuracy_vs_snr"] = {k: [None if np.isnan(x) else float(x) for x in v] for k, v in snr.items()}
            report["accuracy_vs_frequency"] = {k: v.tolist() for k, v in freq.items()}
    report["total_s"] = time.perf_counter() - t_all
    print("\n=== summary ===")
    print("\n".join(experiment.summary(runs, snr, freq)))
    pathlib.Path(args.out).write_text(json.dumps(report, indent=1))
    print(f"numbers written to {args.out}")
    return 0


def _log(name):
    t0 = time.perf_counter()

    def callback(epoch, loss, accuracy):
        print(f"{name} epoch {epoch + 1}: loss {loss:.3f}, training accuracy {100 * accuracy:.1f} % "
              f"({(time.perf_counter() - t0) / 60:.1f} min)", flush=True)

    return callback


def _numbers(run):
    ev = run.evaluation
    return {"accuracy": ev.accuracy, "mae_deg": ev.mae_deg, "chance": ev.chance, "n_test": int(ev.true_deg.size),
            "epochs": run.result.config.epochs, "train_loss": run.result.loss.tolist(),
            "train_accuracy": run.result.accuracy.tolist(), "training_s": run.result.seconds,
            "confusion": ev.confusion.tolist(), "note": run.note}


if __name__ == "__main__":
    sys.exit(main())
