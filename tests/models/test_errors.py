"""Every error and warning of the reward estimators, with its message."""

import numpy as np
import pytest
from model_configs import CONFIGS, make_data
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skpref import AdversarialRewardModel, BTLRewardRegressor, MultiheadRewardModel
from skpref.models._net import PairNet


@pytest.fixture(scope="module")
def latent():
    return make_data("latent", n_pairs=120)


@pytest.fixture(scope="module")
def confounded():
    return make_data("confounded", n_pairs=120)


@pytest.fixture(scope="module")
def fitted_btl(latent):
    return CONFIGS["btl"][0](max_epochs=2, random_state=0).fit(latent.X, latent.y)


@pytest.fixture(scope="module")
def fitted_multihead(confounded):
    factory = CONFIGS["multihead"][0]
    return factory(max_epochs=2, random_state=0).fit(confounded.X, confounded.y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_features_are_rejected(latent, bad):
    X = latent.X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        BTLRewardRegressor().fit(X, latent.y)


def test_odd_width_is_rejected(latent):
    with pytest.raises(
        ValueError, match=r"\[response_a \| response_b\]; got 15 columns"
    ):
        BTLRewardRegressor().fit(latent.X[:, :15], latent.y)


def test_objective_models_need_the_objective_column(latent):
    with pytest.raises(
        ValueError, match=r"\[response_a \| response_b \| objective\]; got 16 columns"
    ):
        MultiheadRewardModel().fit(latent.X, latent.y)


def test_width_differing_from_fit_is_rejected(fitted_btl, latent):
    with pytest.raises(ValueError, match="X has 14 features, but BTLRewardRegressor"):
        fitted_btl.predict_proba(latent.X[:, :14])


@pytest.mark.parametrize(
    "value, match",
    [
        (0.5, "integer objective ids 0..K-1; got the non-integer value 0.5"),
        (-1.0, "got the negative id -1"),
    ],
)
def test_bad_objective_ids_are_rejected_in_fit(confounded, value, match):
    X = confounded.X.copy()
    X[0, -1] = value
    with pytest.raises(ValueError, match=match):
        MultiheadRewardModel().fit(X, confounded.y)


def test_objective_id_unseen_in_fit_is_rejected(fitted_multihead, confounded):
    X = confounded.X.copy()
    X[0, -1] = 2
    with pytest.raises(
        ValueError, match="fitted with 2 objectives .*got the objective id 2"
    ):
        fitted_multihead.predict(X)


def test_declared_number_of_objectives_bounds_the_ids(confounded):
    with pytest.raises(ValueError, match="fitted with 1 objectives"):
        MultiheadRewardModel(n_objectives=1).fit(confounded.X, confounded.y)


def test_n_objectives_needs_with_objective(latent):
    with pytest.raises(ValueError, match="n_objectives=2 but with_objective=False"):
        BTLRewardRegressor(n_objectives=2).fit(latent.X, latent.y)


def test_single_class_target_is_rejected(latent):
    with pytest.raises(ValueError, match="contains only one class: \\[1\\]"):
        BTLRewardRegressor().fit(latent.X, np.ones(len(latent.X), dtype=int))


@pytest.mark.parametrize(
    "y, match",
    [
        (lambda n: np.arange(n) % 2 + 1, r"in \{0, 1\} .*got the values \[1, 2\]"),
        (lambda n: np.arange(n) % 3, "Only binary classification is supported"),
        (lambda n: np.linspace(0, 1, n), "Unknown label type"),
    ],
)
def test_labels_other_than_0_1_are_rejected(latent, y, match):
    with pytest.raises(ValueError, match=match):
        BTLRewardRegressor().fit(latent.X, y(len(latent.X)))


def test_empty_input_is_rejected(latent):
    with pytest.raises(ValueError, match="0 sample"):
        BTLRewardRegressor().fit(latent.X[:0], latent.y[:0])


@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "decision_function", "predict_reward"]
)
def test_predicting_before_fit_raises_not_fitted(latent, method):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(BTLRewardRegressor(), method)(latent.X)


def test_predict_reward_rejects_pairs(fitted_btl, latent):
    with pytest.raises(ValueError, match="single responses with 8 columns; got 16"):
        fitted_btl.predict_reward(latent.X)


def test_validation_set_needs_both_parts(latent):
    with pytest.raises(ValueError, match="needs both X_val and y_val"):
        BTLRewardRegressor().fit(latent.X, latent.y, X_val=latent.X)


def test_invalid_parameter_is_rejected_by_validation(latent):
    with pytest.raises(ValueError, match="The 'lr' parameter of BTLRewardRegressor"):
        BTLRewardRegressor(lr=-1.0).fit(latent.X, latent.y)


def test_adversarial_model_needs_two_objectives(confounded):
    X = confounded.X.copy()
    X[:, -1] = 0
    with pytest.raises(ValueError, match="at least two objectives .*only \\[0\\]"):
        AdversarialRewardModel().fit(X, confounded.y)


def _nan_loss_from_epoch(monkeypatch, epoch):
    original = PairNet.get_loss

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = original(self, y_pred, y_true, X=X, training=training)
        return loss * float("nan") if len(self.history) >= epoch else loss

    monkeypatch.setattr(PairNet, "get_loss", get_loss)


def test_nan_loss_warns_and_keeps_the_best_weights(latent, monkeypatch):
    factory = CONFIGS["btl"][0]
    reference = factory(max_epochs=2, random_state=0).fit(latent.X, latent.y)
    _nan_loss_from_epoch(monkeypatch, epoch=3)
    model = factory(max_epochs=6, random_state=0)
    with pytest.warns(ConvergenceWarning, match="became NaN or infinite in epoch 3"):
        model.fit(latent.X, latent.y)
    assert model.n_epochs_ == 3
    assert model.best_epoch_ in (1, 2)
    proba = model.predict_proba(latent.X)
    assert np.all(np.isfinite(proba))
    if model.best_epoch_ == 2:
        np.testing.assert_array_equal(proba, reference.predict_proba(latent.X))


def test_nan_loss_in_the_first_epoch_raises(latent, monkeypatch):
    _nan_loss_from_epoch(monkeypatch, epoch=1)
    with pytest.raises(ValueError, match="before any usable weights existed"):
        CONFIGS["btl"][0](max_epochs=3, random_state=0).fit(latent.X, latent.y)
