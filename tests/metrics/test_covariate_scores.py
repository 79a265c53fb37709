"""Scores under covariate shift, and the search that selects by them."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import given
from hypothesis import strategies as st
from sklearn.model_selection import GridSearchCV

from skpref import BTLRewardRegressor
from skpref.datasets import make_latent_preferences
from skpref.metrics import (
    against_covariate_accuracy,
    make_covariate_scorers,
    pairwise_accuracy_score,
    reward_covariate_correlation,
)
from skpref.model_selection import CovariateShiftSplitter


@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.3, 0.5, 1.0]),
            st.floats(0.01, 0.99),
            st.sampled_from([-2.0, -1.0, 0.0, 1.0, 3.0]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_the_accuracy_is_that_of_the_misleading_pairs(rows):
    y, p, z = (np.array(column) for column in zip(*rows, strict=True))
    against = (z != 0) & (y != 0.5) & ((z > 0) != (y > 0.5))
    got = against_covariate_accuracy(y, p, covariates=z)
    if not against.any():
        assert np.isnan(got)
    else:
        assert got == pairwise_accuracy_score(y[against], p[against])


def test_a_pair_table_and_two_column_scores_are_read():
    y, p = np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.2, 0.3])
    table = pd.DataFrame({"n_words_a": [9, 4, 1, 1], "n_words_b": [4, 1, 3, 5]})
    by_table = against_covariate_accuracy(y, np.c_[1 - p, p], covariates=table)
    assert by_table == against_covariate_accuracy(y, p, covariates=[5, 3, -2, -4])
    assert reward_covariate_correlation(None, p, covariates=table) > 0.5


def test_the_correlation_follows_the_reward_difference():
    z = np.linspace(-3, 3, 50)
    follows = 1 / (1 + np.exp(-2 * z))
    assert reward_covariate_correlation(None, follows, covariates=z) > 0.99
    assert reward_covariate_correlation(None, 1 - follows, covariates=z) < -0.99
    assert np.isnan(reward_covariate_correlation(None, np.full(50, 0.5), covariates=z))


@pytest.mark.parametrize(
    ("covariates", "match"),
    [
        (np.ones(3), "one covariate difference per pair, 4 of them"),
        ([1.0, np.nan, 2.0, 3.0], "NaN or infinite"),
        (
            pd.DataFrame(
                {"x_a": [1] * 4, "y_a": [1] * 4, "x_b": [0] * 4, "y_b": [0] * 4}
            ),
            "scores one covariate; got 2",
        ),  # fmt: skip
    ],
)
def test_bad_covariates_are_named(covariates, match):
    with pytest.raises(ValueError, match=match):
        against_covariate_accuracy([1, 0, 1, 0], [0.5] * 4, covariates=covariates)


def test_a_search_under_covariate_shift_selects_by_these_scores():
    data = make_latent_preferences(800, n_features=4, random_state=0)
    covariate = data.delta[:, 0]  # the label partly follows it
    model = BTLRewardRegressor(hidden_dim=8, latent_dim=4, max_epochs=3, lr=1e-2,
                               device="cpu", random_state=0)  # fmt: skip
    cv = CovariateShiftSplitter(rho=0.8, n_splits=2, train_size=200,
                                test="balanced", random_state=0)  # fmt: skip
    with sklearn.config_context(enable_metadata_routing=True):
        scoring = {"accuracy": "accuracy", **make_covariate_scorers()}
        search = GridSearchCV(model, {"lr": [1e-2, 1e-3]}, cv=cv, scoring=scoring,
                              refit="against_covariate_accuracy")  # fmt: skip
        search.fit(data.X, data.y, covariates=covariate)
    results = search.cv_results_
    for name in ("against_covariate_accuracy", "neg_abs_reward_covariate_correlation"):
        assert np.isfinite(results[f"mean_test_{name}"]).all()
    assert (results["mean_test_neg_abs_reward_covariate_correlation"] <= 0).all()
    best = np.argmax(results["mean_test_against_covariate_accuracy"])
    assert search.best_index_ == best
