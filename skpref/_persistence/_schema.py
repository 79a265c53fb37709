"""The schema of a saved file's JSON tree, checked before anything is built.

:func:`check_tree` walks the tree without recursion (a tree nested deeper than
:data:`MAX_DEPTH` is refused, not a ``RecursionError``) and checks every node
against the tags :class:`~skpref._persistence._encode.Encoder` writes: the keys of
each tag, the types of their values, the dtypes and shapes of arrays, the tensor
names against the file's tensor table, the classes against the known estimator
classes, and the parameter and attribute names against each class. Memory is
bounded by what the file really holds: a numeric array is a view of a tensor of
the file, and the arrays of strings built from the JSON may not hold more than
:data:`LIST_ARRAY_BYTES` plus ``LIST_ARRAY_RATIO`` times the JSON's size. Every
violation is an :class:`InvalidFileError` naming the file and the entry.
"""

import math

import numpy as np
import torch

from skpref._persistence._registry import constructor_params

#: Deepest nesting of JSON lists and objects accepted (a pipeline of pipelines of
#: ten levels is about sixty).
MAX_DEPTH = 128
#: Longest JSON text (the header's ``object`` entry) accepted, in bytes.
MAX_HEADER_BYTES = 64 * 2**20
#: Bytes the arrays of strings of one file may take beyond LIST_ARRAY_RATIO times
#: its JSON's size.
LIST_ARRAY_BYTES = 64 * 2**20
LIST_ARRAY_RATIO = 64

#: Tensor dtypes that become NumPy arrays (``__array__`` entries).
ARRAY_DTYPES = frozenset(
    {
        torch.bool,
        torch.uint8,
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.float16,
        torch.float32,
        torch.float64,
        *(getattr(torch, name) for name in ("uint16", "uint32", "uint64")),
    }
)
#: The keys each tag comes with.
TAGS = {
    "__estimator__": {"params", "attributes", "torch", "requests"},
    "__dict__": set(),
    "__tuple__": set(),
    "__float__": set(),
    "__scalar__": {"dtype"},
    "__array__": set(),
    "__list_array__": {"dtype", "shape"},
    "__dataframe__": set(),
    "__path__": set(),
    "__dtype__": set(),
    "__numpy_type__": set(),
    "__random_state__": set(),
}
#: The keys a tag may come with besides those: an array's column-major order.
OPTIONAL_KEYS = {"__array__": {"order"}}
_NON_FINITE = {"inf", "-inf", "nan"}
_MAX_DTYPE_TEXT = 64
_MAX_NDIM = 32


class InvalidFileError(ValueError):
    """A saved file whose content is not what :func:`skpref.save` writes."""

    def __init__(self, path, entry, reason):
        super().__init__(
            f"skpref.load: not a valid skpref file: {path}, at {entry}: "
            f"{str(reason).rstrip('.')}."
        )


def check_tree(tree, tensors, *, path, text_size, resolve):
    """Check a decoded JSON tree against the file format; raise at the first fault.

    Parameters
    ----------
    tree : object
        The JSON tree of the header's ``object`` entry.
    tensors : dict of str to torch.Tensor
        The file's tensor table.
    path : path-like
        The file, for messages.
    text_size : int
        Length of the JSON text, which bounds the arrays built from it.
    resolve : callable
        ``resolve(name, entry)`` returns the estimator class saved as ``name`` or
        raises.

    Returns
    -------
    classes : dict
        ``{name: class}`` of the estimator classes the tree names.
    """
    checker = _Checker(tensors, path, text_size, resolve)
    checker.run(tree)
    return checker.classes


class _Checker:
    def __init__(self, tensors, path, text_size, resolve):
        self.tensors = tensors
        self.path = path
        self.resolve = resolve
        self.budget = LIST_ARRAY_BYTES + LIST_ARRAY_RATIO * text_size
        self.classes = {}
        self.stack = []

    def fail(self, entry, reason):
        return InvalidFileError(self.path, entry, reason)

    def push(self, node, entry, depth):
        if depth > MAX_DEPTH:
            raise self.fail(entry, f"nested more than {MAX_DEPTH} levels deep")
        self.stack.append((node, entry, depth))

    def run(self, tree):
        self.push(tree, "object", 0)
        while self.stack:
            node, entry, depth = self.stack.pop()
            if isinstance(node, list):
                for i, item in enumerate(node):
                    self.push(item, f"{entry}[{i}]", depth + 1)
            elif isinstance(node, dict):
                self.tagged(node, entry, depth)
            elif isinstance(node, float) and not math.isfinite(node):
                raise self.fail(entry, "a bare non-finite number")
            elif not (node is None or isinstance(node, bool | int | float | str)):
                raise self.fail(entry, f"a {type(node).__name__}")

    def tagged(self, node, entry, depth):
        tags = [key for key in node if key in TAGS]
        if len(tags) != 1:
            raise self.fail(entry, f"an object with the keys {_keys(node)}")
        (tag,) = tags
        optional = OPTIONAL_KEYS.get(tag, set())
        if not {tag, *TAGS[tag]} <= set(node) <= {tag, *TAGS[tag], *optional}:
            expected = sorted({tag, *TAGS[tag]})
            raise self.fail(
                entry, f"{tag} needs the keys {expected}, not {_keys(node)}"
            )
        body = node[tag]
        getattr(self, f"_{tag.strip('_')}")(node, body, entry, depth)

    def body_type(self, body, kind, entry, tag):
        if not isinstance(body, kind):
            raise self.fail(entry, f"{tag} holds a {type(body).__name__}")

    # -- one method per tag --------------------------------------------------------

    def _dict(self, node, body, entry, depth):
        self.body_type(body, dict, entry, "__dict__")
        for key, value in body.items():
            self.push(value, f"{entry}[{key!r}]", depth + 2)

    def _tuple(self, node, body, entry, depth):
        self.body_type(body, list, entry, "__tuple__")
        for i, item in enumerate(body):
            self.push(item, f"{entry}[{i}]", depth + 2)

    def _float(self, node, body, entry, depth):
        if not (isinstance(body, str) and body in _NON_FINITE):
            raise self.fail(entry, f"__float__ holds {body!r}, not inf, -inf or nan")

    def _path(self, node, body, entry, depth):
        self.body_type(body, str, entry, "__path__")

    def _random_state(self, node, body, entry, depth):
        self.push(body, entry, depth + 1)

    def _dtype(self, node, body, entry, depth, *, tag="__dtype__"):
        self.body_type(body, str, entry, tag)
        return self.numpy_dtype(body, entry)

    def _numpy_type(self, node, body, entry, depth):
        self._dtype(node, body, entry, depth, tag="__numpy_type__")

    def numpy_dtype(self, text, entry, kinds=None):
        if not isinstance(text, str) or len(text) > _MAX_DTYPE_TEXT:
            raise self.fail(entry, f"the dtype {text!r:.80} is not a dtype name")
        try:
            dtype = np.dtype(text)
        except (TypeError, ValueError):
            raise self.fail(entry, f"{text!r} is not a NumPy dtype") from None
        if kinds is not None and dtype.kind not in kinds:
            raise self.fail(entry, f"the dtype {text!r} is not allowed here")
        return dtype

    def _scalar(self, node, body, entry, depth):
        self.numpy_dtype(node["dtype"], entry, kinds="biufUS")
        if isinstance(body, dict):
            self.push(body, entry, depth + 1)  # a __float__
        elif not isinstance(body, bool | int | float | str):
            raise self.fail(entry, f"__scalar__ holds a {type(body).__name__}")

    def _array(self, node, body, entry, depth):
        if not isinstance(body, str) or body not in self.tensors:
            raise self.fail(entry, f"no tensor {body!r:.80} in the file")
        if self.tensors[body].dtype not in ARRAY_DTYPES:
            raise self.fail(
                entry, f"the tensor {body!r} has dtype {self.tensors[body].dtype}"
            )
        if node.get("order", "F") != "F":
            raise self.fail(entry, f"the array order {node['order']!r:.20} is not 'F'")

    def _list_array(self, node, body, entry, depth):
        dtype = self.numpy_dtype(node["dtype"], entry, kinds="OUS")
        shape = node["shape"]
        if not (
            isinstance(shape, list)
            and len(shape) <= _MAX_NDIM
            and all(type(n) is int and n >= 0 for n in shape)
        ):
            raise self.fail(entry, f"the shape {shape!r:.80} is not a shape")
        n_items = max(math.prod(shape), _count_values(body))
        self.budget -= n_items * max(dtype.itemsize, 1)
        if self.budget < 0:
            raise self.fail(
                entry,
                f"an array of {n_items} items of dtype {dtype} is larger than the "
                "file could hold",
            )
        self.push(body, entry, depth + 1)

    def _dataframe(self, node, body, entry, depth):
        self.body_type(body, dict, entry, "__dataframe__")
        if set(body) != {"columns", "index", "data"} or not isinstance(
            body["data"], list
        ):
            raise self.fail(entry, "a data frame needs columns, index and data")
        self.push(body["columns"], f"{entry}.columns", depth + 2)
        self.push(body["index"], f"{entry}.index", depth + 2)
        for i, column in enumerate(body["data"]):
            self.push(column, f"{entry}.data[{i}]", depth + 3)

    def _estimator(self, node, name, entry, depth):
        if not isinstance(name, str):
            raise self.fail(entry, f"__estimator__ holds a {type(name).__name__}")
        cls = self.classes.get(name) or self.resolve(name, entry)
        self.classes[name] = cls
        entry = f"{entry}({cls.__name__})"
        params = self.members(node["params"], f"{entry}.params")
        allowed = set(constructor_params(cls))
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise self.fail(
                f"{entry}.params", f"{cls.__name__} has no parameter {unknown[0]!r}"
            )
        attributes = self.members(node["attributes"], f"{entry}.attributes")
        for key in attributes:
            if key.startswith("__") or key in allowed or key == "_metadata_request":
                raise self.fail(
                    f"{entry}.attributes", f"{key!r} cannot be a saved attribute"
                )
        self.torch_state(node["torch"], f"{entry}.torch")
        self.requests(node["requests"], cls, f"{entry}.requests")
        for kind, members in (("params", params), ("attributes", attributes)):
            for key, value in members.items():
                self.push(value, f"{entry}.{kind}[{key!r}]", depth + 3)

    # -- the parts of an estimator ---------------------------------------------------

    def members(self, node, entry):
        """Return the ``{name: value}`` of a ``{"__dict__": ...}`` of names."""
        if not (
            isinstance(node, dict)
            and set(node) == {"__dict__"}
            and isinstance(node["__dict__"], dict)
        ):
            raise self.fail(entry, "not a {'__dict__': {...}} of names")
        names = node["__dict__"]
        for key in names:
            if not key.isidentifier():
                raise self.fail(entry, f"{key!r:.80} is not a name")
        return names

    def torch_state(self, node, entry):
        if not isinstance(node, dict):
            raise self.fail(entry, "not a {attribute: {weight: tensor}} table")
        for attribute, state in node.items():
            if not attribute.isidentifier() or attribute.startswith("__"):
                raise self.fail(entry, f"{attribute!r:.80} is not an attribute name")
            if not isinstance(state, dict):
                raise self.fail(f"{entry}[{attribute!r}]", "not a {weight: tensor}")
            for key, tensor in state.items():
                if not isinstance(tensor, str) or tensor not in self.tensors:
                    raise self.fail(
                        f"{entry}[{attribute!r}][{key!r:.80}]",
                        f"no tensor {tensor!r:.80} in the file",
                    )

    def requests(self, node, cls, entry):
        if not isinstance(node, dict):
            raise self.fail(entry, "not a {method: {parameter: request}} table")
        for method, requests in node.items():
            if not (
                method.isidentifier()
                and callable(getattr(cls, f"set_{method}_request", None))
            ):
                raise self.fail(
                    entry, f"{cls.__name__} takes no requests for {method!r:.80}"
                )
            if not isinstance(requests, dict) or not all(
                isinstance(key, str)
                and (value is None or isinstance(value, bool | str))
                for key, value in requests.items()
            ):
                raise self.fail(f"{entry}[{method!r}]", "not a {parameter: request}")


def _keys(node):
    return sorted(node)[:6]


def _count_values(tree):
    """Count the JSON values in ``tree`` (lists and objects included)."""
    count, stack = 0, [tree]
    while stack:
        node = stack.pop()
        count += 1
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
    return count


def check_state_shapes(expected, state, *, owner):
    """Refuse saved weights whose names or shapes differ from a network's.

    Parameters
    ----------
    expected : mapping of str to tensor
        The ``state_dict`` of the network built from the saved parameters.
    state : mapping of str to tensor
        The saved weights.
    owner : estimator
        Named in the message.
    """
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
