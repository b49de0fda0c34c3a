"""The package layout's import rules (issue #13), read from the source: who may import whom.

Each subpackage's docstring states its rule; this test holds the code to it, so that a reader
can trust the layout: the paper's figures and the training code never import each other, the
CNN code and the pipeline import neither, and the field subpackages stay apart.
"""
import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "connear_helpers"


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """The connear_helpers modules a file imports (absolute dotted names), anywhere in the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("connear_helpers")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("connear_helpers"):
                found.add(mod)
                found |= {f"{mod}.{a.name}" for a in node.names}  # "from pkg import submodule"
    return found


def _graph():
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _in(module, area):
    return module == f"connear_helpers.{area}" or module.startswith(f"connear_helpers.{area}.")


RULES = [  # (importer area, forbidden areas)
    ("paper", ("training", "lab")),
    ("training", ("paper", "lab")),
    ("cnn", ("pipeline", "paper", "lab", "training", "analysis.evaluations", "encoding", "stages", "localisation")),
    ("pipeline", ("paper", "lab", "training", "analysis.evaluations", "encoding", "stages", "localisation")),
    ("analysis.evaluations", ("paper", "lab", "training")),
    ("encoding", ("stages", "localisation", "paper", "training")),
    ("stages", ("encoding", "localisation", "paper", "training")),
    ("localisation", ("encoding", "stages", "paper", "training")),
]


def test_the_scan_finds_imports():
    graph = _graph()
    assert "connear_helpers.pipeline" in graph["connear_helpers.paper.figures"]
    assert "connear_helpers.cnn.architectures" in graph["connear_helpers.cnn.inference"]
    assert len(graph) > 50


@pytest.mark.parametrize("importer, forbidden", RULES, ids=[r[0] for r in RULES])
def test_import_rules(importer, forbidden):
    bad = sorted((m, i) for m, imports in _graph().items() if _in(m, importer)
                 for i in imports if any(_in(i, f) for f in forbidden))
    assert bad == []


def test_analysis_modules_other_than_evaluations_run_no_simulation():
    graph = _graph()
    bad = sorted((m, i) for m, imports in graph.items()
                 if _in(m, "analysis") and not _in(m, "analysis.evaluations")
                 for i in imports if any(_in(i, a) for a in ("pipeline", "cnn", "paper", "lab", "training")))
    assert bad == []
