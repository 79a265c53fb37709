"""CovariateShiftSplitter: the label follows a covariate in training, not in test."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import GridSearchCV

from skpref import BTLRewardRegressor
from skpref.datasets import make_latent_preferences
from skpref.model_selection import CovariateShiftSplitter

TESTS = ["reversed", "balanced", "against", "natural"]


def aligned(y, difference):
    return (difference > 0) == (y > 0.5)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(60, 400),
    rho=st.sampled_from([-1.0, -0.5, 0.0, 0.3, 0.6, 1.0]),
    test=st.sampled_from(TESTS),
    seed=st.integers(0, 2**31 - 1),
)
def test_training_and_test_pairs_have_the_shares_asked_for(n, rho, test, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(float)
    y[rng.random(n) < 0.05] = 0.5  # ties say nothing about the shift
    difference = np.round(rng.normal(size=n), 1)  # some exact zeros
    cv = CovariateShiftSplitter(
        rho=rho, n_splits=2, train_size=n // 4, test=test, random_state=seed
    )
    try:
        splits = list(cv.split(np.zeros((n, 1)), y, covariates=difference))
    except ValueError as error:  # too few pairs of one kind at this rho
        assert "pairs (preferred response with" in str(error)
        return
    informative = (difference != 0) & (y != 0.5)
    for train, test_rows in splits:
        assert len(train) == n // 4 and not set(train) & set(test_rows)
        assert informative[train].all() and informative[test_rows].all()
        assert aligned(y, difference)[train].sum() == round((1 + rho) / 2 * len(train))
        share = aligned(y, difference)[test_rows].mean()
        expected = {"reversed": (1 - rho) / 2, "balanced": 0.5, "against": 0.0}
        if test in expected:
            assert abs(share - expected[test]) <= 0.5 / len(test_rows) + 1e-12
        else:  # every informative pair left
            left = np.setdiff1d(np.flatnonzero(informative), train)
            np.testing.assert_array_equal(test_rows, left)


def test_the_training_pairs_do_not_depend_on_the_test_asked_for():
    rng = np.random.default_rng(0)
    y, difference = rng.integers(0, 2, 500), rng.normal(size=500)
    trains = [
        [
            train
            for train, _ in CovariateShiftSplitter(
                rho=0.8, n_splits=3, train_size=100, test=test, random_state=1
            ).split(y[:, None], y, covariates=difference)
        ]  # fmt: skip
        for test in TESTS
    ]
    for other in trains[1:]:
        for a, b in zip(trains[0], other, strict=True):
            np.testing.assert_array_equal(a, b)


def test_a_table_of_pair_covariates_is_read_by_name():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    Z = pd.DataFrame(
        {"n_words_a": rng.integers(1, 50, 300), "n_characters_a": rng.normal(size=300),
         "n_words_b": rng.integers(1, 50, 300), "n_characters_b": rng.normal(size=300)}
    )  # fmt: skip
    by_name = CovariateShiftSplitter(n_splits=1, train_size=60, column="n_words",
                                     random_state=0)  # fmt: skip
    by_position = CovariateShiftSplitter(n_splits=1, train_size=60, random_state=0)
    difference = (Z["n_words_a"] - Z["n_words_b"]).to_numpy()
    for (a, b), (c, d) in zip(
        by_name.split(Z, y, covariates=Z),
        by_position.split(Z, y, covariates=difference),
        strict=True,
    ):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_grid_search_routes_the_covariates_to_the_splitter():
    data = make_latent_preferences(600, n_features=4, random_state=0)
    covariate = data.delta[:, 0] + 0.1  # a covariate the label partly follows
    model = BTLRewardRegressor(hidden_dim=8, latent_dim=4, max_epochs=2, device="cpu",
                               random_state=0)  # fmt: skip
    cv = CovariateShiftSplitter(rho=0.8, n_splits=2, train_size=150, test="against",
                                random_state=0)  # fmt: skip
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(model, {"lr": [1e-2, 1e-3]}, cv=cv, refit=False)
        search.fit(data.X, data.y, covariates=covariate)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    for _, test in cv.split(data.X, data.y, covariates=covariate):
        assert not aligned(data.y, covariate)[test].any()


def test_the_covariate_of_both_responses_is_not_taken_for_two_differences():
    # [length_a | length_b], as a reward model takes it: read as two differences,
    # all of column 0 would be positive and the splits would follow the label
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    lengths = rng.integers(10, 500, (400, 2)).astype(float)
    cv = CovariateShiftSplitter(rho=0.6, n_splits=1, train_size=100, random_state=0)
    with pytest.raises(ValueError, match="'<name>_a' and '<name>_b'"):
        cv.split_info(y[:, None], y, covariates=lengths)
    # named, the same values are the covariate of a and of b, as for the models
    table = pd.DataFrame(lengths, columns=["length_a", "length_b"])
    train, _ = next(cv.split(y[:, None], y, covariates=table))
    aligned_share = aligned(y, lengths[:, 0] - lengths[:, 1])[train].mean()
    assert aligned_share == pytest.approx(0.8)
    # two named differences are several covariates, picked by column
    differences = pd.DataFrame({"x": lengths[:, 0] - lengths[:, 1], "w": -y + 0.5})
    by_name = CovariateShiftSplitter(rho=0.6, n_splits=1, train_size=100,
                                     column="x", random_state=0)  # fmt: skip
    train_x, _ = next(by_name.split(y[:, None], y, covariates=differences))
    np.testing.assert_array_equal(train_x, train)


NOISE = np.random.default_rng(0).normal(size=100)


@pytest.mark.parametrize(
    ("kwargs", "covariates", "match"),
    [
        ({}, None, "needs each pair's covariate difference"),
        ({}, np.ones(5), "covariates has 5 rows but X has 100"),
        ({"column": 3}, np.ones((100, 3)), "column=3 is out of range"),
        ({}, np.ones((100, 2)), "array of two unnamed columns"),
        ({"column": "x"}, NOISE, "names a column, but"),
        ({"rho": 1.0, "train_size": 90}, NOISE, "needs 90 aligned pairs"),
        ({"rho": 2.0}, NOISE, "'rho' parameter of CovariateShiftSplitter"),
    ],
)
def test_bad_input_is_named(kwargs, covariates, match):
    y = np.random.default_rng(1).integers(0, 2, 100)
    cv = CovariateShiftSplitter(**kwargs)
    with pytest.raises(ValueError, match=match):
        list(cv.split(np.zeros((100, 1)), y, covariates=covariates))
