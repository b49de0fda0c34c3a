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
# # Metric 2: IHC AC/DC ratio
#
# 80-dB, 80-ms pure tones (5-ms linear ramps) at CFs log-spaced from 150 Hz to 8 kHz; at each tone's own CF, the AC component (50-70 ms after onset) over the DC shift of the IHC potential (paper Fig. 3a, spec §4.3), with the guinea-pig IHC data of Palmer & Russell (1986). The panel shows the waveform at a chosen CF.
#
# **What to look for:** the ratio falls by about two orders of magnitude from low to high CFs, because the IHC membrane low-pass filters the receptor current: phase locking of the potential is lost at high frequencies.
#
# **Run time:** about 1 minute (20 tones through the TL model, 1-CF CNN). Set `QUICK = True` below for a reduced version that runs in a minute or two.
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
FREQS_HZ = None          # tone frequencies (Hz); None = the paper's 20, 150 Hz-8 kHz snapped to CFs
LEVEL_DB_SPL = 80.0      # tone level (dB SPL)

# %%
from connear_helpers.paper import figures
from connear_helpers.lab import widgets

# %% [markdown]
# ## The figure
# Reference model and CoNNear side by side, with the experimental data where the paper has them. `numbers` holds the values behind the curves (as in the paper's source data).

# %%
fig, numbers = figures.fig3a_ihc_ac_dc_ratio(weights=WEIGHTS, mode=MODE, quick=QUICK,
                                             freqs_hz=FREQS_HZ, level_db_spl=LEVEL_DB_SPL)

# %% [markdown]
# ## Explore
# Move the sliders; simulations are cached per stimulus and mode, so going back to a setting is instant. The mode toggle switches between the TL cochlea (full) and the CoNNear cochlea (light).

# %%
widgets.ihc_ac_dc_ratio_panel(mode=MODE, weights=WEIGHTS, quick=QUICK)
