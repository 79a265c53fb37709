"""Text to vectors: frozen Hugging Face models turn preference pairs into features.

:class:`LLMEmbeddingTransformer` maps a DataFrame of prompts and response pairs to
the ``[a | b | objective]`` arrays of the pair contract, with an on-disk cache.
"""

from skpref.embeddings._cache import CacheCorruptionWarning, CacheWriteWarning
from skpref.embeddings._loading import ModelNotAvailableError, load_tokenizer
from skpref.embeddings._run import uses_chat_template
from skpref.embeddings._shards import embed_shard, shard_texts
from skpref.embeddings._transformer import LLMEmbeddingTransformer

__all__ = [
    "CacheCorruptionWarning",
    "CacheWriteWarning",
    "LLMEmbeddingTransformer",
    "ModelNotAvailableError",
    "embed_shard",
    "load_tokenizer",
    "shard_texts",
    "uses_chat_template",
]
