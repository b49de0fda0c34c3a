"""The 201 CoNNear CFs (spec §3) and the nearest-CF rule."""
import numpy as np
import pytest

from connear_helpers.analysis import cf


def test_201_cfs_descending_with_the_spec_endpoints():
    cfs = cf.connear_cfs()
    assert cfs.shape == (201,)
    assert np.all(np.diff(cfs) < 0)
    # cf.txt row 0 = 12.00982 kHz, row 200 = 0.113254 kHz (spec §3)
    assert cfs[0] == pytest.approx(12009.82, abs=0.01)
    assert cfs[-1] == pytest.approx(113.254, abs=0.001)


@pytest.mark.parametrize(
    "target, index, cf_hz",
    [
        (150, 193, 150.0590),
        (500, 152, 501.7702),
        (1000, 122, 1006.9895),
        (2000, 90, 1990.4215),
        (4000, 56, 3972.6887),
        (8000, 21, 7953.9106),
        (12000, 0, 12009.8240),
    ],
)
def test_frequently_used_channels(target, index, cf_hz):
    cfs = cf.connear_cfs()
    assert cf.nearest_cf_index(cfs, target) == index
    assert cfs[index] == pytest.approx(cf_hz, abs=1e-4)
    assert cf.snap_to_cf(target) == pytest.approx(cf_hz, abs=1e-4)


def test_connear_cfs_are_every_second_abr_probe():
    abr = cf.abr_probe_cfs()
    assert abr.shape == (401,)
    np.testing.assert_allclose(abr[::2], cf.connear_cfs(), rtol=0, atol=1e-9)


def test_cfs_match_the_reference_model_output(shared_dir):
    with np.load(shared_dir / "reference" / "v18_tone500_70dB.npz") as f:
        ref_cf = f["cf"]
    np.testing.assert_allclose(cf.abr_probe_cfs(), ref_cf, rtol=0, atol=1e-6)


def test_nearest_cf_index_vectorised_and_first_minimum():
    cfs = np.array([300.0, 200.0, 100.0])
    np.testing.assert_array_equal(cf.nearest_cf_index(cfs, [310, 149, 151, 0]), [0, 2, 1, 2])
    # exactly half-way: the first minimum (lower index) wins
    assert cf.nearest_cf_index(cfs, 250.0) == 0


def test_ac_dc_frequency_list_of_the_paper():
    freqs = cf.log_spaced_cf_frequencies(150, 8000, 20)
    idx = cf.nearest_cf_index(cf.connear_cfs(), freqs)
    expected = [193, 187, 181, 174, 166, 158, 150, 141, 132, 123, 113, 104, 94, 83, 73, 63, 52, 42, 31, 21]
    np.testing.assert_array_equal(idx, expected)
    assert freqs[0] == pytest.approx(150.06, abs=0.01)
    assert freqs[-1] == pytest.approx(7953.91, abs=0.01)


def test_errors():
    with pytest.raises(ValueError, match="non-empty 1-D"):
        cf.nearest_cf_index(np.zeros((2, 2)), 100)
    with pytest.raises(ValueError, match="finite"):
        cf.nearest_cf_index(cf.connear_cfs(), np.nan)
    with pytest.raises(ValueError, match="f_low_hz < f_high_hz"):
        cf.log_spaced_cf_frequencies(8000, 150, 20)
