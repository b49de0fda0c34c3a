"""Front-end comparison on the command line: every model on every front end for one target.

    python -m connear_helpers.encoding                       # IC target, mel/ANF/IHC, 5 models
    python -m connear_helpers.encoding --quick --models linear ln

Prints the table of :func:`connear_helpers.encoding.study.comparison_table` (held-out CC and
CCnorm, mean over neurons ± standard error), the per-fit medians, the stimulus set and the time
taken. The reference model's responses are cached on disk, so a second run only refits.
"""
from __future__ import annotations

import argparse
import sys
import time

from .models import MODELS
from .study import FRONTEND_LABELS


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m connear_helpers.encoding", description=__doc__.splitlines()[0])
    p.add_argument("--target", default="ic", choices=("ic", "synthetic"),
                   help="ic: the verhulst2018 IC population; synthetic: LN neurons with known STRFs")
    p.add_argument("--frontends", nargs="+", default=["mel", "anf", "ihc"], choices=tuple(FRONTEND_LABELS))
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=tuple(MODELS))
    p.add_argument("--engine", default="fast", choices=("exact", "fast"), help="verhulst2018 engine")
    p.add_argument("--weights", default=None, help="CoNNear weights for the anf_connear front end")
    p.add_argument("--quick", action="store_true",
                   help="the notebook's small set (its sizes replace --n-cf, --sentences, ..., --epochs)")
    p.add_argument("--n-cf", type=int, default=16, help="CFs (and mel bands), log-spaced 250 Hz - 8 kHz")
    p.add_argument("--segment-s", type=float, default=0.5, help="stimulus segment duration (s)")
    p.add_argument("--sentences", type=int, default=6, help="espeak-ng sentences (cut into segments)")
    p.add_argument("--tones", type=int, default=4, help="segments of random tone pips")
    p.add_argument("--noise", type=int, default=4, help="segments of modulated noise")
    p.add_argument("--bin-s", type=float, default=0.005, help="time bin (s; a multiple of 1 ms)")
    p.add_argument("--context-s", type=float, default=0.05, help="the models' past context (s)")
    p.add_argument("--repeats", type=int, default=10, help="Poisson repeats of the target")
    p.add_argument("--epochs", type=int, default=600,
                   help="at most (early stopping); DNet's time constants need about 600")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)

    from . import study as _study

    t0 = time.perf_counter()
    study, fitted = _study.frontend_comparison(
        frontends=a.frontends, models=a.models, target=a.target, quick=a.quick, engine=a.engine, seed=a.seed,
        weights=a.weights, n_cf=a.n_cf, segment_s=a.segment_s, n_sentences=a.sentences,
        n_tone_segments=a.tones, n_noise_segments=a.noise, n_repeats=a.repeats, epochs=a.epochs, bin_s=a.bin_s,
        context_s=a.context_s)
    print(study)
    for note in study.notes:
        print("Note:", note)
    print(f"\nheld-out CC / CCnorm, mean over {study.responses(a.target, study.frontends[0]).n_neurons} neurons "
          f"± standard error (target: {a.target}, engine: {a.engine}, seed {a.seed})\n")
    print(_study.comparison_table(fitted))
    print("\nmedians over neurons:\n")
    print(_study.format_table(study.table(fitted)))
    print(f"\n{time.perf_counter() - t0:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
