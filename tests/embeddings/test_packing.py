"""Padding-free batches: same vectors as padded ones, or a clean fallback."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from skpref.embeddings import _encode, _packing, _run
from skpref.embeddings._packing import pack_token_ids, padding_free_attention
from skpref.embeddings._pooling import POOLING_FUNCTIONS, pool_packed
from tests.embeddings.embedding_helpers import PAIRS, loaded_model, make

token_lists = st.lists(
    st.lists(st.integers(0, 50), min_size=1, max_size=12), min_size=1, max_size=8
)


@given(token_lists)
def test_pack_token_ids_concatenates_and_restarts_positions(ids_list):
    batch = pack_token_ids(ids_list)
    assert batch.input_ids[0].tolist() == [t for ids in ids_list for t in ids]
    expected = [p for ids in ids_list for p in range(len(ids))]
    assert batch.position_ids[0].tolist() == expected
    assert batch.cu_seqlens.dtype == torch.int32
    assert np.diff(batch.bounds).tolist() == [len(ids) for ids in ids_list]
    assert batch.max_length == max(len(ids) for ids in ids_list)


@given(
    st.lists(st.integers(1, 9), min_size=1, max_size=6),
    st.sampled_from(list(POOLING_FUNCTIONS)),
)
def test_pool_packed_equals_pooling_the_padded_batch(lengths, pooling):
    generator = torch.Generator().manual_seed(sum(lengths))
    states = [torch.randn(n, 3, generator=generator) for n in lengths]
    longest = max(lengths)
    padded = torch.zeros(len(lengths), longest, 3)
    mask = torch.zeros(len(lengths), longest, dtype=torch.long)
    for row, text in enumerate(states):
        padded[row, : len(text)] = text
        mask[row, : len(text)] = 1
    cu = torch.tensor(np.concatenate([[0], np.cumsum(lengths)]), dtype=torch.int32)
    got = pool_packed(torch.cat(states)[None], cu, pooling)
    expected = POOLING_FUNCTIONS[pooling](padded, mask)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model", ["llama_left", "llama_right", "llama_chat", "bert"])
@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_padding_free_equals_padded(tiny_models, model, pooling):
    path = tiny_models[model]
    padded = make(path, pooling=pooling, padding_free=False).fit_transform(PAIRS)
    # batch_size 3: several texts per row, and several rows
    packed = make(path, pooling=pooling, padding_free=True, batch_size=3)
    np.testing.assert_allclose(
        packed.fit_transform(PAIRS), padded, rtol=1e-4, atol=1e-5
    )


def test_the_model_gets_its_own_attention_back(tiny_models):
    embed = make(tiny_models["llama_left"], padding_free=True).fit(PAIRS)
    model = loaded_model(embed)
    before = model.config._attn_implementation
    embed.transform(PAIRS)
    assert model.config._attn_implementation == before != _packing.ATTENTION_NAME


def test_a_model_that_skips_the_padding_free_attention_falls_back(
    tiny_models, monkeypatch
):
    # a model claiming one layer more than it routes through the attention: the
    # row would not be checked, so the run must go back to padded batches
    path = tiny_models["llama_left"]
    expected = make(path, padding_free=False).fit_transform(PAIRS)
    embed = make(path, padding_free=True).fit(PAIRS)
    model = loaded_model(embed)
    monkeypatch.setattr(model.config, "num_hidden_layers", 3)
    with pytest.raises(ValueError, match="padding_free=True, but .*3 layers"):
        embed.transform(PAIRS)
    assert model.config._attn_implementation != _packing.ATTENTION_NAME
    monkeypatch.setattr(_packing, "padding_free_by_default", lambda device: True)
    monkeypatch.setattr(_run, "padding_free_by_default", lambda device: True)
    got = make(path, padding_free="auto").fit_transform(PAIRS)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_padding_free_true_on_a_model_that_cannot(tiny_models, monkeypatch):
    monkeypatch.setattr(_packing, "supports_padding_free", lambda model: False)
    embed = make(tiny_models["bert"], padding_free=True).fit(PAIRS)
    with pytest.raises(ValueError, match="padding_free='auto' .*or padding_free=F"):
        embed.transform(PAIRS)


@pytest.mark.parametrize("faster", [False, True])
def test_auto_is_padding_free_where_measured_faster(tiny_models, monkeypatch, faster):
    calls = []
    run_packed = _packing.run_packed

    def counting(*args):
        calls.append(1)
        return run_packed(*args)

    monkeypatch.setattr(_run, "padding_free_by_default", lambda device: faster)
    monkeypatch.setattr(_encode, "run_packed", counting)
    make(tiny_models["bert"]).fit_transform(PAIRS)  # padding_free="auto"
    assert bool(calls) == faster


def reference_attention(query, key, value, bounds, causal, scale=None):
    """Attention of each text alone; query (1, H, T, D), key/value (1, Hkv, T, D)."""
    groups = query.shape[1] // key.shape[1]
    key = key.repeat_interleave(groups, dim=1)
    value = value.repeat_interleave(groups, dim=1)
    parts = [
        F.scaled_dot_product_attention(
            query[:, :, s:e],
            key[:, :, s:e],
            value[:, :, s:e],
            is_causal=causal,
            scale=scale,
        )
        for s, e in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    return torch.cat(parts, dim=2).transpose(1, 2)


def fake_varlen(style):
    """PyTorch's varlen_attn as torch 2.10 (is_causal) or 2.12 (window, GQA) has it."""

    def attention(query, key, value, cu_q, cu_k, max_q, max_k, **kwargs):
        assert cu_q.dtype == torch.int32 and max_q == max_k
        if style == "2.10":
            assert set(kwargs) <= {"is_causal"}
            causal = kwargs["is_causal"]
        else:
            assert set(kwargs) <= {"window_size", "scale", "enable_gqa"}
            causal = kwargs["window_size"] == (-1, 0)
        if key.shape[1] != query.shape[1]:
            assert kwargs.get("enable_gqa")
        bounds = cu_q.tolist()
        out = reference_attention(
            *(t.transpose(0, 1)[None] for t in (query, key, value)),
            bounds,
            causal,
            scale=kwargs.get("scale"),  # None: the kernel's 1 / sqrt(head_dim)
        )
        return out[0]

    params = {"2.10": {"is_causal"}, "2.12": {"window_size", "scale", "enable_gqa"}}
    return attention, frozenset(params[style])


@pytest.mark.parametrize("style", ["2.10", "2.12", None])
@pytest.mark.parametrize("kv_heads", [4, 2])
@pytest.mark.parametrize("causal", [True, False])
def test_padding_free_attention_keeps_each_text_alone(
    monkeypatch, style, kv_heads, causal
):
    if style is not None:  # the CUDA kernel's calling conventions, checked on CPU
        monkeypatch.setattr(_packing, "varlen_attention", lambda: fake_varlen(style))
        monkeypatch.setattr(_packing, "_use_varlen", lambda query: True)
    generator = torch.Generator().manual_seed(kv_heads)
    query = torch.randn(1, 4, 9, 8, generator=generator)
    key, value = torch.randn(2, 1, kv_heads, 9, 8, generator=generator)
    bounds = [0, 4, 5, 9]
    segments = _packing._Segments(
        bounds=bounds, cu_seqlens=torch.tensor(bounds, dtype=torch.int32), max_length=4
    )
    module = torch.nn.Module()
    module.is_causal = causal
    token = _packing._CURRENT.set(segments)
    try:
        out, weights = padding_free_attention(
            module, query, key, value, None, scaling=0.2
        )
    finally:
        _packing._CURRENT.reset(token)
    assert weights is None and segments.calls == 1
    expected = reference_attention(query, key, value, bounds, causal, scale=0.2)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "extra", [{"position_bias": torch.ones(1)}, {"sliding_window": 2}]
)
def test_padding_free_attention_refuses_what_it_cannot_honour(extra):
    bounds = [0, 2]
    segments = _packing._Segments(
        bounds=bounds, cu_seqlens=torch.tensor(bounds, dtype=torch.int32), max_length=2
    )
    token = _packing._CURRENT.set(segments)
    tensors = torch.zeros(3, 1, 2, 2, 4)
    try:
        with pytest.raises(_packing.PackingUnsupported, match="cannot honour"):
            padding_free_attention(torch.nn.Module(), *tensors, None, **extra)
        with pytest.raises(_packing.PackingUnsupported, match="mask: True"):
            padding_free_attention(torch.nn.Module(), *tensors, torch.ones(1, 2))
    finally:
        _packing._CURRENT.reset(token)


def test_a_sliding_window_wider_than_every_text_changes_nothing():
    bounds = [0, 2, 3]
    segments = _packing._Segments(
        bounds=bounds, cu_seqlens=torch.tensor(bounds, dtype=torch.int32), max_length=2
    )
    query, key, value = torch.randn(3, 1, 2, 3, 4, generator=torch.Generator())
    token = _packing._CURRENT.set(segments)
    try:
        out, _ = padding_free_attention(
            torch.nn.Module(), query, key, value, None, sliding_window=3
        )
    finally:
        _packing._CURRENT.reset(token)
    expected = reference_attention(query, key, value, bounds, causal=True)
    torch.testing.assert_close(out, expected)
