"""Write the lab notebooks (nbformat v4, no outputs) from the table below, so they stay consistent.

    python notebooks/make_notebooks.py           # (re)write notebooks/*.ipynb
    python notebooks/make_notebooks.py --check   # exit 1 if a notebook differs from what this script writes

Every notebook has the same shape: a markdown cell (what the experiment is, what to look for,
how long a full-resolution run takes), a code cell tagged ``parameters`` (``QUICK = False``
and the sizes; papermill-style tools and ``tests/notebooks`` inject ``QUICK = True`` in a cell
right after it with :func:`inject_parameters`), an import cell, and a few calls into
``connear_helpers``. Notebooks hold no logic: everything they do is a function of the package.
Cell ids are fixed, so rewriting an unchanged notebook gives the same bytes.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = pathlib.Path(__file__).resolve().parent

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"

QUICK_LINE = "QUICK = False  # True: reduced sizes for a fast check (the CI runs every notebook so)"
COMMON_PARAMETERS = [
    ('MODE', '"full"', 'cochlea: "full" = reference TL model, "light" = CoNNear cochlea'),
    ('WEIGHTS', '"connear-lab"', 'CoNNear weights: "connear-lab", "official" (downloaded) or a file path'),
]

NO_WEIGHTS_NOTE = (
    "Until CoNNear weights are available (the project's own `connear-lab` set is still being trained; the "
    "authors' set can be fetched with `python -m connear_helpers.weights download official` and "
    "`WEIGHTS = \"official\"`), the CoNNear parts say that the weights are missing and how to get them, "
    "and the reference model is shown alone."
)


def _panel_notebook(name, title, story, look_for, duration, sizes, figures):
    """Spec of a notebook that draws its figure(s) and shows one widgets panel (notebooks 01-07).

    sizes: [(VARIABLE, value, comment)] for the parameters cell; figures: [(function, [(kwarg,
    VARIABLE), ...])] of ``connear_helpers.figures`` called with mode, weights and quick; the panel
    is ``connear_helpers.widgets.<name>_panel``.
    """
    calls = []
    for function, args in figures:
        extra = "".join(f", {kwarg}={var}" for kwarg, var in args)
        tag = function.split("_")[0][3:]  # "fig4a_..." -> "4a"
        out = "fig, numbers" if len(figures) == 1 else f"fig_{tag}, numbers_{tag}"
        head = f"{out} = figures.{function}("
        line = f"{head}weights=WEIGHTS, mode=MODE, quick=QUICK{extra})"
        if len(line) > 100 and extra:
            line = f"{head}weights=WEIGHTS, mode=MODE, quick=QUICK,\n{' ' * len(head)}{extra[2:]})"
        calls.append(line)
    return dict(
        title=title, story=story, look_for=look_for, duration=duration,
        parameters=COMMON_PARAMETERS + list(sizes),
        imports="from connear_helpers import figures, widgets",
        steps=[
            ("md", "## The figure\nReference model and CoNNear side by side, with the experimental data where the "
                   "paper has them. `numbers` holds the values behind the curves (as in the paper's source data)."),
            ("code", "\n".join(calls)),
            ("md", "## Explore\nMove the sliders; simulations are cached per stimulus and mode, so going back "
                   "to a setting is instant. The mode toggle switches between the TL cochlea (full) and the "
                   "CoNNear cochlea (light)."),
            ("code", f"widgets.{name}_panel(mode=MODE, weights=WEIGHTS, quick=QUICK)"),
        ],
    )


NOTEBOOKS = {
    "00_quickstart": dict(
        title="Quickstart: a spoken sentence through the reference model and CoNNear",
        story=(
            "The sentence *\"The cold wind blew across the harbour.\"* (synthesised with espeak-ng, shipped with "
            "the package) is presented at 70 dB SPL to the two pipelines of `connear_helpers.periphery.simulate`: "
            "the reference model (verhulst2018: transmission-line cochlea, IHC, three-store ANF synapses) and the "
            "CoNNear CNNs (IHC, ANF H/M/L; in light mode also the cochlea). The images show, for every CF (y) "
            "over time (x), the basilar-membrane velocity, the inner-hair-cell potential and the firing rates of "
            "high-, medium- and low-spontaneous-rate fibres."
        ),
        look_for=(
            "the formant and harmonic structure of the vowels in the BM and IHC images; phase locking (fine "
            "vertical striping) below about 1 kHz; the strong onsets and the dynamic range of the HSR fibres versus "
            "the sparse, high-threshold LSR fibres; and how closely the CoNNear columns follow the reference."
        ),
        duration=("for the whole 2.1-s sentence at 201 CFs in full mode, about 1-2 minutes for the reference model "
                  "(the TL cochlea needs roughly 30 s of CPU time per second of sound) plus 2-5 minutes on a laptop "
                  "CPU for the 201-channel CoNNear IHC and ANF models (seconds on a GPU); light mode skips the TL "
                  "model"),
        parameters=COMMON_PARAMETERS + [
            ("LEVEL_DB_SPL", "70.0", "presentation level (dB SPL, RMS over the sentence)"),
            ("DURATION_S", "None", "first seconds of the sentence to simulate; None = all of it (2.1 s)"),
            ("N_CF", "201", "number of CFs (evenly spaced over the 201 CoNNear CFs, 12 kHz-113 Hz)"),
        ],
        imports="from connear_helpers import speech",
        steps=[
            ("code", "result = speech.quickstart(mode=MODE, weights=WEIGHTS, level_db_spl=LEVEL_DB_SPL,\n"
                     "                           duration_s=DURATION_S, n_cf=N_CF, quick=QUICK)\nresult"),
            ("code", "fig = speech.cochleagrams(result)"),
            ("md", "## Calling the package yourself\n"
                   "```python\n"
                   "from connear_helpers import periphery, speech\n"
                   "x = speech.load_speech_sample(fs=20_000, level_db_spl=70)   # sound pressure in Pa\n"
                   "res = periphery.simulate(x, 20_000, mode=\"full\", cf=[500, 1000, 4000],\n"
                   "                         weights=\"official\")            # or weights=None: reference only\n"
                   "res.bm        # (n_samples, 3) BM velocity [m/s] at 20 kHz\n"
                   "res.ihc_ref   # (n_samples, 3) IHC potential [V], reference model\n"
                   "res.ihc_cnn   # ... CoNNear IHC\n"
                   "res.anfh_ref, res.anfh_cnn   # firing rate of one HSR fibre [spikes/s]\n"
                   "```\n"
                   "`mode=\"light\"` replaces the TL cochlea by the CoNNear cochlea (fast, needs weights). "
                   "`connear_helpers.speech.load_wav(path, fs, level_db_spl)` loads your own recording. "
                   "For gradients, `periphery.cnn_chain_tensor` runs the CoNNear chain on tensors "
                   "(see `09_backpropagation`)."),
        ],
    ),
    "01_ihc_excitation_patterns": _panel_notebook(
        "ihc_excitation_patterns",
        "Metric 1: IHC excitation patterns",
        "Pure tones (102.4 ms, 5-ms Hann ramps) of 500 Hz, 1 kHz and 2 kHz at 0-100 dB SPL; the mean IHC receptor "
        "potential over the tone, plotted across the 201 CFs (paper Fig. 2, spec §4.2).",
        "the pattern peaks near the tone frequency and broadens towards the base (higher CFs) as the level "
        "rises, with compressive growth at the peak; the CoNNear IHC should reproduce the reference across levels.",
        "about 3-5 minutes (33 tones through the TL model, then the 201-CF IHC CNN)",
        [("FREQS_HZ", "None", "tone frequencies (Hz); None = 500, 1000, 2000 Hz"),
         ("LEVELS_DB_SPL", "None", "levels (dB SPL); None = 0, 10, ..., 100 (fewer in quick mode)")],
        [("fig2_ihc_excitation_patterns", [("freqs_hz", "FREQS_HZ"), ("levels_db_spl", "LEVELS_DB_SPL")])],
    ),
    "02_ihc_ac_dc_ratio": _panel_notebook(
        "ihc_ac_dc_ratio",
        "Metric 2: IHC AC/DC ratio",
        "80-dB, 80-ms pure tones (5-ms linear ramps) at CFs log-spaced from 150 Hz to 8 kHz; at each tone's own CF, "
        "the AC component (50-70 ms after onset) over the DC shift of the IHC potential (paper Fig. 3a, spec §4.3), "
        "with the guinea-pig IHC data of Palmer & Russell (1986). The panel shows the waveform at a chosen CF.",
        "the ratio falls by about two orders of magnitude from low to high CFs, because the IHC membrane low-pass "
        "filters the receptor current: phase locking of the potential is lost at high frequencies.",
        "about 1 minute (20 tones through the TL model, 1-CF CNN)",
        [("FREQS_HZ", "None", "tone frequencies (Hz); None = the paper's 20, 150 Hz-8 kHz snapped to CFs"),
         ("LEVEL_DB_SPL", "80.0", "tone level (dB SPL)")],
        [("fig3a_ihc_ac_dc_ratio", [("freqs_hz", "FREQS_HZ"), ("level_db_spl", "LEVEL_DB_SPL")])],
    ),
    "03_ihc_level_growth": _panel_notebook(
        "ihc_level_growth",
        "Metric 3: IHC potential-level growth",
        "4-kHz (3972.7-Hz CF) pure tones of 80 ms at 0-100 dB SPL; the RMS of the IHC potential (DC removed) at "
        "that CF against level (paper Fig. 3b, spec §4.4).",
        "little growth below about 20 dB, a steep rise over the middle levels and saturation of the MET channel "
        "at high levels.",
        "under a minute (11 tones, 1-CF CNN)",
        [("FREQ_HZ", "4000.0", "tone frequency (Hz), snapped to the nearest CF"),
         ("LEVELS_DB_SPL", "None", "levels (dB SPL); None = 0, 10, ..., 100 (fewer in quick mode)")],
        [("fig3b_ihc_level_growth", [("freq_hz", "FREQ_HZ"), ("levels_db_spl", "LEVELS_DB_SPL")])],
    ),
    "04_anf_firing_rates": _panel_notebook(
        "anf_firing_rates",
        "Metric 4: ANF firing rates",
        "400-ms pure tones and SAM tones (100-Hz modulation, 100 % depth) at 70 dB SPL, at the 1-kHz and 4-kHz CFs; "
        "firing rates of one HSR, MSR and LSR fibre over the first 80 ms (paper Fig. 5, spec §4.5).",
        "the onset peak and adaptation, the ordering HSR > MSR > LSR of spontaneous and driven rates, phase "
        "locking to a 1-kHz carrier (not to 4 kHz) and locking to the 100-Hz envelope of the SAM tones.",
        "about 1-2 minutes (4 stimuli of 0.8 s through the TL model, 1-CF CNNs)",
        [("FREQS_HZ", "(1000.0, 4000.0)", "tone frequencies (Hz), snapped to CFs"),
         ("LEVEL_DB_SPL", "70.0", "level (dB SPL)")],
        [("fig5_anf_firing_rates", [("freqs_hz", "FREQS_HZ"), ("level_db_spl", "LEVEL_DB_SPL")])],
    ),
    "05_anf_rate_level": _panel_notebook(
        "anf_rate_level",
        "Metric 5: ANF rate-level curves",
        "50-ms pure tones at the 1-kHz and 4-kHz CFs, 0-100 dB SPL; the mean rate 10-40 ms after onset for HSR, "
        "MSR and LSR fibres (paper Fig. 6a, spec §4.6), with guinea-pig (Winter & Palmer 1991) and mouse "
        "(Taberner & Liberman 2005) data.",
        "the low threshold and early saturation of HSR fibres, the higher thresholds and wider dynamic ranges of "
        "MSR and LSR fibres, and the sloping saturation of LSR fibres.",
        "about 2-5 minutes (22 stimuli of 0.46 s through the TL model)",
        [("FREQS_HZ", "(1000.0, 4000.0)", "tone frequencies / CFs (Hz)"),
         ("LEVELS_DB_SPL", "None", "levels (dB SPL); None = 0, 10, ..., 100 (fewer in quick mode)")],
        [("fig6a_anf_rate_level", [("freqs_hz", "FREQS_HZ"), ("levels_db_spl", "LEVELS_DB_SPL")])],
    ),
    "06_anf_synchrony_level": _panel_notebook(
        "anf_synchrony_level",
        "Metric 6: ANF synchrony-level functions",
        "400-ms SAM tones (100 Hz, 100 % depth) at the 1-kHz and 4-kHz CFs, 0-100 dB SPL; the vector strength of "
        "the rate at the modulation frequency (paper Fig. 6b, spec §4.7), with the cat data of Joris & Yin (1992).",
        "synchrony peaks just above each fibre type's threshold and falls as the fibre saturates: early for HSR, "
        "at higher levels for MSR and LSR; values above 0.5 mean the envelope is enhanced.",
        "about 5-15 minutes (42 stimuli of 0.8 s at the paper's 5-dB steps)",
        [("FREQS_HZ", "(1000.0, 4000.0)", "carrier frequencies / CFs (Hz)"),
         ("LEVELS_DB_SPL", "None", "levels (dB SPL); None = the paper's 0, 5, ..., 100 (fewer in quick mode)")],
        [("fig6b_anf_synchrony_level", [("freqs_hz", "FREQS_HZ"), ("levels_db_spl", "LEVELS_DB_SPL")])],
    ),
    "07_anf_adaptation_recovery": _panel_notebook(
        "anf_adaptation_recovery",
        "ANF adaptation and recovery (paper Fig. 4a-b)",
        "(a) A 1-s, 1-kHz pure tone at 70 dB SPL: adaptation of the HSR, MSR and LSR rates. (b) Pairs of 100-ms "
        "2-kHz tones 40 dB above each fibre's threshold (60/65/75 dB SPL) with inter-stimulus intervals of "
        "0.1-1.9 s: the onset peak to the second tone relative to the longest interval (spec §4.8).",
        "fast and slow adaptation (the rate at 0.4 s is within a few per cent of the 1-s rate) and recovery of the "
        "onset peak within a few hundred milliseconds (about 92-96 % at 0.4 s).",
        "about 10-30 minutes (57 tone pairs of up to 2 s through the TL model)",
        [("LEVEL_DB_SPL", "70.0", "level of the adaptation tone (dB SPL)"),
         ("INTERVALS_S", "None", "inter-stimulus intervals (s); None = 0.1, 0.2, ..., 1.9 (fewer in quick mode)")],
        [("fig4a_anf_adaptation", [("level_db_spl", "LEVEL_DB_SPL")]),
         ("fig4b_anf_onset_recovery", [("intervals_s", "INTERVALS_S")])],
    ),
    "08_runtime": dict(
        title="Execution time: reference model versus CoNNear (paper Table 2)",
        story=(
            "Every stage of both pipelines is timed on this machine: the reference TL cochlea, IHC and the three ANF "
            "models (verhulst2018, CPU), and the CoNNear cochlea, IHC and ANF H/M/L CNNs on the CPU and, when "
            "TensorFlow sees one, on a GPU; for 201 channels and for one channel (CF 1 kHz). The signal is the first "
            "0.82 s of the speech sample (one ANF window), as in the paper's \"~820 ms of audio\". Times are mean "
            "wall-clock times of whole stage calls after a warm-up (spec §4.11). Without trained weights the CNNs "
            "are timed with untrained weights of the same architecture: the time does not depend on the values."
        ),
        look_for=(
            "the TL cochlea costs the same for 1 and 201 channels (it always solves 1000 sections); the CNNs scale "
            "with the number of channels; on a CPU the 201-channel ANF CNNs are not faster than the compiled "
            "reference synapse (the paper found no CPU gain for them either), while single-channel and GPU runs "
            "are where CoNNear gains (the paper: ~70x on a CPU and ~280x on a GPU for one channel)."
        ),
        duration="about 2-5 minutes on a laptop CPU (the TL cochlea twice, every 201-channel CNN REPEATS times)",
        weights_note=None,
        parameters=[
            ('WEIGHTS', '"connear-lab"', 'CoNNear weights; missing weights -> untrained models (same speed)'),
            ("DURATION_S", "0.8192", "seconds of speech to process"),
            ("N_CHANNELS", "(201, 1)", "channel counts"),
            ("REPEATS", "1", "timed runs per CNN stage, averaged (more = steadier; the TL cochlea runs once)"),
            ("DEVICES", '"auto"', '"auto" = the CPU and, if TensorFlow sees one, a GPU'),
        ],
        imports="from connear_helpers import runtime",
        steps=[
            ("code", "fig, table = runtime.table_2(duration_s=DURATION_S, n_channels=N_CHANNELS, repeats=REPEATS,\n"
                     "                             devices=DEVICES, weights=WEIGHTS, quick=QUICK)"),
            ("md", "`table` is a dict of columns (stage, implementation, device, n_channels, time_s, ...); "
                   "`runtime.format_table(table)` prints it again, `runtime.machine_info()` says what it ran on."),
        ],
    ),
    "09_backpropagation": dict(
        title="Backpropagation through CoNNear: compensating synaptopathy (paper Fig. 8)",
        story=(
            "Because the CoNNear models are differentiable, a signal-processing network can be trained *through* "
            "them. Two copies of the frozen CoNNear IHC -> ANF-HSR chain stand for a normal ear (10 HSR fibres per "
            "IHC) and an ear with cochlear synaptopathy (8 fibres, 20 % deafferentation). A small convolutional "
            "network P (a few Conv1D layers, starting as the identity) is trained so that the 8-fibre response to "
            "P(x) matches the 10-fibre response to x, for 4-kHz SAM tones of several levels and modulation depths "
            "fed directly as IHC inputs; the loss is L1 on the time signal plus L1 on its magnitude spectrum "
            "(spec §4.12). Only P is trained; the CoNNear weights never change."
        ),
        look_for=(
            "before training the 8-fibre response (dashed) is 20 % below the normal one; after training the processed "
            "stimulus (with a larger envelope and a DC shift in the paper) drives the 8-fibre chain to the normal "
            "response. With untrained CoNNear models (no weights yet) the figure only shows the mechanics: the loss "
            "decreases, but the responses are not those of an ear."
        ),
        duration="about 10-20 minutes on a laptop CPU for the default 300 steps (a minute or two on a GPU)",
        weights_note=(
            "Until CoNNear weights are available (the project's own `connear-lab` set is still being trained; the "
            "authors' set can be fetched with `python -m connear_helpers.weights download official` and "
            "`WEIGHTS = \"official\"`), the use case runs with untrained CoNNear models, and the figure says so."),
        parameters=[
            ('WEIGHTS', '"connear-lab"', 'CoNNear weights for the IHC and ANF-H models'),
            ("LEVELS_DB_SPL", "(30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0)", "training tone levels (dB SPL)"),
            ("MODULATION_DEPTHS", "(0.25, 0.5, 0.75, 1.0)", "training modulation depths"),
            ("RESPONSE_SAMPLES", "4096", "samples of response (20 kHz) the loss compares"),
            ("STEPS", "300", "training steps"),
            ("BATCH_SIZE", "4", "stimuli per step"),
            ("SEED", "0", "seed of P's initial weights and the batch order"),
        ],
        imports="from connear_helpers import backprop",
        steps=[
            ("code", "fig, numbers = backprop.fig8(weights=WEIGHTS, levels_db_spl=LEVELS_DB_SPL,\n"
                     "                             modulation_depths=MODULATION_DEPTHS, "
                     "response_samples=RESPONSE_SAMPLES,\n"
                     "                             steps=STEPS, batch_size=BATCH_SIZE, seed=SEED, quick=QUICK)"),
            ("md", "`numbers` holds the curves of the figure and the loss per step. "
                   "`backprop.run(...)` returns the full result, including the trained network P "
                   "(`result.processing_model`, a Keras model you can apply to other IHC inputs)."),
        ],
    ),
}


def _parameters_source(parameters):
    width = max(len(f"{v} = {val}") for v, val, _ in parameters)
    lines = [QUICK_LINE]
    for var, value, comment in parameters:
        lines.append(f"{var} = {value}".ljust(width) + f"  # {comment}")
    return "\n".join(lines)


def build(stem, spec=None):
    """The notebook ``stem`` (e.g. "00_quickstart") as an nbformat NotebookNode, without outputs."""
    spec = spec or NOTEBOOKS[stem]
    intro = (f"# {spec['title']}\n\n{spec['story']}\n\n**What to look for:** {spec['look_for']}\n\n"
             f"**Run time:** {spec['duration']}. Set `QUICK = True` below for a reduced version that runs in a "
             f"minute or two.")
    note = spec.get("weights_note", NO_WEIGHTS_NOTE)
    if note:
        intro += f"\n\n{note}"
    cells = [new_markdown_cell(intro),
             new_code_cell(_parameters_source(spec["parameters"]), metadata={"tags": [PARAMETERS_TAG]}),
             new_code_cell(spec["imports"])]
    for kind, source in spec["steps"]:
        cells.append(new_markdown_cell(source) if kind == "md" else new_code_cell(source))
    for i, cell in enumerate(cells):
        cell["id"] = f"{stem.replace('_', '-')}-{i}"
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    return nb


def build_all():
    """{stem: NotebookNode} for every notebook of the lab."""
    return {stem: build(stem) for stem in NOTEBOOKS}


def inject_parameters(nb, **values):
    """Insert a cell that sets ``values`` right after the cell tagged ``parameters`` (papermill-style).

    An earlier injected cell is replaced. Returns the notebook (changed in place).
    """
    idx = [i for i, c in enumerate(nb.cells) if PARAMETERS_TAG in c.get("metadata", {}).get("tags", [])]
    if len(idx) != 1:
        raise ValueError(f"expected exactly one cell tagged {PARAMETERS_TAG!r}, found {len(idx)}")
    nb.cells = [c for c in nb.cells if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]
    idx = [i for i, c in enumerate(nb.cells) if PARAMETERS_TAG in c.get("metadata", {}).get("tags", [])][0]
    cell = new_code_cell("\n".join(f"{k} = {v!r}" for k, v in values.items()), metadata={"tags": [INJECTED_TAG]})
    cell["id"] = "injected-parameters"
    nb.cells.insert(idx + 1, cell)
    return nb


def _text(nb):
    return nbformat.writes(nb) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the notebooks are up to date")
    parser.add_argument("--out", default=str(HERE), help="folder to write to (default: this folder)")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    stale = []
    for stem, nb in build_all().items():
        nbformat.validate(nb)
        path = out / f"{stem}.ipynb"
        text = _text(nb)
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}; run python notebooks/make_notebooks.py", file=sys.stderr)
        return 1
    if not args.check:
        print(f"wrote {len(NOTEBOOKS)} notebooks to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
