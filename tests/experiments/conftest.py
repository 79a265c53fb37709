import pytest


@pytest.fixture(scope="session")
def tiny_bert(tiny_models):
    """Folder of the tiny random BERT shared with the embedding tests."""
    return tiny_models["bert"]
