"""The whole chain against the original model's output (../shared/reference, 500 Hz, 70 dB).

Two errors per output: the joint one (energy-weighted over all channels,
sqrt(sum (x - ref)^2) / sqrt(sum ref^2)) and the worst channel's relative RMS error.

With the reference's own pole profile and integrator mode:

* on every machine: joint below 1e-4 (issue #2's bound) and per channel below 2e-2. The original
  itself, run on a second machine of the same kind, moves by ~3e-5 jointly and by up to 1.5 % in
  the quiet apical channels, because its 1 % pole hysteresis turns a last-bit difference of the
  arithmetic into another trajectory (measured before this project made its set-up portable:
  on an AVX-512 CPU whose NumPy exp differed in the last bit, per channel v 9.4e-5, y 1.03e-4);
* where this machine does the original's arithmetic (``reference_arithmetic``, see conftest):
  per channel below 1e-6; measured 2-3e-8, the float32 storage of the reference.

Below 1 % (joint and per channel) in the other integrator mode and with the fitted normal-hearing
profile.

The fast engine (verhulst2018/fast.py) against the original, in both integrator modes: joint below
1 % for every output and per channel below 2 % for the ANF rates (issue #12's tolerances; measured
joint 3-5e-4 for v, y and the rates, 4e-5 for ihc, per channel at most 1.5e-3).
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


def joint_rel_rms(x, ref):
    """Relative RMS error over all channels together (energy-weighted)."""
    x = np.asarray(x, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    return float(np.sqrt(np.sum((x - ref) ** 2)) / np.sqrt(np.sum(ref**2)))


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
def test_matched_mode_agrees_below_1e4(reference_case, matched, name, key, reference_arithmetic):
    joint = joint_rel_rms(getattr(matched, name), reference_case[key])
    err = rel_rms(getattr(matched, name), reference_case[key])
    assert joint < 1e-4, f"{name}: joint relative RMS error {joint:.2e}"
    assert err.max() < 2e-2, f"{name}: relative RMS error per channel {err}"
    if reference_arithmetic:
        # the original's arithmetic: only the float32 storage of the reference is left, ~3e-8
        assert err.max() < 1e-6, f"{name}: {err.max():.2e} is far above the ~3e-8 we reach"


def test_matched_mode_emission(reference_case, matched, reference_arithmetic):
    err = joint_rel_rms(matched.emission, reference_case["emission"])
    assert err < 1e-4
    if reference_arithmetic:
        assert err < 1e-6


def test_matched_mode_same_number_of_rhs_evaluations(reference_case, matched, reference_arithmetic):
    # the integrator's stage sequence is reproduced, so the evaluation count matches; the original
    # itself made 0.14 % more or fewer on another machine (93,654 against 93,786 for a 1-kHz tone)
    n_ref = int(reference_case["n_rhs_evals"])
    assert abs(matched.n_rhs_evaluations - n_ref) <= 0.01 * n_ref
    if reference_arithmetic:
        assert matched.n_rhs_evaluations == n_ref


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
        assert joint_rel_rms(getattr(out, name), reference_case[key]) < 1e-2
    # and they do differ: the option is not ignored
    assert rel_rms(out.v, reference_case["v"]).max() > 1e-6


@pytest.fixture(scope="module", params=["scipy117", "legacy"])
def fast_run(request, reference_case, reference_poles):
    return request.param, run(reference_case, poles=reference_poles, integrator=request.param, engine="fast")


@pytest.mark.parametrize("name,key", PAIRS)
def test_fast_engine_agrees_with_the_original(reference_case, fast_run, name, key):
    integrator, out = fast_run
    joint = joint_rel_rms(getattr(out, name), reference_case[key])
    assert joint < 1e-2, f"fast engine ({integrator}), {name}: joint relative RMS error {joint:.2e}"
    if name.startswith("anf"):
        err = rel_rms(getattr(out, name), reference_case[key])
        assert err.max() < 2e-2, f"fast engine ({integrator}), {name}: per channel {err}"
    assert joint_rel_rms(out.emission, reference_case["emission"]) < 1e-2
