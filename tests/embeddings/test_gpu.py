"""The embedder on a CUDA GPU: auto sizes, bfloat16, pinned copies, padding-free."""

import functools

import numpy as np
import pytest
import torch

from skpref.embeddings import _loading, _packing
from skpref.embeddings._batching import (
    MAX_AUTO_TOKENS,
    free_device_memory,
    resolve_batch_limits,
)
from skpref.embeddings._encode import _Transfer, to_device
from tests.embeddings.embedding_helpers import (
    PAIRS,
    assert_close_for_dtype,
    loaded_model,
    make,
)

pytestmark = pytest.mark.gpu
CUDA_BF16 = {"device": "cuda", "dtype": "bfloat16"}


def test_auto_sizes_on_the_gpu(tiny_models):
    embed = make(tiny_models["llama_left"], **CUDA_BF16).fit(PAIRS)
    model = loaded_model(embed)
    assert free_device_memory("cuda") > 0
    limits = resolve_batch_limits(
        "auto", "auto", model=model, device="cuda", max_length=512, packed=False
    )
    # a tiny model on a GPU with free memory: the cap, with no separate text limit
    assert 1 <= limits.max_batch_tokens <= MAX_AUTO_TOKENS
    assert limits.batch_size == limits.max_batch_tokens


@pytest.mark.parametrize("model", ["bert", "llama_left"])
def test_bfloat16_on_the_gpu_is_close_to_float32_on_the_cpu(tiny_models, model):
    expected = make(tiny_models[model]).fit_transform(PAIRS)
    got = make(tiny_models[model], **CUDA_BF16).fit_transform(PAIRS)
    assert_close_for_dtype(got[:, :-1], expected[:, :-1], "bfloat16")
    fp32 = make(tiny_models[model], device="cuda").fit_transform(PAIRS)
    np.testing.assert_allclose(fp32, expected, rtol=1e-3, atol=1e-4)


def test_defaults_pick_the_gpu_and_agree_with_the_cpu(tiny_models):
    path = tiny_models["llama_left"]
    expected = make(path).fit_transform(PAIRS)
    got = make(path, device="auto", dtype="auto").fit_transform(PAIRS)
    dtype = _loading.resolve_dtype("auto", "cuda")
    assert_close_for_dtype(got[:, :-1], expected[:, :-1], dtype)


def test_copies_go_through_pinned_memory():
    tokens = torch.arange(12).reshape(3, 4)
    on_gpu = to_device(tokens, "cuda")
    assert on_gpu.is_cuda and torch.equal(on_gpu.cpu(), tokens)
    transfer = _Transfer(on_gpu.float() * 2)
    assert transfer.host.is_pinned()
    np.testing.assert_array_equal(transfer.result(), tokens.numpy() * 2.0)


@pytest.mark.parametrize("model", ["bert", "llama_left", "llama_right"])
@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
def test_padding_free_equals_padded_on_the_gpu(tiny_models, model, dtype):
    path = tiny_models[model]
    padded = make(path, device="cuda", dtype=dtype, padding_free=False)
    packed = make(path, device="cuda", dtype=dtype, padding_free=True, batch_size=3)
    # warnings are errors here: a failing varlen kernel would warn, not pass
    expected, got = padded.fit_transform(PAIRS), packed.fit_transform(PAIRS)
    if dtype == "float32":
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)
    else:
        assert_close_for_dtype(got[:, :-1], expected[:, :-1], dtype)


def test_bfloat16_padding_free_uses_the_varlen_kernel_when_torch_has_it():
    query = torch.zeros(4, 2, 8, dtype=torch.bfloat16, device="cuda")
    assert _packing._use_varlen(query) == (_packing.varlen_attention() is not None)


def test_out_of_memory_on_the_gpu_is_retried(tiny_models, monkeypatch):
    path = tiny_models["bert"]
    expected = make(path, device="cuda").fit_transform(PAIRS)
    embed = make(path, device="cuda").fit(PAIRS)
    model = loaded_model(embed)
    forward, sizes = model.forward, []

    @functools.wraps(forward)
    def once(*args, **kwargs):
        sizes.append(kwargs["input_ids"].shape[0])
        if len(sizes) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory.")
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", once)
    np.testing.assert_allclose(embed.transform(PAIRS), expected, rtol=1e-5)
    assert len(sizes) >= 3
