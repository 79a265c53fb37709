"""Probabilistic quality of P(a > b): log-loss, Brier loss, calibration error."""

import numpy as np

from skpref.metrics._validation import _check_pair_scores, _predicted_a

__all__ = ["expected_calibration_error", "pairwise_brier_loss", "pairwise_log_loss"]


def pairwise_log_loss(y_true, y_score, *, sample_weight=None):
    """Mean negative log-likelihood of the labels under the BTL probabilities.

    ``-mean(y log p + (1 - y) log(1 - p))`` with ``p = P(a > b)``: the loss the
    reward models minimise (eq. 1 and 10 of the paper). Probabilities are
    clipped to ``[eps, 1 - eps]`` (``eps`` of float64) so a confident mistake
    costs a large but finite amount.

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        ``1`` where response a is preferred, else ``0``.
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
    """
    y_true, p, sample_weight = _check_pair_scores(
        y_true, y_score, sample_weight, owner="pairwise_log_loss"
    )
    eps = np.finfo(np.float64).eps
    p = np.clip(p, eps, 1 - eps)
    losses = -np.where(y_true == 1, np.log(p), np.log1p(-p))
    return float(np.average(losses, weights=sample_weight))


def pairwise_brier_loss(y_true, y_score, *, sample_weight=None):
    """Mean squared difference between ``P(a > b)`` and the label.

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        ``1`` where response a is preferred, else ``0``.
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
    """
    y_true, p, sample_weight = _check_pair_scores(
        y_true, y_score, sample_weight, owner="pairwise_brier_loss"
    )
    return float(np.average((p - y_true) ** 2, weights=sample_weight))


def expected_calibration_error(
    y_true, y_score, *, n_bins=10, strategy="uniform", sample_weight=None
):
    """Compute the expected calibration error of P(a > b) (top-label ECE).

    For each pair the model's confidence is ``max(p, 1 - p)`` with
    ``p = P(a > b)``, and it is right when its predicted winner is preferred.
    Pairs are binned by confidence; the ECE is the pair-weighted mean over bins
    of ``|accuracy - mean confidence|`` (Guo et al., 2017). Because it uses the
    predicted winner, swapping the two responses of every pair leaves it
    unchanged (except at ``p = 0.5`` exactly, where ``predict`` picks b).

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        ``1`` where response a is preferred, else ``0``.
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
        In ``[0, 0.5]``; 0 for a perfectly calibrated model.

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
    owner = "expected_calibration_error"
    if not (isinstance(n_bins, int | np.integer) and n_bins >= 1):
        raise ValueError(
            f"{owner} expects n_bins to be an integer >= 1; got {n_bins!r}."
        )
    if strategy not in ("uniform", "quantile"):
        raise ValueError(
            f"{owner} expects strategy to be 'uniform' or 'quantile'; got {strategy!r}."
        )
    y_true, p, weight = _check_pair_scores(y_true, y_score, sample_weight, owner=owner)
    weight = np.ones_like(p) if weight is None else weight
    confidence = np.maximum(p, 1 - p)
    correct = (_predicted_a(p) == y_true).astype(np.float64)
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
