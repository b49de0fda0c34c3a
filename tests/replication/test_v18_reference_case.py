"""The whole chain against the original model's output (../shared/reference, 500 Hz, 70 dB).

Tolerances (relative RMS error per channel) are those of issue #2: below 1e-4 with the
reference's own pole profile and integrator mode (faithful implementations agree to ~1e-8;
the stored reference is float32, which alone costs ~3e-8), below 1 % in the other
integrator mode, below 1 % with the fitted normal-hearing profile.
"""
import numpy as np
import pytest

import verhulst2018

PAIRS = [("v", "v"), ("y", "y"), ("ihc", "ihc"), ("anfh", "anfH"), ("anfm", "anfM"), ("anfl", "anfL")]


def rel_rms(x, ref):
    """Relative RMS error per channel (columns)."""
    x = np.asarray(x, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    return np.sqrt(np.mean((x - ref) ** 2, axis=0)) / np.sqrt(np.mean(ref**2, axis=0))


@pytest.fixture(scope="module")
def reference_poles(shared_dir):
    return np.load(shared_dir / "reference" / "starting_poles.npy")


def run(reference_case, **kw):
    return verhulst2018.simulate(
        reference_case["stimulus"],
        fs=float(reference_case["fs"]),
        cf=reference_case["channel_cf"],
        outputs=("v", "y", "ihc", "anfh", "anfm", "anfl", "emission"),
        progress=False,
        **kw,
    )


@pytest.fixture(scope="module")
def matched(reference_case, reference_poles):
    return run(reference_case, poles=reference_poles, integrator="scipy117")


def test_channels_are_the_reference_sections(reference_case, matched):
    np.testing.assert_array_equal(matched.section, reference_case["channel_section"])
    np.testing.assert_allclose(matched.cf, reference_case["channel_cf"], rtol=1e-12)


@pytest.mark.parametrize("name,key", PAIRS)
def test_matched_mode_agrees_below_1e4(reference_case, matched, name, key):
    err = rel_rms(getattr(matched, name), reference_case[key])
    assert err.max() < 1e-4, f"{name}: relative RMS error per channel {err}"
    # what a faithful implementation achieves (float32 storage of the reference): ~3e-8
    assert err.max() < 1e-6, f"{name}: {err.max():.2e} is far above the ~3e-8 we reach"


def test_matched_mode_emission(reference_case, matched):
    err = rel_rms(matched.emission[:, None], reference_case["emission"][:, None])
    assert err.max() < 1e-4


def test_matched_mode_same_number_of_rhs_evaluations(reference_case, matched):
    # the integrator's stage sequence is reproduced, so the evaluation count matches
    n_ref = int(reference_case["n_rhs_evals"])
    assert abs(matched.n_rhs_evaluations - n_ref) <= 0.001 * n_ref


def test_last_two_bm_samples_are_zero_like_the_original(matched):
    assert np.all(matched.v[-2:] == 0) and np.all(matched.y[-2:] == 0)
    assert np.any(matched.v[-3] != 0)


@pytest.mark.parametrize(
    "label,kw",
    [("legacy integrator", {"integrator": "legacy", "use_reference_poles": True}), ("normal poles", {})],
)
def test_other_configurations_agree_below_one_percent(reference_case, reference_poles, label, kw):
    kw = dict(kw)
    if kw.pop("use_reference_poles", False):
        kw["poles"] = reference_poles
    out = run(reference_case, **kw)
    for name, key in PAIRS:
        err = rel_rms(getattr(out, name), reference_case[key])
        assert err.max() < 1e-2, f"{label}, {name}: {err}"
    # and they do differ: the option is not ignored
    assert rel_rms(out.v, reference_case["v"]).max() > 1e-6
