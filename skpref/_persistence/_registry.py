"""The estimator classes a saved file may name, found without importing its names.

A file names each estimator's class as ``"module:QualName"``. That string is only
ever looked up, never imported: the known classes are the scikit-learn estimators
(``BaseEstimator`` subclasses) defined in the installed ``skpref`` and ``sklearn``
packages, outside their test modules, plus the classes a caller passes to
:func:`skpref.load`. So that a class is known even when nothing has used its
subpackage yet, the public subpackage the name points into (one of a list read
from the installed package's folder, e.g. ``sklearn.preprocessing``) is imported
first, as ``from sklearn.preprocessing import ...`` would; a module the file names
that is not such a subpackage (``os``, ``sklearn.preprocessing._data``, a module
of your own) is never imported.
"""

import importlib
import inspect
import pkgutil
import sys
from functools import cache

from sklearn.base import BaseEstimator

#: Packages whose estimator classes a file may name without being trusted.
KNOWN_PACKAGES = ("skpref", "sklearn")
# Modules of test helpers, whose estimators are not for loading.
_EXCLUDED_MODULES = {"tests", "conftest", "_testing", "estimator_checks"}


def class_path(cls):
    """``"module:QualName"``, the name under which a class is saved."""
    return f"{cls.__module__}:{cls.__qualname__}"


def constructor_params(cls):
    """Names of the keyword parameters of ``cls.__init__`` (no ``*args``)."""
    if cls.__init__ is object.__init__:
        return []
    return [
        param.name
        for param in list(inspect.signature(cls.__init__).parameters.values())[1:]
        if param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD)
    ]


@cache
def _public_subpackages(package):
    """Names of the public modules of ``package``, read from its folder."""
    module = sys.modules.get(package) or importlib.import_module(package)
    return frozenset(
        info.name
        for info in pkgutil.iter_modules(module.__path__)
        if not info.name.startswith("_") and info.name not in _EXCLUDED_MODULES
    )


def _is_known_module(module_name):
    parts = module_name.split(".")
    return parts[0] in KNOWN_PACKAGES and not _EXCLUDED_MODULES.intersection(parts)


def _estimator_classes():
    """``{class_path: class}`` of every estimator class defined in a known package."""
    found, stack = {}, [BaseEstimator]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            if _is_known_module(sub.__module__) and "<" not in sub.__qualname__:
                found[class_path(sub)] = sub
    return found


def known_class(name):
    """Return the estimator class saved as ``name``, or None if it is not known.

    Parameters
    ----------
    name : str
        ``"module:QualName"`` as read from a file.

    Returns
    -------
    cls : type or None
        The class, when ``name`` is an estimator class of ``skpref`` or
        ``sklearn``; None otherwise. Nothing that ``name`` spells is imported
        unless it is one of those packages' public subpackages.

    Examples
    --------
    >>> from skpref._persistence._registry import known_class
    >>> known_class("sklearn.preprocessing._data:StandardScaler").__name__
    'StandardScaler'
    >>> known_class("os:system") is None
    True
    """
    module_name, _, _ = name.partition(":")
    if not _is_known_module(module_name):
        return None
    package, *rest = module_name.split(".")
    package = KNOWN_PACKAGES[KNOWN_PACKAGES.index(package)]
    if rest:
        # the subpackage imported is picked from the installed package's own list
        for subpackage in _public_subpackages(package):
            if subpackage == rest[0]:
                try:
                    importlib.import_module(f"{package}.{subpackage}")
                except ImportError:  # an optional dependency is missing
                    return None
    return _estimator_classes().get(name)
