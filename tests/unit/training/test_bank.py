"""The TL bank: its plan, its files, and the IHC/ANF pairs derived from it."""
import json

import numpy as np
import pytest

from connear_helpers.analysis import cf as _cf
from connear_helpers.analysis import stimuli
from connear_helpers.training import bank as B

TINY_PLAN = [
    dict(id="seg0000", kind="events", duration_s=0.06,
         events=[dict(type="tone", start_s=0.01, duration_s=0.03, level_db_spl=70.0, freq_hz=1000.0, ramp_s=5e-3)]),
    dict(id="seg0001", kind="events", duration_s=0.05,
         events=[dict(type="noise", start_s=0.01, duration_s=0.03, level_db_spl=60.0, band_hz=[500.0, 4000.0],
                      ramp_s=2e-3)]),
]


@pytest.fixture(scope="module")
def tiny_bank(tmp_path_factory):
    path = tmp_path_factory.mktemp("bank")
    B.build_bank(path, plan=TINY_PLAN, progress=False)
    return B.Bank(path)


def test_plan_is_seeded_varied_and_never_the_evaluation_stimuli():
    a, b = B.bank_plan(40, seed=3), B.bank_plan(40, seed=3)
    assert a == b and a != B.bank_plan(40, seed=4)
    kinds = {ev["type"] for s in a if s["kind"] == "events" for ev in s["events"]}
    assert kinds == {"tone", "sam", "complex", "noise", "clicks"}
    assert 10 <= sum(s["kind"] == "speech" for s in a) <= 18
    levels = [ev["level_db_spl"] for s in a if s["kind"] == "events" for ev in s["events"]]
    assert min(levels) < 15 and max(levels) > 85  # the whole range of the evaluation
    freqs = [ev["freq_hz"] for s in a if s["kind"] == "events" for ev in s["events"] if "freq_hz" in ev]
    assert min(freqs) < 300 and max(freqs) > 5000
    # random frequencies: none is one of the evaluation's tone frequencies to 0.1 Hz
    assert not any(abs(f - g) < 0.1 for f in freqs for g in (500.0, 1000.0, 2000.0, 4000.0))


def test_rendered_event_has_its_level_and_the_segment_its_length():
    spec = TINY_PLAN[0]
    x = B.render_segment(spec)
    assert x.size % 5 == 0 and x.size == int(round(spec["duration_s"] * B.FS_REFERENCE))
    tone = x[1000:4000]
    assert stimuli.pa_to_db_spl(np.sqrt(np.mean(tone**2))) == pytest.approx(70.0, abs=0.01)
    assert np.all(x[:1000] == 0)


def test_bank_files_and_resampling(tiny_bank):
    assert len(tiny_bank) == 2 and tiny_bank.seconds() == pytest.approx(0.11)
    v100 = np.asarray(tiny_bank.array("seg0000", "v100"))
    v20 = np.asarray(tiny_bank.array("seg0000", "v20"))
    assert v100.shape == (201, 6000) and v20.shape == (201, 1200) and v100.dtype == np.float32
    # the 70-dB, 1-kHz tone excites the CFs around 1 kHz most (the peak moves basally with level:
    # measured 1.23 kHz)
    peak_cf = _cf.connear_cfs()[np.argmax(np.sqrt(np.mean(v100.astype(float) ** 2, axis=1)))]
    assert 0 <= np.log2(peak_cf / 1000.0) < 0.5
    # a second build is a no-op; another plan in the same folder is refused
    manifest = B.build_bank(tiny_bank.path, plan=TINY_PLAN, progress=False)
    assert set(manifest["done"]) == {"seg0000", "seg0001"}
    with pytest.raises(ValueError, match="another plan"):
        B.build_bank(tiny_bank.path, plan=TINY_PLAN[:1], progress=False)
    assert json.loads((tiny_bank.path / "manifest.json").read_text())["reference_options"]["irregularities"] is False


def test_a_cochlea_only_bank_holds_the_same_v20_without_v100(tiny_bank, tmp_path):
    """--cochlea-only stores what the cochlea CNN trains on (the same arrays, the same arithmetic),
    and asking it for the 100-kHz velocity, or resuming it as a full bank, is an error."""
    path = tmp_path / "cochlea_bank"
    manifest = B.build_bank(path, plan=TINY_PLAN, progress=False, cochlea_only=True)
    assert manifest["arrays"] == ["sound20", "v20"]
    assert sorted(f.name for f in path.glob("seg0000.*")) == ["seg0000.sound20.npy", "seg0000.v20.npy"]
    bank = B.Bank(path)
    for name in ("sound20", "v20"):
        np.testing.assert_array_equal(bank.array("seg0001", name), tiny_bank.array("seg0001", name))
    with pytest.raises(ValueError, match="--cochlea-only"):
        bank.array("seg0000", "v100")
    with pytest.raises(ValueError, match="--cochlea-only"):
        B.derive(bank, "seg0000", 0.0, [100])
    with pytest.raises(ValueError, match="without v100"):
        B.build_bank(path, plan=TINY_PLAN, progress=False)
    with pytest.raises(ValueError, match="with v100"):
        B.build_bank(tiny_bank.path, plan=TINY_PLAN, progress=False, cochlea_only=True)
    assert tiny_bank.arrays == B.ARRAYS  # a full bank (and one made before the option) holds all three


def test_a_bank_of_every_kth_cf_holds_those_rows_of_the_full_bank(tiny_bank, tmp_path):
    """--cf-every K: segment n stores the CF indices n % K, n % K + K, ... (the same arithmetic
    as the full bank, so the same numbers), derives the same pairs for them, refuses the others,
    has its own plan key, and is refused where all 201 CFs are needed."""
    path = tmp_path / "every4"
    manifest = B.build_bank(path, plan=TINY_PLAN, progress=False, cf_every=4)
    assert manifest["cf_every"] == 4 and manifest["plan_key"] != tiny_bank.manifest["plan_key"]
    bank = B.Bank(path)
    for seg, first in (("seg0000", 0), ("seg0001", 1)):
        held = bank.channels(seg)
        np.testing.assert_array_equal(held, np.arange(first, 201, 4))
        for name in ("v20", "v100"):
            assert bank.array(seg, name).shape[0] == held.size
            np.testing.assert_array_equal(bank.array(seg, name), np.asarray(tiny_bank.array(seg, name))[held])
        np.testing.assert_array_equal(bank.array(seg, "sound20"), tiny_bank.array(seg, "sound20"))
    np.testing.assert_array_equal(tiny_bank.channels("seg0001"), np.arange(201))
    a = B.derive(bank, "seg0001", 6.0, [41, 121], fibres=("anfh",))
    b = B.derive(tiny_bank, "seg0001", 6.0, [41, 121], fibres=("anfh",))
    for k in ("v", "ihc", "anfh"):
        np.testing.assert_array_equal(a[k], b[k])
    with pytest.raises(ValueError, match=r"not CF indices \[40\]"):
        B.derive(bank, "seg0001", 0.0, [40, 41])
    with pytest.raises(ValueError, match="another plan"):
        B.build_bank(path, plan=TINY_PLAN, progress=False)
    with pytest.raises(ValueError, match="cochlea-only bank needs all 201"):
        B.build_bank(tmp_path / "c", plan=TINY_PLAN, progress=False, cochlea_only=True, cf_every=4)
    with pytest.raises(ValueError, match="seg<number>"):
        B.build_bank(tmp_path / "ids", plan=[dict(TINY_PLAN[0], id="first")], progress=False, cf_every=2)
    for bad in (0, 2.5, 202, True):
        with pytest.raises(ValueError, match="cf_every must be"):
            B.build_bank(tmp_path / "bad", plan=TINY_PLAN, progress=False, cf_every=bad)
    from connear_helpers.training import fit as F

    assert F._bank_record(bank)["cf_every"] == 4 and "cf_every" not in F._bank_record(tiny_bank)
    with pytest.raises(ValueError, match="predicts all 201 CFs"):
        F.fit("cochlea", [path], tmp_path / "run", max_steps=1, progress=False)
    # the IHC and ANF samplers draw their CFs from the held ones only
    s = F.Sampler([(bank, "seg0001")], "ihc", (16, 64, 16, 96), pool=3, channels_per_entry=80)
    assert s.pool[0][0].shape[0] == 50  # 50 held CFs (1, 5, ..., 197): all of them, not 80


def test_a_bank_of_the_fast_engine_says_so_and_is_close_to_the_exact_one(tiny_bank, tmp_path):
    """--engine fast: recorded in the manifest and the plan key (a run's record of its banks shows
    it), the exact engine's banks keep their key, and the BM velocity is within the fast engine's
    stated tolerance (1 % relative RMS over all channels) of the exact one."""
    path = tmp_path / "fast_bank"
    manifest = B.build_bank(path, plan=TINY_PLAN, progress=False, cochlea_only=True, engine="fast")
    assert manifest["reference_options"]["engine"] == "fast"
    assert manifest["plan_key"] != tiny_bank.manifest["plan_key"]
    assert "engine" not in tiny_bank.manifest["reference_options"]
    assert B.build_bank(tmp_path / "exact", plan=TINY_PLAN, progress=False, engine="exact",
                        cochlea_only=True)["plan_key"] == tiny_bank.manifest["plan_key"]
    with pytest.raises(ValueError, match="engine fast"):
        B.build_bank(path, plan=TINY_PLAN, progress=False, cochlea_only=True)
    for seg in ("seg0000", "seg0001"):
        fast = np.asarray(B.Bank(path).array(seg, "v20"), dtype=float)
        exact = np.asarray(tiny_bank.array(seg, "v20"), dtype=float)
        rel = np.sqrt(np.mean((fast - exact) ** 2) / np.mean(exact ** 2))
        assert 0 < rel < 0.01, (seg, rel)
    from connear_helpers.training import fit as F

    assert F._bank_record(B.Bank(path))["engine"] == "fast" and "engine" not in F._bank_record(tiny_bank)


def test_derived_pairs_are_the_reference_stages_on_the_gained_velocity(tiny_bank):
    import verhulst2018
    from scipy.signal import resample_poly

    ch = [40, 122]
    d0 = B.derive(tiny_bank, "seg0000", 0.0, ch)
    d6 = B.derive(tiny_bank, "seg0000", 20 * np.log10(2.0), ch, fibres=("anfh",))
    # the CNN input scales with the gain exactly (a linear operation)
    np.testing.assert_allclose(d6["v"], 2 * d0["v"], rtol=1e-12)
    # the targets are what verhulst2018 gives for the same segment (up to the float32 storage of v)
    x = B.render_segment(TINY_PLAN[0])
    ref = verhulst2018.simulate(x, fs=B.FS_REFERENCE, cf=_cf.connear_cfs()[ch], outputs=("ihc", "anfh", "anfl"),
                                progress=False, **B.REFERENCE_OPTIONS)
    ihc20 = resample_poly(ref.ihc, 1, 5, axis=0).T
    inner = slice(20, -20)  # resample_poly's filter reaches 10 samples (20 kHz) into the signal
    assert np.max(np.abs(d0["ihc"][:, inner] - ihc20[:, inner])) < 1e-9  # V (float32 v: ~1e-7 relative of a uV-size AC)
    # at the ends (silence) the potential is the slowly varying one of the 100-kHz samples there,
    # where resample_poly's zero padding gives ~-35 mV for a -57.7-mV rest
    at_20k = ref.ihc[::5].T
    for edge in (slice(0, 20), slice(-20, None)):
        assert np.max(np.abs(d0["ihc"][:, edge] - at_20k[:, edge])) < 5e-5  # V
    assert np.max(np.abs(ihc20[:, 0] - at_20k[:, 0])) > 5e-3
    assert np.max(np.abs(d0["anfh"] - ref.anfh.T)) < 1e-3 * np.max(ref.anfh)
    assert np.max(np.abs(d0["anfl"] - ref.anfl.T)) < 1e-3 * np.max(ref.anfl)
    # the IHC is compressive: doubling the drive does not double the AC response
    ac0, ac6 = (np.ptp(d["ihc"][1]) for d in (d0, d6))
    assert 1.0 < ac6 / ac0 < 2.0
