"""The network's inputs: the teaching notebook's abstract spikes, and the two ears through the reference model.

The periphery tests run the reference model on short sounds at 3 CFs (a few seconds of CPU),
with a cache in a temporary folder.
"""
import dataclasses

import numpy as np
import pytest

from connear_helpers import pipeline
from connear_helpers.localisation import binaural, inputs


# ------------------------------------------------------------------------------------------
# abstract input


def test_abstract_rates_are_the_teaching_notebooks_formula():
    src = inputs.AbstractIPDInput()
    assert (src.n_inputs, src.n_steps, src.dt) == (200, 100, 1e-3)
    ipd = np.array([-60.0, 0.0, 45.0])
    r = src.rates(ipd, 0.3)
    t = np.arange(100) * 1e-3
    delays = np.linspace(0, np.pi / 2, 100)
    for b, d in enumerate(np.deg2rad(ipd)):
        phi = 2 * np.pi * (20 * t + 0.3)
        left = 600 * (0.5 * (1 + np.sin(phi[:, None] + delays))) ** 2
        right = 600 * (0.5 * (1 + np.sin(phi[:, None] + delays - d))) ** 2
        np.testing.assert_allclose(r[b], np.concatenate([left, right], axis=1), atol=1e-3)


def test_abstract_spikes_have_the_rates_and_uniform_ipds():
    src = inputs.AbstractIPDInput()
    rng = np.random.default_rng(0)
    x, ipd = src.sample(rng, 512)
    assert x.dtype == np.float32 and set(np.unique(x)) <= {0.0, 1.0}
    assert ipd.min() >= -90 and ipd.max() <= 90
    counts = np.bincount(binaural.to_class(ipd), minlength=12)
    assert counts.min() > 20  # every class drawn (expected 42.7 each)
    # mean rate of (1 + sin)^2 / 4 is 3/8 of the peak: 225 spikes/s
    assert x.mean() / src.dt == pytest.approx(225.0, rel=0.02)


# ------------------------------------------------------------------------------------------
# the ears (reference model)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return pipeline.SimulationCache(directory=tmp_path_factory.mktemp("sims"))


@pytest.fixture(scope="module")
def config():
    return inputs.PeripheryConfig(cf_hz=(450.0, 540.0, 640.0), fibres=("anfh", "anfl"), n_fibres=4,
                                  window_s=0.012, window_start_s=0.004)


@pytest.fixture(scope="module")
def bank(config, cache):
    return inputs.ToneBankInput(config, n_phases=1, seed=0, cache=cache)


def test_config_layout_and_sizes(config):
    assert config.n_inputs == 2 * 2 * 3 * 4
    assert config.n_steps == 240  # 12 ms at 0.05 ms
    np.testing.assert_allclose(config.cf_hz, [453.9, 540.1, 638.8], atol=0.1)  # nearest CoNNear CFs
    labels = config.input_labels()
    assert labels[0] == ("left", "anfh", config.cf_hz[0], 0)
    assert labels[-1] == ("right", "anfl", config.cf_hz[-1], 3)
    with pytest.raises(ValueError, match="whole multiple of 0.05 ms"):
        inputs.PeripheryConfig(dt=0.07e-3)


@pytest.mark.parametrize("azimuth", [60.0, -85.0])
def test_tone_bank_equals_simulating_the_delayed_ears(config, bank, cache, azimuth):
    """The shift-invariance shortcut against the two ears' own simulations (the same phase)."""
    x = config.stimulus(azimuth, phase=bank.phases[0])
    r20, note = inputs.ear_rates(x, config, cache=cache)
    assert note is None
    jitter = 0.4
    shortcut = bank.rates(np.array([azimuth]), np.array([0]), np.array([jitter]))[0]
    start = inputs.LEAD_S + config.window_start_s + jitter / config.freq_hz
    # the simulated rates read at the same (fractional) start, by band-limited interpolation
    from scipy.signal import resample_poly

    up = resample_poly(r20, inputs.UPSAMPLE, 1, axis=0)
    i0 = int(round(start * inputs.FS_ANF * inputs.UPSAMPLE))
    direct = up[i0:i0 + inputs.UPSAMPLE * config.n_steps:inputs.UPSAMPLE]
    rel = np.sqrt(np.mean((shortcut - direct) ** 2) / np.mean(direct ** 2))
    assert rel < 0.01
    # ... while ignoring the ITD would be far off
    no_itd = bank.rates(np.array([0.0]), np.array([0]), np.array([jitter]))[0]
    assert np.sqrt(np.mean((no_itd - direct) ** 2) / np.mean(direct ** 2)) > 0.2


def test_ears_phase_lock_and_carry_the_ipd(config, cache):
    """At the CF of the tone, the right ear's 500-Hz phase leads the left's by 2π f ITD."""
    az = 45.0
    x = config.stimulus(az, seed=3)
    r, _ = inputs.ear_rates(x, config, cache=cache)
    t = np.arange(r.shape[0]) / inputs.FS_ANF
    steady = t > 0.006
    e = np.exp(-2j * np.pi * 500.0 * t[steady])
    z = (r[steady] * e[:, None]).sum(axis=0)
    vs = np.abs(z) / r[steady].sum(axis=0)
    hsr_540_left, hsr_540_right = 1, 7  # (ear, type, CF) layout: left HSR 540 Hz, right HSR 540 Hz
    assert vs[hsr_540_left] > 0.6 and vs[hsr_540_right] > 0.6  # phase locking of HSR fibres
    ipd = np.angle(z[hsr_540_right] * np.conj(z[hsr_540_left]))
    assert np.rad2deg(ipd) == pytest.approx(360 * 500 * binaural.woodworth_itd(az), abs=1.0)
    # rates are spikes/s of one fibre: HSR well above LSR
    assert r[steady, 1].mean() > 2 * r[steady, 4].mean() > 0


def test_presentation_set_draws_classes_evenly_and_is_cached(config, cache):
    short = dataclasses.replace(config, cf_hz=(540.0,), window_s=0.002, window_start_s=0.0, n_classes=4)
    misses = cache.misses
    ps = inputs.PresentationSet(short, n_presentations=8, seed=4, cache=cache)
    assert np.bincount(binaural.to_class(ps.azimuths_deg, 4), minlength=4).tolist() == [2] * 4
    first = cache.misses - misses
    assert first > 0
    again = inputs.PresentationSet(short, n_presentations=8, seed=4, cache=cache)
    assert cache.misses - misses == first  # everything came from the cache the second time
    np.testing.assert_array_equal(again.rates20, ps.rates20)
    x, az = next(ps.batches(np.random.default_rng(0), batch_size=8))
    assert x.shape == (8, short.n_steps, short.n_inputs)
    np.testing.assert_array_equal(az, ps.azimuths_deg)


def test_connear_without_weights_falls_back_to_the_reference_and_says_so(config, cache, tmp_path, monkeypatch):
    cfg = dataclasses.replace(config, model="connear", weights=str(tmp_path / "no_weights_here"))
    x = config.stimulus(45.0, seed=3)  # simulated (and cached) by the test above
    r, note = inputs.ear_rates(x, cfg, cache=cache)
    ref, none = inputs.ear_rates(x, config, cache=cache)
    assert none is None and note and "reference" in note
    np.testing.assert_allclose(r, ref)


def test_stimulus_figure_shows_the_sound_and_spikes_of_the_chosen_azimuth(config, bank):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from connear_helpers.localisation import panels

    fig, n = panels.update_stimulus(bank, azimuth_deg=60.0, seed=1)
    assert n["itd_us"] == pytest.approx(binaural.woodworth_itd(60.0) * 1e6)
    t = np.arange(n["left_pa"].size) / inputs.FS_SOUND
    e = np.exp(-2j * np.pi * 500.0 * t)
    lead = np.angle(np.sum(n["right_pa"] * e) * np.conj(np.sum(n["left_pa"] * e))) / (2 * np.pi * 500.0)
    assert lead == pytest.approx(binaural.woodworth_itd(60.0), abs=1e-6)  # the right ear leads
    assert n["spikes"].shape == (config.n_steps, config.n_inputs) and n["spikes"].sum() > 0
    best = [i for i, lab in enumerate(n["input_labels"]) if lab[2] == config.cf_hz[1]]  # 540 Hz, both ears
    assert n["phase_hist_left"].sum() + n["phase_hist_right"].sum() == n["spikes"][:, best].sum()
    assert all(a.get_xlabel() and a.get_ylabel() for a in fig.axes)
    plt.close(fig)


def test_ild_makes_the_nearer_ear_fire_more(config, cache):
    """With an ILD the bank simulates one tone per ear level (0.5-dB grid); at +90 degrees the
    right ear hears the tone 1 dB louder than the centre, the left 1 dB softer, and its LSR
    fibres (not saturated at 60 dB) fire more."""
    cfg = dataclasses.replace(config, cf_hz=(540.0,), fibres=("anfl",), ild_db_at_90=2.0)
    bank = inputs.ToneBankInput(cfg, n_phases=1, seed=0, cache=cache)
    np.testing.assert_allclose(bank.levels_db_spl, [59.0, 59.5, 60.0, 60.5, 61.0])
    r = bank.rates(np.array([90.0, 0.0]), np.array([0, 0]), np.array([0.0, 0.0]))  # (2, T, 2 ears)
    left, right = r[0].mean(axis=0)
    assert right > 1.05 * left
    centre_left, centre_right = r[1].mean(axis=0)
    assert centre_left == pytest.approx(centre_right, rel=1e-6)
    assert left < centre_left < right
