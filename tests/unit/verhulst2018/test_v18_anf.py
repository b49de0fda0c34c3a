"""Auditory-nerve synapse (spec §7)."""
import numpy as np
import pytest

from verhulst2018 import anf
from verhulst2018.ihc import ihc_rest_potential

FS_AN = 20000.0
REST = -0.05765632053224665  # IHC rest potential at 100 kHz (checked in test_v18_ihc.py)


@pytest.mark.parametrize(
    "fibre, l_ss, m_ss, v_half",
    [
        ("lsr", 59.72727, 13.91636, -0.0470050),
        ("msr", 57.27273, 13.16364, -0.0501373),
        ("hsr", 41.31818, 8.27091, -0.0513953),
    ],
)
def test_derived_constants(fibre, l_ss, m_ss, v_half):
    c = anf.fibre_constants(fibre, FS_AN)
    assert c["L_ss"] == pytest.approx(l_ss, abs=1e-5)
    assert c["M_ss"] == pytest.approx(m_ss, abs=1e-5)
    assert c["V_half"] == pytest.approx(v_half, abs=1e-7)
    assert c["k0"] ** 2 == pytest.approx(c["sp"] / c["psr"], rel=1e-13)  # k0^2 = sp/psr
    assert c["n_ref"] == 12
    assert c["r"] == pytest.approx(220 / 60, rel=1e-15)
    assert c["alpha_ca"] == pytest.approx(np.exp(-0.25), rel=1e-15)
    assert c["alpha_ref"] == pytest.approx(np.exp(-1 / 12), rel=1e-15)


def test_fibre_aliases_and_errors():
    x = np.full((30, 2), REST)
    np.testing.assert_array_equal(anf.anf_rate(x, FS_AN, "h"), anf.anf_rate(x, FS_AN, "HSR"))
    with pytest.raises(ValueError, match="'hsr', 'msr', 'lsr'"):
        anf.anf_rate(x, FS_AN, "x")
    with pytest.raises(ValueError, match=r"\(M, C\)"):
        anf.anf_rate(np.zeros(30), FS_AN, "hsr")
    with pytest.raises(ValueError, match="positive sample rate"):
        anf.anf_rate(x, -1.0, "hsr")
    with pytest.raises(ValueError, match="too low"):
        anf.anf_rate(x, 500.0, "hsr")


def test_spontaneous_rates_in_silence():
    # The spec's "effective spontaneous rates" (§7) are the rates 200 ms into silence; the
    # reserve pool (time constant ~0.3 s) keeps creeping up afterwards, to about 50.98, 6.716 and
    # 0.6600 spikes/s after 3 s. The nominal sp values (68.5, 10, 1) are never reached because the
    # IHC rests at -57.66 mV instead of the -57.03 mV used to place V_half.
    assert ihc_rest_potential(100000.0) == REST
    x = np.full((4001, 1), REST)
    expected = {"hsr": 48.58, "msr": 6.654, "lsr": 0.6594}
    for fibre, rate in expected.items():
        r = anf.anf_rate(x, FS_AN, fibre)[:, 0]
        assert r[4000] == pytest.approx(rate, rel=2e-4)
        assert r[3000] < r[4000]  # slow rise towards the long-term value


def test_onset_adaptation_offset_suppression_and_ordering():
    x = np.full((4000, 2), REST)
    x[2000:3000, 0] = -0.045  # 50-ms depolarising step in channel 0; channel 1 stays silent
    peak, sustained, spont = {}, {}, {}
    for fibre in ("hsr", "msr", "lsr"):
        r = anf.anf_rate(x, FS_AN, fibre)
        assert np.all(r >= 0) and np.all(r <= FS_AN)
        np.testing.assert_array_equal(r[:2000, 0], r[:2000, 1])  # channels independent
        spont[fibre] = r[1999, 0]
        peak[fibre] = r[2000:2040, 0].max()
        sustained[fibre] = r[2900:3000, 0].mean()
        assert peak[fibre] > 1.7 * sustained[fibre]  # onset, then adaptation
        assert sustained[fibre] > 3 * spont[fibre]
        assert r[3000:3100, 0].min() < 0.6 * spont[fibre]  # post-stimulus suppression
        # the response starts in the step's first sample (Ca filter, no extra delay)
        assert r[2000, 0] > 1.5 * spont[fibre]
    assert peak["hsr"] > peak["msr"] > peak["lsr"]
    assert spont["hsr"] > spont["msr"] > spont["lsr"]


def test_hyperpolarisation_reduces_rate():
    x = np.full((400, 1), REST)
    x[200:] = REST - 5e-3
    r = anf.anf_rate(x, FS_AN, "hsr")[:, 0]
    assert r[399] < 0.2 * r[199]
