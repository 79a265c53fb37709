"""The batch loop: vectors independent of the batches, retries on out-of-memory."""

import functools

import numpy as np
import pytest
import torch

from skpref.embeddings import _loading
from skpref.embeddings._batching import OUT_OF_MEMORY
from tests.embeddings.embedding_helpers import PAIRS, loaded_model, make

SIZES = [
    {"batch_size": 1, "max_batch_tokens": 10_000},
    {"batch_size": 2, "max_batch_tokens": 16},
    {"batch_size": 3, "max_batch_tokens": "auto"},
    {"batch_size": "auto", "max_batch_tokens": 1},
    {"batch_size": 4, "padding_free": True},
    {"max_batch_tokens": 20, "padding_free": True},
]


@pytest.mark.parametrize("model", ["bert", "llama_left"])
def test_vectors_do_not_depend_on_the_batches(tiny_models, model):
    path = tiny_models[model]
    expected = make(path).fit_transform(PAIRS)
    for sizes in SIZES:
        got = make(path, **sizes).fit_transform(PAIRS)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=sizes)


def test_the_cache_does_not_depend_on_the_batches(
    tiny_models, tmp_path, count_embedded
):
    path = tiny_models["llama_left"]
    first = make(path, tmp_path, batch_size=2).fit_transform(PAIRS)
    for sizes in SIZES:
        again = make(path, tmp_path, **sizes).fit_transform(PAIRS)
        np.testing.assert_array_equal(again, first)
    assert count_embedded == [6]  # 6 unique texts embedded once, then read back
    assert len(list(tmp_path.iterdir())) == 1


@pytest.fixture
def model_of(monkeypatch):
    """Patch the forward of the model an embedder loads; record the batch sizes.

    ``fail(sizes)`` says when to raise an out-of-memory error; ``seen`` collects
    each call's keyword arguments.
    """

    def patch(embed, fail, seen=None):
        model = loaded_model(embed)
        forward, sizes = model.forward, []

        @functools.wraps(forward)  # the signature the embedder inspects
        def failing(*args, **kwargs):
            sizes.append(kwargs["input_ids"].shape[0])
            if seen is not None:
                seen.append(kwargs)
            if fail(sizes):
                # what the CUDA allocator raises (torch.OutOfMemoryError since 2.5)
                raise torch.cuda.OutOfMemoryError("CUDA out of memory. 2.00 GiB")
            return forward(*args, **kwargs)

        monkeypatch.setattr(model, "forward", failing)
        return sizes

    return patch


def test_out_of_memory_halves_the_batch_and_loses_nothing(tiny_models, model_of):
    path = tiny_models["bert"]
    expected = make(path, prompt_column=None).fit_transform(PAIRS)
    _loading.clear_loaded_models()
    embed = make(path, prompt_column=None, batch_size=4, max_batch_tokens=1000)
    sizes = model_of(embed.fit(PAIRS), fail=lambda sizes: len(sizes) == 1)
    with pytest.warns(UserWarning, match="ran out of memory .* at most 2 texts"):
        got = embed.transform(PAIRS)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    # 5 texts: a batch of 4 failed, then batches of at most 2 took all 5
    assert sizes[0] == 4 and max(sizes[1:]) <= 2 and sum(sizes[1:]) == 5


def test_out_of_memory_with_auto_sizes_retries_without_a_warning(tiny_models, model_of):
    _loading.clear_loaded_models()
    embed = make(tiny_models["bert"], prompt_column=None).fit(PAIRS)
    sizes = model_of(embed, fail=lambda sizes: len(sizes) == 1)
    embed.transform(PAIRS)  # warnings are errors in this suite
    assert sizes[0] == 5 and max(sizes[1:]) <= 2 and sum(sizes[1:]) == 5


def test_out_of_memory_on_a_single_text_says_what_to_do(tiny_models, model_of):
    _loading.clear_loaded_models()
    embed = make(tiny_models["bert"], prompt_column=None).fit(PAIRS)
    model_of(embed, fail=lambda sizes: True)
    with pytest.raises(OUT_OF_MEMORY, match="one text of .*Lower max_length"):
        embed.transform(PAIRS)
    _loading.clear_loaded_models()


@pytest.mark.parametrize("padding_free", [False, True])
def test_decoders_run_without_a_key_value_cache(tiny_models, model_of, padding_free):
    _loading.clear_loaded_models()
    embed = make(tiny_models["llama_left"], padding_free=padding_free).fit(PAIRS)
    seen = []
    model_of(embed, fail=lambda sizes: False, seen=seen)
    embed.transform(PAIRS)
    assert seen and all(kwargs.get("use_cache") is False for kwargs in seen)
