"""Input checks and text rendering of LLMEmbeddingTransformer."""

import difflib

import numpy as np
import pandas as pd

from skpref.embeddings._encode import tokenize
from skpref.utils._validation import check_objective_ids

OWNER = "LLMEmbeddingTransformer"


def text_columns(prompt_column, response_a_column, response_b_column):
    """Return the text columns read from X, the prompt first when there is one."""
    columns = [response_a_column, response_b_column]
    return columns if prompt_column is None else [prompt_column, *columns]


def check_frame(X, columns, objective_column):
    """Check that X is a DataFrame holding the text (and objective) columns."""
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            f"{OWNER} expects X to be a pandas DataFrame with the text columns "
            f"{columns}; got {type(X).__name__}. Build one with "
            "pd.DataFrame({'prompt': ..., 'response_a': ..., 'response_b': ...})."
        )
    needed = columns if objective_column is None else [*columns, objective_column]
    for column in needed:
        if column not in X.columns:
            close = difflib.get_close_matches(column, map(str, X.columns), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"{OWNER} expects a column {column!r} in X; got the columns "
                f"{list(X.columns)}.{hint} Set the *_column parameters (None "
                "disables the prompt or objective column)."
            )
    for column in columns:
        is_text = X[column].map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        if not is_text.all():
            row = X.index[np.flatnonzero(~is_text)[0]]
            raise ValueError(
                f"{OWNER} expects text (str) in column {column!r}; got "
                f"{X.at[row, column]!r} at row {row!r}. Fill or drop missing "
                "texts first."
            )


def check_text_template(text_template):
    """Check that a text template uses only ``{prompt}`` and ``{response}``."""
    try:
        text_template.format(prompt="", response="")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"{OWNER}: text_template may only use the fields {{prompt}} and "
            f"{{response}}; got {text_template!r} ({exc!r}). Double the "
            "braces that are meant literally: '{{' and '}}'."
        ) from exc
    if "{response}" not in text_template:
        raise ValueError(
            f"{OWNER}: text_template must contain '{{response}}'; got "
            f"{text_template!r}."
        )


def objective_ids(values, categories, objective_column):
    """Map an objective column to integer ids (numeric, or by ``categories``)."""
    values = pd.Series(values)
    if categories is None:
        if not pd.api.types.is_numeric_dtype(values):
            raise ValueError(
                f"{OWNER} was fitted on numeric objective ids; got values of "
                f"dtype {values.dtype} in column {objective_column!r}."
            )
        return check_objective_ids(values.to_numpy(), owner=OWNER)
    lookup = {c: i for i, c in enumerate(categories)}
    unknown = sorted(set(values) - lookup.keys(), key=str)
    if unknown:
        raise ValueError(
            f"{OWNER} knows the objectives {list(categories)}; "
            f"got the unknown value {unknown[0]!r} in column "
            f"{objective_column!r}. Pass objective_categories listing "
            "every objective."
        )
    return values.map(lookup).to_numpy(dtype=np.int64)


def text_spec(prompt_column, chat_template, text_template, prompt, response):
    """Everything that decides the text fed to the model: part of the cache key."""
    if prompt_column is None:
        return ["response", response]
    mode = {True: "chat", False: "template"}.get(chat_template, "auto")
    return [mode, text_template, prompt, response]


def render(spec, tokenizer, use_chat):
    """Return ``(text, add_special_tokens)`` for one text spec."""
    if spec[0] == "response":
        return spec[1], True
    _, template, prompt, response = spec
    if use_chat:
        messages = [
            {"role": "user", "content": prompt},
            {"role": "assistant", "content": response},
        ]
        text = tokenizer.apply_chat_template(messages, tokenize=False)
        return text, False  # the template already holds the special tokens
    return template.format(prompt=prompt, response=response), True


def token_ids(specs, tokenizer, *, use_chat, max_length, truncation_side):
    """Render and tokenize text specs; return one list of token ids per spec.

    Chat-rendered texts carry their own special tokens and are tokenized without
    adding more; the rest get the tokenizer's special tokens.
    """
    rendered = [render(spec, tokenizer, use_chat) for spec in specs]
    ids = []
    for special in (True, False):
        chosen = [i for i, (_, s) in enumerate(rendered) if s is special]
        if chosen:
            tokens = tokenize(
                [rendered[i][0] for i in chosen],
                tokenizer,
                max_length=max_length,
                truncation_side=truncation_side,
                add_special_tokens=special,
            )
            ids.extend(zip(chosen, tokens, strict=True))
    ids_list = [tokens for _, tokens in sorted(ids, key=lambda pair: pair[0])]
    if any(len(tokens) == 0 for tokens in ids_list):
        raise ValueError(
            f"{OWNER}: a text has no tokens (an empty response with no prompt "
            "and a tokenizer that adds no special tokens); drop empty texts."
        )
    return ids_list
