import os

import pandas as pd
import pytest

from skpref.evaluation import load_benchmark
from tests.evaluation.conftest import FILES


@pytest.mark.parametrize(
    ("name", "n", "n_subsets", "sizes"),
    [
        ("rewardbench", 69, 23, {(1, 1)}),
        ("rewardbench2", 14, 6, {(1, 3), (1, 2), (3, 2)}),
        ("rm-bench", 10, 5, {(3, 3)}),
    ],
)
def test_official_files(name, n, n_subsets, sizes):
    bench = load_benchmark(name, FILES[name])
    ex = bench.examples
    assert bench.name == name and len(bench) == n
    assert list(ex.columns) == ["id", "subset", "prompt", "chosen", "rejected"]
    assert len(bench.subsets) == n_subsets
    assert {
        (len(c), len(r)) for c, r in zip(ex["chosen"], ex["rejected"], strict=True)
    } == sizes
    assert ex["id"].is_unique


def test_parquet_and_frame_read_the_same(tmp_path):
    frame = pd.read_json(FILES["rewardbench2"], lines=True)
    frame.to_parquet(tmp_path / "test.parquet")
    a = load_benchmark("rewardbench2", tmp_path / "test.parquet").examples
    b = load_benchmark("rewardbench2", frame).examples
    c = load_benchmark("rewardbench2", [str(FILES["rewardbench2"])]).examples
    for other in (b, c):
        assert a["id"].tolist() == other["id"].tolist()
        assert a["rejected"].tolist() == other["rejected"].tolist()


def test_rm_bench_subset_is_the_domain():
    ex = load_benchmark("rm-bench", FILES["rm-bench"]).examples
    assert ex["subset"].unique().tolist() == [
        "chat", "math", "code", "safety-refuse", "safety-response"
    ]  # fmt: skip


def test_unknown_name():
    with pytest.raises(ValueError, match="got 'rewardbench-2'. Did you mean"):
        load_benchmark("rewardbench-2", FILES["rewardbench2"])


def test_missing_columns_are_named():
    frame = pd.read_json(FILES["rewardbench"], lines=True).rename(
        columns={"subset": "subsets", "id": "ids"}
    )
    with pytest.raises(
        ValueError, match=r"\['subset', 'id'\] are missing .* Did you mean 'subsets'"
    ):
        load_benchmark("rewardbench", frame)


def test_empty_rejected_list_names_the_row():
    frame = pd.read_json(FILES["rewardbench2"], lines=True)
    frame.at[3, "rejected"] = []
    with pytest.raises(ValueError, match="'rejected' is empty at id 'precise-if-1'"):
        load_benchmark("rewardbench2", frame)


def test_num_correct_must_match_the_chosen_list():
    frame = pd.read_json(FILES["rewardbench2"], lines=True)
    frame.at[0, "num_correct"] = 2
    with pytest.raises(ValueError, match="num_correct is 2 at id 'factuality-0'"):
        load_benchmark("rewardbench2", frame)


def test_rm_bench_needs_three_styles():
    frame = pd.read_json(FILES["rm-bench"])
    frame.at[4, "chosen"] = ["a", "b"]
    with pytest.raises(ValueError, match="got 2 at id '4'"):
        load_benchmark("rm-bench", frame)


def test_v1_refuses_lists():
    frame = pd.read_json(FILES["rewardbench"], lines=True)
    frame["chosen"] = frame["chosen"].astype(object)
    frame.at[0, "chosen"] = ["a", "b"]
    with pytest.raises(ValueError, match="got lists at id '0'. Use 'rewardbench2'"):
        load_benchmark("rewardbench", frame)


def test_duplicated_ids():
    frame = pd.read_json(FILES["rewardbench"], lines=True)
    frame.loc[5, "id"] = 3
    with pytest.raises(ValueError, match="the id '3' appears more than once"):
        load_benchmark("rewardbench", frame)
    pairs = [{"id": "x", "prompt": "p", "chosen": "a", "rejected": "b"}] * 2
    with pytest.raises(ValueError, match="the id 'x' appears more than once"):
        load_benchmark("pairs", pairs)


def test_bad_cell_and_file_types(tmp_path):
    frame = pd.read_json(FILES["rewardbench"], lines=True)
    frame["chosen"] = frame["chosen"].astype(object)
    frame.at[2, "chosen"] = 3
    with pytest.raises(ValueError, match="'chosen' at id '2' must be a response"):
        load_benchmark("rewardbench", frame)
    (tmp_path / "data.csv").write_text("a,b\n")
    with pytest.raises(ValueError, match="reads .parquet, .json and .jsonl"):
        load_benchmark("rewardbench", tmp_path / "data.csv")
    with pytest.raises(FileNotFoundError, match="no file at"):
        load_benchmark("rewardbench", tmp_path / "none.jsonl")


def test_pairs_reads_chosen_rejected_and_conversations():
    data = [
        {"prompt": "Hi", "chosen": "Hello!", "rejected": "Go away.", "subset": "s"},
        {"prompt": "2+2?", "chosen": "4", "rejected": "5", "subset": "t"},
    ]
    ex = load_benchmark("pairs", data).examples
    assert ex["chosen"].tolist() == [["Hello!"], ["4"]]
    assert ex["rejected"].tolist() == [["Go away."], ["5"]]
    assert ex["subset"].tolist() == ["s", "t"]
    implicit = [
        {"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!",
         "rejected": "\n\nHuman: Hi\n\nAssistant: Go away."}
    ]  # fmt: skip
    ex = load_benchmark("pairs", implicit).examples
    assert ex.loc[0, "prompt"] == "Human: Hi"
    assert ex.loc[0, "chosen"] == ["Hello!"] and ex.loc[0, "subset"] == "pairs"


def test_pairs_reads_the_hh_rlhf_loader(data_home):
    from skpref.datasets import load_hh_rlhf

    frame = load_hh_rlhf("harmless-base", data_home=data_home).head(50)
    ex = load_benchmark("pairs", frame).examples
    a_is_chosen = frame["label"].to_numpy() == 1
    first = ex["chosen"].str[0].to_numpy()
    assert (first[a_is_chosen] == frame["response_a"].to_numpy()[a_is_chosen]).all()
    assert (first[~a_is_chosen] == frame["response_b"].to_numpy()[~a_is_chosen]).all()
    assert ex["subset"].eq("harmless-base").all()


def test_pairs_reads_files(data_home):
    path = data_home / "hh_rlhf" / "helpful-base" / "test.jsonl.gz"
    with pytest.warns(UserWarning, match="dropped 2 of 2354 pairs whose two"):
        ex = load_benchmark("pairs", path).examples
    assert len(ex) == 2354 - 2
    with pytest.raises(ValueError, match="pass it as data_files="):
        load_benchmark("pairs")


def test_hub_failure_says_what_to_do(monkeypatch):
    datasets = pytest.importorskip("datasets")

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(ValueError, match=r"'allenai/reward-bench' \(split 'filtered'"):
        load_benchmark("rewardbench")


@pytest.mark.network
@pytest.mark.skipif(os.environ.get("SKPREF_NETWORK") != "1", reason="no network")
@pytest.mark.parametrize(
    ("name", "n"), [("rewardbench", 2985), ("rewardbench2", 1865), ("rm-bench", None)]
)
def test_hub(name, n):
    bench = load_benchmark(name)
    assert len(bench) == n if n is not None else len(bench) > 1000


def test_pairs_of_an_unknown_type_and_empty_files():
    with pytest.raises(ValueError, match="'pairs' takes files, a DataFrame"):
        load_benchmark("pairs", 3)
    empty = pd.read_json(FILES["rewardbench"], lines=True).iloc[:0]
    with pytest.raises(ValueError, match="the 'rewardbench' data has no rows"):
        load_benchmark("rewardbench", empty)
