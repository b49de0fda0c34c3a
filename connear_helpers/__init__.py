"""connear_helpers: stimuli, characteristic frequencies, metrics and experimental data for the CoNNear lab.

Submodules are imported on demand (``from connear_helpers import stimuli``) so that importing the
package stays cheap; nothing heavy (TensorFlow, matplotlib) is loaded here.
"""

__version__ = "0.1.0"
