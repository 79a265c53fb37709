"""The skorch layer: the pair net, its loss and its training callbacks.

Public estimators build a :class:`PairNet` in ``fit``; they are not skorch nets
themselves (see STYLE.md). The loss is the BTL negative log-likelihood (eq. 2):
with the logit ``d = r(a) - r(b)`` and ``y = 1`` for ``a > b`` it is the binary
cross-entropy of ``sigmoid(d)`` against ``y``, which equals
``-log sigmoid(r(winner) - r(loser))``.
"""

import math

import numpy as np
import torch
from skorch import NeuralNetBinaryClassifier
from skorch.callbacks import Callback


class PairNet(NeuralNetBinaryClassifier):
    """Binary skorch classifier whose module returns the BTL logit ``r(a) - r(b)``.

    When the module also returns discriminator logits (the adversarial model), the
    loss adds their cross-entropy against the objective id, eq. (13); the gradient
    reversal inside the module turns the sum into the min-max problem of eq. (5).
    The discriminator's accuracy is recorded per batch as ``train_disc_acc`` /
    ``valid_disc_acc`` and averaged per epoch by skorch's ``PassthroughScoring``.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if not isinstance(y_pred, tuple):
            return super().get_loss(y_pred, y_true, X=X, training=training)
        logit, disc_a, disc_b = y_pred
        btl_loss = super().get_loss(logit, y_true, X=X, training=training)
        objective = self.module_.split(torch.as_tensor(X, device=self.device))[2]
        disc_logits = torch.cat([disc_a, disc_b])
        disc_target = torch.cat([objective, objective])
        adv_loss = torch.nn.functional.cross_entropy(disc_logits, disc_target)
        prefix = "train" if training else "valid"
        with torch.no_grad():
            disc_acc = (disc_logits.argmax(1) == disc_target).float().mean().item()
        self.history.record_batch(f"{prefix}_disc_acc", disc_acc)
        self.history.record_batch(f"{prefix}_adv_loss", adv_loss.item())
        return btl_loss + adv_loss


class NonFiniteLossGuard(Callback):
    """Stop training when an epoch's loss is NaN or infinite.

    It runs before the best-weights callback, so the diverged epoch is never kept;
    training then ends the skorch way (``KeyboardInterrupt`` is caught by ``fit``)
    and the best weights seen so far are restored. The estimator reads
    ``diverged_epoch_`` to warn.
    """

    def on_train_begin(self, net, **kwargs):
        self.diverged_epoch_ = None

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        losses = [row[key] for key in ("train_loss", "valid_loss") if key in row]
        if not all(math.isfinite(loss) for loss in losses):
            self.diverged_epoch_ = row["epoch"]
            raise KeyboardInterrupt


class AdversaryWeightSchedule(Callback):
    """Set the gradient-reversal weight before each epoch: a linear warm-up to λ.

    With ``warmup_epochs = w > 0`` the weight in epoch ``e`` (1-based) is
    ``λ * min(1, (e - 1) / w)``: the first epoch trains without the adversary, which
    lets the encoder find reward-relevant features before they are pruned.
    """

    def __init__(self, weight, warmup_epochs=0):
        self.weight = weight
        self.warmup_epochs = warmup_epochs

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history)  # history already holds the starting epoch's row
        ramp = (
            1.0
            if self.warmup_epochs == 0
            else min(1.0, (epoch - 1) / self.warmup_epochs)
        )
        net.module_.adversary_weight = self.weight * ramp
        net.history.record("adversary_weight", net.module_.adversary_weight)


def majority_share(ids):
    """Accuracy of always guessing the most frequent id: the discriminator's chance."""
    return float(np.bincount(ids).max() / ids.size)
