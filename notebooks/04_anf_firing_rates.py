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
# # Metric 4: ANF firing rates
#
# 400-ms pure tones and SAM tones (100-Hz modulation, 100 % depth) at 70 dB SPL, at the 1-kHz and 4-kHz CFs; firing rates of one HSR, MSR and LSR fibre over the first 80 ms (paper Fig. 5, spec §4.5).
#
# **What to look for:** the onset peak and adaptation, the ordering HSR > MSR > LSR of spontaneous and driven rates, phase locking to a 1-kHz carrier (not to 4 kHz) and locking to the 100-Hz envelope of the SAM tones.
#
# **Run time:** about 1-2 minutes (4 stimuli of 0.8 s through the TL model, 1-CF CNNs). Set `QUICK = True` below for a reduced version that runs in a minute or two.
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
FREQS_HZ = (1000.0, 4000.0)  # tone frequencies (Hz), snapped to CFs
LEVEL_DB_SPL = 70.0          # level (dB SPL)

# %%
from connear_helpers.paper import figures
from connear_helpers.lab import widgets

# %% [markdown]
# ## The figure
# Reference model and CoNNear side by side, with the experimental data where the paper has them. `numbers` holds the values behind the curves (as in the paper's source data).

# %%
fig, numbers = figures.fig5_anf_firing_rates(weights=WEIGHTS, mode=MODE, quick=QUICK,
                                             freqs_hz=FREQS_HZ, level_db_spl=LEVEL_DB_SPL)

# %% [markdown]
# ## Explore
# Move the sliders; simulations are cached per stimulus and mode, so going back to a setting is instant. The mode toggle switches between the TL cochlea (full) and the CoNNear cochlea (light).

# %%
widgets.anf_firing_rates_panel(mode=MODE, weights=WEIGHTS, quick=QUICK)
