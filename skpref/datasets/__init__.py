"""Datasets: synthetic (``make_*``), local files (``load_*``), downloads (``fetch_*``).

``make_*`` generate data with known ground truth; ``load_*`` read real preference
files from the data home; ``preference_pairs`` turns chosen/rejected data of any
TRL format into pairs, and ``augment_pairs`` adds pairs that only a model reading
the prompt can rank; ``attach_embeddings`` and ``pair_features`` turn
precomputed embeddings into the pair-contract arrays.
"""

from skpref.datasets._augment import augment_pairs
from skpref.datasets._embeddings import attach_embeddings, pair_features
from skpref.datasets._fetch import fetch_hh_rlhf, fetch_ultrafeedback
from skpref.datasets._hh_rlhf import (
    HH_RLHF_TEXT_TEMPLATE,
    OBJECTIVES,
    RELABELED_HH_RLHF_TEXT_TEMPLATE,
    load_hh_rlhf,
    load_relabeled_hh_rlhf,
)
from skpref.datasets._home import get_data_home
from skpref.datasets._pairs import preference_pairs
from skpref.datasets._synthetic import (
    make_confounded_preferences,
    make_latent_preferences,
)
from skpref.datasets._ultrafeedback import ASPECTS, load_ultrafeedback

__all__ = [
    "ASPECTS",
    "HH_RLHF_TEXT_TEMPLATE",
    "OBJECTIVES",
    "RELABELED_HH_RLHF_TEXT_TEMPLATE",
    "attach_embeddings",
    "augment_pairs",
    "fetch_hh_rlhf",
    "fetch_ultrafeedback",
    "get_data_home",
    "load_hh_rlhf",
    "load_relabeled_hh_rlhf",
    "load_ultrafeedback",
    "make_confounded_preferences",
    "make_latent_preferences",
    "pair_features",
    "preference_pairs",
]
