"""Targets to explain: your own responses (a file), or synthetic "voxels" made from one stage.

File format (NPZ or HDF5) read by :func:`load_targets` and written by :func:`save_targets`
------------------------------------------------------------------------------------------
=================  =======================================  ==========================================
name               shape, type                              meaning
=================  =======================================  ==========================================
``responses``      (n_sounds, n_targets) or                 the response of each target (voxel,
                   (n_sounds, n_targets, n_repeats), float  electrode, neuron) to each sound; repeats
                                                            last (at least 2 for a noise ceiling)
``sound_names``    (n_sounds,) str, optional                which sound each row is (checked against
                                                            the sound set when both have names)
``target_names``   (n_targets,) str, optional               default "t0", "t1", ...
``regions``        (n_targets,) str, optional               a region label per target (e.g. "HG",
                                                            "STG"); analyses can go region by region
=================  =======================================  ==========================================

An ``.npz`` file holds these as arrays (``np.savez(path, responses=..., sound_names=...)``); an
``.h5`` / ``.hdf5`` file as datasets at its root (strings as UTF-8). Rows must be in the order of
the sounds the activations were computed for. NaN or inf responses are rejected.
"""
from __future__ import annotations

import dataclasses
import pathlib

import numpy as np

__all__ = ["Targets", "load_targets", "save_targets", "synthetic_targets", "join_targets"]


@dataclasses.dataclass
class Targets:
    """Responses to explain.

    responses: (n_sounds, n_targets) or (n_sounds, n_targets, n_repeats), any unit.
    target_names: (n_targets,) str. regions: (n_targets,) str region of each target.
    sound_names: (n_sounds,) str or None. source: where they came from (a path, or a description).
    """

    responses: np.ndarray
    target_names: tuple
    regions: tuple
    sound_names: tuple | None = None
    source: str = ""

    def __post_init__(self):
        r = np.asarray(self.responses, dtype=np.float64)
        if r.ndim == 1:
            r = r[:, None]
        if r.ndim not in (2, 3) or r.shape[0] < 3 or r.shape[1] < 1:
            raise ValueError(f"responses must be (n_sounds >= 3, n_targets) or (n_sounds, n_targets, n_repeats), "
                             f"got shape {r.shape}")
        if not np.all(np.isfinite(r)):
            bad = np.argwhere(~np.isfinite(r.reshape(r.shape[0], r.shape[1], -1)))[0]
            raise ValueError(f"responses hold NaN or inf (first at sound {bad[0]}, target {bad[1]}); "
                             "remove or fill those values first")
        self.responses = r
        n_s, n_t = r.shape[:2]
        self.target_names = tuple(str(t) for t in (self.target_names if self.target_names is not None
                                                   else [f"t{i}" for i in range(n_t)]))
        self.regions = tuple(str(t) for t in (self.regions if self.regions is not None else ["all"] * n_t))
        if len(self.target_names) != n_t or len(self.regions) != n_t:
            raise ValueError(f"{n_t} targets need {n_t} target_names and regions, got "
                             f"{len(self.target_names)} and {len(self.regions)}")
        if self.sound_names is not None:
            self.sound_names = tuple(str(s) for s in self.sound_names)
            if len(self.sound_names) != n_s:
                raise ValueError(f"{n_s} rows of responses need {n_s} sound_names, got {len(self.sound_names)}")

    @property
    def n_sounds(self):
        return self.responses.shape[0]

    @property
    def n_repeats(self):
        return 1 if self.responses.ndim == 2 else self.responses.shape[2]

    def region_names(self):
        """The regions in order of first appearance (list of str)."""
        return list(dict.fromkeys(self.regions))

    def region(self, name):
        """The targets of one region as a new Targets."""
        idx = [i for i, r in enumerate(self.regions) if r == name]
        if not idx:
            raise KeyError(f"no region {name!r}; the regions are {', '.join(self.region_names())}")
        return dataclasses.replace(self, responses=self.responses[:, idx],
                                   target_names=[self.target_names[i] for i in idx], regions=[name] * len(idx))

    def __repr__(self):
        reps = f" x {self.n_repeats} repeats" if self.responses.ndim == 3 else ""
        return (f"Targets({self.n_sounds} sounds x {self.responses.shape[1]} targets{reps}; regions "
                f"{', '.join(self.region_names())}{'; ' + self.source if self.source else ''})")


def join_targets(parts, sound_names=None, source=""):
    """Several Targets for the same sounds side by side (e.g. regions) as one Targets.

    parts: Targets with equal n_sounds and n_repeats. sound_names: (n_sounds,) str or None (default:
    the first part's). Returns :class:`Targets` with the targets of all parts in order.
    """
    parts = list(parts)
    if not parts:
        raise ValueError("give at least one Targets to join")
    shapes = {(p.n_sounds, p.n_repeats) for p in parts}
    if len(shapes) != 1:
        raise ValueError(f"cannot join targets of different (n_sounds, n_repeats): {sorted(shapes)}; make them "
                         "for the same sounds with the same number of repeats")
    return Targets(np.concatenate([p.responses for p in parts], axis=1), sum((p.target_names for p in parts), ()),
                   sum((p.regions for p in parts), ()),
                   parts[0].sound_names if sound_names is None else sound_names, source)


def _strings(value):
    a = np.asarray(value)
    return tuple(s.decode() if isinstance(s, bytes) else str(s) for s in a.reshape(-1))


def _check_sounds(t, sounds, path):
    if sounds is None:
        return
    n = sounds if isinstance(sounds, (int, np.integer)) else len(sounds)
    if t.n_sounds != n:
        raise ValueError(
            f"{path} holds responses to {t.n_sounds} sounds but the sound set has {n}; the rows of "
            "'responses' must be the sounds the activations were computed for, in the same order")
    names = getattr(sounds, "names", None)
    if names is not None and t.sound_names is not None and tuple(names) != t.sound_names:
        first = next(i for i, (a, b) in enumerate(zip(names, t.sound_names)) if a != b)
        raise ValueError(
            f"{path}: sound {first} is {t.sound_names[first]!r} in the file but {names[first]!r} in the sound "
            "set; put the rows in the sound set's order (or drop 'sound_names' to skip this check)")


def load_targets(path, sounds=None):
    """Read targets from an NPZ or HDF5 file (format: see the module docstring).

    path: ``.npz``, ``.h5`` or ``.hdf5`` file. sounds: a SoundSet or a number of sounds to check
    the rows against (count, and names when both have them), or None.
    Returns :class:`Targets`.
    """
    p = pathlib.Path(path).expanduser()
    if not p.is_file():
        raise FileNotFoundError(f"targets file {p} not found; give the path of an .npz or .h5 file")
    suffix = p.suffix.lower()
    if suffix == ".npz":
        with np.load(p, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    elif suffix in (".h5", ".hdf5"):
        import h5py

        with h5py.File(p, "r") as f:
            data = {k: f[k][()] for k in f.keys() if isinstance(f[k], h5py.Dataset)}
    else:
        raise ValueError(f"{p} is neither .npz nor .h5/.hdf5; save your responses in one of these formats "
                         "(see connear_helpers.stages.targets)")
    if "responses" not in data:
        raise ValueError(f"{p} has no 'responses' array (it has {', '.join(sorted(data)) or 'nothing'}); "
                         "store the (n_sounds, n_targets[, n_repeats]) responses under the name 'responses'")
    unknown = sorted(set(data) - {"responses", "sound_names", "target_names", "regions"})
    if unknown:
        raise ValueError(f"{p} holds unknown entries {unknown}; allowed are responses, sound_names, "
                         "target_names and regions")
    try:
        t = Targets(data["responses"],
                    _strings(data["target_names"]) if "target_names" in data else None,
                    _strings(data["regions"]) if "regions" in data else None,
                    _strings(data["sound_names"]) if "sound_names" in data else None, source=str(p))
    except ValueError as exc:
        raise ValueError(f"{p}: {exc}") from None
    _check_sounds(t, sounds, p)
    return t


def save_targets(path, targets):
    """Write :class:`Targets` as ``.npz`` or ``.h5`` (by the suffix of path). Returns the path."""
    p = pathlib.Path(path).expanduser()
    data = {"responses": targets.responses, "target_names": np.array(targets.target_names),
            "regions": np.array(targets.regions)}
    if targets.sound_names is not None:
        data["sound_names"] = np.array(targets.sound_names)
    if p.suffix.lower() == ".npz":
        np.savez(p, **data)
    elif p.suffix.lower() in (".h5", ".hdf5"):
        import h5py

        with h5py.File(p, "w") as f:
            for k, v in data.items():
                f[k] = v.astype(h5py.string_dtype()) if v.dtype.kind == "U" else v
    else:
        raise ValueError(f"save targets as .npz or .h5, got {p.name}")
    return p


def synthetic_targets(X, n_targets=40, reliability=0.8, n_repeats=4, units_per_target=None, region="synthetic",
                      sound_names=None, seed=0):
    """Synthetic "voxels" with a known answer: random read-outs of one stage plus noise.

    X: (n_sounds, n_units) the activations of the stage the targets are made from.
    Each target is ``s = Z w`` with Z the units centred over sounds and scaled by their common RMS,
    and w Gaussian weights on ``units_per_target`` randomly chosen units (default all). Each repeat
    adds independent Gaussian noise of the variance that makes the expected split-half correlation
    (between the means of two halves of the repeats) equal to ``reliability``:
    ``var_noise = var(s) · n_repeats · (1 - reliability) / (2 · reliability)``.
    n_repeats: even, >= 2. reliability: in (0, 1]; 1 gives no noise. seed: weights and noise.
    Returns :class:`Targets` with responses (n_sounds, n_targets, n_repeats).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 3:
        raise ValueError(f"X must be (n_sounds >= 3, n_units), got shape {X.shape}")
    if not 0 < reliability <= 1:
        raise ValueError(f"reliability must be in (0, 1], got {reliability!r}")
    if int(n_repeats) != n_repeats or n_repeats < 2 or n_repeats % 2:
        raise ValueError(f"n_repeats must be an even number >= 2, got {n_repeats!r}")
    rng = np.random.default_rng(seed)
    Z = X - X.mean(axis=0)
    scale = np.sqrt(np.mean(Z ** 2))
    Z = Z / scale if scale > 0 else Z
    k = X.shape[1] if units_per_target is None else min(int(units_per_target), X.shape[1])
    W = np.zeros((X.shape[1], int(n_targets)))
    for j in range(int(n_targets)):
        W[rng.choice(X.shape[1], size=k, replace=False), j] = rng.standard_normal(k)
    s = Z @ W
    var_s = s.var(axis=0)
    var_noise = var_s * n_repeats * (1 - reliability) / (2 * reliability)
    noise = rng.standard_normal((X.shape[0], int(n_targets), int(n_repeats))) * np.sqrt(var_noise)[None, :, None]
    return Targets(s[:, :, None] + noise, [f"{region}{j}" for j in range(int(n_targets))],
                   [region] * int(n_targets), sound_names,
                   source=f"synthetic: {k} units, split-half reliability {reliability:g}, {n_repeats} repeats")
