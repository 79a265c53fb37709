"""The vectorised engine: each member is the model fitted alone; the data path."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skpref import (
    AdversarialRewardModel,
    BTLRewardRegressor,
    MultiheadRewardModel,
    RewardEnsemble,
)
from skpref.models import LossTerm, _engine, fit_together
from skpref.models._engine import MemberBatches, MemberData, PairData, Rows
from skpref.utils import float32_pairs
from tests.estimator_registry import (
    SMALL_ADVERSARY,
    SMALL_HEADS,
    SMALL_NET,
    pair_data_for,
)

MODELS = {
    "BTL": BTLRewardRegressor(**{**SMALL_NET, "max_epochs": 6}),
    "Base": BTLRewardRegressor(
        **{**SMALL_NET, "max_epochs": 6, "with_objective": True}
    ),
    "Multihead": MultiheadRewardModel(**{**SMALL_HEADS, "max_epochs": 6}),
    "Adversarial": AdversarialRewardModel(**{**SMALL_ADVERSARY, "max_epochs": 6}),
}
# What may differ between members trained together: seed, patience, holdout share,
# and for the adversary its weight and warm-up.
VARIANTS = [
    {"random_state": 1},
    {"random_state": 2, "patience": 1},
    {"random_state": 3, "validation_fraction": 0.2},
]
ADVERSARY_VARIANTS = [
    {"random_state": 4, "adversary_weight": 2.0},
    {"random_state": 5, "adversary_weight": 0.0, "adversary_warmup": 2},
]


def soft_weighted(model, n_pairs=240):
    """Float32 pairs with soft labels (ties too) and weights (zeros too)."""
    data = pair_data_for(model, n_pairs=n_pairs)
    rng = np.random.RandomState(0)
    y = np.where(data.y == 1, 0.85, 0.15)
    y[::7] = 0.5
    weight = rng.uniform(0.2, 2.0, size=n_pairs)
    weight[::11] = 0.0
    X = float32_pairs(clone(model), data.X)
    return X, y, weight


@pytest.fixture(scope="module", params=list(MODELS))
def alone_and_together(request):
    model = MODELS[request.param]
    X, y, weight = soft_weighted(model)
    variants = VARIANTS + (
        ADVERSARY_VARIANTS if isinstance(model, AdversarialRewardModel) else []
    )
    # rows: all pairs, a subset with the same number of steps per epoch (a padded
    # last batch) and one with fewer steps (trained in a group of its own)
    rows = [None, np.arange(6, 240), np.arange(120)] + [None] * (len(variants) - 3)
    configured = [clone(model).set_params(**v) for v in variants]
    alone = [
        clone(m).fit(
            X if r is None else X[r],
            y if r is None else y[r],
            sample_weight=weight if r is None else weight[r],
        )
        for m, r in zip(configured, rows, strict=True)
    ]
    together = fit_together(
        [clone(m) for m in configured], [(X, y, weight)] * len(variants), rows=rows
    )
    return X, alone, together


def test_each_member_predicts_as_the_model_fitted_alone(alone_and_together):
    X, alone, together = alone_and_together
    for a, b in zip(alone, together, strict=True):
        assert b.n_epochs_ == a.n_epochs_ and b.best_epoch_ == a.best_epoch_
        assert_allclose(b.predict_proba(X), a.predict_proba(X), atol=2e-5)
    # patience=1 stopped a member early: stopping is per member
    assert min(m.n_epochs_ for m in together) < max(m.n_epochs_ for m in together)


def test_each_member_has_the_history_of_the_model_fitted_alone(alone_and_together):
    _, alone, together = alone_and_together
    for a, b in zip(alone, together, strict=True):
        assert list(b.history_.columns) == list(a.history_.columns)
        numbers = a.history_.select_dtypes("number").columns.drop("dur")
        assert_allclose(b.history_[numbers], a.history_[numbers], rtol=1e-4)


def test_members_train_in_groups_of_equal_steps(monkeypatch):
    sizes = []
    original = _engine.train_stack

    def recording(plans, data, progress=None):
        sizes.append(sorted(len(plan.train) for plan in plans))
        original(plans, data, progress=progress)

    monkeypatch.setattr(_engine, "train_stack", recording)
    model = BTLRewardRegressor(**{**SMALL_NET, "max_epochs": 1, "batch_size": 50})
    X, y, weight = soft_weighted(model, n_pairs=200)
    rows = [np.arange(200), np.arange(190), np.arange(120), np.arange(110)]
    fit_together([clone(model) for _ in rows], [(X, y, weight)] * 4, rows=rows)
    # after the weight-0 pairs and the 10% holdout: 162 and 154 pairs make 4 steps
    # of 50, 98 and 90 pairs 2 steps
    assert sorted(sizes) == [[90, 98], [154, 162]]


def test_large_members_on_the_cpu_train_in_stacks_of_one(monkeypatch):
    stacks = []
    original = _engine.train_stack

    def recording(plans, data, progress=None):
        stacks.append(len(plans))
        original(plans, data, progress=progress)

    monkeypatch.setattr(_engine, "train_stack", recording)
    monkeypatch.setattr(_engine, "_CPU_STACK_PARAMETERS", 100)
    model = MultiheadRewardModel(**{**SMALL_HEADS, "max_epochs": 3})
    X, y, weight = soft_weighted(model, n_pairs=150)
    configured = [clone(model).set_params(random_state=s) for s in (1, 2)]
    alone = [clone(m).fit(X, y, sample_weight=weight) for m in configured]
    stacks.clear()  # each fit alone is a stack of one too
    together = fit_together(configured, [(X, y, weight)] * 2)
    assert stacks == [1, 1]
    for a, b in zip(alone, together, strict=True):
        assert_array_equal(b.predict_proba(X), a.predict_proba(X))


def test_a_diverging_member_leaves_the_others_untouched():
    model = BTLRewardRegressor(**{**SMALL_NET, "max_epochs": 4})
    X, y, weight = soft_weighted(model)
    huge = X * np.float32(1e30)
    alone = clone(model).fit(X, y, sample_weight=weight)
    with pytest.warns(Warning, match="diverged|NaN"):
        together = fit_together(
            [clone(model), clone(model)], [(X, y, weight), (huge, y, weight)]
        )
    assert_allclose(together[0].predict_proba(X), alone.predict_proba(X), atol=2e-5)


def test_models_on_one_array_share_one_copy_on_the_device(monkeypatch):
    blocks = []
    original = PairData.__init__

    def recording(self, parts, y, inputs, device, **kwargs):
        blocks.append(len(parts))
        original(self, parts, y, inputs, device, **kwargs)

    monkeypatch.setattr(PairData, "__init__", recording)
    model = BTLRewardRegressor(**{**SMALL_NET, "max_epochs": 1})
    X, y, weight = soft_weighted(model, n_pairs=100)
    X2 = X.copy()
    fit_together([clone(model)] * 3, [(X, y, weight), (X, y, weight), (X2, y, weight)])
    assert blocks == [2]


def test_members_given_the_same_x_train_on_their_own_labels():
    model = BTLRewardRegressor(**{**SMALL_NET, "max_epochs": 3})
    X, y, weight = soft_weighted(model, n_pairs=160)
    labels = [y, 1 - y]  # the same X object, opposite preferences
    configured = [clone(model).set_params(random_state=s) for s in (1, 2)]
    together = fit_together(
        [clone(m) for m in configured], [(X, y_k, weight) for y_k in labels]
    )
    for m, y_k, fitted in zip(configured, labels, together, strict=True):
        alone = clone(m).fit(X, y_k, sample_weight=weight)
        assert_allclose(fitted.predict_proba(X), alone.predict_proba(X), atol=2e-5)


def test_a_member_checks_saturation_on_its_rows_as_the_model_fitted_alone():
    # pairs the member does not train on, a thousand times larger: any reward
    # saturates there, so a check over all of X would warn that the fit saturated
    model = BTLRewardRegressor(**{**SMALL_NET, "max_epochs": 2})
    X, y, weight = soft_weighted(model, n_pairs=120)
    rows = np.arange(120)
    X_all = np.vstack([X, 1e3 * X, 1e3 * X])
    y_all, weight_all = np.tile(y, 3), np.tile(weight, 3)
    alone = clone(model).fit(X, y, sample_weight=weight)
    (member,) = fit_together([clone(model)], [(X_all, y_all, weight_all)], rows=[rows])
    assert member.convergence_warning_ is alone.convergence_warning_ is None
    assert_array_equal(member.predict_proba(X), alone.predict_proba(X))


# -- the data path -------------------------------------------------------------------


def test_streamed_data_train_the_same_model_as_resident_data(monkeypatch):
    model = MultiheadRewardModel(**{**SMALL_HEADS, "max_epochs": 3})
    data = pair_data_for(model, n_pairs=200)
    resident = clone(model).fit(data.X, data.y)
    monkeypatch.setattr(_engine, "_fits_on", lambda device, n_bytes: False)
    monkeypatch.setattr(_engine, "_CHUNK_BYTES", 3 * 32 * 4 * data.X.shape[1])
    streamed = clone(model).fit(data.X, data.y)
    assert_array_equal(streamed.predict_proba(data.X), resident.predict_proba(data.X))


@given(
    counts=st.lists(st.integers(1, 40), min_size=1, max_size=4),
    batch_size=st.integers(1, 16),
    seed=st.integers(0, 1000),
)
def test_stacked_validation_batches_hold_every_row_once_padding_masked(
    counts, batch_size, seed
):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(50, 3)).astype(np.float32)
    data = PairData([X], [np.arange(50) % 2], [{}], "cpu")
    members = [Rows.of(rng.permutation(50)[:n], rng.uniform(1, 2, n)) for n in counts]
    seen = [[] for _ in counts]
    labels = [[] for _ in counts]
    for batch, y in MemberBatches(MemberData(data, members), batch_size):
        mask = batch.get("mask", torch.ones(batch["sample_weight"].shape, dtype=bool))
        assert torch.equal(mask.sum(1).float(), batch["n_rows"])
        assert torch.all(batch["sample_weight"][~mask] == 0)
        for k in range(len(counts)):
            seen[k].extend(batch["X"][k][mask[k]].tolist())
            labels[k].extend(y[k][mask[k]].tolist())
    for k, rows in enumerate(members):
        assert_array_equal(np.array(seen[k]), X[rows.index.numpy()])
        assert_array_equal(labels[k], data.y[rows.index].numpy())


@given(n=st.integers(1, 60), batch_size=st.integers(1, 16), seed=st.integers(0, 99))
def test_training_batches_follow_randperm_of_the_members_generator(n, batch_size, seed):
    X = np.arange(2 * 60, dtype=np.float32).reshape(60, 2)
    data = PairData([X], [np.zeros(60)], [{}], "cpu")
    rows = Rows.of(np.arange(60)[::-1][:n], np.ones(n))
    generators = [torch.Generator().manual_seed(seed)]
    batches = MemberBatches(MemberData(data, [rows], generators), batch_size)
    expected = torch.Generator().manual_seed(seed)
    for _ in range(2):  # a new order every epoch
        order = rows.index[torch.randperm(n, generator=expected)]
        got = torch.cat([batch["X"][0, :, 0] for batch, _ in batches]) / 2
        assert_array_equal(got.numpy(), order.numpy())
        assert len(batches) == -(-n // batch_size)


def test_predictions_do_not_depend_on_the_prediction_chunks(monkeypatch):
    from skpref.models import _base

    model = MultiheadRewardModel(**{**SMALL_HEADS, "max_epochs": 2})
    data = pair_data_for(model, n_pairs=100)
    model.fit(data.X, data.y)
    whole = model.decision_function(data.X)
    monkeypatch.setattr(_base, "_PREDICTION_ROWS", 7)
    model.set_params(batch_size=3)  # chunks of max(batch_size, 7) rows
    assert_allclose(model.decision_function(data.X), whole, rtol=1e-5, atol=1e-6)
    d = model.n_pair_features_
    E = np.hstack([data.X[:, :d], data.X[:, -1:]])
    assert model.predict_reward(E).shape == (100,)


class CountingBar:
    """A progress bar that records what the engine tells it."""

    def __init__(self):
        self.total, self.n, self.refreshed = None, 0, 0

    def update(self, n):
        self.n += n

    def refresh(self):
        self.refreshed += 1


@pytest.mark.parametrize("wide", [False, True])
def test_the_progress_bar_counts_every_epoch_of_the_training(wide, monkeypatch):
    if wide:  # members trained in stacks of one, as wide ones are on a CPU
        monkeypatch.setattr(_engine, "_CPU_STACK_PARAMETERS", 1)
    model = clone(MODELS["BTL"]).set_params(device="cpu")
    X, y, weight = soft_weighted(model)
    # two groups: 3 members of 6 epochs with all rows, 1 with fewer steps
    members = [clone(model).set_params(random_state=k) for k in range(3)]
    members.append(clone(model).set_params(random_state=3, max_epochs=4))
    rows = [None, None, None, np.arange(100)]
    bar = CountingBar()
    fit_together(members, [(X, y, weight)] * 4, rows=rows, progress=bar)
    expected = 3 * 6 + 4 if wide else 6 + 4
    assert bar.total == bar.n == expected and bar.refreshed == 1


def test_the_progress_bar_is_full_when_every_member_stops_early():
    model = clone(MODELS["BTL"]).set_params(device="cpu", max_epochs=30, patience=1)
    X, y, weight = soft_weighted(model)
    members = [clone(model).set_params(random_state=k) for k in range(2)]
    bar = CountingBar()
    fit_together(members, [(X, y, weight)] * 2, progress=bar)
    assert max(m.n_epochs_ for m in members) < 30  # stopped before max_epochs
    assert bar.total == bar.n == 30


# -- one engine: a fit is a stack of one; threads, history, progress ---------------


def test_a_single_fit_is_a_stack_of_one_and_its_history_is_its_view():
    model = clone(MODELS["Adversarial"]).set_params(max_epochs=3)
    X, y, weight = soft_weighted(model, n_pairs=120)
    model.fit(X, y, sample_weight=weight)
    assert (
        model.net_.module_.n_members == 1 and model.net_.module_.single is model.module_
    )
    row = model.net_.history[-1]
    assert row["valid_acc"] == [model.history_["valid_acc"].iloc[-1]]
    for column in (
        "train_acc",
        "train_margin",
        "train_reward_mean",
        "train_reward_std",
    ):
        assert np.isfinite(model.history_[column]).all()
    assert model.history_["kept"].iloc[model.best_epoch_ - 1]


def test_the_ensembles_history_has_every_members_columns():
    member = clone(MODELS["BTL"]).set_params(max_epochs=4, patience=1)
    X, y, weight = soft_weighted(member, n_pairs=200)
    ensemble = RewardEnsemble(member, n_members=3, random_state=0).fit(X, y)
    assert list(ensemble.history_["valid_acc"].columns) == [0, 1, 2]
    for k, fitted in enumerate(ensemble.members_):
        own = ensemble.history_.xs(k, axis=1, level="member").iloc[: fitted.n_epochs_]
        assert_array_equal(own["valid_acc"], fitted.history_["valid_acc"])


def test_fits_run_on_n_threads_and_restore_torchs_setting():
    before = torch.get_num_threads()
    seen = []
    model = clone(MODELS["BTL"]).set_params(max_epochs=1)
    X, y, weight = soft_weighted(model, n_pairs=60)

    class Threads(LossTerm):  # records the threads of every training step
        def __call__(self, net, y_pred, y_true, batch, training):
            seen.append(torch.get_num_threads())
            return torch.zeros_like(batch["n_rows"])

    class Probe(BTLRewardRegressor):
        def _loss_terms(self):
            return (Threads(),)

    Probe(**model.get_params()).fit(X, y)
    assert seen and set(seen) == {1} and torch.get_num_threads() == before
    seen.clear()
    Probe(**{**model.get_params(), "n_threads": 2}).fit(X, y)
    assert set(seen) == {2} and torch.get_num_threads() == before


def test_verbose_prints_every_epoch_inside_a_search(capsys):
    model = clone(MODELS["BTL"]).set_params(max_epochs=2, verbose=1)
    X, y, _ = soft_weighted(model, n_pairs=120)
    y = (y > 0.5).astype(int)
    GridSearchCV(model, {"lr": [1e-2, 1e-3]}, cv=2).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if "epoch" in line]
    # 2 values x 2 folds + the refit, 2 epochs each
    assert len(lines) == 5 * 2
    assert all("train_loss" in line and "valid_acc" in line for line in lines)


@pytest.mark.parametrize("kind", ["continuous", "categorical"])
def test_a_covariate_is_coded_on_the_members_rows_as_alone(kind):
    model = AdversarialRewardModel(
        **{**SMALL_ADVERSARY, "max_epochs": 3},
        adversary_target="length",
        with_objective=False,
    )
    data = pair_data_for(BTLRewardRegressor(), n_pairs=240)
    X = float32_pairs(clone(model), data.X)
    rng = np.random.RandomState(0)
    if kind == "continuous":
        covariate = rng.gamma(2, 50, size=(240, 2))
    else:
        covariate = rng.randint(0, 3, size=(240, 2)).astype(str)
    rows = np.arange(60, 240)
    alone = clone(model).fit(X[rows], data.y[rows], covariates=covariate[rows])
    (member,) = fit_together(
        [clone(model)], [(X, data.y, None)], rows=[rows], covariates=[covariate]
    )
    for name in ("adversary_mean_", "adversary_scale_", "discriminator_chance_"):
        assert getattr(member, name) == getattr(alone, name)
    assert_allclose(
        member.history_["train_adv_loss"], alone.history_["train_adv_loss"], rtol=1e-4
    )


def test_models_of_other_threads_or_verbosity_train_in_stacks_of_their_own():
    model = clone(MODELS["BTL"]).set_params(max_epochs=1)
    X, y, weight = soft_weighted(model, n_pairs=100)
    models = [
        clone(model),
        clone(model).set_params(n_threads=2),
        clone(model).set_params(verbose=1),
    ]
    fit_together(models, [(X, y, weight)] * 3)
    assert len({id(m.net_) for m in models}) == 3


def test_a_members_counts_are_its_own():
    model = clone(MODELS["BTL"]).set_params(max_epochs=2, batch_size=32)
    X, y, weight = soft_weighted(model, n_pairs=240)
    rows = [np.arange(190), np.arange(180)]  # 6 batches each
    valid = [np.arange(190, 240), np.arange(180, 200)]
    members = [clone(model).set_params(random_state=s) for s in (1, 2)]
    fit_together(members, [(X, y, weight)] * 2, rows=rows, valid_rows=valid)
    assert members[0].net_ is members[1].net_
    for member, train, held_out in zip(members, rows, valid, strict=True):
        n_train, n_valid = (int((weight[r] > 0).sum()) for r in (train, held_out))
        assert member.history_["train_n_pairs"].tolist() == [n_train] * 2
        assert member.history_["valid_n_pairs"].tolist() == [n_valid] * 2
    assert members[1].history_["train_batch_count"].tolist() == [6, 6]


def test_a_stacked_adversarial_member_keeps_its_reversal_weight():
    model = clone(MODELS["Adversarial"]).set_params(max_epochs=2)
    X, y, weight = soft_weighted(model, n_pairs=120)
    members = [clone(model).set_params(adversary_weight=w) for w in (0.5, 2.0)]
    fit_together(members, [(X, y, weight)] * 2)
    assert members[0].net_ is members[1].net_
    assert [float(m.module_.reversal.weight) for m in members] == [0.5, 2.0]
