"""Invariance terms: penalties that keep a covariate out of a reward model.

Each term is a small estimator-like object (its parameters are searched as
``invariance__weight``) that a reward model asks for three things when it fits:
the per-pair inputs the term reads (:meth:`Invariance.fit_inputs`, the coded
covariate of both responses), the parts it adds to the module
(:meth:`Invariance.module_params`: a covariate head, a bias-only expert) and the
loss term itself (:meth:`Invariance.loss_term`, a
:class:`~skpref.models.LossTerm` of the training engine). Covariates are
standardised over the training responses, so a weight means the same for any
unit of length.
"""

import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator

from skpref.covariates import encode_pair_covariate
from skpref.models import LossTerm
from skpref.utils import Interval, StrOptions

# Added to variances before a square root: keeps the correlation's gradient finite
# for a batch whose rewards (or covariates) are all equal.
_VARIANCE_FLOOR = 1e-12
# Squared bandwidths of the MMD's Gaussian kernels: a sum of kernels of several
# widths sees differences of both location and spread without one to tune. For
# rewards they are in squared logits; for latents, multiples of the batch's mean
# squared distance. A width relative to the rewards' own spread makes the penalty
# blind to their scale, and its gradient grows as the rewards shrink: on planted
# data the reward collapsed towards a constant at every weight (out-of-
# distribution accuracy 0.74-0.81, against 0.83-0.89 with fixed widths).
_KERNEL_SCALES = (0.25, 1.0, 4.0)


class Invariance(BaseEstimator):
    """Base of the invariance terms; not for direct use.

    A subclass sets ``weight`` and ``covariate`` (and its own parameters) and
    returns its :class:`~skpref.models.LossTerm` from :meth:`loss_term`.
    """

    _parameter_constraints = {
        "weight": [Interval(Real, 0, None, closed="left")],
        "covariate": [str],
    }

    def fit_inputs(self, covariates, y, *, n_pairs, rows, owner):
        """Return the named per-pair inputs of a fit: ``{"covariate": (n, 2)}``.

        The covariate of response a and of response b of every pair, standardised
        over the responses of the training ``rows``.
        """
        self._validate_params()
        name = type(self).__name__
        if covariates is None:
            raise ValueError(
                f"{owner}(invariance={name}(...)) needs the values of its covariate "
                f"{self.covariate!r}: pass fit(X, y, covariates=...) with the "
                f"columns '{self.covariate}_a' and '{self.covariate}_b' (see "
                "skpref.covariates.pair_covariates), an array of shape "
                "(n_pairs, 2), or the pairs' texts for a built-in covariate."
            )
        coded = encode_pair_covariate(
            covariates,
            self.covariate,
            kind="continuous",
            n_pairs=n_pairs,
            fit_rows=rows,
            owner=owner,
            argument=f"{name}(covariate=...)",
        )
        return {"covariate": coded.values}

    def module_params(self):
        """Return the arguments this term adds to the reward module (none here)."""
        return {}

    def loss_term(self):  # pragma: no cover
        raise NotImplementedError


def response_values(y_pred, name):
    """Return the ``<name>_a`` then ``<name>_b`` outputs: one entry per response."""
    return torch.cat([y_pred[f"{name}_a"], y_pred[f"{name}_b"]], dim=1)


def response_weights(batch):
    """Each response's weight: its pair's ``sample_weight`` (0 for padding)."""
    return batch["sample_weight"].repeat(1, 2)


def weighted_correlation(x, c, weight):
    """Pearson correlation of ``x`` and ``c`` along the last axis, weighted."""
    total = weight.sum(-1, keepdim=True).clamp(min=_VARIANCE_FLOOR)

    def centred(v):
        return v - (weight * v).sum(-1, keepdim=True) / total

    dx, dc = centred(x), centred(c)
    covariance = (weight * dx * dc).sum(-1)
    variances = (weight * dx * dx).sum(-1) * (weight * dc * dc).sum(-1)
    return covariance / torch.sqrt(variances + _VARIANCE_FLOOR)


def covariate_correlation(y_pred, batch, name="reward"):
    """corr(output, covariate) over a batch's responses, per member."""
    covariate = torch.cat([batch["covariate"][..., 0], batch["covariate"][..., 1]], 1)
    values = response_values(y_pred, name)
    return weighted_correlation(values, covariate, response_weights(batch))


# -- decorrelation ------------------------------------------------------------------


@dataclass(frozen=True)
class DecorrelationPenalty(LossTerm):
    """``weight * corr(r, c)^2`` over the responses of each batch."""

    weight: float

    def __call__(self, net, y_pred, y_true, batch, training):
        correlation = covariate_correlation(y_pred, batch)
        net.record_mean("covariate_corr", correlation, training)
        return self.weight * correlation**2


class Decorrelation(Invariance):
    """Penalise the correlation between the reward and a covariate.

    Adds ``weight * corr(r, c)^2`` to the loss, the squared Pearson correlation,
    over the responses of each batch, between their rewards ``r`` and their
    covariate ``c`` (weighted by the pairs' ``sample_weight``). A reward that
    still ranks responses by what else they hold can have no linear trend in
    the covariate.

    Parameters
    ----------
    weight : float, default=1.0
        The penalty's weight; ``0`` is the model without it.
    covariate : str, default="length"
        The covariate's name in ``fit``'s ``covariates``: the columns
        ``<name>_a``/``<name>_b`` of a DataFrame, or a built-in covariate of
        :mod:`skpref.covariates` computed from the pairs' texts (``"length"``
        is the length in characters).

    See Also
    --------
    OrthogonalHeads : A covariate head of its own, as in ODIN.
    skpref.metrics.covariate_leakage : What a fitted model still reveals.

    Notes
    -----
    ``history_`` gains ``train_covariate_corr`` and ``valid_covariate_corr``,
    the correlation averaged over batches.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref import BTLRewardRegressor
    >>> from skpref.invariance import Decorrelation
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 8)).astype("float32")
    >>> length = X[:, [0, 4]] + 0.1 * rng.normal(size=(400, 2))  # a spurious cue
    >>> y = (X[:, 0] - X[:, 4] + X[:, 1] - X[:, 5] > 0).astype(int)
    >>> model = BTLRewardRegressor(invariance=Decorrelation(weight=10.0),
    ...                            hidden_dim=16, latent_dim=8, max_epochs=3,
    ...                            random_state=0, device="cpu")
    >>> model = model.fit(X, y, covariates=length)
    >>> "train_covariate_corr" in model.history_
    True
    """

    def __init__(self, weight=1.0, *, covariate="length"):
        self.weight = weight
        self.covariate = covariate

    def loss_term(self):
        return DecorrelationPenalty(float(self.weight))


# -- two heads, ODIN -----------------------------------------------------------------


@dataclass(frozen=True)
class OrthogonalHeadsPenalty(LossTerm):
    """ODIN's terms: decorrelate the quality head, correlate the covariate head.

    ``weight * (corr(r_Q, c)^2 + 1 - corr(r_C, c) + orthogonality * cos^2)``,
    ``cos^2`` the mean squared cosine between the covariate head's weights and
    each row of the weights that read the latent into the reward.
    """

    weight: float
    orthogonality: float

    def __call__(self, net, y_pred, y_true, batch, training):
        quality = covariate_correlation(y_pred, batch)
        covariate = covariate_correlation(y_pred, batch, "covariate_reward")
        stack = net.module_
        head = stack.stacked_parameter("covariate_head.weight")  # (M, 1, latent)
        cosines = [
            torch.nn.functional.cosine_similarity(
                stack.stacked_parameter(name), head, dim=-1
            )
            for name in stack.architecture.head_weights
        ]
        overlap = torch.cat(cosines, dim=1).pow(2).mean(1)
        net.record_mean("covariate_corr", quality, training)
        net.record_mean("covariate_head_corr", covariate, training)
        net.record_mean("head_overlap", overlap, training)
        penalty = quality**2 + 1 - covariate + self.orthogonality * overlap
        return self.weight * penalty


class OrthogonalHeads(Invariance):
    """Two reward heads, one for the covariate and one for quality (ODIN).

    The model gets a second, linear head ``r_C`` on its latent. Training
    scores pairs by the sum ``r_Q + r_C`` and adds ``weight * (corr(r_Q, c)^2 +
    1 - corr(r_C, c) + orthogonality * cos^2)``: the covariate head is pulled
    towards the covariate, the quality head away from it, and the quality
    head's weights towards the directions of the latent the covariate head
    does not read. Predictions use the quality head alone, so what the
    covariate explains stays in the head that is dropped.

    Parameters
    ----------
    weight : float, default=1.0
        Weight of the correlation and orthogonality terms. ``0`` still trains
        the two heads, unconstrained.
    covariate : str, default="length"
        The covariate (see :class:`Decorrelation`).
    orthogonality : float, default=1.0
        Weight of the orthogonality term relative to the correlation terms.

    Notes
    -----
    ``history_`` gains ``train_covariate_corr`` (the quality head's
    correlation with the covariate), ``train_covariate_head_corr`` and
    ``train_head_overlap`` (the mean squared cosine), and their ``valid_``
    columns.

    References
    ----------
    Chen, L. et al. (2024). ODIN: Disentangled Reward Mitigates Hacking in
    RLHF. ICML.
    """

    _parameter_constraints = {
        **Invariance._parameter_constraints,
        "orthogonality": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, weight=1.0, *, covariate="length", orthogonality=1.0):
        self.weight = weight
        self.covariate = covariate
        self.orthogonality = orthogonality

    def module_params(self):
        return {"covariate_head": True}

    def loss_term(self):
        return OrthogonalHeadsPenalty(float(self.weight), float(self.orthogonality))


# -- distribution matching -------------------------------------------------------------


@dataclass(frozen=True)
class MMDPenalty(LossTerm):
    """``weight`` times the summed MMD^2 between the covariate bins' distributions.

    Of the rewards (``on="reward"``) or the latents of the responses of each
    batch; with ``conditional``, between the bins of the preferred responses
    and, apart, between those of the others (ties belong to neither).
    """

    weight: float
    n_bins: int
    on: str
    conditional: bool

    def __call__(self, net, y_pred, y_true, batch, training):
        if self.on == "reward":
            values = response_values(y_pred, "reward").unsqueeze(-1)
        else:
            values = response_values(y_pred, "latent")
        bins = torch.cat(
            [batch["covariate_bin"][..., 0], batch["covariate_bin"][..., 1]], 1
        )
        onehot = torch.nn.functional.one_hot(bins.long(), self.n_bins)
        groups = onehot.to(values.dtype) * response_weights(batch).unsqueeze(-1)
        if self.conditional:  # response a is preferred where y > 1/2, b where y < 1/2
            chosen = torch.cat([y_true > 0.5, y_true < 0.5], 1).unsqueeze(-1)
            rejected = torch.cat([y_true < 0.5, y_true > 0.5], 1).unsqueeze(-1)
            groups = torch.cat([groups * chosen, groups * rejected], -1)
        sizes = groups.sum(1, keepdim=True)  # (M, 1, n_groups)
        groups = groups / sizes.clamp(min=_VARIANCE_FLOOR)
        squared = torch.cdist(values, values).pow(2)
        scale = 1.0  # rewards: widths in logits, which have a meaning of their own
        if self.on == "representation":  # latents: around the batch's spread
            scale = (
                squared.mean((1, 2), keepdim=True).detach().clamp(min=_VARIANCE_FLOOR)
            )
        kernel = sum(torch.exp(-squared / (s * scale)) for s in _KERNEL_SCALES)
        inner = groups.transpose(1, 2) @ kernel @ groups  # (M, n_groups, n_groups)
        own = torch.diagonal(inner, dim1=1, dim2=2)
        mmd = own.unsqueeze(2) + own.unsqueeze(1) - 2 * inner
        # compare the bins of one condition, each pair once, both present
        n_groups = groups.shape[-1]
        block = torch.arange(n_groups, device=values.device) // self.n_bins
        compared = (block[:, None] == block[None, :]).triu(diagonal=1)
        present = sizes.squeeze(1) > 0
        compared = compared & present.unsqueeze(2) & present.unsqueeze(1)
        penalty = (mmd * compared).sum((1, 2))
        net.record_mean("covariate_mmd", penalty, training)
        return self.weight * penalty


class MMD(Invariance):
    """Match the reward distributions of responses across covariate bins.

    The training responses are cut into ``n_bins`` bins by the quantiles of the
    covariate (by default: below and above its median). Training adds ``weight``
    times the squared maximum mean discrepancy (MMD) between the rewards of the
    responses of each two bins of a batch: a reward that does not depend on the
    covariate has the same distribution in every bin. The kernel is a sum of
    Gaussians of squared widths 0.25, 1 and 4 (squared logits for rewards;
    multiples of the batch's mean squared distance for representations), so
    that both location and spread count without a bandwidth to tune.

    Parameters
    ----------
    weight : float, default=1.0
        The penalty's weight; ``0`` is the model without it.
    covariate : str, default="length"
        The covariate (see :class:`Decorrelation`).
    n_bins : int, default=2
        Number of bins, cut at the quantiles of the training responses.
    on : {"reward", "representation"}, default="reward"
        Match the distributions of the rewards, or of the latent
        representations ``z = g(e)`` (all of what the head could read).

    See Also
    --------
    ConditionalMMD : The same within the preferred and the other responses.

    Notes
    -----
    When the covariate truly bears on quality (longer answers are often more
    complete), matching all responses' rewards removes that too;
    :class:`ConditionalMMD` matches within each label. ``history_`` gains
    ``train_covariate_mmd`` and ``valid_covariate_mmd``.

    References
    ----------
    Gretton, A. et al. (2012). A kernel two-sample test. JMLR.

    Wang, C. et al. (2025). Beyond Reward Hacking: Causal Rewards for Large
    Language Model Alignment.
    """

    _conditional = False

    _parameter_constraints = {
        **Invariance._parameter_constraints,
        "n_bins": [Interval(Integral, 2, None, closed="left")],
        "on": [StrOptions({"reward", "representation"})],
    }

    def __init__(self, weight=1.0, *, covariate="length", n_bins=2, on="reward"):
        self.weight = weight
        self.covariate = covariate
        self.n_bins = n_bins
        self.on = on

    def fit_inputs(self, covariates, y, *, n_pairs, rows, owner):
        inputs = super().fit_inputs(
            covariates, y, n_pairs=n_pairs, rows=rows, owner=owner
        )
        values = inputs["covariate"]
        rows = np.arange(n_pairs) if rows is None else np.asarray(rows)
        quantiles = np.linspace(0, 1, self.n_bins + 1)[1:-1]
        edges = np.quantile(values[rows].ravel(), quantiles)
        bins = np.searchsorted(edges, values, side="right")
        counts = np.bincount(bins[rows].ravel(), minlength=self.n_bins)
        if np.any(counts == 0):
            raise ValueError(
                f"{owner}: the covariate {self.covariate!r} takes too few distinct "
                f"values to cut the training responses into n_bins={self.n_bins} "
                f"bins by its quantiles (responses per bin: {counts.tolist()}); "
                "lower n_bins."
            )
        if self._conditional:
            self._check_labels(bins[rows], y[rows], owner)
        inputs["covariate_bin"] = bins.astype(np.float32)
        return inputs

    def _check_labels(self, bins, y, owner):
        preferred = np.where((y > 0.5)[:, None], bins, -1)[:, 0]
        preferred = np.r_[preferred, np.where(y < 0.5, bins[:, 1], -1)]
        other = np.r_[
            np.where(y < 0.5, bins[:, 0], -1), np.where(y > 0.5, bins[:, 1], -1)
        ]
        for side, found in (("preferred", preferred), ("other", other)):
            missing = sorted(set(range(self.n_bins)) - set(found[found >= 0].tolist()))
            if missing:
                warnings.warn(
                    f"{owner}: no {side} training response falls in the covariate "
                    f"bin(s) {missing} of {self.covariate!r} (of {self.n_bins}), so "
                    f"ConditionalMMD compares the {side} responses over fewer bins; "
                    "lower n_bins or use MMD.",
                    UserWarning,
                    stacklevel=6,
                )

    def loss_term(self):
        return MMDPenalty(float(self.weight), self.n_bins, self.on, self._conditional)


class ConditionalMMD(MMD):
    """Match reward distributions across covariate bins, within each label.

    As :class:`MMD`, but the preferred responses of the bins are compared among
    themselves, and so are the other responses: among responses of equal
    standing, the reward may not depend on the covariate, while the covariate
    may still differ between preferred and other responses. Ties (``y = 1/2``)
    enter neither.

    Parameters
    ----------
    weight : float, default=1.0
        The penalty's weight; ``0`` is the model without it.
    covariate : str, default="length"
        The covariate (see :class:`Decorrelation`).
    n_bins : int, default=2
        Number of bins, cut at the quantiles of the training responses. A bin
        without preferred (or other) training responses is warned about.
    on : {"reward", "representation"}, default="reward"
        Match the rewards or the latent representations.

    References
    ----------
    Wang, C. et al. (2025). Beyond Reward Hacking: Causal Rewards for Large
    Language Model Alignment.
    """

    _conditional = True


# -- product of experts ----------------------------------------------------------


@dataclass(frozen=True)
class ExpertRecord(LossTerm):
    """No loss: records the expert's logit per unit of covariate difference."""

    scale: float

    def __call__(self, net, y_pred, y_true, batch, training):
        stack = net.module_
        change = stack.stacked_parameter("expert.weight").flatten(1)[:, 0]
        covariate = batch["covariate"][..., 0] - batch["covariate"][..., 1]
        # the bias-only fit's coefficient, read back from its logits
        fitted = (batch["expert_logit"] * covariate).sum(-1) / (covariate**2).sum(
            -1
        ).clamp(min=_VARIANCE_FLOOR)
        net.record_mean("expert_coef", self.scale * (fitted + change), training)
        return torch.zeros_like(change)


def bias_only_coefficient(difference, y):
    """Fit the labels (soft too) by a logistic regression on the covariate difference.

    No intercept: swapping a pair's sides negates its difference and flips its
    label, so the fit means the same for either order. Returns the coefficient
    maximising the BTL likelihood.
    """

    def loss(beta):
        logit = beta * difference
        return np.mean(y * np.logaddexp(0, -logit) + (1 - y) * np.logaddexp(0, logit))

    return float(minimize_scalar(loss, bounds=(-50, 50), method="bounded").x)


class ProductOfExperts(Invariance):
    """Train the reward beside a bias-only expert that sees only the covariate.

    In training the logit of a pair is ``r(a) - r(b) + weight * b(c_a - c_b)``:
    the product of the reward model and ``weight``-th power of a logistic
    expert ``b`` of the covariate difference. The expert starts as the
    logistic regression of the labels on the covariate difference alone (over
    the pairs given to ``fit``, its coefficient ``beta``) and is trained
    jointly from there. What the covariate explains of the labels is the
    expert's to explain, so the reward model learns what the covariate does
    not; predictions and validation use the reward model alone.

    Parameters
    ----------
    weight : float, default=1.0
        The expert's power in the product: ``0`` is the model without it, ``1``
        the product with the bias-only model as fitted; larger weights leave
        the reward model less of the covariate's effect.
    covariate : str, default="length"
        The covariate (see :class:`Decorrelation`).

    Notes
    -----
    ``history_`` gains ``train_expert_coef``, the expert's logit per standard
    deviation of the covariate difference (``weight`` times its coefficient).

    References
    ----------
    Clark, C., Yatskar, M. and Zettlemoyer, L. (2019). Don't Take the Easy Way
    Out: Ensemble Based Methods for Avoiding Known Dataset Biases. EMNLP.

    He, H., Zha, S. and Wang, H. (2019). Unlearn Dataset Bias in Natural
    Language Inference by Fitting the Residual. DeepLo workshop.
    """

    def __init__(self, weight=1.0, *, covariate="length"):
        self.weight = weight
        self.covariate = covariate

    def fit_inputs(self, covariates, y, *, n_pairs, rows, owner):
        inputs = super().fit_inputs(
            covariates, y, n_pairs=n_pairs, rows=rows, owner=owner
        )
        values = inputs["covariate"].astype(np.float64)
        difference = values[:, 0] - values[:, 1]
        rows = np.arange(n_pairs) if rows is None else np.asarray(rows)
        beta = bias_only_coefficient(difference[rows], y[rows])
        inputs["expert_logit"] = (beta * difference).astype(np.float32)
        return inputs

    def module_params(self):
        return {"expert_scale": float(self.weight)}

    def loss_term(self):
        return ExpertRecord(float(self.weight))
