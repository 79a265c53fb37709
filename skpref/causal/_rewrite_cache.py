"""The rewriter protocol, its checks, and a disk cache of rewrites.

A *rewriter* is any callable ``rewriter(prompts, responses, target) -> list of
str``: ``target`` is a 0/1 array saying whether each rewrite must have the
attribute. :class:`BaseRewriter` gives the rewriters of skpref one ``__call__``
that checks its input, reads every rewrite it already made from a SQLite file
and stores each new one as soon as it is made, so a re-run costs nothing and an
interrupted run keeps what was done.
"""

import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np

__all__ = ["BaseRewriter", "RewriteCache", "check_rewrites", "rewrite_inputs"]

_FILE = "rewrites.sqlite"


def rewrite_inputs(prompts, responses, target, *, owner):
    """Check a rewriter's input; return prompts, responses and targets as lists.

    ``prompts`` may be None (no prompt). Every text is a str and ``target`` holds
    0/1 values, one per response.
    """
    if isinstance(responses, str):
        raise ValueError(
            f"{owner} expects a sequence of responses, not a single string; wrap "
            "it in a list."
        )
    responses = list(responses)
    n = len(responses)
    prompts = [None] * n if prompts is None else list(prompts)
    for name, texts, nullable in (
        ("prompts", prompts, True),
        ("responses", responses, False),
    ):
        if len(texts) != n:
            raise ValueError(
                f"{owner}: got {len(texts)} {name} for {n} responses; give one "
                "prompt per response (or prompts=None)."
            )
        for row, text in enumerate(texts):
            if not (isinstance(text, str) or (nullable and text is None)):
                raise ValueError(
                    f"{owner} expects {name} as str; got {type(text).__name__} "
                    f"at row {row}. Fill or drop missing texts first."
                )
    targets = np.asarray(target)
    if targets.ndim == 0:
        targets = np.full(n, targets)
    if targets.shape != (n,) or not np.isin(targets, (0, 1)).all():
        raise ValueError(
            f"{owner} expects target as 0/1 values, one per response ({n}); got "
            f"{np.asarray(target)!r:.80}."
        )
    return prompts, responses, targets.astype(int).tolist()


def check_rewrites(rewrites, n, *, owner, rewriter):
    """Refuse a rewriter's output unless it is ``n`` strings; return a list."""
    name = getattr(rewriter, "__name__", type(rewriter).__name__)
    if isinstance(rewrites, str) or not hasattr(rewrites, "__len__"):
        raise ValueError(
            f"{owner}: the rewriter {name} must return a list of str, one per "
            f"response; got {type(rewrites).__name__}."
        )
    rewrites = list(rewrites)
    if len(rewrites) != n:
        raise ValueError(
            f"{owner}: the rewriter {name} returned {len(rewrites)} texts for {n} "
            "responses; it must return exactly one rewrite per response."
        )
    for row, text in enumerate(rewrites):
        if not isinstance(text, str):
            raise ValueError(
                f"{owner}: the rewriter {name} returned {type(text).__name__} at "
                f"row {row}; every rewrite must be a str (a failed rewrite must "
                "raise, not return None)."
            )
    return rewrites


class RewriteCache:
    """Rewrites stored in a SQLite file, keyed by everything that defines them.

    The key of a rewrite hashes the rewriter's identity, its instruction, the
    target, the prompt and the response. Each :meth:`put` is one transaction:
    an interrupted run keeps every rewrite stored before it stopped, and a file
    is never left half-written.

    Parameters
    ----------
    path : str or path-like
        A folder; the cache is the file ``rewrites.sqlite`` in it (created with
        the folder if missing).

    Examples
    --------
    >>> import tempfile
    >>> from skpref.causal._rewrite_cache import RewriteCache
    >>> cache = RewriteCache(tempfile.mkdtemp())
    >>> key = cache.key({"name": "demo"}, "Be brief.", 0, "Hi?", "Hello there!")
    >>> cache.put({key: "Hello!"})
    >>> cache.get([key, "missing"]) == {key: "Hello!"}
    True
    >>> len(cache)
    1
    """

    def __init__(self, path):
        self.path = Path(path)

    @staticmethod
    def key(identity, instruction, target, prompt, response):
        """Return the hex key of one rewrite."""
        blob = json.dumps(
            [identity, instruction, int(target), prompt, response],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _connect(self):
        self.path.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path / _FILE, timeout=60)
        connection.execute(
            "CREATE TABLE IF NOT EXISTS rewrites (key TEXT PRIMARY KEY, text TEXT)"
        )
        return connection

    def get(self, keys):
        """Return ``{key: rewrite}`` for the keys that are stored."""
        found = {}
        keys = list(dict.fromkeys(keys))
        with closing(self._connect()) as connection:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT key, text FROM rewrites WHERE key IN ({marks})", chunk
                )
                found.update(rows)
        return found

    def put(self, rewrites):
        """Store ``{key: rewrite}`` in one transaction."""
        if not rewrites:
            return
        with closing(self._connect()) as connection, connection:
            connection.executemany(
                "INSERT OR REPLACE INTO rewrites VALUES (?, ?)", rewrites.items()
            )

    def __len__(self):
        with closing(self._connect()) as connection:
            return connection.execute("SELECT COUNT(*) FROM rewrites").fetchone()[0]


class BaseRewriter:
    """Base of skpref's rewriters: checks, the cache, one ``__call__``.

    A subclass defines ``_identity()`` (a JSON-able description of everything
    but the instruction that changes its rewrites), ``_instruction(target)``
    and ``_rewrite(prompts, responses, targets, done)``, which rewrites the
    rows it is given and calls ``done(rows, texts)`` as rewrites are made (row
    positions in its input), so that the cache keeps them even if a later row
    fails. A subclass has a ``cache_dir`` attribute (None: no cache).
    """

    cache_dir = None

    def _instruction(self, target):
        return ""

    def __call__(self, prompts, responses, target):
        """Rewrite each response to the attribute value ``target``.

        Parameters
        ----------
        prompts : sequence of str, or None
            One prompt per response (None for none).
        responses : sequence of str
            The responses to rewrite.
        target : array-like of shape (n_responses,) or int
            ``1`` where the rewrite must have the attribute, ``0`` where it must
            not.

        Returns
        -------
        rewrites : list of str
            One rewrite per response.
        """
        owner = type(self).__name__
        prompts, responses, targets = rewrite_inputs(
            prompts, responses, target, owner=owner
        )
        n = len(responses)
        out = [None] * n
        cache = None if self.cache_dir is None else RewriteCache(self.cache_dir)
        identity = self._identity()
        keys = [
            RewriteCache.key(identity, self._instruction(t), t, p, r)
            for p, r, t in zip(prompts, responses, targets, strict=True)
        ]
        if cache is not None:
            stored = cache.get(keys)
            for i, key in enumerate(keys):
                out[i] = stored.get(key)
        todo = [i for i in range(n) if out[i] is None]

        def done(rows, texts):
            texts = check_rewrites(texts, len(rows), owner=owner, rewriter=self)
            for row, text in zip(rows, texts, strict=True):
                out[todo[row]] = text
            if cache is not None:
                cache.put({keys[todo[r]]: t for r, t in zip(rows, texts, strict=True)})

        if todo:
            self._rewrite(
                [prompts[i] for i in todo],
                [responses[i] for i in todo],
                [targets[i] for i in todo],
                done,
            )
        missing = [i for i in range(n) if out[i] is None]
        if missing:
            raise RuntimeError(
                f"{owner}: {len(missing)} of {n} responses were not rewritten "
                f"(first row {missing[0]})."
            )
        return out
