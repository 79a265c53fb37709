"""LinearConceptEraser: the LEACE guarantee, its optimality, pipelines, errors.

scikit-learn's common checks cannot pass the concept (fit metadata), so the
properties they would test are tested here with one: clone, pickle, dtypes,
pandas output, sample order and subsets, refits, read-only and bad input.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold, cross_validate
from sklearn.pipeline import Pipeline

from skpref.preprocessing import LinearConceptEraser
from skpref.preprocessing._leace import fit_leace


def pairs_with_length(n_pairs=400, d=6, seed=0):
    """Pairs whose features encode each response's length along a few directions."""
    rng = np.random.default_rng(seed)
    length = rng.gamma(2.0, 50.0, size=(n_pairs, 2))
    loading = rng.normal(size=d)
    E_a = rng.normal(size=(n_pairs, d)) + np.outer(length[:, 0] / 50, loading)
    E_b = rng.normal(size=(n_pairs, d)) + np.outer(length[:, 1] / 50, loading)
    return np.hstack([E_a, E_b]), length


def responses(X, d):
    return np.vstack([X[:, :d], X[:, d : 2 * d]])


def r_squared(features, target):
    """Training R^2 of the least-squares regression of target on features."""
    return LinearRegression().fit(features, target).score(features, target)


def test_no_linear_regressor_predicts_the_length_after_erasure():
    X, length = pairs_with_length()
    lengths = np.r_[length[:, 0], length[:, 1]]
    assert r_squared(responses(X, 6), lengths) > 0.5  # it was predictable
    erased = LinearConceptEraser().fit_transform(X, concept=length)
    assert r_squared(responses(erased, 6), lengths) < 1e-10
    # nor any transform of the length that is linear in it, e.g. in hours
    assert r_squared(responses(erased, 6), 3 * lengths - 7) < 1e-10


@given(
    n=st.integers(20, 120),
    d=st.integers(1, 12),
    k=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_guarantee_holds_for_any_features_and_concepts(n, d, k, seed):
    rng = np.random.default_rng(seed)
    concept = rng.normal(size=(n, k))
    X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + concept @ rng.normal(
        size=(k, d)
    )
    mean, components, directions = fit_leace(X, concept)
    erased = X - ((X - mean) @ components.T) @ directions.T
    cross = (erased - erased.mean(0)).T @ (concept - concept.mean(0)) / n
    scale = np.abs(X).max() * np.abs(concept).max()
    assert np.abs(cross).max() <= 1e-8 * max(scale, 1.0)
    assert components.shape[0] <= min(k, d)


def test_leace_moves_the_features_less_than_an_orthogonal_projection():
    # both erase the concept linearly; LEACE is the one that moves x least
    rng = np.random.default_rng(1)
    n, d = 2000, 5
    z = rng.normal(size=(n, 1))
    X = rng.normal(size=(n, d)) @ np.diag([3.0, 1.0, 0.5, 0.2, 0.1]) + z @ [
        [1.0, 1.0, 1.0, 1.0, 1.0]
    ]
    mean, components, directions = fit_leace(X, z)
    leace = X - ((X - mean) @ components.T) @ directions.T
    centred = X - mean
    cross = centred.T @ (z - z.mean()) / n
    unit = cross / np.linalg.norm(cross)
    orthogonal = X - centred @ unit @ unit.T
    for erased in (leace, orthogonal):  # both are erasers
        assert np.abs((erased - erased.mean(0)).T @ (z - z.mean())).max() < 1e-8 * n
    moved = [np.mean(np.sum((e - X) ** 2, axis=1)) for e in (leace, orthogonal)]
    assert moved[0] < 0.9 * moved[1]


def test_categorical_and_shared_concepts():
    rng = np.random.default_rng(2)
    n, d = 600, 4
    prompt_type = rng.choice(["chat", "code", "math"], n)
    shift = {"chat": 0.0, "code": 2.0, "math": -1.0}
    offset = np.array([shift[t] for t in prompt_type])[:, None]
    X = np.hstack([rng.normal(size=(n, d)) + offset, rng.normal(size=(n, d)) + offset])
    eraser = LinearConceptEraser().fit(X, concept=prompt_type)
    assert eraser.rank_ == 2  # three categories: two directions
    one_hot = pd.get_dummies(np.r_[prompt_type, prompt_type]).to_numpy(float)
    erased = responses(eraser.transform(X), d)
    for column in one_hot.T:
        assert r_squared(erased, column) < 1e-10
    # integer-coded categories are numbers unless told otherwise
    codes = pd.factorize(prompt_type)[0]
    assert LinearConceptEraser().fit(X, concept=codes).rank_ == 1
    as_categories = LinearConceptEraser(concept_type="categorical").fit(
        X, concept=codes
    )
    assert as_categories.rank_ == 2


@pytest.mark.parametrize(
    "as_given",
    [
        lambda length: length.astype(object),
        lambda length: pd.DataFrame(length, columns=["len_a", "len_b"]).astype(object),
        lambda length: pd.DataFrame(
            {"len_a": pd.array(length[:, 0]), "len_b": pd.array(length[:, 1])},
            dtype="Int64",
        ),
    ],
    ids=["object-array", "object-frame", "nullable-Int64"],
)
def test_numbers_of_any_dtype_are_one_continuous_concept(as_given):
    # an object column of lengths was one-hot encoded, one direction per length:
    # the eraser removed every feature instead of the length's one direction
    rng = np.random.default_rng(9)
    X = rng.normal(size=(300, 16))
    length = rng.integers(1, 100, size=(300, 2))
    expected = LinearConceptEraser().fit(X, concept=length)
    eraser = LinearConceptEraser().fit(X, concept=as_given(length))
    assert eraser.rank_ == expected.rank_ == 1
    np.testing.assert_allclose(eraser.transform(X), expected.transform(X))


def test_a_missing_number_is_named_as_such():
    X = np.eye(10, 4)
    concept = pd.array([*range(9), None], dtype="Int64")
    with pytest.raises(ValueError, match="concept 'concept' holds NaN"):
        LinearConceptEraser().fit(X, concept=concept)


def test_the_objective_column_is_the_concept_and_passes_through():
    rng = np.random.default_rng(3)
    n, d = 400, 3
    objective = rng.integers(0, 2, n)
    E = rng.normal(size=(n, 2 * d)) + 1.5 * objective[:, None]
    X = np.column_stack([E, objective])
    eraser = LinearConceptEraser(with_objective=True).fit(X)
    out = eraser.transform(X)
    np.testing.assert_array_equal(out[:, -1], objective)
    assert r_squared(responses(out, d), np.r_[objective, objective]) < 1e-10
    # a concept given explicitly replaces the objective
    length = rng.gamma(2.0, 10.0, size=(n, 2))
    other = LinearConceptEraser(with_objective=True).fit(X, concept=length)
    assert not np.allclose(other.transform(X), out)


def test_per_response_concepts_from_a_frame_with_names():
    X, length = pairs_with_length(seed=4)
    politeness = np.random.default_rng(4).integers(0, 3, size=(len(X), 2))
    frame = pd.DataFrame(
        np.column_stack(
            [length[:, 0], politeness[:, 0], length[:, 1], politeness[:, 1]]
        ),
        columns=["n_tokens_a", "polite_a", "n_tokens_b", "polite_b"],
    )
    eraser = LinearConceptEraser().fit(X, concept=frame)
    assert eraser.rank_ == 2
    erased = responses(eraser.transform(X), 6)
    assert r_squared(erased, np.r_[politeness[:, 0], politeness[:, 1]]) < 1e-10
    with pytest.raises(ValueError, match="Reorder them: concept"):
        LinearConceptEraser().fit(
            X, concept=frame[["n_tokens_a", "n_tokens_b", "polite_a", "polite_b"]]
        )


def test_a_linear_reward_after_erasure_cannot_track_length():
    X, length = pairs_with_length(n_pairs=1500, seed=5)
    rng = np.random.default_rng(5)
    y = rng.random(1500) < 1 / (1 + np.exp(-(length[:, 0] - length[:, 1]) / 40))
    erased = LinearConceptEraser().fit_transform(X, concept=length)
    for features, leans in ((X, True), (erased, False)):
        model = LogisticRegression(fit_intercept=False).fit(
            features[:, :6] - features[:, 6:], y
        )
        reward = responses(features, 6) @ model.coef_[0]
        correlation = np.corrcoef(reward, np.r_[length[:, 0], length[:, 1]])[0, 1]
        assert (correlation > 0.5) if leans else abs(correlation) < 1e-8


def test_pipeline_routes_the_concept_with_and_without_metadata_routing():
    X, length = pairs_with_length(seed=6)
    y = (length[:, 0] > length[:, 1]).astype(int)
    reference = LinearConceptEraser().fit(X, concept=length)

    def pipeline():
        return Pipeline(
            [("erase", LinearConceptEraser()), ("model", LogisticRegression())]
        )

    old_style = pipeline().fit(X, y, erase__concept=length)
    np.testing.assert_allclose(old_style["erase"].directions_, reference.directions_)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = pipeline().fit(X, y, concept=length)
        np.testing.assert_allclose(routed["erase"].directions_, reference.directions_)
        # cross-validation hands each fold the concept of its own rows
        results = cross_validate(
            pipeline(),
            X,
            y,
            cv=KFold(3),
            params={"concept": length},
            return_estimator=True,
        )
    for fitted, (train, _) in zip(results["estimator"], KFold(3).split(X), strict=True):
        alone = LinearConceptEraser().fit(X[train], concept=length[train])
        np.testing.assert_allclose(fitted["erase"].mean_, alone.mean_)
        np.testing.assert_allclose(fitted["erase"].directions_, alone.directions_)


def test_estimator_contract_with_a_concept():
    X, length = pairs_with_length(seed=7)
    eraser = LinearConceptEraser().fit(X, concept=length)
    out = eraser.transform(X)
    assert eraser.n_features_in_ == 12 and eraser.n_pair_features_ == 6
    # refits, clones and pickles give the same map
    again = clone(eraser).fit(X, concept=length)
    np.testing.assert_array_equal(again.transform(X), out)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(eraser)).transform(X), out)
    # rows are transformed one by one: order and subsets do not matter
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(eraser.transform(X[order]), out[order], rtol=1e-12)
    np.testing.assert_allclose(eraser.transform(X[:5]), out[:5], rtol=1e-12)
    # float32 in, float32 out; read-only input is fine
    assert eraser.transform(X.astype(np.float32)).dtype == np.float32
    frozen = X.copy()
    frozen.setflags(write=False)
    np.testing.assert_array_equal(eraser.transform(frozen), out)
    # pandas output keeps the input's column names
    columns = [f"a{i}" for i in range(6)] + [f"b{i}" for i in range(6)]
    named = LinearConceptEraser().set_output(transform="pandas")
    frame = named.fit(pd.DataFrame(X, columns=columns), concept=length).transform(
        pd.DataFrame(X, columns=columns)
    )
    assert frame.columns.tolist() == columns
    np.testing.assert_allclose(frame.to_numpy(), out)


@pytest.mark.parametrize(
    "X, concept, params, match",
    [
        (np.ones((10, 4)), None, {}, r"needs the concept to erase: pass fit\(X, y"),
        (np.ones((10, 3)), np.ones(10), {}, r"\(n_pairs, 2 \* n_features\)"),
        (
            np.eye(10, 4),
            np.arange(9),
            {},
            r"one concept row per pair of X \(10\); got 9",
        ),
        (np.eye(10, 4), np.ones((10, 3)), {}, r"an even number of columns\); got 3"),
        (np.eye(10, 4), np.ones((10, 2, 2)), {}, r"shape \(10, 2, 2\)"),
        (np.eye(10, 4), np.ones(10), {}, "takes a single value over all responses"),
        (
            np.eye(10, 4),
            np.r_[np.arange(9.0), np.nan],
            {},
            "concept 'concept' holds NaN",
        ),
        (
            np.eye(10, 4),
            np.array(["x"] * 9 + [None], dtype=object),
            {},
            "has a missing value",
        ),
        (
            np.column_stack([np.eye(10, 4), np.full(10, 0.5)]),
            None,
            {"with_objective": True},
            "integer objective ids",
        ),
        (np.eye(10, 4), np.arange(10), {"tol": 2.0}, "'tol' parameter"),
    ],
)
def test_fit_errors(X, concept, params, match):
    with pytest.raises(ValueError, match=match):
        LinearConceptEraser(**params).fit(X, concept=concept)


def test_transform_errors():
    X, length = pairs_with_length(seed=8)
    with pytest.raises(NotFittedError):
        LinearConceptEraser().transform(X)
    eraser = LinearConceptEraser().fit(X, concept=length)
    with pytest.raises(ValueError, match="X has 10 features, but LinearConceptEraser"):
        eraser.transform(X[:, :10])
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        eraser.transform(bad)
