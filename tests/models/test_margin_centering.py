"""TRL's objective options on every reward model: per-pair margins, reward centring.

The formulas are TRL's ``RewardTrainer.compute_loss`` (trl/trainer/reward_trainer.py),
written out here: ``-logsigmoid(r_chosen - r_rejected - margin).mean()`` and
``center_rewards_coefficient * mean((r_chosen + r_rejected) ** 2)``.
"""

import numpy as np
import pytest
import sklearn
import torch
from sklearn.model_selection import GridSearchCV

from skpref import (
    AdversarialRewardModel,
    BTLRewardRegressor,
    MultiheadRewardModel,
    RewardEnsemble,
)
from skpref.datasets import make_latent_preferences
from skpref.models._engine import CenterRewards, RewardNet, margin_loss

SMALL = {"hidden_dim": 8, "latent_dim": 4, "max_epochs": 3, "lr": 1e-2,
         "random_state": 0, "device": "cpu"}  # fmt: skip


def trl_loss(r_chosen, r_rejected, margin, center):
    """TRL's reward loss, as its RewardTrainer.compute_loss writes it."""
    loss = -torch.nn.functional.logsigmoid(r_chosen - r_rejected - margin).mean()
    if center is not None:
        loss = loss + center * torch.mean((r_chosen + r_rejected) ** 2)
    return loss


@pytest.mark.parametrize("center", [None, 0.01, 0.5])
def test_the_loss_is_trls_on_the_same_numbers(center):
    gen = torch.Generator().manual_seed(0)
    r_a, r_b = torch.randn(1, 64, generator=gen), torch.randn(1, 64, generator=gen)
    y = (torch.rand(1, 64, generator=gen) < 0.5).float()
    margin = torch.rand(1, 64, generator=gen) * 2
    # TRL's chosen/rejected, from the pair's sides and label
    chosen = torch.where(y == 1, r_a, r_b)
    rejected = torch.where(y == 1, r_b, r_a)
    net = RewardNet(
        torch.nn.Linear(1, 1),  # never called: get_loss reads the outputs given
        criterion=torch.nn.BCEWithLogitsLoss,
        criterion__reduction="none",
        loss_terms=(CenterRewards(center),) if center else (),
    ).initialize()
    batch = {"sample_weight": torch.ones(1, 64), "margin": margin,
             "n_rows": torch.tensor([64.0])}  # fmt: skip
    net.history.new_epoch()
    net.history.new_batch()
    ours = net.get_loss({"reward_a": r_a, "reward_b": r_b}, y, batch, training=True)
    expected = trl_loss(chosen, rejected, margin, center)
    torch.testing.assert_close(ours, expected, rtol=1e-6, atol=1e-7)


def test_soft_labels_mix_the_two_sides_and_zero_margin_is_the_btl_loss():
    d = torch.linspace(-3, 3, 13)
    for y in (0.0, 0.3, 1.0):
        target = torch.full_like(d, y)
        mixed = margin_loss(d, target, torch.full_like(d, 0.5))
        a_wins = margin_loss(d, torch.ones_like(d), torch.full_like(d, 0.5))
        b_wins = margin_loss(d, torch.zeros_like(d), torch.full_like(d, 0.5))
        torch.testing.assert_close(mixed, y * a_wins + (1 - y) * b_wins)
        plain = torch.nn.functional.binary_cross_entropy_with_logits(
            d, target, reduction="none"
        )
        torch.testing.assert_close(margin_loss(d, target, torch.zeros_like(d)), plain)


@pytest.fixture(scope="module")
def data():
    return make_latent_preferences(300, n_features=4, random_state=0)


@pytest.mark.parametrize(
    "model",
    [
        BTLRewardRegressor(**SMALL),
        MultiheadRewardModel(**SMALL, head_hidden_dim=4),
        AdversarialRewardModel(**SMALL, head_hidden_dim=4),
    ],
    ids=lambda m: type(m).__name__,
)
def test_every_model_takes_margins_and_centring(data, model):
    X, y = data.X, data.y
    if not isinstance(model, BTLRewardRegressor):
        X = np.c_[X, np.arange(len(X)) % 2]
    plain = model.fit(X, y).decision_function(X)
    zero = model.set_params(margin=0.0).fit(X, y, margin=np.zeros(len(X)))
    np.testing.assert_array_equal(zero.decision_function(X), plain)  # the same fit
    margins = np.linspace(0, 2, len(X))
    fitted = model.set_params(center_rewards_coefficient=0.1).fit(X, y, margin=margins)
    assert "train_center_penalty" in fitted.history_
    assert not np.array_equal(fitted.decision_function(X), plain)


def test_centring_brings_the_mean_reward_to_zero(data):
    base = BTLRewardRegressor(**{**SMALL, "max_epochs": 30})
    free = base.fit(data.X, data.y)
    centred = BTLRewardRegressor(
        **{**SMALL, "max_epochs": 30}, center_rewards_coefficient=1.0
    ).fit(data.X, data.y)
    E = np.r_[data.X[:, :4], data.X[:, 4:]]
    assert abs(centred.predict_reward(E).mean()) < abs(free.predict_reward(E).mean())
    assert abs(centred.predict_reward(E).mean()) < 0.1


def test_a_constant_margin_widens_the_reward_gaps(data):
    gaps = []
    for margin in (0.0, 3.0):
        model = BTLRewardRegressor(**{**SMALL, "max_epochs": 30}, margin=margin)
        gaps.append(np.abs(model.fit(data.X, data.y).decision_function(data.X)).mean())
    assert gaps[1] > gaps[0]


@pytest.mark.parametrize("per_pair", [False, True])
def test_a_large_margin_is_not_taken_for_divergence(data, per_pair, recwarn):
    # with a margin m, predicting 1/2 costs softplus(m), not log 2: a loss of 7
    # at m = 10 is a fit that learns, not one that diverged
    model = BTLRewardRegressor(**SMALL, margin=0.0 if per_pair else 10.0)
    margin = np.full(len(data.y), 10.0) if per_pair else None
    model.fit(data.X, data.y, margin=margin)
    assert model.history_["train_loss"].min() > 10 * np.log(2)
    assert model.convergence_warning_ is None
    assert not [w for w in recwarn if "diverged" in str(w.message)]


def test_margins_are_routed_and_grid_searchable(data):
    with sklearn.config_context(enable_metadata_routing=True):
        model = BTLRewardRegressor(**SMALL).set_fit_request(margin=True)
        search = GridSearchCV(
            model, {"margin": [0.0, 1.0], "center_rewards_coefficient": [None, 0.1]},
            cv=2,
        )  # fmt: skip
        search.fit(data.X, data.y, margin=np.full(len(data.X), 0.5))
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_an_ensemble_passes_margins_to_its_members(data):
    margins = np.linspace(0, 1, len(data.X))
    ensemble = RewardEnsemble(BTLRewardRegressor(**SMALL), n_members=2, random_state=0)
    ensemble.fit(data.X, data.y, margin=margins)
    alone = BTLRewardRegressor(**{**SMALL, "random_state": 0})
    member = ensemble.members_[0]
    alone.set_params(random_state=member.random_state).fit(
        data.X, data.y, margin=margins
    )
    np.testing.assert_allclose(
        member.predict_reward(data.X[:, :4]), alone.predict_reward(data.X[:, :4]),
        rtol=1e-5, atol=1e-6,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("margin", "y", "match"),
    [
        (np.full(5, np.nan), None, "margin contains NaN or infinity"),
        (np.ones(3), None, r"one margin per pair, of shape \(300,\)"),
        (-np.ones(300), "soft", "negative but its label is soft"),
        (["a"] * 300, None, "margin to hold numbers"),
    ],
)
def test_bad_margins_are_named(data, margin, y, match):
    labels = data.y if y is None else np.where(data.y == 1, 0.8, 0.2)
    if len(margin) == 5:
        margin = np.r_[margin, np.zeros(295)]
    with pytest.raises(ValueError, match=match):
        BTLRewardRegressor(**SMALL).fit(data.X, labels, margin=margin)


@pytest.mark.parametrize("per_pair", [None, 1.0])
def test_a_negative_margin_parameter_is_refused_for_soft_labels(data, per_pair):
    # the parameter adds to the per-pair margins: -2 + 1 is negative too
    soft = np.where(data.y == 1, 0.8, 0.2)
    margin = None if per_pair is None else np.full(len(soft), per_pair)
    model = BTLRewardRegressor(**{**SMALL, "margin": -2.0})
    with pytest.raises(ValueError, match=r"margin=-2 makes the margin of pair 0 neg"):
        model.fit(data.X, soft, margin=margin)
    model.fit(data.X, data.y, margin=margin)  # hard labels may have any margin


def test_negative_margins_are_allowed_for_hard_labels(data):
    plain = BTLRewardRegressor(**SMALL).fit(data.X, data.y).decision_function(data.X)
    loose = BTLRewardRegressor(**SMALL).fit(
        data.X, data.y, margin=-np.ones(len(data.X))
    )
    assert np.isfinite(loose.decision_function(data.X)).all()
    assert not np.array_equal(loose.decision_function(data.X), plain)  # it was used


# -- rewards on a known scale -------------------------------------------------


@pytest.mark.parametrize("objectives", [1, 2])
def test_training_rewards_are_z_scores_per_objective(data, objectives):
    X = data.X if objectives == 1 else np.c_[data.X, np.arange(len(data.X)) % 2]
    model = (BTLRewardRegressor if objectives == 1 else MultiheadRewardModel)(
        **SMALL, **({} if objectives == 1 else {"head_hidden_dim": 4})
    ).fit(X, data.y)
    ids = np.zeros(len(X)) if objectives == 1 else X[:, -1]
    halves = [X[:, :4], X[:, 4:8]]
    E = np.r_[tuple(h if objectives == 1 else np.c_[h, ids] for h in halves)]
    z = model.predict_reward(E, normalize=True)
    raw = model.predict_reward(E)
    both = np.r_[ids, ids]
    assert model.reward_mean_.shape == (objectives,)
    for k in range(objectives):
        np.testing.assert_allclose(z[both == k].mean(), 0, atol=1e-6)
        np.testing.assert_allclose(z[both == k].std(), 1, rtol=1e-6)
        np.testing.assert_allclose(model.reward_mean_[k], raw[both == k].mean())


def test_an_ensembles_normalized_members_give_the_normalized_aggregate(data):
    ensemble = RewardEnsemble(BTLRewardRegressor(**SMALL), n_members=3, random_state=0)
    ensemble.fit(data.X, data.y)
    E = np.r_[data.X[:, :4], data.X[:, 4:]]
    z = ensemble.predict_reward(E, normalize=True)
    np.testing.assert_allclose([z.mean(), z.std()], [0, 1], atol=1e-6)
    members = ensemble.predict_reward_members(E, normalize=True)
    np.testing.assert_allclose(members.mean(0), z, rtol=1e-6, atol=1e-9)
    raw = ensemble.predict_reward_members(E)
    scale = ensemble.reward_std_[0]
    np.testing.assert_allclose(
        members.min(0), (raw.min(0) - ensemble.reward_mean_[0]) / scale, rtol=1e-6
    )
    _, std = ensemble.predict_reward(E, return_std=True, normalize=True)
    np.testing.assert_allclose(std, raw.std(0) / scale, rtol=1e-6)


def test_a_model_without_a_scale_cannot_normalize(data):
    model = BTLRewardRegressor(**SMALL).fit(data.X, data.y)
    del model.reward_std_  # a model saved before the scale was stored
    with pytest.raises(ValueError, match="fitted \\(or saved\\) before skpref"):
        model.predict_reward(data.X[:, :4], normalize=True)


def test_a_bootstrap_sample_of_one_label_is_refused_as_a_fit_alone_would_be():
    X = np.random.default_rng(0).normal(size=(12, 8)).astype(np.float32)
    y = np.r_[np.ones(11), 0].astype(int)
    member = BTLRewardRegressor(**SMALL, validation_fraction=None)
    ensemble = RewardEnsemble(member, n_members=8, bootstrap=True, random_state=0)
    with pytest.raises(ValueError, match="drawn for it .* all have the label 1"):
        ensemble.fit(X, y)
    member.fit(X, y)  # all the pairs hold both labels
