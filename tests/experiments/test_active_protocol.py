"""The active protocols: pools, rounds, paired tables, figure, command line."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

import skpref
from skpref._cli import main
from skpref.datasets import make_latent_preferences
from skpref.experiments import (
    PROTOCOLS,
    PairSource,
    write_results,
)
from skpref.experiments._active import default_strategies
from skpref.experiments._pool_sources import RelabeledHHRLHF
from skpref.experiments._results import summarise_active
from skpref.experiments._sources import Source
from tests.experiments.protocols import (
    ACTIVE_CONFOUNDING,
    ACTIVE_POSITIVITY,
    LATENT_POSITIVITY,
    SyntheticConfounded,
    SyntheticLatent,
    run_active,
)

TINY = {
    "n_members": 2,
    "width": 8,
    "lr": 1e-2,
    "max_epochs": 2,
    "device": "cpu",
}


@pytest.fixture(scope="module")
def latent_result():
    source = SyntheticLatent(n_train=200, n_test=100, n_features=4, label_noise=0.3)
    return run_active(
        ACTIVE_POSITIVITY,
        source,
        strategies=["random", "quadrant", "bald"],
        n_seeds=2,
        n_rounds=2,
        budget=0.1,
        **TINY,
    )


def test_every_strategy_starts_from_the_same_model_and_buys_each_round(latent_result):
    runs = latent_result.runs
    assert list(runs.columns) == [
        "protocol", "data", "seed", "rho_train", "model", "strategy", "round",
        "n_bought", "test", "accuracy", "n_test", "share_informative", "fit_seconds",
    ]  # fmt: skip
    # 2 seeds x 3 strategies x 3 fits x 2 test sets
    assert len(runs) == 36 and set(runs["test"]) == {"ID", "OOD"}
    start = runs[runs["round"] == 0].pivot_table(
        index=["seed", "test"], columns="strategy", values="accuracy"
    )
    assert (start.nunique(axis=1) == 1).all()
    assert sorted(set(runs["n_bought"])) == [0, 10, 20]
    assert (runs["n_bought"] == 10 * runs["round"]).all()
    assert (runs["n_test"] == 100).all()


def test_the_quadrant_strategy_buys_only_disagreeing_pairs(latent_result):
    bought = latent_result.runs.query("round > 0").groupby("strategy")
    share = bought["share_informative"].mean()
    assert share["quadrant"] == 1.0
    assert 0.2 < share["random"] < 0.8  # half of a pool at rho = 0


def test_the_result_records_its_configuration(latent_result):
    config = latent_result.config
    assert config["query_size"] == [10] and config["n_rounds"] == 2
    assert config["ensemble"] == "RewardEnsemble" and config["n_members"] == 2
    assert list(config["strategies"]) == ["random", "quadrant", "bald"]
    assert latent_result.name == "active_positivity"


def test_the_paired_table_compares_each_strategy_with_random_within_seeds():
    runs = pd.DataFrame(
        {
            "model": "BTL",
            "rho_train": 0.9,
            "seed": np.repeat([0, 1, 2], 8),
            "strategy": np.tile(np.repeat(["random", "bald"], 4), 3),
            "round": np.tile([0, 0, 1, 1], 6),
            "n_bought": np.tile([0, 0, 5, 5], 6),
            "test": np.tile(["ID", "OOD"], 12),
            "share_informative": np.tile([np.nan, np.nan, 0.5, 0.5], 6),
            "accuracy": [
                *[0.9, 0.6, 0.9, 0.62, 0.9, 0.6, 0.9, 0.66],
                *[0.8, 0.5, 0.8, 0.50, 0.8, 0.5, 0.8, 0.56],
                *[0.9, 0.7, 0.9, 0.73, 0.9, 0.7, 0.9, 0.76],
            ],
        }
    )
    tables = summarise_active(runs, ["ID", "OOD"])
    paired = tables["Paired over seeds at the full budget"].set_index("strategy")
    # bald - random at round 1, per seed: 4, 6, 3 points -> mean 4.33, se 0.88
    assert paired.loc["bald", "OOD vs random"] == pytest.approx(13 / 3)
    assert paired.loc["bald", "OOD vs random se"] == pytest.approx(
        100 * np.std([0.04, 0.06, 0.03], ddof=1) / np.sqrt(3)
    )
    assert paired.loc["bald", "z"] == pytest.approx(4.91, abs=0.01)
    assert paired.loc["bald", "ID vs random"] == 0
    # the gap at round 0 is 30, 30 and 20 points; bald gains 6, 6, 6
    assert paired.loc["bald", "gap closed [%]"] == pytest.approx(
        100 * 6 / (80 / 3), abs=0.1
    )
    assert np.isnan(paired.loc["random", "OOD vs random"])
    accuracy = tables["Accuracy [%] by labels bought"]
    assert accuracy.query("strategy == 'bald' and n_bought == 5")["OOD"].item() == (
        pytest.approx(66.0)
    )


def test_write_gives_tables_runs_record_and_figure(latent_result, tmp_path):
    paths = write_results(latent_result, tmp_path)
    assert paths["figure"].name == "active_positivity.png"
    assert paths["figure"].stat().st_size > 0
    text = paths["markdown"].read_text()
    assert "Accuracy [%] by labels bought" in text and "quadrant" in text
    record = json.loads(paths["json"].read_text())
    assert record["config"]["budget"] == 0.1
    assert len(pd.read_csv(paths["csv"])) == 36


def test_the_confounding_variant_buys_inconsistent_pairs():
    source = SyntheticConfounded(n_train=200, n_test=100, n_features=4)
    result = run_active(
        ACTIVE_CONFOUNDING,
        source,
        strategies=["random", "inconsistent"],
        n_seeds=1,
        n_rounds=1,
        budget=20,
        **TINY,
    )
    runs = result.runs
    assert set(runs["test"]) == {"consistent", "inconsistent"}
    assert set(runs["model"]) == {"Base"} and set(runs["rho_train"]) == {1.0}
    share = runs.query("round == 1").groupby("strategy")["share_informative"].first()
    assert share["inconsistent"] == 1.0 and share["random"] < 1.0


def test_a_pool_of_the_hh_rlhf_data_is_disjoint_from_training_and_tests(data_home):
    source = RelabeledHHRLHF(n_train=400)
    source.prepare(ACTIVE_CONFOUNDING, [0])
    train, _ = source._rows(0.9, [7])
    pool = source.pool(0.9, [7], n_pool=None, pool_rho=None, seed=1)
    tested = np.vstack([X for X, _ in source.tests_.values()])
    held = {row.tobytes() for row in np.vstack([source.X_[train], tested])}
    assert not any(row.tobytes() in held for row in pool.X)
    assert len(pool.y) == len(source.pool_) - 400
    assert set(np.unique(pool.side)) == {0, 1}
    smaller = source.pool(0.9, [7], n_pool=50, pool_rho=None, seed=1)
    assert len(smaller.y) == 50


def test_a_pool_of_held_pairs_leaves_out_every_per_draw_test_pair():
    data = make_latent_preferences(900, n_features=3, rho=0.0, random_state=0)
    source = PairSource(data.X, data.y, delta=data.delta, n_train=200, n_test=100)
    source.prepare(ACTIVE_POSITIVITY, [0])
    train, tests = source._rows(0.6, [3])
    pool = source.pool(0.6, [3], n_pool=None, pool_rho=None, seed=0)
    used = np.concatenate([train, *tests.values()])
    assert len(pool.y) == 900 - len(np.unique(used))
    kept = {row.tobytes() for row in pool.X}
    assert not any(row.tobytes() in kept for row in data.X[used])
    assert_array_equal(
        np.sort(pool.side[:, 0]), np.sort(np.delete(data.delta, used, 0)[:, 0])
    )


# -- bad input ----------------------------------------------------------------------


def small_latent():
    return SyntheticLatent(n_train=100, n_test=50, n_features=4, label_noise=0.3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"strategies": ["random", "quadrnt"]},
            "unknown strategy 'quadrnt'.*Did you mean 'quadrant'",
        ),
        (
            {"strategies": ["inconsistent"]},
            "unknown strategy 'inconsistent' for the active-positivity protocol",
        ),
        ({"strategies": []}, "strategies is empty"),
        ({"budget": 0}, r"budget must be a share of the training pairs in \(0, 1\]"),
        ({"budget": 1.5}, "budget must be a share"),
        ({"budget": True}, "budget must be a share"),
        ({"budget": 3, "n_rounds": 4}, "a budget of 3 .* cannot fill 4 rounds"),
        ({"budget": 500}, "the budget of 500 labels exceeds the 100 pairs of the pool"),
        ({"n_rounds": 0}, "run_active_protocol: n_rounds must be an integer >= 1"),
        ({"n_members": 0}, "n_members must be an integer >= 1"),
        ({"pool_rho": 1.5}, r"pool_rho must be None or a number in \[-1.0, 1.0\]"),
        (
            {"pool_rho": 1.0},
            "Synthetic draws latent factors with correlation "
            r"in \(-1, 1\); got rho=1.0",
        ),
        ({"rhos": [2.0]}, r"run_active_protocol: the active-positivity protocol takes"),
    ],
)
def test_bad_settings_are_refused(kwargs, match):
    settings = {**TINY, "n_seeds": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        run_active(ACTIVE_POSITIVITY, small_latent(), **settings)


def test_the_paper_protocols_are_not_active_ones():
    with pytest.raises(
        ValueError,
        match="runs the active protocols .* got 'latent-positivity'. Use run_protocol",
    ):
        run_active(LATENT_POSITIVITY, small_latent(), **TINY)


def test_a_source_without_a_pool_is_named():
    class Elsewhere(Source):
        sides = ("delta",)

        def _prepare(self, protocol, source_seeds):
            self.n_draw_seeds_ = 2

        def draw(self, rho, seed, draw_seeds):
            return (
                SyntheticLatent(n_train=50, n_test=20, n_features=4)
                .prepare(ACTIVE_POSITIVITY, [0])
                .draw(rho, seed, draw_seeds)
            )

        def params(self):
            return {}

    with pytest.raises(ValueError, match="Elsewhere cannot give an unlabelled pool"):
        run_active(ACTIVE_POSITIVITY, Elsewhere(), n_seeds=1, **TINY)


def test_a_held_pool_can_be_drawn_with_a_share_of_consistent_pairs(data_home):
    source = RelabeledHHRLHF(n_train=1400)
    source.prepare(ACTIVE_CONFOUNDING, [0])
    pool = source.pool(1.0, [1], n_pool=None, pool_rho=0.5, seed=0)
    consistent = pool.side == pool.X[:, -1]
    assert consistent.mean() == 0.5 and len(pool.y) > 100
    # equal counts per objective
    assert np.bincount(pool.X[:, -1].astype(int)).tolist() == [len(pool.y) // 2] * 2
    as_they_come = source.pool(1.0, [1], n_pool=None, pool_rho=None, seed=0)
    assert (as_they_come.side == as_they_come.X[:, -1]).mean() < 0.2
    smaller = source.pool(1.0, [1], n_pool=100, pool_rho=0.5, seed=0)
    assert len(smaller.y) == 100


def test_a_held_pool_says_what_it_cannot_draw(data_home):
    source = RelabeledHHRLHF(n_train=200)
    source.prepare(ACTIVE_CONFOUNDING, [0])
    with pytest.raises(ValueError, match="n_pool=9999 is too many"):
        source.pool(0.9, [1], n_pool=9999, pool_rho=None, seed=0)
    with pytest.raises(
        ValueError,
        match=r"room for at most \d+ pool pairs with "
        r"P\(type = objective\) = 0.5.*n_pool=9999 cannot",
    ):
        source.pool(0.9, [1], n_pool=9999, pool_rho=0.5, seed=0)
    data = make_latent_preferences(300, n_features=3, rho=0.0, random_state=0)
    latent = PairSource(data.X, data.y, delta=data.delta, n_train=100, n_test=50)
    latent.prepare(ACTIVE_POSITIVITY, [0])
    with pytest.raises(ValueError, match="applies to the confounding protocol only"):
        latent.pool(0.0, [1], n_pool=None, pool_rho=0.5, seed=0)


def test_the_default_ensemble_is_reward_ensemble():
    made = []

    def bagged(estimator, *, n_members, random_state):
        made.append(n_members)
        return skpref.RewardEnsemble(
            estimator, n_members=n_members, bootstrap=True, random_state=random_state
        )

    source = small_latent()
    result = run_active(ACTIVE_POSITIVITY, source, n_seeds=1, **TINY)
    assert result.config["ensemble"] == "RewardEnsemble"
    bagged_result = run_active(
        ACTIVE_POSITIVITY, source, n_seeds=1, ensemble=bagged, **TINY
    )
    assert made == [2] and bagged_result.config["ensemble"] == "bagged"


def test_an_ensemble_that_is_not_callable_is_refused_before_any_work():
    source = SyntheticLatent(n_train=200, n_test=100, n_features=4)
    with pytest.raises(
        ValueError,
        match=r"ensemble must be a class \(or function\) called as "
        r"ensemble\(estimator, n_members=\.\.\., random_state=\.\.\.\).*"
        r"got 'RewardEnsemble'",
    ):
        run_active(ACTIVE_POSITIVITY, source, ensemble="RewardEnsemble")


# -- command line -------------------------------------------------------------------

CLI_TINY = (
    "--n-train 200 --n-test 100 --width 8 --epochs 2 --lr 0.01 --no-progress "
    "--device cpu --seeds 1 --n-rounds 2 --n-members 2"
).split()


def test_reproduce_active_positivity_writes_everything(tmp_path, capsys):
    argv = ["reproduce", "active-positivity", *CLI_TINY, "--output", str(tmp_path)]
    assert main([*argv, "--strategies", "random", "quadrant+bald"]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {
        "active_positivity.md",
        "active_positivity_runs.csv",
        "active_positivity.json",
        "active_positivity.png",
    } <= names
    out = capsys.readouterr().out
    assert "Paired over seeds at the full budget" in out
    record = json.loads((tmp_path / "active_positivity.json").read_text())
    assert record["config"]["strategies"].keys() == {"random", "quadrant+bald"}
    assert record["config"]["query_size"] == [10]
    assert record["config"]["ensemble"] == "RewardEnsemble"


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--budget", "0"], "argument --budget: expected a share of the training"),
        (["--budget", "1.5"], "argument --budget: expected a share"),
        (["--budget", "lots"], "argument --budget: expected a share"),
        (["--n-rounds", "0"], "argument --n-rounds: expected an integer >= 1"),
        (["--strategies", "qudrant"], "unknown strategy 'qudrant'"),
        (["--pool-rho", "2"], "argument --pool-rho: expected a number in [-1, 1]"),
    ],
)
def test_bad_active_flags_stop_before_any_work(flags, message, tmp_path, cli_error):
    argv = ["reproduce", "active-positivity", *flags, "--output", str(tmp_path)]
    assert message in cli_error(argv)


def test_the_active_protocols_refuse_a_cluster(tmp_path, cli_error):
    argv = ["reproduce", "active-positivity", "--workers", "2"]
    err = cli_error([*argv, "--output", str(tmp_path)])
    assert "argument --workers: the active-positivity protocol runs in this " in err


def test_active_flags_are_refused_by_the_paper_protocols(tmp_path, cli_error):
    argv = ["reproduce", "latent-positivity", "--budget", "0.1"]
    err = cli_error([*argv, "--output", str(tmp_path)])
    assert "argument --budget: not used by --data synthetic" in err


def test_the_protocols_are_registered_by_name():
    assert PROTOCOLS["active-positivity"].active
    assert PROTOCOLS["active-confounding"].groups == ["consistent", "inconsistent"]
    assert list(default_strategies("prompt_type"))[-2:] == [
        "inconsistent",
        "inconsistent+bald",
    ]
    out = io.StringIO()
    with pytest.raises(SystemExit):
        main(["reproduce", "--help"], out=out)
