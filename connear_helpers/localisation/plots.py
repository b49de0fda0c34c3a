"""Figures of notebook 12: stimulus and rasters, training curves, confusion matrices, robustness,
and the network's answer to one sound. Each function returns ``(fig, numbers)``, ``numbers`` a
dict of the arrays drawn (units in the key names)."""
from __future__ import annotations

import numpy as np

from . import binaural
from .spikes import poisson_spikes

_FIBRE_NAME = {"anfh": "HSR", "anfm": "MSR", "anfl": "LSR"}


def _plt():
    import matplotlib.pyplot as plt

    return plt


def stimulus_and_rasters(bank, azimuth_deg, seed=0, zoom_ms=10.0, phase_index=0):
    """The two ears' sound, ANF spike rasters and period histograms for one azimuth.

    bank: inputs.ToneBankInput (rates of any azimuth without a new simulation). azimuth_deg:
    degrees. seed: int for the spikes. zoom_ms: span of the waveform and rasters (ms).
    Returns (fig, numbers): "time_ms" (T,), "left_pa"/"right_pa" sound at the ears during the
    window (Pa, at 100 kHz), "itd_us",
    "spikes" (T, n_inputs), "phase_hist_left"/"phase_hist_right" (n_bins,) spikes per phase bin
    of the fibres at the CF nearest the tone (n_bins: 24, or the steps per period if fewer).
    """
    plt = _plt()
    cfg = bank.config
    rng = np.random.default_rng(seed)
    rates = bank.rates(np.array([azimuth_deg]), np.array([phase_index]), np.array([0.0]))
    spikes = poisson_spikes(rates, cfg.dt, cfg.n_fibres, rng, cfg.refractory_s)[0]
    t_ms = np.arange(cfg.n_steps) * cfg.dt * 1e3
    # the sound as the ears hear it over the window (sound time starts LEAD_S before the onset)
    from .inputs import FS_SOUND, LEAD_S

    sound = cfg.stimulus(azimuth_deg, phase=bank.phases[phase_index])
    i0 = int(round((LEAD_S + cfg.window_start_s) * FS_SOUND))
    sound = sound[i0:i0 + int(round(cfg.window_s * FS_SOUND))]  # the sound during the window
    i0 = 0
    ts_ms = np.arange(sound.shape[0]) / FS_SOUND * 1e3
    itd_us = binaural.woodworth_itd(azimuth_deg, cfg.head_radius_m) * 1e6
    fig, ax = plt.subplots(2, 2, figsize=(11, 6.5), gridspec_kw={"height_ratios": [1, 2]})
    keep = ts_ms <= zoom_ms
    ax[0, 0].plot(ts_ms[keep], sound[i0:, 0][keep] * 1e3, color="tab:blue", label="left ear")
    ax[0, 0].plot(ts_ms[keep], sound[i0:, 1][keep] * 1e3, color="tab:red", label="right ear")
    xlabel = f"time in the window [ms] (it starts {1e3 * cfg.window_start_s:.0f} ms after the onset)"
    ax[0, 0].set(xlabel=xlabel, ylabel="sound pressure [mPa]",
                 title=f"{cfg.freq_hz:.0f} Hz, {cfg.level_db_spl:.0f} dB SPL from {azimuth_deg:+.0f}°: "
                       f"ITD {itd_us:+.0f} µs (right ear leads if > 0)")
    ax[0, 0].legend(loc="upper right", fontsize=8)
    # period histograms: the phase of every spike re the tone, per ear
    n_half = spikes.shape[1] // 2
    period_phase = (t_ms * 1e-3 * cfg.freq_hz) % 1.0
    # no more bins than time steps per period, or some bins could never hold a spike
    n_bins = int(min(24, np.floor(1.0 / (cfg.freq_hz * cfg.dt))))
    bins = np.linspace(0, 1, n_bins + 1)
    hist = {}
    # the fibres at the CF nearest the tone (the phase of the response changes across CF)
    best = int(np.argmin(np.abs(np.log(np.asarray(cfg.cf_hz) / cfg.freq_hz))))
    labels = cfg.input_labels()
    for ear, colour in (("left", "tab:blue"), ("right", "tab:red")):
        cols = [i for i, lab in enumerate(labels) if lab[0] == ear and lab[2] == cfg.cf_hz[best]]
        counts = spikes[:, cols].sum(axis=1)
        hist[ear], _ = np.histogram(period_phase, bins=bins, weights=counts)
        ax[0, 1].step(bins[:-1] * 360, hist[ear], where="post", color=colour, label=f"{ear} ear")
    ax[0, 1].set(xlabel="phase of the tone [degrees]", ylabel="spikes per bin",
                 title=f"period histograms at CF {cfg.cf_hz[best]:.0f} Hz: the IPD")
    ax[0, 1].legend(fontsize=8)
    zoom = t_ms <= zoom_ms
    for a, cols, name in ((ax[1, 0], slice(0, n_half), "left"), (ax[1, 1], slice(n_half, None), "right")):
        tt, ff = np.nonzero(spikes[zoom][:, cols])
        a.plot(t_ms[zoom][tt], ff, "|", color="k", markersize=3)
        blocks = [(f, c) for f in cfg.fibres for c in cfg.cf_hz]  # one block of n_fibres per (type, CF)
        a.set_yticks(np.arange(len(blocks)) * cfg.n_fibres + cfg.n_fibres / 2)
        several = len(cfg.fibres) > 1
        a.set_yticklabels([f"{_FIBRE_NAME[f] + ' ' if several else ''}{c:.0f}" for f, c in blocks],
                          fontsize=8 if several else None)
        kinds = "/".join(_FIBRE_NAME[f] for f in cfg.fibres)
        a.set(xlabel=xlabel, ylabel=f"{kinds} fibres, by CF [Hz]",
              title=f"{name} ear: {n_half} fibres ({cfg.n_fibres} per CF and type)", xlim=(0, zoom_ms))
    fig.tight_layout()
    return fig, {"time_ms": t_ms, "left_pa": sound[i0:, 0], "right_pa": sound[i0:, 1], "itd_us": itd_us,
                 "spikes": spikes, "phase_hist_left": hist["left"], "phase_hist_right": hist["right"],
                 "input_labels": labels}


def training_curves(results):
    """Loss and training accuracy against epoch. results: dict name -> TrainingResult."""
    plt = _plt()
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
    numbers = {}
    for name, res in results.items():
        ep = np.arange(1, res.loss.size + 1)
        ax[0].plot(ep, res.loss, "o-", ms=3, label=name)
        ax[1].plot(ep, 100 * res.accuracy, "o-", ms=3, label=name)
        numbers[f"{name} loss"] = res.loss
        numbers[f"{name} accuracy"] = res.accuracy
    n_classes = next(iter(results.values())).network.config.n_classes if results else binaural.N_CLASSES
    ax[0].axhline(np.log(n_classes), color="grey", ls=":", label="chance")
    ax[1].axhline(100 / n_classes, color="grey", ls=":", label="chance")
    ax[0].set(xlabel="epoch", ylabel="loss (negative log-likelihood)", title="training loss")
    ax[1].set(xlabel="epoch", ylabel="training accuracy [%]", title="training accuracy", ylim=(0, 100))
    ax[0].legend(fontsize=8)
    fig.tight_layout()
    return fig, numbers


def confusion_matrices(evaluations):
    """Row-normalised confusion matrices side by side. evaluations: dict name -> Evaluation."""
    plt = _plt()
    n = len(evaluations)
    fig, axes = plt.subplots(1, n, figsize=(5.8 * n, 5.0), squeeze=False)
    numbers = {}
    for a, (name, ev) in zip(axes[0], evaluations.items()):
        k = ev.confusion.shape[0]
        rows = ev.confusion.sum(axis=1, keepdims=True)
        frac = ev.confusion / np.maximum(rows, 1)
        edges = binaural.class_edges(k)
        im = a.pcolormesh(edges, edges, frac.T, cmap="viridis", vmin=0, vmax=1)
        a.plot([-90, 90], [-90, 90], color="w", lw=0.5, ls=":")
        a.set(xlabel=f"true {ev.value_name} [degrees]", ylabel=f"estimated {ev.value_name} [degrees]",
              title=f"{name}\naccuracy {100 * ev.accuracy:.1f} % (chance {100 * ev.chance:.1f} %)\n"
                    f"mean absolute error {ev.mae_deg:.1f}°", aspect="equal")
        numbers[f"{name} confusion (counts)"] = ev.confusion
    fig.colorbar(im, ax=axes[0].tolist(), label="fraction of the true class")
    return fig, numbers


def robustness(snr=None, freq=None, trained_freq_hz=None, n_classes=binaural.N_CLASSES):
    """Accuracy against SNR and against tone frequency (dicts from training.accuracy_vs_*)."""
    plt = _plt()
    panels = [p for p in (("snr", snr), ("freq", freq)) if p[1] is not None]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for a, (kind, d) in zip(axes[0], panels):
        if kind == "snr":
            clean_x = np.nanmax(np.append(d["snr_db"], 0.0)) + 10.0
            x = np.where(np.isnan(d["snr_db"]), clean_x, d["snr_db"])
            order = np.argsort(x)
            a.plot(x[order], 100 * d["accuracy"][order], "o-")
            a.set_xticks(x[order])
            a.set_xticklabels(["clean" if v == clean_x else f"{v:+.0f}" for v in x[order]])
            a.set(xlabel="SNR of a diffuse noise [dB]", title="in noise")
        else:
            a.semilogx(d["freq_hz"], 100 * d["accuracy"], "o-")
            a.set_xticks(d["freq_hz"])
            a.set_xticklabels([f"{f:.0f}" for f in d["freq_hz"]])
            a.minorticks_off()
            if trained_freq_hz:
                a.axvline(trained_freq_hz, color="grey", ls="--", label="trained at")
                a.legend(fontsize=8)
            a.set(xlabel="tone frequency [Hz]", title="at other tone frequencies")
        a.axhline(100 / n_classes, color="grey", ls=":")
        a.set(ylabel="test accuracy [%]", ylim=(0, 100))
    fig.tight_layout()
    return fig, {"snr": snr, "freq": freq}


def network_output(network, source, value_deg, seed=0, name=""):
    """What the network does with one sound: hidden spikes, output potentials, class scores.

    network: snn.Network. source: its input (needs ``spikes_at``). value_deg: the azimuth (or
    IPD) in degrees. Returns (fig, numbers): "time_ms", "output" (T, n_classes) potentials,
    "hidden_spikes" (T, n_hidden), "probability" (n_classes,), "chosen_deg".
    """
    plt = _plt()
    rng = np.random.default_rng(seed)
    x = source.spikes_at(rng, np.array([float(value_deg)]))
    u, s = network.record(x)
    u, s = u[0], s[0]
    scores = u.max(axis=0)
    p = np.exp(scores - scores.max())
    p /= p.sum()
    k = u.shape[1]
    centres = binaural.class_centres(k)
    chosen = centres[np.argmax(scores)]
    t_ms = np.arange(u.shape[0]) * network.dt * 1e3
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.4))
    tt, nn = np.nonzero(s)
    ax[0].plot(t_ms[tt], nn, "|", color="k", markersize=4)
    ax[0].set(xlabel="time [ms]", ylabel="hidden unit", title=f"hidden spikes ({len(tt)} in all)")
    colours = plt.cm.coolwarm(np.linspace(0, 1, k))
    for j in range(k):
        ax[1].plot(t_ms, u[:, j], color=colours[j], lw=2.5 if centres[j] == chosen else 0.8)
    ax[1].set(xlabel="time [ms]", ylabel="output potential", title="output units (blue: left ... red: right)")
    ax[2].bar(centres, 100 * p, width=13, color=colours)
    ax[2].axvline(value_deg, color="k", ls="--", label=f"true {float(value_deg):+.0f}°")
    ax[2].set(xlabel=f"{source.value_name} class [degrees]", ylabel="softmax of the maximum [%]",
              title=f"{name} estimate: {chosen:+.1f}°", xlim=(-95, 95))
    ax[2].legend(fontsize=8)
    fig.tight_layout()
    return fig, {"time_ms": t_ms, "output": u, "hidden_spikes": s, "probability": p, "chosen_deg": chosen}
