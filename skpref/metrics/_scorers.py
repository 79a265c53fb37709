"""The pairwise metrics as scikit-learn scorers (``scoring=`` in model selection)."""

from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import make_scorer

from skpref.metrics._accuracy import pairwise_accuracy_score
from skpref.metrics._calibration import (
    expected_calibration_error,
    pairwise_brier_loss,
    pairwise_log_loss,
)
from skpref.utils import validate_params

__all__ = ["SCORERS", "get_scorer"]

# Each scorer asks the estimator for predict_proba; for a binary classifier
# scikit-learn then passes the column of classes_[1], which the pair contract
# defines as P(a > b). Losses are negated so that greater is better.
SCORERS = {
    "pairwise_accuracy": make_scorer(
        pairwise_accuracy_score, response_method="predict_proba"
    ),
    "neg_pairwise_log_loss": make_scorer(
        pairwise_log_loss, greater_is_better=False, response_method="predict_proba"
    ),
    "neg_pairwise_brier_loss": make_scorer(
        pairwise_brier_loss, greater_is_better=False, response_method="predict_proba"
    ),
    "neg_expected_calibration_error": make_scorer(
        expected_calibration_error,
        greater_is_better=False,
        response_method="predict_proba",
    ),
}


@validate_params({"scoring": [str, callable]}, prefer_skip_nested_validation=True)
def get_scorer(scoring):
    """Return a scorer by name: skpref's pairwise scorers, then scikit-learn's.

    Parameters
    ----------
    scoring : str or callable
        One of ``"pairwise_accuracy"``, ``"neg_pairwise_log_loss"``,
        ``"neg_pairwise_brier_loss"``, ``"neg_expected_calibration_error"``, any
        name :func:`sklearn.metrics.get_scorer` knows, or a callable (returned
        as is).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``, greater is better; usable as ``scoring=``
        in :class:`~sklearn.model_selection.GridSearchCV` and
        :func:`~sklearn.model_selection.cross_validate`. The four pairwise ones
        are also in the dict ``SCORERS``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skpref.metrics import get_scorer
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> model = LogisticRegression().fit(X, y)
    >>> get_scorer("pairwise_accuracy")(model, X, y)
    1.0
    """
    if isinstance(scoring, str) and scoring in SCORERS:
        return SCORERS[scoring]
    try:
        return _sklearn_get_scorer(scoring)
    except ValueError as exc:
        raise ValueError(
            f"get_scorer: {scoring!r} is neither a skpref pairwise scorer "
            f"({sorted(SCORERS)}) nor a scikit-learn scorer name. {exc}"
        ) from None
