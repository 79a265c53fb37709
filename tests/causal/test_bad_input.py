"""Bad input to the AMCE and the diagnostics: a clear error naming the argument."""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.utils._param_validation import InvalidParameterError

from skpref.causal import (
    AMCEEstimator,
    assumption_report,
    disagreement_quadrant_mass,
    disagreement_share,
    latent_positivity_report,
    objective_overlap_report,
)
from tests.causal.amce_designs import make_binary_factor_pairs

Z, Y, _ = make_binary_factor_pairs(100, [1.0, -0.5], random_state=0)
RNG = np.random.default_rng(0)
OBJECTIVE = RNG.integers(0, 2, 40)
X40 = np.column_stack([RNG.normal(size=(40, 6)), OBJECTIVE])
X40_NAN = X40.copy()
X40_NAN[0, 0] = np.nan

# ---------------------------------------------------------------------- AMCE


@pytest.mark.parametrize(
    "Z_pairs, params, match",
    [
        (
            np.array([[0.5, 1, 2.0, 0], [1.5, 0, 0.2, 1]] * 3),
            {"density": "uniform"},
            "density='uniform' averages over .* but 'factor_0' is continuous",
        ),
        (
            np.array([[0.5, 1, 2.0, 0], [1.5, 0, 0.2, 1]] * 3),
            {"step": {"factor_1": 2.0}},
            "step names 'factor_1', which is not a continuous factor",
        ),
        (
            np.array([[0.5, 1, 2.0, 0], [1.5, 0, 0.2, 1]] * 3),
            {"step": {"factor_0": -2.0}},
            r"positive number .*got step\['factor_0'\]=-2.0",
        ),
        (np.zeros((6, 3)), {}, r"expects X of shape \(n_pairs, 2 \* n_features\)"),
        (
            np.array([[1, 0, 0, 0], [0, 0, 1, 0]] * 3),
            {},
            "factor 'factor_1' never differs between the two responses",
        ),
        (
            np.array([[1, 0, 0, 1], [0, 1, 1, 0]] * 3),
            {"factor_names": ["x"]},
            "got 1 factor_names for 2 factors",
        ),
        (
            np.array([[1, 0, 0, 1], [0, 1, 1, 0]] * 3),
            {"estimator": LogisticRegression()},
            "inference='analytic' is only valid for the built-in BTL model",
        ),
    ],
)
def test_amce_fit_errors(Z_pairs, params, match):
    y = np.array([1, 0] * 3)
    with pytest.raises(ValueError, match=match):
        AMCEEstimator(**params).fit(Z_pairs, y)


@pytest.mark.parametrize(
    "y, groups, match",
    [
        (Y, [0, 1], r"groups of shape \(100,\), one cluster id per pair"),
        (Y, np.zeros(100), "at least 2 clusters in groups"),
        (
            Y,
            np.where(np.arange(100) < 50, np.nan, np.arange(100.0)),
            r"groups holds a missing cluster id \(None or NaN\) for pair 0",
        ),
        (
            Y,
            np.array(["x", None] * 50, dtype=object),
            r"groups holds a missing cluster id \(None or NaN\) for pair 1",
        ),
        (np.ones(100), None, r"needs pairs of both labels.*only one class"),
        (np.full(100, 1.5), None, r"continuous values outside \[0, 1\]"),
        (np.arange(100) % 3, None, "Only binary classification is supported"),
    ],
)
def test_amce_label_and_group_errors(y, groups, match):
    with pytest.raises(ValueError, match=match):
        AMCEEstimator().fit(Z, y, groups=groups)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"density": "other"}, "The 'density' parameter of AMCEEstimator"),
        ({"inference": "jackknife"}, "The 'inference' parameter"),
        ({"n_bootstrap": 1}, "The 'n_bootstrap' parameter"),
        ({"l2_penalty": -1.0}, "The 'l2_penalty' parameter"),
        ({"estimator": LinearRegression()}, "The 'estimator' parameter"),
    ],
)
def test_amce_invalid_parameters(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        AMCEEstimator(**params).fit(Z, Y)


def test_amce_nan_and_unidentified_factors():
    bad = Z.astype(float).copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        AMCEEstimator().fit(bad, Y)
    # z_0 == z_1 in every response: each factor varies within pairs, but their
    # effects cannot be told apart (no latent positivity for the pair of factors)
    z = RNG.integers(0, 2, (300, 1)).astype(float)
    with pytest.raises(ValueError, match="not identified.*Assumption 5"):
        AMCEEstimator().fit(np.hstack([z, z, 1 - z, 1 - z]), RNG.integers(0, 2, 300))


def _lengths(n=600):
    """Response lengths of a and b, a binary factor of each, and labels."""
    rng = np.random.default_rng(3)
    length = rng.integers(50, 500, (n, 2)).astype(float)
    polite = rng.integers(0, 2, (n, 2)).astype(float)
    logit = 0.7 * (polite[:, 0] - polite[:, 1]) + 0.002 * (length[:, 0] - length[:, 1])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return length, polite, y


@pytest.mark.parametrize(
    ("tied", "names"),
    [
        (lambda length: length / 4.3, "'chars', 'words'"),  # proportional
        (lambda length: length + 80.0, "'chars', 'words'"),  # same differences
    ],
    ids=["proportional", "shifted"],
)
def test_amce_factors_that_move_together_are_not_identified(tied, names):
    # Newton's method used to run along the tie to effects of 0 and 1 with
    # standard errors of 0 (p = 0), and wreck the identified factor's too
    length, polite, y = _lengths()
    Z = np.column_stack(
        [length[:, 0], tied(length[:, 0]), polite[:, 0]]
        + [length[:, 1], tied(length[:, 1]), polite[:, 1]]
    )
    est = AMCEEstimator(factor_names=["chars", "words", "polite"])
    with pytest.raises(ValueError, match=f"the effects of {names} are not identified"):
        est.fit(Z, y)
    kept = np.column_stack([length[:, 0], polite[:, 0], length[:, 1], polite[:, 1]])
    est = AMCEEstimator(factor_names=["chars", "polite"]).fit(kept, y)
    assert 0.6 < est.effects_[1] < 0.75 and est.stderr_.min() > 0.005


def test_amce_an_interaction_tied_to_its_factor_is_named():
    # x1 == 1 exactly when x0 == 1: the product x0 * x1 equals x0 in every response
    rng = np.random.default_rng(4)
    x0 = rng.integers(0, 2, (400, 2)).astype(float)
    x2 = rng.integers(0, 2, (400, 2)).astype(float)
    x1 = np.where(x0 == 1, 1.0, rng.integers(0, 2, (400, 2)))
    Z = np.column_stack([x0[:, 0], x1[:, 0], x2[:, 0], x0[:, 1], x1[:, 1], x2[:, 1]])
    y = rng.integers(0, 2, 400)
    est = AMCEEstimator(factor_names=["x0", "x1", "x2"], interactions=True)
    with pytest.raises(ValueError, match=r"'x0', 'x0\*x1' are not identified"):
        est.fit(Z, y)


def test_amce_methods_need_fit_and_a_valid_alpha():
    with pytest.raises(NotFittedError):
        AMCEEstimator().summary_frame()
    est = AMCEEstimator().fit(Z, Y)
    with pytest.raises(ValueError, match=r"alpha in \(0, 1\).*got alpha=1.5"):
        est.effect_interval(alpha=1.5)
    with pytest.raises(ValueError, match=r"alpha in \(0, 1\).*got alpha=0"):
        est.summary_frame(alpha=0)


# ---------------------------------------------------------------- overlap


@pytest.mark.parametrize(
    "X, kwargs, match",
    [
        (
            np.column_stack([X40[:, :-1], np.zeros(40)]),
            {},
            "at least 2 objectives; got only",
        ),
        (
            np.column_stack([X40[:, :-1], np.r_[np.ones(3), np.zeros(37)]]),
            {},
            "objective 1 has 3. Lower cv",
        ),
        (X40, {"prompt_type": [0, 1, 0]}, "prompt_type has 3 entries but there are 40"),
        (
            X40_NAN,
            {},
            "NaN or infinite pair features",
        ),
        (X40[:, 1:], {}, r"expects X of shape \(n_pairs, 2 \* n_features \+ 1\)"),
        (
            X40,
            {"prompt_type": np.where(OBJECTIVE == 0, "helpful", "harmless")},
            "prompt_type holds objective names but objective holds integer ids",
        ),
        (
            X40,
            {"prompt_type": OBJECTIVE + 5},
            r"prompt_type holds the id \d, outside the objective coding 0\.\.1",
        ),
        (
            X40,
            {
                "prompt_type": pd.Categorical(["a"] * 40, categories=["a", "b"]),
                "objective_categories": ["b", "a"],
            },
            "the categories of the Categorical prompt_type, .* disagree with "
            "objective_categories",
        ),
    ],
)
def test_overlap_errors(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        objective_overlap_report(X, **kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"cv": 1}, "The 'cv' parameter of objective_overlap_report"),
        ({"auc_threshold": 2.0}, "The 'auc_threshold' parameter"),
        ({"extreme": 0.5}, "The 'extreme' parameter"),
        ({"estimator": LinearRegression()}, "The 'estimator' parameter"),
    ],
)
def test_overlap_invalid_parameters(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        objective_overlap_report(X40, **kwargs)


def test_assumption_report_errors():
    with pytest.raises(ValueError, match="got neither"):
        assumption_report()
    with pytest.raises(ValueError, match="prompt_type without X"):
        assumption_report(delta=np.zeros((4, 2)), prompt_type=[0, 1, 0, 1])
    with pytest.raises(InvalidParameterError, match="'min_informative' parameter"):
        assumption_report(delta=np.zeros((4, 2)), min_informative=-1)
    with pytest.raises(ValueError, match="X with 40 pairs and delta with 39"):
        assumption_report(X40, delta=RNG.normal(size=(39, 2)))


# -------------------------------------------------------------- positivity


def test_positivity_errors():
    with pytest.raises(ValueError, match="at least 2 factors"):
        latent_positivity_report(np.zeros((5, 1)))
    with pytest.raises(ValueError, match="got 1 factor_names for 2 columns"):
        latent_positivity_report(np.ones((5, 2)), factor_names=["a"])
    with pytest.raises(ValueError, match=r"delta.*NaN"):
        latent_positivity_report(np.array([[0.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match=r"two different columns of delta \(0\.\.1\)"):
        disagreement_share(np.ones((5, 2)), factors=(0, 2))
    with pytest.raises(ValueError, match=r"got factors=\(1, 1\)"):
        disagreement_share(np.ones((5, 2)), factors=(1, 1))
    with pytest.raises(InvalidParameterError, match="'rho' parameter"):
        disagreement_quadrant_mass(1.5)
    with pytest.raises(ValueError, match=r"correlations in \[-1, 1\]; got 1.5"):
        disagreement_quadrant_mass(np.array([0.2, 1.5]))
