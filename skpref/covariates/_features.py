"""The built-in text covariates of a response: length, structure, politeness."""

import re

__all__ = ["BUILTIN_COVARIATES", "POLITENESS_MARKERS", "builtin_covariate"]

#: Politeness markers counted by ``"n_politeness_markers"``: case-insensitive
#: regular expressions, each match counting once.
POLITENESS_MARKERS = (
    r"\bplease\b",
    r"\bthank(?:s| you)\b",
    r"\bsorry\b",
    r"\bapologi[sz]e",
    r"\b(?:happy|glad) to help\b",
    r"\bi hope (?:this|that) helps\b",
    r"\byou(?:'re| are) welcome\b",
)
_POLITENESS = re.compile("|".join(POLITENESS_MARKERS), flags=re.IGNORECASE)
# a sentence ends at . ! or ? before a space, or at a line break; a piece without
# a letter ("1." of a numbered list) is no sentence
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_LETTER = re.compile(r"[^\W\d_]")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*\u2022]|\d+[.)])[ \t]+\S", flags=re.MULTILINE)


def _n_characters(text):
    return len(text)


def _n_words(text):
    return len(text.split())


def _n_sentences(text):
    return sum(1 for piece in _SENTENCE_END.split(text) if _LETTER.search(piece))


def _n_list_items(text):
    return len(_LIST_ITEM.findall(text))


def _n_politeness_markers(text):
    return len(_POLITENESS.findall(text))


_BUILTIN = {
    "n_characters": _n_characters,
    "n_words": _n_words,
    "n_tokens": None,  # counted by a tokenizer, in batches
    "n_sentences": _n_sentences,
    "n_list_items": _n_list_items,
    "n_politeness_markers": _n_politeness_markers,
}

#: Names of the built-in covariates, usable in ``covariates=``.
BUILTIN_COVARIATES = tuple(_BUILTIN)


def builtin_covariate(name):
    r"""Return the function ``str -> int`` of a built-in covariate (None for tokens).

    Examples
    --------
    >>> builtin_covariate("n_words")("Thank you, that helps.")
    4
    >>> builtin_covariate("n_politeness_markers")("Thank you! Sorry, please wait.")
    3
    >>> builtin_covariate("n_sentences")("One. Two!\nThree")
    3
    >>> builtin_covariate("n_list_items")("Steps:\n1. mix\n2. bake\n- serve")
    3
    """
    return _BUILTIN[name]
