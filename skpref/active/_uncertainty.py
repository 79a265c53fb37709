"""Strategies that ask where the model is unsure: margin and ensemble disagreement."""

import numpy as np
from scipy.special import entr, expit

from skpref.active._base import BaseQueryStrategy, rank_by_score

__all__ = ["BALDSampling", "MarginSampling", "member_probabilities"]


def _binary_entropy(p):
    """Entropy of a Bernoulli(p) label in nats (0 at p = 0 or 1)."""
    return entr(p) + entr(1.0 - p)


def mutual_information(proba_members):
    """Mutual information between a pair's label and the ensemble member (BALD).

    ``I = H(mean_m p_m) - mean_m H(p_m)``: the entropy of the ensemble's
    prediction minus the members' mean entropy. It is zero when every member
    gives the same probability (however unsure), and at most ``log 2``, reached
    when half the members are certain of ``a`` and half of ``b``.

    Parameters
    ----------
    proba_members : ndarray of shape (n_members, n_pairs)
        ``P(a > b)`` of each member.

    Returns
    -------
    information : ndarray of shape (n_pairs,)
        In nats, ``0 <= I <= log 2``.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.active._uncertainty import mutual_information
    >>> p = np.array([[0.5, 0.0, 0.9], [0.5, 1.0, 0.9]])
    >>> mutual_information(p).round(4).tolist()
    [0.0, 0.6931, 0.0]
    """
    p = np.asarray(proba_members, dtype=np.float64)
    mean_entropy = _binary_entropy(p).mean(axis=0)
    # Jensen's inequality makes I >= 0; the clip only removes rounding below 0.
    return np.clip(_binary_entropy(p.mean(axis=0)) - mean_entropy, 0.0, np.log(2))


def member_probabilities(model, X_pool, *, owner):
    """``P(a > b)`` of each member of an ensemble, from its member margins.

    Parameters
    ----------
    model : fitted ensemble
        Anything with ``decision_function_members(X) -> (n_members, n_pairs)``,
        each member's ``r(a) - r(b)`` (e.g. ``skpref.RewardEnsemble``).
    X_pool : ndarray of shape (n_pool, n_features)
        Pairs.
    owner : str
        Name used in error messages.

    Returns
    -------
    proba : ndarray of shape (n_members, n_pool)

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.active import member_probabilities
    >>> class TwoMembers:
    ...     def decision_function_members(self, X):
    ...         return np.stack([X[:, 0], -X[:, 0]])
    >>> member_probabilities(TwoMembers(), np.array([[0.0], [2.0]]), owner="demo")
    array([[0.5       , 0.88079708],
           [0.5       , 0.11920292]])
    """
    if not hasattr(model, "decision_function_members"):
        raise ValueError(
            f"{owner} needs the disagreement of an ensemble: a fitted model with "
            "decision_function_members(X) (each member's r(a) - r(b)), such as "
            f"skpref.RewardEnsemble; got {type(model).__name__}. Wrap the model in "
            "an ensemble, or use MarginSampling, which needs only predict_proba."
        )
    margins = np.asarray(model.decision_function_members(X_pool), dtype=np.float64)
    if margins.ndim != 2 or margins.shape[1] != len(X_pool) or margins.shape[0] < 2:
        raise ValueError(
            f"{owner}: {type(model).__name__}.decision_function_members must return "
            f"shape (n_members, n_pairs) with n_members >= 2 and n_pairs = "
            f"{len(X_pool)}; it returned shape {margins.shape}."
        )
    if not np.all(np.isfinite(margins)):
        raise ValueError(
            f"{owner}: {type(model).__name__}.decision_function_members returned "
            "NaN or inf; the ensemble's training diverged. Refit it (a lower lr)."
        )
    return expit(margins)


class MarginSampling(BaseQueryStrategy):
    """Choose the pairs whose predicted preference is closest to a coin flip.

    Ranks the pool by ``|P(a > b) - 1/2|``, smallest first, with ``P`` from the
    model's ``predict_proba`` (an ensemble's averaged probability, or a single
    model's). It needs no ensemble, but it cannot tell a pair the model has
    learnt is a toss-up (a tie, label noise) from one it knows nothing about.

    See Also
    --------
    BALDSampling : Only the uncertainty an ensemble disagrees on.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.active import MarginSampling
    >>> class Fixed:
    ...     def predict_proba(self, X):
    ...         return np.column_stack([1 - X[:, 0], X[:, 0]])
    >>> X_pool = np.array([[0.9], [0.45], [0.1], [0.6]])
    >>> MarginSampling().select(Fixed(), X_pool, 2).tolist()
    [1, 3]
    """

    _model_methods = ("predict_proba",)

    def _select(self, model, X_pool, n, side_information, random_state):
        owner = type(self).__name__
        if not hasattr(model, "predict_proba"):
            raise ValueError(
                f"{owner} needs a fitted model with predict_proba(X) (a reward "
                f"model); got {type(model).__name__}."
            )
        proba = np.asarray(model.predict_proba(X_pool), dtype=np.float64)
        if proba.shape != (len(X_pool), 2) or not np.all(np.isfinite(proba)):
            raise ValueError(
                f"{owner}: {type(model).__name__}.predict_proba must return finite "
                f"probabilities of shape ({len(X_pool)}, 2); it returned shape "
                f"{proba.shape}."
            )
        return rank_by_score(-np.abs(proba[:, 1] - 0.5), n, random_state)


class BALDSampling(BaseQueryStrategy):
    """Choose the pairs an ensemble disagrees on most (BALD).

    Ensemble disagreement measured as the mutual information between the label
    of a pair and the ensemble member (Houlsby et al., 2011):
    ``H(mean_m p_m) - mean_m H(p_m)``, ``p_m = sigmoid(r_m(a) - r_m(b))`` the
    probability member ``m`` gives ``a > b``. Unlike the margin it ignores a
    toss-up every member agrees on (label noise, which a label cannot reduce)
    and seeks pairs where the members' reward functions part, such as the
    disagreement quadrants of two correlated latent factors, where only data
    can tell the factors' weights apart.

    The model must be a fitted ensemble: anything with
    ``decision_function_members(X)`` of shape ``(n_members, n_pairs)``, such as
    ``skpref.RewardEnsemble``.

    See Also
    --------
    MarginSampling : Uncertainty of a single model's probability.
    KCenterDiversity : Spread a batch of BALD's choices over the pool.

    References
    ----------
    Houlsby, N., Huszár, F., Ghahramani, Z. and Lengyel, M. "Bayesian Active
    Learning for Classification and Preference Learning", arXiv:1112.5745, 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.active import BALDSampling
    >>> class TwoMembers:  # agree on pairs 0 and 2, part on pair 1
    ...     def decision_function_members(self, X):
    ...         return np.stack([X[:, 0], X[:, 1]])
    >>> X_pool = np.array([[2.0, 2.0], [3.0, -3.0], [0.0, 0.0]])
    >>> BALDSampling().select(TwoMembers(), X_pool, 1).tolist()
    [1]
    """

    _model_methods = ("decision_function_members",)

    def _select(self, model, X_pool, n, side_information, random_state):
        proba = member_probabilities(model, X_pool, owner=type(self).__name__)
        return rank_by_score(mutual_information(proba), n, random_state)
