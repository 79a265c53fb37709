"""Raw text to rewards: the embedding transformer feeding the reward models."""

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from skpref import LLMEmbeddingTransformer, MultiheadRewardModel

TOPICS = ["bread", "taxes", "chess", "rain", "music", "trains", "cats", "maths"]


def text_pairs(n_pairs, seed):
    """Pairs where the long, on-topic answer is preferred under objective 0 and the
    short, cautious one under objective 1."""
    rng = np.random.RandomState(seed)
    rows = []
    for i in range(n_pairs):
        topic = TOPICS[i % len(TOPICS)]
        good = f"Here is a detailed answer about {topic}, step by step, with examples."
        safe = "I would rather not say."
        objective = int(rng.randint(2))
        a_is_good = bool(rng.randint(2))
        rows.append(
            {
                "prompt": f"Human: tell me about {topic} ({i})",
                "response_a": good if a_is_good else safe,
                "response_b": safe if a_is_good else good,
                "objective": objective,
                "y": int(a_is_good == (objective == 0)),
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("output", ["default", "pandas"])
def test_pipeline_from_text_to_reward(tiny_models, tmp_path, output):
    train, test = text_pairs(64, seed=0), text_pairs(32, seed=1)
    embed = LLMEmbeddingTransformer(
        model_name_or_path=str(tiny_models["bert"]),
        cache_dir=str(tmp_path),
        max_length=64,
    )
    if output == "pandas":
        embed.set_output(transform="pandas")
    pipe = Pipeline(
        [
            ("embed", embed),
            (
                "reward",
                MultiheadRewardModel(
                    hidden_dim=32,
                    latent_dim=16,
                    head_hidden_dim=16,
                    max_epochs=40,
                    lr=1e-2,
                    device="cpu",
                    random_state=0,
                ),
            ),
        ]
    )
    pipe.fit(train.drop(columns="y"), train["y"])
    features = pipe[:-1].transform(test.drop(columns="y"))
    assert features.shape[1] == 2 * pipe[-1].n_pair_features_ + 1
    # the objective decides which response wins: the heads must have learnt it
    assert pipe.score(test.drop(columns="y"), test["y"]) > 0.9
    proba = pipe.predict_proba(test.drop(columns="y"))[:, 1]
    swapped = test.copy()
    swapped[["response_a", "response_b"]] = test[["response_b", "response_a"]].values
    # swapping the responses in the text swaps the probabilities exactly
    np.testing.assert_array_equal(
        pipe.predict_proba(swapped.drop(columns="y"))[:, 0], proba
    )
