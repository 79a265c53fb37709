"""The one experiment loop: draw training sets, fit the models, score them.

A run is planned as a list of fit groups (the models fitted on one draw, then
scored on its test sets). :func:`fit_groups` fits the skpref reward models of a
list of groups together with :func:`skpref.models.fit_together` (each trains as
it would alone) and turns each group into its rows of the runs; an executor
decides which groups go to it together, and where.
"""

import functools
import numbers
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch
from sklearn.utils.validation import check_array

from skpref.experiments._protocols import (
    draw_key,
    get_protocol,
    make_reward_model,
    seeds_from,
)
from skpref.experiments._store import ResultsFile
from skpref.metrics import get_scorer
from skpref.models import (
    AdversarialRewardModel,
    BTLRewardRegressor,
    MultiheadRewardModel,
    fit_together,
)
from skpref.utils import check_pair_target, resolve_device

__all__ = ["run_protocol"]

_OWNER = "run_protocol"
#: Columns of the runs of each protocol kind, in order, and the runner's names.
_COLUMNS = {
    "delta": [
        "protocol",
        "data",
        "seed",
        "rho_train",
        "rho_achieved",
        "model",
        "test",
        "accuracy",
        "n_test",
        "alpha_hat",
        "fit_seconds",
        "convergence_warning",
    ],
    "prompt_type": [
        "protocol",
        "data",
        "seed",
        "rho",
        "model",
        "split",
        "group",
        "accuracy",
        "n",
        "fit_seconds",
        "convergence_warning",
    ],
}
_RENAMES = {"delta": {"rho": "rho_train", "group": "test", "n": "n_test"}}


@dataclass
class FitGroup:
    """The unit of work of a run: models fitted on one draw, then scored."""

    protocol: object
    data: str
    seed: int
    rho: float
    draw: object
    models: list


def fitted_alpha(model, E, Z):
    """Estimate the weight ``alpha_hat`` a fitted model puts on the first factor.

    The reward of single responses ``E`` is regressed on their true latent
    factors ``Z``; ``alpha_hat = w_1 / (w_1 + w_2)`` (appendix D.1, Figure 7).

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.experiments._run import fitted_alpha
    >>> class Linear:
    ...     def predict_reward(self, E):
    ...         return 0.3 * E[:, 0] + 0.7 * E[:, 1]
    >>> Z = np.random.default_rng(0).normal(size=(20, 2))
    >>> round(fitted_alpha(Linear(), Z, Z), 6)
    0.3
    """
    reward = model.predict_reward(E)
    design = np.column_stack([Z[:, :2], np.ones(len(Z))])
    w = np.linalg.lstsq(design, reward, rcond=None)[0]
    return float(w[0] / (w[0] + w[1]))


def accuracy(model, X, y):
    """Pairwise accuracy through :mod:`skpref.metrics`; NaN for an empty set."""
    if len(y) == 0:
        return np.nan
    return float(get_scorer("pairwise_accuracy")(model, X, y))


def _scored_sets(protocol, draw):
    """``(split, group, X, y)`` of every set a model of ``draw`` is scored on."""
    for group, (X, y) in draw.tests.items():
        yield "test", group, X, y
    if protocol.side == "prompt_type":  # Table 3: the training pairs by group
        for group in protocol.groups:
            mask = draw.train_groups == group
            yield "train", group, draw.X[mask], draw.y[mask]


def score_group(group, fit_seconds, convergence):
    """Score the fitted models of a group: its rows of the runs."""
    rows = []
    for name, model in group.models:
        extras = {}
        if group.protocol.side == "delta":
            draw = group.draw
            extras["rho_achieved"] = float(np.corrcoef(draw.delta[:, :2].T)[0, 1])
            probe = draw.probe
            extras["alpha_hat"] = (
                np.nan if probe is None else fitted_alpha(model, *probe)
            )
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
                    "accuracy": accuracy(model, X, y),
                    "n": len(y),
                    "fit_seconds": fit_seconds[name],
                    "convergence_warning": convergence[name],
                    **extras,
                }
            )
    return rows


def fit_model(model, X, y):
    """Fit one model; return its fit time and the kind of ConvergenceWarning."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X, y)
    seconds = time.perf_counter() - start
    warned = False
    for w in caught:  # passed on, to the filters the caller set
        warned |= issubclass(w.category, ConvergenceWarning)
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return seconds, getattr(model, "convergence_warning_", "other" if warned else None)


def _on_the_engine(model):
    """Whether :func:`fit_together` fits the model as its own ``fit`` would."""
    engine = (BTLRewardRegressor, MultiheadRewardModel, AdversarialRewardModel)
    fits = {cls.fit for cls in engine}  # a subclass's own fit is fitted alone
    return isinstance(model, engine) and type(model).fit in fits


def fit_groups(groups, show_progress=False):
    """Fit the models of fit groups together and score them: each group's rows.

    The skpref reward models go to :func:`skpref.models.fit_together` (their
    ``fit_seconds`` is its time divided by their number); other estimators are
    fitted one by one.
    """
    seconds = [{} for _ in groups]
    kinds = [{} for _ in groups]
    together, data = [], []
    for i, group in enumerate(groups):
        arrays = None
        for name, model in group.models:
            if not _on_the_engine(model):
                seconds[i][name], kinds[i][name] = fit_model(
                    model, group.draw.X, group.draw.y
                )
                continue
            model._validate_params()
            if arrays is None:  # the draw's models share one float32 copy
                X = check_array(group.draw.X, dtype=np.float32, order="C")
                y = check_pair_target(group.draw.y, owner=type(model).__name__)
                arrays = (X, y, np.ones(len(y)))
            together.append((i, name, model))
            data.append(arrays)
    bar = None
    if show_progress and together:
        from tqdm.auto import tqdm

        n = len(together)
        desc = f"training {n} model{'s' if n != 1 else ''}"
        bar = tqdm(desc=desc, unit="epoch", leave=False)
    start = time.perf_counter()
    try:
        fit_together([model for _, _, model in together], data, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    share = (time.perf_counter() - start) / max(1, len(together))
    for i, name, model in together:
        seconds[i][name] = share
        kinds[i][name] = getattr(model, "convergence_warning_", None)
    return [score_group(*args) for args in zip(groups, seconds, kinds, strict=True)]


def local_executor(max_draws, device):
    """Return the default executor: chunks of ``max_draws`` groups fitted here.

    ``"auto"``: the whole run on an accelerator (where stacked models train
    fastest), one draw at a time on the CPU (where it costs little and keeps
    every draw as soon as it is trained). None: the whole run.
    """
    if max_draws == "auto":
        on_cpu = resolve_device(device or "auto", owner=_OWNER) == "cpu"
        max_draws = 1 if on_cpu else None

    def execute(groups, fit):
        chunk = []
        for group in groups:
            chunk.append(group)
            if max_draws is not None and len(chunk) >= max_draws:
                yield from fit(chunk)
                chunk = []
        if chunk:
            yield from fit(chunk)

    return execute


def warn_convergence(rows, owner):
    """One ConvergenceWarning for the fits of a run that raised one, by kind."""
    fits = {(r["seed"], r["rho"], r["model"]): r["convergence_warning"] for r in rows}
    warned = [(key[2], kind) for key, kind in fits.items() if kind is not None]
    if not warned:
        return
    counts = {}
    for model, kind in warned:
        counts.setdefault(kind, {}).setdefault(model, 0)
        counts[kind][model] += 1
    kinds = "; ".join(
        f"{kind}: " + ", ".join(f"{model} {n}" for model, n in models.items())
        for kind, models in counts.items()
    )
    warnings.warn(
        f"{owner}: {len(warned)} of {len(fits)} fits raised a ConvergenceWarning "
        f"({kinds}); the runs' convergence_warning column names them (see the "
        "skpref models' convergence_warning_ for what each kind means; 'other' is "
        "a model of another library). 'saturated' is expected on noise-free "
        "labels the models separate.",
        ConvergenceWarning,
        stacklevel=3,
    )


def check_run(protocol, source, models, rhos, n_seeds, random_state, owner):
    """Check a run's arguments; prepare the source; plan and check every draw.

    Returns
    -------
    protocol, specs, rhos, n_seeds, draws
        ``specs``: ``[(name, name or estimator)]``; ``draws``: ``(i, seed, rho,
        draw_seeds, model_seed)`` of every draw, checked before any fit.
    """
    protocol = get_protocol(protocol, owner)
    rhos = protocol.rhos if rhos is None else rhos
    values = np.atleast_1d(np.asarray(rhos, dtype=object))
    lo, hi = protocol.rho_range
    if (
        values.ndim != 1
        or values.size == 0
        or not all(
            isinstance(r, numbers.Real) and not isinstance(r, bool) for r in values
        )
    ):
        raise ValueError(
            f"{owner}: rhos must be a non-empty list of numbers in [{lo}, {hi}]; got "
            f"{values.tolist()!r}."
        )
    rhos = [float(r) for r in values]
    if any(not lo <= r <= hi for r in rhos):
        raise ValueError(
            f"{owner}: the {protocol.name} protocol takes rho in [{lo}, {hi}]; got "
            f"{[r for r in rhos if not lo <= r <= hi]}."
        )
    if len(set(rhos)) < len(rhos):
        raise ValueError(f"{owner}: rhos lists a value twice: {rhos}.")
    n_seeds = protocol.n_seeds if n_seeds is None else n_seeds
    if (
        not isinstance(n_seeds, numbers.Integral)
        or isinstance(n_seeds, bool)
        or n_seeds < 1
    ):
        raise ValueError(f"{owner}: n_seeds must be an integer >= 1; got {n_seeds!r}.")
    specs = _model_specs(protocol.models if models is None else models, owner)
    if not isinstance(random_state, numbers.Integral) or random_state < 0:
        raise ValueError(
            f"{owner}: random_state must be an integer >= 0 (the master seed); got "
            f"{random_state!r}."
        )
    k = source.n_source_seeds
    seeds = seeds_from(int(random_state), k + int(n_seeds))
    source.prepare(protocol, seeds[:k])
    for rho in rhos:
        source.check_rho(rho)
    draws = []
    for i, seed in enumerate(seeds[k:]):
        for rho in rhos:
            *draw_seeds, model_seed = seeds_from(
                draw_key(seed, rho), source.n_draw_seeds_ + 1
            )
            source.check_draw(rho, seed, draw_seeds)  # bad data fail before any fit
            draws.append((i, seed, rho, draw_seeds, model_seed))
    return protocol, specs, rhos, int(n_seeds), draws


def _model_specs(models, owner):
    """``[(name, name or estimator)]`` from names or a dict of them."""
    if isinstance(models, str):
        raise ValueError(
            f"{owner}: models must be a list of names or a dict of name to "
            f"estimator; got the single string {models!r}. Write [{models!r}]."
        )
    specs = (
        list(models.items()) if isinstance(models, dict) else [(m, m) for m in models]
    )
    if not specs:
        raise ValueError(f"{owner}: models is empty; give at least one model.")
    for name, spec in specs:
        if isinstance(spec, str):
            make_reward_model(spec)  # an unknown name fails here, before any fit
        elif not hasattr(spec, "fit"):
            raise ValueError(
                f"{owner}: the model {name!r} is {spec!r}; expected a model name "
                "or an unfitted estimator."
            )
    return specs


def build_model(spec, seed, n_objectives, model_params):
    """Return a seeded, unfitted model from a name or an estimator."""
    if isinstance(spec, str):
        return make_reward_model(
            spec, n_objectives=n_objectives, random_state=seed, **model_params
        )
    model = clone(spec)
    if "random_state" in model.get_params():
        model.set_params(random_state=seed)
    return model


def results_file(checkpoint, resume, protocol, source, identity, owner):
    """Return the run's :class:`ResultsFile` in folder ``checkpoint``, or None."""
    if not isinstance(resume, bool):
        raise ValueError(f"{owner}: resume must be True or False; got {resume!r}.")
    if checkpoint is None:
        return None
    if not isinstance(checkpoint, str | os.PathLike):
        raise ValueError(
            f"{owner}: checkpoint must be a folder path (str or path-like) or None; "
            f"got {checkpoint!r}."
        )
    import skpref

    folder = Path(checkpoint).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"{owner}: checkpoint must be a folder; {str(folder)!r} is a file. "
            "Choose another path."
        )
    identity = {
        "skpref": skpref.__version__,
        "protocol": protocol,
        "source": [type(source).__qualname__, source.keyed_params(), source.digest_],
        **identity,
    }
    return ResultsFile(folder, protocol.name, identity, resume=resume, owner=owner)


def run_result(protocol, source, rows, settings, **extra):
    """Return the result of a run: its rows in the protocol's layout, its config."""
    columns = _COLUMNS.get(protocol.side) if not protocol.active else None
    runs = pd.DataFrame(rows).rename(columns=_RENAMES.get(protocol.side, {}))
    if columns is not None:
        runs = runs.reindex(columns=columns)
    config = {
        "protocol": protocol.name,
        "data": source.name,
        **source.params(),
        **source.info_,
        **settings,
    }
    return Bunch(
        runs=runs,
        config=config,
        protocol=protocol,
        source=source,
        name=protocol.name.replace("-", "_") + source.file_suffix,
        suffix=source.file_suffix,
        title=source.title,
        alpha=source.alpha,
        **extra,
    )


def run_protocol(
    protocol,
    source,
    *,
    models=None,
    rhos=None,
    n_seeds=None,
    width=512,
    lr=1e-4,
    max_epochs=10,
    batch_size=64,
    adversary_weight=1.0,
    device=None,
    random_state=0,
    executor=None,
    max_draws="auto",
    checkpoint=None,
    resume=True,
    show_progress=False,
):
    """Run a protocol of the paper on a data source (Table 1, Tables 2-3).

    For each of ``n_seeds`` repetitions and each ``rho``, the source draws a
    training set and its test sets, every model is fitted on the training set
    with a seed of its own, and scored on every test set (and, for the
    confounding protocol, on its training pairs by group) with
    :func:`skpref.metrics.get_scorer` ``("pairwise_accuracy")``.

    Parameters
    ----------
    protocol : Protocol or {"latent-positivity", "confounding"}
        Table 1 or Tables 2-3 (see :data:`PROTOCOLS`).
    source : source
        The data: one of :data:`SOURCES` (e.g. ``SOURCES["synthetic"](...)``) or
        a :class:`PairSource` of your own pairs.
    models : list of str, dict or None, default=None
        Model names (``"BTL"``, ``"Base"``, ``"Multihead"``, ``"Adversarial"``,
        see :func:`make_reward_model`) or a dict of name to a name or an
        unfitted estimator (its ``random_state`` is set per draw). None: the
        protocol's.
    rhos : list of float or None, default=None
        Dependence levels; None: the paper's.
    n_seeds : int or None, default=None
        Repetitions; None: the paper's (3 for Table 1, 5 for Table 2).
    width, lr, max_epochs, batch_size, adversary_weight : default=512, 1e-4, 10, 64, 1.0
        Settings of the named models (the paper's values).
    device : str or None, default=None
        Torch device of the named models; None: the models' default ("auto").
    random_state : int, default=0
        Master seed: the source's seeds, then one seed per repetition, from which
        each ``(repetition, rho)`` draws its data and model seeds.
    executor : callable or None, default=None
        ``executor(groups, fit)`` gets the run's fit groups (an iterator, each
        draw made only when asked for) and a picklable function ``fit(list of
        groups) -> list of rows per group``, and yields every group's rows in
        order: e.g. :class:`skpref.distributed.DaskExecutor` runs ``fit`` on
        a cluster. None: here, in chunks of ``max_draws``.
    max_draws : int, "auto" or None, default="auto"
        Draws the default executor fits together (and keeps together in the
        ``checkpoint``). ``"auto"``: one at a time on the CPU, the whole run on
        an accelerator; None: the whole run.
    checkpoint : str, path-like or None, default=None
        Folder of the run's results file, which keeps the rows of every draw as
        soon as they are fitted; a later call with the same parameters reads
        them back instead of fitting again, so a killed run resumes where it
        stopped with the same result. The file is named by a digest of what the
        rows depend on (protocol, source and its data, models and their
        settings, ``random_state``; not ``device`` nor ``executor``). A chunk
        whose content does not match its digest or row count is fitted again,
        with a warning naming the file.
    resume : bool, default=True
        Read back what ``checkpoint`` holds. False: fit every draw again.
    show_progress : bool, default=False
        Show progress bars over the draws and the training's epochs.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``runs`` (one row per repetition, rho, model and scored set),
        ``config``, ``deltas`` (training ``delta`` of the first repetition per
        rho, for Figure 7), ``alpha``, ``protocol``, ``source``, ``name`` (the
        stem of the result files), ``suffix``, ``title`` and ``checkpoint``
        (None, or a Bunch of the results ``file`` and of how many draws were
        ``reused`` and ``fitted``).

    Examples
    --------
    >>> from skpref.experiments import SOURCES, run_protocol
    >>> source = SOURCES["synthetic"](n_train=200, n_test=100, n_features=4)
    >>> result = run_protocol("confounding", source, models=["Base"], rhos=[1.0],
    ...                       n_seeds=1, width=8, lr=1e-2, max_epochs=2)
    >>> result.runs[["split", "group", "n"]].to_numpy().tolist()
    [['test', 'consistent', 100], ['test', 'inconsistent', 100], ['train', 'consistent', 200], ['train', 'inconsistent', 0]]
    """  # noqa: E501
    protocol, specs, rhos, n_seeds, draws = check_run(
        protocol, source, models, rhos, n_seeds, random_state, _OWNER
    )
    if protocol.active:
        raise ValueError(
            f"{_OWNER} runs the paper's protocols; {protocol.name!r} buys labels "
            "in rounds: use run_active_protocol."
        )
    if not (
        max_draws in ("auto", None)
        or (
            isinstance(max_draws, numbers.Integral)
            and not isinstance(max_draws, bool)
            and max_draws >= 1
        )
    ):
        raise ValueError(
            f"{_OWNER}: max_draws must be an integer >= 1, 'auto' or None (the "
            f"whole run); got {max_draws!r}."
        )
    params = {
        "width": width,
        "lr": lr,
        "max_epochs": max_epochs,
        "batch_size": batch_size,
        "adversary_weight": adversary_weight,
    }
    keyed = {"models": specs, "settings": params, "random_state": int(random_state)}
    store = results_file(checkpoint, resume, protocol, source, keyed, _OWNER)
    executor = executor or local_executor(max_draws, device)
    params["device"] = device
    kept = {}
    for k, (i, _, rho, *_) in enumerate(draws):
        found = store.load((i, rho)) if store is not None else None
        if found is not None:
            kept[k] = found
    todo = [k for k in range(len(draws)) if k not in kept]

    deltas = []  # the training delta of each group made, for Figure 7

    def groups():
        for k in todo:
            i, seed, rho, draw_seeds, model_seed = draws[k]
            draw = source.draw(rho, seed, draw_seeds)
            models = [
                (name, build_model(spec, model_seed, source.n_objectives_, params))
                for name, spec in specs
            ]
            first = i == 0 and draw.delta is not None
            deltas.append(draw.delta[:, :2].tolist() if first else None)
            yield FitGroup(protocol, source.name, i, rho, draw, models)

    bar = None
    if show_progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=len(draws),
            initial=len(kept),
            leave=False,
            unit="draw",
            desc=f"{protocol.name} on {source.name}",
        )
    fit = functools.partial(fit_groups, show_progress=show_progress)
    returned = 0
    with warnings.catch_warnings():  # counted once below, not once per fit
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k, rows in zip(todo, executor(groups(), fit), strict=False):
            kept[k] = (list(rows), {"delta": deltas[returned]})
            returned += 1
            if store is not None:
                store.save((draws[k][0], draws[k][2]), *kept[k])
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    if returned < len(todo):
        raise RuntimeError(
            f"{_OWNER}: the executor returned the rows of {returned} of the "
            f"{len(todo)} fit groups it was given; an executor yields one list of "
            "rows per group, in order."
        )
    rows = [row for k in range(len(draws)) for row in kept[k][0]]
    deltas = {
        rho: np.asarray(kept[k][1]["delta"], dtype=np.float64)
        for k, (i, _, rho, *_) in enumerate(draws)
        if kept[k][1]["delta"] is not None
    }
    warn_convergence(rows, _OWNER)
    settings = {
        "rhos": rhos,
        "n_seeds": n_seeds,
        "models": [name for name, _ in specs],
        **params,
        "random_state": int(random_state),
    }
    reused = len(draws) - len(todo)
    summary = (
        None
        if store is None
        else Bunch(file=str(store.path), reused=reused, fitted=len(todo))
    )
    return run_result(
        protocol, source, rows, settings, deltas=deltas, checkpoint=summary
    )
