"""Checkpoints of a run: each fit group's rows kept in a folder as it finishes.

:func:`~skpref.experiments.run_protocol` ``(..., checkpoint=folder)`` writes the
rows of every fit group to ``folder`` as soon as its executor returns them, one
JSON file per group, written to a temporary file and moved into place (a kill
leaves either the whole file or none). The file's name is a digest of
everything its rows depend on, so a later run with the same folder reads back
the groups it would fit again, and never the rows of other settings.
"""

import dataclasses
import functools
import hashlib
import json
import numbers
import os
import re
import types
import uuid
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch

import skpref

__all__ = [
    "GroupStore",
    "checkpoint_folder",
    "checkpoint_summary",
    "run_groups",
    "run_identity",
]

#: Version of the files' layout; a new layout makes new names.
_FORMAT = 1


#: A repr that shows where the object lives: its identity, not its content.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _canonical(value):
    """Return ``value`` as JSON-able data that only equal values share.

    Arrays and frames become their :func:`joblib.hash` (never a repr, which
    elides the middle of a long array); estimators their class and
    ``get_params(deep=True)``; functions their name, code and the values they
    close over; other objects their ``repr``. A repr that shows a memory
    address becomes a key no other call shares: such runs are never reused (the
    address of a freed object is given to the next one).
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, types.FunctionType):
        return _function_identity(value)
    if isinstance(value, functools.partial):
        return {
            "partial": _canonical(value.func),
            "args": _canonical(value.args),
            "keywords": _canonical(value.keywords),
        }
    if hasattr(value, "get_params"):
        name = f"{type(value).__module__}.{type(value).__qualname__}"
        return {"class": name, "params": _canonical(value.get_params(deep=True))}
    if hasattr(value, "__array__") or hasattr(value, "dtypes"):
        import joblib

        return {"joblib.hash": joblib.hash(value)}
    text = repr(value)
    if _ADDRESS.search(text):
        return {"unkeyed": uuid.uuid4().hex}
    return text


def _function_identity(function, _calling=()):
    """Identify a Python function by its name, code, defaults and closure."""
    name = f"{function.__module__}.{function.__qualname__}"
    if function in _calling:  # a closure that refers to itself
        return name
    calling = (*_calling, function)
    cells = []
    for cell in function.__closure__ or ():
        content = cell.cell_contents
        cells.append(
            _function_identity(content, calling)
            if isinstance(content, types.FunctionType)
            else _canonical(content)
        )
    return {
        "function": name,
        "code": _code_digest(function.__code__),
        "defaults": _canonical(function.__defaults__),
        "kwdefaults": _canonical(function.__kwdefaults__),
        "closure": cells,
    }


def _code_digest(code):
    """Digest of a code object's bytecode, constants and names (no line numbers).

    Not :mod:`marshal`: its output depends on reference counts, so the same
    code can marshal differently in two processes.
    """
    digest = hashlib.sha256(code.co_code)
    for constant in code.co_consts:
        part = (
            _code_digest(constant)
            if isinstance(constant, types.CodeType)
            else repr(constant)
        )
        digest.update(part.encode("utf-8", "surrogatepass"))
    digest.update(repr((code.co_names, code.co_varnames)).encode())
    return digest.hexdigest()


def _source_identity(source):
    """Identify a source: its class, name, fields and a digest of its data.

    Fields marked ``KEYED_BY_DATA`` are left out: the digest stands for them.
    """
    fields = {
        f.name: getattr(source, f.name)
        for f in dataclasses.fields(source)
        if f.metadata.get("checkpoint") != "data"
    }
    kind = type(source)
    digest = source._prepared_digest
    if isinstance(digest, Exception):
        warnings.warn(
            f"{kind.__name__}: the data it prepared cannot be hashed ({digest}), so "
            "no checkpoint of its runs can be recognised: every draw is fitted "
            "again. Define its _data_digest to return a digest of that data.",
            UserWarning,
            stacklevel=4,
        )
        digest = {"unkeyed": uuid.uuid4().hex}
    return {
        "class": f"{kind.__module__}.{kind.__qualname__}",
        "name": source.name,
        "fields": _canonical(fields),
        "data": digest,
    }


def run_identity(protocol, source, specs, settings, random_state):
    """Return what the rows of a run's fit groups depend on, but the draw's own.

    Parameters
    ----------
    protocol : Protocol
        Its name, side information, test groups and how pairs are put in them,
        extra columns, and whether it scores training pairs.
    source : PreferenceSource
        Prepared.
    specs : list of (str, str or estimator)
        The models by name.
    settings : dict
        The named models' settings (width, lr, ...), without the device.
    random_state : int
        The master seed.

    Returns
    -------
    identity : dict
        JSON-able.
    """
    return {
        "format": _FORMAT,
        "skpref": skpref.__version__,
        "protocol": {
            "name": protocol.name,
            "side": protocol.side,
            "tests": _canonical(protocol.tests),
            "pair_groups": _canonical(protocol.pair_groups),
            "extras": _canonical(protocol.extras),
            "score_training": protocol.score_training,
        },
        "source": _source_identity(source),
        "models": [[name, _canonical(spec)] for name, spec in specs],
        "settings": _canonical(settings),
        "random_state": int(random_state),
    }


def checkpoint_folder(folder, resume, *, owner):
    """Check the ``checkpoint`` and ``resume`` arguments; create the folder.

    Parameters
    ----------
    folder : str, path-like or None
        The folder; None stays None.
    resume : bool
        Whether kept groups are read back.
    owner : str
        Who asks, for messages.

    Returns
    -------
    folder : pathlib.Path or None
    """
    if not isinstance(resume, bool):
        raise ValueError(f"{owner}: resume must be True or False; got {resume!r}.")
    if folder is None:
        return None
    if not isinstance(folder, str | os.PathLike):
        raise ValueError(
            f"{owner}: checkpoint must be a folder path (str or path-like) or None; "
            f"got {folder!r}."
        )
    path = Path(folder).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(
            f"{owner}: checkpoint must be a folder; {str(path)!r} is a file. "
            "Choose another path."
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(
            f"{owner}: cannot create the checkpoint folder {str(path)!r} "
            f"({err.strerror or err}); choose a writable folder."
        ) from None
    return path


def checkpoint_summary(folder, reused, n_draws):
    """Return the ``checkpoint`` entry of a result: None without a folder."""
    if folder is None:
        return None
    return Bunch(folder=str(folder), reused=reused, fitted=n_draws - reused)


def _json_value(value):
    """``json.dump``'s ``default``: NumPy scalars as Python numbers."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not a number, string or None")


class GroupStore:
    """A folder of finished fit groups of one run, keyed by repetition and rho.

    Parameters
    ----------
    folder : pathlib.Path
        An existing folder (:func:`checkpoint_folder`); files of other runs may
        share it.
    identity : dict
        :func:`run_identity` of the run.
    owner : str
        Who is writing, for messages.
    info : tuple of str, default=()
        Entries besides the rows and delta that every group's file holds.
    """

    def __init__(self, folder, identity, *, owner, info=()):
        self.folder = Path(folder)
        self.identity = identity
        self.owner = owner
        self.info = tuple(info)

    def key(self, seed, rho):
        """Return what the rows of repetition ``seed`` at ``rho`` depend on."""
        return {**self.identity, "repetition": int(seed), "rho": float(rho)}

    def path(self, seed, rho):
        """Return the file of repetition ``seed`` at ``rho``."""
        text = json.dumps(self.key(seed, rho), sort_keys=True)
        digest = hashlib.sha256(text.encode()).hexdigest()[:32]
        return self.folder / f"{self.identity['protocol']['name']}-{digest}.json"

    def load(self, seed, rho):
        """Return the group kept for repetition ``seed`` at ``rho``, or None.

        A file that cannot be read back (cut short, edited) is fitted again:
        a warning names it and the run rewrites it.

        Returns
        -------
        kept : :class:`~sklearn.utils.Bunch` or None
            ``rows``, ``delta`` (ndarray or None) and ``info`` (dict).
        """
        path = self.path(seed, rho)
        if not path.exists():
            return None
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
            if kept["key"] != json.loads(json.dumps(self.key(seed, rho))):
                raise ValueError("it belongs to other settings")
            rows, delta, info = kept["rows"], kept["delta"], kept["info"]
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ValueError("its rows are not a list of records")
            if delta is not None:
                delta = np.asarray(delta["values"], dtype=delta["dtype"])
            missing = [name for name in self.info if name not in info]
            if missing:
                raise ValueError(f"it lacks {missing}")
        except KeyError as err:
            self._warn(path, f"it has no entry {err}")
            return None
        except (OSError, ValueError, TypeError) as err:
            self._warn(path, err)
            return None
        return Bunch(rows=rows, delta=delta, info=info)

    def _warn(self, path, why):
        warnings.warn(
            f"{self.owner}: the checkpoint file {str(path)!r} cannot be read back "
            f"({why}); its draw is fitted again and the file rewritten.",
            UserWarning,
            stacklevel=5,
        )

    def save(self, seed, rho, rows, *, delta=None, info=None):
        """Write the group's rows, training delta and ``info`` atomically."""
        kept = {
            "key": self.key(seed, rho),
            "rows": rows,
            "delta": None
            if delta is None
            else {"dtype": str(delta.dtype), "values": delta.tolist()},
            "info": {} if info is None else info,
        }
        path = self.path(seed, rho)
        # a fresh name opened with "x" (not mkstemp, whose files are 0600): the
        # file gets the umask's mode, so other accounts sharing the folder can
        # resume from it
        temporary = self.folder / f".{path.stem}-{uuid.uuid4().hex}.tmp"
        try:
            with open(temporary, "x", encoding="utf-8") as file:
                json.dump(kept, file, default=_json_value)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def run_groups(executor, make_groups, draws, store, progress, *, resume, owner):
    """Return the rows and training delta of every draw, in order, and the reused.

    Draws kept in ``store`` (None: no checkpoint) are read back where ``resume``
    and never made; the others go to ``executor(make_groups(draws, deltas))``,
    which fills ``deltas[(i, rho)]`` as it makes each draw, and each is kept as
    its rows come back (through ``progress(results, initial)``).
    """
    kept = {}
    for k, (i, _, rho, *_) in enumerate(draws):
        found = None if store is None or not resume else store.load(i, rho)
        if found is not None:
            kept[k] = (found.rows, found.delta)
    todo = [k for k in range(len(draws)) if k not in kept]
    deltas = {}
    with warnings.catch_warnings():  # counted once by the caller, not once per fit
        warnings.simplefilter("ignore", ConvergenceWarning)
        # an executor may fit eagerly when called, or lazily as its rows are read
        results = progress(
            executor(make_groups([draws[k] for k in todo], deltas)), initial=len(kept)
        )
        returned = 0
        for k, rows in zip(todo, results, strict=False):  # a short one fails below
            i, _, rho, *_ = draws[k]
            kept[k] = (list(rows), deltas.pop((i, rho), None))
            returned += 1
            if store is not None:
                store.save(i, rho, kept[k][0], delta=kept[k][1])
    if returned < len(todo):
        raise RuntimeError(
            f"{owner}: the executor returned the rows of {returned} of the "
            f"{len(todo)} fit groups it was given; an executor returns one list of "
            "rows per group, in order."
        )
    return [kept[k] for k in range(len(draws))], len(draws) - len(todo)
