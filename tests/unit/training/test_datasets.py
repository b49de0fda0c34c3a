"""Training-set builder and reader (connear_helpers.training.datasets).

Most tests use a cheap stand-in reference with known output so that unit scalings, windows, the
split and resuming can be checked exactly; one test runs the real verhulst2018 model on a Dask
LocalCluster (one 128-ms stimulus, 2 CFs).
"""
import json
import os
import time

import h5py
import numpy as np
import pytest
from scipy.io import wavfile
from scipy.signal import resample_poly

from connear_helpers.training import datasets as D
from connear_helpers.analysis.stimuli import db_spl_to_pa

CALLS = []


def fake_reference(signal_pa, cf_hz, signals, **options):
    """Stand-in reference: SI outputs at 20 kHz built from the sound, one scale per CF column."""
    CALLS.append(signal_pa.size)
    base = signal_pa[::5][:, None] * np.arange(1, len(cf_hz) + 1)[None, :]
    out = {}
    for name in signals:
        if name == "v":
            out[name] = 1e-6 * base                        # m/s
        elif name == "ihc":
            out[name] = -0.05 + 1e-3 * base                # V
        else:
            out[name] = 100.0 + base                       # spikes/s
    return out


def _wav_folder(path, n, fs=16000, dur=0.03):
    path.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(dur * fs)) / fs
    for i in range(n):
        x = 0.4 * np.sin(2 * np.pi * (300 + 200 * i) * t) * np.hanning(t.size)
        wavfile.write(path / f"sent{i}.wav", fs, np.round(x * 32767).astype(np.int16))
    return path


def _build(out, corpus, n, stages="ihc", **kw):
    kw.setdefault("levels", (70, 130))
    kw.setdefault("level_mode", "all")
    kw.setdefault("cf_index", [56, 122])
    kw.setdefault("stimuli_per_shard", 1)
    return D.build_dataset(out, stages, corpus=str(corpus), n_sentences=n, scheduler="synchronous",
                           reference=fake_reference, progress=False, **kw)


def test_prepare_stimulus_calibrates_and_pads():
    fs = 16000
    x = np.sin(2 * np.pi * 500 * np.arange(480) / fs)
    sig, lay = D.prepare_stimulus(x, fs, 70.0, "ihc")
    assert lay == {"n_samples": 2560, "speech_start": 256, "speech_samples": 600}
    assert sig.size == 5 * 2560
    speech = sig[5 * 256: 5 * 256 + 3000]
    np.testing.assert_allclose(np.sqrt(np.mean(speech**2)), db_spl_to_pa(70.0), rtol=1e-12)
    assert not sig[:5 * 256].any() and not sig[5 * (256 + 600):].any()
    sig, lay = D.prepare_stimulus(x, fs, 130.0, "anfh")
    # 0.5 s before, 1 s after, then up to 16384 + k * 4096 samples at 20 kHz
    assert lay == {"n_samples": 32768, "speech_start": 10000, "speech_samples": 600}
    assert sig.size == 5 * 32768


def test_verhulst2018_reference_downsamples_as_the_spec(monkeypatch):
    import verhulst2018

    n = 5000
    seen = {}

    class Fake:
        pass

    def fake_simulate(signal, fs, cf, outputs, progress, **options):
        seen.update(fs=fs, cf=cf, outputs=outputs, options=options)
        r = Fake()
        r.v = np.random.default_rng(0).standard_normal((n, len(cf)))
        r.ihc = -0.057 + 1e-3 * r.v
        r.anfh = np.ones((n // 5, len(cf)))
        return r

    monkeypatch.setattr(verhulst2018, "simulate", fake_simulate)
    cf = np.array([4000.0, 1000.0])
    out = D.verhulst2018_reference(np.zeros(n), cf, ["v", "ihc", "anfh"], irregularities=True)
    assert seen["fs"] == 100_000 and list(seen["outputs"]) == ["v", "ihc", "anfh"]
    assert seen["options"] == {"irregularities": True, "engine": "exact"}  # no engine: the exact one
    np.testing.assert_array_equal(seen["cf"], cf)
    r = fake_simulate(None, 0, cf, (), False)
    np.testing.assert_allclose(out["v"], resample_poly(r.v, 20_000, 100_000, axis=0))
    np.testing.assert_allclose(out["ihc"], resample_poly(r.ihc, 1, 5, axis=0))
    np.testing.assert_array_equal(out["anfh"], r.anfh)     # already at 20 kHz
    assert out["v"].shape == (n // 5, 2)


def test_tiny_ihc_dataset_units_manifest_split_and_resume(tmp_path):
    corpus = _wav_folder(tmp_path / "wavs", 3)
    out = tmp_path / "ds"
    CALLS.clear()
    m = _build(out, corpus, 2)                      # 2 sentences x 2 levels = 4 stimuli, 4 shards
    assert len(CALLS) == 4
    assert sorted(m["shards"]) == [f"shard-{i:05d}.h5" for i in range(4)]
    stims = [s for k in sorted(m["shards"]) for s in m["shards"][k]["stimuli"]]
    assert sorted({s["level_db_spl"] for s in stims}) == [70.0, 130.0]
    assert len({s["sentence_id"] for s in stims}) == 2
    assert all(s["stimulus_id"].endswith(("@70dB", "@130dB")) and s["n_samples"] == 2560 for s in stims)
    assert m["cf_index"] == [56, 122] and np.allclose(m["cf_hz"], [3972.6887, 1006.9895], atol=1e-3)
    assert m["signals"]["v"]["cnn_scale"] == 1e6 and m["signals"]["ihc"]["cnn_scale"] == 10.0
    assert m["windows"]["ihc"] == {"left": 256, "window": 2048, "right": 256, "hop": 1024, "length": 2560}
    rows = (out / "windows.csv").read_text().splitlines()
    assert rows[0].startswith("family,shard,stimulus_id,sentence_id,level_db_spl,seed,window_index")
    assert len(rows) == 1 + 4 and rows[1].startswith("ihc,shard-00000.h5,")
    assert len((out / "stimuli.csv").read_text().splitlines()) == 1 + 4

    # unit scaling: stored = SI x (1e6 for v, 10 for ihc), float32, (n_samples, n_cf)
    with h5py.File(out / "shard-00000.h5") as f:
        v, ihc = f["signals/v"][()], f["signals/ihc"][()]
        level = f["stimulus/level_db_spl"][0]
        assert v.dtype == np.float32 and v.shape == (2560, 2)
        assert f["signals/ihc"].attrs["unit"].startswith("dV")
    u = m["shards"]["shard-00000.h5"]["stimuli"][0]
    from connear_helpers.analysis.corpus import read_wav

    x, fs = read_wav(u["path"])
    sig, _ = D.prepare_stimulus(x, fs, level, "ihc")
    ref = fake_reference(sig, [1, 2], ["v", "ihc"])
    np.testing.assert_allclose(v, ref["v"] * 1e6, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ihc, ref["ihc"] * 10, rtol=1e-6)

    # reader: single-CF sequences, windows with context, split by sentence
    xa, ya = D.load_dataset(out, "ihc", split="all")
    assert xa.shape == (8, 2560, 1) and ya.shape == (8, 2048, 1) and xa.dtype == np.float32
    np.testing.assert_array_equal(xa[0, :, 0], v[:, 0])
    np.testing.assert_array_equal(xa[1, :, 0], v[:, 1])
    np.testing.assert_array_equal(ya[1, :, 0], ihc[256:2304, 1])
    xt, _ = D.load_dataset(out, "ihc", "train", val_fraction=0.5, seed=1)
    xv, _ = D.load_dataset(out, "ihc", "val", val_fraction=0.5, seed=1)
    assert len(xt) == len(xv) == 4
    val = D.split_sentences([s["sentence_id"] for s in stims], 0.5, 1)
    assert len(val) == 1
    xs = {x.tobytes() for x in xt} | {x.tobytes() for x in xv}
    assert len(xs) == 8                                    # no sequence in both splits
    batches = D.load_dataset(out, "ihc", "train", val_fraction=0.5, seed=1, batch_size=3)
    assert len(batches) == 2
    bx, by = batches[0]
    assert bx.shape == (3, 2560, 1) and by.shape == (3, 2048, 1)
    got = np.concatenate([batches[i][0] for i in range(len(batches))])
    assert sorted(g.tobytes() for g in got) == sorted(x.tobytes() for x in xt)

    # resume: a deleted shard (and only it) is rebuilt
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob("shard-*.h5")}
    os.remove(out / "shard-00002.h5")
    time.sleep(0.01)
    CALLS.clear()
    m2 = _build(out, corpus, 2)
    assert len(CALLS) == 1 and len(m2["shards"]) == 4
    for name, t in mtimes.items():
        if name != "shard-00002.h5":
            assert (out / name).stat().st_mtime_ns == t
    # a finished shard whose manifest entry was lost is adopted, not recomputed
    man = json.loads((out / "manifest.json").read_text())
    del man["shards"]["shard-00001.h5"]
    (out / "manifest.json").write_text(json.dumps(man))
    CALLS.clear()
    m3 = _build(out, corpus, 2)
    assert CALLS == [] and "shard-00001.h5" in m3["shards"]
    # extending with a third sentence builds only its two stimuli
    CALLS.clear()
    m4 = _build(out, corpus, 3)
    assert len(CALLS) == 2 and len(m4["shards"]) == 6
    assert not list(out.glob(".*.tmp"))
    # other settings in the same folder are refused
    with pytest.raises(D.DatasetError, match="other settings"):
        _build(out, corpus, 2, levels=(60,))


def test_anf_dataset_has_paper_silences_windows_and_scaling(tmp_path):
    corpus = _wav_folder(tmp_path / "wavs", 1)
    out = tmp_path / "anf"
    m = _build(out, corpus, 1, stages="anf", levels=(70,))
    assert m["stages"] == ["anfh", "anfm", "anfl"] and list(m["signals"]) == ["ihc", "anfh", "anfm", "anfl"]
    s = m["shards"]["shard-00000.h5"]["stimuli"][0]
    assert (s["n_samples"], s["speech_start"]) == (32768, 10000)
    x, y = D.load_dataset(out, "anfm", split="all")
    assert x.shape == (5 * 2, 16384, 1) and y.shape == (5 * 2, 8192, 1)
    with h5py.File(out / "shard-00000.h5") as f:
        ihc, anfm = f["signals/ihc"][()], f["signals/anfm"][()]
    np.testing.assert_allclose(anfm[:10000], 1.0, rtol=1e-6)     # 100 spikes/s x 0.01 in silence
    np.testing.assert_allclose(ihc[:10000], -0.5, rtol=1e-6)     # -0.05 V x 10
    k = 2                                                          # window 1, CF column 0
    np.testing.assert_array_equal(x[k, :, 0], ihc[4096:4096 + 16384, 0])
    np.testing.assert_array_equal(y[k, :, 0], anfm[4096 + 7936:4096 + 7936 + 8192, 0])
    with pytest.raises(D.DatasetError, match="--stage ihc"):
        D.load_dataset(out, "ihc", split="all")
    with pytest.raises(D.DatasetError, match="at least 2 sentences"):
        D.load_dataset(out, "anfh", split="val")
    # one build per folder: a live lock is refused, a stale one (dead process) is taken over
    import socket

    lock = out / ".build.lock"
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}))
    with pytest.raises(D.DatasetError, match="another build"):
        _build(out, corpus, 1, stages="anf", levels=(70,))
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": 2**22 + 12345}))
    _build(out, corpus, 1, stages="anf", levels=(70,))
    assert not lock.exists()


def test_cochlea_stage_pairs_sound_with_all_cfs(tmp_path):
    corpus = _wav_folder(tmp_path / "wavs", 1)
    out = tmp_path / "coch"
    _build(out, corpus, 1, stages=["cochlea", "ihc"], levels=(70,), cf_index=3)
    x, y = D.load_dataset(out, "cochlea", split="all")
    assert x.shape == (1, 2560, 1) and y.shape == (1, 2048, 3)
    np.testing.assert_allclose(np.sqrt(np.mean(x[0, 256:856, 0] ** 2)), db_spl_to_pa(70), rtol=0.05)
    xi, yi = D.load_dataset(out, "ihc", split="all", cf_index=[0])
    assert xi.shape == (1, 2560, 1)


def test_build_with_verhulst2018_on_a_dask_local_cluster(tmp_path):
    pytest.importorskip("dask.distributed")
    from verhulst2018 import ihc as v18_ihc

    corpus = _wav_folder(tmp_path / "wavs", 1)
    out = tmp_path / "real"
    m = D.build_dataset(out, "ihc", corpus=str(corpus), n_sentences=1, levels=(80,),
                        cf_index=[56, 122], workers=1, progress=False)
    assert m["config"]["reference"] == "verhulst2018" and len(m["shards"]) == 1
    x, y = D.load_dataset(out, "ihc", split="all")
    assert x.shape == (2, 2560, 1) and y.shape == (2, 2048, 1)
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))
    with h5py.File(out / "shard-00000.h5") as f:
        v, ihc = f["signals/v"][()], f["signals/ihc"][()]
    rest = v18_ihc.ihc_rest_potential()                      # V
    # IHC potential in dV: the resting potential (about -57.7 mV) x 10 in the leading silence
    # (after the first few samples, where resample_poly's zero padding acts, spec §2.3)
    np.testing.assert_allclose(ihc[20:200], 10 * rest, atol=5e-3)
    # BM velocity in um/s: silent before the sound, clearly driven during the 80-dB tone
    assert np.abs(v[:200]).max() < 1e-3 * np.abs(v).max()
    assert 1e-2 < np.abs(v[256:900]).max() < 1e5
    assert np.abs(ihc[300:900] - 10 * rest).max() > 1e-3


def test_bad_requests_have_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown stage"):
        D.build_dataset(tmp_path, "ihcc", n_sentences=1)
    with pytest.raises(ValueError, match="CF indices"):
        D.build_dataset(tmp_path, "ihc", n_sentences=1, cf_index=[300])
    with pytest.raises(D.DatasetError, match="manifest.json missing"):
        D.load_dataset(tmp_path, "ihc")
    assert D.split_sentences(["a"], 0.2) == set()
    ids = [f"s{i}" for i in range(20)]
    v1 = D.split_sentences(ids, 0.2, seed=3)
    assert v1 == D.split_sentences(ids[::-1], 0.2, seed=3) and len(v1) == 4
