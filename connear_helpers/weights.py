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

        python -m connear_helpers.weights download official

    or :func:`download_official`. The cache is ``$CONNEAR_LAB_CACHE`` if set,
    else ``pooch.os_cache("connear-lab")``. Every file is verified against the
    git blob id of spec Appendix W before it is put in the cache. Loading them
    afterwards needs no network.
a path
    Any ``.h5`` file in the Keras 2 HDF5 layout of the authors' files (spec §1.7)
    or any Keras 3 ``.weights.h5`` file written by ``model.save_weights``.

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

from .models import (
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


def _how_to_get(name):
    if name in OFFICIAL_FILES:
        repo, _, path, _, _ = OFFICIAL_FILES[name]
        return (f"get the right file with `python -m connear_helpers.weights download official` "
                f"(the {name!r} weights are {repo}/{path}) and load them with "
                f"weights='official', or pass the path of a weight file written for the "
                f"{name!r} model")
    return "pass the path of a weight file written for this model"


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
    """Folder of the ``"connear-lab"`` weight set (``connear_weights/`` in the repo,
    or ``$CONNEAR_LAB_WEIGHTS_DIR``)."""
    env = os.environ.get("CONNEAR_LAB_WEIGHTS_DIR")
    if env:
        return pathlib.Path(env).expanduser()
    return pathlib.Path(__file__).resolve().parents[1] / "connear_weights"


def _official_path(entry, root=None):
    repo, _, path, _, _ = OFFICIAL_FILES[entry]
    return pathlib.Path(root or cache_dir()) / "official" / repo / path


def resolve_weights(source, name):
    """Path of the weight file for entry ``name`` (e.g. ``"ihc"``) of ``source``.

    ``source`` is ``"connear-lab"``, ``"official"`` or a path. Raises
    :class:`WeightsNotFoundError` with instructions when the file is not there.
    """
    if isinstance(source, (str, os.PathLike)) and str(source) == "connear-lab":
        return _resolve_connear_lab(name)
    if isinstance(source, (str, os.PathLike)) and str(source) == "official":
        if name not in OFFICIAL_FILES:
            raise WeightsNotFoundError(
                f"the official weight set has no entry {name!r}; it has "
                f"{', '.join(OFFICIAL_FILES)}")
        path = _official_path(name)
        if not path.is_file():
            raise WeightsNotFoundError(
                f"the official {name!r} weights are not downloaded yet (expected {path}). "
                "Run `python -m connear_helpers.weights download official` once (needs "
                "network; or call connear_helpers.weights.download_official()), or set "
                "CONNEAR_LAB_CACHE to the folder where you keep them.")
        return path
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"weights must be 'connear-lab', 'official' or a file path, got "
                        f"{type(source).__name__}")
    path = pathlib.Path(source).expanduser()
    if not path.is_file():
        hint = (" (did you mean one of the weight sets 'connear-lab' or 'official'?)"
                if not str(source).endswith(".h5") else "")
        raise WeightsNotFoundError(
            f"weight file {str(path)!r} for the {name!r} model does not exist{hint}; "
            + _how_to_get(name))
    return path


def _resolve_connear_lab(name):
    folder = connear_lab_dir()
    manifest = folder / _MANIFEST
    if not manifest.is_file():
        raise WeightsNotFoundError(
            f"the 'connear-lab' weight set is not trained yet (no {manifest}). Until it "
            "is, use the authors' weights: run `python -m connear_helpers.weights download "
            "official` and pass weights='official', or pass the path of a .h5 / "
            ".weights.h5 file.")
    try:
        entries = json.loads(manifest.read_text())["models"]
    except (ValueError, KeyError, TypeError) as exc:
        raise WeightsMismatchError(f"{manifest} is not a valid connear-lab manifest "
                                   f"(expected a JSON object with a 'models' table): {exc}")
    if name not in entries:
        raise WeightsNotFoundError(
            f"the 'connear-lab' weight set has no {name!r} model yet (it has "
            f"{', '.join(sorted(entries)) or 'none'}); use weights='official' or a file path")
    entry = entries[name]
    path = folder / entry["file"]
    if not path.is_file():
        raise WeightsNotFoundError(f"{manifest} lists {path} for {name!r}, but the file is "
                                   "missing; restore it from git (git lfs pull?) or retrain")
    want = entry.get("sha256")
    if want:
        got = file_sha256(path)
        if got != want:
            raise WeightsMismatchError(
                f"{path} has sha256 {got}, the manifest expects {want}; the file is "
                "corrupt or was changed without updating the manifest")
    return path


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
    """Load weights into a model from :func:`connear_helpers.models.build_model`.

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
                        + _how_to_get(model_name))
                arrays, n_file = k3
    except OSError as exc:
        raise WeightsMismatchError(
            f"cannot load weights for the {model_name!r} model: {path} could not be read "
            f"as HDF5 ({exc}). The file is probably truncated or damaged (an interrupted "
            f"download?); delete it, then {_how_to_get(entry)}.") from None

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
    lines.append("  To fix: " + _how_to_get(entry) + ".")
    raise WeightsMismatchError("\n".join(lines))


def load_model(name, weights="connear-lab", n_cf=201, cropped=True):
    """Build model ``name`` (see :func:`connear_helpers.models.build_model`) and load
    ``weights`` (``"connear-lab"``, ``"official"`` or a file path) into it.

    For the ``"connear-lab"`` set the architecture its manifest names for ``name`` is built
    (e.g. ``"cochlea_small"`` for the ``"cochlea"`` entry)."""
    if isinstance(weights, str) and weights == "connear-lab":
        arch = connear_lab_architecture(name)
        if arch != name:
            return load_weights(build_model(arch, n_cf=n_cf, cropped=cropped), weights, name=name)
    model = build_model(name, n_cf=n_cf, cropped=cropped)
    return load_weights(model, weights)


def connear_lab_architecture(name):
    """The :func:`~connear_helpers.models.build_model` name of the ``"connear-lab"`` entry
    ``name`` (its manifest's ``architecture``; ``name`` itself when the set or the field is
    missing). Raises :class:`WeightsMismatchError` for an unknown or foreign architecture."""
    manifest = connear_lab_dir() / _MANIFEST
    try:
        entry = json.loads(manifest.read_text())["models"][name]
        arch = entry.get("architecture") or name
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return name
    if arch not in MODEL_INFO or (name in MODEL_INFO and
                                  MODEL_INFO[arch]["family"] != MODEL_INFO[name]["family"]):
        raise WeightsMismatchError(
            f"{manifest} gives the {name!r} weights the architecture {arch!r}, which is not a "
            f"{MODEL_INFO.get(name, {}).get('family', name)} model of connear_helpers.models; "
            "fix the manifest")
    return arch


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
               "(`python -m connear_helpers.weights urls official` lists them), copy them into a "
               "folder here and run `python -m connear_helpers.weights download official --from "
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
            f"stored in the cache. Check the connection and run `python -m connear_helpers.weights "
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
        :data:`connear_helpers.models.MODEL_NAMES` (add ``"cochlea_flat25"`` etc.
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
        print("Load them with connear_helpers.weights.load_model(name, weights='official').",
              file=sys.stderr)
    return result


def _main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m connear_helpers.weights",
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
              f"({'present' if (connear_lab_dir() / _MANIFEST).is_file() else 'not trained yet'})")
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
