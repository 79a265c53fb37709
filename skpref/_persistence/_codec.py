"""Estimators to JSON plus named arrays, and back, with no pickle anywhere.

An estimator becomes ``{"__estimator__": "module:QualName", "params": ...,
"attributes": ..., "torch": ..., "requests": ...}``: its constructor parameters
(``get_params(deep=False)``, nested estimators included, so a ``Pipeline`` carries
its steps), every other instance attribute (the fitted ones), the ``state_dict`` of
the torch modules it declares through ``_get_torch_state`` and its metadata-routing
requests. Numeric arrays and tensors go to a table of named tensors (written as
safetensors); everything else must be JSON: numbers, strings, lists, dicts with
string keys, arrays of strings, DataFrames, paths, dtypes and ``RandomState``.

Decoding imports a class only from an allowed package (``skpref``, ``sklearn``) or
from classes the caller names, and only one that is a scikit-learn estimator;
building it calls its ``__init__`` with the saved parameters, which only stores
them. Nothing else runs.
"""

import importlib
import math
from pathlib import Path, PurePath

import numpy as np
import pandas as pd
import torch
from sklearn import config_context
from sklearn.base import BaseEstimator

from skpref.utils import resolve_device

ALLOWED_PACKAGES = ("skpref", "sklearn")
_NUMERIC_KINDS = "biuf"


def class_path(cls):
    """``"module:QualName"``, the name under which a class is saved."""
    return f"{cls.__module__}:{cls.__qualname__}"


class Encoder:
    """Turn an object tree into JSON, collecting its arrays in ``tensors``."""

    def __init__(self):
        self.tensors = {}

    def _store(self, tensor):
        key = f"t{len(self.tensors)}"
        # A fresh copy: safetensors refuses tensors that share memory, and needs
        # row-major strides, which clone() keeps wrong (0) for an empty array.
        tensor = tensor.detach().to("cpu")
        self.tensors[key] = torch.empty(tensor.shape, dtype=tensor.dtype).copy_(tensor)
        return key

    def encode(self, value, where):
        """Return the JSON form of ``value``; ``where`` names it in errors."""
        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, int | float) and not isinstance(value, np.generic):
            if isinstance(value, float) and not math.isfinite(value):
                return {"__float__": repr(value)}
            return value
        if isinstance(value, BaseEstimator):
            return self._estimator(value, where)
        if isinstance(value, np.generic):
            return {
                "__scalar__": self.encode(value.item(), where),
                "dtype": value.dtype.str,
            }
        if isinstance(value, np.ndarray):
            return self._array(value, where)
        if isinstance(value, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple):
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return {"__tuple__": items}
        if isinstance(value, dict):
            return self._dict(value, where)
        if isinstance(value, pd.DataFrame):
            return {
                "__dataframe__": {
                    "columns": self.encode(list(value.columns), f"{where}.columns"),
                    "index": self.encode(value.index.to_numpy(), f"{where}.index"),
                    "data": [
                        self.encode(value[c].to_numpy(), f"{where}[{c!r}]")
                        for c in value.columns
                    ],
                }
            }
        if isinstance(value, PurePath):
            return {"__path__": str(value)}
        if isinstance(value, np.dtype):
            return {"__dtype__": value.str}
        if isinstance(value, type) and issubclass(value, np.generic):
            return {"__numpy_type__": np.dtype(value).str}
        if isinstance(value, np.random.RandomState):
            return {"__random_state__": self.encode(value.get_state(), where)}
        raise TypeError(
            f"skpref.save cannot store {where}, a {type(value).__module__}."
            f"{type(value).__qualname__}: only numbers, strings, lists, dicts, arrays, "
            "DataFrames and scikit-learn estimators can be saved without pickle."
        )

    def _dict(self, value, where):
        if not all(isinstance(key, str) for key in value):
            raise TypeError(
                f"skpref.save cannot store {where}: a dict whose keys are not all "
                "strings."
            )
        return {
            "__dict__": {k: self.encode(v, f"{where}[{k!r}]") for k, v in value.items()}
        }

    def _array(self, value, where):
        if value.dtype.kind in _NUMERIC_KINDS:
            return {"__array__": self._store(torch.from_numpy(np.array(value)))}
        if value.dtype.kind in "OUS":
            return {
                "__list_array__": self.encode(value.tolist(), where),
                "dtype": value.dtype.str,
                "shape": list(value.shape),
            }
        raise TypeError(
            f"skpref.save cannot store {where}: arrays of dtype {value.dtype} are "
            "not supported."
        )

    def _estimator(self, estimator, where):
        name = type(estimator).__name__
        params = estimator.get_params(deep=False)
        torch_state = (
            estimator._get_torch_state()
            if hasattr(estimator, "_get_torch_state")
            and hasattr(estimator, "_set_torch_state")
            else {}
        )
        # the torch state's attributes, and those it is rebuilt into
        rebuilt = getattr(estimator, "_rebuilt_attributes", ())
        skipped = {*params, *torch_state, *rebuilt, "_metadata_request"}
        attributes = {k: v for k, v in vars(estimator).items() if k not in skipped}
        return {
            "__estimator__": class_path(type(estimator)),
            "params": self._dict(params, f"{where}({name}).params"),
            "attributes": self._dict(attributes, f"{where}({name})"),
            "torch": {
                attribute: {key: self._store(t) for key, t in state.items()}
                for attribute, state in torch_state.items()
            },
            "requests": _routing_requests(estimator),
        }


def _check_device(estimator):
    """Fail early, with the fix, when the saved device is not on this machine."""
    device = getattr(estimator, "device", "auto")
    try:
        resolve_device(device, owner=type(estimator).__name__)
    except ValueError as error:
        raise ValueError(
            f"{error} To load the model here, pass device='auto' (or 'cpu') to "
            "skpref.load."
        ) from None


def _routing_requests(estimator):
    """Return the routing requests a user set: ``{method: {param: alias}}``."""
    # set_{method}_request stores the requests on the instance; untouched estimators
    # have none, and their defaults need no saving.
    request = vars(estimator).get("_metadata_request")
    requests = {}
    for name in dir(type(estimator)):
        if not (name.startswith("set_") and name.endswith("_request")):
            continue
        method = name[len("set_") : -len("_request")]
        chosen = (
            {
                param: alias
                for param, alias in getattr(request, method).requests.items()
                if alias is not None
            }
            if hasattr(request, method)
            else {}
        )
        if chosen:
            requests[method] = chosen
    return requests


class Decoder:
    """Rebuild an object tree from its JSON form and its named tensors."""

    def __init__(self, tensors, *, trusted_classes=(), device=None):
        self.tensors = tensors
        self.trusted = {class_path(cls): cls for cls in trusted_classes}
        self.device = device

    def decode(self, value):
        """Return the object whose JSON form is ``value``."""
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        (tag,) = (key for key in value if key.startswith("__"))
        body = value[tag]
        if tag == "__estimator__":
            return self._estimator(value)
        if tag == "__dict__":
            return {k: self.decode(v) for k, v in body.items()}
        if tag == "__tuple__":
            return tuple(self.decode(v) for v in body)
        if tag == "__float__":
            return float(body)
        if tag == "__scalar__":
            return np.dtype(value["dtype"]).type(self.decode(body))
        if tag == "__array__":
            return self.tensors[body].numpy()
        if tag == "__list_array__":
            items = self.decode(body)
            return np.array(items, dtype=value["dtype"]).reshape(value["shape"])
        if tag == "__dataframe__":
            columns = self.decode(body["columns"])
            data = dict(enumerate(map(self.decode, body["data"])))
            frame = pd.DataFrame(data, index=self.decode(body["index"]))
            frame.columns = columns
            return frame
        if tag == "__path__":
            return Path(body)
        if tag == "__dtype__":
            return np.dtype(body)
        if tag == "__numpy_type__":
            return np.dtype(body).type
        if tag == "__random_state__":
            state = np.random.RandomState()
            state.set_state(self.decode(body))
            return state
        raise ValueError(f"skpref.load: unknown entry {tag!r}; the file is corrupt.")

    def resolve_class(self, path):
        """Import the class saved as ``path`` if it is allowed; else raise."""
        if path in self.trusted:
            return self.trusted[path]
        module_name, _, qualname = path.partition(":")
        allowed = module_name.split(".")[0] in ALLOWED_PACKAGES and not any(
            part.startswith("__") for part in [*module_name.split("."), qualname]
        )
        if not allowed:
            raise ValueError(
                f"skpref.load refuses to import {path}: only classes of "
                f"{', '.join(ALLOWED_PACKAGES)} are loaded. If you trust the file, "
                "pass the class in trusted_classes."
            )
        try:
            found = importlib.import_module(module_name)
            for part in qualname.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError):
            raise ValueError(
                f"skpref.load: the file names the class {path}, which this "
                "installation does not have; load it with the versions that saved "
                "it."
            ) from None
        if not (isinstance(found, type) and issubclass(found, BaseEstimator)):
            raise ValueError(
                f"skpref.load refuses {path}: it is not a scikit-learn estimator."
            )
        return found

    def _estimator(self, value):
        cls = self.resolve_class(value["__estimator__"])
        estimator = cls(**self.decode(value["params"]))
        estimator.__dict__.update(self.decode(value["attributes"]))
        if self.device is not None and "device" in estimator.get_params(deep=False):
            estimator.device = self.device
        if value["torch"]:
            _check_device(estimator)
            estimator._set_torch_state(
                {
                    attribute: {k: self.tensors[key] for k, key in state.items()}
                    for attribute, state in value["torch"].items()
                }
            )
        with config_context(enable_metadata_routing=True):
            for method, requests in value["requests"].items():
                getattr(estimator, f"set_{method}_request")(**requests)
        return estimator
