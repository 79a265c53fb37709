"""
============================================================
Confounding by user objectives: Base, Multihead, Adversarial
============================================================

The paper's Section 4 and Figure 6 on synthetic data. Every pair has a prompt
type ``t`` (think *helpful* vs *harmless* prompts), easy to read off the
embeddings, and is labelled under one labeller objective ``c`` with its own reward
``r_c``. ``ρ = P(t = c)`` sets the confounding: at ``ρ = 0.5`` prompt types and
objectives are independent; at ``ρ = 1`` every helpful prompt is judged for
helpfulness and every harmless one for harmlessness, the original HH-RLHF
situation (:func:`~skpref.datasets.make_confounded_preferences`).

A reward model trained on confounded data may learn "harmless-looking prompt ⇒
use the harmlessness reward" instead of reading the objective column. We ask the
paper's interventional question: how well does it predict the preferences of
objective ``c`` on prompts of the *other* type (the inconsistent pairs,
``t ≠ c``)? Three models, all on the same ``[a | b | c]`` features:

* **Base**: :class:`~skpref.BTLRewardRegressor` with ``with_objective=True``,
  the objective concatenated to the input (Figure 5a);
* **Multihead**: :class:`~skpref.MultiheadRewardModel`, a shared encoder and
  one reward head per objective (Figure 5b);
* **Adversarial**: :class:`~skpref.AdversarialRewardModel`, plus a
  discriminator trained through gradient reversal to remove the objective (and
  with it the prompt type) from the shared latent (Figure 5c, eq. 5).

One seed and small networks keep the example under a minute; the paper averages
five seeds of much larger models, so read the trends, not the third digit.
"""

import matplotlib.pyplot as plt
import pandas as pd
import torch

from skpref import AdversarialRewardModel, BTLRewardRegressor, MultiheadRewardModel
from skpref.datasets import make_confounded_preferences
from skpref.metrics import accuracy_by_group, consistency_groups

torch.set_num_threads(1)

N_FEATURES = 16
RHOS = [0.5, 0.9, 1.0]
COMMON = dict(
    hidden_dim=32, latent_dim=16, max_epochs=15, lr=1e-2, batch_size=256, random_state=0
)
MODELS = {
    "Base": BTLRewardRegressor(with_objective=True, **COMMON),
    "Multihead": MultiheadRewardModel(head_hidden_dim=16, **COMMON),
    "Adversarial": AdversarialRewardModel(
        head_hidden_dim=16, discriminator_hidden_dim=16, adversary_weight=1.0, **COMMON
    ),
}

# %%
# A test set without confounding
# ------------------------------
# Half of the test pairs are consistent (``t = c``), half inconsistent. The labels
# are the noise-free preferences under each pair's objective.

test = make_confounded_preferences(
    4000, n_features=N_FEATURES, rho=0.5, random_state=99
)
groups = consistency_groups(test.objective, test.prompt_type)

# %%
# Train at three levels of confounding
# ------------------------------------

rows = []
for rho in RHOS:
    train = make_confounded_preferences(
        1600, n_features=N_FEATURES, rho=rho, label_noise=0.1, random_state=1
    )
    for name, model in MODELS.items():
        model.fit(train.X, train.y)
        by_group = accuracy_by_group(
            test.y_true, model.predict_proba(test.X)[:, 1], groups
        )
        for _, row in by_group.iterrows():
            rows.append({"rho": rho, "model": name, **row.to_dict()})
results = pd.DataFrame(rows)
table = results.pivot_table(index="rho", columns=["group", "model"], values="accuracy")
print((100 * table).round(1).to_string())

# %%
# Figure 6 analogue
# -----------------
# Test accuracy on consistent (left) and inconsistent (right) pairs, with 95%
# Wilson intervals over test pairs.

fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for ax, group in zip(axes, ["consistent", "inconsistent"], strict=True):
    for name in MODELS:
        sel = results[(results.group == group) & (results.model == name)]
        ax.errorbar(
            sel.rho,
            100 * sel.accuracy,
            [100 * (sel.accuracy - sel.ci_lower), 100 * (sel.ci_upper - sel.accuracy)],
            marker="o",
            capsize=3,
            label=name,
        )
    ax.set(
        title=f"{group} test pairs (type(X) {'=' if group == 'consistent' else '≠'} C)",
        xlabel="ρ = P(type(X) = C) in training",
        xticks=RHOS,
    )
axes[0].set_ylabel("test accuracy [%]")
axes[1].legend()
fig.tight_layout()

# %%
# Reading the figure
# ------------------
# * On consistent pairs every model does well at every ``ρ``: that is the
#   training distribution.
# * At ``ρ = 1`` no inconsistent pair exists in training: overlap is violated and
#   the inconsistent accuracy drops for every model. No architecture can recover
#   preferences that the data never show;
#   :func:`~skpref.causal.objective_overlap_report` flags this situation before
#   any training (see the overlap example).
# * In between, the paper (five seeds, 512-wide networks on Llama-3-8B
#   embeddings) finds Multihead above Base and Adversarial above both on
#   inconsistent pairs, most clearly under strong confounding. With one seed and
#   tiny networks, differences of a point or two here are within noise; the
#   table above gives this run's numbers. The adversarial weight λ also trades
#   consistent against inconsistent accuracy (at ``ρ = 1`` hiding the objective
#   also hides the prompt type it equals), so choose it on out-of-distribution
#   folds rather than fixing it.

gap = table.loc[1.0, "consistent"] - table.loc[1.0, "inconsistent"]
print("consistent - inconsistent accuracy at rho = 1.0 (points):")
print((100 * gap).round(1).to_string())
