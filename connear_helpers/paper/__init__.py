"""The paper's figures and tables (Drakopoulos, Baby & Verhulst 2021), and the headless figure run.

* :mod:`.fig2` ... :mod:`.fig6` – one module per figure of the paper (its figure and draw
  functions; the numbers come from :mod:`connear_helpers.analysis.evaluations`), with the
  drawing helpers they share in :mod:`.plotting`;
* :mod:`.figures` – the registry of every figure and table and the headless figure run
  (``connear-figures``, ``python -m connear_helpers.paper.figures``);
* :mod:`.runtime` – Table 2, the run time of every stage of both pipelines;
* :mod:`.backprop` – Fig. 8, the backpropagation use case.

May import :mod:`connear_helpers.pipeline`, :mod:`connear_helpers.cnn` and
:mod:`connear_helpers.analysis`; never :mod:`connear_helpers.training` or :mod:`connear_helpers.lab`.
"""
