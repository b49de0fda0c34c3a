"""The headless figure run: ``connear-figures --out figures/`` (or ``python -m connear_helpers.figures``).

Each figure function returns the matplotlib figure and the numbers behind it; ``main``
writes every figure as PNG with its numbers as CSV next to it.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np


def tone_response(freq_hz=1000.0, level_db_spl=70.0, cf=(250.0, 500.0, 1000.0, 2000.0, 4000.0)):
    """BM velocity, IHC potential and HSR/MSR/LSR rates of verhulst2018 for a tone.

    Returns (figure, table) where table maps column names to 1-D arrays (time, responses).
    """
    import matplotlib.pyplot as plt

    import verhulst2018
    from connear_helpers import stimuli

    fs = verhulst2018.FS
    x = stimuli.pure_tone(freq_hz, level_db_spl, 0.05, fs, ramp_s=5e-3)
    x = stimuli.add_silence(x, fs, 0.01, 0.02)
    out = verhulst2018.simulate(x, fs=fs, cf=np.asarray(cf), outputs=("v", "ihc", "anfh", "anfm", "anfl"), progress=False)
    t = np.arange(x.size) / fs
    t_an = np.arange(out.anfh.shape[0]) / out.fs_anf
    k = int(np.argmin(np.abs(out.cf - freq_hz)))
    fig, ax = plt.subplots(4, 1, figsize=(7, 8), sharex=True)
    ax[0].plot(t * 1e3, x * 1e3, color="0.3")
    ax[0].set_ylabel("pressure [mPa]")
    for i, f in enumerate(out.cf):
        ax[1].plot(t * 1e3, out.v[:, i] * 1e6, lw=0.8, label=f"{f:.0f} Hz")
    ax[1].set_ylabel("BM velocity [µm/s]")
    ax[1].legend(fontsize=7, ncol=3, title="CF", title_fontsize=7)
    ax[2].plot(t * 1e3, out.ihc[:, k] * 1e3, color="C3")
    ax[2].set_ylabel(f"IHC potential [mV]\nCF {out.cf[k]:.0f} Hz")
    for name, label in (("anfh", "HSR"), ("anfm", "MSR"), ("anfl", "LSR")):
        ax[3].plot(t_an * 1e3, getattr(out, name)[:, k], lw=0.8, label=label)
    ax[3].set_ylabel("firing rate [spikes/s]")
    ax[3].set_xlabel("time [ms]")
    ax[3].legend(fontsize=8)
    fig.suptitle(f"verhulst2018: {freq_hz:.0f}-Hz tone at {level_db_spl:.0f} dB SPL")
    fig.tight_layout()
    table = {"time_s": t, "pressure_pa": x}
    for i, f in enumerate(out.cf):
        table[f"vbm_{f:.0f}Hz_m_per_s"] = out.v[:, i]
    table[f"vihc_{out.cf[k]:.0f}Hz_V"] = out.ihc[:, k]
    return fig, table


FIGURES = {"verhulst2018_tone_response": tone_response}


def save_table(path, table):
    """Write a dict of equal- or unequal-length 1-D arrays as a CSV (shorter columns padded empty)."""
    names = list(table)
    n = max(len(v) for v in table.values())
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for i in range(n):
            f.write(",".join(f"{table[c][i]:.10g}" if i < len(table[c]) else "" for c in names) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="connear-figures", description="Regenerate the lab's figures (PNG + CSV).")
    parser.add_argument("--out", default="figures", help="output folder (default: figures/)")
    parser.add_argument("--quick", action="store_true", help="reduced version (fewer levels and channels)")
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    from tqdm.auto import tqdm

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, make in tqdm(FIGURES.items(), desc="figures", unit="figure"):
        fig, table = make()
        fig.savefig(out / f"{name}.png", dpi=120)
        save_table(out / f"{name}.csv", table)
    print(f"Wrote {len(FIGURES)} figure(s) with their numbers to {out.resolve()}")
    print("Open the lab in JupyterLab:  pip install jupyterlab && jupyter lab notebooks/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
