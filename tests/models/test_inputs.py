"""Sample weights, soft labels, ties and the score of the reward models."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skpref import BTLRewardRegressor
from skpref.metrics import pairwise_accuracy_score
from skpref.utils import Seeds, holdout
from tests.estimator_registry import (
    SMALL_NET,
    pair_data_for,
    single_reward_model_instances,
)

QUICK = {**SMALL_NET, "max_epochs": 5}
MODELS = {
    type(m).__name__ + str(i): m for i, m in enumerate(single_reward_model_instances())
}


@pytest.fixture(scope="module")
def latent():
    return pair_data_for(BTLRewardRegressor(), n_pairs=300)


@pytest.mark.parametrize("name", list(MODELS))
def test_weights_of_two_give_exactly_the_model_of_no_weights(name):
    model = clone(MODELS[name]).set_params(max_epochs=5)
    data = pair_data_for(model, n_pairs=200)
    plain = clone(model).fit(data.X, data.y)
    doubled = clone(model).fit(data.X, data.y, sample_weight=np.full(200, 2.0))
    assert_array_equal(doubled.predict_proba(data.X), plain.predict_proba(data.X))
    assert_array_equal(doubled.history_["valid_acc"], plain.history_["valid_acc"])


def test_only_the_ratios_of_the_weights_matter(latent):
    weight = np.random.RandomState(0).uniform(0.5, 2, size=len(latent.y))
    model = BTLRewardRegressor(**QUICK)
    first = clone(model).fit(latent.X, latent.y, sample_weight=weight)
    scaled = clone(model).fit(latent.X, latent.y, sample_weight=3.7 * weight)
    assert_allclose(
        scaled.predict_proba(latent.X), first.predict_proba(latent.X), atol=1e-5
    )


def test_pairs_of_weight_zero_are_left_out(latent):
    weight = np.ones(len(latent.y))
    weight[::3] = 0
    model = BTLRewardRegressor(**QUICK)
    weighted = clone(model).fit(latent.X, latent.y, sample_weight=weight)
    subset = clone(model).fit(latent.X[weight > 0], latent.y[weight > 0])
    assert_array_equal(weighted.predict_proba(latent.X), subset.predict_proba(latent.X))


def test_a_holdout_of_every_training_pair_is_refused(latent):
    # ceil(0.999 * 300) = 300: nothing was left to hold out from, and the fit
    # quietly trained on every pair and kept the epoch of lowest training loss
    model = BTLRewardRegressor(**QUICK, validation_fraction=0.999)
    with pytest.raises(ValueError, match="would hold out all 300 training pairs"):
        model.fit(latent.X, latent.y)
    weight = np.r_[np.ones(10), np.zeros(len(latent.y) - 10)]
    with pytest.raises(ValueError, match="all 10 training pairs"):  # weight > 0
        model.set_params(validation_fraction=0.95).fit(
            latent.X, latent.y, sample_weight=weight
        )


def test_a_huge_weight_in_one_part_leaves_the_other_part_weighted(latent):
    # Each part is scaled by its own mean: scaled by the mean of both, a weight
    # 1e50 times the others' rounded every other float32 weight to 0, so that a
    # model trained on no pair (the huge one held out) or scored on none (NaN
    # valid_acc: the initial weights kept) came back without a warning.
    model = BTLRewardRegressor(**QUICK)
    plain = clone(model).fit(latent.X, latent.y)
    rows = np.arange(len(latent.y))
    seed = Seeds.from_random_state(model.random_state).split
    train, valid = holdout(latent.y, rows, model.validation_fraction, seed)
    history = {}
    for part, row in (("train", train[0]), ("valid", valid[0])):
        weight = np.ones(len(latent.y))
        weight[row] = 1e50
        fitted = clone(model).fit(latent.X, latent.y, sample_weight=weight)
        assert fitted.best_epoch_ >= 1
        history[part] = fitted.history_
    assert np.isfinite(history["train"]["valid_acc"]).all()
    # training is that of no weights (the validation accuracy is the huge pair's)
    assert_array_equal(history["valid"]["train_loss"], plain.history_["train_loss"])


def test_weights_steer_the_fit_away_from_noisy_pairs(latent):
    # 40% of the training labels are flipped; giving them a tiny weight recovers
    # most of the accuracy that the unweighted fit loses to them
    rng = np.random.RandomState(1)
    flipped = rng.uniform(size=len(latent.y)) < 0.4
    y_noisy = np.where(flipped, 1 - latent.y_true, latent.y_true)
    test = pair_data_for(BTLRewardRegressor(), n_pairs=400, random_state=2)
    model = BTLRewardRegressor(**{**SMALL_NET, "max_epochs": 15})
    plain = clone(model).fit(latent.X, y_noisy)
    weighted = clone(model).fit(
        latent.X, y_noisy, sample_weight=np.where(flipped, 1e-3, 1.0)
    )
    plain_accuracy = plain.score(test.X, test.y_true)
    assert weighted.score(test.X, test.y_true) > plain_accuracy + 0.05


def test_sample_weight_passes_through_a_pipeline(latent):
    weight = np.random.RandomState(0).uniform(0.5, 2, size=len(latent.y))
    pipe = Pipeline(
        [("scale", StandardScaler()), ("model", BTLRewardRegressor(**QUICK))]
    )
    pipe.fit(latent.X, latent.y, model__sample_weight=weight)
    direct = BTLRewardRegressor(**QUICK).fit(
        StandardScaler().fit_transform(latent.X), latent.y, sample_weight=weight
    )
    assert_array_equal(
        pipe.predict_proba(latent.X),
        direct.predict_proba(StandardScaler().fit(latent.X).transform(latent.X)),
    )


def test_sample_weight_is_routed_with_metadata_routing(latent):
    weight = np.random.RandomState(0).uniform(0.5, 2, size=len(latent.y))
    with config_context(enable_metadata_routing=True):
        model = (
            BTLRewardRegressor(**QUICK)
            .set_fit_request(sample_weight=True)
            .set_score_request(sample_weight=True)
        )
        pipe = Pipeline(
            [
                ("scale", StandardScaler().set_fit_request(sample_weight=False)),
                ("model", model),
            ]
        ).fit(latent.X, latent.y, sample_weight=weight)
        scores = cross_val_score(
            clone(model), latent.X, latent.y, cv=2, params={"sample_weight": weight}
        )
    by_hand = BTLRewardRegressor(**QUICK).fit(
        StandardScaler().fit_transform(latent.X), latent.y, sample_weight=weight
    )
    assert_array_equal(
        pipe[-1].predict_proba(pipe[0].transform(latent.X)),
        by_hand.predict_proba(StandardScaler().fit(latent.X).transform(latent.X)),
    )
    assert scores.shape == (2,) and np.all((scores > 0.5) & (scores <= 1))


# -- soft labels and ties -----------------------------------------------------------


def test_labels_as_floats_give_the_model_of_integer_labels(latent):
    model = BTLRewardRegressor(**QUICK)
    as_int = clone(model).fit(latent.X, latent.y)
    as_float = clone(model).fit(latent.X, latent.y.astype(float))
    assert_array_equal(as_int.predict_proba(latent.X), as_float.predict_proba(latent.X))


def test_soft_labels_give_softer_probabilities_than_hard_ones(latent):
    # BCE on a target of 0.8 is smallest at P = 0.8, not at 1: the model trained on
    # soft labels is less confident than the one trained on the same hard labels
    model = BTLRewardRegressor(**{**SMALL_NET, "max_epochs": 20})
    hard = clone(model).fit(latent.X, latent.y_true)
    soft = clone(model).fit(latent.X, np.where(latent.y_true == 1, 0.8, 0.2))

    def confidence(m):
        return np.abs(m.predict_proba(latent.X)[:, 1] - 0.5).mean()

    assert confidence(soft) < confidence(hard) - 0.05
    assert soft.score(latent.X, latent.y_true) > 0.8


def test_ties_train_towards_equal_rewards(latent):
    y = latent.y.astype(float)
    tie = np.arange(len(y)) % 2 == 0
    y[tie] = 0.5
    model = BTLRewardRegressor(**{**SMALL_NET, "max_epochs": 20}).fit(latent.X, y)
    proba = model.predict_proba(latent.X)[:, 1]
    # pairs labelled as ties sit closer to 1/2 than pairs with a winner
    assert np.abs(proba[tie] - 0.5).mean() < np.abs(proba[~tie] - 0.5).mean()


def test_validation_accuracy_is_the_score_on_soft_validation_labels(latent):
    y_val = np.where(latent.y[:100] == 1, 0.7, 0.4)
    model = BTLRewardRegressor(**QUICK).fit(
        latent.X[100:], latent.y[100:], X_val=latent.X[:100], y_val=y_val
    )
    kept = model.history_.loc[model.best_epoch_ - 1, "valid_acc"]
    assert kept == pytest.approx(model.score(latent.X[:100], y_val))
    assert kept == model.history_["valid_acc"].max()


def test_score_is_the_expected_agreement_with_a_random_annotator(latent):
    model = BTLRewardRegressor(**QUICK).fit(latent.X, latent.y)
    predicted = model.predict(latent.X)
    soft = np.random.RandomState(0).uniform(size=len(predicted))
    weight = np.random.RandomState(1).uniform(size=len(predicted))
    expected = np.average(np.where(predicted == 1, soft, 1 - soft), weights=weight)
    assert model.score(latent.X, soft, sample_weight=weight) == pytest.approx(expected)
    # hard labels: accuracy; ties: exactly 1/2 whatever is predicted
    assert model.score(latent.X, latent.y) == np.mean(predicted == latent.y)
    assert model.score(latent.X, np.full(len(predicted), 0.5)) == 0.5


@pytest.mark.parametrize(
    "y, y_pred, weight, expected",
    [
        ([1, 0, 1], [1, 0, 0], None, 2 / 3),
        ([0.5, 0.5], [1, 0], None, 0.5),
        ([0.9, 0.2], [1, 1], [1.0, 3.0], (0.9 + 3 * 0.2) / 4),
    ],
)
def test_agreement_score_of_predicted_labels_by_hand(y, y_pred, weight, expected):
    # what score() computes: the agreement of predicted labels 0/1
    score = pairwise_accuracy_score(y, np.array(y_pred, float), sample_weight=weight)
    assert score == pytest.approx(expected)
