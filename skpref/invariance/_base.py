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

from numbers import Real

import torch
from sklearn.base import BaseEstimator

from skpref.covariates import encode_pair_covariate
from skpref.utils import Interval

# Added to variances before a square root: keeps the correlation's gradient finite
# for a batch whose rewards (or covariates) are all equal.
_VARIANCE_FLOOR = 1e-12


class Invariance(BaseEstimator):
    """Base of the invariance terms; not for direct use.

    A subclass sets ``weight`` and ``covariate`` (and its own parameters) and
    returns its :class:`~skpref.models.LossTerm` from :meth:`loss_term`.
    """

    _parameter_constraints = {
        "weight": [Interval(Real, 0, None, closed="left")],
        "covariate": [str],
    }

    def fit_inputs(self, covariates, y, *, n_pairs, rows, sample_weight, owner):
        """Return the named per-pair inputs of a fit: ``{"covariate": (n, 2)}``.

        The covariate of response a and of response b of every pair, standardised
        over the responses of the training ``rows`` (the pairs trained on: no
        holdout, no pair of weight 0). ``sample_weight`` holds every pair's
        weight, for a term that fits the labels.
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


def response_inputs(batch, name):
    """Return a ``(M, batch, 2)`` batch entry as ``(M, 2 * batch)``: a's, then b's."""
    return batch[name].transpose(1, 2).flatten(1)


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
    covariate = response_inputs(batch, "covariate")
    values = response_values(y_pred, name)
    return weighted_correlation(values, covariate, response_weights(batch))
