"""The runner's default executor: the reward models of a run trained at once.

:func:`~skpref.experiments.run_protocol` hands its executor the fit groups of a run
(each one draw and its seeded, unfitted models). :class:`VectorisedExecutor` takes
them in chunks (by default the whole run), converts each draw's training pairs to
float32 once, and fits every skpref reward model of the chunk with the vectorised
engine (:mod:`skpref.models._engine`): the models of one configuration, e.g. the
Adversarial model of every seed and rho, or of every λ of a grid, train as the
members of one stacked network, each as it would train alone (its own seeds,
split and batches; only floating-point rounding differs). Other estimators are
fitted one by one. Each group's rows come back in order.
"""

import itertools
import numbers
import time
from contextlib import contextmanager

import numpy as np
from sklearn.base import clone

from skpref.experiments._fit_group import fit_model
from skpref.experiments._runner import score_fit_group
from skpref.models import _engine
from skpref.models._adversarial import AdversarialRewardModel
from skpref.models._base import BaseRewardModel
from skpref.models._engine import fit_together
from skpref.models._inputs import check_fit_target, float32_pairs

__all__ = ["VectorisedExecutor", "run_fit_groups"]


class VectorisedExecutor:
    """Fit the models of many fit groups at once, with skpref's vectorised engine.

    Parameters
    ----------
    max_draws : int, "auto" or None, default="auto"
        How many fit groups (draws) are trained together: their training pairs
        are held in memory (and on the device) at once, and their rows come back
        together once all are trained, so with a ``checkpoint`` of
        :func:`run_protocol` it is also the work an interruption can lose. None:
        all of the run (fastest where the engine stacks the models; nothing is
        kept before the end). ``"auto"``: all of the run where the engine would
        stack the models of the first draw (on an accelerator, or small models),
        else one draw at a time, which costs nothing there (the models train one
        after another either way) and holds one draw in memory.
    show_progress : bool, default=False
        Show a progress bar of the training's epochs (one per epoch of the models
        trained together, or of a model trained alone).

    Examples
    --------
    >>> from skpref.experiments import (
    ...     CONFOUNDING, SyntheticConfounded, VectorisedExecutor, run_protocol)
    >>> source = SyntheticConfounded(n_train=200, n_test=100, n_features=4)
    >>> result = run_protocol(CONFOUNDING, source, rhos=[0.5, 1.0], n_seeds=1,
    ...                       width=8, lr=1e-2, max_epochs=2, device="cpu",
    ...                       executor=VectorisedExecutor(max_draws=1))
    >>> sorted(result.runs["model"].unique())
    ['Adversarial', 'Base', 'Multihead']
    """

    def __init__(self, max_draws="auto", show_progress=False):
        self.max_draws = max_draws
        self.show_progress = show_progress

    def __call__(self, groups):
        """Yield the rows of each group, in order, training a chunk at a time."""
        size = self.max_draws
        if not (size is None or size == "auto" or _is_count(size)):
            raise ValueError(
                "VectorisedExecutor: max_draws must be an integer >= 1, 'auto' or "
                f"None (the whole run); got {size!r}."
            )
        groups = iter(groups)
        if size == "auto":
            first = next(groups, None)
            if first is None:
                return
            size = None if _stacks(first) else 1
            groups = itertools.chain([first], groups)
        chunk = []
        for group in groups:
            chunk.append(group)
            if size is not None and len(chunk) >= size:
                yield from run_fit_groups(chunk, show_progress=self.show_progress)
                chunk = []
        if chunk:
            yield from run_fit_groups(chunk, show_progress=self.show_progress)

    def __repr__(self):
        # the parameters that differ from the defaults, as scikit-learn prints them
        params = {} if self.max_draws == "auto" else {"max_draws": self.max_draws}
        if self.show_progress:
            params["show_progress"] = True
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"VectorisedExecutor({shown})"


def run_fit_groups(groups, *, show_progress=False):
    """Fit the models of fit groups together and score them: each group's rows.

    The skpref reward models are fitted together by the engine; their
    ``fit_seconds`` is the engine's time divided by their number. Other
    estimators are fitted one by one.

    Parameters
    ----------
    groups : list of FitGroup
        The work.
    show_progress : bool, default=False
        Show a progress bar of the engine's epochs.

    Returns
    -------
    rows : list of list of dict
        The rows of each group (what :func:`run_fit_group` returns), in order.
    """
    groups = list(groups)
    seconds = [{} for _ in groups]
    convergence = [{} for _ in groups]
    together, data = [], []
    for i, group in enumerate(groups):
        arrays = None
        for name, model in group.models:
            if not _trains_on_the_engine(model):
                seconds[i][name], convergence[i][name] = fit_model(model, group.draw)
                continue
            model._validate_params()
            if arrays is None:  # the draw's models share one float32 copy
                arrays = _training_arrays(model, group.draw)
            together.append((i, name, model))
            data.append(arrays)
    start = time.perf_counter()
    with _progress_bar(show_progress, len(together)) as bar:
        fit_together([model for _, _, model in together], data, progress=bar)
    share = (time.perf_counter() - start) / max(1, len(together))
    for i, name, _ in together:
        seconds[i][name] = share
    return [
        score_fit_group(g, s, c)
        for g, s, c in zip(groups, seconds, convergence, strict=True)
    ]


#: The fits the engine reproduces; the adversarial one adds only ``covariates``,
#: which the runner never passes.
_ENGINE_FITS = (BaseRewardModel.fit, AdversarialRewardModel.fit)


def _trains_on_the_engine(model):
    """Tell whether the engine can fit the model: a skpref model, its own fit."""
    return isinstance(model, BaseRewardModel) and type(model).fit in _ENGINE_FITS


@contextmanager
def _progress_bar(show, n_models):
    """Yield a tqdm bar of the engine's epochs, or None when not shown."""
    if not show or not n_models:
        yield None
        return
    from tqdm.auto import tqdm

    with tqdm(
        desc=f"training {n_models} models",
        unit="epoch",
        leave=False,
        dynamic_ncols=True,
    ) as bar:
        yield bar


def _is_count(value):
    return (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and value >= 1
    )


def _stacks(group):
    """Whether the engine would stack copies of a model of ``group`` (its first draw).

    A trial plan of a clone gives the engine's own rule the fitted sizes.
    """
    for _, model in group.models:
        if _trains_on_the_engine(model):
            trial = clone(model)
            trial._validate_params()
            X, y, weight = _training_arrays(trial, group.draw)
            plan = trial._plan_fit(X, y, weight)
            if _engine._worth_stacking([plan, plan]):
                return True
    return False


def _training_arrays(model, draw):
    X, y = float32_pairs(model, draw.X, draw.y)
    y = check_fit_target(y, None, owner=type(model).__name__)
    return X, y, np.ones(len(y))
