"""The published pair checks: each one catches the model that breaks its promise."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin

from skpref import BTLRewardRegressor
from skpref.utils import estimator_checks
from skpref.utils.estimator_checks import (
    check_pair_antisymmetry,
    check_pair_batch_and_order_invariance,
    check_pair_btl_outputs,
    check_pair_pickle_round_trip,
    check_pair_sample_weight_scale,
    check_pair_save_load_round_trip,
    check_pair_seeded_refit,
    check_pair_soft_labels,
    check_pair_transformer_halves,
    make_pair_data,
    parametrize_with_pair_checks,
    yield_pair_checks,
)
from tests.estimator_registry import SMALL_NET

QUICK = {**SMALL_NET, "max_epochs": 2}


class Biased(BTLRewardRegressor):
    """Prefers the first response a little: not antisymmetric."""

    def decision_function(self, X):
        return super().decision_function(X) + 0.1


class Overconfident(BTLRewardRegressor):
    """Probabilities that are not sigmoid(r(a) - r(b))."""

    def predict_proba(self, X):
        return super().predict_proba(X) ** 2 / (super().predict_proba(X) ** 2).sum(
            axis=1, keepdims=True
        )


class Unseeded(BTLRewardRegressor):
    """Ignores random_state."""

    def fit(self, X, y, sample_weight=None):
        seed, self.random_state = self.random_state, None
        try:
            return super().fit(X, y, sample_weight=sample_weight)
        finally:
            self.random_state = seed


class RowDependent(BTLRewardRegressor):
    """Predictions depend on the row's position."""

    def decision_function(self, X):
        margin = super().decision_function(X)
        return margin + 1e-3 * np.arange(len(margin))


class ForgetsOnUnpickle(BTLRewardRegressor):
    """Loses its sign when unpickled."""

    def __setstate__(self, state):
        super().__setstate__(state)
        self.flipped_ = True

    def decision_function(self, X):
        margin = super().decision_function(X)
        return -margin if getattr(self, "flipped_", False) else margin


class SavesNoWeights(BTLRewardRegressor):
    """Saves freshly initialised weights instead of the trained ones."""

    def _get_torch_state(self):
        state = super()._get_torch_state()
        return {"net_": {k: v * 0 for k, v in state.get("net_", {}).items()}}


class UnnormalisedWeights(BTLRewardRegressor):
    """Lets the scale of the weights act as a learning rate."""

    def fit(self, X, y, sample_weight=None):
        lr = self.lr
        if sample_weight is not None:
            self.lr = lr * float(np.mean(sample_weight))
        try:
            return super().fit(X, y)
        finally:
            self.lr = lr


class RoundsSoftLabels(BTLRewardRegressor):
    """Scores against rounded labels, so a tie is not worth 1/2."""

    def score(self, X, y, sample_weight=None):
        return float(np.mean(self.predict(X) == np.rint(np.asarray(y))))


@pytest.mark.parametrize(
    "check, broken",
    [
        (check_pair_antisymmetry, Biased),
        (check_pair_btl_outputs, Overconfident),
        (check_pair_seeded_refit, Unseeded),
        (check_pair_batch_and_order_invariance, RowDependent),
        (check_pair_pickle_round_trip, ForgetsOnUnpickle),
        (check_pair_save_load_round_trip, SavesNoWeights),
        (check_pair_sample_weight_scale, UnnormalisedWeights),
        (check_pair_soft_labels, RoundsSoftLabels),
    ],
)
def test_each_check_passes_skprefs_model_and_fails_a_broken_one(check, broken):
    check("BTLRewardRegressor", BTLRewardRegressor(**QUICK))
    with pytest.raises(AssertionError):
        check(broken.__name__, broken(**QUICK))


def test_every_published_check_is_yielded_and_tested():
    yielded = {c.func.__name__ for c in yield_pair_checks(BTLRewardRegressor())}
    published = {n for n in estimator_checks.__all__ if n.startswith("check_")}
    # the transformer check has its own test below and runs over transformers
    published -= {"check_pair_transformer_halves"}
    assert yielded == published
    cases = test_each_check_passes_skprefs_model_and_fails_a_broken_one.pytestmark
    tested = {check.__name__ for check, _ in cases[0].args[1]}
    assert tested == published


def test_multi_objective_models_get_pairs_with_objective_ids():
    X, y = make_pair_data(with_objective=True, n_pairs=50, n_features=3)
    assert X.shape == (50, 7)
    assert set(X[:, -1]) == {0.0, 1.0}
    assert set(y) == {0, 1}
    # responses a and b are drawn alike, so the labels are balanced
    _, y1 = make_pair_data(n_pairs=400, n_features=3)
    assert 0.3 < y1.mean() < 0.7


def test_parametrize_marks_expected_failures_with_their_reason():
    mark = parametrize_with_pair_checks(
        [BTLRewardRegressor(**QUICK)],
        expected_failed_checks=lambda e: {"check_pair_soft_labels": "no soft labels"},
    )
    params = mark.args[1]
    assert len(params) == len(estimator_checks._CHECKS)
    marked = {p.id.rsplit("-", 1)[1]: p.marks for p in params}
    assert marked["check_pair_soft_labels"][0].kwargs["reason"] == "no soft labels"
    assert not marked["check_pair_antisymmetry"]


def test_utils_does_not_import_the_packages_above_it():
    code = (
        "import sys, skpref.utils, skpref.utils.estimator_checks;"
        "bad = [m for m in sys.modules if m.startswith("
        "('skpref.models', 'skpref.causal', 'skpref.embeddings'))];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


class _PairTransformer(TransformerMixin, BaseEstimator):
    """Scales each response by 2: keeps the contract; subclasses break it."""

    def fit(self, X, y=None):
        self.d_ = X.shape[1] // 2
        return self

    def transform(self, X):
        return 2.0 * X


class _MixesHalves(_PairTransformer):
    def transform(self, X):
        d = self.d_
        return np.hstack([X[:, :d] + X[:, d:], X[:, d:] - X[:, :d]])


class _Symmetric(_PairTransformer):
    """Swap-equivariant, yet each output half reads both responses."""

    def transform(self, X):
        d = self.d_
        total = X[:, :d] + X[:, d:]
        return np.hstack([X[:, :d] + total, X[:, d:] + total])


class _ChangesObjective(_PairTransformer):
    with_objective = True

    def fit(self, X, y=None):
        self.d_ = (X.shape[1] - 1) // 2
        return self


def test_transformer_check_catches_each_broken_promise():
    check_pair_transformer_halves("ok", _PairTransformer())
    with pytest.raises(AssertionError, match="must swap the output halves"):
        check_pair_transformer_halves("mix", _MixesHalves())
    with pytest.raises(AssertionError, match="must not depend on response b"):
        check_pair_transformer_halves("sym", _Symmetric())
    with pytest.raises(AssertionError, match="objective column must pass through"):
        check_pair_transformer_halves("obj", _ChangesObjective())


def test_transformer_check_passes_fit_params():
    seen = {}

    class NeedsConcept(_PairTransformer):
        def fit(self, X, y=None, concept=None):
            seen["concept"] = concept
            return super().fit(X, y)

    check_pair_transformer_halves("c", NeedsConcept(), fit_params={"concept": 3})
    assert seen["concept"] == 3
    check_pair_transformer_halves(
        "c", NeedsConcept(), fit_params=lambda X, y: {"concept": X.shape}
    )
    assert seen["concept"] == (200, 8)
