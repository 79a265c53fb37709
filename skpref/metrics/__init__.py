"""Metrics for preference pairs: accuracy with confidence intervals, calibration.

Every metric takes ``y_true`` (1 means response a is preferred) and
``y_score = P(a > b)``, i.e. ``predict_proba(X)[:, 1]`` of a reward model. Names
follow scikit-learn: ``*_score`` is better when higher, ``*_loss`` and ``*_error``
when lower. :func:`get_scorer` turns them into ``scoring=`` objects. The
length-preference rate (how often the longer response is preferred) describes a
model's lean on length next to its accuracy; the covariate scores (accuracy where
a covariate misleads, or with it held fixed) select a remedy under covariate
shift, and :func:`covariate_leakage` measures how much of a covariate can still
be read from a fitted model on held-out pairs.
"""

from skpref.metrics._accuracy import (
    accuracy_by_group,
    consistency_groups,
    pairwise_accuracy_interval,
    pairwise_accuracy_score,
)
from skpref.metrics._calibration import (
    expected_calibration_error,
    pairwise_brier_loss,
    pairwise_log_loss,
)
from skpref.metrics._covariate import (
    against_covariate_accuracy,
    covariate_controlled_accuracy,
    make_covariate_scorers,
    reward_covariate_correlation,
)
from skpref.metrics._leakage import LeakageReport, covariate_leakage
from skpref.metrics._length import (
    length_groups,
    length_preference_interval,
    length_preference_rate,
    make_length_preference_scorer,
)
from skpref.metrics._scorers import SCORERS, get_scorer

__all__ = [
    "SCORERS",
    "LeakageReport",
    "accuracy_by_group",
    "against_covariate_accuracy",
    "consistency_groups",
    "covariate_controlled_accuracy",
    "covariate_leakage",
    "expected_calibration_error",
    "get_scorer",
    "length_groups",
    "length_preference_interval",
    "length_preference_rate",
    "make_covariate_scorers",
    "make_length_preference_scorer",
    "pairwise_accuracy_interval",
    "pairwise_accuracy_score",
    "pairwise_brier_loss",
    "pairwise_log_loss",
    "reward_covariate_correlation",
]
