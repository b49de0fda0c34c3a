"""RDMs and RSA with the permutation test over sounds."""
import numpy as np
import pytest
from scipy import stats

from connear_helpers import stages


def test_rdm_known_answers():
    X = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [2.0, 4.0, 6.0]])
    d = stages.rdm(X, "correlation", center=False)
    assert d[0, 1] == pytest.approx(2.0)   # anti-correlated patterns
    assert d[0, 2] == pytest.approx(0.0)   # a pattern and its double
    P = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])
    np.testing.assert_allclose(stages.rdm(P, "euclidean"), [[0, 5, 4], [5, 0, 3], [4, 3, 0]], atol=1e-12)
    assert np.allclose(np.diag(stages.rdm(np.random.default_rng(0).random((5, 4)))), 0)


def test_rsa_of_a_representation_with_itself_and_with_a_rotation_is_one():
    X = np.random.default_rng(1).standard_normal((15, 6))
    assert stages.rsa(X, X, n_permutations=0).correlation == pytest.approx(1.0)
    Q, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((6, 6)))
    assert stages.rsa(X, X @ Q, "euclidean", n_permutations=0).correlation == pytest.approx(1.0)


def test_permutation_test_finds_a_true_correspondence():
    X = np.random.default_rng(3).standard_normal((20, 10))
    t = stages.synthetic_targets(X, n_targets=30, reliability=0.8, seed=4)
    res = stages.rsa(X, t.responses, "euclidean", n_permutations=999, seed=0)
    assert res.correlation > 0.5
    assert res.p_value < 0.01
    assert res.p_value == pytest.approx(1 / 1000)  # no relabelling comes close
    assert 0.5 < res.ceiling <= 1.0


def test_null_p_values_are_uniform():
    rng = np.random.default_rng(5)
    p = np.array([stages.rsa(rng.standard_normal((10, 4)), rng.standard_normal((10, 6)), n_permutations=199,
                             seed=k).p_value for k in range(300)])
    assert stats.kstest(p, "uniform").pvalue > 0.01
    # P(p <= 0.05) = 10/200 under the null: 300 draws stay within 99.9 % binomial bounds
    lo, hi = stats.binom.ppf([0.0005, 0.9995], 300, 0.05)
    assert lo <= np.sum(p <= 0.05) <= hi


def test_rsa_errors_and_seeds():
    X = np.random.default_rng(6).standard_normal((8, 3))
    with pytest.raises(ValueError, match="8 sounds.*Y has 7"):
        stages.rsa(X, X[:7])
    with pytest.raises(ValueError, match="metric"):
        stages.rdm(X, "cosine")
    a = stages.rsa(X, X[::-1].copy(), n_permutations=50, seed=1)
    b = stages.rsa(X, X[::-1].copy(), n_permutations=50, seed=1)
    np.testing.assert_array_equal(a.null, b.null)
