"""connear_helpers.training.evaluate: the RMSE tables, their definitions against the paper, and the CLI.

The quick evaluation runs with random (untrained) CNN weights: the numbers are meaningless, the
table's rows, columns and finiteness are what is checked. Its reference simulations are the quick
figures' (shared in-memory cache when run in the same session as test_figures.py).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import csv  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from connear_helpers.analysis import cf as connear_cf  # noqa: E402
from connear_helpers.training import evaluate as E  # noqa: E402
from connear_helpers.analysis import metrics  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def result():
    keras = pytest.importorskip("keras")
    from connear_helpers.cnn import architectures as models

    keras.utils.set_random_seed(7)
    m = {n: models.build_model(n, n_cf=1) for n in ("ihc", "anfh", "anfm", "anfl")}
    # fewer CFs than the quick default (41) to keep the random IHC CNN cheap
    return E.evaluate(m, quick=True, config={"excitation_cf": tuple(connear_cf.connear_cfs()[::20])})


def test_quick_evaluation_table_shape_and_values(result):
    e = result["ihc_excitation"]
    np.testing.assert_array_equal(e["levels_db_spl"], [30, 60, 90])
    np.testing.assert_array_equal(e["freqs_hz"], [500, 1000, 2000])
    assert e["rmse"].shape == (3, 3) and e["n_cf"] == 11
    a = result["anf_firing_rate"]
    assert a["columns"] == list(metrics.FIRING_RATE_RMSE_COLUMNS) and a["rmse"].shape == (1, 12)
    for name in ("anf_rate_level", "anf_synchrony_level"):
        r = result[name]
        assert set(r["rmse"]) == {"HSR", "MSR", "LSR"} and all(v.shape == (2,) for v in r["rmse"].values())
        np.testing.assert_allclose(r["freqs_hz"], [1006.99, 3972.69], atol=0.01)
    values = [row["rmse"] for row in result["rows"]]
    assert len(result["rows"]) == 9 + 1 + 12 + 6 + 6
    assert np.all(np.isfinite(values)) and min(values) >= 0
    assert [row["metric"] for row in result["rows"]].count("ihc_level_growth") == 1
    assert {row["unit"] for row in result["rows"]} == {"mV", "spikes/s", "1"}
    bar = result["bar"]
    assert len(bar["items"]) == 3 and bar["passed"] is False  # random weights do not pass


def test_a_subset_of_models_is_judged_alone_and_never_passes(result):
    keras = pytest.importorskip("keras")
    from connear_helpers.cnn import architectures as models

    keras.utils.set_random_seed(7)
    models.build_model("ihc", n_cf=1)                    # as the fixture: the same anfh weights
    m = {"anfh": models.build_model("anfh", n_cf=1)}     # no IHC, no other fibre: they are not loaded
    part = E.evaluate(m, quick=True, models=("anfh",))
    assert "ihc_excitation" not in part and part["models"] == ("anfh",)
    assert part["anf_firing_rate"]["columns"] == ["HSR-tone-1kHz", "HSR-tone-4kHz", "HSR-SAM-1kHz", "HSR-SAM-4kHz"]
    assert set(part["anf_rate_level"]["rmse"]) == {"HSR"}
    # the same random weights (same seed) give the full run's HSR numbers
    for metric in ("anf_rate_level", "anf_synchrony_level"):
        np.testing.assert_allclose(part[metric]["rmse"]["HSR"], result[metric]["rmse"]["HSR"], rtol=1e-5)
    assert {r["fibre"] for r in part["rows"]} == {"HSR"}
    assert part["bar"]["missing"] == ["ihc", "anfm", "anfl"] and part["bar"]["passed"] is False
    assert "not judged: ihc, anfm, anfl" in E.format_result(part)
    with pytest.raises(ValueError, match="models"):
        E.evaluate(m, quick=True, models=("anfx",))


def test_csv_json_and_printout(result, tmp_path):
    path = E.write_csv(result, tmp_path / "eval.csv")
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == E.COLUMNS and len(rows) == len(result["rows"])
    assert rows[0]["metric"] == "ihc_excitation" and float(rows[0]["rmse"]) >= 0
    growth = [r for r in rows if r["metric"] == "ihc_level_growth"][0]
    assert growth["level_db_spl"] == "" and float(growth["freq_hz"]) == pytest.approx(3972.69, abs=0.01)
    import json

    json.dumps(E.to_jsonable(result))
    text = E.format_result(result)
    for heading in ("Suppl. Fig. 1", "Suppl. Fig. 3", "Fig. 6a", "Fig. 6b", "Fig. 3b", "Bar of issue #11"):
        assert heading in text


def test_missing_weights_raise_and_the_cli_says_how_to_get_them(tmp_path, monkeypatch, capsys):
    pytest.importorskip("keras")
    from connear_helpers.cnn import weights

    monkeypatch.setattr(weights, "connear_lab_dir", lambda: tmp_path)
    monkeypatch.setattr("connear_helpers.cnn.weights._LOADED", {})
    with pytest.raises(weights.WeightsError):
        E.evaluate("connear-lab", quick=True)
    assert E.main(["--weights", "connear-lab", "--quick", "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "download official" in err and not (tmp_path / "x.csv").exists()


def test_config_errors():
    with pytest.raises(ValueError, match="unknown config"):
        E.evaluate({}, quick=True, config={"levels": (1,)})


# --------------------------------------------------------------------------------------------
# the RMSE definitions against the paper's own numbers


def _paper(shared_dir, *parts, **kw):
    return np.loadtxt(shared_dir.joinpath("paper_sourcedata", *parts), **kw)


def test_excitation_rmse_reproduces_supplementary_figure_1(shared_dir):
    """Suppl. Fig. 1 (0.5/1/2-kHz columns) = RMSE over CFs of the paper's Fig. 2 patterns."""
    for variant, suppl in (("tanh", "tanh"), ("tanh-sigm", "tanhsigm")):
        ref, cnn = {}, {}
        for f in (500.0, 1000.0, 2000.0):
            r = _paper(shared_dir, "Figure2", f"vm_{f}Hz_refIHC.csv", delimiter=",", skiprows=1)
            c = _paper(shared_dir, "Figure2", f"vm_{f}Hz_CoNNearIHC_{variant}.csv", delimiter=",", skiprows=1)
            ref[f], cnn[f] = r[:, 1:11].T * 1e-3, c[:, 1:11].T * 1e-3  # mV -> V, levels 0:10:90
        freqs, table = E.excitation_rmse(ref, cnn)
        published = _paper(shared_dir, "SupplementaryFigure1", f"rmse_IHC_excitation_{suppl}.txt", comments="#")
        np.testing.assert_allclose(table, published[:, 2:5], rtol=0, atol=2e-6,
                                   err_msg=f"{variant}: measured max diff {np.abs(table - published[:, 2:5]).max():.1e} mV")


def test_curve_rmse_gives_the_official_figures_quoted_in_issue_4(shared_dir):
    """Issue #4 quotes the official weights' RMSEs: rate-level 0.4-2.1 spikes/s, synchrony-level
    0.001-0.003, level growth about 0.04 mV. curve_rmse on the paper's final models (PReLU for
    HSR/MSR, tanh/sigmoid for LSR; IHC tanh/sigmoid) gives exactly these."""
    final = {"H": "prelu", "M": "prelu", "L": "tanh-sigm"}
    rate, sync = [], []
    for fib, act in final.items():
        for fig, out in (("a", rate), ("b", sync)):
            ref = _paper(shared_dir, "Figure6", fig, f"anf{fib}_refANF.txt")
            cnn = _paper(shared_dir, "Figure6", fig, f"anf{fib}_CoNNearANF{fib.lower()}_{act}.txt")
            out.extend(E.curve_rmse(ref[:, 1:].T, cnn[:, 1:].T))  # 1-kHz and 4-kHz curves
    assert 0.35 < min(rate) and max(rate) < 2.1, rate  # measured 0.39-2.07 spikes/s
    assert 0.0009 < min(sync) and max(sync) < 0.0032, sync  # measured 0.0010-0.0031
    ref = _paper(shared_dir, "Figure3", "b", "vihc_4kHz_refIHC.txt")
    cnn = _paper(shared_dir, "Figure3", "b", "vihc_4kHz_CoNNearIHC_tanh-sigm.txt")
    assert E.curve_rmse(ref[:, 1], cnn[:, 1]) == pytest.approx(0.0418, abs=5e-4)  # mV


def test_check_bar_limits():
    def result(exc, rate, sync, mode="full", rate_4k=1.0, lsr_rate=1.0):
        curves = {"freqs_hz": np.array([1006.99, 3972.69])}
        return {"mode": mode,
                "ihc_excitation": {"freqs_hz": np.array([250.0, 500.0, 1000.0, 2000.0]),
                                   "levels_db_spl": np.array([0.0, 80.0, 90.0, 100.0]),
                                   "rmse": np.array([[9.0, 9.0, 9.0, 9.0], [9.0, exc, 0.05, 0.05],
                                                     [9.0, 0.05, 0.05, 0.05], [9.0, 9.0, 9.0, 9.0]])},
                "anf_rate_level": dict(curves, rmse={"HSR": np.array([rate, rate_4k]), "MSR": np.array([1.0, 1.0]),
                                                     "LSR": np.array([lsr_rate, 1.0])}),
                "anf_synchrony_level": dict(curves, rmse={"HSR": np.array([sync, 0.0]), "MSR": np.zeros(2),
                                                          "LSR": np.zeros(2)})}

    # full mode: 0.1 mV, 10 spikes/s, 0.02; 250 Hz, 0 dB and 100 dB are outside the bar
    assert E.check_bar(result(0.1, 10.0, 0.02))["passed"]
    for bad in ((0.11, 1, 0.01), (0.1, 10.1, 0.01), (0.1, 1, 0.021)):
        assert not E.check_bar(result(*bad))["passed"], bad
    assert not E.check_bar(result(0.1, 1, 0.01, lsr_rate=10.5))["passed"]  # every fibre type counts
    # light mode: 0.3 mV and the HSR rate-level curve at 1 kHz only (15 spikes/s)
    assert E.check_bar(result(0.3, 15.0, 0.5, mode="light", rate_4k=40.0, lsr_rate=40.0))["passed"]
    assert not E.check_bar(result(0.31, 1, 0.01, mode="light"))["passed"]
    assert not E.check_bar(result(0.1, 15.1, 0.01, mode="light"))["passed"]
