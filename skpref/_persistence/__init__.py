"""Safe persistence: ``skpref.save`` and ``skpref.load``, one safetensors file each.

The file is a standard safetensors file: the tensors are the torch weights and the
numeric arrays of the saved estimators, and its header's metadata holds the rest as
JSON (see :mod:`skpref._persistence._encode`), the skpref and scikit-learn versions
that wrote it, and a SHA-256 digest of the JSON and the tensors, or an HMAC-SHA256
of them and of the header under a key the user holds. Loading never unpickles,
imports no module a file names, checks the whole file against its schema before
building anything, and loads the options that would run code or reach the network
with safe values unless the caller allows them: see ``docs/persistence.rst`` for
what a file from an untrusted source can and cannot do.
"""

import hashlib
import hmac
import json
import os
from pathlib import Path

import sklearn
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from sklearn.base import BaseEstimator

from skpref._persistence._decode import GUARDED_PARAMETERS, Decoder
from skpref._persistence._encode import Encoder
from skpref._persistence._schema import (
    MAX_HEADER_BYTES,
    InvalidFileError,
    check_state_shapes,
)
from skpref._version import __version__

__all__ = ["GUARDED_PARAMETERS", "load", "save"]

FORMAT = "skpref"
#: 1: a SHA-256 digest (files saved without a key; the first format). 2: an
#: HMAC-SHA256 under the user's key (files saved with ``key=``).
FORMAT_VERSION = 2
_KEYED = "hmac-sha256"


def save(estimator, path, *, key=None):
    """Save an estimator or pipeline, fitted or not, to one file, without pickle.

    Works for the reward models, :class:`~skpref.embeddings.LLMEmbeddingTransformer`,
    scikit-learn's own estimators (``StandardScaler``...) and any ``Pipeline`` of
    them: constructor parameters and fitted attributes are written as JSON, torch
    weights and numeric arrays as safetensors, in one file that :func:`load`
    reads back with identical predictions.

    Parameters
    ----------
    estimator : estimator instance
        A scikit-learn compatible estimator (``Pipeline`` included).
    path : str or path-like
        File to write, conventionally ending in ``.safetensors``. An existing file
        is replaced only once the new one is complete.
    key : bytes, str or None, default=None
        A secret of yours: the file then carries an HMAC-SHA256 of its content
        under this key instead of a plain digest, and :func:`load` reads it only
        with the same key, so that nobody without the key can edit it unnoticed.
        None writes the plain digest, which detects accidents, not edits.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    TypeError
        If ``estimator`` is not an estimator, or holds a value that cannot be
        stored without pickle (a function, an open file...), or ``key`` is not
        bytes or a string.
    ValueError
        If ``key`` is empty.

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn.preprocessing import StandardScaler
    >>> import skpref
    >>> scaler = StandardScaler().fit([[0.0], [2.0]])
    >>> path = Path(tempfile.mkdtemp()) / "scaler.safetensors"
    >>> skpref.load(skpref.save(scaler, path)).mean_
    array([1.])
    """
    if not isinstance(estimator, BaseEstimator):
        raise TypeError(
            "skpref.save saves scikit-learn estimators and pipelines; got a "
            f"{type(estimator).__name__}."
        )
    path = Path(path).expanduser()
    if path.is_dir():
        raise ValueError(
            f"skpref.save needs a file path; {path} is a folder. Add a file name, "
            f"e.g. {path / 'model.safetensors'}."
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"skpref.save: the folder {path.parent} does not exist; create it first."
        )
    key = _check_key(key, "skpref.save")
    encoder = Encoder()
    text = json.dumps(encoder.encode(estimator, type(estimator).__name__))
    metadata = {
        "format": FORMAT,
        "format_version": "1" if key is None else "2",
        "skpref_version": __version__,
        "sklearn_version": sklearn.__version__,
        "torch_version": torch.__version__,
        "object": text,
    }
    if key is None:
        metadata["digest"] = _digest(text, encoder.tensors)
    else:
        metadata["digest_kind"] = _KEYED
        metadata["digest"] = _keyed_digest(key, metadata, encoder.tensors)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        save_file(encoder.tensors, partial, metadata=metadata)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def load(
    path,
    *,
    device=None,
    trusted_classes=(),
    check_version=True,
    key=None,
    trust_remote_code=False,
    allow_network=False,
    model_path=None,
):
    """Load an estimator or pipeline written by :func:`save`.

    The whole file is checked before any estimator is built: its format and
    version, its digest (or its keyed digest), then every entry of its content
    against the file format. Classes are looked up among the estimator classes of
    skpref and scikit-learn (and ``trusted_classes``), never imported by the name
    the file gives. Options that would run code or reach the network are loaded
    with safe values unless you allow them here, whatever the file says.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    device : str or None, default=None
        Torch device for every loaded estimator with a ``device`` parameter (e.g.
        ``"cpu"`` for a model saved with ``device="cuda"``); it also becomes their
        ``device`` parameter. None keeps each estimator's saved ``device``,
        resolved on this machine (``"auto"`` picks the best device present).
    trusted_classes : sequence of classes, default=()
        Estimator classes from outside ``skpref`` and ``sklearn`` that the file may
        name (your own estimators). Any other class is refused.
    check_version : bool, default=True
        Refuse a file written by another version of skpref or scikit-learn, whose
        estimators may have changed. ``False`` loads it anyway.
    key : bytes, str or None, default=None
        The key the file was saved with (``save(..., key=...)``). A file saved
        with a key is refused without it or with another one, and a file saved
        without a key is refused when a key is given (it could have been edited
        by anyone).
    trust_remote_code : bool, default=False
        Restore the saved ``trust_remote_code`` of every estimator that has one
        (:class:`~skpref.embeddings.LLMEmbeddingTransformer`: run the Python code
        of the model folder or Hub model it reads) and the saved ``memory`` of
        scikit-learn's estimators that have one (a joblib cache folder, whose files
        are unpickled). ``False`` loads them as ``trust_remote_code=False`` and
        ``memory=None``, whatever the file says.
    allow_network : bool, default=False
        Restore the saved ``local_files_only`` of every estimator that has one, so
        that a model named by a Hugging Face id may be downloaded. ``False`` loads
        them as ``local_files_only=True``: models are read from local folders and
        the local Hugging Face cache only.
    model_path : str, path-like, dict or None, default=None
        Where the embedding model of the loaded pipeline is on this machine: the
        ``model_name_or_path`` given to every estimator that has one (a model
        folder or a Hugging Face id), or a dict from saved values to new ones.
        None keeps what the file says: the id or path the user gave when the
        pipeline was built. A saved local path that is not on this machine is a
        :class:`~skpref.embeddings.ModelNotAvailableError` naming it and this
        argument.

    Returns
    -------
    estimator : estimator instance
        The saved estimator, predicting exactly as before on the same device.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ModelNotAvailableError
        If a saved model path is not on this machine (see ``model_path``).
    ValueError
        If the file is not a valid skpref file (not one :func:`save` wrote,
        corrupt, edited, or any entry not of the file format: the message names
        the file and the entry), was written by other versions, names a class that
        is not allowed, or does not match ``key``.

    See Also
    --------
    save : Write the file.

    Notes
    -----
    Unlike ``pickle`` and ``joblib``, loading a file runs no code from it and
    imports nothing it names. A file's plain digest has no key: it detects
    accidental corruption, not a deliberate edit; files you share are protected
    from edits only when saved and loaded with a ``key``. See
    :ref:`persistence_threat_model` for what an untrusted file can and cannot do.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn.preprocessing import StandardScaler
    >>> import skpref
    >>> path = Path(tempfile.mkdtemp()) / "scaler.safetensors"
    >>> _ = skpref.save(StandardScaler().fit([[0.0], [2.0]]), path)
    >>> skpref.load(path).transform([[4.0]])
    array([[3.]])
    >>> _ = skpref.save(StandardScaler().fit([[0.0], [2.0]]), path, key=b"secret")
    >>> skpref.load(path, key=b"secret").mean_
    array([1.])
    """
    key = _check_key(key, "skpref.load")
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"skpref.load: there is no file {path}.")
    _check_header_size(path)
    try:
        with safe_open(path, framework="pt") as file:
            metadata = file.metadata() or {}
            tensors = {name: file.get_tensor(name) for name in file.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, RuntimeError, ValueError) as error:
        raise InvalidFileError(
            path, "tensors", f"safetensors cannot read it ({error})"
        ) from None
    text = _check_metadata(metadata, tensors, path, check_version, key)
    try:
        tree = json.loads(text)
    except RecursionError:
        raise InvalidFileError(path, "object", "nested too deeply") from None
    except ValueError as error:
        raise InvalidFileError(path, "object", f"not JSON ({error})") from None
    if not (isinstance(tree, dict) and "__estimator__" in tree):
        raise InvalidFileError(path, "object", "the saved object is not an estimator")
    decoder = Decoder(
        tensors,
        path=path,
        text_size=len(text),
        trusted_classes=trusted_classes,
        device=device,
        trust_remote_code=trust_remote_code,
        allow_network=allow_network,
        model_path=model_path,
    )
    return decoder.decode(tree)


def _check_key(key, caller):
    if key is None:
        return None
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, bytes | bytearray):
        raise TypeError(f"{caller}: key must be bytes or a string; got a {type(key)}.")
    if not key:
        raise ValueError(f"{caller}: key is empty; pass a secret of your own.")
    return bytes(key)


def _check_header_size(path):
    """Refuse a header larger than the format allows before anything reads it."""
    with open(path, "rb") as file:
        head = file.read(8)
    size = path.stat().st_size
    if len(head) < 8:
        raise InvalidFileError(path, "header", f"the file has only {size} bytes")
    length = int.from_bytes(head, "little")
    if length > size - 8:
        raise InvalidFileError(
            path, "header", f"a header of {length} bytes in a file of {size} bytes"
        )
    if length > MAX_HEADER_BYTES:
        raise InvalidFileError(
            path, "header", f"a header of {length} bytes (at most {MAX_HEADER_BYTES})"
        )


def _check_metadata(metadata, tensors, path, check_version, key):
    """Return the JSON of the file once its format, digest and versions are right."""
    if metadata.get("format") != FORMAT or "object" not in metadata:
        raise InvalidFileError(
            path,
            "header",
            "a safetensors file without the skpref header, not one written by "
            "skpref.save",
        )
    version = metadata.get("format_version", "")
    if not (version.isascii() and version.isdigit() and len(version) < 6):
        raise InvalidFileError(
            path, "format_version", f"{version!r:.40} is not a version number"
        )
    if int(version) > FORMAT_VERSION:
        raise ValueError(
            f"skpref.load: {path} was written by skpref "
            f"{metadata.get('skpref_version')} in a newer file format; upgrade "
            "skpref to load it."
        )
    kind = metadata.get("digest_kind")
    if (int(version), kind) not in {(1, None), (2, _KEYED)}:
        raise InvalidFileError(
            path, "digest_kind", f"{kind!r:.40} in format version {version}"
        )
    text = metadata["object"]
    if len(text) > MAX_HEADER_BYTES:
        raise InvalidFileError(path, "object", f"{len(text)} bytes of JSON")
    _check_digest(metadata, tensors, path, key)
    saved = (metadata.get("skpref_version"), metadata.get("sklearn_version"))
    here = (__version__, sklearn.__version__)
    if check_version and saved != here:
        raise ValueError(
            f"skpref.load: {path} was saved with skpref {saved[0]} and scikit-learn "
            f"{saved[1]}; this is skpref {here[0]} with scikit-learn {here[1]}. Load "
            "it with those versions, or pass check_version=False to try anyway."
        )
    return text


def _check_digest(metadata, tensors, path, key):
    digest = metadata.get("digest", "")
    if metadata.get("digest_kind") == _KEYED:
        if key is None:
            raise ValueError(
                f"skpref.load: {path} was saved with a key (its digest is an "
                "HMAC-SHA256); pass the same key: skpref.load(path, key=...)."
            )
        if not _same(digest, _keyed_digest(key, metadata, tensors)):
            raise InvalidFileError(
                path,
                "digest",
                "the file does not match the key: it was edited after it was saved, "
                "or saved with another key",
            )
        return
    if key is not None:
        raise ValueError(
            f"skpref.load: {path} was saved without a key, so anyone could have "
            "edited it; it is refused since a key was given. Load it without key= "
            "only if you trust where it came from, or save it again with the key."
        )
    if not _same(digest, _digest(metadata["object"], tensors)):
        raise InvalidFileError(
            path,
            "digest",
            "the content does not match the digest written with it: the file is "
            "corrupt (save the model again)",
        )


def _same(found, expected):
    return hmac.compare_digest(found.encode("utf-8"), expected.encode("utf-8"))


def _update_with_tensors(digest, tensors):
    for name in sorted(tensors):
        tensor = tensors[name].contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest


def _digest(text, tensors):
    """SHA-256 of the JSON and the tensors (no key: detects accidents only)."""
    digest = hashlib.sha256(text.encode("utf-8"))
    return _update_with_tensors(digest, tensors).hexdigest()


def _keyed_digest(key, metadata, tensors):
    """HMAC-SHA256 under ``key`` of every header entry but the digest, and tensors."""
    header = {name: value for name, value in metadata.items() if name != "digest"}
    digest = hmac.new(key, json.dumps(header, sort_keys=True).encode(), "sha256")
    return _update_with_tensors(digest, tensors).hexdigest()


def load_module_state(module, state, *, owner):
    """Load a saved ``state_dict`` into ``module``, naming any tensor that differs."""
    check_state_shapes(module.state_dict(), state, owner=owner)
    module.load_state_dict(state)
