"""Training the lab's CoNNear weights on a CPU: the TL bank, the derived pairs, the training loop.

Owns: :mod:`.bank` (the reference-model bank and the IHC/ANF pairs derived from it). May import
``verhulst2018`` and the package's ``cf``, ``stimuli``, ``corpus``, ``models`` and ``weights``.
"""
