"""The vectorised exp() of the compiled loops gives numpy.exp's bits (see verhulst2018/_exp.h)."""
import platform

import numpy as np

from verhulst2018 import _core
from verhulst2018._make_exp_table import header_text
from pathlib import Path


def test_simd_exp_equals_numpy_exp_bit_for_bit():
    rng = np.random.default_rng(11)
    x = np.concatenate([
        rng.uniform(-4.0, 0.0, 200_000),  # the pole terms exp(-P/a)
        rng.uniform(-40.0, 40.0, 200_000),  # K+ and Ca activation, MET
        rng.uniform(-800.0, 800.0, 20_000),  # under- and overflow: the fallback lanes
        np.array([0.0, -0.0, 1e-300, -1e-18, 709.7, -745.2, np.inf, -np.inf, np.nan]),
    ])
    got, used_simd = _core.simd_exp(x)
    with np.errstate(over="ignore", under="ignore"):
        want = np.exp(x)
    np.testing.assert_array_equal(got.view(np.uint64)[np.isfinite(want)], want.view(np.uint64)[np.isfinite(want)])
    np.testing.assert_array_equal(got[~np.isfinite(want)], want[~np.isfinite(want)])
    if platform.system() == "Linux" and platform.machine() == "x86_64":
        # the fast path is expected on the project's CI machines (glibc, AVX2 + FMA)
        assert used_simd, "the vectorised exp did not pass its self-check on this machine"


def test_exp_table_header_is_what_the_generator_writes():
    header = Path(__file__).resolve().parents[2] / "verhulst2018" / "_exp_table.h"
    assert header.read_text() == header_text()
