"""Binaural stimuli: a tone or narrowband noise from an azimuth, rendered to the two ears.

Geometry: a rigid spherical head of radius ``head_radius_m``; a far source at azimuth θ in the
horizontal plane (0 = straight ahead, +90 degrees = right, -90 degrees = left). The interaural
time difference follows Woodworth's formula, ``ITD = (a / c) (θ + sin θ)`` (a: head radius, c:
speed of sound, θ in radians, |θ| <= 90 degrees), positive when the right ear leads. An optional
interaural level difference ``ILD = ild_db_at_90 · sin θ`` (dB, right ear louder for θ > 0) is
split evenly between the ears. The ITD is applied exactly: tones are evaluated at the delayed
times, noises are delayed in the Fourier domain, so a delay needs no whole number of samples.

Arrays: ``(n_samples, 2)`` sound pressure in Pa, time axis 0, ears on axis 1 (0 = left,
1 = right); a stack of presentations has a leading axis.

Azimuth classes: the range -90...+90 degrees is cut into ``n_classes`` equal bins (12 bins of
15 degrees by default, as the teaching notebook's IPD classes); a class is reported by its
centre.
"""
from __future__ import annotations

import numpy as np

from ..analysis import stimuli as _stimuli

#: Speed of sound in air at about 20 degrees C (m/s).
SPEED_OF_SOUND = 343.0
#: Head radius of an average adult (m), Woodworth's spherical-head value.
HEAD_RADIUS_M = 0.0875
#: Number of azimuth (or IPD) classes of the teaching notebook: 15-degree bins over 180 degrees.
N_CLASSES = 12
#: Band of the diffuse noise (Hz): white within it.
NOISE_BAND_HZ = (100.0, 5000.0)
#: Sources that make up the diffuse noise, spread evenly around the head.
N_DIFFUSE_SOURCES = 16
EARS = ("left", "right")


def _check_azimuth(azimuth_deg):
    az = np.asarray(azimuth_deg, dtype=np.float64)
    if not np.all(np.isfinite(az)) or np.any(np.abs(az) > 90.0 + 1e-9):
        raise ValueError(
            f"azimuth_deg must lie between -90 and +90 degrees (0 ahead, +90 right); got {azimuth_deg!r}. "
            "A source behind the head has the same ITD as its mirror image in front: use 180 - azimuth.")
    return az


def woodworth_itd(azimuth_deg, head_radius_m=HEAD_RADIUS_M, speed_of_sound=SPEED_OF_SOUND):
    """Interaural time difference of a spherical head (Woodworth), positive when the right ear leads.

    azimuth_deg: scalar or array, -90...+90 degrees. head_radius_m: m. speed_of_sound: m/s.
    Returns: float or ndarray like azimuth_deg, ITD (s); 0.656 ms at 90 degrees for a = 8.75 cm.
    """
    az = _check_azimuth(azimuth_deg)
    if not head_radius_m > 0 or not speed_of_sound > 0:
        raise ValueError(f"head_radius_m and speed_of_sound must be positive; got {head_radius_m!r}, "
                         f"{speed_of_sound!r}")
    theta = np.deg2rad(az)
    itd = head_radius_m / speed_of_sound * (theta + np.sin(theta))
    return float(itd) if itd.ndim == 0 else itd


def ear_delays(azimuth_deg, head_radius_m=HEAD_RADIUS_M, speed_of_sound=SPEED_OF_SOUND):
    """Delays of the left and right ear re the head's centre: (+ITD/2, -ITD/2).

    azimuth_deg: scalar or (n,) degrees. Returns: (..., 2) delays (s), left then right.
    """
    itd = np.asarray(woodworth_itd(azimuth_deg, head_radius_m, speed_of_sound))
    return np.stack([itd / 2.0, -itd / 2.0], axis=-1)


def ild_db(azimuth_deg, ild_db_at_90=0.0):
    """Interaural level difference (right minus left, dB): ild_db_at_90 · sin(azimuth).

    azimuth_deg: scalar or array (degrees). Returns: float or ndarray (dB).
    """
    az = _check_azimuth(azimuth_deg)
    out = float(ild_db_at_90) * np.sin(np.deg2rad(az))
    return float(out) if out.ndim == 0 else out


def ear_levels(level_db_spl, azimuth_deg, ild_db_at_90=0.0):
    """Levels at the left and right ear (dB SPL): level -/+ ILD/2. Returns (..., 2)."""
    half = np.asarray(ild_db(azimuth_deg, ild_db_at_90)) / 2.0
    return np.stack([level_db_spl - half, level_db_spl + half], axis=-1)


# ------------------------------------------------------------------------------------------
# classes


def class_edges(n_classes=N_CLASSES, span_deg=(-90.0, 90.0)):
    """Edges of the azimuth classes: (n_classes + 1,) degrees."""
    return np.linspace(span_deg[0], span_deg[1], int(n_classes) + 1)


def class_centres(n_classes=N_CLASSES, span_deg=(-90.0, 90.0)):
    """Centres of the azimuth classes: (n_classes,) degrees (-82.5, -67.5, ..., 82.5 for 12)."""
    e = class_edges(n_classes, span_deg)
    return (e[:-1] + e[1:]) / 2.0


def to_class(value_deg, n_classes=N_CLASSES, span_deg=(-90.0, 90.0)):
    """Class index of each azimuth (or IPD) in degrees: (n,) int in 0...n_classes-1."""
    v = np.asarray(value_deg, dtype=np.float64)
    lo, hi = span_deg
    k = np.floor((v - lo) / (hi - lo) * n_classes).astype(np.int64)
    return np.clip(k, 0, int(n_classes) - 1)


# ------------------------------------------------------------------------------------------
# waveforms


def _ramp(t, duration_s, ramp_s):
    """Raised-cosine (Hann) on/off ramps evaluated at arbitrary times t (s); 0 outside the sound."""
    g = ((t >= 0) & (t < duration_s)).astype(np.float64)
    if ramp_s > 0:
        up = np.clip(t / ramp_s, 0.0, 1.0)
        down = np.clip((duration_s - t) / ramp_s, 0.0, 1.0)
        g = g * np.sin(np.pi / 2 * up) ** 2 * np.sin(np.pi / 2 * down) ** 2
    return g


def _band_noise_spectrum(rng, n, fs, band_hz):
    """Random complex spectrum (rfft of n samples) of a noise that is white within band_hz."""
    freqs = np.fft.rfftfreq(n, 1.0 / fs)
    spec = rng.standard_normal(freqs.size) + 1j * rng.standard_normal(freqs.size)
    spec[(freqs < band_hz[0]) | (freqs > band_hz[1])] = 0.0
    return freqs, spec


def _delayed(freqs, spec, n, delay_s):
    """The noise of spectrum spec delayed by delay_s (s), (n,), exactly (a circular delay)."""
    return np.fft.irfft(spec * np.exp(-2j * np.pi * freqs * delay_s), n)


def diffuse_noise(n_samples, fs, rms_pa, seed, band_hz=NOISE_BAND_HZ, n_sources=N_DIFFUSE_SOURCES,
                  head_radius_m=HEAD_RADIUS_M, speed_of_sound=SPEED_OF_SOUND):
    """A diffuse noise at the two ears: independent noises from sources spread around the head.

    ``n_sources`` independent noises (white within ``band_hz``) come from azimuths evenly spaced
    over 360 degrees, each reaching the ears with its Woodworth ITD (a source behind the head
    has the ITD of its mirror image in front), so the two ears' noises are partly correlated at
    low frequencies, as in a diffuse field. n_samples: int. fs: Hz. rms_pa: RMS at each ear (Pa).
    seed: int. Returns: (n_samples, 2) sound pressure (Pa), left and right.
    """
    rng = np.random.default_rng(seed)
    pad = int(np.ceil(2e-3 * fs))  # more than the largest ear delay: keeps the circular wrap out
    n = int(n_samples) + 2 * pad
    out = np.zeros((n, 2))
    for k in range(int(n_sources)):
        az = (360.0 * k / n_sources + 180.0 / n_sources) % 360.0  # degrees, clockwise from ahead
        front = az if az <= 90.0 else (180.0 - az if az <= 270.0 else az - 360.0)
        freqs, spec = _band_noise_spectrum(rng, n, fs, band_hz)
        for ear, d in enumerate(ear_delays(front, head_radius_m, speed_of_sound)):
            out[:, ear] += _delayed(freqs, spec, n, d)
    out = out[pad:pad + int(n_samples)]
    return out * (rms_pa / np.sqrt(np.mean(out ** 2, axis=0)))


def binaural_stimulus(azimuth_deg, freq_hz=500.0, level_db_spl=60.0, duration_s=0.1, fs=100_000.0,
                      kind="tone", bandwidth_hz=None, phase=None, seed=None, ild_db_at_90=0.0,
                      head_radius_m=HEAD_RADIUS_M, speed_of_sound=SPEED_OF_SOUND, ramp_s=5e-3,
                      snr_db=None, noise_band_hz=NOISE_BAND_HZ, delay_s=0.0):
    """One presentation of a source at an azimuth, as it reaches the two ears.

    azimuth_deg: -90...+90 degrees (+ = right). freq_hz: tone frequency or noise centre (Hz).
    level_db_spl: level of the source at the head's centre (dB SPL, RMS of the steady part).
    duration_s: s, including the Hann ramps of ramp_s (s) at each end. fs: Hz.
    kind: "tone" or "noise" (narrowband Gaussian noise, white within freq_hz ± bandwidth_hz/2;
        bandwidth_hz defaults to one third of an octave).
    phase: starting phase of the tone (rad); None draws it from seed (a random starting phase
        per presentation). seed: int for the phase, the noise and the diffuse noise.
    ild_db_at_90: interaural level difference at 90 degrees (dB); 0 for ITD only.
    snr_db: None for no noise, else a diffuse noise (:func:`diffuse_noise`, white within
        noise_band_hz) at each ear whose RMS is level_db_spl - snr_db.
    delay_s: silence before the sound reaches the head's centre (s); the leading ear hears it
        up to ITD/2 earlier, so give delay_s >= 0.4 ms to keep its onset whole.
    Returns: (int((delay_s + duration_s) · fs), 2) sound pressure (Pa), left and right ear.
    """
    az = float(_check_azimuth(azimuth_deg))
    fs = float(fs)
    if kind not in ("tone", "noise"):
        raise ValueError(f'kind must be "tone" or "noise", got {kind!r}')
    if not 0 < freq_hz < fs / 2:
        raise ValueError(f"freq_hz must lie between 0 and fs/2 = {fs / 2:.0f} Hz, got {freq_hz!r}")
    n = _stimuli.n_samples(float(duration_s) + float(delay_s), fs)
    if n < 2 or delay_s < 0:
        raise ValueError(f"duration_s = {duration_s} s and delay_s = {delay_s} s give {n} samples at "
                         f"{fs:.0f} Hz; give a non-negative delay and a longer duration")
    rng = np.random.default_rng(seed)
    if phase is None:
        phase = rng.uniform(0.0, 2 * np.pi)
    t = np.arange(n) / fs
    delays = ear_delays(az, head_radius_m, speed_of_sound) + float(delay_s)
    levels = ear_levels(level_db_spl, az, ild_db_at_90)
    out = np.empty((n, 2))
    if kind == "tone":
        for ear in range(2):
            te = t - delays[ear]
            out[:, ear] = np.sqrt(2.0) * np.sin(2 * np.pi * freq_hz * te + phase)
    else:
        bw = freq_hz * (2 ** (1 / 6) - 2 ** (-1 / 6)) if bandwidth_hz is None else float(bandwidth_hz)
        pad = int(np.ceil((np.max(np.abs(delays)) + 1e-3) * fs))  # keeps the circular wrap out
        m = n + 2 * pad
        freqs, spec = _band_noise_spectrum(rng, m, fs, (freq_hz - bw / 2, freq_hz + bw / 2))
        steady = _delayed(freqs, spec, m, 0.0)
        scale = 1.0 / np.sqrt(np.mean(steady ** 2))
        for ear in range(2):
            out[:, ear] = scale * _delayed(freqs, spec, m, delays[ear])[pad:pad + n]
    for ear in range(2):
        out[:, ear] *= _stimuli.db_spl_to_pa(levels[ear]) * _ramp(t - delays[ear], float(duration_s), ramp_s)
    if snr_db is not None:
        noise_rms = _stimuli.db_spl_to_pa(level_db_spl - float(snr_db))
        out += diffuse_noise(n, fs, noise_rms, seed=rng.integers(2**63), band_hz=noise_band_hz,
                             head_radius_m=head_radius_m, speed_of_sound=speed_of_sound)
    return out
