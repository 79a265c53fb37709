"""Reward models that do not learn a spurious covariate (such as length).

Pass one of these as ``invariance=`` to :class:`~skpref.BTLRewardRegressor`,
:class:`~skpref.MultiheadRewardModel` or :class:`~skpref.AdversarialRewardModel`
(and so to a :class:`~skpref.RewardEnsemble` of them), with the covariate as
``fit(X, y, covariates=...)``; search the strength as ``invariance__weight``.
"""

from skpref.invariance._terms import (
    MMD,
    ConditionalMMD,
    Decorrelation,
    Invariance,
    OrthogonalHeads,
    ProductOfExperts,
)

__all__ = [
    "ConditionalMMD",
    "Decorrelation",
    "Invariance",
    "MMD",
    "OrthogonalHeads",
    "ProductOfExperts",
]
