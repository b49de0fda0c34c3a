"""connear_helpers.paper.runtime: the Table-2 benchmark on short signals with untrained CNNs."""
import numpy as np
import pytest

pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from connear_helpers.paper import runtime  # noqa: E402

FS = 20_000.0


def tone(n=400, level=70.0, freq=1000.0):
    t = np.arange(n) / FS
    return 2e-5 * np.sqrt(2) * 10 ** (level / 20) * np.sin(2 * np.pi * freq * t)


def rows(table, **where):
    idx = [i for i in range(len(table["stage"])) if all(table[k][i] == v for k, v in where.items())]
    return [{k: table[k][i] for k in table} for i in idx]


@pytest.fixture(scope="module")
def ihc_table(tmp_path_factory):
    """201 and 1 channels, cochlea + IHC, weights missing -> untrained models."""
    from connear_helpers.cnn import weights

    empty = tmp_path_factory.mktemp("no_weights")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(weights, "connear_lab_dir", lambda: empty)
        mp.setattr("connear_helpers.cnn.weights._LOADED", {})
        return runtime.measure(tone(), FS, duration_s=None, n_channels=(201, 1), stages=("cochlea", "ihc"),
                               devices="CPU", weights="connear-lab", repeats=1, progress=False)


@pytest.fixture(scope="module")
def random_models():
    import keras

    from connear_helpers.cnn import architectures as models

    keras.utils.set_random_seed(5)
    return {n: models.build_model(n, n_cf=1) for n in ("cochlea", "ihc", "anfh", "anfm", "anfl")}


def test_table_columns_have_equal_length_and_positive_times(ihc_table):
    assert set(ihc_table) == set(runtime.COLUMNS)
    n = len(ihc_table["stage"])
    assert n > 0 and all(len(v) == n for v in ihc_table.values())
    assert all(t > 0 for t in ihc_table["time_s"])
    for t_min, t_mean in zip(ihc_table["time_min_s"], ihc_table["time_s"]):
        assert t_min <= t_mean + 1e-12
    for i in range(n):
        assert ihc_table["signal_s"][i] == pytest.approx(400 / FS)
        assert ihc_table["realtime_factor"][i] == pytest.approx(ihc_table["time_s"][i] / ihc_table["signal_s"][i])


def test_reference_and_cnn_rows_for_each_stage_and_channel_count(ihc_table):
    for n in (201, 1):
        for impl, dev in (("reference", "CPU"), ("CoNNear", "CPU")):
            stages = [r["stage"] for r in rows(ihc_table, n_channels=n, implementation=impl, device=dev)]
            assert stages == ["cochlea", "ihc", "total"]


def test_totals_are_sums_of_the_stages(ihc_table):
    for n in (201, 1):
        for impl in ("reference", "CoNNear"):
            r = rows(ihc_table, n_channels=n, implementation=impl)
            total = [x["time_s"] for x in r if x["stage"] == "total"][0]
            assert total == pytest.approx(sum(x["time_s"] for x in r if x["stage"] != "total"))


def test_both_channel_counts_are_timed_for_both_implementations(ihc_table):
    # no wall-clock comparisons here: the CI machines are shared and noisy
    for n in (201, 1):
        for impl in ("CoNNear", "reference"):
            (row,) = rows(ihc_table, n_channels=n, implementation=impl, stage="ihc")
            assert np.isfinite(row["time_s"]) and row["time_s"] > 0
            assert row["realtime_factor"] == pytest.approx(row["time_s"] / row["signal_s"])


def test_missing_weights_are_timed_untrained_and_noted(ihc_table):
    assert set(r["weights"] for r in rows(ihc_table, implementation="CoNNear")) == {"untrained"}
    assert set(r["weights"] for r in rows(ihc_table, implementation="reference")) == {""}
    notes = " ".join(ihc_table["note"])
    assert "1000 sections" in notes and "all 201 channels" in notes


def test_anf_stages_with_given_models_and_no_reference(random_models):
    table = runtime.measure(tone(), FS, duration_s=None, n_channels=(8, 1), stages=("anfh", "anfl"),
                            devices=["cpu"], weights=random_models, repeats=2, reference=False, progress=False)
    assert set(table["implementation"]) == {"CoNNear"} and set(table["weights"]) == {"trained"}
    for f in ("anfh", "anfl"):
        t8 = rows(table, n_channels=8, stage=f)[0]
        t1 = rows(table, n_channels=1, stage=f)[0]
        assert t8["repeats"] == 2 and t8["time_min_s"] <= t8["time_s"]
        assert t1["time_s"] > 0
    assert not rows(table, stage="anfm") and not rows(table, stage="cochlea")


def test_duration_tiles_or_cuts_the_signal_and_100khz_input(random_models):
    x = runtime._signal_20k(tone(300), FS, 0.05)
    assert x.size == 1000
    np.testing.assert_array_equal(x[300:600], x[:300])
    assert runtime._signal_20k(np.tile(tone(300), 5), 1e5, None).size == 300
    # default signal: the speech sample
    assert runtime._signal_20k(None, FS, 0.1).size == 2000


def test_channel_selection():
    assert runtime._channel_indices(201).size == 201
    from connear_helpers.analysis import cf

    assert cf.connear_cfs()[runtime._channel_indices(1)][0] == pytest.approx(1006.99, abs=0.01)
    assert runtime._channel_indices(11).size == 11


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(repeats=0), "repeats"),
        (dict(stages=("cochlea", "cn")), "stages"),
        (dict(n_channels=(202,)), "channel counts"),
        (dict(n_channels=(0,)), "channel counts"),
        (dict(devices=["TPU"]), "devices"),
        (dict(fs=44_100.0), "fs must be"),
        (dict(duration_s=1e-4), "too short"),
    ],
)
def test_clear_errors(kwargs, match):
    kw = dict(signal=tone(), progress=False, reference=False, cnn=True, weights="untrained")
    kw.update(kwargs)
    with pytest.raises(ValueError, match=match):
        runtime.measure(**kw)


@pytest.mark.skipif(bool(tf.config.list_physical_devices("GPU")), reason="this machine has a GPU")
def test_asking_for_a_missing_gpu_says_so():
    with pytest.raises(ValueError, match="no GPU"):
        runtime.measure(tone(), FS, devices="GPU", weights="untrained", reference=False, progress=False)


def test_format_table_and_plot(ihc_table):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    text = runtime.format_table(ihc_table)
    assert "speed-up CPU" in text and "IHC" in text and "total" in text
    assert len([ln for ln in text.splitlines() if ln.strip().startswith(("201", "1 "))]) == 6
    fig = runtime.plot(ihc_table, runtime.machine_info())
    axes = [ax for ax in fig.axes]
    assert len(axes) == 2 and all(ax.get_yscale() == "log" for ax in axes)
    assert len(axes[0].patches) == 6  # 3 stages x (reference, CoNNear CPU)
    plt.close(fig)


def test_machine_info_names_the_cpu_and_the_backend():
    info = runtime.machine_info()
    assert int(info["cpu_cores"]) >= 1 and info["keras_backend"] == "tensorflow"
    assert runtime.available_devices()[0] == ("CPU", "/CPU:0")


def test_figure_run_adapter_passes_weights_and_quick(monkeypatch):
    seen = {}
    monkeypatch.setattr(runtime, "table_2", lambda **kw: seen.update(kw) or ("fig", "table"))
    out = runtime.table2_runtime("official", quick=True, mode="light", cache=object(), progress=False)
    assert out == ("fig", "table")
    assert seen == {"weights": "official", "quick": True, "progress": False}
