"""Covariates of responses (length, politeness, your own functions), and of pairs."""

import difflib
import numbers
import os

import numpy as np
import pandas as pd

from skpref.covariates._features import BUILTIN_COVARIATES, builtin_covariate
from skpref.utils import (
    check_text_list,
    check_texts,
    check_unique_columns,
    pair_column_stems,
    split_implicit_prompts,
)

__all__ = ["covariate_differences", "pair_covariates", "response_covariates"]


def _covariate_functions(covariates, owner):
    """Normalise ``covariates`` into ``{name: function or None (tokens)}``."""
    if isinstance(covariates, str) or callable(covariates):
        covariates = [covariates]
    items = (
        list(covariates.items())
        if isinstance(covariates, dict)
        else [(None, item) for item in covariates]
    )
    if not items:
        raise ValueError(
            f"{owner} got no covariates; name at least one, e.g. "
            "covariates=['n_characters']."
        )
    functions = {}
    for name, item in items:
        if isinstance(item, str) and name is None:
            if item not in BUILTIN_COVARIATES:
                close = difflib.get_close_matches(item, BUILTIN_COVARIATES, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"{owner}: {item!r} is not a built-in covariate; the built-in "
                    f"ones are {list(BUILTIN_COVARIATES)}, and any function of a "
                    f"text can be passed too.{hint}"
                )
            name, item = item, builtin_covariate(item)
        elif callable(item):
            name = getattr(item, "__name__", None) if name is None else name
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(
                    f"{owner}: the covariate function {item!r} has no usable name "
                    f"(got {name!r}); name it with a dict, e.g. "
                    "covariates={'n_questions': lambda text: text.count('?')}."
                )
        elif name is not None:
            # a dict names functions; a built-in cannot be renamed through it
            fix = (
                "Give a function, or list the built-in under its own name: "
                f"covariates=[{item!r}, ...]."
                if isinstance(item, str) and item in BUILTIN_COVARIATES
                else f"Give a function, e.g. covariates={{{name!r}: len}}."
            )
            raise ValueError(
                f"{owner}: a dict of covariates maps each name to a function of a "
                f"text; got {item!r} for the name {name!r}. {fix}"
            )
        else:
            raise ValueError(
                f"{owner} expects each covariate to be a built-in name "
                f"{list(BUILTIN_COVARIATES)} or a function of a text; got "
                f"{item!r}."
            )
        if name in functions:
            raise ValueError(f"{owner}: the covariate {name!r} is given twice.")
        functions[name] = item
    return functions


def _load_tokenizer(tokenizer, owner):
    if tokenizer is None:
        raise ValueError(
            f"{owner}: the covariate 'n_tokens' needs a tokenizer; pass "
            "tokenizer=<a model folder or Hugging Face id> or a transformers "
            "tokenizer object."
        )
    if not isinstance(tokenizer, str | os.PathLike):
        return tokenizer
    from skpref.embeddings import load_tokenizer

    return load_tokenizer(tokenizer, owner=owner)


def _token_counts(texts, tokenizer, owner):
    # verbose=False: a text longer than the model's context is fine to count
    encoded = tokenizer(texts, add_special_tokens=False, verbose=False)
    ids = encoded.get("input_ids") if hasattr(encoded, "get") else None
    if ids is None or len(ids) != len(texts):
        raise ValueError(
            f"{owner} expects tokenizer(texts, add_special_tokens=False, "
            "verbose=False) to return "
            "a mapping with one list of 'input_ids' per text, as transformers "
            f"tokenizers do; got {type(encoded).__name__}."
        )
    return np.array([len(row) for row in ids], dtype=np.int64)


def _as_text(cell):
    """Return a cell's text; a conversation's is its contents, blank-line joined."""
    if isinstance(cell, str):
        return cell
    return "\n\n".join(message["content"] for message in cell)


def _values(name, function, texts, index, owner):
    values = []
    for position, text in enumerate(texts):
        try:
            values.append(function(text))
        except Exception as error:
            raise ValueError(
                f"{owner}: the covariate {name!r} raised {type(error).__name__}: "
                f"{error} at row {index[position]!r} (text {text[:60]!r}). Fix the "
                "function or drop the row."
            ) from error
    result = np.empty(len(values), dtype=np.float64)
    for position, value in enumerate(values):
        if not isinstance(value, numbers.Real | np.bool_) or not np.isfinite(value):
            raise ValueError(
                f"{owner}: the covariate {name!r} must give a finite number for "
                f"every text; got {value!r} at row {index[position]!r}."
            )
        result[position] = value
    return result


def response_covariates(
    texts, covariates=("n_characters",), *, tokenizer=None, column="response"
):
    """Compute named covariates of each text: length, structure, politeness, yours.

    Parameters
    ----------
    texts : sequence or pandas.Series of str or conversations
        One response per entry; a conversation (a list of ``{"role",
        "content"}`` messages) counts as its contents joined by blank lines.
    covariates : str, callable, list of them, or dict of str to callable, \
default=("n_characters",)
        What to compute. Built-in names: ``"n_characters"``, ``"n_words"``
        (whitespace-separated), ``"n_tokens"`` (needs ``tokenizer``),
        ``"n_sentences"``, ``"n_list_items"`` (lines starting with ``-``,
        ``*``, ``•`` or ``1.``) and ``"n_politeness_markers"`` (matches of
        :data:`POLITENESS_MARKERS`). A function ``text -> number`` is named by
        its ``__name__``, or by its key in a dict.
    tokenizer : str, path-like, tokenizer or None, default=None
        For ``"n_tokens"``: a transformers tokenizer, or the model folder or
        Hugging Face id to load one from (offline with ``HF_HUB_OFFLINE=1``).
        Special tokens are not counted.
    column : str, default="response"
        Name of the texts in error messages.

    Returns
    -------
    frame : pandas.DataFrame of shape (n_texts, n_covariates)
        One column per covariate, float64; the index of ``texts`` if it is a
        Series, else ``0..n_texts - 1``.

    See Also
    --------
    pair_covariates : The covariates of both responses of every pair.

    Examples
    --------
    >>> from skpref.covariates import response_covariates
    >>> response_covariates(["Sure! Thank you.", "No."],
    ...                     ["n_characters", "n_politeness_markers"])
       n_characters  n_politeness_markers
    0          16.0                   1.0
    1           3.0                   0.0
    >>> response_covariates(["Why? How?"], {"n_questions": lambda t: t.count("?")})
       n_questions
    0          2.0
    """
    owner = "response_covariates"
    functions = _covariate_functions(covariates, owner)
    if "n_tokens" in functions and functions["n_tokens"] is None:
        tokenizer = _load_tokenizer(tokenizer, owner)
    return _compute(texts, functions, tokenizer, column, owner)


def _compute(texts, functions, tokenizer, column, owner):
    index = texts.index if isinstance(texts, pd.Series) else None
    texts = check_text_list(texts, argument="texts", owner=owner)
    cells, _ = check_texts(texts, column=column, owner=owner, index=index)
    index = pd.RangeIndex(len(cells)) if index is None else index
    plain = [_as_text(cell) for cell in cells]
    columns = {}
    for name, function in functions.items():
        if function is None:
            columns[name] = _token_counts(plain, tokenizer, owner).astype(np.float64)
        else:
            columns[name] = _values(name, function, plain, list(index), owner)
    return pd.DataFrame(columns, index=index)


def _missing_column(X, name, argument, taken, owner):
    others = [str(c) for c in X.columns if c not in taken]
    close = difflib.get_close_matches(str(name), others, n=1)
    hint = f" Did you mean {argument}={close[0]!r}?" if close else ""
    return ValueError(
        f"{owner}: {argument}={name!r} is not a column of X; got the "
        f"columns {list(X.columns)}.{hint}"
    )


def _trl_responses(X, owner):
    """Return the two responses of TRL's ``chosen`` / ``rejected`` columns.

    With a ``prompt`` column they are the responses (TRL's explicit prompt); else
    whole dialogues, split at their shared beginning as
    :func:`~skpref.datasets.preference_pairs` splits them.
    """
    check_unique_columns(X, ["chosen", "rejected"], owner=owner, argument="X")
    checked = [
        check_texts(X[name].tolist(), column=name, owner=owner, index=X.index)
        for name in ("chosen", "rejected")
    ]
    (chosen, form), (rejected, other) = checked
    if form != other:
        raise ValueError(
            f"{owner} expects 'chosen' and 'rejected' in one format; got {form} "
            f"and {other}. Use plain strings in both or conversations in both."
        )
    if "prompt" not in X.columns:
        _, chosen, rejected = split_implicit_prompts(
            chosen,
            rejected,
            form,
            owner=owner,
            index=X.index,
            argument="X",
            remedy=(
                "add the prompts as a 'prompt' column (chosen and rejected are "
                "then read as the responses), or pass response_a='chosen', "
                "response_b='rejected' to read the columns as they are."
            ),
        )
        for row, response in zip(X.index, chosen, strict=True):
            # one empty response is refused above: both are, the two are equal
            if form == "conversation" and not response:
                raise ValueError(
                    f"{owner}: at row {row!r} the chosen and rejected "
                    "conversations are equal, so neither has a response after "
                    "their shared beginning. Drop the row."
                )
    return (
        pd.Series(chosen, index=X.index, dtype=object),
        pd.Series(rejected, index=X.index, dtype=object),
    )


def pair_covariates(
    X,
    covariates=("n_characters",),
    *,
    tokenizer=None,
    response_a="response_a",
    response_b="response_b",
):
    """Compute covariates of both responses of every pair: ``[z_a | z_b]``.

    Reads skpref's pair tables (columns ``response_a`` and ``response_b``) and
    TRL's preference frames (columns ``chosen`` and ``rejected``, optionally
    ``prompt``), as plain text or as conversations.

    Parameters
    ----------
    X : pandas.DataFrame
        A table of pairs, such as :func:`~skpref.datasets.preference_pairs` or a
        ``load_*`` function returns, or a preference frame in one of TRL's
        formats (see Notes).
    covariates : str, callable, list of them, or dict of str to callable, \
default=("n_characters",)
        What to compute; see :func:`response_covariates`.
    tokenizer : str, path-like, tokenizer or None, default=None
        For ``"n_tokens"``; see :func:`response_covariates`.
    response_a, response_b : str, default="response_a", "response_b"
        The columns of the two responses, read as they are. With the defaults,
        a frame that has neither column but has ``chosen`` and ``rejected`` is
        read in TRL's layout: ``chosen`` is side a, ``rejected`` side b.

    Returns
    -------
    Z_pairs : pandas.DataFrame of shape (n_pairs, 2 * n_covariates)
        Columns ``<name>_a`` for every covariate, then ``<name>_b`` in the same
        order; the index of ``X``. This is the layout
        :class:`~skpref.causal.AMCEEstimator` reads factor names from, and the
        ``concept`` of :class:`~skpref.preprocessing.LinearConceptEraser`. For a
        TRL frame, ``<name>_a`` is the chosen response's and ``<name>_b`` the
        rejected one's.

    Raises
    ------
    ValueError
        If ``X`` has neither layout (the message names both and the arguments
        to pass), a named column is missing (with the closest name), a cell is
        neither text nor a conversation, or dialogues without a prompt column
        cannot be split.

    See Also
    --------
    covariate_differences : ``z_a - z_b`` of every covariate.
    skpref.datasets.preference_pairs : The pair table of a TRL frame.

    Notes
    -----
    A conversation (a list of ``{"role", "content"}`` messages) counts as its
    contents joined by blank lines. In TRL's layout:

    - with a ``prompt`` column (TRL's explicit prompt), ``chosen`` and
      ``rejected`` are the responses, read as they are (a conversational
      response is its assistant message);
    - without one (TRL's implicit prompt), they are whole dialogues that share
      their beginning, split as :func:`~skpref.datasets.preference_pairs` and
      :func:`~skpref.datasets.load_hh_rlhf` split them: text in the HH-RLHF
      format (``Human:`` and ``Assistant:`` turns, each after a blank line)
      after the last assistant turn the two share, so each response is its
      final assistant turn; conversations after their shared leading messages,
      so each response is the messages that follow them (the final assistant
      message, where only that differs). A row that cannot be split is an error
      naming it; ``response_a="chosen", response_b="rejected"`` reads the whole
      texts instead.

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.covariates import pair_covariates
    >>> X = pd.DataFrame({"prompt": ["Hi"], "response_a": ["Hello there!"],
    ...                   "response_b": ["Hi."]})
    >>> pair_covariates(X, ["n_characters", "n_words"])
       n_characters_a  n_words_a  n_characters_b  n_words_b
    0            12.0        2.0             3.0        1.0

    A TRL frame; the chosen response is side a:

    >>> trl = pd.DataFrame({"prompt": ["Hi"], "chosen": ["Hello there!"],
    ...                     "rejected": ["Hi."]})
    >>> pair_covariates(trl, "n_words")
       n_words_a  n_words_b
    0        2.0        1.0
    """
    owner = "pair_covariates"
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            f"{owner} expects X as a pandas DataFrame with the columns "
            f"{response_a!r} and {response_b!r}, or TRL's 'chosen' and "
            f"'rejected'; got {type(X).__name__}."
        )
    defaults = (response_a, response_b) == ("response_a", "response_b")
    absent = response_a not in X.columns and response_b not in X.columns
    trl = {"chosen", "rejected"} <= set(X.columns)
    if defaults and absent and not trl:
        close = difflib.get_close_matches("response_a", map(str, X.columns), n=1)
        hint = f" Did you mean response_a={close[0]!r}?" if close else ""
        raise ValueError(
            f"{owner} expects X with the columns 'response_a' and 'response_b' "
            "(skpref's pair tables; name other columns with response_a=..., "
            "response_b=...) or 'chosen' and 'rejected' (TRL's preference "
            f"formats, chosen read as a); got the columns {list(X.columns)}.{hint}"
        )
    if not (defaults and absent):
        for name, argument in ((response_a, "response_a"), (response_b, "response_b")):
            if name not in X.columns:
                raise _missing_column(
                    X, name, argument, (response_a, response_b), owner
                )
        check_unique_columns(X, [response_a, response_b], owner=owner, argument="X")
    functions = _covariate_functions(covariates, owner)
    if "n_tokens" in functions and functions["n_tokens"] is None:
        tokenizer = _load_tokenizer(tokenizer, owner)
    if defaults and absent:
        side_a, side_b = _trl_responses(X, owner)
        columns = ("chosen", "rejected")
    else:
        side_a, side_b = X[response_a], X[response_b]
        columns = (response_a, response_b)
    sides = [
        _compute(texts, functions, tokenizer, name, owner).add_suffix(suffix)
        for texts, name, suffix in zip(
            (side_a, side_b), columns, ("_a", "_b"), strict=True
        )
    ]
    return pd.concat(sides, axis=1)


def covariate_differences(Z_pairs):
    """Return ``z_a - z_b`` of every covariate of a ``[<name>_a | <name>_b]`` table.

    Parameters
    ----------
    Z_pairs : pandas.DataFrame of shape (n_pairs, 2 * n_covariates)
        Columns ``<name>_a ...`` then ``<name>_b ...``, as
        :func:`pair_covariates` returns.

    Returns
    -------
    differences : pandas.DataFrame of shape (n_pairs, n_covariates)
        One column per covariate, named ``<name>``: positive where response a
        has more of it (is longer, for a length).

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.covariates import covariate_differences
    >>> Z = pd.DataFrame({"n_words_a": [5, 1], "n_words_b": [2, 4]})
    >>> covariate_differences(Z)["n_words"].tolist()
    [3, -3]
    """
    owner = "covariate_differences"
    if not isinstance(Z_pairs, pd.DataFrame):
        raise ValueError(
            f"{owner} expects a pandas DataFrame with columns <name>_a then "
            f"<name>_b (see pair_covariates); got {type(Z_pairs).__name__}."
        )
    names = pair_column_stems(Z_pairs.columns, owner=owner)
    if names is None:
        raise ValueError(
            f"{owner} expects columns named <name>_a then <name>_b (see "
            f"pair_covariates); got {list(Z_pairs.columns)}."
        )
    half = len(names)
    values = Z_pairs.to_numpy()
    return pd.DataFrame(
        values[:, :half] - values[:, half:], index=Z_pairs.index, columns=names
    )
