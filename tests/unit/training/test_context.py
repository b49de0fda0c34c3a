"""The ANF's memory beyond a CNN's left context: falls with the context, largest for HSR fibres."""
import numpy as np
import pytest

from connear_helpers.training import bank as B
from connear_helpers.training import context as C


def test_the_history_effect_falls_with_the_context_and_is_largest_for_hsr(tiny_bank_path):
    bank = B.Bank(tiny_bank_path)
    effect = C.history_effect(bank, left=(16, 64, 512), window=128, n_segments=3, n_cf=2)
    for f in ("anfh", "anfm", "anfl"):
        assert effect[f].shape == (3,) and np.all(np.diff(effect[f]) < 0), (f, effect[f])
    # at 16 samples (0.8 ms) of context the tone's adaptation is unknown; the high-rate fibre's most
    assert effect["anfh"][0] > effect["anfm"][0] > effect["anfl"][0] > 0
    with pytest.raises(ValueError, match="too short"):
        C.history_effect(bank, left=(4096,), window=2048, n_segments=1)
