"""Learning curves of training runs (connear_helpers.training.curves)."""
import json

import matplotlib
import numpy as np
import pytest

from connear_helpers.training import curves

matplotlib.use("Agg")


def _run(folder, stage, architecture, rows, init_from=None):
    """A run folder as fit writes it: rows of (step, wall_s, train_loss, val_loss, lr)."""
    folder.mkdir(parents=True)
    (folder / "state.json").write_text(json.dumps({"stage": stage, "architecture": architecture,
                                                   "step": rows[-1][0] if rows else 0, "init_from": init_from}))
    lines = ["step,wall_s,train_loss,val_loss,lr"] + [",".join(str(x) for x in r) for r in rows]
    (folder / "history.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_run_is_read_in_cpu_hours_and_sorted_by_step(tmp_path):
    run = _run(tmp_path / "ihc", "ihc", "ihc_f32",
               [(200, 1800.0, 0.5, 0.4, 1e-3), (100, 900.0, 0.6, 0.5, 1e-3), (300, 7200.0, 0.3, 0.45, 5e-4)])
    r = curves.read_run(run)
    assert r["stage"] == "ihc" and r["architecture"] == "ihc_f32"
    np.testing.assert_array_equal(r["step"], [100, 200, 300])
    np.testing.assert_allclose(r["cpu_hours"], [0.25, 0.5, 2.0])
    np.testing.assert_allclose(r["val_loss"], [0.5, 0.4, 0.45])


def test_best_so_far_is_the_running_minimum():
    np.testing.assert_allclose(curves.best_so_far(np.array([3.0, 2.0, np.nan, 2.5, 1.0])), [3, 2, 2, 2, 1])


def test_trend_is_the_relative_fall_of_the_best_loss_per_window(tmp_path):
    # best validation loss: 1.0 at 0 h, 0.5 at 1 h, 0.4 at 2 h (and a worse value at the end)
    rows = [(1, 0.0, 1, 1.0, 1e-3), (2, 3600.0, 1, 0.5, 1e-3), (3, 7200.0, 1, 0.4, 1e-3), (4, 7200.0, 1, 0.9, 1e-3)]
    r = curves.read_run(_run(tmp_path / "anfh", "anfh", "anf_l8f16", rows))
    last, before = curves.trend(r, hours=1.0)
    assert last == pytest.approx(0.2)  # 0.5 -> 0.4
    assert before == pytest.approx(0.5)  # 1.0 -> 0.5
    assert all(np.isnan(curves.trend(r, hours=1.5)[1:]))  # window before the run began
    row = curves.format_table([r]).splitlines()[1].split()  # what the command line prints
    assert row[:6] == ["anfh", "anf_l8f16", "2.00", "0.00", "4", "0.4"] and row[6:] == ["20.0", "%", "50.0", "%"]


def test_set_scores_are_placed_at_the_cpu_hours_of_their_best_step(tmp_path):
    rows = [(100, 360.0, 1, 0.5, 1e-3), (200, 720.0, 1, 0.4, 1e-3), (300, 1080.0, 1, 0.3, 1e-3)]
    run = curves.read_run(_run(tmp_path / "runs" / "anfl", "anfl", "anf_l8f16", rows))
    other = curves.read_run(_run(tmp_path / "runs" / "anfl_f32", "anfl", "anf_l8f32", rows))
    sets = []
    for name, best_step, score in (("a", 200, 1.2), ("b", 300, 0.7)):
        (tmp_path / name).mkdir()
        manifest = {"version": "2026.12.02", "scores": {"anfl": score, "ihc": 3.0},
                    "models": {"anfl": {"architecture": "anf_l8f16", "training": {"best_step": best_step}},
                               "ihc": {"architecture": "ihc_f32", "training": {"best_step": 1}}}}
        (tmp_path / name / "manifest.json").write_text(json.dumps(manifest))
        sets.append(tmp_path / name / "manifest.json")
    points = curves.score_points(sets, [run, other])
    assert points["anfl_f32"] == []  # another architecture: not this run's weights
    assert [(round(h, 3), s) for h, s, _ in points["anfl"]] == [(0.2, 1.2), (0.3, 0.7)]
    assert [v for _, _, v in points["anfl"]] == ["2026.12.02 (a)", "2026.12.02 (b)"]  # same version: folder named
    fig = curves.plot_learning_curves([run, other], points)
    assert sum(ax.get_visible() for ax in fig.axes if ax.get_ylabel().startswith("L1")) == 2
    assert any(ax.get_ylabel().startswith("score") for ax in fig.axes)  # the scores' axis on the first run
    table = curves.format_table([run, other])
    assert "anf_l8f32" in table and "0.3" in table


def test_a_set_model_is_placed_only_on_the_run_that_trained_it(tmp_path):
    """Two runs of one stage and architecture that both passed the set's best step: the score
    goes on the run whose validation loss at that step is the model's, not on both; a run whose
    history lacks the step gets nothing (no guessed position)."""
    fine_tune = curves.read_run(_run(tmp_path / "coch_ema", "cochlea", "c64", [(200, 720.0, 1, 0.09, 1e-3),
                                                                               (400, 1440.0, 1, 0.0724, 1e-3)],
                                     init_from={"set": "x", "model": "cochlea", "steps_total": 10,
                                                "cpu_hours_total": 1.17}))
    other = curves.read_run(_run(tmp_path / "coch_b2", "cochlea", "c64", [(200, 700.0, 1, 0.12, 1e-3),
                                                                          (400, 1400.0, 1, 0.11, 1e-3)]))
    short = curves.read_run(_run(tmp_path / "coch_s", "cochlea", "c64", [(200, 700.0, 1, 0.12, 1e-3)]))
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "manifest.json").write_text(json.dumps(
        {"version": "2026.12.03", "scores": {"cochlea": 2.47},
         "models": {"cochlea": {"architecture": "c64", "training": {"best_step": 400,
                                                                   "best_validation_loss_cnn_units": 0.0724}}}}))
    points = curves.score_points([tmp_path / "set" / "manifest.json"], [fine_tune, other, short])
    assert points == {"coch_ema": [(0.4, 2.47, "2026.12.03")], "coch_b2": [], "coch_s": []}
    # the fine-tune's time axis starts at its parent model's CPU-hours
    assert fine_tune["hours_before"] == 1.17 and other["hours_before"] == 0.0
    fig = curves.plot_learning_curves([fine_tune, other], points)
    line = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), [1.17 + 0.2, 1.17 + 0.4])
    assert "1.17 h before this run" in fig.axes[0].get_xlabel()
    score_axis = [ax for ax in fig.axes if ax.get_ylabel().startswith("score")][0]
    np.testing.assert_allclose(score_axis.get_lines()[0].get_xdata(), [1.57])
    # the same model kept by a later set: one label naming both sets, not two labels drawn over each other
    (tmp_path / "set2").mkdir()
    (tmp_path / "set2" / "manifest.json").write_text(
        (tmp_path / "set" / "manifest.json").read_text().replace("2026.12.03", "2026.12.04"))
    points = curves.score_points([tmp_path / "set" / "manifest.json", tmp_path / "set2" / "manifest.json"],
                                 [fine_tune])
    fig = curves.plot_learning_curves([fine_tune], points)
    score_axis = [ax for ax in fig.axes if ax.get_ylabel().startswith("score")][0]
    assert [t.get_text() for t in score_axis.texts] == ["2026.12.03, 2026.12.04"]


def test_a_folder_without_history_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="state.json"):
        curves.read_run(tmp_path)
    with pytest.raises(ValueError, match="no rows yet"):  # a run that has not validated yet
        curves.read_run(_run(tmp_path / "ihc", "ihc", "ihc_f32", []))


def test_command_line_writes_the_figure(tmp_path, capsys):
    run = _run(tmp_path / "cochlea", "cochlea", "cochlea_f64k32",
               [(100, 3600.0, 0.2, 0.3, 1e-3), (200, 7200.0, 0.1, 0.2, 1e-3)])
    out = tmp_path / "curves.png"
    curves.main([str(run), "--out", str(out)])
    assert out.stat().st_size > 1000
    assert "cochlea_f64k32" in capsys.readouterr().out


def _set(version, scores, training):
    """A manifest of a weight set: {stage: training dict} and {stage: score}."""
    return {"version": version, "scores": scores,
            "models": {s: {"architecture": "x", "training": t} for s, t in training.items()}}


def test_a_models_cpu_hours_add_the_runs_before_it_up_to_the_kept_checkpoint():
    first = {"cpu_hours": 1.17}  # a first set: no lineage, no kept-checkpoint hours
    fine_tune = {"cpu_hours": 2.0, "cpu_hours_at_best": 1.5, "init_from": {"cpu_hours_total": 3.0}}
    assert curves.model_cpu_hours({"training": first}) == pytest.approx(1.17)
    assert curves.model_cpu_hours({"training": fine_tune}) == pytest.approx(4.5)  # not 5.0: the run went past its best
    assert np.isnan(curves.model_cpu_hours({}))


def test_set_history_keeps_the_sets_order_and_a_kept_model_at_its_hours():
    sets = [_set("2026.12.02", {"ihc": 1.7, "anfh": 1.6}, {"ihc": {"cpu_hours": 1.8}, "anfh": {"cpu_hours": 0.9}}),
            _set("2026.12.03", {"ihc": 1.4, "anfh": 1.6},
                 {"ihc": {"cpu_hours": 1.7, "init_from": {"cpu_hours_total": 1.8}}, "anfh": {"cpu_hours": 0.9}})]
    history = curves.set_history(sets)
    assert history["ihc"] == [(pytest.approx(1.8), 1.7, "2026.12.02"), (pytest.approx(3.5), 1.4, "2026.12.03")]
    assert [h for h, _, _ in history["anfh"]] == [0.9, 0.9]  # kept, not trained: no new hours
    fig = curves.plot_set_history(history)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["ihc", "anfh"]
    assert "2026.12.02, 2026.12.03" in [t.get_text() for t in fig.axes[1].texts]  # one point, both sets
    three = [(1.0, 0.5, v) for v in ("2026.12.02", "2026.12.03", "2026.12.04")] + [(1.0, 0.5, "2026.12.04")]
    assert curves._point_labels(three) == {(1.0, 0.5): "2026.12.02 to 2026.12.04"}


def test_history_from_git_reads_every_committed_manifest_oldest_first(tmp_path, capsys):
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git not installed")
    repo = tmp_path / "clone"
    (repo / "connear_weights").mkdir(parents=True)

    def git(*args):
        subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                       check=True, capture_output=True)

    git("init", "-q")
    for version, score in (("2026.12.02", 2.0), ("2026.12.03", 1.5)):
        (repo / "connear_weights" / "manifest.json").write_text(
            json.dumps(_set(version, {"ihc": score}, {"ihc": {"cpu_hours": score}})))
        git("add", "-A")
        git("commit", "-q", "-m", version)
    assert [m["version"] for m in curves.manifests_from_git(repo=repo)] == ["2026.12.02", "2026.12.03"]
    with pytest.raises(RuntimeError, match="git clone"):
        curves.manifests_from_git(repo=tmp_path)  # not a git checkout
    out = tmp_path / "scores.png"
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps(_set("2026.12.04", {"ihc": 0.9}, {"ihc": {"cpu_hours": 4.0}})))
    curves.main(["--history", str(manifest), "--out", str(out)])
    assert out.stat().st_size > 1000
    assert "2026.12.04" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        curves.main(["some_run", "--history"])  # runs and --history together
