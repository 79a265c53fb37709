"""Tier 1: scikit-learn's estimator checks over every public reward estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skpref.utils._testing import estimator_instances, expected_failed_checks


@parametrize_with_checks(
    estimator_instances(), expected_failed_checks=expected_failed_checks
)
def test_sklearn_compatible_estimator(estimator, check):
    # each of scikit-learn's check_* functions asserts; expected failures are xfail
    check(estimator)
