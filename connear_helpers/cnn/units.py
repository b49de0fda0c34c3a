"""The CNN unit scalings (spec §2.2): the one place they are defined.

The CoNNear networks take and give numbers in scaled units: CNN value = SI value x scale. The
SI-unit wrappers of :mod:`connear_helpers.cnn.inference` and the training sets of
:mod:`connear_helpers.training.datasets` apply them; nothing else does.
"""
from __future__ import annotations

#: CNN value of the BM velocity = velocity in m/s x COCHLEA_SCALING.
COCHLEA_SCALING = 1e6
#: CNN value of the IHC receptor potential = potential in V x IHC_SCALING.
IHC_SCALING = 1e1
#: CNN value of the ANF firing rate = rate in spikes/s x ANF_SCALING.
ANF_SCALING = 1e-2

#: Per signal of a training set: CNN value = SI value x CNN_SCALE[signal].
CNN_SCALE = {"audio": 1.0, "v": COCHLEA_SCALING, "ihc": IHC_SCALING,
             "anfh": ANF_SCALING, "anfm": ANF_SCALING, "anfl": ANF_SCALING}
#: SI unit of each signal.
SI_UNIT = {"audio": "Pa", "v": "m/s", "ihc": "V", "anfh": "spikes/s", "anfm": "spikes/s",
           "anfl": "spikes/s"}
#: The CNN unit of each signal, in words.
CNN_UNIT = {"audio": "Pa", "v": "um/s (m/s x 1e6)", "ihc": "dV (V x 10)",
            "anfh": "100 spikes/s (spikes/s x 0.01)", "anfm": "100 spikes/s (spikes/s x 0.01)",
            "anfl": "100 spikes/s (spikes/s x 0.01)"}

#: Per CNN family: CNN input = SI input x SCALE_IN[family]; CNN output = SI output x SCALE_OUT[family].
SCALE_IN = {"cochlea": 1.0, "ihc": COCHLEA_SCALING, "anf": IHC_SCALING}
SCALE_OUT = {"cochlea": COCHLEA_SCALING, "ihc": IHC_SCALING, "anf": ANF_SCALING}

#: Per CNN family: (input SI unit, SI -> CNN factor, output SI unit, CNN -> SI factor).
FAMILY_UNITS = {
    "cochlea": ("Pa", 1.0, "m/s", 1 / COCHLEA_SCALING),
    "ihc": ("m/s", COCHLEA_SCALING, "V", 1 / IHC_SCALING),
    "anf": ("V", IHC_SCALING, "spikes/s", 1 / ANF_SCALING),
}
