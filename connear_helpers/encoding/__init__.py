"""Neural encoding models on periphery front ends: STRF, LN, NRF, DNet and a 2-D CNN (notebook 10).

A sound becomes a (time, frequency) input through a front end, a Keras 3 model maps it to the
rates of a set of neurons, and the fit is scored on held-out stimuli:

>>> from connear_helpers import encoding
>>> x, freqs, dt = encoding.frontend(signal_pa, fs, kind="anf", cf=cfs, bin_s=0.005)
>>> model = encoding.LinearNonlinear(T=10, F=len(freqs), O=n_neurons)
>>> encoding.fit(model, inputs, responses)          # early stopping, Poisson or MSE loss
>>> encoding.score(encoding.predict(model, test_inputs), test_repeats)   # CC and CCnorm

Owns: the front ends (:mod:`.front_ends`: mel spectrogram, ANF population, IHC potential), the
layers and models (:mod:`.layers`, :mod:`.models`: Linear, LinearNonlinear,
NetworkReceptiveField, DNet, ConvNet2D, the ON/OFF prefilter, separable STRFs), fitting
(:mod:`.fitting`), scores (:mod:`.scoring`: CC, CCnorm), targets with known answers
(:mod:`.targets`: synthetic LN neurons, the verhulst2018 IC population), stimulus sets and the
recordings file format (:mod:`.data`), the study that ties them together (:mod:`.study`), its
figures (:mod:`.plots`), the notebook's explorer panel (:mod:`.panel`) and the front-end
comparison on the command line (``python -m connear_helpers.encoding --help``).

May import: ``verhulst2018``, and from ``connear_helpers``: ``pipeline`` (simulations and the
simulation cache), ``cf``, ``stimuli``, ``speech``, ``corpus``, ``cnn`` (weights). It does not import the other field subpackages (``stages``,
``localisation``). Names are loaded on first use, so ``import connear_helpers.encoding`` stays
cheap until a model (Keras) is needed.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "front_ends": ("KINDS", "frontend", "frontends", "mel_spectrogram", "mel_frequencies", "pool_bins",
                  "periphery_records", "cache_dir", "default_cache"),
    "layers": ("STRF", "OutputNonlinearity", "LeakyIntegrator", "OnOffPrefilter"),
    "models": ("EncodingModel", "Linear", "LinearNonlinear", "NetworkReceptiveField", "DNet", "ConvNet2D",
               "MODELS", "build_model"),
    "fitting": ("FitResult", "fit", "predict"),
    "scoring": ("Scores", "correlation", "cc_max", "ccnorm", "score", "strf_correlation"),
    "targets": ("Responses", "SyntheticNeurons", "synthetic_neurons", "ic_population", "poisson_repeats"),
    "data": ("StimulusSet", "stimulus_set", "load_responses", "save_responses", "RecordingsFormatError"),
    "study": ("EncodingStudy", "Fitted", "strf_recovery", "format_table", "build_study", "frontend_comparison",
              "comparison_table", "QUICK"),
    "plots": ("plot_frontends", "plot_strf_recovery", "plot_scores", "plot_prediction", "plot_strfs"),
    "panel": ("update_explorer", "explorer_panel"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
