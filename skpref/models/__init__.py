"""Reward models on the pair contract: BTL (and Base), Multihead and Adversarial.

Every fit runs one training engine (:mod:`skpref.models._engine`, built on skorch):
a model is trained as a stack of one, :class:`RewardEnsemble` as a stack of its
members, and :func:`fit_together` trains any list of models, each on its own rows
of the data, as the stacks they form.
"""

from skpref.models._adversarial import AdversarialRewardModel
from skpref.models._btl import BTLRewardRegressor
from skpref.models._engine import LossTerm, fit_together
from skpref.models._ensemble import RewardEnsemble
from skpref.models._multihead import MultiheadRewardModel

__all__ = [
    "AdversarialRewardModel",
    "BTLRewardRegressor",
    "LossTerm",
    "MultiheadRewardModel",
    "RewardEnsemble",
    "fit_together",
]
