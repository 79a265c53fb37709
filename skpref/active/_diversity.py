"""A diversity term for any strategy: k-centre greedy over its best candidates."""

import math
from numbers import Real

import numpy as np
from sklearn.metrics import pairwise_distances

from skpref.active._base import BaseQueryStrategy, call_strategy
from skpref.active._random import RandomSampling
from skpref.utils import HasMethods, Interval, StrOptions

__all__ = ["KCenterDiversity", "k_center_greedy"]


def k_center_greedy(X, n, *, first=0, metric="euclidean"):
    """Pick ``n`` rows of ``X`` that cover it: each next one farthest from those taken.

    The greedy 2-approximation of the k-centre problem (Gonzalez, 1985), the
    core-set step of Sener and Savarese (2018): start from row ``first``, then
    repeatedly take the row whose distance to its nearest chosen row is largest.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
        Points (e.g. pair features).
    n : int
        Rows to pick, ``1 <= n <= n_rows``.
    first : int, default=0
        The first row taken.
    metric : str, default="euclidean"
        Any metric of :func:`sklearn.metrics.pairwise_distances`.

    Returns
    -------
    indices : ndarray of shape (n,)
        Distinct rows of ``X``, in the order taken.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.active import k_center_greedy
    >>> X = np.array([[0.0], [0.1], [5.0], [10.0], [9.9]])
    >>> k_center_greedy(X, 3).tolist()
    [0, 3, 2]
    """
    X = np.asarray(X, dtype=np.float64)
    chosen = [int(first)]
    nearest = pairwise_distances(X, X[[first]], metric=metric).ravel()
    nearest[first] = -np.inf  # never take a row twice, even among duplicates
    for _ in range(n - 1):
        nxt = int(np.argmax(nearest))
        chosen.append(nxt)
        distance = pairwise_distances(X, X[[nxt]], metric=metric).ravel()
        nearest = np.minimum(nearest, distance)
        nearest[nxt] = -np.inf
    return np.asarray(chosen, dtype=np.int64)


class KCenterDiversity(BaseQueryStrategy):
    """Spread a strategy's batch over the pool: k-centre greedy on its candidates.

    A strategy that ranks pairs one by one fills a batch with near-duplicates
    (the same uncertain region, asked ``n`` times). This wrapper asks the
    ``strategy`` for its ``ceil(candidate_factor * n)`` best pairs, then keeps
    ``n`` of them by :func:`k_center_greedy` on their pair features, starting
    from the strategy's first choice: the batch stays among the pairs the
    strategy wants, but covers them.

    Parameters
    ----------
    strategy : strategy or None, default=None
        The strategy whose candidates are diversified (an object with
        ``select`` or a function with its signature); None: random candidates,
        which makes a pure k-centre (core-set) choice among a random subset.
    candidate_factor : float, default=4.0
        Candidates per pair selected (``>= 1``; 1 leaves the strategy's choice
        unchanged).
    metric : str, default="euclidean"
        Distance between pair rows (:func:`sklearn.metrics.pairwise_distances`).

    See Also
    --------
    k_center_greedy : The covering step.

    References
    ----------
    Sener, O. and Savarese, S. "Active Learning for Convolutional Neural
    Networks: A Core-Set Approach", ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.active import KCenterDiversity, MarginSampling
    >>> class Fixed:
    ...     def predict_proba(self, X):
    ...         p = np.array([0.5, 0.5, 0.52, 0.9, 0.55])
    ...         return np.column_stack([1 - p, p])
    >>> X_pool = np.array([[0.0], [0.01], [3.0], [9.0], [0.02]])
    >>> MarginSampling().select(Fixed(), X_pool, 2, random_state=0).tolist()
    [0, 1]
    >>> diverse = KCenterDiversity(MarginSampling(), candidate_factor=2)
    >>> diverse.select(Fixed(), X_pool, 2, random_state=0).tolist()
    [0, 2]
    """

    _parameter_constraints = {
        "strategy": [HasMethods(["select"]), callable, None],
        "candidate_factor": [Interval(Real, 1, None, closed="left")],
        "metric": [StrOptions({"euclidean", "cosine", "manhattan"}), str],
    }

    def __init__(self, strategy=None, *, candidate_factor=4.0, metric="euclidean"):
        self.strategy = strategy
        self.candidate_factor = candidate_factor
        self.metric = metric

    def _select(self, model, X_pool, n, side_information, random_state):
        strategy = RandomSampling() if self.strategy is None else self.strategy
        n_candidates = min(len(X_pool), max(n, math.ceil(self.candidate_factor * n)))
        candidates = call_strategy(
            strategy, model, X_pool, n_candidates, side_information, random_state
        )
        covering = k_center_greedy(X_pool[candidates], n, metric=self.metric)
        return candidates[covering]
