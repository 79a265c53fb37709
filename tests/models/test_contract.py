"""Tier 2: the pair contract, checked on properly shaped data for every estimator."""

import pickle

import numpy as np
import pytest
import torch
from model_configs import CONFIGS, make_data
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.base import clone


def swap_halves(X, with_objective):
    d = (X.shape[1] - int(with_objective)) // 2
    swapped = np.hstack([X[:, d : 2 * d], X[:, :d], X[:, 2 * d :]])
    assert swapped.shape == X.shape
    return swapped


def test_swapping_responses_flips_probability_exactly(fitted):
    _, model, _, test = fitted
    proba = model.predict_proba(test.X)
    swapped = model.predict_proba(swap_halves(test.X, model._with_objective))
    assert_array_equal(swapped, proba[:, ::-1])
    assert_array_equal(
        model.decision_function(swap_halves(test.X, model._with_objective)),
        -model.decision_function(test.X),
    )
    assert_allclose(swapped[:, 1], 1 - proba[:, 1], atol=1e-15)


def test_outputs_follow_the_btl_model(fitted):
    _, model, _, test = fitted
    margin = model.decision_function(test.X)
    proba = model.predict_proba(test.X)
    assert proba.shape == (len(test.X), 2)
    assert_allclose(proba[:, 1], expit(margin))
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(model.predict(test.X), (margin > 0).astype(int))
    assert model.score(test.X, test.y) == pytest.approx(
        np.mean(model.predict(test.X) == test.y)
    )
    assert_array_equal(model.classes_, [0, 1])


def test_predict_reward_scores_each_half(fitted):
    _, model, _, test = fitted
    d = model.n_pair_features_
    objective = test.X[:, [-1]] if model._with_objective else np.empty((len(test.X), 0))
    reward_a = model.predict_reward(np.hstack([test.X[:, :d], objective]))
    reward_b = model.predict_reward(np.hstack([test.X[:, d : 2 * d], objective]))
    assert reward_a.shape == (len(test.X),)
    assert_allclose(reward_a - reward_b, model.decision_function(test.X), atol=1e-5)


def test_model_learns_the_training_preferences(fitted):
    name, model, train, test = fitted
    assert model.score(test.X, test.y) > 0.75, name
    assert model.n_epochs_ == 15
    assert 1 <= model.best_epoch_ <= model.n_epochs_
    assert model.history_["valid_acc"].max() == pytest.approx(
        model.history_.loc[model.best_epoch_ - 1, "valid_acc"]
    )


def test_batch_size_and_order_do_not_change_predictions(fitted):
    _, model, _, test = fitted
    reference = model.decision_function(test.X)
    order = np.random.RandomState(0).permutation(len(test.X))
    assert_allclose(
        model.decision_function(test.X[order]), reference[order], rtol=1e-5, atol=1e-5
    )
    assert_allclose(
        model.decision_function(test.X[:7]), reference[:7], rtol=1e-5, atol=1e-5
    )
    rebatched = pickle.loads(pickle.dumps(model))
    rebatched.net_.set_params(batch_size=5)
    assert_allclose(
        rebatched.decision_function(test.X), reference, rtol=1e-5, atol=1e-5
    )


def test_read_only_input_is_accepted_without_warnings(fitted):
    # pandas copy-on-write and memory maps hand out read-only arrays
    _, model, train, test = fitted
    X_train, X_test = train.X.copy(), test.X.copy()
    X_train.flags.writeable = X_test.flags.writeable = False
    refit = clone(model).set_params(max_epochs=1).fit(X_train, train.y)
    assert refit.predict_proba(X_test).shape == (len(X_test), 2)


def test_pickle_round_trip_predicts_identically(fitted):
    _, model, _, test = fitted
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.predict_proba(test.X), model.predict_proba(test.X))


@pytest.mark.parametrize("name", list(CONFIGS))
def test_seeded_refits_and_clones_are_identical(name):
    factory, kind = CONFIGS[name]
    train = make_data(kind, n_pairs=200)
    first = factory(random_state=3, max_epochs=3).fit(train.X, train.y)
    again = clone(first).fit(train.X, train.y)
    assert_array_equal(first.predict_proba(train.X), again.predict_proba(train.X))
    other_seed = clone(first).set_params(random_state=4).fit(train.X, train.y)
    assert not np.array_equal(
        first.predict_proba(train.X), other_seed.predict_proba(train.X)
    )


@pytest.mark.parametrize("random_state", [None, 0])
def test_fit_leaves_global_random_state_alone(random_state):
    factory, kind = CONFIGS["adversarial"]
    train = make_data(kind, n_pairs=100)
    np.random.seed(123)
    torch.manual_seed(123)
    numpy_state, torch_state = np.random.get_state()[1].copy(), torch.get_rng_state()
    factory(random_state=random_state, max_epochs=2).fit(train.X, train.y)
    assert_array_equal(np.random.get_state()[1], numpy_state)
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_explicit_validation_set_is_used():
    factory, kind = CONFIGS["btl"]
    train, valid = make_data(kind, n_pairs=200), make_data(kind, 100, random_state=5)
    model = factory(random_state=0, max_epochs=3)
    model.fit(train.X, train.y, X_val=valid.X, y_val=valid.y)
    # all training pairs are trained on, the validation set is scored per epoch
    assert model.history_["train_batch_count"].iloc[0] == int(np.ceil(200 / 64))
    assert model.history_["valid_batch_count"].iloc[0] == int(np.ceil(100 / 64))


def test_without_validation_the_lowest_training_loss_is_kept():
    factory, kind = CONFIGS["btl"]
    train = make_data(kind, n_pairs=200)
    model = factory(random_state=0, max_epochs=4, validation_fraction=None)
    model.fit(train.X, train.y)
    assert "valid_acc" not in model.history_
    assert model.best_epoch_ == int(model.history_["train_loss"].idxmin()) + 1
