"""The objective names a multi-objective model carries: its part of the one coding."""

import numpy as np
import pytest

import skpref
from skpref import AdversarialRewardModel, BTLRewardRegressor, MultiheadRewardModel
from skpref.datasets import OBJECTIVES, make_confounded_preferences

SMALL = {"hidden_dim": 8, "latent_dim": 8, "max_epochs": 2, "device": "cpu"}
HEADS = {**SMALL, "head_hidden_dim": 8}
MODELS = [
    lambda **kw: BTLRewardRegressor(with_objective=True, **SMALL, **kw),
    lambda **kw: MultiheadRewardModel(**HEADS, **kw),
    lambda **kw: AdversarialRewardModel(discriminator_hidden_dim=8, **HEADS, **kw),
]


@pytest.fixture(scope="module")
def data():
    return make_confounded_preferences(
        n_pairs=120, n_features=4, rho=0.5, random_state=0
    )


@pytest.mark.parametrize("make", MODELS, ids=["base", "multihead", "adversarial"])
def test_names_are_kept_and_fix_the_number_of_objectives(make, data, tmp_path):
    model = make(objective_categories=list(OBJECTIVES), random_state=0)
    model.fit(data.X, data.y)
    assert model.objective_categories_.tolist() == ["helpful", "harmless"]
    assert model.n_objectives_ == 2
    loaded = skpref.load(skpref.save(model, tmp_path / "m.safetensors"))
    assert loaded.objective_categories_.tolist() == ["helpful", "harmless"]
    assert make(random_state=0).fit(data.X, data.y).objective_categories_ is None


def test_names_declare_objectives_absent_from_training(data):
    helpful = data.X[:, -1] == 0
    model = MultiheadRewardModel(objective_categories=["helpful", "harmless"], **HEADS)
    model.fit(data.X[helpful], data.y[helpful])
    assert model.n_objectives_ == 2
    # the harmless head exists (untrained): its pairs are scored, not refused
    margin = model.decision_function(data.X[~helpful])
    assert margin.shape == ((~helpful).sum(),) and np.isfinite(margin).all()


@pytest.mark.parametrize(
    "params, match",
    [
        (
            {"objective_categories": ["helpful"]},
            r"got objective_categories=\['helpful'\], so objective ids must be 0..0",
        ),
        (
            {"objective_categories": ["a", "b", "c"], "n_objectives": 2},
            "n_objectives=2 but 3 objective_categories",
        ),
        ({"objective_categories": ["a", "a"]}, "lists 'a' more than once"),
        (
            {"objective_categories": "helpful"},
            "'objective_categories' parameter of MultiheadRewardModel must be",
        ),
    ],
)
def test_bad_names_are_errors(params, match, data):
    with pytest.raises(ValueError, match=match):
        MultiheadRewardModel(**params, **HEADS).fit(data.X, data.y)


def test_names_need_the_objective_column(data):
    with pytest.raises(ValueError, match="objective_categories=.* with_objective=F"):
        BTLRewardRegressor(objective_categories=["a", "b"], **SMALL).fit(
            data.X[:, :-1], data.y
        )


def test_with_objective_set_after_fit_changes_no_prediction(data):
    # prediction reads the layout fit saw: the parameter read then scored
    # single responses of d columns as objective 0 and skipped the id check
    model = BTLRewardRegressor(with_objective=True, **SMALL, random_state=0)
    model.fit(data.X, data.y)
    E = np.c_[data.X[:5, :4], np.ones(5)]
    rewards = model.predict_reward(E)
    ensemble = skpref.RewardEnsemble(model, n_members=2, random_state=0)
    ensemble.fit(data.X, data.y)
    ensemble_rewards = ensemble.predict_reward(E)
    model.set_params(with_objective=False)
    ensemble.set_params(estimator__with_objective=False)
    for fitted, expected in ((model, rewards), (ensemble, ensemble_rewards)):
        np.testing.assert_array_equal(fitted.predict_reward(E), expected)
        with pytest.raises(ValueError, match=r"4 \+ 1 \(objective\) columns; got 4"):
            fitted.predict_reward(E[:, :4])
        with pytest.raises(ValueError, match="non-integer value 0.5"):
            fitted.predict_proba(np.c_[data.X[:2, :-1], [0.5, 0.5]])
