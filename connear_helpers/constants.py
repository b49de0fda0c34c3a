"""Facts that several parts of connear_helpers use, each defined once here.

Sample rates in Hz: the reference model runs at ``FS_REFERENCE`` (verhulst2018's 100 kHz), the
CoNNear networks at ``FS_CNN`` (20 kHz, the reference's ANF rate). Imports nothing but numbers.
"""

#: Sample rate of the verhulst2018 reference model (its TL cochlea and IHC), Hz.
FS_REFERENCE = 100_000.0
#: Sample rate of the CoNNear networks (and of the reference's ANF output), Hz.
FS_CNN = 20_000.0
