"""Common checks over every public estimator, found through the registry.

Tier 1 runs scikit-learn's ``parametrize_with_checks``; tier 2 runs skpref's
pair-contract checks (:mod:`skpref.utils.estimator_checks`) over every reward
model, and the pair-transformer check over every transformer of pair features.
Parameters and expected failures live in ``tests/estimator_registry.py``.
"""

import pytest
from sklearn.base import TransformerMixin
from sklearn.utils.estimator_checks import parametrize_with_checks

from skpref import LLMEmbeddingTransformer, RewardEnsemble
from skpref.active import ActiveLearner
from skpref.models._base import BaseRewardModel
from skpref.utils.estimator_checks import (
    check_pair_transformer_halves,
    parametrize_with_pair_checks,
)
from tests.estimator_registry import (
    NOT_CHECKABLE,
    estimator_instances,
    expected_failed_checks,
    expected_failed_pair_checks,
    pair_transformer_instances,
    public_estimator_classes,
    reward_model_instances,
    single_reward_model_instances,
)

CHECKABLE = [e for e in estimator_instances() if type(e) not in NOT_CHECKABLE]


@parametrize_with_checks(CHECKABLE, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    # each of scikit-learn's check_* functions asserts; expected failures are xfail
    check(estimator)


@parametrize_with_pair_checks(
    reward_model_instances(), expected_failed_checks=expected_failed_pair_checks
)
def test_pair_contract(estimator, check):
    # each check_pair_* function of skpref.utils.estimator_checks asserts;
    # expected failures are xfail
    check(estimator)


@pytest.mark.parametrize(
    "transformer, fit_params",
    pair_transformer_instances(),
    # a function by its name: its repr holds an address, which differs between
    # processes (pytest-xdist's workers must collect the same ids)
    ids=lambda value: (
        "" if value is None else getattr(value, "__name__", None) or repr(value)
    ),
)
def test_pair_transformer_contract(transformer, fit_params):
    check_pair_transformer_halves(
        type(transformer).__name__, transformer, fit_params=fit_params
    )


def test_the_registry_finds_every_public_estimator():
    names = {cls.__name__ for cls in public_estimator_classes()}
    assert {
        "BTLRewardRegressor",
        "MultiheadRewardModel",
        "AdversarialRewardModel",
        "AMCEEstimator",
        "LLMEmbeddingTransformer",
        "ActiveLearner",
        "RewardEnsemble",
    } <= names
    # every reward model reaches tier 2, and nothing that is not one; the models
    # are found as subclasses of the base, so a new one needs no edit here
    models = {c for c in public_estimator_classes() if issubclass(c, BaseRewardModel)}
    assert {"BTLRewardRegressor", "MultiheadRewardModel", "AdversarialRewardModel"} <= {
        c.__name__ for c in models
    }
    tier2 = {type(e) for e in reward_model_instances()}
    assert tier2 == models | {ActiveLearner, RewardEnsemble}
    # the model tests run over the models themselves, not over their wrappers
    singles = {type(e).__name__ for e in single_reward_model_instances()}
    assert "ActiveLearner" not in singles and "BTLRewardRegressor" in singles
    # the query strategies have parameters but no fit: not estimators
    assert "RandomSampling" not in names
    assert set(NOT_CHECKABLE) <= set(public_estimator_classes())
    # every transformer of pair features reaches the pair-transformer check; the
    # embedder (text in, not pairs) is the only other transformer
    transformers = {
        cls for cls in public_estimator_classes() if issubclass(cls, TransformerMixin)
    }
    checked = {type(e) for e, _ in pair_transformer_instances()}
    assert transformers - checked == {LLMEmbeddingTransformer}
    assert {type(e).__name__ for e in estimator_instances()} >= {"LinearConceptEraser"}
