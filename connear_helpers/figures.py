"""The paper's figures: one function per figure, and the headless figure run.

``connear-figures --out figures/ [--quick]`` (or ``python -m connear_helpers.figures``) draws
every figure as PNG with the numbers behind it as CSV next to it.

Figure functions (each returns ``(fig, table)``; ``table`` maps column names, with units, to
1-D arrays):

* :func:`fig2_ihc_excitation_patterns` – Metric 1, mean IHC potential across CF (0.5/1/2 kHz)
* :func:`fig3a_ihc_ac_dc_ratio` – Metric 2, AC/DC ratio vs frequency, guinea-pig data
* :func:`fig3b_ihc_level_growth` – Metric 3, RMS of the DC-removed IHC potential vs level (4 kHz)
* :func:`fig4a_anf_adaptation` – ANF adaptation to a 1-s, 1-kHz, 70-dB tone
* :func:`fig4b_anf_onset_recovery` – onset-peak recovery vs inter-stimulus interval (2 kHz)
* :func:`fig5_anf_firing_rates` – Metric 4, HSR/MSR/LSR rates to 70-dB tones and SAM tones
* :func:`fig6a_anf_rate_level` – Metric 5, rate-level curves, guinea-pig and mouse data
* :func:`fig6b_anf_synchrony_level` – Metric 6, synchrony-level curves, cat data

Every figure puts the reference model (verhulst2018) and the CoNNear CNNs side by side, with the
experimental data where the paper has them. ``weights`` is a weight set ("connear-lab",
"official"), a folder of weight files, a dict ``{"ihc": keras.Model or file, ...}``, or None for
the reference only. When the weights cannot be loaded the figure shows the reference alone and
says on the figure how to get them. ``quick=True`` runs the same code on fewer levels,
frequencies and shorter tones (under a minute per figure on 2 CPU cores).

The compute functions behind the figures (``compute_*``) return plain dicts of arrays; the
notebooks' widgets (:mod:`connear_helpers.widgets`) and the evaluation
(:mod:`connear_helpers.evaluate`) use them too, so every number is computed in one place.

Simulation (segmentation, batching, the on-disk cache, the weights a figure needs) is
:mod:`connear_helpers.pipeline`'s; this module computes metrics on its results and draws.

Reference-model options default to :data:`PAPER_REFERENCE_OPTIONS` (cochlear irregularities of
subject 1 and the SciPy <= 1.16 integrator), with which the paper's curves were made.

The verhulst2018 engine is one of these options: ``reference_options={..., "engine": "fast"}``
(``"exact"``, ``"fast"`` or ``"numpy"``; an unknown name is a ValueError naming them). The
figures reproduce the paper, so they default to the exact engine
(:data:`connear_helpers.pipeline.ENGINE_FOR_COMPARISON`); the panels of
:mod:`connear_helpers.widgets` run the fast one. Cache keys name the engine only when it is not
"exact", so the records of exact simulations keep the keys they had before the engine option.
"""
from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys
import time

import numpy as np

from . import cf as _cf
from . import metrics
from . import pipeline
from . import stimuli

from .constants import FS_CNN, FS_REFERENCE  # noqa: E402 (defined once, in constants.py)
from .pipeline import FIBRES, MODES  # noqa: E402 (the pipeline's names)
FIBRE_LABEL = {"anfh": "HSR", "anfm": "MSR", "anfl": "LSR"}
FIBRE_COLOUR = {"anfh": "r", "anfm": "b", "anfl": "c"}
#: Model contexts (left, right) in samples at 20 kHz: the "cropped output" of spec §2.1.
IHC_CONTEXT = (256, 256)
ANF_CONTEXT = (7936, 256)

# ============================================================================================
# stimuli


def build_stimuli(metric, fs, levels_db_spl=None, freqs_hz=None, tone_s=None, fm_hz=None,
                  modulation_depth=None, intervals_s=None, kind=None):
    """Stimuli of a metric (spec §4.1), optionally with another tone duration, fm, depth or kind.

    metric: a name of connear_helpers.stimuli.metric_names(). fs: Hz. levels_db_spl, freqs_hz,
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


def _fs_for(setup):
    return FS_REFERENCE if setup.mode == "full" else FS_CNN


def _crop(x, context):
    left, right = context
    return x[left:x.shape[0] - right]


# ============================================================================================
# compute functions (the numbers behind figures, widgets and the evaluation)


def compute_excitation_patterns(weights="connear-lab", freqs_hz=(500.0, 1000.0, 2000.0),
                                levels_db_spl=tuple(range(0, 101, 10)), cf=None, mode="full",
                                reference_options=None, cache=None, progress=False, setup=None):
    """Metric 1: mean IHC potential across CF for pure tones (spec §4.2).

    freqs_hz: tone frequencies (Hz, not snapped). levels_db_spl: levels (dB SPL). cf: CFs (Hz) to
    keep (default all 201; the reference cost does not depend on it, the CNN's does).
    Returns dict: setup, freqs_hz (n_f,), levels_db_spl (n_l,), cf_hz (n_cf,),
    ref {freq: (n_l, n_cf) V}, cnn {freq: (n_l, n_cf) V} or None.
    """
    setup = setup or pipeline.prepare(weights, mode, "ihc")
    fs = _fs_for(setup)
    stim = build_stimuli("ihc_excitation_pattern", fs, levels_db_spl, freqs_hz)
    channels = _channels(cf)
    res = pipeline.simulate_batch(stim.signals, fs, setup, channels=channels, family="ihc",
                         reference_options=reference_options, cache=cache, progress=progress)
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


def compute_ac_dc_ratio(weights="connear-lab", freqs_hz=None, level_db_spl=80.0, mode="full",
                        reference_options=None, cache=None, progress=False, setup=None):
    """Metric 2: AC/DC ratio of the IHC potential vs frequency, each tone at its own CF (§4.3).

    freqs_hz: tone frequencies (Hz; default the paper's 20 log-spaced 150-8000 Hz), snapped to CFs.
    level_db_spl: tone level (dB SPL).
    Returns dict: setup, freqs_hz (n,) snapped (Hz), ratio_ref, ratio_cnn (n,) or None,
    trace_ref, trace_cnn (n, 2048) cropped IHC potentials (V), time_s (2048,) from the crop start,
    ac_window_s, dc_window_s (the analysis windows, s).
    """
    setup = setup or pipeline.prepare(weights, mode, "ihc")
    fs = _fs_for(setup)
    stim = build_stimuli("ihc_ac_dc_ratio", fs, [level_db_spl], freqs_hz)
    res = pipeline.simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="ihc",
                         reference_options=reference_options, cache=cache, progress=progress)
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


def compute_level_growth(weights="connear-lab", freq_hz=4000.0, levels_db_spl=tuple(range(0, 101, 10)),
                         mode="full", reference_options=None, cache=None, progress=False, setup=None):
    """Metric 3: RMS of the DC-removed IHC potential vs level at the CF of freq_hz (spec §4.4).

    Returns dict: setup, freq_hz (snapped, Hz), levels_db_spl (n,), rms_ref, rms_cnn (n,) in V
    (rms_cnn None without CNN).
    """
    setup = setup or pipeline.prepare(weights, mode, "ihc")
    fs = _fs_for(setup)
    stim = build_stimuli("ihc_level_growth", fs, levels_db_spl, [freq_hz])
    res = pipeline.simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="ihc",
                         reference_options=reference_options, cache=cache, progress=progress)
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


def compute_anf_firing_rates(weights="connear-lab", freqs_hz=(1000.0, 4000.0), kinds=("pure", "sam"),
                             levels_db_spl=(70.0,), tone_s=None, fm_hz=None, modulation_depth=None,
                             fibres=FIBRES, mode="full", cnn_anf_input="reference",
                             reference_options=None, cache=None, progress=False, setup=None):
    """Metric 4: ANF firing rates over time to pure and SAM tones at CFs (spec §4.5).

    freqs_hz: tone frequencies (Hz), snapped to CFs and read at those CFs. kinds: "pure" and/or
    "sam". levels_db_spl: levels. tone_s: tone duration (default 0.4 s). fm_hz,
    modulation_depth: SAM parameters (default 100 Hz, 1).
    Returns dict: setup, time_s (n_crop,) from the crop start (tone onset at 5 ms), conditions:
    list of (kind, freq_hz snapped, level), ref / cnn: {fibre: (n_conditions, n_crop) spikes/s}.
    """
    setup = setup or pipeline.prepare(weights, mode, "anf", cnn_anf_input)
    fs = _fs_for(setup)
    conditions, ref, cnn = [], {f: [] for f in fibres}, ({f: [] for f in fibres} if setup.has_cnn else None)
    for kind in kinds:
        metric = "anf_firing_rate_sam" if kind == "sam" else "anf_firing_rate_tone"
        stim = build_stimuli(metric, fs, levels_db_spl, freqs_hz, tone_s=tone_s,
                             fm_hz=fm_hz if kind == "sam" else None,
                             modulation_depth=modulation_depth if kind == "sam" else None)
        res = pipeline.simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="anf",
                             fibres=fibres, cnn_anf_input=cnn_anf_input,
                             reference_options=reference_options, cache=cache, progress=progress)
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


def compute_rate_level(weights="connear-lab", freqs_hz=(1000.0, 4000.0), levels_db_spl=tuple(range(0, 101, 10)),
                       fibres=FIBRES, mode="full", cnn_anf_input="reference", reference_options=None,
                       cache=None, progress=False, setup=None):
    """Metric 5: mean rate 10-40 ms after onset of 50-ms tones vs level, at CFs (spec §4.6).

    Returns dict: setup, freqs_hz (n_f,) snapped, levels_db_spl (n_l,), ref / cnn:
    {fibre: (n_f, n_l) spikes/s}.
    """
    setup = setup or pipeline.prepare(weights, mode, "anf", cnn_anf_input)
    fs = _fs_for(setup)
    stim = build_stimuli("anf_rate_level", fs, levels_db_spl, freqs_hz)
    res = pipeline.simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="anf",
                         fibres=fibres, cnn_anf_input=cnn_anf_input,
                         reference_options=reference_options, cache=cache, progress=progress)
    r, c = _anf_responses(res, fibres, setup)
    n_l = np.atleast_1d(levels_db_spl).size
    n_f = stim.signals.shape[0] // n_l

    def curves(d):
        return None if d is None else {f: metrics.rate_level(v, FS_CNN).reshape(n_f, n_l) for f, v in d.items()}

    return dict(setup=setup, freqs_hz=np.asarray(stim.freqs_hz[::n_l]), levels_db_spl=stim.levels_db_spl[:n_l],
                ref=curves(r), cnn=curves(c))


def compute_synchrony_level(weights="connear-lab", freqs_hz=(1000.0, 4000.0), levels_db_spl=tuple(range(0, 101, 5)),
                            tone_s=None, fm_hz=100.0, modulation_depth=1.0, fibres=FIBRES, mode="full",
                            cnn_anf_input="reference", reference_options=None, cache=None, progress=False,
                            setup=None):
    """Metric 6: vector strength at fm of the rate to SAM tones vs level, at CFs (spec §4.7).

    tone_s: SAM duration (default 0.4 s); the analysis window is the whole tone (from 5 ms after the
    crop start). Returns dict: setup, freqs_hz (n_f,), levels_db_spl (n_l,), fm_hz,
    ref / cnn: {fibre: (n_f, n_l) vector strength}.
    """
    setup = setup or pipeline.prepare(weights, mode, "anf", cnn_anf_input)
    fs = _fs_for(setup)
    stim = build_stimuli("anf_synchrony_level", fs, levels_db_spl, freqs_hz, tone_s=tone_s,
                         fm_hz=None if fm_hz == 100.0 else fm_hz,
                         modulation_depth=None if modulation_depth == 1.0 else modulation_depth)
    res = pipeline.simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="anf",
                         fibres=fibres, cnn_anf_input=cnn_anf_input,
                         reference_options=reference_options, cache=cache, progress=progress)
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


def compute_adaptation(weights="connear-lab", freq_hz=1000.0, level_db_spl=70.0, tone_s=1.0,
                       probe_s=None, fibres=FIBRES, mode="full", cnn_anf_input="reference",
                       reference_options=None, cache=None, progress=False, setup=None):
    """Fig. 4a: ANF rates to a long tone and the adaptation ratio rate(probe)/rate(end) (§4.8).

    tone_s: tone duration (s). probe_s: time after onset of the probe (default 0.4 s, or
    tone_s/3 for tones shorter than 0.5 s). Rates are averaged over the 10 ms before each time.
    Returns dict: setup, time_s (n,) from tone onset, ref / cnn {fibre: (n,) spikes/s},
    ratio_ref / ratio_cnn {fibre: float}, probe_s, tone_s, freq_hz (snapped).
    """
    setup = setup or pipeline.prepare(weights, mode, "anf", cnn_anf_input)
    fs = _fs_for(setup)
    stim = build_stimuli("anf_adaptation", fs, [level_db_spl], [freq_hz],
                         tone_s=None if tone_s == 1.0 else tone_s)
    res = pipeline.simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="anf",
                         fibres=fibres, cnn_anf_input=cnn_anf_input,
                         reference_options=reference_options, cache=cache, progress=progress)
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


def compute_onset_recovery(weights="connear-lab", intervals_s=tuple(round(0.1 * k, 1) for k in range(1, 20)),
                           freq_hz=2000.0, levels_db_spl=None, fibres=FIBRES, mode="full",
                           cnn_anf_input="reference", reference_options=None, cache=None, progress=False,
                           setup=None, keep_traces=False):
    """Fig. 4b: onset peak of the second of two 100-ms tones vs the silent interval (spec §4.8).

    intervals_s: offset-to-onset intervals (s); peaks are normalised by the longest one.
    levels_db_spl: {fibre: level} (default RECOVERY_LEVELS_DB_SPL: 60/65/75 dB).
    keep_traces: also return the cropped rates (for the widgets' waveform view).
    Returns dict: setup, intervals_s (n,), ref / cnn {fibre: (n,) normalised peak},
    and with keep_traces trace_ref / trace_cnn {fibre: (n, n_crop) spikes/s}, time_s.
    """
    setup = setup or pipeline.prepare(weights, mode, "anf", cnn_anf_input)
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
                        reference_options=reference_options, cache=cache, progress=progress)
    for f in fibres:
        stim = stims[f]
        res = pipeline.simulate_batch(stim.signals, fs, setup, row_channels=stim.cf_index, family="anf",
                             fibres=(f,), cnn_anf_input=cnn_anf_input,
                             reference_options=reference_options, cache=cache, progress=progress)
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


# ============================================================================================
# drawing helpers


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _columns(setup):
    cols = ["reference (verhulst2018)"]
    if setup.has_cnn:
        cols.append(f"CoNNear ({setup.label})")
    return cols


def _grid(setup, n_rows, row_height=2.6, width=5.0, sharey="row", sharex=True):
    plt = _pyplot()
    n_cols = len(_columns(setup))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(max(width * n_cols, 7.0), row_height * n_rows + 0.8),
                             squeeze=False, sharey=sharey, sharex=sharex)
    for j, title in enumerate(_columns(setup)):
        axes[0, j].set_title(title, fontsize=10)
    return fig, axes


def _khz_axis(ax, lim, ticks):
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    ax.set_xscale("log")
    ax.set_xlim(*lim)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticklabels([f"{t:g}" for t in ticks])


def _finish(fig, setup, title):
    mode = "full: TL cochlea" if setup.mode == "full" else "light: CoNNear cochlea"
    fig.suptitle(f"{title}  [{mode}]", fontsize=11)
    fig.tight_layout()
    if setup.quality and setup.has_cnn and not setup.note:
        width_in, height_in = fig.get_size_inches()
        chars_per_line = max(20, int(width_in * 0.9 / 0.05))
        n_lines = -(-len(setup.quality) // chars_per_line)
        axes_bottom = min(p.y0 for ax in fig.axes for p in [ax.get_position()])
        fig.subplots_adjust(bottom=min(0.5, axes_bottom + (0.14 * n_lines + 0.1) / height_in))
        fig.text(0.5, 0.01, setup.quality, ha="center", va="bottom", fontsize=7, color="0.3", wrap=True)
    if setup.note:
        width_in, height_in = fig.get_size_inches()
        chars_per_line = max(20, int(width_in * 0.9 / 0.055))  # 7.5-pt text, ~0.055 in per char
        n_lines = sum(-(-max(len(line), 1) // chars_per_line) for line in setup.note.splitlines())
        needed_in = 0.16 * n_lines + 0.2  # note box
        axes_bottom = min(p.y0 for ax in fig.axes for p in [ax.get_position()])
        fig.subplots_adjust(bottom=min(0.6, axes_bottom + needed_in / height_in))
        fig.text(0.5, 0.01, setup.note, ha="center", va="bottom", fontsize=7.5, color="darkred",
                 wrap=True, bbox=dict(boxstyle="round", facecolor="mistyrose", edgecolor="darkred"))
    return fig


def _experimental(name):
    from .experimental_data import load_experimental

    try:
        return load_experimental(name)
    except (FileNotFoundError, ValueError):
        return None


def _plot_experimental(ax, name, style, label):
    d = _experimental(name)
    if d is not None:
        ax.plot(d["x"], d["y"], style, ms=3.5, label=label, alpha=0.8)


# ============================================================================================
# figures

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


def fig2_ihc_excitation_patterns(weights="connear-lab", *, quick=False, freqs_hz=None, levels_db_spl=None,
                                 cf=None, mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 2 (Metric 1): IHC excitation patterns, rows 0.5/1/2 kHz, curves per level.

    freqs_hz: tone frequencies (default 500, 1000, 2000 Hz). levels_db_spl: default 0:10:100
    (quick: 30, 60, 90). cf: CFs (Hz) to draw (default all 201).
    Returns (fig, table): table cf_hz and ref_/cnn_<f>Hz_<L>dB_mV columns (mean V_m in mV).
    """
    freqs = _pick(freqs_hz, quick, "fig2", "freqs_hz", (500.0, 1000.0, 2000.0))
    levels = _pick(levels_db_spl, quick, "fig2", "levels_db_spl", tuple(float(v) for v in range(0, 101, 10)))
    d = compute_excitation_patterns(weights, freqs, levels, cf, mode, reference_options, cache, progress)
    return draw_excitation_patterns(d)


def draw_excitation_patterns(d):
    """Figure of :func:`compute_excitation_patterns` output; returns (fig, table)."""
    plt = _pyplot()
    setup = d["setup"]
    freqs, levels, cfk = d["freqs_hz"], d["levels_db_spl"], d["cf_hz"] / 1e3
    fig, axes = _grid(setup, len(freqs))
    colours = plt.cm.viridis(np.linspace(0, 0.95, len(levels)))
    table = {"cf_hz": d["cf_hz"]}
    for i, f in enumerate(freqs):
        for j, (name, data) in enumerate((("ref", d["ref"]), ("cnn", d["cnn"]))):
            if data is None:
                continue
            ax = axes[i, j]
            if name == "cnn":
                for k in range(len(levels)):
                    ax.semilogx(cfk, d["ref"][f][k] * 1e3, color="0.75", lw=0.8, zorder=1)
            for k, level in enumerate(levels):
                ax.semilogx(cfk, data[f][k] * 1e3, color=colours[k], lw=1.2, label=f"{level:g} dB")
                table[f"{name}_{f:g}Hz_{level:g}dB_mV"] = data[f][k] * 1e3
            ax.axvline(f / 1e3, color="k", lw=0.6, ls=":")
            # the whole CF range (0.11-12 kHz), so that no pattern is cut at its peak
            _khz_axis(ax, (0.1, 14), [0.125, 0.25, 0.5, 1, 2, 4, 8])
            ax.set_ylabel(f"{f / 1e3:g} kHz tone\nmean $V_m$ [mV]")
    # one legend for the levels, outside the data (high-level patterns fill the panels' corners)
    axes[0, -1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), title="level",
                       title_fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("CF [kHz]")
    return _finish(fig, setup, "Fig. 2 - IHC excitation patterns"), table


def fig3a_ihc_ac_dc_ratio(weights="connear-lab", *, quick=False, freqs_hz=None, level_db_spl=80.0,
                          mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 3a (Metric 2): AC/DC ratio of the IHC potential vs CF at 80 dB, with guinea-pig data.

    freqs_hz: tone frequencies (default the paper's 20; quick: 6 of them).
    Returns (fig, table): frequency_hz, ac_dc_ratio_ref, ac_dc_ratio_cnn (if CNN).
    """
    if freqs_hz is None:
        freqs_hz = paper_ac_dc_freqs(QUICK["fig3a"]["n_freqs"] if quick else 20)
    d = compute_ac_dc_ratio(weights, freqs_hz, level_db_spl, mode, reference_options, cache, progress)
    return draw_ac_dc_ratio(d)


def draw_ac_dc_ratio(d, inset_freq_hz=None):
    """Figure of :func:`compute_ac_dc_ratio` output, optionally with a waveform inset at the
    tone nearest inset_freq_hz; returns (fig, table)."""
    setup = d["setup"]
    fig, axes = _grid(setup, 1, row_height=3.6, sharey=True)
    fk = d["freqs_hz"] / 1e3
    table = {"frequency_hz": d["freqs_hz"], "ac_dc_ratio_ref": d["ratio_ref"]}
    for j, (name, ratio) in enumerate((("ref", d["ratio_ref"]), ("cnn", d["ratio_cnn"]))):
        if ratio is None:
            continue
        ax = axes[0, j]
        if name == "cnn":
            ax.loglog(fk, np.abs(d["ratio_ref"]), color="0.7", lw=1, label="reference")
            table["ac_dc_ratio_cnn"] = ratio
        ax.loglog(fk, np.abs(ratio), "k.-", lw=1.5, label="model")
        for cell, style in ((1, "o"), (2, "s")):
            d_exp = _experimental(f"ac_dc_ratio_guinea_pig_cell{cell}")
            if d_exp is not None:
                ax.loglog(d_exp["x"] / 1e3, d_exp["y"], style, mfc="none", ms=4, alpha=0.8,
                          label=f"guinea pig IHC {cell} (Palmer & Russell 1986)")
        _khz_axis(ax, (0.1, 10), [0.1, 0.25, 0.5, 1, 2, 4, 8])
        ax.set_xlabel("frequency [kHz]")
        ax.legend(fontsize=7)
        if inset_freq_hz is not None:
            k = int(np.argmin(np.abs(d["freqs_hz"] - inset_freq_hz)))
            trace = (d["trace_ref"] if name == "ref" else d["trace_cnn"])[k]
            ins = ax.inset_axes([0.08, 0.08, 0.42, 0.32])
            t = d["time_s"] * 1e3
            ins.plot(t, trace * 1e3, lw=0.6, color="k")
            for (a, b), colour in ((d["ac_window_s"], "C1"), (d["dc_window_s"], "C0")):
                ins.axvspan(a * 1e3, b * 1e3, color=colour, alpha=0.3)
            ins.set_title(f"{d['freqs_hz'][k]:.0f} Hz: $V_m$ [mV] vs ms", fontsize=6.5)
            ins.tick_params(labelsize=6)
    axes[0, 0].set_ylabel(f"AC/DC ratio at {d['level_db_spl']:g} dB SPL")
    return _finish(fig, setup, "Fig. 3a - IHC AC/DC ratio"), table


def fig3b_ihc_level_growth(weights="connear-lab", *, quick=False, freq_hz=4000.0, levels_db_spl=None,
                           mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 3b (Metric 3): RMS of the DC-removed IHC potential vs level at 4 kHz.

    levels_db_spl: default 0:10:100 (quick: 0, 30, 60, 90).
    Returns (fig, table): level_db_spl, vihc_rms_ref_mV, vihc_rms_cnn_mV (if CNN).
    """
    levels = _pick(levels_db_spl, quick, "fig3b", "levels_db_spl", tuple(float(v) for v in range(0, 101, 10)))
    d = compute_level_growth(weights, freq_hz, levels, mode, reference_options, cache, progress)
    return draw_level_growth(d)


def draw_level_growth(d):
    """Figure of :func:`compute_level_growth` output; returns (fig, table)."""
    setup = d["setup"]
    fig, axes = _grid(setup, 1, row_height=3.4, sharey=True)
    table = {"level_db_spl": d["levels_db_spl"], "vihc_rms_ref_mV": d["rms_ref"] * 1e3}
    for j, (name, rms) in enumerate((("ref", d["rms_ref"]), ("cnn", d["rms_cnn"]))):
        if rms is None:
            continue
        ax = axes[0, j]
        if name == "cnn":
            ax.plot(d["levels_db_spl"], d["rms_ref"] * 1e3, color="0.7", lw=1, label="reference")
            table["vihc_rms_cnn_mV"] = rms * 1e3
        ax.plot(d["levels_db_spl"], rms * 1e3, "k.-", label="model")
        ax.set_xlabel("level [dB SPL]")
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel(f"RMS of DC-removed $V_m$ [mV]\nCF {d['freq_hz']:.0f} Hz")
    return _finish(fig, setup, "Fig. 3b - IHC potential-level growth"), table


def fig4a_anf_adaptation(weights="connear-lab", *, quick=False, freq_hz=1000.0, level_db_spl=70.0,
                         tone_s=None, mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 4a: adaptation of HSR/MSR/LSR rates to a 1-kHz, 70-dB tone of 1 s (quick: 0.3 s).

    Returns (fig, table): time_s (from tone onset), rate_<fibre>_ref/_cnn (spikes/s), and
    adaptation_ratio_ref/_cnn (rate at the probe time / rate at the tone end, per fibre H/M/L).
    """
    tone = _pick(tone_s, quick, "fig4a", "tone_s", 1.0)
    d = compute_adaptation(weights, freq_hz, level_db_spl, tone, mode=mode,
                           reference_options=reference_options, cache=cache, progress=progress)
    return draw_adaptation(d)


def draw_adaptation(d):
    """Figure of :func:`compute_adaptation` output; returns (fig, table)."""
    setup = d["setup"]
    fibres = list(d["ref"])
    fig, axes = _grid(setup, len(fibres), row_height=2.2, sharey="row")
    t = d["time_s"]
    keep = t >= -0.005
    table = {"time_s": t[keep]}
    for i, f in enumerate(fibres):
        for j, name in enumerate(("ref", "cnn")):
            data = d[name]
            if data is None:
                continue
            ax = axes[i, j]
            if name == "cnn":
                ax.plot(t[keep], d["ref"][f][keep], color="0.75", lw=0.6)
            ratio = d[f"ratio_{name}"][f]
            ax.plot(t[keep], data[f][keep], color=FIBRE_COLOUR[f], lw=0.7,
                    label=f"{FIBRE_LABEL[f]}: rate at {d['probe_s']:g} s = {100 * ratio:.1f} % of end")
            ax.axvline(d["probe_s"], color="k", lw=0.5, ls=":")
            ax.legend(fontsize=7, loc="upper right")
            table[f"rate_{FIBRE_LABEL[f]}_{name}_spikes_per_s"] = data[f][keep]
            table[f"adaptation_ratio_{name}"] = np.array([d[f"ratio_{name}"][g] for g in fibres])
        axes[i, 0].set_ylabel(f"{FIBRE_LABEL[f]} [spikes/s]")
    for ax in axes[-1]:
        ax.set_xlabel("time after tone onset [s]")
    title = f"Fig. 4a - ANF adaptation ({d['freq_hz']:.0f} Hz, {d['level_db_spl']:g} dB SPL, {d['tone_s']:g} s)"
    return _finish(fig, setup, title), table


def fig4b_anf_onset_recovery(weights="connear-lab", *, quick=False, intervals_s=None, freq_hz=2000.0,
                             mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 4b: recovery of the onset peak vs the interval between two 2-kHz 100-ms tones.

    intervals_s: default 0.1:0.1:1.9 s (quick: 0.1, 0.2, 0.4, 0.8, 1.9).
    Returns (fig, table): interval_s and onset_peak_<fibre>_ref/_cnn (normalised to 1.9 s).
    """
    intervals = _pick(intervals_s, quick, "fig4b", "intervals_s", tuple(round(0.1 * k, 1) for k in range(1, 20)))
    d = compute_onset_recovery(weights, intervals, freq_hz, mode=mode, reference_options=reference_options,
                               cache=cache, progress=progress)
    return draw_onset_recovery(d)


def draw_onset_recovery(d, trace_interval_s=None):
    """Figure of :func:`compute_onset_recovery` output; with trace_interval_s (and traces kept)
    a second row shows the rates for that interval. Returns (fig, table)."""
    setup = d["setup"]
    show_trace = trace_interval_s is not None and "trace_ref" in d
    fig, axes = _grid(setup, 2 if show_trace else 1, row_height=3.2, sharey="row", sharex=False)
    x = d["intervals_s"]
    table = {"interval_s": x}
    for j, name in enumerate(("ref", "cnn")):
        data = d[name]
        if data is None:
            continue
        ax = axes[0, j]
        for f, y in data.items():
            if name == "cnn":
                ax.plot(x, d["ref"][f], color="0.75", lw=0.8)
            ax.plot(x, y, ".-", color=FIBRE_COLOUR[f],
                    label=f"{FIBRE_LABEL[f]} ({d['levels_db_spl'][f]:g} dB SPL)")
            table[f"onset_peak_{FIBRE_LABEL[f]}_{name}"] = y
        ax.set_xlabel("inter-stimulus interval [s]")
        ax.legend(fontsize=7)
        if show_trace:
            k = int(np.argmin(np.abs(x - trace_interval_s)))
            axt = axes[1, j]
            traces = d[f"trace_{name}"]
            for f, tr in traces.items():
                axt.plot(d["time_s"], tr[k], color=FIBRE_COLOUR[f], lw=0.6, label=FIBRE_LABEL[f])
            axt.set_xlabel(f"time [s] (interval {x[k]:g} s)")
            axt.set_ylabel("rate [spikes/s]")
            axt.legend(fontsize=7)
    axes[0, 0].set_ylabel("onset peak of 2nd tone\n(relative to the longest interval)")
    title = f"Fig. 4b - ANF onset-peak recovery ({d['freq_hz']:.0f} Hz tone pairs)"
    return _finish(fig, setup, title), table


def draw_adaptation_recovery(adaptation, recovery, interval_s):
    """One figure of Fig. 4a and 4b: adaptation rates (row 1), recovery curves with the chosen
    interval marked (row 2) and the rates for that interval (row 3); the widgets' view.

    adaptation: :func:`compute_adaptation` output; recovery: :func:`compute_onset_recovery`
    output made with keep_traces=True. Returns (fig, table).
    """
    setup = recovery["setup"]
    fig, axes = _grid(setup, 3, row_height=2.4, sharey="row", sharex=False)
    table = {}
    x = recovery["intervals_s"]
    k = int(np.argmin(np.abs(x - interval_s)))
    t_a = adaptation["time_s"]
    keep = t_a >= -0.005
    table["adaptation_time_s"] = t_a[keep]
    table["interval_s"] = x
    for j, name in enumerate(("ref", "cnn")):
        if recovery[name] is None or adaptation[name] is None:
            continue
        ax = axes[0, j]
        for f, y in adaptation[name].items():
            ax.plot(t_a[keep], y[keep], color=FIBRE_COLOUR[f], lw=0.5, label=FIBRE_LABEL[f])
            table[f"adaptation_{FIBRE_LABEL[f]}_{name}_spikes_per_s"] = y[keep]
        ax.set_xlabel(f"time after onset of a {adaptation['tone_s']:g}-s tone [s]")
        ax.legend(fontsize=7, loc="upper right")
        ax = axes[1, j]
        for f, y in recovery[name].items():
            ax.plot(x, y, ".-", color=FIBRE_COLOUR[f], label=FIBRE_LABEL[f])
            table[f"onset_peak_{FIBRE_LABEL[f]}_{name}"] = y
        ax.axvline(x[k], color="k", lw=0.8, ls=":")
        ax.set_xlabel("inter-stimulus interval [s]")
        ax = axes[2, j]
        for f, tr in recovery[f"trace_{name}"].items():
            ax.plot(recovery["time_s"], tr[k], color=FIBRE_COLOUR[f], lw=0.5, label=FIBRE_LABEL[f])
            table[f"trace_{FIBRE_LABEL[f]}_{name}_spikes_per_s"] = tr[k]
        ax.set_xlabel(f"time [s], tone pair with a {x[k]:g}-s interval")
    table["trace_time_s"] = recovery["time_s"]
    axes[0, 0].set_ylabel("rate [spikes/s]")
    axes[1, 0].set_ylabel("2nd onset peak\n(rel. to longest interval)")
    axes[2, 0].set_ylabel("rate [spikes/s]")
    return _finish(fig, setup, "Fig. 4a-b - ANF adaptation and recovery"), table


def fig5_anf_firing_rates(weights="connear-lab", *, quick=False, freqs_hz=(1000.0, 4000.0), level_db_spl=70.0,
                          tone_s=None, mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 5 (Metric 4): HSR/MSR/LSR rates over the first 80 ms of 70-dB pure and SAM tones.

    tone_s: tone duration (default 0.4 s; quick 0.1 s: the plot shows 80 ms either way).
    Returns (fig, table): time_ms and rate_<kind>_<f>Hz_<fibre>_ref/_cnn (spikes/s).
    """
    tone = _pick(tone_s, quick, "fig5", "tone_s", None)
    d = compute_anf_firing_rates(weights, freqs_hz, ("pure", "sam"), (level_db_spl,), tone, mode=mode,
                                 reference_options=reference_options, cache=cache, progress=progress)
    return draw_anf_firing_rates(d)


def draw_anf_firing_rates(d, plot_window_s=metrics.ANF_FIRING_RATE_PLOT_WINDOW_S):
    """Figure of :func:`compute_anf_firing_rates` output (one row per condition); (fig, table)."""
    setup = d["setup"]
    conds = d["conditions"]
    fig, axes = _grid(setup, len(conds), row_height=2.2, sharey="row")
    sl = metrics.window_slice(plot_window_s, FS_CNN, d["time_s"].size)
    t = d["time_s"][sl] * 1e3
    table = {"time_ms": t}
    for i, (kind, f, level) in enumerate(conds):
        for j, name in enumerate(("ref", "cnn")):
            data = d[name]
            if data is None:
                continue
            ax = axes[i, j]
            for fib, y in data.items():
                if name == "cnn":
                    ax.plot(t, d["ref"][fib][i, sl], color="0.8", lw=0.6)
                ax.plot(t, y[i, sl], color=FIBRE_COLOUR[fib], lw=0.8, label=FIBRE_LABEL[fib])
                table[f"rate_{kind}_{f:.0f}Hz_{level:g}dB_{FIBRE_LABEL[fib]}_{name}"] = y[i, sl]
        label = "SAM tone" if kind == "sam" else "pure tone"
        axes[i, 0].set_ylabel(f"{f / 1e3:.2f} kHz {label}\n{level:g} dB [spikes/s]", fontsize=8)
        axes[i, 0].legend(fontsize=6.5, loc="upper right")
    for ax in axes[-1]:
        ax.set_xlabel("time [ms]")
    return _finish(fig, setup, "Fig. 5 - ANF firing rates"), table


def fig6a_anf_rate_level(weights="connear-lab", *, quick=False, freqs_hz=(1000.0, 4000.0), levels_db_spl=None,
                         mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 6a (Metric 5): rate-level curves at 1 and 4 kHz with guinea-pig and mouse data.

    levels_db_spl: default 0:10:100 (quick: 0:20:80).
    Returns (fig, table): level_db_spl and rate_<fibre>_<f>Hz_ref/_cnn (spikes/s).
    """
    levels = _pick(levels_db_spl, quick, "fig6a", "levels_db_spl", tuple(float(v) for v in range(0, 101, 10)))
    d = compute_rate_level(weights, freqs_hz, levels, mode=mode, reference_options=reference_options,
                           cache=cache, progress=progress)
    return draw_rate_level(d)


_RATE_LEVEL_DATA = {
    "anfh": (("rate_level_hsr_guinea_pig", "guinea pig (Winter & Palmer 1991)"),
             ("rate_level_hsr_mouse", "mouse (Taberner & Liberman 2005)")),
    "anfm": (("rate_level_msr_guinea_pig", "guinea pig (Winter & Palmer 1991)"),
             ("rate_level_msr_mouse", "mouse (Taberner & Liberman 2005)")),
    "anfl": (("rate_level_lsr_guinea_pig", "guinea pig (Winter & Palmer 1991)"),),
}
_SYNCHRONY_DATA = {f: ((f"synchrony_level_{FIBRE_LABEL[f].lower()}_cat", "cat (Joris & Yin 1992)"),) for f in FIBRES}
#: Line style of a CF in the level-curve figures, fixed per octave band around 1 kHz (so that adding
#: or removing a CF never restyles the others): 1 kHz dashed and 4 kHz solid as in the paper.
_OCTAVE_STYLES = ("--", ":", "-", (0, (6, 1.5, 1, 1.5)), "-.")


def _cf_style(freq_hz):
    return _OCTAVE_STYLES[int(round(np.log2(freq_hz / 1000.0))) % len(_OCTAVE_STYLES)]


def _draw_level_curves(d, experimental, ylabel, title, quantity, ylim=None):
    setup = d["setup"]
    fibres = list(d["ref"])
    fig, axes = _grid(setup, len(fibres), row_height=2.5, sharey="row")
    levels = d["levels_db_spl"]
    table = {"level_db_spl": levels}
    for i, fib in enumerate(fibres):
        for j, name in enumerate(("ref", "cnn")):
            data = d[name]
            if data is None:
                continue
            ax = axes[i, j]
            for k, f in enumerate(d["freqs_hz"]):
                style = _cf_style(f)
                if name == "cnn":
                    ax.plot(levels, d["ref"][fib][k], linestyle=style, color="0.7", lw=1)
                ax.plot(levels, data[fib][k], linestyle=style, color=FIBRE_COLOUR[fib], lw=1.5, marker=".",
                        label=f"model, CF {f / 1e3:.2f} kHz")
                table[f"{quantity}_{FIBRE_LABEL[fib]}_{f:.0f}Hz_{name}"] = data[fib][k]
            for (dataset, label), mk in zip(experimental.get(fib, ()), ("o", "s")):
                _plot_experimental(ax, dataset, mk, label)
            if ylim:
                ax.set_ylim(*ylim)
        # one legend per row, outside the data (the experimental points fill the panels)
        drawn = [ax for ax in axes[i] if ax.lines]
        if drawn:
            drawn[-1].legend(fontsize=7.5, handlelength=3.5, loc="upper left", bbox_to_anchor=(1.02, 1.0))
        axes[i, 0].set_ylabel(f"{FIBRE_LABEL[fib]}\n{ylabel}")
    for ax in axes[-1]:
        ax.set_xlabel("level [dB SPL]")
    return _finish(fig, setup, title), table


def draw_rate_level(d):
    """Figure of :func:`compute_rate_level` output; returns (fig, table)."""
    return _draw_level_curves(d, _RATE_LEVEL_DATA, "rate [spikes/s]", "Fig. 6a - ANF rate-level curves", "rate")


def fig6b_anf_synchrony_level(weights="connear-lab", *, quick=False, freqs_hz=(1000.0, 4000.0), levels_db_spl=None,
                              tone_s=None, mode="full", reference_options=None, cache=None, progress=False):
    """Fig. 6b (Metric 6): vector strength at 100 Hz vs level for SAM tones, with cat data.

    levels_db_spl: default 0:5:100 (quick: 20, 50, 80). tone_s: SAM duration (default 0.4 s;
    quick 0.1 s). Returns (fig, table): level_db_spl and vs_<fibre>_<f>Hz_ref/_cnn.
    """
    levels = _pick(levels_db_spl, quick, "fig6b", "levels_db_spl", tuple(float(v) for v in range(0, 101, 5)))
    tone = _pick(tone_s, quick, "fig6b", "tone_s", None)
    d = compute_synchrony_level(weights, freqs_hz, levels, tone, mode=mode, reference_options=reference_options,
                                cache=cache, progress=progress)
    return draw_synchrony_level(d)


def draw_synchrony_level(d):
    """Figure of :func:`compute_synchrony_level` output; returns (fig, table)."""
    return _draw_level_curves(d, _SYNCHRONY_DATA, f"vector strength at {d['fm_hz']:g} Hz",
                              "Fig. 6b - ANF synchrony-level curves", "vs", ylim=(0, 1))


# ============================================================================================
# the headless run


def tone_response(freq_hz=1000.0, level_db_spl=70.0, cf=(250.0, 500.0, 1000.0, 2000.0, 4000.0),
                  engine=None):
    """BM velocity, IHC potential and HSR/MSR/LSR rates of verhulst2018 for a tone.

    engine: verhulst2018 engine (None: pipeline.ENGINE_FOR_COMPARISON, "exact"; or "fast").
    Returns (figure, table) where table maps column names to 1-D arrays (time, responses).
    """
    from .pipeline import ENGINE_FOR_COMPARISON, check_engine

    engine = check_engine(ENGINE_FOR_COMPARISON if engine is None else engine)
    plt = _pyplot()

    import verhulst2018

    fs = verhulst2018.FS
    x = stimuli.pure_tone(freq_hz, level_db_spl, 0.05, fs, ramp_s=5e-3)
    x = stimuli.add_silence(x, fs, 0.01, 0.02)
    out = verhulst2018.simulate(x, fs=fs, cf=np.asarray(cf), outputs=("v", "ihc", "anfh", "anfm", "anfl"),
                              engine=engine, progress=False)
    t = np.arange(x.size) / fs
    t_an = np.arange(out.anfh.shape[0]) / out.fs_anf
    k = int(np.argmin(np.abs(out.cf - freq_hz)))
    fig, ax = plt.subplots(4, 1, figsize=(7, 8), sharex=True)
    ax[0].plot(t * 1e3, x * 1e3, color="0.3")
    ax[0].set_ylabel("pressure [mPa]")
    for i, f in enumerate(out.cf):
        ax[1].plot(t * 1e3, out.v[:, i] * 1e6, lw=0.8, label=f"{f:.0f} Hz")
    ax[1].set_ylabel("BM velocity [µm/s]")
    ax[1].legend(fontsize=7, ncol=3, title="CF", title_fontsize=7)
    ax[2].plot(t * 1e3, out.ihc[:, k] * 1e3, color="C3")
    ax[2].set_ylabel(f"IHC potential [mV]\nCF {out.cf[k]:.0f} Hz")
    for name, label in (("anfh", "HSR"), ("anfm", "MSR"), ("anfl", "LSR")):
        ax[3].plot(t_an * 1e3, getattr(out, name)[:, k], lw=0.8, label=label)
    ax[3].set_ylabel("firing rate [spikes/s]")
    ax[3].set_xlabel("time [ms]")
    ax[3].legend(fontsize=8)
    fig.suptitle(f"verhulst2018: {freq_hz:.0f}-Hz tone at {level_db_spl:.0f} dB SPL")
    fig.tight_layout()
    table = {"time_s": t, "pressure_pa": x}
    for i, f in enumerate(out.cf):
        table[f"vbm_{f:.0f}Hz_m_per_s"] = out.v[:, i]
    table[f"vihc_{out.cf[k]:.0f}Hz_V"] = out.ihc[:, k]
    return fig, table


#: The figures of the headless run, in order: name -> function(weights, quick=..., ...).
def table2_runtime(weights="connear-lab", **kwargs):
    """Table 2: run times per stage, reference vs CoNNear (see connear_helpers.runtime).

    The figure run times each stage once (repeats=1); notebook 08 repeats three times.
    """
    from .runtime import table2_runtime as run

    kwargs.setdefault("repeats", 1)
    return run(weights, **kwargs)


def fig8_backpropagation(weights="connear-lab", **kwargs):
    """Fig. 8: a processing network trained through the frozen CNNs (see connear_helpers.backprop).

    The figure run trains for 100 steps on the CPU (notebook 09: the full 300 steps).
    """
    from .backprop import fig8_backpropagation as run

    kwargs.setdefault("steps", 100)
    return run(weights, **kwargs)


FIGURES = {
    "fig2_ihc_excitation_patterns": fig2_ihc_excitation_patterns,
    "fig3a_ihc_ac_dc_ratio": fig3a_ihc_ac_dc_ratio,
    "fig3b_ihc_level_growth": fig3b_ihc_level_growth,
    "fig4a_anf_adaptation": fig4a_anf_adaptation,
    "fig4b_anf_onset_recovery": fig4b_anf_onset_recovery,
    "fig5_anf_firing_rates": fig5_anf_firing_rates,
    "fig6a_anf_rate_level": fig6a_anf_rate_level,
    "fig6b_anf_synchrony_level": fig6b_anf_synchrony_level,
    "table2_runtime": table2_runtime,
    "fig8_backpropagation": fig8_backpropagation,
}


def save_table(path, table):
    """Write a dict of equal- or unequal-length 1-D arrays as a CSV (shorter columns padded empty)."""
    names = list(table)
    n = max(len(v) for v in table.values())
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for i in range(n):
            f.write(",".join(_csv_cell(table[c], i) for c in names) + "\n")


def _csv_cell(column, i):
    """One CSV cell: numbers with 10 significant digits, text quoted, missing rows empty."""
    if i >= len(column):
        return ""
    value = column[i]
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{value:.10g}"
    text = str(value).replace('"', '""')
    return f'"{text}"' if any(ch in text for ch in ',"\n') else text


def run_all(out, weights="connear-lab", quick=False, mode="full", names=None, cache=None, progress=True):
    """Draw figures and write <name>.png and <name>.csv into the folder out.

    names: figure names (keys of FIGURES; default all). cache: SimulationCache (default: memory
    plus the on-disk folder pipeline.default_cache_dir()). Returns dict name -> (png path, csv path, seconds).
    """
    import matplotlib.pyplot as plt
    from tqdm.auto import tqdm

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = list(FIGURES) if names is None else list(names)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {unknown}; choose from {', '.join(FIGURES)}")
    if cache is None:
        cache = pipeline.DEFAULT_CACHE.with_directory(pipeline.default_cache_dir())
    written = {}
    bar = tqdm(names, desc="figures", unit="figure", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        t0 = time.perf_counter()
        fig, table = FIGURES[name](weights, quick=quick, mode=mode, cache=cache, progress=False)
        png, csv = out / f"{name}.png", out / f"{name}.csv"
        fig.savefig(png, dpi=120)
        plt.close(fig)
        save_table(csv, table)
        written[name] = (png, csv, time.perf_counter() - t0)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="connear-figures",
        description="Regenerate the CoNNear paper's figures (PNG + the numbers behind each as CSV).")
    parser.add_argument("--out", default="figures", help="output folder (default: figures/)")
    parser.add_argument("--quick", action="store_true",
                        help="reduced version: fewer levels and frequencies, shorter tones (a few minutes)")
    parser.add_argument("--weights", default="connear-lab",
                        help="CoNNear weights: connear-lab (default), official, or a folder of weight files")
    parser.add_argument("--mode", choices=MODES, default="full",
                        help="full: verhulst2018 TL cochlea (default); light: CoNNear cochlea")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=list(FIGURES),
                        help="draw only these figures")
    parser.add_argument("--no-cache", action="store_true",
                        help=f"do not read or write the on-disk simulation cache ({pipeline.default_cache_dir()})")
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    cache = pipeline.DEFAULT_CACHE.with_directory(None if args.no_cache else pipeline.default_cache_dir())
    t0 = time.perf_counter()
    written = run_all(args.out, args.weights, args.quick, args.mode, args.only, cache)
    out = pathlib.Path(args.out).resolve()
    for name, (_, _, seconds) in written.items():
        print(f"  {name}.png/.csv  ({seconds:.0f} s)")
    print(f"Wrote {len(written)} figure(s) with their numbers to {out} in {time.perf_counter() - t0:.0f} s")
    if cache.directory is not None:
        print(f"Simulations are cached in {cache.directory} (delete it to recompute; --no-cache skips it)")
    print('Open the lab in JupyterLab:  pip install -e ".[lab]" && jupyter lab notebooks/')
    return 0


if __name__ == "__main__":
    sys.exit(main())
