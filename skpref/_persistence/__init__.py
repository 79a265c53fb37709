"""Safe persistence: ``skpref.save`` and ``skpref.load``, one safetensors file each.

The file is a standard safetensors file: the tensors are the torch weights and the
numeric arrays of the saved estimators, and its header's metadata holds the rest as
JSON (see :mod:`skpref._persistence._codec`), the skpref and scikit-learn versions
that wrote it, and a SHA-256 digest of the JSON and the tensors. Loading never
unpickles and never imports a class from outside ``skpref`` and ``sklearn`` (unless
the caller names it), so a file from an untrusted source cannot run code.
"""

import hashlib
import json
import os
from pathlib import Path

import sklearn
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from sklearn.base import BaseEstimator

from skpref._persistence._codec import Decoder, Encoder
from skpref._version import __version__

__all__ = ["load", "save"]

FORMAT = "skpref"
FORMAT_VERSION = 1


def save(estimator, path):
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

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    TypeError
        If ``estimator`` is not an estimator, or holds a value that cannot be
        stored without pickle (a function, an open file...).

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
    encoder = Encoder()
    text = json.dumps(encoder.encode(estimator, type(estimator).__name__))
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "skpref_version": __version__,
        "sklearn_version": sklearn.__version__,
        "torch_version": torch.__version__,
        "object": text,
        "digest": _digest(text, encoder.tensors),
    }
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        save_file(encoder.tensors, partial, metadata=metadata)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def load(path, *, device=None, trusted_classes=(), check_version=True):
    """Load an estimator or pipeline written by :func:`save`.

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

    Returns
    -------
    estimator : estimator instance
        The saved estimator, predicting exactly as before on the same device.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not one :func:`save` wrote, is corrupt (its digest does not
        match), was written by other versions, names a class that is not allowed,
        or holds weights whose shapes disagree with the saved parameters.

    See Also
    --------
    save : Write the file.

    Notes
    -----
    Unlike ``pickle`` and ``joblib``, loading a file runs no code from it: only
    allowed estimator classes are imported and built from their parameters. Do not
    unpickle models from sources you do not trust.

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
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"skpref.load: there is no file {path}.")
    try:
        with safe_open(path, framework="pt") as file:
            metadata = file.metadata() or {}
            tensors = {key: file.get_tensor(key) for key in file.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, RuntimeError, ValueError) as error:
        raise ValueError(
            f"skpref.load: {path} is not a file written by skpref.save, or it is "
            f"corrupt ({error})."
        ) from None
    text = _check_metadata(metadata, tensors, path, check_version)
    decoder = Decoder(tensors, trusted_classes=trusted_classes, device=device)
    return decoder.decode(json.loads(text))


def _check_metadata(metadata, tensors, path, check_version):
    """Return the JSON of the file once its format, digest and versions are right."""
    if metadata.get("format") != FORMAT or "object" not in metadata:
        raise ValueError(
            f"skpref.load: {path} is a safetensors file but not one written by "
            "skpref.save (it has no skpref header)."
        )
    if int(metadata.get("format_version", 0)) > FORMAT_VERSION:
        raise ValueError(
            f"skpref.load: {path} was written by skpref "
            f"{metadata.get('skpref_version')} in a newer file format; upgrade "
            "skpref to load it."
        )
    text = metadata["object"]
    if metadata.get("digest") != _digest(text, tensors):
        raise ValueError(
            f"skpref.load: {path} is corrupt: its content does not match the digest "
            "written with it. Save the model again."
        )
    saved = (metadata.get("skpref_version"), metadata.get("sklearn_version"))
    here = (__version__, sklearn.__version__)
    if check_version and saved != here:
        raise ValueError(
            f"skpref.load: {path} was saved with skpref {saved[0]} and scikit-learn "
            f"{saved[1]}; this is skpref {here[0]} with scikit-learn {here[1]}. Load "
            "it with those versions, or pass check_version=False to try anyway."
        )
    return text


def _digest(text, tensors):
    digest = hashlib.sha256(text.encode("utf-8"))
    for key in sorted(tensors):
        tensor = tensors[key].contiguous()
        digest.update(f"{key}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def load_module_state(module, state, *, owner):
    """Load a saved ``state_dict`` into ``module``, naming any tensor that differs."""
    expected = module.state_dict()
    name = type(owner).__name__
    if set(state) != set(expected):
        missing = sorted(set(expected) - set(state))
        extra = sorted(set(state) - set(expected))
        raise ValueError(
            f"{name}: the saved weights do not match the network built from the "
            f"saved parameters (missing {missing[:3]}, unexpected {extra[:3]}). "
            "The file was written by a different model or skpref version."
        )
    for key, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise ValueError(
                f"{name}: the saved weight {key!r} has shape {tuple(tensor.shape)} "
                f"but the network built from the saved parameters expects "
                f"{tuple(expected[key].shape)}. The parameters and weights of the "
                "file disagree: it is corrupt or was edited."
            )
    module.load_state_dict(state)
