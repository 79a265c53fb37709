"""benchmarks/bench_models.py's fit-overhead section at toy size."""

import pytest
from skorch import NeuralNet

from skpref.models._base import BaseRewardModel
from tests.conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_models")


def test_the_overhead_is_split_into_its_parts(bench, capsys):
    size = {"n_pairs": 200, "d": 4, "width": 8, "epochs": 2}
    rows = bench.bench_overhead(size, "cpu", repeats=1)
    assert set(rows) == set(bench.MODELS)
    for row in rows.values():
        assert row["ratio"] == pytest.approx(row["skpref_s"] / row["bare_s"])
        parts = row["epochs_share"] + row["pass_share"] + row["rest_share"]
        assert parts == pytest.approx(row["ratio"])
        # the pass after training and the epochs were timed inside the fit
        assert 0 < row["pass_s"] < row["epochs_s"] < row["skpref_s"]
    assert "epochs   pass   rest" in capsys.readouterr().out
    # the timing wrappers are gone once the section ends
    assert NeuralNet.run_single_epoch.__qualname__ == "NeuralNet.run_single_epoch"
    side_rewards = BaseRewardModel._side_rewards.__qualname__
    assert side_rewards == "BaseRewardModel._side_rewards"
