"""Data shared by the splitter tests."""

import numpy as np


def gaussian_delta(n, rho=0.0, seed=0):
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)


def confounded(n, seed=0, p_consistent=0.5):
    """Balanced objectives; prompt type equals the objective with p_consistent."""
    rng = np.random.default_rng(seed)
    objective = rng.integers(0, 2, n)
    same = rng.random(n) < p_consistent
    prompt_type = np.where(same, objective, 1 - objective)
    X = np.column_stack([rng.normal(size=(n, 4)), objective])
    return X, prompt_type, objective


def corr(delta, idx):
    return np.corrcoef(delta[idx, 0], delta[idx, 1])[0, 1]


# A small adversarial reward model that still learns, for the cross-validation tests
SMALL_ADVERSARIAL = dict(
    hidden_dim=32,
    latent_dim=16,
    head_hidden_dim=16,
    discriminator_hidden_dim=16,
    max_epochs=3,
    lr=1e-2,
    batch_size=64,
    validation_fraction=None,
    device="cpu",
    random_state=0,
)
