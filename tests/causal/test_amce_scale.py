"""AMCE of continuous factors of any magnitude (issue 25, class 7)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from skpref.causal import AMCEEstimator


def design(n_pairs=300, seed=0):
    """A binary and a continuous factor, with known positive effects."""
    rng = np.random.RandomState(seed)
    binary = rng.randint(2, size=(n_pairs, 2))
    level = rng.normal(size=(n_pairs, 2))
    Z = np.column_stack([binary[:, 0], level[:, 0], binary[:, 1], level[:, 1]])
    margin = (Z[:, 0] - Z[:, 2]) + (Z[:, 1] - Z[:, 3])
    y = (rng.uniform(size=n_pairs) < 1 / (1 + np.exp(-margin))).astype(int)
    return Z, y


@settings(max_examples=15)
@given(
    magnitude=st.floats(1e-300, 1e300).filter(lambda m: not 1e-15 < m < 1e15),
    interactions=st.booleans(),
)
def test_effects_do_not_depend_on_the_units_of_a_factor(magnitude, interactions):
    Z, y = design()
    scaled = Z.copy()
    scaled[:, [1, 3]] *= magnitude
    plain = AMCEEstimator(interactions=interactions).fit(Z, y)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        extreme = AMCEEstimator(interactions=interactions).fit(scaled, y)
    assert_allclose(extreme.effects_, plain.effects_, rtol=1e-7)
    assert_allclose(extreme.stderr_, plain.stderr_, rtol=1e-7)
    assert_allclose(extreme.factor_steps_, plain.factor_steps_ * [1, magnitude])
    # coefficients in the factor's own units (where they are representable)
    assert_allclose(extreme.coef_[0], plain.coef_[0], rtol=1e-7)
    if 1e-150 < magnitude < 1e150:
        assert_allclose(extreme.coef_[1] * magnitude, plain.coef_[1], rtol=1e-7)


def test_a_step_given_in_the_factor_s_units_and_bootstrap_subgroups():
    Z, y = design()
    scaled = Z.copy()
    scaled[:, [1, 3]] *= 1e200
    by = np.arange(len(y)) % 2
    kwargs = {"inference": "bootstrap", "n_bootstrap": 20, "random_state": 0}
    plain = AMCEEstimator(step={"factor_1": 2.0}, **kwargs).fit(Z, y, by=by)
    extreme = AMCEEstimator(step={"factor_1": 2e200}, **kwargs).fit(scaled, y, by=by)
    assert_allclose(extreme.effects_, plain.effects_, rtol=1e-7)
    assert_allclose(extreme.group_effects_, plain.group_effects_, rtol=1e-7)
    assert_allclose(extreme.bootstrap_effects_, plain.bootstrap_effects_, rtol=1e-7)
    assert extreme.factor_steps_[1] == 2e200


@pytest.mark.parametrize("l2_penalty", [0.0, 1.0])
def test_adding_a_constant_to_a_factor_changes_no_effect(l2_penalty):
    # a timestamp in ms: large values, small differences within pairs; integer
    # values, so that the offset leaves every difference exact
    Z, y = design(n_pairs=2000)
    Z[:, [1, 3]] = np.round(Z[:, [1, 3]] * 1000.0)
    params = {"step": {"factor_1": 1000.0}, "l2_penalty": l2_penalty}
    plain = AMCEEstimator(**params).fit(Z, y)
    for offset in (5.0e9, 1.7e12):
        shifted = Z.copy()
        shifted[:, [1, 3]] += offset
        moved = AMCEEstimator(**params).fit(shifted, y)
        assert_allclose(moved.effects_, plain.effects_, rtol=1e-12)
        assert_allclose(moved.stderr_, plain.stderr_, rtol=1e-9)
        assert_allclose(moved.coef_, plain.coef_, rtol=1e-12)
