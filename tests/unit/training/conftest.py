"""Fixtures shared by the training tests."""
import pytest

from .test_bank import TINY_PLAN


@pytest.fixture(scope="module")
def tiny_bank_path(tmp_path_factory):
    """A two-segment bank of short sounds (simulated once per test module)."""
    from connear_helpers.training import bank as B

    path = tmp_path_factory.mktemp("bank")
    B.build_bank(path, plan=TINY_PLAN + [dict(TINY_PLAN[0], id="seg0002")], progress=False)
    return path
