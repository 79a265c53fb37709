"""Bad input and faults around the embedder: each a clear error or a warning."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from skpref.embeddings import (
    CacheWriteWarning,
    LLMEmbeddingTransformer,
    ModelNotAvailableError,
    _cache,
)
from tests.embeddings.embedding_helpers import PAIRS, make

SURROGATE = "bad \ud800 text"


def with_surrogate(column, row):
    frame = PAIRS.astype(object).set_axis([10, 11, 12, 13])
    frame.loc[row, column] = SURROGATE
    return frame


# --------------------------------------------------------------------- texts
def test_lone_surrogate_names_column_and_row_without_a_cache(tiny_models):
    with pytest.raises(
        ValueError, match="column 'response_b' at row 12 holds the lone surrogate"
    ):
        make(tiny_models["bert"]).fit(with_surrogate("response_b", 12))


def test_lone_surrogate_at_transform_with_a_cache(tiny_models, tmp_path):
    embed = make(tiny_models["bert"], tmp_path).fit(PAIRS.astype(object))
    with pytest.raises(ValueError, match="column 'prompt' at row 10 .*U\\+D800"):
        embed.transform(with_surrogate("prompt", 10))


def test_a_column_mixing_text_and_conversations(tiny_models):
    frame = PAIRS.astype(object)
    frame.at[2, "response_a"] = [{"role": "assistant", "content": "Hi"}]
    with pytest.raises(
        ValueError, match="'response_a' mixes formats: text at row 0 but conversation"
    ):
        make(tiny_models["bert"]).fit(frame)


def test_a_malformed_message(tiny_models):
    frame = PAIRS.astype(object)
    frame.at[1, "response_a"] = [{"role": "assistant", "text": "Hi"}]
    with pytest.raises(ValueError, match="a conversation .*'response_a'.*row 1"):
        make(tiny_models["bert"]).fit(frame)


@pytest.mark.parametrize("column", ["prompt", "response_b", "objective"])
def test_a_duplicated_column_is_named_before_any_work(tiny_models, column):
    frame = pd.concat([PAIRS, PAIRS[[column]]], axis=1)
    with pytest.raises(ValueError, match=f"column '{column}' appears 2 times in X"):
        make(tiny_models["bert"]).fit(frame)


@pytest.mark.parametrize(
    "columns",
    [{"response_b_column": "response_a"}, {"prompt_column": "response_a"}],
    ids=["both-responses", "prompt-as-response"],
)
def test_one_column_in_two_roles_is_refused(tiny_models, columns):
    with pytest.raises(ValueError, match=r"\['response_a'\] for more than one role"):
        make(tiny_models["bert"], **columns).fit(PAIRS)


# ---------------------------------------------------------------- objectives
def test_a_misnamed_objective_column_is_not_silently_dropped(tiny_models):
    frame = PAIRS.rename(columns={"objective": "objectives"})
    with pytest.raises(
        ValueError, match="column 'objective'.*Did you mean 'objectives'"
    ):
        make(tiny_models["bert"]).fit(frame)


def test_a_named_objective_column_must_exist(tiny_models):
    with pytest.raises(ValueError, match="column 'goal' in X"):
        make(tiny_models["bert"], objective_column="goal").fit(PAIRS)


def test_objective_categories_without_an_objective_column(tiny_models):
    frame = PAIRS.drop(columns="objective")
    with pytest.raises(ValueError, match="objective_categories but X has no objective"):
        make(tiny_models["bert"], objective_categories=["a", "b"]).fit(frame)


def test_a_categorical_coded_otherwise_is_an_error(tiny_models):
    names = ["helpful", "harmless", "harmless", "helpful"]
    embed = make(tiny_models["bert"], objective_categories=["helpful", "harmless"])
    embed.fit(PAIRS.assign(objective=names))
    other = pd.Categorical(names, categories=["harmless", "helpful"])
    with pytest.raises(
        ValueError, match="Categorical coded \\['harmless', 'helpful'\\]"
    ):
        embed.transform(PAIRS.assign(objective=other))


def test_duplicate_objective_categories(tiny_models):
    frame = PAIRS.assign(objective=["h", "x", "h", "x"])
    with pytest.raises(ValueError, match="lists 'h' more than once"):
        make(tiny_models["bert"], objective_categories=["h", "h", "x"]).fit(frame)


# ------------------------------------------------------------------- models
def test_model_folder_without_config_json(tiny_models, tmp_path):
    folder = shutil.copytree(tiny_models["bert"], tmp_path / "no_config")
    (folder / "config.json").unlink()
    with pytest.raises(ModelNotAvailableError, match="has no config.json"):
        make(folder).fit(PAIRS)


def test_config_json_transformers_cannot_read(tiny_models, tmp_path):
    folder = shutil.copytree(tiny_models["bert"], tmp_path / "odd_config")
    (folder / "config.json").write_text(json.dumps({"hidden_size": 32}))
    with pytest.raises(ModelNotAvailableError, match="cannot read the configuration"):
        make(folder).fit(PAIRS)


@pytest.mark.parametrize(
    ("device", "match"),
    [
        ("gpu0", "device='gpu0' is not a torch device"),
        ("tpu", "device='tpu' is not a torch device"),
        (
            "cuda:99" if torch.cuda.is_available() else "cuda",
            "CUDA device\\(s\\)" if torch.cuda.is_available() else "no CUDA",
        ),
        pytest.param(
            "mps",
            "MPS \\(Apple GPUs\\) is not available",
            marks=pytest.mark.skipif(
                torch.backends.mps.is_available(), reason="this machine has MPS"
            ),
        ),
    ],
)
def test_unavailable_devices_are_clear_errors(tiny_models, device, match):
    with pytest.raises(ValueError, match=match):
        make(tiny_models["bert"], device=device).fit(PAIRS)


# -------------------------------------------------------------------- cache
def test_cache_dir_expands_home_and_variables(tiny_models, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SKPREF_TEST_CACHE", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)
    for cache_dir, root in (("~/c", "home/c"), ("$SKPREF_TEST_CACHE/c", "var/c")):
        make(tiny_models["bert"], cache_dir=cache_dir).fit_transform(PAIRS)
        assert list((tmp_path / root).glob("*/shard-*.npz"))
    assert (
        not (tmp_path / "~").exists() and not (tmp_path / "$SKPREF_TEST_CACHE").exists()
    )


def _wrong_dim(tmp_path):
    (settings,) = tmp_path.glob("*/settings.json")
    info = json.loads(settings.read_text())
    info["dim"] = 16
    settings.write_text(json.dumps(info))
    return settings


def test_wrong_dim_in_settings_never_deletes_the_shards(tiny_models, tmp_path):
    make(tiny_models["bert"], tmp_path).fit_transform(PAIRS)
    shards = sorted(tmp_path.glob("*/shard-*.npz"))
    settings = _wrong_dim(tmp_path)
    embed = make(tiny_models["bert"], tmp_path).fit(PAIRS)
    with pytest.raises(ValueError, match=f'{settings}.*"dim": 16.*dimension 32'):
        embed.transform(PAIRS)
    assert sorted(tmp_path.glob("*/shard-*.npz")) == shards  # nothing deleted


def test_wrong_dim_in_settings_with_new_texts(tiny_models, tmp_path):
    make(tiny_models["bert"], tmp_path).fit_transform(PAIRS.iloc[:1])
    settings = _wrong_dim(tmp_path)
    new = PAIRS.iloc[1:3]  # no text in common with row 0
    embed = make(tiny_models["bert"], tmp_path).fit(new)
    with pytest.raises(
        ValueError, match=f"dimension 16 \\(read at fit from .*{settings.name}"
    ):
        embed.transform(new)


def test_read_only_cache_computes_without_writing(tiny_models, tmp_path, monkeypatch):
    expected = make(tiny_models["bert"]).fit_transform(PAIRS)

    def read_only(path, write):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(_cache, "_atomic_write", read_only)
    with pytest.warns(CacheWriteWarning, match="cannot be written.*PermissionError"):
        X = make(tiny_models["bert"], tmp_path).fit_transform(PAIRS)
    np.testing.assert_array_equal(X, expected)
    assert not list(tmp_path.glob("*/shard-*.npz"))


def test_read_only_cache_still_serves_what_it_holds(tiny_models, tmp_path, monkeypatch):
    make(tiny_models["bert"], tmp_path).fit_transform(PAIRS.iloc[:2])
    monkeypatch.setattr(
        _cache, "_atomic_write", lambda *a: (_ for _ in ()).throw(OSError(30, "EROFS"))
    )
    with pytest.warns(CacheWriteWarning):  # only the new texts need writing
        X = make(tiny_models["bert"], tmp_path).fit_transform(PAIRS)
    np.testing.assert_allclose(
        X, make(tiny_models["bert"]).fit_transform(PAIRS), atol=1e-6
    )


# -------------------------------------------------------- transform_responses
@pytest.mark.parametrize(
    ("params", "call", "match"),
    [
        ({}, lambda e: e.transform_responses(None, ["a"], 0), "pass one prompt per"),
        (
            {"prompt_column": None},
            lambda e: e.transform_responses(["p"], ["a"]),
            "prompt_column=None.*pass prompts=None",
        ),
        ({}, lambda e: e.transform_responses(["p"], ["a", "b"], 0), "1 prompts and 2"),
        ({}, lambda e: e.transform_responses(["p"], ["a"]), "pass objective=<name"),
        (
            {},
            lambda e: e.transform_responses(["p"], ["a"], "helpful"),
            "fitted on integer objective ids",
        ),
        (
            {},
            lambda e: e.transform_responses(["p"], [None], 0),
            "'responses'; got None",
        ),
        (
            {"prompt_column": None},
            lambda e: e.transform_responses(None, "Hello"),
            r"transform_responses expects responses to be a list of texts; got a "
            r"single string \('Hello'\); wrap it in a list: \[text\]",
        ),
        (
            {},
            lambda e: e.transform_responses("Hi", ["Yo", "Hey"], 0),
            r"expects prompts to be a list of texts; got a single string \('Hi'\)",
        ),
    ],
)
def test_transform_responses_bad_input(tiny_models, params, call, match):
    embed = make(tiny_models["bert"], **params).fit(PAIRS)
    with pytest.raises(ValueError, match=match):
        call(embed)


def test_transform_responses_without_objective_column(tiny_models):
    embed = make(tiny_models["bert"]).fit(PAIRS.drop(columns="objective"))
    with pytest.raises(ValueError, match="fitted without an objective column"):
        embed.transform_responses(["p"], ["a"], objective="helpful")


def test_construction_accepts_anything_and_fit_checks(tiny_models):
    embed = LLMEmbeddingTransformer(model_name_or_path=str(tiny_models["bert"]))
    with pytest.raises(ValueError, match="expects X to be a pandas DataFrame"):
        embed.fit([["a", "b", "c"]])


# ------------------------------------------------------------ batch settings
@pytest.mark.parametrize(
    "params, match",
    [
        ({"batch_size": 0}, "'batch_size' parameter .* range \\[1, inf\\) or a str"),
        ({"batch_size": "big"}, "'batch_size' parameter .*among \\{'auto'\\}"),
        ({"max_batch_tokens": -5}, "'max_batch_tokens' parameter"),
        ({"padding_free": "yes"}, "'padding_free' parameter .*'auto'.*bool"),
    ],
)
def test_batch_settings_are_validated_at_fit(tiny_models, params, match):
    with pytest.raises(ValueError, match=match):
        make(tiny_models["bert"], **params).fit(PAIRS)


@pytest.mark.parametrize("name", ["bert", "llama_left"])
def test_max_length_above_the_position_limit(tiny_models, name, count_embedded):
    # the tiny models have 128 positions; torch used to fail inside the model
    long = PAIRS.assign(prompt="the quick brown fox " * 60)
    embed = make(tiny_models[name], max_length=200)
    with pytest.raises(
        ValueError,
        match=r"got max_length=200, but the model has positions for 128 tokens "
        r"\(config.max_position_embeddings\) and a text here has 200\. Set "
        r"max_length=128 or less",
    ):
        embed.fit_transform(long)
    assert count_embedded == []  # refused before any batch ran
    assert embed.fit_transform(PAIRS).shape == (4, 65)  # short texts fit
    assert make(tiny_models[name], max_length=128).fit_transform(long).shape == (4, 65)
