"""Getting CoNNear models for the benchmark and the backpropagation use case, or saying why not.

Both :mod:`connear_helpers.runtime` and :mod:`connear_helpers.backprop` accept the same
``weights`` argument as :func:`connear_helpers.periphery.simulate` (a weight set name, a
file path, or a dict mapping model names to keras models / weight files) plus
``"untrained"``: the same architectures with freshly initialised (random) weights.

When trained weights are missing, :func:`load_models` falls back to untrained models
(if asked to) and returns a message saying so and how to get the weights, so that a
notebook still runs end to end. Execution times do not depend on the weight values;
the backpropagation use case then only demonstrates the mechanics.
"""
from __future__ import annotations

import os

UNTRAINED = "untrained"

HOW_TO_GET_WEIGHTS = (
    "The project's own 'connear-lab' weights are not trained yet; until they are, download "
    "the authors' weights once with `python -m connear_helpers.weights download official` "
    "and pass weights='official'."
)


def _is_model(obj):
    return obj is not None and not isinstance(obj, (str, bytes, os.PathLike)) and hasattr(obj, "predict")


def _load_one(name, source, n_cf):
    from .weights import load_model

    if _is_model(source):
        return source
    if source is None:
        from .weights import WeightsNotFoundError

        raise WeightsNotFoundError(f"no weights given for the {name!r} model (None)")
    return load_model(name, weights=source, n_cf=n_cf)


def untrained_models(names, n_cf=1, seed=None):
    """Build the CoNNear models ``names`` with fresh random weights (seeded if ``seed`` is given)."""
    import keras

    from .models import build_model

    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    return {n: build_model(n, n_cf=n_cf) for n in names}


def load_models(names, weights, n_cf=1, fallback=True, seed=0):
    """Keras models for ``names`` from ``weights``; returns ``(models, trained, message)``.

    names: CoNNear model names, e.g. ("ihc", "anfh").
    weights: "connear-lab", "official", a file path, "untrained", or a dict name -> keras
        model / weight source (a path or a set name).
    fallback: when a weight file is missing or does not fit, build untrained models
        instead (True) or re-raise the :class:`connear_helpers.weights.WeightsError` (False).
    seed: seed of the untrained models.
    Returns (dict name -> keras.Model, True if every model has trained weights,
    a message for the user or None).
    """
    from .weights import WeightsError

    names = tuple(names)
    if isinstance(weights, str) and weights == UNTRAINED:
        return (untrained_models(names, n_cf, seed), False,
                "Using UNTRAINED CoNNear models (random weights), as asked (weights='untrained').")
    models = {}
    try:
        for n in names:
            source = weights.get(n) if isinstance(weights, dict) else weights
            if isinstance(weights, dict) and n not in weights:
                from .weights import WeightsNotFoundError

                raise WeightsNotFoundError(
                    f"the weights dict has no entry for the {n!r} model; it has {sorted(weights)}")
            models[n] = _load_one(n, source, n_cf)
    except WeightsError as exc:
        if not fallback:
            raise
        how = "" if "download" in str(exc) else f"\n{HOW_TO_GET_WEIGHTS}"
        message = (f"CoNNear weights are not available: {exc}{how}\n"
                   "Continuing with UNTRAINED CoNNear models (random weights).")
        return untrained_models(names, n_cf, seed), False, message
    return models, True, None


def missing_weights(weights, names):
    """None if every model in ``names`` has weights in ``weights``, else the reason (a sentence).

    Cheap: checks that the files exist (no model is built). ``weights=None`` means
    "no CNNs" and is reported as missing.
    """
    from .weights import WeightsError, resolve_weights

    if weights is None:
        return "no CoNNear weights were given (weights=None)"
    for n in names:
        source = weights.get(n) if isinstance(weights, dict) else weights
        if isinstance(weights, dict) and n not in weights:
            return f"the weights dict has no entry for the {n!r} model"
        if _is_model(source):
            continue
        if source is None:
            return f"no weights were given for the {n!r} model"
        try:
            resolve_weights(source, n)
        except WeightsError as exc:
            return str(exc)
    return None
