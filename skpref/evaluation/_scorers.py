"""Scorers: anything that maps (prompts, responses) to one reward per response.

A fitted skpref text pipeline, a Hugging Face sequence-classification reward
model (:class:`HFRewardScorer`), any callable, and :func:`length_ruler`. Rewards
are cached per (scorer, prompt, response), so a second report on the same
scorer object scores nothing again.
"""

import json
import weakref

import numpy as np

__all__ = ["HFRewardScorer", "length_ruler", "score_responses"]

# One cache of rewards per scorer object, dropped with the object: the fitted
# state it was filled under, and the rewards by (prompt, response).
_CACHES = weakref.WeakKeyDictionary()


def _fitted_state(scorer):
    """Return what a refit of a scikit-learn scorer replaces: its fitted attributes.

    One entry per fitted attribute (``name_``) of the estimator, or of each step
    of a pipeline: a weak reference to the object where it takes one (a refit
    skpref model has a new ``module_``), else its ``id``.
    """
    from sklearn.pipeline import Pipeline

    if not hasattr(scorer, "get_params"):  # not an estimator: nothing refits it
        return ()
    steps = (
        [step for _, step in scorer.steps] if isinstance(scorer, Pipeline) else [scorer]
    )
    state = []
    for step in steps:
        for name, value in vars(step).items() if hasattr(step, "__dict__") else ():
            if name.endswith("_") and not name.startswith("_"):
                try:
                    state.append((name, weakref.ref(value)))
                except TypeError:  # ints, tuples: no weak reference
                    state.append((name, id(value)))
    return tuple(state)


def _same_state(kept, now):
    """Whether the fitted state ``now`` is the one ``kept`` (by identity)."""
    if len(kept) != len(now):
        return False
    for (name, old), (new_name, new) in zip(kept, now, strict=True):
        if name != new_name:
            return False
        if isinstance(old, weakref.ref):
            if not isinstance(new, weakref.ref) or old() is None or old() is not new():
                return False
        elif old != new:
            return False
    return True


def _plain(value):
    if isinstance(value, str):
        return value
    return "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in value)


def _messages(value, role):
    return [{"role": role, "content": value}] if isinstance(value, str) else value


def response_length(response):
    """Characters of a response; of its messages' contents for a conversation."""
    if isinstance(response, str):
        return len(response)
    return sum(len(message["content"]) for message in response)


def length_ruler(prompts, responses):
    """Reward = the response's length in characters: the baseline of every report.

    Parameters
    ----------
    prompts : sequence of str or conversations
        Ignored; there for the scorer signature.
    responses : sequence of str or conversations
        A conversation counts the characters of its messages' contents.

    Returns
    -------
    reward : ndarray of shape (n_responses,)

    Examples
    --------
    >>> from skpref.evaluation import length_ruler
    >>> length_ruler(["Hi", "Hi"], ["Hello!", "Go."]).tolist()
    [6.0, 3.0]
    """
    return np.array([float(response_length(r)) for r in responses])


class HFRewardScorer:
    r"""A Hugging Face ``AutoModelForSequenceClassification`` reward model as scorer.

    Texts are rendered with the tokenizer's chat template when it has one (the
    prompt as the user's message, the response as the assistant's), else as
    ``"{prompt}\n\n{response}"``; they are scored in batches sorted by length,
    with a progress bar. The reward is the model's single logit.

    Parameters
    ----------
    model : str, path or transformers.PreTrainedModel
        A local folder or Hub id, or a loaded model with one label.
    tokenizer : transformers tokenizer or None, default=None
        None loads the tokenizer of ``model`` (a path), or of
        ``model.name_or_path``.
    batch_size : int, default=8
        Texts per forward pass.
    max_length : int, default=2048
        Longest text in tokens; longer ones lose their beginning (the response
        stays whole where it fits).
    device : str or None, default=None
        Torch device; None keeps the model where it is (CPU for a path).
    show_progress : bool, default=True
        Show a tqdm bar over the batches.

    Examples
    --------
    >>> from skpref.evaluation import HFRewardScorer
    >>> HFRewardScorer("no/such-model", batch_size=4).batch_size
    4
    """

    def __init__(
        self,
        model,
        tokenizer=None,
        *,
        batch_size=8,
        max_length=2048,
        device=None,
        show_progress=True,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.show_progress = show_progress

    def _load(self):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        model = self.model
        if not hasattr(model, "forward"):
            model = AutoModelForSequenceClassification.from_pretrained(model)
            self.model = model
        if model.config.num_labels != 1:
            raise ValueError(
                f"HFRewardScorer expects a reward model with one output (num_labels"
                f"=1); got num_labels={model.config.num_labels}."
            )
        if self.tokenizer is None:
            self.tokenizer = AutoTokenizer.from_pretrained(model.name_or_path)
        tokenizer = self.tokenizer
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        if model.config.pad_token_id is None:
            model.config.pad_token_id = tokenizer.pad_token_id
        tokenizer.truncation_side = "left"
        if self.device is not None:
            model.to(self.device)
        model.eval()
        return model, tokenizer

    def render(self, prompt, response):
        """Return the text the model reads for one prompt and response."""
        tokenizer = self.tokenizer
        if getattr(tokenizer, "chat_template", None):
            messages = _messages(prompt, "user") + _messages(response, "assistant")
            return tokenizer.apply_chat_template(messages, tokenize=False)
        return f"{_plain(prompt)}\n\n{_plain(response)}"

    def __call__(self, prompts, responses):
        """Return the rewards of ``responses`` to ``prompts``."""
        import torch
        from tqdm.auto import tqdm

        model, tokenizer = self._load()
        chat = bool(getattr(tokenizer, "chat_template", None))
        texts = [self.render(p, r) for p, r in zip(prompts, responses, strict=True)]
        order = np.argsort([len(t) for t in texts], kind="stable")[::-1]
        rewards = np.empty(len(texts))
        starts = range(0, len(texts), self.batch_size)
        device = next(model.parameters()).device
        for start in tqdm(starts, disable=not self.show_progress, desc="rewards"):
            rows = order[start : start + self.batch_size]
            batch = tokenizer(
                [texts[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                add_special_tokens=not chat,  # a chat template holds its own
                return_tensors="pt",
            ).to(device)
            with torch.inference_mode():
                logits = model(**batch).logits
            rewards[rows] = logits[:, 0].float().cpu().numpy()
        return rewards


class _PipelineScorer:
    def __init__(self, pipeline):
        self.pipeline = pipeline

    def __call__(self, prompts, responses):
        from skpref import predict_text_reward

        return predict_text_reward(self.pipeline, list(prompts), list(responses))


def _callable(scorer):
    """Return ``(function, cache owner)`` for any accepted scorer."""
    from sklearn.pipeline import Pipeline

    if isinstance(scorer, Pipeline):
        return _PipelineScorer(scorer), scorer
    if hasattr(scorer, "forward"):  # a loaded model: cached under the model
        return HFRewardScorer(scorer), scorer
    if isinstance(scorer, str):  # a path: a fresh load, no cache across calls
        return HFRewardScorer(scorer), None
    if not callable(scorer):
        raise ValueError(
            "evaluate expects a scorer: a fitted skpref text pipeline, a Hugging "
            "Face reward model (path or object), or a callable (prompts, responses)"
            f" -> rewards; got {type(scorer).__name__}."
        )
    return scorer, scorer


def _key(value):
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def score_responses(scorer, prompts, responses, *, where=None):
    """Rewards of responses under any scorer, through the scorer's cache.

    Parameters
    ----------
    scorer : Pipeline, HFRewardScorer, str, model or callable
        See :func:`evaluate`.
    prompts, responses : sequence
        One prompt per response.
    where : sequence of str or None, default=None
        A label per response (``"id 'x', rejected 2"``) for error messages.

    Returns
    -------
    reward : ndarray of shape (n_responses,)

    Raises
    ------
    ValueError
        When the scorer returns a reward count other than the responses' or a
        reward that is not finite, naming the first such response.

    Examples
    --------
    >>> from skpref.evaluation import length_ruler, score_responses
    >>> score_responses(length_ruler, ["Q", "Q"], ["ab", "abc"]).tolist()
    [2.0, 3.0]
    """
    function, owner = _callable(scorer)
    cache = {}
    if owner is not None:
        state = _fitted_state(owner)
        try:
            kept = _CACHES.get(owner)
            if kept is None or not _same_state(kept[0], state):
                # first use, or refitted since: the rewards of another model
                kept = _CACHES[owner] = (state, {})
            cache = kept[1]
        except TypeError:  # an object that takes no weak reference: no cache
            pass
    keys = [(_key(p), _key(r)) for p, r in zip(prompts, responses, strict=True)]
    todo = list(dict.fromkeys(k for k in keys if k not in cache))
    if todo:
        first = {}
        for i, k in enumerate(keys):
            first.setdefault(k, i)
        rows = [first[k] for k in todo]
        new = function([prompts[i] for i in rows], [responses[i] for i in rows])
        new = np.asarray(new, dtype=float)
        if new.ndim == 2 and new.shape[1] == 1:
            new = new[:, 0]
        if new.shape != (len(rows),):
            raise ValueError(
                f"The scorer returned {new.size} rewards of shape {new.shape} for "
                f"{len(rows)} responses; it must return one reward per response."
            )
        bad = np.flatnonzero(~np.isfinite(new))
        if len(bad):
            row = rows[bad[0]]
            label = where[row] if where is not None else f"response {row}"
            raise ValueError(
                f"The scorer returned {new[bad[0]]} for {label} ({len(bad)} rewards "
                "are not finite); rewards must be finite numbers."
            )
        cache.update(zip(todo, new.tolist(), strict=True))
    return np.array([cache[k] for k in keys])
