"""The embedding cache through the transformer: reuse, keys, corruption, resume."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline

from skpref.embeddings import CacheCorruptionWarning, _loading
from tests.embeddings.embedding_helpers import PAIRS, loaded_model, make


def test_duplicate_texts_are_embedded_once(tiny_models, count_embedded):
    make(tiny_models["bert"], prompt_column=None).fit_transform(PAIRS)
    # 8 responses, of which "No." x3 and the bread answer x2 repeat: 5 unique
    assert count_embedded == [5]


def test_cache_hits_skip_the_model(tiny_models, tmp_path, count_embedded, monkeypatch):
    first = make(tiny_models["llama_left"], tmp_path).fit_transform(PAIRS)
    assert count_embedded == [6]
    _loading.clear_loaded_models()

    def no_loading(*args, **kwargs):
        raise AssertionError("the model was loaded for a fully cached pass")

    monkeypatch.setattr(_loading, "load_model_and_tokenizer", no_loading)
    monkeypatch.setattr(_loading, "load_config", no_loading)
    again = make(tiny_models["llama_left"], tmp_path).fit_transform(PAIRS)
    np.testing.assert_array_equal(first, again)
    assert count_embedded == [6]


def test_partial_cache_embeds_only_new_texts(tiny_models, tmp_path, count_embedded):
    make(tiny_models["bert"], tmp_path).fit_transform(PAIRS.iloc[:2])
    make(tiny_models["bert"], tmp_path).fit_transform(PAIRS)
    # rows 0-1 give 4 texts; the 4 rows give 6 unique texts: 2 new ones
    assert count_embedded == [4, 2]


def test_cross_validation_folds_never_embed_a_text_twice(
    tiny_models, tmp_path, count_embedded
):
    frame = pd.concat([PAIRS] * 3, ignore_index=True)
    frame["response_a"] += pd.Series([f" v{i}" for i in range(len(frame))])
    y = np.arange(len(frame)) % 2
    pipe = Pipeline(
        [
            ("embed", make(tiny_models["bert"], tmp_path, objective_column=None)),
            ("clf", LogisticRegression()),
        ]
    )
    cross_val_score(pipe, frame, y, cv=3)
    n_unique = len(
        set(zip(frame["prompt"], frame["response_a"], strict=True))
        | set(zip(frame["prompt"], frame["response_b"], strict=True))
    )
    assert n_unique == 16
    assert sum(count_embedded) == n_unique


@pytest.mark.parametrize(
    "change", [{"max_length": 63}, {"pooling": "cls"}, {"dtype": "bfloat16"}]
)  # make() pins dtype="float32", so bfloat16 is a change
def test_cache_key_covers_the_settings(tiny_models, tmp_path, count_embedded, change):
    make(tiny_models["bert"], tmp_path).fit_transform(PAIRS)
    make(tiny_models["bert"], tmp_path, **change).fit_transform(PAIRS)
    assert count_embedded == [6, 6]


def test_cache_key_covers_the_model_files(tiny_models, tmp_path, count_embedded):
    import shutil

    copy = shutil.copytree(tiny_models["bert"], tmp_path / "bert_copy")
    make(copy, tmp_path / "cache").fit_transform(PAIRS)
    with torch.random.fork_rng():
        from transformers import AutoModel

        torch.manual_seed(1)
        model = AutoModel.from_config(AutoModel.from_pretrained(copy).config)
    model.save_pretrained(copy)  # new weights at the same path
    make(copy, tmp_path / "cache").fit_transform(PAIRS)
    assert count_embedded == [6, 6]


def test_corrupt_cache_is_recomputed(tiny_models, tmp_path):
    fresh = make(tiny_models["bert"], tmp_path).fit_transform(PAIRS)
    (shard,) = tmp_path.glob("*/shard-*.npz")
    shard.write_bytes(shard.read_bytes()[:100])
    with pytest.warns(CacheCorruptionWarning, match="embedded again"):
        again = make(tiny_models["bert"], tmp_path).fit_transform(PAIRS)
    np.testing.assert_allclose(again, fresh, rtol=1e-5, atol=1e-6)
    assert len(list(tmp_path.glob("*/shard-*.npz"))) == 1


def test_interrupted_job_resumes(tiny_models, tmp_path, count_embedded, monkeypatch):
    path = tiny_models["bert"]
    _loading.clear_loaded_models()
    embed = make(path, tmp_path, batch_size=2, prompt_column=None).fit(PAIRS)
    model = loaded_model(embed)
    forward, calls = model.forward, []

    def dies_on_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", dies_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        embed.transform(PAIRS)
    # whatever the batches (their number depends on the device and settings),
    # the first one was written before the interrupt and nothing after it
    (shard,) = tmp_path.glob("*/shard-*.npz")
    with np.load(shard) as written:
        kept = len(written["keys"])
    assert 1 <= kept < 5
    monkeypatch.setattr(model, "forward", forward)
    X = embed.transform(PAIRS)
    # 5 unique texts; only the ones not kept are embedded again
    assert count_embedded == [5, 5 - kept]
    np.testing.assert_allclose(
        X, make(path, prompt_column=None).fit_transform(PAIRS), rtol=1e-5, atol=1e-6
    )


DIALOGUES = pd.DataFrame(
    {
        "response_a": [
            [
                {"role": "user", "content": "How do I bake bread?"},
                {"role": "assistant", "content": "Mix flour and yeast."},
            ]
        ],
        "response_b": [
            [
                {"role": "user", "content": "How do I bake bread?"},
                {"role": "assistant", "content": "No."},
            ]
        ],
    }
)


@pytest.mark.parametrize("order", [(True, False), (False, True)])
def test_chat_and_plain_dialogues_never_share_vectors(tiny_models, tmp_path, order):
    # prompt_column=None: a conversation goes through the chat template or the
    # plain "Role: content" format; the two must not be served for each other
    path, params = tiny_models["llama_chat"], {"prompt_column": None}
    fresh = {
        rule: make(path, chat_template=rule, **params).fit(DIALOGUES)
        for rule in (True, False)
    }
    expected = {rule: fresh[rule].transform(DIALOGUES) for rule in fresh}
    assert not np.allclose(expected[True], expected[False])
    responses = DIALOGUES["response_a"].tolist()
    for rule in order:
        cached = make(path, tmp_path, chat_template=rule, **params).fit(DIALOGUES)
        np.testing.assert_array_equal(cached.transform(DIALOGUES), expected[rule])
    for rule in order:  # transform_responses reads the same keys
        cached = make(path, tmp_path, chat_template=rule, **params).fit(DIALOGUES)
        np.testing.assert_array_equal(
            cached.transform_responses(None, responses),
            fresh[rule].transform_responses(None, responses),
        )


def test_the_text_template_is_not_in_the_key_when_the_chat_template_is_used(
    tiny_models, tmp_path, count_embedded
):
    path = tiny_models["llama_chat"]
    first = make(path, tmp_path, chat_template=True).fit_transform(PAIRS)
    again = make(
        path, tmp_path, chat_template=True, text_template="Q: {prompt} A: {response}"
    ).fit_transform(PAIRS)
    np.testing.assert_array_equal(again, first)
    assert count_embedded == [6]
    make(path, tmp_path, chat_template=False).fit_transform(PAIRS)
    assert count_embedded == [6, 6]  # without the chat template it is a new text


def test_a_cache_of_an_older_format_is_never_read(tiny_models, tmp_path):
    # format 1 cut the BOS off long chat texts: its vectors must not be served
    from skpref.embeddings import _inputs, _run
    from skpref.embeddings._cache import EmbeddingCache, text_key

    path = tiny_models["llama_bos_chat"]
    embed = make(path, tmp_path, objective_column=None).fit(PAIRS)
    source, (_, dtype) = _run.model_source(embed), _run.runtime(embed)
    settings = {**_run.open_cache(embed, source, dtype).settings, "format": 1}
    keys = [
        text_key(_inputs.text_spec("prompt", "auto", embed.text_template, p, r))
        for p, r in zip(PAIRS["prompt"], PAIRS["response_a"], strict=True)
    ]
    EmbeddingCache(tmp_path, settings).write(keys, np.zeros((4, 32), np.float32))
    X = embed.transform(PAIRS)
    np.testing.assert_array_equal(
        X, make(path, objective_column=None).fit_transform(PAIRS)
    )
