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
# # Which stage explains a response? Stage-wise regression and RSA across the periphery
#
# Tuckute et al. (2023, PLoS Biol) compared the stages of audio models with fMRI voxels in two ways: **regression** (cross-validated ridge from a stage's units to each voxel; the explained variance on held-out sounds, divided by the voxel's split-half reliability) and **representational similarity analysis** (RSA: the rank correlation between the sound-by-sound dissimilarity matrices of a stage and of the voxels). Then they asked which stage corresponds best to which brain region. Here the hierarchy is the auditory periphery, and every stage is known: BM velocity, IHC potential, the three ANF types, cochlear nucleus and inferior colliculus of the reference model (and the layers of the CoNNear networks when their weights are available). A labelled sound set (speech, harmonic complexes, tones, noises, SAM tones, clicks) goes through the model, each stage's response to each sound is pooled over time, and then:
#
# 1. **Synthetic regions with a known answer**: "voxels" are random read-outs of one stage plus noise of a chosen split-half reliability. Do regression and RSA pick that stage?
# 2. **Stage by stage**: each stage predicted from every other, and the RSA correlation of every pair.
# 3. **RDMs** of every stage, with the sound categories marked.
# 4. **Your own data**: responses in an NPZ/HDF5 file (the format is shown below), scored region by region.
#
# **What to look for:** with the defaults, each synthetic region's curves peak at the stage it was made from (the star), for both methods; neighbouring stages (ANF types, CN, IC) predict each other well, while BM velocity and IHC potential stand apart. Then change the parameters: with `POOLING = "time-mean"` the CN mean rate is nearly a linear function of the ANF mean rates, and regression attributes the CN region to the HSR fibres; with `RSA_METRIC = "correlation"` the RDMs ignore the overall response level, and RSA gives most ANF and brainstem regions to the LSR fibres.
#
# **Run time:** the reference model costs about 20 s of CPU per second of sound. The full sound set (50 sounds of 0.2 s, 24 CFs) took 4 minutes of CPU on one core the first time (half that on two cores); the pooled responses are then cached on disk (`$CONNEAR_LAB_CACHE/sims/stages` or `~/.cache/connear-lab/sims/stages`) and every analysis takes seconds. Set `QUICK = True` below for a reduced version (14 sounds of 30 ms, 10 CFs) that needs about 30 s of CPU.
#
# CoNNear weights: `WEIGHTS = "connear-lab"` is the set this project trained on a CPU and ships in `connear_weights/` (below the authors' fidelity; the figures name it and its measured error, the README has the table); the authors' set is fetched once with `python -m connear_helpers.cnn.weights download official` and used with `WEIGHTS = "official"`. If weights are missing, the CoNNear layers are left out, a note says so, and the reference model's stages are shown alone.

# %%
# Google Colab only: install the lab first (2-3 minutes; it compiles the C++ core). Elsewhere nothing happens.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "connear-lab @ git+https://github.com/connear-lab/connear-lab"], check=True)

# %% tags=["parameters"]
QUICK = False  # True: reduced sizes for a fast check (the CI runs every notebook so)
MODE = "full"              # cochlea: "full" = reference TL model, "light" = CoNNear cochlea (needs weights)
WEIGHTS = "connear-lab"    # CoNNear weights for the CNN layers: "connear-lab", "official" (downloaded) or a file path
CNN_STAGES = ("ihc_cnn.*", "anfh_cnn.*")  # CoNNear layers to add when the weights load ("<net>_cnn.*" = every layer)
N_CF = 24                  # CFs per stage, log-spaced 125 Hz - 8 kHz (10 in quick mode)
POOLING = "time-rms"       # over time: "time-mean", "time-rms" or "time-bins"
RSA_METRIC = "euclidean"   # RDM dissimilarity: "euclidean" or "correlation" (1 - Pearson r)
RELIABILITY = 0.8          # split-half reliability of the synthetic targets (0-1]
WAV_FOLDER = None          # a folder of your own WAV files to add to the sound set (sub-folders = categories)
SEED = 0                   # synthetic targets, folds, permutations

# %%
import tempfile

from connear_helpers import stages

# %% [markdown]
# ## The sound set
# Every sound is ramped, calibrated (70 dB SPL, tones at several levels) and followed by a short silence, so that every stage is pooled over the same span.

# %%
spec = stages.SoundSetSpec.quick() if QUICK else stages.SoundSetSpec()
sounds = stages.make_sound_set(spec, fs=100_000)
if WAV_FOLDER:
    sounds = sounds + stages.wav_sound_set(WAV_FOLDER, fs=100_000, duration_s=spec.duration_s, pad_s=spec.pad_s)
print(sounds)

# %% [markdown]
# ## Stage activations
# One (sounds × units) matrix per stage: a unit is a CF (and, for `time-bins`, a time bin; for a CoNNear layer, a filter at a CF). They are cached on disk, so running this cell again, or changing the pooling, is instant.

# %%
acts = stages.activations(sounds, stages=stages.REFERENCE_STAGES + tuple(CNN_STAGES), mode=MODE, pooling=POOLING,
                          cf=10 if QUICK else N_CF, weights=WEIGHTS)
print(acts)
if acts.note:
    print(acts.note)

# %% [markdown]
# ## 1. Synthetic regions: does each method find the stage they were made from?
# Each region has 40 targets (20 in quick mode), each a random linear read-out of one stage's units, measured 4 times with noise so that the split-half reliability is `RELIABILITY`. Left: the median noise-corrected explained variance (R² on held-out sounds divided by the Spearman-Brown reliability); right: the RSA correlation.

# %%
recovery = stages.synthetic_recovery(acts, reliability=RELIABILITY, metric=RSA_METRIC, n_permutations=0, seed=SEED,
                                     n_targets=20 if QUICK else 40)
stages.plot_recovery(recovery, note=acts.note)
print(recovery)

# %% [markdown]
# ## 2. Every stage predicted from every other
# Rows are the predictor stage, columns the predicted one (each of its responsive units is a target; no noise, so no correction). The matrix is not symmetric: a stage that keeps less information is predicted well from one that keeps more, but not the other way round. The diagonal is 1 only while a stage has fewer units than training sounds: with more units (e.g. `POOLING = "time-bins"`), ridge regression cannot reach the part of a held-out sound's pattern that the training sounds do not span, even for a stage predicting itself.

# %%
matrix = stages.stage_matrix(acts, metric=RSA_METRIC, seed=SEED)
stages.plot_stage_matrix(matrix, note=acts.note);

# %% [markdown]
# ## 3. The RDMs of every stage
# Sounds are grouped by category (coloured bars); dissimilarities are shown as percentiles, since RSA compares ranks.

# %%
stages.plot_rdms(acts, stages=stages.REFERENCE_STAGES, metric=RSA_METRIC);

# %% [markdown]
# ## 4. Your own data
# Put your responses in an NPZ (or HDF5) file: `responses` of shape (n_sounds, n_targets) or (n_sounds, n_targets, n_repeats), rows in the order of `sounds`, and optionally `sound_names`, `target_names` and `regions` (one label per target). Here we write such a file with two made-up regions, one read out from the LSR fibres and one from the inferior colliculus, and read it back as you would read yours. `score_stages` then scores each region against every stage (with the RSA permutation test).

# %%
made_up = stages.join_targets(
    [stages.synthetic_targets(acts["anfl"], n_targets=20, reliability=RELIABILITY, region="region A", seed=SEED),
     stages.synthetic_targets(acts["ic"], n_targets=20, reliability=RELIABILITY, region="region B", seed=SEED + 1)],
    sound_names=sounds.names)
path = stages.save_targets(tempfile.mkdtemp() + "/responses.npz", made_up)

targets = stages.load_targets(path, sounds=sounds)   # your file here
print(targets)
scores = {r: stages.score_stages(acts, targets.region(r), stages.REFERENCE_STAGES, metric=RSA_METRIC, seed=SEED,
                                 n_permutations=200 if QUICK else 1000)
          for r in targets.region_names()}
stages.plot_stage_scores(scores, note=acts.note)
for s in scores.values():
    print(s)

# %% [markdown]
# ## Explore
# Choose which stages the synthetic regions come from, their reliability, the pooling and the RSA metric. Low reliability blurs the choice; `time-mean` pooling merges the brainstem stages with the ANF.

# %%
stages.correspondence_panel(sounds, stages=acts.stages, cf=10 if QUICK else N_CF, mode=MODE, weights=WEIGHTS,
                            quick=QUICK)
