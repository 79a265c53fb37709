"""One AMCE computation: the effects of every factor and their standard errors.

:class:`~skpref.causal.AMCEEstimator` runs it on all pairs, then on the pairs of
each subgroup of ``by``; it holds no estimator state of its own.
"""

import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit
from sklearn.base import clone

from skpref.causal._amce_checks import check_identified
from skpref.causal._amce_numerics import (
    amce_from_proba,
    btl_features,
    coef_covariance,
    fit_btl,
    profiles,
)


@dataclass
class AMCESettings:
    """The estimator's parameters a computation needs, and the factors' steps."""

    estimator: object
    interactions: bool
    density: str
    inference: str
    n_bootstrap: int
    l2_penalty: float
    steps: list  # None for a binary factor, the increase for a continuous one
    owner: str
    names: list = field(default_factory=list)  # the factors'


@dataclass
class AMCEResult:
    """Effects, standard errors and the fitted pieces of one computation."""

    effects: np.ndarray
    stderr: np.ndarray
    coef: np.ndarray | None = None
    coef_cov: np.ndarray | None = None
    bootstrap_effects: np.ndarray | None = None
    estimator: object = field(default=None)


def compute_amce(settings, Z_pairs, y, clusters, rng, *, soft):
    """Estimate the AMCE of every factor on these pairs.

    Parameters
    ----------
    settings : AMCESettings
    Z_pairs : ndarray of shape (n_pairs, 2 * n_factors)
    y : ndarray of shape (n_pairs,)
        Hard labels or soft outcomes in ``[0, 1]``, float64.
    clusters : ndarray of shape (n_pairs,)
        Cluster of each pair, ``0..G-1``.
    rng : numpy.random.RandomState
        Source of the bootstrap draws.
    soft : bool
        Whether ``y`` holds soft outcomes (then the covariance is a sandwich).

    Returns
    -------
    result : AMCEResult
    """
    return _Computation(settings, Z_pairs, y, clusters).run(rng, soft)


class _Computation:
    def __init__(self, settings, Z_pairs, y, clusters):
        self.settings = settings
        n_factors = Z_pairs.shape[1] // 2
        self.n_factors = n_factors
        self.Z_pairs, self.y, self.clusters = Z_pairs, y, clusters
        self.Z_a, self.Z_b = Z_pairs[:, :n_factors], Z_pairs[:, n_factors:]
        responses = np.vstack([self.Z_a, self.Z_b])
        self.profiles = [
            profiles(responses, k, settings.density, settings.steps[k])
            for k in range(n_factors)
        ]

    def run(self, rng, soft):
        s = self.settings
        n_pairs = self.y.size
        ones = np.ones((1, n_pairs))
        design = grads = per_response = None
        if s.estimator is None:
            interactions = s.interactions
            design = btl_features(self.Z_a, interactions) - btl_features(
                self.Z_b, interactions
            )
            check_identified(design, _feature_names(s.names, design), owner=s.owner)
            beta, hessian = fit_btl(
                design, self.y, ones, alpha=s.l2_penalty, owner=s.owner
            )
            effects, grads, per_response = self._builtin_effects(beta, ones)
            result = AMCEResult(effects=effects[0], stderr=None, coef=beta[0])
            result.coef_cov = coef_covariance(
                design, self.y, beta[0], hessian[0], self.clusters, robust=soft
            )
        else:
            fitted = clone(s.estimator).fit(self.Z_pairs, self.y.astype(int))
            result = AMCEResult(
                effects=self._estimator_effects(fitted, ones)[0],
                stderr=None,
                estimator=fitted,
            )
        if s.inference == "analytic":
            result.stderr = self._analytic_stderr(result.coef_cov, grads, per_response)
        else:
            result.bootstrap_effects = self._bootstrap(rng, design)
            result.stderr = result.bootstrap_effects.std(axis=0, ddof=1)
        return result

    def _builtin_effects(self, beta, pair_weights):
        """AMCE per fit and factor, their gradients and per-response values."""
        response_weights = np.hstack([pair_weights, pair_weights])
        interactions = self.settings.interactions
        effects, grads, per_response = [], [], []
        for with_k, without_k, index in self.profiles:
            diff = btl_features(with_k, interactions) - btl_features(
                without_k, interactions
            )
            proba = expit(beta @ diff.T)
            amce, weights = amce_from_proba(proba, index, response_weights)
            effects.append(amce)
            grads.append((weights * proba * (1 - proba)) @ diff)
            per_response.append(None if index is None else proba[:, index])
        return np.stack(effects, axis=1), grads, per_response

    def _estimator_effects(self, estimator, pair_weights):
        response_weights = np.hstack([pair_weights, pair_weights])
        positive = int(np.flatnonzero(np.asarray(estimator.classes_) == 1)[0])
        effects = []
        for with_k, without_k, index in self.profiles:
            proba = estimator.predict_proba(np.hstack([with_k, without_k]))
            effects.append(
                amce_from_proba(proba[None, :, positive], index, response_weights)[0]
            )
        return np.stack(effects, axis=1)

    def _analytic_stderr(self, coef_cov, grads, per_response):
        n_pairs = self.clusters.size
        variances = []
        for k in range(self.n_factors):
            grad = grads[k][0]
            variance = grad @ coef_cov @ grad
            if per_response[k] is not None:
                # The empirical m is itself a sample: add the variance of its mean.
                values = per_response[k][0]
                per_pair = 0.5 * (values[:n_pairs] + values[n_pairs:])
                centred = np.bincount(self.clusters, per_pair - per_pair.mean())
                variance += np.sum(centred**2) / n_pairs**2
            variances.append(variance)
        return np.sqrt(np.asarray(variances))

    def _bootstrap(self, rng, design):
        s = self.settings
        n_clusters = self.clusters.max() + 1
        draws = rng.multinomial(
            n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=s.n_bootstrap
        )
        pair_weights = draws[:, self.clusters].astype(np.float64)
        if design is not None:
            beta, _ = fit_btl(
                design, self.y, pair_weights, alpha=s.l2_penalty, owner=s.owner
            )
            return self._builtin_effects(beta, pair_weights)[0]
        replicates = []
        for weights in pair_weights:
            rows = np.repeat(np.arange(self.y.size), weights.astype(int))
            fitted = clone(s.estimator).fit(
                self.Z_pairs[rows], self.y[rows].astype(int)
            )
            replicates.append(self._estimator_effects(fitted, weights[None, :])[0])
        return np.asarray(replicates)


def _feature_names(names, design):
    """Names of the reward features: the factors', then their products'."""
    products = [f"{a}*{b}" for a, b in itertools.combinations(names, 2)]
    return [*names, *products][: design.shape[1]]
