"""
==============================================================
Length control: measure, remove and report a spurious factor
==============================================================

On the HH-RLHF helpful-base test pairs (2,354 human-labelled pairs, with the
shared all-MiniLM-L6-v2 embeddings, so nothing is embedded here) the labellers
preferred the longer response about 60% of the time. A reward model trained on
such pairs can learn "longer is better" as a shortcut, right on most pairs and
wrong exactly where the shorter response is the better one.

This example measures the shortcut and removes it in the embeddings:

* **report**: the length-preference rate (how often the longer response is
  preferred, :func:`~skpref.metrics.length_preference_rate`) of the labels and of
  the model, next to the accuracy on all held-out pairs and on those where the
  shorter response was preferred (:func:`~skpref.metrics.length_groups`);
* **measure**: the AMCE of length, the probability that a response is preferred
  to the same response 100 characters shorter, from the model's held-out
  predictions (:class:`~skpref.causal.AMCEEstimator`, soft outcomes);
* **remove**: :class:`~skpref.preprocessing.LinearConceptEraser` before the reward
  model, erasing what the embeddings say linearly about each response's length
  (LEACE); or :class:`~skpref.AdversarialRewardModel` with
  ``adversary_target="n_characters"``, whose discriminator regresses each
  response's (log) length from the reward model's latent behind a
  gradient-reversal layer.

Every pair is predicted once by a model that did not train on it (5-fold
cross-validation); the intervals are 95% intervals over pairs, and the paired
differences are means over the 5 folds with their standard errors.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline

from skpref import AdversarialRewardModel, BTLRewardRegressor
from skpref.causal import AMCEEstimator
from skpref.covariates import covariate_differences, pair_covariates
from skpref.datasets import get_data_home, load_hh_rlhf, pair_features
from skpref.metrics import (
    length_groups,
    length_preference_interval,
    length_preference_rate,
    pairwise_accuracy_interval,
    pairwise_accuracy_score,
)
from skpref.preprocessing import LinearConceptEraser

torch.set_num_threads(1)

try:
    frame = load_hh_rlhf("helpful-base", embeddings="all-MiniLM-L6-v2")
except FileNotFoundError as exc:
    frame = None
    print(
        f"The HH-RLHF helpful-base test file or its embeddings are not in the data "
        f"home {get_data_home()}; set SKPREF_DATA_HOME to run this example.\n{exc}"
    )

# %%
# Lengths, and what the embeddings know about them
# ------------------------------------------------
# Length is measured in characters of the final response. The embeddings
# (of the whole dialogue, its beginning cut at 256 tokens) predict it only
# partly; after erasure, no linear function of a response's embedding predicts
# it at all on the pairs the eraser was fitted on.

if frame is not None:
    X = pair_features(frame)
    y = frame["label"].to_numpy()
    lengths = pair_covariates(frame, "n_characters")  # [n_characters_a | _b]
    difference = covariate_differences(lengths)["n_characters"].to_numpy()
    groups = length_groups(y, difference)
    d = X.shape[1] // 2

    def response_r2(features):
        responses = np.vstack([features[:, :d], features[:, d:]])
        target = np.r_[lengths["n_characters_a"], lengths["n_characters_b"]]
        return LinearRegression().fit(responses, target).score(responses, target)

    erased = LinearConceptEraser().fit_transform(X, concept=lengths)
    print(f"R^2 of length from one response's embedding: {response_r2(X):.3f}")
    print(f"... after LinearConceptEraser:               {response_r2(erased):.2e}")
    rate = length_preference_rate(y, difference, labels=True)
    low, high = length_preference_interval(y, difference, labels=True)
    share = np.mean(groups == "shorter preferred")
    print(
        f"labels prefer the longer response in {rate:.1%} of pairs [{low:.1%}, "
        f"{high:.1%}]; {share:.1%} of pairs prefer the shorter one"
    )

# %%
# Three reward models, the same folds
# -----------------------------------
# The eraser is fitted inside each training fold, on that fold's lengths (passed
# as fit metadata to the pipeline step). These pairs have one objective, so the
# adversarial model takes them as plain pairs ``[a | b]``
# (``with_objective=False``). Its discriminator regresses the log length, whose
# squared error a few very long responses would otherwise dominate; its
# covariates are fit metadata too.


SIZES = {"hidden_dim": 64, "latent_dim": 32, "max_epochs": 15, "lr": 1e-3}


def reward_model():
    return BTLRewardRegressor(**SIZES, batch_size=64, random_state=0)


METHODS = {
    "BTL": lambda: reward_model(),
    "LEACE + BTL": lambda: Pipeline(
        [("erase", LinearConceptEraser()), ("model", reward_model())]
    ),
    "length adversary": lambda: AdversarialRewardModel(
        adversary_target="n_characters",
        adversary_weight=3.0,
        adversary_warmup=3,
        with_objective=False,
        head_hidden_dim=32,
        discriminator_hidden_dim=32,
        **SIZES,
        batch_size=64,
        random_state=0,
    ),
}

if frame is not None:
    log_lengths = np.log(lengths.clip(lower=1))
    folds = list(KFold(5, shuffle=True, random_state=0).split(X))
    proba = {name: np.empty(len(y)) for name in METHODS}
    for train, test in folds:
        for name, make in METHODS.items():
            model = make()
            extra = {}
            if name == "LEACE + BTL":
                extra = {"erase__concept": lengths.iloc[train]}
            elif name == "length adversary":
                extra = {"covariates": log_lengths.iloc[train]}
            model.fit(X[train], y[train], **extra)
            proba[name][test] = model.predict_proba(X[test])[:, 1]
    proba["rule: prefer the longer"] = (difference > 0).astype(float)

# %%
# The table
# ---------
# Accuracy on all pairs, on pairs where the shorter (or longer) response was
# preferred, the length-preference rate and the length AMCE per 100 characters.


def interval(low, high):
    return f"[{low:.3f}, {high:.3f}]"


if frame is not None:
    shorter, longer = groups == "shorter preferred", groups == "longer preferred"
    rows = []
    for name, p in proba.items():
        row = {
            "method": name,
            "accuracy": pairwise_accuracy_score(y, p),
            "accuracy CI": interval(*pairwise_accuracy_interval(y, p)),
            "shorter preferred": pairwise_accuracy_score(y[shorter], p[shorter]),
            "shorter CI": interval(*pairwise_accuracy_interval(y[shorter], p[shorter])),
            "longer preferred": pairwise_accuracy_score(y[longer], p[longer]),
            "length rate": length_preference_rate(p, difference),
            "rate CI": interval(*length_preference_interval(p, difference)),
        }
        if not name.startswith("rule"):
            amce = AMCEEstimator(step={"n_characters": 100.0}).fit(lengths, p)
            row["length AMCE"] = amce.effects_[0]
            row["AMCE CI"] = interval(*(b[0] for b in amce.effect_interval()))
        rows.append(row)
    labels = AMCEEstimator(step={"n_characters": 100.0}).fit(lengths, y)
    rows.append(
        {
            "method": "labels",
            "length rate": length_preference_rate(y, difference, labels=True),
            "rate CI": interval(
                *length_preference_interval(y, difference, labels=True)
            ),
            "length AMCE": labels.effects_[0],
            "AMCE CI": interval(*(b[0] for b in labels.effect_interval())),
        }
    )
    table = pd.DataFrame(rows).set_index("method")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(3).to_string())

# %%
# Paired over the folds
# ---------------------
# What the eraser costs on all pairs and buys on the pairs where length
# misleads, as differences from the plain BTL model (mean ± s.e. over folds).

if frame is not None:

    def fold_accuracy(name, rows):
        return np.array(
            [
                pairwise_accuracy_score(
                    y[test][rows[test]], proba[name][test][rows[test]]
                )
                for _, test in folds
            ]
        )

    everything = np.ones(len(y), dtype=bool)
    for method in ("LEACE + BTL", "length adversary"):
        for subset, rows in (("all", everything), ("shorter preferred", shorter)):
            delta = fold_accuracy(method, rows) - fold_accuracy("BTL", rows)
            print(
                f"{method} - BTL, accuracy on {subset} pairs: "
                f"{100 * delta.mean():+.1f} ± "
                f"{100 * delta.std(ddof=1) / np.sqrt(len(delta)):.1f} points"
            )

    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    columns = ["accuracy", "shorter preferred", "longer preferred", "length rate"]
    shown = table.loc[list(proba), columns]
    width = 0.8 / len(shown)
    for i, (name, values) in enumerate(shown.iterrows()):
        ax.bar(np.arange(len(columns)) + i * width, 100 * values, width, label=name)
    ax.axhline(50, color="0.4", lw=1)
    ax.set(
        xticks=np.arange(len(columns)) + width * (len(shown) - 1) / 2,
        xticklabels=columns,
        ylabel="%",
        title="HH-RLHF helpful-base, held-out pairs (5-fold)",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()

# %%
# Reading the result
# ------------------
# The plain model barely beats the rule "prefer the longer response" and prefers
# the longer response more often than the labellers did. Erasing length from the
# embeddings brings its length-preference rate and length AMCE close to 0.5 and
# raises its accuracy where the shorter response was preferred, but lowers its
# accuracy over all pairs: on this data, where length is genuinely predictive of
# the label, the eraser costs more accuracy than it buys. Use it when the
# deployment distribution is one where length should not matter (for instance,
# pairs generated to differ in length only), not to raise the accuracy on data
# like the training data. The eraser removes linear information only; a deeper
# model could still recover length non-linearly from what is left.
#
# The length adversary is much weaker here: it lowers the length AMCE (the size
# of the model's probability shift towards longer responses) about as much as
# the eraser, but hardly changes which response the model prefers (its
# length-preference rate and its accuracy where the shorter response was
# preferred stay near the plain model's), and a linear probe still reads the
# length from its latent as well as from the plain model's. Maximising the
# discriminator's error through the reversal is not the same as removing what
# the latent says about length; see the measured comparison in the user guide.
