"""The CoNNear networks: architectures, weights, inference, unit scalings.

* :mod:`.architectures`: the Keras graphs (the paper's and the lab's CPU-sized ones), by name;
* :mod:`.weights`: every weight source ("connear-lab", "official", a file, a folder, a dict)
  resolved by one function, loading, the official download, writing files;
* :mod:`.inference`: running a network on arrays or tensors in SI units (windows, context);
* :mod:`.units`: the CNN unit scalings, the only place they are defined.

May import :mod:`connear_helpers.constants` and :mod:`connear_helpers.analysis.cf`; never the pipeline,
the paper's figures, the panels or the training code. Submodules load TensorFlow, so they are
imported on demand: ``from connear_helpers.cnn import weights``.
"""
