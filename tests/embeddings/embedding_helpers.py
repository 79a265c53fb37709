"""Shared pieces of the embedding tests: pairs, the fp32 CPU embedder, references."""

import numpy as np
import pandas as pd
import torch

from skpref.embeddings import LLMEmbeddingTransformer, _loading, _run

PAIRS = pd.DataFrame(
    {
        "prompt": [
            "Human: How do I bake bread?",
            "Human: What is the capital of France?",
            "Human: Tell me a joke.",
            "Human: How do I bake bread?",
        ],
        "response_a": [
            "Mix flour, water, salt and yeast.",
            "Paris.",
            "Why did the chicken cross the road? To get to the other side.",
            "No.",
        ],
        "response_b": [
            "No.",
            "Paris is the capital of France, the quick brown fox says.",
            "No.",
            "Mix flour, water, salt and yeast.",
        ],
        "objective": [0, 1, 1, 0],
    }
)


# These tests mean float32 numerics on the CPU: dtype="auto" would pick bfloat16
# on a CPU or GPU with native support, and device="auto" a GPU.
FP32_CPU = {"dtype": "float32", "device": "cpu"}
# Tolerances of an embedding against a straight float32 transformers forward pass,
# by the dtype the embedder ran in.
TOLERANCE = {
    "float32": {"rtol": 1e-4, "atol": 1e-5},
    "bfloat16": {"min_cosine": 0.99},
    "float16": {"min_cosine": 0.999},
}


def make(path, tmp_path=None, **params):
    params.setdefault("cache_dir", None if tmp_path is None else str(tmp_path))
    params.setdefault("max_length", 64)
    params = {**FP32_CPU, **params}
    return LLMEmbeddingTransformer(model_name_or_path=str(path), **params)


def reference_embedding(path, text, pooling, add_special_tokens=True):
    """Embed one text alone (no padding) straight through transformers."""
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    ids = tok(text, return_tensors="pt", add_special_tokens=add_special_tokens)
    with torch.inference_mode():
        hidden = model(input_ids=ids["input_ids"]).last_hidden_state[0]
    return (hidden[-1] if pooling == "last" else hidden.mean(0)).numpy()


def assert_close_for_dtype(got, expected, dtype):
    """Compare embeddings with the tolerance of the dtype they were computed in."""
    tolerance = TOLERANCE[dtype]
    if "min_cosine" not in tolerance:
        np.testing.assert_allclose(got, expected, **tolerance)
        return
    cosine = (got * expected).sum(-1) / (
        np.linalg.norm(got, axis=-1) * np.linalg.norm(expected, axis=-1)
    )
    assert np.min(cosine) >= tolerance["min_cosine"], cosine


def loaded_model(embed):
    """The model a fitted embedder runs (loaded now, or the one kept in memory)."""
    device, dtype = _run.runtime(embed)
    return _loading.load_model_and_tokenizer(
        _run.model_source(embed),
        revision=None,
        dtype=dtype,
        device=device,
        local_files_only=False,
        trust_remote_code=False,
        owner="test",
    )[1]
