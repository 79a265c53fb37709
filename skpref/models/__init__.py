"""Reward models on the pair contract: BTL (and Base), Multihead and Adversarial.

:class:`RewardEnsemble` trains several of one model together (the vectorised
engine) for averaged probabilities and the uncertainty of the reward.
"""

from skpref.models._adversarial import AdversarialRewardModel
from skpref.models._btl import BTLRewardRegressor
from skpref.models._ensemble import RewardEnsemble
from skpref.models._multihead import MultiheadRewardModel

__all__ = [
    "AdversarialRewardModel",
    "BTLRewardRegressor",
    "MultiheadRewardModel",
    "RewardEnsemble",
]
