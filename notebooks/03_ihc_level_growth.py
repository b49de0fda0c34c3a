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
# # Metric 3: IHC potential-level growth
#
# 4-kHz (3972.7-Hz CF) pure tones of 80 ms at 0-100 dB SPL; the RMS of the IHC potential (DC removed) at that CF against level (paper Fig. 3b, spec §4.4).
#
# **What to look for:** little growth below about 20 dB, a steep rise over the middle levels and saturation of the MET channel at high levels.
#
# **Run time:** under a minute (11 tones, 1-CF CNN). Set `QUICK = True` below for a reduced version that runs in a minute or two.
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
FREQ_HZ = 4000.0         # tone frequency (Hz), snapped to the nearest CF
LEVELS_DB_SPL = None     # levels (dB SPL); None = 0, 10, ..., 100 (fewer in quick mode)

# %%
from connear_helpers.paper import figures
from connear_helpers.lab import widgets

# %% [markdown]
# ## The figure
# Reference model and CoNNear side by side, with the experimental data where the paper has them. `numbers` holds the values behind the curves (as in the paper's source data).

# %%
fig, numbers = figures.fig3b_ihc_level_growth(weights=WEIGHTS, mode=MODE, quick=QUICK,
                                              freq_hz=FREQ_HZ, levels_db_spl=LEVELS_DB_SPL)

# %% [markdown]
# ## Explore
# Move the sliders; simulations are cached per stimulus and mode, so going back to a setting is instant. The mode toggle switches between the TL cochlea (full) and the CoNNear cochlea (light).

# %%
widgets.ihc_level_growth_panel(mode=MODE, weights=WEIGHTS, quick=QUICK)
