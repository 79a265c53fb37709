"""Input checks and text rendering of LLMEmbeddingTransformer."""

import difflib

import numpy as np
import pandas as pd

from skpref.embeddings._encode import tokenize
from skpref.utils import (
    check_text_list,
    check_texts,
    check_unique_columns,
    encode_objectives,
)

OWNER = "LLMEmbeddingTransformer"
DEFAULT_OBJECTIVE_COLUMN = "objective"


def text_columns(prompt_column, response_a_column, response_b_column):
    """Return the text columns read from X, the prompt first when there is one."""
    columns = [response_a_column, response_b_column]
    return columns if prompt_column is None else [prompt_column, *columns]


def _missing_column(X, column):
    close = difflib.get_close_matches(column, map(str, X.columns), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(
        f"{OWNER} expects a column {column!r} in X; got the columns "
        f"{list(X.columns)}.{hint} Set the *_column parameters (None "
        "disables the prompt or objective column)."
    )


def check_dataframe(X, columns):
    """Check that X is a DataFrame."""
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            f"{OWNER} expects X to be a pandas DataFrame with the text columns "
            f"{columns}; got {type(X).__name__}. Build one with "
            "pd.DataFrame({'prompt': ..., 'response_a': ..., 'response_b': ...}) "
            "or skpref.datasets.preference_pairs."
        )


def resolve_objective_column(X, objective_column):
    """Return the objective column fit uses: the parameter, or None if absent.

    The default column name is optional: a frame without it is single-objective
    data. A frame with a close name (``"objectives"``, ``"objective_id"``) is an
    error instead, so a misnamed column is never silently dropped.
    """
    if objective_column is None or objective_column in X.columns:
        return objective_column
    close = difflib.get_close_matches(objective_column, map(str, X.columns), n=1)
    if objective_column == DEFAULT_OBJECTIVE_COLUMN and not close:
        return None
    raise _missing_column(X, objective_column)


def check_frame(X, columns, objective_column):
    """Check X's text (and objective) columns; return the text cells by column.

    Cells are strings or conversations (lists of ``{"role", "content"}``
    messages, returned as plain lists of dicts).
    """
    check_dataframe(X, columns)
    needed = columns if objective_column is None else [*columns, objective_column]
    repeated = sorted({str(c) for c in needed if needed.count(c) > 1})
    if repeated:  # both halves of a pair would be one text, or the prompt a response
        raise ValueError(
            f"{OWNER} reads the column(s) {repeated} for more than one role; the "
            "prompt, response_a, response_b and objective columns must be "
            "different columns. Set the *_column parameters."
        )
    for column in needed:
        if column not in X.columns:
            raise _missing_column(X, column)
    check_unique_columns(X, needed, owner=OWNER, argument="X")
    return {
        column: check_texts(
            X[column].tolist(), column=column, owner=OWNER, index=X.index
        )[0]
        for column in columns
    }


def check_responses(prompts, responses, prompt_column):
    """Check the inputs of ``transform_responses``; return them as lists."""
    owner = f"{OWNER}.transform_responses"
    responses = check_text_list(responses, argument="responses", owner=owner)
    responses, _ = check_texts(responses, column="responses", owner=OWNER)
    if prompt_column is None:
        if prompts is not None:
            raise ValueError(
                f"{OWNER} was built with prompt_column=None, which embeds each "
                "response alone; pass prompts=None."
            )
        return [""] * len(responses), responses
    if prompts is None:
        raise ValueError(
            f"{OWNER} embeds a prompt with each response (prompt_column="
            f"{prompt_column!r}); pass one prompt per response."
        )
    prompts = check_text_list(prompts, argument="prompts", owner=owner)
    prompts, _ = check_texts(prompts, column="prompts", owner=OWNER)
    if len(prompts) != len(responses):
        raise ValueError(
            f"{OWNER} expects one prompt per response; got {len(prompts)} prompts "
            f"and {len(responses)} responses."
        )
    return prompts, responses


def response_objective_ids(objective, n, objective_column, coding):
    """Ids of the objective given to ``transform_responses``: one, or one each."""
    if objective is None:
        known = f" (one of {list(coding)})" if coding is not None else ""
        raise ValueError(
            f"{OWNER} was fitted with the objective column {objective_column!r}; "
            f"pass objective=<name or id>{known}."
        )
    if isinstance(objective, str) or np.ndim(objective) == 0:  # one for all
        objective = [np.asarray(objective).item()] * n
    if len(objective) != n:
        raise ValueError(
            f"{OWNER} expects one objective, or one per response; got "
            f"{len(objective)} objectives for {n} responses."
        )
    return encode_objectives(objective, coding, owner=OWNER, argument="objective")


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


def text_spec(prompt_column, chat_template, text_template, prompt, response):
    """Everything that decides the text fed to the model: part of the cache key.

    A spec holds a setting only where it changes the text: the chat-template rule
    for any text with a prompt or a conversation (``"auto"`` stays ``"auto"``:
    resolving it needs the model, which a cached pass never loads), and
    ``text_template`` only where it may be used (not with ``chat_template=True``).

    Examples
    --------
    >>> text_spec(None, True, "{prompt} {response}", "", "Hi")
    ['response', 'Hi']
    >>> text_spec(None, False, "{prompt} {response}", "",
    ...           [{"role": "user", "content": "Hi"}])
    ['response', 'plain', [{'role': 'user', 'content': 'Hi'}]]
    >>> text_spec("prompt", True, "{prompt} {response}", "Q", "A")
    ['chat', 'Q', 'A']
    >>> text_spec("prompt", "auto", "{prompt} {response}", "Q", "A")
    ['auto', '{prompt} {response}', 'Q', 'A']
    """
    rule = chat_rule(chat_template)
    if prompt_column is None:
        if isinstance(response, str):  # rendered as it is, whatever the rule
            return ["response", response]
        mode = {True: "chat", False: "plain"}.get(rule, "auto")
        return ["response", mode, response]
    if rule is True:
        return ["chat", prompt, response]
    mode = "template" if rule is False else "auto"
    return [mode, text_template, prompt, response]


def chat_rule(chat_template):
    """Return the ``chat_template`` parameter as ``"auto"``, True or False.

    Examples
    --------
    >>> import numpy as np
    >>> chat_rule("auto"), chat_rule(np.True_), chat_rule(False)
    ('auto', True, False)
    """
    return "auto" if isinstance(chat_template, str) else bool(chat_template)


def resolve_chat(chat_template, *, decoder, tokenizer):
    """Return whether the chat template renders the texts, ``"auto"`` resolved.

    ``"auto"`` uses the tokenizer's chat template for a decoder model whose
    tokenizer has one; ``tokenizer`` is only read then.

    Examples
    --------
    >>> resolve_chat("auto", decoder=False, tokenizer=None)
    False
    >>> resolve_chat(True, decoder=False, tokenizer=None)
    True
    """
    rule = chat_rule(chat_template)
    if rule != "auto":
        return rule
    return decoder and getattr(tokenizer, "chat_template", None) is not None


def plain_text(value):
    r"""Render a conversation as ``"Role: content"`` blocks, blank-line apart.

    Examples
    --------
    >>> plain_text([{"role": "user", "content": "Hi"},
    ...             {"role": "assistant", "content": "Hello!"}])
    'User: Hi\n\nAssistant: Hello!'
    """
    if isinstance(value, str):
        return value
    return "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in value)


def _messages(value, role):
    return [{"role": role, "content": value}] if isinstance(value, str) else value


def render(spec, tokenizer, use_chat):
    """Return ``(text, add_special_tokens)`` for one text spec.

    With a chat template, a plain prompt is the user's message and a plain
    response the assistant's; conversations are used as they are. Without one,
    conversations take the plain format of :func:`plain_text`.
    """
    if spec[0] == "response":
        value = spec[-1]
        if isinstance(value, str):
            return value, True
        if use_chat:
            return tokenizer.apply_chat_template(value, tokenize=False), False
        return plain_text(value), True
    prompt, response = spec[-2:]
    if use_chat:
        messages = _messages(prompt, "user") + _messages(response, "assistant")
        text = tokenizer.apply_chat_template(messages, tokenize=False)
        return text, False  # the template already holds the special tokens
    template = spec[1]
    text = template.format(prompt=plain_text(prompt), response=plain_text(response))
    return text, True


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
