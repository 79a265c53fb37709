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
from skpref.datasets import preference_pairs
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
