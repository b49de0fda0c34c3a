"""encoding.data: the recordings file format (NPZ and HDF5), its errors, and the stimulus set;
encoding.targets: the synthetic neurons' calibration and Poisson statistics."""
import numpy as np
import pytest

from connear_helpers import encoding

FS, BIN = 20_000.0, 0.005


def _recording(rng, n_stim=3, n_rep=4, n_neurons=2, dur_s=0.1):
    stim = rng.standard_normal((n_stim, int(dur_s * FS))) * 0.02
    counts = rng.poisson(0.3, size=(n_stim, n_rep, int(dur_s / BIN), n_neurons))
    return stim, counts


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_spike_counts_round_trip_as_rates(tmp_path, suffix):
    stim, counts = _recording(np.random.default_rng(0))
    path = encoding.save_responses(tmp_path / f"rec{suffix}", stim, FS, BIN, spike_counts=counts,
                                   neuron_ids=["unit A", "unit B"], stimulus_names=["a", "b", "c"])
    r = encoding.load_responses(path)
    assert np.array_equal(r.repeats, counts / BIN) and r.dt == BIN and r.fs == FS
    assert np.array_equal(r.stimuli, stim)
    assert r.neuron_ids == ("unit A", "unit B") and r.stimulus_names == ("a", "b", "c")
    assert np.allclose(r.mean, counts.mean(axis=1) / BIN)


def test_a_psth_without_repeats_is_read_as_one_repeat(tmp_path):
    stim, counts = _recording(np.random.default_rng(1))
    psth = counts.mean(axis=1) / BIN
    np.savez(tmp_path / "psth.npz", stimuli=stim, fs=FS, bin_s=BIN, psth=psth)
    r = encoding.load_responses(tmp_path / "psth.npz")
    assert r.repeats.shape == (3, 1, 20, 2) and np.allclose(r.repeats[:, 0], psth)
    assert r.neuron_ids == ("neuron 0", "neuron 1")


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("fs"), "has no fs"),
    (lambda d: d.update(psth=d["spike_counts"] / BIN), "exactly one of spike_counts and psth"),
    (lambda d: d.update(spike_counts=d["spike_counts"] - 1), "whole numbers >= 0"),
    (lambda d: d.update(spike_counts=d["spike_counts"][:, :, :15]), "15 bins of 0.005 s but the stimuli last"),
    (lambda d: d.update(spike_counts=d["spike_counts"][:2]), "responses are to 2 stimuli but stimuli holds 3"),
    (lambda d: d.update(spike_counts=d["spike_counts"][0]), r"spike_counts must be \(n_stimuli, n_repeats"),
    (lambda d: d.update(bin_s=-1.0), "bin_s must be one positive number"),
    (lambda d: d.update(neuron_ids=np.array(["x"])), "neuron_ids must hold 2 names"),
])
def test_a_malformed_file_gives_an_error_that_names_the_problem(tmp_path, change, message):
    stim, counts = _recording(np.random.default_rng(2))
    d = {"stimuli": stim, "fs": FS, "bin_s": BIN, "spike_counts": counts}
    change(d)
    np.savez(tmp_path / "bad.npz", **d)
    with pytest.raises(encoding.RecordingsFormatError, match=message) as info:
        encoding.load_responses(tmp_path / "bad.npz")
    assert "save_responses() writes it" in str(info.value)


def test_unreadable_files_and_suffixes(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(encoding.RecordingsFormatError, match="cannot be read as an NPZ"):
        encoding.load_responses(tmp_path / "junk.npz")
    (tmp_path / "rec.mat").write_bytes(b"")
    with pytest.raises(encoding.RecordingsFormatError, match="expected .npz, .h5 or .hdf5"):
        encoding.load_responses(tmp_path / "rec.mat")
    with pytest.raises(FileNotFoundError):
        encoding.load_responses(tmp_path / "missing.npz")


def test_stimulus_set_segments_have_one_length_and_the_level(monkeypatch):
    s = encoding.stimulus_set(segment_s=0.25, n_sentences=0, n_tone_segments=2, n_noise_segments=1, fs=FS, seed=3)
    assert s.signals.shape == (8 + 3, 5000)  # the 2.2-s speech sample gives 8 whole segments
    assert s.kinds.count("speech") == 8 and s.kinds[-3:] == ("tones", "tones", "noise")
    level = 20 * np.log10(np.sqrt(np.mean(s.signals[-3:] ** 2, axis=1)) / 2e-5)
    assert np.allclose(level, 65.0, atol=1e-9)
    again = encoding.stimulus_set(segment_s=0.25, n_sentences=0, n_tone_segments=2, n_noise_segments=1, fs=FS, seed=3)
    assert np.array_equal(s.signals, again.signals)
    short = encoding.stimulus_set(segment_s=0.25, n_sentences=0, n_tone_segments=0, n_noise_segments=0,
                                  max_segments_per_sound=3, fs=FS)
    assert len(short) == 3 and np.array_equal(short.signals, s.signals[:3])


def test_stimulus_set_without_a_tts_engine_notes_it_and_goes_on(monkeypatch):
    from connear_helpers.analysis import corpus

    def no_engine(*args, **kwargs):
        raise corpus.NoTTSEngineError("no text-to-speech engine found")

    monkeypatch.setattr(corpus, "tts_corpus", no_engine)
    s = encoding.stimulus_set(segment_s=0.5, n_sentences=2, n_tone_segments=1, n_noise_segments=0,
                              speech_sample=False, fs=FS)
    assert len(s) == 1 and "TTS sentences skipped" in s.notes[0]


def test_synthetic_neurons_are_calibrated_on_their_inputs():
    import encoding_testdata as td

    x = td.gaussian_inputs(60, 1)
    syn = encoding.synthetic_neurons(x, td.FREQS, td.DT, n_neurons=4, context_s=0.05, threshold_quantile=0.7,
                                     seed=0)
    z = syn.drive(x)
    assert syn.strfs.shape == (4, 10, td.F)
    assert np.allclose(z.reshape(-1, 4).std(axis=0), 1.0, rtol=1e-9)
    assert np.allclose((z > syn.threshold).mean(axis=(0, 1)), 0.3, atol=0.01)
    rates = syn.rates(x)
    assert rates.min() >= 5.0 and rates.max() <= 150.0
    assert np.all(td.FREQS[0] < syn.best_frequency_hz) and np.all(syn.best_frequency_hz < td.FREQS[-1])
    # Poisson repeats: mean count = rate * dt, variance = mean (within sampling error)
    resp = syn.responses(x[:20], n_repeats=20, seed=1)
    counts = resp.repeats * td.DT
    lam = resp.rates[:, None] * td.DT
    assert np.mean(counts) == pytest.approx(np.mean(lam), rel=0.02)
    assert np.mean((counts - lam) ** 2) == pytest.approx(np.mean(lam), rel=0.03)
    assert np.array_equal(resp.repeats, syn.responses(x[:20], n_repeats=20, seed=1).repeats)
