"""The synthetic generators: their ground truth is what they claim."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skpref.datasets import make_confounded_preferences, make_latent_preferences


@given(rho=st.floats(-0.9, 0.9))
def test_latent_differences_have_the_requested_correlation(rho):
    data = make_latent_preferences(n_pairs=4000, n_features=8, rho=rho, random_state=0)
    achieved = np.corrcoef(data.delta[:, 0], data.delta[:, 1])[0, 1]
    assert achieved == pytest.approx(rho, abs=0.05)


def test_latent_labels_follow_the_true_reward():
    data = make_latent_preferences(n_pairs=500, weights=(0.25, 0.75), random_state=0)
    np.testing.assert_allclose(data.reward_a, data.Z_a @ [0.25, 0.75])
    np.testing.assert_array_equal(data.y_true, data.reward_a > data.reward_b)
    np.testing.assert_array_equal(data.y, data.y_true)
    assert data.X.dtype == np.float32 and data.X.shape == (500, 64)
    assert 0.4 < data.y.mean() < 0.6


def test_feature_map_is_shared_across_samples_and_differs_by_seed():
    first = make_latent_preferences(n_pairs=50, n_features=6, random_state=0)
    second = make_latent_preferences(n_pairs=50, n_features=6, random_state=1)
    other_map = make_latent_preferences(
        n_pairs=50, n_features=6, random_state=0, feature_map_seed=1
    )
    # same latents => same noiseless features; the nuisance is the only difference
    assert not np.allclose(first.X, second.X)
    np.testing.assert_array_equal(first.Z_a, other_map.Z_a)
    assert not np.allclose(first.X, other_map.X, atol=0.1)
    # the map is a deterministic function of the latents up to nuisance noise:
    # a least-squares read-out of z from the features works on both samples alike
    coef, *_ = np.linalg.lstsq(first.X[:, :6], first.Z_a, rcond=None)
    r2 = 1 - ((second.X[:, :6] @ coef - second.Z_a) ** 2).mean() / second.Z_a.var()
    assert r2 > 0.5


def test_label_noise_flips_labels_near_the_boundary():
    data = make_latent_preferences(n_pairs=4000, label_noise=0.5, random_state=0)
    agreement = np.mean(data.y == data.y_true)
    assert 0.6 < agreement < 0.95
    margin = np.abs(data.reward_a - data.reward_b)
    near, far = margin < np.quantile(margin, 0.2), margin > np.quantile(margin, 0.8)
    assert np.mean(data.y[near] == data.y_true[near]) < np.mean(
        data.y[far] == data.y_true[far]
    )


@given(rho=st.sampled_from([0.5, 0.6, 0.7, 0.8, 0.9, 1.0]), n=st.integers(10, 400))
def test_confounding_has_the_requested_rho_and_balanced_objectives(rho, n):
    data = make_confounded_preferences(n_pairs=n, n_features=4, rho=rho, random_state=0)
    assert np.sum(data.consistent) == round(rho * n)
    np.testing.assert_array_equal(data.consistent, data.prompt_type == data.objective)
    assert abs(np.sum(data.objective == 0) - np.sum(data.objective == 1)) <= 1
    np.testing.assert_array_equal(data.X[:, -1], data.objective)


def test_confounded_labels_follow_each_objectives_reward():
    data = make_confounded_preferences(n_pairs=2000, random_state=0)
    W = data.objective_weights
    margins = (data.Z_a - data.Z_b) @ W.T
    np.testing.assert_array_equal(data.y_by_objective, margins > 0)
    np.testing.assert_array_equal(
        data.y, data.y_by_objective[np.arange(2000), data.objective]
    )
    # the two objectives disagree on a sizeable share of pairs, so the objective
    # matters; agreement of the two labellings is 1 - angle(w0, w1) / pi
    cos = W[0] @ W[1] / np.linalg.norm(W[0]) / np.linalg.norm(W[1])
    expected = 1 - np.arccos(cos) / np.pi
    agreement = np.mean(data.y_by_objective[:, 0] == data.y_by_objective[:, 1])
    assert agreement == pytest.approx(expected, abs=0.03)


def test_prompt_type_is_easy_to_read_from_the_features():
    from sklearn.linear_model import LogisticRegression

    data = make_confounded_preferences(n_pairs=1000, n_features=8, random_state=0)
    d = 8
    accuracy = (
        LogisticRegression(max_iter=1000)
        .fit(data.X[:500, :d], data.prompt_type[:500])
        .score(data.X[500:, :d], data.prompt_type[500:])
    )
    assert accuracy > 0.9


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: make_latent_preferences(weights=[1.0]), "at least two latent"),
        (
            lambda: make_confounded_preferences(objective_weights=[[1, 0]]),
            r"shape \(2, n_latents\).*got shape \(1, 2\)",
        ),
        (lambda: make_latent_preferences(rho=1.0), "The 'rho' parameter"),
    ],
)
def test_generator_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("seed", [None, np.random.RandomState(0), -1])
def test_the_feature_map_seed_is_an_integer(seed):
    # None would draw a new map on every call, and train and test would differ
    for make in (make_latent_preferences, make_confounded_preferences):
        with pytest.raises(ValueError, match="'feature_map_seed' parameter"):
            make(n_pairs=10, n_features=4, feature_map_seed=seed)
