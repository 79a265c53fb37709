"""Bad input to the pairwise metrics: a clear ValueError naming the argument."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.utils._param_validation import InvalidParameterError

from skpref.metrics import (
    accuracy_by_group,
    consistency_groups,
    expected_calibration_error,
    get_scorer,
    pairwise_accuracy_interval,
    pairwise_accuracy_score,
    pairwise_brier_loss,
    pairwise_log_loss,
)

SCORES = [
    pairwise_accuracy_score,
    pairwise_log_loss,
    pairwise_brier_loss,
    expected_calibration_error,
]


@pytest.mark.parametrize("metric", SCORES, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("y", "p", "match"),
    [
        ([1, 2], [0.5, 0.5], r"expects y_true in \[0, 1\].*got the values \[2\.0\]"),
        ([1, -0.5], [0.5, 0.5], r"expects y_true in \[0, 1\].*got the values \[-0\.5"),
        (["a", "b"], [0.5, 0.5], "numeric labels y_true in \\[0, 1\\].*'a'"),
        ([1, np.nan], [0.5, 0.5], r"y_true in \[0, 1\].*nan"),
        ([[1, 0]], [0.5, 0.5], r"y_true of shape \(n_pairs,\)"),
        ([], [], r"got no pairs \(y_true is empty\)"),
        (
            [1, 0],
            [0.5],
            r"y_score of shape \(n_pairs,\).*for 2 pairs; got shape \(1,\)",
        ),
        ([1, 0], [0.5, np.nan], "y_score contains NaN or infinite"),
        ([1, 0], [1.7, -0.3], "probabilities P\\(a > b\\).*not decision_function"),
    ],
)
def test_labels_and_scores_are_checked(metric, y, p, match):
    with pytest.raises(ValueError, match=f"{metric.__name__}.*{match}"):
        metric(y, p)


@pytest.mark.parametrize("metric", SCORES, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("weight", "match"),
    [
        ([1.0], r"sample_weight of shape \(2,\); got \(1,\)"),
        ([1.0, -1.0], "finite, non-negative sample weights"),
        ([1.0, np.inf], "finite, non-negative sample weights"),
        ([0.0, 0.0], "the sample weights sum to zero"),
    ],
)
def test_weights_are_checked(metric, weight, match):
    with pytest.raises(ValueError, match=match):
        metric([1, 0], [0.6, 0.4], sample_weight=weight)


@pytest.mark.parametrize("function", [pairwise_accuracy_interval, accuracy_by_group])
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 1.5}, "The 'alpha' parameter of {} must be a float in the range"),
        ({"alpha": "0.05"}, "The 'alpha' parameter of {}"),
        ({"method": "normal"}, "The 'method' parameter of {} must be a str among"),
        ({"n_resamples": 5}, "The 'n_resamples' parameter of {}"),
        ({"random_state": "seed"}, "The 'random_state' parameter of {}"),
    ],
)
def test_interval_arguments_are_checked(function, kwargs, match):
    args = ([1, 0], [0.6, 0.4]) + (([0, 0],) if function is accuracy_by_group else ())
    with pytest.raises(InvalidParameterError, match=match.format(function.__name__)):
        function(*args, **kwargs)


def test_wilson_needs_hard_labels():
    for function, extra in (
        (pairwise_accuracy_interval, ()),
        (accuracy_by_group, ([0, 0],)),
    ):
        with pytest.raises(
            ValueError,
            match="method='wilson'.*needs hard labels.*Use method='bootstrap'",
        ):
            function([0.5, 1], [0.6, 0.4], *extra)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_bins": 0}, "The 'n_bins' parameter of expected_calibration_error"),
        ({"n_bins": 2.5}, "The 'n_bins' parameter"),
        ({"strategy": "kmeans"}, "The 'strategy' parameter"),
    ],
)
def test_ece_arguments_are_checked(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        expected_calibration_error([1, 0], [0.6, 0.4], **kwargs)


def test_group_and_consistency_inputs_are_checked():
    with pytest.raises(ValueError, match=r"one group label per pair, groups of shape"):
        accuracy_by_group([1, 0], [0.6, 0.4], [0])
    with pytest.raises(ValueError, match="groups holds a missing label .* pair 1"):
        accuracy_by_group([1, 0], [0.6, 0.4], np.array(["a", None], dtype=object))
    with pytest.raises(ValueError, match="prompt_type has 1 entries but there are 2"):
        consistency_groups([0, 1], [0])
    with pytest.raises(
        ValueError, match="prompt_type holds objective names but objective"
    ):
        consistency_groups([0, 1], ["helpful", "harmless"])
    with pytest.raises(ValueError, match=r"prompt_type holds the id 7, outside"):
        consistency_groups([0, 1], [0, 7])
    with pytest.raises(
        ValueError, match="prompt_type holds 'helpfull'.*Did you mean 'helpful'"
    ):
        consistency_groups(["helpful", "harmless"], ["helpfull", "harmless"])
    with pytest.raises(InvalidParameterError, match="The 'objective' parameter"):
        consistency_groups(3, [0])


def test_unknown_scorer_names_both_lists():
    with pytest.raises(ValueError, match="neither a skpref pairwise scorer"):
        get_scorer("pairwise_acuracy")
    with pytest.raises(InvalidParameterError, match="The 'scoring' parameter"):
        get_scorer(3)


@given(
    y=arrays(np.float64, st.integers(0, 8), elements=st.floats(allow_nan=True)),
    p=arrays(np.float64, st.integers(0, 8), elements=st.floats(-1, 2)),
    weighted=st.booleans(),
)
def test_random_inputs_score_or_say_why(y, p, weighted):
    weight = np.abs(p[: y.size]) if weighted else None
    for metric in SCORES:
        try:
            value = metric(y, p, sample_weight=weight)
        except ValueError as error:
            assert str(error).startswith(metric.__name__)
            continue
        assert np.isfinite(value)
