"""Bad input to the reward models: each kind raises a clear error naming the argument.

Every case asserts the exception type and the words that name the argument, the
expected value or the fix; none may surface an error from inside torch, NumPy or
scikit-learn's internals.
"""

import time

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from skpref import AdversarialRewardModel, BTLRewardRegressor, MultiheadRewardModel
from tests.estimator_registry import (
    SMALL_ADVERSARY,
    SMALL_HEADS,
    SMALL_NET,
    pair_data_for,
)

QUICK = {**SMALL_NET, "max_epochs": 2}


def btl(**params):
    return BTLRewardRegressor(**{**QUICK, **params})


def multihead(**params):
    return MultiheadRewardModel(**{**SMALL_HEADS, "max_epochs": 2, **params})


@pytest.fixture(scope="module")
def latent():
    return pair_data_for(btl(), n_pairs=120)


@pytest.fixture(scope="module")
def confounded():
    return pair_data_for(multihead(), n_pairs=120)


@pytest.fixture(scope="module")
def fitted_btl(latent):
    return btl().fit(latent.X, latent.y)


@pytest.fixture(scope="module")
def fitted_multihead(confounded):
    return multihead().fit(confounded.X, confounded.y)


# -- X ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_features_are_rejected(latent, bad):
    X = latent.X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        btl().fit(X, latent.y)


def test_odd_width_is_rejected(latent):
    with pytest.raises(
        ValueError, match=r"\[response_a \| response_b\]; got 15 columns"
    ):
        btl().fit(latent.X[:, :15], latent.y)


def test_objective_models_need_the_objective_column(latent):
    with pytest.raises(
        ValueError, match=r"\[response_a \| response_b \| objective\]; got 16 columns"
    ):
        multihead().fit(latent.X, latent.y)


def test_width_differing_from_fit_is_rejected(fitted_btl, latent):
    with pytest.raises(ValueError, match="X has 14 features, but BTLRewardRegressor"):
        fitted_btl.predict_proba(latent.X[:, :14])


def test_empty_input_is_rejected(latent):
    with pytest.raises(ValueError, match="0 sample"):
        btl().fit(latent.X[:0], latent.y[:0])


# -- objective ids -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value, match",
    [
        (0.5, "integer objective ids 0..K-1; got the non-integer value 0.5"),
        (-1.0, "objective ids 0..K-1; got the negative id -1"),
        (np.nan, "Input X contains NaN"),
        (3e9, "got the id 3e\\+09, too large to number an objective"),
    ],
)
def test_bad_objective_ids_are_rejected_in_fit(confounded, value, match):
    X = confounded.X.copy()
    X[0, -1] = value
    with pytest.raises(ValueError, match=match):
        multihead().fit(X, confounded.y)


def test_one_stray_large_objective_id_is_an_error_not_a_hang(confounded):
    # ids {0, 1, 99999}: K is the number of ids seen, so 99,999 is a gap, not a
    # reason to build 100,000 heads
    X = confounded.X.copy()
    X[0, -1] = 99_999
    start = time.perf_counter()
    with pytest.raises(
        ValueError, match=r"objective ids 0..K-1 with none missing.*set n_objectives"
    ):
        multihead().fit(X, confounded.y)
    assert time.perf_counter() - start < 5


def test_objective_ids_with_a_gap_are_rejected(confounded):
    X = confounded.X.copy()
    X[:, -1] *= 2  # ids {0, 2}: id 1 is missing
    with pytest.raises(ValueError, match=r"holds the ids \[0, 2\].*\[1\] are absent"):
        btl(with_objective=True).fit(X, confounded.y)


def test_a_declared_n_objectives_allows_absent_objectives(confounded):
    X = confounded.X.copy()
    X[:, -1] *= 2
    model = multihead(n_objectives=3).fit(X, confounded.y)
    assert model.n_objectives_ == 3


def test_declared_number_of_objectives_bounds_the_ids(confounded):
    with pytest.raises(
        ValueError, match="n_objectives=1, so objective ids must be 0..0.*id 1"
    ):
        multihead(n_objectives=1).fit(confounded.X, confounded.y)


def test_objective_id_unseen_in_fit_is_rejected(fitted_multihead, confounded):
    X = confounded.X.copy()
    X[0, -1] = 2
    with pytest.raises(
        ValueError, match="fitted with 2 objectives .*got the objective id 2"
    ):
        fitted_multihead.predict(X)


def test_n_objectives_needs_with_objective(latent):
    with pytest.raises(ValueError, match="n_objectives=2 but with_objective=False"):
        btl(n_objectives=2).fit(latent.X, latent.y)


def test_adversarial_model_needs_two_objectives(confounded):
    X = confounded.X.copy()
    X[:, -1] = 0
    with pytest.raises(ValueError, match="at least two objectives .*only \\[0\\]"):
        AdversarialRewardModel(**SMALL_ADVERSARY).fit(X, confounded.y)


# -- y -----------------------------------------------------------------------------


def test_single_class_target_is_rejected(latent):
    with pytest.raises(ValueError, match="y contains only one class: \\[1\\]"):
        btl().fit(latent.X, np.ones(len(latent.X), dtype=int))


@pytest.mark.parametrize(
    "y, match",
    [
        (lambda n: np.arange(n) % 2 + 1, r"y in \{0, 1\} .*got the values \[1, 2\]"),
        (lambda n: np.arange(n) % 3, "Only binary classification is supported"),
        (lambda n: np.linspace(-1, 2, n), r"Unknown label type.*from -1 to 2"),
        (lambda n: np.array(["a", "b"] * (n // 2)), r"y in \{0, 1\}.*\['a', 'b'\]"),
    ],
)
def test_labels_other_than_0_1_or_soft_are_rejected(latent, y, match):
    with pytest.raises(ValueError, match=match):
        btl().fit(latent.X, y(len(latent.X)))


def test_nan_labels_are_rejected(latent):
    y = latent.y.astype(float)
    y[4] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        btl().fit(latent.X, y)


def test_labels_of_the_wrong_length_are_rejected(latent):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        btl().fit(latent.X, latent.y[:-1])


# -- sample_weight -----------------------------------------------------------------


@pytest.mark.parametrize(
    "weight, match",
    [
        (lambda n: np.ones(n - 1), r"one sample_weight per pair, of shape \(120,\)"),
        (lambda n: np.ones((n, 2)), r"sample_weight per pair.*got shape \(120, 2\)"),
        (lambda n: -np.ones(n), "sample_weight must be non-negative; got -1"),
        (lambda n: np.zeros(n), "every sample_weight is zero"),
        (lambda n: np.r_[np.nan, np.ones(n - 1)], "sample_weight contains NaN"),
        (lambda n: np.r_[np.inf, np.ones(n - 1)], "sample_weight contains NaN or inf"),
        (lambda n: ["heavy"] * n, "sample_weight to hold numbers"),
    ],
)
def test_bad_sample_weights_are_rejected(latent, weight, match):
    with pytest.raises(ValueError, match=match):
        btl().fit(latent.X, latent.y, sample_weight=weight(len(latent.y)))


def test_weights_leaving_one_class_are_rejected(latent):
    weight = (latent.y == 1).astype(float)
    with pytest.raises(
        ValueError, match="pairs of positive sample_weight contain only one class"
    ):
        btl().fit(latent.X, latent.y, sample_weight=weight)


def test_score_checks_its_labels_and_weights(fitted_btl, latent):
    with pytest.raises(ValueError, match="got 120 pairs in X but 119 labels"):
        fitted_btl.score(latent.X, latent.y[:-1])
    with pytest.raises(ValueError, match=r"BTLRewardRegressor.score: sample_weight"):
        fitted_btl.score(latent.X, latent.y, sample_weight=-np.ones(120))


# -- validation set ----------------------------------------------------------------


def test_validation_set_needs_both_parts(latent):
    with pytest.raises(ValueError, match="needs both X_val and y_val"):
        btl().fit(latent.X, latent.y, X_val=latent.X)


def test_validation_set_needs_matching_lengths(latent):
    with pytest.raises(ValueError, match="40 pairs in X_val but 39 labels in y_val"):
        btl().fit(latent.X, latent.y, X_val=latent.X[:40], y_val=latent.y[:39])


def test_validation_labels_are_checked_by_name(latent):
    with pytest.raises(ValueError, match=r"pair labels y_val in \{0, 1\}"):
        btl().fit(latent.X, latent.y, X_val=latent.X, y_val=latent.y + 1)


# -- parameters --------------------------------------------------------------------


def test_invalid_parameter_is_rejected_by_validation(latent):
    with pytest.raises(ValueError, match="The 'lr' parameter of BTLRewardRegressor"):
        btl(lr=-1.0).fit(latent.X, latent.y)


@pytest.mark.parametrize(
    "method", ["predict_proba", "decision_function", "predict_reward", "score"]
)
def test_batch_size_set_after_fit_is_validated_where_used(latent, method):
    model = btl().fit(latent.X, latent.y).set_params(batch_size=0)
    X = latent.X[:, :8] if method == "predict_reward" else latent.X
    args = (X, latent.y) if method == "score" else (X,)
    with pytest.raises(ValueError, match="The 'batch_size' parameter .* Got 0"):
        getattr(model, method)(*args)


@pytest.mark.parametrize(
    "device, match",
    [
        pytest.param(
            "cuda",
            "device='cuda' but (this torch build has no CUDA|no CUDA GPU)",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="has CUDA"),
        ),
        pytest.param(
            "mps",
            "device='mps' but MPS",
            marks=pytest.mark.skipif(
                torch.backends.mps.is_available(), reason="has MPS"
            ),
        ),
        ("gpu0", "device='gpu0' is not a torch device; use 'auto'"),
        ("cuda:99", "device='cuda:99' but"),
    ],
)
def test_a_device_this_machine_lacks_is_a_clear_error(latent, device, match):
    with pytest.raises(ValueError, match=match):
        btl(device=device).fit(latent.X, latent.y)


# -- methods -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "decision_function", "predict_reward"]
)
def test_predicting_before_fit_raises_not_fitted(latent, method):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(btl(), method)(latent.X)


def test_predict_reward_rejects_pairs(fitted_btl, latent):
    with pytest.raises(ValueError, match="single responses with 8 columns; got 16"):
        fitted_btl.predict_reward(latent.X)


def test_predict_reward_rejects_nan(fitted_btl, latent):
    E = latent.X[:5, :8].copy()
    E[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input E contains NaN"):
        fitted_btl.predict_reward(E)
