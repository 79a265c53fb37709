"""Reward models on the pair contract: BTL (and Base), Multihead and Adversarial."""

from skpref.models._adversarial import AdversarialRewardModel
from skpref.models._btl import BTLRewardRegressor
from skpref.models._multihead import MultiheadRewardModel

__all__ = [
    "AdversarialRewardModel",
    "BTLRewardRegressor",
    "MultiheadRewardModel",
]
