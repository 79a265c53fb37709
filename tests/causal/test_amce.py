"""AMCEEstimator against designs whose AMCE is known in closed form.

For binary factors with profiles ``z`` drawn from a pmf ``p`` over ``{0, 1}^K`` and
``P(a > b) = sigmoid(r(z_a) - r(z_b))``, eq. 6 of the paper is the finite sum::

    AMCE_k = sum_z p(z) * sigmoid(r(z with z_k = 1) - r(z with z_k = 0))

(summing ``p`` over both values of ``z_k`` gives the marginal ``m(z^{-k})``); with
``m`` uniform, ``p`` is replaced by ``2^-K``. Without interactions every term is
``sigmoid(coef_k)``.
"""

import itertools

import numpy as np
import pytest
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skpref.causal import AMCEEstimator
from skpref.causal._amce_numerics import btl_features, fit_btl
from tests.causal.amce_designs import make_binary_factor_pairs

COEF = np.array([1.0, -0.5, 0.3])
INTERACTION = np.array([[0, 0.8, 0], [0, 0, -0.9], [0, 0, 0]])
TABLE = np.array(list(itertools.product([0.0, 1.0], repeat=3)))
# correlated, unbalanced factors: z_1 = 1 is three times as likely as z_1 = 0, and
# profiles with z_0 == z_2 are twice as likely as the others
PMF = np.where(TABLE[:, 1] == 1, 3.0, 1.0) * np.where(TABLE[:, 0] == TABLE[:, 2], 2, 1)
PMF /= PMF.sum()


def true_amce(coef, interaction, pmf):
    def reward(z):
        return sum(coef[j] * z[j] for j in range(len(z))) + sum(
            interaction[j][m] * z[j] * z[m]
            for j in range(len(z))
            for m in range(j + 1, len(z))
        )

    table = list(itertools.product([0.0, 1.0], repeat=len(coef)))
    truth = []
    for k in range(len(coef)):
        total = 0.0
        for z, p in zip(table, pmf, strict=True):
            on, off = list(z), list(z)
            on[k], off[k] = 1.0, 0.0
            total += p * expit(reward(on) - reward(off))
        truth.append(total)
    return np.array(truth)


TRUTH_EMPIRICAL = true_amce(COEF, INTERACTION, PMF)
TRUTH_UNIFORM = true_amce(COEF, INTERACTION, np.full(8, 1 / 8))


def design(n, seed, cluster_size=1):
    return make_binary_factor_pairs(
        n,
        COEF,
        interaction=INTERACTION,
        profile_proba=PMF,
        cluster_size=cluster_size,
        random_state=seed,
    )


def test_the_two_densities_define_different_estimands():
    # otherwise the tests below could not tell them apart
    assert np.abs(TRUTH_EMPIRICAL - TRUTH_UNIFORM).max() > 0.02


@pytest.mark.parametrize(
    "density, truth", [("empirical", TRUTH_EMPIRICAL), ("uniform", TRUTH_UNIFORM)]
)
def test_converges_to_the_closed_form(density, truth):
    errors = []
    for n in (500, 40000):
        Z, y, _ = design(n, seed=n)
        est = AMCEEstimator(interactions=True, density=density).fit(Z, y)
        errors.append(np.abs(est.effects_ - truth).max())
        # the truth lies within 4 standard errors
        assert np.all(np.abs(est.effects_ - truth) < 4 * est.stderr_)
    assert errors[1] < 0.015
    assert errors[1] < errors[0]


def test_without_interactions_effects_are_sigmoid_of_coef():
    Z, y, _ = make_binary_factor_pairs(3000, COEF, random_state=0)
    for density in ("empirical", "uniform"):
        est = AMCEEstimator(density=density).fit(Z, y)
        np.testing.assert_allclose(est.effects_, expit(est.coef_))
    np.testing.assert_allclose(est.effects_, expit(COEF), atol=0.03)
    # the delta method of sigmoid(beta): sigmoid' * se(beta) (uniform m is fixed)
    np.testing.assert_allclose(
        est.stderr_,
        expit(est.coef_) * (1 - expit(est.coef_)) * np.sqrt(np.diag(est.coef_cov_)),
    )


def test_single_factor():
    Z, y, _ = make_binary_factor_pairs(2000, [0.7], random_state=0)
    est = AMCEEstimator(density="uniform").fit(Z, y)
    assert est.effects_.shape == (1,)
    assert est.effects_[0] == pytest.approx(expit(0.7), abs=0.04)


def _unpenalised_logistic(**params):
    # C=np.inf is "no penalty": penalty=None is deprecated since scikit-learn 1.8
    return LogisticRegression(
        C=np.inf, fit_intercept=False, tol=1e-12, max_iter=10_000, **params
    )


def test_coef_matches_unpenalised_logistic_regression():
    Z, y, _ = design(2000, seed=3)
    est = AMCEEstimator(interactions=True).fit(Z, y)
    design_matrix = btl_features(Z[:, :3], True) - btl_features(Z[:, 3:], True)
    reference = _unpenalised_logistic().fit(design_matrix, y)
    np.testing.assert_allclose(est.coef_, reference.coef_[0], atol=1e-5)


def test_batched_newton_solver_equals_logistic_regression_fit_by_fit():
    # every row of the batch (bootstrap counts) is its own weighted fit; the
    # penalised fit is scikit-learn's with C = 1 / alpha
    Z, y, _ = design(800, seed=9)
    X = Z[:, :3] - Z[:, 3:]
    weights = np.random.default_rng(0).multinomial(800, np.full(800, 1 / 800), 4)
    weights = np.vstack([np.ones(800), weights]).astype(float)
    for alpha in (0.0, 2.0):
        beta, hessian = fit_btl(X, y.astype(float), weights, alpha=alpha, owner="t")
        for row, w in enumerate(weights):
            C = np.inf if alpha == 0 else 1 / alpha
            reference = _unpenalised_logistic().set_params(C=C)
            reference.fit(X, y, sample_weight=w)
            np.testing.assert_allclose(beta[row], reference.coef_[0], atol=1e-6)
        # the returned Hessian is the observed information at beta
        p = expit(X @ beta[0])
        information = X.T @ (weights[0, :, None] * (p * (1 - p))[:, None] * X)
        np.testing.assert_allclose(hessian[0], information + alpha * np.eye(3))


def test_covariance_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    Z, y, groups = design(1500, seed=10, cluster_size=3)
    X = Z[:, :3] - Z[:, 3:]
    result = sm.Logit(y, X).fit(disp=0)
    naive = AMCEEstimator().fit(Z, y)
    np.testing.assert_allclose(naive.coef_, result.params, atol=1e-6)
    np.testing.assert_allclose(naive.coef_cov_, result.cov_params(), rtol=1e-4)
    clustered = sm.Logit(y, X).fit(
        disp=0, cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False}
    )
    robust = AMCEEstimator().fit(Z, y, groups=groups)
    n_clusters = np.unique(groups).size
    np.testing.assert_allclose(
        robust.coef_cov_,
        clustered.cov_params() * n_clusters / (n_clusters - 1),
        rtol=1e-4,
    )


def test_user_estimator_gives_the_same_effects_as_the_builtin():
    Z, y, _ = design(1500, seed=4)
    difference = FunctionTransformer(lambda P: P[:, :3] - P[:, 3:])
    logistic = make_pipeline(
        difference, LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-10)
    )
    builtin = AMCEEstimator(inference="bootstrap", n_bootstrap=30, random_state=0)
    user = AMCEEstimator(
        estimator=logistic, inference="bootstrap", n_bootstrap=30, random_state=0
    )
    builtin.fit(Z, y)
    user.fit(Z, y)
    np.testing.assert_allclose(user.effects_, builtin.effects_, atol=1e-4)
    np.testing.assert_allclose(
        user.bootstrap_effects_, builtin.bootstrap_effects_, atol=1e-3
    )
    assert hasattr(user, "estimator_") and not hasattr(user, "coef_")


def test_bootstrap_and_analytic_stderr_agree():
    Z, y, _ = design(2000, seed=5)
    analytic = AMCEEstimator(interactions=True).fit(Z, y)
    boot = AMCEEstimator(
        interactions=True, inference="bootstrap", n_bootstrap=300, random_state=0
    ).fit(Z, y)
    np.testing.assert_allclose(boot.effects_, analytic.effects_)
    np.testing.assert_allclose(boot.stderr_, analytic.stderr_, rtol=0.2)
    assert boot.bootstrap_effects_.shape == (300, 3)
    np.testing.assert_allclose(boot.stderr_, boot.bootstrap_effects_.std(0, ddof=1))


def test_seeded_bootstrap_is_reproducible():
    Z, y, _ = design(400, seed=6)
    params = dict(inference="bootstrap", n_bootstrap=20, random_state=1)
    a = AMCEEstimator(**params).fit(Z, y).bootstrap_effects_
    b = AMCEEstimator(**params).fit(Z, y).bootstrap_effects_
    np.testing.assert_array_equal(a, b)
    # each pair its own cluster is the pair bootstrap
    c = AMCEEstimator(**params).fit(Z, y, groups=np.arange(400)).bootstrap_effects_
    np.testing.assert_array_equal(a, c)


def test_clusters_widen_the_standard_errors():
    # every cluster is one pair labelled 5 times: 5 times fewer independent pairs
    Z, y, groups = design(2500, seed=7, cluster_size=5)
    naive = AMCEEstimator(interactions=True).fit(Z, y)
    clustered = AMCEEstimator(interactions=True).fit(Z, y, groups=groups)
    ratio = clustered.stderr_ / naive.stderr_
    assert np.all((ratio > 1.7) & (ratio < 2.8))  # about sqrt(5) = 2.24
    boot = AMCEEstimator(
        interactions=True, inference="bootstrap", n_bootstrap=200, random_state=0
    ).fit(Z, y, groups=groups)
    np.testing.assert_allclose(boot.stderr_, clustered.stderr_, rtol=0.25)


def test_summary_frame_and_interval():
    Z, y, _ = design(1000, seed=8)
    est = AMCEEstimator(factor_names=["a", "b", "c"]).fit(Z, y)
    frame = est.summary_frame(alpha=0.1)
    assert list(frame.index) == ["a", "b", "c"]
    lower, upper = est.effect_interval(alpha=0.1)
    np.testing.assert_allclose(frame["ci_lower"], lower)
    np.testing.assert_allclose(upper - est.effects_, 1.6448536 * est.stderr_)
    np.testing.assert_allclose(frame["zstat"], (est.effects_ - 0.5) / est.stderr_)
    # a strong effect (factor a) is significant, p-values are two-sided
    assert frame.loc["a", "pvalue"] < 1e-6
    z = est.summary_frame(null_value=est.effects_[1])
    assert z.loc["b", "zstat"] == pytest.approx(0) and z.loc["b", "pvalue"] == 1.0
    wide = est.effect_interval(alpha=0.01)
    assert np.all(wide[0] < lower) and np.all(wide[1] > upper)


def _coverage(n_reps, n_pairs, inference, seed0, **params):
    covered, estimates, stderrs = [], [], []
    for rep in range(n_reps):
        Z, y, _ = design(n_pairs, seed=seed0 + rep)
        est = AMCEEstimator(
            interactions=True, inference=inference, random_state=rep, **params
        ).fit(Z, y)
        lower, upper = est.effect_interval(alpha=0.05)
        covered.append((lower <= TRUTH_EMPIRICAL) & (TRUTH_EMPIRICAL <= upper))
        estimates.append(est.effects_)
        stderrs.append(est.stderr_)
    estimates, stderrs = np.array(estimates), np.array(stderrs)
    sd_ratio = stderrs.mean(axis=0) / estimates.std(axis=0, ddof=1)
    return np.mean(covered), sd_ratio


def test_coverage_fast():
    # 40 reps x 3 factors: a halved stderr would cover ~68%, a doubled one ~100%
    # with sd_ratio ~2; both fail these bounds
    coverage, sd_ratio = _coverage(40, 600, "analytic", seed0=100)
    assert coverage >= 0.86
    assert np.all((sd_ratio > 0.75) & (sd_ratio < 1.33))
    coverage, sd_ratio = _coverage(12, 600, "bootstrap", seed0=200, n_bootstrap=60)
    assert coverage >= 0.8
    assert np.all((sd_ratio > 0.6) & (sd_ratio < 1.6))


@pytest.mark.slow
def test_coverage_analytic_slow():
    coverage, sd_ratio = _coverage(500, 800, "analytic", seed0=1000)
    assert 0.93 <= coverage <= 0.97
    assert np.all((sd_ratio > 0.9) & (sd_ratio < 1.1))


@pytest.mark.slow
def test_coverage_bootstrap_slow():
    coverage, sd_ratio = _coverage(150, 800, "bootstrap", seed0=5000, n_bootstrap=200)
    assert 0.93 <= coverage <= 0.97
    assert np.all((sd_ratio > 0.85) & (sd_ratio < 1.15))


# --------------------------------------------------------------- warnings


def test_separation_warns():
    Z = np.array([[1, 0, 0, 1], [0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]] * 10, float)
    y = np.array([1, 0, 1, 0] * 10)
    with pytest.warns(ConvergenceWarning, match="nearly\\) separated"):
        AMCEEstimator().fit(Z, y)


def test_separation_is_told_from_the_logits_whatever_the_units():
    # a continuous factor that orders every pair: separated in any units
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] > x[:, 1]).astype(int)
    for unit in (1e-3, 1e3):
        with pytest.warns(ConvergenceWarning, match="nearly\\) separated"):
            est = AMCEEstimator().fit(x * unit, y)
        assert est.effects_[0] > 1 - 1e-9


@pytest.mark.parametrize("unit", [1e-2, 1e-4, 1e4])
def test_newton_steps_do_not_depend_on_the_units_of_a_factor(unit):
    # a factor in small units has a large coefficient (1 / unit per std), which
    # neither caps the fit nor reads as separation (warnings are errors here)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 2))
    y = (rng.random(3000) < expit(x[:, 0] - x[:, 1])).astype(int)
    plain = AMCEEstimator().fit(x, y)
    rescaled = AMCEEstimator().fit(x * unit, y)
    np.testing.assert_allclose(rescaled.effects_, plain.effects_, rtol=1e-9)
    np.testing.assert_allclose(rescaled.stderr_, plain.stderr_, rtol=1e-6)
    np.testing.assert_allclose(rescaled.coef_ * unit, plain.coef_, rtol=1e-9)
