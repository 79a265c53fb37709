"""What the adversary of AdversarialRewardModel predicts: the objective or a covariate.

The adversary predicts a target from the latent of each response of a pair. By
default the target is the pair's objective id (the last column of ``X``, the
paper's discriminator). Any other ``adversary_target`` names a *covariate*, whose
values reach ``fit`` as metadata (``covariates=``) and are resolved here into two
columns per pair, the target of response a and that of response b:

* columns ``<name>_a`` and ``<name>_b`` of a DataFrame (what
  :func:`~skpref.covariates.pair_covariates` returns): one value per response;
* a column ``<name>``, or a 1-d array: one value per pair, the target of both
  responses (a property of the pair's context, such as its prompt type);
* a 2-d array of two columns: ``[value of a | value of b]``;
* a built-in covariate of :mod:`skpref.covariates` (``"length"`` is
  ``"n_characters"``) computed from the pair texts, when ``covariates`` is the
  table of pairs itself (columns ``response_a`` and ``response_b``).

Each response's latent predicts its own value, so swapping a and b swaps the two
targets with the two latents and leaves each pair's loss unchanged: the pair
contract holds.

A categorical target is coded ``0..n_classes - 1`` in the order of the sorted
classes (trained with cross-entropy); a continuous one is standardised with the
mean and standard deviation of its values over the responses of the training pairs
(trained with squared error, so 1 is the loss of predicting the mean).
"""

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from skpref.covariates import BUILTIN_COVARIATES, pair_covariates

OBJECTIVE = "objective"
#: Names of built-in covariates accepted besides those of ``BUILTIN_COVARIATES``.
ALIASES = {"length": "n_characters"}


@dataclass(frozen=True)
class AdversaryTarget:
    """The adversary's target: its kind, its training columns and their coding.

    ``kind`` is ``"objective"``, ``"categorical"`` or ``"continuous"``; ``side``
    holds, per pair, the coded target of response a and of response b (float32,
    None for the objective, which the module reads from ``X``); ``classes`` are
    the categories in code order, ``mean`` and ``scale`` the standardisation of a
    continuous target; ``chance`` the discriminator's score without information
    (majority share for categories, R² 0 for a continuous target).
    """

    kind: str
    side: np.ndarray | None = None
    classes: np.ndarray | None = None
    mean: float | None = None
    scale: float | None = None
    chance: float | None = None


def resolve_adversary_target(name, adversary_type, covariates, n_pairs, *, owner):
    """Return the :class:`AdversaryTarget` of ``adversary_target=name``.

    Examples
    --------
    >>> import pandas as pd
    >>> Z = pd.DataFrame({"length_a": [3.0, 1.0], "length_b": [1.0, 3.0]})
    >>> target = resolve_adversary_target("length", "auto", Z, 2, owner="m")
    >>> target.kind, target.side.tolist()
    ('continuous', [[1.0, -1.0], [-1.0, 1.0]])
    >>> resolve_adversary_target("topic", "auto", ["a", "b"], 2, owner="m").side
    array([[0., 0.],
           [1., 1.]], dtype=float32)
    """
    if name == OBJECTIVE:
        if covariates is not None:
            raise ValueError(
                f"{owner} got covariates, but adversary_target='objective' reads the "
                "objective column of X. Name the covariate to hide, e.g. "
                "adversary_target='length', or drop covariates."
            )
        if adversary_type == "continuous":
            raise ValueError(
                f"{owner}: the objective is categorical; got adversary_type="
                "'continuous' with adversary_target='objective'. Use "
                "adversary_type='auto'."
            )
        return AdversaryTarget(OBJECTIVE)
    if covariates is None:
        raise ValueError(
            f"{owner}(adversary_target={name!r}) needs the covariate's values: pass "
            f"fit(X, y, covariates=...) with columns '{name}_a' and '{name}_b' (see "
            "skpref.covariates.pair_covariates), a column "
            f"{name!r}, an array, or the pairs' texts (columns response_a, "
            "response_b) for a built-in covariate."
        )
    values = _values(name, covariates, owner)
    if len(values) != n_pairs:
        raise ValueError(
            f"{owner}.fit got covariates for {len(values)} pairs but X has {n_pairs} "
            "pairs; pass one row of covariates per pair, in the order of X."
        )
    kind = adversary_type
    if kind == "auto":
        kind = "continuous" if values.dtype.kind in "iuf" else "categorical"
    if kind == "continuous":
        return _continuous(name, values, owner)
    return _categorical(name, values, owner)


def _values(name, covariates, owner):
    """Return the covariate's values, shape (n_pairs, 2): response a, response b."""
    if isinstance(covariates, pd.DataFrame):
        columns = [str(c) for c in covariates.columns]
        if f"{name}_a" in columns and f"{name}_b" in columns:
            return _column_pair(covariates, f"{name}_a", f"{name}_b")
        if name in columns:
            return _column_pair(covariates, name, name)
        builtin = ALIASES.get(name, name)
        texts = {"response_a", "response_b"} <= set(columns)
        if texts and builtin in BUILTIN_COVARIATES:
            Z = pair_covariates(covariates, builtin)
            return Z.to_numpy()
        stems = sorted({c[:-2] if c.endswith(("_a", "_b")) else c for c in columns})
        known = stems + (list(BUILTIN_COVARIATES) + list(ALIASES) if texts else [])
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean adversary_target={close[0]!r}?" if close else ""
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


def _continuous(name, values, owner):
    try:
        values = values.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{owner}: adversary_type='continuous' needs numbers, but the covariate "
            f"{name!r} holds {values[:1, 0].tolist()[0]!r}. Use "
            "adversary_type='categorical'."
        ) from None
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad.any(1))[0])
        raise ValueError(
            f"{owner}: the covariate {name!r} is NaN or infinite for pair {row}; "
            "fill it or drop the pair."
        )
    mean, scale = float(values.mean()), float(values.std())
    if not scale > 1e-12 * max(1.0, abs(mean)):
        raise ValueError(
            f"{owner}: the covariate {name!r} is constant ({mean:g}) over the "
            "training pairs, so there is nothing to hide; drop the adversary or "
            "use MultiheadRewardModel."
        )
    side = ((values - mean) / scale).astype(np.float32)
    return AdversaryTarget("continuous", side, mean=mean, scale=scale, chance=0.0)


def _categorical(name, values, owner):
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
    if classes.size < 2:
        raise ValueError(
            f"{owner}: the categorical covariate {name!r} takes the single value "
            f"{classes[:1].tolist()[0]!r} on the training pairs, so there is nothing "
            "to hide; drop the adversary or use MultiheadRewardModel."
        )
    chance = float(np.bincount(codes).max() / codes.size)
    side = codes.reshape(values.shape).astype(np.float32)
    return AdversaryTarget("categorical", side, classes=classes, chance=chance)


def training_block(X, side):
    """Return the rows the net trains on: ``X``, then the adversary's targets."""
    if side is None:
        return X
    return np.hstack([X, side])
