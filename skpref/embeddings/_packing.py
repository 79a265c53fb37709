"""Padding-free batches: several texts in one row, attention kept inside each text.

The texts of a batch are concatenated into one sequence of real tokens (no
padding) with ``position_ids`` restarting at 0 for each text, as transformers'
padding-free training does (TRL's ``padding_free``, ``DataCollatorWithFlattening``).
Attention must then stay inside each text. transformers' own ``sdpa`` does that
with a block-diagonal mask of the whole row (memory and work quadratic in the
row's length, not the texts'), and its flash-attention paths need the
``flash-attn`` package. So the model is switched, for the duration of a
padding-free run, to an attention function registered here with transformers'
``AttentionInterface``: PyTorch's variable-length flash attention
(``torch.nn.attention.varlen.varlen_attn``, torch >= 2.10) on a CUDA GPU in
bfloat16 or float16, else one ``scaled_dot_product_attention`` call per text.

A model qualifies when its forward takes ``position_ids`` and it lets
transformers set its attention implementation (models built on the attention
interface: Llama, Mistral, Qwen, BERT ...). The function checks each call: an
attention mask, a position bias, a sliding window shorter than a text or a
logit soft-cap it cannot honour, or a forward that did not call it once per layer,
raise :class:`PackingUnsupported`, and
the caller goes back to padded batches.
"""

import contextlib
import contextvars
import functools
import inspect
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from skpref.embeddings._batching import OUT_OF_MEMORY

ATTENTION_NAME = "skpref_padding_free"
# Arguments some models pass that change the attention itself: a position bias
# (T5, MPNet), a logit soft-cap (Gemma 2), attention sinks (gpt-oss).
_UNSUPPORTED_KWARGS = ("position_bias", "softcap", "s_aux")


class PackingUnsupported(RuntimeError):
    """The model cannot run padding-free batches (caught inside the embedder)."""


@dataclass
class _Segments:
    bounds: list  # start of each text, then the total length (host ints)
    cu_seqlens: torch.Tensor  # the same, int32, on the model's device
    max_length: int
    calls: int = field(default=0)


# Device types where padding-free batches were measured faster than padded ones;
# elsewhere padding_free="auto" pads. Not the CPU: all-MiniLM-L6-v2 on 2 cores ran
# at 0.51-0.69x the padded speed (docs/embeddings.rst, "CPU figures"). CUDA awaits
# benchmarks/bench_embeddings.py on a GPU.
_FASTER_ON = frozenset()
# Set (with the error) once PyTorch's varlen kernel failed in this process.
_VARLEN_FAILED = []
_CURRENT = contextvars.ContextVar("skpref_padding_free_segments", default=None)


@dataclass
class PackedBatch:
    """One padding-free batch: model inputs and where each text lies in the row."""

    input_ids: torch.Tensor  # (1, total) int64
    position_ids: torch.Tensor  # (1, total) int64
    cu_seqlens: torch.Tensor  # (n_texts + 1,) int32
    bounds: list
    max_length: int


def pack_token_ids(ids_list):
    """Concatenate token-id lists into one row with per-text positions (CPU).

    Examples
    --------
    >>> batch = pack_token_ids([[5, 6, 7], [8, 9]])
    >>> batch.input_ids.tolist(), batch.position_ids.tolist(), batch.bounds
    ([[5, 6, 7, 8, 9]], [[0, 1, 2, 0, 1]], [0, 3, 5])
    """
    lengths = np.fromiter((len(ids) for ids in ids_list), dtype=np.int64)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    flat = np.concatenate([np.asarray(ids, dtype=np.int64) for ids in ids_list])
    positions = np.arange(bounds[-1]) - np.repeat(bounds[:-1], lengths)
    return PackedBatch(
        input_ids=torch.from_numpy(flat)[None],
        position_ids=torch.from_numpy(positions)[None],
        cu_seqlens=torch.from_numpy(bounds.astype(np.int32)),
        bounds=bounds.tolist(),
        max_length=int(lengths.max()),
    )


@functools.lru_cache(maxsize=1)
def varlen_attention():
    """Return PyTorch's ``varlen_attn`` and its parameter names, or None."""
    try:
        from torch.nn.attention.varlen import varlen_attn
    except ImportError:
        return None
    return varlen_attn, frozenset(inspect.signature(varlen_attn).parameters)


def _use_varlen(query):
    return (
        not _VARLEN_FAILED
        and query.is_cuda
        and query.dtype in (torch.bfloat16, torch.float16)
        and query.shape[-1] <= 256  # the head dimension
        and varlen_attention() is not None
    )


def _varlen(query, key, value, segments, causal, scaling):
    """Flash attention over the packed texts; query (T, H, D), key/value (T, Hkv, D)."""
    varlen_attn, params = varlen_attention()
    kwargs = {}
    # torch 2.10 takes is_causal; later releases a (left, right) window.
    if "is_causal" in params:
        kwargs["is_causal"] = causal
    else:
        kwargs["window_size"] = (-1, 0) if causal else (-1, -1)
    if scaling is not None:
        if "scale" in params:
            kwargs["scale"] = scaling
        else:  # the kernel's default scale is 1 / sqrt(head_dim)
            query = query * (scaling * math.sqrt(query.shape[-1]))
    if key.shape[1] != query.shape[1]:
        if "enable_gqa" in params:
            kwargs["enable_gqa"] = True
        else:
            groups = query.shape[1] // key.shape[1]
            key = key.repeat_interleave(groups, dim=1)
            value = value.repeat_interleave(groups, dim=1)
    cu = segments.cu_seqlens
    longest = segments.max_length
    return varlen_attn(query, key, value, cu, cu, longest, longest, **kwargs)


def _per_text(query, key, value, segments, causal, scaling):
    """One scaled_dot_product_attention call per text.

    Takes transformers' ``(1, heads, total, head_dim)`` layout and keeps it: on
    the CPU, 4-d inputs reach PyTorch's fused kernel, where 3-d ``(heads, total,
    head_dim)`` slices fell back to a path measured 2-5x slower (bfloat16 and
    float32, 4-12 heads, 400 tokens). Returns ``(total, heads, head_dim)``.
    """
    if key.shape[1] != query.shape[1]:
        groups = query.shape[1] // key.shape[1]
        key = key.repeat_interleave(groups, dim=1)
        value = value.repeat_interleave(groups, dim=1)
    bounds = segments.bounds
    parts = [
        F.scaled_dot_product_attention(
            query[:, :, start:end],
            key[:, :, start:end],
            value[:, :, start:end],
            is_causal=causal,
            scale=scaling,
        )
        for start, end in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    return torch.cat(parts, dim=2)[0].transpose(0, 1)


def padding_free_attention(
    module, query, key, value, attention_mask, dropout=0.0, scaling=None, **kwargs
):
    """Attention of transformers' interface for one packed row, text by text.

    ``query`` is ``(1, heads, total, head_dim)``, ``key``/``value`` may have
    fewer (grouped-query) heads; returns ``((1, total, heads, head_dim), None)``.
    """
    segments = _CURRENT.get()
    unsupported = [name for name in _UNSUPPORTED_KWARGS if kwargs.get(name) is not None]
    window = kwargs.get("sliding_window")
    if window and segments is not None and window <= segments.max_length:
        unsupported.append(f"sliding_window={window}")  # a wider one changes nothing
    if (
        segments is None
        or attention_mask is not None
        or unsupported
        or query.shape[0] != 1
        or query.shape[2] != segments.bounds[-1]
        or query.shape[1] % key.shape[1]
    ):
        raise PackingUnsupported(
            f"padding-free attention got an input it cannot honour "
            f"(mask: {attention_mask is not None}, {unsupported or 'no extras'})"
        )
    segments.calls += 1
    causal = kwargs.get("is_causal")
    causal = bool(getattr(module, "is_causal", True) if causal is None else causal)
    out = None
    if _use_varlen(query):
        # (1, H, T, D) -> (T, H, D), the varlen kernel's layout
        q, k, v = (t[0].transpose(0, 1).contiguous() for t in (query, key, value))
        try:
            out = _varlen(q, k, v, segments, causal, scaling)
        except OUT_OF_MEMORY:
            raise
        except RuntimeError as exc:  # e.g. a GPU the flash kernel does not build for
            _VARLEN_FAILED.append(repr(exc))
            warnings.warn(
                f"PyTorch's variable-length flash attention failed ({exc}); "
                "padding-free batches now use one attention call per text.",
                RuntimeWarning,
                stacklevel=2,
            )
    if out is None:
        out = _per_text(query, key, value, segments, causal, scaling)
    return out[None].contiguous(), None


def _register():
    from transformers import AttentionInterface

    AttentionInterface.register(ATTENTION_NAME, padding_free_attention)  # idempotent


def accepts(model, name):
    """Return whether the model's forward takes the argument ``name``."""
    try:
        return name in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


def forward_options(model):
    """Keyword arguments every forward of the embedder passes.

    ``use_cache=False``: decoders would otherwise keep every layer's keys and
    values alive until the forward returns, memory an embedding never reads.
    """
    return {"use_cache": False} if accepts(model, "use_cache") else {}


def supports_padding_free(model):
    """Return whether the model can be switched to padding-free attention.

    Examples
    --------
    >>> import torch
    >>> supports_padding_free(torch.nn.Linear(2, 2))
    False
    """
    # transformers' own check (private; if a release drops it, padding_free_mode
    # and run_packed still verify that the switch took and every layer used it)
    can_set = getattr(model, "_can_set_attn_implementation", lambda: True)
    return (
        hasattr(model, "set_attn_implementation")
        and bool(can_set())
        and accepts(model, "position_ids")
    )


@contextlib.contextmanager
def padding_free_mode(model):
    """Run ``model`` with the padding-free attention; restore its own after."""
    if not supports_padding_free(model):
        raise PackingUnsupported(
            "its forward takes no position_ids, or it does not use transformers' "
            "attention interface"
        )
    _register()
    previous = model.config._attn_implementation
    model.set_attn_implementation(ATTENTION_NAME)
    if model.config._attn_implementation != ATTENTION_NAME:
        raise PackingUnsupported("transformers kept the model's attention")
    try:
        yield
    finally:
        model.set_attn_implementation(previous)


def run_packed(model, batch):
    """Forward one packed batch (already on the device); return its hidden states.

    Raises :class:`PackingUnsupported` when the model did not route every layer's
    attention through the padding-free function.
    """
    segments = _Segments(
        bounds=batch.bounds, cu_seqlens=batch.cu_seqlens, max_length=batch.max_length
    )
    token = _CURRENT.set(segments)
    try:
        hidden = model(
            input_ids=batch.input_ids,
            position_ids=batch.position_ids,
            **forward_options(model),
        ).last_hidden_state
    finally:
        _CURRENT.reset(token)
    config = model.config
    if hasattr(config, "get_text_config"):
        config = config.get_text_config()
    layers = getattr(config, "num_hidden_layers", None)
    if segments.calls == 0 or (isinstance(layers, int) and segments.calls != layers):
        raise PackingUnsupported(
            f"{segments.calls} attention calls for {layers} layers"
        )
    return hidden


def padding_free_by_default(device):
    """Return what ``padding_free="auto"`` means on ``device``.

    Examples
    --------
    >>> padding_free_by_default("cpu") in (True, False)
    True
    """
    return torch.device(device).type in _FASTER_ON
