"""
===============================================
Checking positivity and overlap before training
===============================================

The paper's identification results need *latent positivity* (Assumption 5: every
combination of latent factors occurs) and, when labellers have objectives,
*overlap* (positivity given the objective: every kind of prompt is labelled under
every objective). Both are properties of the data, so they can be checked before
any model is trained, and when they fail no reward model can fix it.

:mod:`skpref.causal` has two diagnostics, merged by
:func:`~skpref.causal.assumption_report`:

* :func:`~skpref.causal.latent_positivity_report`, from the latent factor
  differences ``δ`` (known for synthetic data, or from annotated factors such as
  UltraFeedback's ratings): how many pairs have factor differences of opposite
  signs, the only pairs that separate the factors' effects;
* :func:`~skpref.causal.objective_overlap_report`, from the pair features and
  their objective column: how well a classifier predicts the labeller's
  objective from the text (cross-validated ROC AUC, 0.5 = perfect overlap), and
  the counts per (prompt type, objective) stratum.

Each emits a :class:`~skpref.causal.PositivityWarning` or
:class:`~skpref.causal.OverlapWarning` when an assumption is (nearly) violated.
"""

import warnings

import matplotlib.pyplot as plt

from skpref.causal import (
    OverlapWarning,
    PositivityWarning,
    assumption_report,
    latent_positivity_report,
    objective_overlap_report,
)
from skpref.datasets import make_confounded_preferences, make_latent_preferences

# %%
# Latent positivity
# -----------------
# Well-spread factors (``ρ = 0``) pass; nearly collinear ones (``ρ = 0.995``) leave
# only a handful of informative pairs and raise a warning.

ok = make_latent_preferences(1000, rho=0.0, random_state=0)
print(latent_positivity_report(ok.delta, factor_names=["truthful", "follows"]))

# %%

collinear = make_latent_preferences(1000, rho=0.995, random_state=0)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    report = latent_positivity_report(
        collinear.delta, factor_names=["truthful", "follows"]
    )
print(report)
print(f"\n{len(caught)} warning(s):", {type(w.message).__name__ for w in caught})
assert any(issubclass(w.category, PositivityWarning) for w in caught)

# %%
# Overlap of objectives
# ---------------------
# Confounded data: the prompt type, visible in the embeddings, agrees with the
# labeller's objective with probability ``ρ``. The propensity AUC grows with
# ``ρ``; at ``ρ = 1`` the strata "prompt type ``t`` judged under objective
# ``c ≠ t``" are empty and the report says so.

rhos = [0.5, 0.7, 0.9, 0.97, 1.0]
aucs = []
for rho in rhos:
    data = make_confounded_preferences(800, rho=rho, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverlapWarning)
        overlap = objective_overlap_report(data.X, data.prompt_type, random_state=0)
    aucs.append(overlap["propensity_auc"])
    print(
        f"rho={rho:<5} propensity AUC={overlap['propensity_auc']:.3f} "
        f"problems={len(overlap.problems)}"
    )

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(rhos, aucs, "o-")
ax.axhline(0.9, color="tab:red", ls="--", label="default auc_threshold")
ax.set(
    xlabel="ρ = P(type(X) = C)",
    ylabel="cross-validated ROC AUC",
    title="How predictable is the objective from the pair?",
    ylim=(0.45, 1.02),
)
ax.legend()
fig.tight_layout()

# %%
# The full report at ``ρ = 1``, as you would print it before fitting; the warning
# it raises is caught here only to show its class.

data = make_confounded_preferences(800, rho=1.0, random_state=0)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    report = assumption_report(data.X, prompt_type=data.prompt_type, random_state=0)
print(report)
assert any(issubclass(w.category, OverlapWarning) for w in caught)

# %%
# What to do with the answer
# --------------------------
# * Positivity warning: the factors' effects cannot be told apart from these
#   pairs; collect pairs where the factors disagree (targeted interventions), do
#   not expect a different architecture to help.
# * High propensity AUC with every stratum present: overlap holds but is weak;
#   :class:`~skpref.MultiheadRewardModel` and
#   :class:`~skpref.AdversarialRewardModel` are designed for this regime, and
#   :class:`~skpref.RhoStratifiedSplitter` builds out-of-distribution folds to
#   check them.
# * An empty stratum: overlap is violated; predictions for that (prompt type,
#   objective) combination are extrapolations that no method can validate from
#   these data.
