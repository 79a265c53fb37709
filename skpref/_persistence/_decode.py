"""Estimators back from what :mod:`skpref._persistence._encode` writes.

Decoding first checks the whole tree against the format
(:mod:`skpref._persistence._schema`), looking each class up among the known
estimator classes without importing anything the tree names
(:mod:`skpref._persistence._registry`); then it builds each estimator by calling
its ``__init__`` with the saved parameters, which only stores them, and loads the
parameters that could run code or reach the network
(:data:`GUARDED_PARAMETERS`) with safe values unless the caller allows them.
"""

import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn import config_context
from torch.nn.modules.module import register_module_parameter_registration_hook

from skpref._persistence._registry import (
    class_path,
    constructor_params,
    known_class,
)
from skpref._persistence._schema import (
    TAGS,
    InvalidFileError,
    check_state_shapes,
    check_tree,
)
from skpref.utils import looks_like_path, resolve_device


def _check_device(estimator):
    """Fail early, with the fix, when the saved device is not on this machine."""
    device = getattr(estimator, "device", "auto")
    try:
        resolve_device(device, owner=type(estimator).__name__)
    except ValueError as error:
        raise _DeviceError(
            f"{error} To load the model here, pass device='auto' (or 'cpu') to "
            "skpref.load."
        ) from None


class _DeviceError(ValueError):
    """The saved device is not on this machine (the file itself is fine)."""


#: Constructor parameters that let a loaded estimator run code from outside the
#: installed packages or reach the network, with what each would allow.
GUARDED_PARAMETERS = {
    "trust_remote_code": "run the Python code that comes with a Hugging Face model",
    "local_files_only": "download from the Hugging Face Hub",
    "memory": "unpickle the files of a joblib cache folder",
}


def guarded_value(name, saved, *, trust_remote_code, allow_network):
    """Return the value a guarded parameter is loaded with: the saved one if allowed."""
    if name == "trust_remote_code":
        return saved if trust_remote_code else False
    if name == "local_files_only":
        return saved if allow_network else True
    return saved if trust_remote_code else None


class _TooManyWeights(RuntimeError):
    pass


@contextmanager
def _at_most_weights(limit):
    """Stop a network build that creates more than ``limit`` weight tensors."""
    count = 0

    def hook(module, name, param):
        nonlocal count
        if param is None or param.device.type != "meta":
            return  # another thread's real module, or an empty slot
        count += 1
        if count > limit:
            raise _TooManyWeights(f"more than {limit} weight tensors")

    handle = register_module_parameter_registration_hook(hook)
    try:
        yield
    finally:
        handle.remove()


#: What building an object from entries of a file may raise when they are wrong.
_BUILD_ERRORS = (
    TypeError,
    ValueError,
    KeyError,
    IndexError,
    AttributeError,
    ArithmeticError,
    RuntimeError,
)


class Decoder:
    """Check an object tree against the file format, then rebuild it.

    Parameters
    ----------
    tensors : dict of str to torch.Tensor
        The file's tensor table.
    path : path-like, default="<tree>"
        The file, named in errors.
    text_size : int, default=0
        Length of the tree's JSON text, which bounds the arrays built from it
        beyond a fixed allowance.
    trusted_classes : sequence of classes, default=()
        Estimator classes from outside ``skpref`` and ``sklearn`` the tree may name.
    device : str or None, default=None
        Device given to every estimator with a ``device`` parameter.
    trust_remote_code, allow_network : bool, default=False
        Restore the saved values of the :data:`GUARDED_PARAMETERS`; otherwise they
        are loaded with their safe values.
    model_path : str, path-like, dict or None, default=None
        The ``model_name_or_path`` of every estimator that has one, or a dict
        from the saved values to the ones to use.
    """

    def __init__(
        self,
        tensors,
        *,
        path="<tree>",
        text_size=0,
        trusted_classes=(),
        device=None,
        trust_remote_code=False,
        allow_network=False,
        model_path=None,
    ):
        self.tensors = tensors
        self.model_path = model_path
        self.path = path
        self.text_size = text_size
        self.trusted = {class_path(cls): cls for cls in trusted_classes}
        self.device = device
        self.trust_remote_code = trust_remote_code
        self.allow_network = allow_network
        self.classes = {}

    def decode(self, tree):
        """Return the object whose JSON form is ``tree``, once the tree is checked."""
        self.classes = check_tree(
            tree,
            self.tensors,
            path=self.path,
            text_size=self.text_size,
            resolve=self.resolve_class,
        )
        return self._build(tree, "object")

    def _model(self, saved, owner, entry):
        """Return the model an estimator loads: ``model_path`` or the saved one.

        A local path that is not on this machine is an error naming it, so the
        pipeline fails here rather than at its first call.
        """
        model = self.model_path
        if isinstance(model, dict):
            model = model.get(str(saved), saved)
        model = saved if model is None else os.fspath(model)
        if isinstance(model, str | os.PathLike):
            name = os.fspath(model)
            if looks_like_path(name) and not Path(name).expanduser().exists():
                raise _model_error(name, owner, entry, self.path)
        return model

    def resolve_class(self, name, entry):
        """Return the allowed class saved as ``name``; nothing is imported for it."""
        if name in self.trusted:
            return self.trusted[name]
        cls = known_class(name)
        if cls is None:
            raise InvalidFileError(
                self.path,
                entry,
                f"the class {name} is refused: it is not an estimator class of "
                "skpref or scikit-learn (of this installation), and nothing it "
                "names was imported. If you trust the file and the class, pass "
                "the class in trusted_classes",
            )
        return cls

    def _build(self, value, entry):
        if isinstance(value, list):
            return [self._build(v, f"{entry}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, dict):
            return value
        (tag,) = (key for key in value if key in TAGS)
        if tag == "__estimator__":
            cls = self.classes[value[tag]]
            entry = f"{entry}({cls.__name__})"
        try:
            if tag == "__estimator__":
                return self._estimator(cls, value, entry)
            return self._build_tagged(tag, value, entry)
        except (InvalidFileError, _DeviceError):
            raise
        except _BUILD_ERRORS as error:
            reason = str(error) if isinstance(error, ValueError) else repr(error)
            raise InvalidFileError(self.path, entry, reason) from None

    def _build_tagged(self, tag, value, entry):
        body = value[tag]
        if tag == "__dict__":
            return {k: self._build(v, f"{entry}[{k!r}]") for k, v in body.items()}
        if tag == "__tuple__":
            return tuple(self._build(v, f"{entry}[{i}]") for i, v in enumerate(body))
        if tag == "__float__":
            return float(body)
        if tag == "__scalar__":
            return np.dtype(value["dtype"]).type(self._build(body, entry))
        if tag == "__array__":
            array = self.tensors[body].numpy()
            return np.asfortranarray(array) if value.get("order") == "F" else array
        if tag == "__list_array__":
            items = self._build(body, entry)
            if np.dtype(value["dtype"]).kind != "O":
                return np.array(items, dtype=value["dtype"]).reshape(value["shape"])
            # item by item: np.array would stack items that are equal-length
            # arrays (KBinsDiscretizer's bin_edges_) into one more dimension
            array = np.empty(value["shape"], dtype=object)
            for index in np.ndindex(*array.shape):
                cell = items
                for i in index:
                    cell = cell[i]
                array[index] = cell
            return array
        if tag == "__dataframe__":
            columns = self._build(body["columns"], f"{entry}.columns")
            data = {
                i: self._build(column, f"{entry}.data[{i}]")
                for i, column in enumerate(body["data"])
            }
            frame = pd.DataFrame(data, index=self._build(body["index"], entry))
            frame.columns = columns
            return frame
        if tag == "__path__":
            return Path(body)
        if tag == "__dtype__":
            return np.dtype(body)
        if tag == "__numpy_type__":
            return np.dtype(body).type
        # __random_state__, the last tag of the schema
        state = np.random.RandomState()
        state.set_state(self._build(body, entry))
        return state

    def _estimator(self, cls, value, entry):
        names = constructor_params(cls)
        estimator = cls(**self._build(value["params"], f"{entry}.params"))
        attributes = self._build(value["attributes"], f"{entry}.attributes")
        estimator.__dict__.update(attributes)
        for name in GUARDED_PARAMETERS.keys() & set(names):
            saved = getattr(estimator, name)
            setattr(
                estimator,
                name,
                guarded_value(
                    name,
                    saved,
                    trust_remote_code=self.trust_remote_code,
                    allow_network=self.allow_network,
                ),
            )
        if "model_name_or_path" in names:
            estimator.model_name_or_path = self._model(
                estimator.model_name_or_path, type(estimator).__name__, entry
            )
        if self.device is not None and "device" in names:
            estimator.device = self.device
        if value["torch"]:
            _check_device(estimator)
            state = {
                attribute: {k: self.tensors[key] for k, key in weights.items()}
                for attribute, weights in value["torch"].items()
            }
            _check_torch_state(estimator, state)
            estimator._set_torch_state(state)
        with config_context(enable_metadata_routing=True):
            for method, requests in value["requests"].items():
                getattr(estimator, f"set_{method}_request")(**requests)
        return estimator


def _model_error(saved, owner, entry, path):
    from skpref.embeddings import ModelNotAvailableError

    return ModelNotAvailableError(
        f"skpref.load: the model of the {owner} at {entry} of {path}, "
        f"{saved!r}, is not on this machine. Point the file at the model here: "
        "skpref.load(path, model_path=<its folder, or a Hugging Face id>), or "
        f"model_path={{{saved!r}: ...}} to replace this model only."
    )


def _check_torch_state(estimator, state):
    """Refuse parameters that are invalid or build another network, building none.

    Each integer argument of the network (its sizes) must be at most the number
    of saved weights; then the network is built on the meta device (no memory),
    stopped once it has created far more weight tensors than the file holds, and
    its shapes are compared with the saved ones. So edited sizes
    (``hidden_dim=10**9``, ``n_layers=10**8``) are refused before they allocate
    anything or take long.
    """
    if hasattr(estimator, "_validate_params"):
        estimator._validate_params()
    describe = getattr(estimator, "_build_module_params", None)
    if describe is None or len(state) != 1:
        return
    (saved,) = state.values()
    module_class, params = describe()
    # every size of the network (a width, a number of layers or heads) gives it at
    # least as many weights: a larger one is refused before it is even looped over
    total = sum(tensor.numel() for tensor in saved.values())
    for name, size in params.items():
        if type(size) is int and size > total:
            raise ValueError(
                f"{type(estimator).__name__}: the saved parameters give the network "
                f"{name}={size}, more than its {total} saved weights could hold."
            )
    try:
        with (
            _at_most_weights(2 * len(saved) + 16),
            torch.random.fork_rng(devices=[]),
            torch.device("meta"),
            warnings.catch_warnings(),  # a trial build: the real one warns
        ):
            warnings.simplefilter("ignore")
            module = module_class(**params)
    except _TooManyWeights as error:
        raise ValueError(
            f"{type(estimator).__name__}: the saved parameters build a network of "
            f"{error}, far more than the {len(saved)} saved weights."
        ) from None
    check_state_shapes(module.state_dict(), saved, owner=estimator)
