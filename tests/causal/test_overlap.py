import numpy as np
import pandas as pd
import pytest

from skpref.causal import (
    DiagnosticReport,
    OverlapWarning,
    PositivityWarning,
    assumption_report,
    objective_overlap_report,
)
from skpref.datasets import make_confounded_preferences


def random_pairs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    objective = rng.integers(0, 2, n)
    return rng.normal(size=(n, 6)), objective


def test_random_objective_has_overlap():
    features, objective = random_pairs()
    report = objective_overlap_report(
        np.column_stack([features, objective]), random_state=0
    )
    assert 0.35 < report["propensity_auc"] < 0.65
    assert report["extreme_propensity_share"] < 0.05
    assert report.problems == []
    counts = report["objective_counts"]["n_pairs"]
    assert counts.tolist() == np.bincount(objective).tolist()


def test_predictable_objective_violates_overlap():
    features, _ = random_pairs()
    objective = (features[:, 0] + features[:, 3] > 0).astype(int)
    with pytest.warns(OverlapWarning, match=r"ROC AUC of 0\.9\d+ \(>= auc_threshold"):
        report = objective_overlap_report(
            np.column_stack([features, objective]), random_state=0
        )
    assert report["propensity_auc"] > 0.95
    assert report["extreme_propensity_share"] > 0.2


def test_confounded_dataset_auc_tracks_rho():
    # rho = 1: the objective is the prompt type, which the features show
    aucs = {}
    for rho in (0.5, 1.0):
        data = make_confounded_preferences(
            n_pairs=600, n_features=8, rho=rho, random_state=0
        )
        if rho == 1.0:
            with pytest.warns(OverlapWarning):
                report = objective_overlap_report(
                    data.X, data.prompt_type, random_state=0
                )
        else:
            report = objective_overlap_report(data.X, data.prompt_type, random_state=0)
        aucs[rho] = report["propensity_auc"]
        assert report["rho"] == pytest.approx(
            np.mean(data.prompt_type == data.objective)
        )
    assert aucs[0.5] < 0.65 < 0.9 < aucs[1.0]


def test_strata_counts_and_empty_stratum_warning():
    features, objective = random_pairs(400)
    prompt_type = objective.copy()
    prompt_type[:50] = 1 - objective[:50]
    prompt_type[objective == 1] = 1  # objective 1 never sees prompt type 0
    X = np.column_stack([features, objective])
    with pytest.warns(OverlapWarning, match="no pair of prompt type 0 is labelled"):
        report = objective_overlap_report(X, prompt_type, random_state=0)
    expected = pd.crosstab(prompt_type, objective)
    np.testing.assert_array_equal(report["strata"].to_numpy(), expected.to_numpy())
    assert report["strata"].loc[0, 1] == 0
    assert report["rho"] == pytest.approx(np.mean(prompt_type == objective))


def test_custom_estimator_and_multiclass():
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(0)
    objective = rng.integers(0, 3, 300)
    X = np.column_stack([rng.normal(size=(300, 4)), objective])
    report = objective_overlap_report(
        X, estimator=RandomForestClassifier(n_estimators=10, random_state=0), cv=3
    )
    assert report["n_objectives"] == 3
    assert 0.35 < report["propensity_auc"] < 0.65


def test_overlap_errors():
    features, objective = random_pairs(40)
    with pytest.raises(ValueError, match="at least 2 objectives; got only"):
        objective_overlap_report(np.column_stack([features, np.zeros(40)]))
    few = objective.copy()
    few[:] = 0
    few[:3] = 1
    with pytest.raises(ValueError, match="objective 1 has 3. Lower cv"):
        objective_overlap_report(np.column_stack([features, few]))
    X = np.column_stack([features, objective])
    with pytest.raises(ValueError, match="prompt_type has 3 entries but X has 40"):
        objective_overlap_report(X, prompt_type=[0, 1, 0])
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite pair features"):
        objective_overlap_report(X_nan)
    with pytest.raises(ValueError, match="expects X of shape"):
        objective_overlap_report(X[:, 1:])


def test_assumption_report_combines_both():
    rng = np.random.default_rng(0)
    features, objective = random_pairs(300)
    delta = rng.normal(size=(300, 2))
    report = assumption_report(
        np.column_stack([features, objective]),
        delta=delta,
        prompt_type=np.where(rng.random(300) < 0.7, objective, 1 - objective),
        random_state=0,
    )
    assert isinstance(report, DiagnosticReport)
    for key in ("min_disagreement_share", "propensity_auc", "rho", "strata"):
        assert key in report
    text = str(report)
    assert text.startswith("Causal assumptions")
    assert "propensity_auc" in text and "No problems found." in text


def test_assumption_report_collects_warnings_as_problems():
    rng = np.random.default_rng(0)
    delta = np.repeat(rng.normal(size=(100, 1)), 2, axis=1)  # identical factors
    with pytest.warns(PositivityWarning):
        report = assumption_report(delta=delta)
    assert "Problems:" in str(report) and len(report.problems) >= 1


def test_assumption_report_errors():
    with pytest.raises(ValueError, match="got neither"):
        assumption_report()
    with pytest.raises(ValueError, match="prompt_type without X"):
        assumption_report(delta=np.zeros((4, 2)), prompt_type=[0, 1, 0, 1])
