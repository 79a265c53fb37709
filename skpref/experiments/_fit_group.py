"""The unit of work of a run: a :class:`FitGroup`, fitted and scored into rows.

:func:`~skpref.experiments.run_protocol` plans a run as fit groups (the models
fitted on one draw); an executor turns each into its rows of the runs.
"""

import time
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skpref.experiments._sources import Draw
from skpref.metrics import get_scorer

__all__ = ["FitGroup", "fit_model", "run_fit_group", "score_fit_group"]


@dataclass
class FitGroup:
    """The unit of work of a run: models fitted on one draw, then scored.

    Attributes
    ----------
    protocol : Protocol
        What to score and which extra columns to compute.
    data : str
        The source's name (the ``data`` column).
    seed : int
        Index of the repetition.
    rho : float
        Dependence in the training set.
    draw : Draw
        Training set and test sets.
    models : list of (str, estimator)
        Unfitted, seeded models by name.
    """

    protocol: object
    data: str
    seed: int
    rho: float
    draw: Draw
    models: list


def _accuracy(model, X, y):
    """Pairwise accuracy through :mod:`skpref.metrics`; NaN for an empty set."""
    if len(y) == 0:
        return np.nan
    return float(get_scorer("pairwise_accuracy")(model, X, y))


def _scored_sets(protocol, draw):
    """``(split, group, X, y)`` of every set a model of ``draw`` is scored on."""
    for group, (X, y) in draw.tests.items():
        yield "test", group, X, y
    if protocol.score_training:
        for group in protocol.tests:
            mask = draw.train_groups == group
            yield "train", group, draw.X[mask], draw.y[mask]


def run_fit_group(group):
    """Fit the models of a :class:`FitGroup` and score them: its rows of the runs.

    Parameters
    ----------
    group : FitGroup
        The work.

    Returns
    -------
    rows : list of dict
        One row per model and scored set, in the runner's column names.
    """
    fit_seconds, convergence = {}, {}
    for name, model in group.models:
        fit_seconds[name], convergence[name] = fit_model(model, group.draw)
    return score_fit_group(group, fit_seconds, convergence)


def fit_model(model, draw):
    """Fit one model on a draw's training pairs, one at a time.

    Its warnings reach the caller as they would from ``model.fit``; a
    :class:`~sklearn.exceptions.ConvergenceWarning` is also named, so that the
    runs say which fits raised one whatever library the model comes from.

    Parameters
    ----------
    model : estimator
        Unfitted.
    draw : Draw
        Its training pairs.

    Returns
    -------
    fit_seconds : float
    convergence_warning : str or None
        The model's ``convergence_warning_`` (the kind, for skpref's models),
        else ``"other"`` if the fit raised a ConvergenceWarning, else None.
    """
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(draw.X, draw.y)
    seconds = time.perf_counter() - start
    warned = False
    for w in caught:  # passed on, to the filters the caller set
        warned |= issubclass(w.category, ConvergenceWarning)
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    kind = getattr(model, "convergence_warning_", "other" if warned else None)
    return seconds, kind


def score_fit_group(group, fit_seconds, convergence=None):
    """Score the fitted models of a :class:`FitGroup`: its rows of the runs.

    Parameters
    ----------
    group : FitGroup
        The work, its models fitted.
    fit_seconds : dict of str to float
        The ``fit_seconds`` column of each model, by name.
    convergence : dict of str to str or None, default=None
        The ``convergence_warning`` column of the models fitted by
        :func:`fit_model`, by name; the others' ``convergence_warning_``
        (None where they have none).

    Returns
    -------
    rows : list of dict
        One row per model and scored set, in the runner's column names.
    """
    kinds = {
        name: getattr(model, "convergence_warning_", None)
        for name, model in group.models
    }
    kinds.update(convergence or {})
    rows = []
    for name, model in group.models:
        extras = {col: f(model, group.draw) for col, f in group.protocol.extras.items()}
        for split, test, X, y in _scored_sets(group.protocol, group.draw):
            rows.append(
                {
                    "protocol": group.protocol.name,
                    "data": group.data,
                    "seed": group.seed,
                    "rho": float(group.rho),
                    "model": name,
                    "split": split,
                    "group": test,
                    "accuracy": _accuracy(model, X, y),
                    "n": len(y),
                    "fit_seconds": fit_seconds[name],
                    "convergence_warning": kinds.get(name),
                    **extras,
                }
            )
    return rows
