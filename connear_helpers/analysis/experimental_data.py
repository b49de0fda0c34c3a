"""Experimental data the paper's figures compare against (spec §5), read from ``sourcedata/*.csv``.

Each CSV starts with ``# key: value`` comment lines (name, citation, figure, columns with units,
provenance, ...), then a header row naming the two columns, then the digitised points. The data
sets are:

* ``ac_dc_ratio_guinea_pig_cell{1,2}`` – IHC AC/DC ratio vs frequency (Palmer & Russell 1986),
* ``rate_level_{hsr,msr,lsr}_guinea_pig`` – rate-level functions (Winter & Palmer 1991),
* ``rate_level_{hsr,msr}_mouse`` – rate-level functions (Taberner & Liberman 2005),
* ``synchrony_level_{hsr,msr,lsr}_cat`` – synchrony-level functions (Joris & Yin 1992).
"""

import os
import pathlib

import numpy as np

#: Environment variable that overrides where the CSV files are looked up.
SOURCEDATA_ENV = "CONNEAR_SOURCEDATA"

_UNITS = {
    "frequency_hz": "Hz",
    "level_db_spl": "dB SPL",
    "rate_spikes_per_s": "spikes/s",
    "ac_dc_ratio": "1",
    "vector_strength": "1",
}


def sourcedata_dir(directory=None):
    """Folder holding the experimental CSV files.

    directory: explicit folder; default $CONNEAR_SOURCEDATA, else the copy installed with the
    package, else the repository's sourcedata/ (running from a checkout).
    Returns: pathlib.Path of an existing folder.
    """
    if directory is None:
        here = pathlib.Path(__file__).resolve().parents[1]  # connear_helpers/
        installed = here / "_data" / "sourcedata"
        default = installed if installed.is_dir() else here.parent / "sourcedata"
        directory = os.environ.get(SOURCEDATA_ENV) or default
    path = pathlib.Path(directory)
    if not path.is_dir():
        raise FileNotFoundError(
            f"experimental data folder {path} not found; run from a checkout of connear-lab "
            f"(it ships sourcedata/) or set {SOURCEDATA_ENV} to the folder with the CSV files."
        )
    return path


def list_experimental(directory=None):
    """Names of the available experimental data sets (CSV file stems).

    directory: as sourcedata_dir.
    Returns: sorted list of str.
    """
    return sorted(p.stem for p in sourcedata_dir(directory).glob("*.csv"))


def load_experimental(name, directory=None):
    """Load one experimental data set with its citation and column description.

    name: one of list_experimental(). directory: as sourcedata_dir.
    Returns: dict with x, y ((n_points,) float arrays), x_name, y_name, x_unit, y_unit, name,
    path, and every "# key: value" of the file header (citation, figure, species, columns,
    provenance, paper_figure, paper_source_file, and fibre_type/cell_type, note where present).
    """
    folder = sourcedata_dir(directory)
    names = list_experimental(folder)
    if name not in names:
        raise ValueError(
            f"unknown experimental data set {name!r}; expected one of: {', '.join(names)}."
        )
    path = folder / f"{name}.csv"
    meta = {}
    header = None
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                key, sep, value = line.lstrip("#").strip().partition(":")
                if sep and key.strip() and " " not in key.strip():
                    meta[key.strip()] = value.strip()
                continue
            fields = [f.strip() for f in line.split(",")]
            if header is None:
                header = fields
                continue
            try:
                rows.append([float(f) for f in fields])
            except ValueError:
                raise ValueError(f"{path}:{lineno}: expected two numbers, found {line!r}.") from None
    if header is None or len(header) != 2 or not rows or any(len(r) != 2 for r in rows):
        raise ValueError(
            f"{path} is not a two-column experimental data file (header + numeric rows); "
            "restore it from the repository."
        )
    data = np.asarray(rows, dtype=float)
    out = dict(meta)
    out.update(
        name=name,
        path=str(path),
        x=data[:, 0],
        y=data[:, 1],
        x_name=header[0],
        y_name=header[1],
        x_unit=_UNITS.get(header[0], ""),
        y_unit=_UNITS.get(header[1], ""),
    )
    out.setdefault("citation", "")
    return out
