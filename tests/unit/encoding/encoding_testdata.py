"""Shared data of the encoding tests: smoothed Gaussian 'spectrograms' and synthetic LN neurons.

Gaussian inputs make the answer of a linear fit known: for an LN neuron driven by Gaussian
inputs, the least-squares linear filter is proportional to the true STRF (Bussgang), so a fit
must recover the STRF up to estimation noise.
"""
import numpy as np
from scipy.ndimage import gaussian_filter

F = 16
N_BINS = 200
DT = 0.005
FREQS = np.geomspace(250.0, 8000.0, F)


def gaussian_inputs(n_stimuli, seed):
    """(n_stimuli, N_BINS, F) Gaussian noise smoothed over one bin in time and frequency."""
    x = np.random.default_rng(seed).standard_normal((n_stimuli, N_BINS, F))
    return gaussian_filter(x, (0, 1.0, 1.0))


def neurons(n_neurons=3, seed=2):
    """Synthetic LN neurons calibrated on 120 stimuli (50-ms STRFs: T = 10 bins)."""
    from connear_helpers.encoding import synthetic_neurons

    return synthetic_neurons(gaussian_inputs(120, 1), FREQS, DT, n_neurons=n_neurons, context_s=0.05, seed=seed)
