"""Summary tables (numbers, next to the paper's), Markdown, the model names."""

import numpy as np
import pandas as pd
import pytest

from skpref.experiments import (
    make_reward_model,
    markdown_table,
)
from skpref.experiments._protocols import MODEL_NAMES
from skpref.experiments._results import (
    PAPER_TABLE1,
    PAPER_TABLE2,
    PAPER_TABLE3,
    summarise_confounding,
    summarise_latent_positivity,
)
from skpref.experiments._run import fitted_alpha


def latent_runs(accuracy, model="BTL"):
    n = len(accuracy) // 2
    return pd.DataFrame(
        {
            "seed": list(range(n)) * 2,
            "rho_train": 0.3,
            "model": model,
            "test": ["ID"] * n + ["OOD"] * n,
            "accuracy": accuracy,
        }
    )


def test_latent_summary_mean_standard_error_and_paper():
    table = summarise_latent_positivity(latent_runs([0.70, 0.72, 0.74, 0.6, 0.6, 0.6]))
    table = table.set_index("test")
    # mean 72.0, sd 2.0, se 2/sqrt(3) = 1.155
    assert table.loc["ID", "ours"] == pytest.approx(72.0)
    assert table.loc["ID", "ours se"] == pytest.approx(2 / np.sqrt(3))
    assert table.loc["ID − OOD", "ours"] == pytest.approx(12.0)
    assert table.loc["OOD", "paper"] == 62.0 and table.loc["OOD", "paper se"] == 0.2
    assert table.loc["ID − OOD", "paper"] == pytest.approx(6.3)
    assert np.isnan(table.loc["ID − OOD", "paper se"])
    assert "model" not in table.columns
    lines = markdown_table(table.reset_index()).splitlines()
    assert lines[0] == "| test | rho_train | ours | paper |"
    assert lines[2] == "| ID | 0.3 | 72.0 ± 1.2 | 68.3 ± 0.2 |"
    assert lines[4] == "| ID − OOD | 0.3 | 12.0 ± 1.2 | 6.3 |"


def test_latent_summary_keeps_models_apart():
    runs = pd.concat(
        [
            latent_runs([0.9, 0.9, 0.8, 0.8]),
            latent_runs([0.6, 0.6, 0.5, 0.5], model="Other"),
        ]
    )
    table = summarise_latent_positivity(runs)
    ours = table.set_index(["model", "test"])["ours"]
    assert ours[("BTL", "ID")] == pytest.approx(90) and ours[("Other", "ID")] == 60


def test_confounding_summary_puts_paper_numbers_next_to_ours():
    runs = pd.DataFrame(
        {
            "split": ["test"] * 4 + ["train"] * 2,
            "rho": 1.0,
            "model": "Adversarial",
            "seed": [0, 1, 0, 1, 0, 1],
            "group": ["inconsistent"] * 2 + ["consistent"] * 2 + ["inconsistent"] * 2,
            "accuracy": [0.5, 0.6, 0.9, 0.9, np.nan, np.nan],
        }
    )
    table2 = summarise_confounding(runs, "test").set_index("group")
    assert table2.loc["inconsistent", "Adversarial"] == pytest.approx(55.0)
    assert table2.loc["inconsistent", "Adversarial se"] == pytest.approx(5.0)
    assert table2.loc["inconsistent", "Adversarial (paper)"] == 53.5
    table3 = summarise_confounding(runs, "train").set_index("group")
    assert np.isnan(table3.loc["inconsistent", "Adversarial"])
    assert np.isnan(table3.loc["inconsistent", "Adversarial (paper)"])
    line = markdown_table(table3.reset_index()).splitlines()[2]
    assert line == "| inconsistent | 1.0 | – | – |"


def test_markdown_pairs_only_columns_with_an_se_partner():
    frame = pd.DataFrame(
        {"name": ["a"], "n": [3], "x": [1.26], "x se": [0.04], "y se": [9.0]}
    )
    assert markdown_table(frame).splitlines()[2] == "| a | 3 | 1.3 ± 0.0 | 9.0 |"


def test_paper_tables_are_complete():
    assert len(PAPER_TABLE1) == 8
    assert len(PAPER_TABLE2) == 36
    assert len(PAPER_TABLE3) == 33  # no inconsistent training pairs at rho = 1
    assert PAPER_TABLE2[("consistent", "Multihead", 0.5)] == (66.0, 0.1)
    assert PAPER_TABLE3[("inconsistent", "Base", 0.9)] == (73.7, 0.4)
    assert {model for _, model, _ in PAPER_TABLE2} == set(MODEL_NAMES)


def test_fitted_alpha_recovers_a_linear_reward():
    class LinearReward:
        def predict_reward(self, E):
            return 0.3 * E[:, 0] + 0.7 * E[:, 1] + 5.0

    Z = np.random.default_rng(0).normal(size=(50, 2))
    assert fitted_alpha(LinearReward(), Z, Z) == pytest.approx(0.3)


def test_make_reward_model_names():
    from skpref import AdversarialRewardModel, BTLRewardRegressor

    assert make_reward_model("Base", width=8).with_objective
    assert isinstance(make_reward_model("BTL"), BTLRewardRegressor)
    adv = make_reward_model("Adversarial", width=8, adversary_weight=0.5, device="cpu")
    assert isinstance(adv, AdversarialRewardModel) and adv.device == "cpu"
    assert adv.adversary_weight == 0.5 and adv.discriminator_hidden_dim == 8
    with pytest.raises(ValueError, match="model name 'Lasso'; expected one of"):
        make_reward_model("Lasso")
