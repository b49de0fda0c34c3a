"""encoding.EncodingStudy end to end on the mel front end and synthetic neurons (no TL run), with
the table, the figures and the explorer panel; a missing CoNNear front end is left out with a note."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from connear_helpers import encoding  # noqa: E402

CF = np.geomspace(300.0, 6000.0, 10)


@pytest.fixture(scope="module")
def study():
    stim = encoding.stimulus_set(segment_s=0.5, n_sentences=0, n_tone_segments=6, n_noise_segments=6,
                                 speech_sample=True, fs=20_000.0, seed=1)
    return encoding.EncodingStudy(stim, CF, frontends=("mel",), targets=("synthetic",), n_synthetic=3,
                                  n_repeats=6, context_s=0.05, fit_options={"epochs": 80, "patience": 15,
                                                                            "learning_rate": 1e-2}, seed=0)


def test_study_holds_out_test_stimuli_and_builds_synthetic_targets(study):
    n = len(study.signals)
    assert n == 4 + 12  # speech sample: 4 whole segments of 0.5 s
    assert study.test_index.size == 4 and not set(study.test_index) & set(study.train_index)
    x, freqs, dt = study.inputs["mel"]
    assert x.shape == (n, 100, 10) and dt == 0.005
    assert np.allclose(freqs[[0, -1]], CF[[0, -1]], rtol=1e-9)  # mel centres span the CF range
    resp = study.responses("synthetic", "mel")
    assert resp.repeats.shape == (n, 6, 100, 3) and study.true_strfs("synthetic", "mel").shape == (3, 10, 10)
    with pytest.raises(KeyError, match="no target 'ic'"):
        study.responses("ic", "mel")


def test_compare_fits_scores_and_remembers(study):
    fitted = study.compare(("linear", "ln"), progress=False)
    assert [f.model_name for f in fitted] == ["linear", "ln"]
    for f in fitted:
        assert f.prediction.shape == (4, 100, 3)
        # 6 s of training sound on a speech/tone/noise mel input: the fits must be clearly informative
        assert np.all(f.scores.cc > 0.3) and np.all(f.strf_correlation > 0.5), (f.scores.cc, f.strf_correlation)
    assert study.fit("mel", "linear", "synthetic") is fitted[0]  # remembered, not refitted
    rows = study.table(fitted)
    text = encoding.format_table(rows)
    assert "synthetic LN neurons" in text and "mel spectrogram" in text and len(text.splitlines()) == 4
    assert rows[0]["parameters"] == 3 * (10 * 10 + 1)


def test_comparison_table_has_a_row_per_model_and_a_column_per_front_end(study):
    fitted = study.compare(("linear", "ln"), progress=False)
    lines = encoding.comparison_table(fitted).splitlines()
    assert len(lines) == 2 + 2 and lines[0].count("mel spectrogram: CC / CCnorm") == 1
    lin = fitted[0].scores
    mean, se = lin.cc.mean(), lin.cc.std(ddof=1) / np.sqrt(lin.cc.size)
    assert lines[2].startswith("| Linear | ") and f"{mean:.3f}±{se:.3f} / " in lines[2]
    with pytest.raises(ValueError, match="unknown model 'gru'"):
        study.fit("mel", "gru", "synthetic")
    with pytest.raises(KeyError, match="no front end 'anf'"):
        study.fit("anf", "linear", "synthetic")


def test_the_comparison_command_prints_the_table(capsys, monkeypatch):
    from connear_helpers.analysis import corpus
    from connear_helpers.encoding.__main__ import main

    def no_engine(*args, **kwargs):  # no TTS: the quick set is the speech sample, tones and noise
        raise corpus.NoTTSEngineError("no text-to-speech engine in this test")

    monkeypatch.setattr(corpus, "tts_corpus", no_engine)
    assert main(["--quick", "--target", "synthetic", "--frontends", "mel", "--models", "linear", "--epochs", "5"]) == 0
    out = capsys.readouterr().out
    assert "| Linear | " in out and "mel spectrogram: CC / CCnorm" in out and "TTS sentences skipped" in out
    with pytest.raises(SystemExit):
        main(["--models", "gru"])


def test_strf_recovery_improves_with_more_training_stimuli(study):
    curve = study.strf_recovery("mel", fractions=(0.25, 1.0))
    assert list(curve["n_stimuli"]) == [3, 12] and curve["strf_corr"].shape == (2, 3)
    assert np.median(curve["strf_corr"][1]) > np.median(curve["strf_corr"][0])


def test_figures_and_explorer_draw_without_a_display(study):
    import matplotlib.pyplot as plt

    study.compare(("linear", "ln"), progress=False)
    figs = [encoding.plot_frontends(study, 0), encoding.plot_scores(list(study.fitted.values())),
            encoding.plot_strf_recovery({"mel": study.strf_recovery("mel", fractions=(0.25, 1.0))})]
    fig, fitted = encoding.update_explorer(study, "mel", "ln", "synthetic", neuron=1, stimulus=2)
    assert fitted.model_name == "ln"
    titles = [a.get_title() for a in fig.axes]
    assert any("true STRF, neuron 1" in t for t in titles) and any("fitted STRF" in t for t in titles)
    panel = encoding.explorer_panel(study, frontend="mel", model="linear", target="synthetic")
    assert "CC" in panel.status.value and len(panel.output.outputs) == 1  # after the first draw
    for f in figs + [fig]:
        plt.close(f)


def test_a_missing_connear_front_end_is_left_out_with_a_note():
    stim = encoding.stimulus_set(segment_s=0.2, n_sentences=0, n_tone_segments=3, n_noise_segments=0,
                                 speech_sample=False, fs=20_000.0)
    s = encoding.EncodingStudy(stim, CF, frontends=("mel", "anf_connear"), targets=("synthetic",),
                               weights=None)
    assert s.frontends == ("mel",) and "anf_connear" in s.notes[0] and "reference model only" in s.notes[0]


def test_a_study_of_recordings_read_from_a_file(tmp_path, study):
    # "recordings": the synthetic neurons' spike counts, written in the documented format
    resp = study.responses("synthetic", "mel")
    counts = np.round(resp.repeats * study.bin_s).astype(int)
    path = encoding.save_responses(tmp_path / "rec.h5", study.signals, study.fs, study.bin_s, spike_counts=counts)
    rec = encoding.load_responses(path)
    own = encoding.EncodingStudy(None, CF, frontends=("mel",), recordings=rec, seed=0,
                                 fit_options={"epochs": 80, "patience": 15, "learning_rate": 1e-2})
    assert own.target_names == ("recorded",) and own.frontends == ("mel",)
    assert np.array_equal(own.responses("recorded", "mel").repeats, resp.repeats)
    fitted = own.fit("mel", "ln", "recorded")
    same = study.fit("mel", "ln", "synthetic")
    # the same data, split and seed: the same scores as the synthetic study (float32 fit, one machine)
    assert np.allclose(fitted.scores.cc, same.scores.cc, atol=1e-6)
