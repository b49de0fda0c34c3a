"""The README's table of the shipped weight set states what its manifest measured.

Every number of that table is a number users read to decide how far to trust the CNN half of the
lab; it must be the manifest's (connear_weights/manifest.json, written by training.weight_set).
"""
import json
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
MANIFEST = REPO / "connear_weights" / "manifest.json"


def _rows(manifest, mode, metric):
    return [r for r in manifest["evaluation"][mode]["rows"] if r["metric"] == metric]


def _curve(manifest, mode, metric, fibre):
    rows = sorted((r for r in _rows(manifest, mode, metric) if r["fibre"] == fibre), key=lambda r: r["freq_hz"])
    return [r["rmse"] for r in rows]


def _worst_excitation(manifest, mode):
    rows = [r for r in _rows(manifest, mode, "ihc_excitation")
            if r["freq_hz"] in (500.0, 1000.0, 2000.0) and 10 <= r["level_db_spl"] <= 90]
    return max(r["rmse"] for r in rows)


def _excitation_cells(manifest, mode):
    """(rmse, freq_hz, level_db_spl) of the bar's cells: 0.5/1/2 kHz at 10-90 dB SPL, worst first."""
    return sorted(((r["rmse"], r["freq_hz"], r["level_db_spl"]) for r in _rows(manifest, mode, "ihc_excitation")
                   if r["freq_hz"] in (500.0, 1000.0, 2000.0) and 10 <= r["level_db_spl"] <= 90), reverse=True)


def _where(cell):
    return f"{cell[1] / 1000:g} kHz at {cell[2]:.0f} dB"


def expected_details(manifest):
    """The details in parentheses of the IHC and cochlea rows: where the worst cell is, and the rest."""
    full, light = _excitation_cells(manifest, "full"), _excitation_cells(manifest, "light")
    quiet = max(c[0] for c in full if c[2] <= 60)
    loud_rest = max(c[0] for c in full[1:] if c[2] > 60)
    low_freqs = max(c[0] for c in light if c[1] in (500.0, 1000.0))
    hsr_4k = _curve(manifest, "light", "anf_rate_level", "HSR")[1]
    return [f"({_where(full[0])}; at most {quiet:.3f} mV up to 60 dB, {loud_rest:.3f} mV elsewhere)",
            f"({_where(light[0])}; 0.5 and 1 kHz at most {low_freqs:.3f} mV at every level)",
            f"(4 kHz: {hsr_4k:.0f})"]


def expected_statements(manifest):
    """The strings the README's weights table must contain, from the manifest."""
    out = [f"Set **{manifest['version']}**",
           # three decimals, as the manifest's summary line: 0.102 mV must not read as the 0.1-mV bar
           f"10-90 dB: {_worst_excitation(manifest, 'full'):.3f} mV",
           f"excitation patterns {_worst_excitation(manifest, 'light'):.3f} mV worst",
           f"HSR rate-level at 1 kHz {_curve(manifest, 'light', 'anf_rate_level', 'HSR')[0]:.0f} spikes/s"]
    for fibre in ("HSR", "MSR", "LSR"):
        rl = _curve(manifest, "full", "anf_rate_level", fibre)
        sync = _curve(manifest, "full", "anf_synchrony_level", fibre)
        out.append(f"{rl[0]:.1f}/{rl[1]:.1f} spikes/s; synchrony-level {sync[0]:.3f}/{sync[1]:.3f}")
    for stage, entry in manifest["models"].items():
        training = entry["training"]  # a fine-tune of a shipped model: all the training behind it
        steps = training.get("steps_total", training["steps"])
        hours = training.get("cpu_hours_total", training["cpu_hours"])
        out.append(f"(`{entry['architecture']}`, {_count(entry['params'])}, {_count(steps)} steps, {hours:.2f} CPU-h")
    return out


def _count(n):
    """A count as the README writes it: 3.2 k, 26 k, 1.9 M."""
    for scale, unit in ((1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.1f} {unit}" if n < 10 * scale else f"{n / scale:.0f} {unit}"
    return str(n)


def test_counts_are_written_as_the_readme_writes_them():
    assert [_count(n) for n in (83617, 3240, 42206, 1873920, 512)] == ["84 k", "3.2 k", "42 k", "1.9 M", "512"]


def test_readme_table_is_the_manifests():
    if not MANIFEST.is_file():
        pytest.skip("no weight set shipped")
    manifest = json.loads(MANIFEST.read_text())
    readme = (REPO / "README.md").read_text()
    missing = [s for s in expected_statements(manifest) + expected_details(manifest) if s not in readme]
    assert not missing, f"README's weights table disagrees with {MANIFEST.name}: missing {missing}"
