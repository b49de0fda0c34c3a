"""Facts that several parts of connear_helpers use, each defined once here.

Fibre names: the CoNNear ANF models / reference fibre types ``FIBRES`` (H/M/L spontaneous rate)
and their labels. Sample rates in Hz: the reference model runs at ``FS_REFERENCE`` (verhulst2018's 100 kHz), the
CoNNear networks at ``FS_CNN`` (20 kHz, the reference's ANF rate). Imports nothing but numbers.
"""

#: Sample rate of the verhulst2018 reference model (its TL cochlea and IHC), Hz.
FS_REFERENCE = 100_000.0
#: Sample rate of the CoNNear networks (and of the reference's ANF output), Hz.
FS_CNN = 20_000.0

#: The three auditory-nerve fibre types (high, medium, low spontaneous rate), as CoNNear names them.
FIBRES = ("anfh", "anfm", "anfl")
#: Their labels in figures and tables.
FIBRE_LABEL = {"anfh": "HSR", "anfm": "MSR", "anfl": "LSR"}
