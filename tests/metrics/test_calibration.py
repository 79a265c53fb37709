import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import brier_score_loss, log_loss

from skpref.metrics import (
    expected_calibration_error,
    pairwise_brier_loss,
    pairwise_log_loss,
)


@st.composite
def labelled_scores(draw, min_size=2, max_size=60):
    n = draw(st.integers(min_size, max_size))
    y = draw(arrays(np.int64, n, elements=st.integers(0, 1)))
    p = draw(arrays(np.float64, n, elements=st.floats(0, 1)))
    w = draw(arrays(np.float64, n, elements=st.floats(0.1, 5)))
    return y, p, w


@given(labelled_scores())
def test_losses_agree_with_scikit_learn(data):
    y, p, w = data
    p = np.clip(p, 1e-6, 1 - 1e-6)  # away from sklearn's own clipping
    assert pairwise_log_loss(y, p, sample_weight=w) == pytest.approx(
        log_loss(y, p, sample_weight=w, labels=[0, 1]), rel=1e-9
    )
    assert pairwise_brier_loss(y, p, sample_weight=w) == pytest.approx(
        brier_score_loss(y, p, sample_weight=w, labels=[0, 1]), rel=1e-9
    )


@given(labelled_scores())
def test_metrics_are_invariant_to_swapping_every_pair(data):
    y, p, _ = data
    p = np.where(p == 0.5, 0.3, p)  # predict picks b at an exact tie
    # 1 - (1 - p) loses p's digits below 1e-16: at p = 3e-14 that moves log(p) by
    # 1e-3, so the swap is exact only for p away from 0 and 1
    p = np.clip(p, 1e-9, 1 - 1e-9)
    assert pairwise_log_loss(y, p) == pytest.approx(pairwise_log_loss(1 - y, 1 - p))
    assert pairwise_brier_loss(y, p) == pytest.approx(pairwise_brier_loss(1 - y, 1 - p))
    for strategy in ("uniform", "quantile"):
        assert expected_calibration_error(y, p, strategy=strategy) == pytest.approx(
            expected_calibration_error(1 - y, 1 - p, strategy=strategy)
        )


def test_log_loss_is_finite_on_confident_mistakes():
    loss = pairwise_log_loss([1, 0], [0.0, 1.0])
    assert np.isfinite(loss) and loss > 30


def test_reference_values():
    assert pairwise_log_loss([1, 0, 1], [0.5, 0.5, 0.5]) == pytest.approx(np.log(2))
    assert pairwise_brier_loss([1, 0, 1], [0.5, 0.5, 0.5]) == 0.25
    assert pairwise_brier_loss([1, 0], np.array([[0.2, 0.8], [0.6, 0.4]])) == 0.1


def test_ece_by_hand():
    y = np.array([1, 1, 0, 1, 0, 0, 1, 1])
    p = np.array([0.95, 0.92, 0.91, 0.62, 0.38, 0.35, 0.55, 0.45])
    # confidences: .95 .92 .91 .62 .62 .65 .55 .55; right: 1 1 0 1 1 1 1 0
    # 5 bins of width 0.1 on [0.5, 1]: [.5,.6]: {.55 r, .55 w} -> |.5 - .55|
    # (.6,.7]: {.62, .62, .65}, all right -> |1 - .63|
    # (.9,1]: {.95, .92, .91}, 2 of 3 right -> |2/3 - .926667|
    expected = (2 * 0.05 + 3 * 0.37 + 3 * abs(2 / 3 - 0.926666666666)) / 8
    assert expected_calibration_error(y, p, n_bins=5) == pytest.approx(expected)


def test_ece_is_zero_for_a_calibrated_model_and_large_for_an_overconfident_one():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 200_000)
    y = (rng.random(p.size) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.005
    assert expected_calibration_error(y, p, strategy="quantile") < 0.005
    overconfident = np.where(p > 0.5, 0.99, 0.01)
    assert expected_calibration_error(y, overconfident) > 0.2


def test_ece_weights_equal_repetition():
    y = np.array([1, 0, 1, 1])
    p = np.array([0.8, 0.7, 0.3, 0.9])
    weighted = expected_calibration_error(y, p, sample_weight=[1, 2, 1, 3])
    repeated = expected_calibration_error(
        np.repeat(y, [1, 2, 1, 3]), np.repeat(p, [1, 2, 1, 3])
    )
    assert weighted == pytest.approx(repeated)


def test_ece_of_a_confident_wrong_model_is_near_one():
    assert expected_calibration_error([0, 0, 1], [0.99, 0.98, 0.01]) > 0.98
