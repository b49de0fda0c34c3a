"""Elementary functions of the C library, element by element: the same bits on every CPU.

NumPy evaluates ``exp``, ``log``, ``log10``, ``tan``, ``arctan`` and ``**`` on float64 arrays with
its own vectorised kernels on CPUs that have them (AVX-512 on x86-64), and those differ from the C
library in the last bit for some arguments (measured with NumPy 2.4 on an AVX-512 CPU: 9,229 of
200,000 random ``exp`` arguments). The TL cochlea's 1 % pole-update hysteresis turns one such bit
into another trajectory, so every constant the model is built from, and every ``exp`` of the NumPy
specification's time loops, is computed here with Python's :mod:`math` module, which calls the C
library, exactly like the compiled core (``std::exp``, or its vectorised copy that checks itself
against ``std::exp`` bit for bit). Results are then identical on every CPU that shares the C
library, whatever NumPy dispatches to.

Each function takes an array (any shape) or a scalar and returns float64 of the same shape.
"""
from __future__ import annotations

import math

import numpy as np


def _elementwise(func, *args):
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in args))
    shape = arrays[0].shape
    flat = [a.ravel() for a in arrays]
    out = np.fromiter(map(func, *flat), dtype=np.float64, count=flat[0].size)
    return out.reshape(shape) if shape else out[0]


def _safe_exp(x):
    try:
        return math.exp(x)
    except OverflowError:  # math raises where C returns inf (the limit the model wants)
        return math.inf


def exp(x):
    """e**x, element by element (overflow gives inf, as in C and NumPy)."""
    return _elementwise(_safe_exp, x)


def log(x):
    """Natural logarithm (x > 0), element by element."""
    return _elementwise(math.log, x)


def log10(x):
    """Base-10 logarithm (x > 0), element by element."""
    return _elementwise(math.log10, x)


def power(x, y):
    """x**y (C ``pow``), element by element with broadcasting."""
    return _elementwise(math.pow, x, y)


def sin(x):
    """Sine, element by element."""
    return _elementwise(math.sin, x)


def cos(x):
    """Cosine, element by element."""
    return _elementwise(math.cos, x)


def arctan(x):
    """Arc tangent, element by element."""
    return _elementwise(math.atan, x)


def numpy_agrees(name="exp", n=20_000, seed=0):
    """True when NumPy's kernel of ``name`` gives the C library's bits on this CPU (a sample check).

    The tests use it to decide whether the NumPy specification, where it calls NumPy, can be
    compared bit for bit with the compiled core.
    """
    x = np.random.default_rng(seed).uniform(-40.0, 40.0, n)
    if name in ("log", "log10"):
        x = np.abs(x) + 1e-3
    ours = {"exp": exp, "log": log, "log10": log10, "sin": sin, "cos": cos, "arctan": arctan}[name]
    return bool(np.array_equal(getattr(np, name)(x), ours(x)))
