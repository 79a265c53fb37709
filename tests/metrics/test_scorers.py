import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from skpref.metrics import (
    SCORERS,
    expected_calibration_error,
    get_scorer,
    pairwise_accuracy_score,
    pairwise_brier_loss,
    pairwise_log_loss,
)

METRICS = {
    "pairwise_accuracy": (pairwise_accuracy_score, 1),
    "neg_pairwise_log_loss": (pairwise_log_loss, -1),
    "neg_pairwise_brier_loss": (pairwise_brier_loss, -1),
    "neg_expected_calibration_error": (expected_calibration_error, -1),
}


@pytest.fixture(scope="module")
def pairs():
    """Pair data in the contract's layout, [a | b], with BTL labels."""
    rng = np.random.default_rng(0)
    d, n = 4, 400
    a, b = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    w = np.array([2.0, -1.0, 0.5, 0.0])
    y = (rng.random(n) < 1 / (1 + np.exp(-(a - b) @ w))).astype(int)
    return np.hstack([a, b]), y


@pytest.mark.parametrize("name", sorted(METRICS))
def test_scorer_feeds_p_a_over_b_to_the_metric(pairs, name):
    X, y = pairs
    model = LogisticRegression().fit(X, y)
    metric, sign = METRICS[name]
    expected = sign * metric(y, model.predict_proba(X)[:, 1])
    assert get_scorer(name)(model, X, y) == pytest.approx(expected)
    assert SCORERS[name] is get_scorer(name)


def test_accuracy_scorer_equals_the_estimators_score(pairs):
    X, y = pairs
    model = LogisticRegression().fit(X, y)
    assert get_scorer("pairwise_accuracy")(model, X, y) == model.score(X, y)


def test_grid_search_picks_the_best_calibrated_model(pairs):
    X, y = pairs
    # a strong penalty shrinks probabilities toward 0.5, worsening log-loss
    search = GridSearchCV(
        LogisticRegression(),
        {"C": [1e-4, 1.0]},
        scoring=get_scorer("neg_pairwise_log_loss"),
        cv=KFold(3),
    ).fit(X, y)
    assert search.best_params_ == {"C": 1.0}
    assert search.best_score_ > search.cv_results_["mean_test_score"].min()


def test_cross_validate_accepts_all_scorers_at_once(pairs):
    X, y = pairs
    scores = cross_validate(LogisticRegression(), X, y, scoring=SCORERS, cv=KFold(2))
    for name in METRICS:
        assert scores[f"test_{name}"].shape == (2,)
    assert np.all(scores["test_neg_pairwise_log_loss"] < 0)
    assert np.all(scores["test_pairwise_accuracy"] > 0.6)


def test_get_scorer_falls_back_to_scikit_learn_and_names_both_lists():
    assert get_scorer("roc_auc") is not None
    with pytest.raises(ValueError, match="neither a skpref pairwise scorer"):
        get_scorer("pairwise_acuracy")
