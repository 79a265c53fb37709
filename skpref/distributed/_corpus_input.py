"""The texts of a corpus: a sequence, a DataFrame, or a jsonl, csv or parquet file."""

import difflib
import os
from pathlib import Path

import pandas as pd

from skpref.utils import check_texts

OWNER = "embed_corpus"

#: How a csv's cells are read: as written, so that texts of digits ("1", "2.50")
#: stay texts and "NA", "None" or "null" are not taken for missing; only an empty
#: cell is missing.
_CSV_TEXTS = {"dtype": str, "keep_default_na": False, "na_values": [""]}
#: File suffixes read, with the pandas reader of each (compressed files too); JSON
#: values keep their type (pandas would turn strings of digits into numbers).
_READERS = {
    ".jsonl": lambda path: pd.read_json(
        path, lines=True, dtype=False, convert_dates=False
    ),
    ".csv": lambda path: pd.read_csv(path, **_CSV_TEXTS),
    ".tsv": lambda path: pd.read_csv(path, sep="\t", **_CSV_TEXTS),
    ".parquet": pd.read_parquet,
}
_COMPRESSIONS = {".gz", ".bz2", ".xz", ".zst", ".zip"}


def _file_kind(path):
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSIONS:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def read_frame(path):
    """Read a jsonl, csv, tsv or parquet file (``.gz`` etc. for the text ones)."""
    path = Path(path).expanduser()
    kind = _file_kind(path)
    if kind not in _READERS:
        raise ValueError(
            f"{OWNER}: cannot read {str(path)!r}: expected a .jsonl, .csv, .tsv "
            f"or .parquet file (text files may be compressed, e.g. .jsonl.gz); "
            f"got the suffix {''.join(path.suffixes) or 'none'!r}."
        )
    if not path.is_file():
        raise FileNotFoundError(f"{OWNER}: no such file: {str(path)!r}.")
    return _READERS[kind](path)


def _column(frame, name, argument):
    if name not in frame.columns:
        close = difflib.get_close_matches(str(name), map(str, frame.columns), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"{OWNER}: {argument}={name!r} is not a column of the data; its "
            f"columns are {list(map(str, frame.columns))}.{hint}"
        )
    return frame[name]


def read_corpus(texts, column=None, prompt_column=None):
    """Return ``(prompts or None, responses)`` as checked lists.

    Parameters
    ----------
    texts : sequence, pandas.Series, pandas.DataFrame or path-like
        The texts (strings or conversations), or a table or file holding them.
    column : str or None
        Column of the texts, required for a table or file.
    prompt_column : str or None
        Column of prompts embedded with each text, for a table or file.
    """
    if isinstance(texts, str | os.PathLike):
        texts = read_frame(texts)
    if isinstance(texts, pd.DataFrame):
        if column is None:
            raise ValueError(
                f"{OWNER}: the data is a table with the columns "
                f"{list(map(str, texts.columns))}; pass column=<the text column>."
            )
        prompts = None
        if prompt_column is not None:
            prompts = _column(texts, prompt_column, "prompt_column").tolist()
        responses = _column(texts, column, "column").tolist()
    else:
        if column is not None or prompt_column is not None:
            raise ValueError(
                f"{OWNER}: column and prompt_column name columns of a table or a "
                f"file; got a {type(texts).__name__} of texts. Pass a DataFrame "
                "or a file, or drop them."
            )
        if isinstance(texts, pd.Series):
            texts = texts.tolist()
        try:
            responses = list(texts)
        except TypeError:
            raise ValueError(
                f"{OWNER}: texts must be a sequence of texts, a DataFrame or a "
                f"path to a .jsonl, .csv or .parquet file; got "
                f"{type(texts).__name__}."
            ) from None
        prompts = None
    responses, _ = check_texts(responses, column=column or "texts", owner=OWNER)
    if prompts is not None:
        prompts, _ = check_texts(prompts, column=prompt_column, owner=OWNER)
    if not responses:
        raise ValueError(f"{OWNER}: there are no texts to embed.")
    return prompts, responses
