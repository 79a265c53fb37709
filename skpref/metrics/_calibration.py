"""Probabilistic quality of P(a > b): log-loss, Brier loss, calibration error."""

import numbers

import numpy as np
from sklearn.metrics import brier_score_loss, log_loss

from skpref.metrics._accuracy import _agreement
from skpref.metrics._validation import _annotator_rows, _check_pair_scores
from skpref.utils import Interval, StrOptions, validate_params

__all__ = ["expected_calibration_error", "pairwise_brier_loss", "pairwise_log_loss"]

_PAIR_SCORES = {
    "y_true": ["array-like"],
    "y_score": ["array-like"],
    "sample_weight": ["array-like", None],
}


@validate_params(_PAIR_SCORES, prefer_skip_nested_validation=True)
def pairwise_log_loss(y_true, y_score, *, sample_weight=None):
    """Mean negative log-likelihood of the labels under the BTL probabilities.

    ``-mean(y log p + (1 - y) log(1 - p))`` with ``p = P(a > b)``: the loss the
    reward models minimise (eq. 1 and 10 of the paper), computed by
    :func:`sklearn.metrics.log_loss`, which clips probabilities to
    ``[eps, 1 - eps]`` so that a confident mistake costs a large but finite
    amount. With a soft label ``y`` (the share of annotators preferring a) it is
    the cross-entropy with that target.

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        ``1`` where response a is preferred, ``0`` where b is, or a soft label in
        ``[0, 1]`` (``0.5`` for a tie).
    y_score : array-like of shape (n_pairs,) or (n_pairs, 2)
        ``P(a > b)`` (``predict_proba(X)[:, 1]``), or the whole ``predict_proba``.
    sample_weight : array-like of shape (n_pairs,), default=None
        Pair weights.

    Returns
    -------
    loss : float
        Non-negative; ``log 2 = 0.693`` for a model that always says 0.5.

    Examples
    --------
    >>> from skpref.metrics import pairwise_log_loss
    >>> round(pairwise_log_loss([1, 0], [0.5, 0.5]), 4)
    0.6931
    >>> round(pairwise_log_loss([0.5], [0.5]), 4)  # a tie, predicted as one
    0.6931
    """
    y_true, p, sample_weight = _check_pair_scores(
        y_true, y_score, sample_weight, owner="pairwise_log_loss"
    )
    labels, scores, weights = _annotator_rows(y_true, p, sample_weight)
    return float(log_loss(labels, scores, sample_weight=weights, labels=[0, 1]))


@validate_params(_PAIR_SCORES, prefer_skip_nested_validation=True)
def pairwise_brier_loss(y_true, y_score, *, sample_weight=None):
    """Mean squared difference between ``P(a > b)`` and the label.

    Computed by :func:`sklearn.metrics.brier_score_loss`. With a soft label ``y``
    (the share of annotators preferring a) it is the expected Brier loss against
    a random annotator, ``(p - y)^2 + y (1 - y)``: the squared error to the soft
    target plus the annotators' disagreement, which no model removes (0.25 for a
    tie).

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        ``1`` where response a is preferred, ``0`` where b is, or a soft label in
        ``[0, 1]`` (``0.5`` for a tie).
    y_score : array-like of shape (n_pairs,) or (n_pairs, 2)
        ``P(a > b)`` (``predict_proba(X)[:, 1]``), or the whole ``predict_proba``.
    sample_weight : array-like of shape (n_pairs,), default=None
        Pair weights.

    Returns
    -------
    loss : float
        In ``[0, 1]``; 0.25 for a model that always says 0.5.

    References
    ----------
    Brier (1950), "Verification of forecasts expressed in terms of probability",
    Monthly Weather Review 78(1).

    Examples
    --------
    >>> from skpref.metrics import pairwise_brier_loss
    >>> pairwise_brier_loss([1, 0], [0.75, 0.5])
    0.15625
    >>> pairwise_brier_loss([0.5], [0.5])  # a tie: the annotators disagree
    0.25
    """
    y_true, p, sample_weight = _check_pair_scores(
        y_true, y_score, sample_weight, owner="pairwise_brier_loss"
    )
    labels, scores, weights = _annotator_rows(y_true, p, sample_weight)
    return float(brier_score_loss(labels, scores, sample_weight=weights))


@validate_params(
    {
        **_PAIR_SCORES,
        "n_bins": [Interval(numbers.Integral, 1, None, closed="left")],
        "strategy": [StrOptions({"uniform", "quantile"})],
    },
    prefer_skip_nested_validation=True,
)
def expected_calibration_error(
    y_true, y_score, *, n_bins=10, strategy="uniform", sample_weight=None
):
    """Compute the expected calibration error of P(a > b) (top-label ECE).

    For each pair the model's confidence is ``max(p, 1 - p)`` with
    ``p = P(a > b)``, and it is right when its predicted winner is preferred.
    Pairs are binned by confidence; the ECE is the pair-weighted mean over bins
    of ``|accuracy - mean confidence|`` (Guo et al., 2017), the accuracy of a pair
    with a soft label being its expected agreement with an annotator (see
    :func:`pairwise_accuracy_score`). Because it uses the
    predicted winner, swapping the two responses of every pair leaves it
    unchanged (except at ``p = 0.5`` exactly, where ``predict`` picks b).

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        ``1`` where response a is preferred, ``0`` where b is, or a soft label in
        ``[0, 1]`` (``0.5`` for a tie).
    y_score : array-like of shape (n_pairs,) or (n_pairs, 2)
        ``P(a > b)`` (``predict_proba(X)[:, 1]``), or the whole ``predict_proba``.
    n_bins : int, default=10
        Number of confidence bins on ``[0.5, 1]``.
    strategy : {"uniform", "quantile"}, default="uniform"
        ``"uniform"``: bins of equal width; ``"quantile"``: bins holding about
        the same number of pairs.
    sample_weight : array-like of shape (n_pairs,), default=None
        Pair weights.

    Returns
    -------
    ece : float
        In ``[0, 1)``: 0 for a perfectly calibrated model, near 1 for one
        that is confident and always wrong (confidences lie in ``[0.5, 1]``).

    References
    ----------
    Guo, Pleiss, Sun and Weinberger (2017), "On Calibration of Modern Neural
    Networks", ICML.

    Examples
    --------
    >>> from skpref.metrics import expected_calibration_error
    >>> # confident (0.9) and right on 3 of 4 pairs: |0.75 - 0.9| = 0.15
    >>> round(expected_calibration_error([1, 1, 1, 0], [0.9, 0.9, 0.9, 0.9]), 6)
    0.15
    """
    y_true, p, weight = _check_pair_scores(
        y_true, y_score, sample_weight, owner="expected_calibration_error"
    )
    weight = np.ones_like(p) if weight is None else weight
    confidence = np.maximum(p, 1 - p)
    correct = _agreement(y_true, p)
    if strategy == "uniform":
        edges = np.linspace(0.5, 1.0, n_bins + 1)
    else:
        edges = np.quantile(confidence, np.linspace(0, 1, n_bins + 1))
    # bins are closed on the right; the first also holds its left edge
    bins = np.clip(np.searchsorted(edges[1:-1], confidence, side="left"), 0, n_bins - 1)
    total = np.bincount(bins, weights=weight, minlength=n_bins)
    sum_correct = np.bincount(bins, weights=weight * correct, minlength=n_bins)
    sum_confidence = np.bincount(bins, weights=weight * confidence, minlength=n_bins)
    occupied = total > 0
    gaps = np.abs(sum_correct[occupied] - sum_confidence[occupied])
    return float(gaps.sum() / total.sum())
