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


@pytest.mark.parametrize(
    "texts", [["1", "2.50"], ["None", "NA", "null", "2024-01-01", "7"]]
)
@pytest.mark.parametrize("name", ["c.jsonl", "c.csv", "c.tsv"])
def test_texts_that_look_like_numbers_or_missing_values_stay_texts(
    tmp_path, name, texts
):
    # answers such as "1" or "None" are texts; pandas' readers would make them
    # numbers or missing values, and the run would stop on "missing texts"
    frame = pd.DataFrame({"text": texts})
    path = tmp_path / name
    if name.endswith(".jsonl"):
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_csv(path, sep="," if name.endswith(".csv") else "\t", index=False)
    assert read_corpus(path, "text") == (None, frame["text"].tolist())


def test_an_empty_csv_cell_is_a_missing_text(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('text\nHello!\n""\n', encoding="utf-8")
    with pytest.raises(ValueError, match="Fill or drop missing texts"):
        read_corpus(path, "text")


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
