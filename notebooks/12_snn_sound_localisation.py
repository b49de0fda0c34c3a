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
# # Sound localisation with a spiking network fed by the periphery
#
# A small spiking neural network learns where a sound comes from. It has 30 leaky integrate-and-fire (LIF) hidden units (threshold 1, reset to 0) and 12 leaky output units that never spike; the class it chooses is the output unit whose potential peaks highest. Spikes have no gradient, so it is trained with a *surrogate gradient* (the derivative of a sigmoid stands in for the spike's), with Adam on the negative log-likelihood, fresh spikes in every batch.
#
# It hears two inputs. First the abstract input of the teaching notebook this story comes from: 100 Poisson fibres per ear whose rate follows a 20-Hz sinusoid with a phase delay per fibre (a built-in delay line), the class being the interaural phase difference (IPD) in 12 bins of 15 degrees. Then real ears: a 500-Hz tone at 60 dB SPL from an azimuth between -90 and +90 degrees reaches the two ears with the interaural time difference of a spherical head (Woodworth), each ear goes through the reference model (`verhulst2018`: middle ear, nonlinear cochlea, IHC, ANF synapse), and 12 Poisson fibres per CF (8 CFs from 349 to 1007 Hz) per ear fire with the model's high-spontaneous-rate ANF rates, in steps of 0.1 ms (20 per period of the tone, fine enough for their phase locking). Nothing in the ears is a delay line: the network has to find the ITD in the phase locking of the fibres, whose phase also changes across CF. The hidden time constant is 1 ms for the ears (5 ms would average away the 2-ms period).
#
# **What to look for:** the period histograms of the two ears shift by the interaural phase difference as the azimuth moves; both networks learn far above chance (8.3 %): the teaching notebook reports about 85 % and 4.4 degrees on its input, and the ears (measured with `benchmarks/bench_snn_localisation.py`: about 76 % and 5 degrees) give confusions only between neighbouring classes; the ears' network holds up to about 0 dB SNR in a diffuse noise, and fails on tones of other frequencies, where the same ITD gives another phase.
#
# **Run time:** about an hour on one CPU core in full (150 epochs for the abstract input, 40 for the ears, and about 20 minutes of periphery simulations, cached on disk for the next run); `KERAS_BACKEND=jax` trains about 1.5 times faster. Set `QUICK = True` below for a reduced version that runs in a minute or two (its networks are trained for seconds only: they stay near chance).
#
# With `MODEL = "connear"` the CoNNear ANF models give the rates; `WEIGHTS = "connear-lab"` is the set this project trained on a CPU and ships (its measured error is in the README), `WEIGHTS = "official"` the authors' set (fetched once with `python -m connear_helpers.cnn.weights download official`); if weights are missing, the notebook says so and uses the reference model.

# %%
# Google Colab only: install the lab first (2-3 minutes; it compiles the C++ core). Elsewhere nothing happens.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "connear-lab @ git+https://github.com/connear-lab/connear-lab"], check=True)

# %% tags=["parameters"]
QUICK = False  # True: reduced sizes for a fast check (the CI runs every notebook so)
MODEL = "reference"      # ANF rates: "reference" (verhulst2018) or "connear" (CoNNear ANF models)
MODE = "full"            # cochlea: "full" = reference TL model, "light" = CoNNear cochlea (needs weights)
WEIGHTS = "connear-lab"  # CoNNear weights for MODEL="connear" or MODE="light": "connear-lab", "official" or a folder
FREQ_HZ = 500.0          # tone frequency (Hz); the CFs stay at 349-1007 Hz
LEVEL_DB_SPL = 60.0      # level at the centre of the head (dB SPL)
EPOCHS_ABSTRACT = 150    # epochs of 64 batches of 64 on the abstract input (the teaching notebook's 150)
EPOCHS_PERIPHERY = 40    # epochs on the two ears
SEED = 0                 # initial weights, spikes and test draws

# %%
from connear_helpers.localisation import experiment, panels, plots

# %% [markdown]
# ## The two ears
# The ears' responses are simulated for a few starting phases of the tone; the periphery is shift-invariant, so the response to any azimuth is these responses read with each ear's delay. Move the slider: the sound at the ears, the spikes of the left and right fibres (by CF) and their period histograms. The test set is simulated separately, each presentation through both ears.

# %%
config = experiment.periphery_input(QUICK, freq_hz=FREQ_HZ, level_db_spl=LEVEL_DB_SPL, model=MODEL, mode=MODE,
                                    weights=WEIGHTS if (MODEL == "connear" or MODE == "light") else None)
bank, test = experiment.periphery_sources(config, quick=QUICK, seed=SEED, progress=True)
if bank.note:
    print(bank.note)
panels.stimulus_panel(bank, azimuth_deg=30.0)

# %% [markdown]
# ## Training: one network, two inputs
# The same network code, training loop and evaluation for both inputs; a progress bar per training, then the loss curves.

# %%
abstract = experiment.run_abstract(quick=QUICK, epochs=None if QUICK else EPOCHS_ABSTRACT, seed=SEED)
periphery = experiment.run_periphery(bank, test, quick=QUICK, epochs=None if QUICK else EPOCHS_PERIPHERY, seed=SEED)
fig, _ = plots.training_curves({"abstract input (IPD)": abstract.result, "two ears (azimuth)": periphery.result})

# %% [markdown]
# ## Test: confusion matrices
# Test samples drawn independently of the training (the ears' test presentations are simulated one by one, with their own azimuths and starting phases). The error is the distance from the true value to the centre of the chosen class.

# %%
fig, _ = plots.confusion_matrices({"abstract input": abstract.evaluation, "two ears (reference model)": periphery.evaluation})

# %% [markdown]
# ## Robustness
# The ears' network in a diffuse noise (independent noises from 16 directions around the head, 0.1-5 kHz), and on tones of other frequencies than the 500 Hz it learned.

# %%
snr, freq = experiment.robustness(periphery, quick=QUICK, seed=SEED, progress=True)
fig, _ = plots.robustness(snr, freq, trained_freq_hz=config.freq_hz)
print("\n".join(experiment.summary([abstract, periphery], snr, freq)))

# %% [markdown]
# ## Explore
# Pick an input and an azimuth (an IPD for the abstract input): fresh spikes go through the trained network; you see its hidden spikes, its output units and the probability it gives each class.

# %%
panels.output_panel({"abstract input": (abstract.network, abstract.source),
                     "two ears": (periphery.network, periphery.source)}, azimuth_deg=30.0)
