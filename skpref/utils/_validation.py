"""Validation of pair data: the one module that touches scikit-learn's private API.

The pair contract (docs/data_format.rst): ``X`` has shape ``(n_pairs, 2 * d)`` laid
out as ``[response_a | response_b]``; multi-objective estimators take one more, last
column holding the objective id ``0..K-1``; ``y = 1`` means response a is preferred.
"""

import numpy as np

# scikit-learn's declarative parameter validation is private API; skpref reaches it
# here only, so a change upstream is mended in one place.
from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _num_samples, check_array

__all__ = [
    "HasMethods",
    "Interval",
    "RealNotInt",
    "StrOptions",
    "_fit_context",
    "validate_parameter_constraints",
    "validate_params",
    "_num_samples",
    "check_objective_ids",
    "check_pair_target",
    "check_pair_width",
    "split_pairs",
]


# Ids above this are a wrong column, not objectives; it also keeps the cast to int64
# exact (float64 holds every integer up to 2**53).
_MAX_OBJECTIVE_ID = 2**31 - 1


def check_pair_width(n_columns, *, with_objective, owner):
    """Return ``d``, the width of one response, from the width of a pair array.

    Parameters
    ----------
    n_columns : int
        Number of columns of the pair array.
    with_objective : bool
        Whether the last column holds the objective id.
    owner : str
        Name used in the error message (usually the estimator's class name).

    Returns
    -------
    d : int
        Number of features of one response.

    Raises
    ------
    ValueError
        If the width cannot be ``2 * d`` (plus one objective column).

    Examples
    --------
    >>> check_pair_width(9, with_objective=True, owner="MultiheadRewardModel")
    4
    """
    n_pair_columns = n_columns - 1 if with_objective else n_columns
    if n_pair_columns < 2 or n_pair_columns % 2:
        layout = (
            "(n_pairs, 2 * n_features + 1) laid out as "
            "[response_a | response_b | objective]"
            if with_objective
            else "(n_pairs, 2 * n_features) laid out as [response_a | response_b]"
        )
        raise ValueError(
            f"{owner} expects X of shape {layout}; got {n_columns} columns."
        )
    return n_pair_columns // 2


def check_objective_ids(objective, *, n_objectives=None, owner, argument=None):
    """Check an objective column and return it as an integer array.

    Parameters
    ----------
    objective : array-like of shape (n_samples,)
        Objective ids, floats allowed if they are whole numbers.
    n_objectives : int or None, default=None
        If given, ids must lie in ``0..n_objectives - 1``.
    owner : str
        Name used in the error message.
    argument : str or None, default=None
        What holds the ids, named in the error message (e.g. ``"column
        'objective'"``). None: the last column of X of an estimator, and
        ``n_objectives`` is the number it was fitted with.

    Returns
    -------
    ids : ndarray of shape (n_samples,), dtype int64

    Examples
    --------
    >>> check_objective_ids([0.0, 1.0, 1.0], n_objectives=2, owner="m")
    array([0, 1, 1])
    """
    where = "the last column of X" if argument is None else argument
    objective = np.asarray(objective, dtype=np.float64)
    if objective.size and not np.all(np.isfinite(objective)):
        holder = "the objective column" if argument is None else argument
        raise ValueError(f"{owner}: {holder} contains NaN or inf.")
    ids = np.rint(objective)
    if np.any(ids != objective):
        bad = objective[ids != objective][0]
        raise ValueError(
            f"{owner} expects {where} to hold integer objective ids "
            f"0..K-1; got the non-integer value {float(bad)!r}."
        )
    in_where = "" if argument is None else f" in {argument}"
    if np.any(ids < 0):
        raise ValueError(
            f"{owner} expects objective ids 0..K-1{in_where}; got the negative id "
            f"{int(ids.min())}."
        )
    if ids.size and ids.max() > _MAX_OBJECTIVE_ID:
        raise ValueError(
            f"{owner} expects objective ids 0..K-1{in_where}; got the id "
            f"{ids.max():.6g}, too large to number an objective. Does {where} "
            "really hold objective ids?"
        )
    if n_objectives is not None and ids.size and ids.max() >= n_objectives:
        if argument is None:
            raise ValueError(
                f"{owner} was fitted with {n_objectives} objectives (ids "
                f"0..{n_objectives - 1}); got the objective id {int(ids.max())}."
            )
        raise ValueError(
            f"{owner}: {argument} holds the objective id {int(ids.max())}, outside "
            f"the objective coding in force (ids 0..{n_objectives - 1}, "
            f"{n_objectives} objectives). Use ids 0..{n_objectives - 1}, or a "
            "coding with more objectives."
        )
    return ids.astype(np.int64)


def check_pair_target(y, *, owner):
    """Check pair labels: binary, with values in {0, 1}; return them as int64.

    Parameters
    ----------
    y : array-like of shape (n_pairs,)
        ``1`` where response a is preferred, ``0`` where response b is.
    owner : str
        Name used in the error message.

    Returns
    -------
    y : ndarray of shape (n_pairs,), dtype int64

    Examples
    --------
    >>> check_pair_target([1, 0, True], owner="m")
    array([1, 0, 1])
    """
    y = _check_pair_labels(y, owner=owner)
    _check_both_labels(y, owner=owner)
    return y


def _check_pair_labels(y, *, owner, allow_soft=False, argument="y"):
    """Check the type and range of pair labels, whatever classes they hold.

    Hard labels come back as int64; with ``allow_soft``, labels in ``[0, 1]`` that
    are not all whole (the share of annotators preferring a) come back as float64.
    """
    y = np.asarray(y)
    target_type = type_of_target(y, input_name=argument)
    if allow_soft and target_type == "continuous":
        y = y.astype(np.float64)
        if y.min() < 0 or y.max() > 1:
            raise ValueError(
                f"Unknown label type: continuous values outside [0, 1]. {owner} "
                f"expects {argument} in {{0, 1}} (1 means response a is preferred) "
                "or soft labels in [0, 1] (the share of annotators preferring a); "
                f"got values from {y.min():g} to {y.max():g}."
            )
        return y
    check_classification_targets(y)
    values = np.unique(y)
    if target_type == "multiclass":
        raise ValueError(
            "Only binary classification is supported. The type of the target is "
            f"{target_type}. {owner} expects pair labels {argument} in {{0, 1}}."
        )
    if not np.all(np.isin(values, [0, 1])):
        raise ValueError(
            f"{owner} expects pair labels {argument} in {{0, 1}} (1 means response a "
            f"is preferred); got the values {values.tolist()}. Map your labels "
            "first, e.g. y = (labels == 'a').astype(int)."
        )
    return y.astype(np.int64)


def _check_both_labels(y, *, owner, sample_weight=None):
    """Require pairs preferring a and pairs preferring b (among weighted pairs)."""
    counted = y if sample_weight is None else y[np.asarray(sample_weight) > 0]
    for value in (0, 1):
        if np.all(counted == value):
            where = (
                "y contains"
                if sample_weight is None
                else "the pairs of positive sample_weight contain"
            )
            raise ValueError(
                f"{owner} needs pairs of both labels (y = 0 and y = 1) to train, but "
                f"{where} only one class: [{value}]. A pair's label depends "
                "on which response is written first: randomise the order of a and b."
            )


def split_pairs(X, *, with_objective=False, owner="split_pairs"):
    """Split a pair array into its a half, its b half and the objective column.

    Parameters
    ----------
    X : array-like of shape (n_pairs, 2 * d) or (n_pairs, 2 * d + 1)
        Pairs laid out as ``[response_a | response_b]`` (then the objective).
    with_objective : bool, default=False
        Whether the last column holds the objective id.
    owner : str, default="split_pairs"
        Name used in error messages.

    Returns
    -------
    X_a : ndarray of shape (n_pairs, d)
    X_b : ndarray of shape (n_pairs, d)
    objective : ndarray of shape (n_pairs,) of int64, or None

    Examples
    --------
    >>> import numpy as np
    >>> X_a, X_b, c = split_pairs(np.arange(10.0).reshape(2, 5), with_objective=True)
    >>> X_a.tolist(), X_b.tolist(), c.tolist()
    ([[0.0, 1.0], [5.0, 6.0]], [[2.0, 3.0], [7.0, 8.0]], [4, 9])
    """
    X = check_array(X, dtype=None, ensure_all_finite=False)
    d = check_pair_width(X.shape[1], with_objective=with_objective, owner=owner)
    objective = check_objective_ids(X[:, -1], owner=owner) if with_objective else None
    return X[:, :d], X[:, d : 2 * d], objective
