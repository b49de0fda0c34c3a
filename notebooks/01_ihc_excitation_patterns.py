# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Metric 1: IHC excitation patterns
#
# Pure tones (102.4 ms, 5-ms Hann ramps) of 500 Hz, 1 kHz and 2 kHz at 0-100 dB SPL; the mean IHC receptor potential over the tone, plotted across the 201 CFs (paper Fig. 2, spec §4.2).
#
# **What to look for:** the pattern peaks near the tone frequency and broadens towards the base (higher CFs) as the level rises, with compressive growth at the peak; the CoNNear IHC should reproduce the reference across levels.
#
# **Run time:** about 3-5 minutes (33 tones through the TL model, then the 201-CF IHC CNN). Set `QUICK = True` below for a reduced version that runs in a minute or two.
#
# CoNNear weights: `WEIGHTS = "connear-lab"` is the set this project trained on a CPU and ships in `connear_weights/` (below the authors' fidelity; the figures name it and its measured error, the README has the table); the authors' set is fetched once with `python -m connear_helpers.cnn.weights download official` and used with `WEIGHTS = "official"`. If weights are missing, the CoNNear parts say that the weights are missing and how to get them, and the reference model is shown alone.

# %%
# Google Colab only: install the lab first (2-3 minutes; it compiles the C++ core). Elsewhere nothing happens.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "connear-lab @ git+https://github.com/connear-lab/connear-lab"], check=True)

# %% tags=["parameters"]
QUICK = False  # True: reduced sizes for a fast check (the CI runs every notebook so)
MODE = "full"            # cochlea: "full" = reference TL model, "light" = CoNNear cochlea
WEIGHTS = "connear-lab"  # CoNNear weights: "connear-lab", "official" (downloaded) or a file path
FREQS_HZ = None          # tone frequencies (Hz); None = 500, 1000, 2000 Hz
LEVELS_DB_SPL = None     # levels (dB SPL); None = 0, 10, ..., 100 (fewer in quick mode)

# %%
from connear_helpers.paper import figures
from connear_helpers.lab import widgets

# %% [markdown]
# ## The figure
# Reference model and CoNNear side by side, with the experimental data where the paper has them. `numbers` holds the values behind the curves (as in the paper's source data).

# %%
fig, numbers = figures.fig2_ihc_excitation_patterns(weights=WEIGHTS, mode=MODE, quick=QUICK,
                                                    freqs_hz=FREQS_HZ, levels_db_spl=LEVELS_DB_SPL)

# %% [markdown]
# ## Explore
# Move the sliders; simulations are cached per stimulus and mode, so going back to a setting is instant. The mode toggle switches between the TL cochlea (full) and the CoNNear cochlea (light).

# %%
widgets.ihc_excitation_patterns_panel(mode=MODE, weights=WEIGHTS, quick=QUICK)
