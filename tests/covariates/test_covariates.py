"""Covariates of responses and pairs: values, layout, tokens, user functions, errors."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skpref.covariates import (
    BUILTIN_COVARIATES,
    covariate_differences,
    pair_covariates,
    response_covariates,
)
from skpref.datasets import load_hh_rlhf, preference_pairs
from skpref.experiments import default_embedder
from skpref.utils import pair_column_stems

TEXTS = [
    "Thank you! Here are the steps:\n1. Mix.\n2. Bake.\n- Serve",
    "No.",
    "Sorry, I can't help with that. Please ask something else?",
]


def test_builtin_covariates_count_what_they_say():
    frame = response_covariates(
        TEXTS, [name for name in BUILTIN_COVARIATES if name != "n_tokens"]
    )
    assert frame["n_characters"].tolist() == [len(t) for t in TEXTS]
    assert frame["n_words"].tolist() == [12, 1, 10]
    assert frame["n_list_items"].tolist() == [3, 0, 0]
    assert frame["n_politeness_markers"].tolist() == [1, 0, 2]
    assert frame["n_sentences"].tolist() == [5, 1, 2]
    assert (frame.dtypes == np.float64).all()


def test_series_index_is_kept_and_conversations_are_their_contents():
    texts = pd.Series(["abc", "de"], index=[7, 3])
    assert response_covariates(texts).index.tolist() == [7, 3]
    conversation = [
        {"role": "assistant", "content": "Hi"},
        {"role": "assistant", "content": "there"},
    ]
    frame = response_covariates([conversation], ["n_characters", "n_words"])
    assert frame.iloc[0].tolist() == [len("Hi\n\nthere"), 2]


def test_user_functions_by_name_and_by_dict():
    def n_questions(text):
        return text.count("?")

    frame = response_covariates(TEXTS, {"n_questions": n_questions})
    assert frame.columns.tolist() == ["n_questions"]
    assert frame["n_questions"].tolist() == [0, 0, 1]
    frame = response_covariates(TEXTS, [n_questions, "n_words"])
    assert frame.columns.tolist() == ["n_questions", "n_words"]
    booleans = response_covariates(TEXTS, {"polite": lambda t: np.bool_("!" in t)})
    assert booleans["polite"].tolist() == [1.0, 0.0, 0.0]


def test_pair_covariates_lay_out_a_then_b_with_the_frame_index():
    data = [
        {"prompt": "p", "chosen": "a much longer answer", "rejected": "short"},
        {"prompt": "q", "chosen": "ok", "rejected": "no thanks, sorry"},
    ]
    X, _ = preference_pairs(data, random_state=0)
    X.index = ["first", "second"]
    Z = pair_covariates(X, ["n_characters", "n_words"])
    assert Z.columns.tolist() == [
        "n_characters_a",
        "n_words_a",
        "n_characters_b",
        "n_words_b",
    ]
    assert Z.index.tolist() == ["first", "second"]
    assert Z["n_characters_a"].tolist() == X["response_a"].str.len().tolist()
    assert Z["n_words_b"].tolist() == X["response_b"].str.split().str.len().tolist()
    difference = covariate_differences(Z)
    assert difference.columns.tolist() == ["n_characters", "n_words"]
    np.testing.assert_array_equal(
        difference["n_characters"], Z["n_characters_a"] - Z["n_characters_b"]
    )


@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40)),
        min_size=1,
        max_size=8,
    )
)
def test_swapping_the_responses_negates_the_differences(pairs):
    X = pd.DataFrame(pairs, columns=["response_a", "response_b"])
    swapped = X.rename(columns={"response_a": "response_b", "response_b": "response_a"})
    covariates = ["n_characters", "n_words", "n_politeness_markers"]
    forward = covariate_differences(pair_covariates(X, covariates))
    backward = covariate_differences(pair_covariates(swapped, covariates))
    np.testing.assert_array_equal(forward.to_numpy(), -backward.to_numpy())


@pytest.fixture(scope="module")
def minilm_tokenizer():
    from transformers import AutoTokenizer

    from skpref.utils import installed_model

    folder = installed_model(default_embedder().model_name_or_path)
    return AutoTokenizer.from_pretrained(folder)


def test_tokens_are_counted_without_special_tokens(minilm_tokenizer):
    long_text = "word " * 700  # longer than the model's context: still counted
    texts = [*TEXTS, long_text]
    expected = [
        len(minilm_tokenizer.encode(t, add_special_tokens=False)) for t in texts
    ]
    by_object = response_covariates(texts, "n_tokens", tokenizer=minilm_tokenizer)
    by_id = response_covariates(
        texts, "n_tokens", tokenizer=default_embedder().model_name_or_path
    )
    assert by_object["n_tokens"].tolist() == expected
    assert by_id["n_tokens"].tolist() == expected
    assert expected[-1] == 700


@pytest.mark.parametrize(
    "covariates, match",
    [
        ("n_chars", "not a built-in covariate.*Did you mean 'n_characters'"),
        ([lambda t: 1.0], "has no usable name.*name it with a dict"),
        ({"bad name": len}, "has no usable name"),
        (["n_words", "n_words"], "'n_words' is given twice"),
        ([], "got no covariates"),
        ([3], "a built-in name .* or a function of a text; got 3"),
        (
            {"length": "n_characters"},
            "a dict of covariates maps each name to a function of a text; got "
            "'n_characters' for the name 'length'. Give a function, or list the "
            "built-in under its own name: covariates=\\['n_characters', ...\\]",
        ),
        (
            {"length": 3},
            "got 3 for the name 'length'. Give a function, e.g. "
            "covariates={'length': len}",
        ),
        ({"nan": lambda t: float("nan")}, "'nan' must give a finite number.*row 0"),
        ({"text": lambda t: t}, "'text' must give a finite number"),
        ("n_tokens", "'n_tokens' needs a tokenizer"),
    ],
)
def test_bad_covariates_are_named(covariates, match):
    with pytest.raises(ValueError, match=match):
        response_covariates(TEXTS, covariates)


def test_bad_texts_frames_and_tokenizers_are_named():
    with pytest.raises(ValueError, match="column 'response'; got None"):
        response_covariates(["ok", None])
    X = pd.DataFrame({"response_a": ["x"], "response_2": ["y"]})
    with pytest.raises(ValueError, match="Did you mean response_b='response_2'"):
        pair_covariates(X)
    with pytest.raises(ValueError, match="expects X as a pandas DataFrame"):
        pair_covariates([["x", "y"]])
    with pytest.raises(ValueError, match="return a mapping with one list"):
        response_covariates(["x"], "n_tokens", tokenizer=lambda texts, **kw: None)
    with pytest.raises(OSError, match="looks like a local path"):
        response_covariates(["x"], "n_tokens", tokenizer="./no/such/model")
    with pytest.raises(ValueError, match="columns named <name>_a then <name>_b"):
        covariate_differences(pd.DataFrame({"x": [1], "y": [2]}))
    with pytest.raises(ValueError, match="expects a pandas DataFrame"):
        covariate_differences(np.ones((2, 2)))


def test_a_single_string_is_not_split_into_characters():
    match = r"response_covariates expects texts to be a list of texts; got a single "
    with pytest.raises(ValueError, match=match + r"string \('Sure!'\); wrap it"):
        response_covariates("Sure!")
    assert response_covariates(["Sure!"])["n_characters"].tolist() == [5.0]


def test_column_stems_refuse_a_misread_layout():
    assert pair_column_stems(["x_a", "y_a", "x_b", "y_b"], owner="t") == ["x", "y"]
    with pytest.raises(ValueError, match=r"Reorder them: Z_pairs\[\['x_a', 'y_a'"):
        pair_column_stems(["x_a", "x_b", "y_a", "y_b"], owner="t")
    with pytest.raises(ValueError, match="laid out as"):
        pair_column_stems(["x_a", "other"], owner="t")
    with pytest.raises(ValueError, match="laid out as"):
        pair_column_stems(["x_a", "y_a", "x_b"], owner="t")


@pytest.mark.parametrize(
    "error", [RuntimeError("boom"), KeyError("k"), ZeroDivisionError("division")]
)
def test_an_exception_in_a_covariate_function_names_the_covariate_and_row(error):
    def fails_on_the_second(text):
        if text == "No.":
            raise error
        return len(text)

    X = pd.DataFrame({"response_a": ["Sure!", "Yes"], "response_b": ["Ok", "No."]})
    match = (
        f"the covariate 'broken' raised {type(error).__name__}.* at row 1 "
        r"\(text 'No.'\)"
    )
    with pytest.raises(ValueError, match=match) as raised:
        pair_covariates(X, {"broken": fails_on_the_second})
    assert raised.value.__cause__ is error


def test_a_duplicated_response_column_is_named():
    X = pd.DataFrame(
        [["a", "b", "c"]], columns=["response_a", "response_b"] * 1 + ["response_b"]
    )
    with pytest.raises(ValueError, match="column 'response_b' appears 2 times in X"):
        pair_covariates(X)


# TRL's preference frames: chosen is side a, rejected side b


def _by_label(Z, y):
    """The covariates of a preference_pairs table with the chosen response as a."""
    half = Z.shape[1] // 2
    values = Z.to_numpy()
    chosen_first = np.asarray(y)[:, None] == 1
    a_side = np.where(chosen_first, values[:, :half], values[:, half:])
    b_side = np.where(chosen_first, values[:, half:], values[:, :half])
    return np.hstack([a_side, b_side])


def _message(role, content):
    return {"role": role, "content": content}


TRL_STRINGS = pd.DataFrame(
    {
        "prompt": ["Hi", "2+2?", "Name a colour."],
        "chosen": ["Hello! How can I help?", "4", "Blue, like the sky."],
        "rejected": ["Go away.", "It is five, I think.", "No."],
    }
)


def test_trl_strings_read_chosen_as_a_and_rejected_as_b():
    covariates = ["n_characters", "n_words"]
    Z = pair_covariates(TRL_STRINGS, covariates)
    assert Z.columns.tolist() == [
        "n_characters_a",
        "n_words_a",
        "n_characters_b",
        "n_words_b",
    ]
    assert Z["n_characters_a"].tolist() == TRL_STRINGS["chosen"].str.len().tolist()
    assert Z["n_characters_b"].tolist() == TRL_STRINGS["rejected"].str.len().tolist()
    # the same numbers as the pair table of the same frame, sides put back
    X, y = preference_pairs(TRL_STRINGS, random_state=0)
    assert 0 in y.tolist()  # some pairs have the chosen response as b
    np.testing.assert_array_equal(
        Z.to_numpy(), _by_label(pair_covariates(X, covariates), y)
    )


def test_trl_conversations_count_the_final_assistant_message():
    user = _message("user", "Say hello.")
    explicit = pd.DataFrame(
        {
            "prompt": [[user]],
            "chosen": [[_message("assistant", "Hello there, friend!")]],
            "rejected": [[_message("assistant", "No.")]],
        }
    )
    earlier = [user, _message("assistant", "Why?"), _message("user", "Please.")]
    implicit = pd.DataFrame(
        {
            "chosen": [
                [user, _message("assistant", "Hello there, friend!")],
                [*earlier, _message("assistant", "Hello.")],
            ],
            "rejected": [
                [user, _message("assistant", "No.")],
                [*earlier, _message("assistant", "I will not say it.")],
            ],
        },
        index=[10, 11],
    )
    Z = pair_covariates(explicit, ["n_characters", "n_words"])
    assert Z.iloc[0].tolist() == [len("Hello there, friend!"), 3, len("No."), 1]
    Z = pair_covariates(implicit, "n_characters")
    # the prompt's messages, the earlier assistant turn included, count for nothing
    assert Z.index.tolist() == [10, 11]
    assert Z["n_characters_a"].tolist() == [len("Hello there, friend!"), 6]
    assert Z["n_characters_b"].tolist() == [3, len("I will not say it.")]
    X, y = preference_pairs(implicit, random_state=1)
    np.testing.assert_array_equal(
        Z.to_numpy(), _by_label(pair_covariates(X, "n_characters"), y)
    )


def test_hh_dialogues_count_the_final_assistant_turn():
    turn = "\n\nHuman: Hi\n\nAssistant: Hello.\n\nHuman: And?\n\nAssistant: "
    hh = pd.DataFrame(
        {
            # a response that writes a further turn: the split is still the
            # shared one, not each text's own last "\n\nAssistant: "
            "chosen": [turn + "Fine, thanks.", turn + "Sure.\n\nAssistant: More"],
            "rejected": [turn + "No.", turn + "Go."],
        }
    )
    Z = pair_covariates(hh, "n_characters")
    assert Z["n_characters_a"].tolist() == [13, len("Sure.\n\nAssistant: More")]
    assert Z["n_characters_b"].tolist() == [3, 3]


def test_real_hh_rlhf_rows_match_the_loaders_split(data_home):
    path = data_home / "hh_rlhf" / "helpful-base" / "test.jsonl.gz"
    raw = pd.read_json(path, lines=True, compression="gzip")  # a user's frame
    loaded = load_hh_rlhf("helpful-base", data_home=data_home, shuffle_sides=False)
    covariates = ["n_characters", "n_words"]
    Z = pair_covariates(raw, covariates)
    assert raw.columns.tolist() == ["chosen", "rejected"] and len(Z) == 2354
    np.testing.assert_array_equal(
        Z.to_numpy(), pair_covariates(loaded, covariates).to_numpy()
    )
    # the loader's irregular rows are among them: there the naive split differs
    naive = raw["chosen"].str.rsplit("\n\nAssistant: ", n=1).str[1].str.len()
    assert (naive != Z["n_characters_a"]).sum() == 2


def test_the_response_columns_win_and_can_name_chosen_and_rejected():
    both = TRL_STRINGS.assign(response_a=["x"] * 3, response_b=["yy"] * 3)
    assert pair_covariates(both)["n_characters_b"].tolist() == [2.0] * 3
    dialogues = pd.DataFrame({"chosen": ["Hello!"], "rejected": ["Go away."]})
    with pytest.raises(ValueError, match="share no") as raised:
        pair_covariates(dialogues)
    assert "X has no prompt column" in str(raised.value)
    assert "pass response_a='chosen', response_b='rejected'" in str(raised.value)
    as_they_are = pair_covariates(dialogues, response_a="chosen", response_b="rejected")
    assert as_they_are.iloc[0].tolist() == [6.0, 8.0]


def test_a_frame_of_neither_layout_names_both():
    X = pd.DataFrame({"response_A": ["x"], "other": ["y"]})
    match = (
        r"expects X with the columns 'response_a' and 'response_b' \(skpref's "
        r"pair tables; name other columns with response_a=\.\.\., "
        r"response_b=\.\.\.\) or 'chosen' and 'rejected' \(TRL's preference "
        r"formats, chosen read as a\); got the columns \['response_A', 'other'\]\. "
        r"Did you mean response_a='response_A'\?"
    )
    with pytest.raises(ValueError, match=match):
        pair_covariates(X)
    with pytest.raises(ValueError, match="'chosen' and 'rejected'"):
        pair_covariates(pd.DataFrame({"chosen": ["x"]}))  # rejected missing


def test_bad_trl_frames_are_named():
    user, bot = _message("user", "Hi"), _message("assistant", "Hello")
    mixed = pd.DataFrame({"prompt": ["Hi"], "chosen": ["Hello"], "rejected": [[bot]]})
    with pytest.raises(ValueError, match="'chosen' and 'rejected' in one format"):
        pair_covariates(mixed)
    equal = pd.DataFrame({"chosen": [[user, bot]], "rejected": [[user, bot]]})
    with pytest.raises(ValueError, match="at row 0 the chosen and rejected conv"):
        pair_covariates(equal)
    prefix = pd.DataFrame({"chosen": [[user, bot]], "rejected": [[user]]})
    with pytest.raises(ValueError, match="rejected dialogue is the beginning"):
        pair_covariates(prefix)
    with pytest.raises(ValueError, match="column 'rejected'; got nan .* at row 0"):
        pair_covariates(TRL_STRINGS.assign(rejected=[None, "a", "b"]))
    duplicated = pd.DataFrame([["a", "b", "c"]], columns=["chosen", "rejected"] * 1
                              + ["chosen"])  # fmt: skip
    with pytest.raises(ValueError, match="column 'chosen' appears 2 times in X"):
        pair_covariates(duplicated)
