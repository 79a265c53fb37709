"""A concept constant up to rounding is constant, whatever its size (issue 25, 7)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from skpref.preprocessing import LinearConceptEraser


def pairs(n_pairs=150, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n_pairs, 2 * d)), rng


@given(
    level=st.floats(1e-250, 1e250) | st.floats(-1e250, -1e-250),
    ulps=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_a_concept_that_varies_by_rounding_only_is_refused(level, ulps, seed):
    X, rng = pairs(seed=seed)
    # values a few units in the last place apart, as sums in another order give
    noise = rng.integers(-ulps, ulps + 1, size=(len(X), 2)) * np.spacing(level)
    concept = level + noise
    with pytest.raises(ValueError, match=r"single value over all responses \(up"):
        LinearConceptEraser().fit(X, concept=concept)


@given(
    level=st.floats(1e-250, 1e250),
    relative=st.floats(1e-9, 1.0),
    seed=st.integers(0, 2**16),
)
def test_a_concept_that_really_varies_is_erased_at_any_scale(level, relative, seed):
    X, rng = pairs(seed=seed)
    concept = level * (1 + relative * rng.normal(size=(len(X), 2)))
    eraser = LinearConceptEraser().fit(X, concept=concept)
    assert eraser.rank_ == 1
    assert np.isfinite(eraser.transform(X)).all()


def test_a_near_constant_column_beside_a_real_one_changes_nothing():
    X, rng = pairs()
    real = rng.normal(size=(len(X), 2))
    flat = 0.1 + rng.integers(-2, 3, size=(len(X), 2)) * np.spacing(0.1)
    both = np.column_stack([real[:, 0], flat[:, 0], real[:, 1], flat[:, 1]])
    alone = LinearConceptEraser().fit(X, concept=real)
    together = LinearConceptEraser().fit(X, concept=both)
    assert together.rank_ == alone.rank_ == 1
    assert_allclose(together.transform(X), alone.transform(X), atol=1e-12)
