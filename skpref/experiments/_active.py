"""Active querying for positivity: buy labels in rounds, score after each round.

Beyond the paper (its appendix C.2 roadmap): a reward model trained where
positivity is limited (correlated latent factors at ``rho_train = 0.9``, or
prompts confounded with the objective) gets a budget of extra labels from an
unlabelled pool in which positivity holds, chosen by each query strategy of
:mod:`skpref.active`, and is scored in and out of distribution after every
round. Every strategy starts from the same fitted ensemble of each draw.
"""

import numbers
from copy import deepcopy

import numpy as np
from sklearn.utils import Bunch
from tqdm.auto import tqdm

from skpref.active import ActiveLearner
from skpref.experiments._active_pools import candidate_pool, informative_pairs
from skpref.experiments._active_strategies import check_strategies
from skpref.experiments._checkpoint import (
    GroupStore,
    checkpoint_folder,
    checkpoint_summary,
    run_identity,
)
from skpref.experiments._fit_group import _accuracy
from skpref.experiments._protocols import get_protocol
from skpref.experiments._runner import (
    _build,
    _check_count,
    _check_rhos,
    _model_specs,
    _planned_draws,
    _run_result,
)
from skpref.experiments._seeds import seeds_from
from skpref.models import RewardEnsemble

__all__ = ["run_active_protocol"]

_OWNER = "run_active_protocol"


def _query_size(budget, n_train, n_rounds, n_pool):
    """Labels bought per round: ``budget`` (a share of ``n_train`` or a count)."""
    if isinstance(budget, numbers.Integral) and not isinstance(budget, bool):
        total = int(budget)
    else:
        total = int(round(float(budget) * n_train))
    size = total // n_rounds
    if size < 1:
        raise ValueError(
            f"{_OWNER}: a budget of {budget!r} ({total} labels for {n_train} "
            f"training pairs) cannot fill {n_rounds} rounds; raise the budget or "
            "lower n_rounds."
        )
    if size * n_rounds > n_pool:
        raise ValueError(
            f"{_OWNER}: the budget of {size * n_rounds} labels exceeds the "
            f"{n_pool} pairs of the pool; lower the budget or enlarge the pool."
        )
    return size


def _check_budget_value(budget):
    integral = isinstance(budget, numbers.Integral) and not isinstance(budget, bool)
    real = isinstance(budget, numbers.Real) and not isinstance(budget, bool)
    if (integral and budget >= 1) or (real and not integral and 0 < budget <= 1):
        return budget
    raise ValueError(
        f"{_OWNER}: budget must be a share of the training pairs in (0, 1] or a "
        f"number of labels >= 1; got {budget!r}."
    )


def _check_pool_rho(pool_rho, protocol):
    lo, hi = protocol.rho_range
    real = isinstance(pool_rho, numbers.Real) and not isinstance(pool_rho, bool)
    if pool_rho is None or (real and lo <= pool_rho <= hi):
        return pool_rho
    raise ValueError(
        f"{_OWNER}: pool_rho must be None or a number in [{lo}, {hi}] for the "
        f"{protocol.name} protocol; got {pool_rho!r}."
    )


def _ensemble_class(ensemble):
    """Return the class that builds a run's ensembles: RewardEnsemble by default."""
    if ensemble is None:
        return RewardEnsemble
    if not callable(ensemble):
        raise ValueError(
            f"{_OWNER}: ensemble must be a class (or function) called as "
            "ensemble(estimator, n_members=..., random_state=...), or None for "
            f"skpref.RewardEnsemble; got {ensemble!r}."
        )
    return ensemble


def _scores(learner, draw):
    return {group: _accuracy(learner, X, y) for group, (X, y) in draw.tests.items()}


def _rows(common, learner, scores, bought_informative):
    last = learner.history_.iloc[-1]
    return [
        {
            **common,
            "round": int(last["round"]),
            "n_bought": len(learner.queried_indices_),
            "test": group,
            "accuracy": accuracy,
            "n_test": None,
            "share_informative": bought_informative,
            "fit_seconds": float(last["fit_seconds"]),
        }
        for group, accuracy in scores.items()
    ]


def _run_draw(protocol, source, draw_info, specs, strategies, settings, progress):
    i, seed, rho, draw_seeds, model_seed = draw_info
    pool_seed, strategy_seed = seeds_from([model_seed, 1], 2)
    draw = source.draw(rho, seed, draw_seeds)
    pool = candidate_pool(
        source,
        rho,
        draw_seeds,
        n_pool=settings.n_pool,
        pool_rho=settings.pool_rho,
        seed=pool_seed,
    )
    wanted = informative_pairs(pool, protocol.side)
    query_size = _query_size(
        settings.budget, len(draw.y), settings.n_rounds, len(pool.y)
    )
    n_test = {group: len(y) for group, (_, y) in draw.tests.items()}
    fit = {"X_pool": pool.X, "oracle": lambda rows: pool.y[rows]}
    fit["side_information"] = pool.side
    rows = []
    for model_name, spec in specs:
        base = _build(spec, model_seed, source.n_objectives_, settings.model_params)
        ensemble = settings.ensemble(
            base, n_members=settings.n_members, random_state=model_seed
        )
        start = ActiveLearner(
            ensemble,
            n_rounds=0,
            query_size=query_size,
            warm_start=True,
            random_state=strategy_seed,
        ).fit(draw.X, draw.y, **fit)
        start_scores = _scores(start, draw)
        for name, strategy in strategies.items():
            common = {
                "protocol": protocol.name,
                "data": source.name,
                "seed": i,
                "rho_train": float(rho),
                "model": model_name,
                "strategy": name,
            }
            rows += _rows(common, start, start_scores, np.nan)
            learner = deepcopy(start).set_params(strategy=strategy)
            for round_number in range(1, settings.n_rounds + 1):
                learner.set_params(n_rounds=round_number).fit(draw.X, draw.y, **fit)
                share = float(wanted[learner.queried_indices_].mean())
                rows += _rows(common, learner, _scores(learner, draw), share)
            progress.update(1)
    for row in rows:
        row["n_test"] = n_test[row["test"]]
    return rows, query_size


def run_active_protocol(
    protocol,
    source,
    *,
    strategies=None,
    models=None,
    rhos=None,
    n_seeds=None,
    budget=0.1,
    n_rounds=4,
    n_pool=None,
    pool_rho=None,
    n_members=5,
    ensemble=None,
    width=512,
    lr=1e-4,
    max_epochs=10,
    batch_size=64,
    adversary_weight=1.0,
    device=None,
    random_state=0,
    checkpoint=None,
    resume=True,
    show_progress=False,
):
    """Run an active-querying protocol: rounds of buying labels, scored each round.

    For each repetition and training ``rho``, the source draws a training set,
    its test sets and an unlabelled pool (fresh synthetic pairs at ``pool_rho``,
    or the pairs the draw left out); an ensemble of each model is fitted on the
    training set; then, for every strategy, an
    :class:`~skpref.active.ActiveLearner` started from that same fitted ensemble
    buys ``budget`` labels from the pool in ``n_rounds`` equal rounds (the pool's
    own labels answer) and is scored on every test set after each round.

    Parameters
    ----------
    protocol : Protocol or {"active-positivity", "active-confounding"}
        :data:`ACTIVE_POSITIVITY` (latent factors, ID / OOD tests) or
        :data:`ACTIVE_CONFOUNDING` (objective confounding, consistent /
        inconsistent tests).
    source : PreferenceSource
        :class:`SyntheticLatent`, :class:`SyntheticConfounded`,
        :class:`RelabeledHHRLHF`, :class:`UltraFeedback` or :class:`PairSource`.
    strategies : list of str, dict or None, default=None
        Names among :func:`default_strategies` or a dict of name to strategy;
        None: all of :func:`default_strategies`.
    models : list of str, dict or None, default=None
        As for :func:`run_protocol`; None: the protocol's (BTL; Base).
    rhos : list of float or None, default=None
        Training dependence; None: the protocol's (0.9 for latent positivity, 1
        for confounding).
    n_seeds : int or None, default=None
        Repetitions; None: the protocol's (5).
    budget : float or int, default=0.1
        Labels bought in all: a share of the training pairs, or a count.
    n_rounds : int, default=4
        Rounds the budget is spread over (equal rounds, rounded down).
    n_pool : int or None, default=None
        Pairs in the pool; None: as many as the training set (synthetic), every
        pair left (sources holding every pair).
    pool_rho : float or None, default=None
        Dependence of the pool. Synthetic sources draw a fresh pool at it (None:
        0 for latent positivity, 0.5 for confounding); sources holding every pair
        draw, for the confounding protocol, a pool with this share of consistent
        pairs from the pairs left (None: the pairs left as they come).
    n_members : int, default=5
        Members of each ensemble.
    ensemble : class or None, default=None
        ``ensemble(estimator, n_members=..., random_state=...)`` builds the
        ensemble; None: ``skpref.RewardEnsemble``.
    width, lr, max_epochs, batch_size, adversary_weight, device
        As for :func:`run_protocol`.
    random_state : int, default=0
        Master seed, as for :func:`run_protocol` (same seeds, same draws).
    checkpoint, resume : default=None, True
        As for :func:`run_protocol`: the rows of each draw (every model and
        strategy on it) are kept in the folder once it is done; the key also
        holds the strategies, ``budget``, ``n_rounds``, ``n_pool``,
        ``pool_rho``, ``n_members`` and ``ensemble``.
    show_progress : bool, default=False
        Show a progress bar over the (draw, model, strategy) runs.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``runs`` (one row per repetition, rho, model, strategy, round and test
        set), ``config``, ``protocol``, ``source``, ``name``, ``suffix``,
        ``title``, ``checkpoint``, as :func:`run_protocol`'s.

    Examples
    --------
    >>> from skpref.experiments import ACTIVE_POSITIVITY, SyntheticLatent
    >>> from skpref.experiments import run_active_protocol
    >>> source = SyntheticLatent(n_train=100, n_test=50, n_features=4,
    ...                          label_noise=0.3)
    >>> result = run_active_protocol(
    ...     ACTIVE_POSITIVITY, source, strategies=["random", "quadrant"], n_seeds=1,
    ...     n_rounds=2, budget=0.2, n_members=2, width=8, lr=1e-2, max_epochs=2,
    ...     device="cpu")
    >>> result.runs.query("test == 'OOD'")[["strategy", "n_bought"]].values.tolist()
    [['random', 0], ['random', 10], ['random', 20], ['quadrant', 0], ['quadrant', 10], ['quadrant', 20]]
    >>> result.config["ensemble"]
    'RewardEnsemble'
    """  # noqa: E501
    protocol = get_protocol(protocol)
    if protocol.runner is not run_active_protocol:
        raise ValueError(
            f"{_OWNER} runs the active protocols (active-positivity, "
            f"active-confounding); got {protocol.name!r}. Use run_protocol for it."
        )
    rhos = _check_rhos(protocol.rhos if rhos is None else rhos, protocol, _OWNER)
    n_seeds = protocol.n_seeds if n_seeds is None else n_seeds
    n_seeds = _check_count(n_seeds, "n_seeds", _OWNER)
    specs = _model_specs(models, protocol, _OWNER)
    chosen = check_strategies(strategies, protocol, owner=_OWNER)
    settings = Bunch(
        budget=_check_budget_value(budget),
        n_rounds=_check_count(n_rounds, "n_rounds", _OWNER),
        n_members=_check_count(n_members, "n_members", _OWNER),
        n_pool=None if n_pool is None else _check_count(n_pool, "n_pool", _OWNER),
        pool_rho=_check_pool_rho(pool_rho, protocol),
        ensemble=_ensemble_class(ensemble),
        model_params={
            "width": width,
            "lr": lr,
            "max_epochs": max_epochs,
            "batch_size": batch_size,
            "adversary_weight": adversary_weight,
            "device": device,
        },
    )
    folder = checkpoint_folder(checkpoint, resume, owner=_OWNER)
    draws = _planned_draws(protocol, source, rhos, n_seeds, random_state, _OWNER)
    if pool_rho is not None:
        source.check_rho(pool_rho)  # e.g. a synthetic latent pool at |rho| = 1
    store = _store(folder, protocol, source, specs, chosen, settings, random_state)
    progress = tqdm(
        total=len(draws) * len(specs) * len(chosen),
        disable=not show_progress,
        leave=False,
        dynamic_ncols=True,
        desc=f"{protocol.name} on {source.name}",
        unit="run",
    )
    rows, query_sizes, reused = [], [], 0
    try:
        for draw_info in draws:
            i, _, rho, *_ = draw_info
            kept = store.load(i, rho) if store is not None and resume else None
            if kept is None:
                draw_rows, size = _run_draw(
                    protocol, source, draw_info, specs, chosen, settings, progress
                )
                if store is not None:
                    store.save(i, rho, draw_rows, info={"query_size": size})
            else:
                draw_rows, size = kept.rows, kept.info["query_size"]
                reused += 1
                progress.update(len(specs) * len(chosen))
            rows += draw_rows
            query_sizes.append(size)
    finally:
        progress.close()
    config = {
        "rhos": rhos,
        "n_seeds": n_seeds,
        "models": [name for name, _ in specs],
        "strategies": {name: repr(s) for name, s in chosen.items()},
        "budget": budget,
        "n_rounds": settings.n_rounds,
        "query_size": sorted(set(query_sizes)),
        "n_pool": n_pool,
        "pool_rho": pool_rho,
        "n_members": settings.n_members,
        "ensemble": getattr(settings.ensemble, "__name__", repr(settings.ensemble)),
        **settings.model_params,
        "random_state": int(random_state),
    }
    summary = checkpoint_summary(folder, reused, len(draws))
    return _run_result(
        protocol, source, rows, config, alpha=source.alpha, checkpoint=summary
    )


def _store(folder, protocol, source, specs, strategies, settings, random_state):
    """Return the checkpoint of an active run (None without a folder)."""
    if folder is None:
        return None
    keyed = {key: value for key, value in settings.items() if key != "model_params"}
    model_params = {k: v for k, v in settings.model_params.items() if k != "device"}
    identity = run_identity(
        protocol,
        source,
        specs,
        {**keyed, **model_params, "strategies": strategies},
        random_state,
    )
    return GroupStore(folder, identity, owner=_OWNER, info=["query_size"])
