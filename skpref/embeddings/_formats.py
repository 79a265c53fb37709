r"""The form of the texts an embedder was fitted on, and other forms brought to it.

A reward pipeline fitted on HH-RLHF prompts (``"Human: q"``, responses as plain
text) scores a completion differently when an RL trainer hands it the bare
question ``"q"``, the question with ``"\n\nAssistant:"`` appended, or a
conversation: the embedder sees other text. At fit the embedder records the form
of its prompts and responses (:func:`detect_format`); :func:`conform` brings
prompts and completions of any form to it before they are embedded.

The prompt forms are ``"dialogue"`` (text whose turns start with role labels,
``"Human: ..."`` or ``"User: ..."``), ``"bare"`` (text without role labels),
``"conversation"`` (lists of messages) and ``"mixed"`` (no form dominates the
training prompts: nothing is changed). Responses are ``"text"`` or
``"conversation"``.
"""

import re

__all__ = ["FORMAT_KEYS", "conform", "detect_format"]

FORMAT_KEYS = ("prompt", "user", "assistant", "assistant_tag", "response")

_USER_LABELS = ("Human", "User")
_LABEL = re.compile(r"(?:^|\n\n)(Human|User|Assistant|System):[ ]?")
_ROLES = {"Human": "user", "User": "user", "Assistant": "assistant", "System": "system"}
# a form is the training form when it holds at least this share of the prompts
_DOMINANT = 0.9


def _dialogue_label(text):
    """Return the user label a dialogue text starts with; None for bare text."""
    stripped = text.lstrip()
    for label in _USER_LABELS:
        if stripped.startswith(f"{label}:"):
            return label
    return None


def detect_format(prompts, responses):
    """Return the form of the fitted texts as a dict of :data:`FORMAT_KEYS`.

    Parameters
    ----------
    prompts : list of str or conversations, or None
        The training prompts (None when the embedder embeds responses alone).
    responses : list of str or conversations
        The training responses.

    Examples
    --------
    >>> detect_format(["Human: Hi", "Human: Why?"], ["Hello!", "Because."])
    {'prompt': 'dialogue', 'user': 'Human', 'assistant': 'Assistant', \
'assistant_tag': False, 'response': 'text'}
    >>> detect_format(["Hi", "Why?"], ["Hello!", "Because."])["prompt"]
    'bare'
    """
    response = (
        "conversation" if responses and isinstance(responses[0], list) else "text"
    )
    found = {"prompt": None, "user": "Human", "assistant": "Assistant"}
    found.update(assistant_tag=False, response=response)
    if prompts is None or not prompts:
        return found
    if isinstance(prompts[0], list):
        found["prompt"] = "conversation"
        return found
    labels = [_dialogue_label(prompt) for prompt in prompts]
    dialogues = [label for label in labels if label is not None]
    share = len(dialogues) / len(prompts)
    if share >= _DOMINANT:
        found["prompt"] = "dialogue"
        found["user"] = max(set(dialogues), key=dialogues.count)
        tagged = sum(p.rstrip().endswith("Assistant:") for p in prompts)
        found["assistant_tag"] = tagged / len(prompts) >= _DOMINANT
    else:
        found["prompt"] = "bare" if share <= 1 - _DOMINANT else "mixed"
    return found


def _messages(prompt):
    """Return a prompt of any form as messages (an empty final turn dropped)."""
    if isinstance(prompt, list):
        return [dict(message) for message in prompt]
    if _dialogue_label(prompt) is None:
        return [{"role": "user", "content": prompt}]
    parts = _LABEL.split(prompt.strip())
    messages = [
        {"role": _ROLES[label], "content": content.strip()}
        for label, content in zip(parts[1::2], parts[2::2], strict=True)
    ]
    if messages and messages[-1]["role"] == "assistant" and not messages[-1]["content"]:
        messages.pop()  # the trailing "Assistant:" tag of an RL prompt
    return messages


def _prompt_in(fitted, prompt, problems):
    """``prompt`` in the fitted prompt form; notes what it could not carry over."""
    kind = fitted["prompt"]
    if kind in (None, "mixed"):
        return prompt
    messages = _messages(prompt)
    if kind == "conversation":
        return messages
    if any(message["role"] == "system" for message in messages):
        problems.add(
            "a system message has no place in the fitted prompts' text form; "
            "it was dropped"
        )
        messages = [message for message in messages if message["role"] != "system"]
    if kind == "bare":
        if len(messages) == 1 and messages[0]["role"] == "user":
            return messages[0]["content"]
        problems.add(
            "a prompt of several turns was given but the pipeline was fitted on "
            "single questions without role labels; its turns were joined as "
            "'Role: text' blocks"
        )
        return "\n\n".join(
            f"{message['role'].capitalize()}: {message['content']}"
            for message in messages
        )
    labels = {"user": fitted["user"], "assistant": fitted["assistant"]}
    text = "\n\n".join(f"{labels[m['role']]}: {m['content']}" for m in messages)
    return f"{text}\n\n{fitted['assistant']}:" if fitted["assistant_tag"] else text


def _response_in(fitted, response):
    if fitted["response"] == "conversation":
        if isinstance(response, str):
            return [{"role": "assistant", "content": response}]
        return response
    if isinstance(response, list):  # TRL's conversational completions
        return "\n\n".join(message["content"] for message in response)
    return response


def conform(fitted, prompts, responses):
    r"""Bring prompts and responses of any form to the fitted form.

    Parameters
    ----------
    fitted : dict or None
        What :func:`detect_format` recorded at fit; None for an embedder fitted
        before forms were recorded (nothing is changed).
    prompts : list of str or conversations, or None
    responses : list of str or conversations

    Returns
    -------
    prompts, responses : lists, or prompts None
        In the fitted form; the same texts when they are in it already.
    problems : set of str
        What could not be told or carried over, for one warning.

    Examples
    --------
    >>> fitted = detect_format(["Human: Hi"], ["Hello!"])
    >>> conform(fitted, ["Why?", "User: Why?\n\nAssistant:"],
    ...         ["Because.", [{"role": "assistant", "content": "Because."}]])
    (['Human: Why?', 'Human: Why?'], ['Because.', 'Because.'], set())
    """
    problems = set()
    if fitted is None:
        problems.add(
            "the pipeline was fitted before skpref recorded the form of its "
            "training texts, so prompts and completions are embedded as given"
        )
        return prompts, responses, problems
    if fitted["prompt"] == "mixed":
        problems.add(
            "the training prompts mix dialogue text and bare text, so prompts are "
            "embedded as given"
        )
    if prompts is not None and fitted["prompt"] is not None:
        prompts = [_prompt_in(fitted, prompt, problems) for prompt in prompts]
    responses = [_response_in(fitted, response) for response in responses]
    return prompts, responses, problems
