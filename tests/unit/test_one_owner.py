"""One owner per fact (issue #13): a scan of the package's source for second copies.

The sample rates live in connear_helpers/constants.py, the CNN unit scalings in
connear_helpers/cnn/units.py, and weight sources are resolved and loaded only in
connear_helpers/cnn/weights.py. A new module that defines its own copy fails here.
"""
import pathlib
import re

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "connear_helpers"


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), path.read_text()


def test_the_scan_sees_the_package():
    names = [n for n, _ in _sources()]
    assert "constants.py" in names and "cnn/units.py" in names and "cnn/weights.py" in names and len(names) > 40


def test_sample_rates_are_defined_once():
    rate = re.compile(r"^\s*[A-Za-z_]\w*\s*(?::[^=]+)?=\s*(?:int\()?\s*(?:20_?000|100_?000)(?:\.0*)?\)?[ \t]*(?:#.*)?$", re.M)
    found = {n: rate.findall(s) for n, s in _sources() if n != "constants.py"}
    assert {n: f for n, f in found.items() if f} == {}


def test_cnn_unit_scalings_are_defined_once():
    scaling = re.compile(r"^\s*[A-Za-z_]*(?:SCALE|SCALING)\w*\s*=\s*(?:1e6|1e1|1e-2|1_000_000|10\.0|0\.01)\b", re.M)
    literal = re.compile(r"[\"'](?:v|ihc|anfh)[\"']\s*:\s*(?:1e6|1e1|1e-2)\b")
    found = {n: scaling.findall(s) + literal.findall(s) for n, s in _sources() if n != "cnn/units.py"}
    assert {n: f for n, f in found.items() if f} == {}


def test_weight_sources_are_resolved_in_one_module():
    resolver = re.compile(r"^\s*def (load_model|cached_model|load_models|resolve_weights|architecture_of|"
                          r"weights_from_directory|load_cnn_models|_resolve_model_source)\b", re.M)
    found = {n: resolver.findall(s) for n, s in _sources() if n != "cnn/weights.py"}
    assert {n: f for n, f in found.items() if f} == {}
    hint = re.compile(r"^\s*HOW_TO_GET\w*\s*=", re.M)
    assert [n for n, s in _sources() if hint.search(s)] == []
