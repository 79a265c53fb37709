"""Overlap diagnostics: can the labeller's objective be told from the pair.

Overlap is positivity given the objective ``C`` (section 3.1, Example 1; section
3.2.1, "Confounding & Latent Overlap"): every kind of pair must have a chance to be
labelled under every objective.
"""

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from skpref.causal._positivity import latent_positivity_report
from skpref.causal._propensity import (
    default_propensity_model,
    propensity_trust_problems,
)
from skpref.causal._report import DiagnosticReport, OverlapWarning
from skpref.utils import (
    HasMethods,
    Interval,
    encode_objective_and_prompt_type,
    split_pairs,
    validate_params,
)

__all__ = ["assumption_report", "objective_overlap_report"]


_OVERLAP_CONSTRAINTS = {
    "prompt_type": ["array-like", None],
    "estimator": [HasMethods(["fit", "predict_proba"]), None],
    "cv": [Interval(numbers.Integral, 2, None, closed="left")],
    "auc_threshold": [Interval(numbers.Real, 0.5, 1, closed="both")],
    "objective_categories": ["array-like", None],
    "random_state": ["random_state"],
}


@validate_params(
    {
        **_OVERLAP_CONSTRAINTS,
        "X": ["array-like"],
        "extreme": [Interval(numbers.Real, 0, 0.5, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def objective_overlap_report(
    X,
    prompt_type=None,
    *,
    estimator=None,
    cv=5,
    auc_threshold=0.9,
    extreme=0.05,
    objective_categories=None,
    random_state=None,
):
    """How well the labeller's objective can be predicted from the pair features.

    A classifier (the propensity model) predicts the objective ``c`` (last column of
    ``X``, as in the pair contract) from the features of both responses; its
    cross-validated ROC AUC measures how far overlap is from holding: 0.5 means the
    pairs look the same under every objective, 1.0 means they can be told apart
    and a reward model can learn the objective from the text instead of the
    objective column. With the prompt types, the report also counts pairs per
    (prompt type, objective) stratum and gives ``P(t = c)``, the ``rho`` of
    Table 2.

    The AUC is only as good as the propensity model: a model that overfits gives
    confident out-of-fold propensities and an AUC near 0.5 whatever the data. The
    report therefore compares the model's out-of-fold log-loss with that of
    predicting each objective by its share, and reports a model more than 5%
    worse, or trained on fewer than 10 pairs of the rarest objective, as a
    problem ("cannot be trusted at this sample size") instead of finding none.

    Parameters
    ----------
    X : array-like of shape (n_pairs, 2 * d + 1)
        Pairs ``[response_a | response_b | objective]``.
    prompt_type : array-like of shape (n_pairs,), default=None
        Prompt type of each pair: an objective id in the coding of the objective
        column, or an objective name (with ``objective_categories``, or as a
        pandas Categorical whose categories are the coding).
    estimator : classifier, default=None
        Propensity model with ``predict_proba``. ``None`` standardises the
        features, keeps ``k`` principal components (one per 10 pairs of the rarest
        objective in a training fold, at most 64) and fits a logistic regression
        whose penalty is chosen by cross-validated log-loss.
    cv : int, default=5
        Number of stratified folds for the out-of-fold propensities.
    auc_threshold : float, default=0.9
        An :class:`OverlapWarning` is issued when the AUC reaches it.
    extreme : float, default=0.05
        Propensities below ``extreme`` or above ``1 - extreme`` count as extreme.
    objective_categories : array-like of str or None, default=None
        Objective names in id order, to read a ``prompt_type`` given by name.
    random_state : int, RandomState instance or None, default=None
        Seed of the fold assignment and of the default model's PCA.

    Returns
    -------
    report : DiagnosticReport
        Summary ``n_pairs``, ``n_objectives``, ``propensity_auc``,
        ``extreme_propensity_share``, ``propensity_log_loss`` and
        ``constant_log_loss`` (and ``rho`` with prompt types); tables
        ``objective_counts`` and, with prompt types, ``strata``.

    Warns
    -----
    OverlapWarning
        When the AUC reaches ``auc_threshold``, a stratum is empty, or the
        propensity model cannot be trusted.

    References
    ----------
    Peduzzi, P. et al. "A simulation study of the number of events per variable
    in logistic regression analysis", Journal of Clinical Epidemiology, 1996.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> c = rng.integers(0, 2, size=200)
    >>> X = np.column_stack([rng.normal(size=(200, 4)), c])
    >>> report = objective_overlap_report(X, random_state=0)
    >>> report["propensity_auc"] < 0.7, report.problems
    (True, [])
    """
    owner = "objective_overlap_report"
    X_a, X_b, objective = split_pairs(X, with_objective=True, owner=owner)
    features = np.hstack([X_a, X_b]).astype(np.float64)
    if not np.all(np.isfinite(features)):
        raise ValueError(f"{owner}: X contains NaN or infinite pair features.")
    levels, counts = np.unique(objective, return_counts=True)
    if levels.size < 2:
        raise ValueError(
            f"{owner} needs pairs labelled under at least 2 objectives; got only "
            f"objective {levels.tolist()}."
        )
    if counts.min() < cv:
        raise ValueError(
            f"{owner} needs at least cv={cv} pairs per objective for "
            f"cross-validation; objective {int(levels[counts.argmin()])} has "
            f"{int(counts.min())}. Lower cv or add pairs."
        )
    codes = np.searchsorted(levels, objective)
    folds = list(
        StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state).split(
            features, codes
        )
    )
    n_rarest = min(
        int(np.bincount(codes[train], minlength=levels.size).min())
        for train, _ in folds
    )
    if estimator is None:
        if n_rarest < 2:
            raise ValueError(
                f"{owner} needs at least 2 pairs of every objective in each "
                f"training fold to fit its propensity model; with cv={cv}, "
                f"objective {int(levels[counts.argmin()])} has {n_rarest}. Add "
                "pairs or lower cv."
            )
        estimator = default_propensity_model(
            features.shape[1], n_rarest, random_state=random_state
        )
    proba = cross_val_predict(
        estimator, features, codes, cv=folds, method="predict_proba"
    )
    if levels.size == 2:
        auc = float(roc_auc_score(codes, proba[:, 1]))
    else:
        auc = float(roc_auc_score(codes, proba, multi_class="ovr"))
    observed = proba[np.arange(codes.size), codes]
    extreme_share = float(np.mean((observed < extreme) | (observed > 1 - extreme)))
    problems, model_loss, constant_loss = propensity_trust_problems(
        codes, proba, n_rarest, features.shape[1]
    )
    if auc >= auc_threshold:
        problems.append(
            f"the objective can be predicted from the pair features with a "
            f"cross-validated ROC AUC of {auc:.3f} (>= auc_threshold="
            f"{auc_threshold}): overlap is violated, and a reward model can learn "
            "the objective from the text instead of from the objective column. "
            "Label the same kinds of prompts under every objective."
        )
    summary = {
        "n_pairs": int(objective.size),
        "n_objectives": int(levels.size),
        "propensity_auc": auc,
        "extreme_propensity_share": extreme_share,
        "propensity_log_loss": model_loss,
        "constant_log_loss": constant_loss,
    }
    tables = {
        "objective_counts": pd.DataFrame(
            {"n_pairs": counts}, index=pd.Index(levels, name="objective")
        )
    }
    if prompt_type is not None:
        objective, prompt_type, _ = encode_objective_and_prompt_type(
            objective, prompt_type, objective_categories, owner=owner
        )
        strata = pd.crosstab(
            pd.Series(prompt_type, name="prompt_type"),
            pd.Series(objective, name="objective"),
        )
        types = np.union1d(strata.index, levels)
        strata = strata.reindex(index=types, columns=levels, fill_value=0)
        summary["rho"] = float(np.mean(prompt_type == objective))
        tables["strata"] = strata
        for t in strata.index:
            for c in strata.columns:
                if strata.loc[t, c] == 0:
                    problems.append(
                        f"no pair of prompt type {t} is labelled under objective "
                        f"{c}: overlap is violated for that stratum, and "
                        "preferences there can only be extrapolated."
                    )
    for problem in problems:
        warnings.warn(problem, OverlapWarning, stacklevel=2)
    return DiagnosticReport("Objective overlap", summary, tables, problems)


@validate_params(
    {
        **_OVERLAP_CONSTRAINTS,
        "X": ["array-like", None],
        "delta": ["array-like", None],
        "factor_names": ["array-like", None],
        "min_informative": [Interval(numbers.Integral, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def assumption_report(
    X=None,
    *,
    delta=None,
    prompt_type=None,
    factor_names=None,
    min_informative=50,
    auc_threshold=0.9,
    cv=5,
    estimator=None,
    objective_categories=None,
    random_state=None,
):
    """One report of latent positivity and objective overlap, to print before fit.

    Runs :func:`latent_positivity_report` when ``delta`` is given and
    :func:`objective_overlap_report` when ``X`` (with its objective column) is
    given, and merges them; given both, ``X`` and ``delta`` describe the same
    pairs (one row each).

    Parameters
    ----------
    X : array-like of shape (n_pairs, 2 * d + 1), default=None
        Pairs with the objective id as last column.
    delta : array-like of shape (n_pairs, n_factors), default=None
        Latent factor differences of each pair (of the pairs of ``X``, when
        both are given).
    prompt_type : array-like of shape (n_pairs,), default=None
        Prompt type of each pair (needs ``X``).
    factor_names : list of str, default=None
        Names of the columns of ``delta``.
    min_informative : int, default=50
        See :func:`latent_positivity_report`.
    auc_threshold : float, default=0.9
        See :func:`objective_overlap_report`.
    cv : int, default=5
        See :func:`objective_overlap_report`.
    estimator : classifier, default=None
        See :func:`objective_overlap_report`.
    objective_categories : array-like of str or None, default=None
        See :func:`objective_overlap_report`.
    random_state : int, RandomState instance or None, default=None
        See :func:`objective_overlap_report`.

    Returns
    -------
    report : DiagnosticReport

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> delta = rng.normal(size=(300, 2))
    >>> print(assumption_report(delta=delta))  # doctest: +ELLIPSIS
    Causal assumptions
    ==================
    n_pairs                 300
    min_disagreement_share  0.5367
    ...
    No problems found.
    """
    if X is None and delta is None:
        raise ValueError(
            "assumption_report needs X (pairs with an objective column), delta "
            "(latent factor differences), or both; got neither."
        )
    if prompt_type is not None and X is None:
        raise ValueError(
            "assumption_report got prompt_type without X: the prompt types are "
            "compared with the objective column of X; pass X too."
        )
    if X is not None and delta is not None and len(X) != len(delta):
        raise ValueError(
            f"assumption_report got X with {len(X)} pairs and delta with "
            f"{len(delta)}; both describe the same pairs, one row each: pass the "
            "latent factor differences of the pairs of X."
        )
    reports = []
    if delta is not None:
        reports.append(
            latent_positivity_report(
                delta, factor_names=factor_names, min_informative=min_informative
            )
        )
    if X is not None:
        reports.append(
            objective_overlap_report(
                X,
                prompt_type,
                estimator=estimator,
                cv=cv,
                auc_threshold=auc_threshold,
                objective_categories=objective_categories,
                random_state=random_state,
            )
        )
    return DiagnosticReport.combine("Causal assumptions", reports)
