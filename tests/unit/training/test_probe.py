"""The sinusoid probe of an IHC model: the reference side is the IHC's physics, the error is CNN - reference."""
import numpy as np
import pytest

from connear_helpers.training import probe as P


def test_the_probe_reports_the_reference_and_the_models_error():
    amps = (1e-7, 1e-6, 1e-5, 1e-4)
    ref, err = P.ihc_mean_potential_table(lambda v: np.full(v.shape, -0.055), freqs_hz=(500.0, 2000.0),
                                          amplitudes=amps)
    assert ref.shape == err.shape == (4, 2)
    np.testing.assert_allclose(ref + err, -0.055, rtol=0, atol=1e-12)
    # the reference: near rest (-57 to -58 mV) at 1e-7 m/s; at 2 kHz it depolarises with amplitude
    # and saturates (mean of the rectified potential; measured -50.1 mV at 1e-5 m/s)
    assert np.all((-0.059 < ref[0]) & (ref[0] < -0.057))
    assert np.all(np.diff(ref[:, 1]) > -1e-6) and ref[2, 1] - ref[0, 1] > 0.005
    with pytest.raises(ValueError, match="shape"):
        P.ihc_mean_potential_table(lambda v: v[:10], freqs_hz=(500.0,), amplitudes=(1e-6,))
