"""Fixtures of the embedding tests."""

import pytest

from skpref.embeddings import _run


@pytest.fixture
def count_embedded(monkeypatch):
    """Count the token sequences that reach the model."""
    calls = []
    original = _run.embed_token_ids

    def counting(ids_list, *args, **kwargs):
        calls.append(len(ids_list))
        return original(ids_list, *args, **kwargs)

    monkeypatch.setattr(_run, "embed_token_ids", counting)
    return calls
