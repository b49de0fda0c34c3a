"""Weight sets for the CoNNear models: where they come from, download, load, save.

Weight sources accepted by :func:`load_weights` and :func:`load_model`:

``"connear-lab"``
    Weights trained by this project, kept in the repository folder
    ``connear_weights/`` and described by ``connear_weights/manifest.json``::

        {"format": "connear-lab-weights/1",
         "models": {"ihc": {"file": "ihc.weights.h5", "sha256": "<hex, optional>"},
                    ...}}

    (the environment variable ``CONNEAR_LAB_WEIGHTS_DIR`` points elsewhere).
    Until the training issue fills that folder this set is absent, and loading
    it raises :class:`WeightsNotFoundError` saying so.
``"official"``
    The authors' trained weights (Drakopoulos, Baby & Verhulst 2021; Baby et al.
    2021). Their licence lets a user download them but not us redistribute them,
    so they are fetched once from the authors' public GitHub repositories,
    pinned to a commit, into a per-user cache::

        python -m connear_helpers.cnn.weights download official

    or :func:`download_official`. The cache is ``$CONNEAR_LAB_CACHE`` if set,
    else ``pooch.os_cache("connear-lab")``. Every file is verified against the
    git blob id of spec Appendix W before it is put in the cache. Loading them
    afterwards needs no network.
a file path
    Any ``.h5`` file in the Keras 2 HDF5 layout of the authors' files (spec §1.7)
    or any Keras 3 ``.weights.h5`` file written by ``model.save_weights``.
a folder path
    A folder with a ``manifest.json`` of the ``connear_weights/`` format (what ``train_all`` and
    the training runs write; the manifest names each model's file and architecture), or with
    files ``<name>.weights.h5`` / ``<name>.h5``.
a dict
    Model name -> any of the above, or -> a keras model (used as it is).

This module is the one place where a weight source is resolved: :func:`resolve_weights` (the
file), :func:`architecture_of` (what to build), :func:`load_model`, :func:`cached_model` (the
single-CF model, loaded once), :func:`load_models` (several; raises) and
:func:`load_models_or_untrained` (falls back to random weights, with a message). Every "how to
get weights" hint comes from :func:`how_to_get`.

Weights are mapped onto a model **by order**, never by layer name (the authors
load the same file into models whose layer names differ, spec §1.7), and every
array's shape is checked first; a mismatch raises :class:`WeightsMismatchError`
naming the model, the layer, the expected and the found shape, and what to do.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import re
import shutil
import sys

import numpy as np

from .architectures import (
    LAB_ARCHITECTURES,
    MODEL_INFO,
    MODEL_NAMES,
    build_model,
    expected_weight_layout,
    inner_model,
    model_name_of,
)

__all__ = [
    "WEIGHT_SETS",
    "OFFICIAL_FILES",
    "LICENCE_NOTICE",
    "WeightsError",
    "WeightsNotFoundError",
    "WeightsMismatchError",
    "WeightsDownloadError",
    "cache_dir",
    "connear_lab_dir",
    "resolve_weights",
    "architecture_of",
    "cached_model",
    "load_models",
    "load_models_or_untrained",
    "missing_weights",
    "how_to_get",
    "manifest",
    "weights_label",
    "weights_quality",
    "load_weights",
    "load_model",
    "read_weight_arrays",
    "save_weights_keras2_layout",
    "download_official",
    "git_blob_id",
]

#: Named weight sets.
WEIGHT_SETS = ("connear-lab", "official")

_IHC_ANF = ("CoNNear_IHC-ANF", "4c98a11d606b82fd079ac9009c48a89ac5dc289f")
_PERIPHERY = ("CoNNear_periphery", "2e3cb2a45b3c6ae9cc16a5218530090516102834")

#: The authors' weight files (spec Appendix W): entry -> (repo, commit, path,
#: git blob id, architecture). The hearing-impaired cochleae use the cochlea graph.
OFFICIAL_FILES = {
    "cochlea": (*_IHC_ANF, "connear/cochlea.h5",
                "8812a0920bda4d948878e188e789d9609103eda1", "cochlea"),
    "ihc": (*_IHC_ANF, "connear/ihc.h5", "7771d731f25f6e7a39ef16b5a80748495373e201", "ihc"),
    "anfh": (*_IHC_ANF, "connear/anfh.h5", "b3dd2efcaa7af0526999c0023383a997659c8b20", "anfh"),
    "anfm": (*_IHC_ANF, "connear/anfm.h5", "495c153716cecd390eb315e34729955a60fc7622", "anfm"),
    "anfl": (*_IHC_ANF, "connear/anfl.h5", "e5194b02b26b7e460932a965ad3dfe4dce948cff", "anfl"),
    "dierich2020_ihc": (*_IHC_ANF, "Dierich2020/ihc.h5",
                        "9dd6ba80c54bd14e7227a89c91dd211b62ae6600", "dierich2020_ihc"),
    "zilany2014_anfh": (*_IHC_ANF, "Zilany2014/anfh.h5",
                        "8a0b4bb7add4d1de4eae8c954497294bd6fe334f", "zilany2014_anfh"),
    "zilany2014_anfm": (*_IHC_ANF, "Zilany2014/anfm.h5",
                        "8723872017cdb1449e5ac823f52fdf09a26398f4", "zilany2014_anfm"),
    "zilany2014_anfl": (*_IHC_ANF, "Zilany2014/anfl.h5",
                        "f19e47e14473c454c77b08042df17ae35d4046af", "zilany2014_anfl"),
    "cochlea_flat25": (*_PERIPHERY, "connear/cochlea_flat25.h5",
                       "669ebce6e43ce4905d4195a267da311a304da465", "cochlea"),
    "cochlea_flat35": (*_PERIPHERY, "connear/cochlea_flat35.h5",
                       "090a0f549dd17e3919ea18427260e5b6bcd79471", "cochlea"),
    "cochlea_slope25": (*_PERIPHERY, "connear/cochlea_slope25.h5",
                        "118123fd213856da3b42d1719273b108447ca5bc", "cochlea"),
    "cochlea_slope35": (*_PERIPHERY, "connear/cochlea_slope35.h5",
                        "bf4378a2beb0ef6cf56735590df68849ae547a65", "cochlea"),
}

#: Entries downloaded by default (the hearing-impaired cochleae only on request).
DEFAULT_OFFICIAL = tuple(n for n in MODEL_NAMES if MODEL_INFO[n]["official_file"])

#: URL of one official file; ``{repo}``, ``{commit}`` and ``{path}`` are filled in.
#: ``$CONNEAR_LAB_OFFICIAL_URL`` (same placeholders) overrides it, e.g. for a mirror.
OFFICIAL_URL_TEMPLATE = ("https://raw.githubusercontent.com/HearingTechnology/"
                         "{repo}/{commit}/{path}")

LICENCE_NOTICE = """\
The official CoNNear weights belong to the Hearing Technology group, Ghent
University (Drakopoulos, Baby & Verhulst 2021; Baby, Van Den Broucke & Verhulst
2021) and are distributed under the UGent academic licence of their repositories
(github.com/HearingTechnology/CoNNear_IHC-ANF, CoNNear_periphery). Read the
LICENSE file there before use: it covers academic, non-commercial use, and the
files must not be redistributed. connear-lab does not ship them; this command
downloads them for you, from the authors' repositories, into your own cache."""

_MANIFEST = "manifest.json"


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

class WeightsError(Exception):
    """Base class of the weight-loading errors."""


class WeightsNotFoundError(WeightsError, FileNotFoundError):
    """A weight file or weight set is not available locally."""


class WeightsMismatchError(WeightsError, ValueError):
    """A weight file does not fit the model (count or shape), or cannot be read."""


class WeightsDownloadError(WeightsError, OSError):
    """A download failed or gave a file with the wrong checksum."""


#: The models a connear-lab set (shipped or trained with train_all) can hold.
LAB_SET_MODELS = ("cochlea", "ihc", "anfh", "anfm", "anfl")


def how_to_get(name=None):
    """The one hint on how to get CoNNear weights (str), for the model ``name`` if given."""
    official = "`python -m connear_helpers.cnn.weights download official` (once, needs network), then weights='official'"
    if name in OFFICIAL_FILES:
        repo, _, path, _, _ = OFFICIAL_FILES[name]
        shipped = "use the shipped set (weights='connear-lab'), or " if name in LAB_SET_MODELS else ""
        return (f"{shipped}get the authors' file with {official} "
                f"(the {name!r} weights are {repo}/{path}), or pass the path of a weight file or folder "
                f"written for the {name!r} model")
    if name is not None:
        return f"pass the path of a weight file or folder written for the {name!r} model"
    return (f"How to get them: the shipped set is weights='connear-lab' (restore connear_weights/ from git "
            f"if it is missing); the authors' set: {official}; your own: a folder written by "
            "`python -m connear_helpers.training.train_all`.")


# ---------------------------------------------------------------------------
# Locations
# ---------------------------------------------------------------------------

def cache_dir():
    """Folder holding downloaded weights: ``$CONNEAR_LAB_CACHE`` or pooch's user cache."""
    env = os.environ.get("CONNEAR_LAB_CACHE")
    if env:
        return pathlib.Path(env).expanduser()
    import pooch

    return pathlib.Path(pooch.os_cache("connear-lab"))


def connear_lab_dir():
    """Folder of the ``"connear-lab"`` weight set: ``$CONNEAR_LAB_WEIGHTS_DIR``, else the copy a
    non-editable install puts in the package (``connear_helpers/_data/connear_weights``), else
    ``connear_weights/`` of the checkout."""
    env = os.environ.get("CONNEAR_LAB_WEIGHTS_DIR")
    if env:
        return pathlib.Path(env).expanduser()
    package = pathlib.Path(__file__).resolve().parents[1]
    installed = package / "_data" / "connear_weights"
    return installed if installed.is_dir() else package.parent / "connear_weights"


def _official_path(entry, root=None):
    repo, _, path, _, _ = OFFICIAL_FILES[entry]
    return pathlib.Path(root or cache_dir()) / "official" / repo / path


def _is_path(source):
    return isinstance(source, (str, os.PathLike))


def _is_model(obj):
    return obj is not None and not isinstance(obj, (str, bytes, os.PathLike, dict)) and hasattr(obj, "predict")


def _dict_entry(weights, name):
    """The source of ``name`` in a dict of sources; raises WeightsNotFoundError when absent."""
    if name not in weights or weights[name] is None:
        raise WeightsNotFoundError(
            f"the weights dict has no {name!r} model (it has {', '.join(sorted(map(str, weights))) or 'none'}); "
            f"add one: {how_to_get(name)}")
    return weights[name]


def manifest(folder=None):
    """The manifest (dict) of a weight folder, default the shipped ``"connear-lab"`` set; None
    when the folder has no ``manifest.json``. Raises WeightsMismatchError for an unreadable one."""
    path = pathlib.Path(folder or connear_lab_dir()).expanduser() / _MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        if not isinstance(data.get("models"), dict):
            raise TypeError("no 'models' table")
    except (ValueError, TypeError, AttributeError) as exc:
        raise WeightsMismatchError(f"{path} is not a valid weights manifest (expected a JSON object with a "
                                   f"'models' table): {exc}; fix or remove it") from None
    return data


def resolve_weights(source, name, verify=True):
    """Path of the weight file of model ``name`` (e.g. ``"ihc"``) in ``source``.

    source: "connear-lab", "official", a file, a folder (manifest.json or ``<name>.weights.h5`` /
    ``<name>.h5``) or a dict name -> one of these. Raises :class:`WeightsNotFoundError` saying what
    to do when the file is not there, :class:`WeightsMismatchError` when its sha256 differs from
    the manifest's. verify=False skips the sha256 check (for cache keys; loading always checks).
    """
    if isinstance(source, dict):
        return resolve_weights(_dict_entry(source, name), name, verify)
    if not _is_path(source):
        raise TypeError(f"weights must be 'connear-lab', 'official', a file or folder path or a dict, got "
                        f"{type(source).__name__}")
    if str(source) == "connear-lab":
        if not (connear_lab_dir() / _MANIFEST).is_file():
            raise WeightsNotFoundError(
                f"the 'connear-lab' weight set is missing (no {connear_lab_dir() / _MANIFEST}); restore "
                "connear_weights/ from git, point CONNEAR_LAB_WEIGHTS_DIR at a copy, pass the path of a weight "
                "file or folder, or use the authors' weights: run `python -m connear_helpers.cnn.weights "
                "download official` and pass weights='official'")
        return _resolve_folder(connear_lab_dir(), name, "the 'connear-lab' weight set", verify)
    if str(source) == "official":
        if name not in OFFICIAL_FILES:
            raise WeightsNotFoundError(
                f"the official weight set has no entry {name!r}; it has {', '.join(OFFICIAL_FILES)}")
        path = _official_path(name)
        if not path.is_file():
            raise WeightsNotFoundError(
                f"the official {name!r} weights are not downloaded yet (expected {path}). "
                "Run `python -m connear_helpers.cnn.weights download official` once (needs "
                "network; or call connear_helpers.cnn.weights.download_official()), or set "
                "CONNEAR_LAB_CACHE to the folder where you keep them.")
        return path
    path = pathlib.Path(source).expanduser()
    if path.is_dir():
        return _resolve_folder(path, name, f"the weight folder {str(path)!r}", verify)
    if not path.is_file():
        hint = (" (did you mean one of the weight sets 'connear-lab' or 'official'?)"
                if not str(source).endswith(".h5") else "")
        raise WeightsNotFoundError(
            f"weight file {str(path)!r} for the {name!r} model does not exist{hint}; " + how_to_get(name))
    return path


def _resolve_folder(folder, name, what, verify=True):
    """Weight file of ``name`` in a folder: its manifest's entry (sha256 checked) or ``<name>.weights.h5``."""
    folder = pathlib.Path(folder)
    data = manifest(folder)
    if data is None:
        for candidate in (f"{name}.weights.h5", f"{name}.h5"):
            if (folder / candidate).is_file():
                return folder / candidate
        raise WeightsNotFoundError(
            f"{what} has no {name!r} model: no {folder / _MANIFEST} and no {name}.weights.h5 / {name}.h5 "
            f"in it; {how_to_get(name)}")
    entries = data["models"]
    if name not in entries:
        raise WeightsNotFoundError(
            f"{what} has no {name!r} model (it has {', '.join(sorted(entries)) or 'none'}); "
            + how_to_get(name))
    entry = entries[name]
    path = folder / entry["file"]
    if not path.is_file():
        raise WeightsNotFoundError(f"{folder / _MANIFEST} lists {path} for {name!r}, but the file is "
                                   "missing; restore it from git (git lfs pull?) or retrain")
    want = entry.get("sha256")
    if want and verify:
        got = file_sha256(path)
        if got != want:
            raise WeightsMismatchError(
                f"{path} has sha256 {got}, the manifest expects {want}; the file is "
                "corrupt or was changed without updating the manifest. Restore it from git "
                "(git checkout -- connear_weights) or retrain")
    return path


def architecture_of(source, name):
    """The :func:`~connear_helpers.cnn.architectures.build_model` name to build for model ``name``
    of ``source``: the ``architecture`` of a manifest ("connear-lab" or a folder), the official
    table's for "official", else ``name``. Raises :class:`WeightsMismatchError` for an unknown or
    foreign architecture."""
    if isinstance(source, dict):
        entry = _dict_entry(source, name)
        return model_name_of(entry) if _is_model(entry) else architecture_of(entry, name)
    if not _is_path(source):
        return name
    if str(source) == "official":
        return OFFICIAL_FILES[name][4] if name in OFFICIAL_FILES else name
    folder = connear_lab_dir() if str(source) == "connear-lab" else pathlib.Path(source).expanduser()
    if not folder.is_dir():
        return name
    try:
        data = manifest(folder)
    except WeightsMismatchError:
        return name  # resolve_weights says what is wrong with the manifest
    entry = (data or {}).get("models", {}).get(name)
    arch = entry.get("architecture") if isinstance(entry, dict) else None
    if not arch:
        return name
    if arch not in MODEL_INFO or (name in MODEL_INFO and MODEL_INFO[arch]["family"] != MODEL_INFO[name]["family"]):
        raise WeightsMismatchError(
            f"{folder / _MANIFEST} gives the {name!r} weights the architecture {arch!r}, which is not a "
            f"{MODEL_INFO.get(name, {}).get('family', name)} model of connear_helpers.cnn.architectures; "
            "fix the manifest")
    return arch


def file_sha256(path):
    """SHA-256 hex digest of a file (as listed in connear_weights/manifest.json)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def git_blob_id(path):
    """Git blob id (SHA-1 of ``b"blob <size>\\0" + content``) of a file, as hex."""
    size = os.path.getsize(path)
    h = hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------

def _attr_list(obj, key):
    """Read a (possibly chunked: key0, key1, ...) string-list attribute, or None."""
    if key in obj.attrs:
        values = list(obj.attrs[key])
    elif f"{key}0" in obj.attrs:
        values, i = [], 0
        while f"{key}{i}" in obj.attrs:
            values.extend(obj.attrs[f"{key}{i}"])
            i += 1
    else:
        return None
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def _read_keras2(f):
    root = f
    if _attr_list(root, "layer_names") is None and "model_weights" in root:
        root = root["model_weights"]
    layer_names = _attr_list(root, "layer_names")
    if layer_names is None:
        return None
    out = []
    for lname in layer_names:
        if lname not in root:
            raise WeightsMismatchError(f"the file lists layer {lname!r} but has no group "
                                       "for it (truncated or damaged file)")
        group = root[lname]
        for wname in _attr_list(group, "weight_names") or []:
            if wname not in group:
                raise WeightsMismatchError(
                    f"the file lists array {lname}/{wname} but does not contain it "
                    "(truncated or damaged file)")
            out.append((f"{lname}/{wname}", np.asarray(group[wname])))
    return out


def _snake(class_name):
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def _read_keras3(f, model):
    """Read a Keras 3 ``.weights.h5`` file in the order of ``model``'s weights.

    Keras 3 stores each layer under a key made from its class name and its rank
    among the layers of that class (``conv2d``, ``conv2d_1``, ...), not under the
    layer's own name, so the 201-CF and the 1-CF variants read the same file.
    """
    if "layers" not in f:
        return None
    base = f["layers"]
    nested = [k for k in base if hasattr(base[k], "keys") and "layers" in base[k]]
    if len(nested) == 1:
        base = base[nested[0]]["layers"]
    out, counts = [], {}
    for layer in inner_model(model).layers:
        key = _snake(type(layer).__name__)
        n = counts.get(key, 0)
        counts[key] = n + 1
        if not layer.weights:
            continue
        path = key if n == 0 else f"{key}_{n}"
        for i in range(len(layer.weights)):
            ds = f"{path}/vars/{i}"
            if ds not in base:
                out.append((ds, None))
            else:
                out.append((ds, np.asarray(base[ds])))
    # arrays in the file that the model does not use -> wrong model
    n_file = 0
    for k in base:
        if "vars" in base[k]:
            n_file += len(base[k]["vars"])
    return out, n_file


def read_weight_arrays(path, model=None):
    """Read the weight arrays of a file, in file order, as ``[(name, array), ...]``.

    Keras 2 HDF5 layout (spec §1.7): the arrays in ``weight_names`` order of every
    layer group listed in ``layer_names`` (descending into ``model_weights`` for
    full-model saves). Keras 3 ``.weights.h5``: needs ``model`` to know the order.
    """
    import h5py

    path = pathlib.Path(path)
    try:
        with h5py.File(path, "r") as f:
            k2 = _read_keras2(f)
            if k2 is not None:
                return k2
            if model is None:
                raise WeightsMismatchError(f"{path} is not in the Keras 2 layout; pass the "
                                           "model to read a Keras 3 .weights.h5 file")
            k3 = _read_keras3(f, model)
            if k3 is None:
                raise WeightsMismatchError(
                    f"{path} is an HDF5 file but neither a Keras 2 weight file (no "
                    "'layer_names' attribute) nor a Keras 3 .weights.h5 file (no 'layers' "
                    "group)")
            return k3[0]
    except OSError as exc:
        raise WeightsMismatchError(
            f"{path} could not be read as an HDF5 weight file ({exc}); it is probably "
            "truncated or damaged (an interrupted download?). Delete it and download or "
            "save it again.") from None


def _signature_guess(shapes):
    """Which models have exactly this ordered list of array shapes?"""
    matches = []
    seen = {}
    for name in MODEL_NAMES:
        info = MODEL_INFO[name]
        key = (info["family"], info["nonlinearity"], info["params"])
        if key not in seen:
            seen[key] = [s for _, _, s in expected_weight_layout(build_model(name, n_cf=1))]
        if seen[key] == shapes:
            matches.append(name)
    return matches


def load_weights(model, source="connear-lab", name=None):
    """Load weights into a model from :func:`connear_helpers.cnn.architectures.build_model`.

    Parameters
    ----------
    model : keras.Model
        Any variant (201-CF, 1-CF, cropped or not) of a CoNNear model.
    source : "connear-lab", "official" or path
        Weight set or file (``.h5`` in the Keras 2 layout, or Keras 3 ``.weights.h5``).
    name : str or None
        Entry of the weight set to load, default the model's own name (e.g.
        ``"cochlea_flat25"`` loads a hearing-impaired cochlea into a cochlea model).

    Returns the model. Raises :class:`WeightsNotFoundError` (missing file or set)
    or :class:`WeightsMismatchError` (wrong model, truncated file, wrong shape);
    the model's weights are only changed when every array fits.
    """
    import h5py

    model_name = model_name_of(model)
    entry = name or model_name
    if name is not None and name in OFFICIAL_FILES:
        arch = OFFICIAL_FILES[name][4]
        # the paper's graphs differ in their output nonlinearity (anfl: tanh/sigmoid); the lab's
        # CPU-sized graphs have one per family, and their weight layout is checked below
        lab = model_name in LAB_ARCHITECTURES
        if MODEL_INFO[arch]["family"] != MODEL_INFO[model_name]["family"] or (
                not lab and MODEL_INFO[arch]["nonlinearity"] != MODEL_INFO[model_name]["nonlinearity"]):
            raise WeightsMismatchError(
                f"weights {name!r} are for the {arch!r} architecture, not for the "
                f"{model_name!r} model; build the model with build_model({arch!r})")
    path = resolve_weights(source, entry)
    layout = expected_weight_layout(model)
    variables = [w for layer in inner_model(model).layers for w in layer.weights]
    try:
        with h5py.File(path, "r") as f:
            arrays = _read_keras2(f)
            n_file = None if arrays is None else len(arrays)
            if arrays is None:
                k3 = _read_keras3(f, model)
                if k3 is None:
                    raise WeightsMismatchError(
                        f"{path} is an HDF5 file but not a Keras weight file (neither the "
                        "Keras 2 'layer_names' layout nor a Keras 3 'layers' group); "
                        + how_to_get(model_name))
                arrays, n_file = k3
    except OSError as exc:
        raise WeightsMismatchError(
            f"cannot load weights for the {model_name!r} model: {path} could not be read "
            f"as HDF5 ({exc}). The file is probably truncated or damaged (an interrupted "
            f"download?); delete it, then {how_to_get(entry)}.") from None

    found_shapes = [None if a is None else tuple(a.shape) for _, a in arrays]
    expected_shapes = [s for _, _, s in layout]
    if n_file != len(layout) or found_shapes != expected_shapes:
        _raise_mismatch(model_name, entry, path, layout, arrays, n_file)
    for var, (_, arr) in zip(variables, arrays):
        var.assign(arr.astype(np.float32))
    return model


def _raise_mismatch(model_name, entry, path, layout, arrays, n_file):
    lines = [f"weight file {path} does not fit the {model_name!r} model "
             f"(expected {len(layout)} arrays, found {n_file})."]
    for i, (layer, var, shape) in enumerate(layout):
        if i >= len(arrays):
            lines.append(f"  layer {layer!r} {var}: expected shape {shape}, the file has "
                         "no array for it")
            break
        fname, arr = arrays[i]
        if arr is None:
            lines.append(f"  layer {layer!r} {var}: expected shape {shape}, the file has "
                         f"no array {fname!r}")
            break
        if tuple(arr.shape) != shape:
            lines.append(f"  layer {layer!r} {var}: expected shape {shape}, found "
                         f"{tuple(arr.shape)} (file array {fname!r})")
            break
    if all(a is not None for _, a in arrays):
        guess = _signature_guess([tuple(a.shape) for _, a in arrays])
        if guess:
            lines.append(f"  The file looks like weights for: {', '.join(guess)}.")
    lines.append("  To fix: " + how_to_get(entry) + ".")
    raise WeightsMismatchError("\n".join(lines))


def load_model(name, weights="connear-lab", n_cf=201, cropped=True):
    """Model ``name`` ("cochlea", "ihc", "anfh", ...) with ``weights`` loaded (keras.Model).

    weights: any source of the module docstring ("connear-lab", "official", a file, a folder, a
    dict). The architecture the source names for ``name`` is built (:func:`architecture_of`, e.g.
    "ihc_f32" for the shipped set's "ihc"); a keras model in a dict is returned as it is.
    n_cf, cropped: see :func:`~connear_helpers.cnn.architectures.build_model`.
    """
    if isinstance(weights, dict) and _is_model(_dict_entry(weights, name)):
        return weights[name]
    if _is_model(weights):
        return weights
    arch = architecture_of(weights, name)
    if arch != name:
        return load_weights(build_model(arch, n_cf=n_cf, cropped=cropped), weights, name=name)
    return load_weights(build_model(name, n_cf=n_cf, cropped=cropped), weights)


_LOADED = {}


def cached_model(name, weights):
    """The single-CF model ``name`` with ``weights`` (any source), loaded once per weight file."""
    if isinstance(weights, dict):
        weights = _dict_entry(weights, name)
    if _is_model(weights):
        return weights
    path = resolve_weights(weights, name, verify=False)  # the file is hashed when it is loaded, not per call
    stat = path.stat()
    key = (name, str(weights), str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _LOADED:
        _LOADED[key] = load_model(name, weights=weights, n_cf=1)
    return _LOADED[key]


def load_models(names, weights, n_cf=1):
    """dict name -> keras model for the models ``names`` of ``weights`` (any source).

    n_cf=1 gives the cached single-CF models (:func:`cached_model`). Raises
    :class:`WeightsError` (with :func:`how_to_get`) when one is not available."""
    if weights is None:
        raise WeightsNotFoundError("no CoNNear weights were given (weights=None); " + how_to_get())
    if n_cf == 1:
        return {n: cached_model(n, weights) for n in names}
    return {n: load_model(n, weights, n_cf=n_cf) for n in names}


#: ``weights=`` value of :func:`load_models_or_untrained` that asks for random weights.
UNTRAINED = "untrained"


def untrained_models(names, n_cf=1, seed=None):
    """The models ``names`` with fresh random weights (seeded if ``seed`` is given)."""
    import keras

    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    return {n: build_model(n, n_cf=n_cf) for n in names}


def load_models_or_untrained(names, weights, n_cf=1, seed=0):
    """Like :func:`load_models`, but missing weights give untrained models instead of an error.

    For the run-time table and the backpropagation use case, whose mechanics do not depend on
    the weight values. weights="untrained" asks for random weights. Returns (dict name ->
    keras.Model, True if every model is trained, a message for the user or None).
    """
    names = tuple(names)
    if isinstance(weights, str) and weights == UNTRAINED:
        return (untrained_models(names, n_cf, seed), False,
                "Using UNTRAINED CoNNear models (random weights), as asked (weights='untrained').")
    try:
        return load_models(names, weights, n_cf=n_cf), True, None
    except WeightsError as exc:
        how = "" if "download" in str(exc) else f"\n{how_to_get()}"
        return (untrained_models(names, n_cf, seed), False,
                f"CoNNear weights are not available: {exc}{how}\n"
                "Continuing with UNTRAINED CoNNear models (random weights).")


def missing_weights(weights, names):
    """None if every model in ``names`` has weights in ``weights``, else the reason (a sentence).

    Cheap: finds the files (no model is built). ``weights=None`` is reported as missing."""
    if weights is None:
        return "no CoNNear weights were given (weights=None)"
    for n in names:
        try:
            if not (isinstance(weights, dict) and _is_model(_dict_entry(weights, n))):
                resolve_weights(weights, n)
        except WeightsError as exc:
            return str(exc)
    return None


def weights_label(weights):
    """Short name of a weight source for legends and tables (str); the shipped set with its version."""
    if weights is None:
        return "none (reference only)"
    if isinstance(weights, dict):
        return "custom models"
    if str(weights) == "connear-lab":
        info = connear_lab_info()
        if info:
            return f"connear-lab {info['version']}"
    return str(weights)


def connear_lab_info():
    """The shipped connear-lab set's manifest (dict with version, summary, scores ...), or None."""
    try:
        data = manifest()
    except WeightsError:
        return None
    return data if data and "version" in data else None


def weights_quality(weights):
    """The footnote that says which CoNNear weights a figure shows and how good they are (str or None)."""
    if _is_path(weights) and str(weights) == "connear-lab":
        info = connear_lab_info()
        if info:
            return (f"CoNNear: connear-lab weights {info['version']}, trained by this project on a CPU (not the "
                    f"authors' weights); {info.get('summary', '')}. weights=\"official\" uses the authors' set.")
    if _is_path(weights) and str(weights) == "official":
        return "CoNNear: the authors' official weights."
    return None


# ---------------------------------------------------------------------------
# Writing files
# ---------------------------------------------------------------------------

def save_weights_keras2_layout(model, path, keras_version="2.3.1", full_model=False):
    """Write the model's weights in the Keras 2 HDF5 layout of the authors' files.

    Layout (spec §1.7): root attributes ``layer_names = [outer input, inner model]``,
    ``backend``, ``keras_version``; a group per layer name with a ``weight_names``
    attribute; the inner model's group holds ``<layer>/<var>:0`` datasets in
    weight order. ``full_model=True`` nests everything under ``model_weights`` as a
    Keras 2 ``model.save`` would. Keras 3 ``model.load_weights(path)`` reads such
    a file too (legacy ``.h5`` path).
    """
    import h5py

    inner = inner_model(model)
    outer_input = model.layers[0].name
    with h5py.File(path, "w") as f:
        root = f.create_group("model_weights") if full_model else f
        root.attrs["layer_names"] = np.array([outer_input.encode(), inner.name.encode()])
        root.attrs["backend"] = b"tensorflow"
        root.attrs["keras_version"] = keras_version.encode()
        g_in = root.create_group(outer_input)
        g_in.attrs["weight_names"] = np.array([], dtype="S1")
        g = root.create_group(inner.name)
        names = []
        for layer in inner.layers:
            for w in layer.weights:
                wname = f"{layer.name}/{w.name}:0"
                g.create_dataset(wname, data=np.asarray(w.numpy(), dtype=np.float32))
                names.append(wname.encode())
        g.attrs["weight_names"] = np.array(names)
    return pathlib.Path(path)


# ---------------------------------------------------------------------------
# Downloading the official weights
# ---------------------------------------------------------------------------

def _url_for(entry, url_template):
    repo, commit, path, _, _ = OFFICIAL_FILES[entry] if isinstance(entry, str) else entry
    return url_template.format(repo=repo, commit=commit, path=path)


def _fetch_one(entry, record, root, staging, url_template, progress):
    """Download one registry entry via ``staging`` and move it into place once verified."""
    import pooch

    repo, commit, rel, blob, _ = record
    final = root / "official" / repo / rel
    if final.is_file() and git_blob_id(final) == blob:
        return final
    url = url_template.format(repo=repo, commit=commit, path=rel)
    staging.mkdir(parents=True, exist_ok=True)
    fname = f"{repo}__{rel.replace('/', '__')}"
    tmp = staging / fname
    if tmp.exists():
        tmp.unlink()
    try:
        pooch.retrieve(url, known_hash=None, fname=fname, path=staging,
                       progressbar=progress,
                       downloader=pooch.HTTPDownloader(progressbar=progress, timeout=60))
    except Exception as exc:  # requests/urllib3 errors, HTTP errors, OS errors
        raise WeightsDownloadError(_download_failure(entry, url, exc)) from exc
    got = git_blob_id(tmp)
    if got != blob:
        size = tmp.stat().st_size
        tmp.unlink()
        raise WeightsDownloadError(
            f"the file downloaded from {url} ({size} bytes) has git blob id {got}, "
            f"expected {blob} (spec Appendix W): it is not the published {entry!r} "
            "weight file (changed, truncated or corrupted on the way). It was deleted; "
            "nothing was stored in the cache. Try again later, or download it yourself "
            "and pass its path.")
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)
    return final


_OFFLINE_HINTS = ("NameResolution", "Name or service not known", "Temporary failure in name resolution",
                  "Failed to establish a new connection", "Connection refused", "Network is unreachable",
                  "timed out", "Max retries exceeded")


def _download_failure(entry, url, exc):
    """The message of a failed download: what failed, and the offline route."""
    text = f"{type(exc).__name__}: {exc}"
    host = url.split("/")[2] if "://" in url else url
    offline = ("If this machine has no internet access, download the files on one that has "
               "(`python -m connear_helpers.cnn.weights urls official` lists them), copy them into a "
               "folder here and run `python -m connear_helpers.cnn.weights download official --from "
               "FOLDER`: the files are verified against the same git blob ids and put into the cache.")
    if any(h in text for h in _OFFLINE_HINTS):
        if any(h in text for h in ("NameResolution", "Name or service not known", "name resolution")):
            why = "its name could not be resolved"
        elif "timed out" in text:
            why = "the connection timed out"
        else:
            why = "the connection failed"
        return (f"could not reach {host} to download the official {entry!r} weights: {why}; this machine "
                f"seems to have no internet access ({type(exc).__name__}). Nothing was stored in the cache. "
                f"{offline}")
    return (f"downloading the official {entry!r} weights from {url} failed ({text[:300]}). Nothing was "
            f"stored in the cache. Check the connection and run `python -m connear_helpers.cnn.weights "
            f"download official` again. {offline}")


def official_urls(names=None, url_template=None):
    """{entry: URL} of the authors' weight files (to download them on another machine)."""
    url_template = (url_template or os.environ.get("CONNEAR_LAB_OFFICIAL_URL") or OFFICIAL_URL_TEMPLATE)
    return {n: _url_for(n, url_template) for n in (DEFAULT_OFFICIAL if names is None else names)}


def install_official_from(folder, names=None, cache=None, registry=None, quiet=False):
    """Put official weight files downloaded elsewhere into the cache, verified (the offline route).

    folder: a folder (searched recursively) holding the ``.h5`` files under any names: each is
    identified by its git blob id (several official files share a base name, e.g. ``ihc.h5``).
    names: entries to install (default: the nine models). Returns {entry: path in the cache}.
    Raises WeightsNotFoundError naming the entries whose files are not in the folder and their URLs.
    """
    registry = OFFICIAL_FILES if registry is None else registry
    names = list(DEFAULT_OFFICIAL if names is None else names)
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise ValueError(f"unknown official weight entries {unknown}; expected some of {', '.join(registry)}")
    folder = pathlib.Path(folder).expanduser()
    if not folder.is_dir():
        raise WeightsNotFoundError(f"--from {folder}: no such folder; give the folder the weight files were "
                                   "copied into")
    by_blob = {}
    for path in sorted(folder.rglob("*.h5")):
        by_blob.setdefault(git_blob_id(path), path)
    root = pathlib.Path(cache) if cache is not None else cache_dir()
    missing = [n for n in names if registry[n][3] not in by_blob]
    if missing:
        urls = official_urls(missing) if registry is OFFICIAL_FILES else {n: "" for n in missing}
        raise WeightsNotFoundError(
            f"{folder} holds no verified file for {', '.join(missing)} (files are recognised by their "
            f"content, the git blob id, not their names; a changed or truncated file does not count). "
            "Download them from:\n" + "\n".join(f"  {n}: {u}" for n, u in urls.items()))
    result = {}
    for n in names:
        repo, _, rel, blob, _ = registry[n]
        final = root / "official" / repo / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.part")
        shutil.copyfile(by_blob[blob], tmp)
        os.replace(tmp, final)
        result[n] = final
    if not quiet:
        print(f"Installed {len(result)} verified official weight files into {root / 'official'}.", file=sys.stderr)
    return result


def download_official(names=None, cache=None, progress=True, url_template=None,
                      registry=None, quiet=False):
    """Download the authors' weight files into the user cache (once) and verify them.

    Parameters
    ----------
    names : list of str or None
        Entries of :data:`OFFICIAL_FILES` to fetch; ``None`` = the nine models of
        :data:`connear_helpers.cnn.architectures.MODEL_NAMES` (add ``"cochlea_flat25"`` etc.
        for the hearing-impaired cochleae).
    cache : path or None
        Cache folder, default :func:`cache_dir`. Files go to
        ``<cache>/official/<repo>/<path in repo>``.
    progress : bool
        Show a progress bar (tqdm) while downloading.
    url_template, registry :
        Overrides for mirrors and tests: the URL template (``{repo}``, ``{commit}``,
        ``{path}``) and a dict shaped like :data:`OFFICIAL_FILES`.
    quiet : bool
        Do not print the licence notice and the summary.

    Returns
    -------
    dict entry -> pathlib.Path of the verified file.

    Each file is downloaded to a staging folder, its git blob id is compared with
    the one in the registry, and only a verified file is moved into place, so an
    interrupted or corrupt download never leaves a file that looks valid. Files
    already present and verified are not downloaded again.
    """
    import pooch

    registry = OFFICIAL_FILES if registry is None else registry
    pooch.get_logger().setLevel("WARNING")
    names = list(DEFAULT_OFFICIAL if names is None else names)
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise ValueError(f"unknown official weight entries {unknown}; expected some of "
                         f"{', '.join(registry)}")
    url_template = (url_template or os.environ.get("CONNEAR_LAB_OFFICIAL_URL")
                    or OFFICIAL_URL_TEMPLATE)
    root = pathlib.Path(cache) if cache is not None else cache_dir()
    if not quiet:
        print(LICENCE_NOTICE, file=sys.stderr)
    result = {}
    staging = root / f".staging-{os.getpid()}"
    try:
        for entry in names:
            result[entry] = _fetch_one(entry, registry[entry], root, staging, url_template,
                                       progress)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not quiet:
        print(f"\nOfficial CoNNear weights (verified) are in {root / 'official'}:",
              file=sys.stderr)
        for entry, p in result.items():
            print(f"  {entry:18s} {p}", file=sys.stderr)
        print("Load them with connear_helpers.cnn.weights.load_model(name, weights='official').",
              file=sys.stderr)
    return result


def _main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m connear_helpers.cnn.weights",
        description="Manage CoNNear weight sets (download the authors' official weights).")
    sub = parser.add_subparsers(dest="cmd", required=True)
    dl = sub.add_parser("download", help="download a weight set into the user cache")
    dl.add_argument("set", choices=["official"], help="weight set to download")
    dl.add_argument("--models", nargs="+", metavar="NAME",
                    help=f"entries to fetch (default: all nine models); choices: "
                         f"{', '.join(OFFICIAL_FILES)}")
    dl.add_argument("--hearing-impaired", action="store_true",
                    help="also fetch the four hearing-impaired cochlea weight files")
    dl.add_argument("--cache-dir", help="cache folder (default: $CONNEAR_LAB_CACHE or the "
                                        "user cache)")
    dl.add_argument("--no-progress", action="store_true", help="no progress bar")
    dl.add_argument("--from", dest="from_dir", metavar="FOLDER",
                    help="no download: install files downloaded elsewhere (verified by content) from FOLDER")
    urls = sub.add_parser("urls", help="print the addresses of the official files (to download them elsewhere)")
    urls.add_argument("set", choices=["official"])
    urls.add_argument("--hearing-impaired", action="store_true")
    sub.add_parser("where", help="print the cache folder and what is in it")
    args = parser.parse_args(argv)
    if args.cmd == "where":
        print(f"cache: {cache_dir()}")
        for entry in OFFICIAL_FILES:
            p = _official_path(entry)
            print(f"  {entry:18s} {'present' if p.is_file() else 'missing'}  {p}")
        print(f"connear-lab set: {connear_lab_dir()} "
              f"({'present' if (connear_lab_dir() / _MANIFEST).is_file() else 'missing'})")
        return 0
    names = list(getattr(args, "models", None) or DEFAULT_OFFICIAL)
    if args.hearing_impaired:
        names += [n for n in OFFICIAL_FILES if n.startswith("cochlea_") and n not in names]
    if args.cmd == "urls":
        for n, u in official_urls(names).items():
            print(f"{n:18s} {u}")
        return 0
    try:
        if args.from_dir:
            install_official_from(args.from_dir, names, cache=args.cache_dir)
        else:
            download_official(names, cache=args.cache_dir, progress=not args.no_progress)
    except (WeightsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main())
