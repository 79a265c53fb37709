"""Reading a corpus: sequences, tables and jsonl, csv, tsv, parquet files."""

import pandas as pd
import pytest

from skpref.distributed._corpus_input import read_corpus

FRAME = pd.DataFrame(
    {"prompt": ["Hi?", "Why?"], "text": ["Hello!", "Because."], "n": [1, 2]}
)


@pytest.mark.parametrize(
    "name", ["c.jsonl", "c.jsonl.gz", "c.csv", "c.tsv.gz", "c.parquet"]
)
def test_files_are_read_by_their_suffix(tmp_path, name):
    path = tmp_path / name
    if ".jsonl" in name:
        FRAME.to_json(path, orient="records", lines=True)
    elif ".csv" in name:
        FRAME.to_csv(path, index=False)
    elif ".tsv" in name:
        FRAME.to_csv(path, sep="\t", index=False)
    else:
        pytest.importorskip("pyarrow")
        FRAME.to_parquet(path)
    prompts, texts = read_corpus(path, "text", "prompt")
    assert prompts == ["Hi?", "Why?"] and texts == ["Hello!", "Because."]
    assert read_corpus(str(path), "text") == (None, ["Hello!", "Because."])


def test_sequences_series_and_conversations():
    chat = [{"role": "assistant", "content": "Hi"}]
    assert read_corpus([chat, chat]) == (None, [chat, chat])
    assert read_corpus(FRAME["text"]) == (None, ["Hello!", "Because."])


@pytest.mark.parametrize(
    ("texts", "kwargs", "match"),
    [
        (FRAME, {}, "pass column=<the text column>"),
        (FRAME, {"column": "txt"}, "column='txt' is not a column.*Did you mean 'text'"),
        (FRAME, {"column": "text", "prompt_column": "promt"}, "Did you mean 'prompt'"),
        (["a"], {"column": "text"}, "name columns of a table or a file"),
        (42, {}, "texts must be a sequence of texts"),
        ([], {}, "there are no texts to embed"),
        (["a", 3], {}, "column 'texts'"),
        (FRAME, {"column": "n"}, "column 'n'"),
        ("corpus.txt", {"column": "text"}, "expected a .jsonl, .csv, .tsv or .parquet"),
    ],
)
def test_bad_corpora(texts, kwargs, match):
    with pytest.raises(ValueError, match=match):
        read_corpus(texts, **kwargs)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_corpus(tmp_path / "missing.jsonl", "text")
