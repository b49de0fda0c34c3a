"""Ridge regression with nested cross-validation, split-half reliability and the bootstrap median."""
import numpy as np
import pytest

from connear_helpers import stages


def test_a_target_predicted_from_itself_without_noise_has_explained_variance_one():
    X = np.random.default_rng(0).standard_normal((40, 8))
    r = stages.regress(X, X)
    np.testing.assert_allclose(r.explained_variance, 1.0, atol=1e-3)
    # a linear read-out of the units is recovered as well
    W = np.random.default_rng(1).standard_normal((8, 5))
    assert np.min(stages.regress(X, X @ W).explained_variance) > 1 - 1e-3


def test_pure_noise_is_not_explained():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 10))
    r = stages.regress(X, rng.standard_normal((40, 60)))
    assert r.median <= 0.05
    assert r.ci[1] <= 0.05  # the whole bootstrap interval of the median stays below 0.05
    assert np.isnan(r.median_corrected) and r.corrected is None


def test_noise_corrected_explained_variance_of_a_linear_read_out_is_close_to_one():
    X = np.random.default_rng(3).standard_normal((60, 6))
    t = stages.synthetic_targets(X, n_targets=100, reliability=0.8, n_repeats=4, seed=4)
    r = stages.regress(X, t.responses)
    # the reliability of the mean of 4 repeats: Spearman-Brown of 0.8 = 0.889
    assert np.median(r.reliability) == pytest.approx(stages.spearman_brown(0.8), abs=0.03)
    assert r.median < 0.92  # the raw value is held down by the noise ...
    assert r.median_corrected == pytest.approx(1.0, abs=0.08)  # ... the corrected one is not
    assert r.ci_corrected[0] <= r.median_corrected <= r.ci_corrected[1]


def test_spearman_brown_and_split_half_reliability_known_answers():
    assert stages.spearman_brown(0.8) == pytest.approx(16 / 18)
    assert stages.spearman_brown(0.5, factor=3) == pytest.approx(0.75)
    rng = np.random.default_rng(5)
    s = rng.standard_normal((30, 3))
    same = np.repeat(s[:, :, None], 4, axis=2)  # identical repeats: perfectly reliable
    r_half, rel = stages.split_half_reliability(same)
    np.testing.assert_allclose(r_half, 1.0, atol=1e-12)
    np.testing.assert_allclose(rel, 1.0, atol=1e-12)
    # two repeats: a single split, the correlation of the two
    Y = rng.standard_normal((30, 2, 2))
    r_half, _ = stages.split_half_reliability(Y)
    np.testing.assert_allclose(r_half, [np.corrcoef(Y[:, j, 0], Y[:, j, 1])[0, 1] for j in range(2)], atol=1e-12)


def test_unreliable_targets_get_no_corrected_value():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((30, 4))
    noise_only = rng.standard_normal((30, 5, 2))
    r = stages.regress(X, noise_only, min_reliability=0.5)
    assert np.all(np.isnan(r.corrected[r.reliability < 0.5]))


def test_bootstrap_median_is_seeded_and_brackets_the_median():
    v = np.arange(101, dtype=float)
    med, (lo, hi) = stages.bootstrap_median(v, n_boot=500, seed=1)
    assert med == 50.0 and lo < 50.0 < hi
    assert stages.bootstrap_median(v, n_boot=500, seed=1) == (med, (lo, hi))
    assert np.isnan(stages.bootstrap_median([np.nan, np.nan])[0])


def test_same_seed_same_result_and_held_out_folds():
    rng = np.random.default_rng(7)
    X, Y = rng.standard_normal((25, 5)), rng.standard_normal((25, 3))
    a, b = stages.regress(X, Y, seed=3), stages.regress(X, Y, seed=3)
    np.testing.assert_array_equal(a.prediction, b.prediction)
    np.testing.assert_array_equal(a.explained_variance, b.explained_variance)
    assert a.alpha.shape == (5, 3) and np.all(a.alpha > 0)


def test_errors_say_what_was_expected():
    X = np.zeros((10, 3))
    with pytest.raises(ValueError, match="10 sounds.*targets have 9"):
        stages.regress(X, np.zeros((9, 2)))
    with pytest.raises(ValueError, match="n_folds"):
        stages.regress(X, np.zeros((10, 2)), n_folds=11)
    with pytest.raises(ValueError, match="repeats"):
        stages.split_half_reliability(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="NaN"):
        stages.regress(X, np.full((10, 2), np.nan))
