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
# # Neural encoding models on periphery front ends: STRF, LN, NRF, DNet and a 2-D CNN
#
# An encoding model predicts a neuron's firing rate from a (time, frequency) picture of the sound. Auditory neuroscience usually feeds it a mel spectrogram; this lab can feed it what the ear sends to the brain instead: the auditory-nerve (ANF) population response of the reference model at a set of CFs, averaged in 5-ms bins. We fit five model families (a linear STRF, an LN model, a network receptive field, a DNet with leaky-integrator units, and a 2-D CNN; the STRF models' weights can be shown as images) on two targets whose answer is known: **synthetic LN neurons** with a known STRF and output nonlinearity (Poisson spikes over repeats), and the **inferior-colliculus population** of `verhulst2018`. Stimuli: the lab's speech sample, espeak-ng sentences, random tone pips and modulated noise, cut into segments; a quarter of them is held out for scoring (CC, and CCnorm, which divides by the best CC the trial-to-trial noise allows).
#
# **What to look for:** the fitted STRF of a synthetic neuron approaches the true one as the training data grow (correlation >= 0.9 with enough data); LN models beat the linear STRF on LN neurons; CCnorm stays at or below 1 within its error bar; and for the IC target, the ANF front end predicts far better than the mel spectrogram for every model, because the IC is computed from those ANF rates, while the mel front end must guess the cochlea's compression and adaptation (full mode, mean held-out CC over the 16 IC neurons: linear STRF 0.56 on ANF against 0.26 on mel, 2-D CNN 0.69 against 0.49; the IHC potential, which lacks the synapse's adaptation, lies in between). Even on ANF no model reaches CCnorm 1: the IC follows the envelope at its best modulation frequency, which 5-ms bins average away.
#
# **Run time:** about 10-20 minutes the first time on a laptop CPU (about 20 s of sound through the TL model's fast engine, cached on disk afterwards, then about 25 fits). Set `QUICK = True` below for a reduced version (1.6 s of sound, Linear and LN only) that runs in a minute or two. The same comparison on the command line, for the IC target and the mel, ANF and IHC front ends: `python -m connear_helpers.encoding`.
#
# The CoNNear ANF front end (`"anf_connear"`) needs CoNNear weights (`WEIGHTS = "official"` after `python -m connear_helpers.cnn.weights download official`, or the project's `connear-lab` set once trained); without them it is left out, the notebook says so, and the reference model is used alone.

# %%
# Google Colab only: install the lab first (2-3 minutes; it compiles the C++ core). Elsewhere nothing happens.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "connear-lab @ git+https://github.com/connear-lab/connear-lab"], check=True)

# %% tags=["parameters"]
QUICK = False  # True: reduced sizes for a fast check (the CI runs every notebook so)
N_CF = 16                          # CFs of the ANF front end and of the IC population (log-spaced)
CF_RANGE_HZ = (250.0, 8000.0)      # lowest and highest CF (Hz); the mel bands span the same range
SEGMENT_S = 0.5                    # stimulus segment duration (s)
N_SENTENCES = 6                    # espeak-ng sentences, each cut into segments
N_TONE_SEGMENTS = 4                # segments of random tone pips
N_NOISE_SEGMENTS = 4               # segments of noise with a random level contour
LEVEL_DB_SPL = 65.0                # level of every sound (dB SPL)
BIN_S = 0.005                      # time bin of the front ends and the responses (s)
N_REPEATS = 10                     # Poisson repeats of the synthetic and IC responses
FRONTENDS = ("mel", "anf")         # add "ihc", or "anf_connear" with WEIGHTS
ENGINE = "fast"                    # verhulst2018 engine: "fast" (within about 1 %) or "exact" (several times slower)
WEIGHTS = None                     # CoNNear weights for "anf_connear": "official", "connear-lab" or a folder
MODELS = ("linear", "ln", "nrf", "dnet", "cnn2d")
RECOVERY_FRACTIONS = (0.25, 0.5, 1.0)  # shares of the training data for the STRF-recovery curve
EPOCHS = 300                       # at most; early stopping on a validation split
SEED = 0                           # test split, neurons, spikes, initial weights

# %%
from connear_helpers import encoding

# %% [markdown]
# ## Stimuli, front ends and the IC target
# The reference model runs once per segment (progress bar; cached on disk). The figure shows one segment as the mel spectrogram, as the ANF population rate (13:3:3 HSR:MSR:LSR fibres per CF) and the IC rate to be predicted.

# %%
study = encoding.build_study(n_cf=N_CF, cf_range_hz=CF_RANGE_HZ, segment_s=SEGMENT_S, n_sentences=N_SENTENCES,
                             n_tone_segments=N_TONE_SEGMENTS, n_noise_segments=N_NOISE_SEGMENTS,
                             level_db_spl=LEVEL_DB_SPL, frontends=FRONTENDS, bin_s=BIN_S, n_repeats=N_REPEATS,
                             weights=WEIGHTS, models=MODELS, recovery_fractions=RECOVERY_FRACTIONS, epochs=EPOCHS,
                             engine=ENGINE, seed=SEED, quick=QUICK)
print(study)
for note in study.notes:
    print("Note:", note)
encoding.plot_frontends(study, stimulus=0);

# %% [markdown]
# ## Recovering a known STRF
# Each front end gets its own synthetic neurons (an excitatory field at a best frequency and latency, delayed inhibition beside it, a sigmoid output). The linear STRF model is fitted on growing shares of the training stimuli; the line is the median correlation between fitted and true STRF over the neurons, the band their range.

# %%
curves = encoding.strf_recovery(study)
encoding.plot_strf_recovery(curves);

# %% [markdown]
# ## Front ends and models compared
# Every model on every front end and target, scored on the held-out stimuli (medians over neurons in the first table; the bars show the mean and its standard error over neurons). `STRF r` is the correlation of fitted and true STRFs of the synthetic neurons. The second table is the front-end comparison for the IC target: mean CC / CCnorm over the IC neurons ± standard error.

# %%
fitted = study.compare()
print(encoding.format_table(study.table(fitted)))
print(encoding.comparison_table([f for f in fitted if f.target == "ic"]))
encoding.plot_scores(fitted);

# %% [markdown]
# ## Explore
# Choose a front end, a model and a target: new choices are fitted on the spot (a few seconds to a minute), fitted ones are instant. The neuron slider walks through the neurons (and, for NRF and DNet, their hidden units' STRFs); the second slider through the test stimuli.

# %%
encoding.explorer_panel(study, frontend="anf" if "anf" in study.frontends else None, model="ln",
                        target="ic" if "ic" in study.target_names else None)

# %% [markdown]
# ## Your own recordings
# Save stimuli and spike counts (or PSTHs) with `encoding.save_responses(...)`, or write the documented NPZ/HDF5 format yourself (see `help(encoding.load_responses)`), then fit the same models on them:
#
# ```python
# rec = encoding.load_responses("my_recordings.h5")
# own = encoding.EncodingStudy(None, cf=study.cf, recordings=rec, frontends=("mel", "anf"))
# own.compare(("linear", "ln"))
# ```
