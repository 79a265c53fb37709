"""The Average Marginal Component Effect of binary latent factors (appendix C.1)."""

import numbers

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from skpref.causal._amce_checks import (
    check_binary_factors,
    check_hard_labels,
    cluster_ids,
)
from skpref.causal._amce_numerics import (
    amce_from_proba,
    btl_features,
    coef_covariance,
    fit_btl,
    profiles,
)
from skpref.utils._validation import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    check_pair_target,
    check_pair_width,
)

__all__ = ["AMCEEstimator"]

_OWNER = "AMCEEstimator"


class AMCEEstimator(BaseEstimator):
    """Average Marginal Component Effects of binary latent factors, with inference.

    For binary latent factors ``Z = (Z^1, ..., Z^K)`` of each response, the AMCE of
    factor ``k`` (eq. 6 of the paper) is the probability that a response with the
    factor is preferred to the same response without it, averaged over the other
    factors ``z^{-k}`` drawn from an analyst's density ``m``::

        AMCE_k = sum_z m(z) E[L | Z = (z, z^k = 1), Z' = (z, z^k = 0)]

    ``0.5`` means the factor has no effect. ``E[L | Z, Z']`` is estimated by a
    Bradley-Terry-Luce model whose reward is linear in the factors
    (``P(a > b) = sigmoid(r(z_a) - r(z_b))``, optionally with pairwise
    interactions), or by any pair classifier given as ``estimator``. Without
    interactions the built-in model gives ``AMCE_k = sigmoid(beta_k)`` for any
    ``m``.

    Parameters
    ----------
    estimator : classifier or None, default=None
        A classifier on the pair contract (``predict_proba`` on ``[z_a | z_b]``,
        ``classes_ = [0, 1]``) used as ``E[L | Z, Z']``, e.g.
        :class:`~skpref.BTLRewardRegressor`. ``None`` uses the built-in linear BTL
        model (no intercept, fitted by Newton's method).
    interactions : bool, default=False
        Add the pairwise products ``z_j * z_l`` to the built-in reward.
    density : {"empirical", "uniform"}, default="empirical"
        The density ``m`` of the other factors: their observed distribution over
        all responses of ``Z_pairs``, or uniform over ``{0, 1}^(K-1)``.
    inference : {"analytic", "bootstrap"}, default="analytic"
        ``"analytic"``: delta method on the built-in model's coefficients (a
        cluster-robust sandwich when ``groups`` are given), plus the sampling
        variance of the empirical density. ``"bootstrap"``: resample pairs (or
        clusters of pairs sharing a ``groups`` id) and refit; the standard error
        is the standard deviation of the replicates. ``"analytic"`` needs
        ``estimator=None``.
    n_bootstrap : int, default=200
        Number of bootstrap replicates.
    l2_penalty : float, default=0.0
        Ridge penalty of the built-in model (it biases the effects towards 0.5;
        keep it 0 for inference).
    factor_names : list of str or None, default=None
        Names of the factors, ``factor_0, ...`` by default.
    random_state : int, RandomState instance or None, default=None
        Seed of the bootstrap.

    Attributes
    ----------
    effects_ : ndarray of shape (n_factors,)
        The estimated AMCE of each factor.
    stderr_ : ndarray of shape (n_factors,)
        Their standard errors.
    coef_ : ndarray of shape (n_coef,)
        Reward coefficients of the built-in model (main effects, then
        interactions); absent with a user ``estimator``.
    coef_cov_ : ndarray of shape (n_coef, n_coef)
        Their (sandwich) covariance; built-in model only.
    bootstrap_effects_ : ndarray of shape (n_bootstrap, n_factors)
        The bootstrap replicates (``inference="bootstrap"`` only).
    estimator_ : classifier
        The fitted ``estimator`` (user estimator only).
    factor_names_ : list of str
        Names of the factors.
    n_factors_ : int
        Number of latent factors ``K``.
    n_features_in_ : int
        ``2 * K``.

    See Also
    --------
    skpref.causal.latent_positivity_report : Whether the data let the factors'
        effects be told apart.

    Notes
    -----
    Eq. 6 of the paper writes ``E[L(...)]`` with ``L`` the potential preference
    for the first response; here, as in the pair contract, ``L = 1`` (``y = 1``)
    means response ``a`` is preferred, and ``a`` is the response with ``z^k = 1``.
    ``zstat`` and ``pvalue`` in :meth:`summary_frame` test ``AMCE_k = 0.5``. The
    identification needs latent sufficiency (Assumption 4), unconfoundedness
    (Assumption 2) and latent positivity (Assumption 5); a factor that never
    differs within a pair is reported as not identified.

    References
    ----------
    Kobalczyk, K. and van der Schaar, M. "Preference Learning for AI Alignment: a
    Causal Perspective", ICML 2025, appendix C.1, eq. 6. Hainmueller, J., Hopkins,
    D. and Yamamoto, T. "Causal Inference in Conjoint Analysis", Political
    Analysis, 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.causal import AMCEEstimator
    >>> rng = np.random.default_rng(0)
    >>> Z_a, Z_b = rng.integers(0, 2, (2, 4000, 2))
    >>> reward = lambda Z: Z @ np.array([1.0, -0.5])
    >>> y = rng.random(4000) < 1 / (1 + np.exp(reward(Z_b) - reward(Z_a)))
    >>> amce = AMCEEstimator().fit(np.hstack([Z_a, Z_b]), y)
    >>> amce.effects_.round(2)  # truth: sigmoid(1) = 0.73, sigmoid(-0.5) = 0.38
    array([0.72, 0.39])
    >>> amce.summary_frame().columns.tolist()
    ['point_estimate', 'stderr', 'zstat', 'pvalue', 'ci_lower', 'ci_upper']
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "interactions": ["boolean"],
        "density": [StrOptions({"empirical", "uniform"})],
        "inference": [StrOptions({"analytic", "bootstrap"})],
        "n_bootstrap": [Interval(numbers.Integral, 2, None, closed="left")],
        "l2_penalty": [Interval(numbers.Real, 0, None, closed="left")],
        "factor_names": ["array-like", None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        estimator=None,
        interactions=False,
        density="empirical",
        inference="analytic",
        n_bootstrap=200,
        l2_penalty=0.0,
        factor_names=None,
        random_state=None,
    ):
        self.estimator = estimator
        self.interactions = interactions
        self.density = density
        self.inference = inference
        self.n_bootstrap = n_bootstrap
        self.l2_penalty = l2_penalty
        self.factor_names = factor_names
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, Z_pairs, y, groups=None):
        """Estimate the AMCE of every factor and its standard error.

        Parameters
        ----------
        Z_pairs : array-like of shape (n_pairs, 2 * n_factors)
            Binary (0/1) latent factors of both responses, ``[z_a | z_b]``.
        y : array-like of shape (n_pairs,)
            ``1`` where response a is preferred.
        groups : array-like of shape (n_pairs,), default=None
            Cluster id of each pair (e.g. the labeller or the prompt); inference
            then resamples, or sums scores over, whole clusters.

        Returns
        -------
        self : AMCEEstimator
            The fitted estimator.
        """
        Z_pairs, y = validate_data(self, Z_pairs, y, dtype=np.float64)
        check_hard_labels(y, owner=_OWNER)
        y = check_pair_target(y, owner=_OWNER).astype(np.float64)
        n_factors = check_pair_width(
            Z_pairs.shape[1], with_objective=False, owner=_OWNER
        )
        if self.inference == "analytic" and self.estimator is not None:
            raise ValueError(
                f"{_OWNER}: inference='analytic' is only valid for the built-in "
                "BTL model (estimator=None); use inference='bootstrap' with a "
                "user-supplied estimator."
            )
        self.factor_names_ = check_binary_factors(
            Z_pairs, n_factors, self.factor_names, owner=_OWNER
        )
        n_pairs = Z_pairs.shape[0]
        Z_a, Z_b = Z_pairs[:, :n_factors], Z_pairs[:, n_factors:]
        self.n_factors_ = n_factors
        clusters = cluster_ids(groups, n_pairs, owner=_OWNER)
        self._profiles = [
            profiles(np.vstack([Z_a, Z_b]), k, self.density) for k in range(n_factors)
        ]
        ones = np.ones((1, n_pairs))
        if self.estimator is None:
            design = btl_features(Z_a, self.interactions) - btl_features(
                Z_b, self.interactions
            )
            beta, hessian = fit_btl(
                design, y, ones, alpha=self.l2_penalty, owner=_OWNER
            )
            self.coef_ = beta[0]
            effects, grads, per_response = self._builtin_effects(beta, ones)
            self.effects_ = effects[0]
            self.coef_cov_ = coef_covariance(
                design, y, self.coef_, hessian[0], clusters
            )
        else:
            self.estimator_ = clone(self.estimator).fit(Z_pairs, y.astype(int))
            self.effects_ = self._estimator_effects(self.estimator_, ones)[0]
        if self.inference == "analytic":
            self.stderr_ = self._analytic_stderr(grads, per_response, clusters)
        else:
            self.bootstrap_effects_ = self._bootstrap(
                Z_pairs,
                y,
                clusters,
                design=(design if self.estimator is None else None),
            )
            self.stderr_ = self.bootstrap_effects_.std(axis=0, ddof=1)
        return self

    def _builtin_effects(self, beta, pair_weights):
        """AMCE per fit and factor, their gradients and per-response values."""
        response_weights = np.hstack([pair_weights, pair_weights])
        effects, grads, per_response = [], [], []
        for with_k, without_k, index in self._profiles:
            diff = btl_features(with_k, self.interactions) - btl_features(
                without_k, self.interactions
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
        for with_k, without_k, index in self._profiles:
            proba = estimator.predict_proba(np.hstack([with_k, without_k]))
            effects.append(
                amce_from_proba(proba[None, :, positive], index, response_weights)[0]
            )
        return np.stack(effects, axis=1)

    def _analytic_stderr(self, grads, per_response, clusters):
        n_pairs = clusters.size
        variances = []
        for k in range(self.n_factors_):
            grad = grads[k][0]
            variance = grad @ self.coef_cov_ @ grad
            if per_response[k] is not None:
                # The empirical m is itself a sample: add the variance of its mean.
                values = per_response[k][0]
                per_pair = 0.5 * (values[:n_pairs] + values[n_pairs:])
                centred = np.bincount(clusters, per_pair - per_pair.mean())
                variance += np.sum(centred**2) / n_pairs**2
            variances.append(variance)
        return np.sqrt(np.asarray(variances))

    def _bootstrap(self, Z_pairs, y, clusters, design):
        rng = check_random_state(self.random_state)
        n_clusters = clusters.max() + 1
        draws = rng.multinomial(
            n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=self.n_bootstrap
        )
        pair_weights = draws[:, clusters].astype(np.float64)
        if design is not None:
            beta, _ = fit_btl(
                design, y, pair_weights, alpha=self.l2_penalty, owner=_OWNER
            )
            return self._builtin_effects(beta, pair_weights)[0]
        replicates = []
        for weights in pair_weights:
            rows = np.repeat(np.arange(y.size), weights.astype(int))
            fitted = clone(self.estimator).fit(Z_pairs[rows], y[rows].astype(int))
            replicates.append(self._estimator_effects(fitted, weights[None, :])[0])
        return np.asarray(replicates)

    def effect_interval(self, alpha=0.05):
        """Two-sided normal confidence intervals of the effects.

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the confidence level.

        Returns
        -------
        lower, upper : ndarray of shape (n_factors,)
            ``effects_ -/+ z_{1 - alpha/2} * stderr_``.
        """
        check_is_fitted(self)
        if not 0 < alpha < 1:
            raise ValueError(
                f"{_OWNER}.effect_interval expects alpha in (0, 1), e.g. 0.05 for "
                f"95% intervals; got alpha={alpha!r}."
            )
        half = norm.ppf(1 - alpha / 2) * self.stderr_
        return self.effects_ - half, self.effects_ + half

    def summary_frame(self, alpha=0.05, null_value=0.5):
        """Table of the effects: estimate, stderr, z, p-value and interval.

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the confidence level of the interval.
        null_value : float, default=0.5
            The AMCE under "no effect" that ``zstat`` and ``pvalue`` test.

        Returns
        -------
        frame : pandas.DataFrame
            One row per factor; columns ``point_estimate, stderr, zstat, pvalue,
            ci_lower, ci_upper``.
        """
        lower, upper = self.effect_interval(alpha)
        zstat = (self.effects_ - null_value) / self.stderr_
        return pd.DataFrame(
            {
                "point_estimate": self.effects_,
                "stderr": self.stderr_,
                "zstat": zstat,
                "pvalue": 2 * norm.sf(np.abs(zstat)),
                "ci_lower": lower,
                "ci_upper": upper,
            },
            index=pd.Index(self.factor_names_, name="factor"),
        )
