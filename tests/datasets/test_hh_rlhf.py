import gzip
import json

import numpy as np
import pytest

from skpref.datasets import (
    HH_RLHF_TEXT_TEMPLATE,
    OBJECTIVES,
    RELABELED_HH_RLHF_TEXT_TEMPLATE,
    load_hh_rlhf,
    load_relabeled_hh_rlhf,
)

H, A = "\n\nHuman: ", "\n\nAssistant: "


def write_jsonl(path, records, *, raw_lines=()):
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r) for r in records] + list(raw_lines)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def hh_pair(prompt_turns, chosen, rejected):
    prefix = "".join(f"{H}{h}{A}{a}" for h, a in prompt_turns[:-1])
    prefix += f"{H}{prompt_turns[-1][0]}"
    return {"chosen": prefix + A + chosen, "rejected": prefix + A + rejected}


@pytest.fixture
def hh_home(tmp_path):
    records = [
        hh_pair([("Hi", None)], "Hello! How can I help?", "Go away."),
        hh_pair([("Q1", "A1"), ("Q2", None)], "Good answer", "Bad answer"),
        # a response that writes a further turn into itself: the usual
        # rfind recipe would give the two responses different prompts
        hh_pair([("Q", None)], "Sure." + A + "More text", "No."),
        hh_pair([("Same", None)], "identical", "identical"),
    ] * 5
    write_jsonl(tmp_path / "hh_rlhf" / "helpful-base" / "test.jsonl.gz", records)
    return tmp_path


def test_load_hh_rlhf_parses_prompt_and_final_turns(hh_home):
    frame = load_hh_rlhf("helpful-base", "test", data_home=hh_home, shuffle_sides=False)
    assert list(frame.index[:4]) == [0, 1, 2, 3]
    assert frame.index.name == "row"
    assert frame.loc[0, "prompt"] == "Human: Hi"
    assert frame.loc[1, "prompt"] == "Human: Q1" + A + "A1" + H + "Q2"
    assert frame.loc[1, "response_a"] == "Good answer"
    assert frame.loc[1, "response_b"] == "Bad answer"
    # the extra turn stays inside the response; both sides share the prompt
    assert frame.loc[2, "prompt"] == "Human: Q"
    assert frame.loc[2, "response_a"] == "Sure." + A + "More text"
    assert (frame["label"] == 1).all() and frame["a_is_chosen"].all()
    assert (frame["subset"] == "helpful-base").all()


def read_records(path):
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def rebuilt_dialogues(frame, template):
    """The template applied to each row's chosen and rejected response."""
    a_chosen = frame["a_is_chosen"].to_numpy()
    sides = {
        "chosen": np.where(a_chosen, frame["response_a"], frame["response_b"]),
        "rejected": np.where(a_chosen, frame["response_b"], frame["response_a"]),
    }
    return {
        key: [
            template.format(prompt=prompt, response=response)
            for prompt, response in zip(frame["prompt"], texts, strict=True)
        ]
        for key, texts in sides.items()
    }


def test_load_hh_rlhf_texts_recombine_to_the_file(hh_home):
    frame = load_hh_rlhf("helpful-base", data_home=hh_home, random_state=3)
    records = read_records(hh_home / "hh_rlhf/helpful-base/test.jsonl.gz")
    rebuilt = rebuilt_dialogues(frame, HH_RLHF_TEXT_TEMPLATE)
    assert rebuilt["chosen"] == [r["chosen"] for r in records]
    assert rebuilt["rejected"] == [r["rejected"] for r in records]


def test_a_stripped_empty_final_turn_splits_at_that_turn(tmp_path):
    # "\n\nAssistant:" without its space ends the rejected dialogue
    record = hh_pair([("Q1", "A1"), ("Q2", None)], "Answer", "")
    record["rejected"] = record["rejected"].rstrip()
    write_jsonl(tmp_path / "hh_rlhf/helpful-base/test.jsonl.gz", [record])
    frame = load_hh_rlhf("helpful-base", data_home=tmp_path, shuffle_sides=False)
    assert frame.loc[0, "prompt"] == "Human: Q1" + A + "A1" + H + "Q2"
    assert frame.loc[0, ["response_a", "response_b"]].tolist() == ["Answer", ""]


def test_side_shuffle_is_balanced_seeded_and_seed_dependent(hh_home):
    frame = load_hh_rlhf("helpful-base", data_home=hh_home, random_state=0)
    again = load_hh_rlhf("helpful-base", data_home=hh_home, random_state=0)
    other = load_hh_rlhf("helpful-base", data_home=hh_home, random_state=1)
    assert frame["label"].sum() == len(frame) // 2
    assert frame.equals(again)
    assert not np.array_equal(frame["label"], other["label"])
    np.testing.assert_array_equal(frame["label"], frame["a_is_chosen"].astype(int))


def test_irregular_pairs_can_be_dropped(hh_home):
    frame = load_hh_rlhf("helpful-base", data_home=hh_home, irregular="drop")
    assert len(frame) == 15
    assert 2 not in frame.index and 6 not in frame.index  # every 4th row from 2


def test_unknown_subset_suggests_the_closest(hh_home):
    with pytest.raises(ValueError, match="Did you mean 'helpful-base'"):
        load_hh_rlhf("helpfull-base", data_home=hh_home)
    with pytest.raises(ValueError, match="expects split to be one of"):
        load_hh_rlhf("helpful-base", "validation", data_home=hh_home)
    with pytest.raises(ValueError, match="expects irregular to be one of"):
        load_hh_rlhf("helpful-base", data_home=hh_home, irregular="skip")


def test_missing_file_says_where_it_looked_and_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_hh_rlhf("harmless-base", "train", data_home=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "hh_rlhf/harmless-base/train.jsonl.gz") in message
    assert str(tmp_path / "hh_rlhf/harmless-base/train.jsonl") in message
    assert "fetch_hh_rlhf('harmless-base', 'train')" in message
    assert "the data_home argument" in message


def test_missing_file_names_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("SKPREF_DATA_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"\$SKPREF_DATA_HOME"):
        load_hh_rlhf("helpful-online")


def test_malformed_line_names_file_and_line(tmp_path):
    good = hh_pair([("Hi", None)], "a", "b")
    path = write_jsonl(
        tmp_path / "hh_rlhf/helpful-base/test.jsonl.gz",
        [good, good],
        raw_lines=['{"chosen": "truncated'],
    )
    with pytest.raises(ValueError, match=rf"line 3 of {path} is not valid JSON"):
        load_hh_rlhf("helpful-base", data_home=tmp_path)


@pytest.mark.parametrize(
    ("record", "match"),
    [
        ({"chosen": "x"}, "line 2 .* has no 'rejected' field"),
        ({"chosen": "x", "rejected": 3}, "line 2 .*'rejected' field must be a str"),
        (["not", "an", "object"], "line 2 .* holds a JSON list"),
        ({"chosen": H + "a", "rejected": H + "b"}, "line 2 .* share no assistant"),
    ],
)
def test_bad_records_name_the_line(tmp_path, record, match):
    good = hh_pair([("Hi", None)], "a", "b")
    write_jsonl(tmp_path / "hh_rlhf/helpful-base/test.jsonl.gz", [good, record])
    with pytest.raises(ValueError, match=match):
        load_hh_rlhf("helpful-base", data_home=tmp_path)


def test_plain_jsonl_is_read_too(tmp_path):
    path = tmp_path / "hh_rlhf/helpful-base/test.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(hh_pair([("Hi", None)], "a", "b")) + "\n\n")
    assert len(load_hh_rlhf("helpful-base", data_home=tmp_path)) == 1


# -- relabelled HH-RLHF --------------------------------------------------------


def relabeled_record(index, objective, subset, label, original_label):
    return {
        "prompt": f"Human: question {index}",
        "responses": [f"first {index}", f"second {index}"],
        "objective": objective,
        "label": label,
        "original_label": original_label,
        "data_subset": subset,
        "Index": 100 + index,
    }


@pytest.fixture
def relabeled_home(tmp_path):
    records = [
        relabeled_record(0, "helpful", "helpful", 0, 0),
        relabeled_record(1, "harmless", "helpful", 1, 0),
        relabeled_record(2, "helpful", "harmless", 0, 1),
        relabeled_record(3, "harmless", "harmless", 1, 1),
    ]
    write_jsonl(tmp_path / "hh_rlhf_relabeled_dpl/both/test.jsonl.gz", records)
    return tmp_path


def test_relabeled_columns_and_coding(relabeled_home):
    frame = load_relabeled_hh_rlhf(data_home=relabeled_home, shuffle_sides=False)
    assert OBJECTIVES == ("helpful", "harmless")
    assert frame["objective_id"].tolist() == [0, 1, 0, 1]
    assert frame["prompt_type_id"].tolist() == [0, 0, 1, 1]
    assert frame["prompt_type"].tolist() == ["helpful", "helpful", "harmless"] * 1 + [
        "harmless"
    ]
    assert frame["consistent"].tolist() == [True, False, False, True]
    # label = 1 iff the preferred index is 0 (responses[0] is a)
    assert frame["label"].tolist() == [1, 0, 1, 0]
    assert frame["human_label"].tolist() == [1, 1, 0, 0]
    assert frame["response_a"].tolist()[1] == "first 1"
    assert frame["source_index"].tolist() == [100, 101, 102, 103]
    # the names carry the coding, so any subset of rows keeps it
    for column, ids in (
        ("objective", "objective_id"),
        ("prompt_type", "prompt_type_id"),
    ):
        assert list(frame[column].cat.categories) == list(OBJECTIVES)
        np.testing.assert_array_equal(frame[column].cat.codes, frame[ids])
        only_harmless = frame[frame[column] == "harmless"]
        assert list(only_harmless[column].cat.categories) == list(OBJECTIVES)


def test_relabeled_side_swap_moves_labels_with_responses(relabeled_home):
    plain = load_relabeled_hh_rlhf(data_home=relabeled_home, shuffle_sides=False)
    frame = load_relabeled_hh_rlhf(data_home=relabeled_home, random_state=0)
    swapped = frame["response_a"] != plain["response_a"]
    assert swapped.sum() == 2
    np.testing.assert_array_equal(
        frame["label"], np.where(swapped, 1 - plain["label"], plain["label"])
    )
    np.testing.assert_array_equal(
        frame["human_label"],
        np.where(swapped, 1 - plain["human_label"], plain["human_label"]),
    )
    np.testing.assert_array_equal(
        frame["response_b"][swapped], plain["response_a"][swapped]
    )


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"objective": "honest"}, "'objective' must be one of"),
        ({"data_subset": "red-team"}, "'data_subset' must be one of"),
        ({"label": 2}, "'label' must be 0 or 1"),
        ({"original_label": True}, "'original_label' must be 0 or 1"),
        ({"responses": ["only one"]}, "'responses' must be a list of two strings"),
        ({"responses": ["a", "b", "c"]}, "two strings, got 3 items"),
        (
            {"responses": ["x", 3]},
            r"'responses' must be a list of two strings, but item 1 is 3 \(int\)\.$",
        ),
        ({"label": "0"}, "'label' field must be a int"),
    ],
)
def test_relabeled_bad_fields_name_the_line(tmp_path, change, match):
    bad = {**relabeled_record(1, "helpful", "helpful", 0, 0), **change}
    write_jsonl(
        tmp_path / "hh_rlhf_relabeled_dpl/both/test.jsonl.gz",
        [relabeled_record(0, "helpful", "helpful", 0, 0), bad],
    )
    with pytest.raises(ValueError, match=f"line 2 of .*{match}"):
        load_relabeled_hh_rlhf(data_home=tmp_path)


def test_relabeled_missing_file_points_to_the_source(tmp_path):
    with pytest.raises(FileNotFoundError, match="cassidylaidlaw/hidden-context"):
        load_relabeled_hh_rlhf("helpful", data_home=tmp_path)


# -- the real files -------------------------------------------------------------

# pairs, irregular pairs, pairs the per-dialogue rfind recipe splits otherwise
# (the counts of load_hh_rlhf's Notes and docs/datasets.rst)
HH_COUNTS = {
    "harmless-base": (2312, 5, 5),
    "helpful-base": (2354, 9, 9),
    "helpful-online": (1137, 2, 0),
    "helpful-rejection-sampled": (2749, 3, 3),
}


@pytest.mark.parametrize("subset", sorted(HH_COUNTS))
def test_real_hh_rlhf_files(data_home, subset):
    n_pairs, n_irregular, _ = HH_COUNTS[subset]
    frame = load_hh_rlhf(subset, "test", data_home=data_home)
    assert len(frame) == n_pairs
    assert abs(frame["label"].sum() - n_pairs / 2) <= 0.5
    dropped = load_hh_rlhf(subset, "test", data_home=data_home, irregular="drop")
    assert len(frame) - len(dropped) == n_irregular
    assert frame["prompt"].str.startswith("Human: ").all()
    assert not frame["prompt"].str.endswith(A.rstrip()).any()


@pytest.mark.parametrize("subset", sorted(HH_COUNTS))
def test_real_hh_rlhf_rows_rebuild_the_stored_dialogues(data_home, subset):
    # the text the shared reference embeddings were made from, so embedding with
    # this template reproduces them; every pair also splits as before the
    # implicit prompt's marker lost its trailing space
    frame = load_hh_rlhf(subset, data_home=data_home)
    records = read_records(data_home / f"hh_rlhf/{subset}/test.jsonl.gz")
    rebuilt = rebuilt_dialogues(frame, HH_RLHF_TEXT_TEMPLATE)
    assert rebuilt["chosen"] == [r["chosen"] for r in records]
    assert rebuilt["rejected"] == [r["rejected"] for r in records]


@pytest.mark.parametrize("subset", sorted(HH_COUNTS))
def test_real_hh_rlhf_pairs_the_usual_recipe_splits_otherwise(data_home, subset):
    frame = load_hh_rlhf(subset, data_home=data_home, shuffle_sides=False)
    records = read_records(data_home / f"hh_rlhf/{subset}/test.jsonl.gz")
    usual = [
        [text[: text.rfind(A)].removeprefix("\n\n") for text in record.values()]
        for record in records
    ]
    differ = [
        any(own != prompt for own in prompts)
        for prompts, prompt in zip(usual, frame["prompt"], strict=True)
    ]
    assert sum(differ) == HH_COUNTS[subset][2]
    dropped = load_hh_rlhf(subset, data_home=data_home, irregular="drop")
    # every pair the usual recipe gets wrong is irregular
    assert set(frame.index[differ]) <= set(frame.index) - set(dropped.index)


def test_real_relabeled_rows_rebuild_the_stored_dialogues(data_home):
    frame = load_relabeled_hh_rlhf(data_home=data_home)
    records = read_records(data_home / "hh_rlhf_relabeled_dpl/both/test.jsonl.gz")
    rebuilt = rebuilt_dialogues(frame, RELABELED_HH_RLHF_TEXT_TEMPLATE)
    assert rebuilt["chosen"] == [r["chosen"] for r in records]
    assert rebuilt["rejected"] == [r["rejected"] for r in records]


def test_real_relabeled_file_matches_its_readme(data_home):
    frame = load_relabeled_hh_rlhf("both", "test", data_home=data_home)
    assert len(frame) == 4043
    agree = (frame["label"] == frame["human_label"]).groupby(
        [frame["prompt_type"], frame["objective"]]
    )
    # agreement rates of data/README.md (GPT-3.5 vs human labels); the README's
    # cell counts are one off in two cells (1051/881, the file has 1052/882),
    # hence the small tolerance
    expected = {
        ("harmless", "harmless"): 0.625,
        ("harmless", "helpful"): 0.555,
        ("helpful", "harmless"): 0.531,
        ("helpful", "helpful"): 0.636,
    }
    for key, rate in agree.mean().items():
        assert rate == pytest.approx(expected[key], abs=0.002)
    assert frame["consistent"].sum() == 1004 + 1105
    helpful = load_relabeled_hh_rlhf("helpful", "test", data_home=data_home)
    assert (helpful["objective"] == "helpful").all() and len(helpful) == 2157


def test_real_relabeled_prompts_match_the_original_hh_rlhf(data_home):
    relabeled = load_relabeled_hh_rlhf(data_home=data_home)
    harmless = load_hh_rlhf("harmless-base", data_home=data_home)
    helpful = load_hh_rlhf("helpful-base", data_home=data_home)
    original = np.concatenate([harmless["prompt"], helpful["prompt"]])
    sample = relabeled.iloc[::97]
    np.testing.assert_array_equal(sample["prompt"], original[sample["source_index"]])
    expected_type = np.where(sample["source_index"] < 2312, "harmless", "helpful")
    np.testing.assert_array_equal(sample["prompt_type"], expected_type)
