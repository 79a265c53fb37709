"""The two forms a prompt or a response takes: plain text or a conversation.

A *conversation* is a list of messages ``{"role": str, "content": str}``, the
format of chat templates and of TRL's conversational datasets. Loaders,
:func:`skpref.datasets.preference_pairs` and the embedder check their text cells
here, so every component accepts, refuses and reports the same values.
"""

import numpy as np

__all__ = ["as_conversation", "check_text_list", "check_texts"]

TEXT, CONVERSATION = "text", "conversation"


def as_conversation(value):
    """Return ``value`` as a list of ``{"role", "content"}`` dicts, or None.

    Lists, tuples and NumPy object arrays of messages (what
    ``datasets.Dataset.to_pandas`` gives) are accepted; extra message keys are
    dropped. Anything else, an empty list included, gives None.

    Examples
    --------
    >>> as_conversation([{"role": "user", "content": "Hi", "name": "x"}])
    [{'role': 'user', 'content': 'Hi'}]
    >>> as_conversation("Hi") is None
    True
    """
    if not isinstance(value, list | tuple | np.ndarray) or len(value) == 0:
        return None
    messages = []
    for message in value:
        if not (
            isinstance(message, dict)
            and isinstance(message.get("role"), str)
            and isinstance(message.get("content"), str)
        ):
            return None
        messages.append({"role": message["role"], "content": message["content"]})
    return messages


def _describe(value):
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _check_unicode(text, *, column, row, owner):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start]
        raise ValueError(
            f"{owner}: column {column!r} at row {row!r} holds the lone surrogate "
            f"U+{ord(bad):04X} at character {exc.start}, which is not valid Unicode "
            "text. Repair it first, e.g. text.encode('utf-8', 'replace')"
            ".decode('utf-8')."
        ) from None


def check_texts(values, *, column, owner, index=None, conversations=True):
    """Check one column of texts; return the cells normalised and their form.

    Parameters
    ----------
    values : sequence
        The cells of one column.
    column : str
        Column name, used in error messages.
    owner : str
        Name used in error messages.
    index : sequence or None, default=None
        Row labels used in error messages; positions when None.
    conversations : bool, default=True
        Whether conversations are accepted besides plain strings.

    Returns
    -------
    cells : list
        Strings, and conversations as lists of ``{"role", "content"}`` dicts.
    form : {"text", "conversation"} or None
        The form of every cell; None for an empty column.

    Raises
    ------
    ValueError
        For a cell that is neither form (a missing value, a number ...), a column
        that mixes the two forms, or a string that is not valid Unicode (a lone
        surrogate such as U+D800), naming the column and the row.

    Examples
    --------
    >>> check_texts(["Hi", "Hello"], column="prompt", owner="f")
    (['Hi', 'Hello'], 'text')
    >>> check_texts(["Hi", None], column="prompt", owner="f")
    Traceback (most recent call last):
    ...
    ValueError: f expects text (str) or a conversation (a list of {'role', \
'content'} messages) in column 'prompt'; got None (NoneType) at row 1. Fill or \
drop missing texts first.
    """
    index = range(len(values)) if index is None else index
    cells, form, first_row = [], None, None
    expected = (
        "text (str) or a conversation (a list of {'role', 'content'} messages)"
        if conversations
        else "text (str)"
    )
    for row, value in zip(index, values, strict=True):
        if isinstance(value, str):
            kind, cell = TEXT, value
            _check_unicode(value, column=column, row=row, owner=owner)
        elif conversations and (cell := as_conversation(value)) is not None:
            kind = CONVERSATION
            for message in cell:
                for text in message.values():
                    _check_unicode(text, column=column, row=row, owner=owner)
        else:
            raise ValueError(
                f"{owner} expects {expected} in column {column!r}; got "
                f"{_describe(value)} at row {row!r}. Fill or drop missing texts "
                "first."
            )
        if form is None:
            form, first_row = kind, row
        elif kind != form:
            raise ValueError(
                f"{owner}: column {column!r} mixes formats: {form} at row "
                f"{first_row!r} but {kind} at row {row!r}. Use one format for "
                "every row: all plain strings, or all conversations."
            )
        cells.append(cell)
    return cells, form


def check_text_list(values, *, argument, owner):
    """Return ``values`` as a list, refusing a bare string.

    ``list("Hello")`` is five one-letter texts: a string given where a list of
    texts is expected is an error instead.

    Examples
    --------
    >>> check_text_list(("Hi", "Hello"), argument="responses", owner="f")
    ['Hi', 'Hello']
    >>> check_text_list("Hello", argument="responses", owner="f")
    Traceback (most recent call last):
    ...
    ValueError: f expects responses to be a list of texts; got a single string \
('Hello'); wrap it in a list: [text].
    """
    if isinstance(values, str):
        shown = values if len(values) <= 40 else values[:37] + "..."
        raise ValueError(
            f"{owner} expects {argument} to be a list of texts; got a single "
            f"string ({shown!r}); wrap it in a list: [text]."
        )
    return list(values)
