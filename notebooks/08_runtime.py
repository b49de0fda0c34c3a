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
# # Execution time: reference model versus CoNNear (paper Table 2)
#
# Every stage of both pipelines is timed on this machine: the reference TL cochlea, IHC and the three ANF models (verhulst2018, CPU), and the CoNNear cochlea, IHC and ANF H/M/L CNNs on the CPU and, when TensorFlow sees one, on a GPU; for 201 channels and for one channel (CF 1 kHz). The signal is the first 0.82 s of the speech sample (one ANF window), as in the paper's "~820 ms of audio". Times are mean wall-clock times of whole stage calls after a warm-up (spec §4.11). Without trained weights the CNNs are timed with untrained weights of the same architecture: the time does not depend on the values.
#
# **What to look for:** the TL cochlea costs the same for 1 and 201 channels (it always solves 1000 sections); the CNNs scale with the number of channels; on a CPU the 201-channel ANF CNNs are not faster than the compiled reference synapse (the paper found no CPU gain for them either), while single-channel and GPU runs are where CoNNear gains (the paper: ~70x on a CPU and ~280x on a GPU for one channel).
#
# **Run time:** about 2-5 minutes on a laptop CPU (the TL cochlea twice, every 201-channel CNN REPEATS times). Set `QUICK = True` below for a reduced version that runs in a minute or two.

# %%
# Google Colab only: install the lab first (2-3 minutes; it compiles the C++ core). Elsewhere nothing happens.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "connear-lab @ git+https://github.com/connear-lab/connear-lab"], check=True)

# %% tags=["parameters"]
QUICK = False  # True: reduced sizes for a fast check (the CI runs every notebook so)
WEIGHTS = "connear-lab"  # CoNNear weights; missing weights -> untrained models (same speed)
DURATION_S = 0.8192      # seconds of speech to process
N_CHANNELS = (201, 1)    # channel counts
REPEATS = 1              # timed runs per CNN stage, averaged (more = steadier; the TL cochlea runs once)
DEVICES = "auto"         # "auto" = the CPU and, if TensorFlow sees one, a GPU

# %%
from connear_helpers.paper import runtime

# %%
fig, table = runtime.table_2(duration_s=DURATION_S, n_channels=N_CHANNELS, repeats=REPEATS,
                             devices=DEVICES, weights=WEIGHTS, quick=QUICK)

# %% [markdown]
# `table` is a dict of columns (stage, implementation, device, n_channels, time_s, ...); `runtime.format_table(table)` prints it again, `runtime.machine_info()` says what it ran on.
