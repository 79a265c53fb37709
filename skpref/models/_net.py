"""The skorch layer: one net class per loss, the holdout and the training callbacks.

Public estimators build a :class:`PairNet` (or :class:`AdversarialPairNet`) in
``fit``; they are not skorch nets themselves (see STYLE.md). The net is fitted on
:class:`~skpref.models._batches.Phases`, the training and validation batches of
data held on the training device; each batch is a dict ``{"X": pair rows,
"sample_weight": weights}`` (skorch's way of carrying per-sample weights to the
loss); the module sees only the pair rows.

The loss is the BTL negative log-likelihood (eq. 2) on soft targets: with the logit
``d = r(a) - r(b)`` and ``y`` the share of annotators preferring a, it is the binary
cross-entropy of ``sigmoid(d)`` against ``y`` (for ``y = 1`` that is
``-log sigmoid(r(a) - r(b))``), weighted per pair and averaged over the batch.

Losses are written over the last axis, so that the same code serves one model and
the engine's stacked members (a leading member axis, one loss per member; see
:mod:`skpref.models._engine`). Batch statistics are summed on the device and
recorded once per phase of an epoch (:meth:`PairNet.run_single_epoch`), where
skorch would wait on the device after every batch to record its loss.
"""

import math
from collections.abc import Mapping

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring, PrintLog
from skorch.dataset import ValidSplit
from skorch.utils import to_tensor

from skpref.models._batches import Batches, EpochSums, Phases, batch_mean, batch_rows


class PairNet(NeuralNet):
    """skorch net whose module returns the BTL logit ``r(a) - r(b)`` of each pair.

    The criterion must be unreduced (``reduction="none"``): ``get_loss`` weights each
    pair's loss by its sample weight, then averages. On validation batches it also
    sums the weighted agreement with the (soft) labels, which
    :class:`WeightedAgreement` turns into the epoch's ``valid_acc``.
    """

    _epoch_sums = None

    def infer(self, x, **fit_params):
        # The weights travel with the pairs to reach the loss; the module sees pairs.
        if isinstance(x, Mapping):
            x = x["X"]
        return self.module_(to_tensor(x, device=self.device), **fit_params)

    def _set_training(self, training=True):
        # skorch sets the mode before every batch, walking every submodule; it
        # changes only between the training and validation phases.
        if self.module_.training != training:
            super()._set_training(training)

    def get_split_datasets(self, X, y=None, **fit_params):
        if isinstance(X, Phases):
            return X.train, X.valid
        return super().get_split_datasets(X, y, **fit_params)

    def get_iterator(self, dataset, training=False):
        if isinstance(dataset, Batches):
            return dataset
        return super().get_iterator(dataset, training=training)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """Run skorch's epoch, with the batch statistics summed on the device.

        skorch records each batch's loss with ``loss.item()``, which waits for
        the device after every step; here the losses (and what ``get_loss``
        records) are summed on the device and recorded once, as one batch of
        the phase's size, which ``PassthroughScoring`` averages to the same
        epoch values.
        """
        if iterator is None:
            return
        self._epoch_sums = sums = EpochSums()
        batch_count = 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            rows = batch_rows(batch[0])
            sums.add_rows(rows)
            sums.add_mean(f"{prefix}_loss", step["loss"], rows)
            self.notify("on_batch_end", batch=batch, training=training, **step)
            batch_count += 1
        self._epoch_sums = None
        values, rows = sums.values()
        self.record_phase(prefix, values, rows, batch_count)

    def record_phase(self, prefix, values, rows, batch_count):
        """Record a phase's statistics in the history, as one batch."""
        for name, value in values.items():
            self.history.record_batch(name, value)
        self.history.record_batch(f"{prefix}_batch_size", rows)
        self.history.record(f"{prefix}_batch_count", batch_count)

    def record_mean(self, name, value, X):
        """Add a batch's mean of a statistic to the phase's (batch-size weighted)."""
        if self._epoch_sums is not None:
            self._epoch_sums.add_mean(name, value, batch_rows(X))

    def record_sum(self, name, value):
        """Add a batch's total of a statistic to the phase's."""
        if self._epoch_sums is not None:
            self._epoch_sums.add_sum(name, value)

    def pair_weights(self, X):
        """Return the batch's sample weights as a tensor on the net's device."""
        return to_tensor(X["sample_weight"], device=self.device)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        per_pair = super().get_loss(y_pred, y_true, X=X, training=training)
        weight = self.pair_weights(X)
        if not training:
            y_true = to_tensor(y_true, device=self.device)
            with torch.no_grad():
                predicted_a = (y_pred > 0).to(y_true.dtype)
                agreement = predicted_a * y_true + (1 - predicted_a) * (1 - y_true)
                self.record_sum("valid_agreement", (weight * agreement).sum(-1))
                self.record_sum("valid_weight", weight.sum(-1))
        return batch_mean(weight * per_pair, X)

    @property
    def _default_callbacks(self):
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("valid_acc", WeightedAgreement()),
            ("print_log", PrintLog()),
        ]


class AdversarialPairNet(PairNet):
    """The pair net plus the discriminator's loss (eq. 13).

    The module returns ``(margin, disc_out, disc_target)``; the loss adds the
    discriminator's loss per pair (averaged over the pair's two responses) to the
    BTL loss, with the same pair weights. The gradient reversal inside the module
    turns the sum into the min-max problem of eq. (5). For class targets (the
    objective, or a categorical covariate) the discriminator's loss is the
    cross-entropy and its accuracy is recorded per batch as ``train_disc_acc`` /
    ``valid_disc_acc``; for a continuous (standardised) covariate it is the
    squared error, and ``1 - `` its unweighted mean, the R² against the training
    mean, is recorded as ``train_disc_r2`` / ``valid_disc_r2``. The loss is
    recorded as ``train_adv_loss`` / ``valid_adv_loss``.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        margin, disc_out, disc_target = y_pred
        btl_loss = super().get_loss(margin, y_true, X=X, training=training)
        continuous = disc_target.is_floating_point()
        if continuous:
            per_response = (disc_out.squeeze(-1) - disc_target) ** 2
        else:
            n_classes = disc_out.shape[-1]
            per_response = torch.nn.functional.cross_entropy(
                disc_out.reshape(-1, n_classes),
                disc_target.reshape(-1),
                reduction="none",
            ).view(disc_target.shape)
        # The a halves, then the b halves (see the module): one loss per pair.
        per_pair = per_response.unflatten(-1, (2, -1)).mean(-2)
        adv_loss = batch_mean(self.pair_weights(X) * per_pair, X)
        prefix = "train" if training else "valid"
        with torch.no_grad():
            if continuous:
                self.record_mean(f"{prefix}_disc_r2", 1 - batch_mean(per_pair, X), X)
            else:
                correct = (disc_out.argmax(-1) == disc_target).to(per_pair.dtype)
                disc_acc = batch_mean(correct.unflatten(-1, (2, -1)).mean(-2), X)
                self.record_mean(f"{prefix}_disc_acc", disc_acc, X)
        self.record_mean(f"{prefix}_adv_loss", adv_loss, X)
        return btl_loss + adv_loss


class WeightedAgreement(Callback):
    """Record ``valid_acc``: the weighted expected agreement on the validation pairs.

    ``sum(w * (y [d > 0] + (1 - y) [d <= 0])) / sum(w)`` over the epoch's validation
    batches: plain accuracy for hard labels and unit weights, the expected agreement
    with a random annotator for soft labels (see ``BaseRewardModel.score``).
    skorch's ``EpochScoring("accuracy")`` scores neither soft labels nor weights;
    summing per validation batch, where the loss already holds the margins, also
    saves a second pass over the validation pairs.
    """

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        batches = [b for b in row["batches"] if "valid_weight" in b]
        if not batches:
            return
        total = sum(b["valid_weight"] for b in batches)
        agreement = sum(b["valid_agreement"] for b in batches) / total
        best = max(
            (r["valid_acc"] for r in net.history[:-1] if "valid_acc" in r),
            default=-math.inf,
        )
        net.history.record("valid_acc", agreement)
        net.history.record("valid_acc_best", bool(agreement > best))


class PairHoldout:
    """skorch ``train_split``: a seeded, stratified holdout of the training pairs.

    A thin layer over skorch's ``ValidSplit(fraction, stratified=True)`` that
    stratifies by the side a pair's label favours (b, tie or a), so that soft labels
    can be stratified too; it falls back to an unstratified split where a side has
    too few pairs to appear in both parts.
    """

    def __init__(self, fraction, random_state):
        self.fraction = fraction
        self.random_state = random_state

    def __call__(self, dataset, y=None, groups=None):
        side = np.sign(np.asarray(y, dtype=np.float64) - 0.5).astype(np.int64) + 1
        counts = np.bincount(side, minlength=3)
        n_valid = math.ceil(self.fraction * len(side))
        stratified = counts[counts > 0].min() >= 2 and (
            min(n_valid, len(side) - n_valid) >= np.count_nonzero(counts)
        )
        split = ValidSplit(
            self.fraction, stratified=stratified, random_state=self.random_state
        )
        return split(dataset, y=side)

    def split_indices(self, y):
        """Return ``(train, valid)``, the positions of the pairs of each part."""
        train, valid = self(np.arange(len(y)), y)
        return np.asarray(train.indices), np.asarray(valid.indices)


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
