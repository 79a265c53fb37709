"""Numerics of the AMCE: reward features, a batched BTL fit, profiles, gradients.

Everything here works on plain arrays; a leading batch axis ``B`` carries bootstrap
replicates so that all of them are fitted in one Newton loop.
"""

import itertools
import warnings

import numpy as np
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

__all__ = [
    "amce_from_proba",
    "btl_features",
    "coef_covariance",
    "fit_btl",
    "profiles",
]

# A fitted logit beyond this size is a probability within 1.4e-11 of 0 or 1: when
# the fit has not converged, the labels are (nearly) separated.
_SEPARATION = 25.0
# The largest change of any pair's logit in one Newton step. Limits on the change
# of the logits, unlike limits on the coefficients, do not depend on the units of
# the factors.
_MAX_LOGIT_STEP = 5.0


def btl_features(Z, interactions):
    """Features ``phi(z)`` of a linear reward ``r(z) = beta @ phi(z)``.

    ``phi(z) = z``, followed by the products ``z_j * z_l`` (``j < l``) when
    ``interactions`` is true.
    """
    if not interactions or Z.shape[1] < 2:
        return Z
    pairs = list(itertools.combinations(range(Z.shape[1]), 2))
    products = np.column_stack([Z[:, i] * Z[:, j] for i, j in pairs])
    return np.hstack([Z, products])


def fit_btl(design, y, weights, *, alpha=0.0, max_iter=100, tol=1e-8, owner):
    """Weighted logistic regression without intercept, Newton's method, batched.

    Each Newton step is shortened so that no pair's logit ``design @ beta``
    changes by more than 5, and the fit has converged when no logit changes by
    more than ``tol``: both are measured on the logits, so neither depends on
    the units of the factors. A fit that has not converged while some pair's
    fitted probability is within ``1.4e-11`` of 0 or 1 (a logit beyond 25) has
    (nearly) separated labels, and a ``ConvergenceWarning`` says so.

    Parameters
    ----------
    design : ndarray of shape (n, p)
        ``phi(z_a) - phi(z_b)`` of each pair.
    y : ndarray of shape (n,)
    weights : ndarray of shape (B, n)
        One row of pair weights per fit (bootstrap counts, or ones).
    alpha : float
        L2 penalty.

    Returns
    -------
    beta : ndarray of shape (B, p)
    hessian : ndarray of shape (B, p, p)
        Of the negative log-likelihood at ``beta`` (penalty included).
    """
    n_fits, p = weights.shape[0], design.shape[1]
    beta = np.zeros((n_fits, p))
    ridge = alpha * np.eye(p)
    converged = np.zeros(n_fits, dtype=bool)
    for _ in range(max_iter):
        prob = expit(beta @ design.T)
        grad = (weights * (y - prob)) @ design - alpha * beta
        curvature = weights * prob * (1 - prob)
        hessian = _weighted_gram(curvature, design) + ridge
        try:
            step = np.linalg.solve(hessian, grad[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError as exc:
            raise ValueError(
                f"{owner}: the reward coefficients are not identified (singular "
                "information matrix): some factor, or interaction, never differs "
                "between the two responses of a pair in these data. Latent "
                "positivity (Assumption 5) fails; drop the factor or collect pairs "
                "that vary it."
            ) from exc
        logit_step = np.abs(step @ design.T).max(axis=1)
        # Damp huge steps (separated data) so the loop stays finite.
        beta = beta + step / np.maximum(1.0, logit_step / _MAX_LOGIT_STEP)[:, None]
        converged = logit_step < tol
        if converged.all():
            break
    logits = np.where(weights > 0, np.abs(beta @ design.T), 0.0).max(axis=1)
    separated = ~converged & (logits > _SEPARATION)
    if separated.any():
        warnings.warn(
            f"{owner}: the fit did not converge and a pair's fitted logit reached "
            f"{logits[separated].max():.1f} (a probability of 0 or 1): the labels "
            "are (nearly) separated by the factors, so effects sit at 0 or 1 and "
            "their standard errors are unreliable.",
            ConvergenceWarning,
            stacklevel=3,
        )
    elif not converged.all():
        warnings.warn(
            f"{owner}: the BTL fit did not converge in {max_iter} Newton steps.",
            ConvergenceWarning,
            stacklevel=3,
        )
    prob = expit(beta @ design.T)
    curvature = weights * prob * (1 - prob)
    hessian = _weighted_gram(curvature, design) + ridge
    return beta, hessian


def _weighted_gram(weights, design):
    """``design.T @ diag(w) @ design`` for each row ``w`` of ``weights``."""
    return np.matmul(design.T[None, :, :] * weights[:, None, :], design)


def profiles(Z_responses, k, density, step=None):
    """Return the profiles that ``m`` weighs, with factor ``k`` raised and not.

    Parameters
    ----------
    Z_responses : ndarray of shape (2 * n_pairs, n_factors)
        The observed responses' factors ``[Z_a; Z_b]``.
    k : int
        The factor switched on and off (binary), or raised (continuous).
    density : {"empirical", "uniform"}
    step : float or None, default=None
        ``None`` for a binary factor, compared at ``z_k = 1`` and ``z_k = 0``;
        for a continuous factor, the increase compared: ``z_k + step`` against
        the response's own ``z_k`` (the density then also weighs ``z_k``).

    Returns
    -------
    with_k : ndarray of shape (n_profiles, n_factors)
        Each profile with ``z_k = 1`` (or ``z_k + step``).
    without_k : ndarray of shape (n_profiles, n_factors)
        The same profiles with ``z_k = 0`` (or unchanged).
    index : ndarray of int or None
        For ``"empirical"``, the profile of each observed response (so that
        weights of responses add up into weights of profiles); ``None`` for
        ``"uniform"`` (equal weights; binary factors only).
    """
    n_factors = Z_responses.shape[1]
    if step is not None:
        observed, index = np.unique(Z_responses, axis=0, return_inverse=True)
        with_k = observed.copy()
        with_k[:, k] += step
        return with_k, observed, index.ravel()
    if density == "uniform":
        combos = list(itertools.product([0.0, 1.0], repeat=n_factors - 1))
        others = np.array(combos, dtype=np.float64).reshape(len(combos), -1)
        index = None
    else:
        others, index = np.unique(
            np.delete(Z_responses, k, axis=1), axis=0, return_inverse=True
        )
        index = index.ravel()
    with_k = np.insert(others, k, 1.0, axis=1)
    without_k = np.insert(others, k, 0.0, axis=1)
    return with_k, without_k, index


def amce_from_proba(proba, index, response_weights):
    """Average ``P(a > b)`` over profiles, weighted by the density ``m``.

    Parameters
    ----------
    proba : ndarray of shape (B, n_profiles)
        ``E[L | z with k = 1, z with k = 0]`` of each profile, per fit.
    index : ndarray of int or None
        The profile of each observed response (empirical ``m``), or ``None``
        (uniform ``m``).
    response_weights : ndarray of shape (B, 2 * n_pairs)
        Weight of each observed response, per fit.

    Returns
    -------
    amce : ndarray of shape (B,)
    profile_weights : ndarray of shape (B, n_profiles)
        Normalised weights of the profiles.
    """
    if index is None:
        profile_weights = np.full(proba.shape, 1.0 / proba.shape[1])
    else:
        profile_weights = np.stack(
            [np.bincount(index, w, minlength=proba.shape[1]) for w in response_weights]
        )
        profile_weights /= profile_weights.sum(axis=1, keepdims=True)
    return np.sum(proba * profile_weights, axis=1), profile_weights


def coef_covariance(design, y, coef, hessian, clusters, *, robust=False):
    """Covariance of the BTL coefficients: inverse information, or a sandwich.

    With clusters (fewer cluster ids than pairs), or ``robust`` (soft outcomes,
    whose variance is not the Bernoulli one the information assumes), the scores
    are summed within clusters and the cluster-robust sandwich ``H^-1 (G / (G - 1)
    sum_g s_g s_g^T) H^-1`` is returned.
    """
    bread = np.linalg.inv(hessian)
    n_clusters = clusters.max() + 1
    if n_clusters == clusters.size and not robust:
        return bread
    resid = y - expit(design @ coef)
    scores = np.zeros((n_clusters, design.shape[1]))
    np.add.at(scores, clusters, design * resid[:, None])
    meat = scores.T @ scores * n_clusters / (n_clusters - 1)
    return bread @ meat @ bread
