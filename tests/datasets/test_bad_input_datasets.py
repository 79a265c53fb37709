"""Bad input to the dataset functions: each a clear error naming what to fix."""

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skpref.datasets import (
    load_hh_rlhf,
    load_relabeled_hh_rlhf,
    load_ultrafeedback,
    pair_features,
    preference_pairs,
)

H, A = "\n\nHuman: ", "\n\nAssistant: "
ULTRAFEEDBACK_FIXTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "ultrafeedback_sample.jsonl"
)
GOOD = {"prompt": "Hi", "chosen": "Hello!", "rejected": "Go away."}
FIXTURE_LINES = [
    json.dumps({"chosen": H + f"Q{i}" + A + "yes", "rejected": H + f"Q{i}" + A + "no"})
    for i in range(200)
]


# ---------------------------------------------------------- preference_pairs
@pytest.mark.parametrize(
    ("data", "kwargs", "match"),
    [
        ([], {}, "got empty data"),
        (pd.DataFrame(columns=["prompt", "chosen", "rejected"]), {}, "empty data"),
        ("chosen,rejected", {}, "expects data as a pandas DataFrame.*got str"),
        ([GOOD, "row"], {}, "expects data as a pandas DataFrame"),
        (
            [{"prompt": "Hi", "chosen_text": "a", "rejected": "b"}],
            {},
            "chosen='chosen' is not a column.*Did you mean chosen='chosen_text'",
        ),
        ([GOOD], {"prompt": "question"}, "prompt='question' is not a column"),
        ([GOOD], {"objective": "goal"}, "objective='goal' is not a column"),
        (
            [GOOD],
            {"objective_categories": ["helpful"]},
            "objective_categories but no objective column",
        ),
        (
            [GOOD, {**GOOD, "rejected": None}],
            {},
            "in column 'rejected'; got (None|nan) \\((NoneType|float)\\) at row 1",
        ),
        ([{**GOOD, "chosen": 3}], {}, "column 'chosen'; got 3 \\(int\\) at row 0"),
        (
            [GOOD, {**GOOD, "chosen": [{"role": "assistant", "content": "x"}]}],
            {},
            "column 'chosen' mixes formats: text at row 0 but conversation at row 1",
        ),
        (
            [{**GOOD, "prompt": [{"role": "user", "content": "Hi"}]}],
            {},
            "one format in every text column.*'prompt': 'conversation'",
        ),
        (
            [{**GOOD, "chosen": [{"role": "assistant"}]}],
            {},
            "text \\(str\\) or a conversation.*column 'chosen'",
        ),
        (
            [GOOD, {**GOOD, "rejected": "Hello!"}],
            {},
            "chosen and rejected responses are equal at row 1",
        ),
        (
            [{"Prompt": "Hi", "chosen": "Hello!", "rejected": "Go away."}],
            {},
            "no prompt column.*Did you mean prompt='Prompt'",
        ),
        (
            [{"chosen": "a plain answer", "rejected": "another answer"}],
            {},
            "no prompt column.*at row 0 they share no '\\\\n\\\\nAssistant:' turn",
        ),
        (
            [{"chosen": [{"role": "user", "content": "a"}], "rejected": []}],
            {},
            "column 'rejected'; got \\[\\] \\(list\\) at row 0",
        ),
        (
            [
                {
                    "chosen": [{"role": "user", "content": "a"}],
                    "rejected": [{"role": "user", "content": "b"}],
                }
            ],
            {},
            "at row 0 they share no leading message",
        ),
        (
            [{**GOOD, "chosen": "bad \ud800 text"}],
            {},
            "column 'chosen' at row 0 holds the lone surrogate U\\+D800",
        ),
        (
            [{**GOOD, "objective": 2}],
            {"objective": "objective", "objective_categories": ["helpful", "harmless"]},
            "column 'objective' holds the objective id 2, outside the objective "
            "coding in force \\(ids 0..1, 2 objectives\\)",
        ),
        (
            [{**GOOD, "objective": 0.5}],
            {"objective": "objective"},
            "preference_pairs expects column 'objective' to hold integer objective "
            "ids 0..K-1; got the non-integer value 0.5",
        ),
        (
            [{**GOOD, "objective": "harmles"}],
            {"objective": "objective", "objective_categories": ["helpful", "harmless"]},
            "'harmles' in column 'objective'.*Did you mean 'harmless'",
        ),
        (
            [{**GOOD, "objective": "helpful"}],
            {"objective": "objective", "objective_categories": ["a", "a"]},
            "lists 'a' more than once",
        ),
    ],
)
def test_preference_pairs_bad_input(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        preference_pairs(data, **kwargs)


def test_disagreeing_codings_are_an_error():
    data = pd.DataFrame([GOOD]).assign(
        objective=pd.Categorical(["helpful"], categories=["harmless", "helpful"])
    )
    with pytest.raises(ValueError, match="disagrees with the categories"):
        preference_pairs(
            data, objective="objective", objective_categories=["helpful", "harmless"]
        )


# ------------------------------------------------------------------- loaders
def hh_home(tmp_path, payload):
    path = tmp_path / "hh_rlhf" / "helpful-base" / "test.jsonl.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(payload)
    return path


def test_non_utf8_bytes_name_the_file_and_line(tmp_path):
    lines = [line.encode() for line in FIXTURE_LINES[:3]]
    lines[2] = lines[2].replace(b"yes", b"y\xe9s")  # Latin-1, not UTF-8
    path = hh_home(tmp_path, gzip.compress(b"\n".join(lines)))
    with pytest.raises(ValueError, match=f"line 3 of {path} is not UTF-8 text"):
        load_hh_rlhf(data_home=tmp_path)


def test_lone_surrogate_escape_names_the_file_line_and_field(tmp_path):
    # JSON's "\ud800" escape decodes to a lone surrogate, which pandas' arrow
    # strings (and every text encoder) refuse later, far from the file.
    lines = list(FIXTURE_LINES[:3])
    lines[1] = lines[1].replace("Assistant: ", "Assistant: \\ud800", 1)
    path = hh_home(tmp_path, gzip.compress("\n".join(lines).encode()))
    with pytest.raises(
        ValueError, match=f"line 2 of {path}: the '(chosen|rejected)' field holds "
    ):
        load_hh_rlhf(data_home=tmp_path)


def test_truncated_gzip_names_the_file(tmp_path):
    raw = gzip.compress("\n".join(FIXTURE_LINES).encode())
    path = hh_home(tmp_path, raw[: len(raw) // 2])
    with pytest.raises(ValueError, match=f"{path} is truncated or damaged.*after line"):
        load_hh_rlhf(data_home=tmp_path)


def test_flipped_byte_in_gzip_names_the_file(tmp_path):
    raw = bytearray(gzip.compress("\n".join(FIXTURE_LINES).encode()))
    raw[len(raw) // 2] ^= 0xFF
    path = hh_home(tmp_path, bytes(raw))
    # depending on the byte, zlib's stream check or gzip's CRC fails; either way
    # the message names the file (and the line that was reached)
    with pytest.raises(ValueError, match=str(path)):
        load_hh_rlhf(data_home=tmp_path)


def test_npz_of_object_arrays_is_refused_naming_the_file(tmp_path):
    hh_home(tmp_path, gzip.compress("\n".join(FIXTURE_LINES[:2]).encode()))
    npz = tmp_path / "objects.npz"
    objects = np.array([[1.0], "x"], dtype=object)
    np.savez(npz, chosen=objects, rejected=objects)
    with pytest.raises(ValueError, match=f"{npz} holds arrays of Python objects"):
        load_hh_rlhf(data_home=tmp_path, embeddings=npz)


def test_unreadable_npz_names_the_file(tmp_path):
    hh_home(tmp_path, gzip.compress("\n".join(FIXTURE_LINES[:2]).encode()))
    npz = tmp_path / "broken.npz"
    npz.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ValueError, match=f"{npz} is not a readable .npz file"):
        load_hh_rlhf(data_home=tmp_path, embeddings=npz)


def test_relabelled_objective_outside_the_coding_names_the_line(tmp_path):
    path = tmp_path / "hh_rlhf_relabeled_dpl" / "both" / "test.jsonl"
    path.parent.mkdir(parents=True)
    record = {
        "prompt": "Human: Hi",
        "responses": ["a", "b"],
        "objective": "funny",
        "label": 0,
        "original_label": 0,
        "data_subset": "helpful",
    }
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(ValueError, match="line 1 of .*'objective' must be one of"):
        load_relabeled_hh_rlhf(data_home=tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ties": "coin"}, "expects ties to be one of"),
        ({"reward_weights": {}}, "reward_weights as a non-empty dict"),
        (
            {"reward_weights": {"truthfullness": 1.0}},
            "each key of reward_weights.*Did you mean 'truthfulness'",
        ),
        (
            {"reward_weights": {"honesty": "high"}},
            "a number as the weight of 'honesty'",
        ),
    ],
)
def test_ultrafeedback_label_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_ultrafeedback(ULTRAFEEDBACK_FIXTURE, **kwargs)


# ------------------------------------------------------------- pair_features
def test_pair_features_vectors_of_different_lengths():
    frame = pd.DataFrame(
        {"embedding_a": [np.ones(3), np.ones(2)], "embedding_b": [np.ones(3)] * 2},
        index=[7, 8],
    )
    with pytest.raises(
        ValueError,
        match="'embedding_a' have different lengths: 3 at row 7 but 2 at row 8",
    ):
        pair_features(frame)
    frame = pd.DataFrame({"embedding_a": [np.ones(3)], "embedding_b": [np.ones(2)]})
    with pytest.raises(
        ValueError, match="'embedding_a' have length 3 but those in 'embedding_b' 2"
    ):
        pair_features(frame)


def test_pair_features_names_a_row_without_a_vector():
    frame = pd.DataFrame(
        {"embedding_a": [np.ones(3), None], "embedding_b": [np.ones(3)] * 2},
        index=[7, 8],
    )
    with pytest.raises(ValueError, match="'embedding_a' has no vector at row 8"):
        pair_features(frame)


def test_pair_features_refuses_uncoded_objective_names():
    frame = pd.DataFrame(
        {
            "embedding_a": [np.ones(2)],
            "embedding_b": [np.ones(2)],
            "objective": ["harmless"],
        }
    )
    with pytest.raises(ValueError, match="holds names with no coding"):
        pair_features(frame, with_objective=True, objective_column="objective")
    coded = frame.assign(
        objective=pd.Categorical(["harmless"], categories=["helpful", "harmless"])
    )
    X = pair_features(coded, with_objective=True, objective_column="objective")
    assert X[0, -1] == 1.0
