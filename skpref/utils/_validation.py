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

from skpref.utils._objectives import check_objective_ids

__all__ = [
    "HasMethods",
    "Interval",
    "RealNotInt",
    "StrOptions",
    "check_both_labels",
    "check_pair_labels",
    "check_pair_target",
    "check_pair_width",
    "fit_context",
    "num_samples",
    "split_pairs",
    "validate_parameter_constraints",
    "validate_params",
]

#: scikit-learn's ``_fit_context`` (parameter validation of ``fit``), by a public name.
fit_context = _fit_context
#: scikit-learn's ``_num_samples``: the number of rows of an array-like or a frame.
num_samples = _num_samples


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
    y = check_pair_labels(y, owner=owner)
    check_both_labels(y, owner=owner)
    return y


def check_pair_labels(y, *, owner, allow_soft=False, argument="y"):
    """Check the type and range of pair labels, whatever classes they hold.

    Parameters
    ----------
    y : array-like of shape (n_pairs,)
        ``1`` where response a is preferred, ``0`` where response b is; with
        ``allow_soft``, also the share of annotators preferring a.
    owner : str
        Name used in error messages.
    allow_soft : bool, default=False
        Whether labels in ``[0, 1]`` that are not all whole are accepted.
    argument : str, default="y"
        What holds the labels, named in error messages.

    Returns
    -------
    y : ndarray of shape (n_pairs,)
        Hard labels as int64; soft labels as float64.

    Raises
    ------
    ValueError
        For labels other than 0 and 1 (or outside ``[0, 1]`` with ``allow_soft``),
        with scikit-learn's wording for a multiclass or continuous target.

    Examples
    --------
    >>> check_pair_labels([1, 0, 0], owner="m")
    array([1, 0, 0])
    >>> check_pair_labels([1.0, 0.5], owner="m", allow_soft=True)
    array([1. , 0.5])
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


def check_both_labels(y, *, owner, sample_weight=None):
    """Require pairs preferring a and pairs preferring b (among weighted pairs).

    Parameters
    ----------
    y : ndarray of shape (n_pairs,)
        Pair labels, as returned by :func:`check_pair_labels`.
    owner : str
        Name used in error messages.
    sample_weight : array-like of shape (n_pairs,) or None, default=None
        Only pairs of positive weight count.

    Raises
    ------
    ValueError
        If every counted pair has the same label.

    Examples
    --------
    >>> check_both_labels(np.array([1, 0]), owner="m")
    >>> check_both_labels(np.array([1, 0]), owner="m", sample_weight=[1, 0])
    Traceback (most recent call last):
    ...
    ValueError: m needs pairs of both labels (y = 0 and y = 1) to train, but the \
pairs of positive sample_weight contain only one class: [1]. A pair's label \
depends on which response is written first: randomise the order of a and b.
    """
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


# The private names skpref.models imports until it switches to the public ones.
_check_pair_labels = check_pair_labels
_check_both_labels = check_both_labels


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
