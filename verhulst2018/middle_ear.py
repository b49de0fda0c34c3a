"""Middle-ear band-pass (spec §3) and the emission output filter (spec §4.10).

Both are the same first-order Butterworth band-pass, 600-4000 Hz (two poles, two zeros),
designed by SciPy's ``butter`` so the coefficients match the original model to the last bit.
The middle ear uses the 18-dB "Puria" forward-pressure gain; the emission uses q0f = M_po * w.
"""
import numpy as np
from scipy.signal import butter, lfilter

LOW_CUTOFF_HZ = 600.0
HIGH_CUTOFF_HZ = 4000.0
MIDDLE_EAR_GAIN_DB = 18.0
MIDDLE_EAR_GAIN = 10.0 ** (MIDDLE_EAR_GAIN_DB / 20.0)  # 7.943282347242816
EMISSION_GAIN = 2.745710392092725  # q0f = M_po * w (spec §4.3)


def _check_fs(fs):
    fs = float(fs)
    if not np.isfinite(fs) or fs <= 2.0 * HIGH_CUTOFF_HZ:
        raise ValueError(
            f"fs must be a finite sample rate above {2 * HIGH_CUTOFF_HZ:g} Hz (the band-pass "
            f"reaches {HIGH_CUTOFF_HZ:g} Hz), got {fs!r}; the model is designed for fs = 100000."
        )
    return fs


def bandpass_coefficients(fs):
    """Unit-gain (b, a) of the 600-4000 Hz 1st-order Butterworth band-pass at fs [Hz]; each (3,)."""
    fs = _check_fs(fs)
    # Normalise as the original does (f / (fs/2)); 2*f/fs can differ in the last bit.
    b, a = butter(1, [LOW_CUTOFF_HZ / (fs / 2.0), HIGH_CUTOFF_HZ / (fs / 2.0)], "bandpass")
    return np.asarray(b, dtype=np.float64), np.asarray(a, dtype=np.float64)


def middle_ear_coefficients(fs):
    """(b, a) of the middle-ear filter at fs [Hz]: band-pass with b scaled by 10**(18/20); each (3,)."""
    b, a = bandpass_coefficients(fs)
    return MIDDLE_EAR_GAIN * b, a


def _filter_time_axis(b, a, signal, name):
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (T,) or time-major 2-D (T, C), got shape {x.shape}; "
            "reshape it so that time is axis 0."
        )
    return lfilter(b, a, x, axis=0)


def middle_ear_filter(signal, fs):
    """Filter pressure (T,) or (T, C) [Pa] at fs [Hz] along time (axis 0); same shape, float64 [Pa]."""
    b, a = middle_ear_coefficients(fs)
    return _filter_time_axis(b, a, signal, "signal")


def emission_filter(q0_raw, fs):
    """Filter the raw stapes-node solution q_0 (T,) or (T, C) along axis 0 into the emission output."""
    b, a = bandpass_coefficients(fs)
    return _filter_time_axis(EMISSION_GAIN * b, a, q0_raw, "q0_raw")
