"""The one experiment loop: draw training sets, fit the models, score them.

A run is planned as a list of :class:`FitGroup` (the unit of work: the models
fitted on one training set and scored on its test sets), which an *executor*
turns into rows: by default :class:`~skpref.experiments.VectorisedExecutor`,
which trains the reward models of all groups at once; a caller may hand the
groups to other workers, or fit them one after another
(:func:`run_fit_group`), as long as it returns each group's rows.
"""

import numbers
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch

from skpref.experiments._checkpoint import (
    GroupStore,
    checkpoint_folder,
    checkpoint_summary,
    run_groups,
    run_identity,
)
from skpref.experiments._fit_group import (
    FitGroup,
    run_fit_group,
    score_fit_group,
)
from skpref.experiments._models import make_reward_model
from skpref.experiments._protocols import get_protocol
from skpref.experiments._seeds import draw_key, seeds_from

__all__ = ["FitGroup", "run_fit_group", "run_protocol", "score_fit_group"]

_OWNER = "run_protocol"


def _warn_convergence(rows, owner=_OWNER):
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


def _check_rhos(rhos, protocol, owner=_OWNER):
    rhos = np.atleast_1d(np.asarray(rhos, dtype=object))
    bad = [r for r in rhos if not isinstance(r, numbers.Real) or isinstance(r, bool)]
    lo, hi = protocol.rho_range
    if rhos.ndim != 1 or rhos.size == 0 or bad:
        raise ValueError(
            f"{owner}: rhos must be a non-empty list of numbers in [{lo}, {hi}]; got "
            f"{rhos.tolist()!r}."
        )
    outside = [float(r) for r in rhos if not lo <= r <= hi]
    if outside:
        raise ValueError(
            f"{owner}: the {protocol.name} protocol takes rho in [{lo}, {hi}]; got "
            f"{outside}."
        )
    values = [float(r) for r in rhos]
    if len(set(values)) < len(values):
        raise ValueError(f"{owner}: rhos lists a value twice: {values}.")
    return values


def _check_count(value, name, owner=_OWNER):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{owner}: {name} must be an integer >= 1; got {value!r}.")
    return int(value)


def _model_specs(models, protocol, owner=_OWNER):
    """``[(name, name or estimator)]`` from names or a dict of them."""
    models = protocol.models if models is None else models
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


def _build(spec, seed, n_objectives, model_params):
    if isinstance(spec, str):
        return make_reward_model(
            spec, n_objectives=n_objectives, random_state=seed, **model_params
        )
    model = clone(spec)
    if "random_state" in model.get_params():
        model.set_params(random_state=seed)
    return model


def _draws(source, rhos, seeds):
    """``(i, seed, rho, draw_seeds, model_seed)`` of every draw of a run."""
    for i, seed in enumerate(seeds):
        for rho in rhos:
            *draw_seeds, model_seed = seeds_from(
                draw_key(seed, rho), source.n_draw_seeds + 1
            )
            yield i, seed, rho, draw_seeds, model_seed


def _planned_draws(protocol, source, rhos, n_seeds, random_state, owner=_OWNER):
    """Prepare the source and check every draw of a run, before any fit.

    Returns
    -------
    draws : list of tuple
        ``(i, seed, rho, draw_seeds, model_seed)`` of every draw (:func:`_draws`).
    """
    if not isinstance(random_state, numbers.Integral) or random_state < 0:
        raise ValueError(
            f"{owner}: random_state must be an integer >= 0 (the master seed); got "
            f"{random_state!r}."
        )
    k = source.n_source_seeds
    seeds = seeds_from(int(random_state), k + n_seeds)
    source.prepare(protocol, seeds[:k])
    for rho in rhos:
        source.check_rho(rho)
    draws = list(_draws(source, rhos, seeds[k:]))
    for _, seed, rho, draw_seeds, _ in draws:  # bad data fail before any fit
        source.check_draw(rho, seed, draw_seeds)
    return draws


def _run_result(protocol, source, rows, settings, **extra):
    """Return the result of a run: its rows in the protocol's layout, its config."""
    suffix = source.file_suffix
    config = {
        "protocol": protocol.name,
        "data": source.name,
        **source.params(),
        **source.info_,
        **settings,
    }
    return Bunch(
        runs=protocol.layout(rows),
        config=config,
        protocol=protocol,
        source=source,
        name=protocol.name.replace("-", "_") + suffix,
        suffix=suffix,
        title=source.title,
        **extra,
    )


def _groups(protocol, source, specs, draws, model_params, deltas):
    """Yield the fit groups of a run, making each draw only when it is asked for.

    ``deltas[(i, rho)]`` receives the training delta of the first repetition.
    """
    for i, seed, rho, draw_seeds, model_seed in draws:
        draw = source.draw(rho, seed, draw_seeds)
        if i == 0 and draw.delta is not None:
            deltas[(i, rho)] = draw.delta[:, :2]
        models = [
            (name, _build(spec, model_seed, source.n_objectives_, model_params))
            for name, spec in specs
        ]
        yield FitGroup(protocol, source.name, i, rho, draw, models)


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
    checkpoint=None,
    resume=True,
    show_progress=False,
):
    """Run a protocol of the paper on a data source.

    For each of ``n_seeds`` repetitions and each ``rho``, the source draws a
    training set and its test sets (a :class:`~skpref.experiments.Draw`), every
    model is fitted on the training set with a seed of its own, and scored on
    every test set (and, for the confounding protocol, on its training pairs by
    group) with :func:`skpref.metrics.get_scorer` ``("pairwise_accuracy")``.

    Parameters
    ----------
    protocol : Protocol or {"latent-positivity", "confounding"}
        :data:`LATENT_POSITIVITY` (Table 1) or :data:`CONFOUNDING` (Tables 2-3).
    source : PreferenceSource
        The data, e.g. :class:`SyntheticLatent`, :class:`SyntheticConfounded`,
        :class:`RelabeledHHRLHF`, :class:`UltraFeedback` or :class:`PairSource`.
    models : list of str, dict or None, default=None
        Model names (``"BTL"``, ``"Base"``, ``"Multihead"``, ``"Adversarial"``,
        see :func:`make_reward_model`) or a dict of name to a name or an
        unfitted estimator (its ``random_state`` is set per draw). None: the
        protocol's (BTL; Base, Multihead, Adversarial).
    rhos : list of float or None, default=None
        Dependence levels; None: the paper's (:data:`RHOS_TABLE1`,
        :data:`RHOS_TABLE2`).
    n_seeds : int or None, default=None
        Repetitions; None: the paper's (3 for Table 1, 5 for Table 2).
    width, lr, max_epochs, batch_size, adversary_weight : default=512, 1e-4, 10, 64, 1.0
        Settings of the named models (the paper's values).
    device : str or None, default=None
        Torch device of the named models; None: the models' default.
    random_state : int, default=0
        Master seed: the source's seeds, then one seed per repetition, from which
        each ``(repetition, rho)`` draws its data and model seeds.
    executor : callable or None, default=None
        ``executor(groups)`` takes an iterable of :class:`FitGroup` (made one
        at a time, each holding its draw's data) and returns, in the same order,
        each group's rows (what :func:`run_fit_group` returns). None:
        :class:`VectorisedExecutor`, which trains all the reward models of the
        run at once with the vectorised engine (each as it would train alone);
        ``lambda groups: map(run_fit_group, groups)`` fits them one after
        another.
    checkpoint : str, path-like or None, default=None
        Folder (created if missing) where the rows of each fit group are kept as
        soon as the executor returns them, one JSON file per group. A later call
        with the same folder reads back the groups it holds instead of drawing
        and fitting them again, so an interrupted run resumes where it stopped;
        the result equals that of an uninterrupted run (up to float rounding
        where the executor or device differ). A file is named by a digest of
        what its rows depend on (protocol, source and its data, models and
        their settings, ``random_state``, repetition and rho; not ``device``
        nor ``executor``); unreadable files are fitted again, with a warning.
        The executor sets how much an interruption loses: all the groups it
        trains together (:class:`VectorisedExecutor` ``max_draws``).
    resume : bool, default=True
        Read back the groups ``checkpoint`` holds. False: fit every group again
        and replace their files.
    show_progress : bool, default=False
        Show a progress bar over the groups (draws), and with the default
        executor one over the epochs of the training.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``runs`` (one row per repetition, rho, model and scored set, in the
        protocol's columns), ``config`` (the arguments, the source's parameters
        and what it reported), ``deltas`` (training ``delta`` of the first
        repetition per rho, for Figure 7), ``alpha`` (the source's true factor
        weight or None), ``protocol``, ``source`` (prepared), ``name`` (the
        stem of the result files), ``suffix``, ``title`` and ``checkpoint``
        (None, or a Bunch of the ``folder`` and of how many draws were
        ``reused`` from it and ``fitted``).

    Examples
    --------
    >>> from skpref.experiments import CONFOUNDING, SyntheticConfounded, run_protocol
    >>> source = SyntheticConfounded(n_train=200, n_test=100, n_features=4)
    >>> result = run_protocol(CONFOUNDING, source, models=["Base"], rhos=[1.0],
    ...                       n_seeds=1, width=8, lr=1e-2, max_epochs=2)
    >>> result.runs[["split", "group", "n"]].to_numpy().tolist()
    [['test', 'consistent', 100], ['test', 'inconsistent', 100], ['train', 'consistent', 200], ['train', 'inconsistent', 0]]
    """  # noqa: E501
    protocol = get_protocol(protocol)
    rhos = _check_rhos(protocol.rhos if rhos is None else rhos, protocol)
    n_seeds = _check_count(protocol.n_seeds if n_seeds is None else n_seeds, "n_seeds")
    specs = _model_specs(models, protocol)
    model_params = {
        "width": width,
        "lr": lr,
        "max_epochs": max_epochs,
        "batch_size": batch_size,
        "adversary_weight": adversary_weight,
        "device": device,
    }
    folder = checkpoint_folder(checkpoint, resume, owner=_OWNER)
    draws = _planned_draws(protocol, source, rhos, n_seeds, random_state)
    store = None
    if folder is not None:
        settings = {k: v for k, v in model_params.items() if k != "device"}
        identity = run_identity(protocol, source, specs, settings, random_state)
        store = GroupStore(folder, identity, owner=_OWNER)
    if executor is None:
        from skpref.experiments._vectorised import VectorisedExecutor

        executor = VectorisedExecutor(show_progress=show_progress)

    def make_groups(todo, deltas):
        return _groups(protocol, source, specs, todo, model_params, deltas)

    def progress(results, initial):
        if not show_progress:
            return results
        from tqdm.auto import tqdm

        return tqdm(
            results,
            total=len(draws),
            initial=initial,
            leave=False,
            dynamic_ncols=True,
            desc=f"{protocol.name} on {source.name}",
            unit="draw",
        )

    kept, reused = run_groups(  # its fits' ConvergenceWarnings are counted below
        executor, make_groups, draws, store, progress, resume=resume, owner=_OWNER
    )
    rows = [row for group_rows, _ in kept for row in group_rows]
    deltas = {
        rho: delta
        for (i, _, rho, *_), (_, delta) in zip(draws, kept, strict=True)
        if i == 0 and delta is not None
    }
    _warn_convergence(rows)
    settings = {
        "rhos": rhos,
        "n_seeds": n_seeds,
        "models": [name for name, _ in specs],
        **model_params,
        "random_state": int(random_state),
    }
    return _run_result(
        protocol,
        source,
        rows,
        settings,
        deltas=deltas,
        alpha=source.alpha,
        checkpoint=checkpoint_summary(folder, reused, len(draws)),
    )
