"""AMCEEstimator on covariates of text: continuous factors, names, soft outcomes, by.

For a continuous factor with ``P(a > b) = sigmoid(r(z_a) - r(z_b))``, the AMCE of
raising factor ``k`` by ``step`` is the finite average over the responses ``z`` of
the density ``m``::

    AMCE_k = mean_z sigmoid(r(z with z_k + step) - r(z))

and ``sigmoid(coef_k * step)`` for a linear reward, whatever ``m``.
"""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from skpref.causal import AMCEEstimator, EffectSummary

COEF = np.array([0.012, 0.8])  # per character of length, and for a binary factor
INTERACTION = -0.006  # length x factor: the factor blunts length's effect


def length_design(n_pairs, seed, interaction=0.0):
    """Pairs of responses with a gamma length and a binary factor, BTL labels."""
    rng = np.random.default_rng(seed)
    length = rng.gamma(2.0, 50.0, size=(n_pairs, 2))
    factor = rng.integers(0, 2, size=(n_pairs, 2)).astype(float)

    def reward(side):
        return (
            COEF[0] * length[:, side]
            + COEF[1] * factor[:, side]
            + interaction * length[:, side] * factor[:, side]
        )

    proba = expit(reward(0) - reward(1))
    y = (rng.random(n_pairs) < proba).astype(int)
    Z = pd.DataFrame(
        {
            "length_a": length[:, 0],
            "polite_a": factor[:, 0],
            "length_b": length[:, 1],
            "polite_b": factor[:, 1],
        }
    )
    return Z, y, proba


def truth_with_interaction(Z, step):
    """Eq. 6 with m the responses of Z, for both factors, from the true reward."""
    length = np.r_[Z["length_a"], Z["length_b"]]
    factor = np.r_[Z["polite_a"], Z["polite_b"]]
    length_effect = COEF[0] * step + INTERACTION * step * factor
    factor_effect = COEF[1] + INTERACTION * length
    return np.array([expit(length_effect).mean(), expit(factor_effect).mean()])


def test_names_types_and_steps_come_from_the_frame():
    Z, y, _ = length_design(2000, seed=0)
    est = AMCEEstimator().fit(Z, y)
    assert est.factor_names_ == ["length", "polite"]
    assert est.binary_factors_.tolist() == [False, True]
    sd = np.r_[Z["length_a"], Z["length_b"]].std()
    np.testing.assert_allclose(est.factor_steps_, [sd, 1.0])
    # a linear reward: sigmoid(coef * step) for any m
    np.testing.assert_allclose(est.effects_, expit(est.coef_ * est.factor_steps_))
    truth = expit(COEF * est.factor_steps_)
    assert np.all(np.abs(est.effects_ - truth) < 4 * est.stderr_)
    named = AMCEEstimator(factor_names=["chars", "polite"]).fit(Z, y)
    assert named.factor_names_ == ["chars", "polite"]
    with pytest.raises(ValueError, match=r"Reorder them: Z_pairs\[\['length_a'"):
        AMCEEstimator().fit(Z[["length_a", "length_b", "polite_a", "polite_b"]], y)


def test_a_step_in_the_factors_units():
    Z, y, _ = length_design(3000, seed=1)
    est = AMCEEstimator(step={"length": 100.0}).fit(Z, y)
    assert est.factor_steps_[0] == 100.0
    assert est.effects_[0] == pytest.approx(expit(100 * COEF[0]), abs=0.03)


@pytest.mark.parametrize("inference", ["analytic", "bootstrap"])
def test_continuous_effects_with_interactions_converge_to_eq_6(inference):
    errors = []
    for n_pairs in (600, 20000):
        Z, y, _ = length_design(n_pairs, seed=n_pairs, interaction=INTERACTION)
        est = AMCEEstimator(
            interactions=True, inference=inference, n_bootstrap=60, random_state=0
        ).fit(Z, y)
        truth = truth_with_interaction(Z, est.factor_steps_[0])
        assert np.all(np.abs(est.effects_ - truth) < 4 * est.stderr_)
        errors.append(np.abs(est.effects_ - truth).max())
    assert errors[1] < 0.015
    assert errors[1] < errors[0]


def test_analytic_intervals_of_a_continuous_factor_cover():
    # 40 repetitions: halved standard errors would cover about 68%
    covered = []
    for rep in range(40):
        Z, y, _ = length_design(500, seed=100 + rep)
        est = AMCEEstimator().fit(Z, y)
        lower, upper = est.effect_interval()
        truth = expit(COEF * est.factor_steps_)
        covered.append((lower <= truth) & (truth <= upper))
    assert np.mean(covered) >= 0.86


def test_soft_outcomes_fit_a_fractional_logit_with_robust_errors():
    Z, _, proba = length_design(1500, seed=2)
    # outcomes that are exactly the BTL probabilities: coefficients recovered
    exact = AMCEEstimator().fit(Z, proba)
    np.testing.assert_allclose(exact.coef_, COEF, rtol=1e-6)
    assert exact.stderr_.max() < 1e-8
    # noisy probabilities, as a reward model gives: the robust (sandwich)
    # covariance, not the inverse information of Bernoulli labels
    rng = np.random.default_rng(3)
    noisy = expit(np.log(proba / (1 - proba)) + rng.normal(0, 1.0, proba.size))
    est = AMCEEstimator().fit(Z, noisy)
    X = np.column_stack([Z["length_a"] - Z["length_b"], Z["polite_a"] - Z["polite_b"]])
    p = expit(X @ est.coef_)
    bread = np.linalg.inv(X.T @ (X * (p * (1 - p))[:, None]))
    scores = X * (noisy - p)[:, None]
    n = len(p)
    sandwich = bread @ (scores.T @ scores) @ bread * n / (n - 1)
    np.testing.assert_allclose(est.coef_cov_, sandwich, rtol=1e-6)
    boot = AMCEEstimator(inference="bootstrap", n_bootstrap=300, random_state=0)
    boot.fit(Z, noisy)
    np.testing.assert_allclose(boot.stderr_, est.stderr_, rtol=0.25)


def test_soft_outcomes_need_the_builtin_model():
    Z, _, proba = length_design(200, seed=4)
    user = AMCEEstimator(estimator=LogisticRegression(), inference="bootstrap")
    with pytest.raises(ValueError, match="soft outcomes .* built-in BTL model only"):
        user.fit(Z, proba)


def test_effects_by_subgroup_are_those_of_each_subgroup_alone():
    Z, y, _ = length_design(3000, seed=5)
    objective = np.where(np.arange(3000) % 3 == 0, "harmless", "helpful")
    est = AMCEEstimator().fit(Z, y, by=objective)
    pooled = AMCEEstimator().fit(Z, y)
    np.testing.assert_allclose(est.effects_, pooled.effects_)
    assert est.groups_.tolist() == ["harmless", "helpful"]
    assert est.group_n_pairs_.tolist() == [1000, 2000]
    for g, label in enumerate(est.groups_):
        rows = objective == label
        # the subgroup's own density m, the steps of all pairs
        alone = AMCEEstimator(step={"length": est.factor_steps_[0]}).fit(
            Z[rows], y[rows]
        )
        np.testing.assert_allclose(est.group_effects_[g], alone.effects_)
        np.testing.assert_allclose(est.group_stderr_[g], alone.stderr_)
        np.testing.assert_allclose(
            est.effect_interval(group=label), alone.effect_interval()
        )
    frame = est.summary_frame()
    assert frame.index.names == ["group", "factor"]
    assert frame.index.tolist()[:3] == [
        ("pooled", "length"),
        ("pooled", "polite"),
        ("harmless", "length"),
    ]
    np.testing.assert_allclose(
        frame.loc["helpful", "point_estimate"], est.group_effects_[1]
    )


def test_effects_by_subgroup_differ_where_the_reward_does():
    rng = np.random.default_rng(6)
    Z, _, _ = length_design(4000, seed=6)
    group = rng.integers(0, 2, 4000)
    # group 1 prefers shorter responses
    sign = np.where(group == 1, -1.0, 1.0)
    margin = sign * COEF[0] * (Z["length_a"] - Z["length_b"])
    y = (rng.random(4000) < expit(margin)).astype(int)
    est = AMCEEstimator().fit(Z[["length_a", "length_b"]], y, by=group)
    lower, upper = est.effect_interval(group=1)
    assert upper[0] < 0.5 < est.effect_interval(group=0)[0][0]


def test_by_errors_name_the_subgroup():
    Z, y, _ = length_design(300, seed=7)
    with pytest.raises(ValueError, match=r"by of shape \(300,\)"):
        AMCEEstimator().fit(Z, y, by=[0, 1])
    with pytest.raises(ValueError, match="by holds a missing label .* pair 3"):
        AMCEEstimator().fit(Z, y, by=np.where(np.arange(300) == 3, None, "x"))
    with pytest.raises(ValueError, match="'pooled' names the effects over all"):
        AMCEEstimator().fit(Z, y, by=np.where(np.arange(300) < 9, "pooled", "x"))
    fixed = Z.copy()
    fixed.loc[:149, "polite_b"] = fixed.loc[:149, "polite_a"]
    with pytest.raises(ValueError, match="subgroup by=False.*'polite' never differs"):
        AMCEEstimator().fit(fixed, y, by=np.arange(300) >= 150)
    est = AMCEEstimator().fit(Z, y, by=np.arange(300) % 2)
    with pytest.raises(ValueError, match="group=7 is not a subgroup .* \\[0, 1\\]"):
        est.effect_interval(group=7)
    with pytest.raises(ValueError, match="subgroup by=True.*only one class"):
        AMCEEstimator().fit(Z, y, by=np.where(y == 1, np.arange(300) < 40, False))


def test_summary_prints_the_estimand_and_the_table():
    Z, y, _ = length_design(800, seed=8)
    est = AMCEEstimator(step={"length": 50.0}).fit(Z, y, by=np.arange(800) % 2)
    summary = est.summary(alpha=0.1)
    assert isinstance(summary, EffectSummary)
    pd.testing.assert_frame_equal(summary.frame, est.summary_frame(alpha=0.1))
    text = str(summary)
    assert "eq. 6" in text.splitlines()[0]
    assert "confidence level  90%" in text
    assert "continuous step   {'length': 50.0}" in text
    assert "pooled" in text and "polite" in text
    assert repr(summary) == (
        "EffectSummary('Average Marginal Component Effects, P(with > without) "
        "(eq. 6)', 6 effects)"
    )
