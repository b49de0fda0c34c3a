"""The compiled core (``verhulst2018._core``, built from _tl.cpp and _stages.cpp), or an error that says what to do."""
from __future__ import annotations

import pathlib


def core():
    """The ``_core`` extension module; raises ImportError with the fix when it is missing."""
    try:
        from . import _core
    except ImportError as err:
        here = pathlib.Path(__file__).resolve().parent
        raise ImportError(
            f"verhulst2018's compiled core (verhulst2018._core) could not be imported ({err}). "
            f"Python imported verhulst2018 from {here}, which holds no compiled module for this "
            "Python. This happens when you run Python from the root of a clone after a plain "
            "`pip install .` (the source folder then shadows the installed package), or before "
            "installing at all. Fix: from the root of the clone run `pip install -e .` (it compiles "
            "the core with your C++ compiler and makes this folder importable with it; run it again "
            "after changing C++ files), or run from another directory after `pip install .`. "
            "Without a compiler, engine='numpy' runs the slow NumPy specification of the model."
        ) from err
    return _core
