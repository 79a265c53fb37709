"""Selecting the adversary weight λ on out-of-distribution (inconsistent) folds."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skpref import AdversarialRewardModel
from skpref.datasets import make_confounded_preferences
from skpref.model_selection import RhoStratifiedSplitter
from tests.model_selection.split_data import SMALL_ADVERSARIAL

SMALL = SMALL_ADVERSARIAL


@pytest.fixture(scope="module")
def data():
    return make_confounded_preferences(
        n_pairs=600, n_features=8, rho=0.5, random_state=0
    )


def check_search(data, routing, n_splits):
    cv = RhoStratifiedSplitter(
        mode="confounding",
        rho=0.9,
        n_splits=n_splits,
        train_size=200,
        test="inconsistent",
        random_state=0,
    )
    search = GridSearchCV(
        AdversarialRewardModel(**SMALL),
        {"adversary_weight": [0.0, 1.0]},
        cv=cv,
        refit=False,
    )
    if routing:
        with sklearn.config_context(enable_metadata_routing=True):
            search.fit(data.X, data.y, prompt_type=data.prompt_type)
    else:
        search.fit(data.X, data.y, groups=data.prompt_type)
    assert search.best_params_["adversary_weight"] in (0.0, 1.0)
    info = cv.split_info(data.X, prompt_type=data.prompt_type)
    assert (info["rho_train"] == 0.9).all()
    assert (info["rho_test"] == 0.0).all()
    # the reported fold scores are accuracies on the splitter's inconsistent pairs
    splits = list(cv.split(data.X, prompt_type=data.prompt_type))
    for i, (train, test) in enumerate(splits):
        assert np.all(data.prompt_type[test] != data.objective[test])
        for j, weight in enumerate((0.0, 1.0)):
            model = clone(AdversarialRewardModel(**SMALL)).set_params(
                adversary_weight=weight
            )
            model.fit(data.X[train], data.y[train])
            expected = model.score(data.X[test], data.y[test])
            got = search.cv_results_[f"split{i}_test_score"][j]
            assert got == pytest.approx(expected, abs=1e-6)


def test_grid_search_selects_lambda_on_inconsistent_folds(data):
    check_search(data, routing=False, n_splits=1)


@pytest.mark.slow
def test_grid_search_selects_lambda_with_metadata_routing(data):
    check_search(data, routing=True, n_splits=2)
