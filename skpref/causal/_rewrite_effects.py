"""Interventional attribute effects on a reward by rewriting responses (RATE)."""

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skpref._reward_function import predict_text_reward
from skpref.causal._amce_summary import EffectSummary
from skpref.causal._rewrite_cache import check_rewrites, rewrite_inputs
from skpref.utils import HasMethods, Interval, RealNotInt, fit_context

__all__ = ["RewriteEffectEstimator"]

_OWNER = "RewriteEffectEstimator"
_ROWS = ["ATT", "ATU", "ATE"]
# bootstrap replicates per block of the vectorised resampling (bounds memory)
_BLOCK_CELLS = 2_000_000


def bootstrap_means(values, treated, n_bootstrap, rng):
    """Bootstrap replicates of the ATT, ATU and ATE of per-response contrasts.

    Responses are resampled with replacement (vectorised, in blocks of
    replicates to bound the memory). ``values`` has shape ``(n_responses,
    n_series)``; returns ``(n_bootstrap, 3, n_series)``. A replicate without a
    treated (or an untreated) response has NaN for that effect.
    """
    n = len(values)
    treated = treated.astype(float)
    block = max(1, _BLOCK_CELLS // max(n, 1))
    out = []
    for start in range(0, n_bootstrap, block):
        rows = rng.randint(0, n, size=(min(block, n_bootstrap - start), n))
        drawn, is_treated = values[rows], treated[rows][:, :, None]
        n_treated = is_treated.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            att = (drawn * is_treated).sum(axis=1) / n_treated
            atu = (drawn * (1 - is_treated)).sum(axis=1) / (n - n_treated)
        out.append(np.stack([att, atu, drawn.mean(axis=1)], axis=1))
    return np.concatenate(out)


def bootstrap_intervals(values, treated, n_bootstrap, confidence_level, rng):
    """Percentile bootstrap intervals of the ATT, ATU and ATE of ``values``.

    Returns the replicates ``(n_bootstrap, 3)`` and the lower and upper ends
    ``(3,)`` of the intervals of the means of ``values`` (shape ``(n,)``).
    """
    boot = bootstrap_means(values[:, None], treated, n_bootstrap, rng)[:, :, 0]
    alpha = 1 - confidence_level
    low, high = np.nanquantile(boot, [alpha / 2, 1 - alpha / 2], axis=0)
    return boot, low, high


def _check_attribute(attribute, n):
    values = np.asarray(attribute)
    if values.shape != (n,):
        raise ValueError(
            f"{_OWNER} expects one attribute value per response ({n}); got an "
            f"array of shape {values.shape}."
        )
    if values.dtype == bool:
        values = values.astype(int)
    try:
        numeric = values.astype(float)
    except (TypeError, ValueError):
        numeric = np.full(n, np.nan)
    if not np.isin(numeric, (0.0, 1.0)).all():
        bad = sorted({str(v) for v in values[~np.isin(numeric, (0.0, 1.0))]})[:3]
        raise ValueError(
            f"{_OWNER} expects attribute as 0/1 values (1: the response has the "
            f"attribute); got the values {bad}. Binarise it first, e.g. "
            "n_words >= 50."
        )
    if numeric.min() == numeric.max():
        raise ValueError(
            f"{_OWNER}: every response has attribute = {int(numeric[0])}; the ATT "
            "and the ATU need responses with and without it."
        )
    return numeric.astype(int)


class RewriteEffectEstimator(BaseEstimator):
    r"""What a reward model pays for an attribute, by rewriting responses (RATE).

    With ``Re(x, w)`` a rewrite of response ``x`` to attribute value ``w``, ``R``
    the reward and ``W`` the attribute of the original responses (Reber et al.,
    2024)::

        ATT = mean over W = 1 of R(Re(Re(x, 0), 1)) - R(Re(x, 0))
        ATU = mean over W = 0 of R(Re(x, 1)) - R(Re(Re(x, 1), 0))
        ATE = share(W = 1) * ATT + share(W = 0) * ATU

    Both terms of each difference are rewrites, so the side effects of
    rewriting (a changed style, a lost list layout) cancel; the *naive*
    estimates ``R(x) - R(Re(x, 0))`` and ``R(Re(x, 1)) - R(x)`` compare an
    original with a rewrite and keep them.

    Parameters
    ----------
    reward : Pipeline or callable
        A fitted text pipeline (an :class:`~skpref.LLMEmbeddingTransformer`
        then a reward model, scored by :func:`~skpref.predict_text_reward`), or
        a callable ``reward(prompts, responses) -> rewards``.
    rewriter : callable
        ``rewriter(prompts, responses, target) -> list of str``, e.g.
        :class:`RuleBasedRewriter`, :class:`HFRewriter`,
        :class:`OpenAIRewriter`.
    attribute_fn : callable or None, default=None
        ``attribute_fn(text) -> 0/1``, used to check the rewrites: the share
        that have the value asked for is reported in ``rewrite_success_``.
    n_bootstrap : int, default=1000
        Bootstrap replicates (responses resampled with replacement).
    confidence_level : float, default=0.95
        Level of the percentile bootstrap intervals.
    random_state : int, RandomState instance or None, default=None
        Seed of the bootstrap.

    Attributes
    ----------
    effects_ : pandas.DataFrame
        Rows ``ATT, ATU, ATE``; columns ``estimate, ci_low, ci_high, naive,
        n`` (``n``: the responses each effect averages over).
    bootstrap_effects_ : ndarray of shape (n_bootstrap, 3)
        The bootstrap replicates of ``ATT, ATU, ATE``.
    rewrites_ : pandas.DataFrame
        One row per response: ``prompt, response, attribute, rewrite`` (to the
        other value), ``rewrite_of_rewrite`` (back to the original value), their
        rewards ``reward, reward_rewrite, reward_rewrite_of_rewrite``, the
        corrected and naive contrasts ``effect, naive_effect``, and with
        ``attribute_fn`` the checks ``rewrite_ok, rewrite_of_rewrite_ok``.
    rewrite_success_ : pandas.Series or None
        Share of rewrites and of rewrites of rewrites with the value asked for
        (``attribute_fn`` only).
    n_responses_ : int
        Responses fitted.

    See Also
    --------
    AMCEEstimator : The observational effect of an attribute on preferences.
    compare_effects : Both, with a human-label effect, side by side.

    Notes
    -----
    The estimates describe the reward model and the rewriter together: a
    rewriter that fails to set the attribute shrinks them towards 0, hence
    ``attribute_fn``. The intervals are percentile intervals of a bootstrap
    over responses, with the rewrites held fixed.

    References
    ----------
    Reber, D., Richardson, S., Nief, T., Garbacea, C. and Veitch, V. "RATE:
    Causal Explainability of Reward Models with Imperfect Counterfactuals",
    2024, arXiv:2410.11348.

    Examples
    --------
    >>> from skpref.causal import RewriteEffectEstimator, RuleBasedRewriter
    >>> def reward(prompts, responses):  # pays 1 for "please", -0.5 for "\n"
    ...     return [("please" in r) - 0.5 * ("\n" in r) for r in responses]
    >>> def rewriter(prompts, responses, target):  # adds a side effect: "\n"
    ...     base = [r.replace("please ", "").rstrip("\n") for r in responses]
    ...     return [("please " if t else "") + b + "\n" for b, t in
    ...             zip(base, target)]
    >>> responses = ["please sit", "please go", "stay", "run"]
    >>> rate = RewriteEffectEstimator(reward, rewriter, n_bootstrap=50,
    ...                               random_state=0)
    >>> rate.fit(None, responses, [1, 1, 0, 0]).effects_[["estimate", "naive"]]
         estimate  naive
    ATT       1.0    1.5
    ATU       1.0    0.5
    ATE       1.0    1.0
    """

    _parameter_constraints = {
        "reward": [HasMethods(["predict"]), callable],
        "rewriter": [callable],
        "attribute_fn": [callable, None],
        "n_bootstrap": [Interval(numbers.Integral, 2, None, closed="left")],
        "confidence_level": [Interval(RealNotInt, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        reward,
        rewriter,
        *,
        attribute_fn=None,
        n_bootstrap=1000,
        confidence_level=0.95,
        random_state=None,
    ):
        self.reward = reward
        self.rewriter = rewriter
        self.attribute_fn = attribute_fn
        self.n_bootstrap = n_bootstrap
        self.confidence_level = confidence_level
        self.random_state = random_state

    def _rewrite(self, prompts, responses, target):
        if not responses:
            return []
        texts = self.rewriter(prompts, responses, np.full(len(responses), target))
        return check_rewrites(
            texts, len(responses), owner=_OWNER, rewriter=self.rewriter
        )

    def _score(self, prompts, responses):
        if hasattr(self.reward, "predict"):
            rewards = predict_text_reward(self.reward, prompts, responses)
        else:
            rewards = self.reward(prompts, responses)
        rewards = np.asarray(rewards, dtype=float).reshape(-1)
        if rewards.shape != (len(responses),) or not np.isfinite(rewards).all():
            raise ValueError(
                f"{_OWNER}: the reward must return one finite number per response "
                f"({len(responses)}); got {rewards.size} values, "
                f"{int((~np.isfinite(rewards)).sum())} of them not finite."
            )
        return rewards

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, prompts, responses, attribute):
        """Rewrite every response both ways, score them and estimate the effects.

        Parameters
        ----------
        prompts : sequence of str, or None
            One prompt per response; None if the reward takes no prompt.
        responses : sequence of str
            The original responses.
        attribute : array-like of shape (n_responses,)
            ``1`` where a response has the attribute, ``0`` where it has not.

        Returns
        -------
        self : RewriteEffectEstimator
            The fitted estimator.
        """
        prompts, responses, _ = rewrite_inputs(prompts, responses, 0, owner=_OWNER)
        n = len(responses)
        w = _check_attribute(attribute, n)
        rows = {value: np.flatnonzero(w == value) for value in (0, 1)}
        rewrite, again = [None] * n, [None] * n
        no_prompts = all(p is None for p in prompts)
        for value, idx in rows.items():
            p = None if no_prompts else [prompts[i] for i in idx]
            first = self._rewrite(p, [responses[i] for i in idx], 1 - value)
            second = self._rewrite(p, first, value)
            for i, a, b in zip(idx, first, second, strict=True):
                rewrite[i], again[i] = a, b
        scores = self._score(
            None if no_prompts else prompts * 3, responses + rewrite + again
        )
        r_x, r_re, r_rere = scores[:n], scores[n : 2 * n], scores[2 * n :]
        sign = np.where(w == 1, 1.0, -1.0)
        # W = 1: R(Re(Re(x,0),1)) - R(Re(x,0)); W = 0: R(Re(x,1)) - R(Re(Re(x,1),0))
        effect = sign * (r_rere - r_re)
        naive = sign * (r_x - r_re)
        self.rewrites_ = pd.DataFrame(
            {
                "prompt": prompts,
                "response": responses,
                "attribute": w,
                "rewrite": rewrite,
                "rewrite_of_rewrite": again,
                "reward": r_x,
                "reward_rewrite": r_re,
                "reward_rewrite_of_rewrite": r_rere,
                "effect": effect,
                "naive_effect": naive,
            }
        )
        self.rewrite_success_ = None
        if self.attribute_fn is not None:
            self._check_success(w, rewrite, again)
        rng = check_random_state(self.random_state)
        self.bootstrap_effects_, low, high = bootstrap_intervals(
            effect, w, self.n_bootstrap, self.confidence_level, rng
        )
        treated = w == 1
        self.effects_ = pd.DataFrame(
            {
                "estimate": [
                    effect[treated].mean(),
                    effect[~treated].mean(),
                    effect.mean(),
                ],
                "ci_low": low,
                "ci_high": high,
                "naive": [naive[treated].mean(), naive[~treated].mean(), naive.mean()],
                "n": [int(treated.sum()), int((~treated).sum()), n],
            },
            index=_ROWS,
        )
        self.n_responses_ = n
        return self

    def _check_success(self, w, rewrite, again):
        def hits(texts, wanted):
            got = np.array([self.attribute_fn(t) for t in texts], dtype=float)
            return got == wanted

        rewrite_ok, again_ok = hits(rewrite, 1 - w), hits(again, w)
        self.rewrites_["rewrite_ok"] = rewrite_ok
        self.rewrites_["rewrite_of_rewrite_ok"] = again_ok
        self.rewrite_success_ = pd.Series(
            {"rewrite": rewrite_ok.mean(), "rewrite_of_rewrite": again_ok.mean()},
            name="share with the value asked for",
        )

    def preference_effect(self, naive=False):
        """Return the ATE as a probability: how often the reward prefers the rewrite.

        ``mean over responses of sigmoid(effect)``: the probability that the
        reward model prefers the version with the attribute to the version
        without it (both rewrites), on the scale of :class:`AMCEEstimator`'s
        effects (0.5: no effect) for a Bradley-Terry reward, with a percentile
        bootstrap interval drawn like ``effects_``'s.

        Parameters
        ----------
        naive : bool, default=False
            Use the naive contrasts (original vs. rewrite) instead.

        Returns
        -------
        estimate, ci_low, ci_high : float
            The effect and its interval at ``confidence_level``.
        """
        check_is_fitted(self)
        column = "naive_effect" if naive else "effect"
        proba = 1 / (1 + np.exp(-self.rewrites_[column].to_numpy()))
        w = self.rewrites_["attribute"].to_numpy()
        rng = check_random_state(self.random_state)
        _, low, high = bootstrap_intervals(
            proba, w, self.n_bootstrap, self.confidence_level, rng
        )
        low, high = low[2], high[2]
        return float(proba.mean()), float(low), float(high)

    def summary(self):
        """Printable summary: the settings, then ``effects_``.

        Returns
        -------
        summary : EffectSummary
            ``print(summary)`` shows it; ``summary.frame`` is ``effects_``.
        """
        check_is_fitted(self)
        reward = self.reward
        info = {
            "n_responses": self.n_responses_,
            "reward": type(reward).__name__
            if hasattr(reward, "predict")
            else getattr(reward, "__name__", type(reward).__name__),
            "rewriter": getattr(
                self.rewriter, "__name__", type(self.rewriter).__name__
            ),
            "inference": f"percentile bootstrap over responses ({self.n_bootstrap})",
            "confidence level": f"{self.confidence_level:.0%}",
        }
        if self.rewrite_success_ is not None:
            info["rewrites with the value asked for"] = (
                f"{self.rewrite_success_['rewrite']:.0%} (rewrites), "
                f"{self.rewrite_success_['rewrite_of_rewrite']:.0%} "
                "(rewrites of rewrites)"
            )
        title = "Rewrite effects on the reward (RATE), naive = original vs. rewrite"
        return EffectSummary(title, info, self.effects_)
