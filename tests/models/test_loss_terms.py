"""A new loss term is one class and one model method, written in this file alone.

``RewardL2`` penalises the squared rewards of both responses of each pair (a
stand-in for the centring, margin and invariance terms to come): a
:class:`~skpref.models.LossTerm` and a model whose ``_loss_terms`` returns it.
Nothing else in skpref changes, and the term trains alone, stacked in an
ensemble, and beside models without it.
"""

from dataclasses import dataclass

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skpref import BTLRewardRegressor, RewardEnsemble
from skpref.models import LossTerm, fit_together
from tests.estimator_registry import SMALL_NET, pair_data_for


@dataclass(frozen=True)
class RewardL2(LossTerm):
    """``weight * mean((r(a)^2 + r(b)^2) / 2)`` per member, weighted by pair."""

    weight: float

    def __call__(self, net, y_pred, y_true, batch, training):
        squares = (y_pred["reward_a"] ** 2 + y_pred["reward_b"] ** 2) / 2
        penalty = self.pair_mean(batch["sample_weight"] * squares, batch)
        net.record_mean("reward_l2", penalty, training)
        return self.weight * penalty


class SmallRewards(BTLRewardRegressor):
    """A BTL model whose rewards are kept small by an L2 term."""

    def _loss_terms(self):
        return (RewardL2(1.0),)


class SlightlySmallRewards(BTLRewardRegressor):
    """The same term with another weight: a different loss."""

    def _loss_terms(self):
        return (RewardL2(0.1),)


PARAMS = {**SMALL_NET, "max_epochs": 8, "validation_fraction": None}


@pytest.fixture(scope="module")
def data():
    return pair_data_for(BTLRewardRegressor(), n_pairs=300)


def _reward_scale(model, X):
    d = model.n_pair_features_
    return np.abs(model.predict_reward(X[:, :d])).mean()


def test_the_term_shrinks_the_rewards_and_is_recorded(data):
    plain = BTLRewardRegressor(**PARAMS).fit(data.X, data.y)
    small = SmallRewards(**PARAMS).fit(data.X, data.y)
    assert _reward_scale(small, data.X) < 0.5 * _reward_scale(plain, data.X)
    assert small.score(data.X, data.y) > 0.75  # it still ranks
    assert "train_reward_l2" in small.history_
    assert "train_reward_l2" not in plain.history_
    # the recorded training loss is the BTL loss plus the term
    assert (small.history_["train_loss"] > small.history_["train_reward_l2"]).all()


def test_the_term_trains_stacked_as_alone(data):
    X = data.X.astype(np.float32)
    models = [SmallRewards(**{**PARAMS, "random_state": s}) for s in (1, 2)]
    alone = [clone(m).fit(X, data.y) for m in models]
    together = fit_together(models, [(X, data.y, None)] * 2)
    assert together[0].net_ is together[1].net_  # one stack
    for a, b in zip(alone, together, strict=True):
        assert_allclose(b.predict_proba(X), a.predict_proba(X), atol=2e-5)


def test_models_with_other_terms_train_in_other_stacks(data):
    X = data.X.astype(np.float32)
    models = [SmallRewards(**PARAMS), SlightlySmallRewards(**PARAMS)]
    models.append(BTLRewardRegressor(**PARAMS))
    fitted = fit_together(models, [(X, data.y, None)] * 3)
    assert len({id(m.net_) for m in fitted}) == 3


def test_the_term_composes_with_ensembles_and_searches(data):
    ensemble = RewardEnsemble(SmallRewards(**PARAMS), n_members=2, random_state=0)
    ensemble.fit(data.X, data.y)
    assert ensemble.history_["train_reward_l2"].shape[1] == 2
    search = GridSearchCV(SmallRewards(**PARAMS), {"lr": [1e-3, 1e-2]}, cv=2)
    search.fit(data.X, data.y)
    assert "train_reward_l2" in search.best_estimator_.history_
