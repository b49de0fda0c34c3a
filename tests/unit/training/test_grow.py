"""Growing a trained CNN into a wider or deeper member of its family keeps what it computes."""
import dataclasses

import numpy as np
import pytest

pytest.importorskip("keras")

from connear_helpers.cnn import architectures as M  # noqa: E402
from connear_helpers.training import fit as F  # noqa: E402
from connear_helpers.training import grow as WD  # noqa: E402


def _randomise(model, seed):
    """Weights of a trained-looking model: every array random (biases and PReLU slopes too, so
    that a mistake in copying them shows)."""
    rng = np.random.default_rng(seed)
    for lay in M.inner_model(model).layers:
        if lay.weights:
            lay.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in lay.get_weights()])


@pytest.mark.parametrize("narrow, wide, length", [("anf_l8f16", "anf_l8f32", 2048), ("ihc_f16", "ihc_f32", 1024),
                                                  ("cochlea_small", "cochlea", 1024)])
def test_the_widened_model_computes_the_same_function(narrow, wide, length):
    kw = {"cropped": False} if M.model_info(narrow)["family"] == "cochlea" else {"n_cf": 1, "cropped": False}
    small, big = M.build_model(narrow, **kw), M.build_model(wide, **kw)
    _randomise(small, 0)
    _randomise(big, 1)
    x = np.random.default_rng(2).normal(0, 0.5, (2, length, 1)).astype("float32")
    y_small = np.asarray(small(x))
    assert np.max(np.abs(np.asarray(big(x)) - y_small)) > 0.1 * np.std(y_small)  # differs before
    WD.widen_model(small, big, noise=0.0)
    y_big = np.asarray(big(x))
    # same arithmetic up to the order of the sums over the copied channels: float32 rounding
    np.testing.assert_allclose(y_big, y_small, rtol=0, atol=1e-4 * (1 + np.max(np.abs(y_small))))
    # the copies of a filter are equal (without noise) and part with noise, by about that much
    conv, conv_small = ([lay for lay in M.inner_model(m).layers if "Conv" in type(lay).__name__][1] for m in (big, small))
    k = conv.get_weights()[0]
    f_small = conv_small.get_weights()[0].shape[-1]
    np.testing.assert_array_equal(k[..., :f_small], k[..., f_small:2 * f_small])
    WD.widen_model(small, big, noise=1e-2, seed=3)
    k = conv.get_weights()[0]
    rel = np.std(k[..., :f_small] - k[..., f_small:2 * f_small]) / np.std(k)
    assert 0.005 < rel < 0.05


def test_channel_map_and_the_split_of_the_next_layers_weights():
    assert WD.channel_map(3, 7).tolist() == [0, 1, 2, 0, 1, 2, 0]
    # old input channel 0 has three copies, 1 and 2 have two: the weights on them sum to the old one
    kernel = np.arange(1.0, 7.0).reshape(1, 3, 2)  # (k, in, out)
    split = WD._split(kernel, 1, WD.channel_map(3, 7))
    np.testing.assert_allclose(split[0, [0, 3, 6]].sum(axis=0), kernel[0, 0])
    np.testing.assert_allclose(split[0, [1, 4]].sum(axis=0), kernel[0, 1])
    with pytest.raises(ValueError, match="at least as many"):
        WD.channel_map(4, 2)


def test_models_that_cannot_be_widened_into_each_other_are_errors():
    with pytest.raises(ValueError, match="grow a anf model .* into a ihc model"):
        WD.widen_model(M.build_model("anf_l8f16", n_cf=1), M.build_model("ihc_f32", n_cf=1))
    with pytest.raises(ValueError, match="differ in depth"):
        WD.widen_model(M.build_model("anf_l8f16", n_cf=1), M.build_model("anf_l10f16", n_cf=1))
    with pytest.raises(ValueError, match="more strided levels"):
        WD.deepen_model(M.build_model("anf_l10f16", n_cf=1), M.build_model("anf_l8f16", n_cf=1))
    with pytest.raises(ValueError, match="keeps the filters"):
        WD.grow_model(M.build_model("anf_l8f32", n_cf=1), M.build_model("anf_l10f16", n_cf=1))
    with pytest.raises(ValueError, match="at least as many"):
        WD.widen_model(M.build_model("anf_l8f32", n_cf=1), M.build_model("anf_l8f16", n_cf=1))
    with pytest.raises(ValueError, match="keeps the kernel sizes"):
        WD.widen_model(M.build_model("cochlea_f64k32"), M.build_model("cochlea"))


def test_a_run_can_start_from_a_narrower_model_of_its_family(tiny_bank_path, tmp_path):
    """fit --init-architecture: the run's first validation loss is the narrow model's (same
    function), the run records what it was widened from, and a resumed run keeps it."""
    from connear_helpers.training import weight_set as WS

    base = F.FitConfig(architecture="ihc_f16", window=256, batch_size=4, val_every=1, val_batches=2, pool=4,
                       jit=False, lr=1e-9)
    narrow = F.fit("ihc", tiny_bank_path, tmp_path / "narrow", base, minutes=5, max_steps=1, progress=False)
    wide_cfg = dataclasses.replace(base, architecture="ihc_f32", init_weights=str(tmp_path / "narrow" / "ihc.weights.h5"),
                                   init_architecture="ihc_f16", widen_noise=0.0)
    wide = F.fit("ihc", tiny_bank_path, tmp_path / "wide", wide_cfg, minutes=5, max_steps=1, progress=False)
    # one step of a 1e-9 learning rate on the same function and the same validation batches
    assert wide["history"][0][3] == pytest.approx(narrow["history"][0][3], rel=1e-3)
    assert wide["architecture"] == "ihc_f32" and wide["init_architecture"] == "ihc_f16"
    entry = WS._model_entry("ihc", tmp_path / "wide")
    assert entry["architecture"] == "ihc_f32" and entry["training"]["init_grown_from"] == "ihc_f16"
    assert "init_grown_from" not in WS._model_entry("ihc", tmp_path / "narrow")["training"]
    again = F.fit("ihc", tiny_bank_path, tmp_path / "wide", base, minutes=5, max_steps=2, progress=False)
    assert again["config"]["init_architecture"] == "ihc_f16" and again["architecture"] == "ihc_f32"
    with pytest.raises(ValueError, match="give the weight file too"):
        F.fit("ihc", tiny_bank_path, tmp_path / "c", dataclasses.replace(base, init_architecture="ihc_f16"),
              minutes=0.01)


def test_the_deepened_model_keeps_the_outer_levels_and_starts_close_to_the_shallow_one():
    """anf_l8f16 -> anf_l10f16: exact when the bottleneck's PReLU passes its input unchanged (the
    skip connection then carries what the shallow decoder read), and every outer layer is a copy."""
    small, big = M.build_model("anf_l8f16", n_cf=1, cropped=False), M.build_model("anf_l10f16", n_cf=1, cropped=False)
    _randomise(small, 0)
    _randomise(big, 1)
    layers = [lay for lay in M.inner_model(small).layers if lay.weights]
    bottleneck_prelu = layers[15]  # conv0, prelu0, ..., conv7, prelu7
    assert type(bottleneck_prelu).__name__ == "PReLU"
    bottleneck_prelu.set_weights([np.ones_like(w) for w in bottleneck_prelu.get_weights()])
    x = np.random.default_rng(2).normal(0, 0.5, (2, 4096, 1)).astype("float32")
    y_small = np.asarray(small(x))
    WD.grow_model(small, big)
    np.testing.assert_allclose(np.asarray(big(x)), y_small, rtol=0, atol=1e-4 * (1 + np.max(np.abs(y_small))))
    big_layers = [lay for lay in M.inner_model(big).layers if lay.weights]
    for a, b in ((layers[0], big_layers[0]), (layers[-1], big_layers[-1]), (layers[-3], big_layers[-3])):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_array_equal(wa, wb)
    # with a real bottleneck PReLU the start is close, not exact
    bottleneck_prelu.set_weights([np.full_like(w, 0.2) for w in bottleneck_prelu.get_weights()])
    y_small = np.asarray(small(x))
    WD.grow_model(small, big)
    err = np.max(np.abs(np.asarray(big(x)) - y_small))
    assert 1e-4 * (1 + np.max(np.abs(y_small))) < err
