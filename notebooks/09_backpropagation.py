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
# # Backpropagation through CoNNear: compensating synaptopathy (paper Fig. 8)
#
# Because the CoNNear models are differentiable, a signal-processing network can be trained *through* them. Two copies of the frozen CoNNear IHC -> ANF-HSR chain stand for a normal ear (10 HSR fibres per IHC) and an ear with cochlear synaptopathy (8 fibres, 20 % deafferentation). A small convolutional network P (a few Conv1D layers, starting as the identity) is trained so that the 8-fibre response to P(x) matches the 10-fibre response to x, for 4-kHz SAM tones of several levels and modulation depths fed directly as IHC inputs; the loss is L1 on the time signal plus L1 on its magnitude spectrum (spec §4.12). Only P is trained; the CoNNear weights never change.
#
# **What to look for:** before training the 8-fibre response (dashed) is 20 % below the normal one; after training the processed stimulus (with a larger envelope and a DC shift in the paper) drives the 8-fibre chain to the normal response. With untrained CoNNear models (no weights yet) the figure only shows the mechanics: the loss decreases, but the responses are not those of an ear.
#
# **Run time:** about 10-20 minutes on a laptop CPU for the default 300 steps (a minute or two on a GPU). Set `QUICK = True` below for a reduced version that runs in a minute or two.
#
# CoNNear weights: `WEIGHTS = "connear-lab"` is the set this project trained on a CPU and ships in `connear_weights/` (below the authors' fidelity; the figures name it and its measured error, the README has the table); the authors' set is fetched once with `python -m connear_helpers.cnn.weights download official` and used with `WEIGHTS = "official"`. If weights are missing, the use case runs with untrained CoNNear models, and the figure says so.

# %%
# Google Colab only: install the lab first (2-3 minutes; it compiles the C++ core). Elsewhere nothing happens.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "connear-lab @ git+https://github.com/connear-lab/connear-lab"], check=True)

# %% tags=["parameters"]
QUICK = False  # True: reduced sizes for a fast check (the CI runs every notebook so)
WEIGHTS = "connear-lab"                                     # CoNNear weights for the IHC and ANF-H models
LEVELS_DB_SPL = (30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0)  # training tone levels (dB SPL)
MODULATION_DEPTHS = (0.25, 0.5, 0.75, 1.0)                  # training modulation depths
RESPONSE_SAMPLES = 4096                                     # samples of response (20 kHz) the loss compares
STEPS = 300                                                 # training steps
BATCH_SIZE = 4                                              # stimuli per step
SEED = 0                                                    # seed of P's initial weights and the batch order

# %%
from connear_helpers.paper import backprop

# %%
fig, numbers = backprop.fig8(weights=WEIGHTS, levels_db_spl=LEVELS_DB_SPL,
                             modulation_depths=MODULATION_DEPTHS, response_samples=RESPONSE_SAMPLES,
                             steps=STEPS, batch_size=BATCH_SIZE, seed=SEED, quick=QUICK)

# %% [markdown]
# `numbers` holds the curves of the figure and the loss per step. `backprop.run(...)` returns the full result, including the trained network P (`result.processing_model`, a Keras model you can apply to other IHC inputs).
