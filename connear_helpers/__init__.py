"""connear_helpers: stimuli, characteristic frequencies, metrics and experimental data for the CoNNear lab.

Submodules are imported on demand (``from connear_helpers import stimuli``) so that importing the
package stays cheap; nothing heavy (TensorFlow, matplotlib) is loaded here. TensorFlow's start-up
lines are kept out of the terminal and the notebooks (``CONNEAR_LAB_TF_LOGS=1`` shows them).
"""
from . import _quiet_tensorflow

_quiet_tensorflow.install()

__version__ = "0.1.0"
