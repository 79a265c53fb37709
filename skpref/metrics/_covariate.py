"""Scores under covariate shift: accuracy where a covariate misleads, and its lean.

They go with :class:`~skpref.model_selection.CovariateShiftSplitter`: a search over
a remedy's strength scores each fold on the pairs where the covariate points the
wrong way, and on how much the reward differences still follow the covariate.
"""

import numpy as np
import pandas as pd
from scipy.special import logit
from sklearn.metrics import make_scorer

from skpref.metrics._accuracy import pairwise_accuracy_score
from skpref.utils import check_score_target

__all__ = [
    "against_covariate_accuracy",
    "make_covariate_scorers",
    "reward_covariate_correlation",
]


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
        raise ValueError(
            f"{owner} expects one covariate difference per pair, {n_pairs} of them; "
            f"got covariates of shape {np.shape(covariates)}."
        )
    if not np.all(np.isfinite(difference)):
        raise ValueError(f"{owner}: covariates holds NaN or infinite values.")
    return difference[:, 0]


def against_covariate_accuracy(y_true, y_score, *, covariates):
    """Accuracy on the pairs whose preferred response has less of the covariate.

    For a length, the pairs where the shorter response is preferred: a model that
    learned "longer is better" gets them wrong. Pairs whose covariate difference
    is 0, or whose label is a tie, are left out.

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        ``1`` where a is preferred; soft labels count by their side of 0.5.
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
    difference = _difference(covariates, len(y_true), owner)
    against = (difference != 0) & (y_true != 0.5) & ((difference > 0) != (y_true > 0.5))
    if not against.any():
        return float("nan")
    y_score = np.asarray(y_score, dtype=np.float64)
    y_score = y_score[:, 1] if y_score.ndim == 2 else y_score
    return pairwise_accuracy_score(y_true[against], y_score[against])


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
    y_score = np.asarray(y_score, dtype=np.float64)
    y_score = y_score[:, 1] if y_score.ndim == 2 else y_score
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
        ``"against_covariate_accuracy"`` and
        ``"neg_abs_reward_covariate_correlation"`` (``-|corr|``, so that greater
        is better), each requesting ``covariates`` as metadata: call it under
        ``sklearn.set_config(enable_metadata_routing=True)`` and pass
        ``covariates=`` to the search's ``fit``, which cuts them with the folds.

    Examples
    --------
    >>> import sklearn
    >>> from skpref.metrics import make_covariate_scorers
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     sorted(make_covariate_scorers())
    ['against_covariate_accuracy', 'neg_abs_reward_covariate_correlation']
    """
    return {
        "against_covariate_accuracy": make_scorer(
            against_covariate_accuracy, response_method="predict_proba"
        ).set_score_request(covariates=True),
        "neg_abs_reward_covariate_correlation": make_scorer(
            _abs_correlation, greater_is_better=False, response_method="predict_proba"
        ).set_score_request(covariates=True),
    }
