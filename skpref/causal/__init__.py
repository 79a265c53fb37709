"""Causal tools: diagnostics, the AMCE, and rewrite effects on a reward (RATE)."""

from skpref.causal._amce import AMCEEstimator
from skpref.causal._amce_summary import EffectSummary
from skpref.causal._compare_effects import compare_effects, plot_effect_comparison
from skpref.causal._overlap import assumption_report, objective_overlap_report
from skpref.causal._positivity import (
    disagreement_quadrant_mass,
    disagreement_share,
    latent_positivity_report,
)
from skpref.causal._report import DiagnosticReport, OverlapWarning, PositivityWarning
from skpref.causal._rewrite_effects import RewriteEffectEstimator
from skpref.causal._rewriter_hf import HFRewriter
from skpref.causal._rewriter_openai import OpenAIRewriter
from skpref.causal._rewriters import CachedRewriter, RuleBasedRewriter

__all__ = [
    "AMCEEstimator",
    "CachedRewriter",
    "DiagnosticReport",
    "EffectSummary",
    "HFRewriter",
    "OpenAIRewriter",
    "OverlapWarning",
    "PositivityWarning",
    "RewriteEffectEstimator",
    "RuleBasedRewriter",
    "assumption_report",
    "compare_effects",
    "disagreement_quadrant_mass",
    "disagreement_share",
    "latent_positivity_report",
    "objective_overlap_report",
    "plot_effect_comparison",
]
