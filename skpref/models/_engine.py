"""The training engine: ``M >= 1`` reward models trained as one skorch net.

A fit trains a stack of members (:class:`~skpref.models._modules.MemberStack`)
with skorch's own loop and extension points: the dataset (:class:`MemberData`)
holds the pairs once on the device and each member's rows (its :class:`FitPlan`);
``train_split`` (:func:`member_split`) and the iterators (:class:`MemberBatches`)
yield dicts of named entries with a leading member axis; the loss
(:meth:`RewardNet.get_loss`) is the weighted BTL likelihood (eq. 2) plus the
model's :class:`LossTerm`; callbacks keep each member's scores and best weights.
Member ``k`` is, to rounding, the model fitted alone with the same seed and data
(the guarantee and its tests: "The training engine" in docs/models.rst).
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from skorch import NeuralNet
from skorch.callbacks import Callback

from skpref.models._modules import MemberStack
from skpref.utils import Seeds

#: Share of the free device memory the training data may take to be resident.
_RESIDENT_SHARE = 0.5
#: Bytes of rows gathered on the host and copied at once when data are streamed.
_CHUNK_BYTES = 256 * 2**20
#: On the CPU, the parameters a stack may hold in all: there stacked products cost
#: more than the per-step overhead they save once they dominate a step (measured
#: in docs/models.rst, "Where stacking pays off").
_CPU_STACK_PARAMETERS = 2_000_000
# A kept epoch whose training loss is this many times that of predicting 1/2 for
# every pair (log 2, or softplus(m) with a margin m) has diverged.
_DIVERGED_TIMES = 10
_CHANCE_LOSS = math.log(2)
# The share of training pairs of probabilities exactly 0 or 1 (|r(a) - r(b)| > 36.7)
# that is warned about.
_SATURATED_SHARE = 0.5


# -- what a member trains on -------------------------------------------------------


@dataclass
class Rows:
    """One member's rows of a :class:`PairData` (int64 index) and their weights."""

    index: torch.Tensor
    weight: torch.Tensor

    @classmethod
    def of(cls, index, weight):
        # copies: torch takes no array of negative strides (a reversed view)
        return cls(
            torch.from_numpy(np.array(index, dtype=np.int64)),
            torch.from_numpy(np.array(weight, dtype=np.float32)),
        )

    def shifted(self, offset):
        return Rows(self.index + offset, self.weight)

    def __len__(self):
        return len(self.index)


@dataclass
class FitPlan:
    """What one member trains on: its rows, seeds and named inputs (rows of ``X``)."""

    estimator: object
    train: Rows
    valid: Rows | None
    seeds: Seeds
    inputs: dict


class PairData:
    """Blocks of float32 pair rows, their labels and named inputs, stacked.

    The rows stay on the device when they take at most ``_RESIDENT_SHARE`` of its
    free memory (on the CPU, in place); otherwise they are streamed in chunks.
    """

    def __init__(self, blocks, y, inputs, device):
        self.device = device = torch.device(device)
        n_rows, n_columns = sum(len(block) for block in blocks), blocks[0].shape[1]
        self.row_bytes = 4 * n_columns
        self.resident = _fits_on(device, n_rows * self.row_bytes)
        self.y = torch.as_tensor(np.concatenate(y), dtype=torch.float32).to(device)
        self.inputs = {
            name: torch.as_tensor(np.concatenate([block[name] for block in inputs]))
            .to(torch.float32)
            .to(device)
            for name in inputs[0]
        }
        if self.resident and device.type != "cpu":
            # block by block: no copy of all the rows on the host
            self.X = torch.empty(
                (n_rows, n_columns), dtype=torch.float32, device=device
            )
            start = 0
            for block in blocks:
                self.X[start : start + len(block)].copy_(torch.from_numpy(block))
                start += len(block)
        else:  # on the host: in place on the CPU, or streamed from there
            self.X = torch.from_numpy(
                blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
            )

    def feature_batches(self, order, order_on_device, batch_size, n_steps):
        """Yield the rows of each step, ``X[order[:, step]]``, on the device."""
        if self.resident:
            for step in range(n_steps):
                columns = slice(step * batch_size, (step + 1) * batch_size)
                yield self.X[order_on_device[:, columns]]
            return
        rows_per_step = batch_size * order.shape[0]
        per_chunk = max(1, _CHUNK_BYTES // (rows_per_step * self.row_bytes))
        for first in range(0, n_steps, per_chunk):
            last = min(n_steps, first + per_chunk)
            chunk = self.X[order[:, first * batch_size : last * batch_size]]
            if self.device.type == "cuda":
                chunk = chunk.pin_memory()
            chunk = chunk.to(self.device, non_blocking=True)
            for step in range(last - first):
                yield chunk[:, step * batch_size : (step + 1) * batch_size]


def _fits_on(device, n_bytes):
    return device.type != "cuda" or (
        n_bytes <= _RESIDENT_SHARE * torch.cuda.mem_get_info(device)[0]
    )


class MemberData(torch.utils.data.Dataset):
    """Skorch's dataset: every member's ``Rows`` of one phase (``FitPlan``: both).

    ``generators`` (training) draw each member's batch order; None keeps it.
    """

    def __init__(self, data, members, generators=None):
        self.data = data
        self.members = members
        self.generators = generators

    def __len__(self):
        return max(len(rows) for rows in self.members)


def member_split(dataset, y=None):
    """Skorch's ``train_split``: the members' planned training and validation rows."""
    plans = dataset.members
    generators = [torch.Generator().manual_seed(p.seeds.shuffle) for p in plans]
    train = MemberData(dataset.data, [p.train for p in plans], generators)
    if plans[0].valid is None:
        return train, None
    return train, MemberData(dataset.data, [p.valid for p in plans])


class MemberBatches:
    """Skorch's iterator: a phase's batches of ``batch_size`` rows per member, stacked.

    Training draws each member's order by ``torch.randperm`` with its generator,
    every epoch. A member short of rows is padded with a row of its own of weight
    0, and the batch carries a ``mask`` of real rows.
    """

    def __init__(self, dataset, batch_size, **kwargs):
        self.dataset = dataset
        self.batch_size = batch_size
        self.counts = [len(rows) for rows in dataset.members]
        self.length = max(self.counts)

    def __len__(self):
        return math.ceil(self.length / self.batch_size)

    def _epoch_order(self):
        """``(index, weight)`` of every member's rows this epoch, padded, stacked."""
        members = self.dataset.members
        index = torch.empty((len(members), self.length), dtype=torch.int64)
        weight = torch.zeros((len(members), self.length), dtype=torch.float32)
        for k, rows in enumerate(members):
            n = len(rows)
            if self.dataset.generators is None:
                index[k, :n], weight[k, :n] = rows.index, rows.weight
            else:
                order = torch.randperm(n, generator=self.dataset.generators[k])
                index[k, :n], weight[k, :n] = rows.index[order], rows.weight[order]
            index[k, n:] = rows.index[0] if n else 0
        return index, weight

    def __iter__(self):
        # what depends on the epoch goes to the device once; steps then only index
        data = self.dataset.data
        index, weight = self._epoch_order()
        on_device = index.to(data.device, non_blocking=True)
        weight = weight.to(data.device, non_blocking=True)
        size = self.batch_size
        starts = torch.arange(len(self)) * size
        n_rows = (torch.tensor(self.counts)[None, :] - starts[:, None]).clamp(0, size)
        widths = (self.length - starts).clamp(max=size)
        padded = (n_rows < widths[:, None]).any(1).tolist()
        widths = widths.tolist()
        n_rows = n_rows.to(data.device, dtype=torch.float32, non_blocking=True)
        features = data.feature_batches(index, on_device, size, len(self))
        for step, X_step in enumerate(features):
            rows = on_device[:, step * size : (step + 1) * size]
            batch = {
                "X": X_step,
                "sample_weight": weight[:, step * size : (step + 1) * size],
                "n_rows": n_rows[step],
                **{name: values[rows] for name, values in data.inputs.items()},
            }
            if padded[step]:
                real = torch.arange(widths[step], device=data.device)
                batch["mask"] = real[None, :] < n_rows[step][:, None]
            yield batch, data.y[rows]


def pair_mean(values, batch):
    """Mean over the rows of a batch (the last axis), skipping padded rows."""
    if "mask" not in batch:
        return values.mean(-1)
    kept = torch.where(batch["mask"], values, torch.zeros((), device=values.device))
    return kept.sum(-1) / batch["n_rows"].clamp(min=1)


# -- the net and its loss ----------------------------------------------------------


class LossTerm:
    """A term added to the BTL loss of a reward model; subclass and call.

    ``term(net, y_pred, y_true, batch, training)`` returns one loss per member
    (shape ``(M,)``) from the module's outputs ``y_pred`` (a dict with at least
    ``"reward_a"`` and ``"reward_b"``, of shape ``(M, batch)``), the soft labels
    and the batch's named entries. A per-pair term weights its values by
    ``batch["sample_weight"]`` and averages them with :meth:`pair_mean`; it may
    record statistics with ``net.record_mean(name, value, training)`` and
    ``net.record_sum``, which become per-member columns of ``history_``
    (``train_<name>``, ``valid_<name>``). A model adds its terms in
    ``_loss_terms()``. Terms are compared by value when models are grouped into
    stacks, so make them frozen dataclasses.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> from skpref import BTLRewardRegressor
    >>> from skpref.datasets import make_latent_preferences
    >>> from skpref.models import LossTerm
    >>> @dataclass(frozen=True)
    ... class RewardL2(LossTerm):
    ...     weight: float
    ...
    ...     def __call__(self, net, y_pred, y_true, batch, training):
    ...         squares = y_pred["reward_a"] ** 2 + y_pred["reward_b"] ** 2
    ...         penalty = self.pair_mean(batch["sample_weight"] * squares, batch)
    ...         net.record_mean("reward_l2", penalty, training)
    ...         return self.weight * penalty
    >>> class SmallRewards(BTLRewardRegressor):
    ...     def _loss_terms(self):
    ...         return (RewardL2(0.1),)
    >>> data = make_latent_preferences(n_pairs=200, n_features=4, random_state=0)
    >>> model = SmallRewards(hidden_dim=8, latent_dim=4, max_epochs=2,
    ...                      random_state=0, device="cpu").fit(data.X, data.y)
    >>> model.history_["train_reward_l2"].shape
    (2,)
    """

    #: Mean over the rows of a batch, skipping padded rows (:func:`pair_mean`).
    pair_mean = staticmethod(pair_mean)
    #: Whether ``train_loss`` and ``valid_loss``, which choose the kept epoch
    #: without validation pairs, count the term: not the loss of an adversary,
    #: which the reward model maximises.
    scored = True

    def __call__(self, net, y_pred, y_true, batch, training):  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class CenterRewards(LossTerm):
    """TRL's reward centring: ``coefficient * mean((r(a) + r(b))^2)``, weighted."""

    coefficient: float

    def __call__(self, net, y_pred, y_true, batch, training):
        squares = (y_pred["reward_a"] + y_pred["reward_b"]) ** 2
        penalty = self.pair_mean(batch["sample_weight"] * squares, batch)
        net.record_mean("center_penalty", penalty, training)
        return self.coefficient * penalty


def margin_loss(difference, y_true, margin):
    """Return the BTL loss with a margin: ``-log sigmoid(d - m)`` where a wins.

    Mirrored where b is (``-log sigmoid(-d - m)``), mixed by soft labels; with
    ``m = 0`` it is the BTL loss of the criterion.
    """
    softplus = torch.nn.functional.softplus
    return y_true * softplus(margin - difference) + (1 - y_true) * softplus(
        difference + margin
    )


class RewardNet(NeuralNet):
    """skorch net of a :class:`~skpref.models._modules.MemberStack`: BTL + loss terms.

    The criterion is unreduced. Each batch's pairs and statistics are recorded as
    they are, on the device; the ``MemberScores`` callback reads an epoch's at once.
    """

    def __init__(self, module, *args, loss_terms=(), **kwargs):
        super().__init__(module, *args, **kwargs)
        self.loss_terms = loss_terms

    def record_mean(self, name, value, training):
        """Add a batch's per-member mean of a statistic (averaged over rows)."""
        self._record(training, "mean", name, value)

    def record_sum(self, name, value, training):
        """Add a batch's per-member total of a statistic (summed over batches)."""
        self._record(training, "sum", name, value)

    def _record(self, training, kind, name, value):
        phase = "train" if training else "valid"
        self.history.record_batch(f"member_{phase}_{name}", (kind, value.detach()))

    def get_loss(self, y_pred, y_true, X=None, training=False):
        margin = y_pred["reward_a"] - y_pred["reward_b"]
        logit = margin
        if training and "logit_offset" in y_pred:  # an invariance part's experts
            logit = margin + y_pred["logit_offset"]
        if training and "margin" in X:  # TRL's margin: a training objective
            pair_loss = margin_loss(logit, y_true, X["margin"])
        else:
            pair_loss = self.criterion_(logit, y_true)
        loss = scored = pair_mean(X["sample_weight"] * pair_loss, X)
        for term in self.loss_terms:
            value = term(self, y_pred, y_true, X, training)
            loss, scored = loss + value, scored + value if term.scored else scored
        # no kernel per step: MemberScores computes the scores from the epoch's pairs
        phase = "train" if training else "valid"
        self.history.record_batch(
            f"member_{phase}_pairs",
            BatchPairs(
                scored.detach(),
                y_pred["reward_a"].detach(),
                y_pred["reward_b"].detach(),
                y_true,
                X["sample_weight"],
                X["n_rows"],
                X.get("mask"),
            ),
        )
        # the members share no parameter: each gets the gradient of its own loss
        return loss.sum()


@dataclass
class BatchPairs:
    """What a batch holds for the scores: per member its loss and its rows' values."""

    loss: torch.Tensor
    reward_a: torch.Tensor
    reward_b: torch.Tensor
    y: torch.Tensor
    weight: torch.Tensor
    n_rows: torch.Tensor
    mask: torch.Tensor | None


# -- the callbacks: per-member scores, weights and progress -----------------------
# A stack's statistics are lists in the history, one value per member; skorch's own
# PassthroughScoring, EarlyStopping and PrintLog read one scalar per epoch and one
# set of weights, so they do not serve a stack.


class MemberScores(Callback):
    """Turn an epoch's batches into per-member columns of the history.

    ``<phase>_loss``, ``<phase>_acc`` (weighted expected agreement with the
    labels), ``<phase>_batch_count``, ``<phase>_n_pairs``, the loss terms'
    statistics and TRL's ``train_margin``, ``train_reward_mean`` and
    ``train_reward_std``; computed in float64 from one transfer of the epoch's
    values to the host.
    """

    def on_epoch_end(self, net, **kwargs):
        batches = net.history[-1]["batches"]
        for phase in ("train", "valid"):
            entries = {}
            for batch in batches:
                for key in [k for k in batch if k.startswith(f"member_{phase}_")]:
                    entries.setdefault(key[len(f"member_{phase}_") :], []).append(
                        batch.pop(key)
                    )
            if entries:
                scores = _phase_scores(entries, training=phase == "train")
                for name, value in scores.items():
                    net.history.record(f"{phase}_{name}", value.tolist())


def _phase_scores(entries, training):
    """Per-member scores of a phase from its batches' ``BatchPairs`` and terms."""
    pairs = entries.pop("pairs")
    rows = torch.stack([p.n_rows for p in pairs])  # (batches, M)
    masks = [
        torch.ones_like(p.y, dtype=torch.bool) if p.mask is None else p.mask
        for p in pairs
    ]
    columns = {
        "loss": torch.stack([p.loss for p in pairs]),
        "rows": rows,
        **{
            name: torch.cat([getattr(p, name) for p in pairs], dim=-1)
            for name in ("reward_a", "reward_b", "y", "weight")
        },
        "mask": torch.cat(masks, dim=-1),
        **{
            name: torch.stack([v[1] for v in values])
            for name, values in entries.items()
        },
    }
    # one transfer for the phase
    flat = torch.cat([t.flatten().to(torch.float32) for t in columns.values()])
    host = np.split(
        flat.cpu().numpy().astype(np.float64),
        np.cumsum([t.numel() for t in columns.values()])[:-1],
    )
    v = {
        name: part.reshape(tensor.shape)
        for (name, tensor), part in zip(columns.items(), host, strict=True)
    }
    rows, mask, y = v["rows"], v["mask"], v["y"]
    n_rows = np.maximum(rows.sum(0), 1)
    weight = v["weight"] * mask
    # a difference of float32 rewards has their difference's sign in float64 too
    margin = v["reward_a"] - v["reward_b"]
    agreement = weight * np.where(margin > 0, y, 1 - y)
    scores = {
        "loss": (v["loss"] * rows).sum(0) / n_rows,
        "acc": agreement.sum(-1) / weight.sum(-1),
        # each member's own batches and pairs: those holding rows of it
        "batch_count": (rows > 0).sum(0),
        "n_pairs": rows.sum(0),
    }
    for name, values in entries.items():
        if values[0][0] == "mean":  # batch means, weighted by the batch's rows
            scores[name] = (v[name] * rows).sum(0) / n_rows
        else:
            scores[name] = v[name].sum(0)
    if training:  # TRL's statistics; the margin of the preferred side
        scores["margin"] = ((2 * y - 1) * margin * mask).sum(-1) / n_rows
        a, b = v["reward_a"] * mask, v["reward_b"] * mask
        mean = (a + b).sum(-1) / (2 * n_rows)
        square = (a * a + b * b).sum(-1) / (2 * n_rows)
        scores["reward_mean"] = mean
        scores["reward_std"] = np.sqrt(np.maximum(square - mean**2, 0))
    return scores


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
        self.epochs_done_ = 0
        self.weights_ = [p.detach().clone() for p in net.module_.stacked_parameters()]

    def on_epoch_end(self, net, **kwargs):
        row, epoch = net.history[-1], net.history[-1]["epoch"]
        self.epochs_done_ = epoch
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


class EpochLog(Callback):
    """Print each member's losses and accuracies as an epoch ends (``verbose``).

    Flushed, so that a search's workers (``GridSearchCV``) show their progress too.
    """

    _LOGGED = ("train_loss", "valid_loss", "valid_acc", "train_acc")

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        names = [name for name in self._LOGGED if name in row]
        members = [
            " ".join(f"{name} {row[name][k]:.4f}" for name in names)
            for k in range(net.module_.n_members)
        ]
        if len(members) > 1:
            members = [f"member {k}: {text}" for k, text in enumerate(members)]
        head = f"epoch {row['epoch']:3d} ({row['dur']:.1f}s) | "
        print(head + " | ".join(members), flush=True)


class EpochProgress(Callback):
    """Advance a progress bar by one per epoch, and by the epochs not run at the end."""

    def __init__(self, bar):
        self.bar = bar

    def on_epoch_end(self, net, **kwargs):
        self.bar.update(1)

    def on_train_end(self, net, **kwargs):  # the net is fresh: its epochs are ours
        self.bar.update(net.max_epochs - len(net.history))


# -- fitting ----------------------------------------------------------------------


def fit_together(
    models,
    data,
    *,
    rows=None,
    valid_rows=None,
    covariates=None,
    margins=None,
    progress=None,
    return_rewards=False,
):
    """Fit unfitted reward models together; each as it would be fitted alone.

    Models of one architecture and optimiser on one device, with the same number
    of steps per epoch, are trained as the members of one stack (several stacks
    on a CPU where the members are large; see ``_CPU_STACK_PARAMETERS``).

    Parameters
    ----------
    models : list of BTLRewardRegressor, MultiheadRewardModel or AdversarialRewardModel
        The models, unfitted.
    data : list of (X, y, sample_weight)
        Each model's training data: ``X`` float32 pairs, ``y`` labels,
        ``sample_weight`` float64 (ones for none). Models given the same ``X``
        and ``y`` objects share one copy of them on the device.
    rows : list of (ndarray or None) or None, default=None
        The rows of its ``X`` each model trains on, in order (None: all), less
        the model's holdout.
    valid_rows : list of (ndarray or None) or None, default=None
        The rows of its ``X`` each model validates on instead of holding out
        ``validation_fraction`` of its ``rows`` (an empty array: none). A model
        given ``rows`` and ``valid_rows`` is the model fitted alone on
        ``X[rows]`` with ``X_val=X[valid_rows]``, except that its validation
        pairs keep their weights.
    covariates, margins : list of (array-like or None) or None, default=None
        Each model's fit metadata ``covariates`` and ``margin``, by row of its ``X``.
    progress : tqdm-like or None, default=None
        A progress bar (``update(n)``, ``refresh()``, a settable ``total``)
        advanced by one per epoch of each stack; its ``total`` grows by the
        epochs to come.
    return_rewards : bool, default=False
        Also return what the pass after training computed for each model (it
        checks the fit and sets the reward scale): the fitted rewards of the a
        and of the b responses of its training pairs ``X[rows]``, and their
        objective ids.

    Returns
    -------
    models : list
        The models, fitted.
    rewards : list of (ndarray, ndarray, ndarray)
        Each model's ``(rewards_a, rewards_b, objective_ids)``; only with
        ``return_rewards=True``.

    Examples
    --------
    >>> from skpref import BTLRewardRegressor
    >>> from skpref.datasets import make_latent_preferences
    >>> from skpref.models import fit_together
    >>> data = make_latent_preferences(n_pairs=200, n_features=4, random_state=0)
    >>> X, y = data.X.astype("float32"), data.y
    >>> models = [BTLRewardRegressor(hidden_dim=8, latent_dim=4, max_epochs=2,
    ...                              random_state=s, device="cpu") for s in (0, 1)]
    >>> [m.n_epochs_ for m in fit_together(models, [(X, y, None)] * 2)]
    [2, 2]
    """
    n = len(models)
    rows, valid_rows = rows or [None] * n, valid_rows or [None] * n
    covariates, margins = covariates or [None] * n, margins or [None] * n
    groups, held_out, pair_margins = {}, [None] * n, [None] * n
    for k, model in enumerate(models):
        X, y, weight = data[k]
        weight = np.ones(len(X)) if weight is None else weight
        model._validate_params()
        model.n_features_in_ = X.shape[1]
        plan = model._plan_fit(
            X,
            y,
            weight,
            rows[k],
            valid_rows=valid_rows[k],
            covariates=covariates[k],
            margin=margins[k],
        )
        inputs = tuple(sorted(plan.inputs))
        groups.setdefault((model.device_, inputs), []).append((k, plan))
        held_out[k] = None if plan.valid is None else plan.valid.index.numpy().copy()
        pair_margins[k] = plan.inputs.get("margin")  # the parameter's included
    for (device, _), planned in groups.items():
        blocks, plans = {}, []
        for k, plan in planned:
            X, y, _ = data[k]
            key = (id(X), id(y), *(v.tobytes() for v in plan.inputs.values()))
            if key not in blocks:
                start = sum(len(block[0]) for block in blocks.values())
                blocks[key] = (X, y, plan.inputs, start)
            offset = blocks[key][3]
            plan.train = plan.train.shifted(offset)
            plan.valid = None if plan.valid is None else plan.valid.shifted(offset)
            plans.append(plan)
        shared = PairData(*zip(*[b[:3] for b in blocks.values()], strict=True), device)
        stacks = _stacks(plans)
        if progress is not None:
            epochs = sum(stack[0].estimator.max_epochs for stack in stacks)
            progress.total = (progress.total or 0) + epochs
            progress.refresh()
        for stack in stacks:
            train_stack(stack, shared, progress=progress)
    rewards = []
    for k, model in enumerate(models):  # on its rows, as a fit alone on X[rows]
        X = data[k][0]
        trained = X if rows[k] is None else X[rows[k]]
        # one pass over the training responses: the health check and the scale
        a, b, ids = model._side_rewards(trained)
        margin = pair_margins[k]
        if margin is not None:  # predicting 1/2 then costs softplus(m), not log 2
            margin = margin if rows[k] is None else margin[rows[k]]
        check_training_health(model, trained, a - b, margin)
        model._set_reward_scale(a, b, ids)
        model._set_leakage(X, covariates[k], held_out[k])
        rewards.append((a, b, ids))
    return (models, rewards) if return_rewards else models


def _stacks(plans):
    """Group the plans into stacks: same architecture, optimiser and steps."""
    groups = {}
    for plan in plans:
        model = plan.estimator
        module, params = model._build_module_params()
        key = (
            type(model),
            module,
            tuple(sorted(params.items())),
            tuple(model._loss_terms()),
            model.lr,
            model.weight_decay,
            model.max_epochs,
            model.batch_size,
            model.device_,
            model.n_threads,
            bool(model.verbose),
            plan.valid is not None,
            math.ceil(len(plan.train) / model.batch_size),
        )
        groups.setdefault(key, []).append(plan)
    stacks = []
    for group in groups.values():
        size = len(group)
        model = group[0].estimator
        if size > 1 and model.device_.startswith("cpu"):
            module, params = model._build_module_params()
            with torch.device("meta"):
                n_parameters = sum(p.numel() for p in module(**params).parameters())
            size = max(1, _CPU_STACK_PARAMETERS // n_parameters)
        stacks += [group[i : i + size] for i in range(0, len(group), size)]
    return stacks


def train_stack(plans, data, *, progress=None):
    """Train the planned members as one stack on ``data``; set their fitted state."""
    models = [plan.estimator for plan in plans]
    first = models[0]
    module, params = first._build_module_params()
    members = []
    with first._forked_rng():
        for plan in plans:
            # the CPU generator only: modules are built on the CPU, and
            # torch.manual_seed would reseed every GPU's generator too
            torch.default_generator.manual_seed(plan.seeds.init)
            members.append(module(**params))
        net = first._build_net(MemberStack(members), plans, progress=progress)
        with first._threads():
            net.fit(MemberData(data, plans))
    checkpoint = dict(net.callbacks_)["checkpoint"]
    if not all(checkpoint.stopped_) and checkpoint.epochs_done_ < first.max_epochs:
        # skorch ends training quietly on a KeyboardInterrupt, its way of stopping
        # early, so a user's Ctrl-C gave a fit that looked complete (and a search
        # or a run went on and recorded it): it goes on up, as in scikit-learn
        raise KeyboardInterrupt
    for k, (model, member) in enumerate(zip(models, members, strict=True)):
        model.net_ = net
        model.module_ = net.module_.member(k, member).to(first.device_)
        model.n_epochs_ = checkpoint.n_epochs_[k]
        model.best_epoch_ = checkpoint.best_epochs_[k]
        model.diverged_epoch_ = checkpoint.diverged_epochs_[k]
        # its view of the stack's history: its epochs, the k-th of per-member lists
        model.history_ = pd.DataFrame.from_records(
            [
                {
                    key: v[k] if isinstance(v, list) else v
                    for key, v in row.items()
                    if key != "batches"
                }
                for row in net.history[: model.n_epochs_]
            ]
        )


# -- after the fit ------------------------------------------------------------------


def check_training_health(model, X, margins, trl_margins=None):
    """Raise or warn (``ConvergenceWarning``) when a fit on the pairs ``X`` failed.

    ``margins`` are the fitted model's ``r(a) - r(b)`` of ``X``; ``trl_margins``
    the margins the pairs were trained with (None: none), with which predicting
    1/2 costs ``softplus(m)`` rather than ``log 2``. Non-finite kept
    weights, or a non-finite loss before any usable epoch, raise; a later
    non-finite loss, a diverged or a saturated kept epoch warn, their kind kept
    as ``model.convergence_warning_`` for runs of many fits to count.
    """
    owner = type(model).__name__
    model.convergence_warning_ = kind = None

    def advice():  # only when warning: the largest feature takes a pass over X
        features = X[:, : 2 * model.n_pair_features_]
        largest = max(abs(features.max()), abs(features.min()))
        return (
            f"Lower lr (now {model.lr:g}) or standardise the features (largest "
            f"|value| {largest:.3g})"
        )

    diverged = model.diverged_epoch_
    chance_loss = _CHANCE_LOSS
    if trl_margins is not None:
        chance_loss = float(np.logaddexp(0, trl_margins).mean())
    if not all(torch.isfinite(p).all() for p in model.module_.parameters()):
        # the kept epoch's loss was finite, but a later step of it was not
        raise ValueError(
            f"{owner}: the weights of the kept epoch {model.best_epoch_} are NaN "
            f"or infinite, though its loss was finite. {advice()}."
        )
    kept_loss = model.history_["train_loss"].iloc[model.best_epoch_ - 1]
    if diverged is not None:
        if model.best_epoch_ == 0:
            raise ValueError(
                f"{owner}: the training loss became NaN or infinite in epoch "
                f"{diverged}, before any usable weights existed. {advice()}."
            )
        kind, message = (
            "non-finite",
            f"{owner}: the training loss became NaN or infinite in epoch {diverged}; "
            f"training stopped and the weights of epoch {model.best_epoch_} (the "
            f"best so far) were kept. {advice()} to train further.",
        )
    elif kept_loss > _DIVERGED_TIMES * chance_loss:
        kind, message = (
            "diverged",
            f"{owner}: training diverged: the kept epoch {model.best_epoch_} has a "
            f"training loss of {kept_loss:.3g}, more than ten times that of "
            f"predicting 1/2 for every pair ({chance_loss:.3f}). {advice()}.",
        )
    else:
        # P(a > b) or P(b > a) is exactly 1, the other then exactly or nearly 0
        saturated = np.mean(expit(np.abs(margins)) == 1)
        if saturated >= _SATURATED_SHARE:
            kind, message = (
                "saturated",
                f"{owner}: {saturated:.0%} of the predicted probabilities on the "
                "training pairs are exactly 0 or 1: the rewards saturated, so "
                f"predict_proba carries no uncertainty there. {advice()}, or add "
                "weight_decay.",
            )
    if kind is not None:
        model.convergence_warning_ = kind
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
