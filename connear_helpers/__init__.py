"""connear_helpers: everything the CoNNear lab's notebooks call.

The few names a notebook needs are here: :func:`simulate` and :class:`PeripheryResult` (the full
and light pipelines, :mod:`.pipeline`) and :func:`load_model` (a CoNNear model with weights,
:mod:`.cnn.weights`). The rest lives by concern:

* :mod:`.pipeline` – every simulation: one signal or a batch, full or light mode, segmentation
  at silences, the on-disk simulation cache, the CoNNear models a run needs;
* :mod:`.cnn` – the CoNNear architectures, the one weights resolver, inference, unit scalings;
* :mod:`.constants` – sample rates; :mod:`.cf` – the CoNNear CFs;
* :mod:`.stimuli`, :mod:`.metrics`, :mod:`.experimental_data` – the paper's stimuli, analyses and data;
* :mod:`.figures` (the paper's figures and the headless run), :mod:`.runtime` (Table 2),
  :mod:`.backprop` (Fig. 8), :mod:`.evaluate` (the error tables of a weight set);
* :mod:`.widgets` and :mod:`.speech` – the lab's panels and the speech quickstart;
* :mod:`.training` (the CPU recipe), :mod:`.corpus`, :mod:`.datasets`, :mod:`.train`,
  :mod:`.train_all` – training data and training;
* :mod:`.encoding`, :mod:`.stages`, :mod:`.localisation` – notebooks 10-12.

Submodules are imported on demand (``from connear_helpers import stimuli``) so that importing the
package stays cheap; nothing heavy (TensorFlow, matplotlib) is loaded here. TensorFlow's start-up
lines are kept out of the terminal and the notebooks (``CONNEAR_LAB_TF_LOGS=1`` shows them).
"""
from . import _quiet_tensorflow

_quiet_tensorflow.install()

__version__ = "0.1.0"
__all__ = ["simulate", "PeripheryResult", "load_model"]


def __getattr__(name):
    """The notebook names, loaded on first use (the pipeline and Keras stay unimported until then)."""
    if name in ("simulate", "PeripheryResult"):
        from . import pipeline

        return getattr(pipeline, name)
    if name == "load_model":
        from .cnn.weights import load_model

        return load_model
    raise AttributeError(f"module 'connear_helpers' has no attribute {name!r}")
