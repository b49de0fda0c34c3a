"""connear_helpers.paper.figures: every paper figure in quick mode, its numbers, the engine and the CLI.

The reference-only runs (weights=None) check that the numbers behind each figure are physically
sensible; random-weight CNNs (untrained) exercise the CoNNear code paths. Simulations are shared
through the in-memory cache (pipeline.DEFAULT_CACHE), so the quick figures are simulated once per
test session and the widget, evaluation and replication tests reuse them.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from connear_helpers.analysis import cf as connear_cf  # noqa: E402
from connear_helpers.paper import figures as F  # noqa: E402
from connear_helpers.paper import fig6  # noqa: E402
from connear_helpers import constants, pipeline  # noqa: E402
from connear_helpers.analysis import evaluations  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

REST_MV = -57.656  # resting IHC potential (mV)
# the figures of the paper's metrics (reference curves + experimental data); Table 2 and Fig. 8
# are in FIGURES too but time CNNs or train a network: tests/unit/paper/test_paper_runtime.py, test_paper_backprop.py
METRIC_FIGURES = [n for n in F.FIGURES if n not in ("table2_runtime", "fig8_backpropagation")]


@pytest.fixture(scope="module")
def quick():
    """Every figure, quick, reference only: name -> (fig, table)."""
    out = {name: F.FIGURES[name](None, quick=True) for name in METRIC_FIGURES}
    yield out
    for fig, _ in out.values():
        plt.close(fig)


@pytest.fixture(scope="module")
def random_models():
    keras = pytest.importorskip("keras")
    from connear_helpers.cnn import architectures as models

    keras.utils.set_random_seed(5)
    return {n: models.build_model(n, n_cf=1) for n in ("cochlea", "ihc", "anfh", "anfm", "anfl")}


def _column_count(fig):
    return max(ax.get_subplotspec().get_gridspec().ncols for ax in fig.axes if ax.get_subplotspec())


def test_figure_run_lists_every_paper_figure():
    assert set(F.FIGURES) == set(METRIC_FIGURES) | {"table2_runtime", "fig8_backpropagation"}
    assert len(METRIC_FIGURES) == 8


@pytest.mark.parametrize("name", METRIC_FIGURES)
def test_quick_figure_returns_figure_and_table(quick, name):
    fig, table = quick[name]
    assert isinstance(fig, matplotlib.figure.Figure)
    assert table and all(np.ndim(v) == 1 and len(v) > 0 for v in table.values()), name
    assert all(np.all(np.isfinite(np.asarray(v, float))) for v in table.values()), name
    assert not any(k.endswith("_cnn") or "_cnn_" in k for k in table), "no CNN columns without weights"
    assert _column_count(fig) == 1  # reference only


def test_fig2_excitation_patterns_peak_near_the_tone(quick):
    _, table = quick["fig2_ihc_excitation_patterns"]
    cf = table["cf_hz"]
    assert cf.shape == (201,)
    for f in (500, 1000, 2000):
        for level in (30, 60):
            v = table[f"ref_{f}Hz_{level}dB_mV"]
            peak = cf[np.argmax(np.abs(v - REST_MV))]
            assert abs(np.log2(peak / f)) < 0.6, f"{f} Hz, {level} dB: largest response at CF {peak:.0f} Hz"
        # far from the tone, at 30 dB, the cell is at rest; louder tones excite more
        assert abs(table[f"ref_{f}Hz_30dB_mV"][0] - REST_MV) < 0.02  # CF 12 kHz
        dev = {level: np.max(np.abs(table[f"ref_{f}Hz_{level}dB_mV"] - REST_MV)) for level in (30, 60, 90)}
        assert dev[30] < dev[60] < dev[90], dev


def test_fig3a_ac_dc_ratio_falls_with_frequency(quick):
    _, table = quick["fig3a_ihc_ac_dc_ratio"]
    f, r = table["frequency_hz"], table["ac_dc_ratio_ref"]
    assert f.size == evaluations.QUICK["fig3a"]["n_freqs"] and f[0] == pytest.approx(150.06, abs=0.01)
    assert np.all(np.diff(r) < 0), r
    assert r[0] > 5 and r[-1] < 0.3, r  # phase-locked at low, DC-dominated at high frequencies


def test_fig3b_level_growth_rises_and_compresses(quick):
    _, table = quick["fig3b_ihc_level_growth"]
    rms = table["vihc_rms_ref_mV"]
    np.testing.assert_array_equal(table["level_db_spl"], [0, 30, 60, 90])
    assert np.all(np.diff(rms) > 0) and rms[0] < 0.1 and 5 < rms[-1] < 12, rms
    # compressive growth: the last 30 dB add less than the 30 dB before them
    assert rms[3] - rms[2] < rms[2] - rms[1]


def test_fig4a_adaptation(quick):
    _, table = quick["fig4a_anf_adaptation"]
    t = table["time_s"]
    ratios = table["adaptation_ratio_ref"]
    for fibre, spont in (("HSR", 50.0), ("MSR", 6.7), ("LSR", 0.66)):
        rate = table[f"rate_{fibre}_ref_spikes_per_s"]
        assert np.median(rate[t < 0]) == pytest.approx(spont, rel=0.05), fibre
        onset = rate[(t > 0) & (t < 0.02)].max()
        late = rate[(t > 0.2) & (t < 0.3)].mean()
        assert onset > 2 * late > 2 * spont, fibre
    assert np.all(ratios > 1.0) and np.all(ratios < 1.5), ratios  # still adapting at the probe


def test_fig4b_recovery_grows_with_the_interval(quick):
    _, table = quick["fig4b_anf_onset_recovery"]
    np.testing.assert_allclose(table["interval_s"], evaluations.QUICK["fig4b"]["intervals_s"])
    for fibre in ("HSR", "MSR", "LSR"):
        y = table[f"onset_peak_{fibre}_ref"]
        assert y[-1] == 1.0 and np.all(np.diff(y) > -0.005) and 0.6 < y[0] < 0.98, (fibre, y)
    # HSR fibres recover most slowly (paper Fig. 4b)
    assert table["onset_peak_HSR_ref"][0] < table["onset_peak_LSR_ref"][0]


def test_fig5_firing_rates(quick):
    _, table = quick["fig5_anf_firing_rates"]
    t = table["time_ms"]
    assert t[-1] == pytest.approx(79.95)
    for kind in ("pure", "sam"):
        for f in (1007, 3973):
            rates = {fib: table[f"rate_{kind}_{f}Hz_70dB_{fib}_ref"] for fib in ("HSR", "MSR", "LSR")}
            before = {fib: r[t < 4].mean() for fib, r in rates.items()}
            driven = {fib: r[t > 20].mean() for fib, r in rates.items()}
            assert before["HSR"] > before["MSR"] > before["LSR"] > 0
            assert driven["HSR"] > driven["MSR"] > driven["LSR"] > before["LSR"]
            assert rates["HSR"].max() > 500, (kind, f)


def test_fig6a_rate_level_curves(quick):
    _, table = quick["fig6a_anf_rate_level"]
    levels = table["level_db_spl"]
    np.testing.assert_array_equal(levels, [0, 20, 40, 60, 80])
    for f in (1007, 3973):
        hsr, lsr = table[f"rate_HSR_{f}Hz_ref"], table[f"rate_LSR_{f}Hz_ref"]
        # HSR: rises, then saturates
        assert hsr[2] > 2.5 * hsr[0] and hsr[4] - hsr[3] < 0.1 * (hsr[3] - hsr[0]), hsr

        def half_range_level(r):  # level where the rate has grown by half its dynamic range
            return np.interp(0.5, (r - r[0]) / (r.max() - r[0]), levels)

        assert half_range_level(lsr) > half_range_level(hsr) + 5, (f, hsr, lsr)
        assert hsr[0] > table[f"rate_MSR_{f}Hz_ref"][0] > lsr[0]  # spontaneous rates


def test_fig6b_synchrony_level_curves(quick):
    _, table = quick["fig6b_anf_synchrony_level"]
    for fib in ("HSR", "MSR", "LSR"):
        for f in (1007, 3973):
            vs = table[f"vs_{fib}_{f}Hz_ref"]
            assert np.all((vs >= 0) & (vs <= 1)), vs
    # HSR synchrony peaks at moderate levels and falls when the fibre saturates
    vs = table["vs_HSR_1007Hz_ref"]
    assert vs[1] > vs[0] and vs[1] > vs[2], vs


def test_missing_weights_draw_the_reference_with_a_note(tmp_path, monkeypatch):
    pytest.importorskip("keras")
    from connear_helpers.cnn import weights

    monkeypatch.setattr(weights, "connear_lab_dir", lambda: tmp_path)
    monkeypatch.setattr("connear_helpers.cnn.weights._LOADED", {})
    fig, table = F.fig3b_ihc_level_growth("connear-lab", quick=True)
    text = " ".join(t.get_text() for t in fig.texts)
    assert "CoNNear weights missing" in text and "download official" in text
    assert "vihc_rms_ref_mV" in table and "vihc_rms_cnn_mV" not in table
    plt.close(fig)
    # light mode needs the cochlea CNN: it falls back to the full reference and says so
    fig, _ = F.fig3b_ihc_level_growth(None, quick=True, mode="light")
    assert "Light mode" in " ".join(t.get_text() for t in fig.texts) and "[full" in fig.get_suptitle()
    plt.close(fig)


def test_cnn_curves_appear_with_random_weights(random_models):
    cf = connear_cf.connear_cfs()[::20]
    fig, table = F.fig2_ihc_excitation_patterns(random_models, freqs_hz=(1000.0,), levels_db_spl=(30.0, 60.0, 90.0),
                                                cf=cf)
    assert _column_count(fig) == 2
    assert table["cf_hz"].size == cf.size
    for level in (30, 60, 90):
        ref, cnn = table[f"ref_1000Hz_{level}dB_mV"], table[f"cnn_1000Hz_{level}dB_mV"]
        assert ref.shape == cnn.shape and np.all(np.isfinite(cnn)) and not np.allclose(ref, cnn)
    plt.close(fig)
    fig, table = F.fig6a_anf_rate_level(random_models, quick=True)
    assert _column_count(fig) == 2
    for fib in ("HSR", "MSR", "LSR"):
        assert np.all(np.isfinite(table[f"rate_{fib}_1007Hz_cnn"]))
    plt.close(fig)


def test_cnn_ac_dc_and_chain_in_light_mode(random_models):
    fig, table = F.fig3a_ihc_ac_dc_ratio(random_models, freqs_hz=(500.0, 2000.0), mode="light")
    assert "[light" in fig.get_suptitle() and _column_count(fig) == 2
    assert table["ac_dc_ratio_cnn"].shape == (2,) and np.all(np.isfinite(table["ac_dc_ratio_ref"]))
    plt.close(fig)


def test_engine_matches_periphery_and_splicing_is_exact_enough():
    from connear_helpers.analysis import stimuli
    from connear_helpers import pipeline

    fs = constants.FS_REFERENCE
    tone = stimuli.pure_tone(1000.0, 60.0, 0.02, fs, 2.5e-3, "bartlett")
    x = stimuli.add_silence(tone, fs, 0.08, 0.0128)  # 80 ms of silence: spliced away
    ch = connear_cf.nearest_cf_index(connear_cf.connear_cfs(), 1000.0)
    opts = pipeline.PAPER_REFERENCE_OPTIONS
    cache = pipeline.SimulationCache(0)
    whole = pipeline.reference_batch(x[None], fs, channels=[ch], anf=True, cache=cache, splice=False)[0]
    spliced = pipeline.reference_batch(x[None], fs, channels=[ch], anf=True, cache=cache, splice=True)[0]
    ref = pipeline.simulate(x, fs, cf=[1000.0], weights=None, progress=False, **{
        k: opts[k] for k in ("irregularities", "integrator")})
    for name, field in (("bm", "bm"), ("ihc", "ihc_ref"), ("anfh", "anfh_ref"), ("anfl", "anfl_ref")):
        np.testing.assert_array_equal(whole[name], getattr(ref, field), err_msg=name)
        rel = np.abs(spliced[name] - whole[name]).max() / np.abs(whole[name]).max()
        # measured 1.5e-6 (bm) with the legacy integrator; about 3e-4 with "scipy117", the same as
        # shifting the stimulus by one sample (the integrator's absolute time enters its rounding)
        assert rel < 1e-5, f"{name}: spliced vs whole relative difference {rel:.2e} (legacy integrator)"


def test_segments_split_long_silences():
    x = np.zeros(100)
    x[30:40] = 1
    assert pipeline._segments(x, 5, 10) == [(25, 50)]  # long lead trimmed to 5, short tail kept whole
    x[3:95] = 1
    assert pipeline._segments(x, 5, 10) == [(0, 100)]  # no silence long enough to skip
    y = np.zeros(100)
    y[30:40] = 1
    y[70:80] = 1
    assert pipeline._segments(y, 5, 10) == [(25, 50), (65, 90)]
    y[93] = 1  # several segments: each gets the full tail, even past the end
    assert pipeline._segments(y, 5, 10) == [(25, 50), (65, 104)]
    assert pipeline._segments(np.zeros(10), 5, 10) == []


def test_cache_lru_bytes_and_disk(tmp_path):
    cache = pipeline.SimulationCache(max_bytes=3 * 800, directory=tmp_path)
    for k in range(4):
        cache.put(f"k{k}", {"a": np.full(100, float(k))}, disk=(k == 0))
    assert len(cache) == 3 and cache.get("k3", disk=False) is not None
    again = cache.get("k0")  # evicted from memory, read back from disk (float32)
    assert again is not None and cache.disk_hits == 1 and again["a"][0] == 0.0
    view = cache.with_directory(None)
    assert view.get("k3") is not None and view.directory is None


def test_prepare_and_weight_folders(tmp_path, random_models):
    from connear_helpers.cnn.weights import WeightsNotFoundError

    setup = pipeline.prepare(random_models, "light", "anf", "cnn")
    assert setup.mode == "light" and set(setup.models) == {"cochlea", "ihc", "anfh", "anfm", "anfl"}
    setup = pipeline.prepare({"ihc": random_models["ihc"]}, "full", "anf")
    assert setup.models is None and "'anfh'" in setup.note
    from connear_helpers.cnn.weights import resolve_weights

    with pytest.raises(WeightsNotFoundError, match="no 'ihc' model"):
        resolve_weights(tmp_path, "ihc")
    assert pipeline.prepare(str(tmp_path), "full", "ihc").models is None
    random_models["ihc"].save_weights(tmp_path / "ihc.weights.h5")
    assert resolve_weights(tmp_path, "ihc") == tmp_path / "ihc.weights.h5"
    setup = pipeline.prepare(str(tmp_path), "full", "ihc")
    assert setup.has_cnn and setup.label == str(tmp_path)
    with pytest.raises(ValueError, match="mode"):
        pipeline.prepare(None, "medium")


def test_main_writes_png_and_csv(tmp_path, capsys):
    rc = F.main(["--out", str(tmp_path), "--quick", "--no-cache", "--weights", "none-such-folder",
                 "--only", "fig3b_ihc_level_growth"])
    assert rc == 0
    assert (tmp_path / "fig3b_ihc_level_growth.png").stat().st_size > 1000
    lines = (tmp_path / "fig3b_ihc_level_growth.csv").read_text().splitlines()
    assert lines[0] == "level_db_spl,vihc_rms_ref_mV" and len(lines) == 5
    out = capsys.readouterr().out
    assert "jupyter lab notebooks/" in out and str(tmp_path) in out


def test_level_curve_legends_sit_outside_the_data():
    """Fig. 6a/6b: one legend per row, right of the last panel, so it covers no curve or data point."""
    import matplotlib.pyplot as plt

    levels = [0.0, 50.0, 100.0]
    curves = {fib: [np.array([50.0, 200.0, 300.0])] for fib in ("anfh", "anfm", "anfl")}
    setup = pipeline.Setup(mode="full", models={"anfh": None}, note=None, label="test set")
    d = {"setup": setup, "ref": curves, "cnn": curves, "levels_db_spl": levels, "freqs_hz": (1000.0,)}
    fig, _ = fig6.draw_rate_level(d)
    fig.canvas.draw()
    for row in np.asarray(fig.axes[:6]).reshape(3, 2):
        assert row[0].get_legend() is None and row[1].get_legend() is not None
        box = row[1].get_legend().get_window_extent()
        assert box.x0 >= row[1].get_window_extent().x1  # right of the panel
    plt.close(fig)


def test_cache_fingerprint_covers_the_compiled_core(monkeypatch, tmp_path):
    """A C++-only change or a rebuild must invalidate the simulation cache (issue #13)."""
    files = pipeline._fingerprint_files()
    names = [p.name for p in files]
    assert any(n.startswith("_core") and n.endswith((".so", ".pyd")) for n in names), names
    assert {"cochlea.py", "_tl.cpp"} <= set(names)
    before = pipeline.reference_fingerprint()
    fake = tmp_path / "_core.fake.so"
    fake.write_bytes(files[-1].read_bytes() + b"rebuilt")
    monkeypatch.setattr(pipeline, "_fingerprint_files", lambda: files[:-1] + [fake])
    monkeypatch.setattr(pipeline, "_FINGERPRINT", [])
    assert pipeline.reference_fingerprint() != before
