"""Synthetic binary-factor preference designs with a known AMCE, for the tests."""

import itertools

import numpy as np
from scipy.special import expit
from sklearn.utils import check_random_state

__all__ = ["binary_profiles", "make_binary_factor_pairs"]


def binary_profiles(n_factors):
    """All ``2 ** n_factors`` binary profiles, in lexicographic order."""
    return np.array(list(itertools.product([0.0, 1.0], repeat=n_factors)))


def make_binary_factor_pairs(
    n_pairs,
    coef,
    *,
    interaction=None,
    profile_proba=None,
    cluster_size=1,
    random_state=None,
):
    """Pairs of responses with binary factors, labelled by a known BTL reward.

    Each response's profile ``z`` is drawn independently from ``profile_proba``
    (uniform over ``{0, 1}^K`` by default); the reward is
    ``r(z) = coef @ z + sum_{j<l} interaction[j, l] * z_j * z_l`` and
    ``P(y = 1) = sigmoid(r(z_a) - r(z_b))``. With ``cluster_size > 1`` every
    cluster is one pair and its label repeated ``cluster_size`` times (a labeller
    who answers the same question the same way): the population AMCE is unchanged
    but pairs of a cluster are perfectly dependent.

    Returns
    -------
    Z_pairs : ndarray of shape (n_pairs, 2 * K)
    y : ndarray of shape (n_pairs,)
    groups : ndarray of shape (n_pairs,)
        Cluster id of each pair.
    """
    rng = check_random_state(random_state)
    coef = np.asarray(coef, dtype=np.float64)
    n_factors = coef.size
    interaction = (
        np.zeros((n_factors, n_factors))
        if interaction is None
        else np.triu(np.asarray(interaction, dtype=np.float64), 1)
    )
    table = binary_profiles(n_factors)
    if profile_proba is None:
        profile_proba = np.full(table.shape[0], 1.0 / table.shape[0])
    n_clusters = -(-n_pairs // cluster_size)
    Z_a = table[rng.choice(table.shape[0], n_clusters, p=profile_proba)]
    Z_b = table[rng.choice(table.shape[0], n_clusters, p=profile_proba)]

    def reward(Z):
        return Z @ coef + np.einsum("ni,ij,nj->n", Z, interaction, Z)

    y = (rng.random_sample(n_clusters) < expit(reward(Z_a) - reward(Z_b))).astype(int)
    groups = np.repeat(np.arange(n_clusters), cluster_size)[:n_pairs]
    return np.hstack([Z_a, Z_b])[groups], y[groups], groups
