"""The confounded generator's limited-overlap option used by the protocol."""

import numpy as np
import pytest

from skpref.datasets import make_confounded_preferences


def test_type_latent_scale_limits_overlap_between_prompt_types():
    data = make_confounded_preferences(
        n_pairs=4000, n_features=8, rho=0.5, type_latent_scale=3.0, random_state=0
    )
    for t in (0, 1):
        rows = data.prompt_type == t
        std = data.Z_a[rows].std(axis=0)
        assert std[t] == pytest.approx(3.0, rel=0.1)  # the type's own factor
        assert std[1 - t] == pytest.approx(1.0, rel=0.1)


def test_type_latent_scale_default_changes_nothing():
    kwargs = {"n_pairs": 300, "n_features": 8, "rho": 0.7, "random_state": 3}
    default = make_confounded_preferences(**kwargs)
    explicit = make_confounded_preferences(type_latent_scale=1.0, **kwargs)
    np.testing.assert_array_equal(default.X, explicit.X)
    np.testing.assert_array_equal(default.y, explicit.y)


def test_type_latent_scale_must_be_positive():
    with pytest.raises(ValueError, match="type_latent_scale"):
        make_confounded_preferences(n_pairs=10, type_latent_scale=0.0)
