"""connear_helpers.lab.widgets: the panels' update functions with new slider values, and the wiring.

The updates use the quick settings and the panels' default engine, the fast one (the figure
tests run the exact one, so their cached simulations are not shared); every slider value below
adds only a few short simulations.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from connear_helpers.analysis import metrics  # noqa: E402
from connear_helpers.lab import widgets as W  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def state():
    return W.PanelState(weights=None, quick=True)


@pytest.fixture(scope="module")
def random_state():
    keras = pytest.importorskip("keras")
    from connear_helpers.cnn import architectures as models

    keras.utils.set_random_seed(11)
    m = {n: models.build_model(n, n_cf=1) for n in ("ihc", "anfh", "anfm", "anfl")}
    return W.PanelState(weights=m, quick=True)


def _done(result):
    fig, table = result
    assert isinstance(fig, matplotlib.figure.Figure)
    plt.close(fig)
    return fig, table


def test_excitation_patterns_with_new_tone_and_level_range(state):
    fig, table = _done(W.update_ihc_excitation_patterns(state, freq_hz=2000.0, level_range=(30, 90), level_step=30))
    assert [k for k in table if k != "cf_hz"] == [f"ref_2000Hz_{level}dB_mV" for level in (30, 60, 90)]
    assert table["cf_hz"].size == 51  # quick: every 4th CF
    peak = table["cf_hz"][np.argmax(np.abs(table["ref_2000Hz_60dB_mV"] + 57.656))]
    assert abs(np.log2(peak / 2000)) < 0.6


def test_ac_dc_ratio_with_inset(state):
    fig, table = _done(W.update_ihc_ac_dc_ratio(state, level_db_spl=80, inset_freq_hz=2800.0))
    assert table["ac_dc_ratio_ref"].size == 5
    insets = fig.axes[0].child_axes
    assert len(insets) == 1 and "2820 Hz" in insets[0].get_title()


def test_level_growth(state):
    _, table = _done(W.update_ihc_level_growth(state, freq_hz=4000.0))
    assert np.all(np.diff(table["vihc_rms_ref_mV"]) > 0)


def test_firing_rates_depth_slider_changes_the_modulation(state):
    _, full = _done(W.update_anf_firing_rates(state, cf_hz=1000.0, level_db_spl=70, stimulus="sam"))
    _, half = _done(W.update_anf_firing_rates(state, cf_hz=1000.0, level_db_spl=70, stimulus="sam", depth=0.5))
    key = "rate_sam_1007Hz_70dB_HSR_ref"
    t = full["time_ms"]

    window = (t >= 20) & (t < 80)  # six 10-ms modulation periods

    def sync(rate):
        return metrics.vector_strength(rate[window], 20_000.0, 100.0)

    assert sync(full[key]) > sync(half[key]) + 0.05, (sync(full[key]), sync(half[key]))
    with pytest.raises(ValueError, match="stimulus"):
        W.update_anf_firing_rates(state, stimulus="click")


def test_rate_level_and_synchrony_level_at_chosen_cfs(state):
    _, table = _done(W.update_anf_rate_level(state, cfs_hz=(1000.0,)))
    assert set(table) == {"level_db_spl"} | {f"rate_{f}_1007Hz_ref" for f in ("HSR", "MSR", "LSR")}
    _, table = _done(W.update_anf_synchrony_level(state, cfs_hz=(4000.0,)))
    assert set(table) == {"level_db_spl"} | {f"vs_{f}_3973Hz_ref" for f in ("HSR", "MSR", "LSR")}


def test_adaptation_recovery_isi_slider(state):
    _, table = _done(W.update_anf_adaptation_recovery(state, isi_s=0.3))
    np.testing.assert_allclose(table["interval_s"], [0.1, 0.2, 0.3, 0.4, 0.8, 1.9])
    y = table["onset_peak_HSR_ref"]
    assert y[1] < y[2] < y[3]  # 0.3 s lies between 0.2 and 0.4 s
    assert table["trace_HSR_ref_spikes_per_s"].size == table["trace_time_s"].size
    with pytest.raises(ValueError, match="isi_s"):
        W.update_anf_adaptation_recovery(state, isi_s=3.0)


def test_light_mode_without_weights_falls_back_with_a_note(state):
    fig, _ = _done(W.update_ihc_level_growth(state, mode="light"))
    assert "Light mode" in " ".join(t.get_text() for t in fig.texts)


def test_cnn_side_by_side_with_random_weights(random_state):
    fig, table = _done(W.update_ihc_level_growth(random_state))
    assert "vihc_rms_cnn_mV" in table and len(fig.axes) == 2
    _, table = _done(W.update_anf_rate_level(random_state, cfs_hz=(1000.0,)))
    assert np.all(np.isfinite(table["rate_LSR_1007Hz_cnn"]))


def test_panels_are_widgets_with_a_mode_toggle():
    ipywidgets = pytest.importorskip("ipywidgets")
    makers = [W.ihc_excitation_patterns_panel, W.ihc_ac_dc_ratio_panel, W.ihc_level_growth_panel,
              W.anf_firing_rates_panel, W.anf_rate_level_panel, W.anf_synchrony_level_panel,
              W.anf_adaptation_recovery_panel]
    for make in makers:
        panel = make(weights=None, quick=True, run=False)
        assert isinstance(panel, ipywidgets.Widget)
        toggles = [c for box in panel.children if isinstance(box, ipywidgets.HBox)
                   for c in box.children if isinstance(c, ipywidgets.ToggleButtons) and c.description == "mode"]
        assert len(toggles) == 1, make.__name__


def test_panel_draws_and_reacts_to_a_slider():
    ipywidgets = pytest.importorskip("ipywidgets")
    panel = W.ihc_level_growth_panel(weights=None, quick=True)
    out, status = panel.output, panel.status
    assert out is panel.children[-1] and status is panel.children[-2].children[1]  # the layout
    assert isinstance(out, ipywidgets.Output) and len(out.outputs) == 1 and status.value.startswith("done")
    toggle = panel.children[1].children[1]
    toggle.value = "light"  # no weights: redrawn from the cached reference, with a note
    assert status.value.startswith("done") and len(out.outputs) == 1
    assert panel.state.setup("light", "ihc").note.startswith("Light mode")


@pytest.mark.parametrize("under_ipython", [False, True])
def test_a_failing_draw_is_shown_in_the_status_line(under_ipython):
    """Also under IPython, where an Output widget used as a context swallows exceptions."""
    ipywidgets = pytest.importorskip("ipywidgets")
    if under_ipython:
        pytest.importorskip("IPython").core.interactiveshell.InteractiveShell.instance()

    def draw(x):
        raise ValueError(f"bad <x> {x}")

    box = W.panel("<h4>t</h4>", {"x": ipywidgets.IntSlider(value=3)}, draw)
    assert "error: bad &lt;x&gt; 3" in box.status.value and len(box.output.outputs) == 0
    box.children[1].children[0].value = 4  # the notebook keeps running; the next draw is tried
    assert "bad &lt;x&gt; 4" in box.status.value


def test_levels_stay_inside_the_range_and_include_its_ends():
    assert W._levels((10, 90), 30) == (10.0, 40.0, 70.0, 90.0)  # not 100: outside the slider's range
    assert W._levels((10, 90), 20) == (10.0, 30.0, 50.0, 70.0, 90.0)
    assert W._levels((90, 10), 40) == (10.0, 50.0, 90.0)
    assert W._levels((40, 40), 10) == (40.0,)
    with pytest.raises(ValueError, match="level_step"):
        W._levels((10, 90), 0)


def test_a_cf_keeps_its_line_style_when_others_are_added():
    from connear_helpers.paper import fig6

    styles = {f: fig6._cf_style(f) for f in (500.0, 1006.99, 2000.0, 3972.69, 8000.0)}
    assert len({str(s) for s in styles.values()}) == 5  # the panel's five CFs are told apart
    assert styles[1006.99] == "--" and styles[3972.69] == "-"  # the paper's 1 kHz dashed, 4 kHz solid


def test_show_figure_and_show_error_shared_by_every_panel():
    """One PNG replaces the output (the figure is closed); errors are escaped in the status line."""
    pytest.importorskip("ipywidgets")
    import ipywidgets as w
    import matplotlib.pyplot as plt

    out, status = w.Output(), w.HTML()
    for _ in range(2):
        fig = plt.figure()
        W.show_figure(out, fig, dpi=50)
        assert not plt.fignum_exists(fig.number)
    assert len(out.outputs) == 1 and "image/png" in out.outputs[0]["data"]
    W.show_error(status, ValueError("fs must be <100 kHz>"))
    assert "&lt;100 kHz&gt;" in status.value and "error" in status.value
