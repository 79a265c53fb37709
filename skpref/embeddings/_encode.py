"""Running a model over texts: tokenize once, sort by length, batch, pool."""

import inspect

import numpy as np
import torch

from skpref.embeddings._pooling import POOLING_FUNCTIONS


def tokenize(texts, tokenizer, *, max_length, truncation_side, add_special_tokens):
    """Tokenize all texts at once, truncated to ``max_length`` tokens, unpadded.

    ``truncation_side="left"`` drops the beginning of a long text, so the response
    at its end is always kept.
    """
    tokenizer.truncation_side = truncation_side
    encoded = tokenizer(
        list(texts),
        truncation=True,
        max_length=max_length,
        add_special_tokens=add_special_tokens,
        return_attention_mask=False,
        return_token_type_ids=False,
    )
    return encoded["input_ids"]


def length_sorted_batches(lengths, batch_size, max_batch_tokens):
    """Group text indices, longest first, into batches of similar length.

    A batch holds at most ``batch_size`` texts and at most ``max_batch_tokens``
    padded tokens (``len(batch) * longest``), so short texts go in large batches
    and long texts in small ones, and padding is nearly zero.

    Examples
    --------
    >>> length_sorted_batches([3, 10, 4, 9], batch_size=2, max_batch_tokens=100)
    [[1, 3], [2, 0]]
    >>> length_sorted_batches([3, 10, 4, 9], batch_size=8, max_batch_tokens=20)
    [[1, 3], [2, 0]]
    """
    order = np.argsort(-np.asarray(lengths), kind="stable")
    batches, current, longest = [], [], 0
    for index in order.tolist():
        longest_if_added = max(longest, lengths[index])
        too_many_tokens = longest_if_added * (len(current) + 1) > max_batch_tokens
        if current and (len(current) == batch_size or too_many_tokens):
            batches.append(current)
            current, longest_if_added = [], lengths[index]
        current.append(index)
        longest = longest_if_added
    if current:
        batches.append(current)
    return batches


def _accepts(model, name):
    try:
        return name in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


def pad_batch(ids_list, tokenizer, side, device):
    """Pad token-id lists with the tokenizer; return ``(input_ids, attention_mask)``.

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
    return batch["input_ids"].to(device), batch["attention_mask"].to(device)


def embed_token_ids(
    ids_list,
    model,
    *,
    pooling,
    tokenizer,
    padding_side,
    batch_size,
    max_batch_tokens,
    device,
    on_batch,
    progress=None,
):
    """Embed token-id sequences; call ``on_batch(indices, vectors)`` per batch.

    Decoders may be padded on the left (their tokenizer's side): they then get
    explicit ``position_ids`` so a padded sequence has the same positions as the
    same sequence alone. Encoders are always padded on the right, where their
    default positions are right.
    """
    pool = POOLING_FUNCTIONS[pooling]
    pass_positions = padding_side == "left" and _accepts(model, "position_ids")
    if padding_side == "left" and not pass_positions:
        padding_side = "right"
    lengths = [len(ids) for ids in ids_list]
    with torch.inference_mode():
        for batch in length_sorted_batches(lengths, batch_size, max_batch_tokens):
            input_ids, mask = pad_batch(
                [ids_list[i] for i in batch], tokenizer, padding_side, device
            )
            kwargs = {"input_ids": input_ids, "attention_mask": mask}
            if pass_positions:
                kwargs["position_ids"] = (mask.cumsum(dim=1) - 1).clamp(min=0)
            hidden = model(**kwargs).last_hidden_state
            vectors = pool(hidden, mask).cpu().numpy()
            on_batch(batch, vectors)
            if progress is not None:
                progress.update(len(batch))
