"""Batches of texts: grouped by length, sized to the device and the model.

``batch_size="auto"`` and ``max_batch_tokens="auto"`` are resolved here, once per
embedding run, after the model is loaded (so the free memory is what is left
beside its weights):

- On the CPU: 32 texts and 8,192 tokens, the sizes measured fastest on the
  2-core development machine (docs/embeddings.rst, "Speed").
- On a GPU: the token budget is ``free memory * 0.5 / (activation bytes per
  token)``, capped at 65,536 tokens; the number of texts is not limited
  separately. The bytes per token are an over-estimate of what one layer of a
  forward pass keeps alive (``8 h + 4 i`` elements of the model's dtype, ``h`` the
  hidden size, ``i`` the feed-forward width) plus, for padded batches, one row of
  the attention mask (``max_length`` bytes) and, where attention is computed
  from a full score matrix (``attn_implementation="eager"``, or off CUDA), one
  float32 row of scores and probabilities per head.

A batch that still runs out of GPU memory is halved and retried (see
``_encode.embed_token_ids``); the vectors never depend on the batch sizes.
"""

from dataclasses import dataclass

import numpy as np
import torch

CPU_BATCH_SIZE = 32
CPU_MAX_BATCH_TOKENS = 8192
# Share of the free device memory one batch may use: the per-token estimate is
# already about 1.6x what a Llama layer keeps alive, so this leaves room for the
# allocator's fragmentation and for other processes.
MEMORY_FRACTION = 0.5
# Beyond this a forward pass is long enough on any model that larger batches gain
# nothing, and a killed run loses less unwritten work.
MAX_AUTO_TOKENS = 65536
# torch.cuda.OutOfMemoryError became an alias of torch.OutOfMemoryError in torch 2.5.
OUT_OF_MEMORY = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)


@dataclass
class BatchLimits:
    """Most texts and tokens per forward pass, and whether the user chose them."""

    batch_size: int
    max_batch_tokens: int
    explicit: bool = False


def length_sorted_batches(lengths, batch_size, max_batch_tokens, *, packed=False):
    """Group text indices, longest first, into batches of similar length.

    A batch holds at most ``batch_size`` texts and at most ``max_batch_tokens``
    tokens: padded tokens (``len(batch) * longest``) for padded batches, real
    tokens (``sum(lengths)``) for padding-free ones (``packed=True``). So short
    texts go in large batches and long texts in small ones, and padding is nearly
    zero. A text longer than the budget gets a batch of its own.

    Examples
    --------
    >>> length_sorted_batches([3, 10, 4, 9], batch_size=2, max_batch_tokens=100)
    [[1, 3], [2, 0]]
    >>> length_sorted_batches([3, 10, 4, 9], batch_size=8, max_batch_tokens=20)
    [[1, 3], [2, 0]]
    >>> length_sorted_batches([3, 10, 4, 9], 8, 20, packed=True)
    [[1, 3], [2, 0]]
    """
    order = np.argsort(-np.asarray(lengths), kind="stable")
    batches, current, longest, total = [], [], 0, 0
    for index in order.tolist():
        length = lengths[index]
        if packed:
            tokens_if_added = total + length
        else:
            tokens_if_added = max(longest, length) * (len(current) + 1)
        if current and (
            len(current) == batch_size or tokens_if_added > max_batch_tokens
        ):
            batches.append(current)
            current, longest, total = [], 0, 0
        current.append(index)
        longest, total = max(longest, length), total + length
    if current:
        batches.append(current)
    return batches


def free_device_memory(device):
    """Return the bytes a new batch may use on ``device``, or None for the CPU.

    On CUDA: the device's free memory plus what PyTorch's allocator holds unused.
    On Apple's MPS: the recommended working set minus what is allocated.

    Examples
    --------
    >>> free_device_memory("cpu") is None
    True
    """
    kind = torch.device(device).type
    if kind == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(
            device
        )
        return free + cached
    mps = getattr(torch, "mps", None)
    if kind == "mps" and hasattr(mps, "recommended_max_memory"):
        used = mps.driver_allocated_memory()
        return max(0, mps.recommended_max_memory() - used)
    return None


def _first_attribute(config, names, default):
    for name in names:
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return default


def activation_bytes_per_token(config, dtype, *, max_length, packed, full_scores):
    """Over-estimate the device bytes one token of a batch needs in a forward pass.

    Parameters
    ----------
    config : transformers.PretrainedConfig
        The model's configuration (its text configuration is used if it has one).
    dtype : torch.dtype
        The dtype the model runs in.
    max_length : int
        Longest text in tokens.
    packed : bool
        Padding-free batches (no attention mask).
    full_scores : bool
        Attention materialises its score matrix (eager attention, or no fused
        kernel on this device).

    Returns
    -------
    bytes : int

    Examples
    --------
    >>> import torch
    >>> from transformers import LlamaConfig
    >>> config = LlamaConfig(hidden_size=4096, intermediate_size=14336,
    ...                      num_attention_heads=32)
    >>> activation_bytes_per_token(config, torch.bfloat16, max_length=512,
    ...                            packed=True, full_scores=False)
    180224
    """
    if hasattr(config, "get_text_config"):
        config = config.get_text_config()
    hidden = _first_attribute(config, ("hidden_size", "d_model", "n_embd"), 1024)
    inner = _first_attribute(
        config, ("intermediate_size", "ffn_dim", "n_inner", "d_ff"), 4 * hidden
    )
    heads = _first_attribute(config, ("num_attention_heads", "n_head"), 1)
    element = torch.empty((), dtype=dtype).element_size()
    per_token = (8 * hidden + 4 * inner) * element
    if not packed:
        per_token += max_length  # one row of the boolean attention mask
    if full_scores:
        per_token += 2 * 4 * heads * max_length  # float32 scores and probabilities
    return per_token


def resolve_batch_limits(
    batch_size, max_batch_tokens, *, model, device, max_length, packed
):
    """Turn the ``batch_size`` and ``max_batch_tokens`` parameters into numbers.

    Integers are kept; ``"auto"`` follows the rule of this module's docstring.

    Returns
    -------
    limits : BatchLimits

    Examples
    --------
    >>> import torch
    >>> resolve_batch_limits("auto", 100, model=torch.nn.Linear(2, 2),
    ...                      device="cpu", max_length=512, packed=False)
    BatchLimits(batch_size=32, max_batch_tokens=100, explicit=False)
    """
    explicit = batch_size != "auto" and max_batch_tokens != "auto"
    free = free_device_memory(device)
    if free is None:
        tokens = CPU_MAX_BATCH_TOKENS
        texts = CPU_BATCH_SIZE
    else:
        dtype = next(model.parameters()).dtype
        full_scores = torch.device(device).type != "cuda" or (
            getattr(model.config, "_attn_implementation", None) == "eager"
            and not packed
        )
        per_token = activation_bytes_per_token(
            model.config,
            dtype,
            max_length=max_length,
            packed=packed,
            full_scores=full_scores,
        )
        tokens = int(min(MAX_AUTO_TOKENS, free * MEMORY_FRACTION // per_token))
        if tokens >= 64:
            tokens -= tokens % 64
        tokens = max(1, tokens)
        texts = tokens  # every text has a token: the token budget is the limit
    return BatchLimits(
        batch_size=texts if batch_size == "auto" else int(batch_size),
        max_batch_tokens=(
            tokens if max_batch_tokens == "auto" else int(max_batch_tokens)
        ),
        explicit=explicit,
    )
