"""Checks of the AMCE's inputs: outcomes, varying factors and their names, clusters."""

import difflib
import numbers

import numpy as np
import pandas as pd

from skpref.utils import check_both_labels, check_pair_labels, pair_column_stems

__all__ = [
    "check_factors",
    "check_identified",
    "check_steps",
    "check_outcome",
    "cluster_ids",
    "factor_names_from_columns",
    "subset_labels",
]


def check_factors(Z_pairs, n_factors, factor_names, *, owner):
    """Check factors that vary within pairs; return their names and which are 0/1.

    A factor whose values are all 0 or 1 is binary; any other finite values make
    it continuous.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.causal._amce_checks import check_factors
    >>> names, binary = check_factors(
    ...     np.array([[1, 0.5, 0, 2.0], [0, 1.0, 1, 3.0]]), 2, None, owner="demo")
    >>> names, binary.tolist()
    (['factor_0', 'factor_1'], [True, False])
    """
    names = factor_names
    if names is None:
        names = [f"factor_{k}" for k in range(n_factors)]
    if len(names) != n_factors:
        raise ValueError(
            f"{owner} got {len(names)} factor_names for {n_factors} factors "
            f"(Z_pairs has {2 * n_factors} columns); give one name per factor."
        )
    names = [str(name) for name in names]
    responses = np.vstack([Z_pairs[:, :n_factors], Z_pairs[:, n_factors:]])
    binary = np.all((responses == 0) | (responses == 1), axis=0)
    varies = np.any(Z_pairs[:, :n_factors] != Z_pairs[:, n_factors:], axis=0)
    if not varies.all():
        k = int(np.flatnonzero(~varies)[0])
        raise ValueError(
            f"{owner}: factor {names[k]!r} never differs between the two "
            "responses of a pair, so its effect is not identified (latent "
            "positivity, Assumption 5, fails). Drop it or collect pairs that vary "
            "it."
        )
    return names, binary


def check_identified(design, names, *, owner):
    """Raise a ValueError where the BTL reward's coefficients are not identified.

    ``design`` holds the within-pair differences of the reward features, one
    column per name. Columns that are linearly dependent (one factor
    proportional to another, or the sum of others, within every pair) leave a
    direction no pair informs: Newton's method would run along it to an
    arbitrary split of their effects, with spuriously tiny standard errors.
    The tolerance is :func:`numpy.linalg.matrix_rank`'s, times 100 for the
    rounding of derived factors (a length in characters and in words / 4.3).

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.causal._amce_checks import check_identified
    >>> check_identified(np.array([[1.0, 2.0], [3.0, 1.0]]), ["x", "y"], owner="demo")
    """
    if design.size == 0:
        return
    _, singular, vt = np.linalg.svd(design, full_matrices=False)
    tol = 100 * singular[0] * max(design.shape) * np.finfo(design.dtype).eps
    if singular[-1] > tol:
        return
    null = np.abs(vt[-1])
    tied = [name for name, weight in zip(names, null, strict=True) if weight > 0.05]
    raise ValueError(
        f"{owner}: the effects of {', '.join(map(repr, tied))} are not identified: "
        "their differences within a pair are linearly dependent in these data (one "
        "proportional to another, or the sum of others), so no pair separates "
        "their effects (latent positivity, Assumption 5, fails for them jointly). "
        "Drop one of them, or collect pairs that vary them independently."
    )


def factor_names_from_columns(Z_pairs, factor_names, *, owner):
    """Read the factor names of a DataFrame with ``<name>_a ... <name>_b`` columns.

    ``factor_names``, when given, wins; the columns' layout is checked either way
    when they follow the naming, so that ``x_a, x_b, y_a, y_b`` is refused
    rather than misread.

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.causal._amce_checks import factor_names_from_columns
    >>> Z = pd.DataFrame(columns=["len_a", "polite_a", "len_b", "polite_b"])
    >>> factor_names_from_columns(Z, None, owner="demo")
    ['len', 'polite']
    """
    if not hasattr(Z_pairs, "columns"):
        return factor_names
    stems = pair_column_stems(Z_pairs.columns, owner=owner)
    return stems if factor_names is None else factor_names


def check_outcome(y, *, user_estimator, owner):
    """Return pair outcomes as float64 and whether they are soft (in [0, 1]).

    Soft outcomes (the share of annotators preferring a, or a reward model's
    ``predict_proba(X)[:, 1]``) are fitted by the built-in model only.

    Examples
    --------
    >>> from skpref.causal._amce_checks import check_outcome
    >>> y, soft = check_outcome([0.2, 0.9], user_estimator=False, owner="demo")
    >>> y.tolist(), soft
    ([0.2, 0.9], True)
    """
    y = check_pair_labels(y, owner=owner, allow_soft=True)
    soft = y.dtype.kind == "f"
    if soft and user_estimator:
        raise ValueError(
            f"{owner}: soft outcomes y in [0, 1] (such as a reward model's "
            "predict_proba(X)[:, 1]) are fitted by the built-in BTL model only; "
            "pass estimator=None, or hard labels y in {0, 1}."
        )
    if not soft:
        check_both_labels(y, owner=owner)
    return y.astype(np.float64), soft


def cluster_ids(groups, n_pairs, *, owner):
    """Return each pair's cluster as ``0..G-1``; every pair its own without groups.

    A missing id (None or NaN) is refused: it would put all pairs missing one
    into a single cluster.

    Examples
    --------
    >>> from skpref.causal._amce_checks import cluster_ids
    >>> cluster_ids(["x", "y", "x"], 3, owner="demo").tolist()
    [0, 1, 0]
    """
    if groups is None:
        return np.arange(n_pairs)
    groups = np.asarray(groups)
    if groups.shape != (n_pairs,):
        raise ValueError(
            f"{owner} expects groups of shape ({n_pairs},), one cluster id per "
            f"pair; got shape {groups.shape}."
        )
    if pd.isna(groups).any():
        raise ValueError(
            f"{owner}: groups holds a missing cluster id (None or NaN) for pair "
            f"{int(np.flatnonzero(pd.isna(groups))[0])}; give every pair a cluster "
            "id (a pair whose labeller is unknown can be a cluster of its own)."
        )
    clusters = np.unique(groups, return_inverse=True)[1].ravel()
    if clusters.max() < 1:
        raise ValueError(
            f"{owner} needs at least 2 clusters in groups for inference; got a "
            "single one."
        )
    return clusters


def subset_labels(by, n_pairs, *, owner):
    """Return the sorted labels of ``by`` and each pair's position among them.

    Examples
    --------
    >>> from skpref.causal._amce_checks import subset_labels
    >>> labels, codes = subset_labels(["x", "y", "x"], 3, owner="demo")
    >>> labels.tolist(), codes.tolist()
    (['x', 'y'], [0, 1, 0])
    """
    by = np.asarray(by)
    if by.shape != (n_pairs,):
        raise ValueError(
            f"{owner} expects by of shape ({n_pairs},), the subgroup (e.g. the "
            f"objective) of each pair; got shape {by.shape}."
        )
    if pd.isna(by).any():
        raise ValueError(
            f"{owner}: by holds a missing label (None or NaN) for pair "
            f"{int(np.flatnonzero(pd.isna(by))[0])}; give every pair a subgroup."
        )
    codes, labels = pd.factorize(by, sort=True)
    if "pooled" in set(map(str, labels)):
        raise ValueError(
            f"{owner}: 'pooled' names the effects over all pairs in the summary; "
            "rename that subgroup of by."
        )
    return np.asarray(labels), codes


def check_steps(step, Z_pairs, names, binary, *, owner):
    """Return each factor's step: 1 if binary, else ``step[name]`` or its std.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.causal._amce_checks import check_steps
    >>> Z = np.array([[0, 1.0, 1, 3.0], [1, 2.0, 0, 6.0]])
    >>> check_steps({"len": 10}, Z, ["bin", "len"], np.array([True, False]),
    ...             owner="demo").tolist()
    [1.0, 10.0]
    """
    n_factors = len(names)
    responses = np.vstack([Z_pairs[:, :n_factors], Z_pairs[:, n_factors:]])
    continuous = [
        name for name, is_binary in zip(names, binary, strict=True) if not is_binary
    ]
    steps = {} if isinstance(step, str) else dict(step)
    for name, value in steps.items():
        if name not in continuous:
            close = difflib.get_close_matches(str(name), continuous, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"{owner}: step names {name!r}, which is not a continuous factor; "
                f"the continuous factors are {continuous}.{hint}"
            )
        if not isinstance(value, numbers.Real) or not (
            np.isfinite(value) and value > 0
        ):
            raise ValueError(
                f"{owner} expects each step to be a positive number in the factor's "
                f"units; got step[{name!r}]={value!r}."
            )
    return np.array(
        [
            1.0 if is_binary else float(steps.get(name, responses[:, k].std()))
            for k, (name, is_binary) in enumerate(zip(names, binary, strict=True))
        ]
    )
