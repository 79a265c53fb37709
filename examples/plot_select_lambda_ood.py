"""
Selecting the adversary weight λ on out-of-distribution folds
=============================================================

The adversarial reward model (paper, section 4.1, eq. 5) has one knob, the weight λ
of its adversarial loss. Chosen on ordinary cross-validation folds, λ is tuned for
the training distribution, where the prompt type and the labeller's objective are
confounded. What we care about is the opposite case: pairs whose prompt type and
objective *disagree* (Table 2's "inconsistent" pairs).

:class:`~skpref.RhoStratifiedSplitter` builds exactly those folds: training pairs
with ``P(type = objective) = rho`` and equal counts per objective, test pairs that
are all inconsistent. Passed as ``cv=`` to
:class:`~sklearn.model_selection.GridSearchCV`, it selects λ for robustness to the
confounding.
"""

# %%
# Confounded data
# ---------------
# A synthetic version of the HH-RLHF case study: two objectives, two prompt types,
# and the objective id in the last column of ``X`` (the pair contract). We keep a
# pool with both consistent and inconsistent pairs; the splitter picks the mix.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV

from skpref import AdversarialRewardModel, RhoStratifiedSplitter
from skpref.causal import objective_overlap_report
from skpref.datasets import make_confounded_preferences

data = make_confounded_preferences(n_pairs=1200, n_features=8, rho=0.5, random_state=0)
print(data.X.shape, np.mean(data.prompt_type == data.objective))

# %%
# Before training: how confounded would the training folds be?
# ------------------------------------------------------------
# On the pool, the objective is independent of the pair (AUC near 0.5). The
# training folds will have ``rho = 0.9``: nine pairs in ten have the prompt type of
# their objective.
print(objective_overlap_report(data.X, data.prompt_type, random_state=0))

# %%
# Out-of-distribution folds
# -------------------------
# Two repetitions, each with 300 training pairs at ``rho = 0.9`` (150 per
# objective) and every remaining inconsistent pair as test set. The prompt types
# follow the rows of ``X`` as ``groups`` (or, with metadata routing enabled, as
# ``prompt_type=``).
cv = RhoStratifiedSplitter(
    mode="confounding",
    rho=0.9,
    n_splits=2,
    train_size=300,
    test="inconsistent",
    random_state=0,
)

model = AdversarialRewardModel(
    hidden_dim=32,
    latent_dim=16,
    head_hidden_dim=16,
    discriminator_hidden_dim=16,
    max_epochs=5,
    lr=1e-2,
    validation_fraction=None,
    random_state=0,
)
grid = {"adversary_weight": [0.0, 0.5, 2.0]}
search = GridSearchCV(model, grid, cv=cv, refit=False)
search.fit(data.X, data.y, groups=data.prompt_type)
print(cv.split_info(data.X, prompt_type=data.prompt_type))
print("selected:", search.best_params_)

# %%
# Accuracy on inconsistent pairs against λ
# ----------------------------------------
results = pd.DataFrame(search.cv_results_)
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.errorbar(
    results["param_adversary_weight"].astype(float),
    results["mean_test_score"],
    yerr=results["std_test_score"],
    marker="o",
    capsize=3,
)
ax.set_xscale("symlog", linthresh=0.5)
ax.set_xlabel("adversary weight λ")
ax.set_ylabel("accuracy on inconsistent pairs")
ax.set_title("λ selected on out-of-distribution folds")
fig.tight_layout()
plt.show()
