"""TL cochlea: constants, the C++ core against the NumPy specification, the golden run."""
import numpy as np
import pytest

import verhulst2018
from verhulst2018 import cochlea, middle_ear


def test_constants_of_spec_13_1():
    p = cochlea.tl_parameters(100_000.0, np.full(1001, 0.06))
    assert p.n_buffer == 12670
    assert p.p0x == pytest.approx(24765.90400642064, rel=1e-15)
    assert p.d_m == pytest.approx(-22625083540.821625, rel=1e-15)
    assert p.k0 == pytest.approx(-915236.7973642416, rel=1e-15)
    assert p.kg0 == pytest.approx(13.459364667121202, rel=1e-15)
    assert p.q0f == pytest.approx(2.745710392092725, rel=1e-15)
    assert cochlea.VELOCITY_KNEE_1 == pytest.approx(1.604425286512276e-7, rel=1e-15)
    assert cochlea.VELOCITY_KNEE_2 == pytest.approx(1.3971253077121554e-6, rel=1e-15)
    theta0 = np.arctan((0.31 - 0.06) * 100 / (cochlea.VELOCITY_KNEE_2 / cochlea.VELOCITY_KNEE_1 - 1))
    assert theta0 == pytest.approx(1.2717259651306156, rel=1e-15)
    assert p.omega[0] == pytest.approx(129808.23852308819, rel=1e-15)


def test_pole_at_rest_is_slightly_above_the_starting_pole():
    p = cochlea.tl_parameters(100_000.0, verhulst2018.normal_hearing_poles())
    rest = cochlea.initial_poles(p)
    excess = (rest - p.start_pole)[1:]
    assert np.all(excess > 1.0e-4) and np.all(excess < 3.0e-3)


def test_pole_saturates_at_the_passive_pole_for_large_velocity():
    p = cochlea.tl_parameters(100_000.0, verhulst2018.normal_hearing_poles())
    assert np.all(cochlea.pole_from_velocity(p, np.full(1001, 1e-5)) == 0.31)
    # monotone in |v|
    v = np.logspace(-10, -5, 50)
    node = 500
    poles = [cochlea.pole_from_velocity(p, np.full(1001, x))[node] for x in v]
    assert np.all(np.diff(poles) >= 0)


def short_stimulus(n=400, level=80.0):
    fs = 100_000.0
    t = np.arange(n) / fs
    x = 2e-5 * np.sqrt(2) * 10 ** (level / 20) * np.sin(2 * np.pi * 2000 * t)
    x[: n // 4] *= np.linspace(0, 1, n // 4)
    return middle_ear.middle_ear_filter(x, fs)


@pytest.mark.parametrize("integrator", ["scipy117", "legacy"])
@pytest.mark.parametrize("nonlinear,irregularities", [(True, False), (True, True), (False, False)])
def test_cpp_core_equals_numpy_specification(integrator, nonlinear, irregularities):
    s = short_stimulus()
    p = cochlea.tl_parameters(100_000.0, verhulst2018.normal_hearing_poles(), nonlinear, irregularities, 3)
    nodes = np.array([1, 150, 300, 450, 600, 1000])
    a = cochlea.solve_numpy(s, p, nodes, integrator)
    b = cochlea.solve_cpp(s, p, nodes, integrator)
    assert a[3] == b[3], "different numbers of right-hand-side evaluations"
    assert a[4] == b[4], "different numbers of pole updates"
    if nonlinear:
        assert b[4] > 0
    for x, y in zip(a[:3], b[:3]):
        scale = np.max(np.abs(x))
        assert scale > 0
        # bit-identical on IEEE hardware; allow a few ulp for other libm exp()
        np.testing.assert_allclose(y, x, rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("integrator", ["scipy117", "legacy"])
@pytest.mark.parametrize("nonlinear,irregularities", [(True, False), (True, True), (False, False)])
def test_simd_loops_equal_portable_loops(integrator, nonlinear, irregularities):
    """The AVX2 loops (fused sweeps, float32 rings) give the portable loops' numbers exactly."""
    s = short_stimulus(n=600, level=90.0)
    p = cochlea.tl_parameters(100_000.0, verhulst2018.normal_hearing_poles(), nonlinear, irregularities, 2)
    nodes = np.arange(1001)
    a = cochlea.solve_cpp(s, p, nodes, integrator, simd=False)
    b = cochlea.solve_cpp(s, p, nodes, integrator, simd=True)
    assert a[3:] == b[3:]
    if nonlinear:
        assert b[4] > 0.2 * b[3], "the stimulus should update the poles often"
    for x, y in zip(a[:3], b[:3]):
        np.testing.assert_array_equal(y, x)


def test_store_y_false_returns_no_displacement_and_the_same_velocity():
    s = short_stimulus()
    p = cochlea.tl_parameters(100_000.0, verhulst2018.normal_hearing_poles())
    nodes = np.array([10, 500])
    full = cochlea.solve_cpp(s, p, nodes)
    lean = cochlea.solve_cpp(s, p, nodes, store_y=False)
    assert lean[1] is None
    np.testing.assert_array_equal(lean[0], full[0])
    np.testing.assert_array_equal(lean[2], full[2])
    assert np.all(full[0][-2:] == 0) and np.all(full[1][-2:] == 0) and np.all(full[2][-2:] == 0)


def test_golden_run_of_spec_13_2():
    """Reference v1.2, 1 kHz 60 dB, scalar pole 0.06, 'abr', both integrator modes."""
    fs = 100_000.0
    n = np.arange(3000)
    s = 2e-5 * 10 ** (60 / 20) * np.sqrt(2) * np.sin(2 * np.pi * 1000 * n / fs)
    s[:250] *= 0.5 - 0.5 * np.cos(np.pi * n[:250] / 250)
    golden = {
        "legacy": dict(v=1.8257449756039933e-08, maxv=8.035890076896805e-07, sumv=0.0856658172584181,
                       y=-9.188983264899677e-11, e=0.06908582538217996, sume=175.63998193306904,
                       ihc=-0.07056969928809975, h=11.394018009423233, m=6.510179624715925,
                       l=3.7968522597843335, sumh=30217945.60639526, w1=1.9687610594133733e-08,
                       w3=2.0651695879211332e-08, w5=-3.614936312210089e-08),
        "scipy117": dict(v=1.851511537042343e-08, maxv=8.035235624272774e-07, sumv=0.08566567689946997,
                         y=-9.190668821674488e-11, e=0.06908052385089465, sume=175.63587905454665,
                         ihc=-0.07056941526668596, h=11.386776283144016, m=6.505883185217348,
                         l=3.794422427905145, sumh=30218026.86160271, w1=1.968825652086495e-08,
                         w3=2.0652504630377865e-08, w5=-3.614803796273016e-08),
    }
    c = 245
    for mode, g in golden.items():
        o = verhulst2018.simulate(s, cf="abr", poles=0.06, outputs=verhulst2018.OUTPUTS, integrator=mode, progress=False)
        assert o.cf[c] == pytest.approx(995.9447332581109, rel=1e-14)
        got = dict(v=o.v[2000, c], maxv=np.abs(o.v).max(), sumv=np.abs(o.v).sum(), y=o.y[2000, c],
                   e=o.emission[2000], sume=np.abs(o.emission).sum(), ihc=o.ihc[2000, c], h=o.anfh[400, c],
                   m=o.anfm[400, c], l=o.anfl[400, c], sumh=o.anfh.sum(), w1=o.w1[400], w3=o.w3[400], w5=o.w5[400])
        assert o.ihc[0, 0] == pytest.approx(-0.05765632053178816, rel=1e-12)
        for k in g:
            # bit-identical here; 1e-7 leaves room for 1-ulp libm differences elsewhere
            assert got[k] == pytest.approx(g[k], rel=1e-7), f"{mode} {k}: {got[k]!r} vs {g[k]!r}"
