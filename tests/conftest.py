"""Shared test fixtures: where the read-only ../shared folder lives."""
import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("CONNEAR_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir():
    """Path of the ../shared folder (reference outputs, paper source data)."""
    if not SHARED.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED}; set CONNEAR_SHARED")
    return SHARED


@pytest.fixture(scope="session")
def reference_case(shared_dir):
    """The original model's output for the 500-Hz, 70-dB tone (a dict of arrays)."""
    import numpy as np

    with np.load(shared_dir / "reference" / "v18_tone500_70dB.npz") as f:
        return {k: f[k] for k in f.files}


@pytest.fixture(scope="session")
def reference_arithmetic():
    """True where this machine does the original's floating-point arithmetic, bit for bit.

    The public reference case was made on x86-64 Linux with glibc, with NumPy calling glibc's
    exp/pow/log (no AVX-512 kernels). Our model computes every transcendental function with the
    C library (verhulst2018._libm and the compiled core), so it repeats that arithmetic wherever
    the C library is glibc's with its FMA code path: exactly where the compiled core's vectorised
    exp passes its start-up check against the C library (verhulst2018/_exp.h). Elsewhere (another
    C library, no FMA) a last-bit difference can send the TL model's 1 % pole hysteresis on another
    trajectory, and only the portable tolerances apply.
    """
    import numpy as np

    from verhulst2018 import _core

    return bool(_core.simd_exp(np.zeros(4))[1])
