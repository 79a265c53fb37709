"""RewardEnsemble: members, averaged probabilities, centred rewards and their spread."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, logit
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError

import skpref
from skpref import (
    AdversarialRewardModel,
    BTLRewardRegressor,
    MultiheadRewardModel,
    RewardEnsemble,
)
from tests.estimator_registry import SMALL_HEADS, SMALL_NET, pair_data_for

QUICK = {**SMALL_NET, "max_epochs": 5}


@pytest.fixture(scope="module")
def latent():
    return pair_data_for(BTLRewardRegressor(), n_pairs=300)


@pytest.fixture(scope="module")
def fitted(latent):
    ensemble = RewardEnsemble(BTLRewardRegressor(**QUICK), n_members=3, random_state=0)
    return ensemble.fit(latent.X, latent.y)


@pytest.mark.parametrize(
    "member",
    [
        BTLRewardRegressor(**QUICK),
        MultiheadRewardModel(**{**SMALL_HEADS, "max_epochs": 5}),
    ],
)
def test_members_are_the_models_fitted_alone_on_their_bootstrap_samples(member):
    data = pair_data_for(member, n_pairs=200)
    rng = np.random.RandomState(1)
    y = np.where(data.y == 1, 0.9, 0.1)
    weight = rng.uniform(0, 2, size=len(y))
    ensemble = RewardEnsemble(member, n_members=2, bootstrap=True, random_state=3)
    ensemble.fit(data.X, y, sample_weight=weight)
    seeds = {m.random_state for m in ensemble.members_}
    assert len(seeds) == 2
    for fitted, rows in zip(ensemble.members_, ensemble.member_samples_, strict=True):
        assert len(np.unique(rows)) < len(rows)  # drawn with replacement
        alone = clone(member).set_params(**fitted.get_params())
        alone.fit(data.X[rows], y[rows], sample_weight=weight[rows])
        assert fitted.best_epoch_ == alone.best_epoch_
        assert_allclose(
            fitted.predict_proba(data.X), alone.predict_proba(data.X), atol=2e-5
        )


def test_without_bootstrap_members_differ_only_by_their_seed(fitted, latent):
    ensemble = fitted
    assert ensemble.member_samples_ is None
    for member in ensemble.members_:
        alone = clone(ensemble.estimator).set_params(random_state=member.random_state)
        alone.fit(latent.X, latent.y)
        assert_allclose(
            member.decision_function(latent.X),
            alone.decision_function(latent.X),
            atol=1e-4,
        )
    margins = ensemble.decision_function_members(latent.X)
    assert margins.shape == (3, len(latent.X))
    assert not np.allclose(margins[0], margins[1])


def test_probabilities_are_the_members_mean_and_the_margin_its_logit(fitted, latent):
    margins = np.stack([m.decision_function(latent.X) for m in fitted.members_])
    proba = fitted.predict_proba(latent.X)
    assert_allclose(proba[:, 1], expit(margins).mean(0), rtol=1e-12)
    assert_allclose(proba.sum(1), 1.0)
    assert_allclose(fitted.decision_function(latent.X), logit(proba[:, 1]), atol=1e-9)
    # not the mean margin: the members disagree
    assert not np.allclose(fitted.decision_function(latent.X), margins.mean(0))
    assert_array_equal(fitted.predict(latent.X), (proba[:, 1] > 0.5).astype(int))


def test_rewards_are_centred_per_member_and_spread_by_disagreement(fitted, latent):
    d = fitted.n_pair_features_
    E = np.vstack([latent.X[:, :d], latent.X[:, d:]])
    members = fitted.predict_reward_members(E)
    assert members.shape == (3, 2 * len(latent.X))
    # centred on the training responses: the members' arbitrary offsets are gone
    assert_allclose(members.mean(1), 0.0, atol=1e-6)
    raw = np.stack([m.predict_reward(E) for m in fitted.members_])
    assert_allclose(members, raw - fitted.reward_offsets_, rtol=1e-12)
    mean, std = fitted.predict_reward(E, return_std=True)
    assert_allclose(mean, members.mean(0)) and assert_allclose(std, members.std(0))
    assert_allclose(fitted.predict_reward(E), mean)
    # far from the training responses the members disagree more
    _, far = fitted.predict_reward(10 * E, return_std=True)
    assert far.mean() > 3 * std.mean()


def test_multi_objective_rewards_are_centred_per_objective():
    member = AdversarialRewardModel(
        **{**SMALL_HEADS, "discriminator_hidden_dim": 8, "max_epochs": 3}
    )
    data = pair_data_for(member, n_pairs=200)
    ensemble = RewardEnsemble(member, n_members=2, random_state=0)
    ensemble.fit(data.X, data.y)
    d = ensemble.n_pair_features_
    objective = data.X[:, -1:]
    E = np.vstack([np.hstack([data.X[:, :d], objective]), data.X[:, d:]])
    rewards = ensemble.predict_reward_members(E)
    for k in (0, 1):
        assert_allclose(rewards[:, E[:, -1] == k].mean(1), 0.0, atol=1e-6)
    assert ensemble.reward_offsets_.shape == (2, 2)


def test_bootstrap_members_get_every_objective_of_x():
    member = MultiheadRewardModel(**{**SMALL_HEADS, "max_epochs": 1})
    data = pair_data_for(member, n_pairs=60)
    X = data.X.copy()
    X[0, -1] = 2  # one pair of a third objective, absent from most samples
    # seed 3: the samples of members 1 and 2 miss the pair of the third objective
    ensemble = RewardEnsemble(member, n_members=3, bootstrap=True, random_state=3)
    ensemble.fit(X, data.y)
    missing = [0 not in rows for rows in ensemble.member_samples_]
    assert missing == [False, True, True]
    assert {m.n_objectives_ for m in ensemble.members_} == {3}
    assert ensemble.predict_proba(X).shape == (60, 2)


def test_composes_in_grid_search_over_the_members_parameters():
    member = AdversarialRewardModel(
        **{**SMALL_HEADS, "discriminator_hidden_dim": 8, "max_epochs": 3}
    )
    data = pair_data_for(member, n_pairs=160)
    search = GridSearchCV(
        RewardEnsemble(member, n_members=2, random_state=0),
        {"estimator__adversary_weight": [0.0, 1.0]},
        cv=KFold(2),
    ).fit(data.X, data.y)
    assert search.best_params_["estimator__adversary_weight"] in (0.0, 1.0)
    weights = [m.adversary_weight for m in search.best_estimator_.members_]
    assert weights == [search.best_params_["estimator__adversary_weight"]] * 2


def test_composes_in_a_pipeline(latent):
    pipe = make_pipeline(
        FunctionTransformer(lambda X: 2 * X),
        RewardEnsemble(BTLRewardRegressor(**QUICK), n_members=2, random_state=0),
    )
    assert pipe.fit(latent.X, latent.y).score(latent.X, latent.y) > 0.7


def test_saves_and_loads_with_members_usable_alone(fitted, latent, tmp_path):
    restored = skpref.load(fitted.save(tmp_path / "ensemble.safetensors"))
    assert_array_equal(restored.predict_proba(latent.X), fitted.predict_proba(latent.X))
    assert_array_equal(restored.reward_offsets_, fitted.reward_offsets_)
    member = restored.members_[1]
    path = member.save(tmp_path / "member.safetensors")
    assert_array_equal(
        skpref.load(path).predict_proba(latent.X),
        fitted.members_[1].predict_proba(latent.X),
    )


def test_seeded_fits_are_identical_and_leave_numpy_alone(latent):
    state = np.random.get_state()[1].copy()
    ensemble = RewardEnsemble(BTLRewardRegressor(**QUICK), n_members=2)
    first = clone(ensemble).set_params(random_state=7).fit(latent.X, latent.y)
    again = clone(ensemble).set_params(random_state=7).fit(latent.X, latent.y)
    unseeded = clone(ensemble).fit(latent.X, latent.y)
    assert_array_equal(first.predict_proba(latent.X), again.predict_proba(latent.X))
    assert not np.allclose(
        first.predict_proba(latent.X), unseeded.predict_proba(latent.X)
    )
    assert_array_equal(np.random.get_state()[1], state)


def test_refuses_an_estimator_that_is_not_a_reward_model(latent):
    with pytest.raises(ValueError, match="RewardEnsemble trains skpref's reward.*"):
        RewardEnsemble(LogisticRegression()).fit(latent.X, latent.y)
    with pytest.raises(ValueError, match="BaggingClassifier"):
        RewardEnsemble("BTL").fit(latent.X, latent.y)


def test_refuses_bad_parameters_of_itself_and_its_member(latent):
    with pytest.raises(InvalidParameterError, match="'n_members' parameter"):
        RewardEnsemble(BTLRewardRegressor(**QUICK), n_members=0).fit(latent.X, latent.y)
    bad = BTLRewardRegressor(**{**QUICK, "lr": -1.0})
    with pytest.raises(InvalidParameterError, match="'lr' parameter"):
        RewardEnsemble(bad, n_members=2).fit(latent.X, latent.y)


def test_predicting_before_fit_raises_not_fitted(latent):
    ensemble = RewardEnsemble(BTLRewardRegressor(**QUICK))
    for method in ("predict_proba", "decision_function_members"):
        with pytest.raises(NotFittedError):
            getattr(ensemble, method)(latent.X)
    with pytest.raises(NotFittedError):
        ensemble.predict_reward(latent.X[:, :8])


def test_single_responses_of_the_wrong_width_are_refused(fitted, latent):
    with pytest.raises(ValueError, match="expects single responses with 8 columns"):
        fitted.predict_reward(latent.X)


def test_fits_on_a_reversed_float32_view(latent):
    X = latent.X.astype(np.float32)[::-1]
    member = BTLRewardRegressor(**{**QUICK, "max_epochs": 2})
    ensemble = RewardEnsemble(member, n_members=2, random_state=0)
    ensemble.fit(X, latent.y[::-1])
    copied = clone(ensemble).fit(np.ascontiguousarray(X), latent.y[::-1])
    assert_array_equal(ensemble.predict_proba(X), copied.predict_proba(X))
