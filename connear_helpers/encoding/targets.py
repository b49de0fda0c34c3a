"""Response targets whose answer is known: synthetic LN neurons, and the verhulst2018 IC population.

* :func:`synthetic_neurons`: neurons with a known, non-separable STRF (an excitatory field at a
  best frequency and latency, a delayed inhibitory field shifted in frequency) on a front end's
  own frequency axis, and a sigmoid output nonlinearity; :meth:`SyntheticNeurons.spikes` draws
  Poisson spike counts over repeats. A fit must recover their STRFs.
* :func:`ic_population`: the inferior-colliculus output of verhulst2018 (``outputs=("ic",)``) at
  chosen CFs as a physiological target: the model's IC signal sums 13 + 3 + 3 fibres per CF after
  the CN and IC inhibition-excitation stages and is signed; a model IC neuron fires at its
  half-wave rectified value divided by 19 (``rate_scale``), with Poisson spike counts per bin.

Both return :class:`Responses`.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .front_ends import FIBRE_COUNTS, RECORD_STEP_S, _samples_per_bin, periphery_records

__all__ = ["Responses", "SyntheticNeurons", "synthetic_neurons", "ic_population", "poisson_repeats"]

#: Fibres summed per CF in the verhulst2018 IC output (HSR + MSR + LSR).
IC_FIBRES_PER_CF = sum(FIBRE_COUNTS)


@dataclasses.dataclass
class Responses:
    """Responses of neurons to a set of stimuli.

    repeats: (n_stimuli, n_repeats, n_bins, n_neurons) rate of each repeat in spikes/s
        (spike count / dt). dt: bin width (s).
    rates: (n_stimuli, n_bins, n_neurons) the noiseless rate (spikes/s) where it is known, else None.
    neuron_ids: one name per neuron. stimuli: (n_stimuli, n_samples) sound pressure in Pa, or
        None. fs: the stimuli's sample rate (Hz). stimulus_names: one name per stimulus.
    """

    repeats: np.ndarray
    dt: float
    rates: np.ndarray | None = None
    neuron_ids: tuple = ()
    stimuli: np.ndarray | None = None
    fs: float | None = None
    stimulus_names: tuple = ()

    @property
    def mean(self):
        """(n_stimuli, n_bins, n_neurons) mean over repeats (spikes/s)."""
        return self.repeats.mean(axis=1)

    @property
    def n_neurons(self):
        return self.repeats.shape[-1]

    def subset(self, index):
        """The responses to the stimuli ``index`` (an index array or slice)."""
        pick = lambda a: None if a is None else a[index]  # noqa: E731
        names = tuple(np.asarray(self.stimulus_names, dtype=object)[index]) if len(self.stimulus_names) else ()
        return dataclasses.replace(self, repeats=self.repeats[index], rates=pick(self.rates),
                                   stimuli=pick(self.stimuli), stimulus_names=names)

    def __repr__(self):
        n, r, b, o = self.repeats.shape
        return (f"Responses({o} neurons, {n} stimuli x {r} repeats x {b} bins of {self.dt * 1e3:g} ms"
                f"{', true rates known' if self.rates is not None else ''})")


def poisson_repeats(rates, dt, n_repeats, seed=0):
    """Poisson spike counts per bin, as rates: (n_stimuli, n_repeats, n_bins, O) spikes/s.

    rates: (n_stimuli, n_bins, O) spikes/s (negative values count as 0). dt: bin width (s).
    """
    if int(n_repeats) != n_repeats or n_repeats < 1:
        raise ValueError(f"n_repeats must be a positive integer, got {n_repeats!r}")
    lam = np.clip(np.asarray(rates, dtype=np.float64), 0.0, None) * dt
    rng = np.random.default_rng(seed)
    counts = rng.poisson(np.broadcast_to(lam[:, None], (lam.shape[0], int(n_repeats)) + lam.shape[1:]))
    return counts / dt


def causal_filter(inputs, strfs):
    """z[n, t, o] = sum over τ, f of strfs[o, τ, f] · inputs[n, t - τ, f] (zeros before t = 0).

    inputs: (n, n_bins, F). strfs: (O, T, F). Returns (n, n_bins, O).
    """
    x = np.asarray(inputs, dtype=np.float64)
    w = np.asarray(strfs, dtype=np.float64)
    z = np.zeros(x.shape[:2] + (w.shape[0],))
    for tau in range(w.shape[1]):
        z[:, tau:] += x[:, : x.shape[1] - tau] @ w[:, tau, :].T
    return z


@dataclasses.dataclass
class SyntheticNeurons:
    """LN neurons with known STRFs on a front end's frequency axis.

    strfs: (O, T, F) weights on the standardised input (per frequency bin: (x - input_mean) /
    input_scale), scaled so the drive z has unit standard deviation on the calibration inputs.
    rate = rate_spont_hz + (rate_max_hz - rate_spont_hz) · sigmoid((z - threshold) / width).
    freqs: (F,) Hz. dt: bin width (s). best_frequency_hz, latency_s: (O,) of the excitatory field.
    """

    strfs: np.ndarray
    freqs: np.ndarray
    dt: float
    input_mean: np.ndarray
    input_scale: np.ndarray
    threshold: np.ndarray
    width: np.ndarray
    rate_spont_hz: float
    rate_max_hz: float
    best_frequency_hz: np.ndarray
    latency_s: np.ndarray

    def drive(self, inputs):
        """The STRF output z: (n_stimuli, n_bins, O), unit standard deviation on the calibration inputs."""
        x = (np.asarray(inputs, dtype=np.float64) - self.input_mean) / self.input_scale
        return causal_filter(x, self.strfs)

    def rates(self, inputs):
        """Noiseless firing rates: (n_stimuli, n_bins, O) spikes/s. inputs: (n_stimuli, n_bins, F)."""
        z = (self.drive(inputs) - self.threshold) / self.width
        return self.rate_spont_hz + (self.rate_max_hz - self.rate_spont_hz) / (1.0 + np.exp(-z))

    def responses(self, inputs, n_repeats=10, seed=0):
        """Poisson responses over repeats (with the true rates): a :class:`Responses`."""
        rates = self.rates(inputs)
        ids = tuple(f"syn{i} (BF {bf:.0f} Hz)" for i, bf in enumerate(self.best_frequency_hz))
        return Responses(repeats=poisson_repeats(rates, self.dt, n_repeats, seed), dt=self.dt, rates=rates,
                         neuron_ids=ids)


def _gauss(x, mu, sigma):
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2)


def synthetic_neurons(inputs, freqs, dt, n_neurons=4, context_s=0.05, rate_spont_hz=5.0, rate_max_hz=150.0,
                      threshold_quantile=0.7, width=0.4, seed=0):
    """Draw synthetic LN neurons for a front end and calibrate them on its inputs.

    inputs: (n_stimuli, n_bins, F) front-end output (sets the standardisation and the scale of
        the drive). freqs: (F,) bin centres (Hz). dt: bin width (s). n_neurons: O.
    context_s: STRF length (s); T = round(context_s / dt) bins (at least 3).
    rate_spont_hz, rate_max_hz: the sigmoid's floor and ceiling (spikes/s).
    threshold_quantile: the sigmoid's midpoint as a quantile of the drive (0.7: the neuron is
        driven above half its range 30 % of the time). width: the sigmoid's slope scale in
        standard deviations of the drive (smaller = more nonlinear).
    seed: best frequencies, latencies and the side of the inhibition.
    Returns :class:`SyntheticNeurons`.
    """
    x = np.asarray(inputs, dtype=np.float64)
    f = np.asarray(freqs, dtype=np.float64)
    if x.ndim != 3 or x.shape[-1] != f.size:
        raise ValueError(f"inputs must be (n_stimuli, n_bins, F) with F = len(freqs) = {f.size}; got {x.shape}")
    if np.any(f <= 0) or np.any(np.diff(f) <= 0):
        raise ValueError("freqs must be positive and ascending (Hz)")
    if not 0 < threshold_quantile < 1 or width <= 0 or not 0 <= rate_spont_hz < rate_max_hz:
        raise ValueError("need 0 < threshold_quantile < 1, width > 0 and 0 <= rate_spont_hz < rate_max_hz")
    n_lags = max(3, int(round(context_s / dt)))
    rng = np.random.default_rng(seed)
    octaves = np.log2(f / f[0])
    spacing = float(np.median(np.diff(octaves))) if f.size > 1 else 1.0
    sig_e = max(0.2, 0.8 * spacing)
    sig_i = 1.6 * sig_e
    lo, hi = octaves[0] + min(2 * sig_e, octaves[-1] / 4), octaves[-1] - min(2 * sig_e, octaves[-1] / 4)
    lag = np.arange(n_lags, dtype=np.float64)
    strfs, bfs, lats = [], [], []
    for _ in range(int(n_neurons)):
        bf = rng.uniform(lo, hi) if hi > lo else octaves.mean()
        latency = rng.uniform(1.0, max(1.5, n_lags / 3.0))
        sig_t = max(0.8, latency / 2.0)
        shift = rng.choice([-1.0, 1.0]) * 1.2 * sig_e
        exc = np.outer(_gauss(lag, latency, sig_t), _gauss(octaves, bf, sig_e))
        inh = 0.6 * np.outer(_gauss(lag, 2.0 * latency + 1.0, 1.5 * sig_t), _gauss(octaves, bf + shift, sig_i))
        strfs.append(exc - inh)
        bfs.append(f[0] * 2.0 ** bf)
        lats.append(latency * dt)
    w = np.array(strfs)
    mean = x.reshape(-1, f.size).mean(axis=0)
    sd = x.reshape(-1, f.size).std(axis=0)
    scale = np.where(sd > 0, sd, 1.0)
    z = causal_filter((x - mean) / scale, w)
    zsd = z.reshape(-1, w.shape[0]).std(axis=0)
    w = w / np.where(zsd > 0, zsd, 1.0)[:, None, None]
    z = z / np.where(zsd > 0, zsd, 1.0)
    threshold = np.quantile(z.reshape(-1, w.shape[0]), threshold_quantile, axis=0)
    return SyntheticNeurons(strfs=w, freqs=f, dt=float(dt), input_mean=mean, input_scale=scale, threshold=threshold,
                            width=np.full(w.shape[0], float(width)), rate_spont_hz=float(rate_spont_hz),
                            rate_max_hz=float(rate_max_hz), best_frequency_hz=np.array(bfs),
                            latency_s=np.array(lats))


def ic_population(signals, fs, cf, bin_s=0.005, n_repeats=8, seed=0, rate_scale=1.0 / IC_FIBRES_PER_CF,
                  cache=None, progress=False, engine="exact"):
    """The verhulst2018 inferior-colliculus population as a target: one model IC neuron per CF.

    signals: (n_stimuli, n_samples) or a list of sound pressures in Pa at fs (Hz). cf: CFs in Hz
    (nearest CoNNear CFs, ascending). bin_s: bin width (s, a multiple of 1 ms).
    n_repeats: Poisson repeats. seed: the spike counts. rate_scale: spikes/s of one neuron per
    unit of the rectified IC signal (default 1/19, the fibres summed per CF).
    cache, progress, engine: as front_ends.periphery_records (the same simulations as the ANF front end).
    Returns :class:`Responses` with the true rates.
    """
    rows = [np.asarray(s, dtype=np.float64) for s in signals]
    if len({r.size for r in rows}) != 1:
        raise ValueError("ic_population needs sounds of one length; cut or pad them (encoding.stimulus_set does)")
    steps = _samples_per_bin(bin_s, 1.0 / RECORD_STEP_S, "bin_s (a multiple of 1 ms)")
    records, cfs = periphery_records(rows, fs, cf, cache=cache, progress=progress, engine=engine)
    rates = []
    for rec in records:
        r = rec["ic_rectified"]
        n = r.shape[0] // steps
        rates.append(rate_scale * r[: n * steps].reshape(n, steps, -1).mean(axis=1))
    rates = np.stack(rates)
    ids = tuple(f"IC {c:.0f} Hz" for c in cfs)
    return Responses(repeats=poisson_repeats(rates, float(bin_s), n_repeats, seed), dt=float(bin_s), rates=rates,
                     neuron_ids=ids, stimuli=np.stack(rows), fs=float(fs))
