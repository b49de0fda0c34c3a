"""Training CoNNear models and judging weight sets.

* the lab's CPU recipe: :mod:`.bank` (a TL bank simulated once, and the IHC/ANF pairs derived
  from it), :mod:`.fit` (the resumable training loop), :mod:`.cpu_recipe`, :mod:`.weight_set`
  (assembling, judging and writing the shipped ``connear_weights/`` set), :mod:`.grow` (a trained
  model into a wider or deeper one), :mod:`.context` and :mod:`.probe` (what limits a model: the
  ANF's memory beyond a context, an IHC model on sinusoidal BM velocities);
* the paper's recipe: :mod:`.datasets` (training sets from the TTS corpus of
  :mod:`connear_helpers.analysis.corpus` through the reference model), :mod:`.train`, :mod:`.train_all` (every stage in turn);
* :mod:`.evaluate`: the paper's metrics of a weight set as RMSE tables against the reference.

May import verhulst2018, :mod:`connear_helpers.pipeline`, :mod:`connear_helpers.cnn`,
:mod:`connear_helpers.analysis` and :mod:`connear_helpers.constants`; never
:mod:`connear_helpers.paper` or :mod:`connear_helpers.lab`.
"""
