"""One coding of objective names to ids, shared by every component.

A multi-objective pair carries the objective ``c`` of its labeller as an integer id
``0..K-1`` (the pair contract). Where objectives come as names ("helpful",
"harmless"), the names map to ids exactly once, by a *coding*: the ordered list of
names, id ``k`` being ``coding[k]``. The coding comes from, in this order:

1. an explicit ``objective_categories`` argument;
2. the categories of a pandas ``Categorical`` column (what the loaders and
   :func:`skpref.datasets.preference_pairs` return, so a subset of their frame keeps
   the coding of the whole);
3. otherwise the sorted distinct names seen when fitting.

Once fitted, a component encodes by name with its fitted coding and never re-sorts:
a frame holding only one of the names, or the names in another order, gets the same
ids. An unknown name, or a coding that disagrees with the one already in force, is
an error.
"""

import difflib
from collections.abc import KeysView
from collections.abc import Set as AbstractSet

import numpy as np
import pandas as pd

__all__ = [
    "check_objective_categories",
    "check_objective_ids",
    "encode_objectives",
    "n_objectives",
    "objective_coding",
    "objective_from_columns",
    "objective_names",
]

# Ids above this are a wrong column, not objectives; it also keeps the cast to int64
# exact (float64 holds every integer up to 2**53).
_MAX_OBJECTIVE_ID = 2**31 - 1


def check_objective_ids(objective, *, n_objectives=None, owner, argument=None):
    """Check an objective column and return it as an integer array.

    Parameters
    ----------
    objective : array-like of shape (n_samples,)
        Objective ids, floats allowed if they are whole numbers.
    n_objectives : int or None, default=None
        If given, ids must lie in ``0..n_objectives - 1``.
    owner : str
        Name used in the error message.
    argument : str or None, default=None
        What holds the ids, named in the error message (e.g. ``"column
        'objective'"``). None: the last column of X of an estimator, and
        ``n_objectives`` is the number it was fitted with.

    Returns
    -------
    ids : ndarray of shape (n_samples,), dtype int64

    Examples
    --------
    >>> check_objective_ids([0.0, 1.0, 1.0], n_objectives=2, owner="m")
    array([0, 1, 1])
    """
    where = "the last column of X" if argument is None else argument
    objective = np.asarray(objective, dtype=np.float64)
    if objective.size and not np.all(np.isfinite(objective)):
        holder = "the objective column" if argument is None else argument
        raise ValueError(f"{owner}: {holder} contains NaN or inf.")
    ids = np.rint(objective)
    if np.any(ids != objective):
        bad = objective[ids != objective][0]
        raise ValueError(
            f"{owner} expects {where} to hold integer objective ids "
            f"0..K-1; got the non-integer value {float(bad)!r}."
        )
    in_where = "" if argument is None else f" in {argument}"
    if np.any(ids < 0):
        raise ValueError(
            f"{owner} expects objective ids 0..K-1{in_where}; got the negative id "
            f"{int(ids.min())}."
        )
    if ids.size and ids.max() > _MAX_OBJECTIVE_ID:
        raise ValueError(
            f"{owner} expects objective ids 0..K-1{in_where}; got the id "
            f"{ids.max():.6g}, too large to number an objective. Does {where} "
            "really hold objective ids?"
        )
    if n_objectives is not None and ids.size and ids.max() >= n_objectives:
        if argument is None:
            raise ValueError(
                f"{owner} was fitted with {n_objectives} objectives (ids "
                f"0..{n_objectives - 1}); got the objective id {int(ids.max())}."
            )
        raise ValueError(
            f"{owner}: {argument} holds the objective id {int(ids.max())}, outside "
            f"the objective coding in force (ids 0..{n_objectives - 1}, "
            f"{n_objectives} objectives). Use ids 0..{n_objectives - 1}, or a "
            "coding with more objectives."
        )
    return ids.astype(np.int64)


def check_objective_categories(categories, *, owner, argument="objective_categories"):
    """Check an ordered list of objective names and return it as an array.

    Parameters
    ----------
    categories : array-like of str
        Objective names in id order: id ``k`` is ``categories[k]``.
    owner : str
        Name used in error messages.
    argument : str, default="objective_categories"
        Name of the parameter, used in error messages.

    Returns
    -------
    categories : ndarray of shape (n_objectives,), dtype object

    Raises
    ------
    ValueError
        If the list is empty, not one-dimensional, holds something other than
        non-empty strings, or repeats a name, or is a set (unordered).

    Examples
    --------
    >>> check_objective_categories(["helpful", "harmless"], owner="m")
    array(['helpful', 'harmless'], dtype=object)
    """
    if isinstance(categories, str):
        raise ValueError(
            f"{owner}: {argument} must be a list of objective names; got the single "
            f"string {categories!r}. Write [{categories!r}]."
        )
    if isinstance(categories, AbstractSet) and not isinstance(categories, KeysView):
        # a set's order depends on the process (PYTHONHASHSEED): fit and serve, or
        # two workers, would give the same name different ids
        raise ValueError(
            f"{owner}: {argument} must be an ordered list of objective names (id k "
            f"is the k-th name); got a {type(categories).__name__}, whose order "
            f"changes between processes. Write {sorted(map(str, categories))!r} or "
            "the order you mean."
        )
    values = pd.Index(categories).to_numpy(dtype=object)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"{owner}: {argument} must be a non-empty list of objective names; got "
            f"{list(np.ravel(values))!r}."
        )
    not_names = [v for v in values if not isinstance(v, str) or not v]
    if not_names:
        raise ValueError(
            f"{owner}: {argument} must hold non-empty strings (objective names); "
            f"got {not_names[0]!r}. Integer objective ids need no categories."
        )
    names, counts = np.unique(values.astype(str), return_counts=True)
    if np.any(counts > 1):
        raise ValueError(
            f"{owner}: {argument} lists {str(names[counts > 1][0])!r} more than once; "
            f"each objective name must appear once (got {values.tolist()})."
        )
    return values


def objective_names(categories, declared, *, owner):
    """Return ``(objective_categories_, K)`` from the two parameters that fix K.

    The names are the pipeline's objective coding (id ``k`` is ``categories[k]``);
    they fix K, and ``n_objectives``, when also given, must agree.

    Parameters
    ----------
    categories : array-like of str or None
        An estimator's ``objective_categories``: objective names in id order.
    declared : int or None
        An estimator's ``n_objectives``.
    owner : str
        Name used in error messages.

    Returns
    -------
    names : ndarray of shape (K,), dtype object, or None
        The checked names; None when ``categories`` is None.
    n_objectives : int or None
        ``K``: the number of names, else ``declared``.

    Raises
    ------
    ValueError
        If the names are malformed (see :func:`check_objective_categories`) or
        their number disagrees with ``declared``.

    Examples
    --------
    >>> names, k = objective_names(["helpful", "harmless"], None, owner="m")
    >>> names.tolist(), k
    (['helpful', 'harmless'], 2)
    >>> objective_names(None, 3, owner="m")
    (None, 3)
    """
    if categories is None:
        return None, declared
    names = check_objective_categories(categories, owner=owner)
    if declared is not None and declared != names.size:
        raise ValueError(
            f"{owner} got n_objectives={declared} but {names.size} "
            f"objective_categories {names.tolist()}; give one of them, or make "
            "them agree."
        )
    return names, names.size


def n_objectives(ids, declared, *, owner, declared_by=None):
    """Return K: ``declared``, else the number of ids seen, which must be 0..K-1.

    Inferring K from the largest id would let one stray id (99,999) build 100,000
    heads; requiring the ids seen to be exactly ``0..K-1`` catches it instead.

    Parameters
    ----------
    ids : ndarray of shape (n_pairs,) of int
        The objective ids of the training pairs (at least one), as returned by
        :func:`check_objective_ids`.
    declared : int or None
        The number of objectives the estimator was given (``n_objectives``), or
        None to infer it from ``ids``.
    owner : str
        Name used in error messages.
    declared_by : str or None, default=None
        What declared K, for the error message; None: ``"n_objectives=K"``.

    Returns
    -------
    n_objectives : int

    Raises
    ------
    ValueError
        If an id is ``declared`` or more, or, with nothing declared, an id in
        ``0..max(ids)`` is missing.

    Examples
    --------
    >>> import numpy as np
    >>> n_objectives(np.array([1, 0, 1]), None, owner="m")
    2
    >>> n_objectives(np.array([0, 0]), 3, owner="m")
    3
    """
    seen = np.unique(ids)
    if declared is not None:
        if seen[-1] >= declared:
            given = declared_by or f"n_objectives={declared}"
            raise ValueError(
                f"{owner} got {given}, so objective ids must be "
                f"0..{declared - 1}; the objective column holds the id "
                f"{int(seen[-1])}. Declare every objective or renumber the ids."
            )
        return int(declared)
    if seen[-1] != seen.size - 1:
        missing = sorted(set(range(seen.size)) - set(seen.tolist()))[:5]
        shown = seen.tolist() if seen.size <= 6 else [*seen[:5].tolist(), "..."]
        raise ValueError(
            f"{owner} expects objective ids 0..K-1 with none missing; the "
            f"objective column holds the ids {shown} (largest {int(seen[-1])}), "
            f"so {missing} are absent. Renumber the ids, or set n_objectives if "
            "some objectives are absent from the training pairs."
        )
    return int(seen.size)


def _is_names(values):
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    # an object column may still hold only numbers (a frame built with
    # dtype=object): those are ids, not names
    kind = pd.api.types.infer_dtype(values, skipna=False)
    return kind not in {"integer", "floating", "mixed-integer-float", "boolean"}


def objective_coding(values, categories=None, *, owner, argument="objective"):
    """Return the coding of an objective column: names in id order, or None.

    Parameters
    ----------
    values : array-like of shape (n_pairs,)
        Objective names (str or a pandas ``Categorical``) or integer ids.
    categories : array-like of str or None, default=None
        An explicit coding. It must agree with the categories of a ``Categorical``
        ``values``.
    owner : str
        Name used in error messages.
    argument : str, default="objective"
        What ``values`` is called in error messages.

    Returns
    -------
    coding : ndarray of str, dtype object, or None
        None when ``values`` holds integer ids and no ``categories`` were given.

    Raises
    ------
    ValueError
        If ``categories`` is malformed or disagrees with a ``Categorical``'s
        categories.

    Examples
    --------
    >>> import pandas as pd
    >>> names = pd.Categorical(["harmless"], categories=["helpful", "harmless"])
    >>> objective_coding(names, owner="m").tolist()
    ['helpful', 'harmless']
    >>> objective_coding(["b", "a", "b"], owner="m").tolist()
    ['a', 'b']
    >>> objective_coding([0, 1, 1], owner="m") is None
    True
    """
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    if categories is not None:
        categories = check_objective_categories(categories, owner=owner)
    if isinstance(series.dtype, pd.CategoricalDtype):
        own = check_objective_categories(
            series.cat.categories, owner=owner, argument=f"the categories of {argument}"
        )
        if categories is not None and own.tolist() != categories.tolist():
            raise ValueError(
                f"{owner}: objective_categories={categories.tolist()} disagrees with "
                f"the categories of the Categorical {argument}, {own.tolist()}. Pass "
                "one coding: drop objective_categories, or recode the column with "
                "series.cat.set_categories(objective_categories)."
            )
        return own
    if categories is not None:
        return categories
    if series.empty or not _is_names(series):
        return None
    return check_objective_categories(
        sorted(series.unique(), key=str),
        owner=owner,
        argument=f"the names in {argument}",
    )


def encode_objectives(values, coding, *, owner, argument="objective"):
    """Map objective names (or ids) to integer ids ``0..K-1`` under ``coding``.

    Names are encoded by name, never by position in ``values``; integer ids are
    checked against the coding's length.

    Parameters
    ----------
    values : array-like of shape (n_pairs,)
        Objective names or integer ids.
    coding : ndarray of str or None
        Names in id order (see :func:`objective_coding`); None accepts integer ids
        only.
    owner : str
        Name used in error messages.
    argument : str, default="objective"
        What ``values`` is called in error messages.

    Returns
    -------
    ids : ndarray of shape (n_pairs,), dtype int64

    Raises
    ------
    ValueError
        For a name outside the coding (with the closest known name), names where
        only ids are known, ids past the coding's length, or a ``Categorical``
        whose categories disagree with ``coding``.

    Examples
    --------
    >>> encode_objectives(["harmless"], ["helpful", "harmless"], owner="m")
    array([1])
    >>> encode_objectives(["harmles"], ["helpful", "harmless"], owner="m")
    Traceback (most recent call last):
    ...
    ValueError: m: the objective 'harmles' in objective is not one of the known \
objectives ['helpful', 'harmless']. Did you mean 'harmless'?
    """
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    if isinstance(series.dtype, pd.CategoricalDtype):
        own = [str(c) for c in series.cat.categories]
        if coding is not None and own != [str(c) for c in coding]:
            raise ValueError(
                f"{owner}: {argument} is a Categorical coded {own}, but the coding "
                f"in force is {list(coding)}; the same names would get other ids. "
                "Recode it with series.cat.set_categories(<the coding in force>), "
                "or refit on this coding."
            )
        series = series.astype(object)
    if series.empty:
        return np.zeros(0, dtype=np.int64)
    if not _is_names(series):
        n = None if coding is None else len(coding)
        return check_objective_ids(
            series.to_numpy(), n_objectives=n, owner=owner, argument=argument
        )
    if coding is None:
        example = series.iloc[0]
        raise ValueError(
            f"{owner}: {argument} holds objective names such as {example!r}, but "
            "this component was fitted on integer objective ids. Pass the ids, or "
            "refit it on names (with objective_categories to fix their order)."
        )
    coding = list(coding)
    lookup = {name: i for i, name in enumerate(coding)}
    ids = series.map(lookup)
    unknown = series[ids.isna()]
    if len(unknown):
        name = unknown.iloc[0]
        close = difflib.get_close_matches(str(name), [str(c) for c in coding], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"{owner}: the objective {name!r} in {argument} is not one of the known "
            f"objectives {coding}.{hint}"
        )
    return ids.to_numpy(dtype=np.int64)


def objective_from_columns(objective, column, columns, *, owner, pipeline):
    """Return a reward call's objective: as given, else its dataset column's values.

    RL trainers (TRL's ``reward_funcs``) pass the dataset's columns as keyword
    arguments: a multi-objective pipeline (``column`` not None) called without an
    ``objective`` reads its objective column among them.

    Parameters
    ----------
    objective : object or None
        The objective given to the reward function; returned when not None.
    column : str or None
        The pipeline's objective column; None for a single-objective pipeline.
    columns : dict
        The keyword arguments of the call.
    owner, pipeline : str
        Who asks (the function that takes ``objective=``) and what its pipeline
        is called, for the message.

    Returns
    -------
    objective : object or None
        The objective, or the column's value: a single name or id (a string or
        a scalar, NumPy's included) as given, one for all completions, else its
        values as a list, one per completion.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.utils import objective_from_columns
    >>> objective_from_columns(None, "objective", {"objective": ("helpful", 1)},
    ...                        owner="f", pipeline="pipeline")
    ['helpful', 1]
    >>> objective_from_columns(None, "objective", {"objective": "helpful"},
    ...                        owner="f", pipeline="pipeline")
    'helpful'
    >>> objective_from_columns(None, "objective", {"objective": np.int64(1)},
    ...                        owner="f", pipeline="pipeline")
    np.int64(1)
    """
    if objective is not None or column is None:
        return objective
    if column not in columns:
        raise ValueError(
            f"{owner}: the {pipeline} is multi-objective; pass objective= to "
            f"{owner}, or give the dataset a column {column!r} (RL trainers pass "
            "dataset columns as keyword arguments); got the keyword arguments "
            f"{sorted(columns)}."
        )
    values = columns[column]
    if isinstance(values, str) or np.ndim(values) == 0:
        return values  # one for all
    return list(values)
