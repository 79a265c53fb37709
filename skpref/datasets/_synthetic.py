"""Synthetic preference data with known ground truth, after the paper's causal models.

Both generators separate two sources of randomness: ``feature_map_seed`` fixes the
map from latent factors to embedding-like features (the "LLM"), and
``random_state`` draws the pairs. Train and test sets drawn with different
``random_state`` and the same ``feature_map_seed`` therefore share one embedding.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch, check_random_state

from skpref.utils import Interval, validate_params


class _FeatureMap:
    """A fixed random non-linear map from latent factors to d features.

    ``e = W tanh(A [inputs] + b) + V u``: a one-hidden-layer random network of the
    inputs (latent factors, and the prompt type where given) plus ``n_nuisance``
    independent nuisance factors ``u`` mixed into every feature, so that no single
    coordinate reads out a latent factor.
    """

    def __init__(self, n_inputs, n_features, n_nuisance, seed):
        rng = np.random.RandomState(seed)
        n_hidden = max(2 * n_inputs, n_features - n_nuisance)
        self.A = rng.normal(scale=1.0 / np.sqrt(n_inputs), size=(n_inputs, n_hidden))
        self.b = rng.normal(scale=0.5, size=n_hidden)
        self.W = rng.normal(scale=1.0 / np.sqrt(n_hidden), size=(n_hidden, n_features))
        self.V = rng.normal(
            scale=0.5 / np.sqrt(max(n_nuisance, 1)), size=(n_nuisance, n_features)
        )
        self.n_nuisance = n_nuisance

    def __call__(self, inputs, rng):
        hidden = np.tanh(inputs @ self.A + self.b)
        nuisance = rng.normal(size=(len(inputs), self.n_nuisance))
        return hidden @ self.W + nuisance @ self.V


def _labels(margin, label_noise, rng):
    """Noise-free labels ``1[margin > 0]`` and BTL-sampled ones at temperature."""
    y_true = (margin > 0).astype(np.int64)
    if label_noise == 0:
        return y_true.copy(), y_true
    p = 1.0 / (1.0 + np.exp(-margin / label_noise))
    return (rng.uniform(size=len(margin)) < p).astype(np.int64), y_true


@validate_params(
    {
        "n_pairs": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 2, None, closed="left")],
        "rho": [Interval(Real, -1, 1, closed="neither")],
        "weights": ["array-like"],
        "n_nuisance": [Interval(Integral, 0, None, closed="left")],
        "label_noise": [Interval(Real, 0, None, closed="left")],
        "feature_map_seed": [Interval(Integral, 0, 2**32 - 1, closed="both")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_latent_preferences(
    n_pairs=2000,
    *,
    n_features=32,
    rho=0.0,
    weights=(0.25, 0.75),
    n_nuisance=4,
    label_noise=0.0,
    feature_map_seed=0,
    random_state=None,
):
    """Preference pairs driven by latent factors with a controlled correlation ρ.

    Each response has latent factors ``z`` (e.g. truthfulness and instruction
    following), drawn ``z ~ N(0, Σ)`` with ``corr(z_1, z_2) = rho``, so that the
    pair differences ``δ = z_a - z_b`` have ``corr(δ_1, δ_2) = rho`` as in the
    paper's appendix D.1. The features of a response are a fixed random non-linear
    map of ``z`` plus nuisance factors; the reward is ``r(z) = weights · z``
    (paper: ``0.25 z_1 + 0.75 z_2``) and ``y = 1[r(z_a) > r(z_b)]``.

    Parameters
    ----------
    n_pairs : int, default=2000
        Number of pairs.
    n_features : int, default=32
        Features per response (``d``); ``X`` has ``2 * d`` columns.
    rho : float in (-1, 1), default=0.0
        Correlation of the first two latent factors, and so of ``δ_1, δ_2``.
    weights : array-like of shape (n_latents,), default=(0.25, 0.75)
        Reward weights; their length sets the number of latent factors (>= 2).
        Factors beyond the first two are independent.
    n_nuisance : int, default=4
        Nuisance factors per response, mixed into the features, with no effect on
        the reward.
    label_noise : float, default=0.0
        Temperature of BTL label noise: ``P(y = 1) = sigmoid(Δr / label_noise)``.
        ``0`` gives noise-free labels.
    feature_map_seed : int, default=0
        Seed of the latent-to-feature map, in ``[0, 2**32 - 1]``; keep it fixed
        across train and test. An integer, so that every call draws the same
        map (None or a ``RandomState`` would not).
    random_state : int, RandomState instance or None, default=None
        Seed of the sampled pairs.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``X`` (n_pairs, 2 * n_features) float32 pair features; ``y`` labels (noisy
        if ``label_noise > 0``); ``y_true`` noise-free labels; ``Z_a``, ``Z_b``
        (n_pairs, n_latents) latent factors; ``delta = Z_a - Z_b``; ``reward_a``,
        ``reward_b`` true rewards; ``weights``.

    Examples
    --------
    >>> from skpref.datasets import make_latent_preferences
    >>> data = make_latent_preferences(n_pairs=5000, rho=0.6, random_state=0)
    >>> data.X.shape
    (5000, 64)
    >>> round(float(np.corrcoef(data.delta.T)[0, 1]), 1)
    0.6
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 1 or weights.size < 2:
        raise ValueError(
            "make_latent_preferences needs weights for at least two latent factors; "
            f"got {weights.tolist()}."
        )
    rng = check_random_state(random_state)
    k = weights.size
    cov = np.eye(k)
    cov[0, 1] = cov[1, 0] = rho
    Z = rng.multivariate_normal(np.zeros(k), cov, size=2 * n_pairs)
    Z_a, Z_b = Z[:n_pairs], Z[n_pairs:]
    feature_map = _FeatureMap(k, n_features, n_nuisance, feature_map_seed)
    X = np.hstack([feature_map(Z_a, rng), feature_map(Z_b, rng)]).astype(np.float32)
    reward_a, reward_b = Z_a @ weights, Z_b @ weights
    y, y_true = _labels(reward_a - reward_b, label_noise, rng)
    return Bunch(
        X=X,
        y=y,
        y_true=y_true,
        Z_a=Z_a,
        Z_b=Z_b,
        delta=Z_a - Z_b,
        reward_a=reward_a,
        reward_b=reward_b,
        weights=weights,
    )


@validate_params(
    {
        "n_pairs": [Interval(Integral, 2, None, closed="left")],
        "n_features": [Interval(Integral, 2, None, closed="left")],
        "rho": [Interval(Real, 0, 1, closed="both")],
        "objective_weights": ["array-like"],
        "type_strength": [Interval(Real, 0, None, closed="left")],
        "type_latent_scale": [Interval(Real, 0, None, closed="neither")],
        "n_nuisance": [Interval(Integral, 0, None, closed="left")],
        "label_noise": [Interval(Real, 0, None, closed="left")],
        "feature_map_seed": [Interval(Integral, 0, 2**32 - 1, closed="both")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_confounded_preferences(
    n_pairs=2000,
    *,
    n_features=32,
    rho=0.5,
    objective_weights=((0.9, 0.1), (0.1, 0.9)),
    type_strength=2.0,
    type_latent_scale=1.0,
    n_nuisance=4,
    label_noise=0.0,
    feature_map_seed=0,
    random_state=None,
):
    """Preference pairs whose labeller objective is confounded with the prompt type.

    The causal model of the paper's section 4 (Figure 2a, Example 4): each pair has
    a prompt type ``t`` (e.g. helpful vs. harmless prompts) that is easy to read
    from the features, and a labeller objective ``c``; the labeller scores the
    responses' latent factors ``z`` with the objective's own reward
    ``r_c(z) = objective_weights[c] · z``. Objectives are balanced (equal counts)
    and ``rho = P(t = c)`` sets the confounding: ``0.5`` is none, ``1.0`` is the
    original HH-RLHF situation where the objective is determined by the type.

    The prompt type enters the features through the same non-linear map as the
    latent factors (the map's input is ``[z, type_strength * t]``), so it is
    entangled with them rather than sitting in separate columns.

    Parameters
    ----------
    n_pairs : int, default=2000
        Number of pairs.
    n_features : int, default=32
        Features per response (``d``); ``X`` has ``2 * d + 1`` columns.
    rho : float in [0, 1], default=0.5
        ``P(type = objective)``.
    objective_weights : array-like of shape (2, n_latents)
        Reward weights of each objective over the latent factors.
        Default ``((0.9, 0.1), (0.1, 0.9))``.
    type_strength : float, default=2.0
        Scale of the prompt type in the feature map's input.
    type_latent_scale : float, default=1.0
        Limited latent overlap between prompt types (Example 4: ``P(Z | type)``
        differs by type): the latent factor ``k`` of a response to a prompt of
        type ``t = k`` has standard deviation ``type_latent_scale``, the other
        factors ``1``. With a value above 1, harmful prompts mostly vary in
        harmlessness and helpful prompts in helpfulness. ``1`` (the default)
        draws every factor from ``N(0, 1)`` whatever the type.
    n_nuisance : int, default=4
        Nuisance factors per response.
    label_noise : float, default=0.0
        Temperature of BTL label noise (``0``: noise-free labels).
    feature_map_seed : int, default=0
        Seed of the feature map, in ``[0, 2**32 - 1]``; keep it fixed across
        train and test (an integer: every call draws the same map).
    random_state : int, RandomState instance or None, default=None
        Seed of the sampled pairs.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``X`` (n_pairs, 2 * n_features + 1) float32, last column the objective id;
        ``y`` labels under each pair's objective; ``y_true`` noise-free labels;
        ``y_by_objective`` (n_pairs, n_objectives) noise-free labels under every
        objective; ``prompt_type``; ``objective``; ``consistent`` (type ==
        objective); ``Z_a``, ``Z_b``.

    Examples
    --------
    >>> from skpref.datasets import make_confounded_preferences
    >>> data = make_confounded_preferences(n_pairs=1000, rho=0.8, random_state=0)
    >>> data.X.shape
    (1000, 65)
    >>> float(data.consistent.mean())
    0.8
    >>> np.bincount(data.objective).tolist()
    [500, 500]
    """
    W = np.asarray(objective_weights, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] < 2 or W.shape[0] > 2:
        raise ValueError(
            "make_confounded_preferences needs objective_weights of shape (2, "
            f"n_latents), one row per objective; got shape {W.shape}."
        )
    rng = check_random_state(random_state)
    objective = np.repeat([0, 1], [n_pairs // 2, n_pairs - n_pairs // 2])
    n_consistent = int(round(rho * n_pairs))
    consistent = np.zeros(n_pairs, dtype=bool)
    consistent[rng.choice(n_pairs, size=n_consistent, replace=False)] = True
    prompt_type = np.where(consistent, objective, 1 - objective)
    order = rng.permutation(n_pairs)
    objective, prompt_type, consistent = (
        objective[order],
        prompt_type[order],
        consistent[order],
    )

    k = W.shape[1]
    Z_a, Z_b = rng.normal(size=(n_pairs, k)), rng.normal(size=(n_pairs, k))
    if type_latent_scale != 1.0:
        scale = np.where(np.arange(k) == prompt_type[:, None], type_latent_scale, 1.0)
        Z_a, Z_b = Z_a * scale, Z_b * scale
    feature_map = _FeatureMap(k + 1, n_features, n_nuisance, feature_map_seed)
    t = (type_strength * (2 * prompt_type - 1))[:, None]
    E_a = feature_map(np.hstack([Z_a, t]), rng)
    E_b = feature_map(np.hstack([Z_b, t]), rng)
    X = np.hstack([E_a, E_b, objective[:, None]]).astype(np.float32)

    margins = (Z_a - Z_b) @ W.T  # (n_pairs, n_objectives)
    y_by_objective = (margins > 0).astype(np.int64)
    y, y_true = _labels(margins[np.arange(n_pairs), objective], label_noise, rng)
    return Bunch(
        X=X,
        y=y,
        y_true=y_true,
        y_by_objective=y_by_objective,
        prompt_type=prompt_type,
        objective=objective,
        consistent=consistent,
        Z_a=Z_a,
        Z_b=Z_b,
        objective_weights=W,
    )
