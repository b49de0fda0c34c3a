"""The vectorised exp() of the compiled loops gives the C library's bits (see verhulst2018/_exp.h).

It is compared with the function it reproduces, the C library's exp (through Python's math
module), not with numpy.exp: NumPy has its own vectorised exp on AVX-512 CPUs, which differs
from the C library in the last bit for some arguments.
"""
import platform

import numpy as np

from verhulst2018 import _core, _libm
from verhulst2018._make_exp_table import header_text
from pathlib import Path


def _glibc_with_avx2_and_fma():
    if platform.system() != "Linux" or platform.machine() != "x86_64" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx2" in flags and "fma" in flags


def test_simd_exp_equals_c_library_exp_bit_for_bit():
    rng = np.random.default_rng(11)
    x = np.concatenate([
        rng.uniform(-4.0, 0.0, 200_000),  # the pole terms exp(-P/a)
        rng.uniform(-40.0, 40.0, 200_000),  # K+ and Ca activation, MET
        rng.uniform(-800.0, 800.0, 20_000),  # under- and overflow: the fallback lanes
        np.array([0.0, -0.0, 1e-300, -1e-18, 709.7, -745.2, np.inf, -np.inf, np.nan]),
    ])
    got, used_simd = _core.simd_exp(x)
    want = _libm.exp(x)
    np.testing.assert_array_equal(got.view(np.uint64)[np.isfinite(want)], want.view(np.uint64)[np.isfinite(want)])
    np.testing.assert_array_equal(got[~np.isfinite(want)], want[~np.isfinite(want)])
    if _glibc_with_avx2_and_fma():
        # the fast path is expected there (the CI machines); elsewhere std::exp runs, same bits
        assert used_simd, "the vectorised exp did not pass its self-check on this machine"


def test_exp_table_header_is_what_the_generator_writes():
    header = Path(__file__).resolve().parents[3] / "verhulst2018" / "_exp_table.h"
    assert header.read_text() == header_text()
