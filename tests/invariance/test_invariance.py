"""The invariance terms: their defining property on a planted spurious covariate,
the plain model at weight 0, searches, stacks, persistence and bad input."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skpref
from skpref import (
    AdversarialRewardModel,
    BTLRewardRegressor,
    MultiheadRewardModel,
    RewardEnsemble,
)
from skpref.covariates import pair_covariates
from skpref.invariance import (
    MMD,
    ConditionalMMD,
    Decorrelation,
    OrthogonalHeads,
    ProductOfExperts,
)
from skpref.invariance._experts import bias_only_coefficient
from skpref.metrics import make_covariate_scorers
from skpref.model_selection import CovariateShiftSplitter, within_best
from skpref.models import fit_together

D = 6
SMALL = {"hidden_dim": 16, "latent_dim": 8, "max_epochs": 2, "device": "cpu"}


def planted(n_pairs, rho, seed):
    """Pairs whose label follows feature 1; feature 0 (the "length") is spurious.

    Pairs are drawn so that the response with the larger feature 0 is the
    preferred one in a share ``rho`` of them: in training (``rho`` high) the
    length predicts the label without causing it.
    """
    rng = np.random.default_rng(seed)
    pool = 4 * n_pairs
    A, B = rng.normal(size=(pool, D)), rng.normal(size=(pool, D))
    y = (A[:, 1] - B[:, 1] + 0.5 * rng.normal(size=pool) > 0).astype(int)
    agrees = (A[:, 0] > B[:, 0]) == (y == 1)
    n_agree = int(rho * n_pairs)
    rows = np.r_[
        rng.choice(np.flatnonzero(agrees), n_agree, replace=False),
        rng.choice(np.flatnonzero(~agrees), n_pairs - n_agree, replace=False),
    ]
    rng.shuffle(rows)
    X = np.hstack([A[rows], B[rows]]).astype(np.float32)
    return X, y[rows], np.column_stack([A[rows, 0], B[rows, 0]])


@pytest.fixture(scope="module")
def shifted():
    """Training pairs where the longer response wins 85 % of the time; test pairs
    where it wins 15 % of the time."""
    return planted(1000, 0.85, 0), planted(1000, 0.15, 1)


def effects(model, X):
    """The reward's linear effects of the spurious and of the true feature."""
    E = np.vstack([X[:, :D], X[:, D:]])
    design = np.column_stack([E[:, 0], E[:, 1], np.ones(len(E))])
    coefficients = np.linalg.lstsq(design, model.predict_reward(E), rcond=None)[0]
    return coefficients[0], coefficients[1]


@pytest.mark.parametrize(
    ("invariance", "weights"),
    [
        (Decorrelation, (0.1, 0.3)),
        (OrthogonalHeads, (0.03, 0.1)),
        (MMD, (0.3, 1.0)),
        (ConditionalMMD, (0.1, 0.3)),
        (ProductOfExperts, (0.5, 1.0)),
    ],
)
def test_the_planted_covariate_loses_its_effect_as_the_weight_grows(
    shifted, invariance, weights
):
    (X, y, length), (X_test, y_test, _) = shifted
    ratios, accuracies = [], []
    for weight in (0.0, *weights):
        model = BTLRewardRegressor(
            invariance=invariance(weight),
            hidden_dim=32,
            latent_dim=16,
            max_epochs=10,
            lr=1e-3,
            device="cpu",
            random_state=0,
        ).fit(X, y, covariates=length)
        spurious, true = effects(model, X_test)
        ratios.append(spurious / true)
        accuracies.append(model.score(X_test, y_test))
    # the length's effect, relative to the true factor's, falls with the weight...
    assert ratios[0] > 0.3
    assert ratios[0] > ratios[1] > ratios[2]
    assert abs(ratios[2]) < 0.5 * ratios[0]
    # ...while the true factor's effect stays: the pairs where the shorter
    # response wins are ranked better than by the model without the term
    assert min(accuracies[1:]) > accuracies[0] + 0.03


@pytest.mark.parametrize(
    "invariance",
    [Decorrelation(0.0), MMD(0.0), ConditionalMMD(0.0), ProductOfExperts(0.0)],
    ids=type,
)
def test_weight_zero_is_the_plain_model(shifted, invariance):
    (X, y, length), _ = shifted
    plain = BTLRewardRegressor(**SMALL, random_state=0).fit(X, y)
    model = BTLRewardRegressor(invariance=invariance, **SMALL, random_state=0)
    model.fit(X, y, covariates=length)
    np.testing.assert_array_equal(
        model.decision_function(X), plain.decision_function(X)
    )


def test_history_reports_what_each_term_measures(shifted):
    (X, y, length), _ = shifted
    columns = {
        Decorrelation(): ["train_covariate_corr", "valid_covariate_corr"],
        OrthogonalHeads(): ["train_covariate_head_corr", "valid_head_overlap"],
        ConditionalMMD(on="representation"): ["train_covariate_mmd"],
        ProductOfExperts(): ["train_expert_coef"],
    }
    for invariance, names in columns.items():
        model = BTLRewardRegressor(invariance=invariance, **SMALL, random_state=0)
        history = model.fit(X, y, covariates=length).history_
        for name in names:
            assert np.isfinite(np.stack(history[name])).all(), (invariance, name)
    # the expert starts as the covariate's fit alone: longer wins, a positive slope
    expert = BTLRewardRegressor(invariance=ProductOfExperts(), **SMALL, lr=1e-2,
                                random_state=0)  # fmt: skip
    expert.fit(X, y, covariates=length)
    assert expert.history_["train_expert_coef"].iloc[0] > 0.5


def test_every_model_takes_an_invariance_term(shifted):
    (X, y, length), _ = shifted
    with_objective = np.hstack([X, np.zeros((len(X), 1), np.float32)])
    for model, features in [
        (MultiheadRewardModel(head_hidden_dim=8, **SMALL), with_objective),
        (BTLRewardRegressor(with_objective=True, **SMALL), with_objective),
        (
            AdversarialRewardModel(
                adversary_target="length",
                with_objective=False,
                head_hidden_dim=8,
                discriminator_hidden_dim=8,
                **SMALL,
            ),
            X,
        ),  # fmt: skip
    ]:
        for invariance in (OrthogonalHeads(), ProductOfExperts()):
            fitted = clone(model).set_params(invariance=invariance, random_state=0)
            fitted.fit(features, y, covariates=length)
            assert np.isfinite(fitted.decision_function(features)).all()
            E = np.hstack([features[:3, :D], features[:3, 2 * D :]])
            assert fitted.predict_latent(E).shape == (3, 8)


def test_an_adversary_on_the_objective_and_an_invariance_term_share_covariates():
    rng = np.random.default_rng(0)
    X = np.hstack([rng.normal(size=(200, 2 * D)), rng.integers(0, 2, (200, 1))])
    y = rng.integers(0, 2, 200)
    model = AdversarialRewardModel(invariance=Decorrelation(), head_hidden_dim=8,
                                   discriminator_hidden_dim=8, **SMALL,
                                   random_state=0)  # fmt: skip
    model.fit(X.astype(np.float32), y, covariates=X[:, [0, D]])
    assert {"train_disc_acc", "train_covariate_corr"} <= set(model.history_)


def test_members_of_a_stack_are_the_models_fitted_alone(shifted):
    (X, y, length), _ = shifted
    for invariance in (OrthogonalHeads(0.3), MMD(1.0, on="representation")):
        models = [
            BTLRewardRegressor(invariance=invariance, **SMALL, random_state=seed)
            for seed in (0, 1, 2)
        ]
        fit_together(models, [(X, y, None)] * 3, covariates=[length] * 3)
        assert models[0].net_ is models[2].net_  # one stack of three
        alone = clone(models[2]).fit(X, y, covariates=length)
        np.testing.assert_allclose(
            models[2].decision_function(X), alone.decision_function(X), atol=1e-5
        )


def test_an_ensemble_and_a_search_over_the_weight(shifted):
    (X, y, length), _ = shifted
    ensemble = RewardEnsemble(
        BTLRewardRegressor(invariance=OrthogonalHeads(), **SMALL), n_members=3,
        random_state=0,
    ).fit(X, y, covariates=length)  # fmt: skip
    assert ensemble.predict_reward(X[:4, :D]).shape == (4,)
    model = BTLRewardRegressor(invariance=Decorrelation(), **SMALL, random_state=0)
    search = GridSearchCV(model, {"invariance__weight": [0.0, 0.3]}, cv=2)
    search.fit(X, y, covariates=length)
    assert search.best_estimator_.invariance.weight in (0.0, 0.3)
    assert model.invariance.weight == 1.0  # the search cloned it


def test_covariates_are_routed_through_a_pipeline_and_a_shifted_search(shifted):
    (X, y, length), _ = shifted
    frame = pd.DataFrame(length, columns=["length_a", "length_b"])
    with sklearn.config_context(enable_metadata_routing=True):
        model = BTLRewardRegressor(invariance=MMD(), **SMALL, random_state=0)
        model.set_fit_request(covariates=True)
        pipeline = make_pipeline(FunctionTransformer(), model)
        cv = CovariateShiftSplitter(rho=0.8, n_splits=2, train_size=300,
                                    test="balanced", random_state=0)  # fmt: skip
        search = GridSearchCV(pipeline, {"btlrewardregressor__invariance__weight":
                                         [0.0, 1.0]}, cv=cv)  # fmt: skip
        search.fit(X, y, covariates=frame)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_terms_with_their_parts_survive_save_and_load(shifted, tmp_path):
    (X, y, length), _ = shifted
    for invariance in (OrthogonalHeads(), ProductOfExperts()):
        model = BTLRewardRegressor(invariance=invariance, **SMALL, random_state=0)
        model.fit(X, y, covariates=length)
        skpref.save(model, tmp_path / "model.skpref")
        loaded = skpref.load(tmp_path / "model.skpref")
        assert loaded.invariance.get_params() == invariance.get_params()
        np.testing.assert_array_equal(
            loaded.decision_function(X), model.decision_function(X)
        )
        pd.testing.assert_frame_equal(loaded.summary(), model.summary())


@pytest.mark.parametrize(
    ("covariates", "match"),
    [
        (None, r"needs the values of its covariate 'length'"),
        ("nan", "NaN or infinite for pair 3"),
        ("inf", "NaN or infinite for pair 3"),
        ("constant", "is constant"),
        ("short", "covariates for 99 pairs but X has 100"),
        ("wrong_name", "is not in covariates"),
        ("strings", "needs numbers, but the covariate 'length' holds"),
    ],
)
def test_bad_covariates_are_named(covariates, match):
    X, y, length = planted(100, 0.5, 0)
    values = {
        None: None,
        "nan": np.where(np.arange(100)[:, None] == 3, np.nan, length),
        "inf": np.where(np.arange(100)[:, None] == 3, np.inf, length),
        "constant": np.ones((100, 2)),
        "short": length[:99],
        "wrong_name": pd.DataFrame(length, columns=["words_a", "words_b"]),
        "strings": np.where(length > 0, "long", "short"),
    }[covariates]
    model = BTLRewardRegressor(invariance=Decorrelation(), **SMALL)
    with pytest.raises(ValueError, match=match):
        model.fit(X, y, covariates=values)


def test_covariates_without_a_term_and_bad_weights_are_refused():
    X, y, length = planted(100, 0.5, 0)
    with pytest.raises(ValueError, match="no invariance term to use them"):
        BTLRewardRegressor(**SMALL).fit(X, y, covariates=length)
    with pytest.raises(ValueError, match="'weight' parameter of Decorrelation"):
        BTLRewardRegressor(invariance=Decorrelation(-1.0), **SMALL).fit(
            X, y, covariates=length
        )
    with pytest.raises(ValueError, match="'invariance' parameter"):
        BTLRewardRegressor(invariance="decorrelation", **SMALL).fit(X, y)


def test_bins_need_distinct_values_and_each_label():
    X, y, _ = planted(100, 0.5, 0)
    few = np.column_stack([np.arange(100) % 2, np.arange(100) % 2]).astype(float)
    few[0, 0] = 0.5  # three values: not four quantile bins
    with pytest.raises(ValueError, match="too few distinct values.*lower n_bins"):
        BTLRewardRegressor(invariance=MMD(n_bins=4), **SMALL).fit(X, y, covariates=few)
    # the longer response always wins: no preferred response among the short ones
    sides = np.column_stack([y, 1 - y]).astype(float) + 0.01 * np.arange(100)[:, None]
    with pytest.warns(
        UserWarning, match="no (preferred|other) training response falls"
    ):
        BTLRewardRegressor(invariance=ConditionalMMD(), **SMALL).fit(
            X, y, covariates=sides
        )


def test_a_covariate_mostly_at_its_least_value_still_cuts_into_bins():
    # a count that is mostly 0 (list items): its median is its least value
    X, y, _ = planted(200, 0.5, 0)
    counts = np.random.default_rng(0).integers(0, 6, (200, 2)).astype(float)
    counts[np.random.default_rng(1).random((200, 2)) < 0.65] = 0
    for values in (counts, -counts):  # the mass at the least, then the most
        model = BTLRewardRegressor(invariance=MMD(), random_state=0, **SMALL)
        model.fit(X, y, covariates=values)
        assert np.isfinite(model.history_["train_covariate_mmd"]).all()


TINY = {"max_epochs": 1, "hidden_dim": 8, "latent_dim": 4, "device": "cpu",
        "random_state": 0}  # fmt: skip


@pytest.mark.parametrize(
    "model",
    [
        *(
            BTLRewardRegressor(invariance=term, **TINY)
            for term in (MMD(), ConditionalMMD(), Decorrelation(), ProductOfExperts())
        ),
        AdversarialRewardModel(
            adversary_target="length",
            with_objective=False,
            head_hidden_dim=4,
            discriminator_hidden_dim=4,
            **TINY,
        ),
    ],  # fmt: skip
    ids=["mmd", "conditional-mmd", "decorrelation", "experts", "adversary"],
)
def test_the_inputs_take_their_statistics_from_the_pairs_trained_on(model):
    X, y, lengths = planted(300, 0.85, 0)
    train, valid = np.arange(200), np.arange(200, 300)

    def fitted(labels, covariates, weight):
        (fit,) = fit_together([clone(model)], [(X, labels, weight)], rows=[train],
                              valid_rows=[valid], covariates=[covariates])  # fmt: skip
        return fit.decision_function(X)

    plain = fitted(y, lengths, None)
    # the validation pairs' labels and covariates do not reach the training
    flipped = y.copy()
    flipped[valid] = 1 - flipped[valid]
    moved = lengths.copy()
    moved[valid] *= 100
    np.testing.assert_array_equal(fitted(flipped, moved, None), plain)
    # nor do the covariates of training pairs of weight 0
    weight = np.ones(300)
    weight[:20] = 0
    moved = lengths.copy()
    moved[:20] = 1e4
    np.testing.assert_array_equal(fitted(y, moved, weight), fitted(y, lengths, weight))


def test_the_expert_is_fitted_with_the_sample_weights():
    rng = np.random.default_rng(0)
    difference = rng.normal(size=60)
    y = (difference + rng.normal(size=60) > 0).astype(float)
    weight = rng.integers(0, 4, 60)
    weighted = bias_only_coefficient(difference, y, weight)
    repeated = bias_only_coefficient(np.repeat(difference, weight),
                                     np.repeat(y, weight))  # fmt: skip
    assert weighted == pytest.approx(repeated, rel=1e-4)
    assert weighted != pytest.approx(bias_only_coefficient(difference, y), rel=1e-2)


def test_a_search_refits_the_least_covariate_driven_near_best_weight(shifted):
    (X, y, length), _ = shifted
    frame = pd.DataFrame(length, columns=["length_a", "length_b"])
    rule = within_best("against_covariate_accuracy", tolerance=0.05,
                       secondary="neg_abs_reward_covariate_correlation")  # fmt: skip
    with sklearn.config_context(enable_metadata_routing=True):
        model = BTLRewardRegressor(invariance=ConditionalMMD(), hidden_dim=32,
                                   latent_dim=16, max_epochs=5, lr=1e-3,
                                   device="cpu", random_state=0)  # fmt: skip
        model.set_fit_request(covariates=True)
        cv = CovariateShiftSplitter(rho=0.85, n_splits=2, train_size=400,
                                    test="balanced", random_state=0)  # fmt: skip
        search = GridSearchCV(model, {"invariance__weight": [0.0, 0.1, 0.3]}, cv=cv,
                              scoring=make_covariate_scorers(), refit=rule)  # fmt: skip
        search.fit(X, y, covariates=frame)
    results = search.cv_results_
    accuracy = results["mean_test_against_covariate_accuracy"]
    correlation = results["mean_test_neg_abs_reward_covariate_correlation"]
    near = np.flatnonzero(accuracy >= accuracy.max() - 0.05)
    assert search.best_index_ == near[np.argmax(correlation[near])]
    assert search.best_params_["invariance__weight"] > 0


def test_the_refit_rule_keeps_a_candidate_exactly_at_the_tolerance():
    # 0.52 - 0.05 rounds to just above 0.47 in floating point
    rule = within_best("accuracy", tolerance=0.05, secondary="neg_corr")
    assert rule({"mean_test_accuracy": [0.52, 0.47],
                 "mean_test_neg_corr": [-0.5, -0.1]}) == 1  # fmt: skip


def test_the_refit_rule_names_a_missing_score():
    rule = within_best("accuracy", secondary="neg_corr")
    with pytest.raises(ValueError, match="no score 'neg_corr'.*'accuracy'"):
        rule({"mean_test_accuracy": [0.5]})


def test_summary_reports_the_leakage_on_the_validation_pairs(shifted):
    (X, y, length), _ = shifted
    settings = {**SMALL, "lr": 1e-2, "random_state": 0}
    plain_like = BTLRewardRegressor(invariance=Decorrelation(0.0), **settings)
    plain_like.fit(X, y, covariates=length)
    invariant = BTLRewardRegressor(invariance=Decorrelation(1.0), **settings)
    invariant.fit(X, y, covariates=length)
    summary = invariant.summary()
    assert {"reward_r2", "reward_corr", "representation_auc"} <= set(summary.index)
    assert "valid_covariate_corr" in summary.index
    assert summary.loc["reward_r2", "n"] == 100  # the 10 % held out
    # the term took the covariate out of the rewards of pairs it did not train on
    assert abs(summary.loc["reward_corr", "estimate"]) < abs(
        plain_like.summary().loc["reward_corr", "estimate"]
    )
    # same seed, same report
    again = clone(invariant).fit(X, y, covariates=length).summary()
    pd.testing.assert_frame_equal(again, summary)


def test_summary_says_why_it_has_nothing_to_report(shifted):
    (X, y, length), _ = shifted
    with pytest.raises(ValueError, match="no invariance term"):
        BTLRewardRegressor(**SMALL).fit(X, y).summary()
    model = BTLRewardRegressor(invariance=MMD(), validation_fraction=None, **SMALL)
    with pytest.raises(ValueError, match="no validation pairs were held out"):
        model.fit(X, y, covariates=length).summary()
    adversary = AdversarialRewardModel(
        adversary_target="length", with_objective=False, head_hidden_dim=8,
        discriminator_hidden_dim=8, **SMALL,
    ).fit(X, y, covariates=length)  # fmt: skip
    assert "valid_disc_r2" in adversary.summary().index


def test_a_text_pipeline_computes_the_covariate_from_its_frame():
    rng = np.random.default_rng(0)
    words = ["yes", "no", "maybe so", "certainly, here it is", "I cannot"]
    n = 200
    frame = pd.DataFrame(
        {
            "prompt": [f"question {i}" for i in range(n)],
            "chosen": [" ".join(rng.choice(words, 3)) for _ in range(n)],
            "rejected": [str(rng.choice(words)) for _ in range(n)],
        }
    )  # TRL's layout: the chosen response is side a

    def embed(table):  # a stand-in embedder: counts of a few characters
        def features(texts):
            return np.column_stack([texts.str.count(c) for c in " aeinosty"[:D]])

        return np.hstack(
            [features(table["chosen"]), features(table["rejected"])]
        ).astype(np.float32)

    y = np.ones(n, dtype=int)
    y[::2] = 0  # some pairs with sides swapped in the labels, for both classes
    lengths = pair_covariates(frame, "n_characters")
    fits = []
    for covariates in (frame, lengths):
        model = BTLRewardRegressor(
            invariance=Decorrelation(covariate="n_characters"), **SMALL,
            random_state=0,
        )  # fmt: skip
        pipeline = make_pipeline(FunctionTransformer(embed), model)
        fits.append(pipeline.fit(frame, y, btlrewardregressor__covariates=covariates))
    features = embed(frame)
    np.testing.assert_array_equal(
        fits[0][-1].decision_function(features), fits[1][-1].decision_function(features)
    )
