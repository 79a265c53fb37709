import numpy as np
import pandas as pd
import pytest

from skpref.evaluation import compare, evaluate, length_ruler, load_benchmark
from skpref.evaluation._scoring import resample_scores
from skpref.evaluation._stats import (
    holm,
    length_controlled_accuracy,
    percentile_interval,
    sign_test,
)
from tests.evaluation.conftest import FILES


def test_bootstrap_interval_covers_a_known_accuracy():
    # 1,000 benchmarks of 300 pairs, each pair right with probability 0.7: the
    # 95 % interval of each must hold 0.7 about 95 % of the time
    rng = np.random.default_rng(0)
    n_runs, n, accuracy = 1000, 300, 0.7
    results = pd.DataFrame(
        {
            "id": np.arange(n_runs * n).astype(str),
            "subset": np.repeat(np.arange(n_runs).astype(str), n),
            "value": (rng.random(n_runs * n) < accuracy).astype(float),
        }
    )
    rows, resamples = resample_scores("pairs", results, n_resamples=400,
                                      random_state=1)  # fmt: skip
    low, high = percentile_interval(resamples[:, :n_runs], 0.05)
    assert [r[0] for r in rows[:n_runs]] == ["subset"] * n_runs
    coverage = np.mean((low <= accuracy) & (accuracy <= high))
    assert 0.93 <= coverage <= 0.97, coverage


def test_weighted_totals_come_from_the_same_resamples():
    bench = load_benchmark("rewardbench", FILES["rewardbench"])
    with pytest.warns(UserWarning, match="fewer than 10"):
        report = evaluate(length_ruler, bench, n_resamples=50, random_state=3)
    scores = report.scores
    sections = (scores["level"] == "section").to_numpy()
    total = (scores["level"] == "total").to_numpy()
    np.testing.assert_allclose(
        report.resamples[:, total][:, 0], report.resamples[:, sections].mean(axis=1)
    )
    assert report.resamples.shape == (51, len(scores))
    with pytest.warns(UserWarning, match="fewer than 10"):
        again = evaluate(length_ruler, bench, n_resamples=50, random_state=3)
    np.testing.assert_array_equal(again.resamples, report.resamples)  # seeded


def test_small_subset_warns_and_widens():
    data = [{"id": i, "prompt": "Q", "chosen": "long answer", "rejected": "no"}
            for i in range(4)]  # fmt: skip
    with pytest.warns(UserWarning, match="'pairs' has 4 examples"):
        report = evaluate(length_ruler, load_benchmark("pairs", data))
    row = report.scores.iloc[0]
    assert row["score"] == 1.0 and row["ci_high"] == 1.0
    assert row["ci_low"] < 0.5  # Clopper-Pearson for 4 of 4: [0.40, 1]


def test_length_controlled_accuracy_weighs_strata_equally():
    # a ruler-like model: right on the 9 pairs whose chosen is much longer,
    # wrong on the 1 whose chosen is much shorter
    pairs = pd.DataFrame({"length_chosen": [100] * 9 + [10],
                          "length_rejected": [10] * 9 + [100]})  # fmt: skip
    pairs["rc"] = pairs["length_chosen"]
    pairs["rr"] = pairs["length_rejected"]
    accuracy, agreement = length_controlled_accuracy(pairs)
    assert np.mean(pairs["rc"] > pairs["rr"]) == 0.9
    assert accuracy == 0.5 and agreement == 1.0


def test_equal_rewards_do_not_agree_with_the_ruler():
    # a scorer that gives every response the same reward orders no pair by
    # length, whichever side the longer response is on
    for chosen, rejected in ((10, 100), (100, 10)):
        pairs = pd.DataFrame({"length_chosen": [chosen] * 4,
                              "length_rejected": [rejected] * 4,
                              "rc": [0.0] * 4, "rr": [0.0] * 4})  # fmt: skip
        assert length_controlled_accuracy(pairs)[1] == 0.0


def test_report_shows_the_ruler_beside_every_score():
    bench = load_benchmark("rewardbench2", FILES["rewardbench2"])
    with pytest.warns(UserWarning):
        report = evaluate(lambda p, r: -length_ruler(p, r), bench, n_resamples=20)
    scores = report.scores
    assert list(scores.columns[:6]) == ["level", "name", "score", "ci_low",
                                        "ci_high", "n"]  # fmt: skip
    assert scores["ruler"].notna().all()
    subsets = scores[scores["level"] == "subset"]
    # the reversed ruler never agrees with the ruler where lengths differ
    assert (subsets["ruler_agreement"] == 0).all()
    assert scores["level"].tolist()[-1] == "total" and len(subsets) == 6


def test_sign_test_and_holm():
    assert sign_test([1, 0, 1], [1, 0, 1]) == (0, 0, 1.0)
    a_better, b_better, p = sign_test([1] * 8 + [0] * 2, [0] * 8 + [1] * 2)
    assert (a_better, b_better) == (8, 2) and p == pytest.approx(0.109375)
    np.testing.assert_allclose(holm([0.01, 0.02, 0.5]), [0.03, 0.04, 0.5])
    np.testing.assert_allclose(holm([0.04, 0.01]), [0.04, 0.02])  # monotone


def test_compare_pairs_reports():
    rng = np.random.default_rng(0)
    data = [
        {"id": i, "subset": f"s{i % 2}", "prompt": "Q",
         "chosen": "x" * int(rng.integers(20, 60)),
         "rejected": "y" * int(rng.integers(5, 40))}
        for i in range(60)
    ]  # fmt: skip
    bench = load_benchmark("pairs", data)
    a = evaluate(length_ruler, bench, n_resamples=200)
    b = evaluate(lambda p, r: -length_ruler(p, r), bench, n_resamples=200)
    table = compare(a, b)
    total = table[table["name"] == "total"].iloc[0]
    assert total["difference"] == pytest.approx(a.total - b.total)
    assert total["ci_low"] <= total["difference"] <= total["ci_high"]
    assert total["a_better"] + total["b_better"] <= 60 and total["pvalue"] < 0.05
    assert (table["pvalue_holm"] >= table["pvalue"]).all()
    same = compare(a, a)
    assert (same["difference"] == 0).all() and (same["pvalue"] == 1).all()
    with pytest.raises(ValueError, match="same random_state and n_resamples"):
        compare(a, evaluate(length_ruler, bench, n_resamples=200, random_state=1))
    other = load_benchmark("pairs", data[:30])
    with pytest.raises(ValueError, match="same benchmark examples"):
        compare(a, evaluate(length_ruler, other, n_resamples=200))
    with pytest.raises(ValueError, match="alpha=0.05 and alpha=0.5"):
        compare(a, evaluate(length_ruler, bench, n_resamples=200, alpha=0.5))


def test_the_total_is_tested_on_the_examples_it_counts():
    # a "pairs" benchmark counts every subset in its total, also one named
    # like a RewardBench prior set; a RewardBench total only its sections'
    shp = [{"prompt": f"A{i}", "chosen": "yes", "rejected": "no!", "subset": "shp"}
           for i in range(30)]  # fmt: skip
    rest = [{"prompt": f"B{i}", "chosen": "yes", "rejected": "no!",
             "subset": "other"} for i in range(10)]  # fmt: skip
    bench = load_benchmark("pairs", shp + rest)
    a = evaluate(lambda p, r: [float(x == "yes") for x in r], bench, n_resamples=20)
    b = evaluate(lambda p, r: [0.0] * len(r), bench, n_resamples=20)
    total = compare(a, b).set_index("name").loc["total"]
    assert (total["a_better"], total["b_better"]) == (40, 0)
    assert a.scores.set_index("name").loc["total", "n"] == 40
    extra = [{"id": f"x{i}", "subset": "my-extra", "prompt": "Q", "chosen": "yes",
              "rejected": "no!"} for i in range(30)]  # fmt: skip
    easy = [{"id": f"e{i}", "subset": "alpacaeval-easy", "prompt": "Q",
             "chosen": "yes", "rejected": "no!"} for i in range(10)]  # fmt: skip
    bench = load_benchmark("rewardbench", pd.DataFrame(easy + extra))
    with pytest.warns(UserWarning, match="not RewardBench v1 subsets"):
        a = evaluate(lambda p, r: [float(x == "yes") for x in r], bench,
                     n_resamples=20)  # fmt: skip
    with pytest.warns(UserWarning, match="not RewardBench v1 subsets"):
        b = evaluate(lambda p, r: [0.0] * len(r), bench, n_resamples=20)
    total = compare(a, b).set_index("name").loc["total"]
    assert (total["a_better"], total["b_better"]) == (10, 0)


def test_parameters_are_validated():
    bench = load_benchmark("pairs", [{"prompt": "Q", "chosen": "a", "rejected": "b"}])
    with pytest.raises(ValueError, match="'alpha' parameter of evaluate must be"):
        evaluate(length_ruler, bench, alpha=1.5)
    with pytest.raises(ValueError, match="'n_resamples' parameter of evaluate"):
        evaluate(length_ruler, bench, n_resamples=0)
