"""ipywidgets panels for the lab's notebooks 01-07 (issue #5).

Each panel has an update function, a plain function the tests call directly::

    state = PanelState(weights="connear-lab", quick=True)
    fig, table = update_ihc_excitation_patterns(state, freq_hz=2000.0, level_range=(20, 80))

and a thin ipywidgets layer that calls it when a control changes::

    ihc_excitation_patterns_panel(weights="connear-lab", quick=False)   # -> ipywidgets.VBox

=====================================  =============================================================
panel (notebook)                       update function and its controls
=====================================  =============================================================
ihc_excitation_patterns_panel (01)     update_ihc_excitation_patterns(freq_hz, level_range, level_step, mode)
ihc_ac_dc_ratio_panel (02)             update_ihc_ac_dc_ratio(level_db_spl, inset_freq_hz, mode)
ihc_level_growth_panel (03)            update_ihc_level_growth(freq_hz, mode)
anf_firing_rates_panel (04)            update_anf_firing_rates(cf_hz, level_db_spl, stimulus, fm_hz, depth, mode)
anf_rate_level_panel (05)              update_anf_rate_level(cfs_hz, mode)
anf_synchrony_level_panel (06)         update_anf_synchrony_level(cfs_hz, fm_hz, mode)
anf_adaptation_recovery_panel (07)     update_anf_adaptation_recovery(isi_s, mode)
=====================================  =============================================================

Every figure shows the reference model and the CNN side by side, with the experimental data;
``mode`` is "full" (reference TL cochlea) or "light" (CoNNear cochlea). Without weights the panels
show the reference and say how to get the weights. Simulations are cached per (stimulus, mode,
weights, options) in memory (:data:`connear_helpers.pipeline.DEFAULT_CACHE`), so moving a slider
back to a value seen before is instant; a new stimulus costs about 3-4 s of CPU per 0.1 s of
sound for the reference TL model with the exact engine (the panel shows a progress message
meanwhile).

The panels run the reference model with the fast engine (``engine="fast"``,
:data:`connear_helpers.pipeline.ENGINE_FOR_PANELS`: within 1 % of the exact engine, and the
levels of a stimulus are integrated in lockstep, up to 8 at once); ``engine="exact"`` gives the
published model's arithmetic, as the figures of :mod:`connear_helpers.paper.figures` use by default.
"""
from __future__ import annotations

import html
import io
import time

import numpy as np

from .. import pipeline
from ..analysis import cf as _cf
from ..analysis import evaluations
from ..paper import fig2, fig3, fig4, fig5, fig6

__all__ = [
    "PanelState",
    "panel",
    "update_ihc_excitation_patterns",
    "update_ihc_ac_dc_ratio",
    "update_ihc_level_growth",
    "update_anf_firing_rates",
    "update_anf_rate_level",
    "update_anf_synchrony_level",
    "update_anf_adaptation_recovery",
    "ihc_excitation_patterns_panel",
    "ihc_ac_dc_ratio_panel",
    "ihc_level_growth_panel",
    "anf_firing_rates_panel",
    "anf_rate_level_panel",
    "anf_synchrony_level_panel",
    "anf_adaptation_recovery_panel",
]


class PanelState:
    """What a panel's updates share: the weights, quick or full resolution, cache and options.

    weights: as connear_helpers.paper.figures ("connear-lab", "official", a folder, a dict of models, or
    None for the reference only). quick: reduced levels/frequencies/CFs and shorter tones (the
    notebooks' CI mode). cache: pipeline.SimulationCache (default the shared in-memory one).
    reference_options: verhulst2018 options (default pipeline.PAPER_REFERENCE_OPTIONS).
    cnn_anf_input: "reference" (the paper's evaluation) or "cnn" (the CNN chain) for ANF panels.
    engine: verhulst2018 engine, "fast" or "exact" (None: the "engine" of reference_options if it
    has one, else pipeline.ENGINE_FOR_PANELS, "fast"); ``state.reference_options`` holds it.
    The CNN models are loaded once per (mode, family) and kept.
    """

    def __init__(self, weights="connear-lab", quick=False, cache=None, reference_options=None,
                 cnn_anf_input="reference", progress=False, engine=None):
        from ..pipeline import ENGINE_FOR_PANELS, check_engine

        opts = dict(pipeline.PAPER_REFERENCE_OPTIONS if reference_options is None else reference_options)
        if engine is None:
            engine = opts.get("engine", ENGINE_FOR_PANELS)
        opts["engine"] = check_engine(engine)
        self.weights = weights
        self.quick = bool(quick)
        self.cache = cache
        self.reference_options = opts
        self.engine = opts["engine"]
        self.cnn_anf_input = cnn_anf_input
        self.progress = progress
        self._setups = {}

    def setup(self, mode, family):
        """The pipeline.Setup for a mode ("full"/"light") and family ("ihc"/"anf"), loaded once."""
        key = (mode, family)
        if key not in self._setups:
            self._setups[key] = pipeline.prepare(self.weights, mode, family, self.cnn_anf_input)
        return self._setups[key]

    def kw(self, mode, family):
        """The ``options`` and ``setup`` arguments of the compute functions for a mode and family."""
        options = pipeline.RunOptions(self.weights, mode, self.cnn_anf_input, self.reference_options, self.cache,
                                      self.progress)
        return dict(options=options, setup=self.setup(mode, family))


def _levels(level_range, level_step):
    """Levels from the lowest to the highest of level_range in steps of level_step, never beyond
    the range; the highest is always included (10-90 in steps of 30: 10, 40, 70, 90)."""
    lo, hi = (float(v) for v in level_range)
    if hi < lo:
        lo, hi = hi, lo
    step = float(level_step)
    if step <= 0:
        raise ValueError(f"level_step must be a positive number of dB, got {level_step!r}")
    levels = [float(v) for v in np.arange(lo, hi + 1e-9, step)]
    if hi - levels[-1] > 1e-9:
        levels.append(hi)
    return tuple(levels)


# ============================================================================================
# update functions


def update_ihc_excitation_patterns(state, freq_hz=1000.0, level_range=(10.0, 90.0), level_step=20.0, mode="full"):
    """Notebook 01 (Metric 1): mean IHC potential across CF for one tone at several levels.

    freq_hz: tone frequency (Hz, not snapped). level_range: (lowest, highest) level (dB SPL).
    level_step: dB between curves. mode: "full" or "light". In quick mode every 4th CF is used.
    Returns (fig, table) as connear_helpers.paper.fig2.fig2_ihc_excitation_patterns.
    """
    cf = tuple(_cf.connear_cfs()[::4]) if state.quick else None
    d = evaluations.compute_excitation_patterns((float(freq_hz),), _levels(level_range, level_step), cf,
                                                **state.kw(mode, "ihc"))
    return fig2.draw_excitation_patterns(d)


def update_ihc_ac_dc_ratio(state, level_db_spl=80.0, inset_freq_hz=500.0, mode="full"):
    """Notebook 02 (Metric 2): AC/DC ratio vs frequency with guinea-pig data, and an inset of
    the IHC potential for the tone nearest inset_freq_hz with the AC and DC windows.

    level_db_spl: tone level (dB SPL; the paper uses 80). Quick mode: 6 of the 20 frequencies.
    Returns (fig, table) as connear_helpers.paper.fig3.fig3a_ihc_ac_dc_ratio.
    """
    freqs = evaluations.paper_ac_dc_freqs(evaluations.QUICK["fig3a"]["n_freqs"] if state.quick else 20)
    d = evaluations.compute_ac_dc_ratio(freqs, float(level_db_spl), **state.kw(mode, "ihc"))
    return fig3.draw_ac_dc_ratio(d, inset_freq_hz=float(inset_freq_hz))


def update_ihc_level_growth(state, freq_hz=4000.0, mode="full"):
    """Notebook 03 (Metric 3): RMS of the DC-removed IHC potential vs level at the CF of freq_hz.

    Levels 0:10:100 dB SPL (quick: 0, 30, 60, 90). Returns (fig, table) as fig3b_ihc_level_growth.
    """
    levels = evaluations.QUICK["fig3b"]["levels_db_spl"] if state.quick else tuple(float(v) for v in range(0, 101, 10))
    d = evaluations.compute_level_growth(float(freq_hz), levels, **state.kw(mode, "ihc"))
    return fig3.draw_level_growth(d)


def update_anf_firing_rates(state, cf_hz=4000.0, level_db_spl=70.0, stimulus="sam", fm_hz=100.0, depth=1.0,
                            mode="full"):
    """Notebook 04 (Metric 4): HSR/MSR/LSR rates over the first 80 ms of a tone at a CF.

    cf_hz: tone frequency = CF (Hz, snapped). level_db_spl: dB SPL. stimulus: "pure" or "sam".
    fm_hz, depth: SAM modulation frequency (Hz) and depth (0-1). Tone 0.4 s (quick 0.1 s).
    Returns (fig, table) as fig5_anf_firing_rates.
    """
    if stimulus not in ("pure", "sam"):
        raise ValueError(f'stimulus must be "pure" or "sam", got {stimulus!r}')
    tone_s = evaluations.QUICK["fig5"]["tone_s"] if state.quick else None
    sam = stimulus == "sam"
    d = evaluations.compute_anf_firing_rates(
        (float(cf_hz),), (stimulus,), (float(level_db_spl),), tone_s,
        fm_hz=float(fm_hz) if sam and float(fm_hz) != 100.0 else None,
        modulation_depth=float(depth) if sam and float(depth) != 1.0 else None,
        **state.kw(mode, "anf"))
    return fig5.draw_anf_firing_rates(d)


def update_anf_rate_level(state, cfs_hz=(1000.0, 4000.0), mode="full"):
    """Notebook 05 (Metric 5): rate-level curves at the chosen CFs with guinea-pig and mouse data.

    cfs_hz: tone frequencies = CFs (Hz, snapped). Levels 0:10:100 dB SPL (quick 0:20:80).
    Returns (fig, table) as fig6a_anf_rate_level.
    """
    levels = evaluations.QUICK["fig6a"]["levels_db_spl"] if state.quick else tuple(float(v) for v in range(0, 101, 10))
    d = evaluations.compute_rate_level(tuple(float(f) for f in np.atleast_1d(cfs_hz)), levels,
                                       **state.kw(mode, "anf"))
    return fig6.draw_rate_level(d)


def update_anf_synchrony_level(state, cfs_hz=(1000.0, 4000.0), fm_hz=100.0, mode="full"):
    """Notebook 06 (Metric 6): vector strength at fm vs level for SAM tones, with cat data.

    cfs_hz: carriers = CFs (Hz, snapped). fm_hz: modulation frequency (Hz). Levels 0:5:100 dB SPL
    and 0.4-s tones (quick: 20/50/80 dB, 0.1 s). Returns (fig, table) as fig6b_anf_synchrony_level.
    """
    quick = evaluations.QUICK["fig6b"]
    levels = quick["levels_db_spl"] if state.quick else tuple(float(v) for v in range(0, 101, 5))
    tone_s = quick["tone_s"] if state.quick else None
    d = evaluations.compute_synchrony_level(tuple(float(f) for f in np.atleast_1d(cfs_hz)), levels, tone_s,
                                            float(fm_hz), **state.kw(mode, "anf"))
    return fig6.draw_synchrony_level(d)


def update_anf_adaptation_recovery(state, isi_s=0.4, mode="full"):
    """Notebook 07 (Fig. 4a-b): adaptation to a 1-kHz 70-dB tone (1 s; quick 0.3 s), onset-peak
    recovery vs interval for 2-kHz tone pairs, and the rates of the pair with interval isi_s.

    isi_s: inter-stimulus interval (s, offset to onset, 0.1-1.9). The recovery curve uses the
    intervals of Fig. 4b (quick: 0.1, 0.2, 0.4, 0.8, 1.9) plus isi_s. Returns (fig, table).
    """
    isi = round(float(isi_s), 3)
    if not 0.0 < isi <= 1.9:
        raise ValueError(f"isi_s must be in (0, 1.9] s, got {isi_s!r}")
    base = evaluations.QUICK["fig4b"]["intervals_s"] if state.quick else tuple(round(0.1 * k, 1) for k in range(1, 20))
    kw = state.kw(mode, "anf")
    adaptation = evaluations.compute_adaptation(tone_s=evaluations.QUICK["fig4a"]["tone_s"] if state.quick else 1.0,
                                                **kw)
    recovery = evaluations.compute_onset_recovery(tuple(sorted(set(base) | {isi})), keep_traces=True, **kw)
    return fig4.draw_adaptation_recovery(adaptation, recovery, isi)


# ============================================================================================
# ipywidgets layer


def _mode_toggle(mode):
    import ipywidgets as w

    return w.ToggleButtons(options=[("full (TL cochlea)", "full"), ("light (CNN cochlea)", "light")],
                           value=mode, description="mode")


def show_figure(out, fig, dpi=120):
    """Replace the contents of the ipywidgets Output ``out`` with ``fig`` as a PNG image (the
    figure is closed). A PNG, not the live figure, so that the panel looks the same in JupyterLab,
    Colab and a saved notebook."""
    import matplotlib.pyplot as plt
    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    out.outputs = ()
    out.append_display_data(Image(data=buf.getvalue(), format="png"))


def show_error(status, exc):
    """Show ``exc`` in a panel's status line (the notebook keeps running)."""
    status.value = f"<span style='color:darkred'>error: {html.escape(str(exc))}</span>"


def panel(header, controls, draw, *, rows=None, busy="computing...", dpi=120, summary=None, run=True):
    """The lab's panel: a header, controls, a status line with a busy bar, and the figure.

    Every panel of the package (notebooks 01-07, and those of :mod:`connear_helpers.encoding`,
    :mod:`connear_helpers.stages`, :mod:`connear_helpers.localisation`) is made here.
    header: HTML on top (title, what to look at). controls: dict name -> ipywidget; whenever one
    changes, ``draw(**values)`` runs and must return ``(fig, extra)``. rows: the widgets between
    header and status line, a list of rows (each an ipywidget; default: the controls, three per
    row). busy: status text while drawing (HTML). dpi: of the PNG shown. summary: ``(extra,
    seconds) -> HTML`` for the status line after a draw (default "done in X s"). run: draw once now.
    Errors are shown in the status line; the notebook keeps running.
    Returns an ipywidgets.VBox with ``.refresh()``, ``.status`` (HTML) and ``.output`` (Output).
    """
    import ipywidgets as w

    out = w.Output()
    status = w.HTML()
    bar = w.IntProgress(value=0, min=0, max=1, bar_style="info", layout=w.Layout(width="140px"))

    def refresh(*_):
        values = {k: c.value for k, c in controls.items()}
        bar.value, bar.bar_style = 0, "info"
        status.value = busy
        t0 = time.perf_counter()
        error = None
        with out:  # progress bars of long computations show up in the output area
            try:  # caught in here: under IPython the Output widget would swallow it and leave no figure
                fig, extra = draw(**values)
            except Exception as exc:  # shown in the panel; the notebook keeps running
                error = exc
        if error is not None:
            bar.bar_style = "danger"
            show_error(status, error)
            return
        show_figure(out, fig, dpi=dpi)
        bar.value, bar.bar_style = 1, "success"
        seconds = time.perf_counter() - t0
        status.value = summary(extra, seconds) if summary else f"done in {seconds:.1f} s"

    for c in controls.values():
        c.observe(refresh, names="value")
    items = list(controls.values())
    if rows is None:
        rows = [w.HBox(items[k:k + 3]) for k in range(0, len(items), 3)]
    box = w.VBox([w.HTML(header), *rows, w.HBox([bar, status]), out])
    box.refresh, box.status, box.output = refresh, status, out
    if run:
        refresh()
    return box


def _panel(title, about, controls, update, state, run=True):
    """A panel of notebooks 01-07: update(state, **values) draws; ``.state`` is the PanelState."""
    box = panel(f"<h4>{html.escape(title)}</h4><p>{html.escape(about)}</p>", controls,
                lambda **values: update(state, **values),
                busy=("<b>simulating...</b> new stimuli take a few seconds each (reference TL model); "
                      "cached ones are instant"), run=run)
    box.state = state
    return box


def _slider(kind, **kw):
    import ipywidgets as w

    kw.setdefault("continuous_update", False)
    return getattr(w, kind)(**kw)


def ihc_excitation_patterns_panel(weights="connear-lab", quick=False, mode="full", cache=None, run=True,
                                  engine=None):
    """Notebook 01 panel: tone frequency, level range and step, mode. Returns an ipywidgets.VBox.

    engine: verhulst2018 engine, "fast" (None: pipeline.ENGINE_FOR_PANELS) or "exact".
    """
    import ipywidgets as w

    state = PanelState(weights, quick, cache, engine=engine)
    controls = {
        "freq_hz": w.Dropdown(options=[250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0], value=1000.0,
                              description="tone [Hz]"),
        "level_range": _slider("IntRangeSlider", value=(10, 90), min=0, max=100, step=10, description="levels [dB]"),
        "level_step": _slider("IntSlider", value=20, min=10, max=50, step=10, description="step [dB]"),
        "mode": _mode_toggle(mode),
    }
    return _panel("IHC excitation patterns (Metric 1, Fig. 2)",
                  "Mean IHC receptor potential across CF for a 102.4-ms tone; each curve is one level.",
                  controls, update_ihc_excitation_patterns, state, run)


def ihc_ac_dc_ratio_panel(weights="connear-lab", quick=False, mode="full", cache=None, run=True,
                          engine=None):
    """Notebook 02 panel: level, CF of the waveform inset, mode. Returns an ipywidgets.VBox.

    engine: verhulst2018 engine, "fast" (None: pipeline.ENGINE_FOR_PANELS) or "exact".
    """
    import ipywidgets as w

    state = PanelState(weights, quick, cache, engine=engine)
    freqs = evaluations.paper_ac_dc_freqs(evaluations.QUICK["fig3a"]["n_freqs"] if quick else 20)
    controls = {
        "level_db_spl": _slider("IntSlider", value=80, min=40, max=100, step=10, description="level [dB]"),
        "inset_freq_hz": w.SelectionSlider(options=[(f"{f:.0f}", float(f)) for f in freqs],
                                           value=float(freqs[np.argmin(np.abs(freqs - 500))]),
                                           description="inset CF [Hz]", continuous_update=False),
        "mode": _mode_toggle(mode),
    }
    return _panel("IHC AC/DC ratio (Metric 2, Fig. 3a)",
                  "AC/DC ratio of the IHC potential to 80-ms tones at their CF, with two guinea-pig IHCs "
                  "(Palmer & Russell 1986); the inset shows the potential with the DC (blue) and AC "
                  "(orange) windows.", controls, update_ihc_ac_dc_ratio, state, run)


def ihc_level_growth_panel(weights="connear-lab", quick=False, mode="full", cache=None, run=True,
                           engine=None):
    """Notebook 03 panel: tone frequency, mode. Returns an ipywidgets.VBox.

    engine: verhulst2018 engine, "fast" (None: pipeline.ENGINE_FOR_PANELS) or "exact".
    """
    import ipywidgets as w

    state = PanelState(weights, quick, cache, engine=engine)
    controls = {
        "freq_hz": w.Dropdown(options=[500.0, 1000.0, 2000.0, 4000.0, 8000.0], value=4000.0, description="tone [Hz]"),
        "mode": _mode_toggle(mode),
    }
    return _panel("IHC potential-level growth (Metric 3, Fig. 3b)",
                  "RMS of the DC-removed IHC potential against level at the CF of the tone.",
                  controls, update_ihc_level_growth, state, run)


def anf_firing_rates_panel(weights="connear-lab", quick=False, mode="full", cache=None, run=True,
                           engine=None):
    """Notebook 04 panel: CF, level, pure/SAM, fm, depth, mode. Returns an ipywidgets.VBox.

    engine: verhulst2018 engine, "fast" (None: pipeline.ENGINE_FOR_PANELS) or "exact".
    """
    import ipywidgets as w

    state = PanelState(weights, quick, cache, engine=engine)
    controls = {
        "cf_hz": w.Dropdown(options=[500.0, 1000.0, 2000.0, 4000.0, 8000.0], value=4000.0, description="CF [Hz]"),
        "level_db_spl": _slider("IntSlider", value=70, min=0, max=100, step=10, description="level [dB]"),
        "stimulus": w.ToggleButtons(options=[("pure tone", "pure"), ("SAM tone", "sam")], value="sam"),
        "fm_hz": _slider("FloatLogSlider", value=100.0, base=10, min=1, max=3, step=0.1, description="fm [Hz]"),
        "depth": _slider("FloatSlider", value=1.0, min=0.0, max=1.0, step=0.1, description="depth"),
        "mode": _mode_toggle(mode),
    }
    return _panel("ANF firing rates (Metric 4, Fig. 5)",
                  "Rates of one HSR (red), MSR (blue) and LSR (cyan) fibre at the CF, first 80 ms.",
                  controls, update_anf_firing_rates, state, run)


def anf_rate_level_panel(weights="connear-lab", quick=False, mode="full", cache=None, run=True,
                         engine=None):
    """Notebook 05 panel: CFs, mode. Returns an ipywidgets.VBox.

    engine: verhulst2018 engine, "fast" (None: pipeline.ENGINE_FOR_PANELS) or "exact".
    """
    import ipywidgets as w

    state = PanelState(weights, quick, cache, engine=engine)
    controls = {
        "cfs_hz": w.SelectMultiple(options=[500.0, 1000.0, 2000.0, 4000.0, 8000.0], value=(1000.0, 4000.0),
                                   description="CFs [Hz]", rows=5),
        "mode": _mode_toggle(mode),
    }
    return _panel("ANF rate-level curves (Metric 5, Fig. 6a)",
                  "Mean rate 10-40 ms after the onset of 50-ms tones; guinea-pig (Winter & Palmer 1991) "
                  "and mouse (Taberner & Liberman 2005) fibres for comparison.",
                  controls, update_anf_rate_level, state, run)


def anf_synchrony_level_panel(weights="connear-lab", quick=False, mode="full", cache=None, run=True,
                              engine=None):
    """Notebook 06 panel: CFs, fm, mode. Returns an ipywidgets.VBox.

    engine: verhulst2018 engine, "fast" (None: pipeline.ENGINE_FOR_PANELS) or "exact".
    """
    import ipywidgets as w

    state = PanelState(weights, quick, cache, engine=engine)
    controls = {
        "cfs_hz": w.SelectMultiple(options=[500.0, 1000.0, 2000.0, 4000.0, 8000.0], value=(1000.0, 4000.0),
                                   description="CFs [Hz]", rows=5),
        "fm_hz": w.Dropdown(options=[25.0, 50.0, 100.0, 200.0, 400.0], value=100.0, description="fm [Hz]"),
        "mode": _mode_toggle(mode),
    }
    return _panel("ANF synchrony-level curves (Metric 6, Fig. 6b)",
                  "Vector strength of the rate at the modulation frequency of 100 % SAM tones; cat fibres "
                  "(Joris & Yin 1992) for comparison.", controls, update_anf_synchrony_level, state, run)


def anf_adaptation_recovery_panel(weights="connear-lab", quick=False, mode="full", cache=None, run=True,
                                  engine=None):
    """Notebook 07 panel: inter-stimulus interval, mode. Returns an ipywidgets.VBox.

    engine: verhulst2018 engine, "fast" (None: pipeline.ENGINE_FOR_PANELS) or "exact".
    """
    state = PanelState(weights, quick, cache, engine=engine)
    controls = {
        "isi_s": _slider("FloatSlider", value=0.4, min=0.1, max=1.9, step=0.1, description="interval [s]"),
        "mode": _mode_toggle(mode),
    }
    return _panel("ANF adaptation and recovery (Fig. 4a-b)",
                  "Adaptation to a long 1-kHz tone, and how far the onset response to the second of two "
                  "2-kHz tones has recovered after the chosen silent interval.",
                  controls, update_anf_adaptation_recovery, state, run)
