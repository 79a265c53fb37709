"""Inputs of the reward models: pair arrays, labels, sample weights and margins.

Pair arrays are validated to float32 (see :ref:`data_format`). Labels are hard
(``y = 1``: response a preferred, ``y = 0``: b preferred) or soft (``y`` in
``[0, 1]``: the share of annotators preferring a; ``0.5`` is a tie).
"""

from numbers import Real

import numpy as np
from sklearn.utils.validation import check_array, validate_data

from skpref.utils._objectives import check_objective_ids
from skpref.utils._validation import check_both_labels, check_pair_labels


def float32_pairs(estimator, X, y="no_validation", reset=True):
    """``validate_data`` to float32, ready for torch (see ``torch_ready``).

    A value too large for float32 becomes inf, which validation reports naming X;
    NumPy's warnings from the cast and from summing infinities would only repeat it.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        out = validate_data(estimator, X, y, reset=reset, dtype=np.float32)
    if isinstance(out, tuple):
        return torch_ready(out[0]), out[1]
    return torch_ready(out)


def torch_ready(array):
    """Return ``array``, copied unless writeable and C-contiguous.

    torch warns on tensors made from read-only NumPy arrays (pandas
    copy-on-write, memory maps) and refuses negative strides (a reversed view
    such as ``X[::-1]``, which validation passes through when it is already
    float32).
    """
    if array.flags.writeable and array.flags.c_contiguous:
        return array
    return np.array(array, order="C")


def single_responses(estimator, E):
    """Check rows of single responses; return their features and objective ids."""
    owner = type(estimator).__name__
    with np.errstate(over="ignore", invalid="ignore"):
        E = torch_ready(check_array(E, dtype=np.float32, input_name="E"))
    d = estimator.n_pair_features_
    with_objective = hasattr(estimator, "n_objectives_")  # as fitted
    if E.shape[1] != d + int(with_objective):
        layout = f"{d} + 1 (objective)" if with_objective else f"{d}"
        raise ValueError(
            f"{owner}.predict_reward expects single responses with {layout} "
            f"columns; got {E.shape[1]}. To score pairs use predict_proba."
        )
    objective = np.zeros(len(E), dtype=np.int64)
    if with_objective:
        objective = check_objective_ids(
            E[:, -1], n_objectives=estimator.n_objectives_, owner=owner
        )
    return E[:, :d], objective


def validation_arrays(estimator, X_val, y_val):
    """Check an explicit validation set; return it as float32 ``(X_val, y_val)``."""
    owner = type(estimator).__name__
    X_val = float32_pairs(estimator, X_val, reset=False)
    y_val = check_score_target(y_val, owner=owner, argument="y_val")
    if len(y_val) != len(X_val):
        raise ValueError(
            f"{owner}.fit got {len(X_val)} pairs in X_val but {len(y_val)} labels "
            "in y_val; pass one label per validation pair."
        )
    if estimator._with_objective:
        check_objective_ids(
            X_val[:, -1], n_objectives=estimator.n_objectives_, owner=owner
        )
    return X_val, y_val.astype(np.float32)


def check_fit_target(y, sample_weight, *, owner):
    """Check training labels: hard or soft, both sides among the weighted pairs."""
    y = check_pair_labels(y, owner=owner, allow_soft=True)
    check_both_labels(y, owner=owner, sample_weight=sample_weight)
    return y


def check_score_target(y, *, owner, argument="y"):
    """Check labels to score against: hard or soft, any classes."""
    return check_pair_labels(y, owner=owner, allow_soft=True, argument=argument)


def check_weights(sample_weight, n_pairs, *, owner, method="fit"):
    """Return ``sample_weight`` as float64 of shape ``(n_pairs,)``; ones for None.

    Weights must be finite, non-negative and not all zero; a single number is
    broadcast to every pair. Weights so large that their sum would overflow (or
    so small that their mean would underflow) are scaled by a power of two, which
    keeps every ratio exact: only ratios matter where the weights are used, and
    weights of ordinary sizes are returned unchanged, bit for bit.
    """
    # Not scikit-learn's private _check_sample_weight: its errors name neither the
    # estimator nor a fix ("sample_weight.shape == (5,), expected (10,)!").
    if sample_weight is None:
        return np.ones(n_pairs)
    where = f"{owner}.{method}"
    if isinstance(sample_weight, Real) and not isinstance(sample_weight, bool):
        sample_weight = np.full(n_pairs, float(sample_weight))
    try:
        weight = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(
            f"{where} expects sample_weight to hold numbers, one per pair; got "
            f"{_describe(sample_weight)}."
        ) from None
    if weight.ndim != 1 or len(weight) != n_pairs:
        raise ValueError(
            f"{where} expects one sample_weight per pair, of shape ({n_pairs},); "
            f"got shape {weight.shape}."
        )
    if not np.all(np.isfinite(weight)):
        raise ValueError(
            f"{where}: sample_weight contains NaN or infinity (pair "
            f"{int(np.flatnonzero(~np.isfinite(weight))[0])}); weights must be "
            "finite."
        )
    if np.any(weight < 0):
        first = int(np.flatnonzero(weight < 0)[0])
        raise ValueError(
            f"{where}: sample_weight must be non-negative; got {weight[first]:g} "
            f"for pair {first}. Drop the pair or give it weight 0."
        )
    if not np.any(weight > 0):
        raise ValueError(
            f"{where}: every sample_weight is zero; at least one pair needs a "
            "positive weight."
        )
    return _summable(weight)


def check_fit_data(estimator, X, y, sample_weight):
    """Check the training pairs, labels and weights (ones for None) of a fit.

    Examples
    --------
    >>> from skpref import BTLRewardRegressor
    >>> pairs, labels = [[0, 1], [1, 0]], [1, 0]
    >>> X, y, weight = check_fit_data(BTLRewardRegressor(), pairs, labels, None)
    >>> X.dtype, weight.tolist()
    (dtype('float32'), [1.0, 1.0])
    """
    owner = type(estimator).__name__
    X, y = float32_pairs(estimator, X, y)
    weight = check_weights(sample_weight, len(X), owner=owner)
    y = check_fit_target(y, None if sample_weight is None else weight, owner=owner)
    return X, y, weight


def check_margins(margin, y, owner):
    """Return per-pair margins as float64; finite, not negative where ``y`` is soft.

    Examples
    --------
    >>> check_margins([0.5, 0], np.array([1.0, 0.5]), "BTLRewardRegressor").tolist()
    [0.5, 0.0]
    """
    try:
        margin = np.asarray(margin, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{owner}.fit expects margin to hold numbers, one per pair."
        ) from None
    if margin.shape != (len(y),):
        raise ValueError(
            f"{owner}.fit expects one margin per pair, of shape ({len(y)},); got "
            f"shape {margin.shape}."
        )
    if not np.all(np.isfinite(margin)):
        first = int(np.flatnonzero(~np.isfinite(margin))[0])
        raise ValueError(
            f"{owner}.fit: margin contains NaN or infinity (pair {first}); margins "
            "must be finite."
        )
    soft = (y > 0) & (y < 1)
    if np.any(soft & (margin < 0)):
        first = int(np.flatnonzero(soft & (margin < 0))[0])
        raise ValueError(
            f"{owner}.fit: the margin of pair {first} is negative but its label is "
            f"soft ({y[first]}); a negative margin would reward the losing side. "
            "Give soft-labelled pairs margins >= 0."
        )
    return margin


#: Largest weight kept as it is: n_pairs of them sum without overflow.
_LARGEST = 2.0**1000
#: Smallest largest weight kept as it is: their mean is a normal float.
_SMALLEST = 2.0**-900


def _summable(weight):
    """``weight`` times a power of two so that its sum and mean are finite, > 0."""
    largest = weight.max()
    if _SMALLEST <= largest <= _LARGEST / len(weight):
        return weight
    _, exponent = np.frexp(largest)  # largest = m * 2**exponent, 0.5 <= m < 1
    return np.ldexp(weight, -int(exponent))


def _describe(value):
    text = repr(value)
    return text if len(text) <= 60 else f"{type(value).__name__} {text[:50]}..."
