"""Scores under covariate shift, and the search that selects by them."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skpref import BTLRewardRegressor
from skpref.datasets import make_latent_preferences
from skpref.evaluation._stats import length_controlled_accuracy
from skpref.metrics import (
    against_covariate_accuracy,
    covariate_controlled_accuracy,
    make_covariate_scorers,
    pairwise_accuracy_score,
    reward_covariate_correlation,
)
from skpref.model_selection import CovariateShiftSplitter


@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 1.0]),
            st.floats(0.01, 0.99),
            st.sampled_from([-2.0, -1.0, 0.0, 1.0, 3.0]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_the_accuracy_is_that_of_the_misleading_pairs(rows):
    y, p, z = (np.array(column) for column in zip(*rows, strict=True))
    against = (z != 0) & ((z > 0) != (y > 0.5))
    got = against_covariate_accuracy(y, p, covariates=z)
    if not against.any():
        assert np.isnan(got)
    else:
        assert got == pairwise_accuracy_score(y[against], p[against])


@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),
            st.floats(0.01, 0.99),
            st.sampled_from([-2.0, 0.0, 3.0]),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_a_soft_label_counts_as_its_annotators(rows):
    # a pair labelled k / 4 scores as four copies, k labelled 1 and 4 - k 0
    k, p, z = (np.array(column) for column in zip(*rows, strict=True))
    y_hard = np.concatenate([np.r_[np.ones(ki), np.zeros(4 - ki)] for ki in k])
    soft = against_covariate_accuracy(k / 4, p, covariates=z)
    hard = against_covariate_accuracy(
        y_hard, np.repeat(p, 4), covariates=np.repeat(z, 4)
    )
    if np.isnan(hard):
        assert np.isnan(soft)
    else:
        assert soft == pytest.approx(hard, rel=1e-12)


def test_a_pair_table_and_two_column_scores_are_read():
    y, p = np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.2, 0.3])
    table = pd.DataFrame({"n_words_a": [9, 4, 1, 1], "n_words_b": [4, 1, 3, 5]})
    by_table = against_covariate_accuracy(y, np.c_[1 - p, p], covariates=table)
    assert by_table == against_covariate_accuracy(y, p, covariates=[5, 3, -2, -4])
    assert reward_covariate_correlation(None, p, covariates=table) > 0.5


def test_the_correlation_follows_the_reward_difference():
    z = np.linspace(-3, 3, 50)
    follows = 1 / (1 + np.exp(-2 * z))
    assert reward_covariate_correlation(None, follows, covariates=z) > 0.99
    assert reward_covariate_correlation(None, 1 - follows, covariates=z) < -0.99
    assert np.isnan(reward_covariate_correlation(None, np.full(50, 0.5), covariates=z))


@pytest.mark.parametrize(
    ("covariates", "match"),
    [
        (np.ones(3), "one covariate difference per pair, 4 of them"),
        (np.ones((4, 2)), r"shape \(4, 2\)\. If its columns are the covariate of"),
        ([1.0, np.nan, 2.0, 3.0], "NaN or infinite"),
        (
            pd.DataFrame(
                {"x_a": [1] * 4, "y_a": [1] * 4, "x_b": [0] * 4, "y_b": [0] * 4}
            ),
            "scores one covariate; got 2",
        ),  # fmt: skip
    ],
)
def test_bad_covariates_are_named(covariates, match):
    with pytest.raises(ValueError, match=match):
        against_covariate_accuracy([1, 0, 1, 0], [0.5] * 4, covariates=covariates)


@pytest.mark.parametrize(
    "score", [against_covariate_accuracy, reward_covariate_correlation]
)
def test_scores_that_are_not_probabilities_are_refused(score):
    # reward differences (decision_function) or a three-column output
    with pytest.raises(ValueError, match="expects probabilities P\\(a > b\\)"):
        score([1, 0, 1, 0], [2.0, -1.0, 0.5, 3.0], covariates=[5, 3, -2, -4])
    with pytest.raises(ValueError, match="expects y_score of shape"):
        score([1, 0, 1, 0], np.full((4, 3), 0.3), covariates=[5, 3, -2, -4])


def test_a_search_under_covariate_shift_selects_by_these_scores():
    data = make_latent_preferences(800, n_features=4, random_state=0)
    covariate = data.delta[:, 0]  # the label partly follows it
    model = BTLRewardRegressor(hidden_dim=8, latent_dim=4, max_epochs=3, lr=1e-2,
                               device="cpu", random_state=0)  # fmt: skip
    cv = CovariateShiftSplitter(rho=0.8, n_splits=2, train_size=200,
                                test="balanced", random_state=0)  # fmt: skip
    with sklearn.config_context(enable_metadata_routing=True):
        scoring = {"accuracy": "accuracy", **make_covariate_scorers()}
        search = GridSearchCV(model, {"lr": [1e-2, 1e-3]}, cv=cv, scoring=scoring,
                              refit="against_covariate_accuracy")  # fmt: skip
        search.fit(data.X, data.y, covariates=covariate)
    results = search.cv_results_
    for name in scoring:
        assert np.isfinite(results[f"mean_test_{name}"]).all()
    assert (results["mean_test_neg_abs_reward_covariate_correlation"] <= 0).all()
    best = np.argmax(results["mean_test_against_covariate_accuracy"])
    assert search.best_index_ == best


# covariate_controlled_accuracy: accuracy with the covariate held fixed


def _lengths(a, b):
    return pd.DataFrame({"n_words_a": a, "n_words_b": b})


def test_a_covariate_detector_loses_its_lead_and_a_good_model_keeps_it():
    # 100 pairs, the preferred response longer in 80: "longer is better" looks
    # right 80 % of the time; a model right on 80 % of the pairs at every
    # length difference does too
    rng = np.random.default_rng(0)
    n = 100
    preferred = rng.integers(20, 200, n)
    other = np.where(np.arange(n) < 80, preferred // 3, preferred * 3)
    a_preferred = rng.random(n) < 0.5
    y = a_preferred.astype(float)
    table = _lengths(
        np.where(a_preferred, preferred, other), np.where(a_preferred, other, preferred)
    )
    ruler = np.where(table["n_words_a"] > table["n_words_b"], 0.9, 0.1)
    right = np.r_[np.arange(80) % 5 != 0, np.arange(20) % 5 != 0]  # 80 % each
    good = np.where(right == a_preferred, 0.8, 0.2)
    assert pairwise_accuracy_score(y, ruler) == 0.8
    assert pairwise_accuracy_score(y, good) == 0.8
    assert covariate_controlled_accuracy(y, ruler, covariates=table) == 0.5
    assert covariate_controlled_accuracy(y, good, covariates=table) == 0.8

    # its scorer gives the same number from a model's predict_proba
    class Fixed(ClassifierMixin, BaseEstimator):
        classes_ = np.array([0, 1])

        def predict_proba(self, X):
            return np.c_[1 - ruler, ruler]

    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_covariate_scorers()["covariate_controlled_accuracy"]
        assert scorer(Fixed(), np.zeros((n, 2)), y, covariates=table) == 0.5


def test_it_is_the_evaluations_length_controlled_accuracy_to_the_last_digit():
    rng = np.random.default_rng(3)
    n = 400
    lc = rng.integers(0, 300, n)
    lr = rng.integers(0, 300, n)
    # relative differences on the strata's edges, from both sides
    lc[:8], lr[:8] = [100, 90, 100, 50, 0, 7, 1, 0], [90, 100, 50, 100, 0, 0, 0, 1]
    rc, rr = rng.normal(size=n), rng.normal(size=n) + 0.3 * (lr > lc)
    pairs = pd.DataFrame(
        {"length_chosen": lc, "length_rejected": lr, "rc": rc, "rr": rr}
    )
    expected, _ = length_controlled_accuracy(pairs)
    # the evaluation's computation before it moved here, written out
    relative = (lc - lr) / np.maximum(np.maximum(lc, lr), 1.0)
    strata = np.digitize(relative, [-0.5, -0.1, 0.1, 0.5], right=True)
    wins = rc > rr
    assert expected == np.mean([wins[strata == s].mean() for s in np.unique(strata)])
    assert len(np.unique(strata)) == 5
    # the same comparisons as pairs whose sides are shuffled
    a_chosen = rng.random(n) < 0.5
    table = _lengths(np.where(a_chosen, lc, lr), np.where(a_chosen, lr, lc))
    margin = np.where(a_chosen, rc - rr, rr - rc)
    p = 1 / (1 + np.exp(-margin))
    got = covariate_controlled_accuracy(a_chosen.astype(int), p, covariates=table)
    assert got == expected
    assert got != pairwise_accuracy_score(a_chosen.astype(int), p)


@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.25, 0.5, 1.0]),
            st.sampled_from([0.1, 0.3, 0.7, 0.95]),
            st.integers(0, 40),
            st.integers(0, 40),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_swapped_sides_and_soft_labels_as_annotators(rows):
    y, p, z_a, z_b = (np.array(column) for column in zip(*rows, strict=True))
    score = covariate_controlled_accuracy(y, p, covariates=_lengths(z_a, z_b))
    assert 0 <= score <= 1
    swapped = covariate_controlled_accuracy(1 - y, 1 - p, covariates=_lengths(z_b, z_a))
    assert swapped == pytest.approx(score)
    # a label y is four annotators, 4y of them preferring a
    votes = np.rint(4 * y).astype(int)
    hard = np.repeat([1, 0] * len(y), np.ravel(np.c_[votes, 4 - votes]))
    copies = np.repeat(np.arange(len(y)), 4)
    expanded = covariate_controlled_accuracy(
        hard, p[copies], covariates=_lengths(z_a[copies], z_b[copies])
    )
    assert expanded == pytest.approx(score)


def test_a_difference_is_cut_as_given():
    y, p = np.array([1, 1, 1, 1]), np.array([0.9, 0.9, 0.9, 0.1])
    # whole units: less, the same, more; the pair with less is the wrong one
    assert covariate_controlled_accuracy(y, p, covariates=[3, 0, 5, -2]) == 2 / 3
    assert covariate_controlled_accuracy(
        y, p, covariates=pd.DataFrame({"n_words": [3, 0, 5, -2]})
    ) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("covariates", "match"),
    [
        ([1.0, np.nan, 2.0, 3.0], "covariates holds NaN or infinite"),
        (_lengths([1, 2, np.nan, 4], [1, 2, 3, 4]), "covariates holds NaN or inf"),
        (np.ones(3), "one covariate difference per pair, 4 of them; got covariates "),
        (_lengths([1, 2, 3], [1, 2, 3]), "both responses of each pair, 4 pairs; got"),
        (
            pd.DataFrame(
                {"x_a": [1] * 4, "y_a": [1] * 4, "x_b": [0] * 4, "y_b": [0] * 4}
            ),  # fmt: skip
            r"scores one covariate; got 2 \(\['x_a'",
        ),
        (pd.DataFrame({"x_a": [1] * 4, "x": [0] * 4}), "laid out as"),
        (None, "'covariates' parameter of covariate_controlled_accuracy must be"),
    ],
)
def test_bad_covariates_of_the_controlled_accuracy_are_named(covariates, match):
    with pytest.raises(ValueError, match=match):
        covariate_controlled_accuracy([1, 0, 1, 0], [0.7] * 4, covariates=covariates)


def test_bad_labels_and_scores_of_the_controlled_accuracy_are_named():
    z = [1, 2, 3, 4]
    with pytest.raises(ValueError, match="y_score contains NaN"):
        covariate_controlled_accuracy([1, 0, 1, 0], [0.7, np.nan, 0.2, 0.1],
                                      covariates=z)  # fmt: skip
    with pytest.raises(ValueError, match="y_score of shape \\(n_pairs,\\)"):
        covariate_controlled_accuracy([1, 0, 1, 0], [0.7] * 3, covariates=z)
    with pytest.raises(ValueError, match="expects y_true in \\[0, 1\\]"):
        covariate_controlled_accuracy([2, 0, 1, 0], [0.7] * 4, covariates=z)
    with pytest.raises(ValueError, match="probabilities P\\(a > b\\) in \\[0, 1\\]"):
        covariate_controlled_accuracy([1, 0, 1, 0], [3.0] * 4, covariates=z)


def test_a_search_can_refit_on_the_controlled_accuracy_with_a_pair_table():
    data = make_latent_preferences(400, n_features=4, random_state=1)
    z = data.delta[:, 0]  # the label partly follows it
    table = pd.DataFrame({"size_a": 20 + 10 * np.maximum(z, 0),
                          "size_b": 20 + 10 * np.maximum(-z, 0)})  # fmt: skip
    model = BTLRewardRegressor(hidden_dim=8, latent_dim=4, max_epochs=3,
                               device="cpu", random_state=0)  # fmt: skip
    cv = StratifiedKFold(n_splits=2)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(model, {"lr": [1e-2, 1e-4]}, cv=cv,
                              scoring=make_covariate_scorers(),
                              refit="covariate_controlled_accuracy")  # fmt: skip
        search.fit(data.X, data.y, covariates=table)
    results = search.cv_results_
    scores = results["mean_test_covariate_controlled_accuracy"]
    assert search.best_index_ == np.argmax(scores)
    # a fold is scored on its own rows of the table
    train, test = next(cv.split(data.X, data.y))
    fold = clone(model).set_params(lr=1e-2).fit(data.X[train], data.y[train])
    expected = covariate_controlled_accuracy(
        data.y[test], fold.predict_proba(data.X[test]), covariates=table.iloc[test]
    )
    assert results["split0_test_covariate_controlled_accuracy"][0] == expected
