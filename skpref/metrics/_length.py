"""How often the longer response is preferred: a rate with an interval, and a scorer.

The length-preference rate of a reward model is its pairwise accuracy against the
rule "the longer response is preferred", on the pairs whose responses differ in
length. Set next to the accuracy, and to the same rate of the labels, it shows
how much a model leans on length, the best-known spurious factor of reward models.
"""

import numpy as np
from sklearn.utils import check_random_state

from skpref.metrics._accuracy import _INTERVAL, _agreement, _interval
from skpref.metrics._validation import _check_pair_scores
from skpref.utils import validate_params

__all__ = [
    "length_groups",
    "length_preference_interval",
    "length_preference_rate",
    "make_length_preference_scorer",
]

_RATE = {
    "y_score": ["array-like"],
    "length_difference": ["array-like"],
    "labels": ["boolean"],
}


def _check_difference(length_difference, n_pairs, owner):
    difference = np.asarray(length_difference)
    if difference.dtype.kind not in "biuf" or difference.shape != (n_pairs,):
        raise ValueError(
            f"{owner} expects length_difference of shape ({n_pairs},), the length "
            "of response a minus that of response b for each pair (numbers); got "
            f"an array of shape {difference.shape} and dtype {difference.dtype}."
        )
    difference = difference.astype(np.float64)
    if not np.all(np.isfinite(difference)):
        raise ValueError(f"{owner}: length_difference contains NaN or inf.")
    return difference


def _longer_agreement(y_score, length_difference, sample_weight, owner, labels):
    """Per-pair agreement with "the longer is preferred", pairs of equal length out.

    A model's scores count by their decision (a where ``P(a > b) > 0.5``);
    ``labels`` count by the share of annotators who prefer the longer response.
    """
    y_score = np.asarray(y_score)
    n_pairs = y_score.shape[0] if y_score.ndim else 0
    difference = _check_difference(length_difference, n_pairs, owner)
    unequal = difference != 0
    if not unequal.any():
        raise ValueError(
            f"{owner}: every pair has responses of equal length, so no response "
            "is the longer one; the rate is undefined."
        )
    longer_is_a = (difference > 0).astype(np.float64)
    longer_is_a, y_score, sample_weight = _check_pair_scores(
        longer_is_a, y_score, sample_weight, owner=owner
    )
    weights = None if sample_weight is None else sample_weight[unequal]
    if weights is not None and weights.sum() == 0:
        raise ValueError(
            f"{owner}: the pairs of unequal length all have sample weight 0."
        )
    longer_is_a, y_score = longer_is_a[unequal], y_score[unequal]
    if labels:  # y * [a longer] + (1 - y) * [b longer]: a tie agrees by half
        return _agreement(y_score, longer_is_a), weights
    return _agreement(longer_is_a, y_score), weights


@validate_params(
    {**_RATE, "sample_weight": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def length_preference_rate(
    y_score, length_difference, *, sample_weight=None, labels=False
):
    """Share of pairs in which the longer response is the one preferred.

    Pairs whose responses have the same length are left out. Pass a reward
    model's ``predict_proba(X)[:, 1]`` for how often the model prefers the longer
    response, or the labels ``y`` with ``labels=True`` for how often the
    labellers did: a model far above its labels' rate has learned "longer is
    better" beyond what the labels support.

    Parameters
    ----------
    y_score : array-like of shape (n_pairs,) or (n_pairs, 2)
        ``P(a > b)`` or the whole ``predict_proba(X)`` of a model; with
        ``labels=True``, labels: ``1`` where a is preferred, ``0`` where b is,
        or soft labels in ``[0, 1]``.
    length_difference : array-like of shape (n_pairs,)
        Length of response a minus length of response b, in any unit (e.g.
        ``covariate_differences(pair_covariates(X, "n_tokens", ...))``); any
        other covariate's difference gives that covariate's preference rate.
    sample_weight : array-like of shape (n_pairs,), default=None
        Pair weights.
    labels : bool, default=False
        How ``y_score`` counts. False: as a model's decisions (a is preferred
        where ``P(a > b) > 0.5``, the pair contract's ``predict``). True: as
        labels, a soft label by the share of annotators who prefer the longer
        response (a tie, 0.5, counts half, wherever the longer one is). Hard
        labels give the same rate either way.

    Returns
    -------
    rate : float
        In ``[0, 1]``; 0.5 means no preference for either length.

    See Also
    --------
    length_preference_interval : Its confidence interval.
    length_groups : Label each pair by whether the preferred response is longer.
    skpref.covariates.pair_covariates : Lengths of both responses of each pair.

    Examples
    --------
    >>> from skpref.metrics import length_preference_rate
    >>> length_preference_rate([0.9, 0.2, 0.4, 0.7], [120, -30, 15, 0])
    0.6666666666666666
    >>> length_preference_rate([0.5, 0.5, 0.6], [10, -10, 5], labels=True)
    0.5333333333333333
    """
    agreement, weights = _longer_agreement(
        y_score, length_difference, sample_weight, "length_preference_rate", labels
    )
    return float(np.average(agreement, weights=weights))


@validate_params({**_RATE, **_INTERVAL}, prefer_skip_nested_validation=True)
def length_preference_interval(
    y_score,
    length_difference,
    *,
    labels=False,
    alpha=0.05,
    method="wilson",
    n_resamples=2000,
    random_state=None,
):
    """Confidence interval of the length-preference rate.

    Parameters
    ----------
    y_score : array-like of shape (n_pairs,) or (n_pairs, 2)
        ``P(a > b)`` or the whole ``predict_proba(X)``; labels with
        ``labels=True``.
    length_difference : array-like of shape (n_pairs,)
        Length of response a minus length of response b.
    labels : bool, default=False
        As in :func:`length_preference_rate`. Soft labels make the rate an
        average of shares, not a count: use ``method="bootstrap"``.
    alpha : float, default=0.05
        The interval has coverage ``1 - alpha``.
    method : {"wilson", "bootstrap"}, default="wilson"
        As in :func:`~skpref.metrics.pairwise_accuracy_interval`.
    n_resamples : int, default=2000
        Number of bootstrap resamples (``method="bootstrap"`` only).
    random_state : int, RandomState instance or None, default=None
        Seed of the bootstrap.

    Returns
    -------
    ci_lower, ci_upper : float
        The interval's ends, over the pairs of unequal length.

    Examples
    --------
    >>> from skpref.metrics import length_preference_interval
    >>> y_score = [0.8] * 100
    >>> difference = [10, -10] * 50  # the longer response is a in half the pairs
    >>> [round(v, 3) for v in length_preference_interval(y_score, difference)]
    [0.404, 0.596]
    """
    owner = "length_preference_interval"
    agreement, _ = _longer_agreement(y_score, length_difference, None, owner, labels)
    rng = check_random_state(random_state)
    return _interval(agreement, alpha, method, n_resamples, rng, owner)


@validate_params(
    {"y_true": ["array-like"], "length_difference": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def length_groups(y_true, length_difference):
    """Label each pair by whether its preferred response is the longer one.

    Use it with :func:`~skpref.metrics.accuracy_by_group` for the accuracy on
    pairs where the shorter response is preferred, where a model that leans on
    length goes wrong.

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        ``1`` where response a is preferred, ``0`` where b is, or soft labels
        (the response most annotators prefer counts; ``0.5`` is no preference).
    length_difference : array-like of shape (n_pairs,)
        Length of response a minus length of response b.

    Returns
    -------
    groups : ndarray of shape (n_pairs,), dtype object
        ``"longer preferred"``, ``"shorter preferred"``, ``"equal length"`` or
        ``"no preference"``.

    Examples
    --------
    >>> from skpref.metrics import length_groups
    >>> length_groups([1, 1, 0, 0.5], [40, -3, 0, 8]).tolist()
    ['longer preferred', 'shorter preferred', 'equal length', 'no preference']
    """
    owner = "length_groups"
    y_true, _, _ = _check_pair_scores(y_true, np.full(len(y_true), 0.5), owner=owner)
    difference = _check_difference(length_difference, y_true.size, owner)
    preferred_a = np.sign(y_true - 0.5)
    longer_a = np.sign(difference)
    groups = np.where(
        preferred_a == longer_a, "longer preferred", "shorter preferred"
    ).astype(object)
    groups[longer_a == 0] = "equal length"
    groups[preferred_a == 0] = "no preference"
    return groups


def make_length_preference_scorer(
    covariate="n_characters",
    *,
    tokenizer=None,
    response_a="response_a",
    response_b="response_b",
):
    """Make a scorer of the length-preference rate, for ``scoring=``.

    With a text pipeline (a frame of ``prompt / response_a / response_b`` into
    :class:`~skpref.LLMEmbeddingTransformer`, then a reward model), the lengths
    are computed from the frame each fold scores, so ``cross_validate(pipeline,
    frame, y, scoring={"accuracy": ..., "length": scorer})`` reports both. With
    numeric ``X`` pass the lengths yourself: ``scorer(model, X, y,
    length_difference=d)``.

    Parameters
    ----------
    covariate : str or callable, default="n_characters"
        How to measure a response's length; see
        :func:`~skpref.covariates.response_covariates` (``"n_tokens"`` needs a
        ``tokenizer``).
    tokenizer : str, path-like, tokenizer or None, default=None
        For ``covariate="n_tokens"``.
    response_a, response_b : str, default="response_a", "response_b"
        The response columns of the text frame.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, length_difference=None)``: the rate of
        ``estimator.predict_proba(X)[:, 1]``. A rate is a description, not a
        goal: do not select models by maximising it.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.dummy import DummyClassifier
    >>> from skpref.metrics import make_length_preference_scorer
    >>> frame = pd.DataFrame({"response_a": ["long answer", "no"],
    ...                       "response_b": ["ok", "longer one"]})
    >>> model = DummyClassifier(strategy="constant", constant=1).fit(frame, [1, 0])
    >>> make_length_preference_scorer()(model, frame, [1, 0])  # always prefers a
    0.5
    """
    from skpref.covariates import covariate_differences, pair_covariates

    def length_preference_scorer(estimator, X, y_true, length_difference=None):
        if length_difference is None:
            if not hasattr(X, "columns"):
                raise ValueError(
                    "length_preference_rate scorer: X holds no texts to measure "
                    "(it is not a DataFrame with response columns); pass the "
                    "lengths as length_difference=..."
                )
            lengths = pair_covariates(
                X,
                covariate,
                tokenizer=tokenizer,
                response_a=response_a,
                response_b=response_b,
            )
            length_difference = covariate_differences(lengths).iloc[:, 0]
        proba = estimator.predict_proba(X)
        return length_preference_rate(proba, np.asarray(length_difference))

    return length_preference_scorer
