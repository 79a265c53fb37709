"""Covariates of responses: length, structure, politeness and your own features.

A covariate is a number computed from the text of one response (its length in
characters, words or tokens, its politeness markers, any function you give).
:func:`pair_covariates` computes them for both responses of every pair, in the
``[<name>_a | <name>_b]`` layout that :class:`~skpref.causal.AMCEEstimator`
(their effects on preferences) and
:class:`~skpref.preprocessing.LinearConceptEraser` (their removal from embeddings)
take. :func:`encode_pair_covariate` codes one of them, found in a table or an
array, for a model to predict or to be kept from learning.
"""

from skpref.covariates._coding import PairCovariate, encode_pair_covariate
from skpref.covariates._covariates import (
    covariate_differences,
    pair_covariates,
    response_covariates,
)
from skpref.covariates._features import BUILTIN_COVARIATES, POLITENESS_MARKERS

__all__ = [
    "BUILTIN_COVARIATES",
    "POLITENESS_MARKERS",
    "PairCovariate",
    "covariate_differences",
    "encode_pair_covariate",
    "pair_covariates",
    "response_covariates",
]
