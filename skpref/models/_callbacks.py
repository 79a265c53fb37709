"""The skorch callbacks of the engine's net: per-member scores, weights, schedules.

A stack's statistics are lists in the history, one value per member; skorch's own
``PassthroughScoring``, ``EarlyStopping`` and ``PrintLog`` read one scalar per
epoch and one set of weights, so they do not serve a stack.
"""

import math
import sys

import numpy as np
import torch
from skorch.callbacks import Callback


class MemberScores(Callback):
    """Turn an epoch's batch statistics into per-member columns of the history.

    ``<phase>_loss``, ``<phase>_acc`` (weighted expected agreement with the
    labels), the loss terms' statistics and TRL's ``train_margin``,
    ``train_reward_mean`` and ``train_reward_std``; read from the device once.
    """

    def on_epoch_end(self, net, **kwargs):
        entries = {}
        for batch in net.history[-1]["batches"]:
            for key in [k for k in batch if k.startswith("member_")]:
                entries.setdefault(key, []).append(batch.pop(key))
        if not entries:
            return
        # one transfer for the epoch: every statistic of every batch
        stacked = {k: torch.stack([v[2] for v in e]) for k, e in entries.items()}
        flat = torch.cat([t.flatten().to(torch.float64) for t in stacked.values()])
        parts = np.split(
            flat.cpu().numpy(), np.cumsum([t.numel() for t in stacked.values()])[:-1]
        )
        for prefix in ("train", "valid"):
            found = {
                k: (entries[k][0], part.reshape(stacked[k].shape))
                for k, part in zip(stacked, parts, strict=True)
                if k.startswith(f"member_{prefix}_")
            }
            if not found:
                continue
            rows = next(
                v[:, names.index("rows")]
                for (kind, names, _), v in found.values()
                if "rows" in names
            )
            totals = {}
            for (kind, names, _), values in found.values():
                for i, name in enumerate(names):
                    if kind == "mean":  # batch means, weighted by the batch's rows
                        total = (values[:, i] * rows).sum(0) / np.maximum(
                            rows.sum(0), 1
                        )
                    else:
                        total = values[:, i].sum(0)
                    totals[f"{prefix}_{name}"] = total
            # each member's own batches: those holding rows of it
            totals[f"{prefix}_batch_count"] = (rows > 0).sum(0)
            n_rows = np.maximum(totals.pop(f"{prefix}_rows"), 1)
            agreement = totals.pop(f"{prefix}_agreement")
            totals[f"{prefix}_acc"] = agreement / totals.pop(f"{prefix}_weight")
            if f"{prefix}_margin" in totals:
                totals[f"{prefix}_margin"] /= n_rows
                mean = totals.pop(f"{prefix}_reward_sum") / (2 * n_rows)
                square = totals.pop(f"{prefix}_reward_squares") / (2 * n_rows)
                totals[f"{prefix}_reward_mean"] = mean
                totals[f"{prefix}_reward_std"] = np.sqrt(
                    np.maximum(square - mean**2, 0)
                )
            for key, value in totals.items():
                net.history.record(key, value.tolist())


class MemberCheckpoint(Callback):
    """Keep each member's best weights; stop members by patience or divergence.

    An epoch improves when ``monitor`` (``"valid_acc"``, or ``"train_loss"``,
    lower is better) beats the member's best strictly. A member stops after its
    ``patience`` (None: none) epochs without improvement or at a non-finite loss
    (never kept); a stopped member is still stepped, but nothing of it is kept.
    Training ends when all have stopped; each then gets the weights of its
    ``best_epochs_`` (0: its initial weights).
    """

    def __init__(self, monitor, patience):
        self.monitor = monitor
        self.patience = patience

    def on_train_begin(self, net, **kwargs):
        M = net.module_.n_members
        self.best_ = [math.inf if self.monitor == "train_loss" else -math.inf] * M
        self.best_epochs_ = [0] * M
        self.n_epochs_ = [0] * M
        self.diverged_epochs_ = [None] * M
        self.stopped_ = [False] * M
        self.misses_ = [0] * M
        self.weights_ = [p.detach().clone() for p in net.module_.stacked_parameters()]

    def on_epoch_end(self, net, **kwargs):
        row, epoch = net.history[-1], net.history[-1]["epoch"]
        losses = [row[k] for k in ("train_loss", "valid_loss") if k in row]
        lower = self.monitor == "train_loss"
        improved = []
        for k in [k for k, stopped in enumerate(self.stopped_) if not stopped]:
            self.n_epochs_[k] = epoch
            if not all(math.isfinite(loss[k]) for loss in losses):
                self.diverged_epochs_[k], self.stopped_[k] = epoch, True
                continue
            score = row[self.monitor][k]
            if score < self.best_[k] if lower else score > self.best_[k]:
                self.best_[k], self.best_epochs_[k], self.misses_[k] = score, epoch, 0
                improved.append(k)
            else:
                self.misses_[k] += 1
                self.stopped_[k] = self.misses_[k] == self.patience[k]
        with torch.no_grad():
            for kept, stacked in zip(
                self.weights_, net.module_.stacked_parameters(), strict=True
            ):
                kept[improved] = stacked[improved]
        net.history.record("kept", [k in improved for k in range(len(self.best_))])
        if all(self.stopped_):
            raise KeyboardInterrupt  # skorch's way of ending training early

    def on_train_end(self, net, **kwargs):
        with torch.no_grad():
            for kept, stacked in zip(
                self.weights_, net.module_.stacked_parameters(), strict=True
            ):
                stacked.copy_(kept)


class AdversarySchedule(Callback):
    """Set each member's gradient-reversal weight per epoch, ramped up to its λ.

    With a warm-up ``w > 0`` epoch ``e`` uses ``λ * min(1, (e - 1) / w)``: the
    encoder first finds reward-relevant features, then the adversary prunes them.
    ``chances`` (the discriminators' chance scores) are recorded beside.
    """

    def __init__(self, weights, warmups, chances):
        self.weights = weights
        self.warmups = warmups
        self.chances = chances

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history)  # the history already holds this epoch's row
        now = [
            lam * (1.0 if w == 0 else min(1.0, (epoch - 1) / w))
            for lam, w in zip(self.weights, self.warmups, strict=True)
        ]
        buffer = net.module_.stacked_buffer("reversal.weight")
        buffer.copy_(torch.tensor(now, dtype=buffer.dtype))
        net.history.record("adversary_weight", now)
        net.history.record("disc_chance", list(self.chances))


class EpochLog(Callback):
    """Print each member's losses and accuracies as an epoch ends (``verbose``).

    Flushed, so that a search's workers (``GridSearchCV``) show their progress too.
    """

    def __init__(self, sink=print):
        self.sink = sink

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        names = [
            k
            for k in ("train_loss", "valid_loss", "valid_acc", "train_acc")
            if k in row
        ]
        members = [
            " ".join(f"{name} {row[name][k]:.4f}" for name in names)
            for k in range(net.module_.n_members)
        ]
        tag = "" if len(members) == 1 else "member {}: "
        lines = [tag.format(k) + text for k, text in enumerate(members)]
        self.sink(f"epoch {row['epoch']:3d} ({row['dur']:.1f}s) | " + " | ".join(lines))
        sys.stdout.flush()


class EpochProgress(Callback):
    """Advance a progress bar by one per epoch, and by the epochs not run at the end."""

    def __init__(self, bar):
        self.bar = bar

    def on_epoch_end(self, net, **kwargs):
        self.bar.update(1)

    def on_train_end(self, net, **kwargs):  # the net is fresh: its epochs are ours
        self.bar.update(net.max_epochs - len(net.history))
