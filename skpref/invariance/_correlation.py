"""Terms on the rewards' correlation with the covariate: one head, or two (ODIN)."""

from dataclasses import dataclass
from numbers import Real

import torch

from skpref.invariance._base import Invariance, covariate_correlation
from skpref.models import LossTerm
from skpref.utils import Interval


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
