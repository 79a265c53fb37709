"""A refit rule for multi-metric searches: good enough on one score, best on another."""

from numbers import Real

import numpy as np

from skpref.utils import Interval, validate_params


@validate_params(
    {
        "primary": [str],
        "tolerance": [Interval(Real, 0, None, closed="left")],
        "secondary": [str],
    },
    prefer_skip_nested_validation=True,
)
def within_best(primary, *, tolerance=0.01, secondary):
    """Return a ``refit`` rule: best on ``secondary`` of the near-best on ``primary``.

    For a multi-metric :class:`~sklearn.model_selection.GridSearchCV`: the
    candidates whose mean test ``primary`` score is within ``tolerance`` of the
    best one are kept, and of those the one with the best mean test
    ``secondary`` score is refitted (the first in grid order on a tie). With
    ``primary="against_covariate_accuracy"`` and
    ``secondary="neg_abs_reward_covariate_correlation"``: the least
    covariate-driven reward among those that rank nearly as well where the
    covariate misleads.

    Parameters
    ----------
    primary : str
        The scorer name (a key of ``scoring``) that must be near its best.
    tolerance : float, default=0.01
        How far below the best mean ``primary`` score a candidate may be.
    secondary : str
        The scorer name that picks among them (higher is better, as for every
        scikit-learn score).

    Returns
    -------
    rule : callable
        ``rule(cv_results) -> index``, to pass as ``refit=``.

    Examples
    --------
    >>> from skpref.model_selection import within_best
    >>> rule = within_best("accuracy", tolerance=0.02, secondary="neg_corr")
    >>> rule({"mean_test_accuracy": [0.80, 0.79, 0.70],
    ...       "mean_test_neg_corr": [-0.30, -0.05, -0.01]})
    1
    """

    def rule(cv_results):
        scores = {}
        for name in (primary, secondary):
            key = f"mean_test_{name}"
            if key not in cv_results:
                found = sorted(k[10:] for k in cv_results if k.startswith("mean_test_"))
                raise ValueError(
                    f"within_best: the search has no score {name!r}; its scores "
                    f"are {found}. Name a key of the search's scoring."
                )
            scores[name] = np.asarray(cv_results[key], dtype=np.float64)
        if np.isnan(scores[primary]).all():
            raise ValueError(
                f"within_best: every candidate's {primary!r} score is NaN (every "
                "fit failed); see the search's error_score and warnings."
            )
        best = np.nanmax(scores[primary])
        # within tolerance, the boundary included: 0.52 - 0.05 rounds above 0.47
        slack = 1e-12 * max(1.0, abs(best))
        near = scores[primary] >= best - tolerance - slack
        candidates = np.where(
            near & ~np.isnan(scores[secondary]), scores[secondary], -np.inf
        )
        if not np.isfinite(candidates).any():  # no usable secondary score: primary
            return int(np.nanargmax(scores[primary]))
        return int(np.argmax(candidates))

    rule.__name__ = (
        f"within_best({primary!r}, tolerance={tolerance}, secondary={secondary!r})"
    )
    return rule
