"""Our verhulst2018 reference curves against the paper's published reference-model curves.

The paper's source data (shared/paper_sourcedata, read here, never copied) hold the curves of the
original reference model. Ours are computed by connear_helpers.paper.figures with the options the paper
used (PAPER_REFERENCE_OPTIONS: irregularities of subject 1, the SciPy <= 1.16 integrator), on the
stimuli of the quick figures (shared in-memory cache with tests/unit/paper/test_paper_figures.py) plus two
full-length SAM tones. Each assertion message states the measured agreement; the tolerances sit
just above what was measured (values in the comments).

Known discrepancy (not asserted): the pure-tone traces of the paper's Fig. 5 disagree with the
paper's own Figs. 4a, 4c and 6a for the same 70-dB tones (their driven rates are 30-50 % lower
and their onset is ~1 ms earlier), and with ours in the same way; our pure-tone rates agree with
Figs. 4c and 6a (tested below), and our SAM-tone traces agree with Fig. 5.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from connear_helpers import constants  # noqa: E402
from connear_helpers import pipeline  # noqa: E402
from connear_helpers.analysis import evaluations  # noqa: E402

REST_MV = -57.656
FIBRE_FILE = {"anfh": "anfH", "anfm": "anfM", "anfl": "anfL"}
#: The reference model alone, with the paper's options (RunOptions' defaults otherwise).
REFERENCE_ONLY = pipeline.RunOptions(weights=None)


@pytest.fixture(scope="module")
def src(shared_dir):
    return shared_dir / "paper_sourcedata"


def test_fig2_excitation_patterns(src):
    q = evaluations.QUICK["fig2"]
    d = evaluations.compute_excitation_patterns(q["freqs_hz"], q["levels_db_spl"], options=REFERENCE_ONLY)
    for f in d["freqs_hz"]:
        paper = np.loadtxt(src / "Figure2" / f"vm_{f:.1f}Hz_refIHC.csv", delimiter=",", skiprows=1)
        np.testing.assert_allclose(paper[:, 0] * 1e3, d["cf_hz"], rtol=1e-9)  # same 201 CFs
        for k, level in enumerate(d["levels_db_spl"]):
            ours, theirs = d["ref"][f][k] * 1e3, paper[:, 1 + int(level // 10)]
            rms = np.sqrt(np.mean((ours - theirs) ** 2))
            excursion = np.abs(theirs - REST_MV).max()
            msg = (f"{f:.0f} Hz, {level:.0f} dB: RMS difference over CFs {rms:.4f} mV = {rms / excursion:.2%} "
                   f"of the pattern's largest excursion from rest ({excursion:.3f} mV)")
            # measured: 0.0011-0.0094 mV (0.2-0.9 %) up to 60 dB, 0.048-0.065 mV (0.8-2.4 %) at 90 dB
            assert rms < 0.1 and rms / excursion < 0.03, msg


def test_fig3a_ac_dc_ratio(src):
    freqs = evaluations.paper_ac_dc_freqs(evaluations.QUICK["fig3a"]["n_freqs"])
    d = evaluations.compute_ac_dc_ratio(freqs, options=REFERENCE_ONLY)
    paper = np.loadtxt(src / "Figure3" / "a" / "ratio_refIHC.txt")
    for f, ratio in zip(d["freqs_hz"], d["ratio_ref"]):
        row = paper[np.argmin(np.abs(paper[:, 0] - f))]
        rel = ratio / row[1] - 1
        msg = f"{f:.1f} Hz: AC/DC {ratio:.4f} vs paper {row[1]:.4f} ({rel:+.2%})"
        assert row[0] == pytest.approx(f, abs=1e-6), msg
        # measured: -6.4 % at 150 Hz (3 periods in the AC window), -0.5 % at 431 Hz, within 0.08 % above
        assert abs(rel) < (0.08 if f < 200 else 0.01), msg


def test_fig3b_level_growth(src):
    d = evaluations.compute_level_growth(4000.0, evaluations.QUICK["fig3b"]["levels_db_spl"], options=REFERENCE_ONLY)
    paper = np.loadtxt(src / "Figure3" / "b" / "vihc_4kHz_refIHC.txt")
    for level, rms in zip(d["levels_db_spl"], d["rms_ref"] * 1e3):
        theirs = paper[int(level // 10), 1]
        rel = rms / theirs - 1
        msg = f"{level:.0f} dB: {rms:.4f} mV vs paper {theirs:.4f} mV ({rel:+.2%})"
        # measured: +4.5 % at 0 dB and +4.7 % at 30 dB, +0.9 % at 60 dB, +0.4 % at 90 dB
        assert abs(rel) < (0.06 if level < 50 else 0.015), msg


def test_fig4a_adaptation_mean_rates(src):
    d = evaluations.compute_adaptation(tone_s=evaluations.QUICK["fig4a"]["tone_s"], options=REFERENCE_ONLY)
    paper = np.loadtxt(src / "Figure4" / "a" / "anf_adaptation.txt", comments="%")
    t_paper = np.arange(paper.shape[0]) / 20e3 - 0.010  # the paper's tone starts at about 10 ms
    t = d["time_s"]
    for j, fib in enumerate(constants.FIBRES):
        ours = d["ref"][fib][(t >= 0.1) & (t < 0.25)].mean()
        theirs = paper[(t_paper >= 0.1) & (t_paper < 0.25), 1 + j].mean()
        rel = ours / theirs - 1
        # measured: HSR +2.5 %, MSR -0.2 %, LSR -0.5 %
        assert abs(rel) < 0.04, f"{fib}: mean rate 0.1-0.25 s after onset {ours:.1f} vs paper {theirs:.1f} ({rel:+.2%})"


def test_fig4b_onset_recovery(src):
    d = evaluations.compute_onset_recovery(evaluations.QUICK["fig4b"]["intervals_s"], options=REFERENCE_ONLY)
    paper = np.loadtxt(src / "Figure4" / "b" / "anf_onsetpeaks.txt", comments="%")
    rows = [int(np.argmin(np.abs(paper[:, 0] - x))) for x in d["intervals_s"]]
    for j, fib in enumerate(constants.FIBRES):
        diff = np.abs(d["ref"][fib] - paper[rows, 1 + j])
        msg = (f"{fib}: normalised onset peaks {np.round(d['ref'][fib], 3)} vs paper "
               f"{np.round(paper[rows, 1 + j], 3)} (max difference {diff.max():.4f})")
        # measured: MSR 0.002, LSR 0.004; HSR 0.050 at 0.1 s (0.779 vs 0.728), 0.035 at 0.2 s
        # (the paper's ramps and interval definition are undocumented, spec §4.8)
        assert diff.max() < (0.06 if fib == "anfh" else 0.01), msg


def test_fig4c_lsr_pure_tone_mean_rate(src):
    d = evaluations.compute_anf_firing_rates((1000.0,), ("pure",), tone_s=evaluations.QUICK["fig5"]["tone_s"],
                                             options=REFERENCE_ONLY)
    paper = np.loadtxt(src / "Figure4" / "c" / "anfL_toneburst_1000.0Hz_refANF.csv", delimiter=",", skiprows=1)[:, 1]
    ours = d["ref"]["anfl"][0, 300:1800].mean()
    theirs = paper[300:1800].mean()
    rel = ours / theirs - 1
    # measured +0.5 % (0.1-s tone; +0.2 % with the paper's 0.4-s tone)
    assert abs(rel) < 0.02, f"LSR mean rate 15-90 ms, 70-dB 1-kHz tone: {ours:.1f} vs paper {theirs:.1f} ({rel:+.2%})"


def test_fig5_sam_tone_rates(src):
    d = evaluations.compute_anf_firing_rates((1000.0, 4000.0), ("sam",), options=REFERENCE_ONLY)
    for i, (_, f, _) in enumerate(d["conditions"]):
        for fib in constants.FIBRES:
            name = f"{FIBRE_FILE[fib]}_SAM_{round(f, -3):.2f}Hz_refANF_70dB.csv"
            paper = np.loadtxt(src / "Figure5" / f"{round(f / 1e3):.0f} kHz SAM tone" / name, delimiter=",",
                               skiprows=1)[:, 1]
            ours = d["ref"][fib][i, :1600]
            rel = ours[400:].mean() / paper[400:].mean() - 1
            onset, onset_paper = (int(np.argmax(r > r[0] * 1.3 + 1)) for r in (ours, paper))
            msg = (f"{fib} {f:.0f} Hz SAM: mean rate 20-80 ms {ours[400:].mean():.1f} vs paper "
                   f"{paper[400:].mean():.1f} ({rel:+.2%}); response onset at sample {onset} vs {onset_paper}")
            # measured: HSR -0.4/+0.4 %, MSR -1.1/+1.7 %, LSR +0.7/+5.1 % (1/4 kHz); same onset sample
            assert abs(rel) < (0.07 if fib == "anfl" else 0.03) and abs(onset - onset_paper) <= 1, msg


def test_fig6a_rate_level(src):
    d = evaluations.compute_rate_level((1000.0, 4000.0), evaluations.QUICK["fig6a"]["levels_db_spl"],
                                       options=REFERENCE_ONLY)
    rows = (d["levels_db_spl"] // 10).astype(int)
    for fib in constants.FIBRES:
        paper = np.loadtxt(src / "Figure6" / "a" / f"{FIBRE_FILE[fib]}_refANF.txt")
        for j, f in enumerate(d["freqs_hz"]):
            ours, theirs = d["ref"][fib][j], paper[rows, 1 + j]
            rel = ours / theirs - 1
            msg = f"{fib} {f:.0f} Hz: {np.round(ours, 2)} vs paper {np.round(theirs, 2)} spikes/s (max {np.abs(rel).max():.2%})"
            # measured at these levels: spontaneous rates equal, driven rates +0.1 to +4.1 % (LSR at
            # 40 dB); on the full 0:10:100 grid up to +9.5 % on the steep part (LSR, 1 kHz, 30 dB),
            # i.e. our curves sit about 0.1-0.3 dB to the left of the paper's
            assert np.abs(rel).max() < 0.05, msg


def test_fig6b_synchrony_level_at_70_db(src):
    d = evaluations.compute_synchrony_level((1000.0, 4000.0), (70.0,), options=REFERENCE_ONLY)
    for fib in constants.FIBRES:
        paper = np.loadtxt(src / "Figure6" / "b" / f"{FIBRE_FILE[fib]}_refANF.txt")
        theirs = paper[14, 1:3]  # 70 dB
        ours = d["ref"][fib][:, 0]
        # measured at 70 dB: within 0.0010 (all fibres, both CFs); over 0:5:100 dB within 0.0026
        assert np.abs(ours - theirs).max() < 0.003, f"{fib}: VS at 70 dB {np.round(ours, 4)} vs paper {np.round(theirs, 4)}"
