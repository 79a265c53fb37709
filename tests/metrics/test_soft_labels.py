"""Soft labels (the share of annotators preferring a) and ties in every metric.

A pair with label ``y = k / m`` must score exactly as ``m`` copies of the pair, ``k``
labelled 1 and ``m - k`` labelled 0: each metric is the expectation of its
hard-label version over a random annotator.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skpref.metrics import (
    accuracy_by_group,
    expected_calibration_error,
    pairwise_accuracy_interval,
    pairwise_accuracy_score,
    pairwise_brier_loss,
    pairwise_log_loss,
)

METRICS = [
    pairwise_accuracy_score,
    pairwise_log_loss,
    pairwise_brier_loss,
    expected_calibration_error,
]


@st.composite
def annotated_pairs(draw, max_pairs=20, max_annotators=6):
    n = draw(st.integers(1, max_pairs))
    m = draw(st.integers(1, max_annotators))
    k = draw(arrays(np.int64, n, elements=st.integers(0, m)))
    p = draw(arrays(np.float64, n, elements=st.floats(0.001, 0.999)))
    w = draw(arrays(np.float64, n, elements=st.floats(0.1, 5)))
    return k, m, p, w


def as_annotators(k, m, p, w):
    """Every pair as m hard-labelled copies: k of them 1, m - k of them 0."""
    y = np.concatenate([np.r_[np.ones(ki), np.zeros(m - ki)] for ki in k])
    return y, np.repeat(p, m), np.repeat(w, m)


@pytest.mark.parametrize("metric", METRICS, ids=lambda f: f.__name__)
@given(data=annotated_pairs())
def test_a_soft_label_scores_as_its_annotators(metric, data):
    k, m, p, w = data
    y_hard, p_hard, w_hard = as_annotators(k, m, p, w)
    soft = metric(k / m, p, sample_weight=w)
    hard = metric(y_hard, p_hard, sample_weight=w_hard)
    assert soft == pytest.approx(hard, rel=1e-9, abs=1e-12)


@given(data=annotated_pairs())
def test_closed_forms(data):
    k, m, p, _ = data
    y = k / m
    assert pairwise_log_loss(y, p) == pytest.approx(
        -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)), rel=1e-9
    )
    assert pairwise_brier_loss(y, p) == pytest.approx(
        np.mean((p - y) ** 2 + y * (1 - y)), rel=1e-9, abs=1e-12
    )
    agreement = np.where(p > 0.5, y, 1 - y)
    assert pairwise_accuracy_score(y, p) == pytest.approx(np.mean(agreement))


@given(data=annotated_pairs())
def test_swapping_every_pair_keeps_every_metric(data):
    k, m, p, _ = data
    y = k / m
    p = np.where(p == 0.5, 0.3, p)  # predict picks b at an exact tie
    for metric in METRICS:
        assert metric(y, p) == pytest.approx(metric(1 - y, 1 - p), abs=1e-12)


def test_ties():
    ties = np.full(4, 0.5)
    assert pairwise_accuracy_score(ties, [0.9, 0.1, 0.6, 0.4]) == 0.5
    assert pairwise_log_loss(ties, np.full(4, 0.5)) == pytest.approx(np.log(2))
    assert pairwise_brier_loss(ties, np.full(4, 0.5)) == 0.25
    # a confident prediction on a tie costs the same either way
    assert pairwise_log_loss([0.5], [0.9]) == pytest.approx(
        pairwise_log_loss([0.5], [0.1])
    )


def test_bootstrap_interval_of_soft_labels_resamples_the_pairs():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 400) / 4
    p = rng.random(400)
    lower, upper = pairwise_accuracy_interval(
        y, p, method="bootstrap", n_resamples=4000, random_state=0
    )
    agreement = np.where(p > 0.5, y, 1 - y)
    resamples = rng.integers(0, 400, size=(4000, 400))
    naive = np.quantile(agreement[resamples].mean(axis=1), [0.025, 0.975])
    assert (lower, upper) == pytest.approx(naive, abs=0.006)
    assert lower < agreement.mean() < upper
    again = pairwise_accuracy_interval(
        y, p, method="bootstrap", n_resamples=4000, random_state=0
    )
    assert again == (lower, upper)


def test_accuracy_by_group_with_soft_labels():
    y = np.array([1, 0.5, 0.75, 0, 0.25, 1])
    p = np.array([0.9, 0.8, 0.7, 0.2, 0.3, 0.1])
    groups = np.array(["x", "x", "x", "y", "y", "y"])
    frame = accuracy_by_group(
        y, p, groups, method="bootstrap", n_resamples=200, random_state=0
    ).set_index("group")
    agreement = pd.Series(np.where(p > 0.5, y, 1 - y))
    for name in ("x", "y"):
        mine = agreement[groups == name]
        assert frame.loc[name, "accuracy"] == pytest.approx(mine.mean())
        assert frame.loc[name, "stderr"] == pytest.approx(mine.sem())
        assert frame.loc[name, "ci_lower"] <= mine.mean() <= frame.loc[name, "ci_upper"]
