"""Active querying: choose which pairs to label next, and the loop that buys them.

The paper's roadmap (appendix C.2) asks for data that restore latent positivity
rather than more of the data at hand. A *query strategy* chooses pairs of an
unlabelled pool, ``select(model, X_pool, n, *, side_information=None,
random_state=None) -> indices``; :class:`ActiveLearner` runs rounds of query,
label (an oracle function) and refit as one scikit-learn estimator.
"""

from skpref.active._base import BaseQueryStrategy
from skpref.active._diversity import KCenterDiversity, k_center_greedy
from skpref.active._learner import ActiveLearner
from skpref.active._positivity import (
    DisagreementQuadrantSampling,
    InconsistentPairSampling,
)
from skpref.active._random import RandomSampling
from skpref.active._uncertainty import (
    BALDSampling,
    MarginSampling,
    member_probabilities,
)

__all__ = [
    "ActiveLearner",
    "BALDSampling",
    "BaseQueryStrategy",
    "DisagreementQuadrantSampling",
    "InconsistentPairSampling",
    "KCenterDiversity",
    "MarginSampling",
    "RandomSampling",
    "k_center_greedy",
    "member_probabilities",
]
