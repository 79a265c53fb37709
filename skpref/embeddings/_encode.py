"""Running a model over texts: tokenize once, sort by length, batch, pool.

Batches are padded (length-sorted, so padding is nearly zero) or padding-free
(``_packing``). On a GPU the loop keeps the device busy: a batch's token ids go
up from pinned memory without blocking, and its vectors come back the same way
while the next batch runs; the host waits for a batch's vectors only after the
next batch has been queued. A batch that runs out of GPU memory is halved and
retried, and the remaining batches are made no larger, so no work is lost.
"""

import contextlib
import warnings
from collections import deque

import torch

from skpref.embeddings._batching import (
    OUT_OF_MEMORY,
    BatchLimits,
    length_sorted_batches,
)
from skpref.embeddings._packing import (
    PackingUnsupported,
    accepts,
    forward_options,
    pack_token_ids,
    padding_free_mode,
    run_packed,
)
from skpref.embeddings._pooling import POOLING_FUNCTIONS, pool_packed


def tokenize(texts, tokenizer, *, max_length, truncation_side, add_special_tokens):
    """Tokenize all texts at once, truncated to ``max_length`` tokens, unpadded.

    ``truncation_side="left"`` drops the beginning of a long text, so the response
    at its end is always kept. The special tokens the tokenizer adds (BOS,
    ``[CLS]`` ...) are kept by the tokenizer itself; a text that holds its own
    (``add_special_tokens=False``: a chat template's BOS and header) keeps its
    leading special tokens too, and the rest of it is truncated to fit beside
    them (:func:`truncate_left_keeping_leading`).
    """
    tokenizer.truncation_side = truncation_side
    if add_special_tokens or truncation_side == "right":
        encoded = tokenizer(
            list(texts),
            truncation=True,
            max_length=max_length,
            add_special_tokens=add_special_tokens,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        return encoded["input_ids"]
    encoded = tokenizer(
        list(texts),
        add_special_tokens=False,
        return_attention_mask=False,
        return_token_type_ids=False,
        verbose=False,  # longer than the model's limit before truncation: fine
    )
    special = special_token_ids(tokenizer)
    return [
        truncate_left_keeping_leading(ids, max_length, special)
        for ids in encoded["input_ids"]
    ]


def special_token_ids(tokenizer):
    """Return the ids of the tokenizer's special tokens, added ones included."""
    ids = set(tokenizer.all_special_ids)
    decoder = getattr(tokenizer, "added_tokens_decoder", {})
    ids.update(i for i, token in decoder.items() if getattr(token, "special", False))
    return ids


def truncate_left_keeping_leading(ids, max_length, special_ids):
    """Left-truncate token ids to ``max_length``, keeping leading special tokens.

    The ``k`` special tokens a text starts with (a chat template's BOS and
    header) stay first and the last ``max_length - k`` tokens follow them, so the
    end of the text is never cut. Where those tokens alone would fill
    ``max_length`` the text is cut from the left like any other.

    Examples
    --------
    >>> truncate_left_keeping_leading([0, 9, 5, 6, 7, 8], 4, {0, 9})
    [0, 9, 7, 8]
    >>> truncate_left_keeping_leading([5, 6, 7, 8], 2, {0})
    [7, 8]
    >>> truncate_left_keeping_leading([0, 9, 5, 6], 2, {0, 9})
    [5, 6]
    """
    if len(ids) <= max_length:
        return ids
    leading = 0
    while leading < len(ids) and ids[leading] in special_ids:
        leading += 1
    if leading >= max_length:
        leading = 0
    return ids[:leading] + ids[len(ids) - (max_length - leading) :]


def pad_batch(ids_list, tokenizer, side):
    """Pad token-id lists with the tokenizer; return CPU ``(input_ids, mask)``.

    The tokenizer's ``padding_side`` is set for the call and restored after it:
    the tokenizer is shared by every transformer that loaded the same model.
    """
    kept_side = tokenizer.padding_side
    tokenizer.padding_side = side
    try:
        batch = tokenizer.pad(
            {"input_ids": ids_list},
            padding=True,
            return_attention_mask=True,
            return_tensors="pt",
        )
    finally:
        tokenizer.padding_side = kept_side
    return batch["input_ids"], batch["attention_mask"]


def to_device(tensor, device):
    """Copy a CPU tensor to ``device``; to a GPU from pinned memory, not blocking."""
    if torch.device(device).type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


class _Padded:
    """Padded batches, pooled with the attention mask.

    Decoders padded on the left get explicit ``position_ids``, so a padded text
    has the positions it has alone; encoders are padded on the right, where their
    default positions are right.
    """

    def __init__(self, model, tokenizer, padding_side, pooling, device):
        self.model, self.tokenizer, self.device = model, tokenizer, device
        self.pool = POOLING_FUNCTIONS[pooling]
        self.pass_positions = padding_side == "left" and accepts(model, "position_ids")
        self.options = forward_options(model)
        self.side = padding_side if self.pass_positions else "right"

    def __call__(self, ids_list):
        input_ids, mask = pad_batch(ids_list, self.tokenizer, self.side)
        input_ids, mask = (
            to_device(input_ids, self.device),
            to_device(mask, self.device),
        )
        kwargs = {"input_ids": input_ids, "attention_mask": mask, **self.options}
        if self.pass_positions:
            kwargs["position_ids"] = (mask.cumsum(dim=1) - 1).clamp(min=0)
        return self.pool(self.model(**kwargs).last_hidden_state, mask)


class _PaddingFree:
    """Padding-free batches: one row of real tokens (see ``_packing``)."""

    def __init__(self, model, pooling, device):
        self.model, self.pooling, self.device = model, pooling, device

    def __call__(self, ids_list):
        batch = pack_token_ids(ids_list)
        for name in ("input_ids", "position_ids", "cu_seqlens"):
            setattr(batch, name, to_device(getattr(batch, name), self.device))
        hidden = run_packed(self.model, batch)
        return pool_packed(hidden, batch.cu_seqlens, self.pooling)


class _Transfer:
    """Vectors on their way to the host; ``result()`` waits for them."""

    def __init__(self, vectors):
        self.event = None
        if vectors.is_cuda:
            self.host = torch.empty(vectors.shape, dtype=vectors.dtype, pin_memory=True)
            self.host.copy_(vectors, non_blocking=True)
            self.event = torch.cuda.Event()
            self.event.record()
        else:
            self.host = vectors.cpu()

    def result(self):
        if self.event is not None:
            self.event.synchronize()
            return self.host.numpy().copy()  # let the pinned buffer be reused
        return self.host.numpy()


def embed_token_ids(
    ids_list,
    model,
    *,
    pooling,
    tokenizer,
    padding_side,
    limits,
    device,
    on_batch,
    padding_free=False,
    strict_padding_free=False,
    owner="LLMEmbeddingTransformer",
    progress=None,
):
    """Embed token-id sequences; call ``on_batch(indices, vectors)`` per batch.

    ``limits`` (a ``BatchLimits``) bounds each batch. ``padding_free`` runs
    padding-free batches; if the model turns out not to support them the rest
    runs padded, or, with ``strict_padding_free``, a ValueError says so. Every
    batch computed is handed to ``on_batch``, also when a later one fails.
    """
    loop = _BatchLoop(
        ids_list,
        model,
        pooling=pooling,
        tokenizer=tokenizer,
        padding_side=padding_side,
        limits=limits,
        device=device,
        strict_padding_free=strict_padding_free,
        owner=owner,
    )
    with contextlib.ExitStack() as mode, torch.inference_mode():
        loop.start(mode, padding_free)
        pending = None
        try:
            while loop.queue:
                batch = loop.queue.popleft()
                transfer = loop.embed(batch, mode)
                if transfer is None:  # retried in smaller or padded batches
                    continue
                previous, pending = pending, (batch, transfer)
                if previous is not None:
                    _finish(*previous, on_batch, progress)
        finally:  # an interrupted run still hands over what it computed
            if pending is not None:
                _finish(*pending, on_batch, progress)


class _BatchLoop:
    """The batches still to run, how to run them, and what to do on failure."""

    def __init__(self, ids_list, model, *, pooling, tokenizer, padding_side,
                 limits, device, strict_padding_free, owner):  # fmt: skip
        self.ids_list, self.model, self.device = ids_list, model, device
        self.lengths = [len(ids) for ids in ids_list]
        self.limits, self.owner, self.warned = limits, owner, False
        self.strict = strict_padding_free
        self.padded = _Padded(model, tokenizer, padding_side, pooling, device)
        self.padding_free = _PaddingFree(model, pooling, device)
        self.run, self.queue = self.padded, deque()

    def start(self, mode, padding_free):
        if padding_free:
            try:
                mode.enter_context(padding_free_mode(self.model))
                self.run = self.padding_free
            except PackingUnsupported as exc:
                self._refuse_packing(str(exc))
        self._rebatch(list(range(len(self.ids_list))))

    @property
    def packed(self):
        return self.run is self.padding_free

    def _rebatch(self, indices):
        sub = [self.lengths[i] for i in indices]
        batches = length_sorted_batches(
            sub,
            self.limits.batch_size,
            self.limits.max_batch_tokens,
            packed=self.packed,
        )
        self.queue = deque([indices[p] for p in batch] for batch in batches)

    def embed(self, batch, mode):
        """Start one batch; None when it failed and was queued again."""
        failure = None
        try:
            return _Transfer(self.run([self.ids_list[i] for i in batch]))
        except OUT_OF_MEMORY as exc:
            failure = ("memory", str(exc))
        except PackingUnsupported as exc:
            failure = ("packing", str(exc))
        # Outside the except blocks, so the failed batch's tensors are freed.
        remaining = batch + [i for queued in self.queue for i in queued]
        if failure[0] == "packing":
            mode.close()  # the model's own attention again
            self._refuse_packing(failure[1])
            self.run = self.padded
        else:
            self._shrink(batch, failure[1])
        self._rebatch(remaining)
        return None

    def _refuse_packing(self, reason):
        if self.strict:
            raise ValueError(
                f"{self.owner}: padding_free=True, but this model's attention "
                f"cannot run padding-free batches ({reason}); use "
                "padding_free='auto' (padded batches for such models) or "
                "padding_free=False."
            )

    def _shrink(self, batch, message):
        if torch.device(self.device).type == "cuda":
            torch.cuda.empty_cache()
        lengths = [self.lengths[i] for i in batch]
        if len(batch) == 1:
            raise OUT_OF_MEMORY(
                f"{self.owner} ran out of memory on {self.device} embedding one "
                f"text of {lengths[0]} tokens ({message}). Lower max_length, use "
                "dtype='bfloat16', or free device memory."
            )
        tokens = sum(lengths) if self.packed else max(lengths) * len(batch)
        limits = self.limits
        self.limits = BatchLimits(
            batch_size=max(1, min(limits.batch_size, len(batch) // 2)),
            max_batch_tokens=max(1, min(limits.max_batch_tokens, tokens // 2)),
            explicit=limits.explicit,
        )
        if limits.explicit and not self.warned:
            self.warned = True
            warnings.warn(
                f"{self.owner} ran out of memory on {self.device} with a batch of "
                f"{len(batch)} texts and {tokens} tokens; it continues with at "
                f"most {self.limits.batch_size} texts and "
                f"{self.limits.max_batch_tokens} tokens per batch. Pass these as "
                "batch_size and max_batch_tokens (or 'auto') to avoid the retry.",
                UserWarning,
                stacklevel=5,
            )


def _finish(batch, transfer, on_batch, progress):
    on_batch(batch, transfer.result())
    if progress is not None:
        progress.update(len(batch))
