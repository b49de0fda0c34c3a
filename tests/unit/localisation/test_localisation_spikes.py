"""Poisson spike trains: mean rates, the refractory period, seeds."""
import numpy as np
import pytest

from connear_helpers.localisation.spikes import poisson_spikes

DT = 5e-5


def test_mean_rate_follows_the_rate_within_binomial_error():
    rates = np.array([0.0, 50.0, 400.0, 1500.0])[None, None, :].repeat(20000, axis=1)  # 1 s
    s = poisson_spikes(rates, DT, n_fibres=10, rng=np.random.default_rng(0))
    assert s.shape == (1, 20000, 40) and s.dtype == np.float32
    measured = s.reshape(20000, 4, 10).sum(axis=(0, 2)) / (10 * 20000 * DT)
    expected = rates[0, 0]
    sd = np.sqrt(expected * DT * 20000 * 10) / (10 * 20000 * DT)  # Poisson count error
    assert measured[0] == 0.0
    assert np.all(np.abs(measured[1:] - expected[1:]) < 4 * sd[1:])


def test_time_varying_rate_is_followed_sample_by_sample():
    t = np.arange(4000) * DT
    rate = 500.0 * (1 + np.sin(2 * np.pi * 500 * t))  # phase-locked at 500 Hz
    s = poisson_spikes(rate[None, :, None], DT, n_fibres=500, rng=np.random.default_rng(1))[0]
    counts = s.sum(axis=1)
    vs = np.abs(np.sum(counts * np.exp(2j * np.pi * 500 * t))) / counts.sum()
    assert vs == pytest.approx(0.5, abs=0.02)  # vector strength of 1 + sin is 1/2


def test_refractory_period_is_respected_and_keeps_the_mean_rate():
    rates = np.full((2, 40000, 1), 200.0)  # 2 s at 200 spikes/s
    s = poisson_spikes(rates, DT, n_fibres=20, rng=np.random.default_rng(2), refractory_s=1e-3)
    for trial in range(2):
        for j in range(20):
            times = np.flatnonzero(s[trial, :, j]) * DT
            assert np.min(np.diff(times)) >= 1e-3 - 1e-9
    rate = s.sum() / (2 * 20 * 40000 * DT)
    assert rate == pytest.approx(200.0, rel=0.04)
    plain = poisson_spikes(rates, DT, n_fibres=20, rng=np.random.default_rng(2))
    isi = np.concatenate([np.diff(np.flatnonzero(plain[0, :, j])) for j in range(20)]) * DT
    assert np.mean(isi < 1e-3) > 0.1  # without it, a fifth of the intervals are that short


def test_same_seed_same_spikes_and_errors_say_what_to_give():
    r = np.full((2, 100, 3), 300.0)
    a = poisson_spikes(r, DT, 4, np.random.default_rng(5))
    b = poisson_spikes(r, DT, 4, np.random.default_rng(5))
    c = poisson_spikes(r, DT, 4, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert np.any(a != c)
    with pytest.raises(ValueError, match="n_trials, n_steps, n_channels"):
        poisson_spikes(r[0], DT, 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="non-negative"):
        poisson_spikes(-r, DT, 4, np.random.default_rng(0))
