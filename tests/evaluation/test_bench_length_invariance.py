"""benchmarks/bench_length_invariance.py at toy size, on the shared HH-RLHF pairs."""

import numpy as np
import pandas as pd
import pytest

from tests.conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_length_invariance")


def test_split_shifts_the_training_pairs_and_keeps_the_test_pairs_natural(
    bench, data_home
):
    _, y, lengths = bench.load_pairs(data_home)
    test, shifted, natural = bench.split(y, lengths, seed=3)
    assert len(shifted) == len(natural) == int(bench.TRAIN_SHARE * len(y))
    assert len(test) == int(bench.TEST_SHARE * len(y))
    assert not set(test) & (set(shifted) | set(natural))
    longer_chosen = (y == 1) == (lengths["length_a"] > lengths["length_b"]).to_numpy()
    assert longer_chosen[shifted].mean() == pytest.approx(0.8, abs=1e-3)
    # the natural draws keep the data's own share (about 55 %), not the shift's
    assert abs(longer_chosen[test].mean() - longer_chosen.mean()) < 0.02
    assert abs(longer_chosen[natural].mean() - longer_chosen.mean()) < 0.03


def test_main_writes_one_row_per_method_and_seed(bench, data_home, tmp_path):
    out, figure = tmp_path / "runs.csv", tmp_path / "summary.png"
    argv = ["--seeds", "1", "--max-pairs", "500", "--epochs", "2", "--folds", "2"]
    argv += ["--data-home", str(data_home), "--out", str(out), "--figure", str(figure)]
    bench.main(argv)
    runs = pd.read_csv(out)
    assert list(runs.columns) == bench.COLUMNS
    assert runs["method"].tolist() == list(bench.METHODS)
    assert set(runs["seed"]) == {0}
    accuracies = runs[["overall_acc", "shorter_chosen_acc", "lc_acc"]].to_numpy()
    assert np.all((accuracies >= 0) & (accuracies <= 1))
    searched = runs.set_index("method").loc[list(bench.GRIDS)]
    for method, weight in searched["weight"].items():
        assert weight in bench.GRIDS[method]
    assert runs.set_index("method").loc[["btl", "eraser"], "weight"].isna().all()
    rule = runs.set_index("method").loc["longer_rule"]
    assert rule["shorter_chosen_acc"] == 0
    assert rule["abs_corr_length"] == pytest.approx(1)
    assert (runs["fit_seconds"] > 0).sum() == len(runs) - 1
    assert figure.stat().st_size > 10_000
