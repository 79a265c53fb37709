"""Resumable runs: one results file per run, keyed by the run's parameters.

The file ``<folder>/<protocol>-<key>.json`` holds the rows of every draw (one
repetition at one rho) finished so far, each chunk with the digest of its
content and its row count. It is rewritten whole, through a temporary file
moved into place, after every chunk, so a kill leaves the file of before or of
after, never half of one. A chunk whose digest or row count does not match (an
edited number, a lost row) is fitted again, with a warning naming the file: a
resumed run never publishes numbers it did not compute.
"""

import dataclasses
import hashlib
import inspect
import json
import os
import uuid
import warnings
from pathlib import Path

import joblib
import numpy as np

__all__ = ["ResultsFile"]


def _number(value):
    """``json.dump``'s ``default``: NumPy scalars and arrays as plain values."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} cannot be written to a results file")


def _digest(payload):
    text = json.dumps(payload, sort_keys=True, default=_number)
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value):
    """``value`` with its functions as their code, so that a key follows edits.

    ``joblib.hash`` pickles a function by its name (an edited function would
    keep its key) and cannot pickle a lambda or a closure.
    """
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        named = {f.name: _canonical(getattr(value, f.name)) for f in fields}
        return (type(value).__qualname__, named)
    if isinstance(value, list | tuple):
        return type(value)(_canonical(item) for item in value)
    if inspect.isfunction(value):
        try:
            source = inspect.getsource(value)
        except (OSError, TypeError):  # defined where no source is kept
            source = repr(value.__code__.co_code)
        cells = [c.cell_contents for c in value.__closure__ or ()]
        return ("function", value.__qualname__, source, _canonical(cells))
    return value


class ResultsFile:
    """The finished draws of one run, in one JSON file named by the run's key.

    Parameters
    ----------
    folder : str or path-like
        Folder of the file, created if missing (files of other runs may share it).
    name : str
        The protocol's name, the start of the file's name.
    identity : dict
        What the rows depend on but the draw (hashed with :func:`joblib.hash`).
    resume : bool
        Read the kept chunks back; False starts the file again.
    owner : str
        Who writes, for the warnings.
    """

    def __init__(self, folder, name, identity, *, resume, owner):
        self.key = joblib.hash(_canonical(identity))
        self.path = Path(folder) / f"{name}-{self.key[:20]}.json"
        self.owner, self.chunks = owner, {}
        if resume and self.path.exists():
            try:
                kept = json.loads(self.path.read_text(encoding="utf-8"))
                if kept["key"] != self.key:
                    raise ValueError("it belongs to another run")
                self.chunks = dict(kept["chunks"])
            except (OSError, ValueError, KeyError, TypeError) as err:
                self._warn(f"it cannot be read ({err}); every draw")

    def _warn(self, what):
        warnings.warn(
            f"{self.owner}: the results file {str(self.path)!r} is damaged: {what} "
            "is fitted again and the file rewritten.",
            UserWarning,
            stacklevel=4,
        )

    def _chunk_digest(self, draw, rows, extra):
        # of the run and the draw too: a chunk copied from another draw or run fails
        return _digest([self.key, repr(draw), rows, extra])

    def load(self, draw):
        """Return ``(rows, extra)`` kept for ``draw`` (repetition, rho), or None."""
        chunk = self.chunks.get(repr(draw))
        if chunk is None:
            return None
        try:
            rows, extra = chunk["rows"], chunk["extra"]
            if (
                not rows
                or len(rows) != chunk["n_rows"]
                or self._chunk_digest(draw, rows, extra) != chunk["digest"]
            ):
                raise ValueError
        except (KeyError, TypeError, ValueError):
            self._warn(f"the chunk of repetition {draw[0]} at rho={draw[1]}")
            return None
        return rows, extra

    def save(self, draw, rows, extra):
        """Keep the rows of ``draw``; rewrite the file atomically."""
        rows, extra = json.loads(json.dumps([rows, extra], default=_number))
        self.chunks[repr(draw)] = {
            "n_rows": len(rows),
            "digest": self._chunk_digest(draw, rows, extra),
            "rows": rows,
            "extra": extra,
        }
        try:  # keep the draws another process of the same run wrote meanwhile
            on_disk = json.loads(self.path.read_text(encoding="utf-8"))
            if on_disk["key"] == self.key:
                self.chunks = {**on_disk["chunks"], **self.chunks}
        except (OSError, ValueError, KeyError, TypeError):
            pass
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.stem}-{uuid.uuid4().hex}.tmp")
        try:
            with open(temporary, "x", encoding="utf-8") as file:
                json.dump({"key": self.key, "chunks": self.chunks}, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
