"""
=====================================================================
Spurious factors: the AMCE of length and politeness, by objective
=====================================================================

Reward models are known to reward length: a longer answer *looks* more helpful.
Before removing such a factor, measure it. Here on the HH-RLHF test pairs
relabelled by Siththaranjan et al. (2024) (every pair judged by GPT-3.5 under one
objective, *helpful* or *harmless*), three covariates of each response are
computed from its text with :func:`~skpref.covariates.pair_covariates`: its
length in words, its politeness markers and a user-defined feature (does it
apologise?). :class:`~skpref.causal.AMCEEstimator` then estimates the Average
Marginal Component Effect of each (eq. 6 of the paper), separately for each
objective (``by=``) and pooled.

Length is continuous, so its AMCE compares a response with the same response
50 words shorter: the probability that the longer one is preferred, averaged
over the responses (``step={"n_words": 50}``). 0.5 means no effect. The effects
are causal only if these covariates are all that moves the preference (latent
sufficiency), which they are not: read them as the effects *adjusted for* the
other covariates listed, nothing more.

The data are read from the data home (``$SKPREF_DATA_HOME``); without them the
example says so and stops.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch

from skpref import BTLRewardRegressor
from skpref.causal import AMCEEstimator
from skpref.covariates import pair_covariates
from skpref.datasets import get_data_home, load_relabeled_hh_rlhf, pair_features

torch.set_num_threads(1)

try:
    frame = load_relabeled_hh_rlhf(embeddings="all-MiniLM-L6-v2")
except FileNotFoundError as exc:
    frame = None
    print(
        f"The relabelled HH-RLHF data are not in the data home {get_data_home()}; "
        f"set SKPREF_DATA_HOME to run this example.\n{exc}"
    )

# %%
# Covariates of both responses of every pair
# -------------------------------------------
# Built-in covariates are named by strings; any function of a text is a
# covariate too. The result has the columns ``<name>_a ...`` then ``<name>_b
# ...``, from which the AMCE reads the factor names.


def apologises(text):
    lowered = text.lower()
    return float("sorry" in lowered or "apologi" in lowered)


if frame is not None:
    Z = pair_covariates(frame, ["n_words", "n_politeness_markers", apologises])
    print(Z.describe().loc[["mean", "std", "max"]].round(2).T)

# %%
# Effects by objective, from the labels
# -------------------------------------
# ``summary()`` prints the settings that define the estimand, then the table.

if frame is not None:
    steps = {"n_words": 50.0, "n_politeness_markers": 1.0}
    amce = AMCEEstimator(step=steps).fit(Z, frame["label"], by=frame["objective"])
    print(amce.summary())

# %%
# Under the helpfulness objective a response 50 words longer is preferred well
# above half the time; under harmlessness the shorter one is: the pooled effect,
# near 0.5, hides two opposite effects. A reward model trained on one objective
# inherits that objective's length preference.
#
# From a reward model's predictions
# ---------------------------------
# The same estimand on what a model learned: fit a multi-objective BTL model
# (objective as the last column) on half of the pairs, and pass its
# ``predict_proba(X)[:, 1]`` on the other half as soft outcomes. The intervals
# then describe the sampling of the evaluated pairs; the model is held fixed.

if frame is not None:
    X = pair_features(frame, with_objective=True)
    y = frame["label"].to_numpy()
    half = np.random.default_rng(0).permutation(len(frame)) < len(frame) // 2
    model = BTLRewardRegressor(
        with_objective=True,
        hidden_dim=64,
        latent_dim=32,
        max_epochs=15,
        lr=1e-3,
        random_state=0,
    ).fit(X[half], y[half])
    proba = model.predict_proba(X[~half])[:, 1]
    by = frame["objective"].to_numpy()[~half]
    from_model = AMCEEstimator(step=steps).fit(Z[~half], proba, by=by)
    from_labels = AMCEEstimator(step=steps).fit(Z[~half], y[~half], by=by)

    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    names = from_model.factor_names_
    positions = np.arange(len(names))
    series = [
        (source, objective, fitted)
        for source, fitted in (("labels", from_labels), ("model", from_model))
        for objective in fitted.groups_
    ]
    for shift, (source, objective, fitted) in zip(
        [-0.2, -0.07, 0.07, 0.2], series, strict=True
    ):
        g = int(np.flatnonzero(fitted.groups_ == objective)[0])
        effects = fitted.group_effects_[g]
        lower, upper = fitted.effect_interval(group=objective)
        ax.errorbar(
            positions + shift,
            effects,
            [effects - lower, upper - effects],
            fmt="o" if source == "labels" else "s",
            capsize=3,
            label=f"{source}, {objective}",
        )
    ax.axhline(0.5, color="0.6", lw=1)
    ax.set(
        xticks=positions,
        xticklabels=["+50 words", "+1 politeness marker", "apologises"],
        ylabel="AMCE  P(with ≻ without)",
        title="Held-out relabelled HH-RLHF pairs, 95% intervals",
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    print(from_model.summary_frame().round(3))

# %%
# Compare the squares with the circles. In this run the labels' length effects
# are opposite under the two objectives, while the model's are alike and mildly
# above 0.5 under both: with the objective as one more input column, it learned
# one length preference for every objective rather than one per objective. The
# AMCE of its predictions shows what it learned, which its accuracy does not.
# How far a model leans on length, and what removing length from the
# embeddings costs, is the subject of
# :ref:`sphx_glr_auto_examples_plot_length_control.py`.
