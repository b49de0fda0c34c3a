"""encoding.fit on synthetic LN neurons whose STRFs are known: recovery, data and regularisation,
LN against Linear, CCnorm <= 1, and repeatability with a seed.

Data: smoothed Gaussian inputs (encoding_testdata), 3 synthetic LN neurons (50-ms STRFs, sigmoid
output, 5-150 spikes/s), 5 Poisson repeats; 20 test stimuli of 1 s held out.
"""
import numpy as np
import pytest

import encoding_testdata as td
from connear_helpers import encoding

N_SMALL, N_LARGE = 20, 100


@pytest.fixture(scope="module")
def data():
    syn = td.neurons()
    x = td.gaussian_inputs(N_LARGE, 1)
    x_test = td.gaussian_inputs(20, 9)
    return {"syn": syn, "x": x, "train": syn.responses(x, n_repeats=5, seed=3),
            "x_test": x_test, "test": syn.responses(x_test, n_repeats=5, seed=4)}


def _fit(data, n, model="linear", l2=0.0, seed=0, epochs=300, **kw):
    m = encoding.build_model(model, data["syn"].strfs.shape[1], td.F, 3, l2=l2, seed=seed, **kw)
    result = encoding.fit(m, data["x"][:n], data["train"].repeats[:n], seed=seed, learning_rate=1e-2,
                          epochs=epochs)
    pred = encoding.predict(m, data["x_test"])
    return {"model": m, "fit": result, "strf_r": encoding.strf_correlation(data["syn"].strfs, m.strfs()),
            "scores": encoding.score(pred, data["test"].repeats), "pred": pred}


@pytest.fixture(scope="module")
def fits(data):
    return {
        "small": _fit(data, N_SMALL),
        "small_l2": _fit(data, N_SMALL, l2=0.1),
        "large": _fit(data, N_LARGE),
        "large_l2": _fit(data, N_LARGE, l2=0.03),
        "ln_large_l2": _fit(data, N_LARGE, "ln", l2=0.03),
    }


def test_linear_recovers_the_strf_with_enough_data(fits):
    # 100 s of input, 5 repeats, a mild penalty: r >= 0.9 for every neuron (measured 0.94-0.96)
    assert np.all(fits["large_l2"]["strf_r"] >= 0.9), fits["large_l2"]["strf_r"]


def test_more_data_raises_the_strf_correlation(fits):
    # 20 -> 100 stimuli without penalty: measured 0.77 -> 0.89
    assert np.all(fits["large"]["strf_r"] > fits["small"]["strf_r"] + 0.05), \
        (fits["small"]["strf_r"], fits["large"]["strf_r"])


def test_regularisation_raises_the_strf_correlation_on_little_data(fits):
    # 20 stimuli, l2 0 -> 0.1: measured 0.77 -> 0.93 (correlated inputs need the penalty)
    assert np.all(fits["small_l2"]["strf_r"] > fits["small"]["strf_r"] + 0.05), \
        (fits["small"]["strf_r"], fits["small_l2"]["strf_r"])


def test_ln_scores_a_higher_held_out_cc_than_linear_on_ln_neurons(fits):
    lin, ln = fits["large_l2"]["scores"], fits["ln_large_l2"]["scores"]
    # measured CC 0.66 (Linear) and 0.70-0.72 (LN); the difference is far above the jackknife SE (~0.013)
    assert np.all(ln.cc > lin.cc + 0.02), (lin.cc, ln.cc)


def test_held_out_ccnorm_is_at_most_one_within_its_error(fits, data):
    for key in ("large_l2", "ln_large_l2"):
        s = fits[key]["scores"]
        assert np.all(np.isfinite(s.ccnorm)) and np.all(s.ccnorm_se > 0)
        assert np.all(s.ccnorm <= 1.0 + 2.5 * s.ccnorm_se), (key, s.ccnorm, s.ccnorm_se)
        assert np.all(s.ccnorm > 0.8)  # and the fits are good (the LN is the true model class)
    # the true rate is a perfect model: CCnorm = 1 within its error
    truth = encoding.score(data["test"].rates, data["test"].repeats)
    assert np.all(np.abs(truth.ccnorm - 1.0) <= 3 * truth.ccnorm_se), (truth.ccnorm, truth.ccnorm_se)


def test_early_stopping_keeps_the_best_validation_epoch(fits):
    r = fits["large"]["fit"]
    assert r.stopped_early and r.epochs_run == r.best_epoch + 20  # patience 20
    assert r.validation_loss[r.best_epoch - 1] == pytest.approx(r.validation_loss.min())
    assert len(r.validation_index) == 20 and len(r.train_index) == 80
    assert not set(r.validation_index) & set(r.train_index)


def test_a_fixed_seed_gives_identical_numbers_and_another_seed_differs_only_within_noise(data):
    a = _fit(data, N_SMALL, seed=5, epochs=15)
    b = _fit(data, N_SMALL, seed=5, epochs=15)
    c = _fit(data, N_SMALL, seed=6, epochs=15)
    assert np.array_equal(a["pred"], b["pred"])
    assert np.array_equal(a["model"].strfs(), b["model"].strfs())
    assert np.array_equal(a["fit"].validation_index, b["fit"].validation_index)
    assert not np.array_equal(a["pred"], c["pred"])
    # another seed (initial weights, split, batch order) moves the scores by much less than the
    # differences the tests above rely on
    assert np.all(np.abs(a["scores"].cc - c["scores"].cc) < 0.03)
    assert np.all(np.abs(a["strf_r"] - c["strf_r"]) < 0.1)


def test_poisson_loss_is_refused_for_a_model_that_can_predict_negative_rates(data):
    m = encoding.Linear(10, td.F, 3)
    with pytest.raises(ValueError, match="negative rates"):
        encoding.fit(m, data["x"][:4], data["train"].repeats[:4], loss="poisson")
    with pytest.raises(ValueError, match="n_stimuli, n_bins, F"):
        encoding.fit(m, data["x"][:4, :, :5], data["train"].repeats[:4])
    with pytest.raises(ValueError, match="at least 2 stimuli"):
        encoding.fit(m, data["x"][:1], data["train"].repeats[:1])
    x, y = data["x"][:4].copy(), data["train"].repeats[:4].copy()
    x[0, 3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or inf; check the front end"):
        encoding.fit(m, x, y)
    y[1, 0, 5, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf; remove or replace"):
        encoding.fit(m, data["x"][:4], y)
    with pytest.raises(ValueError, match="matching the inputs"):
        encoding.fit(m, data["x"][:4], data["train"].repeats[:4, :, :100])
    with pytest.raises(ValueError, match="model has O = 3"):
        encoding.fit(m, data["x"][:4], data["train"].repeats[:4, ..., :2])
    with pytest.raises(ValueError, match="loss must be one of"):
        encoding.fit(m, data["x"][:4], data["train"].repeats[:4], loss="huber")


@pytest.mark.parametrize("name", ["nrf", "dnet", "cnn2d"])
def test_network_models_learn_the_ln_neurons(data, name):
    # 40 s of training data; the true model reaches CC ~0.71 on the test set
    m = encoding.build_model(name, 10, td.F, 3, seed=0, **({"channels": (4,)} if name == "cnn2d" else {}))
    encoding.fit(m, data["x"][:40], data["train"].repeats[:40], learning_rate=1e-2, epochs=60, patience=10)
    cc = encoding.score(encoding.predict(m, data["x_test"]), data["test"].repeats).cc
    assert np.all(cc > 0.5), cc
