"""connear_helpers.paper.backprop: the Fig. 8 use case with untrained (random) CoNNear models, quick sizes."""
import numpy as np
import pytest

pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from connear_helpers.paper import backprop  # noqa: E402


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """The quick run with the connear-lab weights missing -> untrained models and a message."""
    from connear_helpers.cnn import weights

    empty = tmp_path_factory.mktemp("no_weights")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(weights, "connear_lab_dir", lambda: empty)
        mp.setattr("connear_helpers.cnn.weights._LOADED", {})
        return backprop.run(weights="connear-lab", quick=True, progress=False)


@pytest.fixture(scope="module")
def random_models():
    import keras

    from connear_helpers.cnn import architectures as models

    keras.utils.set_random_seed(11)
    return {n: models.build_model(n, n_cf=1) for n in ("ihc", "anfh")}


def test_loss_decreases(quick_run):
    r = quick_run
    assert len(r.loss_history) == backprop.QUICK["steps"]
    assert all(np.isfinite(r.loss_history))
    assert r.loss_history[-1] < r.loss_history[0]
    assert r.loss_after < r.loss_before


def test_missing_weights_fall_back_to_untrained_models_with_a_message(quick_run):
    assert not quick_run.trained
    assert "not available" in quick_run.message and "UNTRAINED" in quick_run.message


def test_responses_fibre_counts_and_shapes(quick_run):
    r = quick_run
    n = backprop.QUICK["response_samples"]
    for a in (r.stimulus, r.processed, r.response_normal, r.response_before, r.response_after):
        assert a.shape == (n,) and np.all(np.isfinite(a))
    # same chain, same input: 10 fibres vs 8 fibres is exactly a factor 10/8
    np.testing.assert_allclose(r.response_normal * 8, r.response_before * 10, rtol=1e-6)
    # P changed the stimulus and hence the 8-fibre response
    assert not np.allclose(r.processed, r.stimulus)
    assert not np.allclose(r.response_after, r.response_before)
    assert r.time_s[-1] == pytest.approx((n - 1) / 20_000)


def test_evaluation_stimulus_is_the_papers_70db_sam_tone_in_ihc_input_units(quick_run):
    r = quick_run
    # 4-kHz carrier, 100-Hz envelope starting at zero, 70 dB SPL RMS (spec §4.12)
    assert 20 * np.log10(np.sqrt(np.mean(r.stimulus**2)) / 2e-5) == pytest.approx(70.0, abs=0.05)
    spec = np.abs(np.fft.rfft(r.stimulus))
    freqs = np.fft.rfftfreq(r.stimulus.size, 1 / 20_000)
    assert freqs[np.argmax(spec)] == pytest.approx(4000.0, abs=20)


def test_stimulus_amplitude_matches_the_papers_source_data(shared_dir):
    """The Fig. 8 source data: the 70-dB SAM stimulus peaks at about 0.14 in IHC-input units."""
    data = np.genfromtxt(shared_dir / "paper_sourcedata" / "Figure8" / "stim_SAM_4000.00Hz.csv",
                         delimiter=",", skip_header=1)[:, 1]
    x, conditions = backprop.training_stimuli([70.0], [1.0], 1024)
    assert conditions == [(70.0, 1.0)]
    ours = np.abs(x[0, :, 0]).max()
    paper = np.abs(data).max()
    assert ours == pytest.approx(paper, rel=0.05)


def test_training_stimuli_layout():
    x, conditions = backprop.training_stimuli([50.0, 70.0], [0.5, 1.0], 512)
    assert x.shape == (4, 16384, 1) and x.dtype == np.float32
    assert conditions == [(50.0, 0.5), (50.0, 1.0), (70.0, 0.5), (70.0, 1.0)]
    left = backprop.LEFT_CONTEXT
    assert np.all(x[:, :left] == 0) and np.all(x[:, left + 512:] == 0)
    assert np.all(np.abs(x[:, left:left + 512]).max(axis=1) > 0)
    with pytest.raises(ValueError, match="response_samples"):
        backprop.training_stimuli([70.0], [1.0], 9000)


def test_processing_network_starts_as_the_identity():
    p = backprop.processing_network(n_layers=3, n_filters=4, kernel_size=8)
    x = np.random.default_rng(0).standard_normal((2, 256, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(p(x)), x, atol=1e-7)
    assert len(p.trainable_variables) == 6


def test_fig8_loss():
    t = np.random.default_rng(1).random((2, 64, 1)).astype(np.float32)
    assert float(backprop.fig8_loss(t, t)) == pytest.approx(0.0, abs=1e-5)
    # a constant offset c: time term c, spectral term |c| in the DC bin only (|rfft|/N), averaged over 33 bins
    c = 0.5
    assert float(backprop.fig8_loss(t + c, t, spectral_weight=0.0)) == pytest.approx(c, rel=1e-5)
    both = float(backprop.fig8_loss(t + c, t, spectral_weight=1.0))
    assert both == pytest.approx(c + c / 33, rel=1e-3)


def test_training_never_changes_the_frozen_models(random_models):
    ihc, anf = random_models["ihc"], random_models["anfh"]
    before = [w.numpy().copy() for w in ihc.weights + anf.weights]
    x, _ = backprop.training_stimuli([70.0], [1.0], 256)
    p, history, lb, la = backprop.train(ihc, anf, x, steps=2, batch_size=1, response_samples=256, progress=False)
    after = [w.numpy() for w in ihc.weights + anf.weights]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert len(history) == 2 and np.isfinite(lb) and np.isfinite(la)
    with pytest.raises(ValueError, match="shape"):
        backprop.train(ihc, anf, x[:, :8192], steps=1, progress=False)


def test_fig8_returns_figure_and_numbers(quick_run):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = backprop.plot(quick_run)
    assert "UNTRAINED" in fig._suptitle.get_text()
    assert len(fig.axes) == 3
    table = backprop.table(quick_run)
    n = backprop.QUICK["response_samples"]
    assert table["time_ms"].shape == (n,) and table["batch_loss"].shape == (backprop.QUICK["steps"],)
    assert "rate_10fibres_unprocessed_spikes_per_s" in table and "rate_8fibres_processed_spikes_per_s" in table
    plt.close(fig)


def test_run_argument_checks(random_models):
    with pytest.raises(ValueError, match="n_pathological"):
        backprop.run(weights=random_models, quick=True, n_pathological=12, progress=False)


def test_figure_run_adapter_passes_weights_and_quick(monkeypatch):
    seen = {}
    monkeypatch.setattr(backprop, "fig8", lambda **kw: seen.update(kw) or ("fig", "table"))
    assert backprop.fig8_backpropagation("official", quick=True, mode="full", cache=None) == ("fig", "table")
    assert seen == {"weights": "official", "quick": True, "progress": False}
