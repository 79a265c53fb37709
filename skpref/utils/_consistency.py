"""Objective and prompt type of each pair in one coding: which pairs are consistent.

A pair is *consistent* when the objective of its labeller equals the type of its
prompt (section 4 of the paper). Both may come as objective names ("helpful"), as
integer ids, or as pandas ``Categorical`` columns; they are compared only after
mapping both to ids with one coding (:func:`~skpref.utils.objective_coding`), so
names are never compared with ids by accident.
"""

import difflib
from numbers import Integral

import numpy as np
import pandas as pd

from skpref.utils._objectives import (
    _MAX_OBJECTIVE_ID,
    _is_names,
    check_objective_categories,
    check_objective_ids,
    encode_objectives,
)
from skpref.utils._validation import Interval, StrOptions, validate_params

__all__ = ["encode_objective_and_prompt_type"]


def _as_series(values, name, owner):
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    if isinstance(values, pd.Categorical | pd.Index):
        return pd.Series(values)
    array = np.asarray(values, dtype=object if _has_text(values) else None)
    if array.ndim != 1:
        raise ValueError(
            f"{owner} expects {name} of shape (n_pairs,), one value per pair; got "
            f"shape {array.shape}."
        )
    return pd.Series(array)


def _has_text(values):
    return isinstance(values, list | tuple) and any(isinstance(v, str) for v in values)


def _shared_coding(objective, prompt_type, categories, names, owner):
    coding, source = None, None
    if categories is not None:
        coding = check_objective_categories(categories, owner=owner)
        source = "objective_categories"
    for values, name in zip((objective, prompt_type), names, strict=True):
        if not isinstance(values.dtype, pd.CategoricalDtype):
            continue
        own = check_objective_categories(
            values.cat.categories, owner=owner, argument=f"the categories of {name}"
        )
        if coding is None:
            coding, source = own, f"the categories of {name}"
        elif own.tolist() != coding.tolist():
            raise ValueError(
                f"{owner}: the categories of the Categorical {name}, {own.tolist()}, "
                f"disagree with {source}, {coding.tolist()}. Use one coding for both, "
                "e.g. series.cat.set_categories(objective_categories)."
            )
    if coding is not None:
        return coding, source
    as_names = [_is_names(objective), _is_names(prompt_type)]
    if all(as_names):
        coding = check_objective_categories(
            sorted(objective.astype(object).unique(), key=str),
            owner=owner,
            argument=f"the names in {names[0]}",
        )
        _check_prompt_names_seen(prompt_type, coding, names, owner)
        return coding, f"the names in {names[0]}"
    if any(as_names):
        which = names[0] if as_names[0] else names[1]
        other = names[1] if as_names[0] else names[0]
        raise ValueError(
            f"{owner}: {which} holds objective names but {other} holds integer ids; "
            "pass objective_categories (the names in id order, e.g. "
            "skpref.datasets.OBJECTIVES) so that names and ids can be compared, or "
            "give both as names."
        )
    return None, None


def _check_prompt_names_seen(prompt_type, coding, names, owner):
    """Refuse a prompt type named after no objective seen (no coding was given)."""
    unknown = sorted(set(prompt_type.astype(object)) - set(coding), key=str)
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), coding.tolist(), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"{owner}: {names[1]} holds {unknown[0]!r}, which is not among the "
            f"objectives in {names[0]}, {coding.tolist()}.{hint} If it is an "
            "objective these pairs lack, pass objective_categories with every "
            "objective name (e.g. skpref.datasets.OBJECTIVES)."
        )


def _check_declared(n_objectives, coding, source, owner):
    """Refuse an ``n_objectives`` that disagrees with the coding of the names."""
    if isinstance(n_objectives, Integral) and n_objectives != len(coding):
        raise ValueError(
            f"{owner} got n_objectives={n_objectives} but {source} list "
            f"{len(coding)} objectives {coding.tolist()}; give one of them, or make "
            "them agree."
        )


def _encode_prompt_ids(prompt_type, n_objectives, coding, name, owner):
    """Return integer prompt-type ids in ``0..n_objectives - 1`` (None: any id)."""
    values = prompt_type.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{owner}: {name} contains NaN or inf.")
    ids = np.rint(values)
    if coding is not None:
        known = f"the objectives {coding.tolist()}"
    elif n_objectives is not None:
        known = f"the objective ids 0..{n_objectives - 1}"
    else:
        known = "the objective ids (non-negative integers)"
    if np.any(ids != values):
        raise ValueError(
            f"{owner}: {name} holds the non-integer value "
            f"{float(values[ids != values][0])!r}; a prompt type is one of "
            f"{known}, as an integer id or by name."
        )
    if n_objectives is None:
        outside = (ids < 0) | (ids > _MAX_OBJECTIVE_ID)
        if np.any(outside):
            raise ValueError(
                f"{owner}: {name} holds the id {ids[outside][0]:.6g}, which numbers "
                f"no objective: a prompt type must be one of {known}. Code prompt "
                "types like the objectives."
            )
        return ids.astype(np.int64)
    outside = (ids < 0) | (ids >= n_objectives)
    if np.any(outside):
        raise ValueError(
            f"{owner}: {name} holds the id {int(ids[outside][0])}, outside the "
            f"objective coding 0..{n_objectives - 1}: a prompt type must be one of "
            f"{known}. Code prompt types like the objectives."
        )
    return ids.astype(np.int64)


@validate_params(
    {
        "n_objectives": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"from_objective"}),
            None,
        ]
    },
    prefer_skip_nested_validation=True,
)
def encode_objective_and_prompt_type(
    objective,
    prompt_type,
    objective_categories=None,
    *,
    n_objectives="from_objective",
    owner,
    names=("objective", "prompt_type"),
):
    """Map each pair's objective and prompt type to ids of one coding.

    The coding is, in this order: ``objective_categories``; the categories of a
    pandas ``Categorical`` objective or prompt type (two Categoricals must agree);
    the sorted objective names when both hold names (every prompt type must then
    be one of them). Integer ids are taken as they are, within ``n_objectives``.
    Names mixed with ids need one of the first two, since the order of the names
    is the only link between a name and an id.

    Parameters
    ----------
    objective : array-like of shape (n_pairs,)
        Objective of each pair's labeller: names, integer ids or a Categorical.
    prompt_type : array-like of shape (n_pairs,)
        Prompt type of each pair, in the same kinds of values.
    objective_categories : array-like of str or None, default=None
        Objective names in id order.
    n_objectives : int, "from_objective" or None, default="from_objective"
        Number of objectives ``K`` when both come as integer ids: the ids of
        both must lie in ``0..K-1``. ``"from_objective"``: one more than the
        largest objective id, for callers that hold the whole data set. None:
        any non-negative id, for callers that see a subset of the pairs (a pool
        that shrinks), whose largest objective id is no bound on a prompt type.
        A coding by names fixes ``K`` itself; an int must then agree with it.
    owner : str
        Name used in error messages.
    names : tuple of two str, default=("objective", "prompt_type")
        What ``objective`` and ``prompt_type`` are called in error messages.

    Returns
    -------
    objective_ids : ndarray of shape (n_pairs,), dtype int64
    prompt_type_ids : ndarray of shape (n_pairs,), dtype int64
    coding : ndarray of str or None
        The names in id order; None when both came as ids.

    Raises
    ------
    ValueError
        If the lengths differ, a name is unknown, names are mixed with ids without
        a coding, two codings disagree, ``n_objectives`` disagrees with the
        coding, or an id lies outside the objective coding.

    Examples
    --------
    >>> from skpref.utils import encode_objective_and_prompt_type
    >>> obj, pt, coding = encode_objective_and_prompt_type(
    ...     [0, 1, 1], ["helpful", "helpful", "harmless"],
    ...     objective_categories=["helpful", "harmless"], owner="demo")
    >>> (obj == pt).tolist()
    [True, False, True]

    Pairs that all come from one objective may still have prompts of another
    type; with ``n_objectives=None`` (or the number of objectives) the prompt
    type 1 is an objective id even though no pair has objective 1:

    >>> obj, pt, _ = encode_objective_and_prompt_type(
    ...     [0, 0], [0, 1], n_objectives=None, owner="demo")
    >>> (obj == pt).tolist()
    [True, False]
    """
    objective = _as_series(objective, names[0], owner)
    prompt_type = _as_series(prompt_type, names[1], owner)
    if len(objective) != len(prompt_type):
        raise ValueError(
            f"{owner}: {names[1]} has {len(prompt_type)} entries but there are "
            f"{len(objective)} pairs; give one {names[1]} per pair."
        )
    coding, source = _shared_coding(
        objective, prompt_type, objective_categories, names, owner
    )
    if coding is not None:
        _check_declared(n_objectives, coding, source, owner)
    objective_ids = encode_objectives(objective, coding, owner=owner, argument=names[0])
    if coding is None and isinstance(n_objectives, Integral):
        check_objective_ids(
            objective_ids, n_objectives=n_objectives, owner=owner, argument=names[0]
        )
    if _is_names(prompt_type) and len(prompt_type):
        prompt_ids = encode_objectives(
            prompt_type, coding, owner=owner, argument=names[1]
        )
    else:
        if isinstance(prompt_type.dtype, pd.CategoricalDtype):
            prompt_type = prompt_type.astype(object)
        if coding is not None:
            n_objectives = len(coding)
        elif isinstance(n_objectives, str):
            n_objectives = int(objective_ids.max(initial=-1)) + 1
        prompt_ids = _encode_prompt_ids(
            prompt_type, n_objectives, coding, names[1], owner
        )
    return objective_ids, prompt_ids, coding
