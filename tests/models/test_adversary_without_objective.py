"""The covariate adversary on single-objective pairs: ``with_objective=False``."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone

from skpref import AdversarialRewardModel
from skpref.datasets import make_latent_preferences
from skpref.models import _engine
from tests.models import test_adversarial

SMALL = {**test_adversarial.SMALL, "max_epochs": 4}
D = 8


@pytest.fixture(scope="module")
def data():
    return make_latent_preferences(n_pairs=400, n_features=D, random_state=0)


@pytest.fixture(scope="module")
def length(data):
    """A covariate of each response that its features predict."""
    X = data.X
    return np.column_stack([X[:, :D].sum(1), X[:, D:].sum(1)])


def plain(**params):
    defaults = {"adversary_target": "length", "with_objective": False, **SMALL}
    return AdversarialRewardModel(**{**defaults, **params})


@pytest.fixture(scope="module")
def fitted(data, length):
    return plain().fit(data.X, data.y, covariates=length)


def test_plain_pairs_train_the_model_of_a_zero_objective_column(data, length, fitted):
    zero = np.column_stack([data.X, np.zeros(len(data.X))])
    by_hand = AdversarialRewardModel(adversary_target="length", **SMALL)
    by_hand.fit(zero, data.y, covariates=length)
    assert_array_equal(
        fitted.decision_function(data.X), by_hand.decision_function(zero)
    )
    E = data.X[:, :D]
    assert_array_equal(
        fitted.predict_reward(E),
        by_hand.predict_reward(np.column_stack([E, zero[:, -1]])),
    )
    kept = ["train_loss", "valid_acc", "train_disc_r2", "valid_adv_loss"]
    assert_array_equal(fitted.history_[kept], by_hand.history_[kept])


def test_the_model_has_one_head_and_no_objective_attributes(fitted):
    module = fitted.module_
    assert len(module.heads) == 1 and not module.with_objective
    assert fitted.n_features_in_ == 2 * D and fitted.n_pair_features_ == D
    assert not hasattr(fitted, "n_objectives_")
    pairs = np.eye(2 * D)
    assert fitted.predict_proba(pairs).shape == (2 * D, 2)
    assert fitted.predict_reward(pairs[:, :D]).shape == (2 * D,)


def test_swapping_the_halves_negates_the_margin_exactly(data, fitted):
    swapped = np.hstack([data.X[:, D:], data.X[:, :D]])
    assert_array_equal(
        fitted.decision_function(swapped), -fitted.decision_function(data.X)
    )
    margin = fitted.decision_function(data.X)
    rewards = fitted.predict_reward(data.X[:, :D]) - fitted.predict_reward(
        data.X[:, D:]
    )
    np.testing.assert_allclose(margin, rewards, atol=1e-5)


def test_the_covariate_travels_as_a_named_input_and_prediction_copies_nothing(
    monkeypatch, data, length
):
    widths, inputs = [], []
    original = _engine.PairData

    def recording(blocks, y, named, device, **kwargs):
        widths.append([block.shape[1] for block in blocks])
        inputs.append({name: v.shape for block in named for name, v in block.items()})
        return original(blocks, y, named, device, **kwargs)

    monkeypatch.setattr(_engine, "PairData", recording)
    model = plain().fit(data.X, data.y, covariates=length)
    assert widths == [[2 * D]]  # [a | b]: no zero column, nothing appended
    assert inputs == [{"target": (len(data.X), 2)}]  # [length_a | length_b]
    X = np.ascontiguousarray(data.X, dtype=np.float32)
    seen = []
    margin = model.module_.margin
    monkeypatch.setattr(
        model.module_, "margin", lambda X_b: seen.append(X_b) or margin(X_b)
    )
    model.predict_proba(X)
    assert seen[0].data_ptr() == X.ctypes.data and seen[0].shape == X.shape


def test_clone_pickle_and_seeded_refits_agree(data, length, fitted):
    copy = clone(fitted)
    assert copy.get_params()["with_objective"] is False
    refit = copy.fit(data.X, data.y, covariates=length)
    assert_array_equal(
        refit.decision_function(data.X), fitted.decision_function(data.X)
    )
    restored = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(restored.predict_proba(data.X), fitted.predict_proba(data.X))


@pytest.mark.parametrize(
    ("params", "width", "match"),
    [
        (
            {"adversary_target": "objective"},
            2 * D,
            r"with_objective=False\) has no objective to hide.*Pass a covariate "
            "target.*or use with_objective=True",
        ),
        (
            {"n_objectives": 1},
            2 * D,
            "got n_objectives=1 but with_objective=False; set with_objective=True",
        ),
        (
            {"objective_categories": ["helpful"]},
            2 * D,
            r"got objective_categories=\['helpful'\] but with_objective=False",
        ),
        (
            {},
            2 * D + 1,
            r"with_objective=False\) expects X laid out as \[response_a \| "
            r"response_b\], of even width; got 17 columns.*pass with_objective=True",
        ),
        (
            {"with_objective": True},
            2 * D,
            r"with_objective=True\) expects X laid out as \[response_a \| "
            r"response_b \| objective\], of odd width; got 16 columns.*pass "
            "with_objective=False",
        ),
    ],
)
def test_a_layout_that_does_not_fit_is_a_clear_error(
    data, length, params, width, match
):
    X = np.column_stack([data.X, np.zeros(len(data.X))])[:, :width]
    with pytest.raises(ValueError, match=match):
        plain(**params).fit(X, data.y, covariates=length)


def test_prediction_refuses_the_objective_column(data, fitted):
    with_column = np.column_stack([data.X, np.zeros(len(data.X))])
    with pytest.raises(ValueError, match="X has 17 features, but Adversarial.*16"):
        fitted.predict_proba(with_column)
    with pytest.raises(
        ValueError,
        match="predict_reward expects single responses with 8 columns; got 9",
    ):
        fitted.predict_reward(with_column[:, D:])


def test_a_refit_without_the_objective_column_keeps_no_stale_objectives(data, length):
    model = AdversarialRewardModel(adversary_target="length", **SMALL)
    with_column = np.column_stack([data.X, np.zeros(len(data.X))])
    model.fit(with_column, data.y, covariates=length)
    assert model.n_objectives_ == 1
    model.set_params(with_objective=False).fit(data.X, data.y, covariates=length)
    assert not hasattr(model, "n_objectives_")
    assert not hasattr(model, "objective_categories_")
