import pickle
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skpref.embeddings import (
    LLMEmbeddingTransformer,
    ModelNotAvailableError,
    _loading,
    _run,
)
from tests.embeddings.embedding_helpers import (
    PAIRS,
    TOLERANCE,
    assert_close_for_dtype,
    make,
    reference_embedding,
)


@pytest.mark.parametrize("name, d", [("bert", 32), ("llama_left", 32)])
def test_shapes_dtype_and_feature_names(tiny_models, name, d):
    embed = make(tiny_models[name]).fit(PAIRS)
    X = embed.transform(PAIRS)
    assert X.shape == (4, 2 * d + 1) and X.dtype == np.float32
    np.testing.assert_array_equal(X[:, -1], PAIRS["objective"].to_numpy())
    names = embed.get_feature_names_out()
    assert names[0] == "a_emb0" and names[d] == "b_emb0" and names[-1] == "objective"
    assert len(names) == X.shape[1] and embed.embedding_dim_ == d
    assert np.isfinite(X).all()


def test_set_output_pandas(tiny_models):
    embed = make(tiny_models["bert"]).set_output(transform="pandas")
    frame = embed.fit_transform(PAIRS.set_index(pd.Index([5, 6, 7, 8])))
    assert list(frame.index) == [5, 6, 7, 8]
    assert list(frame.columns[[0, 32, -1]]) == ["a_emb0", "b_emb0", "objective"]


@pytest.mark.parametrize("name", ["bert", "llama_left", "llama_right"])
def test_swapping_a_and_b_swaps_the_halves(tiny_models, name):
    embed = make(tiny_models[name], objective_column=None).fit(PAIRS)
    swapped = PAIRS.assign(
        response_a=PAIRS["response_b"], response_b=PAIRS["response_a"]
    )
    X, X_swapped = embed.transform(PAIRS), embed.transform(swapped)
    np.testing.assert_array_equal(X_swapped, np.hstack([X[:, 32:], X[:, :32]]))


@pytest.mark.parametrize(
    "name, pooling",
    [("bert", "mean"), ("llama_left", "last"), ("llama_right", "last")],
)
def test_batched_embeddings_equal_each_text_alone(tiny_models, name, pooling):
    # Texts of very different lengths share a padded batch; pooling must pick the
    # last real token (decoders, left or right padding) or average real tokens only.
    path = tiny_models[name]
    embed = make(path, prompt_column=None, objective_column=None, batch_size=8)
    X = embed.fit_transform(PAIRS)
    texts = PAIRS["response_a"].tolist() + PAIRS["response_b"].tolist()
    got = np.vstack([X[:, :32], X[:, 32:]])
    for row, text in enumerate(texts):
        expected = reference_embedding(path, text, pooling)
        np.testing.assert_allclose(got[row], expected, **TOLERANCE["float32"])


def test_auto_pooling_is_last_for_decoders_and_mean_for_encoders(tiny_models):
    for name, other in (("bert", "last"), ("llama_left", "mean")):
        params = {"prompt_column": None, "objective_column": None}
        auto = make(tiny_models[name], **params).fit_transform(PAIRS)
        forced = make(tiny_models[name], pooling=other, **params).fit_transform(PAIRS)
        assert not np.allclose(auto, forced)


@pytest.mark.parametrize("name", ["bert", "llama_left"])
def test_left_truncation_keeps_the_end(tiny_models, name):
    end = " Assistant: Mix flour, water, salt and yeast."
    frame = pd.DataFrame(
        {
            "response_a": ["The quick brown fox jumps over the lazy dog." * 3 + end],
            "response_b": ["Causal inference asks what would happen." * 3 + end],
        }
    )
    params = {"prompt_column": None, "objective_column": None, "max_length": 12}
    left = make(tiny_models[name], **params).fit_transform(frame)
    right = make(tiny_models[name], truncation_side="right", **params).fit_transform(
        frame
    )
    # left truncation: both texts end the same way and are cut to the same end
    if name == "llama_left":  # every token of a decoder input is the shared end
        np.testing.assert_allclose(left[0, :32], left[0, 32:], atol=1e-6)
    # right truncation keeps the different beginnings
    assert not np.allclose(right[0, :32], right[0, 32:], atol=1e-3)
    assert not np.allclose(left, right, atol=1e-3)


def test_left_truncation_token_ids_end_with_the_response(tiny_models):
    from transformers import AutoTokenizer

    from skpref.embeddings._encode import tokenize

    tok = AutoTokenizer.from_pretrained(tiny_models["llama_left"])
    text = "The quick brown fox jumps over the lazy dog. " * 5 + "Paris."
    ids = tokenize(
        [text], tok, max_length=6, truncation_side="left", add_special_tokens=False
    )[0]
    full = tok(text, add_special_tokens=False)["input_ids"]
    assert ids == full[-6:]


def test_left_truncation_keeps_the_bos_of_a_chat_template(tiny_models):
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = tiny_models["llama_bos_chat"]
    tok = AutoTokenizer.from_pretrained(path)
    prompt = "Please explain preference learning and reward models. " * 4
    frame = pd.DataFrame(
        {"prompt": [prompt], "response_a": ["Paris is the capital."]}
    ).assign(response_b="No.")
    messages = [
        {"role": "user", "content": prompt},
        {"role": "assistant", "content": "Paris is the capital."},
    ]
    text = tok.apply_chat_template(messages, tokenize=False)
    full = tok(text, add_special_tokens=False)["input_ids"]
    assert full[0] == tok.bos_token_id and len(full) > 40
    kept = [tok.bos_token_id, *full[-11:]]  # BOS, then the end of the dialogue
    X = make(path, objective_column=None, max_length=12).fit_transform(frame)
    model = AutoModel.from_pretrained(path).eval()
    with torch.inference_mode():
        hidden = model(input_ids=torch.tensor([kept])).last_hidden_state[0, -1]
    np.testing.assert_allclose(X[0, :32], hidden.numpy(), **TOLERANCE["float32"])


def test_chat_template_is_used_for_decoders_that_have_one(tiny_models):
    path = tiny_models["llama_chat"]
    auto = make(path, objective_column=None).fit_transform(PAIRS.iloc[:1])
    plain = make(path, objective_column=None, chat_template=False).fit_transform(
        PAIRS.iloc[:1]
    )
    assert not np.allclose(auto, plain)
    text = (
        "<|user|>"
        + PAIRS.at[0, "prompt"]
        + "</s><|assistant|>"
        + PAIRS.at[0, "response_a"]
        + "</s>"
    )
    expected = reference_embedding(path, text, "last", add_special_tokens=False)
    np.testing.assert_allclose(auto[0, :32], expected, **TOLERANCE["float32"])
    expected_plain = reference_embedding(
        path, PAIRS.at[0, "prompt"] + "\n\n" + PAIRS.at[0, "response_a"], "last"
    )
    np.testing.assert_allclose(plain[0, :32], expected_plain, **TOLERANCE["float32"])


def test_a_numpy_bool_chat_template_is_the_bool(tiny_models):
    path = tiny_models["llama_chat"]
    forced = make(path, chat_template=True).fit_transform(PAIRS)
    np.testing.assert_array_equal(
        make(path, chat_template=np.True_).fit_transform(PAIRS), forced
    )


def test_encoders_join_prompt_and_response_with_the_template(tiny_models):
    path = tiny_models["bert"]
    X = make(path, objective_column=None, text_template="Q: {prompt} A: {response}")
    X = X.fit_transform(PAIRS.iloc[:1])
    text = f"Q: {PAIRS.at[0, 'prompt']} A: {PAIRS.at[0, 'response_a']}"
    np.testing.assert_allclose(
        X[0, :32], reference_embedding(path, text, "mean"), rtol=1e-4, atol=1e-5
    )


def test_normalize_gives_unit_vectors(tiny_models):
    X = make(tiny_models["bert"], normalize=True).fit_transform(PAIRS)
    np.testing.assert_allclose(np.linalg.norm(X[:, :32], axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(X[:, 32:64], axis=1), 1, rtol=1e-5)


def test_string_objectives_follow_the_given_categories(tiny_models):
    frame = PAIRS.assign(objective=["helpful", "harmless", "harmless", "helpful"])
    ordered = make(tiny_models["bert"], objective_categories=["helpful", "harmless"])
    np.testing.assert_array_equal(ordered.fit_transform(frame)[:, -1], [0, 1, 1, 0])
    sorted_default = make(tiny_models["bert"]).fit(frame)
    assert list(sorted_default.objective_categories_) == ["harmless", "helpful"]
    np.testing.assert_array_equal(sorted_default.transform(frame)[:, -1], [1, 0, 0, 1])


def test_bfloat16_runs_and_still_outputs_float32(tiny_models):
    fp32 = make(tiny_models["bert"]).fit_transform(PAIRS)
    bf16 = make(tiny_models["bert"], dtype="bfloat16").fit_transform(PAIRS)
    assert bf16.dtype == np.float32
    cos = (fp32[:, :32] * bf16[:, :32]).sum(1) / (
        np.linalg.norm(fp32[:, :32], axis=1) * np.linalg.norm(bf16[:, :32], axis=1)
    )
    assert cos.min() > 0.99 and not np.array_equal(fp32, bf16)


def test_auto_dtype_and_device_agree_with_the_reference_to_their_dtype(tiny_models):
    # whatever this machine picks (bfloat16 on a CPU or GPU with native support)
    path = tiny_models["bert"]
    params = {"prompt_column": None, "objective_column": None}
    embed = make(path, dtype="auto", device="auto", **params)
    X = embed.fit_transform(PAIRS)
    _, dtype = _run.runtime(embed)
    texts = PAIRS["response_a"]
    expected = np.vstack([reference_embedding(path, t, "mean") for t in texts])
    assert_close_for_dtype(X[:, :32], expected, dtype)


def test_auto_dtype_follows_native_bf16_support(monkeypatch):
    monkeypatch.setattr(_loading, "cpu_supports_bf16", lambda: True)
    assert _loading.resolve_dtype("auto", "cpu") == "bfloat16"
    monkeypatch.setattr(_loading, "cpu_supports_bf16", lambda: False)
    assert _loading.resolve_dtype("auto", "cpu") == "float32"
    assert _loading.resolve_dtype("float16", "cpu") == "float16"
    assert _loading.cpu_flags_have_bf16("Features : fp asimd bf16", "aarch64")
    assert not _loading.cpu_flags_have_bf16("flags : avx512f avx512bw", "x86_64")


def test_progress_bar(tiny_models, capsys):
    make(tiny_models["bert"], progress_bar=True).fit_transform(PAIRS)
    assert "LLMEmbeddingTransformer" in capsys.readouterr().err
    make(tiny_models["bert"], progress_bar="auto").fit_transform(PAIRS)
    assert "LLMEmbeddingTransformer" not in capsys.readouterr().err  # few texts


def test_pickle_and_clone(tiny_models):
    embed = make(tiny_models["bert"]).fit(PAIRS)
    X = embed.transform(PAIRS)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(embed)).transform(PAIRS), X)
    np.testing.assert_array_equal(clone(embed).fit_transform(PAIRS), X)


def test_construction_loads_and_downloads_nothing():
    embed = LLMEmbeddingTransformer(model_name_or_path="no-such-org/no-such-model")
    assert embed.get_params()["model_name_or_path"] == "no-such-org/no-such-model"


# ---------------------------------------------------------------------- errors
def test_not_fitted(tiny_models):
    with pytest.raises(NotFittedError):
        make(tiny_models["bert"]).transform(PAIRS)


def test_invalid_parameter(tiny_models):
    with pytest.raises(InvalidParameterError, match="'pooling' parameter"):
        make(tiny_models["bert"], pooling="max").fit(PAIRS)


def test_x_must_be_a_dataframe(tiny_models):
    with pytest.raises(ValueError, match="expects X to be a pandas DataFrame"):
        make(tiny_models["bert"]).fit(PAIRS.to_numpy())


def test_missing_column_suggests_a_fix(tiny_models):
    frame = PAIRS.rename(columns={"response_a": "respons_a"})
    with pytest.raises(
        ValueError, match="column 'response_a'.*Did you mean 'respons_a'"
    ):
        make(tiny_models["bert"]).fit(frame)


def test_missing_text_is_an_error(tiny_models):
    frame = PAIRS.assign(response_b=["x", None, "y", "z"])
    with pytest.raises(
        ValueError, match="text \\(str\\) or a conversation.*column 'response_b'.*row 1"
    ):
        make(tiny_models["bert"]).fit(frame)


@pytest.mark.parametrize(
    "template, message",
    [("{prompt} {answer}", "only use the fields"), ("{prompt}", "must contain")],
)
def test_bad_text_template(tiny_models, template, message):
    with pytest.raises(ValueError, match=message):
        make(tiny_models["bert"], text_template=template).fit(PAIRS)


def test_unknown_objective(tiny_models):
    embed = make(tiny_models["bert"], objective_categories=["helpful", "harmless"])
    frame = PAIRS.assign(objective=["helpful", "harmless", "funny", "helpful"])
    with pytest.raises(ValueError, match="objective 'funny' in column 'objective'"):
        embed.fit(frame)


def test_numeric_objectives_must_be_integers(tiny_models):
    with pytest.raises(ValueError, match="non-integer value 0.5"):
        make(tiny_models["bert"]).fit(PAIRS.assign(objective=[0, 0.5, 1, 0]))
    embed = make(tiny_models["bert"]).fit(PAIRS)
    with pytest.raises(ValueError, match="fitted on integer objective ids"):
        embed.transform(PAIRS.assign(objective=["a", "b", "a", "b"]))


def test_columns_must_match_fit(tiny_models):
    embed = make(tiny_models["bert"]).fit(PAIRS)
    with pytest.raises(ValueError, match="feature names should match"):
        embed.transform(PAIRS[["objective", "prompt", "response_a", "response_b"]])


def test_missing_local_path(tmp_path):
    missing = tmp_path / "no" / "model"
    with pytest.raises(ModelNotAvailableError, match="looks like a local path"):
        LLMEmbeddingTransformer(model_name_or_path=str(missing)).fit(PAIRS)


def test_missing_gguf_file(tiny_models):
    with pytest.raises(ModelNotAvailableError, match="GGUF file 'x.gguf' is not in"):
        make(tiny_models["bert"], gguf_file="x.gguf").fit(PAIRS)


def test_offline_model_id_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embed = LLMEmbeddingTransformer(
        model_name_or_path="no-such-org/no-such-model", cache_dir=str(tmp_path)
    )
    expected = re.escape("pass model_name_or_path=<a local folder") + ".*HF_HUB_OFFLINE"
    with pytest.raises(ModelNotAvailableError, match=expected):
        embed.fit(PAIRS)
    with pytest.raises(OSError, match="not in the local Hugging Face cache"):
        embed.set_params(local_files_only=True).fit(PAIRS)
