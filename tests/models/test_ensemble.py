"""RewardEnsemble: members, averaged probabilities, centred rewards and their spread."""

import numpy as np
import pandas as pd
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
from skpref.utils import Seeds, holdout
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
def test_bootstrap_members_are_fits_alone_on_their_samples_validated_apart(member):
    # Member k is clone(estimator).set_params(random_state=s_k) fitted alone on
    # X[member_samples_[k]] with X_val=X[member_valid_samples_[k]]; X_val is scored
    # unweighted, so the validation pairs here have weight 1.
    data = pair_data_for(member, n_pairs=200)
    X, y = data.X, np.where(data.y == 1, 0.9, 0.1)
    ensemble = RewardEnsemble(member, n_members=2, bootstrap=True, random_state=3)
    ensemble.fit(X, y)
    weight = np.random.RandomState(1).uniform(0.2, 2, size=len(y))
    weight[np.concatenate(ensemble.member_valid_samples_)] = 1.0
    weighted = clone(ensemble).fit(X, y, sample_weight=weight)
    for fitted_ensemble, w in [(ensemble, np.ones(len(y))), (weighted, weight)]:
        members = zip(
            fitted_ensemble.members_,
            fitted_ensemble.member_samples_,
            fitted_ensemble.member_valid_samples_,
            strict=True,
        )
        for fitted, rows, valid in members:
            # the holdout a fit alone on all the pairs takes; a sample of the rest
            split = Seeds.from_random_state(fitted.random_state).split
            assert_array_equal(valid, holdout(y, np.arange(len(y)), 0.1, split)[1])
            assert not np.isin(valid, rows).any()
            assert len(rows) == len(y) - len(valid) > len(np.unique(rows))
            alone = clone(member).set_params(**fitted.get_params())
            alone.fit(
                X[rows], y[rows], sample_weight=w[rows], X_val=X[valid], y_val=y[valid]
            )
            assert fitted.best_epoch_ == alone.best_epoch_
            numbers = alone.history_.select_dtypes("number").columns.drop("dur")
            history = fitted.history_[numbers]
            assert_allclose(history, alone.history_[numbers], rtol=1e-4)
            assert_allclose(fitted.predict_proba(X), alone.predict_proba(X), atol=2e-5)
    # weights of no zero change neither the holdouts nor the samples
    for a, b in zip(ensemble.member_samples_, weighted.member_samples_, strict=True):
        assert_array_equal(a, b)


def test_bootstrap_samples_and_holdouts_leave_pairs_of_weight_zero_out(latent):
    weight = np.ones(len(latent.y))
    weight[::7] = 0.0
    member = BTLRewardRegressor(**{**QUICK, "max_epochs": 1})
    ensemble = RewardEnsemble(member, n_members=2, bootstrap=True, random_state=0)
    ensemble.fit(latent.X, latent.y, sample_weight=weight)
    n_kept = np.count_nonzero(weight)
    for rows, valid in zip(
        ensemble.member_samples_, ensemble.member_valid_samples_, strict=True
    ):
        assert np.all(weight[rows] > 0) and np.all(weight[valid] > 0)
        assert len(valid) == np.ceil(0.1 * n_kept) and len(rows) + len(valid) == n_kept


def test_without_bootstrap_members_differ_only_by_their_seed(fitted, latent):
    ensemble = fitted
    assert ensemble.member_samples_ is None
    assert ensemble.member_valid_samples_ is None
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
    # seed 1: members 0 and 1 neither train nor validate on the third objective
    ensemble = RewardEnsemble(member, n_members=3, bootstrap=True, random_state=1)
    ensemble.fit(X, data.y)
    seen = [
        0 in np.concatenate([rows, valid])
        for rows, valid in zip(
            ensemble.member_samples_, ensemble.member_valid_samples_, strict=True
        )
    ]
    assert seen == [False, False, True]
    assert {m.n_objectives_ for m in ensemble.members_} == {3}
    assert ensemble.predict_proba(X).shape == (60, 2)


@pytest.mark.parametrize(
    ("bad_id", "match"),
    [(0.5, "non-integer value 0.5"), (2, "n_objectives=2, so objective ids must be")],
)
def test_bootstrap_checks_the_objective_ids_of_pairs_no_member_draws(bad_id, match):
    # seed 1: neither member draws pair 0; the reward offsets score it anyway
    # (an id 0.5 as objective 0, silently; an id 2 out of range of the heads)
    member = MultiheadRewardModel(**{**SMALL_HEADS, "max_epochs": 1, "n_objectives": 2})
    data = pair_data_for(member, n_pairs=60)
    X = data.X.copy()
    X[0, -1] = bad_id
    ensemble = RewardEnsemble(member, n_members=2, bootstrap=True, random_state=1)
    with pytest.raises(ValueError, match=match):
        ensemble.fit(X, data.y)


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


def test_the_ensemble_has_its_members_objective_coding_until_a_refit_drops_it():
    member = MultiheadRewardModel(
        **{**SMALL_HEADS, "max_epochs": 1}, objective_categories=["helpful", "harmless"]
    )
    data = pair_data_for(member, n_pairs=80)
    ensemble = RewardEnsemble(member, n_members=2, random_state=0)
    ensemble.fit(data.X, data.y)
    assert ensemble.objective_categories_.tolist() == ["helpful", "harmless"]
    assert ensemble.n_objectives_ == 2
    single = pair_data_for(BTLRewardRegressor(), n_pairs=80)
    ensemble.set_params(estimator=BTLRewardRegressor(**{**QUICK, "max_epochs": 1}))
    ensemble.fit(single.X, single.y)
    assert not hasattr(ensemble, "objective_categories_")
    assert not hasattr(ensemble, "n_objectives_")


def test_members_of_an_ensemble_fitted_on_a_dataframe_know_its_columns(latent):
    frame = pd.DataFrame(latent.X, columns=[f"f{i}" for i in range(latent.X.shape[1])])
    member = BTLRewardRegressor(**{**QUICK, "max_epochs": 1})
    ensemble = RewardEnsemble(member, n_members=2, random_state=0)
    ensemble.fit(frame, latent.y)
    for fitted in ensemble.members_:  # warnings are errors: none here
        assert_array_equal(fitted.feature_names_in_, frame.columns)
        assert fitted.predict(frame).shape == (len(frame),)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        ensemble.members_[0].predict(latent.X)
    ensemble.fit(latent.X, latent.y)
    assert not hasattr(ensemble, "feature_names_in_")
    assert not hasattr(ensemble.members_[0], "feature_names_in_")


def test_fits_on_a_reversed_float32_view(latent):
    X = latent.X.astype(np.float32)[::-1]
    member = BTLRewardRegressor(**{**QUICK, "max_epochs": 2})
    ensemble = RewardEnsemble(member, n_members=2, random_state=0)
    ensemble.fit(X, latent.y[::-1])
    copied = clone(ensemble).fit(np.ascontiguousarray(X), latent.y[::-1])
    assert_array_equal(ensemble.predict_proba(X), copied.predict_proba(X))
