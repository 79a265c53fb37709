"""The Average Marginal Component Effect of latent factors (appendix C.1)."""

import itertools
import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from skpref.causal._amce_checks import (
    check_factors,
    check_outcome,
    check_steps,
    cluster_ids,
    factor_names_from_columns,
    subset_labels,
)
from skpref.causal._amce_fit import AMCESettings, compute_amce
from skpref.causal._amce_summary import EffectResultsMixin
from skpref.utils import HasMethods, Interval, StrOptions, check_pair_width, fit_context

__all__ = ["AMCEEstimator"]

_OWNER = "AMCEEstimator"


class AMCEEstimator(EffectResultsMixin, BaseEstimator):
    """Average Marginal Component Effects of latent factors, with inference.

    For latent factors ``Z = (Z^1, ..., Z^K)`` of each response, the AMCE of a
    binary factor ``k`` (eq. 6 of the paper) is the probability that a response
    with the factor is preferred to the same response without it, averaged over
    the other factors ``z^{-k}`` drawn from an analyst's density ``m``::

        AMCE_k = sum_z m(z) E[L | Z = (z, z^k = 1), Z' = (z, z^k = 0)]

    ``0.5`` means the factor has no effect. A continuous factor (a length, a
    count) has no "with" and "without"; its AMCE compares each response with the
    same response whose factor is ``step`` higher (one standard deviation by
    default), averaged over the responses' factors under ``m``::

        AMCE_k = sum_z m(z) E[L | Z = (z, z^k + step), Z' = z]

    ``E[L | Z, Z']`` is estimated by a Bradley-Terry-Luce model whose reward is
    linear in the factors (``P(a > b) = sigmoid(r(z_a) - r(z_b))``, optionally
    with pairwise interactions), or by any pair classifier given as
    ``estimator``. Without interactions the built-in model gives ``AMCE_k =
    sigmoid(beta_k * step_k)`` (``step_k = 1`` for a binary factor) for any ``m``.

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
        all responses of ``Z_pairs`` (of the subgroup, for effects by subgroup),
        or uniform over ``{0, 1}^(K-1)`` (binary factors only).
    inference : {"analytic", "bootstrap"}, default="analytic"
        ``"analytic"``: delta method on the built-in model's coefficients (a
        cluster-robust sandwich when ``groups`` are given, a robust one for soft
        outcomes), plus the sampling variance of the empirical density.
        ``"bootstrap"``: resample pairs (or clusters of pairs sharing a
        ``groups`` id) and refit; the standard error is the standard deviation
        of the replicates. ``"analytic"`` needs ``estimator=None``.
    n_bootstrap : int, default=200
        Number of bootstrap replicates.
    l2_penalty : float, default=0.0
        Ridge penalty of the built-in model (it biases the effects towards 0.5;
        keep it 0 for inference). A continuous factor whose differences
        within pairs reach beyond ``2**32`` (or stay below ``2**-32``) is
        divided by a power of two near the largest of them before the fit, so
        that nothing overflows; the penalty then applies to its coefficient in
        those units (``coef_`` is reported in the factor's own). Adding a
        constant to a factor changes neither this scaling nor the effects.
    factor_names : list of str or None, default=None
        Names of the factors. ``None``: the names of a DataFrame ``Z_pairs``
        whose columns are ``<name>_a ...`` then ``<name>_b ...`` (as
        :func:`~skpref.covariates.pair_covariates` returns), else ``factor_0,
        ...``.
    step : "std" or dict of str to float, default="std"
        The increase of each continuous factor whose effect is reported:
        ``"std"`` is one standard deviation of the factor over all responses of
        ``Z_pairs``; a dict gives steps in the factors' own units by name (e.g.
        ``{"n_tokens": 100}``), the others keeping ``"std"``. Binary factors
        always go from 0 to 1.
    random_state : int, RandomState instance or None, default=None
        Seed of the bootstrap.

    Attributes
    ----------
    effects_ : ndarray of shape (n_factors,)
        The estimated AMCE of each factor, over all pairs.
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
    binary_factors_ : ndarray of shape (n_factors,), dtype bool
        Which factors are binary (every value 0 or 1); the others are continuous.
    factor_steps_ : ndarray of shape (n_factors,)
        The change each effect compares: 1 for a binary factor, ``step`` for a
        continuous one.
    groups_ : ndarray of shape (n_groups,)
        The subgroups of ``by``, sorted (``fit`` with ``by`` only).
    group_effects_ : ndarray of shape (n_groups, n_factors)
        The AMCE within each subgroup (``fit`` with ``by`` only).
    group_stderr_ : ndarray of shape (n_groups, n_factors)
        Their standard errors (``fit`` with ``by`` only).
    group_n_pairs_ : ndarray of shape (n_groups,)
        Pairs per subgroup (``fit`` with ``by`` only).
    n_pairs_ : int
        Number of pairs fitted.
    n_factors_ : int
        Number of latent factors ``K``.
    n_features_in_ : int
        ``2 * K``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame ``Z_pairs`` with string column names.

    See Also
    --------
    skpref.covariates.pair_covariates : Covariates of responses (length,
        politeness, your own functions) in the layout ``Z_pairs`` takes.
    skpref.causal.latent_positivity_report : Whether the data let the factors'
        effects be told apart.

    Notes
    -----
    Eq. 6 of the paper writes ``E[L(...)]`` with ``L`` the potential preference
    for the first response; here, as in the pair contract, ``L = 1`` (``y = 1``)
    means response ``a`` is preferred, and ``a`` is the response with ``z^k = 1``
    (or ``z^k + step``). ``zstat`` and ``pvalue`` in :meth:`summary_frame` test
    ``AMCE_k = 0.5``. The identification needs latent sufficiency (Assumption
    4: the factors given are all that moves the reward), unconfoundedness
    (Assumption 2) and latent positivity (Assumption 5); a factor that never
    differs within a pair is reported as not identified.

    ``y`` may be soft, ``P(a > b)`` in ``[0, 1]``: the share of annotators
    preferring a, or a fitted reward model's ``predict_proba(X)[:, 1]``. The
    built-in model is then fitted to it as a fractional-response logit (Papke
    and Wooldridge, 1996) with robust standard errors; with a reward model's
    probabilities, the effects describe what the model learned about the factors
    and the intervals the sampling of the pairs it was evaluated on.

    References
    ----------
    Kobalczyk, K. and van der Schaar, M. "Preference Learning for AI Alignment: a
    Causal Perspective", ICML 2025, appendix C.1, eq. 6. Hainmueller, J., Hopkins,
    D. and Yamamoto, T. "Causal Inference in Conjoint Analysis", Political
    Analysis, 2014. Papke, L. and Wooldridge, J. "Econometric methods for
    fractional response variables", Journal of Applied Econometrics, 1996.

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
        "step": [StrOptions({"std"}), dict],
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
        step="std",
        random_state=None,
    ):
        self.estimator = estimator
        self.interactions = interactions
        self.density = density
        self.inference = inference
        self.n_bootstrap = n_bootstrap
        self.l2_penalty = l2_penalty
        self.factor_names = factor_names
        self.step = step
        self.random_state = random_state

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, Z_pairs, y, groups=None, *, by=None):
        """Estimate the AMCE of every factor and its standard error.

        Parameters
        ----------
        Z_pairs : array-like or DataFrame of shape (n_pairs, 2 * n_factors)
            Latent factors of both responses, ``[z_a | z_b]``: 0/1 for binary
            factors, any finite numbers for continuous ones.
        y : array-like of shape (n_pairs,)
            ``1`` where response a is preferred, else ``0``; or soft outcomes
            ``P(a > b)`` in ``[0, 1]`` (built-in model only), such as a fitted
            reward model's ``predict_proba(X)[:, 1]``.
        groups : array-like of shape (n_pairs,), default=None
            Cluster id of each pair (e.g. the labeller or the prompt), none
            missing; inference then resamples, or sums scores over, whole
            clusters.
        by : array-like of shape (n_pairs,), default=None
            A subgroup of each pair (e.g. its objective, or a binned covariate):
            the effects are also estimated within each subgroup, each with the
            density ``m`` of its own responses and the steps of all pairs.

        Returns
        -------
        self : AMCEEstimator
            The fitted estimator.
        """
        names = factor_names_from_columns(Z_pairs, self.factor_names, owner=_OWNER)
        Z_pairs, y = validate_data(self, Z_pairs, y, dtype=np.float64, y_numeric=True)
        y, soft = check_outcome(
            y, user_estimator=self.estimator is not None, owner=_OWNER
        )
        n_factors = check_pair_width(
            Z_pairs.shape[1], with_objective=False, owner=_OWNER
        )
        if self.inference == "analytic" and self.estimator is not None:
            raise ValueError(
                f"{_OWNER}: inference='analytic' is only valid for the built-in "
                "BTL model (estimator=None); use inference='bootstrap' with a "
                "user-supplied estimator."
            )
        self.factor_names_, self.binary_factors_ = check_factors(
            Z_pairs, n_factors, names, owner=_OWNER
        )
        self.n_factors_ = n_factors
        self.n_pairs_ = n_pairs = Z_pairs.shape[0]
        scales = self._factor_scales(Z_pairs)
        Z_pairs = Z_pairs / np.tile(scales, 2)
        settings = self._settings(Z_pairs, scales)
        clusters = cluster_ids(groups, n_pairs, owner=_OWNER)
        rng = check_random_state(self.random_state)
        pooled = compute_amce(settings, Z_pairs, y, clusters, rng, soft=soft)
        self.effects_, self.stderr_ = pooled.effects, pooled.stderr
        for name in ("coef", "coef_cov", "bootstrap_effects", "estimator"):
            if getattr(pooled, name) is not None:
                setattr(self, f"{name}_", getattr(pooled, name))
        if pooled.coef is not None:
            # back to the factors' own units, where a coefficient of a tiny factor
            # may be too large for a float (inf) and one of a huge factor 0
            exponents = _coef_exponents(scales, self.interactions)
            with np.errstate(over="ignore", under="ignore"):
                self.coef_ = np.ldexp(self.coef_, -exponents)
                self.coef_cov_ = np.ldexp(
                    np.ldexp(self.coef_cov_, -exponents[:, None]), -exponents[None, :]
                )
        if by is not None:
            self._fit_by(by, settings, Z_pairs, y, groups, rng, soft)
        return self

    def _factor_scales(self, Z_pairs):
        """Return a power of two per factor, bringing extreme continuous ones near 1.

        The built-in model's Newton steps square the factors' differences within
        pairs, ``z_a - z_b``, and interactions multiply the factors' values:
        magnitudes of ~1e200 would overflow. A factor whose largest difference is
        beyond 2**32 or below 2**-32, or whose values reach beyond 2**200, is
        divided by a power of two near that difference (or near ``2**-200``
        times its largest value, if that is larger, so that products of values
        stay finite). Dividing by a power of two changes none of the effects
        (probabilities), and the coefficients are scaled back. Adding a constant
        to a factor (a timestamp, say) changes no difference, so it changes
        neither the scaling nor the effects. Other factors, binary ones and a
        user estimator's input are left as they are, bit for bit.
        """
        scales = np.ones(self.n_factors_)
        if self.estimator is not None:
            return scales
        K = self.n_factors_
        Z_a, Z_b = Z_pairs[:, :K], Z_pairs[:, K:]
        # halves, whose difference cannot overflow
        half_spread = np.abs(0.5 * Z_a - 0.5 * Z_b).max(axis=0)
        largest = np.maximum(np.abs(Z_a), np.abs(Z_b)).max(axis=0)
        exponents = np.maximum(np.frexp(half_spread)[1] + 1, np.frexp(largest)[1] - 200)
        extreme = (
            ~self.binary_factors_
            & (half_spread > 0)
            & (
                (half_spread > 2.0**31)
                | (half_spread < 2.0**-33)
                | (largest > 2.0**200)
            )
        )
        scales[extreme] = np.ldexp(1.0, exponents[extreme])
        return scales

    def _settings(self, Z_pairs, scales):
        if self.density == "uniform" and not self.binary_factors_.all():
            name = self.factor_names_[int(np.flatnonzero(~self.binary_factors_)[0])]
            raise ValueError(
                f"{_OWNER}: density='uniform' averages over {{0, 1}} values of the "
                f"other factors, but {name!r} is continuous; use "
                "density='empirical'."
            )
        step = self.step
        if not isinstance(step, str):  # a dict in the factors' own units
            index = {name: k for k, name in enumerate(self.factor_names_)}
            step = {
                name: value / scales[index[name]]
                if name in index
                and isinstance(value, numbers.Real)
                and scales[index[name]] != 1
                else value
                for name, value in step.items()
            }
        scaled = check_steps(
            step, Z_pairs, self.factor_names_, self.binary_factors_, owner=_OWNER
        )
        self.factor_steps_ = scaled * scales
        return AMCESettings(
            estimator=self.estimator,
            interactions=self.interactions,
            density=self.density,
            inference=self.inference,
            n_bootstrap=self.n_bootstrap,
            l2_penalty=self.l2_penalty,
            steps=[
                None if binary else step
                for binary, step in zip(self.binary_factors_, scaled, strict=True)
            ],
            owner=_OWNER,
            names=list(self.factor_names_),
        )

    def _fit_by(self, by, settings, Z_pairs, y, groups, rng, soft):
        labels, codes = subset_labels(by, self.n_pairs_, owner=_OWNER)
        effects, stderr, sizes = [], [], []
        for g, label in enumerate(labels):
            rows = codes == g
            shown = label.item() if isinstance(label, np.generic) else label
            owner = f"{_OWNER} (subgroup by={shown!r})"
            sub_groups = None if groups is None else np.asarray(groups)[rows]
            y_sub = check_outcome(y[rows], user_estimator=False, owner=owner)[0]
            check_factors(
                Z_pairs[rows], self.n_factors_, self.factor_names_, owner=owner
            )
            result = compute_amce(
                AMCESettings(**{**vars(settings), "owner": owner}),
                Z_pairs[rows],
                y_sub,
                cluster_ids(sub_groups, int(rows.sum()), owner=owner),
                rng,
                soft=soft,
            )
            effects.append(result.effects)
            stderr.append(result.stderr)
            sizes.append(int(rows.sum()))
        self.groups_ = labels
        self.group_effects_ = np.asarray(effects)
        self.group_stderr_ = np.asarray(stderr)
        self.group_n_pairs_ = np.asarray(sizes)

    def _summary_info(self, alpha, null_value):
        """Return the title and the settings that define the effects (``summary``)."""
        continuous = {
            name: float(f"{step:.4g}")
            for name, step, binary in zip(
                self.factor_names_,
                self.factor_steps_,
                self.binary_factors_,
                strict=True,
            )
            if not binary
        }
        model = (
            type(self.estimator).__name__
            if self.estimator is not None
            else "linear BTL" + (" with interactions" if self.interactions else "")
        )
        info = {
            "n_pairs": self.n_pairs_,
            "model": model,
            "density m": self.density,
            "inference": self.inference,
            "confidence level": f"{1 - alpha:.0%}",
            "null (no effect)": null_value,
        }
        if continuous:
            info["continuous step"] = continuous
        return "Average Marginal Component Effects, P(with > without) (eq. 6)", info


def _coef_exponents(scales, interactions):
    """Return log2 of each coefficient's scale: main effects, then products."""
    exponents = np.frexp(scales)[1] - 1  # scales are powers of two
    if not interactions or len(scales) < 2:
        return exponents
    products = [a + b for a, b in itertools.combinations(exponents, 2)]
    return np.concatenate([exponents, products]).astype(int)
