"""Scores under covariate shift: accuracy where a covariate misleads, and its lean.

They go with :class:`~skpref.model_selection.CovariateShiftSplitter`: a search over
a remedy's strength scores each fold on the pairs where the covariate points the
wrong way, on its accuracy with the covariate held fixed, and on how much the
reward differences still follow the covariate.
"""

import numpy as np
import pandas as pd
from scipy.special import logit
from sklearn.metrics import make_scorer

from skpref.metrics._accuracy import _agreement, pairwise_accuracy_score
from skpref.metrics._validation import (
    _check_pair_scores,
    _check_probabilities,
    _is_hard,
)
from skpref.utils import check_score_target, pair_column_stems, validate_params

__all__ = [
    "against_covariate_accuracy",
    "covariate_controlled_accuracy",
    "make_covariate_scorers",
    "reward_covariate_correlation",
]

# Inner edges of the strata of the chosen-minus-rejected covariate contrast: much
# less (up to -0.5), less, about the same (-0.1 to 0.1), more, much more (above
# 0.5); a stratum holds its upper edge.
_STRATA_EDGES = (-0.5, -0.1, 0.1, 0.5)


def _difference(covariates, n_pairs, owner):
    """One covariate difference per pair, from an array or a pair table."""
    if isinstance(covariates, pd.DataFrame):
        from skpref.covariates import covariate_differences

        if any(str(c).endswith(("_a", "_b")) for c in covariates.columns):
            covariates = covariate_differences(covariates)
        if covariates.shape[1] != 1:
            raise ValueError(
                f"{owner} scores one covariate; got {covariates.shape[1]} "
                f"({list(covariates.columns)}). Pass the column of the one to use."
            )
    difference = np.asarray(covariates, dtype=np.float64).reshape(len(covariates), -1)
    if difference.shape != (n_pairs, 1):
        both = (
            " If its columns are the covariate of response a and of response b, "
            "pass a DataFrame with columns '<name>_a' and '<name>_b' "
            "(skpref.covariates.pair_covariates)."
            if difference.shape == (n_pairs, 2)
            else ""
        )
        raise ValueError(
            f"{owner} expects one covariate difference per pair, {n_pairs} of them; "
            f"got covariates of shape {np.shape(covariates)}.{both}"
        )
    if not np.all(np.isfinite(difference)):
        raise ValueError(f"{owner}: covariates holds NaN or infinite values.")
    return difference[:, 0]


def _contrast(covariates, n_pairs, owner):
    """Return the a-minus-b contrast of each pair: relative from a table, else as given.

    From a ``<name>_a | <name>_b`` table: ``(z_a - z_b) / max(|z_a|, |z_b|, 1)``,
    for lengths the relative difference of the evaluation's length control.
    """
    if not isinstance(covariates, pd.DataFrame) or (
        pair_column_stems(covariates.columns, owner=owner, argument="covariates")
        is None
    ):
        return _difference(covariates, n_pairs, owner)
    if covariates.shape[1] != 2:
        raise ValueError(
            f"{owner} scores one covariate; got {covariates.shape[1] // 2} "
            f"({list(covariates.columns)}). Pass the two columns of the one to use."
        )
    if len(covariates) != n_pairs:
        raise ValueError(
            f"{owner} expects the covariates of both responses of each pair, "
            f"{n_pairs} pairs; got covariates of shape {covariates.shape}."
        )
    values = covariates.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{owner}: covariates holds NaN or infinite values.")
    z_a, z_b = values[:, 0], values[:, 1]
    return (z_a - z_b) / np.maximum(np.maximum(np.abs(z_a), np.abs(z_b)), 1.0)


def _stratified_accuracy(correct, contrast, sample_weight=None):
    """Mean over the strata of ``contrast`` of the (weighted) mean of ``correct``.

    ``correct`` and ``contrast`` are per chosen-against-rejected row; rows of
    weight 0 are left out, and every stratum that holds a row counts equally.
    """
    if sample_weight is not None:
        kept = sample_weight > 0
        correct, contrast, sample_weight = (
            correct[kept],
            contrast[kept],
            sample_weight[kept],
        )
    strata = np.digitize(contrast, _STRATA_EDGES, right=True)
    means = [
        np.average(
            correct[strata == s],
            weights=None if sample_weight is None else sample_weight[strata == s],
        )
        for s in np.unique(strata)
    ]
    return float(np.mean(means))


@validate_params(
    {"y_true": ["array-like"], "y_score": ["array-like"], "covariates": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def covariate_controlled_accuracy(y_true, y_score, *, covariates):
    """Accuracy with the covariate held fixed: equal weight to each of its strata.

    Every pair falls in one of five strata of the contrast of its preferred
    response's covariate against the other's: at most -0.5, -0.5 to -0.1,
    within ±0.1, 0.1 to 0.5, above 0.5 (each stratum holds its upper edge); the
    accuracy of each non-empty stratum counts equally. A model that only follows
    the covariate ("longer is better") is right on every pair of the two upper
    strata and wrong on every pair of the two lower ones: with pairs on both
    sides it scores about 0.5, whatever share of the pairs prefers more of the
    covariate (its plain accuracy is that share); a model that ranks well at
    every value of the covariate keeps its accuracy. For a length, this is the
    ``length_controlled`` accuracy of :func:`skpref.evaluation.evaluate` (the
    same computation).

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        ``1`` where a is preferred, ``0`` where b is, or a soft label in
        ``[0, 1]``: a pair with label ``y`` counts as a pair preferring a with
        weight ``y`` and one preferring b with weight ``1 - y``.
    y_score : array-like of shape (n_pairs,) or (n_pairs, 2)
        ``P(a > b)``; a pair is right by the rule of
        :func:`pairwise_accuracy_score`.
    covariates : pandas.DataFrame or array-like of shape (n_pairs,)
        A one-covariate ``<name>_a | <name>_b`` table (as
        :func:`~skpref.covariates.pair_covariates` gives): the contrast is the
        relative difference ``(z_a - z_b) / max(|z_a|, |z_b|, 1)``. Or the
        contrast ``z_a - z_b`` itself, cut at the edges as given: a difference
        in whole units (characters, tokens) then falls in three strata (the
        preferred response has less, the same, more), so pass the table for a
        length, or a difference on a relative or standardised scale.

    Returns
    -------
    accuracy : float
        In ``[0, 1]``; 0.5 is chance, and a covariate detector's score.

    See Also
    --------
    against_covariate_accuracy : Accuracy on the pairs the covariate misleads.
    skpref.evaluation.evaluate : Its ``length_controlled`` column.

    Notes
    -----
    This is post-stratification: the accuracy that pairs spread evenly over the
    strata of the covariate would give, so the share of pairs in which the
    preferred response has more of the covariate no longer sets the score. The
    contrast is taken from the preferred response's side: a pair preferring b
    falls in the stratum of ``-contrast``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.metrics import covariate_controlled_accuracy
    >>> lengths = pd.DataFrame({"n_words_a": [90, 80, 95, 10],
    ...                         "n_words_b": [10, 12, 9, 100]})
    >>> ruler = [0.9, 0.8, 0.9, 0.1]  # the longer response wins
    >>> # a is preferred in all four: right on the 3 where a is longer, wrong on 1
    >>> covariate_controlled_accuracy([1, 1, 1, 1], ruler, covariates=lengths)
    0.5
    """
    owner = "covariate_controlled_accuracy"
    y_true, y_score, _ = _check_pair_scores(y_true, y_score, owner=owner)
    contrast = _contrast(covariates, len(y_true), owner)
    if _is_hard(y_true):
        toward_chosen = np.where(y_true == 1, contrast, -contrast)
        return _stratified_accuracy(_agreement(y_true, y_score), toward_chosen)
    # each pair as a row preferring a (weight y) and a row preferring b (1 - y)
    a_predicted = (y_score > 0.5).astype(np.float64)
    return _stratified_accuracy(
        np.r_[a_predicted, 1 - a_predicted],
        np.r_[contrast, -contrast],
        sample_weight=np.r_[y_true, 1 - y_true],
    )


def against_covariate_accuracy(y_true, y_score, *, covariates):
    """Accuracy on the pairs whose preferred response has less of the covariate.

    For a length, the pairs where the shorter response is preferred: a model that
    learned "longer is better" gets them wrong. Pairs whose covariate difference
    is 0 are left out.

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        ``1`` where a is preferred. A soft label ``y`` counts as its annotators
        (:ref:`soft_labels`): weight ``y`` as a pair where a is preferred and
        ``1 - y`` as one where b is, so a tie counts half as a pair whose
        preferred response has less.
    y_score : array-like of shape (n_pairs,) or (n_pairs, 2)
        ``P(a > b)``.
    covariates : array-like of shape (n_pairs,) or pandas.DataFrame
        The covariate difference ``z_a - z_b`` of each pair, or a one-covariate
        ``<name>_a | <name>_b`` table.

    Returns
    -------
    accuracy : float
        NaN when no pair has its preferred response with less of the covariate.

    Examples
    --------
    >>> from skpref.metrics import against_covariate_accuracy
    >>> # pairs 1 and 2 prefer the response with less: the model is right on one
    >>> against_covariate_accuracy([1, 0, 1, 0], [0.9, 0.2, 0.2, 0.3],
    ...                            covariates=[5, 3, -2, -4])
    0.5
    """
    owner = "against_covariate_accuracy"
    y_true = check_score_target(y_true, owner=owner)
    y_score = _check_probabilities(y_score, len(y_true), owner=owner)
    difference = _difference(covariates, len(y_true), owner)
    # the annotators who prefer the response with less: those of a where a has
    # less, of b where b has
    weight = np.where(difference < 0, y_true, np.where(difference > 0, 1 - y_true, 0))
    against = weight > 0
    if not against.any():
        return float("nan")
    less_is_a = (difference[against] < 0).astype(np.float64)
    return pairwise_accuracy_score(
        less_is_a, y_score[against], sample_weight=weight[against]
    )


def reward_covariate_correlation(y_true, y_score, *, covariates):
    """Pearson correlation of the reward difference with the covariate difference.

    The reward difference is ``logit(P(a > b)) = r(a) - r(b)``. Near 0: the
    rewards do not follow the covariate; the sign says which way they lean.

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        Ignored (present for the scorer protocol).
    y_score : array-like of shape (n_pairs,) or (n_pairs, 2)
        ``P(a > b)``.
    covariates : array-like of shape (n_pairs,) or pandas.DataFrame
        As for :func:`against_covariate_accuracy`.

    Returns
    -------
    correlation : float
        NaN when either difference is constant.

    Examples
    --------
    >>> from skpref.metrics import reward_covariate_correlation
    >>> round(reward_covariate_correlation(None, [0.9, 0.6, 0.3],
    ...                                    covariates=[3, 1, -2]), 3)
    0.977
    """
    owner = "reward_covariate_correlation"
    y_score = _check_probabilities(y_score, np.shape(y_score)[0], owner=owner)
    difference = _difference(covariates, len(y_score), owner)
    reward = logit(np.clip(y_score, 1e-12, 1 - 1e-12))
    if np.ptp(reward) == 0 or np.ptp(difference) == 0:
        return float("nan")
    return float(np.corrcoef(reward, difference)[0, 1])


def _abs_correlation(y_true, y_score, *, covariates):
    return abs(reward_covariate_correlation(y_true, y_score, covariates=covariates))


def make_covariate_scorers():
    """Scorers of the covariate shift for ``scoring=``, reading ``covariates``.

    Returns
    -------
    scorers : dict of str to scorer
        ``"against_covariate_accuracy"``, ``"covariate_controlled_accuracy"``
        and ``"neg_abs_reward_covariate_correlation"`` (``-|corr|``, so that
        greater is better), each requesting ``covariates`` as metadata: call it
        under ``sklearn.set_config(enable_metadata_routing=True)`` and pass
        ``covariates=`` to the search's ``fit``, which cuts them with the folds.
        Any key can be the search's ``refit``.

    Examples
    --------
    >>> import sklearn
    >>> from skpref.metrics import make_covariate_scorers
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     sorted(make_covariate_scorers())
    ['against_covariate_accuracy', 'covariate_controlled_accuracy', \
'neg_abs_reward_covariate_correlation']
    """
    return {
        "against_covariate_accuracy": make_scorer(
            against_covariate_accuracy, response_method="predict_proba"
        ).set_score_request(covariates=True),
        "covariate_controlled_accuracy": make_scorer(
            covariate_controlled_accuracy, response_method="predict_proba"
        ).set_score_request(covariates=True),
        "neg_abs_reward_covariate_correlation": make_scorer(
            _abs_correlation, greater_is_better=False, response_method="predict_proba"
        ).set_score_request(covariates=True),
    }
