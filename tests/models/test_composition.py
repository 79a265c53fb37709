"""Reward models inside Pipeline and GridSearchCV, and the paper-sized accuracy bar."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skpref import AdversarialRewardModel, BTLRewardRegressor
from skpref.datasets import make_confounded_preferences, make_latent_preferences
from tests.estimator_registry import SMALL_ADVERSARY, SMALL_NET

ADVERSARY = {**SMALL_ADVERSARY, "max_epochs": 5}
BTL = {**SMALL_NET, "latent_dim": 8, "max_epochs": 10}


def test_reward_model_in_a_pipeline():
    train = make_latent_preferences(n_pairs=300, n_features=8, random_state=0)
    test = make_latent_preferences(n_pairs=200, n_features=8, random_state=1)
    pipe = Pipeline(
        [
            ("squash", FunctionTransformer(np.tanh)),
            ("reward", BTLRewardRegressor(**BTL)),
        ]
    ).fit(train.X, train.y)
    assert pipe.score(test.X, test.y) > 0.75
    direct = BTLRewardRegressor(**BTL).fit(np.tanh(train.X), train.y)
    np.testing.assert_array_equal(
        pipe.predict_proba(test.X), direct.predict_proba(np.tanh(test.X))
    )


def test_grid_search_over_the_adversary_weight():
    data = make_confounded_preferences(
        n_pairs=300, n_features=8, rho=0.8, random_state=0
    )
    search = GridSearchCV(
        AdversarialRewardModel(**ADVERSARY),
        {"adversary_weight": [0.0, 0.5, 2.0]},
        cv=2,
        error_score="raise",
    ).fit(data.X, data.y)
    assert search.best_params_["adversary_weight"] in (0.0, 0.5, 2.0)
    assert len(search.cv_results_["mean_test_score"]) == 3
    assert np.all(search.cv_results_["mean_test_score"] > 0.6)
    assert (
        search.best_estimator_.adversary_weight
        == search.best_params_["adversary_weight"]
    )


@pytest.mark.slow
def test_default_btl_reaches_85_percent_on_uncorrelated_latents():
    # The bar: default sizes (width 512, latent 64, lr 1e-4, 10 epochs),
    # rho = 0, test accuracy against the noise-free labels.
    train = make_latent_preferences(n_pairs=4000, rho=0.0, random_state=0)
    test = make_latent_preferences(n_pairs=2000, rho=0.0, random_state=1)
    model = BTLRewardRegressor(random_state=0).fit(train.X, train.y)
    accuracy = np.mean(model.predict(test.X) == test.y_true)
    assert accuracy >= 0.85
