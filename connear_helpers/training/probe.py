"""Probe an IHC model with sinusoidal BM velocities, or a cochlea model with tones, against the reference.

The IHC stage sees one BM velocity waveform per channel and knows nothing of CF, so its errors
are a function of the waveform alone. A grid of pure sinusoids (frequency x amplitude, 0.1 s with
a 10-ms onset ramp) shows where in that space a CNN departs from the reference IHC, e.g. at the
velocities of loud sounds that its training data seldom held. Stimuli of the probe are BM
velocities, not sounds: no evaluation stimulus goes through the TL model here.

    python -m connear_helpers.training.probe [--weights connear-lab] [--stage ihc|cochlea]

prints, per amplitude [m/s] and frequency, the reference's mean potential [mV] over 50-95 ms and
the CNN's error [mV].

The cochlea probe (``--stage cochlea``, :func:`cochlea_gain_table`) plays tones at 0-100 dB SPL
through the TL model and the CNN cochlea and compares the BM velocity at the CF nearest the tone:
the cochlea's input-output function at CF, linear at low levels and compressive above, where a
CNN's level-dependent gain errors show (e.g. a quiet tone that comes out too weak, which moves
the threshold of the high-spontaneous-rate fibres). Its frequencies lie between the evaluation's
octaves.

The spread probe (``--stage cochlea-spread``, :func:`cochlea_spread_table`) plays a tone and
compares the BM velocity at CFs from two octaves below to one octave above it: the TL's excitation
falls by 50-65 dB within the first octave on the apical side (CFs below the tone) and a loud tone's
spreads an octave to the basal side. A CNN cochlea whose output channels share one latent code
leaves a floor on the apical side (set 2026.12.03.3 at 2 kHz, 90 dB SPL: +29 dB one octave and +53
dB two octaves below the tone), which the IHC turns into a depolarisation (up to 1.7 mV at the
1.15-kHz CF for a candidate of 12-03).
"""
from __future__ import annotations

import argparse

import numpy as np

from .. import constants as _constants

FS_REFERENCE = float(_constants.FS_REFERENCE)
FS_CNN = float(_constants.FS_CNN)
FREQS_HZ = (250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)
AMPLITUDES = tuple(float(a) for a in np.logspace(-7, -3, 9))  # m/s
DURATION_S, RAMP_S, MEAN_FROM_S, MEAN_TO_S = 0.1, 0.01, 0.05, 0.095


def _sinusoids(fs, freqs_hz, amplitude):
    t = np.arange(int(round(DURATION_S * fs))) / fs
    return (amplitude * np.minimum(1.0, t / RAMP_S))[:, None] * np.sin(2 * np.pi * np.outer(t, freqs_hz))


def ihc_mean_potential_table(ihc_cnn, freqs_hz=FREQS_HZ, amplitudes=AMPLITUDES):
    """(reference, cnn - reference): (n_amplitudes, n_freqs) mean IHC potentials over 50-95 ms [V].

    ihc_cnn: a function from BM velocity (T, C) [m/s] at 20 kHz to IHC potential (T, C) [V]
    (e.g. ``lambda v: inference.ihc_potential(v, model, fs=20000)``). The reference IHC runs at
    100 kHz on the same sinusoids and is compared at the same times.
    """
    from verhulst2018 import ihc

    freqs = np.asarray(freqs_hz, dtype=float)
    ref = np.empty((len(amplitudes), freqs.size))
    err = np.empty_like(ref)
    a20, b20 = int(MEAN_FROM_S * FS_CNN), int(MEAN_TO_S * FS_CNN)
    a100, b100 = int(MEAN_FROM_S * FS_REFERENCE), int(MEAN_TO_S * FS_REFERENCE)
    for i, amp in enumerate(amplitudes):
        v100 = np.ascontiguousarray(_sinusoids(FS_REFERENCE, freqs, amp))
        ref[i] = ihc.ihc_potential(v100, FS_REFERENCE, overwrite_input=True)[a100:b100].mean(axis=0)
        cnn = np.asarray(ihc_cnn(_sinusoids(FS_CNN, freqs, amp).astype(np.float32)), dtype=float)
        if cnn.shape != (int(round(DURATION_S * FS_CNN)), freqs.size):
            raise ValueError(f"ihc_cnn returned shape {cnn.shape}; expected (T, C) = "
                             f"({int(round(DURATION_S * FS_CNN))}, {freqs.size})")
        err[i] = cnn[a20:b20].mean(axis=0) - ref[i]
    return ref, err


COCHLEA_FREQS_HZ = (700.0, 1400.0, 2800.0, 5600.0)
LEVELS_DB = tuple(float(level) for level in range(0, 101, 10))  # dB SPL
TONE_S, TONE_RAMP_S, RMS_FROM_S, RMS_TO_S = 0.1, 0.005, 0.03, 0.095


def _tone_bm_db(cochlea_cnn, freq_hz, level_db, channels):
    """(reference, cnn - reference): (n_channels,) BM velocity RMS over 30-95 ms of a 0.1-s tone
    (5-ms Hann ramps) at the CF indices ``channels``: the TL model at 100 kHz [dB re 1 um/s] and the
    CNN's error [dB]."""
    from .. import pipeline
    from ..analysis import cf as _cf
    from ..analysis.stimuli import pure_tone

    cfs = _cf.connear_cfs()
    channels = np.asarray(channels, dtype=int)
    tone = [pure_tone(freq_hz, level_db, TONE_S, fs, ramp_s=TONE_RAMP_S) for fs in (FS_REFERENCE, FS_CNN)]
    tl = pipeline.simulate(tone[0], FS_REFERENCE, mode="full", stages=("bm",), weights=None, cf=cfs[channels],
                           irregularities=False, progress=False)
    cnn = np.asarray(cochlea_cnn(tone[1].astype(np.float32)), dtype=float)
    if cnn.shape != (int(round(TONE_S * FS_CNN)), cfs.size):
        raise ValueError(f"cochlea_cnn returned shape {cnn.shape}; expected (T, 201) = "
                         f"({int(round(TONE_S * FS_CNN))}, {cfs.size})")
    a, b = int(RMS_FROM_S * FS_CNN), int(RMS_TO_S * FS_CNN)
    ref = 20 * np.log10(np.sqrt(np.mean(tl.bm[a:b] ** 2, axis=0)) / 1e-6)
    return ref, 20 * np.log10(np.sqrt(np.mean(cnn[a:b, channels] ** 2, axis=0)) / 1e-6) - ref


def cochlea_gain_table(cochlea_cnn, freqs_hz=COCHLEA_FREQS_HZ, levels_db=LEVELS_DB, progress=False):
    """(reference, cnn - reference): (n_levels, n_freqs) BM velocity RMS at the CF nearest each tone
    over 30-95 ms of a 0.1-s tone (5-ms Hann ramps, level = RMS of the whole tone,
    :func:`connear_helpers.analysis.stimuli.pure_tone`), in dB re 1 um/s.

    cochlea_cnn: a function from sound pressure (T,) [Pa] at 20 kHz to BM velocity (T, 201) [m/s]
    at the 201 CFs of ``connear_helpers.analysis.cf`` (e.g. ``lambda p: inference.cochlea_vbm(p,
    model, fs=20000)``). The reference is the TL model (exact engine, irregularities off) on the
    same tone at 100 kHz.
    """
    from ..analysis import cf as _cf

    cfs = _cf.connear_cfs()
    freqs = np.asarray(freqs_hz, dtype=float)
    ref = np.empty((len(levels_db), freqs.size))
    err = np.empty_like(ref)
    grid = [(i, j) for i in range(len(levels_db)) for j in range(freqs.size)]
    if progress:
        from tqdm.auto import tqdm

        grid = tqdm(grid, desc="cochlea probe", unit="tone")
    for i, j in grid:
        r, e = _tone_bm_db(cochlea_cnn, freqs[j], levels_db[i], [_cf.nearest_cf_index(cfs, freqs[j])])
        ref[i, j], err[i, j] = r[0], e[0]
    return ref, err


SPREAD_OCTAVES = (-2.0, -1.5, -1.0, -0.75, -0.5, -0.25, 0.0, 0.5, 1.0)
SPREAD_TONES = ((1000.0, 70.0), (1000.0, 90.0), (2000.0, 70.0), (2000.0, 90.0))  # (Hz, dB SPL)


def cochlea_spread_table(cochlea_cnn, tones=SPREAD_TONES, octaves=SPREAD_OCTAVES, progress=False):
    """(cf, reference, cnn - reference): BM velocity RMS over 30-95 ms of a 0.1-s tone at the CFs
    nearest ``f * 2**octaves`` for each (frequency [Hz], level [dB SPL]) of ``tones``.

    cf: (n_tones, n_octaves) the CFs used [Hz]; reference: (n_tones, n_octaves) TL [dB re 1 um/s];
    cnn - reference: [dB]. cochlea_cnn as in :func:`cochlea_gain_table`. Negative octaves are CFs
    below the tone (apical of its place), where the TL's excitation falls steeply.
    """
    from ..analysis import cf as _cf

    cfs = _cf.connear_cfs()
    octaves = np.asarray(octaves, dtype=float)
    shape = (len(tones), octaves.size)
    cf_used, ref, err = np.empty(shape), np.empty(shape), np.empty(shape)
    rows = enumerate(tones)
    if progress:
        from tqdm.auto import tqdm

        rows = tqdm(list(rows), desc="cochlea spread probe", unit="tone")
    for i, (freq, level) in rows:
        k = [_cf.nearest_cf_index(cfs, freq * 2.0 ** o) for o in octaves]
        cf_used[i] = cfs[k]
        ref[i], err[i] = _tone_bm_db(cochlea_cnn, freq, level, k)
    return cf_used, ref, err


def _main(argv=None):
    p = argparse.ArgumentParser(prog="python -m connear_helpers.training.probe", description=__doc__.split("\n")[0])
    p.add_argument("--weights", default="connear-lab", help="weight set or folder with the model")
    p.add_argument("--stage", choices=("ihc", "cochlea", "cochlea-spread"), default="ihc",
                   help="ihc: sinusoidal BM velocities (default); cochlea: tones at 0-100 dB SPL, BM "
                        "velocity at CF; cochlea-spread: four tones, BM velocity at CFs -2 to +1 octaves "
                        "from each")
    a = p.parse_args(argv)
    from ..cnn import inference
    from ..cnn import weights as cnn_weights

    if a.stage == "cochlea-spread":
        model = cnn_weights.load_model("cochlea", a.weights)
        cf_used, ref, err = cochlea_spread_table(lambda x: inference.cochlea_vbm(x, model, fs=FS_CNN), progress=True)
        print(f"BM velocity RMS, TL [dB re 1 um/s] / CNN - TL [dB], at CFs octaves from the tone "
              f"({cnn_weights.weights_label(a.weights)})")
        print("tone             " + "".join(f"{o:>+13.2f} oct" for o in SPREAD_OCTAVES))
        for (freq, level), r, e in zip(SPREAD_TONES, ref, err):
            print(f"{freq:6.0f} Hz {level:3.0f} dB " + "".join(f"{ri:9.1f} /{ei:+6.1f}" for ri, ei in zip(r, e)))
        return
    if a.stage == "cochlea":
        model = cnn_weights.load_model("cochlea", a.weights)
        ref, err = cochlea_gain_table(lambda x: inference.cochlea_vbm(x, model, fs=FS_CNN), progress=True)
        print(f"BM velocity RMS at CF, TL [dB re 1 um/s] / CNN - TL [dB] ({cnn_weights.weights_label(a.weights)})")
        print("level [dB SPL] " + "".join(f"{f:>13.0f} Hz" for f in COCHLEA_FREQS_HZ))
        for level, r, e in zip(LEVELS_DB, ref, err):
            print(f"{level:14.0f} " + "".join(f"{ri:9.1f} /{ei:+5.1f}" for ri, ei in zip(r, e)))
        return
    model = cnn_weights.load_model("ihc", a.weights, n_cf=1)
    ref, err = ihc_mean_potential_table(lambda v: inference.ihc_potential(v, model, fs=FS_CNN))
    print(f"IHC mean potential, reference [mV] / CNN - reference [mV] ({cnn_weights.weights_label(a.weights)})")
    print("amplitude [m/s] " + "".join(f"{f:>15.0f} Hz" for f in FREQS_HZ))
    for amp, r, e in zip(AMPLITUDES, ref * 1e3, err * 1e3):
        print(f"{amp:15.1e} " + "".join(f"{ri:11.2f} /{ei:+6.2f}" for ri, ei in zip(r, e)))


if __name__ == "__main__":
    _main()
