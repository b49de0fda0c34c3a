"""Weight files: Keras 2 layout (spec §1.7) and Keras 3 format, errors, weight sets, download.

All files are generated here from random weights; the downloader is tested against a
small HTTP server on 127.0.0.1 started by the test. No network access, no official weights.
"""
import hashlib
import http.server
import json
import os
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")
pytest.importorskip("keras")

from connear_helpers.cnn import architectures as M  # noqa: E402
from connear_helpers.cnn import weights as W  # noqa: E402

# Keras' own save_weights triggers a NumPy 2 deprecation warning inside Keras
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def randomized(name, n_cf=1, seed=0, cropped=True):
    """A model whose every array (biases and PReLU alphas included) is random."""
    model = M.build_model(name, n_cf=n_cf, cropped=cropped)
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.normal(scale=0.05, size=tuple(w.shape)).astype("f4"))
    return model


def same_weights(a, b):
    return all(np.array_equal(x.numpy(), y.numpy()) for x, y in zip(a.weights, b.weights))


@pytest.fixture(scope="module")
def ihc_pair(tmp_path_factory):
    """A random 201-CF IHC model and its weights in the Keras 2 layout."""
    model = randomized("ihc", n_cf=201, seed=1)
    path = tmp_path_factory.mktemp("w") / "ihc.h5"
    W.save_weights_keras2_layout(model, path)
    return model, path


# ---------------------------------------------------------------------------
# Keras 2 layout
# ---------------------------------------------------------------------------

def test_keras2_layout_file_structure(ihc_pair):
    _, path = ihc_pair
    with h5py.File(path, "r") as f:
        assert [n.decode() for n in f.attrs["layer_names"]] == ["bmm_input", "model_2"]
        version = f.attrs["keras_version"]
        assert (version.decode() if isinstance(version, bytes) else version) == "2.3.1"
        assert list(f["bmm_input"].attrs["weight_names"]) == []
        names = [n.decode() for n in f["model_2"].attrs["weight_names"]]
        assert names[:3] == ["conv2d_4/kernel:0", "conv2d_4/bias:0", "conv2d_5/kernel:0"]
        assert names[-1] == "conv2d_transpose_6/bias:0" and len(names) == 12
        assert f["model_2/conv2d_4/kernel:0"].shape == (16, 1, 1, 128)


def test_keras2_round_trip_outputs_identical_and_across_variants(ihc_pair):
    model, path = ihc_pair
    x = np.random.default_rng(2).normal(size=(1, 1024, 5)).astype("f4")
    # same variant (201-CF names), narrower graph reading the file by order
    for n_cf in (5, 1):
        fresh = M.build_model("ihc", n_cf=n_cf)
        W.load_weights(fresh, path)
        assert same_weights(model, fresh)
    m5 = W.load_model("ihc", weights=str(path), n_cf=5)
    ref = M.build_model("ihc", n_cf=5)
    ref.set_weights(model.get_weights())
    np.testing.assert_array_equal(m5.predict_on_batch(x), ref.predict_on_batch(x))


def test_keras_own_legacy_loader_reads_our_keras2_file(ihc_pair):
    model, path = ihc_pair
    fresh = M.build_model("ihc", n_cf=1)  # different layer names: Keras maps by order too
    fresh.load_weights(str(path))
    assert same_weights(model, fresh)


@pytest.mark.parametrize("name", ["cochlea", "anfh", "anfl", "zilany2014_anfl",
                                  "dierich2020_ihc"])
def test_keras2_round_trip_each_architecture(tmp_path, name):
    src = randomized(name, n_cf=1, seed=3)
    path = W.save_weights_keras2_layout(src, tmp_path / f"{name}.h5", full_model=True)
    dst = M.build_model(name, n_cf=201 if name != "cochlea" else 1)
    W.load_weights(dst, path)
    assert same_weights(src, dst)
    if name == "anfl":  # outputs identical (1-CF model, one 16384-sample window)
        x = np.random.default_rng(4).normal(size=(1, 16384, 1)).astype("f4")
        dst1 = W.load_model(name, weights=path, n_cf=1)
        np.testing.assert_array_equal(src.predict_on_batch(x), dst1.predict_on_batch(x))
    if name == "cochlea":
        x = np.random.default_rng(5).normal(size=(1, 528, 1)).astype("f4")
        np.testing.assert_array_equal(src.predict_on_batch(x), dst.predict_on_batch(x))


def test_keras2_variants_chunked_attributes_and_uniquified_names(tmp_path, ihc_pair):
    """Attributes split into name0/name1 (Keras does this above 64 kB) and TF's
    uniquified variable names (conv2d_4_1/kernel:0) read fine: mapping is by order."""
    model, _ = ihc_pair
    path = tmp_path / "odd.h5"
    arrays = [w.numpy() for w in model.weights]
    names = [f"{layer}_1/{var}:0".encode()
             for layer, var, _ in M.expected_weight_layout(model)]
    with h5py.File(path, "w") as f:
        f.attrs["layer_names0"] = np.array([b"bmm_input"])
        f.attrs["layer_names1"] = np.array([b"model_2"])
        f.create_group("bmm_input").attrs["weight_names"] = np.array([], dtype="S1")
        g = f.create_group("model_2")
        for n, a in zip(names, arrays):
            g.create_dataset(n.decode(), data=a)
        g.attrs["weight_names0"] = np.array(names[:5])
        g.attrs["weight_names1"] = np.array(names[5:])
    fresh = M.build_model("ihc", n_cf=1)
    W.load_weights(fresh, path)
    assert same_weights(model, fresh)
    assert [n for n, _ in W.read_weight_arrays(path)][0] == "model_2/conv2d_4_1/kernel:0"


# ---------------------------------------------------------------------------
# Keras 3 format
# ---------------------------------------------------------------------------

def test_keras3_weights_h5_round_trip_across_variants(tmp_path):
    src = randomized("anfh", n_cf=1, seed=6)
    path = tmp_path / "anfh.weights.h5"
    src.save_weights(str(path))
    for n_cf, cropped in ((1, True), (201, True), (1, False)):
        dst = M.build_model("anfh", n_cf=n_cf, cropped=cropped)
        W.load_weights(dst, path)
        assert same_weights(src, dst)
    x = np.random.default_rng(7).normal(size=(1, 16384, 1)).astype("f4")
    np.testing.assert_array_equal(src.predict_on_batch(x),
                                  W.load_model("anfh", path, n_cf=1).predict_on_batch(x))


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

def test_wrong_model_file_names_model_layer_shapes_and_fix(ihc_pair):
    _, path = ihc_pair
    target = M.build_model("anfh", n_cf=1)
    before = [w.numpy().copy() for w in target.weights]
    with pytest.raises(W.WeightsMismatchError) as err:
        W.load_weights(target, path)
    msg = str(err.value)
    assert "'anfh'" in msg and "conv2d_15" in msg
    assert "expected shape (8, 1, 1, 64)" in msg and "found (16, 1, 1, 128)" in msg
    assert "expected 83 arrays, found 12" in msg
    assert "looks like weights for: ihc" in msg
    assert "download official" in msg
    assert all(np.array_equal(b, w.numpy()) for b, w in zip(before, target.weights))


def test_one_wrong_shape_is_reported_by_layer(tmp_path):
    src = randomized("anfl", n_cf=1, seed=8)
    path = W.save_weights_keras2_layout(src, tmp_path / "anfl.h5")
    with h5py.File(path, "r+") as f:
        g = f["model_3"]
        del g["conv2d_transpose_20/bias:0"]
        g.create_dataset("conv2d_transpose_20/bias:0", data=np.zeros(63, "f4"))
    with pytest.raises(W.WeightsMismatchError,
                       match=r"conv2d_transpose_6' bias: expected shape \(64,\), found \(63,\)"):
        W.load_weights(M.build_model("anfl"), path)


def test_wrong_model_keras3_file(tmp_path):
    src = randomized("ihc", n_cf=1, seed=9)
    path = tmp_path / "ihc.weights.h5"
    src.save_weights(str(path))
    with pytest.raises(W.WeightsMismatchError, match=r"'anfl'.*expected 56 arrays, found 12"):
        W.load_weights(M.build_model("anfl", n_cf=1), path)


def test_truncated_file_gives_clear_error(tmp_path, ihc_pair):
    _, path = ihc_pair
    data = path.read_bytes()
    cut = tmp_path / "ihc.h5"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(W.WeightsMismatchError, match="truncated or damaged") as err:
        W.load_weights(M.build_model("ihc", n_cf=1), cut)
    assert "'ihc'" in str(err.value) and "download official" in str(err.value)


def test_not_a_weight_file(tmp_path):
    path = tmp_path / "empty.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(W.WeightsMismatchError, match="not a Keras weight file"):
        W.load_weights(M.build_model("ihc", n_cf=1), path)


def test_missing_file(tmp_path):
    with pytest.raises(W.WeightsNotFoundError, match="does not exist") as err:
        W.load_weights(M.build_model("ihc", n_cf=1), tmp_path / "nope.h5")
    assert isinstance(err.value, FileNotFoundError)
    assert "download official" in str(err.value)


def test_connear_lab_set_absent(tmp_path, monkeypatch):
    monkeypatch.setenv("CONNEAR_LAB_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(W.WeightsNotFoundError, match="set is missing") as err:
        W.load_model("ihc", n_cf=1)  # default weights="connear-lab"
    assert "download official" in str(err.value) and "path" in str(err.value)


def test_connear_lab_set_with_manifest(tmp_path, monkeypatch):
    src = randomized("ihc", n_cf=1, seed=10)
    src.save_weights(str(tmp_path / "ihc.weights.h5"))
    digest = hashlib.sha256((tmp_path / "ihc.weights.h5").read_bytes()).hexdigest()
    manifest = {"format": "connear-lab-weights/1",
                "models": {"ihc": {"file": "ihc.weights.h5", "sha256": digest}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("CONNEAR_LAB_WEIGHTS_DIR", str(tmp_path))
    assert same_weights(src, W.load_model("ihc", "connear-lab", n_cf=1))
    with pytest.raises(W.WeightsNotFoundError, match="no 'anfh' model"):
        W.load_model("anfh", "connear-lab", n_cf=1)
    manifest["models"]["ihc"]["sha256"] = "0" * 64
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(W.WeightsMismatchError, match="sha256"):
        W.load_model("ihc", "connear-lab", n_cf=1)


def test_connear_lab_set_with_one_anf_architecture_for_all_fibres(tmp_path, monkeypatch):
    """The lab's ANF graph is the same for H, M and L (the paper's anfl has another output
    nonlinearity): a set whose anfl is an anf_l8f16 loads as anfl."""
    models = {}
    for fibre, seed in (("anfh", 21), ("anfl", 22)):
        models[fibre] = randomized("anf_l8f16", seed=seed)
        models[fibre].save_weights(str(tmp_path / f"{fibre}.weights.h5"))
    entries = {f: {"file": f"{f}.weights.h5", "architecture": "anf_l8f16",
                   "sha256": hashlib.sha256((tmp_path / f"{f}.weights.h5").read_bytes()).hexdigest()}
               for f in models}
    (tmp_path / "manifest.json").write_text(json.dumps({"models": entries}))
    monkeypatch.setenv("CONNEAR_LAB_WEIGHTS_DIR", str(tmp_path))
    for fibre, src in models.items():
        got = W.load_model(fibre, "connear-lab")
        assert M.model_name_of(got) == "anf_l8f16" and same_weights(src, got)
    # a paper graph still refuses weights made for another output nonlinearity
    with pytest.raises(W.WeightsMismatchError, match="build_model\\('anfl'\\)"):
        W.load_weights(M.build_model("anfh", n_cf=1), tmp_path / "anfl.weights.h5", name="anfl")


def test_official_not_downloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("CONNEAR_LAB_CACHE", str(tmp_path))
    with pytest.raises(W.WeightsNotFoundError, match="not downloaded yet.*download official"):
        W.load_model("anfm", "official", n_cf=1)


def test_official_entry_for_other_architecture_is_refused():
    with pytest.raises(W.WeightsMismatchError, match="cochlea"):
        W.load_weights(M.build_model("ihc", n_cf=1), "official", name="cochlea_flat25")


def test_registry_matches_appendix_w():
    official = {n for n in M.MODEL_NAMES if M.MODEL_INFO[n]["official_file"]}
    assert official <= set(W.OFFICIAL_FILES) and "cochlea_small" not in W.OFFICIAL_FILES
    # the project's own architectures have no official file
    assert set(M.MODEL_NAMES) - official == {"cochlea_small"} | set(M.LAB_ARCHITECTURES)
    assert set(W.DEFAULT_OFFICIAL) == official
    layout = [s for _, _, s in M.expected_weight_layout(M.build_model("cochlea_small"))]
    assert W._signature_guess(layout) == ["cochlea_small"]
    repo, commit, path, blob, arch = W.OFFICIAL_FILES["anfl"]
    assert (repo, commit, path, blob, arch) == (
        "CoNNear_IHC-ANF", "4c98a11d606b82fd079ac9009c48a89ac5dc289f", "connear/anfl.h5",
        "e5194b02b26b7e460932a965ad3dfe4dce948cff", "anfl")
    for entry, (_, commit, _, blob, arch) in W.OFFICIAL_FILES.items():
        assert len(commit) == 40 and len(blob) == 40 and arch in M.MODEL_NAMES


def test_git_blob_id(tmp_path):
    p = tmp_path / "hello.txt"
    p.write_bytes(b"hello\n")  # `echo hello | git hash-object --stdin`
    assert W.git_blob_id(p) == "ce013625030ba8dba906f756967f9e9ca394464a"


# ---------------------------------------------------------------------------
# Downloader against a local HTTP server
# ---------------------------------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    files = {}       # url path -> bytes
    truncate = set()  # url paths sent only half-way, then the connection is closed
    hits = []

    def do_GET(self):  # noqa: N802 (http.server API)
        self.hits.append(self.path)
        data = self.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.path in self.truncate:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    _Handler.files, _Handler.truncate, _Handler.hits = {}, set(), []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}/{{repo}}/{{commit}}/{{path}}"
    httpd.shutdown()
    httpd.server_close()


def _blob(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_download_good_then_cached_and_loadable(server, tmp_path, ihc_pair, capsys):
    httpd, url = server
    model, path = ihc_pair
    data = path.read_bytes()
    _Handler.files["/RepoX/abc123/connear/ihc.h5"] = data
    registry = {"ihc": ("RepoX", "abc123", "connear/ihc.h5", _blob(data), "ihc")}
    out = W.download_official(["ihc"], cache=tmp_path, progress=False, url_template=url,
                              registry=registry)
    dest = tmp_path / "official" / "RepoX" / "connear" / "ihc.h5"
    assert out == {"ihc": dest} and dest.read_bytes() == data
    err = capsys.readouterr().err
    assert "licence" in err and "not be redistributed" in err and str(tmp_path) in err
    assert not (tmp_path / ".staging").exists()
    # second call: verified cache hit, no request
    n = len(_Handler.hits)
    W.download_official(["ihc"], cache=tmp_path, progress=False, url_template=url,
                        registry=registry, quiet=True)
    assert len(_Handler.hits) == n
    fresh = M.build_model("ihc", n_cf=1)
    W.load_weights(fresh, dest)
    assert same_weights(model, fresh)


def test_download_checksum_mismatch_leaves_no_file(server, tmp_path):
    httpd, url = server
    _Handler.files["/RepoX/abc123/connear/anfh.h5"] = b"not the real weights" * 100
    registry = {"anfh": ("RepoX", "abc123", "connear/anfh.h5", "0" * 40, "anfh")}
    with pytest.raises(W.WeightsDownloadError, match="git blob id .* expected 0000") as err:
        W.download_official(["anfh"], cache=tmp_path, progress=False, url_template=url,
                            registry=registry, quiet=True)
    assert "nothing was stored" in str(err.value)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_download_interrupted_leaves_no_file(server, tmp_path):
    httpd, url = server
    data = os.urandom(300_000)
    _Handler.files["/RepoX/abc123/connear/anfl.h5"] = data
    _Handler.truncate.add("/RepoX/abc123/connear/anfl.h5")
    registry = {"anfl": ("RepoX", "abc123", "connear/anfl.h5", _blob(data), "anfl")}
    with pytest.raises(W.WeightsDownloadError, match="failed") as err:
        W.download_official(["anfl"], cache=tmp_path, progress=False, url_template=url,
                            registry=registry, quiet=True)
    assert "Nothing was stored" in str(err.value)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_download_http_404(server, tmp_path):
    httpd, url = server
    registry = {"ihc": ("RepoX", "abc123", "connear/missing.h5", "0" * 40, "ihc")}
    with pytest.raises(W.WeightsDownloadError, match="404"):
        W.download_official(["ihc"], cache=tmp_path, progress=False, url_template=url,
                            registry=registry, quiet=True)


def test_command_line_download_reports_errors(server, tmp_path, monkeypatch, capsys):
    httpd, url = server
    monkeypatch.setenv("CONNEAR_LAB_OFFICIAL_URL", url)
    # the real registry: the served bytes cannot match the published blob id
    repo, commit, rel, _, _ = W.OFFICIAL_FILES["ihc"]
    _Handler.files[f"/{repo}/{commit}/{rel}"] = b"fake"
    rc = W._main(["download", "official", "--models", "ihc", "--cache-dir", str(tmp_path),
                  "--no-progress"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "licence" in err and "git blob id" in err
    monkeypatch.setenv("CONNEAR_LAB_CACHE", str(tmp_path))
    assert W._main(["where"]) == 0
    assert "missing" in capsys.readouterr().out


def test_connear_lab_cochlea_of_the_small_architecture(tmp_path, monkeypatch):
    """The manifest's architecture decides which graph load_model builds for the set."""
    src = randomized("cochlea_small", seed=11)
    src.save_weights(str(tmp_path / "cochlea.weights.h5"))
    digest = hashlib.sha256((tmp_path / "cochlea.weights.h5").read_bytes()).hexdigest()
    entry = {"file": "cochlea.weights.h5", "sha256": digest, "architecture": "cochlea_small"}
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {"cochlea": entry}}))
    monkeypatch.setenv("CONNEAR_LAB_WEIGHTS_DIR", str(tmp_path))
    model = W.load_model("cochlea", "connear-lab")
    assert M.model_name_of(model) == "cochlea_small" and same_weights(src, model)
    # without the architecture field the official graph is built, and the file does not fit it
    del entry["architecture"]
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {"cochlea": entry}}))
    with pytest.raises(W.WeightsMismatchError):
        W.load_model("cochlea", "connear-lab")
    entry["architecture"] = "ihc"
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {"cochlea": entry}}))
    with pytest.raises(W.WeightsMismatchError, match="fix the manifest"):
        W.load_model("cochlea", "connear-lab")


def test_unreachable_host_says_offline_and_gives_the_offline_route(tmp_path):
    # a port nobody listens on: the connection is refused, as on a machine without network
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    registry = {"ihc": ("RepoX", "abc123", "connear/ihc.h5", "0" * 40, "ihc")}
    with pytest.raises(W.WeightsDownloadError) as err:
        W.download_official(["ihc"], cache=tmp_path, progress=False, registry=registry, quiet=True,
                            url_template=f"http://127.0.0.1:{port}/{{repo}}/{{commit}}/{{path}}")
    text = str(err.value)
    assert "could not reach 127.0.0.1" in text and "no internet access" in text
    assert "download official --from FOLDER" in text and "urls official" in text


def test_install_from_a_folder_identifies_files_by_content(tmp_path, ihc_pair):
    model, path = ihc_pair
    data = path.read_bytes()
    registry = {"ihc": ("RepoX", "abc123", "connear/ihc.h5", _blob(data), "ihc"),
                "dierich2020_ihc": ("RepoX", "abc123", "Dierich2020/ihc.h5", "1" * 40, "dierich2020_ihc")}
    src = tmp_path / "downloads" / "sub"
    src.mkdir(parents=True)
    (src / "whatever-name.h5").write_bytes(data)  # any name: matched by the git blob id
    (src / "ihc.h5").write_bytes(data[: len(data) // 2])  # a truncated copy is ignored
    out = W.install_official_from(tmp_path / "downloads", ["ihc"], cache=tmp_path / "cache", registry=registry,
                                  quiet=True)
    dest = tmp_path / "cache" / "official" / "RepoX" / "connear" / "ihc.h5"
    assert out == {"ihc": dest} and dest.read_bytes() == data
    fresh = M.build_model("ihc", n_cf=1)
    W.load_weights(fresh, dest)
    assert same_weights(model, fresh)
    with pytest.raises(W.WeightsNotFoundError, match="dierich2020_ihc"):
        W.install_official_from(tmp_path / "downloads", ["dierich2020_ihc"], cache=tmp_path / "cache",
                                registry=registry, quiet=True)
    with pytest.raises(W.WeightsNotFoundError, match="no such folder"):
        W.install_official_from(tmp_path / "nowhere", ["ihc"], cache=tmp_path / "cache", registry=registry)


def test_command_line_urls_lists_every_official_model(capsys):
    assert W._main(["urls", "official"]) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in W.DEFAULT_OFFICIAL) and "raw.githubusercontent.com" in out


def test_one_resolver_for_every_source(tmp_path, monkeypatch):
    """A set name, a file, a folder (manifest or plain files) and a dict resolve to the same file,
    build the architecture the source names, and load the same numbers."""
    src = randomized("ihc_f16", n_cf=1, seed=12)
    folder = tmp_path / "run"
    folder.mkdir()
    src.save_weights(str(folder / "ihc.weights.h5"))
    digest = hashlib.sha256((folder / "ihc.weights.h5").read_bytes()).hexdigest()
    entry = {"file": "ihc.weights.h5", "sha256": digest, "architecture": "ihc_f16"}
    (folder / "manifest.json").write_text(json.dumps({"models": {"ihc": entry}}))
    monkeypatch.setenv("CONNEAR_LAB_WEIGHTS_DIR", str(folder))
    path = folder / "ihc.weights.h5"
    for source in ("connear-lab", folder, str(folder), {"ihc": folder}, {"ihc": "connear-lab"}):
        assert W.resolve_weights(source, "ihc") == path, source
        assert W.architecture_of(source, "ihc") == "ihc_f16", source
        model = W.load_model("ihc", source, n_cf=1)
        assert M.model_name_of(model) == "ihc_f16" and same_weights(src, model), source
    # a file alone does not say its architecture: the name is built, and the file does not fit it
    assert W.architecture_of(str(path), "ihc") == "ihc"
    with pytest.raises(W.WeightsMismatchError, match="does not fit"):
        W.load_model("ihc", str(path), n_cf=1)
    # a folder without a manifest: <name>.weights.h5 is used
    (folder / "manifest.json").unlink()
    assert W.resolve_weights(folder, "ihc") == path
    with pytest.raises(W.WeightsNotFoundError, match="no 'anfh' model"):
        W.resolve_weights(folder, "anfh")
    # a dict: a model is used as it is; a missing or None entry names the model
    assert W.load_model("ihc", {"ihc": src}) is src and W.cached_model("ihc", {"ihc": src}) is src
    for bad in ({"anfh": src}, {"ihc": None}):
        with pytest.raises(W.WeightsNotFoundError, match="no 'ihc' model"):
            W.cached_model("ihc", bad)
        assert "no 'ihc' model" in W.missing_weights(bad, ["ihc"])
    assert W.missing_weights({"ihc": src}, ["ihc"]) is None


def test_cached_model_is_loaded_once_per_file_version(tmp_path, monkeypatch):
    monkeypatch.setattr(W, "_LOADED", {})
    path = tmp_path / "ihc.weights.h5"
    randomized("ihc", n_cf=1, seed=13).save_weights(str(path))
    first = W.cached_model("ihc", str(path))
    assert W.cached_model("ihc", str(path)) is first
    newer = randomized("ihc", n_cf=1, seed=14)
    newer.save_weights(str(path))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    second = W.cached_model("ihc", str(path))
    assert second is not first and same_weights(newer, second)


def test_models_or_untrained_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("CONNEAR_LAB_WEIGHTS_DIR", str(tmp_path))
    models, trained, message = W.load_models_or_untrained(("ihc",), "connear-lab")
    assert not trained and "UNTRAINED" in message and "set is missing" in message
    assert M.model_name_of(models["ihc"]) == "ihc"
    with pytest.raises(W.WeightsNotFoundError, match="weights=None"):
        W.load_models(("ihc",), None)


def test_cached_model_hashes_the_file_when_loading_not_on_every_call(tmp_path, monkeypatch):
    """simulate() asks for its models on every call: a cache hit must not re-read the weights."""
    src = randomized("ihc", n_cf=1, seed=15)
    src.save_weights(str(tmp_path / "ihc.weights.h5"))
    digest = hashlib.sha256((tmp_path / "ihc.weights.h5").read_bytes()).hexdigest()
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {"ihc": {"file": "ihc.weights.h5", "sha256": digest}}}))
    monkeypatch.setenv("CONNEAR_LAB_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setattr(W, "_LOADED", {})
    calls = []
    real = W.file_sha256
    monkeypatch.setattr(W, "file_sha256", lambda path: calls.append(path) or real(path))
    first = W.cached_model("ihc", "connear-lab")
    assert len(calls) == 1 and same_weights(src, first)
    assert all(W.cached_model("ihc", "connear-lab") is first for _ in range(3)) and len(calls) == 1
    # a changed file is a new key: loaded again, and checked against the manifest again
    (tmp_path / "ihc.weights.h5").write_bytes((tmp_path / "ihc.weights.h5").read_bytes() + b"x")
    with pytest.raises(W.WeightsMismatchError, match="sha256"):
        W.cached_model("ihc", "connear-lab")


def test_the_hint_offers_the_shipped_set_only_for_models_it_can_hold():
    assert "weights='connear-lab'" in W.how_to_get("ihc")
    assert "connear-lab" not in W.how_to_get("zilany2014_anfh") and "download official" in W.how_to_get("zilany2014_anfh")
    assert "connear-lab" not in W.how_to_get("cochlea_flat25")
