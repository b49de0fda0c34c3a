"""The compiled IHC and ANF loops against their NumPy specifications, in blocks of time."""
import numpy as np
import pytest

from verhulst2018 import anf, ihc


@pytest.fixture(scope="module")
def bm_velocity():
    rng = np.random.default_rng(7)
    t = np.arange(3000) / 100_000.0
    v = 1e-6 * np.sin(2 * np.pi * 1000 * t)[:, None] * np.logspace(-2, 1, 7)[None, :]
    return v + 1e-9 * rng.standard_normal(v.shape)


def test_ihc_engines_agree_across_blocks(bm_velocity, monkeypatch):
    ref = ihc.ihc_potential(bm_velocity, 100_000.0, engine="numpy")
    monkeypatch.setattr(ihc, "BLOCK_ELEMENTS", 7 * 333)  # force several uneven blocks
    for engine in ("exact", "cpp", "numpy"):
        got = ihc.ihc_potential(bm_velocity, 100_000.0, engine=engine)
        np.testing.assert_allclose(got, ref, rtol=1e-13, atol=0)


@pytest.mark.parametrize("fibre", ["hsr", "msr", "lsr"])
def test_anf_engines_agree_across_blocks(bm_velocity, fibre, monkeypatch):
    vihc = ihc.decimate_ihc(ihc.ihc_potential(bm_velocity, 100_000.0))
    ref = anf.anf_rate(vihc, 20_000.0, fibre, engine="numpy")
    monkeypatch.setattr(anf, "BLOCK_ELEMENTS", 7 * 97)
    for engine in ("exact", "cpp", "numpy"):
        got = anf.anf_rate(vihc, 20_000.0, fibre, engine=engine)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    assert ref.max() > 3 * ref[:5].mean()  # the drive did something


def test_unknown_engine_is_an_error(bm_velocity):
    with pytest.raises(ValueError, match="engine"):
        ihc.ihc_potential(bm_velocity, 100_000.0, engine="fortran")
    with pytest.raises(ValueError, match="engine"):
        anf.anf_rate(bm_velocity, 20_000.0, "hsr", engine="fortran")


def loud_and_quiet_velocity():
    """BM velocity from near silence to far beyond saturation (the MET exp() arguments then
    leave the vectorised exp's main range, so its fallback path runs too)."""
    rng = np.random.default_rng(3)
    t = np.arange(2000) / 100_000.0
    v = np.sin(2 * np.pi * 700 * t)[:, None] * np.logspace(-10, -2, 13)[None, :]
    return v + 1e-10 * rng.standard_normal(v.shape)


def test_ihc_simd_portable_and_numpy_loops_are_bit_identical():
    v = loud_and_quiet_velocity()
    ref = ihc.ihc_potential(v, 100_000.0, engine="numpy")
    np.testing.assert_array_equal(ihc.ihc_potential(v, 100_000.0, simd=True), ref)
    np.testing.assert_array_equal(ihc.ihc_potential(v, 100_000.0, simd=False), ref)
    assert np.ptp(ref[:, -1]) > 10 * np.ptp(ref[:, 0])  # the levels span the MET curve


@pytest.mark.parametrize("fibre", ["hsr", "msr", "lsr"])
def test_anf_simd_portable_and_numpy_loops_are_bit_identical(fibre):
    vihc = ihc.decimate_ihc(ihc.ihc_potential(loud_and_quiet_velocity(), 100_000.0))
    ref = anf.anf_rate(vihc, 20_000.0, fibre, engine="numpy")
    np.testing.assert_array_equal(anf.anf_rate(vihc, 20_000.0, fibre, simd=True), ref)
    np.testing.assert_array_equal(anf.anf_rate(vihc, 20_000.0, fibre, simd=False), ref)


def test_ihc_can_overwrite_its_input_with_the_same_numbers():
    v = loud_and_quiet_velocity()
    ref = ihc.ihc_potential(v, 100_000.0)
    work = v.copy()
    got = ihc.ihc_potential(work, 100_000.0, overwrite_input=True)
    assert np.shares_memory(got, work)
    np.testing.assert_array_equal(got, ref)
    # a non-contiguous input is not overwritten (the result is new memory)
    wide = np.repeat(v, 2, axis=1)[:, ::2]
    got2 = ihc.ihc_potential(wide, 100_000.0, overwrite_input=True)
    assert not np.shares_memory(got2, wide)
    np.testing.assert_array_equal(got2, ref)
