"""preference_pairs: TRL's preference formats to balanced pairs."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skpref.datasets import OBJECTIVES, load_relabeled_hh_rlhf, preference_pairs

H, A = "\n\nHuman: ", "\n\nAssistant: "


def chosen_side(X, y):
    """The chosen response of each pair, read back through the label."""
    return np.where(y == 1, X["response_a"], X["response_b"])


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


EXPLICIT = pd.DataFrame(
    {
        "prompt": [f"question {i}" for i in range(9)],
        "chosen": [f"good {i}" for i in range(9)],
        "rejected": [f"bad {i}" for i in range(9)],
    },
    index=pd.Index([10 + i for i in range(9)], name="id"),
)


def test_explicit_prompt_keeps_the_index_and_balances_the_labels():
    X, y = preference_pairs(EXPLICIT, random_state=0)
    assert list(X.columns) == ["prompt", "response_a", "response_b"]
    assert X.index.equals(EXPLICIT.index) and y.index.equals(EXPLICIT.index)
    assert y.dtype == np.int64 and y.name == "label"
    assert (y == 0).sum() == 4  # exactly n // 2 swapped
    np.testing.assert_array_equal(chosen_side(X, y), EXPLICIT["chosen"])
    rejected = np.where(y == 1, X["response_b"], X["response_a"])
    np.testing.assert_array_equal(rejected, EXPLICIT["rejected"])
    np.testing.assert_array_equal(X["prompt"], EXPLICIT["prompt"])


def test_the_side_shuffle_is_seeded():
    _, y0 = preference_pairs(EXPLICIT, random_state=0)
    _, again = preference_pairs(EXPLICIT, random_state=0)
    _, y1 = preference_pairs(EXPLICIT, random_state=1)
    assert y0.equals(again) and not y0.equals(y1)


def test_list_of_dicts_and_a_custom_column_naming():
    records = [
        {"question": "q0", "better": "a0", "worse": "b0"},
        {"question": "q1", "better": "a1", "worse": "b1"},
    ]
    X, y = preference_pairs(
        records, prompt="question", chosen="better", rejected="worse", random_state=0
    )
    assert list(X.index) == [0, 1]
    assert list(chosen_side(X, y)) == ["a0", "a1"]
    assert list(X["prompt"]) == ["q0", "q1"]


def test_implicit_prompt_is_the_shared_dialogue_like_the_hh_loader():
    data = [
        {"chosen": H + "Hi" + A + "Hello!", "rejected": H + "Hi" + A + "Go away."},
        {
            "chosen": H + "Q1" + A + "A1" + H + "Q2" + A + "Sure." + A + "More",
            "rejected": H + "Q1" + A + "A1" + H + "Q2" + A + "No.",
        },
    ]
    X, y = preference_pairs(data, random_state=0)
    assert list(X["prompt"]) == ["Human: Hi", "Human: Q1" + A + "A1" + H + "Q2"]
    # a response holding a turn marker stays whole (longest shared prefix rule)
    assert list(chosen_side(X, y)) == ["Hello!", "Sure." + A + "More"]
    assert preference_pairs(data, prompt=None, random_state=0)[0].equals(X)


@pytest.mark.parametrize(
    "history",
    [H + "Tell me a joke.", H + "Hi" + A + "Hello, how can I help?" + H + "A joke?"],
    ids=["single-turn", "multi-turn"],
)
def test_implicit_prompt_of_a_stripped_empty_final_turn(history):
    # whitespace-stripped HH-RLHF derivatives end an empty final turn in
    # "\n\nAssistant:" without its space; the split must still be at that turn,
    # not at an earlier one (or fail for lack of one)
    data = [
        {"chosen": history + A + "Why did the chicken cross the road?"},
        {"chosen": history + A + "Knock knock."},
    ]
    data[0]["rejected"] = (history + A).rstrip()
    data[1]["rejected"] = history + A.rstrip() + "\n\nHuman: more?"
    X, y = preference_pairs(data, random_state=0)
    assert list(X["prompt"]) == [history.removeprefix("\n\n")] * 2
    assert list(chosen_side(X, y)) == [
        "Why did the chicken cross the road?",
        "Knock knock.",
    ]
    rejected = np.where(y == 1, X["response_b"], X["response_a"])
    assert list(rejected) == ["", "\n\nHuman: more?"]


def test_explicit_conversational_pairs_stay_conversations():
    data = [
        {
            "prompt": [user("Hi")],
            "chosen": [assistant("Hello!")],
            "rejected": [assistant("Go away.")],
        }
    ] * 2
    X, y = preference_pairs(data, random_state=0)
    assert X.loc[0, "prompt"] == [user("Hi")]
    assert list(chosen_side(X, y)) == [[assistant("Hello!")]] * 2


def test_implicit_conversational_prompt_is_the_shared_messages():
    history = [user("Q1"), assistant("A1"), user("Q2")]
    data = [
        {
            "chosen": [*history, assistant("yes")],
            "rejected": [*history, assistant("no")],
        }
    ]
    X, y = preference_pairs(data, random_state=0)
    assert X.loc[0, "prompt"] == history
    assert chosen_side(X, y)[0] == [assistant("yes")]


def test_huggingface_dataset_is_read(tmp_path):
    datasets = pytest.importorskip("datasets")
    conversational = datasets.Dataset.from_list(
        [
            {
                "prompt": [user(f"q{i}")],
                "chosen": [assistant(f"good {i}")],
                "rejected": [assistant(f"bad {i}")],
            }
            for i in range(4)
        ]
    )
    X, y = preference_pairs(conversational, random_state=0)
    assert list(X.index) == [0, 1, 2, 3]
    assert X.loc[2, "prompt"] == [user("q2")]
    assert [m[0]["content"] for m in chosen_side(X, y)] == [
        f"good {i}" for i in range(4)
    ]
    # to_pandas gives NumPy arrays of messages: read the same
    X_pandas, _ = preference_pairs(conversational.to_pandas(), random_state=0)
    assert X_pandas.equals(X)
    with pytest.raises(ValueError, match="one split.*DatasetDict.*data\\['train'\\]"):
        preference_pairs(datasets.DatasetDict({"train": conversational}))


def test_objective_names_become_a_coded_categorical():
    data = EXPLICIT.assign(objective=["harmless"] * 5 + ["helpful"] * 4)
    X, _ = preference_pairs(data, objective="objective", random_state=0)
    assert list(X["objective"].cat.categories) == ["harmless", "helpful"]  # sorted
    X, _ = preference_pairs(
        data, objective="objective", objective_categories=OBJECTIVES, random_state=0
    )
    assert list(X["objective"].cat.categories) == list(OBJECTIVES)
    np.testing.assert_array_equal(X["objective"].cat.codes, [1] * 5 + [0] * 4)
    # a Categorical column keeps its coding even when one name is absent
    coded = data.assign(
        objective=pd.Categorical(["harmless"] * 9, categories=list(OBJECTIVES))
    )
    X, _ = preference_pairs(coded, objective="objective", random_state=0)
    assert list(X["objective"].cat.categories) == list(OBJECTIVES)
    assert (X["objective"].cat.codes == 1).all()


def test_integer_objectives_stay_ids():
    X, _ = preference_pairs(
        EXPLICIT.assign(c=[0, 1, 2] * 3), objective="c", random_state=0
    )
    assert X["objective"].dtype == np.int64 and X["objective"].max() == 2


def test_pairs_of_the_relabelled_loader_round_trip(data_home):
    frame = load_relabeled_hh_rlhf(data_home=data_home).iloc[:200]
    records = pd.DataFrame(
        {
            "prompt": frame["prompt"],
            "chosen": np.where(
                frame["label"] == 1, frame["response_a"], frame["response_b"]
            ),
            "rejected": np.where(
                frame["label"] == 1, frame["response_b"], frame["response_a"]
            ),
            "objective": frame["objective"],
        }
    )
    X, y = preference_pairs(records, objective="objective", random_state=0)
    assert list(X["objective"].cat.categories) == list(OBJECTIVES)
    np.testing.assert_array_equal(X["objective"].cat.codes, frame["objective_id"])


@given(
    st.lists(
        st.tuples(st.text(max_size=8), st.text(max_size=8), st.text(max_size=8)).filter(
            lambda t: t[1] != t[2]
        ),
        min_size=1,
        max_size=30,
    ),
    st.integers(0, 2**31 - 1),
)
def test_any_pairs_are_balanced_and_recoverable(rows, seed):
    data = [{"prompt": p, "chosen": c, "rejected": r} for p, c, r in rows]
    X, y = preference_pairs(data, random_state=seed)
    assert (y == 0).sum() == len(rows) // 2
    assert list(chosen_side(X, y)) == [c for _, c, _ in rows]
    assert list(X["prompt"]) == [p for p, _, _ in rows]


@given(
    st.lists(
        st.tuples(st.text(max_size=3), st.sampled_from(["x", "y"]), st.booleans()),
        min_size=1,
        max_size=30,
    ),
    st.integers(0, 2**31 - 1),
)
def test_drop_identical_keeps_exactly_the_pairs_with_a_preference(rows, seed):
    data = pd.DataFrame(
        {
            "prompt": [p for p, _, _ in rows],
            "chosen": [c for _, c, _ in rows],
            "rejected": [c if same else c + "!" for _, c, same in rows],
        },
        index=pd.RangeIndex(100, 100 + len(rows)),
    )
    differ = data["chosen"] != data["rejected"]
    if not differ.any():
        with pytest.raises(ValueError, match="equal in every row"):
            preference_pairs(data, drop_identical=True, random_state=seed)
        return
    X, y = preference_pairs(data, drop_identical=True, random_state=seed)
    assert X.index.equals(data.index[differ])
    assert list(chosen_side(X, y)) == list(data["chosen"][differ])
    assert (y == 0).sum() == differ.sum() // 2
    if not differ.all():
        with pytest.raises(ValueError, match="drop_identical=True"):
            preference_pairs(data, random_state=seed)


def test_drop_identical_keeps_the_objective_of_the_rows_it_keeps():
    data = pd.DataFrame(
        {
            "prompt": ["p"] * 4,
            "chosen": ["a", "b", "c", "d"],
            "rejected": ["a", "x", "c", "y"],
            "objective": ["helpful", "harmless", "helpful", "helpful"],
        }
    )
    X, _ = preference_pairs(
        data, objective="objective", drop_identical=True, random_state=0
    )
    assert list(X.index) == [1, 3]
    assert list(X["objective"]) == ["harmless", "helpful"]


@pytest.mark.parametrize("which", ["chosen", "rejected"])
def test_a_dialogue_that_begins_the_other_is_an_empty_response(which):
    short = [user("q")]
    long = [user("q"), assistant("a")]
    row = {"chosen": long, "rejected": short}
    if which == "chosen":
        row = {"chosen": short, "rejected": long}
    with pytest.raises(ValueError, match=f"at row 1 the {which} dialogue is the"):
        preference_pairs(
            [{"chosen": long, "rejected": [user("q"), assistant("b")]}, row],
            prompt=None,
        )


@pytest.mark.parametrize("column", ["prompt", "chosen", "rejected", "objective"])
def test_a_duplicated_column_is_named(column):
    data = pd.DataFrame(
        {"prompt": ["p"], "chosen": ["a"], "rejected": ["b"], "objective": [0]}
    )
    data = pd.concat([data, data[[column]]], axis=1)
    with pytest.raises(ValueError, match=f"column '{column}' appears 2 times"):
        preference_pairs(data, objective="objective")
    # a duplicated column the call does not read is no obstacle
    if column == "objective":
        assert len(preference_pairs(data)[0]) == 1
