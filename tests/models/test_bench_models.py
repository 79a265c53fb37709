"""benchmarks/bench_models.py's fit-overhead section at toy size."""

import numpy as np
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
        # one repeat: its ratio is the paired one, without an interval
        assert row["paired_ratios"] == [pytest.approx(row["ratio"])]
        assert row["paired_level"] is None
    assert "epochs   pass   rest  paired: median [interval]" in capsys.readouterr().out
    # the timing wrappers are gone once the section ends
    assert NeuralNet.run_single_epoch.__qualname__ == "NeuralNet.run_single_epoch"
    side_rewards = BaseRewardModel._side_rewards.__qualname__
    assert side_rewards == "BaseRewardModel._side_rewards"


def test_paired_ratios_give_a_median_and_a_distribution_free_interval(bench):
    # four repeats: the range, which covers the median with probability 1 - 2/16
    row = bench._paired_ratio(np.array([1.2, 1.0, 1.1, 1.4]))
    assert row["paired_median"] == pytest.approx(1.15)
    assert (row["paired_low"], row["paired_high"]) == (1.0, 1.4)
    assert row["paired_level"] == pytest.approx(0.875)
    # nine: order statistics that cover it at 90% (the 2nd and 8th of nine:
    # P(Binomial(9, 1/2) in 2..7) = 0.961, where the 3rd and 7th give 0.820)
    ratios = np.arange(1, 10) / 10
    row = bench._paired_ratio(ratios[::-1].copy())
    assert row["paired_median"] == pytest.approx(0.5)
    assert (row["paired_low"], row["paired_high"]) == (0.2, 0.8)
    assert row["paired_level"] == 0.9
    assert "0.50x [0.20, 0.80] (90%)" == bench._paired_text(row)
