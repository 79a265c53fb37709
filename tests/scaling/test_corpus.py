"""Corpus embedding in shards: here, on a local cluster, and after a worker dies."""

import os
import signal

import numpy as np
import pandas as pd
import pytest

from skpref import LLMEmbeddingTransformer
from skpref.distributed import embed_corpus

WORDS = ["bread", "chess", "rain", "music", "tea", "cats", "trains", "maths"]


def corpus():
    texts = [
        " ".join(WORDS[(i + j) % 8] for j in range(1 + i % 11)) + f" number {i}"
        for i in range(40)
    ]
    return texts + texts[:8]  # 8 repeats: 48 texts, 40 unique


def embedder(model, cache_dir, **params):
    return LLMEmbeddingTransformer(
        model_name_or_path=model,
        dtype="float32",
        device="cpu",
        cache_dir=cache_dir,
        max_length=32,
        **params,
    )


def here(model, cache_dir, texts=None, **kwargs):
    """embed_corpus of the corpus (here, or on ``client=``), in shards of 6."""
    kwargs.setdefault("shard_size", 6)
    return embed_corpus(
        corpus() if texts is None else texts,
        embedder(model, cache_dir),
        progress_bar=False,
        **kwargs,
    )


def cache_files(cache_dir):
    return sorted(p.name for p in cache_dir.rglob("shard-*.npz"))


@pytest.fixture(scope="module")
def bert(tiny_models):
    return tiny_models["bert"]


@pytest.fixture(scope="module")
def reference(bert, tmp_path_factory):
    """The single-process run: every shard embedded here, in order."""
    return here(bert, tmp_path_factory.mktemp("reference"))


def test_in_process_run_equals_the_embedder(bert, reference, tmp_path):
    texts = corpus()
    assert reference.vectors.shape == (48, 32) and reference.vectors.dtype == np.float32
    assert (reference.n_texts, reference.n_unique, reference.n_shards) == (48, 40, 7)
    assert reference.n_computed == 40 and reference.n_shards_computed == 7
    direct = embedder(
        bert,
        None,
        prompt_column=None,
        response_a_column="a",
        response_b_column="b",
        objective_column=None,
    )
    direct.fit(pd.DataFrame({"a": texts[:1], "b": texts[:1]}))
    expected = direct.transform_responses(None, texts)
    np.testing.assert_allclose(reference.vectors, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(reference.vectors[40:], reference.vectors[:8])


def test_a_second_run_reads_everything_from_the_cache(bert, reference, tmp_path):
    first = here(bert, tmp_path)
    files = cache_files(tmp_path)
    assert len(files) == 7  # one cache file per shard
    again = here(bert, tmp_path)
    assert again.n_computed == 0 and again.n_model_loads == 0
    assert cache_files(tmp_path) == files
    np.testing.assert_array_equal(again.vectors, first.vectors)
    np.testing.assert_array_equal(first.vectors, reference.vectors)


def test_an_interrupted_job_resumes_with_the_same_bits(bert, reference, tmp_path):
    from skpref.distributed import _corpus

    original = _corpus.embed_shard
    calls = []

    def dies_on_the_fourth_shard(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    _corpus.embed_shard = dies_on_the_fourth_shard
    try:
        with pytest.raises(KeyboardInterrupt):
            here(bert, tmp_path)
    finally:
        _corpus.embed_shard = original
    assert len(cache_files(tmp_path)) == 3  # the finished shards are kept
    resumed = here(bert, tmp_path)
    assert resumed.n_computed == 40 - 3 * 6 and resumed.n_shards_computed == 4
    np.testing.assert_array_equal(resumed.vectors, reference.vectors)


def test_prompts_are_embedded_as_the_text_pipeline_embeds_pairs(bert, tmp_path):
    frame = pd.DataFrame(
        {
            "prompt": ["Tell me about tea.", "And chess?"],
            "answer": ["Tea is a drink.", "A game."],
        }
    )
    result = embed_corpus(
        frame,
        embedder(bert, tmp_path),
        column="answer",
        prompt_column="prompt",
        progress_bar=False,
    )
    pipe_embedder = embedder(bert, tmp_path, objective_column=None)
    pairs = pd.DataFrame(
        {
            "prompt": frame["prompt"],
            "response_a": frame["answer"],
            "response_b": frame["answer"],
        }
    )
    X = pipe_embedder.fit(pairs).transform(pairs)  # all read from the cache
    np.testing.assert_array_equal(X[:, :32], result.vectors)


def test_normalize_and_return_vectors(bert, reference, tmp_path):
    result = embed_corpus(
        corpus(),
        embedder(bert, tmp_path, normalize=True),
        shard_size=6,
        progress_bar=False,
    )
    np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1, rtol=1e-6)
    raw = reference.vectors
    np.testing.assert_allclose(
        result.vectors, raw / np.linalg.norm(raw, axis=1, keepdims=True), rtol=1e-6
    )
    only_cache = embed_corpus(
        corpus(), embedder(bert, tmp_path), return_vectors=False, progress_bar=False
    )
    assert only_cache.vectors is None and only_cache.n_computed == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"shard_size": 0}, "shard_size must be an integer >= 1"),
        ({"return_vectors": "yes"}, "return_vectors must be True or False"),
        ({"client": "tcp://127.0.0.1:8786"}, "client must be a distributed.Client"),
        ({"column": "text"}, "column and prompt_column name columns of a table"),
    ],
)
def test_bad_arguments(bert, tmp_path, kwargs, match):
    if "client" in kwargs:
        pytest.importorskip("distributed")
    with pytest.raises(ValueError, match=match):
        embed_corpus(["a"], embedder(bert, tmp_path), progress_bar=False, **kwargs)


def test_bad_embedders(bert):
    with pytest.raises(ValueError, match="embedder must be an LLMEmbeddingTransformer"):
        embed_corpus(["a"], object())
    with pytest.raises(ValueError, match="the embedder has cache_dir=None"):
        embed_corpus(["a"], embedder(bert, None))
    with pytest.raises(ValueError, match="dtype"):
        embed_corpus(["a"], embedder(bert, "/tmp").set_params(dtype="float64"))


# ---------------------------------------------------------------- on a cluster


@pytest.mark.slow
def test_cluster_run_equals_the_single_process_run_bit_for_bit(
    client, bert, reference, tmp_path
):
    result = here(bert, tmp_path, client=client)
    np.testing.assert_array_equal(result.vectors, reference.vectors)
    assert result.n_computed == 40 and len(cache_files(tmp_path)) == 7
    assert 1 <= result.n_model_loads <= 2  # once per worker process, not per shard
    again = here(bert, tmp_path, client=client)
    assert again.n_computed == 0 and again.n_model_loads == 0


def _kill_on_third_shard():
    """Installed in one worker: its third shard kills the process outright."""
    # where the task's function is defined: the scheduler sends it by that name
    from skpref.embeddings import _shards

    original = _shards.embed_shard
    calls = []

    def dies(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)

    _shards.embed_shard = dies
    return os.getpid()


@pytest.mark.slow
def test_a_worker_killed_mid_job(client, bert, reference, tmp_path):
    victim = next(iter(client.scheduler_info()["workers"]))
    pid = client.run(_kill_on_third_shard, workers=[victim])[victim]
    shared = tmp_path / "cluster"
    result = here(bert, shared, client=client, shard_size=2)
    # the worker died (the nanny started a new process in its place) ...
    assert pid not in client.run(os.getpid).values()
    # ... and the job still finished with every vector, the same bits ...
    np.testing.assert_array_equal(
        result.vectors, here(bert, tmp_path / "here", shard_size=2).vectors
    )
    # ... without embedding any finished shard twice: one cache file per shard
    # (a finished shard whose result died with the worker runs again and reads
    # its vectors back from the cache: it then counts as cached, not computed)
    assert len(cache_files(shared)) == result.n_shards == 20
    assert result.n_computed <= 40
