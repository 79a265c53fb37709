import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from transformers import LlamaConfig

from skpref.embeddings import _batching
from skpref.embeddings._batching import (
    CPU_BATCH_SIZE,
    CPU_MAX_BATCH_TOKENS,
    MAX_AUTO_TOKENS,
    activation_bytes_per_token,
    length_sorted_batches,
    resolve_batch_limits,
)


@given(
    st.lists(st.integers(1, 300), min_size=1, max_size=60),
    st.integers(1, 16),
    st.integers(1, 2000),
    st.booleans(),
)
def test_length_sorted_batches_partition_and_budget(
    lengths, batch_size, budget, packed
):
    batches = length_sorted_batches(lengths, batch_size, budget, packed=packed)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(lengths)))  # every text exactly once
    # longest first overall, so padding inside a batch is minimal
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    for batch in batches:
        assert 1 <= len(batch) <= batch_size
        sizes = [lengths[i] for i in batch]
        tokens = sum(sizes) if packed else max(sizes) * len(batch)
        # the token budget holds unless a single text alone exceeds it
        assert tokens <= budget or len(batch) == 1


def test_length_sorted_batches_fill_up_to_the_budget():
    # 4 texts of 10 tokens, budget 20: two per batch, not one
    assert length_sorted_batches([10] * 4, 32, 20) == [[0, 1], [2, 3]]
    # padded, 10 + 2 costs 2 * 10 tokens; padding-free only the 12 real ones
    assert length_sorted_batches([10, 2, 2], 32, 20) == [[0, 1], [2]]
    assert length_sorted_batches([10, 2, 2], 32, 20, packed=True) == [[0, 1, 2]]


class _Model(torch.nn.Module):
    """Stands for a loaded model: a config and parameters in a dtype."""

    def __init__(self, dtype=torch.bfloat16, attn="sdpa"):
        super().__init__()
        self.config = LlamaConfig(
            hidden_size=4096, intermediate_size=14336, num_attention_heads=32
        )
        self.config._attn_implementation = attn
        self.weight = torch.nn.Parameter(torch.zeros(2, dtype=dtype))


def limits_with_free_memory(monkeypatch, free, device="cuda", **params):
    monkeypatch.setattr(_batching, "free_device_memory", lambda device: free)
    params = {"batch_size": "auto", "max_batch_tokens": "auto", **params}
    return resolve_batch_limits(
        params["batch_size"],
        params["max_batch_tokens"],
        model=params.get("model", _Model()),
        device=device,
        max_length=512,
        packed=params.get("packed", False),
    )


def test_auto_on_the_cpu_keeps_the_measured_sizes():
    limits = resolve_batch_limits(
        "auto", "auto", model=_Model(), device="cpu", max_length=512, packed=False
    )
    assert (limits.batch_size, limits.max_batch_tokens) == (32, 8192)
    assert (CPU_BATCH_SIZE, CPU_MAX_BATCH_TOKENS) == (32, 8192)
    assert not limits.explicit


def test_auto_follows_the_free_memory_and_the_model(monkeypatch):
    per_token = activation_bytes_per_token(
        _Model().config, torch.bfloat16, max_length=512, packed=False, full_scores=False
    )
    free = 2 * per_token * 3000  # half of it holds 3000 tokens
    limits = limits_with_free_memory(monkeypatch, free)
    assert limits.max_batch_tokens == 3000 - 3000 % 64
    # no separate limit on texts: every text has at least one token
    assert limits.batch_size == limits.max_batch_tokens
    # float32 weights: twice the bytes per token, half the tokens
    wide = limits_with_free_memory(monkeypatch, free, model=_Model(torch.float32))
    assert wide.max_batch_tokens == 1500 - 1500 % 64
    # padding-free rows need no attention mask: a little more fits
    packed = limits_with_free_memory(monkeypatch, free, packed=True)
    assert packed.max_batch_tokens > limits.max_batch_tokens


@pytest.mark.parametrize("free", [0, 1, 10_000, 10**6])
def test_little_free_memory_gives_small_batches_never_zero(monkeypatch, free):
    limits = limits_with_free_memory(monkeypatch, free)
    assert 1 <= limits.max_batch_tokens <= 4
    assert limits.batch_size >= 1


def test_much_free_memory_is_capped(monkeypatch):
    limits = limits_with_free_memory(monkeypatch, 10**15)
    assert limits.max_batch_tokens == MAX_AUTO_TOKENS


def test_eager_attention_and_other_devices_count_the_score_matrix(monkeypatch):
    free = 10**10
    fused = limits_with_free_memory(monkeypatch, free)
    eager = limits_with_free_memory(monkeypatch, free, model=_Model(attn="eager"))
    mps = limits_with_free_memory(monkeypatch, free, device="mps")
    assert eager.max_batch_tokens < fused.max_batch_tokens
    assert mps.max_batch_tokens == eager.max_batch_tokens


def test_explicit_sizes_are_kept(monkeypatch):
    limits = limits_with_free_memory(monkeypatch, 1, batch_size=7, max_batch_tokens=100)
    assert (limits.batch_size, limits.max_batch_tokens) == (7, 100)
    assert limits.explicit
    # one explicit, one auto: the explicit one is kept, the run is not "explicit"
    mixed = limits_with_free_memory(monkeypatch, 10**10, batch_size=7)
    assert mixed.batch_size == 7 and mixed.max_batch_tokens > 100
    assert not mixed.explicit
