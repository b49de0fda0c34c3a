"""The DC block of the cochlea output (architecture cochlea_f64k32_hp10).

A first-order 10-Hz high-pass that the SI wrappers apply to the BM velocity of a cochlea whose
MODEL_INFO has a ``highpass_hz``: it must remove a constant offset, pass the CFs' tones nearly
unchanged, agree between the NumPy and the differentiable path, and leave the network and its
weight file the same as cochlea_f64k32's. Random weights throughout.
"""
import hashlib
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from connear_helpers.cnn import architectures as M  # noqa: E402
from connear_helpers.cnn import inference as I  # noqa: E402
from connear_helpers.cnn import weights as W  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

FS = 20000
HP = "cochlea_f64k32_hp10"


def test_the_variant_is_the_same_network_with_a_10_hz_high_pass():
    plain, hp = M.MODEL_INFO["cochlea_f64k32"], M.MODEL_INFO[HP]
    assert hp["highpass_hz"] == 10.0 and plain["highpass_hz"] is None
    assert {k: v for k, v in hp.items() if k != "highpass_hz"} == {
        k: v for k, v in plain.items() if k != "highpass_hz"}
    assert all(M.MODEL_INFO[n]["highpass_hz"] is None for n in M.MODEL_NAMES if n != HP)


def test_a_constant_offset_decays_with_the_filters_time_constant():
    offset = 5e-8  # m/s, the size of the apical offsets the filter is for
    y = I.dc_block(np.full((FS, 3), offset), 10.0)
    tau = FS / (2 * np.pi * 10.0)  # samples (15.9 ms)
    n = np.arange(FS)
    # first-order high-pass from rest: a step c gives c * b0 * p**n, b0 = (1 + p) / 2
    p = (1 - np.tan(np.pi * 10 / FS)) / (1 + np.tan(np.pi * 10 / FS))
    np.testing.assert_allclose(y[:, 0], offset * (1 + p) / 2 * p ** n, rtol=1e-5, atol=1e-20)
    assert abs(p - np.exp(-1 / tau)) < 1e-6
    assert np.max(np.abs(y[FS // 2:])) < 1e-12 * offset  # gone after 0.5 s


@pytest.mark.parametrize("f", [113.0, 1000.0, 8000.0])
def test_a_tone_at_a_cf_passes_with_the_analog_gain(f):
    t = np.arange(FS) / FS
    x = 1e-6 * np.sin(2 * np.pi * f * t)
    y = I.dc_block(x[:, None], 10.0)[:, 0]
    late = slice(FS // 2, None)  # the start transient has decayed
    gain = np.sqrt(np.mean(y[late] ** 2) / np.mean(x[late] ** 2))
    assert abs(gain - f / np.hypot(f, 10.0)) < 2e-4  # 0.9961 at the lowest CF, 113 Hz
    assert gain > 0.996
    # phase lead atan(10 / f): 5.1 degrees at 113 Hz (README)
    lead = np.arctan2(np.sum(y[late] * np.cos(2 * np.pi * f * t[late])),
                      np.sum(y[late] * np.sin(2 * np.pi * f * t[late])))
    assert abs(np.degrees(lead) - np.degrees(np.arctan(10.0 / f))) < 0.05


def test_the_tensor_path_agrees_and_its_gradient_is_the_step_response():
    rng = np.random.default_rng(3)
    x = rng.normal(scale=1e-7, size=(2, 3000, 4)) + 4e-8
    want = I.dc_block(x, 10.0)
    xt = tf.Variable(x.astype("f4"))
    with tf.GradientTape() as tape:
        got = I.dc_block_tensor(xt, 10.0)
        total = tf.reduce_sum(got)
    assert got.shape == x.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-5 * np.abs(want).max())
    # d sum_n y[n] / d x[k] = step response at T - 1 - k (linear, time-invariant, from rest)
    step = I.dc_block(np.ones((3000, 1)), 10.0)[:, 0]
    g = tape.gradient(total, xt).numpy()
    np.testing.assert_allclose(g[1, :, 2], step[::-1], rtol=0, atol=1e-5)


def test_the_wrappers_apply_it_to_the_variant_only():
    rng = np.random.default_rng(4)
    plain = M.build_model("cochlea_f64k32", cropped=False)
    for w in plain.weights:
        w.assign(rng.normal(scale=0.05, size=tuple(w.shape)).astype("f4"))
    hp = M.build_model(HP, cropped=False)
    hp.set_weights(plain.get_weights())
    p = 0.02 * np.sin(2 * np.pi * 1000 * np.arange(4096) / FS)
    raw = I.cochlea_vbm(p, plain)
    got = I.cochlea_vbm(p, hp)
    np.testing.assert_allclose(got, I.dc_block(raw, 10.0), rtol=0, atol=1e-6 * np.abs(raw).max())
    assert not np.allclose(got, raw, rtol=0, atol=1e-3 * np.abs(raw).max())
    tensor = I.cochlea_vbm_tensor(tf.constant(p.astype("f4")), hp).numpy()
    np.testing.assert_allclose(tensor, got, rtol=0, atol=1e-5 * np.abs(got).max())


def test_a_set_that_names_the_variant_loads_the_plain_networks_file(tmp_path, monkeypatch):
    src = M.build_model("cochlea_f64k32")
    rng = np.random.default_rng(5)
    for w in src.weights:
        w.assign(rng.normal(scale=0.05, size=tuple(w.shape)).astype("f4"))
    src.save_weights(str(tmp_path / "cochlea.weights.h5"))
    digest = hashlib.sha256((tmp_path / "cochlea.weights.h5").read_bytes()).hexdigest()
    entry = {"file": "cochlea.weights.h5", "sha256": digest, "architecture": HP}
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {"cochlea": entry}}))
    monkeypatch.setenv("CONNEAR_LAB_WEIGHTS_DIR", str(tmp_path))
    model = W.load_model("cochlea", "connear-lab")
    assert M.model_name_of(model) == HP
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(src.weights, model.weights))
