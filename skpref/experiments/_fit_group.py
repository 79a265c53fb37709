"""The unit of work of a run: a :class:`FitGroup`, fitted and scored into rows.

:func:`~skpref.experiments.run_protocol` plans a run as fit groups (the models
fitted on one draw); an executor turns each into its rows of the runs.
"""

import time
from dataclasses import dataclass

import numpy as np

from skpref.experiments._sources import Draw
from skpref.metrics import get_scorer

__all__ = ["FitGroup", "run_fit_group", "score_fit_group"]


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
    fit_seconds = {}
    for name, model in group.models:
        start = time.perf_counter()
        model.fit(group.draw.X, group.draw.y)
        fit_seconds[name] = time.perf_counter() - start
    return score_fit_group(group, fit_seconds)


def score_fit_group(group, fit_seconds):
    """Score the fitted models of a :class:`FitGroup`: its rows of the runs.

    Parameters
    ----------
    group : FitGroup
        The work, its models fitted.
    fit_seconds : dict of str to float
        The ``fit_seconds`` column of each model, by name.

    Returns
    -------
    rows : list of dict
        One row per model and scored set, in the runner's column names.
    """
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
                    "convergence_warning": getattr(model, "convergence_warning_", None),
                    **extras,
                }
            )
    return rows
