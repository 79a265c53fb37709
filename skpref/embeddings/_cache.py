"""An on-disk cache of embeddings: atomic, resumable, self-checking, no pickle.

Layout (one folder per setting of everything that changes a vector)::

    <cache_dir>/<settings-hash>/settings.json      what the hash stands for, and d
    <cache_dir>/<settings-hash>/shard-<id>.npz     keys (n, 16) uint8,
                                                   vectors (n, d) float32,
                                                   digest (32,) uint8

A shard is written to a temporary file, fsynced and renamed, so a reader sees a
whole shard or none. ``digest`` is the SHA-256 of the keys and vectors bytes: a
truncated, bit-flipped or otherwise unreadable shard is detected, reported with a
:class:`CacheCorruptionWarning`, deleted, and its texts are embedded again. The
digest has no key: it detects accidental corruption, not a forged shard, so a
cache folder must be trusted. Shards are read with ``allow_pickle=False``.

A shard that is whole (its digest holds) but disagrees with ``settings.json`` is
never deleted: the metadata is what is wrong, and the error says which file to
fix. A cache that cannot be written (a read-only shared folder, a full disk) is
read as usual; what is missing is computed and returned but not stored, with a
:class:`CacheWriteWarning`.
"""

import hashlib
import json
import os
import time
import uuid
import warnings
import zipfile
from pathlib import Path

import numpy as np

# Part of every settings hash; bumped when the same key would give other vectors.
# 1: the first layout. 2: left truncation keeps the leading special tokens of a
# chat-rendered text (its vectors changed under the same key).
FORMAT_VERSION = 2
KEY_BYTES = 16


class CacheWriteWarning(UserWarning):
    """The embedding cache could not be written; vectors were computed, not stored.

    Examples
    --------
    >>> issubclass(CacheWriteWarning, UserWarning)
    True
    """


class CacheCorruptionWarning(UserWarning):
    """A cache shard could not be read or failed its checksum and was discarded.

    Examples
    --------
    >>> issubclass(CacheCorruptionWarning, UserWarning)
    True
    """


class CacheSettingsError(ValueError):
    """A cache's ``settings.json`` disagrees with the shards or the model."""


def default_cache_dir():
    """Return the default cache folder.

    ``$SKPREF_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/skpref/embeddings``, else
    ``~/.cache/skpref/embeddings``.

    Examples
    --------
    >>> default_cache_dir().name
    'embeddings'
    """
    env = os.environ.get("SKPREF_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "embeddings"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "skpref" / "embeddings"


def text_key(spec):
    """Return the 16-byte key of one text specification (any JSON-able value).

    Examples
    --------
    >>> len(text_key(["plain", "", "hello"]))
    16
    """
    payload = json.dumps(spec, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).digest()[:KEY_BYTES]


def _digest(keys, vectors):
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(keys).tobytes())
    h.update(np.ascontiguousarray(vectors).tobytes())
    return np.frombuffer(h.digest(), dtype=np.uint8)


def _atomic_write(path, write):
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class EmbeddingCache:
    """Embeddings on disk for one setting of model, pooling, length and dtype.

    Parameters
    ----------
    root : path-like
        The cache folder; a sub-folder named after the hash of ``settings`` is used.
    settings : dict
        JSON-able description of everything, except the text, that changes a vector.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> cache = EmbeddingCache(tempfile.mkdtemp(), {"model": "m"})
    >>> key = text_key("hello")
    >>> cache.write([key], np.ones((1, 3), dtype=np.float32))
    >>> cache.lookup([key])[key].tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, root, settings):
        self.settings = settings
        blob = json.dumps(settings, sort_keys=True, separators=(",", ":"))
        self.path = Path(root) / hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]

    def stored_dim(self):
        """Return the embedding dimension recorded in ``settings.json``, or None."""
        try:
            info = json.loads((self.path / "settings.json").read_text())
            return int(info["dim"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _shards(self):
        return sorted(self.path.glob("shard-*.npz")) if self.path.is_dir() else []

    def _discard(self, shard, reason):
        try:
            shard.unlink()
            fate = "it was deleted"
        except OSError as exc:  # a read-only cache: leave it, say so
            fate = f"it could not be deleted ({type(exc).__name__})"
        warnings.warn(
            f"The embedding cache shard {str(shard)!r} is unreadable or corrupt "
            f"({reason}); {fate} and its texts will be embedded again.",
            CacheCorruptionWarning,
            stacklevel=4,
        )

    def _read_keys(self, shard):
        # Open the file ourselves: np.load leaks the handle of a broken zip.
        with open(shard, "rb") as f, np.load(f, allow_pickle=False) as data:
            keys = data["keys"]
        if keys.ndim != 2 or keys.shape[1] != KEY_BYTES or keys.dtype != np.uint8:
            raise ValueError(f"keys of shape {keys.shape} and dtype {keys.dtype}")
        return keys

    def _read_checked(self, shard, dim):
        with open(shard, "rb") as f, np.load(f, allow_pickle=False) as data:
            keys, vectors, digest = data["keys"], data["vectors"], data["digest"]
        if (
            vectors.dtype != np.float32
            or vectors.ndim != 2
            or len(vectors) != len(keys)
        ):
            raise ValueError(
                f"vectors of shape {vectors.shape} and dtype {vectors.dtype}, "
                f"expected ({len(keys)}, {dim}) float32"
            )
        if not np.array_equal(digest, _digest(keys, vectors)):
            raise ValueError("checksum mismatch")
        if vectors.shape[1] != dim:  # a whole shard: the metadata is what is wrong
            raise CacheSettingsError(self._settings_disagree(shard, vectors.shape[1]))
        return keys, vectors

    def _settings_disagree(self, shard, width):
        settings = self.path / "settings.json"
        return (
            f'The embedding cache\'s {str(settings)!r} records "dim": '
            f"{self.stored_dim()}, but its shard {shard.name!r} passes its checksum "
            f"and holds vectors of dimension {width}: the settings file is wrong, "
            f'not the data. Fix it by setting "dim": {width} in that file, or '
            "delete the folder to start the cache over. Nothing was deleted."
        )

    def lookup(self, keys):
        """Return ``{key: vector}`` for the keys found in verified shards.

        Parameters
        ----------
        keys : iterable of bytes
            Keys from :func:`text_key`.

        Returns
        -------
        found : dict of bytes to ndarray of shape (d,)
        """
        wanted = set(keys)
        found = {}
        dim = self.stored_dim()
        if not wanted or dim is None:
            return found
        for shard in self._shards():
            if len(found) == len(wanted):
                break
            try:
                shard_keys = self._read_keys(shard)
                hits = wanted.intersection(map(bytes, shard_keys)) - found.keys()
                if not hits:
                    continue
                shard_keys, vectors = self._read_checked(shard, dim)
            except FileNotFoundError:  # deleted by a concurrent reader
                continue
            except CacheSettingsError:
                raise
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
                self._discard(shard, f"{type(e).__name__}: {e}")
                continue
            for row, key in enumerate(map(bytes, shard_keys)):
                if key in hits:
                    found[key] = vectors[row]
        return found

    def write(self, keys, vectors):
        """Store vectors atomically as one new shard.

        Parameters
        ----------
        keys : list of bytes
        vectors : ndarray of shape (len(keys), d)
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if not len(keys):
            return
        self.path.mkdir(parents=True, exist_ok=True)
        settings_file = self.path / "settings.json"
        if self.stored_dim() is None:
            info = {**self.settings, "dim": int(vectors.shape[1])}
            text = json.dumps(info, sort_keys=True, indent=1)
            _atomic_write(settings_file, lambda f: f.write(text.encode("utf-8")))
        elif self.stored_dim() != vectors.shape[1]:
            raise CacheSettingsError(
                f'The embedding cache\'s {str(settings_file)!r} records "dim": '
                f"{self.stored_dim()}, but the model gives vectors of dimension "
                f'{vectors.shape[1]}. If the settings file was edited, set "dim": '
                f"{vectors.shape[1]} in it; else delete the folder "
                f"{str(self.path)!r} to start the cache over."
            )
        key_array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(-1, KEY_BYTES)
        name = f"shard-{time.time_ns():020d}-{uuid.uuid4().hex[:12]}.npz"
        _atomic_write(
            self.path / name,
            lambda f: np.savez(
                f,
                keys=key_array,
                vectors=vectors,
                digest=_digest(key_array, vectors),
            ),
        )


class CacheWriter:
    """Buffer computed vectors and write them as shards every so often.

    Used as a context manager: whatever was computed is written when the block
    exits, also on an exception or ``KeyboardInterrupt``, so an interrupted job
    resumes where it stopped. A process killed outright loses at most the last
    ``flush_every`` texts or ``flush_seconds`` of work. If the cache cannot be
    written (``OSError``: a read-only folder, a full disk), one
    :class:`CacheWriteWarning` says so and nothing more is written; the vectors
    are still returned by the caller.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> cache = EmbeddingCache(tempfile.mkdtemp(), {"model": "m"})
    >>> with CacheWriter(cache) as writer:
    ...     writer.add([text_key("a")], np.zeros((1, 2), dtype=np.float32))
    >>> len(cache.lookup([text_key("a")]))
    1
    """

    def __init__(self, cache, *, flush_every=1024, flush_seconds=60.0):
        self.cache = cache
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self._keys, self._vectors, self._count = [], [], 0
        self._last_flush = time.monotonic()

    def add(self, keys, vectors):
        """Buffer vectors; write a shard when enough have accumulated."""
        if self.cache is None:
            return
        self._keys.extend(keys)
        self._vectors.append(np.asarray(vectors, dtype=np.float32))
        self._count += len(keys)
        elapsed = time.monotonic() - self._last_flush
        if self._count >= self.flush_every or elapsed >= self.flush_seconds:
            self.flush()

    def flush(self):
        """Write the buffered vectors as one shard."""
        if self.cache is not None and self._keys:
            try:
                self.cache.write(self._keys, np.concatenate(self._vectors))
            except OSError as exc:
                warnings.warn(
                    f"The embedding cache {str(self.cache.path)!r} cannot be "
                    f"written ({type(exc).__name__}: {exc}); the missing vectors "
                    "are computed and used but not stored. Give a writable "
                    "cache_dir to keep them, or cache_dir=None to silence this.",
                    CacheWriteWarning,
                    stacklevel=3,
                )
                self.cache = None
        self._keys, self._vectors, self._count = [], [], 0
        self._last_flush = time.monotonic()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.flush()
        return False
