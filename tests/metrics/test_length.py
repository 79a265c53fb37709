"""The length-preference rate, its interval, length groups and the scorer."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skpref.metrics import (
    accuracy_by_group,
    length_groups,
    length_preference_interval,
    length_preference_rate,
    make_length_preference_scorer,
    pairwise_accuracy_interval,
    pairwise_accuracy_score,
)


def test_rate_counts_the_longer_response_preferred_and_skips_ties():
    y_score = [0.9, 0.2, 0.4, 0.7, 0.1]
    difference = [120, -30, 15, 0, 0]
    # pairs 0 and 1 prefer the longer, pair 2 the shorter; 3 and 4 tie on length
    assert length_preference_rate(y_score, difference) == pytest.approx(2 / 3)
    # the whole predict_proba, and hard labels, work too
    proba = np.column_stack([1 - np.array(y_score), y_score])
    assert length_preference_rate(proba, difference) == pytest.approx(2 / 3)
    assert length_preference_rate([1, 0, 0, 1, 0], difference) == pytest.approx(2 / 3)
    weighted = length_preference_rate(
        y_score, difference, sample_weight=[1, 1, 2, 5, 5]
    )
    assert weighted == pytest.approx(2 / 4)


@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 1.0).filter(lambda p: p != 0.5),
            st.integers(-50, 50),
        ),
        min_size=1,
        max_size=30,
    ).filter(lambda rows: any(d != 0 for _, d in rows))
)
def test_rate_is_accuracy_against_the_longer_rule_and_swap_invariant(rows):
    y_score = np.array([p for p, _ in rows])
    difference = np.array([d for _, d in rows], dtype=float)
    rate = length_preference_rate(y_score, difference)
    unequal = difference != 0
    longer_is_a = (difference[unequal] > 0).astype(int)
    assert rate == pytest.approx(pairwise_accuracy_score(longer_is_a, y_score[unequal]))
    # swapping a and b: P -> 1 - P, difference -> -difference
    assert length_preference_rate(1 - y_score, -difference) == pytest.approx(rate)


def test_labels_count_by_the_share_who_prefer_the_longer_response():
    # a model's 0.6 is a decision for a; a soft label's 0.6 is 60% of annotators
    assert length_preference_rate([0.6] * 4, [1, 1, -1, -1]) == 0.5
    assert length_preference_rate([0.6] * 4, [1, 1, -1, -1], labels=True) == 0.5
    assert length_preference_rate([0.6, 0.6], [5, 7], labels=True) == 0.6
    assert length_preference_rate([0.6, 0.6], [5, 7]) == 1.0
    # a tie counts half, whichever response is the longer (as decisions, a
    # probability of exactly 0.5 is the contract's predict: b)
    assert length_preference_rate([0.5, 0.5], [3, 3], labels=True) == 0.5
    assert length_preference_rate([0.5, 0.5], [-3, -3], labels=True) == 0.5
    hard = [1, 0, 0, 1, 0]
    difference = [120, -30, 15, 0, 0]
    assert length_preference_rate(hard, difference, labels=True) == pytest.approx(
        length_preference_rate(hard, difference)
    )
    assert length_preference_interval(hard, difference, labels=True) == (
        length_preference_interval(hard, difference)
    )
    with pytest.raises(ValueError, match="method='wilson' is an interval for a count"):
        length_preference_interval([0.6, 0.3], [1, -1], labels=True)
    lower, upper = length_preference_interval(
        [0.6, 0.3, 0.9, 0.2] * 10,
        [1, -1] * 20,
        labels=True,
        method="bootstrap",
        random_state=0,
    )
    assert lower < 0.75 < upper


@given(
    st.lists(
        st.tuples(st.floats(0.0, 1.0), st.integers(-50, 50)), min_size=1, max_size=30
    ).filter(lambda rows: any(d != 0 for _, d in rows))
)
def test_the_labels_rate_is_swap_invariant(rows):
    y = np.array([p for p, _ in rows])
    difference = np.array([d for _, d in rows], dtype=float)
    rate = length_preference_rate(y, difference, labels=True)
    assert length_preference_rate(1 - y, -difference, labels=True) == pytest.approx(
        rate
    )


def test_interval_is_the_accuracy_interval_of_the_longer_rule():
    rng = np.random.default_rng(0)
    y_score = rng.random(300)
    difference = rng.integers(-3, 4, 300)
    unequal = difference != 0
    expected = pairwise_accuracy_interval(
        (difference[unequal] > 0).astype(int), y_score[unequal], alpha=0.1
    )
    assert length_preference_interval(y_score, difference, alpha=0.1) == expected
    lower, upper = length_preference_interval(
        y_score, difference, method="bootstrap", random_state=0
    )
    rate = length_preference_rate(y_score, difference)
    assert lower < rate < upper


def test_length_groups_split_accuracy_where_length_misleads():
    y = np.array([1, 1, 0, 0, 1, 0.5])
    difference = np.array([10, -10, 10, -10, 0, 4])
    groups = length_groups(y, difference)
    assert groups.tolist() == [
        "longer preferred",
        "shorter preferred",
        "shorter preferred",
        "longer preferred",
        "equal length",
        "no preference",
    ]
    # the rule "prefer the longer" is right on longer-preferred pairs only
    longer_rule = (difference > 0).astype(float)
    frame = accuracy_by_group(y[:4], longer_rule[:4], groups[:4]).set_index("group")
    assert frame.loc["longer preferred", "accuracy"] == 1.0
    assert frame.loc["shorter preferred", "accuracy"] == 0.0


def _text_frame(n, rng):
    words = rng.integers(1, 30, size=(n, 2))
    return pd.DataFrame(
        {
            "response_a": [" ".join(["word"] * k) for k in words[:, 0]],
            "response_b": [" ".join(["word"] * k) for k in words[:, 1]],
        }
    ), words


def test_scorer_measures_lengths_of_the_fold_it_scores():
    rng = np.random.default_rng(1)
    frame, words = _text_frame(200, rng)
    y = (words[:, 0] > words[:, 1]).astype(int)  # labellers prefer the longer

    def n_words(frame):
        return np.column_stack(
            [
                frame["response_a"].str.split().str.len(),
                frame["response_b"].str.split().str.len(),
            ]
        )

    model = make_pipeline(FunctionTransformer(n_words), LogisticRegression())
    scorer = make_length_preference_scorer("n_words")
    scores = cross_validate(
        model,
        frame,
        y,
        cv=KFold(4),
        scoring={"rate": scorer, "accuracy": "accuracy"},
    )
    assert np.all(scores["test_rate"] > 0.9)  # it learned "longer is better"
    for fold, (_, test) in enumerate(KFold(4).split(frame)):
        fold_model = make_pipeline(
            FunctionTransformer(n_words), LogisticRegression()
        ).fit(frame.drop(frame.index[test]), np.delete(y, test))
        difference = words[test, 0] - words[test, 1]
        expected = length_preference_rate(
            fold_model.predict_proba(frame.iloc[test]), difference
        )
        assert scores["test_rate"][fold] == pytest.approx(expected)


def test_scorer_takes_lengths_for_numeric_features():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, 2.0]])
    y = np.array([1, 0, 1, 0])
    model = DummyClassifier(strategy="constant", constant=1).fit(X, y)
    scorer = make_length_preference_scorer()
    assert scorer(model, X, y, length_difference=[5, -5, 5, -5]) == 0.5
    with pytest.raises(ValueError, match="X holds no texts to measure"):
        scorer(model, X, y)


@pytest.mark.parametrize(
    "y_score, difference, match",
    [
        ([0.9, 0.1], [0, 0], "every pair has responses of equal length"),
        ([0.9, 0.1], [1, np.nan], "length_difference contains NaN"),
        ([0.9, 0.1], [1, 2, 3], r"length_difference of shape \(2,\)"),
        ([0.9, 0.1], ["long", "short"], "dtype <U5"),
        ([1.5, 0.1], [1, -1], r"probabilities P\(a > b\) in \[0, 1\]"),
    ],
)
def test_rate_errors(y_score, difference, match):
    with pytest.raises(ValueError, match=match):
        length_preference_rate(y_score, difference)


def test_rate_with_every_unequal_pair_weighted_zero():
    with pytest.raises(ValueError, match="unequal length all have sample weight 0"):
        length_preference_rate([0.9, 0.1], [1, 0], sample_weight=[0, 1])
