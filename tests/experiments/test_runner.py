"""The one experiment loop: layouts, seeds, units of work, and a new data source."""

import io
import pickle
from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from skpref._cli import main
from skpref.datasets import make_confounded_preferences
from skpref.experiments import (
    SOURCES,
    PairSource,
    run_protocol,
)
from skpref.experiments._run import FitGroup, fit_groups
from skpref.experiments._sources import Draw, Source, consistency
from skpref.metrics import pairwise_accuracy_score
from tests.experiments.protocols import (
    CONFOUNDING,
    LATENT_POSITIVITY,
    SyntheticConfounded,
    SyntheticLatent,
)


def run_fit_group(group):
    return fit_groups([group])[0]


TINY = {"width": 16, "lr": 1e-2, "max_epochs": 3, "device": "cpu"}


@pytest.fixture(scope="module")
def latent_result():
    source = SyntheticLatent(n_train=300, n_test=200, n_features=6)
    return run_protocol(LATENT_POSITIVITY, source, rhos=(0.0, 0.9), n_seeds=2, **TINY)


@pytest.fixture(scope="module")
def confounding_result():
    source = SyntheticConfounded(n_train=300, n_test=150, n_features=6)
    return run_protocol("confounding", source, rhos=(0.5, 1.0), n_seeds=2, **TINY)


def test_latent_runs_layout(latent_result):
    runs = latent_result.runs
    assert len(runs) == 2 * 2 * 2
    assert set(runs["test"]) == {"ID", "OOD"} and set(runs["model"]) == {"BTL"}
    assert (runs["n_test"] == 200).all()
    assert runs["accuracy"].between(0, 1).all()
    for rho, achieved in runs.groupby("rho_train")["rho_achieved"].mean().items():
        assert achieved == pytest.approx(rho, abs=0.1)
    assert set(latent_result.deltas) == {0.0, 0.9}
    assert latent_result.deltas[0.9].shape == (300, 2)
    assert latent_result.alpha == 0.25 and latent_result.name == "latent_positivity"


def test_latent_models_learn(latent_result):
    id_acc = latent_result.runs.query("test == 'ID'")["accuracy"]
    assert id_acc.mean() > 0.75  # far above chance even with 3 epochs


def test_runs_are_reproducible(latent_result):
    source = SyntheticLatent(n_train=300, n_test=200, n_features=6)
    again = run_protocol(LATENT_POSITIVITY, source, rhos=(0.0, 0.9), n_seeds=2, **TINY)
    cols = ["accuracy", "alpha_hat", "rho_achieved"]
    np.testing.assert_array_equal(again.runs[cols], latent_result.runs[cols])


def test_confounding_runs_layout(confounding_result):
    runs = confounding_result.runs
    assert len(runs) == 2 * 2 * 3 * 4
    assert list(runs["model"].unique()) == ["Base", "Multihead", "Adversarial"]
    assert (runs.query("split == 'test'")["n"] == 150).all()
    train = runs.query("split == 'train'")
    incons = train.query("group == 'inconsistent'").groupby("rho")["n"].first()
    assert incons[0.5] == 150 and incons[1.0] == 0
    assert (
        train.query("rho == 1.0 and group == 'inconsistent'")["accuracy"].isna().all()
    )
    assert confounding_result.config["n_train"] == 300
    assert confounding_result.config["models"] == ["Base", "Multihead", "Adversarial"]


def test_confounding_models_share_training_sets(confounding_result):
    train = confounding_result.runs.query("split == 'train'")
    assert (train.groupby(["seed", "rho", "group"])["n"].nunique() == 1).all()


def test_scores_are_the_metrics_pairwise_accuracy():
    source = SyntheticConfounded(n_train=200, n_test=80, n_features=4)
    source.prepare(CONFOUNDING, [3])
    draw = source.draw(0.7, 1, [2])
    model = LogisticRegression()
    [row, *_] = run_fit_group(
        FitGroup(CONFOUNDING, "synthetic", 0, 0.7, draw, [("logistic", model)])
    )
    X, y = draw.tests["consistent"]
    expected = pairwise_accuracy_score(y, model.predict_proba(X)[:, 1])
    assert row["group"] == "consistent" and row["accuracy"] == expected


def test_an_executor_gets_every_group_and_changes_nothing(confounding_result):
    seen = []

    def backwards(groups, fit):
        groups = list(groups)
        seen.extend(groups)
        rows = [fit([pickle.loads(pickle.dumps(g))])[0] for g in groups[::-1]]
        return rows[::-1]

    source = SyntheticConfounded(n_train=300, n_test=150, n_features=6)
    result = run_protocol(
        CONFOUNDING, source, rhos=(0.5, 1.0), n_seeds=2, executor=backwards, **TINY
    )
    assert [(g.seed, g.rho) for g in seen] == [(0, 0.5), (0, 1.0), (1, 0.5), (1, 1.0)]
    assert all(len(g.models) == 3 for g in seen)
    np.testing.assert_array_equal(
        result.runs["accuracy"], confounding_result.runs["accuracy"]
    )


def test_estimators_as_models_are_seeded_per_draw():
    source = SyntheticConfounded(n_train=120, n_test=40, n_features=4)
    result = run_protocol(
        CONFOUNDING,
        source,
        rhos=[0.8],
        n_seeds=2,
        models={"logistic": LogisticRegression(), "Base": "Base"},
        **TINY,
    )
    assert list(result.runs["model"].unique()) == ["logistic", "Base"]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"rhos": [1.5]}, r"takes rho in \[0.0, 1.0\]; got \[1.5\]"),
        ({"rhos": []}, "rhos must be a non-empty list"),
        ({"rhos": ["high"]}, "rhos must be a non-empty list of numbers"),
        ({"rhos": [0.5, 0.5]}, "rhos lists a value twice"),
        ({"n_seeds": 0}, "n_seeds must be an integer >= 1; got 0"),
        ({"models": "Base"}, r"got the single string 'Base'. Write \['Base'\]"),
        ({"models": ["Multihed"]}, "Did you mean 'Multihead'"),
        ({"models": {"mine": 3}}, "the model 'mine' is 3; expected a model name"),
        ({"models": []}, "models is empty"),
        ({"random_state": -1}, "random_state must be an integer >= 0"),
    ],
)
def test_bad_arguments_fail_before_any_fit(kwargs, words):
    source = SyntheticConfounded(n_train=60, n_test=20, n_features=4)
    with pytest.raises(ValueError, match=words):
        run_protocol(CONFOUNDING, source, **kwargs)


def test_unknown_protocol_suggests_one():
    with pytest.raises(ValueError, match="Did you mean 'confounding'"):
        run_protocol("confunding", SyntheticConfounded())


def test_source_must_give_the_protocols_side_information():
    data = make_confounded_preferences(n_pairs=50, n_features=4, random_state=0)
    source = PairSource(data.X, data.y, delta=data.X[:, :2])
    with pytest.raises(
        ValueError,
        match="PairSource gives delta, but the "
        "confounding protocol needs the prompt_type",
    ):
        run_protocol(CONFOUNDING, source)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_train": 0}, "Synthetic: n_train must be an integer >= 2; got 0"),
        ({"n_features": 1.5}, "n_features must be an integer >= 2; got 1.5"),
        ({"label_noise": -1}, "label_noise must be >= 0; got -1"),
        ({"generator_params": 3}, "generator_params must be a dict or None"),
    ],
)
def test_source_parameters_are_checked(params, match):
    with pytest.raises(ValueError, match=match):
        run_protocol(CONFOUNDING, SyntheticConfounded(**params))


@pytest.fixture
def private_registry():
    """Sources registered by a test disappear with it."""
    saved = dict(SOURCES)
    yield SOURCES
    SOURCES.clear()
    SOURCES.update(saved)


def test_a_new_data_source_is_one_class(private_registry, tmp_path):
    # Everything a new data set needs: this class. It draws from a fixed pool of
    # synthetic pairs by rejection (no splitter), which is enough to show that
    # the runner, the summaries, the files and the command line take it as is.
    @dataclass
    class Shuffled(Source):
        n_train: int = 120

        name = "shuffled"
        sides = ("prompt_type",)
        title = "a test source"

        def _prepare(self, protocol, source_seeds):
            self.data_ = make_confounded_preferences(
                n_pairs=600, n_features=4, rho=0.5, random_state=source_seeds[0]
            )
            self.n_objectives_ = 2

        def draw(self, rho, seed, draw_seeds):
            rng = np.random.default_rng(draw_seeds[0])
            consistent = self.data_.consistent
            n_cons = round(rho * self.n_train)
            rows = np.concatenate(
                [
                    rng.choice(np.flatnonzero(consistent), n_cons, replace=False),
                    rng.choice(
                        np.flatnonzero(~consistent),
                        self.n_train - n_cons,
                        replace=False,
                    ),
                ]
            )
            X, y = self.data_.X, self.data_.y
            groups = consistency(X, self.data_.prompt_type)
            held = np.setdiff1d(np.arange(len(y)), rows)
            tests = {
                g: (X[held][groups[held] == g], y[held][groups[held] == g])
                for g in self.protocol_.groups
            }
            return Draw(X=X[rows], y=y[rows], tests=tests, train_groups=groups[rows])

    private_registry["shuffled"] = Shuffled
    result = run_protocol(
        CONFOUNDING, Shuffled(), models=["Base"], rhos=[0.5, 1.0], n_seeds=1, **TINY
    )
    assert set(result.runs["data"]) == {"shuffled"}
    train = result.runs.query("split == 'train'").set_index(["rho", "group"])["n"]
    assert train[(1.0, "consistent")] == 120 and train[(0.5, "inconsistent")] == 60
    assert result.name == "confounding_shuffled"
    out = io.StringIO()
    assert (
        main(
            [
                "reproduce",
                "confounding",
                "--data",
                "shuffled",
                "--rhos",
                "0.8",
                "--seeds",
                "1",
                "--width",
                "8",
                "--epochs",
                "1",
                "--n-train",
                "100",
                "--no-progress",
                "--output",
                str(tmp_path),
            ],
            out=out,
        )
        == 0
    )
    assert "Table 2 (a test source): test accuracy [%]" in out.getvalue()
    assert (tmp_path / "figure6_confounding_shuffled.png").is_file()


def test_a_draw_the_data_cannot_give_fails_before_any_fit():
    data = make_confounded_preferences(n_pairs=300, n_features=4, random_state=0)
    source = PairSource(data.X, data.y, prompt_type=data.prompt_type, n_train=150)
    called = []

    def executor(groups, fit):
        called.append(True)
        return [run_fit_group(group) for group in groups]

    with pytest.raises(
        ValueError, match="PairSource: cannot draw n_train=150 training"
    ):
        run_protocol(CONFOUNDING, source, rhos=[0.5, 1.0], executor=executor)
    assert not called


def _eager(groups, fit):  # fits every group when called, as a pool.map would
    return [run_fit_group(group) for group in groups]


@pytest.mark.parametrize("executor", [None, _eager], ids=["lazy", "eager"])
def test_the_fits_that_warn_are_counted_in_one_warning_and_named_in_the_runs(
    latent_result, recwarn, executor
):
    assert latent_result.runs["convergence_warning"].isna().all()  # sound fits
    from skpref import BTLRewardRegressor

    source = SyntheticLatent(n_train=200, n_test=100, n_features=6)
    hot = BTLRewardRegressor(hidden_dim=8, latent_dim=8, max_epochs=2, lr=1e6)
    sound = BTLRewardRegressor(hidden_dim=8, latent_dim=8, max_epochs=2, lr=1e-2)
    result = run_protocol(
        LATENT_POSITIVITY,
        source,
        models={"hot": hot, "sound": sound},
        rhos=[0.0, 0.6],
        n_seeds=2,
        device="cpu",
        executor=executor,
    )
    warned = [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]
    assert len(warned) == 1  # not one per fit
    message = str(warned[0].message)
    assert "4 of 8 fits raised a ConvergenceWarning (diverged: hot 4)" in message
    assert warned[0].filename == __file__  # points at the caller's line
    kinds = result.runs.groupby("model")["convergence_warning"].unique()
    assert kinds["hot"].tolist() == ["diverged"]
    assert (
        result.runs.loc[result.runs["model"] == "sound", "convergence_warning"]
        .isna()
        .all()
    )


@pytest.mark.parametrize("executor", [None, _eager], ids=["engine", "one-by-one"])
def test_a_warning_of_another_librarys_model_is_counted_as_other(recwarn, executor):
    source = SyntheticConfounded(n_train=200, n_test=80, n_features=4)
    result = run_protocol(
        CONFOUNDING,
        source,
        models={"logreg": LogisticRegression(max_iter=1), "Base": "Base"},
        rhos=[0.5],
        n_seeds=2,
        executor=executor,
        **TINY,
    )
    warned = [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]
    assert len(warned) == 1
    assert "2 of 4 fits raised a ConvergenceWarning (other: logreg 2)" in str(
        warned[0].message
    )
    kinds = result.runs.groupby("model")["convergence_warning"].unique()
    assert kinds["logreg"].tolist() == ["other"]
    assert result.runs.query("model == 'Base'")["convergence_warning"].isna().all()


def test_run_fit_group_passes_a_models_warnings_on():
    source = SyntheticConfounded(n_train=200, n_test=80, n_features=4)
    source.prepare(CONFOUNDING, [3])
    draw = source.draw(0.7, 1, [2])
    models = [("logreg", LogisticRegression(max_iter=1))]
    with pytest.warns(ConvergenceWarning, match="failed to converge"):
        rows = run_fit_group(FitGroup(CONFOUNDING, "synthetic", 0, 0.7, draw, models))
    assert {row["convergence_warning"] for row in rows} == {"other"}
