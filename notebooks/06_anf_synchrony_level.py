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
# # Metric 6: ANF synchrony-level functions
#
# 400-ms SAM tones (100 Hz, 100 % depth) at the 1-kHz and 4-kHz CFs, 0-100 dB SPL; the vector strength of the rate at the modulation frequency (paper Fig. 6b, spec §4.7), with the cat data of Joris & Yin (1992).
#
# **What to look for:** synchrony peaks just above each fibre type's threshold and falls as the fibre saturates: early for HSR, at higher levels for MSR and LSR; values above 0.5 mean the envelope is enhanced.
#
# **Run time:** about 5-15 minutes (42 stimuli of 0.8 s at the paper's 5-dB steps). Set `QUICK = True` below for a reduced version that runs in a minute or two.
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
MODE = "full"                # cochlea: "full" = reference TL model, "light" = CoNNear cochlea
WEIGHTS = "connear-lab"      # CoNNear weights: "connear-lab", "official" (downloaded) or a file path
FREQS_HZ = (1000.0, 4000.0)  # carrier frequencies / CFs (Hz)
LEVELS_DB_SPL = None         # levels (dB SPL); None = the paper's 0, 5, ..., 100 (fewer in quick mode)

# %%
from connear_helpers.paper import figures
from connear_helpers.lab import widgets

# %% [markdown]
# ## The figure
# Reference model and CoNNear side by side, with the experimental data where the paper has them. `numbers` holds the values behind the curves (as in the paper's source data).

# %%
fig, numbers = figures.fig6b_anf_synchrony_level(weights=WEIGHTS, mode=MODE, quick=QUICK,
                                                 freqs_hz=FREQS_HZ, levels_db_spl=LEVELS_DB_SPL)

# %% [markdown]
# ## Explore
# Move the sliders; simulations are cached per stimulus and mode, so going back to a setting is instant. The mode toggle switches between the TL cochlea (full) and the CoNNear cochlea (light).

# %%
widgets.anf_synchrony_level_panel(mode=MODE, weights=WEIGHTS, quick=QUICK)
