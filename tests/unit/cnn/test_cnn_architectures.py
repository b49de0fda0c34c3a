"""The Keras 3 CoNNear graphs reproduce the spec's tables (shared/spec/connear.md §1).

Expected names, classes, shapes and counts are written out here from the spec tables,
independently of the builder's own name tables. Runs offline with random weights.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from connear_helpers.cnn import architectures as M  # noqa: E402

SPEC_PARAMS = {
    "cochlea": 11_689_984,
    "ihc": 1_317_505,
    "anfh": 1_250_177,
    "anfm": 1_250_177,
    "anfl": 1_248_449,
    "dierich2020_ihc": 1_317_505,
    "zilany2014_anfh": 1_250_177,
    "zilany2014_anfm": 1_250_177,
    "zilany2014_anfl": 1_250_177,
    # this project's smaller cochlea (64 filters, kernel 64), counted by hand: encoder
    # 64*1*64 + 3*64*64*64, decoder 64*64*64 + 2*64*128*64, output 64*128*201
    "cochlea_small": 3_747_840,
}
SPEC_ARRAYS = {"cochlea": 8, "cochlea_small": 8, "ihc": 12, "anfh": 83, "anfm": 83, "anfl": 56,
               "dierich2020_ihc": 12, "zilany2014_anfh": 83, "zilany2014_anfm": 83,
               "zilany2014_anfl": 83}

_CACHE = {}


def get(name, n_cf=201, cropped=True):
    key = (name, n_cf, cropped)
    if key not in _CACHE:
        _CACHE[key] = M.build_model(name, n_cf=n_cf, cropped=cropped)
    return _CACHE[key]


def inner_layers(model):
    return [(type(lay).__name__, lay.name) for lay in M.inner_model(model).layers]


def sources(layer):
    """Names of the layers feeding ``layer`` (in input order)."""
    ins = layer.input if isinstance(layer.input, list) else [layer.input]
    return [t._keras_history.operation.name for t in ins]


# ---------------------------------------------------------------------------
# Expected tables, transcribed from spec §1.3-§1.5
# ---------------------------------------------------------------------------

def cochlea_table():
    t = [("InputLayer", "input_1")]
    for i in range(1, 5):
        t += [("Conv1D", f"conv1d_{i}"), ("Activation", f"activation_{i}")]
    t += [("Reshape", "reshape_1"), ("Conv2DTranspose", "conv2d_transpose_1"),
          ("Reshape", "reshape_2"), ("Activation", "activation_5"),
          ("Concatenate", "concatenate_1"), ("Reshape", "reshape_3"),
          ("Conv2DTranspose", "conv2d_transpose_2"), ("Reshape", "reshape_4"),
          ("Activation", "activation_6"), ("Concatenate", "concatenate_2"),
          ("Reshape", "reshape_5"), ("Conv2DTranspose", "conv2d_transpose_3"),
          ("Reshape", "reshape_6"), ("Activation", "activation_7"),
          ("Concatenate", "concatenate_3"), ("Reshape", "reshape_7"),
          ("Conv2DTranspose", "conv2d_transpose_4"), ("Reshape", "g_output"),
          ("Cropping1D", "cropping1d_1")]
    return t


def ihc_table(one_cf=False, dierich=False):
    if one_cf:
        inp, r_in, r_out, c, a, ct, cc, crop = ("input_3", "reshape_5", "reshape_6",
                                                 7, 11, 7, 5, "cropping1d_4")
    else:
        inp, r_in, r_out, c, a, ct, cc, crop = ("input_2", "reshape_1", "reshape_2",
                                                 4, 6, 4, 3, "cropping1d_2")
        if dierich:
            r_in, r_out = "reshape_3", "reshape_4"
    return [("InputLayer", inp), ("Reshape", r_in),
            ("Conv2D", f"conv2d_{c}"), ("Activation", f"activation_{a}"),
            ("Conv2D", f"conv2d_{c + 1}"), ("Activation", f"activation_{a + 1}"),
            ("Conv2D", f"conv2d_{c + 2}"), ("Activation", f"activation_{a + 2}"),
            ("Conv2DTranspose", f"conv2d_transpose_{ct}"), ("Activation", f"activation_{a + 3}"),
            ("Concatenate", f"concatenate_{cc}"),
            ("Conv2DTranspose", f"conv2d_transpose_{ct + 1}"),
            ("Activation", f"activation_{a + 4}"), ("Concatenate", f"concatenate_{cc + 1}"),
            ("Conv2DTranspose", f"conv2d_transpose_{ct + 2}"), ("Reshape", r_out),
            ("Cropping1D", crop)]


def anf_table(one_cf=False, prelu=True):
    dc, da, dcc = (14, 27, 13) if one_cf else (0, 0, 0)
    act_cls, act = ("PReLU", "p_re_lu") if prelu else ("Activation", "activation")
    t = [("InputLayer", "input_2" if one_cf else "input_1"),
         ("Reshape", "reshape_3" if one_cf else "reshape_1")]
    for i in range(1, 15):
        t += [("Conv2D", f"conv2d_{i + dc}"), (act_cls, f"{act}_{i + da}")]
    t += [("Conv2DTranspose", f"conv2d_transpose_{1 + dc}"), (act_cls, f"{act}_{15 + da}")]
    for j in range(1, 14):
        t += [("Concatenate", f"concatenate_{j + dcc}"),
              ("Conv2DTranspose", f"conv2d_transpose_{j + 1 + dc}")]
        if j <= 12:
            t += [(act_cls, f"{act}_{15 + j + da}")]
    t += [("Reshape", "reshape_4" if one_cf else "reshape_2"),
          ("Cropping1D", "cropping1d_3" if one_cf else "cropping1d_1")]
    return t


def expected_weights(name, one_cf=False):
    """Ordered (layer, var, shape) list of spec §1.7 with the shapes of §1.3-§1.5."""
    if name == "cochlea":
        out = [("conv1d_1", "kernel", (64, 1, 128))]
        out += [(f"conv1d_{i}", "kernel", (64, 128, 128)) for i in (2, 3, 4)]
        out += [("conv2d_transpose_1", "kernel", (64, 1, 128, 128)),
                ("conv2d_transpose_2", "kernel", (64, 1, 128, 256)),
                ("conv2d_transpose_3", "kernel", (64, 1, 128, 256)),
                ("conv2d_transpose_4", "kernel", (64, 1, 201, 256))]
        return out
    if name in ("ihc", "dierich2020_ihc"):
        c = 7 if one_cf else 4
        shapes = [(16, 1, 1, 128), (16, 1, 128, 128), (16, 1, 128, 128)]
        out = []
        for i, s in enumerate(shapes):
            out += [(f"conv2d_{c + i}", "kernel", s), (f"conv2d_{c + i}", "bias", (128,))]
        tshapes = [((16, 1, 128, 128), 128), ((16, 1, 128, 256), 128), ((16, 1, 1, 256), 1)]
        for i, (s, b) in enumerate(tshapes):
            out += [(f"conv2d_transpose_{c + i}", "kernel", s),
                    (f"conv2d_transpose_{c + i}", "bias", (b,))]
        return out
    prelu = name != "anfl"
    dc, da = (14, 27) if one_cf else (0, 0)
    out = []
    for i in range(1, 15):
        out += [(f"conv2d_{i + dc}", "kernel", (8, 1, 1 if i == 1 else 64, 64)),
                (f"conv2d_{i + dc}", "bias", (64,))]
        if prelu:
            out += [(f"p_re_lu_{i + da}", "alpha", (1, 1, 64))]
    for j in range(1, 15):
        cin = 64 if j == 1 else 128
        cout = 1 if j == 14 else 64
        out += [(f"conv2d_transpose_{j + dc}", "kernel", (8, 1, cout, cin)),
                (f"conv2d_transpose_{j + dc}", "bias", (cout,))]
        if prelu and j <= 13:
            out += [(f"p_re_lu_{14 + j + da}", "alpha", (1, 1, 64))]
    return out


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("n_cf", [201, 1])
@pytest.mark.parametrize("name", list(SPEC_PARAMS))
def test_parameter_counts_match_spec(name, n_cf):
    model = get(name, n_cf)
    assert model.count_params() == SPEC_PARAMS[name]
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == SPEC_PARAMS[name]
    assert model.non_trainable_weights == []
    assert len(model.weights) == SPEC_ARRAYS[name]
    assert M.MODEL_INFO[name]["params"] == SPEC_PARAMS[name]


@pytest.mark.parametrize("name,n_cf,outer,outer_in,inner,table", [
    ("cochlea", 201, "model_2", "audio_input", "model_1", cochlea_table()),
    ("ihc", 201, "model_3", "bmm_input", "model_2", ihc_table()),
    ("ihc", 1, "model_5", "bmm_input", "model_4", ihc_table(one_cf=True)),
    ("dierich2020_ihc", 201, "model_3", "bmm_input", "model_2", ihc_table(dierich=True)),
    ("dierich2020_ihc", 1, "model_5", "bmm_input", "model_4", ihc_table(one_cf=True)),
    ("anfh", 201, "model_2", "bmm_input", "model_1", anf_table()),
    ("anfh", 1, "model_4", "bmm_input", "model_3", anf_table(one_cf=True)),
    ("anfm", 201, "model_2", "bmm_input", "model_1", anf_table()),
    ("anfl", 201, "model_2", "bmm_input", "model_1", anf_table(prelu=False)),
    ("anfl", 1, "model_4", "bmm_input", "model_3", anf_table(one_cf=True, prelu=False)),
    ("zilany2014_anfl", 201, "model_2", "bmm_input", "model_1", anf_table()),
    ("zilany2014_anfh", 1, "model_4", "bmm_input", "model_3", anf_table(one_cf=True)),
])
def test_layer_names_classes_and_nesting(name, n_cf, outer, outer_in, inner, table):
    model = get(name, n_cf)
    assert model.name == outer
    assert [lay.name for lay in model.layers] == [outer_in, inner]
    assert M.inner_model(model).name == inner
    assert inner_layers(model) == table


@pytest.mark.parametrize("name,n_cf", [("cochlea", 201), ("ihc", 201), ("ihc", 1),
                                       ("anfh", 201), ("anfh", 1), ("anfl", 201),
                                       ("anfl", 1), ("zilany2014_anfm", 201)])
def test_weight_order_and_shapes_match_spec(name, n_cf):
    model = get(name, n_cf)
    base = "anfh" if name.startswith("zilany") else name
    assert M.expected_weight_layout(model) == expected_weights(base, one_cf=n_cf == 1)
    # model.weights (what Keras' own loader fills) has the same order
    assert [tuple(w.shape) for w in model.weights] == [s for _, _, s in
                                                      expected_weights(base, n_cf == 1)]


def test_layer_hyperparameters():
    inner = M.inner_model(get("ihc"))
    conv = inner.get_layer("conv2d_4")
    assert conv.kernel_size == (16, 1) and conv.strides == (2, 1) and conv.padding == "same"
    assert conv.use_bias and conv.get_config()["activation"] == "linear"
    assert inner.get_layer("activation_6").get_config()["activation"] == "tanh"
    assert inner.get_layer("activation_9").get_config()["activation"] == "sigmoid"
    assert inner.get_layer("cropping1d_2").cropping == (256, 256)
    anf = M.inner_model(get("anfh"))
    assert list(anf.get_layer("p_re_lu_7").shared_axes) == [1, 2]
    assert anf.get_layer("cropping1d_1").cropping == (7936, 256)
    assert anf.get_layer("conv2d_transpose_14").filters == 1
    anfl = M.inner_model(get("anfl"))
    assert anfl.get_layer("activation_14").get_config()["activation"] == "tanh"
    assert anfl.get_layer("activation_15").get_config()["activation"] == "sigmoid"
    coch = M.inner_model(get("cochlea"))
    assert not coch.get_layer("conv1d_1").use_bias
    assert coch.get_layer("conv1d_1").kernel_size == (64,)
    assert coch.get_layer("conv2d_transpose_4").filters == 201


def test_skip_connections_are_activation_first_then_preactivation_conv():
    ihc = M.inner_model(get("ihc"))
    assert sources(ihc.get_layer("concatenate_3")) == ["activation_9", "conv2d_5"]
    assert sources(ihc.get_layer("concatenate_4")) == ["activation_10", "conv2d_4"]
    ihc1 = M.inner_model(get("ihc", 1))
    assert sources(ihc1.get_layer("concatenate_5")) == ["activation_14", "conv2d_8"]
    assert sources(ihc1.get_layer("concatenate_6")) == ["activation_15", "conv2d_7"]
    coch = M.inner_model(get("cochlea"))
    assert sources(coch.get_layer("concatenate_1")) == ["activation_5", "conv1d_3"]
    assert sources(coch.get_layer("concatenate_3")) == ["activation_7", "conv1d_1"]
    anf = M.inner_model(get("anfh"))
    for j in range(1, 14):
        assert sources(anf.get_layer(f"concatenate_{j}")) == [f"p_re_lu_{14 + j}",
                                                              f"conv2d_{14 - j}"]
    assert sources(anf.get_layer("conv2d_transpose_1")) == ["p_re_lu_14"]
    anf1 = M.inner_model(get("anfh", 1))
    assert sources(anf1.get_layer("concatenate_14")) == ["p_re_lu_42", "conv2d_27"]
    assert sources(anf1.get_layer("concatenate_26")) == ["p_re_lu_54", "conv2d_15"]
    anfl = M.inner_model(get("anfl"))
    assert sources(anfl.get_layer("concatenate_1")) == ["activation_15", "conv2d_13"]


def test_output_lengths_cropped_and_uncropped():
    rng = np.random.default_rng(0)
    ihc = get("ihc", 1)
    assert ihc.predict_on_batch(rng.normal(size=(1, 2560, 1)).astype("f4")).shape == (1, 2048, 1)
    assert ihc.predict_on_batch(rng.normal(size=(1, 2568, 1)).astype("f4")).shape == (1, 2056, 1)
    with pytest.raises(Exception):  # 2564 is not a multiple of 8: skip concatenation fails
        ihc.predict_on_batch(rng.normal(size=(1, 2564, 1)).astype("f4"))
    ihc_u = get("ihc", 1, cropped=False)
    assert ihc_u.predict_on_batch(np.zeros((2, 1024, 1), "f4")).shape == (2, 1024, 1)
    coch = get("cochlea")
    assert coch.predict_on_batch(np.zeros((1, 1024, 1), "f4")).shape == (1, 512, 201)
    coch_u = get("cochlea", cropped=False)
    assert coch_u.predict_on_batch(np.zeros((1, 1024, 1), "f4")).shape == (1, 1024, 201)
    anf = get("anfh", 1)
    assert anf.predict_on_batch(np.zeros((1, 16384, 1), "f4")).shape == (1, 8192, 1)
    anfl_u = get("anfl", 1, cropped=False)
    assert anfl_u.predict_on_batch(np.zeros((1, 16384, 1), "f4")).shape == (1, 16384, 1)


def test_fixed_length_variants_have_fixed_inputs():
    assert tuple(get("dierich2020_ihc").input.shape) == (None, 2560, 201)
    assert tuple(get("dierich2020_ihc", 1).input.shape) == (None, 2560, 1)
    assert tuple(get("zilany2014_anfh").input.shape) == (None, 16384, 201)
    assert tuple(get("zilany2014_anfl", 1).input.shape) == (None, 16384, 1)
    assert tuple(get("ihc").input.shape) == (None, None, 201)
    d1 = get("dierich2020_ihc", 1)
    assert d1.predict_on_batch(np.zeros((1, 2560, 1), "f4")).shape == (1, 2048, 1)
    with pytest.raises(Exception):
        d1.predict_on_batch(np.zeros((1, 2568, 1), "f4"))


def _randomize(model, seed):
    rng = np.random.default_rng(seed)
    for w in model.weights:  # biases and PReLU alphas start at zero: make them non-trivial
        w.assign(rng.normal(scale=0.1, size=tuple(w.shape)).astype("f4")
                 + np.asarray(w.numpy()))


def test_201cf_channel_equals_1cf_with_shared_weights_ihc():
    m201, m1 = M.build_model("ihc"), M.build_model("ihc", n_cf=1)
    _randomize(m201, 1)
    m1.set_weights(m201.get_weights())
    x = np.random.default_rng(2).normal(size=(1, 520, 201)).astype("f4")
    y201 = m201.predict_on_batch(x)
    y1 = m1.predict_on_batch(np.transpose(x, (2, 1, 0)))  # (201, T, 1)
    # equal up to float32 summation order (oneDNN picks kernels by tensor shape and CPU)
    np.testing.assert_allclose(y201[0], y1[:, :, 0].T, rtol=0, atol=1e-5 * np.abs(y1).max())


def test_201cf_graph_channels_equal_1cf_anf():
    # the 201-CF ANF graph with 201 channels needs GBs of memory at T = 16384;
    # the same graph (201-CF layer names, width-1 kernels) with 3 channels shows it
    mw, m1 = M.build_model("anfh", n_cf=3), M.build_model("anfh", n_cf=1)
    _randomize(mw, 3)
    m1.set_weights(mw.get_weights())
    x = np.random.default_rng(4).normal(size=(1, 16384, 3)).astype("f4")
    yw = mw.predict_on_batch(x)
    y1 = m1.predict_on_batch(np.transpose(x, (2, 1, 0)))
    # equal up to float32 summation order (oneDNN picks kernels by tensor shape)
    np.testing.assert_allclose(yw[0], y1[:, :, 0].T, rtol=0, atol=1e-5 * np.abs(y1).max())


def test_per_channel_model_shares_weights():
    m = M.build_model("ihc")
    view = M.per_channel_model(m, cropped=False)
    assert view.input.shape[-1] == 1
    assert [id(v) for v in view.weights] == [id(v) for v in m.weights]
    assert M.per_channel_model(m, cropped=False) is view
    assert M.model_name_of(view) == "ihc"


def test_receptive_field_of_ihc_matches_model_info():
    import tensorflow as tf

    m = M.per_channel_model(get("ihc", 1), cropped=False)
    x = tf.Variable(np.random.default_rng(5).normal(size=(1, 1024, 1)).astype("f4"))
    with tf.GradientTape() as tape:
        s = m(x)[0, 512, 0]
    nz = np.nonzero(tape.gradient(s, x).numpy()[0, :, 0])[0]
    rf = M.MODEL_INFO["ihc"]["receptive_field"]
    assert 512 - nz.min() <= rf and nz.max() - 512 <= rf
    assert 512 - nz.min() >= rf - 1  # the bound is tight
    assert rf < M.MODEL_INFO["ihc"]["context"][0]


def test_model_info_matches_spec_context_and_multiples():
    info = M.MODEL_INFO
    assert info["cochlea"]["context"] == (256, 256) and info["cochlea"]["multiple"] == 16
    assert info["ihc"]["context"] == (256, 256) and info["ihc"]["multiple"] == 8
    for n in ("anfh", "anfm", "anfl"):
        assert info[n]["context"] == (7936, 256) and info[n]["multiple"] == 16384
    assert info["dierich2020_ihc"]["fixed_length"] == 2560
    assert info["zilany2014_anfl"]["fixed_length"] == 16384
    assert all(v["fs"] == 20000 for v in info.values())
    assert (info["ihc"]["input_scale"], info["ihc"]["output_scale"]) == (1e6, 0.1)
    assert (info["anfl"]["input_scale"], info["anfl"]["output_scale"]) == (10.0, 100.0)
    assert info["cochlea"]["output_unit"] == "m/s" and info["anfh"]["output_unit"] == "spikes/s"
    # the paper's graphs plus the lab's CPU-sized architectures, nothing else
    assert set(M.MODEL_NAMES) == set(SPEC_PARAMS) | set(M.LAB_ARCHITECTURES)
    assert not set(SPEC_PARAMS) & set(M.LAB_ARCHITECTURES)


def test_unknown_name_and_bad_n_cf():
    with pytest.raises(ValueError, match="anfh.*anfl"):
        M.build_model("anfx")
    with pytest.raises(ValueError, match="n_cf"):
        M.build_model("ihc", n_cf=0)
    with pytest.raises(ValueError, match="build_model"):
        M.model_name_of(keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]))


def test_no_lambda_layers_anywhere():
    for name in ("cochlea", "ihc", "anfh", "anfl"):
        for lay in M.inner_model(get(name)).layers:
            assert type(lay).__name__ in {"InputLayer", "Conv1D", "Conv2D", "Conv2DTranspose",
                                          "Activation", "PReLU", "Concatenate", "Reshape",
                                          "Cropping1D"}


def test_small_cochlea_is_the_official_graph_with_half_the_filters():
    big, small = get("cochlea"), get("cochlea_small")
    assert inner_layers(big) == inner_layers(small)          # same layers, same names
    shapes = [tuple(w.shape) for w in small.weights]
    assert shapes[0] == (64, 1, 64) and shapes[-1] == (64, 1, 201, 128)
    x = np.random.default_rng(0).standard_normal((1, 1024, 1)).astype("float32")
    assert small(x).shape == big(x).shape == (1, 1024 - 512, 201)
    assert M.MODEL_INFO["cochlea_small"]["official_file"] is None
