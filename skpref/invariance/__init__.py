"""Reward models that do not learn a spurious covariate (such as length).

Pass one of these as ``invariance=`` to :class:`~skpref.BTLRewardRegressor`,
:class:`~skpref.MultiheadRewardModel` or :class:`~skpref.AdversarialRewardModel`
(and so to a :class:`~skpref.RewardEnsemble` of them), with the covariate as
``fit(X, y, covariates=...)``; search the strength as ``invariance__weight``.
"""

from skpref.invariance._base import Invariance
from skpref.invariance._correlation import Decorrelation, OrthogonalHeads
from skpref.invariance._experts import ProductOfExperts
from skpref.invariance._mmd import MMD, ConditionalMMD

__all__ = [
    "ConditionalMMD",
    "Decorrelation",
    "Invariance",
    "MMD",
    "OrthogonalHeads",
    "ProductOfExperts",
]
