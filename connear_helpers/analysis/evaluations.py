"""The paper's evaluations: stimuli, simulations and metric values, one function per evaluation.

``compute_excitation_patterns``, ``compute_ac_dc_ratio``, ``compute_level_growth``,
``compute_anf_firing_rates``, ``compute_rate_level``, ``compute_synchrony_level``,
``compute_adaptation`` and ``compute_onset_recovery`` build the paper's stimuli
(:func:`build_stimuli`, spec §2.5-2.6), run them through :mod:`connear_helpers.pipeline`
(reference and CoNNear side by side) and return plain dicts of arrays: the numbers behind the
paper's figures (:mod:`connear_helpers.paper.figures`), the lab's panels
(:mod:`connear_helpers.lab.widgets`) and the error tables of a weight set
(:mod:`connear_helpers.training.evaluate`), so every number is computed in one place.
:data:`QUICK` holds the reduced settings of ``quick=True`` (same code path).

After its metric's own parameters, every compute function takes ``options``, a
:class:`connear_helpers.pipeline.RunOptions` (weights, mode, cnn_anf_input, reference options,
cache, progress; None means ``RunOptions()``), and ``setup``, a :class:`connear_helpers.pipeline.Setup`
already prepared (its mode and loaded models are used instead of ``options.weights`` and
``options.mode``; panels and the evaluation load their models once this way).

Reference-model options default to :data:`connear_helpers.pipeline.PAPER_REFERENCE_OPTIONS`
(cochlear irregularities of subject 1 and the SciPy <= 1.16 integrator), with which the paper's
curves were made; the verhulst2018 engine is one of these options (``"engine": "fast"``), the
exact one by default. This is the one module of :mod:`connear_helpers.analysis` that runs
simulations; it may import :mod:`connear_helpers.pipeline`, never the figures, panels or training.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .. import pipeline
from ..constants import FIBRES, FS_CNN, FS_REFERENCE
from . import cf as _cf
from . import metrics
from . import stimuli

#: Model contexts (left, right) in samples at 20 kHz: the "cropped output" of spec §2.1.
IHC_CONTEXT = (256, 256)
ANF_CONTEXT = (7936, 256)

# ============================================================================================
# stimuli


def build_stimuli(metric, fs, levels_db_spl=None, freqs_hz=None, tone_s=None, fm_hz=None,
                  modulation_depth=None, intervals_s=None, kind=None):
    """Stimuli of a metric (spec §4.1), optionally with another tone duration, fm, depth or kind.

    metric: a name of connear_helpers.analysis.stimuli.metric_names(). fs: Hz. levels_db_spl, freqs_hz,
    intervals_s: as stimuli.metric_stimuli. tone_s: tone duration (s) instead of the recipe's.
    fm_hz, modulation_depth: SAM parameters. kind: "pure" or "sam" instead of the recipe's kind
    (same ramps and silences). Without overrides this is exactly stimuli.metric_stimuli.
    Returns a stimuli.StimulusSet (signals (n_rows, n_samples) in Pa).
    """
    recipe = stimuli.metric_recipe(metric)
    if tone_s is None and fm_hz is None and modulation_depth is None and kind in (None, recipe.kind):
        return stimuli.metric_stimuli(metric, levels_db_spl, freqs_hz, fs, intervals_s)
    if recipe.kind == "tone_pair" or kind == "tone_pair":
        raise ValueError("tone pairs take no tone_s/fm_hz/depth/kind overrides; use intervals_s")
    recipe = dataclasses.replace(
        recipe,
        kind=recipe.kind if kind is None else kind,
        tone_s=recipe.tone_s if tone_s is None else float(tone_s),
        fm_hz=recipe.fm_hz if fm_hz is None else float(fm_hz),
        modulation_depth=recipe.modulation_depth if modulation_depth is None else float(modulation_depth),
    )
    if recipe.kind not in ("pure", "sam"):
        raise ValueError(f'kind must be "pure" or "sam", got {recipe.kind!r}')
    levels = np.atleast_1d(np.asarray(recipe.levels_db_spl if levels_db_spl is None else levels_db_spl, float))
    freqs = np.atleast_1d(np.asarray(recipe.freqs_hz if freqs_hz is None else freqs_hz, float))
    cfs = _cf.connear_cfs()
    idx = np.atleast_1d(_cf.nearest_cf_index(cfs, freqs))
    if recipe.snap_to_cf:
        freqs = cfs[idx]
    rows, row_l, row_f, row_i = [], [], [], []
    for f, i in zip(freqs, idx):
        for level in levels:
            if recipe.kind == "pure":
                tone = stimuli.pure_tone(f, level, recipe.tone_s, fs, recipe.ramp_s, recipe.ramp_shape)
            else:
                tone = stimuli.sam_tone(f, recipe.fm_hz, recipe.modulation_depth, level, recipe.tone_s,
                                        fs, recipe.ramp_s, recipe.ramp_shape)
            rows.append(stimuli.add_silence(tone, fs, recipe.silence_before_s, recipe.silence_after_s))
            row_l.append(level)
            row_f.append(f)
            row_i.append(i)
    return stimuli.StimulusSet(
        metric=metric, fs=float(fs), signals=np.stack(rows), levels_db_spl=np.asarray(row_l),
        freqs_hz=np.asarray(row_f), cf_index=np.asarray(row_i, dtype=int),
        tone_onset_s=recipe.silence_before_s, tone_s=recipe.tone_s, recipe=recipe)


def _simulation(options, family):
    """The keyword arguments of pipeline.simulate_batch that come from the run options."""
    kw = dict(reference_options=options.reference_options, cache=options.cache, progress=options.progress)
    if family == "anf":
        kw["cnn_anf_input"] = options.cnn_anf_input
    return kw


def _fs_for(setup):
    return FS_REFERENCE if setup.mode == "full" else FS_CNN


def _crop(x, context):
    left, right = context
    return x[left:x.shape[0] - right]


# ============================================================================================
# compute functions (the numbers behind figures, widgets and the evaluation)


def compute_excitation_patterns(freqs_hz=(500.0, 1000.0, 2000.0), levels_db_spl=tuple(range(0, 101, 10)),
                                cf=None, options=None, setup=None):
    """Metric 1: mean IHC potential across CF for pure tones (spec §4.2).

    freqs_hz: tone frequencies (Hz, not snapped). levels_db_spl: levels (dB SPL). cf: CFs (Hz) to
    keep (default all 201; the reference cost does not depend on it, the CNN's does).
    Returns dict: setup, freqs_hz (n_f,), levels_db_spl (n_l,), cf_hz (n_cf,),
    ref {freq: (n_l, n_cf) V}, cnn {freq: (n_l, n_cf) V} or None.
    """
    options = options or pipeline.RunOptions()
    setup = setup or options.prepare("ihc")
    fs = _fs_for(setup)
    stim = build_stimuli("ihc_excitation_pattern", fs, levels_db_spl, freqs_hz)
    channels = _channels(cf)
    res = pipeline.simulate_batch(stim.signals, fs, setup, channels=channels, family="ihc",
                                  **_simulation(options, "ihc"))
    freqs = np.unique(stim.freqs_hz)
    levels = np.asarray(stim.levels_db_spl[stim.freqs_hz == freqs[0]])
    ref, cnn = {}, ({} if setup.has_cnn else None)

    def patterns(rows, field):
        return np.stack([metrics.excitation_pattern(_crop(getattr(res[r], field), IHC_CONTEXT), FS_CNN) for r in rows])

    for f in freqs:
        rows = np.flatnonzero(stim.freqs_hz == f)
        ref[float(f)] = patterns(rows, "ihc_ref")
        if cnn is not None:
            cnn[float(f)] = patterns(rows, "ihc_cnn")
    return dict(setup=setup, freqs_hz=freqs, levels_db_spl=levels, cf_hz=res[0].cf, ref=ref, cnn=cnn)


def _channels(cf):
    if cf is None:
        return None
    return np.unique(np.atleast_1d(_cf.nearest_cf_index(_cf.connear_cfs(), np.asarray(cf, float))))


def compute_ac_dc_ratio(freqs_hz=None, level_db_spl=80.0, options=None, setup=None):
    """Metric 2: AC/DC ratio of the IHC potential vs frequency, each tone at its own CF (§4.3).

    freqs_hz: tone frequencies (Hz; default the paper's 20 log-spaced 150-8000 Hz), snapped to CFs.
    level_db_spl: tone level (dB SPL).
    Returns dict: setup, freqs_hz (n,) snapped (Hz), ratio_ref, ratio_cnn (n,) or None,
    trace_ref, trace_cnn (n, 2048) cropped IHC potentials (V), time_s (2048,) from the crop start,
    ac_window_s, dc_window_s (the analysis windows, s).
    """
    options = options or pipeline.RunOptions()
    setup = setup or options.prepare("ihc")
    fs = _fs_for(setup)
    stim = build_stimuli("ihc_ac_dc_ratio", fs, [level_db_spl], freqs_hz)
    res = pipeline.simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="ihc",
                                  **_simulation(options, "ihc"))
    ref = np.stack([_crop(r.ihc_ref[:, 0], IHC_CONTEXT) for r in res])
    freqs, ratio_ref = metrics.ac_dc_curve(ref, stim.freqs_hz, FS_CNN)
    out = dict(setup=setup, freqs_hz=freqs, ratio_ref=ratio_ref, ratio_cnn=None, trace_ref=ref,
               trace_cnn=None, time_s=np.arange(ref.shape[1]) / FS_CNN,
               ac_window_s=metrics.IHC_AC_WINDOW_S, dc_window_s=metrics.IHC_DC_WINDOW_S,
               level_db_spl=float(level_db_spl))
    if setup.has_cnn:
        cnn = np.stack([_crop(r.ihc_cnn[:, 0], IHC_CONTEXT) for r in res])
        out["trace_cnn"] = cnn
        out["ratio_cnn"] = metrics.ac_dc_curve(cnn, stim.freqs_hz, FS_CNN)[1]
    return out


def compute_level_growth(freq_hz=4000.0, levels_db_spl=tuple(range(0, 101, 10)), options=None, setup=None):
    """Metric 3: RMS of the DC-removed IHC potential vs level at the CF of freq_hz (spec §4.4).

    Returns dict: setup, freq_hz (snapped, Hz), levels_db_spl (n,), rms_ref, rms_cnn (n,) in V
    (rms_cnn None without CNN).
    """
    options = options or pipeline.RunOptions()
    setup = setup or options.prepare("ihc")
    fs = _fs_for(setup)
    stim = build_stimuli("ihc_level_growth", fs, levels_db_spl, [freq_hz])
    res = pipeline.simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="ihc",
                                  **_simulation(options, "ihc"))
    ref = np.stack([_crop(r.ihc_ref[:, 0], IHC_CONTEXT) for r in res])
    out = dict(setup=setup, freq_hz=float(stim.freqs_hz[0]), levels_db_spl=stim.levels_db_spl,
               rms_ref=metrics.level_growth(ref, FS_CNN), rms_cnn=None)
    if setup.has_cnn:
        cnn = np.stack([_crop(r.ihc_cnn[:, 0], IHC_CONTEXT) for r in res])
        out["rms_cnn"] = metrics.level_growth(cnn, FS_CNN)
    return out


def _anf_responses(res, fibres, setup):
    """Cropped ANF rates: ref/cnn dicts fibre -> (n_rows, n_crop) spikes/s (channel 0)."""
    ref = {f: np.stack([_crop(getattr(r, f"{f}_ref")[:, 0], ANF_CONTEXT) for r in res]) for f in fibres}
    cnn = None
    if setup.has_cnn:
        cnn = {f: np.stack([_crop(getattr(r, f"{f}_cnn")[:, 0], ANF_CONTEXT) for r in res]) for f in fibres}
    return ref, cnn


def compute_anf_firing_rates(freqs_hz=(1000.0, 4000.0), kinds=("pure", "sam"), levels_db_spl=(70.0,),
                             tone_s=None, fm_hz=None, modulation_depth=None, fibres=FIBRES, options=None,
                             setup=None):
    """Metric 4: ANF firing rates over time to pure and SAM tones at CFs (spec §4.5).

    freqs_hz: tone frequencies (Hz), snapped to CFs and read at those CFs. kinds: "pure" and/or
    "sam". levels_db_spl: levels. tone_s: tone duration (default 0.4 s). fm_hz,
    modulation_depth: SAM parameters (default 100 Hz, 1).
    Returns dict: setup, time_s (n_crop,) from the crop start (tone onset at 5 ms), conditions:
    list of (kind, freq_hz snapped, level), ref / cnn: {fibre: (n_conditions, n_crop) spikes/s}.
    """
    options = options or pipeline.RunOptions()
    setup = setup or options.prepare("anf")
    fs = _fs_for(setup)
    conditions, ref, cnn = [], {f: [] for f in fibres}, ({f: [] for f in fibres} if setup.has_cnn else None)
    for kind in kinds:
        metric = "anf_firing_rate_sam" if kind == "sam" else "anf_firing_rate_tone"
        stim = build_stimuli(metric, fs, levels_db_spl, freqs_hz, tone_s=tone_s,
                             fm_hz=fm_hz if kind == "sam" else None,
                             modulation_depth=modulation_depth if kind == "sam" else None)
        res = pipeline.simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="anf",
                             fibres=fibres, **_simulation(options, "anf"))
        r, c = _anf_responses(res, fibres, setup)
        for f in fibres:
            ref[f].append(r[f])
            if cnn is not None:
                cnn[f].append(c[f])
        conditions += [(kind, float(f), float(level)) for f, level in zip(stim.freqs_hz, stim.levels_db_spl)]
    n = min(a.shape[1] for a in ref[fibres[0]])
    ref = {f: np.concatenate([a[:, :n] for a in v]) for f, v in ref.items()}
    if cnn is not None:
        cnn = {f: np.concatenate([a[:, :n] for a in v]) for f, v in cnn.items()}
    return dict(setup=setup, time_s=np.arange(n) / FS_CNN, conditions=conditions, ref=ref, cnn=cnn)


def compute_rate_level(freqs_hz=(1000.0, 4000.0), levels_db_spl=tuple(range(0, 101, 10)), fibres=FIBRES,
                       options=None, setup=None):
    """Metric 5: mean rate 10-40 ms after onset of 50-ms tones vs level, at CFs (spec §4.6).

    Returns dict: setup, freqs_hz (n_f,) snapped, levels_db_spl (n_l,), ref / cnn:
    {fibre: (n_f, n_l) spikes/s}.
    """
    options = options or pipeline.RunOptions()
    setup = setup or options.prepare("anf")
    fs = _fs_for(setup)
    stim = build_stimuli("anf_rate_level", fs, levels_db_spl, freqs_hz)
    res = pipeline.simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="anf",
                         fibres=fibres, **_simulation(options, "anf"))
    r, c = _anf_responses(res, fibres, setup)
    n_l = np.atleast_1d(levels_db_spl).size
    n_f = stim.signals.shape[0] // n_l

    def curves(d):
        return None if d is None else {f: metrics.rate_level(v, FS_CNN).reshape(n_f, n_l) for f, v in d.items()}

    return dict(setup=setup, freqs_hz=np.asarray(stim.freqs_hz[::n_l]), levels_db_spl=stim.levels_db_spl[:n_l],
                ref=curves(r), cnn=curves(c))


def compute_synchrony_level(freqs_hz=(1000.0, 4000.0), levels_db_spl=tuple(range(0, 101, 5)), tone_s=None,
                            fm_hz=100.0, modulation_depth=1.0, fibres=FIBRES, options=None, setup=None):
    """Metric 6: vector strength at fm of the rate to SAM tones vs level, at CFs (spec §4.7).

    tone_s: SAM duration (default 0.4 s); the analysis window is the whole tone (from 5 ms after the
    crop start). Returns dict: setup, freqs_hz (n_f,), levels_db_spl (n_l,), fm_hz,
    ref / cnn: {fibre: (n_f, n_l) vector strength}.
    """
    options = options or pipeline.RunOptions()
    setup = setup or options.prepare("anf")
    fs = _fs_for(setup)
    stim = build_stimuli("anf_synchrony_level", fs, levels_db_spl, freqs_hz, tone_s=tone_s,
                         fm_hz=None if fm_hz == 100.0 else fm_hz,
                         modulation_depth=None if modulation_depth == 1.0 else modulation_depth)
    res = pipeline.simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="anf",
                         fibres=fibres, **_simulation(options, "anf"))
    r, c = _anf_responses(res, fibres, setup)
    onset = metrics.ANF_SYNCHRONY_WINDOW_S[0]
    window = (onset, onset + stim.tone_s)
    n_l = np.atleast_1d(levels_db_spl).size
    n_f = stim.signals.shape[0] // n_l

    def curves(d):
        if d is None:
            return None
        return {f: metrics.synchrony_level(v, FS_CNN, fm_hz, window).reshape(n_f, n_l) for f, v in d.items()}

    return dict(setup=setup, freqs_hz=np.asarray(stim.freqs_hz[::n_l]), levels_db_spl=stim.levels_db_spl[:n_l],
                fm_hz=float(fm_hz), ref=curves(r), cnn=curves(c))


def compute_adaptation(freq_hz=1000.0, level_db_spl=70.0, tone_s=1.0, probe_s=None, fibres=FIBRES, options=None,
                       setup=None):
    """Fig. 4a: ANF rates to a long tone and the adaptation ratio rate(probe)/rate(end) (§4.8).

    tone_s: tone duration (s). probe_s: time after onset of the probe (default 0.4 s, or
    tone_s/3 for tones shorter than 0.5 s). Rates are averaged over the 10 ms before each time.
    Returns dict: setup, time_s (n,) from tone onset, ref / cnn {fibre: (n,) spikes/s},
    ratio_ref / ratio_cnn {fibre: float}, probe_s, tone_s, freq_hz (snapped).
    """
    options = options or pipeline.RunOptions()
    setup = setup or options.prepare("anf")
    fs = _fs_for(setup)
    stim = build_stimuli("anf_adaptation", fs, [level_db_spl], [freq_hz],
                         tone_s=None if tone_s == 1.0 else tone_s)
    res = pipeline.simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="anf",
                         fibres=fibres, **_simulation(options, "anf"))
    r, c = _anf_responses(res, fibres, setup)
    onset = stim.tone_onset_s - ANF_CONTEXT[0] / FS_CNN
    probe = probe_s if probe_s is not None else (0.4 if stim.tone_s >= 0.5 else stim.tone_s / 3)

    def ratio(d):
        if d is None:
            return None
        return {f: float(metrics.adaptation_ratio(v[0], FS_CNN, probe, stim.tone_s, onset)) for f, v in d.items()}

    n = r[fibres[0]].shape[1]
    return dict(setup=setup, time_s=np.arange(n) / FS_CNN - onset, ref={f: v[0] for f, v in r.items()},
                cnn=None if c is None else {f: v[0] for f, v in c.items()}, ratio_ref=ratio(r),
                ratio_cnn=ratio(c), probe_s=float(probe), tone_s=float(stim.tone_s),
                freq_hz=float(stim.freqs_hz[0]), level_db_spl=float(level_db_spl))


#: Fig. 4b levels: 40 dB above each fibre type's threshold (spec §4.8).
RECOVERY_LEVELS_DB_SPL = {"anfh": 60.0, "anfm": 65.0, "anfl": 75.0}


def compute_onset_recovery(intervals_s=tuple(round(0.1 * k, 1) for k in range(1, 20)), freq_hz=2000.0,
                           levels_db_spl=None, fibres=FIBRES, options=None, setup=None, keep_traces=False):
    """Fig. 4b: onset peak of the second of two 100-ms tones vs the silent interval (spec §4.8).

    intervals_s: offset-to-onset intervals (s); peaks are normalised by the longest one.
    levels_db_spl: {fibre: level} (default RECOVERY_LEVELS_DB_SPL: 60/65/75 dB).
    keep_traces: also return the cropped rates (for the widgets' waveform view).
    Returns dict: setup, intervals_s (n,), ref / cnn {fibre: (n,) normalised peak},
    and with keep_traces trace_ref / trace_cnn {fibre: (n, n_crop) spikes/s}, time_s.
    """
    options = options or pipeline.RunOptions()
    setup = setup or options.prepare("anf")
    fs = _fs_for(setup)
    levels = dict(RECOVERY_LEVELS_DB_SPL if levels_db_spl is None else levels_db_spl)
    intervals = np.asarray(sorted(set(float(i) for i in intervals_s)))
    out = dict(setup=setup, intervals_s=intervals, ref={}, cnn={} if setup.has_cnn else None,
               freq_hz=float(_cf.snap_to_cf(freq_hz)), levels_db_spl=levels)
    traces_ref, traces_cnn = {}, {}
    tone_s = stimuli.metric_recipe("anf_onset_recovery").tone_s
    stims = {f: build_stimuli("anf_onset_recovery", fs, [levels[f]], [freq_hz], intervals_s=intervals)
             for f in fibres}
    if setup.mode == "full":  # the reference of all levels as one parallel batch (then cached)
        pipeline.reference_batch(np.concatenate([st.signals for st in stims.values()]), fs,
                        row_channels=np.concatenate([st.cf_index for st in stims.values()]), anf=True,
                                 **_simulation(options, "ihc"))
    for f in fibres:
        stim = stims[f]
        res = pipeline.simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="anf",
                             fibres=(f,), **_simulation(options, "anf"))
        r, c = _anf_responses(res, (f,), setup)
        onsets = metrics.second_tone_onsets(stim.intervals_s, stim.tone_onset_s - ANF_CONTEXT[0] / FS_CNN, tone_s)
        out["ref"][f] = metrics.onset_peak_recovery(r[f], FS_CNN, onsets, tone_s)
        traces_ref[f] = r[f]
        if c is not None:
            out["cnn"][f] = metrics.onset_peak_recovery(c[f], FS_CNN, onsets, tone_s)
            traces_cnn[f] = c[f]
    if keep_traces:
        out["trace_ref"], out["trace_cnn"] = traces_ref, (traces_cnn if setup.has_cnn else None)
        out["time_s"] = np.arange(next(iter(traces_ref.values())).shape[1]) / FS_CNN
    return out


#: Reduced settings of quick=True (same code path; fewer levels/frequencies, shorter tones).
QUICK = {
    "fig2": dict(freqs_hz=(500.0, 1000.0, 2000.0), levels_db_spl=(30.0, 60.0, 90.0)),
    "fig3a": dict(n_freqs=5),
    "fig3b": dict(levels_db_spl=(0.0, 30.0, 60.0, 90.0)),
    "fig4a": dict(tone_s=0.3),
    "fig4b": dict(intervals_s=(0.1, 0.2, 0.4, 0.8, 1.9)),
    "fig5": dict(tone_s=0.1),
    "fig6a": dict(levels_db_spl=(0.0, 20.0, 40.0, 60.0, 80.0)),
    "fig6b": dict(levels_db_spl=(20.0, 50.0, 80.0), tone_s=0.1),
}


def _pick(value, quick, fig, key, default):
    if value is not None:
        return value
    return QUICK[fig][key] if quick else default


def paper_ac_dc_freqs(n_freqs=20):
    """Tone frequencies of Fig. 3a: the paper's 20 log-spaced 150-8000 Hz snapped to CFs, or
    n_freqs of them evenly picked (always including both ends). Returns (n,) Hz."""
    full = np.asarray(stimuli.metric_recipe("ihc_ac_dc_ratio").freqs_hz)
    if n_freqs >= full.size:
        return full
    idx = np.unique(np.round(np.linspace(0, full.size - 1, int(n_freqs))).astype(int))
    return full[idx]
