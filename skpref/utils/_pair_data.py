"""Synthetic pairs for the pair-contract checks, and the helpers the checks share."""

import numpy as np
from scipy.special import expit
from sklearn.base import clone

__all__ = ["fitted_on_pairs", "make_pair_data", "swap_halves", "takes_objective"]


def make_pair_data(*, with_objective=False, n_pairs=200, n_features=4, random_state=0):
    """Draw learnable pairs in the pair contract, for the checks.

    Each response has ``n_features`` standard normal features; objective ``c``
    (ids 0 and 1 when ``with_objective``) rates a response by ``w_c . e`` with
    its own weights ``w_c``, and ``y`` is drawn from the BTL model.

    Parameters
    ----------
    with_objective : bool, default=False
        Append the objective id as the last column of ``X``.
    n_pairs : int, default=200
        Number of pairs.
    n_features : int, default=4
        Features of one response (``d``).
    random_state : int, default=0
        Seed of the draw.

    Returns
    -------
    X : ndarray of shape (n_pairs, 2 * n_features) or (n_pairs, 2 * n_features + 1)
        Pairs ``[a | b]`` (then the objective id).
    y : ndarray of shape (n_pairs,)
        ``1`` where response a is preferred; both labels occur.

    Examples
    --------
    >>> X, y = make_pair_data(with_objective=True, n_pairs=6, n_features=2)
    >>> X.shape, X[:, -1].tolist()
    ((6, 5), [0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    """
    rng = np.random.RandomState(random_state)
    E_a, E_b = rng.normal(size=(2, n_pairs, n_features))
    n_objectives = 2 if with_objective else 1
    weights = rng.normal(size=(n_objectives, n_features))
    objective = np.arange(n_pairs) % n_objectives
    margin = np.einsum("ij,ij->i", E_a - E_b, weights[objective])
    y = (rng.uniform(size=n_pairs) < expit(2 * margin)).astype(np.int64)
    y[:2] = [0, 1]
    columns = [E_a, E_b] + ([objective[:, None]] if with_objective else [])
    return np.hstack(columns).astype(np.float64), y


def takes_objective(estimator, with_objective=None):
    """Whether ``estimator`` reads the objective id from the last column of ``X``.

    ``with_objective`` decides if given; else a ``with_objective`` parameter or
    attribute of the estimator, then its ``_with_objective`` (skpref's models).
    """
    if with_objective is not None:
        return bool(with_objective)
    params = estimator.get_params(deep=False)
    if "with_objective" in params:
        return bool(params["with_objective"])
    default = getattr(estimator, "_with_objective", False)
    return bool(getattr(estimator, "with_objective", default))


def fitted_on_pairs(estimator_orig, with_objective, random_state=0, **fit_params):
    """Fit a clone (seeded if it takes a ``random_state``) on ``make_pair_data``."""
    X, y = make_pair_data(
        with_objective=takes_objective(estimator_orig, with_objective)
    )
    estimator = clone(estimator_orig)
    if "random_state" in estimator.get_params():
        estimator.set_params(random_state=random_state)
    return estimator.fit(X, y, **fit_params), X, y


def swap_halves(X, with_objective):
    """Swap the two responses of every pair row, keeping the objective column."""
    d = (X.shape[1] - int(with_objective)) // 2
    return np.hstack([X[:, d : 2 * d], X[:, :d], X[:, 2 * d :]])
