"""simulate(): channels, shapes, stored outputs, batches and the errors a user sees."""
import sys

import numpy as np
import pytest

import verhulst2018

FS = 100_000.0


def short(n=600, level=60.0):
    t = np.arange(n) / FS
    return 2e-5 * np.sqrt(2) * 10 ** (level / 20) * np.sin(2 * np.pi * 1000 * t) * np.hanning(n)


def test_probe_sets():
    for name, count, first, last in (("all", 1000, 1, 1000), ("half", 500, 1, 999), ("abr", 401, 110, 910)):
        s = verhulst2018.channel_sections(name)
        assert (s.size, s[0], s[-1]) == (count, first, last)
    cf = verhulst2018.section_cf()
    assert cf[110] == pytest.approx(12009.824013858139, rel=1e-12)
    assert cf[910] == pytest.approx(113.2536626035544, rel=1e-12)


def test_numeric_cf_picks_the_nearest_sections():
    s = verhulst2018.channel_sections([1000.0, 4000.0])
    cf = verhulst2018.section_cf()
    for f, i in zip([1000.0, 4000.0], s):
        assert np.argmin(np.abs(cf[1:] - f)) + 1 == i


def test_only_requested_outputs_are_stored_and_shapes():
    out = verhulst2018.simulate(short(), cf=[500.0, 2000.0], outputs=("ihc", "anfl", "w1"), progress=False)
    assert out.v is None and out.y is None and out.anfh is None and out.emission is None
    assert out.ihc.shape == (600, 2)
    assert out.anfl.shape == (120, 2)
    assert out.w1.shape == (120,)
    assert out.fs_bm == out.fs_ihc == 100_000 and out.fs_anf == 20_000
    assert out.cf.shape == (2,) and out.cf[0] > 400 and out.cf[1] > 1900


def test_batch_equals_single_runs():
    x = np.stack([short(), short(level=80.0)])
    batch = verhulst2018.simulate(x, cf=[1000.0], outputs=("v", "anfh"), n_jobs=2, progress=False)
    assert isinstance(batch, list) and len(batch) == 2
    for row, res in zip(x, batch):
        one = verhulst2018.simulate(row, cf=[1000.0], outputs=("v", "anfh"), progress=False)
        np.testing.assert_array_equal(res.v, one.v)
        np.testing.assert_array_equal(res.anfh, one.anfh)


def test_irregularities_are_seeded():
    x = short()
    kw = dict(cf=[1000.0], outputs=("v",), irregularities=True, progress=False)
    a = verhulst2018.simulate(x, subject=1, **kw).v
    b = verhulst2018.simulate(x, subject=1, **kw).v
    c = verhulst2018.simulate(x, subject=2, **kw).v
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_resample_option():
    x = short(n=240)  # at 40 kHz
    with pytest.raises(ValueError, match="100000 Hz"):
        verhulst2018.simulate(x, fs=40_000, cf=[1000.0], progress=False)
    out = verhulst2018.simulate(x, fs=40_000, resample=True, cf=[1000.0], outputs=("v",), progress=False)
    assert out.v.shape == (600, 1)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(signal=np.array([0.0, np.nan, 0.0, 0.0])), "NaN or inf"),
        (dict(signal=np.array([0.0, np.inf, 0.0, 0.0])), "NaN or inf"),
        (dict(signal=np.zeros(0)), "at least 3"),
        (dict(signal=np.zeros((2, 3, 100))), "1-D"),
        (dict(signal=np.zeros((0, 100))), "empty"),
        (dict(outputs=("v", "vbm")), "unknown outputs"),
        (dict(cf=[30000.0]), "outside the model's range"),
        (dict(cf=[10.0]), "outside the model's range"),
        (dict(cf="quarter"), '"all", "half", "abr"'),
        (dict(poles=np.full(999, 0.06)), "1001"),
        (dict(poles="impaired"), "normal"),
        (dict(integrator="rk4"), "integrator"),
        (dict(fs=44_100), "resample"),
    ],
)
def test_clear_errors(kwargs, match):
    kw = dict(signal=short(100), cf=[1000.0], progress=False)
    kw.update(kwargs)
    sig = kw.pop("signal")
    with pytest.raises((ValueError, TypeError), match=match):
        verhulst2018.simulate(sig, **kw)


def test_poles_accept_one_value_per_section_and_audiogram():
    x = short()
    p1000 = verhulst2018.normal_hearing_poles()[1:]
    a = verhulst2018.simulate(x, cf=[1000.0], outputs=("v",), poles=p1000, progress=False).v
    b = verhulst2018.simulate(x, cf=[1000.0], outputs=("v",), progress=False).v
    np.testing.assert_array_equal(a, b)
    impaired = verhulst2018.poles_from_audiogram([250, 1000, 4000, 8000], [30, 30, 30, 30])
    c = verhulst2018.simulate(x, cf=[1000.0], outputs=("v",), poles=impaired, progress=False).v
    # a 30 dB HL loss lowers the low-level BM response at CF
    assert np.abs(c).max() < 0.5 * np.abs(b).max()


def test_batch_in_an_unguarded_script_says_how_to_fix_it(tmp_path):
    """Spawned workers re-import the main script; without the __main__ guard the pool breaks,
    and the error must say what to do instead of a bare BrokenProcessPool."""
    import subprocess
    import sys

    script = tmp_path / "unguarded.py"
    script.write_text(
        "import numpy as np, verhulst2018\n"
        "x = np.zeros((2, 300))\n"
        "verhulst2018.simulate(x, cf=[1000.0], outputs=('v',), n_jobs=2, progress=False)\n"
    )
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert 'if __name__ == "__main__":' in run.stderr and "n_jobs=1" in run.stderr


def test_missing_compiled_core_says_what_to_do(monkeypatch):
    # as when Python runs from the root of a clone after a plain `pip install .`
    import verhulst2018._compiled as compiled

    monkeypatch.setitem(sys.modules, "verhulst2018._core", None)
    monkeypatch.delattr(verhulst2018, "_core", raising=False)
    with pytest.raises(ImportError, match=r"pip install -e \.") as info:
        compiled.core()
    assert "engine='numpy'" in str(info.value)
