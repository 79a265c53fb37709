"""The concept to erase, in any of its forms, as one matrix over the responses."""

import numpy as np
import pandas as pd

from skpref.utils import pair_column_stems

__all__ = ["response_concept"]


#: What pandas infers for columns of numbers, whatever their dtype: an object
#: column of ints (a frame built with dtype=object) or pandas' nullable Int64.
_NUMBERS = {"integer", "floating", "mixed-integer-float", "decimal"}


def _is_categorical(sides, concept_type):
    """Whether a concept read by "auto" is categories: unless both sides hold numbers.

    Judged by the values, not the dtype: an object column of lengths one-hot
    encoded would give each length a direction to erase, and the eraser would
    remove as many directions as there are lengths.
    """
    if concept_type != "auto":
        return concept_type == "categorical"
    return any(
        isinstance(getattr(side, "dtype", None), pd.CategoricalDtype)
        or pd.api.types.infer_dtype(side, skipna=True) not in _NUMBERS
        for side in sides
    )


def _encode(values, categorical, name, owner):
    """One concept over all responses: one-hot columns, or one numeric column."""
    if categorical:
        values = pd.Series(np.asarray(values, dtype=object))
        if values.isna().any():
            raise ValueError(
                f"{owner}: the concept {name!r} has a missing value; give every "
                "response a category."
            )
        codes, _ = pd.factorize(values)
        return np.eye(codes.max() + 1)[codes]
    # pd.to_numeric: a missing value of an object or nullable column becomes NaN
    values = pd.to_numeric(pd.Series(values)).to_numpy(np.float64, na_value=np.nan)
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"{owner}: the concept {name!r} holds NaN or inf; give every response "
            "a finite value."
        )
    return values[:, None]


def response_concept(concept, n_pairs, *, concept_type, objective, owner):
    """Return the concept as a matrix with one row per response, ``[a rows; b rows]``.

    Parameters
    ----------
    concept : array-like, DataFrame or None
        ``(n_pairs,)`` or one column: a value per pair, shared by its two
        responses (a prompt type, an objective). ``(n_pairs, 2 * k)``, or a
        DataFrame with columns ``<name>_a ... <name>_b``: ``k`` values per
        response, ``[c_a | c_b]`` (a length). ``None``: the objective ids.
    n_pairs : int
    concept_type : {"auto", "continuous", "categorical"}
        "auto": numbers are continuous, anything else (strings, booleans,
        Categoricals) categorical.
    objective : ndarray of int or None
        The objective column of ``X``, if it has one.
    owner : str

    Returns
    -------
    Z : ndarray of shape (2 * n_pairs, n_concept_columns)
        Numeric columns, and one-hot columns for categorical concepts.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.preprocessing._concepts import response_concept
    >>> response_concept(np.array([[3, 1], [5, 2]]), 2, concept_type="auto",
    ...                  objective=None, owner="demo").ravel().tolist()
    [3.0, 5.0, 1.0, 2.0]
    """
    if concept is None:
        if objective is None:
            raise ValueError(
                f"{owner}.fit needs the concept to erase: pass fit(X, y, "
                "concept=...), e.g. the lengths [length_a | length_b] of the "
                "responses, or set with_objective=True to erase the objective "
                "column of X."
            )
        concept, concept_type = objective, "categorical"
    names = None
    if isinstance(concept, pd.DataFrame):
        names = pair_column_stems(concept.columns, owner=owner, argument="concept")
        columns = [concept.iloc[:, j] for j in range(concept.shape[1])]
    else:
        array = np.asarray(concept)
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2:
            raise ValueError(
                f"{owner} expects concept of shape (n_pairs,) or (n_pairs, "
                f"2 * k); got shape {array.shape}."
            )
        columns = [array[:, j] for j in range(array.shape[1])]
    if not columns or len(columns[0]) != n_pairs:
        raise ValueError(
            f"{owner} expects one concept row per pair of X ({n_pairs}); got "
            f"{len(columns[0]) if columns else 0}."
        )
    if len(columns) % 2 and len(columns) != 1:
        raise ValueError(
            f"{owner} expects concept as one value per pair (1 column) or one per "
            f"response, [c_a | c_b] (an even number of columns); got "
            f"{len(columns)} columns."
        )
    half = max(len(columns) // 2, 1)
    encoded = []
    for j in range(half):
        side_a, side_b = columns[j], columns[j + half if len(columns) > 1 else j]
        name = names[j] if names else ("concept" if half == 1 else f"column {j}")
        values = np.concatenate([np.asarray(side_a), np.asarray(side_b)])
        categorical = _is_categorical((side_a, side_b), concept_type)
        encoded.append(_encode(values, categorical, name, owner))
    Z = np.hstack(encoded)
    constant = _constant_columns(Z)
    if np.all(constant):
        raise ValueError(
            f"{owner}: the concept takes a single value over all responses (up to "
            "rounding), so there is nothing to erase; pass a concept that varies."
        )
    # exact zeros: a column constant up to rounding would otherwise lend its
    # rounding noise a direction to erase
    Z[:, constant] = 0.0
    return Z


#: Spread, relative to a column's magnitude, that rounding alone can make.
_ROUNDING = 64 * np.finfo(np.float64).eps


def _constant_columns(Z):
    """Which columns of ``Z`` are constant up to rounding, relative to their size."""
    spread = Z.max(axis=0) - Z.min(axis=0)
    return spread <= _ROUNDING * np.abs(Z).max(axis=0)
