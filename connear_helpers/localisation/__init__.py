"""Sound localisation with a spiking network fed by the periphery (notebook 12, issue #16).

A small spiking network (leaky integrate-and-fire hidden units trained with a surrogate gradient,
leaky output units read by their maximum) learns the direction of a sound from the two ears'
auditory-nerve spikes. Two inputs, one network and one training code:

* the teaching notebook's abstract input (Poisson spikes with a phase delay per fibre, 20-Hz
  envelope; the class is the IPD), :class:`inputs.AbstractIPDInput`;
* the periphery: a tone from an azimuth (Woodworth ITD, optional ILD and diffuse noise,
  :mod:`binaural`), each ear through the reference model or CoNNear
  (:func:`inputs.ear_rates`), Poisson ANF spikes (:func:`spikes.poisson_spikes`) drawn afresh
  for every batch, :class:`inputs.ToneBankInput` for training and
  :class:`inputs.PresentationSet` for testing.

Modules: :mod:`binaural` (geometry, stimuli, classes), :mod:`spikes`, :mod:`inputs`,
:mod:`snn` (the network, the surrogate gradient), :mod:`training` (train, evaluate,
robustness), :mod:`plots`, :mod:`panels` (ipywidgets), :mod:`experiment` (the notebook's and
the benchmark's runs).

What it owns: everything about localisation. What it may import: verhulst2018 (through the
lab's engine), connear_helpers.pipeline (simulations and their cache), cf, stimuli, cnn
(architectures, weights, inference); never the other field subpackages (encoding, stages). Keras 3
(TensorFlow or JAX backend) is imported only when a network is built.
"""
from . import binaural, inputs, spikes
from .binaural import binaural_stimulus, class_centres, to_class, woodworth_itd
from .inputs import AbstractIPDInput, PeripheryConfig, PresentationSet, ToneBankInput, ear_rates
from .spikes import poisson_spikes

__all__ = [
    "binaural",
    "inputs",
    "spikes",
    "binaural_stimulus",
    "class_centres",
    "to_class",
    "woodworth_itd",
    "AbstractIPDInput",
    "PeripheryConfig",
    "PresentationSet",
    "ToneBankInput",
    "ear_rates",
    "poisson_spikes",
]
