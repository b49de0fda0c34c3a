"""The verhulst2018 engine wherever the package simulates (issue #12): the option reaches the
model, the defaults per use (exact for comparisons with the published model, fast for panels and
datasets), errors that name the choices, and cache keys of exact simulations that did not change.

Every simulation here is a few milliseconds of sound at one or two CFs.
"""
import numpy as np
import pytest
from scipy.io import wavfile

import verhulst2018
from connear_helpers.training import datasets
from connear_helpers.training import evaluate
from connear_helpers.paper import figures
from connear_helpers.paper import runtime
from connear_helpers.lab import speech
from connear_helpers.lab import widgets
from connear_helpers import pipeline

FS = 100_000.0


def tone(level_db_spl=70.0, freq=1000.0, n=2000, fs=FS):
    """A tone in Pa (RMS level), 1 ms of silence before, n samples in all."""
    t = np.arange(n - int(1e-3 * fs)) / fs
    x = 2e-5 * np.sqrt(2) * 10 ** (level_db_spl / 20) * np.sin(2 * np.pi * freq * t)
    return np.concatenate([np.zeros(n - t.size), x])


@pytest.fixture
def calls(monkeypatch):
    """Records the keyword arguments and signal shapes of every verhulst2018.simulate call."""
    real = verhulst2018.simulate
    seen = []

    def recording(signal, **kw):
        seen.append(dict(kw, shape=np.shape(signal)))
        return real(signal, **kw)

    monkeypatch.setattr(verhulst2018, "simulate", recording)
    return seen


def test_the_defaults_per_use_have_one_owner():
    assert pipeline.ENGINE_FOR_COMPARISON == "exact"
    assert pipeline.ENGINE_FOR_PANELS == "fast"
    assert pipeline.ENGINE_FOR_DATASETS == "fast"
    # figures and the evaluation compare with the published model: no engine means the exact one
    assert "engine" not in pipeline._check_options(None)
    assert "engine" not in pipeline._check_options(evaluate.EVALUATION_REFERENCE_OPTIONS)
    # panels: the fast engine with the paper's other options
    state = widgets.PanelState(weights=None, quick=True)
    assert state.engine == "fast"
    assert state.reference_options == {**pipeline.PAPER_REFERENCE_OPTIONS, "engine": "fast"}
    assert widgets.PanelState(weights=None, engine="exact").reference_options["engine"] == "exact"
    assert widgets.PanelState(weights=None, reference_options={"engine": "cpp"}).engine == "exact"
    # datasets: fast for the built-in reference; an exact one is not written into the settings
    ref = datasets.verhulst2018_reference
    assert datasets._reference_options(ref, None) == {"engine": "fast"}
    assert datasets._reference_options(ref, {"engine": "exact", "irregularities": True}) == {"irregularities": True}
    assert datasets._reference_options(lambda *a, **k: {}, {"x": 1}) == {"x": 1}


@pytest.mark.parametrize("call", [
    lambda: pipeline.simulate(np.zeros(400), 20_000.0, weights=None, engine="quick"),
    lambda: pipeline._check_options({"engine": "quick"}),
    lambda: pipeline.reference_batch(np.zeros((1, 400)), 20_000.0, reference_options={"engine": "quick"}),
    lambda: figures.tone_response(engine="quick"),
    lambda: widgets.PanelState(weights=None, engine="quick"),
    lambda: widgets.PanelState(weights=None, reference_options={"engine": "quick"}),
    lambda: datasets._reference_options(datasets.verhulst2018_reference, {"engine": "quick"}),
    lambda: speech.quickstart(weights=None, engine="quick"),
    lambda: runtime.measure(engine="quick"),
])
def test_an_unknown_engine_is_an_error_naming_the_choices(call):
    with pytest.raises(ValueError, match=r"engine must be one of \('exact', 'fast', 'numpy'\).*'quick'"):
        call()


@pytest.mark.parametrize("engine", ["exact", "fast"])
def test_periphery_passes_the_engine_to_verhulst2018(calls, engine):
    x20 = tone(n=400, fs=20_000.0)
    res = pipeline.simulate(x20, 20_000.0, cf=[1000.0], stages=("bm",), weights=None, engine=engine,
                             progress=False)
    assert [c["engine"] for c in calls] == [engine]
    assert res.bm.shape == (400, 1) and np.abs(res.bm).max() > 0


def test_periphery_default_is_the_exact_engine(calls):
    pipeline.simulate(tone(n=400, fs=20_000.0), 20_000.0, cf=[1000.0], stages=("bm",), weights=None,
                       progress=False)
    assert calls[0]["engine"] == "exact"


def test_the_fast_engine_takes_12_rhs_evaluations_per_sample_where_the_exact_one_adapts():
    x = tone(n=2000)
    fast = verhulst2018.simulate(x, cf=[1000.0], outputs=("v",), engine="fast", progress=False)
    exact = verhulst2018.simulate(x, cf=[1000.0], outputs=("v",), engine="exact", progress=False)
    # two fixed DOPRI5 steps per sample, the last stage reused; the last two samples not integrated
    assert fast.n_rhs_evaluations == 12 * (x.size - 2) + 1
    assert exact.n_rhs_evaluations != fast.n_rhs_evaluations


def _explicit_ref_key(opts, x100, channels, outs=("bm", "ihc")):
    """The key of a reference_batch record, spelled out as it was before the engine option."""
    lead, tail = int(pipeline.SPLICE_LEAD_S * FS), int(pipeline.SPLICE_TAIL_S * FS)
    return pipeline._key("ref", pipeline._ENGINE_VERSION, pipeline.reference_fingerprint(), opts, outs, True,
                        lead, tail, pipeline._hash_array(x100), np.asarray(channels))


@pytest.mark.parametrize("options", [None, {**pipeline.PAPER_REFERENCE_OPTIONS, "engine": "exact"},
                                     {**pipeline.PAPER_REFERENCE_OPTIONS, "engine": "cpp"}])
def test_exact_engine_cache_keys_are_those_of_before(monkeypatch, options):
    """A record stored under the key spelled out as before the engine option is found again, for
    no engine and for an explicit exact one, without simulating (the on-disk cache stays valid)."""
    x = tone()
    channels = [100]
    cache = pipeline.SimulationCache()
    record = {"bm": np.ones((400, 1)), "ihc": np.full((400, 1), -0.05)}
    cache.put(_explicit_ref_key(dict(pipeline.PAPER_REFERENCE_OPTIONS), x, channels), record)

    def no_simulation(*args, **kwargs):
        raise AssertionError("the exact key changed: the cached record was not found")

    monkeypatch.setattr(verhulst2018, "simulate", no_simulation)
    out = pipeline.reference_batch(x[None], FS, channels=channels, reference_options=options, cache=cache)
    assert out[0] is record


def test_fast_engine_has_its_own_cache_key_and_reaches_verhulst2018(calls):
    x = tone()
    channels = [100]
    cache = pipeline.SimulationCache()
    opts = {**pipeline.PAPER_REFERENCE_OPTIONS, "engine": "fast"}
    out = pipeline.reference_batch(x[None], FS, channels=channels, reference_options=opts, cache=cache)
    assert [c["engine"] for c in calls] == ["fast"]
    exact_key = _explicit_ref_key(dict(pipeline.PAPER_REFERENCE_OPTIONS), x, channels)
    fast_key = _explicit_ref_key(opts, x, channels)
    assert fast_key != exact_key
    assert cache.get(fast_key) is out[0] and cache.get(exact_key, disk=False) is None
    # the figures' default is the exact engine
    pipeline.reference_batch(x[None], FS, channels=channels, cache=cache)
    assert [c["engine"] for c in calls] == ["fast", "exact"]
    assert cache.get(exact_key) is not None


def test_panels_run_the_levels_of_a_stimulus_as_one_fast_batch(calls):
    state = widgets.PanelState(weights=None, quick=True, cache=pipeline.SimulationCache())
    levels = (40.0, 60.0, 80.0)
    x = np.stack([tone(level) for level in levels])
    res = pipeline.simulate_batch(x, FS, state.setup("full", "ihc"), channels=[100],
                                 reference_options=state.reference_options, cache=state.cache)
    assert len(calls) == 1 and calls[0]["engine"] == "fast" and calls[0]["shape"] == (3, x.shape[1])
    peaks = [np.abs(r.bm).max() for r in res]
    assert peaks[0] < peaks[1] < peaks[2]


def test_speech_quickstart_runs_the_panel_engine(calls, monkeypatch):
    from connear_helpers.cnn import weights as _cnn

    # the reference alone: no need to import TensorFlow to find out that there are no weights
    monkeypatch.setattr(_cnn, "missing_weights", lambda weights, names: "no weights in this test")
    speech.quickstart(weights=None, duration_s=0.005, n_cf=1, progress=False)
    assert [c["engine"] for c in calls] == ["fast"]


def _one_wav(folder, fs=16000, dur=0.02):
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(dur * fs)) / fs
    x = 0.4 * np.sin(2 * np.pi * 500 * t) * np.hanning(t.size)
    wavfile.write(folder / "sent0.wav", fs, np.round(x * 32767).astype(np.int16))
    return folder


def test_datasets_default_to_the_fast_engine_with_levels_in_lockstep(tmp_path, calls):
    corpus = _one_wav(tmp_path / "wavs")
    m = datasets.build_dataset(tmp_path / "ds", "ihc", corpus=str(corpus), n_sentences=1, levels=(60, 90),
                               level_mode="all", cf_index=[122], stimuli_per_shard=2, scheduler="synchronous",
                               progress=False)
    assert m["config"]["reference_options"] == {"engine": "fast"}
    assert len(calls) == 1 and calls[0]["engine"] == "fast" and calls[0]["shape"][0] == 2
    x, y = datasets.load_dataset(tmp_path / "ds", "ihc", split="all")
    assert x.shape[0] == 2 and np.all(np.isfinite(y))
    # the louder level drives the BM harder: the batch rows went back to their own stimuli
    assert np.abs(x[1]).max() > 2 * np.abs(x[0]).max()
    # a dataset folder built with the fast engine is not resumed with the exact one
    with pytest.raises(datasets.DatasetError, match="ran the fast engine.*--reference-engine fast"):
        datasets.build_dataset(tmp_path / "ds", "ihc", corpus=str(corpus), n_sentences=1, levels=(60, 90),
                               level_mode="all", cf_index=[122], stimuli_per_shard=2, scheduler="synchronous",
                               reference_options={"engine": "exact"}, progress=False)


def test_datasets_with_the_exact_engine_simulate_one_stimulus_at_a_time(tmp_path, calls):
    corpus = _one_wav(tmp_path / "wavs")
    m = datasets.build_dataset(tmp_path / "ds", "ihc", corpus=str(corpus), n_sentences=1, levels=(60, 90),
                               level_mode="all", cf_index=[122], stimuli_per_shard=2, scheduler="synchronous",
                               reference_options={"engine": "exact"}, progress=False)
    assert m["config"]["reference_options"] == {}  # the settings of datasets built before the option
    assert [(c["engine"], len(c["shape"])) for c in calls] == [("exact", 1), ("exact", 1)]
