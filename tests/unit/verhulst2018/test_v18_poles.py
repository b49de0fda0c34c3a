"""Grid, tonotopy and pole profiles (spec §4.2, §9)."""
import numpy as np
import pytest

from verhulst2018 import poles

AUDIOGRAM_F = [250, 500, 1000, 2000, 4000, 8000]


def test_grid_and_greenwood_reference_values():
    x = poles.node_position()
    assert x.shape == (1001,) and x[-1] == 0.034 and x[0] == 0.0
    f = poles.section_cf()
    expected = {
        0: 20541.4,
        1: 20441.634587311113,
        110: 12009.824013858139,
        212: 7279.169499070247,
        500: 1702.6639687653671,
        910: 113.2536626035544,
        1000: 23.67918279415204,
    }
    for i, value in expected.items():
        assert f[i] == pytest.approx(value, rel=1e-14), i
    assert np.all(np.diff(f) < 0)  # base (high CF) to apex


def test_normal_hearing_profile_shape():
    p = poles.normal_hearing_poles()
    assert p.shape == (1001,) and p.dtype == np.float64
    np.testing.assert_array_equal(p[:212], 0.037)  # floor: CF >= 7294 Hz
    assert p[212] > 0.037
    assert np.all(np.diff(p) >= 0)  # broader tuning towards the apex
    assert p[1000] == pytest.approx(0.1559638, rel=1e-4)


def test_normal_hearing_matches_starting_poles_file(shared_dir):
    ref = np.load(shared_dir / "reference" / "starting_poles.npy")
    p = poles.normal_hearing_poles()
    rel = np.abs(p / ref - 1)
    assert rel.max() < 1e-4  # measured 4.63e-5 at node 670 (spec §9.2)
    np.testing.assert_array_equal(p[:212], ref[:212])


def test_validate_poles_forms():
    np.testing.assert_array_equal(poles.validate_poles(0.06), np.full(1001, 0.06))
    v = np.linspace(0.04, 0.2, 1000)
    p = poles.validate_poles(v)
    assert p.shape == (1001,) and p[0] == v[0]
    np.testing.assert_array_equal(p[1:], v)
    w = np.linspace(0.04, 0.2, 1001)
    out = poles.validate_poles(list(w))
    np.testing.assert_array_equal(out, w)
    out[0] = 0.5
    assert w[0] == 0.04  # a copy, not a view


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.full(999, 0.05), "got shape"),
        (np.full((1001, 1), 0.05), "got shape"),
        (np.r_[np.nan, np.full(1000, 0.05)], "strictly between 0 and 1"),
        (0.0, "strictly between 0 and 1"),
        (1.0, "strictly between 0 and 1"),
        (-0.1, "strictly between 0 and 1"),
    ],
)
def test_validate_poles_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        poles.validate_poles(bad)


def test_audiogram_zero_loss_is_normal_hearing_on_the_grid():
    nh = poles.normal_hearing_poles()
    p = poles.poles_from_audiogram(AUDIOGRAM_F, [0] * 6)
    assert p.shape == (1001,)
    np.testing.assert_array_equal(p[:212], 0.037)  # exact grid values stay put
    assert np.all(p >= nh - 1e-15) and np.all(p - nh < 0.001 + 1e-12)  # rounded up to 0.001
    np.testing.assert_allclose(p * 1000, np.round(p * 1000), atol=1e-9)
    np.testing.assert_array_equal(poles.poles_from_audiogram(AUDIOGRAM_F, [-10] * 6), p)


def test_audiogram_monotone_in_loss_and_capped():
    nh = poles.normal_hearing_poles()
    previous = poles.poles_from_audiogram(AUDIOGRAM_F, [0] * 6)
    for hl in (5, 10, 20, 30, 33, 35, 60):
        p = poles.poles_from_audiogram(AUDIOGRAM_F, [hl] * 6)
        assert np.all(p >= previous) and np.any(p > previous) or np.all(p == 0.302)
        assert p.max() <= 0.302
        previous = p
    np.testing.assert_array_equal(poles.poles_from_audiogram([1000], [35]), 0.302)
    # median ratio r(HL) of spec §9.3 before rounding: 20 dB -> 2.926
    p20 = poles.poles_from_audiogram([1000], [20])
    below_cap = p20 < 0.302
    ratio = np.median(p20[below_cap] / nh[below_cap])
    assert 2.926 <= ratio < 2.926 * 1.03


def test_audiogram_interpolation_in_section_index():
    cf = poles.section_cf()
    hl = poles.hearing_loss_per_section([1000, 4000], [0, 30])
    i1k = 1 + np.argmin(np.abs(cf[1:] - 1000))
    i4k = 1 + np.argmin(np.abs(cf[1:] - 4000))
    assert hl[i1k - 1] == 0 and hl[i4k - 1] == 30
    assert np.all(hl[: i4k - 1] == 30) and np.all(hl[i1k - 1:] == 0)  # constant extrapolation
    mid = (i1k + i4k) // 2
    assert hl[mid - 1] == pytest.approx(30 * (i1k - mid) / (i1k - i4k))
    # a high-frequency loss raises only the basal poles
    p = poles.poles_from_audiogram([1000, 4000], [0, 30])
    p0 = poles.poles_from_audiogram([1000, 4000], [0, 0])
    assert np.all(p[i1k:] == p0[i1k:]) and np.all(p[1:i4k + 1] > p0[1:i4k + 1])
    assert p[0] == p[1]


def test_duplicate_frequencies_later_wins():
    a = poles.hearing_loss_per_section([1000, 1000], [10, 20])
    b = poles.hearing_loss_per_section([1000], [20])
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "f, hl, match",
    [
        ([1000, 2000], [10], "same non-zero length"),
        ([], [], "same non-zero length"),
        ([1000, np.nan], [10, 10], "finite"),
        ([1000, 2000], [10, np.inf], "finite"),
        ([0, 1000], [10, 10], "CF range"),
        ([1000, 30000], [10, 10], "CF range"),
        ([-500], [10], "CF range"),
    ],
)
def test_audiogram_errors(f, hl, match):
    with pytest.raises(ValueError, match=match):
        poles.poles_from_audiogram(f, hl)
