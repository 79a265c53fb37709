"""covariate_leakage: how much of a covariate a fitted model still carries."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError

from skpref import BTLRewardRegressor, RewardEnsemble
from skpref.invariance import Decorrelation
from skpref.metrics import LeakageReport, covariate_leakage
from skpref.metrics._leakage import _auc, _pooled_correlation, _r2
from skpref.preprocessing import LinearConceptEraser

matplotlib.use("Agg")

MODEL = {
    "hidden_dim": 16,
    "latent_dim": 8,
    "max_epochs": 5,
    "lr": 1e-2,
    "device": "cpu",
    "random_state": 0,
}
FAST = {"n_resamples": 200, "random_state": 0}


def _pairs(n_pairs, *, seed, n_features=6):
    """Pairs whose feature 0 is the length, which (with feature 1) drives the label."""
    rng = np.random.default_rng(seed)
    E = rng.normal(size=(2, n_pairs, n_features))
    logit = 2.0 * (E[0, :, 0] - E[1, :, 0]) + (E[0, :, 1] - E[1, :, 1])
    y = (rng.random(n_pairs) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    X = np.hstack([E[0], E[1]]).astype(np.float32)
    return X, y, np.column_stack([E[0, :, 0], E[1, :, 0]])


@pytest.fixture(scope="module")
def data():
    return _pairs(600, seed=0), _pairs(200, seed=1)


@pytest.fixture(scope="module")
def plain(data):
    (X, y, _), _ = data
    return BTLRewardRegressor(**MODEL).fit(X, y)


@pytest.fixture(scope="module")
def invariant(data):
    (X, y, length), _ = data
    model = BTLRewardRegressor(invariance=Decorrelation(weight=1.0), **MODEL)
    return model.fit(X, y, covariates=length)


@pytest.fixture(scope="module")
def plain_report(plain, data):
    _, (X_test, _, length_test) = data
    return covariate_leakage(plain, X_test, length_test, **FAST)


def test_a_model_that_learned_the_length_leaks_it(plain_report):
    table = plain_report.table
    assert table.index.tolist() == [
        "reward_r2",
        "reward_auc",
        "reward_corr",
        "representation_r2",
        "representation_auc",
    ]
    assert table.columns.tolist() == ["estimate", "low", "high", "n", "chance"]
    assert table.loc["reward_r2", "estimate"] > 0.5
    assert table.loc["reward_auc", "estimate"] > 0.85
    assert table.loc["reward_corr", "estimate"] > 0.7
    assert table.loc["representation_r2", "estimate"] > 0.5
    # every interval holds its estimate and excludes chance
    assert (table["low"] <= table["estimate"]).all()
    assert (table["estimate"] <= table["high"]).all()
    assert (table["low"] > table["chance"]).all()
    assert table["n"].tolist() == [200] * 5
    assert table["chance"].tolist() == [0.0, 0.5, 0.0, 0.0, 0.5]
    assert plain_report.skipped == {}


def test_decorrelation_keeps_the_length_out_of_the_rewards(
    plain_report, invariant, data
):
    _, (X_test, _, length_test) = data
    table = covariate_leakage(invariant, X_test, length_test, **FAST).table
    plain = plain_report.table
    # the penalty is on the correlation of the rewards with the length: on held-out
    # pairs it is below the plain model's whole interval, and so is the R²
    assert abs(table.loc["reward_corr", "estimate"]) < plain.loc["reward_corr", "low"]
    assert table.loc["reward_corr", "estimate"] < 0.3
    assert table.loc["reward_r2", "high"] < plain.loc["reward_r2", "low"]
    assert table.loc["reward_auc", "low"] < 0.5 < table.loc["reward_auc", "high"]


def test_the_statistics_are_the_usual_ones():
    rng = np.random.default_rng(0)
    truth, prediction = rng.normal(size=(2, 30))
    assert _r2(truth, prediction) == pytest.approx(r2_score(truth, prediction))
    constant = np.ones(30)  # r2_score's finite values: imperfect 0, perfect 1
    assert _r2(constant, prediction) == r2_score(constant, prediction) == 0.0
    assert _r2(constant, constant) == r2_score(constant, constant) == 1.0
    positive, negative = rng.integers(0, 5, size=12), rng.integers(0, 5, size=9)
    labels = np.r_[np.ones(12), np.zeros(9)]
    assert _auc(positive, negative) == pytest.approx(
        roc_auc_score(labels, np.r_[positive, negative])
    )
    r_a, r_b, c_a, c_b = rng.normal(size=(4, 20))
    pooled = np.corrcoef(np.r_[r_a, r_b], np.r_[c_a, c_b])[0, 1]
    assert _pooled_correlation(r_a, r_b, c_a, c_b) == pytest.approx(pooled)
    # along the last axis, one value per resample, as scipy.stats.bootstrap asks
    batch = np.vstack([positive, positive[::-1]])
    assert _auc(batch, np.vstack([negative, negative])).shape == (2,)


def test_a_seed_gives_the_same_report(plain, data):
    _, (X_test, _, length_test) = data
    first = covariate_leakage(plain, X_test, length_test, **FAST).table
    again = covariate_leakage(plain, X_test, length_test, **FAST).table
    pd.testing.assert_frame_equal(first, again)
    other = covariate_leakage(
        plain, X_test, length_test, n_resamples=200, random_state=1
    ).table
    assert not np.allclose(first["low"], other["low"])
    # the estimates of correlation need no folds: the seed leaves them alone
    assert other.loc["reward_corr", "estimate"] == first.loc["reward_corr", "estimate"]


def test_an_eraser_leaves_no_length_in_held_out_pairs():
    rng = np.random.default_rng(0)

    def pairs(n_pairs):
        # integer lengths: some pairs tie, and the AUCs leave them out
        length = rng.integers(5, 60, size=(n_pairs, 2)).astype(float)
        E = rng.normal(size=(2, n_pairs, 5))
        E[..., 0] += length.T / 5
        E[..., 1] -= length.T / 10
        return np.hstack([E[0], E[1]]), length

    (X, length), (X_held_out, length_held_out) = pairs(400), pairs(200)
    eraser = LinearConceptEraser().fit(X, concept=length)
    erased = covariate_leakage(eraser, X_held_out, length_held_out, **FAST)
    raw = covariate_leakage(FunctionTransformer(), X_held_out, length_held_out, **FAST)
    assert erased.table.index.tolist() == ["representation_r2", "representation_auc"]
    assert set(erased.skipped) == {"reward_r2", "reward_auc", "reward_corr"}
    assert raw.table.loc["representation_r2", "estimate"] > 0.8
    assert raw.table.loc["representation_auc", "estimate"] > 0.9
    assert abs(erased.table.loc["representation_r2", "estimate"]) < 0.05
    assert erased.table.loc["representation_auc", "low"] < 0.5
    ties = int(np.sum(length_held_out[:, 0] == length_held_out[:, 1]))
    assert ties > 0
    assert erased.table["n"].tolist() == [200, 200 - ties]


def test_estimators_without_latents_or_rewards_skip_those_rows(plain, data):
    (X, y, _), (X_test, _, length_test) = data
    pipeline = Pipeline([("model", plain)])
    report = covariate_leakage(pipeline, X_test, length_test, **FAST)
    assert report.table.index.tolist() == ["reward_r2", "reward_auc"]
    assert report.skipped == {
        "reward_corr": "Pipeline has no predict_reward",
        "representation_r2": "Pipeline has no predict_latent",
        "representation_auc": "Pipeline has no predict_latent",
    }
    # the rows it has are the model's own
    pd.testing.assert_frame_equal(
        report.table, covariate_leakage(plain, X_test, length_test, **FAST).table[:2]
    )
    ensemble = RewardEnsemble(
        BTLRewardRegressor(**{**MODEL, "max_epochs": 2}), n_members=2, random_state=0
    ).fit(X, y)
    report = covariate_leakage(ensemble, X_test, length_test, **FAST)
    assert report.table.index.tolist() == ["reward_r2", "reward_auc", "reward_corr"]
    assert "representation_r2" in repr(report)


def test_multi_objective_pairs_pass_the_objective_with_each_response(data):
    (X, y, _), (X_test, _, length_test) = data
    objective = np.arange(len(X)) % 2
    model = BTLRewardRegressor(with_objective=True, **{**MODEL, "max_epochs": 2})
    model.fit(np.column_stack([X, objective]), y)
    X_test = np.column_stack([X_test, np.arange(len(X_test)) % 2])
    table = covariate_leakage(model, X_test, length_test, **FAST).table
    d = X.shape[1] // 2
    E = np.vstack([np.column_stack([X_test[:, :d], X_test[:, -1]]),
                   np.column_stack([X_test[:, d:-1], X_test[:, -1]])])  # fmt: skip
    expected = np.corrcoef(model.predict_reward(E), length_test.T.ravel())[0, 1]
    assert table.loc["reward_corr", "estimate"] == pytest.approx(expected)
    assert len(table) == 5


def test_covariates_by_name_in_a_table(plain, data, plain_report):
    _, (X_test, _, length_test) = data
    frame = pd.DataFrame(length_test * 40 + 100, columns=["n_words_a", "n_words_b"])
    report = covariate_leakage(plain, X_test, frame, covariate="n_words", **FAST)
    # any unit: the same report
    pd.testing.assert_frame_equal(report.table, plain_report.table)
    assert report.covariate == "n_words"


def test_the_report_prints_and_plots(plain_report):
    assert isinstance(plain_report, LeakageReport)
    with pytest.raises(AttributeError):
        plain_report.covariate = "other"  # frozen
    text = repr(plain_report)
    assert text.splitlines()[0] == "LeakageReport of 'length'"
    assert "reward_r2" in text and "95% CI" in text
    markdown = plain_report.to_markdown().splitlines()
    assert markdown[0] == "| measure | estimate | 95% CI | n | chance |"
    r2 = plain_report.table.loc["reward_r2"]
    assert markdown[2] == (
        f"| reward_r2 | {r2.estimate:.3f} | [{r2.low:.3f}, {r2.high:.3f}] | 200 "
        "| 0.000 |"
    )
    import matplotlib.pyplot as plt

    ax = plain_report.plot()
    try:
        assert ax.get_xlabel() == "leakage of 'length' on held-out pairs"
        assert ax.get_ylabel() == "measure"
        labels = {
            int(position): tick.get_text()
            for position, tick in zip(
                ax.get_yticks(), ax.get_yticklabels(), strict=True
            )
        }
        # the first measure on top
        assert [labels[k] for k in (4, 3, 2, 1, 0)] == plain_report.table.index.tolist()
        # the interval's bar spans low..high of the top row
        (bars,) = [c for c in ax.collections if isinstance(c, LineCollection)]
        top = np.asarray(bars.get_segments())[0][:, 0]
        assert top == pytest.approx(r2[["low", "high"]].to_numpy(float))
    finally:
        plt.close(ax.figure)


class _Margins(BaseEstimator):
    """A fitted stand-in for a reward model: ``decision_function`` only."""

    def __init__(self, n_pair_features=6, shape=None, reward=None):
        self.n_pair_features = n_pair_features
        self.shape = shape
        self.reward = reward

    def fit(self, X, y=None):
        self.n_pair_features_ = self.n_pair_features
        return self

    def decision_function(self, X):
        margin = np.asarray(X)[:, 0] - np.asarray(X)[:, 6]
        return margin if self.shape is None else margin.reshape(self.shape)

    def predict_reward(self, E):
        E = np.asarray(E)
        return E[:, 0] if self.reward is None else np.full(len(E), self.reward)


def test_constant_rewards_have_no_correlation_and_no_interval(data):
    _, (X_test, _, length_test) = data
    report = covariate_leakage(
        _Margins(reward=1.0).fit(None), X_test, length_test, **FAST
    )
    corr = report.table.loc["reward_corr"]
    assert np.isnan(corr[["estimate", "low", "high"]].to_numpy(float)).all()
    assert "| reward_corr | nan | [nan, nan] | 200 | 0.000 |" in report.to_markdown()
    # the margins are feature 0 of a minus that of b: the length difference itself
    assert report.table.loc["reward_r2", "estimate"] == pytest.approx(1.0, abs=1e-3)
    # pooled out-of-fold probabilities of five probes: nearly, not exactly, 1
    assert report.table.loc["reward_auc", "estimate"] > 0.99


@pytest.mark.parametrize(
    ("make", "covariates", "error", "match"),
    [
        (
            lambda: BTLRewardRegressor(),
            None,
            NotFittedError,
            "This BTLRewardRegressor instance is not fitted yet",
        ),
        (
            lambda: FunctionTransformer(),
            lambda length: length[:150],
            ValueError,
            "covariate_leakage got covariates for 150 pairs but X has 200 pairs",
        ),
        (
            lambda: FunctionTransformer(),
            lambda length: np.where(np.arange(200)[:, None] == 7, np.nan, length),
            ValueError,
            "covariate_leakage: the covariate 'length' is NaN or infinite for pair 7",
        ),
        (
            lambda: FunctionTransformer(),
            lambda length: np.ones_like(length),
            ValueError,
            "covariate_leakage: the covariate 'length' is constant",
        ),
        (
            lambda: FunctionTransformer(),
            lambda length: length[:, 0],
            ValueError,
            "same for both responses of every pair",
        ),
        (
            lambda: FunctionTransformer(),
            lambda length: np.where(length > 0, "long", "short"),
            ValueError,
            "measures a numeric covariate .* such as 'long'",
        ),
        (
            lambda: FunctionTransformer(),
            lambda length: pd.DataFrame(length, columns=["size_a", "size_b"]),
            ValueError,
            "the covariate 'length' is not in covariates",
        ),
        (
            lambda: _Margins(n_pair_features=2).fit(None),
            None,
            ValueError,
            "covariate_leakage expects X of shape .* got 12 columns for responses "
            "of 2 features",
        ),
        (
            lambda: _Margins(shape=(-1, 1)).fit(None),
            None,
            ValueError,
            r"_Margins.decision_function\(X\) to give one finite reward difference "
            r"per pair, 200 of them; got shape \(200, 1\)",
        ),
    ],
)
def test_errors_name_the_argument(data, make, covariates, error, match):
    _, (X_test, _, length_test) = data
    covariates = length_test if covariates is None else covariates(length_test)
    with pytest.raises(error, match=match):
        covariate_leakage(make(), X_test, covariates, **FAST)


def test_resamples_of_one_covariate_difference_keep_the_interval_finite():
    # 7 of 10 differences are +1: 2.8 % of resamples draw only those; their R²
    # is r2_score's 0, not -inf (which made scipy warn and the interval infinite)
    X = np.random.default_rng(0).normal(size=(10, 12))
    length = np.c_[np.r_[np.ones(7), -np.ones(3)], np.zeros(10)]
    report = covariate_leakage(_Margins().fit(None), X, length, cv=3, **FAST)
    r2 = report.table.loc["reward_r2", ["estimate", "low", "high"]].to_numpy(float)
    assert np.isfinite(r2).all()
    assert r2[1] <= r2[0] <= r2[2]


def test_too_few_pairs_for_the_folds():
    X = np.random.default_rng(0).normal(size=(12, 4))
    length = np.c_[np.arange(12.0), np.r_[np.zeros(8), np.full(4, 20.0)]]
    with pytest.raises(
        ValueError, match=r"cv=5 folds.* got 7 and 4 \(of 12 pairs\).* smaller cv"
    ):
        covariate_leakage(FunctionTransformer(), X, length)
    report = covariate_leakage(FunctionTransformer(), X, length, cv=3, **FAST)
    assert report.table["n"].tolist() == [12, 11]


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"cv": 1}, "The 'cv' parameter of covariate_leakage must be"),
        ({"n_resamples": 5}, "The 'n_resamples' parameter"),
        ({"confidence_level": 1.0}, "The 'confidence_level' parameter"),
        ({"estimator": object()}, "The 'estimator' parameter .* 'decision_function'"),
    ],
)
def test_parameters_are_validated(data, arguments, match):
    _, (X_test, _, length_test) = data
    arguments = {"estimator": FunctionTransformer(), **arguments}
    with pytest.raises(InvalidParameterError, match=match):
        covariate_leakage(X=X_test, covariates=length_test, **arguments)


def test_a_higher_level_gives_a_wider_interval(data):
    _, (X_test, _, length_test) = data
    raw = FunctionTransformer()
    at = {
        level: covariate_leakage(
            raw, X_test, length_test, confidence_level=level, **FAST
        ).table.loc["representation_r2"]
        for level in (0.8, 0.99)
    }
    assert at[0.99]["low"] < at[0.8]["low"] < at[0.8]["high"] < at[0.99]["high"]
