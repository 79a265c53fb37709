"""augment_pairs: RRM's off-prompt pairs and ties, added to text pairs."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skpref.datasets import augment_pairs, preference_pairs


def pairs(n_prompts, per_prompt, seed=0, conversations=False):
    rows = []
    for p in range(n_prompts):
        for r in range(per_prompt):
            prompt = f"question {p}"
            chosen, rejected = f"good answer {p}.{r}", f"bad answer {p}.{r}"
            if conversations:
                prompt = [{"role": "user", "content": prompt}]
                chosen = [{"role": "assistant", "content": chosen}]
                rejected = [{"role": "assistant", "content": rejected}]
            rows.append(
                {"prompt": prompt, "chosen": chosen, "rejected": rejected,
                 "objective": ["helpful", "harmless"][p % 2]}
            )  # fmt: skip
    return preference_pairs(rows, objective="objective", random_state=seed)


def answers_its_prompt(prompt, response):
    """In these data a response answers prompt p when it names p."""
    text = lambda cell: cell if isinstance(cell, str) else cell[0]["content"]  # noqa: E731
    return text(response).split()[-1].split(".")[0] == text(prompt).split()[-1]


@settings(max_examples=40, deadline=None)
@given(
    n_prompts=st.integers(2, 6),
    per_prompt=st.integers(1, 4),
    ratio=st.sampled_from([0.0, 0.5, 1.0, 2.5]),
    tie_ratio=st.sampled_from([0.0, 0.25, 1.0]),
    seed=st.integers(0, 2**31 - 1),
    conversations=st.booleans(),
)
def test_every_added_pair_is_what_it_says(
    n_prompts, per_prompt, ratio, tie_ratio, seed, conversations
):
    X, y = pairs(n_prompts, per_prompt, conversations=conversations)
    X_out, y_out, origin = augment_pairs(
        X, y, ratio=ratio, tie_ratio=tie_ratio, random_state=seed
    )
    n = len(X)
    n_off, n_tie = round(ratio * n), round(tie_ratio * n)
    assert len(X_out) == len(y_out) == len(origin) == n + n_off + n_tie
    # the original pairs first, unchanged
    pd.testing.assert_frame_equal(X_out.iloc[:n], X.reset_index(drop=True))
    np.testing.assert_array_equal(y_out[:n], y)
    assert (origin["kind"].value_counts().to_dict()) == {
        k: v for k, v in {"original": n, "off_prompt": n_off, "tie": n_tie}.items() if v
    }
    for row, kind, source in zip(
        X_out.itertuples(), origin["kind"], origin["source"], strict=True
    ):
        on_a = answers_its_prompt(row.prompt, row.response_a)
        on_b = answers_its_prompt(row.prompt, row.response_b)
        assert row.prompt == X.loc[source, "prompt"]
        assert row.objective == X.loc[source, "objective"]  # copied from source
        if kind == "original":
            assert on_a and on_b
        elif kind == "off_prompt":
            assert on_a != on_b
            assert y_out[row.Index] == (1.0 if on_a else 0.0)  # on-prompt wins
        else:
            assert not on_a and not on_b and y_out[row.Index] == 0.5
    if n_off:  # the on-prompt response is on side a in half of them
        assert abs(y_out[n : n + n_off].sum() - n_off / 2) <= 0.5
    assert y_out.dtype == (np.float64 if n_tie else y.dtype)


def test_pairs_are_drawn_once_before_twice_and_seeded():
    X, y = pairs(5, 2)
    _, _, origin = augment_pairs(X, y, ratio=1.0, tie_ratio=0.0, random_state=3)
    sources = origin.loc[origin["kind"] == "off_prompt", "source"]
    assert sorted(sources) == sorted(X.index)
    first = augment_pairs(X, y, random_state=3)
    again = augment_pairs(X, y, random_state=3)
    pd.testing.assert_frame_equal(first[0], again[0])
    other = augment_pairs(X, y, random_state=4)
    assert not first[0].equals(other[0])


def test_the_added_pairs_embed_and_fit_like_any_pairs(tiny_models):
    from sklearn.pipeline import make_pipeline

    from skpref import BTLRewardRegressor, LLMEmbeddingTransformer

    X, y = pairs(4, 3)
    X_out, y_out, _ = augment_pairs(X.drop(columns="objective"), y, random_state=0)
    pipe = make_pipeline(
        LLMEmbeddingTransformer(
            model_name_or_path=str(tiny_models["bert"]), dtype="float32", device="cpu"
        ),
        BTLRewardRegressor(hidden_dim=8, latent_dim=4, max_epochs=2, random_state=0),
    )
    assert pipe.fit(X_out, y_out).predict_proba(X_out).shape == (len(X_out), 2)


@pytest.mark.parametrize(
    ("X", "y", "kwargs", "match"),
    [
        (
            pd.DataFrame(
                {
                    "prompt": ["a", "a"],
                    "response_a": ["x", "y"],
                    "response_b": ["z", "w"],
                }
            ),  # fmt: skip
            [1, 0],
            {},
            "X has only one prompt",
        ),
        (
            pd.DataFrame(
                {"prompt": ["a", "b"], "answer_a": ["x", "y"], "response_b": ["z", "w"]}
            ),  # fmt: skip
            [1, 0],
            {},
            "response_a='response_a' is not a column of X",
        ),
        (
            pd.DataFrame(
                {
                    "prompt": ["a", "b"],
                    "response_a": ["x", "y"],
                    "response_b": ["z", "w"],
                }
            ),  # fmt: skip
            [1, 0, 1],
            {},
            r"one label per pair of X \(2\); got y of shape \(3,\)",
        ),
        (
            pd.DataFrame(
                {
                    "prompt": ["a", "b"],
                    "response_a": ["x", "y"],
                    "response_b": ["z", "w"],
                }
            ),  # fmt: skip
            [1, 0],
            {"ratio": -1},
            "'ratio' parameter of augment_pairs",
        ),
    ],
)
def test_bad_input_is_named(X, y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        augment_pairs(X, y, **kwargs)


def test_columns_of_the_source_pair_s_responses_and_label_are_emptied():
    # a loader's table: embeddings of both responses and the label columns
    X, y = pairs(3, 2)
    X["embedding_a"] = [np.full(2, i, dtype=np.float32) for i in range(len(X))]
    X["embedding_b"] = [np.full(2, -i, dtype=np.float32) for i in range(len(X))]
    X["label"], X["a_is_chosen"] = y, y.astype(bool)
    X_out, y_out, origin = augment_pairs(X, y, ratio=1.0, tie_ratio=0.5,
                                         random_state=0)  # fmt: skip
    added = X_out[origin["kind"] != "original"]
    for column in ("embedding_a", "embedding_b", "label", "a_is_chosen"):
        assert added[column].isna().all(), column
    # the prompt's columns are still copied, and the original rows keep theirs
    sources = X.loc[origin["source"][origin["kind"] != "original"]]
    assert added["objective"].tolist() == sources["objective"].tolist()
    assert X_out["label"].iloc[: len(X)].tolist() == y.tolist()
