"""Causal tools: positivity and overlap diagnostics, the AMCE with inference."""

from skpref.causal._amce import AMCEEstimator
from skpref.causal._amce_summary import EffectSummary
from skpref.causal._overlap import assumption_report, objective_overlap_report
from skpref.causal._positivity import (
    disagreement_quadrant_mass,
    disagreement_share,
    latent_positivity_report,
)
from skpref.causal._report import DiagnosticReport, OverlapWarning, PositivityWarning

__all__ = [
    "AMCEEstimator",
    "DiagnosticReport",
    "EffectSummary",
    "OverlapWarning",
    "PositivityWarning",
    "assumption_report",
    "disagreement_quadrant_mass",
    "disagreement_share",
    "latent_positivity_report",
    "objective_overlap_report",
]
