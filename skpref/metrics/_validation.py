"""Input checks shared by the pairwise metrics."""

import numpy as np


def _check_pair_scores(y_true, y_score, sample_weight=None, *, owner):
    """Return ``y_true`` (int64), ``P(a > b)`` (float64) and weights (or None).

    ``y_score`` is ``predict_proba(X)[:, 1]`` of a reward model, or the whole
    two-column ``predict_proba(X)``, or hard 0/1 predictions.
    """
    y_true = np.asarray(y_true)
    if y_true.ndim != 1:
        raise ValueError(
            f"{owner} expects y_true of shape (n_pairs,); got shape {y_true.shape}."
        )
    if y_true.size == 0:
        raise ValueError(f"{owner} got no pairs (y_true is empty).")
    values = np.unique(y_true)
    if not np.all(np.isin(values, [0, 1])):
        raise ValueError(
            f"{owner} expects y_true in {{0, 1}} (1 means response a is preferred); "
            f"got the values {values.tolist()[:10]}. Map your labels first, e.g. "
            "y = (labels == 'a').astype(int)."
        )
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_score.ndim == 2 and y_score.shape[1] == 2:
        y_score = y_score[:, 1]
    if y_score.ndim != 1 or y_score.shape[0] != y_true.shape[0]:
        raise ValueError(
            f"{owner} expects y_score of shape (n_pairs,) holding P(a > b) (i.e. "
            f"predict_proba(X)[:, 1]), or the (n_pairs, 2) output of predict_proba, "
            f"for {y_true.shape[0]} pairs; got shape {y_score.shape}."
        )
    if not np.all(np.isfinite(y_score)):
        raise ValueError(f"{owner}: y_score contains NaN or infinite values.")
    if y_score.min() < 0 or y_score.max() > 1:
        raise ValueError(
            f"{owner} expects probabilities P(a > b) in [0, 1]; got values from "
            f"{y_score.min():.3g} to {y_score.max():.3g}. Pass predict_proba(X)[:, 1]"
            ", not decision_function(X)."
        )
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.shape != y_true.shape:
            raise ValueError(
                f"{owner} expects sample_weight of shape {y_true.shape}; got "
                f"{sample_weight.shape}."
            )
        if not np.all(np.isfinite(sample_weight)) or np.any(sample_weight < 0):
            raise ValueError(f"{owner} expects finite, non-negative sample weights.")
        if sample_weight.sum() == 0:
            raise ValueError(f"{owner}: the sample weights sum to zero.")
    return y_true.astype(np.int64), y_score, sample_weight


def _predicted_a(y_score):
    """Apply the pair contract's ``predict``: a wins where ``P(a > b) > 0.5``."""
    return (y_score > 0.5).astype(np.int64)
