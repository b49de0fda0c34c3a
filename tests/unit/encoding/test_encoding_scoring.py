"""encoding.scoring: CC, the split-half CCmax, CCnorm (two methods) and their errors, on Poisson
responses to a known rate, where the answers are known."""
import numpy as np
import pytest

from connear_helpers import encoding
from connear_helpers.encoding.targets import poisson_repeats

DT = 0.005


@pytest.fixture(scope="module")
def known():
    """Known rates (3 neurons of different reliability), 20 stimuli x 200 bins, 10 repeats."""
    rng = np.random.default_rng(1)
    from scipy.ndimage import gaussian_filter1d

    drive = gaussian_filter1d(rng.standard_normal((20, 200, 3)), 2.0, axis=1)
    drive /= drive.std()
    rates = np.array([20.0, 60.0, 200.0]) * np.exp(0.6 * drive)
    repeats = poisson_repeats(rates, DT, 10, seed=2)
    return rates, repeats


def test_correlation_known_answers():
    a = np.arange(10.0)[:, None] * [1.0, -2.0]
    assert np.allclose(encoding.correlation(a, a[:, [0, 0]] + 3), [1.0, -1.0])
    x = np.random.default_rng(0).standard_normal((5000, 1))
    y = 0.6 * x + 0.8 * np.random.default_rng(1).standard_normal((5000, 1))
    assert encoding.correlation(x, y)[0] == pytest.approx(0.6, abs=0.03)
    assert np.isnan(encoding.correlation(np.ones((5, 1)), x[:5])[0])


def test_split_half_cc_max_is_the_correlation_of_the_mean_response_with_the_true_rate(known):
    rates, repeats = known
    truth = encoding.correlation(rates, repeats.mean(axis=1))  # what a perfect model scores
    est = encoding.cc_max(repeats)
    assert np.all(np.abs(est - truth) < 0.03), (est, truth)
    assert est[0] < est[1] < est[2]  # more spikes, more reliable


def test_ccnorm_of_the_true_rate_is_one_within_its_error_for_both_methods(known):
    rates, repeats = known
    for method in ("split_half", "signal_power"):
        s = encoding.score(rates, repeats, method=method)
        assert np.all(np.abs(s.ccnorm - 1.0) <= 3 * s.ccnorm_se), (method, s.ccnorm, s.ccnorm_se)
        assert np.all(s.ccnorm_se < 0.05)
    # and the two methods agree with each other
    a = encoding.ccnorm(rates, repeats, "split_half")
    b = encoding.ccnorm(rates, repeats, "signal_power")
    assert np.all(np.abs(a - b) < 0.03)


def test_ccnorm_of_a_degraded_prediction_is_its_correlation_with_the_true_rate(known):
    rates, repeats = known
    noisy = rates + np.random.default_rng(5).standard_normal(rates.shape) * rates.std(axis=(0, 1))
    expected = encoding.correlation(noisy, rates)  # CCnorm estimates corr(prediction, true rate)
    got = encoding.score(noisy, repeats)
    assert np.all(np.abs(got.ccnorm - expected) <= 3 * got.ccnorm_se + 0.01), (got.ccnorm, expected)
    assert np.all(got.cc < got.ccnorm)


def test_odd_repeat_counts_and_fewer_stimuli_use_the_same_formula(known):
    rates, repeats = known
    s = encoding.score(rates[:3], repeats[:3, :7])  # 3 stimuli: the jackknife uses time blocks
    assert np.all(np.abs(s.ccnorm - 1.0) <= 3 * s.ccnorm_se)


def test_without_repeats_ccnorm_is_nan_and_one_repeat_is_refused(known):
    rates, repeats = known
    s = encoding.score(rates, repeats.mean(axis=1))
    assert np.all(np.isnan(s.ccnorm)) and np.all(np.isfinite(s.cc))
    with pytest.raises(ValueError, match="at least 2 repeats"):
        encoding.ccnorm(rates, repeats[:, :1])
    with pytest.raises(ValueError, match="do not match"):
        encoding.score(rates[:, :100], repeats)


def test_strf_correlation_pads_extra_lags_with_zeros():
    w = np.random.default_rng(0).standard_normal((2, 4, 5))
    longer = np.concatenate([w, np.zeros((2, 3, 5))], axis=1)
    assert np.allclose(encoding.strf_correlation(w, longer), 1.0)
    assert np.allclose(encoding.strf_correlation(w, -2 * w), -1.0)
