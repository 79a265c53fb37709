"""Cross-validation splitters for the paper's robustness protocols."""

from skpref.model_selection._confounding import ObjectiveConfoundingSplitter
from skpref.model_selection._latent import LatentCorrelationSplitter
from skpref.model_selection._rho_split import RhoStratifiedSplitter

__all__ = [
    "LatentCorrelationSplitter",
    "ObjectiveConfoundingSplitter",
    "RhoStratifiedSplitter",
]
