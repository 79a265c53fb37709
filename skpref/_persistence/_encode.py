"""Estimators to JSON plus named arrays, with no pickle anywhere.

An estimator becomes ``{"__estimator__": "module:QualName", "params": ...,
"attributes": ..., "torch": ..., "requests": ...}``: its constructor parameters
(``get_params(deep=False)``, nested estimators included, so a ``Pipeline`` carries
its steps), every other instance attribute (the fitted ones), the ``state_dict`` of
the torch modules it declares through ``_get_torch_state`` and its metadata-routing
requests. Numeric arrays and tensors go to a table of named tensors (written as
safetensors); everything else must be JSON: numbers, strings, lists, dicts with
string keys, arrays of strings, DataFrames, paths, dtypes and ``RandomState``.
:mod:`skpref._persistence._decode` reads it back.
"""

import math
from pathlib import PurePath

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator

from skpref._persistence._registry import class_path

_NUMERIC_KINDS = "biuf"


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
            stored = {"__array__": self._store(torch.from_numpy(np.array(value)))}
            # stored row-major; a column-major array (a scikit-learn fit's) comes
            # back column-major, as its products round by the layout
            if (
                value.ndim > 1
                and value.flags.f_contiguous
                and not value.flags.c_contiguous
            ):
                stored["order"] = "F"
            return stored
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
