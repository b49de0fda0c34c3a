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
