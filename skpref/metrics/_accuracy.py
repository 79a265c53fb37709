"""Pairwise accuracy with confidence intervals, overall and by group."""

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from skpref.metrics._validation import _check_pair_scores, _predicted_a

__all__ = [
    "accuracy_by_group",
    "consistency_groups",
    "pairwise_accuracy_interval",
    "pairwise_accuracy_score",
]

_METHODS = ("wilson", "bootstrap")


def pairwise_accuracy_score(y_true, y_score, *, sample_weight=None):
    """Fraction of pairs whose preferred response the model ranks higher.

    A pair counts as correct when ``P(a > b) > 0.5`` and ``y = 1``, or
    ``P(a > b) <= 0.5`` and ``y = 0``: the rule of a reward model's ``predict``,
    so this equals its ``score(X, y)``.

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        ``1`` where response a is preferred, else ``0``.
    y_score : array-like of shape (n_pairs,) or (n_pairs, 2)
        ``P(a > b)``, i.e. ``predict_proba(X)[:, 1]`` (or the whole
        ``predict_proba(X)``). Hard 0/1 predictions work too.
    sample_weight : array-like of shape (n_pairs,), default=None
        Pair weights.

    Returns
    -------
    accuracy : float
        In ``[0, 1]``; 0.5 is chance.

    See Also
    --------
    pairwise_accuracy_interval : Its confidence interval.
    accuracy_by_group : Accuracy of each group of pairs, with intervals.

    Examples
    --------
    >>> from skpref.metrics import pairwise_accuracy_score
    >>> pairwise_accuracy_score([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.5])
    0.75
    """
    y_true, y_score, sample_weight = _check_pair_scores(
        y_true, y_score, sample_weight, owner="pairwise_accuracy_score"
    )
    correct = _predicted_a(y_score) == y_true
    return float(np.average(correct, weights=sample_weight))


def _check_interval_args(alpha, method, n_resamples, owner):
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise ValueError(
            f"{owner} expects alpha in (0, 1), e.g. 0.05 for a 95% interval; got "
            f"{alpha!r}."
        )
    if method not in _METHODS:
        raise ValueError(
            f"{owner} expects method to be one of {list(_METHODS)}; got {method!r}."
        )
    if not (isinstance(n_resamples, int | np.integer) and n_resamples >= 10):
        raise ValueError(
            f"{owner} expects n_resamples to be an integer >= 10; got {n_resamples!r}."
        )


def _interval(n_correct, n, alpha, method, n_resamples, rng):
    """Two-sided ``1 - alpha`` interval for a binomial proportion."""
    p_hat = n_correct / n
    if method == "wilson":
        z = NormalDist().inv_cdf(1 - alpha / 2)
        denominator = 1 + z**2 / n
        centre = (p_hat + z**2 / (2 * n)) / denominator
        half = z / denominator * math.sqrt(p_hat * (1 - p_hat) / n + z**2 / (4 * n**2))
        # the interval always holds p_hat (ends exactly 0 or 1 when all pairs
        # are wrong or right); clamping guards against rounding in the formula
        return max(0.0, min(centre - half, p_hat)), min(1.0, max(centre + half, p_hat))
    # Resampling n pairs with replacement from n pairs of which n_correct are
    # correct yields Binomial(n, p_hat) correct pairs: drawing that count is the
    # nonparametric bootstrap of the accuracy, exactly and without an n-sized loop.
    resampled = rng.binomial(n, p_hat, size=n_resamples) / n
    lower, upper = np.quantile(resampled, [alpha / 2, 1 - alpha / 2])
    return float(lower), float(upper)


def pairwise_accuracy_interval(
    y_true, y_score, *, alpha=0.05, method="wilson", n_resamples=2000, random_state=None
):
    """Confidence interval of the pairwise accuracy.

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        ``1`` where response a is preferred, else ``0``.
    y_score : array-like of shape (n_pairs,) or (n_pairs, 2)
        ``P(a > b)`` (``predict_proba(X)[:, 1]``), or the whole ``predict_proba``.
    alpha : float, default=0.05
        The interval has coverage ``1 - alpha``.
    method : {"wilson", "bootstrap"}, default="wilson"
        ``"wilson"``: the Wilson score interval of a binomial proportion, good
        even for few pairs or accuracies near 0 or 1. ``"bootstrap"``: the
        percentile interval of ``n_resamples`` nonparametric bootstrap
        resamples of the pairs.
    n_resamples : int, default=2000
        Number of bootstrap resamples (``method="bootstrap"`` only).
    random_state : int, RandomState instance or None, default=None
        Seed of the bootstrap.

    Returns
    -------
    ci_lower, ci_upper : float
        The interval's ends, within ``[0, 1]``.

    Notes
    -----
    Pairs are treated as independent. Pairs that share a prompt are not, and
    the interval is then too narrow; resample prompts instead (e.g. over seeds
    or folds) when that matters.

    References
    ----------
    Wilson (1927), "Probable inference, the law of succession, and statistical
    inference", JASA 22(158).

    Examples
    --------
    >>> from skpref.metrics import pairwise_accuracy_interval
    >>> y_true = [1, 0] * 50
    >>> y_score = [0.8] * 100  # right on the 50 pairs with y = 1
    >>> [round(v, 3) for v in pairwise_accuracy_interval(y_true, y_score)]
    [0.404, 0.596]
    """
    owner = "pairwise_accuracy_interval"
    _check_interval_args(alpha, method, n_resamples, owner)
    y_true, y_score, _ = _check_pair_scores(y_true, y_score, owner=owner)
    n_correct = int(np.sum(_predicted_a(y_score) == y_true))
    rng = check_random_state(random_state)
    return _interval(n_correct, y_true.size, alpha, method, n_resamples, rng)


def accuracy_by_group(
    y_true,
    y_score,
    groups,
    *,
    alpha=0.05,
    method="wilson",
    n_resamples=2000,
    random_state=None,
):
    """Pairwise accuracy of each group of pairs, with confidence intervals.

    Use it for the paper's splits: consistent / inconsistent pairs
    (:func:`consistency_groups`, Tables 2 and 3), in-distribution /
    out-of-distribution test sets (Table 1), objectives, seeds.

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        ``1`` where response a is preferred, else ``0``.
    y_score : array-like of shape (n_pairs,) or (n_pairs, 2)
        ``P(a > b)`` (``predict_proba(X)[:, 1]``), or the whole ``predict_proba``.
    groups : array-like of shape (n_pairs,)
        Group label of each pair (strings, integers, booleans).
    alpha : float, default=0.05
        Intervals have coverage ``1 - alpha``.
    method : {"wilson", "bootstrap"}, default="wilson"
        Interval method; see :func:`pairwise_accuracy_interval`.
    n_resamples : int, default=2000
        Bootstrap resamples per group.
    random_state : int, RandomState instance or None, default=None
        Seed of the bootstrap.

    Returns
    -------
    frame : pandas.DataFrame
        One row per group, in sorted order, with the columns ``group``,
        ``n_pairs``, ``accuracy``, ``stderr`` (the binomial standard error
        ``sqrt(acc (1 - acc) / n)``), ``ci_lower`` and ``ci_upper``.

    Examples
    --------
    >>> from skpref.metrics import accuracy_by_group
    >>> frame = accuracy_by_group([1, 1, 0, 0], [0.9, 0.8, 0.7, 0.1],
    ...                           ["ID", "ID", "OOD", "OOD"])
    >>> frame[["group", "n_pairs", "accuracy"]].values.tolist()
    [['ID', 2, 1.0], ['OOD', 2, 0.5]]
    """
    owner = "accuracy_by_group"
    _check_interval_args(alpha, method, n_resamples, owner)
    y_true, y_score, _ = _check_pair_scores(y_true, y_score, owner=owner)
    groups = np.asarray(groups)
    if groups.shape != y_true.shape:
        raise ValueError(
            f"{owner} expects one group label per pair, groups of shape "
            f"{y_true.shape}; got {groups.shape}."
        )
    correct = _predicted_a(y_score) == y_true
    rng = check_random_state(random_state)
    rows = []
    for group in np.unique(groups):
        in_group = groups == group
        n = int(in_group.sum())
        n_correct = int(correct[in_group].sum())
        accuracy = n_correct / n
        lower, upper = _interval(n_correct, n, alpha, method, n_resamples, rng)
        rows.append(
            {
                "group": group.item() if hasattr(group, "item") else group,
                "n_pairs": n,
                "accuracy": accuracy,
                "stderr": math.sqrt(accuracy * (1 - accuracy) / n),
                "ci_lower": lower,
                "ci_upper": upper,
            }
        )
    return pd.DataFrame(rows)


def consistency_groups(objective, prompt_type):
    """Label each pair consistent (objective = prompt type) or inconsistent.

    In the paper's confounding study (Section 4) a pair is *consistent* when the
    labeller's objective ``c`` matches the type of its prompt, and
    *inconsistent* otherwise; the second kind is rare in confounded training
    data and is where robust models must be tested.

    Parameters
    ----------
    objective : array-like of shape (n_pairs,)
        Objective of each pair's label (ids or names).
    prompt_type : array-like of shape (n_pairs,)
        Prompt type of each pair, coded like ``objective``.

    Returns
    -------
    groups : ndarray of shape (n_pairs,), dtype object
        ``"consistent"`` or ``"inconsistent"``.

    Examples
    --------
    >>> from skpref.metrics import consistency_groups
    >>> consistency_groups([0, 1, 1], [0, 0, 1]).tolist()
    ['consistent', 'inconsistent', 'consistent']
    """
    objective, prompt_type = np.asarray(objective), np.asarray(prompt_type)
    if objective.shape != prompt_type.shape or objective.ndim != 1:
        raise ValueError(
            "consistency_groups expects objective and prompt_type of the same shape "
            f"(n_pairs,); got {objective.shape} and {prompt_type.shape}."
        )
    return np.where(objective == prompt_type, "consistent", "inconsistent").astype(
        object
    )
