"""Splitters for the paper's robustness protocols and covariate shift; a refit rule."""

from skpref.model_selection._confounding import ObjectiveConfoundingSplitter
from skpref.model_selection._covariate import CovariateShiftSplitter
from skpref.model_selection._latent import LatentCorrelationSplitter
from skpref.model_selection._refit import within_best
from skpref.model_selection._rho_split import RhoStratifiedSplitter

__all__ = [
    "CovariateShiftSplitter",
    "LatentCorrelationSplitter",
    "ObjectiveConfoundingSplitter",
    "RhoStratifiedSplitter",
    "within_best",
]
