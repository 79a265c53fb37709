"""Cross-validation splitters: the paper's robustness protocols, covariate shift."""

from skpref.model_selection._confounding import ObjectiveConfoundingSplitter
from skpref.model_selection._covariate import CovariateShiftSplitter
from skpref.model_selection._latent import LatentCorrelationSplitter
from skpref.model_selection._rho_split import RhoStratifiedSplitter

__all__ = [
    "CovariateShiftSplitter",
    "LatentCorrelationSplitter",
    "ObjectiveConfoundingSplitter",
    "RhoStratifiedSplitter",
]
