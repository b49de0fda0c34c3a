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
# # ANF adaptation and recovery (paper Fig. 4a-b)
#
# (a) A 1-s, 1-kHz pure tone at 70 dB SPL: adaptation of the HSR, MSR and LSR rates. (b) Pairs of 100-ms 2-kHz tones 40 dB above each fibre's threshold (60/65/75 dB SPL) with inter-stimulus intervals of 0.1-1.9 s: the onset peak to the second tone relative to the longest interval (spec §4.8).
#
# **What to look for:** fast and slow adaptation (the rate at 0.4 s is within a few per cent of the 1-s rate) and recovery of the onset peak within a few hundred milliseconds (about 92-96 % at 0.4 s).
#
# **Run time:** about 10-30 minutes (57 tone pairs of up to 2 s through the TL model). Set `QUICK = True` below for a reduced version that runs in a minute or two.
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
LEVEL_DB_SPL = 70.0      # level of the adaptation tone (dB SPL)
INTERVALS_S = None       # inter-stimulus intervals (s); None = 0.1, 0.2, ..., 1.9 (fewer in quick mode)

# %%
from connear_helpers.paper import figures
from connear_helpers.lab import widgets

# %% [markdown]
# ## The figure
# Reference model and CoNNear side by side, with the experimental data where the paper has them. `numbers` holds the values behind the curves (as in the paper's source data).

# %%
fig_4a, numbers_4a = figures.fig4a_anf_adaptation(weights=WEIGHTS, mode=MODE, quick=QUICK,
                                                  level_db_spl=LEVEL_DB_SPL)
fig_4b, numbers_4b = figures.fig4b_anf_onset_recovery(weights=WEIGHTS, mode=MODE, quick=QUICK,
                                                      intervals_s=INTERVALS_S)

# %% [markdown]
# ## Explore
# Move the sliders; simulations are cached per stimulus and mode, so going back to a setting is instant. The mode toggle switches between the TL cochlea (full) and the CoNNear cochlea (light).

# %%
widgets.anf_adaptation_recovery_panel(mode=MODE, weights=WEIGHTS, quick=QUICK)
