"""UltraFeedback-format data as a latent-positivity source (appendix D.2)."""

import io
import json

import numpy as np
import pandas as pd
import pytest

from skpref._cli import main
from skpref.datasets import load_ultrafeedback
from skpref.experiments import (
    default_embedder,
    run_protocol,
)
from skpref.experiments._pool_sources import (
    FACTORS,
    UltraFeedback,
    label_ultrafeedback_pairs,
)
from tests.experiments.protocols import (
    LATENT_POSITIVITY,
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
            record = {
                "source": "test",
                "instruction": f"Question {p}: weather?",
                "completions": completions,
            }
            f.write(json.dumps(record) + "\n")
    return path


@pytest.fixture(scope="module")
def uf_file(tmp_path_factory):
    return write_ultrafeedback(tmp_path_factory.mktemp("uf") / "uf.jsonl")


def tiny_embedder(model, cache):
    return default_embedder(model, max_length=32, cache_dir=cache)


def run_uf(path, model, cache, *, rhos=(0.0, 0.3), n_seeds=2, random_state=0, **source):
    source = {"n_train": 80, "n_test": 30, **source}
    source = UltraFeedback(path, embedder=tiny_embedder(model, cache), **source)
    return run_protocol(
        LATENT_POSITIVITY,
        source,
        rhos=rhos,
        n_seeds=n_seeds,
        width=8,
        lr=1e-2,
        max_epochs=2,
        device="cpu",
        random_state=random_state,
    )


@pytest.fixture(scope="module")
def result(uf_file, tiny_bert, tmp_path_factory):
    cache = tmp_path_factory.mktemp("uf_cache")
    out = run_uf(uf_file, tiny_bert, cache)
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
    pairs = pd.DataFrame(
        {
            "delta_truthfulness": [3.0, -3.0, 1.0],
            "delta_instruction_following": [-1.0, 1.0, 0.0],
        }
    )
    labelled = label_ultrafeedback_pairs(pairs)
    assert labelled["tie"].tolist() == [True, True, False]
    assert labelled["y"].iloc[2] == 1  # 0.25 * 1 > 0


def test_labelling_needs_the_factor_columns():
    with pytest.raises(ValueError, match="no column .*delta_truthfulness"):
        label_ultrafeedback_pairs(pd.DataFrame({"delta_honesty": [1.0]}))


def test_protocol_runs_every_rho_seed_and_test_set(result, tiny_bert):
    runs = result.runs
    assert len(runs) == 2 * 2 * 2
    assert set(runs["data"]) == {"ultrafeedback"} and set(runs["model"]) == {"BTL"}
    assert sorted(set(zip(runs["rho_train"], runs["test"], strict=True))) == [
        (0.0, "ID"),
        (0.0, "OOD"),
        (0.3, "ID"),
        (0.3, "OOD"),
    ]
    np.testing.assert_allclose(runs["rho_achieved"], runs["rho_train"], atol=0.02)
    assert (runs["n_test"] == 30).all()
    assert runs["accuracy"].between(0, 1).all()
    assert runs["alpha_hat"].notna().all()
    for rho, delta in result.deltas.items():
        assert delta.shape == (80, 2)
        assert abs(np.corrcoef(delta.T)[0, 1] - rho) <= 0.02
    pairs = result.source.pairs_
    assert result.config["n_pairs_rated"] == len(pairs)
    assert result.config["embedding_model"] == str(tiny_bert)
    assert any(result.cache.rglob("*")), "embeddings were not cached"


def test_ood_test_pairs_are_in_the_disagreement_quadrants(result):
    source = result.source
    draw = source.draw(0.3, 5, [6])
    X_ood, _ = draw.tests["OOD"]
    rows = [np.flatnonzero((source.X_ == x).all(axis=1))[0] for x in X_ood]
    delta = source.side_[rows]
    assert np.all(delta[:, 0] * delta[:, 1] < 0)
    train = {tuple(x) for x in draw.X}
    assert not train & {tuple(x) for x in X_ood}


def test_protocol_is_reproducible(result, uf_file, tiny_bert):
    again = run_uf(uf_file, tiny_bert, result.cache, rhos=(0.3,), n_seeds=1)
    first = result.runs[(result.runs["seed"] == 0) & (result.runs["rho_train"] == 0.3)]
    np.testing.assert_allclose(again.runs["accuracy"], first["accuracy"])
    np.testing.assert_array_equal(again.deltas[0.3], result.deltas[0.3])


def test_max_prompts_keeps_whole_prompts(uf_file, tiny_bert, result):
    small = run_uf(
        uf_file,
        tiny_bert,
        result.cache,
        rhos=(0.0,),
        n_seeds=1,
        n_train=40,
        n_test=20,
        max_prompts=30,
    )
    kept = small.source.pairs_.groupby("prompt_id").size()
    assert len(kept) == 30
    full = result.source.pairs_.groupby("prompt_id").size()
    pd.testing.assert_series_equal(kept, full[kept.index])
    with pytest.raises(
        ValueError, match="cannot draw n_train=80 training .*other rhos"
    ):
        run_uf(
            uf_file,
            tiny_bert,
            result.cache,
            rhos=(0.0,),
            n_seeds=1,
            n_test=40,
            max_prompts=5,
        )


def test_unreachable_rho_is_a_clear_error(uf_file, tiny_bert, result):
    with pytest.raises(ValueError, match=r"UltraFeedback: cannot draw .*rho=0\.99"):
        run_uf(
            uf_file,
            tiny_bert,
            result.cache,
            rhos=(0.99,),
            n_seeds=1,
            n_train=150,
            n_test=40,
        )


def test_all_na_file_is_a_clear_error(tmp_path, tiny_bert):
    path = write_ultrafeedback(tmp_path / "na.jsonl", n_prompts=3, na_rate=1.0)
    with pytest.raises(ValueError, match="no pair of .* has both"):
        run_uf(path, tiny_bert, tmp_path / "cache")


def test_cli_writes_table_csv_json_and_figure(uf_file, tiny_bert, tmp_path, result):
    out = io.StringIO()
    status = main(
        [
            "reproduce",
            "latent-positivity",
            "--data",
            "ultrafeedback",
            "--data-path",
            str(uf_file),
            "--embedding-model",
            str(tiny_bert),
            "--rhos",
            "0.0",
            "0.3",
            "--seeds",
            "2",
            "--n-train",
            "80",
            "--n-test",
            "30",
            "--width",
            "8",
            "--lr",
            "1e-2",
            "--epochs",
            "2",
            "--max-length",
            "32",
            "--output",
            str(tmp_path),
            "--no-progress",
            "--device",
            "cpu",
        ],
        out=out,
    )
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


def test_ultrafeedback_feeds_latent_positivity_only(uf_file, tmp_path, cli_error):
    argv = ["reproduce", "confounding", "--data", "ultrafeedback", "--data-path"]
    err = cli_error([*argv, str(uf_file), "--output", str(tmp_path)])
    assert (
        "argument --data: The 'ultrafeedback' data do not give the prompt_type" in err
    )
