"""One objective coding, frames without an objective, conversations, single texts."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skpref.datasets import OBJECTIVES, load_relabeled_hh_rlhf, preference_pairs
from skpref.embeddings import uses_chat_template
from skpref.utils import encode_objectives, objective_coding
from tests.embeddings.embedding_helpers import (
    PAIRS,
    TOLERANCE,
    make,
    reference_embedding,
)


@pytest.fixture(scope="module")
def relabeled(data_home):
    frame = load_relabeled_hh_rlhf(data_home=data_home)
    # short texts keep the tiny model fast; both objectives, in a mixed order
    short = frame[(frame.prompt.str.len() < 200) & (frame.response_a.str.len() < 200)]
    return short.groupby("objective", observed=True).head(3).sort_index()


def test_the_embedder_codes_objectives_as_the_loader(tiny_models, relabeled):
    columns = ["prompt", "response_a", "response_b", "objective"]
    embed = make(tiny_models["bert"]).fit(relabeled[columns])
    assert list(embed.objective_categories_) == list(OBJECTIVES)
    X = embed.transform(relabeled[columns])
    np.testing.assert_array_equal(X[:, -1], relabeled["objective_id"])
    # only one objective name, the names in another order, or plain strings:
    # the same ids as the loader, never a re-sorting
    for part in (
        relabeled[relabeled.objective == "harmless"],
        relabeled[relabeled.objective == "helpful"],
        relabeled.iloc[::-1],
    ):
        for objective in (part["objective"], part["objective"].astype(str)):
            ids = embed.transform(part[columns].assign(objective=objective))[:, -1]
            np.testing.assert_array_equal(ids, part["objective_id"])


def test_a_frame_with_one_loader_objective_keeps_the_loader_coding(
    tiny_models, relabeled
):
    only_harmless = relabeled[relabeled.objective == "harmless"]
    columns = ["prompt", "response_a", "response_b", "objective"]
    X = make(tiny_models["bert"]).fit_transform(only_harmless[columns])
    assert (X[:, -1] == 1).all()  # harmless = 1, as the loader says


@given(
    st.permutations(["helpful", "harmless", "honest"]),
    st.lists(st.sampled_from(["helpful", "harmless", "honest"]), min_size=1),
)
def test_encoding_is_by_name_for_any_coding_and_any_rows(coding, names):
    ids = encode_objectives(names, coding, owner="t")
    assert [coding[i] for i in ids] == names
    categorical = pd.Categorical(names, categories=coding)
    assert list(objective_coding(categorical, owner="t")) == coding
    np.testing.assert_array_equal(
        encode_objectives(categorical, coding, owner="t"), ids
    )


def test_a_frame_without_objective_gives_no_objective_column(tiny_models):
    frame = PAIRS.drop(columns="objective")
    embed = make(tiny_models["bert"]).fit(frame)
    X = embed.transform(frame)
    assert X.shape == (4, 64) and embed.objective_column_ is None
    assert embed.objective_categories_ is None
    assert embed.get_feature_names_out()[-1] == "b_emb31"
    with_objective = make(tiny_models["bert"]).fit_transform(PAIRS)
    np.testing.assert_array_equal(with_objective[:, :64], X)


def test_preference_pairs_output_goes_straight_in(tiny_models):
    records = [
        {"prompt": f"Human: Q{i}", "chosen": "Sure, here it is.", "rejected": "No."}
        for i in range(4)
    ]
    X, y = preference_pairs(records, random_state=0)
    embed = make(tiny_models["bert"]).fit(X)
    out = embed.transform(X)
    assert out.shape == (4, 64) and 0 < y.sum() < 4
    # the chosen side is response_a exactly where y == 1
    a_is_chosen = y.to_numpy()[:, None] == 1
    chosen = np.where(a_is_chosen, out[:, :32], out[:, 32:])
    expected = embed.transform_responses(X["prompt"], ["Sure, here it is."] * 4)
    np.testing.assert_allclose(chosen, expected, **TOLERANCE["float32"])


# ------------------------------------------------------------- conversations
def conversation_pairs():
    return pd.DataFrame(
        {
            "prompt": [[{"role": "user", "content": "How do I bake bread?"}]],
            "response_a": [[{"role": "assistant", "content": "Mix flour and water."}]],
            "response_b": [[{"role": "assistant", "content": "No."}]],
        }
    )


def test_conversations_use_the_chat_template_of_a_decoder(tiny_models):
    path = tiny_models["llama_chat"]
    X = make(path).fit_transform(conversation_pairs())
    text = "<|user|>How do I bake bread?</s><|assistant|>Mix flour and water.</s>"
    expected = reference_embedding(path, text, "last", add_special_tokens=False)
    np.testing.assert_allclose(X[0, :32], expected, **TOLERANCE["float32"])
    # a plain prompt and response give the same chat text: the same vector
    plain = pd.DataFrame(
        {"prompt": ["How do I bake bread?"], "response_a": ["Mix flour and water."]}
    ).assign(response_b="No.")
    np.testing.assert_array_equal(make(path).fit_transform(plain), X)


def test_conversations_without_a_chat_template_use_the_plain_format(tiny_models):
    path = tiny_models["bert"]
    X = make(path).fit_transform(conversation_pairs())
    text = "User: How do I bake bread?\n\nAssistant: Mix flour and water."
    expected = reference_embedding(path, text, "mean")
    np.testing.assert_allclose(X[0, :32], expected, **TOLERANCE["float32"])


def test_uses_chat_template_resolves_auto_as_the_embedder_does(tiny_models):
    # "auto": the chat template of a decoder whose tokenizer has one, only
    assert uses_chat_template(make(tiny_models["llama_chat"])) is True
    assert uses_chat_template(make(tiny_models["llama_right"])) is False
    assert uses_chat_template(make(tiny_models["bert"])) is False
    assert uses_chat_template(make(tiny_models["bert"], chat_template=True)) is True
    chat = make(tiny_models["llama_chat"], chat_template=np.False_)
    assert uses_chat_template(chat) is False


def test_conversation_cells_from_numpy_arrays_are_read(tiny_models):
    frame = conversation_pairs()
    as_arrays = frame.map(lambda cell: np.array(cell, dtype=object))
    embed = make(tiny_models["bert"])
    np.testing.assert_array_equal(
        embed.fit_transform(as_arrays), embed.fit_transform(frame)
    )


# --------------------------------------------------------- single responses
@pytest.mark.parametrize("name", ["bert", "llama_left"])
def test_transform_responses_equals_one_half_of_transform(tiny_models, name):
    embed = make(tiny_models[name]).fit(PAIRS)
    X = embed.transform(PAIRS)
    E = embed.transform_responses(
        PAIRS["prompt"], PAIRS["response_b"], PAIRS["objective"]
    )
    # other batches than in transform: equal to float32 precision
    np.testing.assert_allclose(
        E, np.hstack([X[:, 32:64], X[:, -1:]]), **TOLERANCE["float32"]
    )
    one = embed.transform_responses(PAIRS["prompt"], PAIRS["response_a"], objective=1)
    np.testing.assert_allclose(one[:, :32], X[:, :32], **TOLERANCE["float32"])
    assert (one[:, -1] == 1).all()


def test_transform_responses_by_objective_name(tiny_models):
    frame = PAIRS.assign(objective=["helpful", "harmless", "harmless", "helpful"])
    embed = make(tiny_models["bert"], objective_categories=OBJECTIVES).fit(frame)
    E = embed.transform_responses(["Hi"], ["Hello"], objective="harmless")
    assert E.shape == (1, 33) and E[0, -1] == 1
