"""Which stage explains a response? Stage-wise regression and RSA across the periphery (notebook 11).

Owns: the lab's labelled sound set (:mod:`.sounds`), each stage's pooled responses to it
(:mod:`.extract`: the reference model's v, ihc, anfh/m/l, cn, ic and the CoNNear networks'
layers), cross-validated ridge regression with a noise ceiling (:mod:`.regression`),
representational similarity analysis with a permutation test (:mod:`.rsa`), targets from a file
or synthetic ones with a known answer (:mod:`.targets`), and the analyses, figures and widget
panel of notebook 11 (:mod:`.correspondence`, :mod:`.plots`, :mod:`.panel`).

May import: verhulst2018, connear_helpers.pipeline (simulations, the simulation cache), cf,
stimuli, speech, corpus, cnn (architectures, weights, inference). Must not import the figures,
the panels of other notebooks, or the other field subpackages (encoding, localisation).
"""
from .extract import (CNN_NETWORKS, POOLINGS, REFERENCE_STAGES, STAGE_LABELS, StageActivations, activations,
                          cnn_stage_names, default_cache, stage_cfs, stage_label)
from .correspondence import (Recovery, StageMatrix, StageScores, responsive_units, score_stages, stage_matrix,
                             synthetic_recovery)
from .panel import CorrespondenceState, correspondence_panel, update_correspondence
from .plots import plot_rdms, plot_recovery, plot_stage_matrix, plot_stage_scores
from .regression import (RegressionResult, bootstrap_median, regress, spearman_brown, split_half_reliability)
from .rsa import RSAResult, rdm, rsa
from .sounds import SoundSet, SoundSetSpec, make_sound_set, wav_sound_set
from .targets import Targets, join_targets, load_targets, save_targets, synthetic_targets

__all__ = [
    "REFERENCE_STAGES", "CNN_NETWORKS", "POOLINGS", "STAGE_LABELS", "StageActivations", "activations",
    "cnn_stage_names", "default_cache", "stage_cfs", "stage_label",
    "RegressionResult", "regress", "split_half_reliability", "spearman_brown", "bootstrap_median",
    "RSAResult", "rdm", "rsa",
    "SoundSet", "SoundSetSpec", "make_sound_set", "wav_sound_set",
    "Targets", "join_targets", "load_targets", "save_targets", "synthetic_targets",
    "StageScores", "score_stages", "Recovery", "synthetic_recovery", "StageMatrix", "stage_matrix",
    "responsive_units", "plot_recovery", "plot_stage_matrix", "plot_rdms", "plot_stage_scores",
    "CorrespondenceState", "update_correspondence", "correspondence_panel",
]
