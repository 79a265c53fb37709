import numpy as np
import pytest
import sklearn
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate

from skpref.causal import disagreement_quadrant_mass
from skpref.model_selection import (
    LatentCorrelationSplitter,
    ObjectiveConfoundingSplitter,
    RhoStratifiedSplitter,
)
from tests.model_selection.split_data import confounded, corr, gaussian_delta

# ---------------------------------------------------------------- latent mode


@given(
    rho=st.floats(-0.7, 0.7),
    n=st.integers(300, 1200),
    train_share=st.floats(0.1, 0.4),
    seed=st.integers(0, 2**16),
)
def test_latent_ood_reaches_rho_and_is_disjoint(rho, n, train_share, seed):
    delta = gaussian_delta(n, seed=seed)
    cv = RhoStratifiedSplitter(
        rho=rho, n_splits=2, train_size=train_share, random_state=seed
    )
    n_train = int(np.floor(train_share * n))
    for train, test in cv.split(np.zeros((n, 2)), delta=delta):
        assert train.size == n_train and np.unique(train).size == n_train
        assert np.intersect1d(train, test).size == 0
        assert train.min() >= 0 and max(train.max(), test.max()) < n
        assert abs(corr(delta, train) - rho) <= cv.tol
        # OOD = every remaining disagreement-quadrant pair, and nothing else
        rest = np.setdiff1d(np.arange(n), train)
        eligible = rest[delta[rest, 0] * delta[rest, 1] < 0]
        np.testing.assert_array_equal(test, eligible)
    info = cv.split_info(np.zeros((n, 2)), delta=delta)
    np.testing.assert_allclose(info["rho_train"], rho, atol=cv.tol)


@given(rho=st.floats(-0.6, 0.8), seed=st.integers(0, 2**16))
def test_latent_in_distribution_test_has_same_rho(rho, seed):
    delta = gaussian_delta(1500, rho=0.3, seed=seed)
    cv = RhoStratifiedSplitter(
        rho=rho,
        n_splits=1,
        train_size=300,
        test_size=200,
        test="in_distribution",
        random_state=seed,
    )
    train, test = next(cv.split(delta, delta=delta))
    assert test.size == 200 and np.intersect1d(train, test).size == 0
    assert abs(corr(delta, train) - rho) <= 0.02
    assert abs(corr(delta, test) - rho) <= 0.02
    info = cv.split_info(delta, delta=delta)
    assert info.loc[0, "rho_test"] == pytest.approx(corr(delta, test))


def test_latent_rho_zero_training_keeps_gaussian_disagreement_mass():
    # tilting towards rho = 0 on rho = 0 data keeps the quadrant mass of D.1
    delta = gaussian_delta(20000, rho=0.6, seed=1)
    cv = RhoStratifiedSplitter(rho=0.0, n_splits=1, train_size=4000, random_state=0)
    train, _ = next(cv.split(delta, delta=delta))
    share = np.mean(delta[train, 0] * delta[train, 1] < 0)
    assert share == pytest.approx(disagreement_quadrant_mass(0.0), abs=0.03)


def test_factors_selects_columns_of_delta():
    rng = np.random.default_rng(0)
    delta = np.column_stack([rng.normal(size=(800, 1)), gaussian_delta(800, 0.0)])
    cv = RhoStratifiedSplitter(
        rho=0.5, n_splits=1, train_size=200, factors=(1, 2), random_state=0
    )
    train, test = next(cv.split(delta, delta=delta))
    assert np.corrcoef(delta[train, 1], delta[train, 2])[0, 1] == pytest.approx(
        0.5, abs=0.02
    )
    assert np.all(delta[test, 1] * delta[test, 2] < 0)


def test_reproducible_and_repeated():
    delta = gaussian_delta(600)
    cv = RhoStratifiedSplitter(rho=0.3, n_splits=3, train_size=150, random_state=7)
    first = list(cv.split(delta, delta=delta))
    second = list(cv.split(delta, delta=delta))
    assert len(first) == cv.get_n_splits() == 3
    for (a_train, a_test), (b_train, b_test) in zip(first, second, strict=True):
        np.testing.assert_array_equal(a_train, b_train)
        np.testing.assert_array_equal(a_test, b_test)
    # repetitions differ from each other
    assert not np.array_equal(first[0][0], first[1][0])
    other = next(
        RhoStratifiedSplitter(
            rho=0.3, n_splits=1, train_size=150, random_state=8
        ).split(delta, delta=delta)
    )
    assert not np.array_equal(first[0][0], other[0])


def test_training_sets_do_not_depend_on_the_test_choice():
    delta = gaussian_delta(1000)
    kwargs = dict(rho=0.5, n_splits=3, train_size=200, test_size=100, random_state=3)
    ood = RhoStratifiedSplitter(test="out_of_distribution", **kwargs)
    iid = RhoStratifiedSplitter(test="in_distribution", **kwargs)
    for (a, _), (b, _) in zip(
        ood.split(delta, delta=delta), iid.split(delta, delta=delta), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def test_split_info_reports_every_split():
    delta = gaussian_delta(800)
    cv = RhoStratifiedSplitter(rho=-0.4, n_splits=4, train_size=200, random_state=0)
    splits = list(cv.split(delta, delta=delta))
    info = cv.split_info(delta, delta=delta)
    assert list(info.index) == [0, 1, 2, 3]
    assert list(info.columns) == ["n_train", "n_test", "rho_train", "rho_test", "test"]
    for i, (train, test) in enumerate(splits):
        assert info.loc[i, "n_test"] == test.size
        assert info.loc[i, "rho_train"] == pytest.approx(corr(delta, train))
        assert info.loc[i, "rho_test"] == pytest.approx(corr(delta, test))
        assert info.loc[i, "rho_test"] < -0.5  # the disagreement quadrants


# ----------------------------------------------------------- confounding mode


@given(
    rho=st.floats(0.0, 1.0),
    n=st.integers(200, 800),
    train_share=st.floats(0.05, 0.3),
    seed=st.integers(0, 2**16),
)
def test_confounding_train_has_rho_and_equal_objectives(rho, n, train_share, seed):
    X, prompt_type, objective = confounded(n, seed=seed)
    n_train = int(np.floor(train_share * n))
    per_objective = n_train // 2
    kwargs = dict(
        mode="confounding",
        rho=rho,
        n_splits=2,
        train_size=train_share,
        random_state=seed,
    )
    consistent_cv = RhoStratifiedSplitter(test="consistent", **kwargs)
    inconsistent_cv = RhoStratifiedSplitter(test="inconsistent", **kwargs)
    # the closest share of consistent pairs the training set can hold
    closest = np.floor(rho * 2 * per_objective + 0.5) / (2 * per_objective)
    if abs(closest - rho) > 0.02:  # the default tol
        with pytest.raises(ValueError, match=r"moves in steps of 1/\d+, and the"):
            next(consistent_cv.split(X, prompt_type=prompt_type))
        return
    pairs = zip(
        consistent_cv.split(X, prompt_type=prompt_type),
        inconsistent_cv.split(X, prompt_type=prompt_type),
        strict=True,
    )
    for (train, test_c), (train_i, test_i) in pairs:
        np.testing.assert_array_equal(train, train_i)
        assert (
            np.bincount(objective[train], minlength=2).tolist() == [per_objective] * 2
        )
        achieved = np.mean(prompt_type[train] == objective[train])
        assert achieved == pytest.approx(closest)
        assert abs(achieved - rho) <= 1 / (4 * per_objective) + 1e-12
        # test sets: all remaining consistent / inconsistent pairs
        rest = np.setdiff1d(np.arange(n), train)
        same = prompt_type[rest] == objective[rest]
        np.testing.assert_array_equal(test_c, rest[same])
        np.testing.assert_array_equal(test_i, rest[~same])
    for cv, share in ((consistent_cv, 1.0), (inconsistent_cv, 0.0)):
        info = cv.split_info(X, prompt_type=prompt_type)
        assert info["rho_test"].eq(share).all()


def test_confounding_out_of_distribution_means_inconsistent():
    X, prompt_type, _ = confounded(400)
    kwargs = dict(mode="confounding", rho=0.9, train_size=100, random_state=0)
    a = list(
        RhoStratifiedSplitter(test="inconsistent", **kwargs).split(
            X, prompt_type=prompt_type
        )
    )
    b = list(
        RhoStratifiedSplitter(test="out_of_distribution", **kwargs).split(
            X, prompt_type=prompt_type
        )
    )
    for (ta, sa), (tb, sb) in zip(a, b, strict=True):
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(sa, sb)


def test_confounding_in_distribution_test():
    X, prompt_type, objective = confounded(2000, seed=4)
    cv = RhoStratifiedSplitter(
        mode="confounding",
        rho=0.8,
        n_splits=2,
        train_size=400,
        test="in_distribution",
        random_state=0,
    )
    for train, test in cv.split(X, prompt_type=prompt_type):
        assert np.intersect1d(train, test).size == 0
        counts = np.bincount(objective[test])
        assert counts[0] == counts[1]
        expected = np.floor(0.8 * test.size + 0.5) / test.size  # the closest share
        assert np.mean(prompt_type[test] == objective[test]) == pytest.approx(expected)
    # test_size=None takes the largest such set: one more per objective fails
    largest = cv.split_info(X, prompt_type=prompt_type).loc[0, "n_test"]
    too_many = RhoStratifiedSplitter(
        mode="confounding",
        rho=0.8,
        n_splits=1,
        train_size=400,
        test="in_distribution",
        test_size=int(largest) + 10,
        random_state=0,
    )
    with pytest.raises(ValueError, match=f"at most {largest} can be drawn"):
        list(too_many.split(X, prompt_type=prompt_type))


# ------------------------------------------------------- scikit-learn plumbing


def test_works_as_cv_with_metadata_routing():
    delta = gaussian_delta(600, seed=2)
    X = np.hstack([delta, -delta])  # a pair array [a | b]
    y = (delta @ [0.25, 0.75] > 0).astype(int)
    cv = RhoStratifiedSplitter(rho=0.6, n_splits=2, train_size=200, random_state=0)
    expected = list(cv.split(X, y, delta=delta))
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(LogisticRegression(), {"C": [0.01, 1.0]}, cv=cv).fit(
            X, y, delta=delta
        )
        result = cross_validate(
            LogisticRegression(),
            X,
            y,
            cv=cv,
            params={"delta": delta},
            return_indices=True,
        )
    assert search.n_splits_ == 2
    for (train, test), got_train, got_test in zip(
        expected, result["indices"]["train"], result["indices"]["test"], strict=True
    ):
        np.testing.assert_array_equal(train, got_train)
        np.testing.assert_array_equal(test, got_test)
    info = cv.split_info(delta, delta=delta)
    assert (info["rho_train"] - 0.6).abs().max() <= cv.tol


def test_works_as_cv_with_groups_without_routing():
    X, prompt_type, objective = confounded(600, seed=5)
    y = (X[:, 0] > X[:, 2]).astype(int)
    cv = RhoStratifiedSplitter(
        mode="confounding", rho=1.0, n_splits=2, train_size=200, random_state=0
    )
    result = cross_validate(
        LogisticRegression(), X, y, cv=cv, groups=prompt_type, return_indices=True
    )
    for train, test in zip(
        result["indices"]["train"], result["indices"]["test"], strict=True
    ):
        assert np.all(prompt_type[train] == objective[train])
        assert np.all(prompt_type[test] != objective[test])


def test_repr_and_get_n_splits_accept_metadata():
    cv = RhoStratifiedSplitter(rho=0.3, n_splits=4)
    assert cv.get_n_splits(None, None, None, delta=np.zeros((3, 2))) == 4
    assert "rho=0.3" in repr(cv)


# ------------------------------------------------ one class per strategy


def test_rho_splitter_dispatches_to_the_strategy_of_its_mode():
    delta = gaussian_delta(800, seed=3)
    common = dict(n_splits=2, train_size=200, test_size=100, random_state=4)
    for test in ("out_of_distribution", "in_distribution"):
        rho_cv = RhoStratifiedSplitter(rho=0.4, test=test, factors=(1, 0), **common)
        latent = LatentCorrelationSplitter(rho=0.4, test=test, factors=(1, 0), **common)
        for (a, b), (c, d) in zip(
            rho_cv.split(delta, delta=delta),
            latent.split(delta, groups=delta),
            strict=True,
        ):
            np.testing.assert_array_equal(a, c)
            np.testing.assert_array_equal(b, d)
    X, prompt_type, _ = confounded(800, seed=2)
    for rho_test, test in (
        ("out_of_distribution", "inconsistent"),
        ("consistent", "consistent"),
        ("in_distribution", "in_distribution"),
    ):
        common = dict(rho=0.7, n_splits=2, train_size=200, random_state=5)
        rho_cv = RhoStratifiedSplitter(mode="confounding", test=rho_test, **common)
        confounding = ObjectiveConfoundingSplitter(test=test, **common)
        got = rho_cv.split_info(X, prompt_type=prompt_type)
        expected = confounding.split_info(X, prompt_type=prompt_type)
        assert got.drop(columns="test").equals(expected.drop(columns="test"))
        assert got["test"].eq(rho_test).all()


def test_each_splitter_requests_only_its_own_side_information():
    def requested(cv):
        request = cv.get_metadata_routing().consumes(
            "split", ["groups", "delta", "prompt_type", "objective"]
        )
        return set(request)

    assert requested(RhoStratifiedSplitter()) == {
        "groups",
        "delta",
        "prompt_type",
        "objective",
    }
    assert requested(LatentCorrelationSplitter()) == {"groups", "delta"}
    assert requested(ObjectiveConfoundingSplitter()) == {
        "groups",
        "prompt_type",
        "objective",
    }


@pytest.mark.parametrize(
    ("rho", "train_size", "achieved"),
    [(0.9, 30, 0.9), (0.75, 40, 0.75), (0.5, 10, 0.5), (1.0, 12, 1.0)],
)
def test_confounding_train_holds_rho_where_its_size_allows(rho, train_size, achieved):
    # the consistent pairs go over the objectives as evenly as they go: 27 of 30
    # at rho = 0.9 (14 + 13), where rounding per objective gave 28 (0.933)
    X, prompt_type, objective = confounded(400, seed=1)
    cv = RhoStratifiedSplitter(
        mode="confounding", rho=rho, n_splits=3, train_size=train_size, random_state=0
    )
    info = cv.split_info(X, prompt_type=prompt_type)
    assert info["rho_train"].tolist() == pytest.approx([achieved] * 3)
    for train, _ in cv.split(X, prompt_type=prompt_type):
        per_objective = np.bincount(objective[train])
        assert per_objective.tolist() == [train_size // 2] * 2
        same = prompt_type[train] == objective[train]
        by_objective = np.bincount(objective[train], weights=same)
        assert np.ptp(by_objective) <= 1


@pytest.mark.parametrize(
    ("params", "words"),
    [
        (
            {"rho": 0.75, "train_size": 10},
            r"cannot draw 10 training pairs with P\(t = c\)",
        ),
        ({"rho": 0.9, "train_size": 14}, r"the closest, 0\.929, is 0\.029 from rho"),
        (
            {"rho": 0.8, "train_size": 40, "test": "in_distribution", "test_size": 13},
            "cannot draw 12 in-distribution test pairs",
        ),
    ],
)
def test_confounding_rho_out_of_reach_of_the_size_is_an_error(params, words):
    X, prompt_type, _ = confounded(400, seed=1)
    cv = RhoStratifiedSplitter(mode="confounding", random_state=0, **params)
    with pytest.raises(ValueError, match=words):
        next(cv.split(X, prompt_type=prompt_type))
    loose = RhoStratifiedSplitter(mode="confounding", random_state=0, tol=0.1, **params)
    next(loose.split(X, prompt_type=prompt_type))  # within the looser tolerance
