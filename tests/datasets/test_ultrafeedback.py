import gzip
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from skpref.datasets import ASPECTS, load_ultrafeedback

FIXTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "ultrafeedback_sample.jsonl"
)


@pytest.fixture(scope="module")
def data():
    return load_ultrafeedback(FIXTURE, random_state=0)


@pytest.fixture(scope="module")
def raw():
    return [json.loads(line) for line in FIXTURE.read_text().splitlines()]


def test_one_row_per_completion_with_numeric_scores(data, raw):
    completions = data.completions
    assert len(completions) == sum(len(r["completions"]) for r in raw) == 15
    assert completions["prompt_id"].tolist() == [0] * 4 + [1] * 4 + [2] * 3 + [3] * 4
    for aspect in ASPECTS:
        assert completions[aspect].dtype == np.float64
    for row in completions.itertuples():
        source = raw[row.prompt_id]["completions"][row.completion]
        assert row.response == source["response"]
        assert row.model == source["model"]
        for aspect in ASPECTS:
            rating = source["annotations"][aspect]["Rating"]
            value = getattr(row, aspect)
            assert math.isnan(value) if rating == "N/A" else value == float(rating)
    assert completions["honesty"].isna().sum() == 3
    assert completions.loc[4, "overall_score"] == 8.0


def test_pairs_are_all_completion_pairs_of_a_prompt(data):
    pairs = data.pairs
    assert len(pairs) == 6 + 6 + 3 + 6
    assert pairs.groupby("prompt_id").size().tolist() == [6, 6, 3, 6]
    completions = data.completions
    seen = set()
    for row in pairs.itertuples():
        a, b = completions.loc[row.completion_a], completions.loc[row.completion_b]
        assert a.prompt_id == b.prompt_id == row.prompt_id and a.name != b.name
        assert row.response_a == a.response and row.model_b == b.model
        seen.add(frozenset((a.name, b.name)))
    assert len(seen) == len(pairs)


def test_pair_deltas_are_a_minus_b(data):
    pairs, completions = data.pairs, data.completions
    for aspect in ASPECTS:
        expected = (
            completions.loc[pairs["completion_a"], aspect].to_numpy()
            - completions.loc[pairs["completion_b"], aspect].to_numpy()
        )
        np.testing.assert_array_equal(pairs[f"delta_{aspect}"], expected)
        np.testing.assert_array_equal(
            pairs[f"delta_{aspect}"], pairs[f"{aspect}_a"] - pairs[f"{aspect}_b"]
        )
    # "N/A" on either side gives a NaN difference, nothing else does
    na = pairs["honesty_a"].isna() | pairs["honesty_b"].isna()
    np.testing.assert_array_equal(pairs["delta_honesty"].isna(), na)
    assert na.sum() > 0


def test_pair_sides_are_shuffled_with_a_seed(data):
    first_is_a = (data.pairs["completion_a"] < data.pairs["completion_b"]).sum()
    assert first_is_a == len(data.pairs) - len(data.pairs) // 2
    again = load_ultrafeedback(FIXTURE, random_state=0)
    other = load_ultrafeedback(FIXTURE, random_state=1)
    assert data.pairs.equals(again.pairs)
    assert not data.pairs["completion_a"].equals(other.pairs["completion_a"])
    # swapping sides flips the sign of every difference
    merged = data.pairs.merge(
        other.pairs,
        left_on=["completion_a", "completion_b"],
        right_on=["completion_b", "completion_a"],
        suffixes=("", "_other"),
    )
    assert len(merged) > 0
    np.testing.assert_array_equal(
        merged["delta_truthfulness"], -merged["delta_truthfulness_other"]
    )


def test_folder_and_gzip_inputs(tmp_path, data):
    folder = tmp_path / "ultrafeedback"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(FIXTURE, folder / "a.jsonl")
    with gzip.open(folder / "sub" / "b.jsonl.gz", "wt") as handle:
        handle.write(FIXTURE.read_text())
    both = load_ultrafeedback(folder)
    assert len(both.completions) == 2 * len(data.completions)
    assert both.completions["prompt_id"].max() == 7
    by_home = load_ultrafeedback(data_home=tmp_path)
    assert by_home.completions.equals(both.completions)


def test_missing_path_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist.*fetch_ultrafeedback"):
        load_ultrafeedback(tmp_path / "nope.jsonl")
    (tmp_path / "ultrafeedback").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no .jsonl or .jsonl.gz file"):
        load_ultrafeedback(data_home=tmp_path)


def edited_fixture(tmp_path, edit):
    records = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    edit(records[1])
    path = tmp_path / "edited.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            lambda r: r["completions"][0]["annotations"]["honesty"].update(
                Rating="high"
            ),
            "line 2 of .*'honesty' rating must be a number",
        ),
        (
            lambda r: r["completions"][1].pop("annotations"),
            "line 2 of .*completion 1 has no 'annotations'",
        ),
        (
            lambda r: r["completions"][2].update(response=None),
            "line 2 of .*completion 2 must be an object with a string 'response'",
        ),
        (
            lambda r: r["completions"][0]["annotations"].update(truthfulness="5"),
            "line 2 of .*'truthfulness' annotation must be an object with a 'Rating'",
        ),
        (lambda r: r.pop("completions"), "line 2 of .* has no 'completions' field"),
    ],
)
def test_malformed_records_name_the_line(tmp_path, edit, match):
    with pytest.raises(ValueError, match=match):
        load_ultrafeedback(edited_fixture(tmp_path, edit))


def test_missing_or_list_wrapped_annotations_are_read(tmp_path):
    def edit(record):
        annotations = record["completions"][0]["annotations"]
        annotations.pop("helpfulness")
        annotations["honesty"] = [annotations["honesty"]]

    data = load_ultrafeedback(edited_fixture(tmp_path, edit))
    row = data.completions.query("prompt_id == 1 and completion == 0").iloc[0]
    assert math.isnan(row["helpfulness"]) and row["honesty"] == 5.0


PAPER_WEIGHTS = {"truthfulness": 0.25, "instruction_following": 0.75}


def test_reward_labels_keep_ties_as_one_half_on_request():
    kept = load_ultrafeedback(FIXTURE, reward_weights=PAPER_WEIGHTS, ties="keep")
    pairs = kept.pairs
    reward_delta = (
        0.25 * pairs["delta_truthfulness"] + 0.75 * pairs["delta_instruction_following"]
    )
    np.testing.assert_allclose(pairs["reward_delta"], reward_delta)
    assert pairs["tie"].sum() > 0  # the fixture holds ties
    np.testing.assert_array_equal(pairs.loc[pairs["tie"], "label"], 0.5)
    decided = pairs[~pairs["tie"]]
    np.testing.assert_array_equal(decided["label"], (decided["reward_delta"] > 0) * 1.0)
    # pairs without a weighted aspect are dropped, the rest keep their index
    unlabelled = load_ultrafeedback(FIXTURE).pairs
    rated = unlabelled.dropna(
        subset=["delta_truthfulness", "delta_instruction_following"]
    )
    assert pairs.index.equals(rated.index)
    assert pairs.drop(columns=["reward_delta", "tie", "label"]).equals(rated)


def test_reward_labels_break_ties_with_a_seeded_coin():
    def labels(seed):
        data = load_ultrafeedback(
            FIXTURE, random_state=seed, reward_weights=PAPER_WEIGHTS
        )
        return data.pairs

    pairs = labels(0)
    assert pairs["label"].dtype == np.int64
    assert set(pairs.loc[pairs["tie"], "label"]) <= {0, 1}
    decided = pairs[~pairs["tie"]]
    np.testing.assert_array_equal(decided["label"], decided["reward_delta"] > 0)
    assert pairs.equals(labels(0))
    # the side shuffle is the same with or without labels
    assert pairs["completion_a"].equals(
        load_ultrafeedback(FIXTURE, random_state=0).pairs.loc[
            pairs.index, "completion_a"
        ]
    )


def test_pairs_hold_the_columns_the_embedder_reads(data):
    np.testing.assert_array_equal(data.pairs["prompt"], data.pairs["instruction"])
