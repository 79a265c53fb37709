"""Input checks shared by the pairwise metrics, and how soft labels are read.

A label ``y`` in ``[0, 1]`` is the share of annotators who prefer response a:
``1`` or ``0`` for a hard label, ``0.5`` for a tie. Every metric is the expected
value of its hard-label version over an annotator drawn at random, so a pair with
label ``y`` counts as a pair labelled 1 with weight ``y`` and a pair labelled 0
with weight ``1 - y`` (its *annotator rows*).
"""

import numpy as np

_SOFT_HINT = (
    "1 where response a is preferred, 0 where b is, or the share of annotators "
    "preferring a (0.5 for a tie)"
)


def _check_pair_scores(y_true, y_score, sample_weight=None, *, owner):
    """Return ``y_true`` in [0, 1], ``P(a > b)`` and the weights (or None).

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
    if y_true.dtype.kind not in "biuf":
        raise ValueError(
            f"{owner} expects numeric labels y_true in [0, 1] ({_SOFT_HINT}); got "
            f"values such as {y_true[0]!r}. Map your labels first, e.g. "
            "y = (labels == 'a').astype(int)."
        )
    y_true = y_true.astype(np.float64, copy=False)
    # min and max first: one pass each, no temporaries (1e6 pairs are scored often)
    if not (y_true.min() >= 0 and y_true.max() <= 1):
        outside = ~((y_true >= 0) & (y_true <= 1))
        raise ValueError(
            f"{owner} expects y_true in [0, 1] ({_SOFT_HINT}); got the values "
            f"{np.unique(y_true[outside]).tolist()[:10]}. Map your labels first, "
            "e.g. y = (labels == 'a').astype(int)."
        )
    y_score = _check_probabilities(y_score, y_true.shape[0], owner=owner)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.shape != y_true.shape:
            raise ValueError(
                f"{owner} expects sample_weight of shape {y_true.shape}; got "
                f"{sample_weight.shape}."
            )
        total = sample_weight.sum()
        if not (sample_weight.min() >= 0 and np.isfinite(total)):
            raise ValueError(f"{owner} expects finite, non-negative sample weights.")
        if total == 0:
            raise ValueError(f"{owner}: the sample weights sum to zero.")
    return y_true, y_score, sample_weight


def _check_probabilities(y_score, n_pairs, *, owner):
    """Return ``P(a > b)`` of ``n_pairs`` pairs from one or two columns of them."""
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_score.ndim == 2 and y_score.shape[1] == 2:
        y_score = y_score[:, 1]
    if y_score.ndim != 1 or y_score.shape[0] != n_pairs:
        raise ValueError(
            f"{owner} expects y_score of shape (n_pairs,) holding P(a > b) (i.e. "
            f"predict_proba(X)[:, 1]), or the (n_pairs, 2) output of predict_proba, "
            f"for {n_pairs} pairs; got shape {y_score.shape}."
        )
    low, high = y_score.min(), y_score.max()
    if not np.isfinite(low + high):
        raise ValueError(f"{owner}: y_score contains NaN or infinite values.")
    if low < 0 or high > 1:
        raise ValueError(
            f"{owner} expects probabilities P(a > b) in [0, 1]; got values from "
            f"{low:.3g} to {high:.3g}. Pass predict_proba(X)[:, 1]"
            ", not decision_function(X)."
        )
    return y_score


def _annotator_rows(y_true, y_score, sample_weight):
    """Each pair as two hard-labelled rows weighted ``w * y`` and ``w * (1 - y)``.

    A scikit-learn metric of hard labels with sample weights, on these rows, is the
    metric's expectation over annotators: the cross-entropy with the soft target
    for the log-loss, ``(p - y)^2 + y (1 - y)`` for the Brier loss.
    """
    weight = np.ones_like(y_true) if sample_weight is None else sample_weight
    labels = np.r_[np.ones(y_true.size, np.int64), np.zeros(y_true.size, np.int64)]
    return (
        labels,
        np.r_[y_score, y_score],
        np.r_[weight * y_true, weight * (1 - y_true)],
    )


def _is_hard(y_true):
    return bool(np.all((y_true == 0) | (y_true == 1)))
