import numpy as np
import pandas as pd
import pytest

from skpref.experiments import (
    PAPER_TABLE1,
    PAPER_TABLE2,
    PAPER_TABLE3,
    fitted_alpha,
    run_confounding,
    run_latent_positivity,
    summarise_confounding,
    summarise_latent_positivity,
)
from skpref.experiments._common import make_reward_model, seeds_from

TINY = {"width": 16, "lr": 1e-2, "max_epochs": 3}


@pytest.fixture(scope="module")
def latent_result():
    return run_latent_positivity(
        rhos=(0.0, 0.9), n_seeds=2, n_train=300, n_test=200, n_features=6, **TINY
    )


@pytest.fixture(scope="module")
def confounding_result():
    return run_confounding(
        rhos=(0.5, 1.0), n_seeds=2, n_train=300, n_test=150, n_features=6, **TINY
    )


def test_latent_runs_layout(latent_result):
    runs = latent_result.runs
    assert len(runs) == 2 * 2 * 2
    assert set(runs["test"]) == {"ID", "OOD"}
    assert (runs["n_test"] == 200).all()
    assert runs["accuracy"].between(0, 1).all()
    # the achieved training correlation is the requested one
    for rho, achieved in runs.groupby("rho_train")["rho_achieved"].mean().items():
        assert achieved == pytest.approx(rho, abs=0.1)
    assert set(latent_result.deltas) == {0.0, 0.9}
    assert latent_result.deltas[0.9].shape == (300, 2)


def test_latent_models_learn(latent_result):
    id_acc = latent_result.runs.query("test == 'ID'")["accuracy"]
    assert id_acc.mean() > 0.75  # far above chance even with 3 epochs


def test_latent_is_reproducible(latent_result):
    again = run_latent_positivity(
        rhos=(0.0, 0.9), n_seeds=2, n_train=300, n_test=200, n_features=6, **TINY
    )
    cols = ["accuracy", "alpha_hat", "rho_achieved"]
    np.testing.assert_array_equal(again.runs[cols], latent_result.runs[cols])


def test_ood_test_set_is_in_the_disagreement_quadrants():
    from skpref.experiments._latent_positivity import _ood_pairs

    X, y, delta = _ood_pairs(100, 4, feature_map_seed=0, seed=1)
    assert X.shape == (100, 8) and y.shape == (100,)
    assert np.all(delta[:, 0] * delta[:, 1] < 0)


def test_fitted_alpha_recovers_a_linear_reward():
    class LinearReward:
        def predict_reward(self, E):
            return 0.3 * E[:, 0] + 0.7 * E[:, 1] + 5.0

    Z = np.random.default_rng(0).normal(size=(50, 2))
    assert fitted_alpha(LinearReward(), Z, Z) == pytest.approx(0.3)


def test_confounding_runs_layout(confounding_result):
    runs = confounding_result.runs
    assert len(runs) == 2 * 2 * 3 * 4
    assert set(runs["model"]) == {"Base", "Multihead", "Adversarial"}
    test = runs[runs["split"] == "test"]
    assert (test["n"] == 150).all()
    train = runs[runs["split"] == "train"]
    n_incons = train.groupby("rho").apply(
        lambda g: g[g["group"] == "inconsistent"]["n"].iloc[0], include_groups=False
    )
    assert n_incons[0.5] == 150 and n_incons[1.0] == 0
    at_one = train[(train["rho"] == 1.0) & (train["group"] == "inconsistent")]
    assert at_one["accuracy"].isna().all()


def test_confounding_models_share_training_sets(confounding_result):
    # all three models of a (seed, rho) see the same pairs: same group sizes
    train = confounding_result.runs.query("split == 'train'")
    sizes = train.groupby(["seed", "rho", "group"])["n"].nunique()
    assert (sizes == 1).all()


def test_confounding_rejects_unknown_options():
    with pytest.raises(ValueError, match="unknown models \\['Lasso'\\]"):
        run_confounding(models=("Base", "Lasso"))
    with pytest.raises(ValueError, match="data='ultra'; expected 'synthetic'"):
        run_confounding(data="ultra")


def test_make_reward_model_names():
    from skpref import AdversarialRewardModel, BTLRewardRegressor

    assert make_reward_model("Base", width=8).with_objective
    assert isinstance(make_reward_model("BTL"), BTLRewardRegressor)
    adv = make_reward_model("Adversarial", width=8, adversary_weight=0.5)
    assert isinstance(adv, AdversarialRewardModel)
    assert adv.adversary_weight == 0.5 and adv.discriminator_hidden_dim == 8
    with pytest.raises(ValueError, match="model name 'Lasso'; expected one of"):
        make_reward_model("Lasso")


def test_seeds_are_reproducible_and_distinct():
    assert seeds_from(3, 4) == seeds_from(3, 4)
    assert len(set(seeds_from([3, 700], 4))) == 4
    assert seeds_from([3, 700], 1) != seeds_from([3, 800], 1)
    assert all(0 <= s < 2**31 for s in seeds_from(0, 100))


def test_summaries_put_paper_numbers_next_to_ours(latent_result, confounding_result):
    table1 = summarise_latent_positivity(latent_result.runs)
    assert list(table1["test"].unique()) == ["ID", "OOD", "ID − OOD"]
    row = table1[(table1["test"] == "OOD") & (table1["rho_train"] == 0.9)].iloc[0]
    assert row["paper"] == "57.8 ± 0.1"
    gap = table1[(table1["test"] == "ID − OOD") & (table1["rho_train"] == 0.9)]
    assert gap["paper"].iloc[0] == "9.8"
    table2 = summarise_confounding(confounding_result.runs, "test")
    cell = table2[(table2["group"] == "inconsistent") & (table2["rho"] == 1.0)]
    assert cell["Adversarial (paper)"].iloc[0] == "53.5 ± 0.1"
    table3 = summarise_confounding(confounding_result.runs, "train")
    cell = table3[(table3["group"] == "inconsistent") & (table3["rho"] == 1.0)]
    assert cell["Base"].iloc[0] == "–" and cell["Base (paper)"].iloc[0] == "–"


def test_summary_mean_and_standard_error():
    runs = pd.DataFrame(
        {
            "seed": [0, 1, 2, 0, 1, 2],
            "rho_train": 0.3,
            "test": ["ID"] * 3 + ["OOD"] * 3,
            "accuracy": [0.70, 0.72, 0.74, 0.60, 0.60, 0.60],
        }
    )
    table = summarise_latent_positivity(runs).set_index("test")
    # mean 72.0, sd 2.0, se 2/sqrt(3) = 1.15
    assert table.loc["ID", "ours"] == "72.0 ± 1.2"
    assert table.loc["ID − OOD", "ours"] == "12.0 ± 1.2"


def test_paper_tables_are_complete():
    assert len(PAPER_TABLE1) == 8
    assert len(PAPER_TABLE2) == 36
    assert len(PAPER_TABLE3) == 33  # no inconsistent training pairs at rho = 1
    assert PAPER_TABLE2[("consistent", "Multihead", 0.5)] == (66.0, 0.1)
    assert PAPER_TABLE3[("inconsistent", "Base", 0.9)] == (73.7, 0.4)
