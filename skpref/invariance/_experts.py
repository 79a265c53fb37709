"""A product of experts: the reward model beside a bias-only model of the covariate."""

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import minimize_scalar

from skpref.invariance._base import _VARIANCE_FLOOR, Invariance
from skpref.models import LossTerm


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


def bias_only_coefficient(difference, y, sample_weight=None):
    """Fit the labels (soft too) by a logistic regression on the covariate difference.

    No intercept: swapping a pair's sides negates its difference and flips its
    label, so the fit means the same for either order. Returns the coefficient
    maximising the BTL likelihood, weighted by ``sample_weight`` as the reward
    model's loss is.
    """

    def loss(beta):
        logit = beta * difference
        pair_loss = y * np.logaddexp(0, -logit) + (1 - y) * np.logaddexp(0, logit)
        return np.average(pair_loss, weights=sample_weight)

    return float(minimize_scalar(loss, bounds=(-50, 50), method="bounded").x)


class ProductOfExperts(Invariance):
    """Train the reward beside a bias-only expert that sees only the covariate.

    In training the logit of a pair is ``r(a) - r(b) + weight * b(c_a - c_b)``:
    the product of the reward model and ``weight``-th power of a logistic
    expert ``b`` of the covariate difference. The expert starts as the
    logistic regression of the labels on the covariate difference alone (over
    the training pairs, weighted, its coefficient ``beta``) and is trained
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
    deviation of the covariate over the training responses (``weight`` times
    its coefficient); the covariate difference of two independent responses
    spreads about 1.4 times as wide.

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

    def fit_inputs(self, covariates, y, *, n_pairs, rows, sample_weight, owner):
        inputs = super().fit_inputs(
            covariates,
            y,
            n_pairs=n_pairs,
            rows=rows,
            sample_weight=sample_weight,
            owner=owner,
        )
        values = inputs["covariate"].astype(np.float64)
        difference = values[:, 0] - values[:, 1]
        rows = np.arange(n_pairs) if rows is None else np.asarray(rows)
        weight = None if sample_weight is None else np.asarray(sample_weight)[rows]
        beta = bias_only_coefficient(difference[rows], y[rows], weight)
        inputs["expert_logit"] = (beta * difference).astype(np.float32)
        return inputs

    def module_params(self):
        return {"expert_scale": float(self.weight)}

    def loss_term(self):
        return ExpertRecord(float(self.weight))
