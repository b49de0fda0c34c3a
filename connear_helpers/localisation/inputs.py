"""The network's two inputs: the teaching notebook's abstract phase-delay spikes, and two ears.

Every input source has the same face, so one training and evaluation code serves both:

* ``n_inputs``, ``n_steps``, ``dt`` (s), ``n_classes``, ``value_name`` ("IPD" or "azimuth");
* ``sample(rng, batch_size) -> (spikes, values_deg)``: spikes (batch, n_steps, n_inputs)
  float32 of 0/1, values_deg (batch,) the true IPD or azimuth in degrees, -90...+90;
* ``batches(rng, n_samples, batch_size)``: an iterator of such pairs for an evaluation.

Sources
-------
:class:`AbstractIPDInput`
    The teaching notebook's input: 100 Poisson fibres per ear whose rate follows a 20-Hz
    sinusoid, ``rate_max · ((1 + sin θ) / 2)^2``, fibre k of each ear with a phase delay
    k/99 · 90 degrees, the right ear's phase shifted by the IPD; 1-ms steps, 100 ms; one random
    phase offset per batch.

:class:`ToneBankInput` (training on the periphery)
    The two ears' ANF responses to a tone from any azimuth, built from a few simulations. The
    periphery is shift-invariant: an ear that hears the tone ``d`` seconds late responds ``d``
    seconds late. So each ear's ANF rates for a source at azimuth θ are the rates of one
    simulation of the undelayed tone, read ``d_ear(θ)`` later (Woodworth delays, exact to 2.5 µs
    on a 400-kHz grid of the band-limited rates, :data:`UPSAMPLE`). A bank holds ``n_phases``
    simulations of the tone with different starting phases (and one per ear level when there is
    an ILD); a presentation takes a random azimuth, one of the starting phases and a window that
    starts a random fraction of a period later (a random phase at the window's start), and fresh
    spikes are drawn for it. ``tests/unit/localisation`` checks the shortcut against simulating
    the delayed tone.

:class:`PresentationSet` (testing, noise)
    Presentations simulated one by one: each ear's own signal (tone with its ITD, ILD and, with
    ``snr_db``, a diffuse noise) through the periphery. Independent of the bank; what the test
    figures and the noise robustness use.

Periphery: :func:`ear_rates` runs the ears through :func:`connear_helpers.pipeline.simulate_batch`
(the lab's engine for :func:`connear_helpers.pipeline.simulate`, with its memory and disk cache:
the default cache writes the reference responses to :func:`connear_helpers.pipeline.default_cache_dir`,
so a second run reads them back). Rates are taken at the ANF rate of 20 kHz: steps of 0.05 ms,
40 per period of a 500-Hz tone, fine enough for phase locking; a coarser ``dt`` (a whole multiple
of 0.05 ms) averages the rate over each step.

Channel layout of the periphery inputs: ear (left, right), fibre type, CF (as
``PeripheryConfig.cf_hz``), then ``n_fibres`` fibres; :meth:`PeripheryConfig.input_labels`
names every input.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np
from scipy.signal import resample_poly

from ..analysis import cf as _cf
from ..constants import FS_CNN, FS_REFERENCE
from . import binaural
from .spikes import poisson_spikes

#: Rate of the ANF outputs (Hz), the finest step of a periphery input (0.05 ms).
FS_ANF = FS_CNN
#: Rate of the sound given to the reference model (Hz).
FS_SOUND = FS_REFERENCE
#: Up-sampling of the ANF rates for the tone bank's delays: 20 kHz x 20 = 400 kHz (2.5 µs).
UPSAMPLE = 20
#: Silence before the sound reaches the head's centre in every simulated signal (s).
LEAD_S = 2e-3
_SPAN = (-90.0, 90.0)


def _batches(source, rng, n_samples, batch_size):
    done = 0
    while done < n_samples:
        b = min(batch_size, n_samples - done)
        yield source.sample(rng, b)
        done += b


# ==========================================================================================
# the teaching notebook's input


@dataclasses.dataclass
class AbstractIPDInput:
    """Poisson spikes with a phase delay per fibre: the teaching notebook's abstract input.

    n_fibres_per_ear: fibres per ear (n_inputs = 2 x this). rate_max_hz: peak rate (spikes/s).
    stimulus_hz: frequency of the rate's sinusoid (Hz). envelope_power: exponent of the
    rectified sinusoid (sharper envelopes are easier). duration_s, dt: s. max_delay_deg: the
    largest fibre phase delay (degrees). n_classes: IPD classes over -90...+90 degrees.
    phase_per: "batch" (the notebook: one random phase offset per iteration) or "sample".
    """

    n_fibres_per_ear: int = 100
    rate_max_hz: float = 600.0
    stimulus_hz: float = 20.0
    envelope_power: float = 2.0
    duration_s: float = 0.1
    dt: float = 1e-3
    max_delay_deg: float = 90.0
    n_classes: int = binaural.N_CLASSES
    phase_per: str = "batch"
    value_name = "IPD"

    def __post_init__(self):
        if self.phase_per not in ("batch", "sample"):
            raise ValueError(f'phase_per must be "batch" or "sample", got {self.phase_per!r}')
        if not self.dt > 0 or self.n_steps < 2:
            raise ValueError(f"duration_s / dt must give at least 2 steps, got {self.duration_s} s / {self.dt} s")

    @property
    def n_inputs(self):
        return 2 * int(self.n_fibres_per_ear)

    @property
    def n_steps(self):
        return int(round(self.duration_s / self.dt))

    def rates(self, ipd_deg, phase):
        """Firing rates (batch, n_steps, n_inputs) float32 spikes/s for IPDs (batch,) degrees and
        phase offsets (batch,) or a scalar, in cycles (0...1)."""
        ipd = np.deg2rad(np.atleast_1d(np.asarray(ipd_deg, dtype=np.float64)))
        t = np.arange(self.n_steps) * self.dt
        phase = np.broadcast_to(np.asarray(phase, dtype=np.float64), ipd.shape)
        delays = np.linspace(0.0, np.deg2rad(self.max_delay_deg), int(self.n_fibres_per_ear))
        # theta = 2π(f t + phase) + delay (left), the same minus the IPD (right); the sines of the
        # sums are built from sines and cosines of the parts, which is faster than a big sin()
        a = 2 * np.pi * self.stimulus_hz * t[:, None] + delays[None, :]  # (T, K)
        sin_a, cos_a = np.sin(a).astype(np.float32), np.cos(a).astype(np.float32)
        shifts = 2 * np.pi * np.stack([phase, phase - ipd / (2 * np.pi)], axis=1)  # (B, 2) left, right
        c = np.cos(shifts).astype(np.float32)[:, None, :, None]
        s = np.sin(shifts).astype(np.float32)[:, None, :, None]
        x = sin_a[None, :, None, :] * c + cos_a[None, :, None, :] * s  # (B, T, 2, K)
        x = x.reshape(ipd.size, t.size, -1)
        x += 1.0
        x *= 0.5
        return self.rate_max_hz * x ** np.float32(self.envelope_power)

    def spikes_at(self, rng, ipd_deg):
        """Spikes (batch, n_steps, n_inputs) float32 for given IPDs (batch,) degrees."""
        ipd = np.atleast_1d(np.asarray(ipd_deg, dtype=np.float64))
        phase = rng.uniform() if self.phase_per == "batch" else rng.uniform(size=ipd.size)
        p = (self.rates(ipd, phase) * self.dt).astype(np.float32)
        return (rng.random(p.shape, dtype=np.float32) < p).astype(np.float32)

    def sample(self, rng, batch_size):
        """(spikes (batch, n_steps, n_inputs) float32, IPDs (batch,) degrees uniform in -90...90)."""
        ipd = rng.uniform(*_SPAN, size=int(batch_size))
        return self.spikes_at(rng, ipd), ipd

    def batches(self, rng, n_samples, batch_size=64):
        """Iterator of (spikes, IPDs) batches, n_samples in all."""
        return _batches(self, rng, n_samples, batch_size)


# ==========================================================================================
# two ears


def default_cfs(freq_hz=500.0, n_cf=8, octaves_below=0.5, octaves_above=1.0):
    """n_cf CoNNear CFs spread evenly (in octaves) from octaves_below below freq_hz to octaves_above
    above it: a tone excites the cochlea mostly basal to its place (CFs above it), and there the
    phase of the response changes fastest with CF.

    Returns: (n,) Hz, ascending, distinct (n <= n_cf where neighbours snap to the same CF).
    """
    targets = freq_hz * 2.0 ** np.linspace(-octaves_below, octaves_above, int(n_cf))
    cfs = _cf.connear_cfs()
    return np.unique(cfs[np.atleast_1d(_cf.nearest_cf_index(cfs, targets))])


@dataclasses.dataclass
class PeripheryConfig:
    """The stimulus, the ears and the spikes of a periphery input.

    freq_hz: tone frequency (Hz). level_db_spl: level at the head's centre (dB SPL).
    kind: "tone" or "noise" (narrowband; PresentationSet only). bandwidth_hz: noise band (Hz).
    cf_hz: CFs (Hz) of the ANF channels, snapped to the nearest CoNNear CFs and sorted; None for
        :func:`default_cfs` around 500 Hz (kept when freq_hz changes, so that a trained network
        can hear other tones).
    fibres: ANF types among ("anfh", "anfm", "anfl"). n_fibres: fibres per CF, type and ear.
    window_s: duration the network hears (s). window_start_s: its start after the sound's onset
        at the head's centre (s), plus a random fraction of a tone period.
    dt: network time step (s), a whole multiple of 0.05 ms. refractory_s: ANF dead time (s).
    model: "reference" (verhulst2018 ANF) or "connear" (CoNNear ANF; falls back to the reference
        with a note when the weights are missing). mode: "full" (TL cochlea) or "light" (CoNNear
        cochlea). weights: CoNNear weight set (see connear_helpers.paper.figures).
    ild_db_at_90: ILD at 90 degrees (dB). head_radius_m: m. snr_db: diffuse-noise SNR (dB) or None.
    ramp_s: on/off ramps (s). reference_options: verhulst2018 options (default the lab's
        pipeline.PAPER_REFERENCE_OPTIONS), including the verhulst2018 ``engine`` ("exact" when absent,
        as the figures; "fast" within 1 % of it and several times faster).
    n_classes: azimuth classes over -90...+90 degrees.
    """

    freq_hz: float = 500.0
    level_db_spl: float = 60.0
    kind: str = "tone"
    bandwidth_hz: float | None = None
    cf_hz: tuple | None = None
    fibres: tuple = ("anfh",)
    n_fibres: int = 12
    window_s: float = 0.05
    window_start_s: float = 0.0
    dt: float = 1.0 / FS_ANF
    refractory_s: float = 0.0
    model: str = "reference"
    mode: str = "full"
    weights: object = None
    ild_db_at_90: float = 0.0
    head_radius_m: float = binaural.HEAD_RADIUS_M
    snr_db: float | None = None
    ramp_s: float = 5e-3
    reference_options: dict | None = None
    n_classes: int = binaural.N_CLASSES

    def __post_init__(self):
        wanted = default_cfs() if self.cf_hz is None else np.atleast_1d(np.asarray(self.cf_hz, dtype=np.float64))
        self.cf_hz = tuple(float(c) for c in np.unique(_cf.snap_to_cf(wanted)))  # the CoNNear CFs used
        from ..pipeline import check_fibres

        self.fibres = check_fibres(self.fibres)
        if self.model not in ("reference", "connear"):
            raise ValueError(f'model must be "reference" or "connear", got {self.model!r}')
        if self.mode not in ("full", "light"):
            raise ValueError(f'mode must be "full" (TL cochlea) or "light" (CoNNear cochlea), got {self.mode!r}')
        k = self.dt * FS_ANF
        if abs(k - round(k)) > 1e-6 or round(k) < 1:
            raise ValueError(f"dt must be a whole multiple of {1e3 / FS_ANF:.2f} ms (the ANF rate's step), "
                             f"got {self.dt * 1e3:.4g} ms")
        if self.n_steps < 2:
            raise ValueError(f"window_s / dt gives {self.n_steps} steps; make the window longer")

    @property
    def substeps(self):
        return int(round(self.dt * FS_ANF))

    @property
    def n_steps(self):
        return int(round(self.window_s / self.dt))

    @property
    def n_channels_per_ear(self):
        return len(self.fibres) * len(self.cf_hz)

    @property
    def n_inputs(self):
        return 2 * self.n_channels_per_ear * int(self.n_fibres)

    def channel_labels(self):
        """(ear, fibre type, CF in Hz) of each rate channel, in the input order."""
        return [(ear, f, c) for ear in binaural.EARS for f in self.fibres for c in self.cf_hz]

    def input_labels(self):
        """(ear, fibre type, CF in Hz, fibre number) of each network input."""
        return [(*lab, j) for lab in self.channel_labels() for j in range(int(self.n_fibres))]

    def sound_duration_s(self):
        """Duration of each simulated sound (s, after LEAD_S of silence): the window, its
        random start within one period, the largest ear delay, the ramp and 1 ms."""
        max_d = binaural.woodworth_itd(90.0, self.head_radius_m) / 2
        return self.window_start_s + 1.0 / self.freq_hz + self.window_s + max_d + self.ramp_s + 1e-3

    def stimulus(self, azimuth_deg, phase=None, seed=None, fs=FS_SOUND):
        """One presentation as simulated: (n_samples, 2) Pa at fs, LEAD_S of silence first."""
        return binaural.binaural_stimulus(
            azimuth_deg, self.freq_hz, self.level_db_spl, self.sound_duration_s(), fs, kind=self.kind,
            bandwidth_hz=self.bandwidth_hz, phase=phase, seed=seed, ild_db_at_90=self.ild_db_at_90,
            head_radius_m=self.head_radius_m, ramp_s=self.ramp_s, snr_db=self.snr_db, delay_s=LEAD_S)


def default_cache():
    """The localisation cache: the lab's shared in-memory cache, with reference responses on
    disk in :func:`connear_helpers.pipeline.default_cache_dir`."""
    from .. import pipeline

    return pipeline.DEFAULT_CACHE.with_directory(pipeline.default_cache_dir())


def _setup(config):
    """(pipeline.Setup, field suffix "ref" or "cnn", note or None) for a config."""
    from .. import pipeline

    want_cnn = config.model == "connear" or config.mode == "light"
    setup = pipeline.prepare(config.weights if want_cnn else None, config.mode, family="anf",
                            cnn_anf_input="cnn")
    note = setup.note
    if config.model == "connear" and not setup.has_cnn:
        note = note or "CoNNear weights missing: using the reference ANF model."
        return setup, "ref", note
    return setup, ("cnn" if config.model == "connear" else "ref"), note


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def periphery_rates(signals, config, cache=None, progress=False):
    """ANF rates of one ear for a stack of sounds, through the periphery.

    signals: (n, n_samples) sound pressure (Pa) at 100 kHz. config, cache, progress: as
    :func:`ear_rates`. Returns (rates (n, n_samples / 5, n_types · n_cf) spikes/s at 20 kHz in the
    order (fibre type, CF), note).
    """
    from .. import pipeline

    x = np.atleast_2d(np.asarray(signals, dtype=np.float64))
    setup, suffix, note = _setup(config)
    cache = default_cache() if cache is None else cache
    cfs = _cf.connear_cfs()
    channels = np.atleast_1d(_cf.nearest_cf_index(cfs, np.asarray(config.cf_hz)))
    kw = dict(channels=channels, family="anf", fibres=config.fibres, cnn_anf_input="cnn",
              reference_options=config.reference_options, cache=cache)
    if _usable_cores() > 1:  # one parallel batch (verhulst2018's worker processes)
        res = pipeline.simulate_batch(x, FS_SOUND, setup, progress=progress, **kw)
    else:  # one core: starting worker processes would only add their start-up time
        from tqdm.auto import tqdm

        res = [pipeline.simulate_batch(row[None], FS_SOUND, setup, **kw)[0]
               for row in tqdm(x, desc="ears", unit="sound", disable=not progress or x.shape[0] < 2)]
    rates = np.stack([np.concatenate([getattr(r, f"{f}_{suffix}") for f in config.fibres], axis=1)
                      for r in res])
    return np.maximum(rates, 0.0), note


def ear_rates(signals, config, cache=None, progress=False):
    """ANF rates of both ears for a stack of binaural signals, through the periphery.

    signals: (n, n_samples, 2) or (n_samples, 2) sound pressure (Pa) at 100 kHz, left/right.
    config: PeripheryConfig (CFs, fibre types, model, mode, weights, reference options).
    cache: pipeline.SimulationCache (default :func:`default_cache`). progress: progress bars.
    Returns: (rates, note): rates (n, n_samples / 5, 2 · n_types · n_cf) spikes/s at 20 kHz in
    the layout of ``config.channel_labels()``; note a str when the model asked for is not the
    one used (missing CoNNear weights), else None.
    """
    x = np.asarray(signals, dtype=np.float64)
    single = x.ndim == 2
    x = x[None] if single else x
    if x.ndim != 3 or x.shape[2] != 2:
        raise ValueError(f"signals must be (n, n_samples, 2) binaural sound pressure in Pa, got shape {x.shape}")
    rows = x.transpose(0, 2, 1).reshape(-1, x.shape[1])
    r, note = periphery_rates(rows, config, cache, progress)
    n, t = x.shape[0], r.shape[1]
    rates = r.reshape(n, 2, t, -1).transpose(0, 2, 1, 3).reshape(n, t, -1)
    return (rates[0] if single else rates), note


def _window_rates(rates20, start_index, config):
    """Rates (B, n_steps, C) from 20-kHz rates (B, T, C) starting at start_index (B,)."""
    k = config.substeps
    idx = start_index[:, None] + np.arange(config.n_steps * k)[None, :]
    r = np.take_along_axis(rates20, idx[:, :, None], axis=1)
    if k > 1:
        r = r.reshape(r.shape[0], config.n_steps, k, -1).mean(axis=2)
    return r


class ToneBankInput:
    """Periphery input for training: any azimuth from a bank of tone simulations (module docstring).

    config: PeripheryConfig (kind "tone", no noise). n_phases: simulated starting phases.
    seed: int, for the starting phases. cache, progress: as :func:`ear_rates`.
    Attributes: rates_up (n_levels, n_phases, n_up, n_types · n_cf) one ear's rates at 400 kHz;
    levels_db_spl (n_levels,); phases (n_phases,) rad; note (str or None).
    """

    value_name = "azimuth"

    def __init__(self, config, n_phases=8, seed=0, cache=None, progress=False):
        if config.kind != "tone" or config.snr_db is not None:
            raise ValueError("a ToneBankInput needs a clean tone (kind='tone', snr_db=None); use a "
                             "PresentationSet for noises and noisy tones")
        self.config = config
        rng = np.random.default_rng(seed)
        self.phases = 2 * np.pi * (np.arange(int(n_phases)) + rng.uniform()) / int(n_phases)
        half = abs(config.ild_db_at_90) / 2
        # ear levels come from a 0.5-dB grid (nearest level): the ILD needs one simulation per level
        self.levels_db_spl = config.level_db_spl + np.arange(-half, half + 0.25, 0.5) if half else \
            np.array([config.level_db_spl])
        signals = []
        for level in self.levels_db_spl:
            for ph in self.phases:
                one = dataclasses.replace(config, level_db_spl=float(level), ild_db_at_90=0.0)
                signals.append(one.stimulus(0.0, phase=ph)[:, 0])  # azimuth 0: the undelayed tone
        one_ear, self.note = periphery_rates(np.stack(signals), config, cache=cache, progress=progress)
        n_one = config.n_channels_per_ear
        up = resample_poly(one_ear, UPSAMPLE, 1, axis=1)
        self.rates_up = np.maximum(up, 0.0).astype(np.float32).reshape(
            self.levels_db_spl.size, self.phases.size, up.shape[1], n_one)

    n_inputs = property(lambda self: self.config.n_inputs)
    n_steps = property(lambda self: self.config.n_steps)
    dt = property(lambda self: self.config.dt)
    n_classes = property(lambda self: self.config.n_classes)

    def rates(self, azimuth_deg, phase_index, jitter):
        """Rates (batch, n_steps, n_inputs / n_fibres) spikes/s of both ears.

        azimuth_deg: (batch,) degrees. phase_index: (batch,) int into self.phases.
        jitter: (batch,) fraction of a tone period (0...1) added to the window's start.
        """
        cfg = self.config
        az = np.asarray(azimuth_deg, dtype=np.float64)
        delays = binaural.ear_delays(az, cfg.head_radius_m)  # (B, 2)
        levels = binaural.ear_levels(cfg.level_db_spl, az, cfg.ild_db_at_90)
        level_index = np.abs(levels[..., None] - self.levels_db_spl).argmin(axis=-1)
        fs_up = FS_ANF * UPSAMPLE
        start = LEAD_S + cfg.window_start_s + np.asarray(jitter)[:, None] / cfg.freq_hz - delays  # (B, 2)
        first = np.rint(start * fs_up).astype(np.int64)
        n = cfg.n_steps * cfg.substeps
        idx = first[:, :, None] + UPSAMPLE * np.arange(n)[None, None, :]  # (B, 2, n)
        if idx.max() >= self.rates_up.shape[2] or idx.min() < 0:
            raise RuntimeError("window outside the simulated tone; this is a bug in sound_duration_s")
        ph = np.asarray(phase_index)[:, None, None]
        r = self.rates_up[level_index[:, :, None], ph, idx]  # (B, 2, n, C1)
        r = r.transpose(0, 2, 1, 3).reshape(az.size, n, -1)
        if cfg.substeps > 1:
            r = r.reshape(az.size, cfg.n_steps, cfg.substeps, -1).mean(axis=2)
        return r

    def spikes_at(self, rng, azimuth_deg):
        """Spikes (batch, n_steps, n_inputs) float32 for given azimuths (batch,) degrees, with a
        random starting phase and window start for each."""
        az = np.atleast_1d(np.asarray(azimuth_deg, dtype=np.float64))
        r = self.rates(az, rng.integers(self.phases.size, size=az.size), rng.uniform(size=az.size))
        return poisson_spikes(r, self.dt, self.config.n_fibres, rng, self.config.refractory_s)

    def sample(self, rng, batch_size):
        """(spikes (batch, n_steps, n_inputs) float32, azimuths (batch,) degrees uniform in -90...90)."""
        az = rng.uniform(*_SPAN, size=int(batch_size))
        return self.spikes_at(rng, az), az

    def batches(self, rng, n_samples, batch_size=64):
        """Iterator of (spikes, azimuths) batches, n_samples in all."""
        return _batches(self, rng, n_samples, batch_size)


class PresentationSet:
    """A fixed set of presentations, each simulated with its own two ear signals.

    config: PeripheryConfig. azimuths_deg: (n,) degrees, or None for n_presentations azimuths
    spread over the classes (the same number in every class, uniform within it). seed: int
    for the azimuths, starting phases, window starts and noises. cache, progress: as
    :func:`ear_rates`. Attributes: azimuths_deg (n,), rates20 (n, T, n_inputs / n_fibres) at
    20 kHz, starts (n,) first 20-kHz sample of each window, note.
    """

    value_name = "azimuth"

    def __init__(self, config, n_presentations=48, azimuths_deg=None, seed=1, cache=None, progress=False):
        self.config = config
        rng = np.random.default_rng(seed)
        if azimuths_deg is None:
            k = config.n_classes
            per_class = max(1, int(np.ceil(n_presentations / k)))
            edges = binaural.class_edges(k)
            azimuths_deg = np.concatenate(
                [rng.uniform(edges[:-1], edges[1:]) for _ in range(per_class)])[:int(n_presentations)]
        self.azimuths_deg = np.asarray(azimuths_deg, dtype=np.float64).reshape(-1)
        seeds = rng.integers(2**63, size=self.azimuths_deg.size)
        signals = np.stack([config.stimulus(a, seed=s) for a, s in zip(self.azimuths_deg, seeds)])
        self.rates20, self.note = ear_rates(signals, config, cache=cache, progress=progress)
        jitter = rng.uniform(size=self.azimuths_deg.size)
        start = LEAD_S + config.window_start_s + jitter / config.freq_hz
        self.starts = np.rint(start * FS_ANF).astype(np.int64)

    n_inputs = property(lambda self: self.config.n_inputs)
    n_steps = property(lambda self: self.config.n_steps)
    dt = property(lambda self: self.config.dt)
    n_classes = property(lambda self: self.config.n_classes)

    def __len__(self):
        return self.azimuths_deg.size

    def rates(self, index):
        """Rates (len(index), n_steps, n_inputs / n_fibres) spikes/s of presentations index."""
        index = np.atleast_1d(index)
        return _window_rates(self.rates20[index], self.starts[index], self.config)

    def sample(self, rng, batch_size):
        """(spikes, azimuths): random presentations (with replacement), fresh spikes."""
        index = rng.integers(len(self), size=int(batch_size))
        r = self.rates(index)
        return poisson_spikes(r, self.dt, self.config.n_fibres, rng, self.config.refractory_s), \
            self.azimuths_deg[index]

    def batches(self, rng, n_samples=None, batch_size=64):
        """Every presentation in turn, repeated (with fresh spikes) to give at least n_samples
        (default one pass)."""
        repeats = 1 if n_samples is None else max(1, int(np.ceil(n_samples / len(self))))
        order = np.tile(np.arange(len(self)), repeats)
        for i in range(0, order.size, batch_size):
            index = order[i:i + batch_size]
            spikes = poisson_spikes(self.rates(index), self.dt, self.config.n_fibres, rng,
                                    self.config.refractory_s)
            yield spikes, self.azimuths_deg[index]
