"""Fit-time pieces: seeds, the number of objectives, the holdout, failed fits."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skpref import BTLRewardRegressor
from skpref.models._engine import RewardNet, check_training_health
from skpref.utils import Seeds, holdout, n_objectives
from tests.estimator_registry import SMALL_NET, pair_data_for

QUICK = {**SMALL_NET, "max_epochs": 3}


@pytest.fixture(scope="module")
def latent():
    return pair_data_for(BTLRewardRegressor(), n_pairs=200)


# -- seeds, K and the holdout --------------------------------------------------------


def test_seeds_are_a_function_of_the_random_state():
    assert Seeds.from_random_state(0) == Seeds.from_random_state(0)
    assert Seeds.from_random_state(0) != Seeds.from_random_state(1)
    assert len({*Seeds.from_random_state(0).__dict__.values()}) == 3
    state = np.random.RandomState(5)
    assert Seeds.from_random_state(state) == Seeds.from_random_state(
        np.random.RandomState(5)
    )


@given(st.lists(st.integers(0, 6), min_size=1, max_size=40))
def test_n_objectives_is_the_number_of_ids_seen_when_they_are_complete(ids):
    ids = np.asarray(ids)
    complete = set(ids.tolist()) == set(range(ids.max() + 1))
    if complete:
        assert n_objectives(ids, None, owner="m") == ids.max() + 1
    else:
        with pytest.raises(ValueError, match="ids 0..K-1 with none missing"):
            n_objectives(ids, None, owner="m")
    # a declared K accepts any ids below it
    assert n_objectives(ids, 7, owner="m") == 7


@given(
    labels=st.lists(
        st.sampled_from([0.0, 0.3, 0.5, 0.8, 1.0]), min_size=2, max_size=60
    ),
    fraction=st.sampled_from([0.1, 0.25, 0.5]),
    seed=st.integers(0, 100),
)
def test_the_holdout_splits_every_pair_once_stratified_by_side(labels, fraction, seed):
    y = np.asarray(labels, dtype=np.float32)
    train, valid = holdout(y, np.arange(len(y)), fraction, seed)
    if valid is None:  # the holdout would be every pair: none
        assert np.ceil(fraction * len(y)) >= len(y)
        return
    indices = np.concatenate([train, valid])
    assert sorted(indices.tolist()) == list(range(len(y)))
    assert len(valid) == int(np.ceil(fraction * len(y)))
    again = holdout(y, np.arange(len(y)), fraction, seed)[1]
    assert_array_equal(again, valid)


def test_the_holdout_keeps_each_side_in_proportion():
    y = np.r_[np.zeros(50), np.full(30, 0.5), np.ones(20)].astype(np.float32)
    _, valid = holdout(y, np.arange(100), 0.1, 0)
    sides = np.sort(y[valid])
    assert_array_equal(sides, [0] * 5 + [0.5] * 3 + [1] * 2)


# -- failed fits ------------------------------------------------------------------


def test_huge_features_warn_that_training_diverged(latent):
    with pytest.warns(ConvergenceWarning, match="training diverged.*standardise"):
        model = BTLRewardRegressor(**QUICK).fit(latent.X * 1e30, latent.y)
    assert model.convergence_warning_ == "diverged"


def test_a_huge_learning_rate_warns_that_training_diverged(latent):
    with pytest.warns(
        ConvergenceWarning, match=r"training diverged.*lr \(now 1e\+06\)"
    ):
        BTLRewardRegressor(**{**QUICK, "lr": 1e6}).fit(latent.X, latent.y)


@pytest.mark.parametrize("margin, warns", [(40.0, True), (30.0, False)])
def test_saturated_probabilities_warn(margin, warns, recwarn):
    # a fit with a small loss whose margins are so large that the probabilities
    # are exactly 0 or 1 (expit(40) == 1.0 in float64; expit(30) < 1)
    model = SimpleNamespace(
        lr=0.01,
        n_pair_features_=1,
        best_epoch_=1,
        diverged_epoch_=None,
        module_=torch.nn.Linear(1, 1),
        history_=pd.DataFrame({"train_loss": [0.01]}),
    )
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [1.0, 0.0]])
    check_training_health(model, X, np.where(X[:, 0] > 0, margin, -margin))
    warned = [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]
    assert len(warned) == int(warns)
    assert model.convergence_warning_ == ("saturated" if warns else None)
    if warns:
        assert "100% of the predicted probabilities" in str(warned[0].message)
        assert "saturated" in str(warned[0].message)


def test_kept_weights_that_are_not_finite_are_an_error():
    # a kept epoch of finite loss whose last step made the weights NaN
    module = torch.nn.Linear(1, 1)
    with torch.no_grad():
        module.weight.fill_(float("nan"))
    model = SimpleNamespace(
        lr=0.01,
        n_pair_features_=1,
        best_epoch_=2,
        diverged_epoch_=None,
        module_=module,
        history_=pd.DataFrame({"train_loss": [0.5, 0.4]}),
    )
    X = np.array([[1.0, 0.0], [-1.0, 0.0]])
    with pytest.raises(ValueError, match="weights of the kept epoch 2 are NaN"):
        check_training_health(model, X, np.full(2, np.nan))


def test_a_sound_fit_does_not_warn(latent, recwarn):
    model = BTLRewardRegressor(**QUICK).fit(latent.X, latent.y)
    assert not [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]
    assert model.convergence_warning_ is None


def _nan_loss_from_epoch(monkeypatch, epoch):
    original = RewardNet.get_loss

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = original(self, y_pred, y_true, X=X, training=training)
        return loss * float("nan") if len(self.history) >= epoch else loss

    monkeypatch.setattr(RewardNet, "get_loss", get_loss)


def test_nan_loss_warns_and_keeps_the_best_weights(latent, monkeypatch):
    reference = BTLRewardRegressor(**{**QUICK, "max_epochs": 2}).fit(latent.X, latent.y)
    _nan_loss_from_epoch(monkeypatch, epoch=3)
    model = BTLRewardRegressor(**{**QUICK, "max_epochs": 6})
    with pytest.warns(ConvergenceWarning, match="became NaN or infinite in epoch 3"):
        model.fit(latent.X, latent.y)
    assert model.convergence_warning_ == "non-finite"
    assert model.n_epochs_ == 3
    assert model.best_epoch_ in (1, 2)
    proba = model.predict_proba(latent.X)
    assert np.all(np.isfinite(proba))
    if model.best_epoch_ == 2:
        assert_array_equal(proba, reference.predict_proba(latent.X))


def test_nan_loss_in_the_first_epoch_raises(latent, monkeypatch):
    _nan_loss_from_epoch(monkeypatch, epoch=1)
    with pytest.raises(ValueError, match="before any usable weights existed"):
        BTLRewardRegressor(**QUICK).fit(latent.X, latent.y)


@pytest.mark.parametrize("epoch", [2, 3])
def test_a_users_interrupt_stops_the_fit_instead_of_ending_it_quietly(
    latent, monkeypatch, epoch
):
    # skorch ends training quietly on KeyboardInterrupt (Ctrl-C), as it does for
    # its own early stopping: the fit returned a model of fewer epochs than asked,
    # with no word, and a search went on to its next fit
    original = RewardNet.get_loss

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if len(self.history) == epoch and training:  # Ctrl-C in this epoch
            raise KeyboardInterrupt
        return original(self, y_pred, y_true, X=X, training=training)

    monkeypatch.setattr(RewardNet, "get_loss", get_loss)
    threads = torch.get_num_threads()
    with pytest.raises(KeyboardInterrupt):  # torch's threads are set back too
        BTLRewardRegressor(**{**QUICK, "n_threads": threads + 1}).fit(
            latent.X, latent.y
        )
    assert torch.get_num_threads() == threads


def test_early_stopping_still_ends_a_fit_normally(latent):
    model = BTLRewardRegressor(**{**QUICK, "max_epochs": 50, "patience": 1})
    model.fit(latent.X, latent.y)
    assert model.n_epochs_ < 50
