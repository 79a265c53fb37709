"""Transformers of pair features: linear concept erasure (LEACE).

:class:`LinearConceptEraser` removes from response embeddings what is linearly
predictable of a concept (a response's length, the prompt type), applying one map
to both halves of ``[a | b]`` so that the pair contract holds.
"""

from skpref.preprocessing._eraser import LinearConceptEraser

__all__ = ["LinearConceptEraser"]
