"""The adversary against a covariate: targets, pair contract, errors, composition."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import skpref
from skpref import AdversarialRewardModel, BTLRewardRegressor, RewardEnsemble
from skpref.covariates import pair_covariates
from skpref.datasets import make_confounded_preferences
from skpref.models import _engine
from skpref.models._adversarial import resolve_adversary_target
from tests.models import test_adversarial

SMALL = {**test_adversarial.SMALL, "max_epochs": 4}
D = 8


@pytest.fixture(scope="module")
def data():
    return make_confounded_preferences(
        n_pairs=400, n_features=D, rho=0.5, random_state=0
    )


@pytest.fixture(scope="module")
def score(data):
    """A covariate of each response that its features predict: their sum."""
    X = data.X
    return np.column_stack([X[:, :D].sum(1), X[:, D : 2 * D].sum(1)])


@pytest.fixture(params=[True, False], ids=["with_objective", "plain_pairs"])
def layout(request, data):
    """``(params, X)`` of the two layouts a covariate adversary takes."""
    X = data.X if request.param else data.X[:, : 2 * D]
    return {"with_objective": request.param}, X


def swapped(X):
    return np.hstack([X[:, D : 2 * D], X[:, :D], X[:, 2 * D :]])


def test_a_categorical_covariate_equal_to_the_objective_trains_the_same_model(data):
    on_objective = AdversarialRewardModel(**SMALL).fit(data.X, data.y)
    on_covariate = AdversarialRewardModel(
        adversary_target="c", adversary_type="categorical", **SMALL
    ).fit(data.X, data.y, covariates=data.X[:, -1].astype(int))
    assert_array_equal(
        on_covariate.decision_function(data.X), on_objective.decision_function(data.X)
    )
    assert_array_equal(
        on_covariate.history_["train_disc_acc"], on_objective.history_["train_disc_acc"]
    )
    assert on_covariate.adversary_classes_.tolist() == [0, 1]
    assert on_covariate.discriminator_chance_ == on_objective.discriminator_chance_


def test_the_adversary_hides_a_continuous_covariate_from_the_latent(data, score):
    def final_r2(weight):
        model = AdversarialRewardModel(
            adversary_target="score", adversary_weight=weight, **SMALL
        ).set_params(max_epochs=12)
        model.fit(data.X, data.y, covariates=score)
        return model.history_["train_disc_r2"].iloc[-4:].mean()

    assert final_r2(0.0) > 0.2  # the latent carries it, and the regression learns it
    assert final_r2(2.0) < final_r2(0.0) - 0.15


def test_a_continuous_covariate_is_standardised_and_its_history_is_an_r2(data, score):
    # over the responses of the pairs trained on: here all, without a holdout
    model = AdversarialRewardModel(
        adversary_target="score", **{**SMALL, "validation_fraction": None}
    )
    model.fit(
        data.X, data.y, covariates=pd.DataFrame(score, columns=["score_a", "score_b"])
    )
    assert model.adversary_type_ == "continuous"
    assert model.adversary_mean_ == pytest.approx(score.mean())
    assert model.adversary_scale_ == pytest.approx(score.std())
    assert model.adversary_classes_ is None and model.discriminator_chance_ == 0.0
    assert "train_disc_r2" in model.history_ and "train_disc_acc" not in model.history_
    assert model.module_.discriminator[-1].out_features == 1
    # R^2 = 1 - the (unweighted) squared error on the standardised target
    assert_allclose(
        model.history_["train_disc_r2"], 1 - model.history_["train_adv_loss"], atol=1e-5
    )


def test_swapping_a_and_b_with_their_covariates_trains_the_same_model(data, score):
    params = {**SMALL, "validation_fraction": None, "adversary_target": "score"}
    model = AdversarialRewardModel(**params).fit(data.X, data.y, covariates=score)
    mirror = AdversarialRewardModel(**params).fit(
        swapped(data.X), 1 - data.y, covariates=score[:, ::-1]
    )
    reference = model.decision_function(data.X)
    assert_allclose(mirror.decision_function(data.X), reference, atol=1e-4)
    # the covariates must follow the responses: left unswapped, the model differs
    wrong = AdversarialRewardModel(**params).fit(
        swapped(data.X), 1 - data.y, covariates=score
    )
    assert np.abs(wrong.decision_function(data.X) - reference).max() > 1e-2


def test_a_value_per_pair_is_the_target_of_both_responses():
    target = resolve_adversary_target(
        "topic", "auto", pd.DataFrame({"topic": ["x", "y", "x"]}), 3, owner="m"
    )
    assert target.kind == "categorical" and target.classes.tolist() == ["x", "y"]
    assert target.values.tolist() == [[0, 0], [1, 1], [0, 0]]
    assert target.chance == pytest.approx(4 / 6)


def test_a_builtin_covariate_is_computed_from_the_pair_texts():
    pairs = pd.DataFrame(
        {
            "prompt": ["p", "q"],
            "response_a": ["long answer", "no"],
            "response_b": ["a", "yes"],
        }
    )
    from_texts = resolve_adversary_target("length", "auto", pairs, 2, owner="m")
    given = resolve_adversary_target(
        "n_characters", "auto", pair_covariates(pairs, "n_characters"), 2, owner="m"
    )
    assert_array_equal(from_texts.values, given.values)
    assert from_texts.mean == pytest.approx(np.mean([11, 2, 1, 3]))


def test_integers_are_continuous_unless_declared_categorical():
    ids = np.array([0, 1, 2, 1])
    assert resolve_adversary_target("k", "auto", ids, 4, owner="m").kind == "continuous"
    coded = resolve_adversary_target("k", "categorical", ids, 4, owner="m")
    assert coded.kind == "categorical" and coded.values[:, 0].tolist() == [0, 1, 2, 1]
    flags = resolve_adversary_target("k", "auto", ids > 0, 4, owner="m")
    assert flags.kind == "categorical" and flags.classes.tolist() == [False, True]


@pytest.mark.parametrize(
    ("target", "kind", "covariates", "match"),
    [
        ("length", "auto", None, r"adversary_target='length'\) needs the covariate"),
        ("objective", "auto", np.ones(4), "reads the objective column of X"),
        ("objective", "continuous", None, "the objective is categorical"),
        (
            "lenght",
            "auto",
            pd.DataFrame({"length_a": [1] * 4, "length_b": [2] * 4}),
            "Did you mean adversary_target='length'",
        ),
        ("x", "auto", np.ones(3), "covariates for 3 pairs but X has 4"),
        ("x", "auto", np.ones((4, 3)), r"got shape \(4, 3\)"),
        ("x", "auto", np.array([1.0, np.nan, 2.0, 3.0]), "NaN or infinite for pair 1"),
        (
            "x",
            "auto",
            np.array(["a", None, "b", "a"], dtype=object),
            "missing \\(NaN\\) for pair 1",
        ),
        ("x", "auto", np.array(["a"] * 4), "single value 'a'"),
        ("x", "auto", np.full(4, 7.0), "constant \\(7\\)"),
        ("x", "continuous", np.array(["a", "b"] * 2), "needs numbers"),
        ("x", "auto", np.array([1, "a", 2, "b"], dtype=object), "cannot be ordered"),
    ],
)
def test_bad_covariates_are_clear_errors(target, kind, covariates, match):
    with pytest.raises(ValueError, match=match):
        resolve_adversary_target(target, kind, covariates, 4, owner="m")


def test_fit_reports_a_bad_covariate_and_an_explicit_validation_set(data, score):
    model = AdversarialRewardModel(adversary_target="score", **SMALL)
    with pytest.raises(ValueError, match="AdversarialRewardModel.*needs the covariate"):
        model.fit(data.X, data.y)
    with pytest.raises(ValueError, match="cannot score its covariate adversary"):
        model.fit(data.X, data.y, covariates=score, X_val=data.X, y_val=data.y)
    with pytest.raises(ValueError, match="adversary_type"):
        model.set_params(adversary_type="linear").fit(data.X, data.y, covariates=score)


def test_one_objective_is_enough_for_a_covariate_adversary(data, score):
    X = data.X.copy()
    X[:, -1] = 0
    model = AdversarialRewardModel(adversary_target="score", **SMALL)
    assert model.fit(X, data.y, covariates=score).n_objectives_ == 1
    with pytest.raises(ValueError, match="at least two objectives"):
        AdversarialRewardModel(**SMALL).fit(X, data.y)


def test_covariates_follow_the_folds_of_a_pipeline_search(data, score, layout):
    params, X = layout
    # no holdout: the covariate is standardised over all the pairs of a fit
    model = AdversarialRewardModel(
        adversary_target="score", **params, **{**SMALL, "validation_fraction": None}
    )
    pipeline = Pipeline([("scale", FunctionTransformer()), ("model", model)])
    pipeline.fit(X, data.y, model__covariates=score)
    assert pipeline["model"].adversary_mean_ == pytest.approx(score.mean())
    with sklearn.config_context(enable_metadata_routing=True):
        routed = Pipeline(
            [
                ("scale", FunctionTransformer()),
                ("model", clone(model).set_fit_request(covariates=True)),
            ]
        )
        search = GridSearchCV(routed, {"model__adversary_weight": [0.0, 1.0]}, cv=2)
        search.fit(X, data.y, covariates=score)
    fold_mean = search.best_estimator_["model"].adversary_mean_
    assert fold_mean == pytest.approx(score.mean())  # refit on all pairs
    assert search.cv_results_["mean_test_score"].min() > 0.6


def test_save_and_load_keep_a_covariate_adversary(tmp_path, data, score, layout):
    params, X = layout
    model = AdversarialRewardModel(adversary_target="score", **params, **SMALL)
    model.fit(X, data.y, covariates=score)
    loaded = skpref.load(model.save(tmp_path / "m.safetensors"))
    assert_array_equal(loaded.decision_function(X), model.decision_function(X))
    E = X[:, list(range(D)) + list(range(2 * D, X.shape[1]))]  # responses a
    assert_array_equal(loaded.predict_reward(E), model.predict_reward(E))
    assert loaded.get_params() == model.get_params()
    assert loaded.adversary_type_ == "continuous"
    assert loaded.module_.discriminator[-1].out_features == 1
    categorical = AdversarialRewardModel(adversary_target="t", **params, **SMALL)
    categorical.fit(X, data.y, covariates=np.array(["x", "y", "z", "y"] * 100))
    loaded = skpref.load(categorical.save(tmp_path / "c.safetensors"))
    assert loaded.adversary_classes_.tolist() == ["x", "y", "z"]
    assert loaded.module_.discriminator[-1].out_features == 3


def test_ensemble_members_train_stacked_as_each_would_alone(
    monkeypatch, data, score, layout
):
    params, X = layout
    stacked = []
    original = _engine.train_stack
    monkeypatch.setattr(
        _engine,
        "train_stack",
        lambda plans, d, progress=None: (
            stacked.append(len(plans)) or original(plans, d, progress=progress)
        ),
    )
    member = AdversarialRewardModel(adversary_target="score", **params, **SMALL)
    ensemble = RewardEnsemble(member, n_members=2, random_state=0)
    ensemble.fit(X, data.y, covariates=score)
    assert stacked == [2]
    for fitted in ensemble.members_:
        alone = clone(member).set_params(random_state=fitted.random_state)
        alone.fit(X, data.y, covariates=score)
        assert_allclose(
            fitted.decision_function(X), alone.decision_function(X), atol=1e-4
        )
        assert fitted.adversary_type_ == "continuous"
    E = X[:, list(range(D)) + list(range(2 * D, X.shape[1]))]  # responses a
    assert ensemble.predict_reward(E, return_std=True)[1].shape == (len(X),)
    n_objectives = 2 if params["with_objective"] else 1  # the data have two
    assert ensemble.reward_offsets_.shape == (2, n_objectives)


def test_ensemble_of_a_model_without_covariates_refuses_them(data, score):
    ensemble = RewardEnsemble(BTLRewardRegressor(device="cpu"), n_members=2)
    with pytest.raises(ValueError, match="only an AdversarialRewardModel"):
        ensemble.fit(data.X[:, : 2 * D], data.y, covariates=score)
