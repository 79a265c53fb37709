"""Length control on the shared HH-RLHF helpful-base pairs: the direction holds.

A linear BTL model (logistic regression on ``e_a - e_b``, fast) stands in for the
reward model of the gallery example. On held-out pairs it prefers the longer
response more often than the labels do; after the eraser its length-preference
rate is near 0.5 and it is right more often where the shorter response was
preferred. A wrong eraser (or one applied to one half only) fails these.
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import skpref
from skpref.causal import AMCEEstimator
from skpref.covariates import covariate_differences, pair_covariates
from skpref.datasets import load_hh_rlhf, pair_features
from skpref.metrics import (
    length_groups,
    length_preference_rate,
    pairwise_accuracy_score,
)
from skpref.preprocessing import LinearConceptEraser


def _difference(X):
    d = X.shape[1] // 2
    return X[:, :d] - X[:, d:]


def _linear_btl():
    return LogisticRegression(C=1.0, fit_intercept=False, max_iter=2000)


@pytest.fixture(scope="module")
def helpful(data_home):
    frame = load_hh_rlhf(
        "helpful-base", data_home=data_home, embeddings="all-MiniLM-L6-v2"
    )
    lengths = pair_covariates(frame, "n_characters")
    return pair_features(frame), frame["label"].to_numpy(), lengths


@pytest.fixture(scope="module")
def held_out(helpful):
    X, y, lengths = helpful
    proba = {"plain": np.empty(len(y)), "erased": np.empty(len(y))}
    for train, test in KFold(4, shuffle=True, random_state=0).split(X):
        plain = Pipeline(
            [("diff", FunctionTransformer(_difference)), ("m", _linear_btl())]
        )
        erased = Pipeline(
            [
                ("erase", LinearConceptEraser()),
                ("diff", FunctionTransformer(_difference)),
                ("m", _linear_btl()),
            ]
        )
        plain.fit(X[train], y[train])
        erased.fit(X[train], y[train], erase__concept=lengths.iloc[train])
        proba["plain"][test] = plain.predict_proba(X[test])[:, 1]
        proba["erased"][test] = erased.predict_proba(X[test])[:, 1]
    return proba


def test_the_eraser_moves_the_length_preference_towards_half(helpful, held_out):
    X, y, lengths = helpful
    difference = covariate_differences(lengths)["n_characters"].to_numpy()
    labels = length_preference_rate(y, difference)
    plain = length_preference_rate(held_out["plain"], difference)
    erased = length_preference_rate(held_out["erased"], difference)
    assert 0.57 < labels < 0.63  # the labellers' own preference for length
    assert plain > labels + 0.03  # the model leans on length beyond its labels
    assert abs(erased - 0.5) < abs(plain - 0.5) - 0.08
    shorter = length_groups(y, difference) == "shorter preferred"
    gain = pairwise_accuracy_score(
        y[shorter], held_out["erased"][shorter]
    ) - pairwise_accuracy_score(y[shorter], held_out["plain"][shorter])
    assert gain > 0.05
    # the model's length AMCE shrinks towards 0.5 with the eraser
    step = {"n_characters": 100.0}
    amce_plain = AMCEEstimator(step=step).fit(lengths, held_out["plain"])
    amce_erased = AMCEEstimator(step=step).fit(lengths, held_out["erased"])
    assert amce_plain.effect_interval()[0][0] > 0.5
    assert abs(amce_erased.effects_[0] - 0.5) < abs(amce_plain.effects_[0] - 0.5)


def test_a_fitted_pipeline_with_the_eraser_saves_and_loads(helpful, tmp_path):
    X, y, lengths = helpful
    model = Pipeline(
        [
            ("erase", LinearConceptEraser()),
            (
                "model",
                skpref.BTLRewardRegressor(
                    hidden_dim=8, latent_dim=4, max_epochs=2, device="cpu"
                ),
            ),
        ]
    ).fit(X[:300], y[:300], erase__concept=lengths.iloc[:300])
    path = skpref.save(model, tmp_path / "model.safetensors")
    restored = skpref.load(path)
    np.testing.assert_array_equal(
        restored.predict_proba(X[300:400]), model.predict_proba(X[300:400])
    )
