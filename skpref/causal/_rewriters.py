"""Rewriters that run offline: rule-based ones, and any function with a cache."""

import inspect
import re

from skpref.causal._rewrite_cache import BaseRewriter
from skpref.covariates import POLITENESS_MARKERS

__all__ = ["CachedRewriter", "RuleBasedRewriter"]

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_MARKERS = re.compile("|".join(POLITENESS_MARKERS), flags=re.IGNORECASE)
# content-free sentences that lengthen a response without answering more
_FILLER = (
    "To add a little more detail, the best choice depends on your situation.",
    "It can also help to think about the context and what you need most.",
    "If anything is unclear, it is worth checking a second source as well.",
    "These points are general, so adapt them to the case you have in mind.",
)
_POLITE_OPENING = "Thank you for asking."
_POLITE_CLOSING = "I hope this helps!"


def _flatten(text):
    # the side effect of every rewrite: line breaks, lists and runs of spaces
    # collapse into one paragraph, as they often do when an LLM rewrites
    return " ".join(text.split())


class RuleBasedRewriter(BaseRewriter):
    r"""Rewrite responses to have, or lack, an attribute by fixed rules; offline.

    A stand-in for an LLM rewriter in tests, examples and CI. Every rewrite is
    flattened into one paragraph (line breaks, list layout and repeated spaces
    collapse): a side effect of rewriting, as an LLM's rewrites have, which the
    rewrite-of-rewrite correction of :class:`RewriteEffectEstimator` cancels.

    - ``attribute="length"``: a response *has* the attribute when it has at
      least ``length_threshold`` words. Target 0 keeps the leading sentences
      that fit in half of ``length_threshold`` words (cutting the first one if
      it alone is longer); target 1 appends content-free sentences until the
      response reaches ``length_threshold`` words.
    - ``attribute="politeness"``: a response *has* the attribute when it holds
      a politeness marker (:data:`skpref.covariates.POLITENESS_MARKERS`).
      Target 0 drops the sentences holding one (the markers alone, if nothing
      would remain); target 1 adds ``"Thank you for asking."`` before and
      ``"I hope this helps!"`` after.

    A response that already has the target value is only flattened.

    Parameters
    ----------
    attribute : {"length", "politeness"}, default="length"
        The attribute to set.
    length_threshold : int, default=50
        Words from which a response is long (``attribute="length"``).
    cache_dir : str, path-like or None, default=None
        Folder of a cache of rewrites (rules are fast; the cache is here for
        symmetry with the LLM rewriters).

    See Also
    --------
    HFRewriter : Rewrites by a local language model.
    OpenAIRewriter : Rewrites by an OpenAI-compatible server.

    Examples
    --------
    >>> from skpref.causal import RuleBasedRewriter
    >>> polite = RuleBasedRewriter(attribute="politeness")
    >>> polite(None, ["Boil water.\nAdd the pasta."], [1])
    ['Thank you for asking. Boil water. Add the pasta. I hope this helps!']
    >>> polite(None, ["Sorry, no. Ask a doctor."], [0])
    ['Ask a doctor.']
    >>> short = RuleBasedRewriter(length_threshold=6)
    >>> short(None, ["One two. Three four five six seven."], [0])
    ['One two.']
    >>> [short.has_attribute(t) for t in ("One two.", "1 2 3 4 5 6")]
    [0, 1]
    """

    def __init__(self, attribute="length", *, length_threshold=50, cache_dir=None):
        self.attribute = attribute
        self.length_threshold = length_threshold
        self.cache_dir = cache_dir

    def _check(self):
        if self.attribute not in ("length", "politeness"):
            raise ValueError(
                "RuleBasedRewriter: attribute must be 'length' or 'politeness'; "
                f"got {self.attribute!r}."
            )
        if not (isinstance(self.length_threshold, int) and self.length_threshold >= 2):
            raise ValueError(
                "RuleBasedRewriter: length_threshold must be an int >= 2 (words); "
                f"got {self.length_threshold!r}."
            )

    def has_attribute(self, text):
        """Return 1 if ``text`` has the attribute, else 0 (an ``attribute_fn``)."""
        self._check()
        if self.attribute == "length":
            return int(len(text.split()) >= self.length_threshold)
        return int(_MARKERS.search(text) is not None)

    def _identity(self):
        return {
            "rewriter": "RuleBasedRewriter",
            "attribute": self.attribute,
            "length_threshold": self.length_threshold,
        }

    def _rewrite(self, prompts, responses, targets, done):
        self._check()
        rule = self._length if self.attribute == "length" else self._politeness
        done(
            range(len(responses)),
            [rule(r, t) for r, t in zip(responses, targets, strict=True)],
        )

    def _length(self, text, target):
        text = _flatten(text)
        words = text.split()
        if self.has_attribute(text) == target:
            return text
        if target == 1:
            pieces = [text] if text else []
            n_words, k = len(words), 0
            while n_words < self.length_threshold:
                sentence = _FILLER[k % len(_FILLER)]
                pieces.append(sentence)
                n_words += len(sentence.split())
                k += 1
            return " ".join(pieces)
        budget = self.length_threshold // 2
        kept, n_words = [], 0
        for sentence in _SENTENCE.split(text):
            size = len(sentence.split())
            if n_words + size > budget:
                break
            kept.append(sentence)
            n_words += size
        return " ".join(kept) if kept else " ".join(words[:budget])

    def _politeness(self, text, target):
        text = _flatten(text)
        if self.has_attribute(text) == target:
            return text
        if target == 1:
            return " ".join(filter(None, [_POLITE_OPENING, text, _POLITE_CLOSING]))
        kept = [s for s in _SENTENCE.split(text) if not _MARKERS.search(s)]
        if kept:
            return " ".join(kept)
        return _flatten(_MARKERS.sub("", text))


class CachedRewriter(BaseRewriter):
    """Any rewriter function, with a disk cache of its rewrites.

    The function is called on chunks of at most ``batch_size`` rows that are not
    in the cache yet, and each chunk is stored as soon as it returns: a re-run
    costs nothing, an interrupted run keeps every finished chunk.

    Parameters
    ----------
    rewriter : callable
        ``rewriter(prompts, responses, target) -> list of str``.
    cache_dir : str or path-like
        Folder of the cache.
    name : str or None, default=None
        The rewriter's identity in the cache keys. None uses the qualified name
        (``module.function``) of a module-level function; any other rewriter (a
        :func:`functools.partial`, an instance of a callable class, a bound
        method, a lambda, a closure) holds settings that its name does not
        show, so two of them would be served each other's rewrites: ``name``
        is then required. Change it when the function changes, or old
        rewrites are served.
    instruction : str or dict of int to str, default=""
        Part of the cache key: the instruction the function follows (one, or
        one per target value).
    batch_size : int, default=64
        Rows per call of the function.

    Examples
    --------
    >>> import tempfile
    >>> from skpref.causal import CachedRewriter
    >>> calls = []
    >>> def shout(prompts, responses, target):
    ...     calls.append(len(responses))
    ...     return [r.upper() if t else r.lower() for r, t in zip(responses, target)]
    >>> rewriter = CachedRewriter(shout, tempfile.mkdtemp())
    >>> rewriter(None, ["Hi", "Yes"], [1, 0]), rewriter(None, ["Hi"], [1])
    (['HI', 'yes'], ['HI'])
    >>> calls  # the second call was served by the cache
    [2]
    """

    def __init__(
        self, rewriter, cache_dir, *, name=None, instruction="", batch_size=64
    ):
        self.rewriter = rewriter
        self.cache_dir = cache_dir
        self.name = name
        self.instruction = instruction
        self.batch_size = batch_size

    def _identity(self):
        # the first thing __call__ asks for, so the checks of the settings go here
        if self.cache_dir is None:
            raise ValueError(
                "CachedRewriter needs a cache_dir; to go without a cache, pass "
                "the rewriter function itself."
            )
        if self.name is not None:
            return {"rewriter": "CachedRewriter", "name": self.name}
        function = self.rewriter
        # a lambda's or a nested function's qualified name holds "<lambda>" or
        # "<locals>": one name for every closure a factory makes
        if not inspect.isfunction(function) or "<" in function.__qualname__:
            shown = (
                f"the function {function.__qualname__!r}"
                if inspect.isfunction(function)
                else f"a {type(function).__qualname__} object"
            )
            raise ValueError(
                "CachedRewriter knows a rewriter without name= by its qualified "
                f"name, which only a module-level function has alone; got {shown}, "
                "whose settings (bound arguments, attributes, captured variables) "
                "the name does not show, so two of them would share cached "
                "rewrites. Pass name= naming this rewriter and its settings, e.g. "
                "name='polite-v2'."
            )
        return {
            "rewriter": "CachedRewriter",
            "name": f"{function.__module__}.{function.__qualname__}",
        }

    def _instruction(self, target):
        if isinstance(self.instruction, dict):
            return self.instruction[target]
        return self.instruction

    def _rewrite(self, prompts, responses, targets, done):
        step = max(int(self.batch_size), 1)
        for start in range(0, len(responses), step):
            rows = range(start, min(start + step, len(responses)))
            texts = self.rewriter(
                prompts[start : rows.stop],
                responses[start : rows.stop],
                targets[start : rows.stop],
            )
            done(rows, texts)
