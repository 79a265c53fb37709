import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

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
    # 600 pairs: at 300 the plain logistic model's out-of-fold log-loss on noise
    # is 1.01-1.05 times the constant's, depending on the folds, too close to the
    # 5 % bar of "cannot be trusted"; at 600 it is 1.00-1.01.
    rng = np.random.default_rng(0)
    objective = rng.integers(0, 3, 600)
    X = np.column_stack([rng.normal(size=(600, 4)), objective])
    report = objective_overlap_report(
        X, estimator=LogisticRegression(), cv=3, random_state=0
    )
    assert report["n_objectives"] == 3
    assert 0.35 < report["propensity_auc"] < 0.65
    assert report.problems == []
    # a 10-tree forest gives 0/1 out-of-fold propensities: not to be trusted
    forest = RandomForestClassifier(n_estimators=10, random_state=0)
    with pytest.warns(OverlapWarning, match="cannot be trusted at this sample size"):
        report = objective_overlap_report(X, estimator=forest, cv=3, random_state=0)
    assert report["propensity_log_loss"] > 1.05 * report["constant_log_loss"]


def wide_random_pairs(n=200, width=768, seed=0):
    """Embedding-sized features that say nothing about the objective."""
    rng = np.random.default_rng(seed)
    objective = rng.integers(0, 2, n)
    return np.column_stack([rng.normal(size=(n, width)), objective])


def test_wide_features_are_not_overfitted_by_the_default_model():
    # issue 10: 200 pairs of 769 columns gave an AUC of 0.49, 51 % extreme
    # propensities, then "No problems found"
    X = wide_random_pairs()
    overfit = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    with pytest.warns(OverlapWarning, match="cannot be trusted at this sample size"):
        bad = objective_overlap_report(X, estimator=overfit, random_state=0)
    assert bad["extreme_propensity_share"] > 0.15
    assert "No problems found" not in str(bad)
    good = objective_overlap_report(X, random_state=0)
    assert good.problems == [] and good["extreme_propensity_share"] == 0.0
    assert good["propensity_log_loss"] < 1.05 * good["constant_log_loss"]


def test_the_default_model_still_sees_a_predictable_objective_in_wide_features():
    # like sentence embeddings, the features vary mostly along a few directions,
    # and the objective follows one of them
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(200, 4))
    features = latent @ rng.normal(size=(4, 768)) + 0.5 * rng.normal(size=(200, 768))
    X = np.column_stack([features, latent[:, 1] > 0])
    with pytest.warns(OverlapWarning, match="overlap is violated"):
        report = objective_overlap_report(X, random_state=0)
    assert report["propensity_auc"] > 0.95


def test_too_few_pairs_to_trust_the_propensity_model():
    X = wide_random_pairs(n=20, width=4, seed=1)
    X[:, -1] = np.repeat([0, 1], 10)
    with pytest.warns(OverlapWarning, match="holds only 8 pairs of the rarest"):
        report = objective_overlap_report(X, random_state=0)
    assert "No problems found" not in str(report)


def test_prompt_types_by_name_share_the_objective_coding():
    features, objective = random_pairs(400)
    X = np.column_stack([features, objective])
    prompt_type = np.where(np.arange(400) < 300, objective, 1 - objective)
    by_id = objective_overlap_report(X, prompt_type, random_state=0)
    names = np.array(["helpful", "harmless"])[prompt_type]
    by_name = objective_overlap_report(
        X, names, objective_categories=["helpful", "harmless"], random_state=0
    )
    categorical = pd.Categorical(names, categories=["helpful", "harmless"])
    by_categorical = objective_overlap_report(X, categorical, random_state=0)
    for report in (by_name, by_categorical):
        assert report["rho"] == by_id["rho"] == pytest.approx(0.75)
        pd.testing.assert_frame_equal(report["strata"], by_id["strata"])


@pytest.mark.slow
def test_real_embeddings_propensities(data_home):
    # 200 MiniLM-embedded HH-RLHF pairs, the case of issue 10
    from skpref.datasets import load_relabeled_hh_rlhf, pair_features

    frame = load_relabeled_hh_rlhf(
        "both",
        "test",
        data_home=data_home,
        random_state=0,
        embeddings="all-MiniLM-L6-v2",
    )
    rows = np.random.default_rng(0).choice(len(frame), 200, replace=False)
    X = pair_features(frame.iloc[rows], with_objective=True)
    report = objective_overlap_report(X, random_state=0)
    assert report.problems == [] and report["extreme_propensity_share"] < 0.05
    assert report["propensity_log_loss"] < 1.05 * report["constant_log_loss"]
    # labelled by prompt type (rho = 1): the prompts give the objective away
    X[:, -1] = frame["prompt_type_id"].to_numpy()[rows]
    report = objective_overlap_report(X, auc_threshold=1.0, random_state=0)
    assert report["propensity_auc"] > 0.8


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
