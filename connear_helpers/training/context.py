"""How much of the reference ANF rate depends on input older than a CNN's left context.

A CNN that is given ``left`` samples of IHC potential before its output window cannot know what
came before them, while the reference synapse remembers it: its reserve pool refills at
``r1 / L = 3.7 /s`` (a 0.27-s time constant, verhulst2018 spec §7). :func:`history_effect`
measures the size of that memory on bank segments: the mean absolute difference, over output
windows, between the reference rate computed on the whole segment and on the window's input
alone (``left`` samples before it and 256 after, preceded by the resting potential, as
inference pads). It is the error of a model that takes the time before its context to be
rest: an upper bound of what no model with that context can avoid (a trained one guesses the
unseen past better than "silence"), but its fall with the context shows how much memory the
context misses (the receptive field must cover the context too: ``(kernel - 1)(2^layers - 1) + 1``
samples, 1786 for anf_l8f16, 7162 for anf_l10f16).

    python -m connear_helpers.training.context --bank DIR [--left 2048 4096 8192]

Measured on the validation bank (its last 16 segments, 8 CFs each, gains -20..20 dB, seeds 0-2;
CNN units, spikes/s / 100): left 2048 samples: HSR 0.11-0.13, MSR 0.04-0.10, LSR 0.02-0.07;
4096: HSR 0.05-0.06; 8192: HSR 0.009-0.012, MSR 0.009-0.014, LSR 0.004-0.012.
"""
from __future__ import annotations

import argparse

import numpy as np

from .. import constants as _constants
from ..cnn.units import ANF_SCALING
from . import bank as _bank

FS_CNN = int(_constants.FS_CNN)
RIGHT = 256  # samples after the window (the lab's ANF architectures)


def history_effect(bank, left=(2048, 4096, 8192), window=2048, n_segments=16, n_cf=8, seed=0,
                   fibres=_bank.FIBRES):
    """Mean |rate(whole segment) - rate(window's input only)| in CNN units, per fibre and context.

    bank: a :class:`.bank.Bank` (with ``v100``); its last ``n_segments`` segments are used (the
    held-out ones of :func:`.fit.training_split` come last), ``n_cf`` random CFs and a random gain
    in -20..20 dB each. left: context lengths [samples at 20 kHz]. Windows start at
    ``max(left)`` and step by ``window`` (windows that would run past the segment are skipped).
    Returns {fibre: (len(left),) array}.
    """
    from verhulst2018 import anf

    rng = np.random.default_rng(seed)
    left = tuple(int(v) for v in left)
    errors = {f: [[] for _ in left] for f in fibres}
    for seg in bank.ids[-n_segments:]:
        gain_db = rng.uniform(-20.0, 20.0)  # drawn before the CFs, as always (the same draws per seed)
        d = _bank.derive(bank, seg, gain_db, rng.choice(bank.channels(seg), n_cf, replace=False), fibres=())
        vdec = np.ascontiguousarray(d["ihc"].T)  # (n, n_cf) at 20 kHz, as the ANF CNN sees it
        whole = {f: anf.anf_rate(vdec, float(FS_CNN), f[3:]) for f in fibres}
        rest = np.repeat(vdec[:1], FS_CNN, axis=0)  # 1 s at the segment's first (resting) value
        for t0 in range(max(left), vdec.shape[0] - window - RIGHT + 1, window):
            for k, n_left in enumerate(left):
                x = np.concatenate([rest, vdec[t0 - n_left:t0 + window + RIGHT]])
                for f in fibres:
                    part = anf.anf_rate(x, float(FS_CNN), f[3:])[FS_CNN + n_left:FS_CNN + n_left + window]
                    errors[f][k].append(np.mean(np.abs(part - whole[f][t0:t0 + window])) * ANF_SCALING)
    if not errors[fibres[0]][0]:
        raise ValueError(f"the segments are too short for a context of {max(left)} samples and a window of {window}")
    return {f: np.array([np.mean(e) for e in errors[f]]) for f in fibres}


def _main(argv=None):
    p = argparse.ArgumentParser(prog="python -m connear_helpers.training.context", description=__doc__.split("\n")[0])
    p.add_argument("--bank", required=True, help="a bank folder built without --cochlea-only")
    p.add_argument("--left", type=int, nargs="+", default=[2048, 4096, 8192], help="left contexts [samples at 20 kHz]")
    p.add_argument("--segments", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    result = history_effect(_bank.Bank(a.bank), a.left, n_segments=a.segments, seed=a.seed)
    print("left context [samples]  " + "  ".join(f"{f.upper():>7s}" for f in result))
    for k, n_left in enumerate(a.left):
        print(f"{n_left:22d}  " + "  ".join(f"{result[f][k]:7.4f}" for f in result))
    print("mean |rate error| in CNN units (spikes/s / 100) of a model that takes the time before its context as rest")


if __name__ == "__main__":
    _main()
