"""What the reward models promise beyond the published pair checks.

The pair-contract checks themselves (antisymmetry, BTL outputs, seeded refits,
batch and order invariance, pickle and save/load round trips, sample weights, soft
labels) run over every registered reward model in ``tests/test_common.py``.
"""

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from sklearn.base import clone

from skpref import AdversarialRewardModel, BTLRewardRegressor, RewardEnsemble
from tests.estimator_registry import SMALL_ADVERSARY, SMALL_NET, pair_data_for


def test_model_learns_the_training_preferences(fitted):
    model, _, test = fitted
    assert model.score(test.X, test.y) > 0.75
    assert model.n_epochs_ == model.max_epochs
    assert 1 <= model.best_epoch_ <= model.n_epochs_
    # the kept epoch is the one with the best validation accuracy
    assert model.history_["valid_acc"].max() == pytest.approx(
        model.history_.loc[model.best_epoch_ - 1, "valid_acc"]
    )


def test_read_only_input_is_accepted_without_warnings(fitted):
    # pandas copy-on-write and memory maps hand out read-only arrays
    model, train, test = fitted
    X_train, X_test = train.X.copy(), test.X.copy()
    X_train.flags.writeable = X_test.flags.writeable = False
    refit = clone(model).set_params(max_epochs=1).fit(X_train, train.y)
    assert refit.predict_proba(X_test).shape == (len(X_test), 2)


def test_a_different_seed_gives_a_different_model():
    model = BTLRewardRegressor(**{**SMALL_NET, "max_epochs": 3})
    train = pair_data_for(model, n_pairs=200)
    first = clone(model).fit(train.X, train.y)
    other = clone(model).set_params(random_state=4).fit(train.X, train.y)
    assert not np.array_equal(
        first.predict_proba(train.X), other.predict_proba(train.X)
    )


@pytest.mark.parametrize("random_state", [None, 0])
def test_fit_leaves_global_random_state_alone(random_state):
    model = AdversarialRewardModel(**{**SMALL_ADVERSARY, "max_epochs": 2})
    train = pair_data_for(model, n_pairs=100)
    np.random.seed(123)
    torch.manual_seed(123)
    numpy_state, torch_state = np.random.get_state()[1].copy(), torch.get_rng_state()
    model.set_params(random_state=random_state).fit(train.X, train.y)
    assert_array_equal(np.random.get_state()[1], numpy_state)
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_explicit_validation_set_is_used():
    model = BTLRewardRegressor(**{**SMALL_NET, "max_epochs": 3, "batch_size": 64})
    train = pair_data_for(model, n_pairs=200)
    valid = pair_data_for(model, n_pairs=100, random_state=5)
    model.fit(train.X, train.y, X_val=valid.X, y_val=valid.y)
    # all training pairs are trained on, the validation set is scored per epoch
    assert model.history_["train_batch_count"].iloc[0] == int(np.ceil(200 / 64))
    assert model.history_["train_n_pairs"].iloc[0] == 200
    assert model.history_["valid_n_pairs"].iloc[0] == 100


def test_without_validation_the_lowest_training_loss_is_kept():
    model = BTLRewardRegressor(
        **{**SMALL_NET, "max_epochs": 4, "validation_fraction": None}
    )
    train = pair_data_for(model, n_pairs=200)
    model.fit(train.X, train.y)
    assert "valid_acc" not in model.history_
    assert model.best_epoch_ == int(model.history_["train_loss"].idxmin()) + 1


def test_the_holdout_is_stratified_and_sized_as_asked():
    # 95 pairs, 10% held out: ceil(9.5) = 10 validation pairs, 85 trained on
    model = BTLRewardRegressor(**{**SMALL_NET, "max_epochs": 1, "batch_size": 5})
    train = pair_data_for(model, n_pairs=95)
    model.fit(train.X, train.y)
    assert model.history_["train_batch_count"].iloc[0] == 17
    assert model.history_["train_n_pairs"].iloc[0] == 85
    assert model.history_["valid_n_pairs"].iloc[0] == 10


def test_without_validation_patience_stops_on_the_training_loss():
    # lr 0.3 overshoots: the training loss stops falling after a few epochs
    model = BTLRewardRegressor(
        **{**SMALL_NET, "lr": 0.3, "validation_fraction": None, "patience": 2}
    )
    train = pair_data_for(model, n_pairs=200)
    model.fit(train.X, train.y)
    loss = model.history_["train_loss"]
    assert model.n_epochs_ < model.max_epochs
    assert model.best_epoch_ == int(loss.idxmin()) + 1
    assert model.n_epochs_ == model.best_epoch_ + 2  # two epochs of no lower loss


def _fit_model_and_ensemble():
    model = AdversarialRewardModel(**{**SMALL_ADVERSARY, "max_epochs": 2})
    train = pair_data_for(model, n_pairs=100)
    clone(model).set_params(random_state=0).fit(train.X, train.y)
    RewardEnsemble(model, n_members=2, random_state=0).fit(train.X, train.y)


def test_fit_seeds_no_accelerators_generator(monkeypatch):
    # torch.manual_seed seeds every device; a fit seeds only the CPU's, in a fork
    seeded = []
    for device in ("cuda", "mps"):
        module = getattr(torch, device)
        for name in ("manual_seed", "manual_seed_all"):
            if hasattr(module, name):
                monkeypatch.setattr(
                    module, name, lambda seed, _n=f"{device}.{name}": seeded.append(_n)
                )
    _fit_model_and_ensemble()
    assert seeded == []


def test_fit_leaves_the_users_cuda_seed_alone():
    torch.manual_seed(123)  # the user's seed, for CUDA too
    if torch.cuda.is_available():
        state = torch.cuda.get_rng_state()
        _fit_model_and_ensemble()
        assert torch.equal(torch.cuda.get_rng_state(), state)
        return
    # Without CUDA, torch queues the seed until CUDA starts (private state).
    tracker = getattr(torch.cuda, "_lazy_seed_tracker", None)
    if tracker is None or not hasattr(tracker, "get_calls"):
        pytest.skip("this torch has no torch.cuda._lazy_seed_tracker to read")

    def queued_seed():
        calls = [call for call in tracker.get_calls() if call]
        closure = calls[-1][0].__closure__ or ()
        return [c.cell_contents for c in closure if isinstance(c.cell_contents, int)]

    if queued_seed() != [123]:
        pytest.skip("torch.cuda._lazy_seed_tracker holds the seed in another form")
    _fit_model_and_ensemble()
    assert queued_seed() == [123]


def test_fits_under_a_float64_default_dtype_the_same_model():
    model = AdversarialRewardModel(**{**SMALL_ADVERSARY, "max_epochs": 2})
    train = pair_data_for(model, n_pairs=100)
    members = RewardEnsemble(model, n_members=2, random_state=0)
    expected = [
        clone(estimator).fit(train.X, train.y).predict_proba(train.X)
        for estimator in (model, members)
    ]
    torch.set_default_dtype(torch.float64)
    try:
        got = [
            clone(estimator).fit(train.X, train.y).predict_proba(train.X)
            for estimator in (model, members)
        ]
    finally:
        torch.set_default_dtype(torch.float32)
    for a, b in zip(got, expected, strict=True):
        assert_array_equal(a, b)


def test_reversed_float32_views_are_accepted(fitted):
    # float32 input passes validation uncopied, negative strides and all
    model, train, test = fitted
    X_train = train.X.astype(np.float32)[::-1]
    refit = clone(model).set_params(max_epochs=1)
    copied = clone(refit).fit(np.ascontiguousarray(X_train), train.y[::-1])
    refit.fit(X_train, train.y[::-1])
    d = model.n_pair_features_
    X_test = test.X.astype(np.float32)
    E = X_test[:, :d]
    if model._with_objective:
        E = np.hstack([E, X_test[:, -1:]])
    for method, X in [("predict_proba", X_test[::-1]), ("predict_reward", E[::-1])]:
        assert_array_equal(
            getattr(refit, method)(X), getattr(copied, method)(np.ascontiguousarray(X))
        )
