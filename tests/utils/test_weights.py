"""Sample weights of any finite size: normalised without overflow (issue 25, 7)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal

from skpref import BTLRewardRegressor
from skpref.utils import check_weights

finite_weights = hnp.arrays(
    np.float64,
    st.integers(1, 40),
    elements=st.floats(0, np.finfo(np.float64).max, allow_subnormal=True),
).filter(lambda w: w.max() > 0)


@given(finite_weights)
def test_weights_sum_and_average_to_finite_positive_numbers(weight):
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        out = check_weights(weight, len(weight), owner="T")
        scaled = out / out.mean()
    assert np.isfinite(out.sum()) and out.mean() > 0 and np.isfinite(scaled).all()
    # every ratio that matters is exact: one power of two for all the weights
    kept = weight >= weight.max() * 2.0**-900
    factors = np.unique(out[kept] / weight[kept])
    assert len(factors) == 1 and np.frexp(factors[0])[0] == 0.5


@given(hnp.arrays(np.float64, st.integers(1, 40), elements=st.floats(1e-200, 1e200)))
def test_weights_of_ordinary_sizes_are_kept_bit_for_bit(weight):
    assert_array_equal(check_weights(weight, len(weight), owner="T"), weight)


def test_a_number_too_large_for_a_float_is_a_clear_error():
    with pytest.raises(ValueError, match="expects sample_weight to hold numbers"):
        check_weights([10**400, 1], 2, owner="T")


@pytest.fixture(scope="module")
def pairs():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 8))
    y = (X[:, 0] > X[:, 4]).astype(int)
    return X, y, rng.uniform(0.5, 3.0, size=80)


@pytest.mark.parametrize("factor", [2.0**1020, 2.0**-1000])
def test_a_fit_on_huge_or_tiny_weights_is_the_fit_on_their_ratios(pairs, factor):
    X, y, weight = pairs
    params = {"hidden_dim": 8, "latent_dim": 4, "max_epochs": 3, "random_state": 0}
    model = BTLRewardRegressor(**params).fit(X, y, sample_weight=weight)
    extreme = BTLRewardRegressor(**params).fit(X, y, sample_weight=weight * factor)
    assert_array_equal(extreme.predict_proba(X), model.predict_proba(X))
    assert np.isfinite(extreme.history_["train_loss"]).all()
    assert extreme.score(X, y, sample_weight=weight * factor) == model.score(
        X, y, sample_weight=weight
    )
