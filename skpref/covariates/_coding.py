"""One covariate of both responses of each pair, coded for a model to use.

:func:`encode_pair_covariate` finds a covariate's values, one per response, in
what a user passes as ``covariates`` (a DataFrame, an array, or the table of
pairs whose texts a built-in covariate is computed from) and codes them: a
categorical covariate as class codes ``0..n_classes - 1`` in the order of its
sorted classes, a continuous one standardised over the responses of the pairs.
"""

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from skpref.covariates._covariates import pair_covariates
from skpref.covariates._features import BUILTIN_COVARIATES

#: Names of built-in covariates accepted besides those of ``BUILTIN_COVARIATES``.
ALIASES = {"length": "n_characters"}


@dataclass(frozen=True)
class PairCovariate:
    """A covariate of both responses of each pair, coded.

    Attributes
    ----------
    kind : {"categorical", "continuous"}
        How it is coded.
    values : ndarray of shape (n_pairs, 2), float32
        The coded value of response a and of response b of each pair.
    classes : ndarray or None
        The classes of a categorical covariate, in code order.
    mean, scale : float or None
        The standardisation of a continuous covariate.
    chance : float
        The score of a predictor without information: the share of the most
        frequent class, or the R² of predicting the mean, 0.
    """

    kind: str
    values: np.ndarray
    classes: np.ndarray | None = None
    mean: float | None = None
    scale: float | None = None
    chance: float = 0.0


def encode_pair_covariate(
    covariates,
    name,
    *,
    kind="auto",
    n_pairs=None,
    fit_rows=None,
    owner="encode_pair_covariate",
    argument="name",
):
    """Find the covariate ``name`` of both responses of each pair and code it.

    Parameters
    ----------
    covariates : DataFrame or array-like
        The columns ``<name>_a`` and ``<name>_b`` (one value per response, as
        :func:`pair_covariates` returns) or ``<name>`` (one per pair) of a
        DataFrame; a 1-d array (one value per pair) or an array of two columns
        ``[a | b]``; or the table of pairs itself (columns ``response_a`` and
        ``response_b``, or TRL's ``chosen`` and ``rejected``, read as
        :func:`pair_covariates` reads them) for a built-in covariate
        (``"length"`` is ``"n_characters"``), computed from the texts.
    name : str
        The covariate.
    kind : {"auto", "categorical", "continuous"}, default="auto"
        ``"auto"``: numbers are continuous, anything else categorical.
    n_pairs : int or None, default=None
        The number of pairs expected (that of ``X``); None: any.
    fit_rows : array-like of int or None, default=None
        The pairs whose values fix the coding (the mean and scale of a
        continuous covariate, the chance level), e.g. a model's training pairs
        among all those given; None: all. The classes of a categorical
        covariate are those of all the pairs.
    owner, argument : str
        Who asks and the argument that named the covariate, for the messages.

    Returns
    -------
    covariate : PairCovariate
        The coded values and their coding.

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.covariates import encode_pair_covariate
    >>> Z = pd.DataFrame({"length_a": [3.0, 1.0], "length_b": [1.0, 3.0]})
    >>> covariate = encode_pair_covariate(Z, "length")
    >>> covariate.kind, covariate.values.tolist()
    ('continuous', [[1.0, -1.0], [-1.0, 1.0]])
    >>> encode_pair_covariate(["a", "b"], "topic").values
    array([[0., 0.],
           [1., 1.]], dtype=float32)
    """
    values = _values(name, covariates, owner, argument)
    if n_pairs is not None and len(values) != n_pairs:
        raise ValueError(
            f"{owner} got covariates for {len(values)} pairs but X has {n_pairs} "
            "pairs; pass one row of covariates per pair, in the order of X."
        )
    if kind == "auto":
        kind = "continuous" if values.dtype.kind in "iuf" else "categorical"
    rows = slice(None) if fit_rows is None else np.asarray(fit_rows)
    if kind == "continuous":
        return _continuous(name, values, rows, owner)
    return _categorical(name, values, rows, owner)


def _values(name, covariates, owner, argument):
    """Return the covariate's values, shape (n_pairs, 2): response a, response b."""
    if isinstance(covariates, pd.DataFrame):
        columns = [str(c) for c in covariates.columns]
        if f"{name}_a" in columns and f"{name}_b" in columns:
            return _column_pair(covariates, f"{name}_a", f"{name}_b")
        if name in columns:
            return _column_pair(covariates, name, name)
        builtin = ALIASES.get(name, name)
        texts = {"response_a", "response_b"} <= set(columns) or {
            "chosen",
            "rejected",
        } <= set(columns)  # a table of pairs, or TRL's chosen / rejected frame
        if texts and builtin in BUILTIN_COVARIATES:
            Z = pair_covariates(covariates, builtin)
            return Z.to_numpy()
        stems = sorted({c[:-2] if c.endswith(("_a", "_b")) else c for c in columns})
        known = stems + (list(BUILTIN_COVARIATES) + list(ALIASES) if texts else [])
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {argument}={close[0]!r}?" if close else ""
        raise ValueError(
            f"{owner}: the covariate {name!r} is not in covariates; expected the "
            f"columns '{name}_a' and '{name}_b', or {name!r}, got the columns "
            f"{columns[:8]}.{hint}"
        )
    try:
        values = np.asarray(covariates)
    except ValueError:
        values = np.asarray(covariates, dtype=object)
    if values.ndim == 1:
        return np.column_stack([values, values])
    if values.ndim == 2 and values.shape[1] == 2:
        return values
    raise ValueError(
        f"{owner} expects covariates as one value per pair (shape (n_pairs,)) or "
        f"one per response (shape (n_pairs, 2), [a | b]); got shape {values.shape}."
        " Pass a DataFrame to choose a column by name."
    )


def _column_pair(frame, a, b):
    if any(isinstance(frame[c].dtype, pd.CategoricalDtype) for c in (a, b)):
        return np.column_stack([frame[a].astype(object), frame[b].astype(object)])
    return np.column_stack([frame[a].to_numpy(), frame[b].to_numpy()])


def _continuous(name, values, rows, owner):
    try:
        values = values.astype(np.float64)
    except (TypeError, ValueError):
        example = values[:1, 0].tolist()[0]
        raise ValueError(
            f"{owner} measures a numeric covariate (a length, a count): a "
            f"continuous covariate needs numbers, but the covariate {name!r} holds "
            f"values such as {example!r}. Code it as numbers (e.g. 0 and 1 for two "
            "classes), or as categorical where categories are taken (the "
            "adversary's adversary_type='categorical')."
        ) from None
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad.any(1))[0])
        raise ValueError(
            f"{owner}: the covariate {name!r} is NaN or infinite for pair {row}; "
            "fill it or drop the pair."
        )
    mean, scale = float(values[rows].mean()), float(values[rows].std())
    if not scale > 1e-12 * max(1.0, abs(mean)):
        raise ValueError(
            f"{owner}: the covariate {name!r} is constant ({mean:g}) over the "
            "pairs, so there is nothing to learn from it; drop it."
        )
    side = ((values - mean) / scale).astype(np.float32)
    return PairCovariate("continuous", side, mean=mean, scale=scale, chance=0.0)


def _categorical(name, values, rows, owner):
    missing = pd.isna(values)
    if missing.any():
        row = int(np.flatnonzero(missing.any(1))[0])
        raise ValueError(
            f"{owner}: the covariate {name!r} is missing (NaN) for pair {row}; "
            "fill it or drop the pair."
        )
    try:
        classes, codes = np.unique(values.ravel(), return_inverse=True)
    except TypeError:
        raise ValueError(
            f"{owner}: the categorical covariate {name!r} mixes kinds of values "
            "that cannot be ordered (e.g. numbers and strings); give it one kind."
        ) from None
    side = codes.reshape(values.shape)
    fitted = np.unique(side[rows])
    if fitted.size < 2:
        raise ValueError(
            f"{owner}: the categorical covariate {name!r} takes the single value "
            f"{classes[fitted[:1]].tolist()[0]!r} on the pairs, so there is "
            "nothing to learn from it; drop it."
        )
    chance = float(np.bincount(side[rows].ravel()).max() / side[rows].size)
    side = side.astype(np.float32)
    return PairCovariate("categorical", side, classes=classes, chance=chance)
