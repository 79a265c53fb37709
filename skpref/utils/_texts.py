"""The two forms a prompt or a response takes: plain text or a conversation.

A *conversation* is a list of messages ``{"role": str, "content": str}``, the
format of chat templates and of TRL's conversational datasets. Loaders,
:func:`skpref.datasets.preference_pairs` and the embedder check their text cells
here, so every component accepts, refuses and reports the same values; and whole
dialogues (TRL's implicit prompt, HH-RLHF) are split into prompt and responses
here, so the loaders and :func:`skpref.covariates.pair_covariates` find the same
responses.
"""

import os

import numpy as np

__all__ = [
    "as_conversation",
    "check_text_list",
    "check_texts",
    "split_dialogue",
    "split_implicit_prompts",
]

TEXT, CONVERSATION = "text", "conversation"

# no trailing space: a whitespace-stripped dialogue ends an empty turn with
# "\n\nAssistant:" alone, and its final turn must still be found
_ASSISTANT = "\n\nAssistant:"


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


def split_dialogue(chosen, rejected):
    r"""Split two dialogues into their shared prompt and their two final turns.

    The prompt ends at the last ``"\n\nAssistant:"`` that lies inside the
    longest common prefix of the two texts, and each response loses the one
    space that follows the marker. Unlike ``text.rfind`` on each text alone,
    this stays right when a response itself contains a turn marker; and the
    marker is found without its space, so a dialogue whose empty final turn was
    stripped to ``"...\n\nAssistant:"`` still splits at that turn. The prompt
    loses its leading ``"\n\n"``.

    Parameters
    ----------
    chosen, rejected : str
        Two dialogues in the HH-RLHF format (``"\n\nHuman: ...\n\nAssistant:
        ..."``) that share every turn but the final assistant one.

    Returns
    -------
    parts : tuple of (str, str, str) or None
        ``(prompt, chosen_response, rejected_response)``; None if the common
        prefix holds no assistant turn.

    Examples
    --------
    >>> from skpref.utils import split_dialogue
    >>> split_dialogue("\n\nHuman: Hi\n\nAssistant: Hello!",
    ...                "\n\nHuman: Hi\n\nAssistant: Go away.")
    ('Human: Hi', 'Hello!', 'Go away.')
    >>> split_dialogue("Hello!", "Go away.") is None
    True
    """
    shared = len(os.path.commonprefix([chosen, rejected]))
    cut = chosen.rfind(_ASSISTANT, 0, shared)
    if cut < 0:
        return None
    start = cut + len(_ASSISTANT)
    return (
        chosen[:cut].removeprefix("\n\n"),
        chosen[start:].removeprefix(" "),
        rejected[start:].removeprefix(" "),
    )


def split_implicit_prompts(
    chosen,
    rejected,
    form,
    *,
    owner,
    index=None,
    argument="data",
    remedy="pass the column of prompts as prompt=...",
):
    r"""Split whole dialogues into their shared prompt and their two responses.

    TRL's *implicit prompt* format: ``chosen`` and ``rejected`` are whole
    dialogues that share their beginning. Text is split by
    :func:`split_dialogue` (the HH-RLHF format); conversations at their shared
    leading messages, each response being the messages that follow (for a
    one-turn answer, the final assistant message).

    Parameters
    ----------
    chosen, rejected : list
        The cells of the two columns, as :func:`check_texts` returns them.
    form : {"text", "conversation"}
        Their form, as :func:`check_texts` returns it.
    owner : str
        Name used in error messages.
    index : sequence or None, default=None
        Row labels used in error messages; positions when None.
    argument : str, default="data"
        The name of the table in error messages.
    remedy : str, default="pass the column of prompts as prompt=..."
        What the caller can do instead, ending the error messages.

    Returns
    -------
    prompts, chosen_responses, rejected_responses : list
        One entry per row: strings, or lists of messages for conversations.

    Raises
    ------
    ValueError
        For a row whose dialogues share no assistant turn (text) or no leading
        message (conversations), or whose one conversation is the other's
        beginning (its response would be empty), naming the row.

    Examples
    --------
    >>> from skpref.utils import split_implicit_prompts
    >>> user = {"role": "user", "content": "Hi"}
    >>> chosen = [[user, {"role": "assistant", "content": "Hello!"}]]
    >>> rejected = [[user, {"role": "assistant", "content": "Go away."}]]
    >>> prompts, c, r = split_implicit_prompts(chosen, rejected, "conversation",
    ...                                        owner="f")
    >>> prompts, c[0][0]["content"], r[0][0]["content"]
    ([[{'role': 'user', 'content': 'Hi'}]], 'Hello!', 'Go away.')
    """
    index = range(len(chosen)) if index is None else index
    remedy_sentence = remedy[:1].upper() + remedy[1:]
    prompts, chosen_out, rejected_out = [], [], []
    for row, c, r in zip(index, chosen, rejected, strict=True):
        if form == CONVERSATION:
            shared = 0
            while shared < min(len(c), len(r)) and c[shared] == r[shared]:
                shared += 1
            parts = (c[:shared], c[shared:], r[shared:]) if shared else None
            if parts is not None and bool(parts[1]) != bool(parts[2]):
                which = "rejected" if parts[1] else "chosen"
                raise ValueError(
                    f"{owner}: at row {row!r} the {which} dialogue is the beginning "
                    f"of the other, so its response is empty. Drop the row, or "
                    f"{remedy}"
                )
        else:
            parts = split_dialogue(c, r)
        if parts is None:
            what = (
                "share no leading message"
                if form == CONVERSATION
                else "share no '\\n\\nAssistant:' turn"
            )
            raise ValueError(
                f"{owner}: {argument} has no prompt column, so the prompt must be "
                f"the shared beginning of chosen and rejected, but at row {row!r} "
                f"they {what}. {remedy_sentence}"
            )
        prompts.append(parts[0])
        chosen_out.append(parts[1])
        rejected_out.append(parts[2])
    return prompts, chosen_out, rejected_out
