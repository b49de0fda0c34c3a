"""The lab notebooks: each a jupytext pair that agrees, stored without outputs, and each runs headless.

Every notebook is kept twice: ``notebooks/NN_name.py`` (jupytext percent format, what you edit and
review as a diff) and ``notebooks/NN_name.ipynb`` (what Colab and JupyterLab open; no outputs).
``jupytext --sync notebooks/NN_name.py`` (or saving in JupyterLab with jupytext installed) updates
the other file of the pair.

Each notebook is executed with nbclient in its quick mode: ``QUICK = True`` is injected in a cell
right after the cell tagged ``parameters`` (:func:`inject_parameters`, papermill-style), matplotlib
draws off-screen (MPLBACKEND=Agg), and a cell that raises fails the test. Without CoNNear weights
the notebooks run their reference-only / untrained paths.
"""
import os
import pathlib
import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
jupytext = pytest.importorskip("jupytext")

REPO = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO / "notebooks"
PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"

#: Seconds one cell may run in quick mode before the test fails.
CELL_TIMEOUT_S = 300

STEMS = sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb"))


def inject_parameters(nb, **values):
    """Insert a cell that sets ``values`` right after the cell tagged ``parameters``.

    An earlier injected cell is replaced. Returns the notebook (changed in place).
    """
    tagged = [i for i, c in enumerate(nb.cells) if PARAMETERS_TAG in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise ValueError(f"expected exactly one cell tagged {PARAMETERS_TAG!r}, found {len(tagged)}")
    nb.cells = [c for c in nb.cells if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]
    idx = [i for i, c in enumerate(nb.cells) if PARAMETERS_TAG in c.get("metadata", {}).get("tags", [])][0]
    cell = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in values.items()),
                                     metadata={"tags": [INJECTED_TAG]})
    cell["id"] = "injected-parameters"
    nb.cells.insert(idx + 1, cell)
    return nb


def _repository_url():
    text = (REPO / "pyproject.toml").read_text()
    return re.search(r'^Repository = "([^"]+)"', text, re.M).group(1)


def test_every_notebook_is_a_pair():
    assert STEMS, "no notebooks found"
    assert sorted(p.stem for p in NOTEBOOK_DIR.glob("*.py")) == STEMS


@pytest.mark.parametrize("stem", STEMS)
def test_pair_agrees_and_is_stored_clean(stem):
    nb = nbformat.read(NOTEBOOK_DIR / f"{stem}.ipynb", as_version=4)
    nbformat.validate(nb)
    text = jupytext.read(NOTEBOOK_DIR / f"{stem}.py")
    assert [(c.cell_type, c.source.strip()) for c in nb.cells] == \
           [(c.cell_type, c.source.strip()) for c in text.cells], \
        f"{stem}.ipynb and {stem}.py differ: run `jupytext --sync notebooks/{stem}.py`"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, \
                f"{stem}.ipynb holds outputs: clear them (`jupytext --sync` from the .py, or nbstripout)"


@pytest.mark.parametrize("stem", STEMS)
def test_notebook_shape(stem):
    nb = nbformat.read(NOTEBOOK_DIR / f"{stem}.ipynb", as_version=4)
    assert nb.cells[0].cell_type == "markdown" and "What to look for" in nb.cells[0].source
    assert "Run time" in nb.cells[0].source
    # the second cell installs the package on Colab only, from the repository of pyproject.toml
    assert "google.colab" in nb.cells[1].source and f"git+{_repository_url()}" in nb.cells[1].source
    tagged = [c for c in nb.cells if PARAMETERS_TAG in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "QUICK = False" in tagged[0].source


def test_injection_adds_one_cell_after_the_parameters_cell_and_replaces_an_earlier_one():
    nb = nbformat.read(NOTEBOOK_DIR / f"{STEMS[0]}.ipynb", as_version=4)
    n = len(nb.cells)
    inject_parameters(nb, QUICK=True)
    inject_parameters(nb, QUICK=True, REPEATS=1)
    assert len(nb.cells) == n + 1
    i = next(i for i, c in enumerate(nb.cells) if PARAMETERS_TAG in c.metadata.get("tags", []))
    assert nb.cells[i + 1].source == "QUICK = True\nREPEATS = 1"


def _kernel_pythonpath():
    """PYTHONPATH that makes the kernel import the same connear_helpers and verhulst2018 as these tests."""
    import connear_helpers
    import verhulst2018

    dirs = []
    for module in (connear_helpers, verhulst2018):
        parent = str(pathlib.Path(module.__file__).resolve().parents[1])
        if parent not in dirs:
            dirs.append(parent)
    if os.environ.get("PYTHONPATH"):
        dirs.append(os.environ["PYTHONPATH"])
    return os.pathsep.join(dirs)


def _stderr_text(nb):
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if o.get("name") == "stderr")


@pytest.mark.notebooks
@pytest.mark.parametrize("stem", STEMS)
def test_notebook_runs_in_quick_mode(stem, monkeypatch):
    from nbclient import NotebookClient

    # the kernel inherits this environment; TF_CPP_MIN_LOG_LEVEL is deliberately not set, so the
    # test sees what a user sees
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.setenv("PYTHONPATH", _kernel_pythonpath())
    nb = nbformat.read(NOTEBOOK_DIR / f"{stem}.ipynb", as_version=4)
    inject_parameters(nb, QUICK=True)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()  # raises CellExecutionError if a cell raises
    errors = [o for c in nb.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    # no TensorFlow start-up lines (I0000 ..., cuInit, oneDNN) in any cell
    stderr = _stderr_text(nb)
    assert not re.search(r"^[IWE]0000 |cuInit|oneDNN custom operations|absl::InitializeLog", stderr, re.M), stderr
