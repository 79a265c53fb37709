"""Training data held once on the device, and the batches drawn from it.

A fit's pairs and labels go to the training device once (:class:`PairData`); each
model trained on them (a *member*: one model alone, or one of the models that
the engine trains together) owns only its rows of that data and their weights
(:class:`Rows`). :class:`Batches` yields one phase of an epoch: in training the
rows of each member in the order of ``torch.randperm(n_rows, generator=g)`` with
the member's own generator, drawn afresh every epoch, cut into consecutive
batches; in validation the rows in order. Batches are indexed on the device, so
no batch crosses from the host; data too large for the device stay in host
memory and travel in chunks of many batches.

Several members are *stacked*: batch ``s`` of every member is one tensor of
shape ``(n_members, batch, ...)``. Members that run out of rows before the others
(only in a last, shorter batch, or in validation) are padded with a row of their
own whose weight is 0, and the batch carries ``n_rows`` (the real rows of each
member) and a ``mask`` of them.
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

#: Share of the free device memory the training data may take to be resident.
_RESIDENT_SHARE = 0.5
#: Bytes of rows gathered on the host and copied at once when data are streamed.
_CHUNK_BYTES = 256 * 2**20


class PairData:
    """Pair rows and their labels, on the training device.

    Parameters
    ----------
    blocks : list of ndarray of shape (n_i, n_columns), float32
        The rows, in blocks (e.g. one per training set) that are stacked in order.
    y : list of ndarray of shape (n_i,)
        The labels of each block.
    device : str or torch.device
        Training device.
    resident : bool or None, default=None
        Whether the rows are held on the device; None: when they take at most
        half its free memory (always on the CPU, where the arrays are used in
        place). Otherwise they are streamed in chunks.
    """

    def __init__(self, blocks, y, device, *, resident=None):
        self.device = torch.device(device)
        n_rows = sum(len(block) for block in blocks)
        n_columns = blocks[0].shape[1]
        self.row_bytes = 4 * n_columns
        if resident is None:
            resident = _fits_on(self.device, n_rows * self.row_bytes)
        self.resident = resident
        self.y = torch.as_tensor(np.concatenate(y), dtype=torch.float32).to(self.device)
        if len(blocks) == 1:  # in place on the CPU: no copy
            host = torch.from_numpy(blocks[0])
        elif self.resident and self.device.type != "cpu":
            host = None
        else:
            host = torch.from_numpy(np.concatenate(blocks))
        if host is None:  # block by block, without a second host copy
            self.X = torch.empty(
                (n_rows, n_columns), dtype=torch.float32, device=self.device
            )
            start = 0
            for block in blocks:
                self.X[start : start + len(block)].copy_(torch.from_numpy(block))
                start += len(block)
        else:
            self.X = host.to(self.device) if self.resident else host

    def __len__(self):
        return len(self.y)

    def feature_batches(self, order, order_on_device, batch_size, n_steps):
        """Yield the rows of each step, ``X[order[..., step]]``, on the device."""
        if self.resident:
            for step in range(n_steps):
                columns = slice(step * batch_size, (step + 1) * batch_size)
                yield self.X[order_on_device[..., columns]]
            return
        rows_per_step = batch_size * (order.shape[0] if order.ndim > 1 else 1)
        per_chunk = max(1, _CHUNK_BYTES // (rows_per_step * self.row_bytes))
        for first in range(0, n_steps, per_chunk):
            last = min(n_steps, first + per_chunk)
            chunk = self.X[order[..., first * batch_size : last * batch_size]]
            if self.device.type == "cuda":
                chunk = chunk.pin_memory()
            chunk = chunk.to(self.device, non_blocking=True)
            for step in range(last - first):
                yield chunk[..., step * batch_size : (step + 1) * batch_size, :]


def _fits_on(device, n_bytes):
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    return n_bytes <= _RESIDENT_SHARE * free


@dataclass
class Rows:
    """One member's rows of a :class:`PairData` and their weights.

    Attributes
    ----------
    index : torch.Tensor of shape (n,), int64
        Rows of the data, in the member's order.
    weight : torch.Tensor of shape (n,), float32
        Their weights in the loss.
    """

    index: torch.Tensor
    weight: torch.Tensor

    @classmethod
    def of(cls, index, weight):
        """Build from array-likes (index into the data, weight per row)."""
        # copies: torch takes no array of negative strides (a reversed view)
        return cls(
            torch.from_numpy(np.array(index, dtype=np.int64)),
            torch.from_numpy(np.array(weight, dtype=np.float32)),
        )

    def __len__(self):
        return len(self.index)


class Batches:
    """The batches of one phase (training or validation) of some members.

    Iterating yields ``(X, y)`` per step, ``X`` a dict of ``"X"`` (pair rows) and
    ``"sample_weight"``, plus ``"n_rows"`` (and ``"mask"`` where padded) when
    ``stacked``. Training (``generators`` given) draws a new order per epoch.

    Parameters
    ----------
    data : PairData
        The rows.
    members : list of Rows
        Each member's rows; one unless ``stacked``.
    batch_size : int
        Rows of each member per step.
    generators : list of torch.Generator or None, default=None
        Each member's batch-order generator (training); None keeps the rows'
        order (validation).
    stacked : bool, default=False
        Give every tensor a leading member axis.
    """

    def __init__(self, data, members, batch_size, generators=None, *, stacked=False):
        self.data = data
        self.members = members
        self.batch_size = batch_size
        self.generators = generators
        self.stacked = stacked
        self.counts = [len(rows) for rows in members]
        self.length = max(self.counts)
        steps = {math.ceil(n / batch_size) for n in self.counts}
        if generators is not None and len(steps) > 1:
            raise ValueError(  # the engine groups members so that this never happens
                f"Members trained together need the same number of steps per epoch; "
                f"got {self.counts} rows in batches of {batch_size}."
            )

    def __len__(self):
        return math.ceil(self.length / self.batch_size)

    def _epoch_order(self):
        """``(index, weight)`` of every member's rows this epoch, padded, stacked."""
        index = torch.empty((len(self.members), self.length), dtype=torch.int64)
        weight = torch.zeros((len(self.members), self.length), dtype=torch.float32)
        for k, rows in enumerate(self.members):
            n = len(rows)
            if self.generators is None:
                index[k, :n], weight[k, :n] = rows.index, rows.weight
            else:
                order = torch.randperm(n, generator=self.generators[k])
                index[k, :n], weight[k, :n] = rows.index[order], rows.weight[order]
            if n < self.length:
                index[k, n:] = rows.index[0] if n else 0
        return index, weight

    def __iter__(self):
        # Everything that depends on the epoch goes to the device once here; the
        # steps then only slice and index on the device.
        index, weight = self._epoch_order()
        device = self.data.device
        on_device = index.to(device, non_blocking=True)
        weight = weight.to(device, non_blocking=True)
        size = self.batch_size
        features = self.data.feature_batches(
            index if self.stacked else index[0],
            on_device if self.stacked else on_device[0],
            size,
            len(self),
        )
        if not self.stacked:
            for step, X_step in enumerate(features):
                columns = slice(step * size, (step + 1) * size)
                y = self.data.y[on_device[0, columns]]
                yield {"X": X_step, "sample_weight": weight[0, columns]}, y
            return
        starts = torch.arange(len(self)) * size
        n_rows = (torch.tensor(self.counts)[None, :] - starts[:, None]).clamp(0, size)
        widths = (self.length - starts).clamp(max=size)
        padded = (n_rows < widths[:, None]).any(1).tolist()
        widths = widths.tolist()
        n_rows = n_rows.to(device, dtype=torch.float32, non_blocking=True)
        for step, X_step in enumerate(features):
            columns = slice(step * size, (step + 1) * size)
            batch = {"X": X_step, "sample_weight": weight[:, columns]}
            batch["n_rows"] = n_rows[step]
            if padded[step]:
                rows = torch.arange(widths[step], device=device)
                batch["mask"] = rows[None, :] < n_rows[step][:, None]
            yield batch, self.data.y[on_device[:, columns]]


class Phases(NamedTuple):
    """What a net is fitted on: the training batches and the validation batches."""

    train: Batches
    valid: Batches | None


def batch_rows(X):
    """Rows of a batch: an int, or one count per member for stacked batches."""
    return X["n_rows"] if "n_rows" in X else X["sample_weight"].shape[-1]


def batch_mean(values, X):
    """Mean over the rows of a batch (the last axis), skipping padded rows."""
    if "mask" not in X:
        return values.mean(-1)
    kept = torch.where(X["mask"], values, torch.zeros((), device=values.device))
    return kept.sum(-1) / X["n_rows"].clamp(min=1)


class EpochSums:
    """Sums of batch statistics over one phase of an epoch, kept on the device.

    ``add_mean`` takes a batch's mean (weighted by the batch's rows, as skorch's
    ``PassthroughScoring`` averages), ``add_sum`` a batch total. :meth:`values`
    reads them all in one transfer, so training never waits on the device
    within an epoch.
    """

    def __init__(self):
        self.rows = 0
        self._means = {}
        self._sums = {}

    def add_rows(self, rows):
        self.rows = self.rows + rows

    def add_mean(self, name, value, rows):
        self._add(self._means, name, value, rows)

    def add_sum(self, name, value):
        self._add(self._sums, name, value, 1)

    @staticmethod
    def _add(sums, name, value, factor):
        # one in-place kernel per statistic and batch, accumulated in float64
        value = value.detach()
        if name not in sums:
            sums[name] = torch.zeros(
                value.shape, dtype=torch.float64, device=value.device
            )
        if isinstance(factor, torch.Tensor):
            sums[name].addcmul_(value, factor)
        else:
            sums[name].add_(value, alpha=factor)

    def values(self):
        """Return ``{name: value}`` (floats, or lists with one per member), and rows."""
        names = [*self._means, *self._sums]
        if not names:
            return {}, torch.as_tensor(self.rows).tolist()
        totals = [*self._means.values(), *self._sums.values()]
        rows = torch.as_tensor(self.rows, dtype=torch.float64).to(totals[0].device)
        # one transfer (one wait on the device) for the whole phase
        host = torch.stack([*totals, rows.expand_as(totals[0])]).cpu()
        n_means = len(self._means)
        means = host[:n_means] / host[-1].clamp(min=1)
        out = dict(
            zip(names, [*means.tolist(), *host[n_means:-1].tolist()], strict=True)
        )
        return out, host[-1].tolist()
