"""The experimental data in sourcedata/ (spec §5) vs the paper's source-data files, read at test time."""
import pathlib

import numpy as np
import pytest

from connear_helpers.analysis import experimental_data as ed

REPO = pathlib.Path(__file__).resolve().parents[3]

# our data set -> (paper source-data file, copies of it in other figure folders, number of points)
PAPER_FILES = {
    "ac_dc_ratio_guinea_pig_cell1": (
        "Figure3/a/ratio_guineapig1.txt",
        ["Figure7/a/ratio_guineapig1.txt"],
        20,
    ),
    "ac_dc_ratio_guinea_pig_cell2": (
        "Figure3/a/ratio_guineapig2.txt",
        ["Figure7/a/ratio_guineapig2.txt"],
        7,
    ),
    "rate_level_hsr_guinea_pig": (
        "Figure6/a/anfH_level_guineapig_WP91.txt",
        ["Figure7/c/anfH_level_guineapig_WP91.txt"],
        41,
    ),
    "rate_level_msr_guinea_pig": (
        "Figure6/a/anfM_level_guineapig_WP91.txt",
        ["Figure7/c/anfM_level_guineapig_WP91.txt"],
        44,
    ),
    "rate_level_lsr_guinea_pig": (
        "Figure6/a/anfL_level_guineapig_WP91.txt",
        ["Figure7/c/anfL_level_guineapig_WP91.txt"],
        31,
    ),
    "rate_level_hsr_mouse": (
        "Figure6/a/anfH_level_mouse_TL05.txt",
        ["Figure7/c/anfH_level_mouse_TL05.txt"],
        13,
    ),
    "rate_level_msr_mouse": (
        "Figure6/a/anfM_level_mouse_TL05.txt",
        ["Figure7/c/anfM_level_mouse_TL05.txt"],
        17,
    ),
    "synchrony_level_hsr_cat": (
        "Figure6/b/anfH_sync_cat_JY92.txt",
        ["Figure7/d/anfH_sync_cat_JY92.txt"],
        15,
    ),
    "synchrony_level_msr_cat": (
        "Figure6/b/anfM_sync_cat_JY92.txt",
        ["Figure7/d/anfM_sync_cat_JY92.txt"],
        12,
    ),
    "synchrony_level_lsr_cat": (
        "Figure6/b/anfL_sync_cat_JY92.txt",
        ["Figure7/d/anfL_sync_cat_JY92.txt"],
        14,
    ),
}


def _read_paper_file(path):
    data = np.loadtxt(path, comments=["%", "#"], ndmin=2)
    return data[:, 0], data[:, 1]


def test_the_ten_data_sets_are_listed():
    assert ed.list_experimental() == sorted(PAPER_FILES)


@pytest.mark.parametrize("name", sorted(PAPER_FILES))
def test_every_csv_loads_with_its_citation(name):
    d = ed.load_experimental(name)
    assert d["name"] == name
    assert d["x"].shape == d["y"].shape == (PAPER_FILES[name][2],)
    assert np.all(np.isfinite(d["x"])) and np.all(np.isfinite(d["y"]))
    keys = ("citation", "figure", "species", "columns", "provenance", "paper_figure", "paper_source_file")
    for key in keys:
        assert d[key], f"{name}: header key {key!r} is empty"
    assert "(19" in d["citation"] or "(20" in d["citation"]
    assert "digitised" in d["provenance"] and "source data" in d["provenance"]
    assert d["paper_source_file"] == PAPER_FILES[name][0]
    assert d["x_unit"] in ("Hz", "dB SPL") and d["y_unit"] in ("1", "spikes/s")
    first = (REPO / "sourcedata" / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# ")


@pytest.mark.parametrize("name", sorted(PAPER_FILES))
def test_values_match_the_paper_source_data(name, shared_dir):
    src = shared_dir / "paper_sourcedata"
    rel, copies, _ = PAPER_FILES[name]
    d = ed.load_experimental(name)
    for path in [rel] + copies:
        x, y = _read_paper_file(src / path)
        np.testing.assert_allclose(d["x"], x, rtol=0, atol=1e-6, err_msg=path)
        np.testing.assert_allclose(d["y"], y, rtol=0, atol=1e-6, err_msg=path)


def test_paper_experimental_files_are_all_covered(shared_dir):
    """Every experimental file of the paper's source data has a CSV here."""
    src = shared_dir / "paper_sourcedata"
    patterns = ("*guineapig*", "*mouse*", "*cat*")
    found = {str(p.relative_to(src)) for pat in patterns for p in src.rglob(pat)}
    covered = {rel for rel, copies, _ in PAPER_FILES.values() for rel in [rel] + copies}
    assert found == covered


def test_readme_lists_every_csv():
    readme = (REPO / "sourcedata" / "README.md").read_text(encoding="utf-8")
    for name in PAPER_FILES:
        assert f"`{name}.csv`" in readme


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError) as err:
        ed.load_experimental("rate_level_hsr_chinchilla")
    assert "rate_level_hsr_guinea_pig" in str(err.value) and "synchrony_level_lsr_cat" in str(err.value)


def test_missing_folder_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="CONNEAR_SOURCEDATA"):
        ed.list_experimental(tmp_path / "nowhere")
