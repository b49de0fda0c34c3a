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
# # Quickstart: a spoken sentence through the reference model and CoNNear
#
# The sentence *"The cold wind blew across the harbour."* (synthesised with espeak-ng, shipped with the package) is presented at 70 dB SPL to the two pipelines of `connear_helpers.pipeline.simulate`: the reference model (verhulst2018: transmission-line cochlea, IHC, three-store ANF synapses) and the CoNNear CNNs (IHC, ANF H/M/L; in light mode also the cochlea). The images show, for every CF (y) over time (x), the basilar-membrane velocity, the inner-hair-cell potential and the firing rates of high-, medium- and low-spontaneous-rate fibres.
#
# **What to look for:** the formant and harmonic structure of the vowels in the BM and IHC images; phase locking (fine vertical striping) below about 1 kHz; the strong onsets and the dynamic range of the HSR fibres versus the sparse, high-threshold LSR fibres; and how closely the CoNNear columns follow the reference.
#
# **Run time:** for the whole 2.1-s sentence at 201 CFs in full mode, about 1-2 minutes for the reference model (the TL cochlea needs roughly 30 s of CPU time per second of sound) plus 2-5 minutes on a laptop CPU for the 201-channel CoNNear IHC and ANF models (seconds on a GPU); light mode skips the TL model. Set `QUICK = True` below for a reduced version that runs in a minute or two.
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
LEVEL_DB_SPL = 70.0      # presentation level (dB SPL, RMS over the sentence)
DURATION_S = None        # first seconds of the sentence to simulate; None = all of it (2.1 s)
N_CF = 201               # number of CFs (evenly spaced over the 201 CoNNear CFs, 12 kHz-113 Hz)

# %%
from connear_helpers.lab import speech

# %%
result = speech.quickstart(mode=MODE, weights=WEIGHTS, level_db_spl=LEVEL_DB_SPL,
                           duration_s=DURATION_S, n_cf=N_CF, quick=QUICK)
result

# %%
fig = speech.cochleagrams(result)

# %% [markdown]
# ## Calling the package yourself
# ```python
# from connear_helpers import simulate
# from connear_helpers.analysis.sounds import load_speech_sample
# x = load_speech_sample(fs=20_000, level_db_spl=70)   # sound pressure in Pa
# res = simulate(x, 20_000, mode="full", cf=[500, 1000, 4000],
#                          weights="official")            # or weights=None: reference only
# res.bm        # (n_samples, 3) BM velocity [m/s] at 20 kHz
# res.ihc_ref   # (n_samples, 3) IHC potential [V], reference model
# res.ihc_cnn   # ... CoNNear IHC
# res.anfh_ref, res.anfh_cnn   # firing rate of one HSR fibre [spikes/s]
# ```
# `mode="light"` replaces the TL cochlea by the CoNNear cochlea (fast, needs weights). `connear_helpers.analysis.sounds.load_wav(path, fs, level_db_spl)` loads your own recording. For gradients, `pipeline.cnn_chain_tensor` runs the CoNNear chain on tensors (see `09_backpropagation`).
