"""The latent-positivity protocol on UltraFeedback-format data (appendix D.2)."""

import io
import json

import numpy as np
import pandas as pd
import pytest

from skpref._cli import main
from skpref.datasets import load_ultrafeedback
from skpref.experiments import (
    FACTORS,
    label_ultrafeedback_pairs,
    run_latent_positivity_ultrafeedback,
)

ASPECTS = ("instruction_following", "honesty", "truthfulness", "helpfulness")
WORDS = "answer correct truthful wrong weather sea mountains user instruction".split()


def write_ultrafeedback(path, *, n_prompts=100, n_completions=4, na_rate=0.05, seed=0):
    """A raw OpenBMB-format file: ratings as strings, some "N/A"."""
    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8") as f:
        for p in range(n_prompts):
            completions = []
            for c in range(n_completions):
                ratings = {
                    a: "N/A" if rng.random() < na_rate else str(rng.integers(1, 6))
                    for a in ASPECTS
                }
                text = " ".join(rng.choice(WORDS, size=6))
                completions.append(
                    {
                        "model": f"m{c}",
                        "response": f"{text} {p} {c}",
                        "annotations": {
                            a: {"Rating": r, "Rationale": "."}
                            for a, r in ratings.items()
                        },
                    }
                )
            record = {"source": "test", "instruction": f"Question {p}: weather?",
                      "completions": completions}  # fmt: skip
            f.write(json.dumps(record) + "\n")
    return path


@pytest.fixture(scope="module")
def uf_file(tmp_path_factory):
    return write_ultrafeedback(tmp_path_factory.mktemp("uf") / "uf.jsonl")


@pytest.fixture(scope="module")
def result(uf_file, tiny_bert, tmp_path_factory):
    cache = tmp_path_factory.mktemp("uf_cache")
    out = run_latent_positivity_ultrafeedback(
        uf_file, rhos=(0.0, 0.3), n_seeds=2, n_train=80, n_test=30, width=8,
        lr=1e-2, max_epochs=2, embedding_model=tiny_bert, cache_dir=cache,
        max_length=32, random_state=0,
    )  # fmt: skip
    out.cache = cache
    return out


def test_labels_follow_the_reward_rule_and_drop_na_pairs(uf_file):
    pairs = load_ultrafeedback(uf_file).pairs
    labelled = label_ultrafeedback_pairs(pairs, random_state=3)
    rated = pairs[[f"{f}_{s}" for f in FACTORS for s in "ab"]].notna().all(axis=1)
    assert 0 < rated.sum() < len(pairs)  # the fixture has "N/A" ratings
    assert len(labelled) == rated.sum()
    assert labelled[[f"delta_{f}" for f in FACTORS]].notna().all().all()
    r_a = 0.25 * labelled["truthfulness_a"] + 0.75 * labelled["instruction_following_a"]
    r_b = 0.25 * labelled["truthfulness_b"] + 0.75 * labelled["instruction_following_b"]
    np.testing.assert_array_equal(labelled["y"][r_a > r_b], 1)
    np.testing.assert_array_equal(labelled["y"][r_a < r_b], 0)
    ties = labelled["tie"].to_numpy()
    np.testing.assert_array_equal(ties, np.isclose(r_a, r_b))
    assert ties.sum() >= 10 and set(labelled["y"][ties]) == {0, 1}
    again = label_ultrafeedback_pairs(pairs, random_state=3)["y"]
    other = label_ultrafeedback_pairs(pairs, random_state=4)["y"]
    np.testing.assert_array_equal(again, labelled["y"])
    assert not np.array_equal(other[ties], labelled["y"][ties])
    np.testing.assert_array_equal(other[~ties], labelled["y"][~ties])


def test_tie_on_weighted_reward_not_on_single_factor():
    pairs = pd.DataFrame({"delta_truthfulness": [3.0, -3.0, 1.0],
                          "delta_instruction_following": [-1.0, 1.0, 0.0]})  # fmt: skip
    labelled = label_ultrafeedback_pairs(pairs)
    assert labelled["tie"].tolist() == [True, True, False]
    assert labelled["y"].iloc[2] == 1  # 0.25 * 1 > 0


def test_labelling_needs_the_factor_columns():
    with pytest.raises(ValueError, match="no column .*delta_truthfulness"):
        label_ultrafeedback_pairs(pd.DataFrame({"delta_honesty": [1.0]}))


def test_protocol_runs_every_rho_seed_and_test_set(result, tiny_bert):
    runs = result.runs
    assert len(runs) == 2 * 2 * 2
    assert set(runs["data"]) == {"ultrafeedback"}
    assert sorted(set(zip(runs["rho_train"], runs["test"], strict=True))) == [
        (0.0, "ID"), (0.0, "OOD"), (0.3, "ID"), (0.3, "OOD")
    ]  # fmt: skip
    np.testing.assert_allclose(runs["rho_achieved"], runs["rho_train"], atol=0.02)
    assert (runs["n_test"] == 30).all()
    assert runs["accuracy"].between(0, 1).all()
    for rho, delta in result.deltas.items():
        assert delta.shape == (80, 2)
        assert abs(np.corrcoef(delta.T)[0, 1] - rho) <= 0.02
    assert result.config["n_pairs_rated"] == len(result.pairs)
    assert result.config["embedding_model"] == str(tiny_bert)
    assert any(result.cache.rglob("*")), "embeddings were not cached"


def test_protocol_is_reproducible(result, uf_file, tiny_bert):
    again = run_latent_positivity_ultrafeedback(
        uf_file, rhos=(0.3,), n_seeds=1, n_train=80, n_test=30, width=8, lr=1e-2,
        max_epochs=2, embedding_model=tiny_bert, cache_dir=result.cache,
        max_length=32, random_state=0,
    )  # fmt: skip
    first = result.runs[(result.runs["seed"] == 0) & (result.runs["rho_train"] == 0.3)]
    np.testing.assert_allclose(again.runs["accuracy"], first["accuracy"])
    np.testing.assert_array_equal(again.deltas[0.3], result.deltas[0.3])


def test_max_prompts_keeps_whole_prompts(uf_file, tiny_bert, result):
    small = run_latent_positivity_ultrafeedback(
        uf_file, rhos=(0.0,), n_seeds=1, n_train=40, n_test=20, width=8,
        max_epochs=1, embedding_model=tiny_bert, cache_dir=result.cache,
        max_length=32, max_prompts=30,
    )  # fmt: skip
    kept = small.pairs.groupby("prompt_id").size()
    assert len(kept) == 30
    full = result.pairs.groupby("prompt_id").size()
    pd.testing.assert_series_equal(kept, full[kept.index])
    with pytest.raises(ValueError, match="cannot draw 80 training .*--rhos"):
        run_latent_positivity_ultrafeedback(
            uf_file, rhos=(0.0,), n_seeds=1, n_train=80, n_test=40,
            embedding_model=tiny_bert, cache_dir=result.cache, max_length=32,
            max_prompts=5,
        )  # fmt: skip


def test_unreachable_rho_is_a_clear_error(uf_file, tiny_bert, result):
    with pytest.raises(ValueError, match=r"rho_train=0\.99 .*Use a larger file"):
        run_latent_positivity_ultrafeedback(
            uf_file, rhos=(0.99,), n_seeds=1, n_train=150, n_test=40,
            embedding_model=tiny_bert, cache_dir=result.cache, max_length=32,
        )  # fmt: skip


def test_all_na_file_is_a_clear_error(tmp_path, tiny_bert):
    path = write_ultrafeedback(tmp_path / "na.jsonl", n_prompts=3, na_rate=1.0)
    with pytest.raises(ValueError, match="no pair of .* has both"):
        run_latent_positivity_ultrafeedback(path, embedding_model=tiny_bert)


def test_cli_writes_table_csv_json_and_figure(uf_file, tiny_bert, tmp_path, result):
    out = io.StringIO()
    status = main(
        ["reproduce", "latent-positivity", "--ultrafeedback", str(uf_file),
         "--embedding-model", str(tiny_bert), "--rhos", "0.0", "0.3",
         "--seeds", "2", "--n-train", "80", "--n-test", "30", "--width", "8",
         "--lr", "1e-2", "--epochs", "2", "--max-length", "32",
         "--output", str(tmp_path), "--no-progress"],
        out=out,
    )  # fmt: skip
    assert status == 0
    name = "latent_positivity_ultrafeedback"
    markdown = (tmp_path / f"{name}.md").read_text()
    assert "Table 1 (UltraFeedback)" in markdown and "ID − OOD" in markdown
    assert "68.3 ± 0.2" in markdown  # the paper's ID accuracy at rho = 0.3
    runs = pd.read_csv(tmp_path / f"{name}_runs.csv")
    pd.testing.assert_series_equal(
        runs["accuracy"], result.runs["accuracy"], check_names=False
    )
    config = json.loads((tmp_path / f"{name}.json").read_text())["config"]
    assert config["path"] == str(uf_file) and config["rhos"] == [0.0, 0.3]
    assert (tmp_path / "figure7_delta_plane_ultrafeedback.png").stat().st_size > 1000
    assert any((tmp_path / "embedding_cache").rglob("*"))
    assert "Table 1 (UltraFeedback)" in out.getvalue()


def test_cli_rejects_ultrafeedback_for_confounding(uf_file, tmp_path):
    with pytest.raises(SystemExit, match="does not use --ultrafeedback"):
        main(["reproduce", "confounding", "--ultrafeedback", str(uf_file),
              "--output", str(tmp_path)], out=io.StringIO())  # fmt: skip
