"""An encoding study: one stimulus set, several front ends, targets and models, fitted and scored.

:class:`EncodingStudy` computes the front ends of a :class:`~connear_helpers.encoding.data.StimulusSet`
once (the periphery ones through the shared simulation cache), builds the targets, holds out
test stimuli (chosen with the seed), and fits and scores models on demand, remembering each fit:

* target ``"synthetic"``: synthetic LN neurons with known STRFs, drawn and calibrated on each
  front end's own input (so each front end has its own synthetic neurons), Poisson repeats;
* target ``"ic"``: the verhulst2018 IC population at the study's CFs (the same for every front end);
* target ``"recorded"``: the user's own recordings (:func:`~connear_helpers.encoding.data.load_responses`)
  when the study is made with ``recordings=``.

Front ends: ``"mel"``, ``"anf"`` and ``"ihc"`` (verhulst2018), and ``"anf_connear"`` (the CoNNear
ANF models on the TL cochlea; needs ``weights``: when they cannot be loaded the front end is left
out and :attr:`EncodingStudy.notes` says why).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from . import fitting, scoring
from . import models as _models
from . import targets as _targets
from .front_ends import frontends as _frontends

__all__ = ["EncodingStudy", "Fitted", "FRONTEND_LABELS", "MODEL_LABELS", "strf_recovery", "build_study",
           "format_table", "frontend_comparison", "comparison_table", "QUICK"]

FRONTEND_LABELS = {"mel": "mel spectrogram", "anf": "ANF (reference)", "ihc": "IHC (reference)",
                   "anf_connear": "ANF (CoNNear)"}
MODEL_LABELS = {"linear": "Linear", "ln": "LN", "nrf": "NRF", "dnet": "DNet", "cnn2d": "2D-CNN"}
TARGET_LABELS = {"synthetic": "synthetic LN neurons", "ic": "verhulst2018 IC", "recorded": "recordings"}
#: Model options used unless a fit gives others (H: hidden units; l2: weight penalty). NRF and
#: DNet get H = max(MIN_HIDDEN, number of neurons): as many hidden STRFs as the Linear model has
#: STRFs, so a population target is not squeezed through fewer units than it has neurons; their
#: penalty also acts on the readout, and 0.01 held them below the LN model on the IC target
#: (held-out CC 0.46 against 0.60 with 0.001, ANF front end).
DEFAULT_MODEL_OPTIONS = {"linear": {"l2": 0.01}, "ln": {"l2": 0.01}, "nrf": {"l2": 0.001},
                         "dnet": {"l2": 0.001}, "cnn2d": {"H": 16, "l2": 0.001}}
MIN_HIDDEN = 6


@dataclasses.dataclass
class Fitted:
    """One fitted model and its held-out scores.

    frontend, target, model_name: what was fitted. model: the Keras model. fit: the FitResult.
    prediction: (n_test, n_bins, O) predicted rates (spikes/s) on the test stimuli.
    scores: :class:`~connear_helpers.encoding.scoring.Scores` on the test stimuli.
    strf_correlation: (O,) correlation of fitted and true STRFs (synthetic target, STRF
    models without prefilter), else None. options: the model options.
    """

    frontend: str
    target: str
    model_name: str
    model: object
    fit: object
    prediction: np.ndarray
    scores: object
    strf_correlation: np.ndarray | None
    options: dict

    def row(self):
        """A table row: dict of str/float (medians over neurons)."""
        s = self.scores.summary()
        return {"target": self.target, "frontend": self.frontend, "model": self.model_name,
                "cc": s["cc"], "ccnorm": s["ccnorm"],
                "strf_corr": float(np.median(self.strf_correlation)) if self.strf_correlation is not None
                else float("nan"),
                "epochs": self.fit.best_epoch, "parameters": int(sum(int(np.prod(w.shape))
                                                                   for w in self.model.trainable_weights))}


def _split(n, test_fraction, seed):
    if n < 3:
        raise ValueError(f"a study needs at least 3 stimuli (train, validation, test), got {n}; use shorter "
                         "segments or more sounds")
    n_test = min(n - 2, max(1, int(round(test_fraction * n))))
    order = np.random.default_rng(np.random.SeedSequence([int(seed), 14])).permutation(n)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


class EncodingStudy:
    """Front ends, targets and fitted models of one stimulus set.

    stimuli: a StimulusSet (or anything with signals (n, n_samples) Pa and fs Hz).
    cf: CFs (Hz) of the periphery front ends and of the IC population; the mel filter bank spans
        the same range with as many bands. frontends: names (module docstring).
    bin_s: time bin (s). n_repeats: Poisson repeats of the synthetic and IC targets.
    n_synthetic: synthetic neurons per front end. context_s: the models' past context (and the
        synthetic STRFs' length) in s. test_fraction: share of stimuli held out for scoring.
    targets: which targets to build ("synthetic", "ic"). recordings: Responses from
        load_responses to use as target "recorded" instead (their stimuli replace ``stimuli``).
    weights: CoNNear weights for "anf_connear". fit_options: defaults for
        :func:`~connear_helpers.encoding.fitting.fit` (epochs, patience, learning_rate, batch_size).
    model_names: the models :meth:`compare` fits by default. recovery_fractions: the training
        shares :meth:`strf_recovery` uses by default.
    seed: test split, synthetic neurons, spike counts, initial weights. cache, progress, engine:
        as front_ends.periphery_records ("exact" or "fast" verhulst2018 engine).
    """

    def __init__(self, stimuli, cf, frontends=("mel", "anf"), bin_s=0.005, n_repeats=8, n_synthetic=4,
                 context_s=0.05, test_fraction=0.25, targets=("synthetic", "ic"), recordings=None, weights=None,
                 fit_options=None, model_names=tuple(_models.MODELS), recovery_fractions=(0.25, 0.5, 1.0), seed=0,
                 cache=None, progress=False, engine="exact"):
        self.notes = list(getattr(stimuli, "notes", ()))
        self.model_names, self.recovery_fractions = tuple(model_names), tuple(recovery_fractions)
        if recordings is not None:
            signals, fs = recordings.stimuli, recordings.fs
            bin_s = recordings.dt
            targets_wanted = ("recorded",)
        else:
            signals, fs = np.asarray(stimuli.signals), float(stimuli.fs)
            targets_wanted = tuple(targets)
        for t in targets_wanted:
            if t not in TARGET_LABELS:
                raise ValueError(f"unknown target {t!r}; choose from {tuple(TARGET_LABELS)}")
        for f in frontends:
            if f not in FRONTEND_LABELS:
                raise ValueError(f"unknown front end {f!r}; choose from {tuple(FRONTEND_LABELS)}")
        self.signals, self.fs, self.bin_s, self.seed = signals, fs, float(bin_s), int(seed)
        self.names = tuple(getattr(stimuli, "names", ())) if recordings is None else recordings.stimulus_names
        self.cf = np.sort(np.asarray(cf, dtype=np.float64))
        self.context_s, self.n_repeats = float(context_s), int(n_repeats)
        self.T = max(3, int(round(context_s / bin_s)))
        self.fit_options = dict(fit_options or {})
        self.engine = engine
        self.inputs = {}
        for f in frontends:
            try:
                self.inputs[f] = self._frontend(f, weights, cache, progress)
            except Exception as exc:  # noqa: BLE001 - only the optional CoNNear front end may fail
                if f != "anf_connear":
                    raise
                self.notes.append(f"front end 'anf_connear' left out: {str(exc).splitlines()[0]} "
                                  "(the study shows the reference model only)")
        n_bins = min(x.shape[1] for x, _, _ in self.inputs.values())
        self.inputs = {k: (x[:, :n_bins], fr, dt) for k, (x, fr, dt) in self.inputs.items()}
        self.n_bins = n_bins
        self.train_index, self.test_index = _split(signals.shape[0], test_fraction, seed)
        self.synthetic = {}
        self.targets = {}
        if "ic" in targets_wanted:
            ic = _targets.ic_population(signals, fs, self.cf, self.bin_s, n_repeats, seed=seed + 1, cache=cache,
                                       progress=progress, engine=engine)
            self.targets["ic"] = self._trim(ic)
        if "synthetic" in targets_wanted:
            for k, (x, fr, dt) in self.inputs.items():
                neurons = _targets.synthetic_neurons(x, fr, dt, n_synthetic, context_s, seed=seed + 2)
                self.synthetic[k] = neurons
                self.targets[("synthetic", k)] = neurons.responses(x, n_repeats, seed=seed + 3)
        if "recorded" in targets_wanted:
            self.targets["recorded"] = self._trim(recordings)
        self.fitted = {}

    def _frontend(self, name, weights, cache, progress):
        kw = dict(cf=self.cf, bin_s=self.bin_s, cache=cache, progress=progress, engine=self.engine)
        if name == "mel":
            return _frontends(self.signals, self.fs, "mel", n_mels=self.cf.size, **kw)
        if name == "anf_connear":
            if weights is None:
                raise ValueError("no CoNNear weights given (weights=None)")
            return _frontends(self.signals, self.fs, "anf", source="connear", weights=weights, **kw)
        return _frontends(self.signals, self.fs, name, **kw)

    def _trim(self, responses):
        return dataclasses.replace(responses, repeats=responses.repeats[:, :, :self.n_bins],
                                   rates=None if responses.rates is None else responses.rates[:, :self.n_bins])

    @property
    def frontends(self):
        """The front ends available (tuple of names)."""
        return tuple(self.inputs)

    @property
    def target_names(self):
        """The targets available (tuple of names)."""
        return tuple(dict.fromkeys(t if isinstance(t, str) else t[0] for t in self.targets))

    def responses(self, target, frontend):
        """The Responses of a target as seen with a front end (synthetic neurons differ per front end)."""
        key = ("synthetic", frontend) if target == "synthetic" else target
        if key not in self.targets:
            raise KeyError(f"no target {target!r} for front end {frontend!r}; targets: {self.target_names}, "
                           f"front ends: {self.frontends}")
        return self.targets[key]

    def true_strfs(self, target, frontend):
        """(O, T, F) true STRFs of the synthetic neurons of a front end, or None for other targets."""
        return self.synthetic[frontend].strfs if target == "synthetic" else None

    def fit(self, frontend, model, target="synthetic", train_index=None, progress=False, **model_options):
        """Fit a model (remembered by its arguments) and score it on the test stimuli. Returns :class:`Fitted`.

        frontend: a front end of the study. model: "linear", "ln", "nrf", "dnet", "cnn2d".
        target: a target of the study. train_index: stimuli to train on (default all
        non-test stimuli). model_options: constructor options over DEFAULT_MODEL_OPTIONS (T, H,
        l2, rank, prefilter, ...; NRF and DNet have H = max(6, neurons) unless given).
        """
        if frontend not in self.inputs:
            raise KeyError(f"no front end {frontend!r}; this study has {self.frontends}")
        if model not in _models.MODELS:
            raise ValueError(f"unknown model {model!r}; choose one of {tuple(_models.MODELS)}")
        opts = {**DEFAULT_MODEL_OPTIONS.get(model, {}), **model_options}
        opts.setdefault("T", self.T)
        if model in ("nrf", "dnet"):
            opts.setdefault("H", max(MIN_HIDDEN, self.responses(target, frontend).n_neurons))
        train = self.train_index if train_index is None else np.asarray(train_index)
        key = (frontend, target, model, tuple(sorted((k, repr(v)) for k, v in opts.items())), tuple(train.tolist()),
               tuple(sorted((k, repr(v)) for k, v in self.fit_options.items())))
        if key in self.fitted:
            return self.fitted[key]
        x, _, dt = self.inputs[frontend]
        resp = self.responses(target, frontend)
        T = opts.pop("T")
        m = _models.build_model(model, T, x.shape[-1], resp.n_neurons, dt=dt, seed=self.seed, **opts)
        fit_kw = {**self.fit_options, "seed": self.seed, "progress": progress}
        result = fitting.fit(m, x[train], resp.repeats[train], **fit_kw)
        pred = fitting.predict(m, x[self.test_index])
        sc = scoring.score(pred, resp.repeats[self.test_index], seed=self.seed)
        corr = None
        if target == "synthetic" and m.has_strfs and m.prefilter is None and model in ("linear", "ln"):
            corr = scoring.strf_correlation(self.synthetic[frontend].strfs, m.strfs())
        opts["T"] = T
        out = Fitted(frontend, target, model, m, result, pred, sc, corr, opts)
        self.fitted[key] = out
        return out

    def compare(self, model_names=None, frontends=None, target_names=None, progress=True, **model_options):
        """Fit every model (default: the study's model_names) on every front end and target.

        Returns a list of :class:`Fitted`, targets outermost, then front ends, then models.
        """
        from tqdm.auto import tqdm

        model_names = self.model_names if model_names is None else tuple(model_names)
        fronts = self.frontends if frontends is None else tuple(frontends)
        tnames = self.target_names if target_names is None else tuple(target_names)
        jobs = [(t, f, m) for t in tnames for f in fronts for m in model_names]
        out = []
        for t, f, m in tqdm(jobs, desc="fitting", unit="model", disable=not progress):
            out.append(self.fit(f, m, t, **model_options))
        return out

    def strf_recovery(self, frontend, fractions=None, model="linear", **model_options):
        """STRF correlation (true vs fitted) against the amount of training data, synthetic target.

        fractions: shares of the training stimuli used (the first ones of a seeded order;
        default the study's recovery_fractions).
        Returns dict: "n_stimuli" (k,), "seconds" (k,) of training sound, "strf_corr" (k, O),
        "cc" (k, O) held-out CC.
        """
        fractions = self.recovery_fractions if fractions is None else fractions
        order = np.random.default_rng(self.seed + 5).permutation(self.train_index)
        rows = {"n_stimuli": [], "seconds": [], "strf_corr": [], "cc": []}
        for frac in fractions:
            n = max(2, int(round(frac * order.size)))
            fitted = self.fit(frontend, model, "synthetic", train_index=np.sort(order[:n]), **model_options)
            rows["n_stimuli"].append(n)
            rows["seconds"].append(n * self.n_bins * self.bin_s)
            rows["strf_corr"].append(fitted.strf_correlation)
            rows["cc"].append(fitted.scores.cc)
        return {k: np.asarray(v) for k, v in rows.items()}

    def table(self, fitted=None):
        """Rows (list of dicts) of the fits made so far, or of ``fitted``."""
        items = list(self.fitted.values()) if fitted is None else list(fitted)
        return [f.row() for f in items]

    def __repr__(self):
        fr = ", ".join(f"{k} {v[0].shape[-1]} bands" for k, v in self.inputs.items())
        return (f"EncodingStudy({self.signals.shape[0]} stimuli ({self.train_index.size} train / "
                f"{self.test_index.size} test) x {self.n_bins} bins of {self.bin_s * 1e3:g} ms; front ends: {fr}; "
                f"targets: {', '.join(self.target_names)}; {len(self.fitted)} fits)")


def strf_recovery(study, frontends=None, fractions=None, model="linear", **model_options):
    """:meth:`EncodingStudy.strf_recovery` for several front ends: dict front end -> its result."""
    fronts = study.frontends if frontends is None else tuple(frontends)
    return {f: study.strf_recovery(f, fractions, model, **model_options) for f in fronts}


def format_table(rows):
    """A fixed-width text table of :meth:`EncodingStudy.table` rows (medians over neurons)."""
    head = f"{'target':<22}{'front end':<18}{'model':<8}{'CC':>7}{'CCnorm':>8}{'STRF r':>8}{'epoch':>7}{'params':>8}"
    lines = [head, "-" * len(head)]
    def fmt(v):
        return "   -" if not np.isfinite(v) else f"{v:.3f}"

    for r in rows:
        target = TARGET_LABELS.get(r["target"], r["target"])
        front = FRONTEND_LABELS.get(r["frontend"], r["frontend"])
        lines.append(f"{target:<22}{front:<18}{MODEL_LABELS.get(r['model'], r['model']):<8}{fmt(r['cc']):>7}"
                     f"{fmt(r['ccnorm']):>8}{fmt(r['strf_corr']):>8}{r['epochs']:>7}{r['parameters']:>8}")
    return "\n".join(lines)


#: Sizes of :func:`build_study` with ``quick=True`` (the notebook's CI mode): about 1.6 s of sound
#: through the TL model, and the Linear and LN models only.
QUICK = {"n_cf": 8, "segment_s": 0.2, "n_sentences": 1, "max_segments_per_sound": 3, "n_tone_segments": 1,
         "n_noise_segments": 1, "n_repeats": 6, "n_synthetic": 3, "epochs": 60, "patience": 10,
         "models": ("linear", "ln"), "recovery_fractions": (0.5, 1.0)}


def build_study(n_cf=16, cf_range_hz=(250.0, 8000.0), segment_s=0.5, n_sentences=6, n_tone_segments=4,
                n_noise_segments=4, max_segments_per_sound=None, level_db_spl=65.0, frontends=("mel", "anf"),
                bin_s=0.005, n_repeats=10, n_synthetic=4, context_s=0.05, weights=None,
                models=tuple(_models.MODELS), recovery_fractions=(0.25, 0.5, 1.0), epochs=300, patience=20,
                learning_rate=1e-2, targets=("synthetic", "ic"), engine="exact", seed=0, quick=False, cache=None,
                progress=True):
    """The notebook's study: a stimulus set (speech sample, TTS, tone pips, noise), front ends, targets.

    n_cf, cf_range_hz: log-spaced CFs (Hz) of the periphery front ends and the IC population (the
    mel bank has as many bands over the same range). segment_s ... max_segments_per_sound,
    level_db_spl: as :func:`~connear_helpers.encoding.data.stimulus_set`. frontends, bin_s,
    n_repeats, n_synthetic, context_s, weights: as :class:`EncodingStudy`. models: the models
    compared. recovery_fractions: training shares of the STRF-recovery curve. epochs, patience,
    learning_rate: fit options. targets: "synthetic" and/or "ic". engine: verhulst2018 engine,
    "exact" or "fast" (within about 1 %, several times quicker). seed: everything random.
    quick: use :data:`QUICK` for the sizes it names (the same steps on a small set).
    progress: progress bars.
    Returns an :class:`EncodingStudy`.
    """
    from .data import stimulus_set

    s = dict(n_cf=n_cf, segment_s=segment_s, n_sentences=n_sentences, max_segments_per_sound=max_segments_per_sound,
             n_tone_segments=n_tone_segments, n_noise_segments=n_noise_segments, n_repeats=n_repeats,
             n_synthetic=n_synthetic, epochs=epochs, patience=patience, models=tuple(models),
             recovery_fractions=tuple(recovery_fractions))
    if quick:
        s.update(QUICK)
    cf = np.geomspace(cf_range_hz[0], cf_range_hz[1], int(s["n_cf"]))
    stim = stimulus_set(segment_s=s["segment_s"], n_sentences=s["n_sentences"], n_tone_segments=s["n_tone_segments"],
                        n_noise_segments=s["n_noise_segments"], max_segments_per_sound=s["max_segments_per_sound"],
                        level_db_spl=level_db_spl, freq_range_hz=cf_range_hz, seed=seed, progress=progress)
    return EncodingStudy(stim, cf, frontends=frontends, bin_s=bin_s, n_repeats=s["n_repeats"],
                         n_synthetic=s["n_synthetic"], context_s=context_s, weights=weights,
                         fit_options={"epochs": s["epochs"], "patience": s["patience"], "learning_rate": learning_rate},
                         model_names=s["models"], recovery_fractions=s["recovery_fractions"], targets=targets,
                         seed=seed, cache=cache, progress=progress, engine=engine)


def frontend_comparison(frontends=("mel", "anf", "ihc"), models=tuple(_models.MODELS), target="ic", quick=False,
                        engine="fast", seed=0, progress=True, **study_options):
    """Every model on every front end for one target, scored on held-out stimuli.

    frontends: front-end names (module docstring). models: model names. target: "ic" (the
    verhulst2018 IC population) or "synthetic". quick: the small :data:`QUICK` stimulus set
    (all ``models`` are still fitted). engine: verhulst2018 engine ("fast" by default here).
    study_options: other :func:`build_study` arguments (n_cf, segment_s, n_sentences, epochs, ...).
    Returns (study, list of :class:`Fitted`, front end outer, model inner). ``python -m
    connear_helpers.encoding`` prints it as :func:`comparison_table`.
    """
    if target not in ("ic", "synthetic"):
        raise ValueError(f'target must be "ic" or "synthetic", got {target!r}')
    for m in models:
        if m not in _models.MODELS:
            raise ValueError(f"unknown model {m!r}; choose from {tuple(_models.MODELS)}")
    study = build_study(frontends=tuple(frontends), models=tuple(models), targets=(target,), engine=engine, seed=seed,
                        quick=quick, progress=progress, **study_options)
    fitted = study.compare(tuple(models), target_names=(target,), progress=progress)
    return study, fitted


def comparison_table(fitted):
    """Models (rows) against front ends (columns): held-out "CC / CCnorm", each the mean over
    neurons +- its standard error over neurons (text, Markdown)."""
    fitted = list(fitted)
    if not fitted:
        return "(no fits to compare)"
    fronts = list(dict.fromkeys(f.frontend for f in fitted))
    names = list(dict.fromkeys(f.model_name for f in fitted))
    cell = {(f.frontend, f.model_name): f for f in fitted}

    def stat(v):
        v = np.asarray(v, dtype=np.float64)
        v = v[np.isfinite(v)]
        if not v.size:
            return "-"
        se = v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else float("nan")
        return f"{v.mean():.3f}±{se:.3f}" if np.isfinite(se) else f"{v.mean():.3f}"

    head = "| model | " + " | ".join(f"{FRONTEND_LABELS.get(k, k)}: CC / CCnorm" for k in fronts) + " |"
    lines = [head, "|" + "---|" * (len(fronts) + 1)]
    for m in names:
        parts = []
        for k in fronts:
            f = cell.get((k, m))
            parts.append("-" if f is None else f"{stat(f.scores.cc)} / {stat(f.scores.ccnorm)}")
        lines.append(f"| {MODEL_LABELS.get(m, m)} | " + " | ".join(parts) + " |")
    return "\n".join(lines)
