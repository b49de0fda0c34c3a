"""Keep TensorFlow's start-up lines out of the terminal and the notebooks.

TensorFlow 2.16+ writes several lines to the process's standard error while it is imported
(``I0000 ... oneDNN custom operations are on``, ``Could not find cuda drivers``, ``failed call to
cuInit``, ``This TensorFlow binary is optimized ...``), before its own ``TF_CPP_MIN_LOG_LEVEL``
setting takes effect; a newcomer reads them as errors, and Jupyter shows them as a red block.
:func:`install` arranges for the first ``import tensorflow`` (direct, or through Keras) to run
with file descriptor 2 pointed at ``/dev/null``, and sets ``TF_CPP_MIN_LOG_LEVEL=3`` for the
messages TensorFlow logs later, and its Python logger to errors only (its ``tf.function
retracing`` warnings are advice for TensorFlow developers, not for a lab user). Exceptions raised by
the import still propagate as usual.

Set ``CONNEAR_LAB_TF_LOGS=1`` to see everything; a ``TF_CPP_MIN_LOG_LEVEL`` of your own is kept
and governs the messages after the import.
"""
from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import logging
import os
import sys


@contextlib.contextmanager
def _stderr_silenced():
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (embedded interpreters)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with _stderr_silenced():
            self._loader.exec_module(module)
        logging.getLogger("tensorflow").setLevel(logging.ERROR)


class _QuietFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # only the first import
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install():
    """Silence TensorFlow's start-up output, unless the user asked for it (see module doc)."""
    if os.environ.get("CONNEAR_LAB_TF_LOGS", "") not in ("", "0"):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())
