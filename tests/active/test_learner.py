"""The active-learning loop: rounds, history, warm starts and no lost labels."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, ClassifierMixin, clone

import skpref
from skpref.active import (
    ActiveLearner,
    BALDSampling,
    DisagreementQuadrantSampling,
    MarginSampling,
    RandomSampling,
    member_probabilities,
)
from skpref.active._uncertainty import mutual_information


class Oracle:
    """The pool's labels, logging every index it is asked for."""

    def __init__(self, labels, fail_on_call=None):
        self.labels = labels
        self.asked = []
        self.fail_on_call = fail_on_call

    def __call__(self, rows):
        if self.fail_on_call == len(self.asked) + 1:
            self.fail_on_call = None
            raise ConnectionError("the labelling service is down")
        self.asked.append(np.asarray(rows).copy())
        return self.labels[rows]


def fit(learner, data, oracle=None, **kwargs):
    oracle = oracle or Oracle(data.pool.y)
    return learner.fit(
        data.train.X, data.train.y, X_pool=data.pool.X, oracle=oracle, **kwargs
    )


@pytest.fixture(scope="module")
def margin_run(btl, data):
    oracle = Oracle(data.pool.y)
    learner = ActiveLearner(
        btl, strategy=MarginSampling(), n_rounds=3, query_size=7, random_state=0
    )
    return fit(learner, data, oracle), oracle


def test_each_round_buys_its_pairs_and_refits_on_everything_labelled(margin_run, data):
    learner, oracle = margin_run
    history = learner.history_
    assert history["round"].tolist() == [0, 1, 2, 3]
    assert history["n_queried"].tolist() == [0, 7, 7, 7]
    assert history["n_labelled"].tolist() == [150, 157, 164, 171]
    assert (history["fit_seconds"] > 0).all()
    bought = learner.queried_indices_
    assert len(set(bought.tolist())) == 21
    assert_array_equal(np.concatenate(oracle.asked), bought)
    assert_array_equal(learner.queried_labels_, data.pool.y[bought])
    assert learner.query_round_.tolist() == [1] * 7 + [2] * 7 + [3] * 7


def test_the_final_model_is_the_estimator_refit_on_all_labels(margin_run, data, btl):
    learner, _ = margin_run
    rows = learner.queried_indices_
    X = np.concatenate([data.train.X, data.pool.X[rows]])
    y = np.concatenate([data.train.y, data.pool.y[rows]])
    again = clone(btl).fit(X, y)
    assert_array_equal(
        learner.predict_proba(data.pool.X), again.predict_proba(data.pool.X)
    )
    assert_array_equal(
        learner.decision_function(data.pool.X), again.decision_function(data.pool.X)
    )
    assert learner.score(data.pool.X, data.pool.y) == again.score(
        data.pool.X, data.pool.y
    )
    assert_array_equal(learner.classes_, [0, 1])
    assert not hasattr(learner, "decision_function_members")


def test_each_round_asks_the_strategy_about_the_current_model(margin_run, data):
    # round r's pairs are the margin choices of the model fitted after round r - 1
    learner, _ = margin_run
    rows = learner.queried_indices_[:7]
    model = clone(learner.estimator).fit(data.train.X, data.train.y)
    expected = MarginSampling().select(model, data.pool.X, 7, random_state=0)
    assert sorted(rows.tolist()) == sorted(expected.tolist())


def test_seeded_runs_repeat_and_seeds_matter(btl, data):
    def bought(seed):
        learner = ActiveLearner(btl, n_rounds=2, query_size=5, random_state=seed)
        return fit(learner, data).queried_indices_

    assert_array_equal(bought(1), bought(1))
    assert set(bought(1).tolist()) != set(bought(2).tolist())


def test_a_warm_continuation_buys_what_one_long_fit_buys(btl, data):
    long = fit(ActiveLearner(btl, n_rounds=3, query_size=4, random_state=5), data)
    short = ActiveLearner(
        btl, n_rounds=1, query_size=4, random_state=5, warm_start=True
    )
    oracle = Oracle(data.pool.y)
    fit(short, data, oracle)
    fit(short.set_params(n_rounds=3), data, oracle)
    assert_array_equal(short.queried_indices_, long.queried_indices_)
    assert short.history_["round"].tolist() == [0, 1, 2, 3]
    assert sum(len(a) for a in oracle.asked) == 12  # nothing bought twice
    assert_array_equal(
        short.predict_proba(data.pool.X), long.predict_proba(data.pool.X)
    )


def test_a_warm_start_after_a_fit_without_pool_reuses_its_model(btl, data):
    learner = ActiveLearner(btl, n_rounds=1, query_size=4, warm_start=True)
    first = learner.fit(data.train.X, data.train.y).history_.copy()
    fit(learner, data)
    assert learner.history_["round"].tolist() == [0, 1]
    assert learner.history_["n_labelled"].tolist() == [150, 154]
    # round 0 is the first fit's, not a refit
    assert learner.history_["fit_seconds"][0] == first["fit_seconds"][0]


def test_labels_bought_before_an_oracle_failure_are_kept(btl, data):
    learner = ActiveLearner(btl, n_rounds=3, query_size=4, random_state=0)
    oracle = Oracle(data.pool.y, fail_on_call=2)
    with pytest.raises(ConnectionError, match="labelling service is down"):
        fit(learner, data, oracle)
    assert len(learner.queried_indices_) == 4
    assert learner.history_["round"].tolist() == [0, 1]
    # continue where it stopped: round 1's labels are not bought again
    fit(learner.set_params(warm_start=True), data, oracle)
    assert learner.history_["round"].tolist() == [0, 1, 2, 3]
    asked = np.concatenate(oracle.asked)
    assert len(asked) == 12 == len(set(asked.tolist()))


class FailingFit(ClassifierMixin, BaseEstimator):
    """A reward model whose fit fails once, on a chosen number of labelled pairs."""

    failed = []

    def __init__(self, estimator, fail_at=0):
        self.estimator = estimator
        self.fail_at = fail_at

    def fit(self, X, y):
        if len(X) == self.fail_at and not FailingFit.failed:
            FailingFit.failed.append(len(X))
            raise MemoryError("out of memory while refitting")
        self.model_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_labels_bought_before_a_failed_refit_are_kept_and_refit_first(btl, data):
    FailingFit.failed.clear()
    learner = ActiveLearner(
        FailingFit(btl, fail_at=158), n_rounds=3, query_size=4, random_state=0
    )
    oracle = Oracle(data.pool.y)
    with pytest.raises(MemoryError, match="refitting"):
        fit(learner, data, oracle)
    assert len(learner.queried_indices_) == 8  # round 2 was paid for
    assert learner.history_["n_labelled"].tolist() == [150, 154]
    fit(learner.set_params(warm_start=True), data, oracle)
    assert learner.history_["round"].tolist() == [0, 1, 2, 3]
    assert learner.history_["n_labelled"].tolist() == [150, 154, 158, 162]
    assert sum(len(a) for a in oracle.asked) == 12


def test_without_a_pool_the_learner_is_its_estimator(btl, data):
    learner = ActiveLearner(btl, strategy=BALDSampling()).fit(
        data.train.X, data.train.y
    )
    plain = clone(btl).fit(data.train.X, data.train.y)
    assert_array_equal(
        learner.predict_proba(data.pool.X), plain.predict_proba(data.pool.X)
    )
    assert learner.history_["round"].tolist() == [0]
    assert len(learner.queried_indices_) == 0


def test_the_side_information_follows_the_unlabelled_rows(btl, data):
    seen = []

    def check_rows(model, X_pool, n, *, side_information=None, random_state=None):
        assert_array_equal(side_information, X_pool[:, 0])
        seen.append(len(X_pool))
        return np.arange(n)

    learner = ActiveLearner(btl, strategy=check_rows, n_rounds=2, query_size=5)
    fit(learner, data, side_information=data.pool.X[:, 0])
    assert seen == [300, 295]


def test_quadrant_sampling_buys_disagreeing_pairs(btl, data):
    learner = ActiveLearner(
        btl,
        strategy=DisagreementQuadrantSampling(),
        n_rounds=2,
        query_size=10,
        random_state=0,
    )
    fit(learner, data, side_information=data.pool.delta)
    delta = data.pool.delta[learner.queried_indices_]
    assert np.all(delta[:, 0] * delta[:, 1] < 0)


@pytest.fixture(scope="module")
def bald_run(ensemble, data):
    """BALD buying from a real RewardEnsemble: 2 rounds of 5."""
    oracle = Oracle(data.pool.y)
    learner = ActiveLearner(
        ensemble, strategy=BALDSampling(), n_rounds=2, query_size=5, random_state=0
    )
    return fit(learner, data, oracle), oracle


def test_bald_buys_what_the_fitted_reward_ensemble_disagrees_on_most(bald_run, data):
    learner, oracle = bald_run
    assert isinstance(learner.estimator_, skpref.RewardEnsemble)
    assert learner.history_["n_labelled"].tolist() == [150, 155, 160]
    # round 1 is BALD's choice on the ensemble fitted on the training pairs alone
    first = clone(learner.estimator).fit(data.train.X, data.train.y)
    expected = BALDSampling().select(first, data.pool.X, 5, random_state=0)
    information = mutual_information(
        member_probabilities(first, data.pool.X, owner="test")
    )
    assert set(oracle.asked[0].tolist()) == set(expected.tolist())
    assert information[oracle.asked[0]].min() >= np.quantile(information, 0.95)


def test_an_ensemble_learner_passes_members_and_spread_through(bald_run, data):
    learner, _ = bald_run
    ensemble = learner.estimator_
    X, E = data.pool.X[:4], data.pool.X[:6, :4]
    members = learner.decision_function_members(X)
    assert members.shape == (3, 4)
    assert_array_equal(members, ensemble.decision_function_members(X))
    mean, std = learner.predict_reward(E, return_std=True)
    assert_array_equal(mean, ensemble.predict_reward(E))
    assert_array_equal(learner.predict_reward_members(E).std(axis=0), std)
    assert (std > 0).all()


def test_a_fitted_ensemble_learner_saves_loads_and_continues(bald_run, data, tmp_path):
    learner, _ = bald_run
    path = skpref.save(learner, tmp_path / "bald.safetensors")
    restored = skpref.load(path)
    assert isinstance(restored.estimator_, skpref.RewardEnsemble)
    X = data.pool.X
    assert_array_equal(restored.predict_proba(X), learner.predict_proba(X))
    assert_array_equal(
        restored.decision_function_members(X), learner.decision_function_members(X)
    )
    assert_array_equal(restored.queried_indices_, learner.queried_indices_)
    # the restored learner continues the run: one more round, nothing asked twice
    oracle = Oracle(data.pool.y)
    fit(restored.set_params(n_rounds=3, warm_start=True), data, oracle)
    assert len(oracle.asked) == 1 and len(oracle.asked[0]) == 5
    assert not set(oracle.asked[0]) & set(learner.queried_indices_)
    assert restored.history_["n_labelled"].tolist() == [150, 155, 160, 165]


class Recording(ClassifierMixin, BaseEstimator):
    """A reward model that keeps the labels of its last fit."""

    seen = []

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        Recording.seen.append(np.asarray(y).copy())
        self.model_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


@pytest.mark.parametrize("seed_dtype", [np.int64, bool])
def test_soft_labels_from_the_oracle_reach_the_model_as_they_are(btl, data, seed_dtype):
    Recording.seen.clear()
    learner = ActiveLearner(Recording(btl), n_rounds=1, query_size=6, random_state=0)
    shares = np.where(data.pool.y == 1, 0.9, 0.3)
    learner.fit(
        data.train.X,
        data.train.y.astype(seed_dtype),
        X_pool=data.pool.X,
        oracle=Oracle(shares),
    )
    assert_array_equal(learner.queried_labels_, shares[learner.queried_indices_])
    fitted = Recording.seen[-1]
    assert fitted.dtype == np.float64
    assert_array_equal(fitted[-6:], shares[learner.queried_indices_])  # not 0 / 1
    assert_array_equal(fitted[:-6], data.train.y)


def test_hard_labels_from_the_oracle_keep_the_seed_labels_type(btl, data):
    Recording.seen.clear()
    learner = ActiveLearner(Recording(btl), n_rounds=1, query_size=6, random_state=0)
    oracle = Oracle(data.pool.y.astype(np.float64))
    learner.fit(data.train.X, data.train.y, X_pool=data.pool.X, oracle=oracle)
    assert Recording.seen[-1].dtype == data.train.y.dtype


def test_a_warm_fit_without_the_pool_keeps_the_labels_bought(btl, data):
    learner = ActiveLearner(btl, n_rounds=1, query_size=4, warm_start=True)
    fit(learner, data)
    bought = learner.queried_indices_.copy()
    with pytest.raises(ValueError, match="which bought 4 labels, but fit got no"):
        learner.fit(data.train.X, data.train.y)
    assert_array_equal(learner.queried_indices_, bought)
    learner.set_params(warm_start=False).fit(data.train.X, data.train.y)
    assert len(learner.queried_indices_) == 0  # starting over is asked for


def test_the_progress_bar_shows_the_rounds(btl, data, capsys):
    fit(ActiveLearner(btl, n_rounds=2, query_size=3, verbose=1), data)
    assert "ActiveLearner" in capsys.readouterr().err
    fit(ActiveLearner(btl, n_rounds=2, query_size=3, verbose=0), data)
    assert "ActiveLearner" not in capsys.readouterr().err


def test_a_fitted_learner_saves_and_loads(margin_run, data, tmp_path):
    learner, _ = margin_run
    restored = skpref.load(skpref.save(learner, tmp_path / "learner.safetensors"))
    assert_array_equal(
        restored.predict_proba(data.pool.X), learner.predict_proba(data.pool.X)
    )
    assert_array_equal(restored.queried_indices_, learner.queried_indices_)
    assert isinstance(restored.strategy, MarginSampling)
    assert restored.history_["n_labelled"].tolist() == [150, 157, 164, 171]


def test_clone_gives_an_unfitted_learner_with_its_own_strategy(margin_run):
    learner, _ = margin_run
    copy = clone(learner)
    assert not hasattr(copy, "estimator_") and copy.strategy is not learner.strategy
    assert isinstance(clone(ActiveLearner(learner.estimator)).strategy, type(None))
    assert RandomSampling().get_params() == {}
