"""The sample rates are defined once (connear_helpers.constants) and agree with the models."""
import importlib

import verhulst2018
from connear_helpers import constants
from connear_helpers.cnn.architectures import MODEL_INFO

MODULES = ("analysis.evaluations", "pipeline", "paper.runtime", "analysis.stimuli", "stages.extract", "training.datasets", "training.bank")


def test_rates_match_the_models():
    assert constants.FS_REFERENCE == verhulst2018.FS
    assert constants.FS_CNN == verhulst2018.FS / verhulst2018.DECIMATION
    assert all(info["fs"] == constants.FS_CNN for info in MODEL_INFO.values())


def test_every_module_uses_the_same_rates():
    for name in MODULES:
        mod = importlib.import_module(f"connear_helpers.{name}")
        assert (mod.FS_REFERENCE, mod.FS_CNN) == (constants.FS_REFERENCE, constants.FS_CNN), name
