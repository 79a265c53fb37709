import numpy as np
import pytest
import sklearn
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.utils._param_validation import InvalidParameterError

from skpref.causal import disagreement_quadrant_mass
from skpref.model_selection import RhoStratifiedSplitter


def gaussian_delta(n, rho=0.0, seed=0):
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)


def confounded(n, seed=0, p_consistent=0.5):
    """Balanced objectives; prompt type equals the objective with p_consistent."""
    rng = np.random.default_rng(seed)
    objective = rng.integers(0, 2, n)
    same = rng.random(n) < p_consistent
    prompt_type = np.where(same, objective, 1 - objective)
    X = np.column_stack([rng.normal(size=(n, 4)), objective])
    return X, prompt_type, objective


def corr(delta, idx):
    return np.corrcoef(delta[idx, 0], delta[idx, 1])[0, 1]


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
        expected = round(rho * per_objective) / per_objective
        assert np.mean(prompt_type[train] == objective[train]) == pytest.approx(
            expected
        )
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
        expected = round(0.8 * counts[0]) / counts[0]
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


# -------------------------------------------------------------- error paths


def test_error_rho_unreachable_names_the_maximum():
    delta = gaussian_delta(400)
    cv = RhoStratifiedSplitter(rho=0.99, train_size=300, random_state=0)
    with pytest.raises(ValueError, match=r"the highest it can reach is 0\.\d+"):
        list(cv.split(delta, delta=delta))
    cv = RhoStratifiedSplitter(rho=-0.99, train_size=300, random_state=0)
    with pytest.raises(ValueError, match=r"the lowest it can reach is -0\.\d+"):
        list(cv.split(delta, delta=delta))


def test_error_confounding_size_names_the_maximum():
    X, prompt_type, objective = confounded(400, seed=0)
    n_consistent = np.bincount(objective[prompt_type == objective], minlength=2)
    max_train = 2 * int(n_consistent.min())  # rho = 1 needs only consistent pairs
    cv = RhoStratifiedSplitter(
        mode="confounding", rho=1.0, train_size=max_train + 2, random_state=0
    )
    with pytest.raises(ValueError, match=f"allow at most {max_train} training pairs"):
        list(cv.split(X, prompt_type=prompt_type))
    # at the maximum it works
    ok = RhoStratifiedSplitter(
        mode="confounding", rho=1.0, train_size=max_train, random_state=0
    )
    train, _ = next(ok.split(X, prompt_type=prompt_type))
    assert train.size == max_train
    per = max_train // 2 + 1
    rho_max = n_consistent.min() / per
    with pytest.raises(ValueError, match=rf"rho must lie in \[0\.\d+, {rho_max:.3f}\]"):
        list(cv.split(X, prompt_type=prompt_type))


def test_error_confounding_rho_needs_one_type():
    X, _, objective = confounded(300)
    cv = RhoStratifiedSplitter(mode="confounding", rho=0.5, train_size=40)
    with pytest.raises(ValueError, match=r"at most 0 training pairs"):
        list(cv.split(X, prompt_type=objective))  # never inconsistent


@pytest.mark.parametrize(
    "kwargs, meta, match",
    [
        ({}, {}, r"needs the delta of each pair: call split\(X, y, delta=delta\)"),
        ({"mode": "confounding"}, {}, "needs the prompt_type of each pair"),
        ({}, {"delta": np.zeros((5, 2))}, "delta has 5 rows but X has 50"),
        (
            {},
            {"delta": np.zeros((50, 2)), "groups": np.zeros((50, 2))},
            "got both groups and delta",
        ),
        (
            {"factors": (0, 0)},
            {"delta": np.zeros((50, 2))},
            r"two different columns of delta \(0\.\.1\)",
        ),
        ({"factors": (0, 2)}, {"delta": np.zeros((50, 2))}, "got factors=\\(0, 2\\)"),
        (
            {"test": "consistent"},
            {"delta": np.zeros((50, 2))},
            "Consistent and inconsistent test sets exist in confounding mode only",
        ),
        (
            {"mode": "confounding", "rho": -0.2},
            {"prompt_type": np.zeros(50)},
            r"a probability in \[0, 1\]; got rho=-0.2",
        ),
        (
            {"train_size": 80},
            {"delta": np.zeros((50, 2))},
            "train_size=80 asks for 80 pairs but X has only 50",
        ),
        (
            {"train_size": 2},
            {"delta": np.ones((50, 2))},
            "needs at least 3 training pairs",
        ),
        (
            {"mode": "confounding"},
            {"prompt_type": np.full(50, 0.5)},
            "integer prompt types in the objective coding 0..K-1; got the value 0.5",
        ),
        (
            {"mode": "confounding"},
            {"prompt_type": np.zeros((50, 2))},
            r"prompt_type of shape \(n_pairs,\); got shape \(50, 2\)",
        ),
        (
            {"mode": "confounding", "train_size": 1},
            {"prompt_type": np.zeros(50)},
            "at least one training pair per objective",
        ),
    ],
)
def test_error_messages(kwargs, meta, match):
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=(50, 4)), rng.integers(0, 2, 50)])
    cv = RhoStratifiedSplitter(**kwargs)
    with pytest.raises(ValueError, match=match):
        list(cv.split(X, **meta))


def test_error_confounding_needs_objective_column():
    cv = RhoStratifiedSplitter(mode="confounding")
    with pytest.raises(ValueError, match="got the non-integer value"):
        list(cv.split(np.full((10, 5), 0.5), prompt_type=np.zeros(10)))


def test_error_invalid_parameters():
    delta = gaussian_delta(50)
    for bad, match in [
        ({"rho": 1.5}, "The 'rho' parameter of RhoStratifiedSplitter"),
        ({"mode": "other"}, "The 'mode' parameter"),
        ({"n_splits": 0}, "The 'n_splits' parameter"),
        ({"train_size": 1.0}, "The 'train_size' parameter"),
    ]:
        with pytest.raises(InvalidParameterError, match=match):
            list(RhoStratifiedSplitter(**bad).split(delta, delta=delta))


def test_error_test_size_beyond_eligible_pairs():
    delta = gaussian_delta(400, rho=0.0)
    cv = RhoStratifiedSplitter(rho=0.0, train_size=100, test_size=300, random_state=0)
    with pytest.raises(ValueError, match=r"only \d+ disagreement-quadrant pairs left"):
        list(cv.split(delta, delta=delta))
    cv = RhoStratifiedSplitter(
        rho=0.0, train_size=380, test_size=30, test="in_distribution", random_state=0
    )
    with pytest.raises(ValueError, match="20 pairs left after training"):
        list(cv.split(delta, delta=delta))


def test_error_tolerance_names_the_closest():
    # discrete deltas: the correlation can only move in steps
    delta = np.array([[1, 1], [-1, -1], [1, -1], [2, 1], [-1, 2], [0, 1]] * 2, float)
    cv = RhoStratifiedSplitter(rho=0.3, train_size=5, tol=0.0, random_state=0)
    with pytest.raises(ValueError, match="the closest it reached is"):
        list(cv.split(delta, delta=delta))
