"""Pairwise accuracy with confidence intervals, overall and by group."""

import numbers

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.utils import check_random_state

from skpref.metrics._validation import _check_pair_scores, _is_hard
from skpref.utils import (
    Interval,
    StrOptions,
    encode_objective_and_prompt_type,
    validate_params,
)

__all__ = [
    "accuracy_by_group",
    "consistency_groups",
    "pairwise_accuracy_interval",
    "pairwise_accuracy_score",
]

_PAIR_SCORES = {"y_true": ["array-like"], "y_score": ["array-like"]}
_INTERVAL = {
    "alpha": [Interval(numbers.Real, 0, 1, closed="neither")],
    "method": [StrOptions({"wilson", "bootstrap"})],
    "n_resamples": [Interval(numbers.Integral, 10, None, closed="left")],
    "random_state": ["random_state"],
}


def _agreement(y_true, y_score):
    """Return the expected agreement of each prediction with a random annotator.

    ``y * [a predicted] + (1 - y) * [b predicted]``, a predicted where ``P(a > b) >
    0.5`` (the pair contract's ``predict``): 1 or 0 for hard labels. Every
    accuracy-like metric of skpref is a (weighted) mean of these values.
    """
    return np.where(y_score > 0.5, y_true, 1 - y_true)


@validate_params(
    {**_PAIR_SCORES, "sample_weight": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def pairwise_accuracy_score(y_true, y_score, *, sample_weight=None):
    """Fraction of pairs whose preferred response the model ranks higher.

    A pair counts as correct when ``P(a > b) > 0.5`` and ``y = 1``, or
    ``P(a > b) <= 0.5`` and ``y = 0``: the rule of a reward model's ``predict``,
    so this equals its ``score(X, y)`` on hard labels. A soft label ``y`` (the
    share of annotators preferring a; ``0.5`` for a tie) counts as the expected
    agreement with a random annotator, ``y * [a predicted] + (1 - y) * [b
    predicted]``.

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        ``1`` where response a is preferred, ``0`` where b is, or a soft label in
        ``[0, 1]``.
    y_score : array-like of shape (n_pairs,) or (n_pairs, 2)
        ``P(a > b)``, i.e. ``predict_proba(X)[:, 1]`` (or the whole
        ``predict_proba(X)``). Hard 0/1 predictions work too.
    sample_weight : array-like of shape (n_pairs,), default=None
        Pair weights.

    Returns
    -------
    accuracy : float
        In ``[0, 1]``; 0.5 is chance. With hard predictions ``y_pred`` in
        ``{0, 1}``, ``pairwise_accuracy_score(y, y_pred.astype(float))`` is the
        weighted mean of ``y`` where ``y_pred = 1`` and ``1 - y`` where
        ``y_pred = 0``, exactly: a reward model's ``score``.

    See Also
    --------
    pairwise_accuracy_interval : Its confidence interval.
    accuracy_by_group : Accuracy of each group of pairs, with intervals.

    Examples
    --------
    >>> from skpref.metrics import pairwise_accuracy_score
    >>> pairwise_accuracy_score([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.5])
    0.75
    >>> pairwise_accuracy_score([0.75], [0.9])  # 3 of 4 annotators prefer a
    0.75

    Hard predictions (``predict(X)``) and pair weights:

    >>> import numpy as np
    >>> y_pred = np.array([1, 1, 0])
    >>> pairwise_accuracy_score([1.0, 0.0, 0.5], y_pred.astype(float),
    ...                         sample_weight=[2.0, 1.0, 1.0])
    0.625
    """
    y_true, y_score, sample_weight = _check_pair_scores(
        y_true, y_score, sample_weight, owner="pairwise_accuracy_score"
    )
    return float(np.average(_agreement(y_true, y_score), weights=sample_weight))


def _interval(agreement, alpha, method, n_resamples, rng, owner):
    """Two-sided ``1 - alpha`` interval of the mean agreement."""
    n = agreement.size
    hard = _is_hard(agreement)
    if method == "wilson":
        if not hard:
            raise ValueError(
                f"{owner}: method='wilson' is an interval for a count of right "
                "pairs and needs hard labels y in {0, 1}; y_true holds soft labels. "
                "Use method='bootstrap'."
            )
        test = stats.binomtest(int(agreement.sum()), n)
        ci = test.proportion_ci(confidence_level=1 - alpha, method="wilson")
        return float(ci.low), float(ci.high)
    if hard:
        # Resampling n pairs with replacement from n pairs of which k are right
        # yields Binomial(n, k / n) right pairs: drawing that count is the
        # nonparametric bootstrap exactly. Measured on 5,000 pairs and 2,000
        # resamples (one CPU thread): 0.14 ms, against 181 ms for
        # scipy.stats.bootstrap, which soft labels need.
        resampled = rng.binomial(n, agreement.mean(), size=n_resamples) / n
        lower, upper = np.quantile(resampled, [alpha / 2, 1 - alpha / 2])
        return float(lower), float(upper)
    result = stats.bootstrap(
        (agreement,),
        np.mean,
        n_resamples=n_resamples,
        confidence_level=1 - alpha,
        method="percentile",
        random_state=rng,
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


@validate_params({**_PAIR_SCORES, **_INTERVAL}, prefer_skip_nested_validation=True)
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
    y_true, y_score, _ = _check_pair_scores(y_true, y_score, owner=owner)
    agreement = _agreement(y_true, y_score)
    rng = check_random_state(random_state)
    return _interval(agreement, alpha, method, n_resamples, rng, owner)


@validate_params(
    {**_PAIR_SCORES, "groups": ["array-like"], **_INTERVAL},
    prefer_skip_nested_validation=True,
)
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
        ``n_pairs``, ``accuracy``, ``stderr`` (the standard error of the mean
        agreement, :meth:`pandas.Series.sem`: ``sqrt(acc (1 - acc) / (n - 1))``
        for hard labels; NaN for a single pair), ``ci_lower`` and ``ci_upper``.

    Examples
    --------
    >>> from skpref.metrics import accuracy_by_group
    >>> frame = accuracy_by_group([1, 1, 0, 0], [0.9, 0.8, 0.7, 0.1],
    ...                           ["ID", "ID", "OOD", "OOD"])
    >>> frame[["group", "n_pairs", "accuracy"]].values.tolist()
    [['ID', 2, 1.0], ['OOD', 2, 0.5]]
    """
    owner = "accuracy_by_group"
    y_true, y_score, _ = _check_pair_scores(y_true, y_score, owner=owner)
    groups = np.asarray(groups)
    if groups.shape != y_true.shape:
        raise ValueError(
            f"{owner} expects one group label per pair, groups of shape "
            f"{y_true.shape}; got {groups.shape}."
        )
    if pd.isna(groups).any():
        raise ValueError(
            f"{owner}: groups holds a missing label (None or NaN) for pair "
            f"{int(np.flatnonzero(pd.isna(groups))[0])}; give every pair a group."
        )
    per_pair = pd.DataFrame({"group": groups, "agreement": _agreement(y_true, y_score)})
    summary = per_pair.groupby("group", sort=True)["agreement"].agg(
        ["size", "mean", "sem"]
    )
    rng = check_random_state(random_state)
    intervals = [
        _interval(values.to_numpy(), alpha, method, n_resamples, rng, owner)
        for _, values in per_pair.groupby("group", sort=True)["agreement"]
    ]
    return pd.DataFrame(
        {
            "group": summary.index.tolist(),
            "n_pairs": summary["size"].to_numpy(),
            "accuracy": summary["mean"].to_numpy(),
            "stderr": summary["sem"].to_numpy(),
            "ci_lower": [low for low, _ in intervals],
            "ci_upper": [high for _, high in intervals],
        }
    )


@validate_params(
    {
        "objective": ["array-like"],
        "prompt_type": ["array-like"],
        "objective_categories": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def consistency_groups(objective, prompt_type, *, objective_categories=None):
    """Label each pair consistent (objective = prompt type) or inconsistent.

    In the paper's confounding study (Section 4) a pair is *consistent* when the
    labeller's objective ``c`` matches the type of its prompt, and
    *inconsistent* otherwise; the second kind is rare in confounded training
    data and is where robust models must be tested. Objectives and prompt types
    are compared in one coding, so names, ids and Categoricals can be mixed (see
    :class:`~skpref.model_selection.ObjectiveConfoundingSplitter`).

    Parameters
    ----------
    objective : array-like of shape (n_pairs,)
        Objective of each pair's label (ids, names or a Categorical).
    prompt_type : array-like of shape (n_pairs,)
        Prompt type of each pair (ids, names or a Categorical).
    objective_categories : array-like of str or None, default=None
        Objective names in id order, needed only to compare names with ids.

    Returns
    -------
    groups : ndarray of shape (n_pairs,), dtype object
        ``"consistent"`` or ``"inconsistent"``.

    Examples
    --------
    >>> from skpref.metrics import consistency_groups
    >>> consistency_groups([0, 1, 1], [0, 0, 1]).tolist()
    ['consistent', 'inconsistent', 'consistent']
    >>> consistency_groups([0, 1], ["harmless", "harmless"],
    ...                    objective_categories=["helpful", "harmless"]).tolist()
    ['inconsistent', 'consistent']
    """
    objective, prompt_type, _ = encode_objective_and_prompt_type(
        objective, prompt_type, objective_categories, owner="consistency_groups"
    )
    return np.where(objective == prompt_type, "consistent", "inconsistent").astype(
        object
    )
