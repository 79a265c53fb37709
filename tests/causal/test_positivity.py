import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from skpref.causal import (
    PositivityWarning,
    disagreement_quadrant_mass,
    disagreement_share,
    latent_positivity_report,
)


@pytest.mark.parametrize(
    "rho, mass", [(0.0, 0.5), (1.0, 0.0), (-1.0, 1.0), (0.5, 1 / 3), (-0.5, 2 / 3)]
)
def test_quadrant_mass_known_values(rho, mass):
    assert disagreement_quadrant_mass(rho) == pytest.approx(mass)


@given(rho=st.floats(-0.95, 0.95))
def test_quadrant_mass_matches_bivariate_normal_cdf(rho):
    # P(d1 < 0, d2 < 0) from scipy; the disagreement quadrants are 1 - 2 * that
    both_negative = multivariate_normal(cov=[[1, rho], [rho, 1]]).cdf([0.0, 0.0])
    assert disagreement_quadrant_mass(rho) == pytest.approx(
        1 - 2 * both_negative, abs=1e-4
    )


@given(rho=st.floats(-0.9, 0.9), seed=st.integers(0, 1000))
def test_quadrant_mass_matches_simulation(rho, seed):
    rng = np.random.default_rng(seed)
    delta = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=40000)
    # binomial sd at n = 40000 is at most 0.0025
    assert disagreement_share(delta) == pytest.approx(
        disagreement_quadrant_mass(rho), abs=0.0125
    )


def test_quadrant_mass_vectorised():
    np.testing.assert_allclose(
        disagreement_quadrant_mass(np.array([0.0, 1.0])), [0.5, 0.0]
    )


def test_disagreement_share_counts_strict_sign_disagreement():
    delta = np.array([[1, -1], [1, 1], [-2, 3], [0, 1], [0, 0], [-1, -4]])
    assert disagreement_share(delta) == pytest.approx(2 / 6)
    assert disagreement_share(np.column_stack([delta, -delta[:, 0]]), (0, 2)) == (
        pytest.approx(4 / 6)
    )


def test_report_on_gaussian_latents():
    rng = np.random.default_rng(0)
    rho = 0.6
    cov = np.array([[1, rho, 0], [rho, 1, 0], [0, 0, 1]])
    delta = rng.multivariate_normal(np.zeros(3), cov, size=5000)
    report = latent_positivity_report(delta, factor_names=["truth", "follow", "len"])
    pairs = report["factor_pairs"]
    first = pairs.iloc[0]
    assert (first["factor_a"], first["factor_b"]) == ("truth", "follow")
    assert first["n_informative"] == np.sum(delta[:, 0] * delta[:, 1] < 0)
    assert first["gaussian_share"] == pytest.approx(
        disagreement_quadrant_mass(first["correlation"])
    )
    assert first["disagreement_share"] == pytest.approx(
        first["gaussian_share"], abs=0.02
    )
    # n (1 - R^2): 5000 * 0.64 for the two correlated factors, about n for the third
    n_eff = report["factors"]["n_effective"]
    assert n_eff["truth"] == pytest.approx(5000 * (1 - rho**2), rel=0.05)
    assert n_eff["len"] == pytest.approx(5000, rel=0.01)
    assert report["min_n_effective"] == pytest.approx(n_eff.min())
    assert report.problems == []


def test_report_warns_when_factors_cannot_be_separated():
    rng = np.random.default_rng(1)
    delta = rng.multivariate_normal([0, 0], [[1, 0.995], [0.995, 1]], size=400)
    with pytest.warns(PositivityWarning, match="nearly confounded with the others"):
        with pytest.warns(PositivityWarning, match="cannot be told apart reliably"):
            report = latent_positivity_report(delta, min_informative=50)
    assert report["min_n_informative"] < 50
    assert any("Assumption 5" in problem for problem in report.problems)


def test_report_warns_on_a_factor_that_never_differs():
    rng = np.random.default_rng(0)
    delta = np.column_stack([rng.normal(size=300), np.zeros(300)])
    with pytest.warns(PositivityWarning, match="effective number of pairs of 0.0"):
        with pytest.warns(PositivityWarning, match="only 0 of 300 pairs"):
            report = latent_positivity_report(delta)
    assert np.isnan(report["factor_pairs"].loc[0, "correlation"])
