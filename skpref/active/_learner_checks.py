"""Checks of the active-learning loop's input, each failing before any work."""

import numpy as np
from sklearn.utils.validation import check_array

from skpref.active._base import required_model_methods, strategy_name
from skpref.utils import check_pair_labels

__all__ = [
    "check_budget",
    "check_oracle_labels",
    "check_pool_inputs",
    "check_strategy_fits_model",
]

_OWNER = "ActiveLearner"


def check_pool_inputs(X, X_pool, oracle, side_information):
    """Check the pool (the layout of ``X``), the oracle and the side information.

    Returns
    -------
    X_pool : ndarray of shape (n_pool, n_features)
    side_information : ndarray or None
    """
    X_pool = check_array(
        X_pool, dtype=X.dtype, input_name="X_pool", ensure_min_samples=0
    )
    if len(X_pool) == 0:
        raise ValueError(
            f"{_OWNER}.fit got an empty X_pool: there are no pairs to buy labels "
            "for. Pass X_pool=None to fit on (X, y) alone."
        )
    if X_pool.shape[1] != X.shape[1]:
        raise ValueError(
            f"{_OWNER}: X_pool has {X_pool.shape[1]} columns but X has "
            f"{X.shape[1]}; the pool must be in the pair layout of X."
        )
    if not callable(oracle):
        raise ValueError(
            f"{_OWNER}.fit needs oracle=..., a function oracle(indices) -> labels "
            f"of those rows of X_pool, to label what it buys; got {oracle!r}."
        )
    if side_information is not None:
        side_information = np.asarray(side_information)
        rows = len(side_information) if side_information.ndim else 0
        if rows != len(X_pool):
            raise ValueError(
                f"{_OWNER}: side_information has {rows} rows but X_pool has "
                f"{len(X_pool)} pairs; give one row per pool pair, in order."
            )
    return X_pool, side_information


def check_strategy_fits_model(strategy, estimator):
    """Fail before any fit if the strategy needs what the estimator lacks."""
    for method in sorted(required_model_methods(strategy)):
        if not hasattr(estimator, method):
            hint = (
                " Wrap it in an ensemble (skpref.RewardEnsemble), or use "
                "MarginSampling, which needs only predict_proba."
                if method == "decision_function_members"
                else ""
            )
            raise ValueError(
                f"{_OWNER}: the strategy {strategy_name(strategy)} needs a model "
                f"with {method}, but the estimator is a {type(estimator).__name__}, "
                f"which has none.{hint}"
            )


def check_budget(n_rounds, query_size, *, rounds_done, n_pool, n_bought):
    """Fail if the rounds still to run would buy more pairs than the pool has left.

    Examples
    --------
    >>> from skpref.active._learner_checks import check_budget
    >>> check_budget(4, 10, rounds_done=0, n_pool=40, n_bought=0)
    """
    if rounds_done > n_rounds:
        raise ValueError(
            f"{_OWNER}: n_rounds={n_rounds} is below the {rounds_done} rounds "
            "already run; with warm_start=True, n_rounds can only grow. Set "
            "warm_start=False to start over."
        )
    needed = (n_rounds - rounds_done) * query_size
    left = n_pool - n_bought
    if needed > left:
        already = f" ({n_bought} bought already)" if n_bought else ""
        raise ValueError(
            f"{_OWNER} would buy {n_rounds - rounds_done} rounds * query_size "
            f"{query_size} = {needed} labels, but X_pool has only {left} unlabelled "
            f"pairs{already}; lower n_rounds or query_size, or add pairs to the "
            "pool."
        )


def check_oracle_labels(labels, n):
    """Check the oracle's answer: one label (0/1, or a share in [0, 1]) per pair."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(
            f"{_OWNER}: the oracle returned labels of shape {labels.shape} for {n} "
            "queried pairs; it must return one label per index it is given."
        )
    return check_pair_labels(
        labels, owner=_OWNER, allow_soft=True, argument="the oracle's labels"
    )
