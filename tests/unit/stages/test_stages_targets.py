"""Targets from NPZ/HDF5 files the tests write, and synthetic targets with a known reliability."""
import h5py
import numpy as np
import pytest

from connear_helpers import stages


def _sounds(n):
    return stages.SoundSet(np.ones((n, 40)), 20_000.0, [f"s{i}" for i in range(n)], ["x"] * n, [70.0] * n, 0.002)


def test_load_npz_written_by_numpy(tmp_path):
    rng = np.random.default_rng(0)
    resp = rng.standard_normal((6, 3, 2))
    np.savez(tmp_path / "r.npz", responses=resp, sound_names=np.array([f"s{i}" for i in range(6)]),
             regions=np.array(["A", "A", "B"]))
    t = stages.load_targets(tmp_path / "r.npz", sounds=_sounds(6))
    np.testing.assert_array_equal(t.responses, resp)
    assert t.target_names == ("t0", "t1", "t2") and t.region_names() == ["A", "B"] and t.n_repeats == 2
    np.testing.assert_array_equal(t.region("B").responses, resp[:, 2:])


def test_load_hdf5_written_by_h5py(tmp_path):
    resp = np.arange(12.0).reshape(4, 3)
    with h5py.File(tmp_path / "r.h5", "w") as f:
        f["responses"] = resp
        f["target_names"] = np.array(["v1", "v2", "v3"]).astype(h5py.string_dtype())
    t = stages.load_targets(tmp_path / "r.h5", sounds=4)
    np.testing.assert_array_equal(t.responses, resp)
    assert t.target_names == ("v1", "v2", "v3") and t.regions == ("all",) * 3


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_save_and_load_round_trip(tmp_path, suffix):
    t = stages.synthetic_targets(np.random.default_rng(1).standard_normal((5, 4)), n_targets=3, region="R",
                                 sound_names=[f"s{i}" for i in range(5)])
    back = stages.load_targets(stages.save_targets(tmp_path / f"t{suffix}", t), sounds=_sounds(5))
    np.testing.assert_array_equal(back.responses, t.responses)
    assert back.regions == t.regions and back.sound_names == t.sound_names


def test_mismatched_sounds_and_bad_files_give_clear_errors(tmp_path):
    np.savez(tmp_path / "r.npz", responses=np.zeros((5, 2)), sound_names=np.array(list("abcde")))
    with pytest.raises(ValueError, match="5 sounds but the sound set has 6"):
        stages.load_targets(tmp_path / "r.npz", sounds=_sounds(6))
    with pytest.raises(ValueError, match="sound 0 is 'a' in the file but 's0'"):
        stages.load_targets(tmp_path / "r.npz", sounds=_sounds(5))
    np.savez(tmp_path / "no.npz", data=np.zeros((5, 2)))
    with pytest.raises(ValueError, match="no 'responses'"):
        stages.load_targets(tmp_path / "no.npz")
    np.savez(tmp_path / "nan.npz", responses=np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match="NaN"):
        stages.load_targets(tmp_path / "nan.npz")
    (tmp_path / "r.csv").write_text("1,2\n")
    with pytest.raises(ValueError, match="npz"):
        stages.load_targets(tmp_path / "r.csv")
    with pytest.raises(FileNotFoundError):
        stages.load_targets(tmp_path / "missing.npz")


def test_synthetic_targets_have_the_asked_reliability():
    X = np.random.default_rng(2).standard_normal((80, 12))
    t = stages.synthetic_targets(X, n_targets=200, reliability=0.6, n_repeats=4, seed=3)
    r_half, _ = stages.split_half_reliability(t.responses)
    assert np.median(r_half) == pytest.approx(0.6, abs=0.05)
    exact = stages.synthetic_targets(X, n_targets=5, reliability=1.0, seed=3).responses
    np.testing.assert_array_equal(exact[..., 0], exact[..., 3])  # reliability 1: no noise
    a = stages.synthetic_targets(X, n_targets=5, seed=9).responses
    np.testing.assert_array_equal(a, stages.synthetic_targets(X, n_targets=5, seed=9).responses)
    with pytest.raises(ValueError, match="even"):
        stages.synthetic_targets(X, n_repeats=3)


def test_join_targets():
    X = np.random.default_rng(4).standard_normal((6, 3))
    a = stages.synthetic_targets(X, n_targets=2, region="A")
    b = stages.synthetic_targets(X, n_targets=3, region="B")
    j = stages.join_targets([a, b])
    assert j.responses.shape == (6, 5, 4) and j.regions == ("A",) * 2 + ("B",) * 3
    with pytest.raises(ValueError, match="n_sounds, n_repeats"):
        stages.join_targets([a, stages.synthetic_targets(X[:5], n_targets=2)])
