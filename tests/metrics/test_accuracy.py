import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skpref.metrics import (
    accuracy_by_group,
    consistency_groups,
    pairwise_accuracy_interval,
    pairwise_accuracy_score,
)


@st.composite
def labelled_scores(draw, min_size=1, max_size=60):
    n = draw(st.integers(min_size, max_size))
    y = draw(arrays(np.int64, n, elements=st.integers(0, 1)))
    p = draw(arrays(np.float64, n, elements=st.floats(0, 1)))
    return y, p


def test_accuracy_follows_the_predict_rule_of_the_pair_contract():
    y = np.array([1, 1, 0, 0, 1, 0])
    p = np.array([0.51, 0.5, 0.5, 0.49, 1.0, 0.0])
    # a is predicted only where P(a > b) > 0.5, so a tie counts as "b"
    assert pairwise_accuracy_score(y, p) == pytest.approx(5 / 6)
    assert pairwise_accuracy_score(y, np.column_stack([1 - p, p])) == pytest.approx(
        5 / 6
    )
    assert pairwise_accuracy_score(y, [1, 0, 0, 0, 1, 1]) == pytest.approx(4 / 6)


@given(
    y=arrays(np.float64, 30, elements=st.sampled_from([0.0, 0.25, 0.5, 1.0])),
    y_pred=arrays(np.int64, 30, elements=st.integers(0, 1)),
    weight=arrays(np.float64, 30, elements=st.floats(0.5, 4.0)),
)
def test_hard_predictions_score_exactly_as_a_models_score(y, y_pred, weight):
    # a reward model's score: y where it predicts a, 1 - y where it predicts b
    expected = np.sum(weight * np.where(y_pred == 1, y, 1 - y)) / np.sum(weight)
    got = pairwise_accuracy_score(y, y_pred.astype(float), sample_weight=weight)
    assert got == expected
    assert pairwise_accuracy_score(y, y_pred) == np.mean(np.where(y_pred, y, 1 - y))


def test_accuracy_weights():
    y, p = [1, 0, 1], [0.9, 0.9, 0.9]
    assert pairwise_accuracy_score(y, p, sample_weight=[1, 2, 1]) == 0.5


@given(labelled_scores())
def test_swapping_every_pair_keeps_accuracy_off_ties(data):
    y, p = data
    p = np.where(p == 0.5, 0.25, p)
    assert pairwise_accuracy_score(y, p) == pytest.approx(
        pairwise_accuracy_score(1 - y, 1 - p)
    )


def wilson_by_hand(k, n, z=1.959963984540054):
    # the textbook form: roots of (p - k/n)^2 = z^2 p (1 - p) / n
    a = 1 + z**2 / n
    b = -(2 * k / n + z**2 / n)
    c = (k / n) ** 2
    disc = np.sqrt(b**2 - 4 * a * c)
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


@pytest.mark.parametrize(("k", "n"), [(0, 5), (3, 10), (81, 100), (40, 40)])
def test_wilson_interval_solves_the_score_equation(k, n):
    y = np.ones(n, dtype=int)
    p = np.r_[np.ones(k), np.zeros(n - k)]
    lower, upper = pairwise_accuracy_interval(y, p, method="wilson")
    assert (lower, upper) == pytest.approx(wilson_by_hand(k, n), abs=1e-12)
    assert 0 <= lower <= k / n <= upper <= 1


def test_wilson_interval_narrows_with_alpha_and_n():
    y = np.ones(100, dtype=int)
    p = np.r_[np.ones(70), np.zeros(30)]
    wide = pairwise_accuracy_interval(y, p, alpha=0.01)
    narrow = pairwise_accuracy_interval(y, p, alpha=0.2)
    assert wide[0] < narrow[0] < 0.7 < narrow[1] < wide[1]
    big = pairwise_accuracy_interval(np.tile(y, 10), np.tile(p, 10))
    assert big[1] - big[0] < (narrow[1] - narrow[0])


def test_bootstrap_matches_resampling_the_pairs():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.where(rng.random(300) < 0.7, y, 1 - y).astype(float)
    lower, upper = pairwise_accuracy_interval(
        y, p, method="bootstrap", n_resamples=20000, random_state=0
    )
    correct = (p > 0.5) == y
    resamples = rng.integers(0, 300, size=(4000, 300))
    naive = np.quantile(correct[resamples].mean(axis=1), [0.025, 0.975])
    assert (lower, upper) == pytest.approx(naive, abs=0.007)
    wilson = pairwise_accuracy_interval(y, p)
    assert (lower, upper) == pytest.approx(wilson, abs=0.01)


def test_bootstrap_is_seeded():
    y, p = [1, 0, 1, 1, 0, 0, 1, 0], [0.9, 0.2, 0.3, 0.8, 0.6, 0.1, 0.7, 0.4]
    first = pairwise_accuracy_interval(y, p, method="bootstrap", random_state=1)
    again = pairwise_accuracy_interval(y, p, method="bootstrap", random_state=1)
    assert first == again


def test_wilson_interval_covers_the_truth_at_its_nominal_rate():
    rng = np.random.default_rng(1)
    n, truth, hits = 50, 0.8, 0
    for _ in range(400):
        p = (rng.random(n) < truth).astype(float)
        lower, upper = pairwise_accuracy_interval(np.ones(n, dtype=int), p)
        hits += lower <= truth <= upper
    assert 0.91 <= hits / 400 <= 0.99


def test_accuracy_by_group_is_tidy_and_matches_per_group_calls():
    y = np.array([1, 0, 1, 0, 1, 0, 1, 1])
    p = np.array([0.9, 0.1, 0.2, 0.3, 0.8, 0.9, 0.6, 0.4])
    groups = np.array(["OOD", "ID", "ID", "OOD", "ID", "OOD", "ID", "OOD"])
    frame = accuracy_by_group(y, p, groups)
    assert list(frame.columns) == [
        "group",
        "n_pairs",
        "accuracy",
        "stderr",
        "ci_lower",
        "ci_upper",
    ]
    assert frame["group"].tolist() == ["ID", "OOD"]
    for row in frame.itertuples():
        mask = groups == row.group
        assert row.n_pairs == mask.sum()
        assert row.accuracy == pairwise_accuracy_score(y[mask], p[mask])
        assert (row.ci_lower, row.ci_upper) == pairwise_accuracy_interval(
            y[mask], p[mask]
        )
        # the standard error of the mean of 0/1 outcomes (ddof = 1)
        assert row.stderr == pytest.approx(
            np.sqrt(row.accuracy * (1 - row.accuracy) / (row.n_pairs - 1))
        )


def test_accuracy_by_group_with_consistency_groups():
    objective = np.array([0, 0, 1, 1, 0, 1])
    prompt_type = np.array([0, 1, 1, 0, 0, 1])
    groups = consistency_groups(objective, prompt_type)
    assert groups.tolist() == [
        "consistent",
        "inconsistent",
        "consistent",
        "inconsistent",
        "consistent",
        "consistent",
    ]
    y = np.array([1, 1, 1, 1, 1, 1])
    p = np.array([0.9, 0.1, 0.9, 0.1, 0.9, 0.1])
    frame = accuracy_by_group(y, p, groups).set_index("group")
    assert frame.loc["consistent", "accuracy"] == 0.75
    assert frame.loc["inconsistent", "accuracy"] == 0.0
    assert consistency_groups(["helpful"], ["helpful"]).tolist() == ["consistent"]
