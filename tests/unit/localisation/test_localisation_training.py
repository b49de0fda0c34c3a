"""Training and evaluation: known answers of the metrics, learning on the abstract input, the same
seed giving the same training, Dale's law kept through training."""
import numpy as np
import pytest

from connear_helpers.localisation import binaural, inputs, snn, training


class _OneHotSource:
    """A stand-in input whose spikes spell out the class of the value, so a stand-in network
    that reads them chooses the true class."""

    n_classes = 12
    value_name = "azimuth"

    def __init__(self, values):
        self.values = np.asarray(values, dtype=float)

    def batches(self, rng, n_samples, batch_size):
        for i in range(0, self.values.size, batch_size):
            v = self.values[i:i + batch_size]
            x = np.zeros((v.size, 1, 12), dtype=np.float32)
            x[np.arange(v.size), 0, binaural.to_class(v)] = 1.0
            yield x, v


class _Reader:
    def __init__(self, shift=0):
        self.shift = shift

    def scores(self, x):
        return np.roll(x[:, 0, :], self.shift, axis=1)


def test_metrics_known_answers():
    values = np.array([-89.0, -80.0, -10.0, 0.5, 44.0, 89.0])
    perfect = training.evaluate(_Reader(), _OneHotSource(values), n_samples=6)
    assert perfect.accuracy == 1.0
    expected = np.abs(values - np.array([-82.5, -82.5, -7.5, 7.5, 37.5, 82.5])).mean()
    assert perfect.mae_deg == pytest.approx(expected)
    np.testing.assert_array_equal(np.diag(perfect.confusion)[[0, 5, 6, 8, 11]], [2, 1, 1, 1, 1])
    off_by_one = training.evaluate(_Reader(shift=1), _OneHotSource(values[1:5]), n_samples=4)
    assert off_by_one.accuracy == 0.0
    # every estimate one class (15 degrees) to the right of the true class
    assert off_by_one.mae_deg == pytest.approx(np.abs(values[1:5] - np.array([-67.5, 7.5, 22.5, 52.5])).mean())
    assert off_by_one.confusion[0, 1] == 1 and off_by_one.confusion.sum() == 4
    assert perfect.chance == pytest.approx(1 / 12)


def _small_training(seed, dale_ratio=None, epochs=2):
    src = inputs.AbstractIPDInput(n_fibres_per_ear=20, duration_s=0.05)
    net = snn.NetworkConfig(n_hidden=8, seed=seed, dale_ratio=dale_ratio)
    return training.train(src, net, training.TrainingConfig(epochs=epochs, batches_per_epoch=3, batch_size=16,
                                                            seed=seed), progress=False), src


@pytest.fixture(scope="module")
def small_run():
    return _small_training(seed=3)


def test_same_seed_same_training_other_seed_other_weights(small_run):
    a, src = small_run
    b, _ = _small_training(seed=3)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.accuracy, b.accuracy)
    for wa, wb in zip(a.network.weights(), b.network.weights()):
        np.testing.assert_array_equal(wa, wb)
    other = snn.build_network(src.n_inputs, src.n_steps, src.dt, snn.NetworkConfig(n_hidden=8, seed=4))
    same = snn.build_network(src.n_inputs, src.n_steps, src.dt, snn.NetworkConfig(n_hidden=8, seed=3))
    assert not np.allclose(other.weights()[0], same.weights()[0])
    assert not np.allclose(same.weights()[0], a.network.weights()[0])  # training changed the weights


def test_figures_and_output_panel(small_run):
    import matplotlib

    matplotlib.use("Agg")
    from connear_helpers.localisation import panels, plots

    res, src = small_run
    ev = training.evaluate(res, src, n_samples=64, seed=1)
    fig, numbers = plots.training_curves({"abstract": res})
    np.testing.assert_array_equal(numbers["abstract loss"], res.loss)
    fig, numbers = plots.confusion_matrices({"abstract": ev})
    assert numbers["abstract confusion (counts)"].sum() == 64
    fig, numbers = panels.update_output({"abstract": (res.network, src)}, "abstract", azimuth_deg=-40.0, seed=2)
    assert numbers["probability"].sum() == pytest.approx(1.0)
    scores = numbers["output"].max(axis=0)
    assert numbers["chosen_deg"] == binaural.class_centres()[np.argmax(scores)]
    assert numbers["hidden_spikes"].shape == (src.n_steps, 8)
    with pytest.raises(ValueError, match="choose one of"):
        panels.update_output({"abstract": (res.network, src)}, "ears")
    snr = {"snr_db": np.array([0.0, np.nan]), "accuracy": np.array([0.2, 0.5]), "mae_deg": np.array([30.0, 9.0])}
    freq = {"freq_hz": np.array([350.0, 500.0]), "accuracy": np.array([0.1, 0.5]), "mae_deg": np.array([40.0, 9.0])}
    fig, numbers = plots.robustness(snr, freq, trained_freq_hz=500.0)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["+0", "clean"]
    import matplotlib.pyplot as plt

    plt.close("all")


def test_dale_law_holds_after_training():
    res, _ = _small_training(seed=1, dale_ratio=0.75, epochs=1)
    w_in, w_out = res.network.weights()
    assert np.all(w_in >= 0)  # auditory-nerve inputs are excitatory
    assert np.all(w_out[:6] >= 0) and np.all(w_out[6:] <= 0)  # 6 excitatory, 2 inhibitory units
    assert np.any(w_out[:6] > 0) and np.any(w_out[6:] < 0)


def test_abstract_input_is_learned_well_above_chance():
    """Two short epochs on the teaching notebook's input already beat chance (8.3 %) threefold
    (36 % and 13 degrees here; the full 150 epochs give 83 %, benchmarks/bench_snn_localisation.py)."""
    src = inputs.AbstractIPDInput()
    res = training.train(src, training=training.TrainingConfig(epochs=2, batches_per_epoch=24, batch_size=64),
                         progress=False)
    assert res.loss[-1] < res.loss[0] < np.log(12) + 0.5
    ev = training.evaluate(res, src, n_samples=512, seed=99)
    assert ev.accuracy > 0.25 and ev.mae_deg < 25.0
    assert ev.confusion.sum() == 512
