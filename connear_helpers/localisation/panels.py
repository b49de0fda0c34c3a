"""ipywidgets panels of notebook 12, in the lab's panel style (connear_helpers.lab.widgets).

Each panel has a plain update function that the tests call and a thin widget layer:

* :func:`stimulus_panel` (azimuth slider) -> :func:`update_stimulus`: the sound at the two
  ears, their ANF spike rasters and period histograms (rates from the tone bank: instant);
* :func:`output_panel` (azimuth slider, network) -> :func:`update_output`: the hidden spikes,
  the output units and the class probabilities of a trained network for one sound.
"""
from __future__ import annotations

import html

from . import plots


def update_stimulus(bank, azimuth_deg=30.0, seed=0):
    """(fig, numbers) of :func:`plots.stimulus_and_rasters` for one azimuth (degrees)."""
    return plots.stimulus_and_rasters(bank, float(azimuth_deg), seed=int(seed))


def update_output(networks, name, azimuth_deg=30.0, seed=0):
    """(fig, numbers) of :func:`plots.network_output`.

    networks: dict name -> (snn.Network, input source). name: which one. azimuth_deg: the
    azimuth (periphery input) or IPD (abstract input) in degrees.
    """
    if name not in networks:
        raise ValueError(f"no network named {name!r}; choose one of {sorted(networks)}")
    network, source = networks[name]
    return plots.network_output(network, source, float(azimuth_deg), seed=int(seed), name=name)


def _panel(title, about, controls, update, run=True):
    import ipywidgets as w

    from ..lab.widgets import panel

    return panel(f"<h4>{html.escape(title)}</h4><p>{html.escape(about)}</p>", controls, update,
                 rows=[w.HBox(list(controls.values()))], dpi=90, run=run)


def _azimuth_slider(value, description="azimuth [°]"):
    import ipywidgets as w

    return w.FloatSlider(value=value, min=-90.0, max=90.0, step=2.5, description=description,
                         continuous_update=False)


def stimulus_panel(bank, azimuth_deg=30.0, run=True):
    """Azimuth slider and a new draw of spikes; shows :func:`update_stimulus`. Returns an ipywidgets.VBox."""
    import ipywidgets as w

    controls = {"azimuth_deg": _azimuth_slider(azimuth_deg),
                "seed": w.IntSlider(value=0, min=0, max=20, description="spike draw", continuous_update=False)}
    cfg = bank.config
    return _panel("A tone from an azimuth, at the two ears",
                  f"{cfg.freq_hz:.0f}-Hz tone at {cfg.level_db_spl:.0f} dB SPL; Woodworth ITD of a "
                  f"{100 * cfg.head_radius_m:.2f}-cm head; {cfg.n_fibres} Poisson fibres per CF and ear "
                  f"from the {cfg.model} model's ANF rates, {cfg.dt * 1e3:.2f}-ms steps.",
                  controls, lambda **kw: update_stimulus(bank, **kw), run)


def output_panel(networks, azimuth_deg=30.0, run=True):
    """Pick a network and an azimuth (or IPD); shows :func:`update_output`. Returns an ipywidgets.VBox.

    networks: dict name -> (snn.Network, input source).
    """
    import ipywidgets as w

    controls = {"name": w.ToggleButtons(options=list(networks), value=list(networks)[-1], description="input"),
                "azimuth_deg": _azimuth_slider(azimuth_deg, "azimuth / IPD [°]"),
                "seed": w.IntSlider(value=0, min=0, max=20, description="spike draw", continuous_update=False)}
    return _panel("The network's answer",
                  "Fresh spikes for the chosen azimuth (periphery input) or IPD (abstract input): the hidden "
                  "layer's spikes, the output units' potentials and the softmax of their maxima.",
                  controls, lambda **kw: update_output(networks, **kw), run)
