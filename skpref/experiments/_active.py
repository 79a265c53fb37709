"""Active querying for positivity: buy labels in rounds, score after each round.

Beyond the paper (its appendix C.2 roadmap): a reward model trained where
positivity is limited (correlated latent factors at ``rho_train = 0.9``, or
prompts confounded with the objective) gets a budget of extra labels from an
unlabelled pool in which positivity holds, chosen by each query strategy of
:mod:`skpref.active`, and is scored in and out of distribution after every
round. Every strategy starts from the same fitted ensemble of each draw.
"""

import dataclasses
import difflib
import numbers
from copy import deepcopy
from dataclasses import dataclass

import numpy as np
from sklearn.utils import Bunch
from tqdm.auto import tqdm

from skpref.active import (
    ActiveLearner,
    BALDSampling,
    DisagreementQuadrantSampling,
    InconsistentPairSampling,
    KCenterDiversity,
    MarginSampling,
    RandomSampling,
)
from skpref.experiments._protocols import get_protocol, seeds_from
from skpref.experiments._run import (
    accuracy,
    build_model,
    check_run,
    results_file,
    run_result,
)
from skpref.models import RewardEnsemble

__all__ = ["ActiveConfig", "run_active_protocol"]

_OWNER = "run_active_protocol"


def default_strategies(side):
    """Return the strategies an active protocol compares, for its side information.

    Examples
    --------
    >>> from skpref.experiments._active import default_strategies
    >>> list(default_strategies("delta"))
    ['random', 'margin', 'bald', 'bald+diversity', 'quadrant', 'quadrant+bald']
    """
    informed, name = (
        (DisagreementQuadrantSampling, "quadrant")
        if side == "delta"
        else (InconsistentPairSampling, "inconsistent")
    )
    return {
        "random": RandomSampling(),
        "margin": MarginSampling(),
        "bald": BALDSampling(),
        "bald+diversity": KCenterDiversity(BALDSampling()),
        name: informed(),
        f"{name}+bald": informed(then=BALDSampling()),
    }


@dataclass(frozen=True)
class ActiveConfig:
    """The settings of an active run (:func:`run_active_protocol`).

    Parameters
    ----------
    strategies : list of str, dict or None, default=None
        Names among the protocol's strategies (``random``, ``margin``,
        ``bald``, ``bald+diversity``, and ``quadrant``, ``quadrant+bald`` for
        latent positivity or ``inconsistent``, ``inconsistent+bald`` for
        confounding), or a dict of name to strategy; None: all of them.
    models : list of str, dict or None, default=None
        As for :func:`run_protocol`; None: the protocol's (BTL; Base).
    rhos : list of float or None, default=None
        Training dependence; None: the protocol's (0.9; 1).
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
        Dependence of the pool: synthetic sources draw a fresh pool at it (None:
        0 for latent positivity, 0.5 for confounding); sources holding every pair
        draw, for the confounding protocol, a pool with this share of consistent
        pairs from the pairs left (None: the pairs left as they come).
    n_members : int, default=5
        Members of each ensemble.
    ensemble : class or None, default=None
        ``ensemble(estimator, n_members=..., random_state=...)`` builds the
        ensemble; None: :class:`skpref.RewardEnsemble`.
    width, lr, max_epochs, batch_size, adversary_weight, device, random_state
        As for :func:`run_protocol`.

    Examples
    --------
    >>> from skpref.experiments import ActiveConfig
    >>> ActiveConfig(budget=0.2, n_rounds=2).budget
    0.2
    """

    strategies: object = None
    models: object = None
    rhos: object = None
    n_seeds: int | None = None
    budget: float = 0.1
    n_rounds: int = 4
    n_pool: int | None = None
    pool_rho: float | None = None
    n_members: int = 5
    ensemble: object = None
    width: int = 512
    lr: float = 1e-4
    max_epochs: int = 10
    batch_size: int = 64
    adversary_weight: float = 1.0
    device: str | None = None
    random_state: int = 0

    def model_params(self):
        """Return the settings of the named models (:func:`make_reward_model`)."""
        names = (
            "width",
            "lr",
            "max_epochs",
            "batch_size",
            "adversary_weight",
            "device",
        )
        return {name: getattr(self, name) for name in names}


def _count(value, name):
    if (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and value >= 1
    ):
        return int(value)
    raise ValueError(f"{_OWNER}: {name} must be an integer >= 1; got {value!r}.")


def _check_config(config, protocol):
    """Return the checked strategies; raise a ValueError naming a bad setting."""
    budget = config.budget
    integral = isinstance(budget, numbers.Integral) and not isinstance(budget, bool)
    real = isinstance(budget, numbers.Real) and not isinstance(budget, bool)
    if not ((integral and budget >= 1) or (real and not integral and 0 < budget <= 1)):
        raise ValueError(
            f"{_OWNER}: budget must be a share of the training pairs in (0, 1] or a "
            f"number of labels >= 1; got {budget!r}."
        )
    _count(config.n_rounds, "n_rounds")
    _count(config.n_members, "n_members")
    if config.n_pool is not None:
        _count(config.n_pool, "n_pool")
    lo, hi = protocol.rho_range
    pool_rho = config.pool_rho
    real = isinstance(pool_rho, numbers.Real) and not isinstance(pool_rho, bool)
    if not (pool_rho is None or (real and lo <= pool_rho <= hi)):
        raise ValueError(
            f"{_OWNER}: pool_rho must be None or a number in [{lo}, {hi}] for the "
            f"{protocol.name} protocol; got {pool_rho!r}."
        )
    if config.ensemble is not None and not callable(config.ensemble):
        raise ValueError(
            f"{_OWNER}: ensemble must be a class (or function) called as "
            "ensemble(estimator, n_members=..., random_state=...), or None for "
            f"skpref.RewardEnsemble; got {config.ensemble!r}."
        )
    known = default_strategies(protocol.side)
    strategies = config.strategies
    if strategies is None:
        return known
    if isinstance(strategies, str):
        strategies = [strategies]
    if isinstance(strategies, dict):
        chosen = dict(strategies)
    else:
        for name in strategies:
            if name not in known:
                close = difflib.get_close_matches(str(name), known, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"{_OWNER}: unknown strategy {name!r} for the {protocol.name} "
                    f"protocol; expected names among {list(known)}, or a dict of "
                    f"name to strategy.{hint}"
                )
        chosen = {name: known[name] for name in strategies}
    if not chosen:
        raise ValueError(f"{_OWNER}: strategies is empty; give at least one.")
    return chosen


def _query_size(budget, n_train, n_rounds, n_pool):
    """Labels bought per round: ``budget`` (a share of ``n_train`` or a count)."""
    integral = isinstance(budget, numbers.Integral) and not isinstance(budget, bool)
    total = int(budget) if integral else int(round(float(budget) * n_train))
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


def informative_pairs(pool, side):
    """Which pool pairs restore positivity: disagreeing factors, or inconsistent."""
    if side == "delta":
        return pool.side[:, 0] * pool.side[:, 1] < 0
    return np.asarray(pool.side) != pool.X[:, -1]


def _rows(common, learner, draw, bought_informative):
    last = learner.history_.iloc[-1]
    return [
        {
            **common,
            "round": int(last["round"]),
            "n_bought": len(learner.queried_indices_),
            "test": group,
            "accuracy": accuracy(learner, X, y),
            "n_test": len(y),
            "share_informative": bought_informative,
            "fit_seconds": float(last["fit_seconds"]),
        }
        for group, (X, y) in draw.tests.items()
    ]


def _run_draw(protocol, source, planned, specs, strategies, config, progress):
    """Return the rows of one draw: every model and strategy, round after round."""
    i, seed, rho, draw_seeds, model_seed = planned
    pool_seed, strategy_seed = seeds_from([model_seed, 1], 2)
    draw = source.draw(rho, seed, draw_seeds)
    pool = source.pool(
        rho, draw_seeds, n_pool=config.n_pool, pool_rho=config.pool_rho, seed=pool_seed
    )
    wanted = informative_pairs(pool, protocol.side)
    size = _query_size(config.budget, len(draw.y), config.n_rounds, len(pool.y))
    fit = {"X_pool": pool.X, "oracle": lambda rows: pool.y[rows]}
    fit["side_information"] = pool.side
    ensemble = config.ensemble or RewardEnsemble
    rows = []
    for model_name, spec in specs:
        base = build_model(
            spec, model_seed, source.n_objectives_, config.model_params()
        )
        members = ensemble(base, n_members=config.n_members, random_state=model_seed)
        start = ActiveLearner(
            members,
            n_rounds=0,
            query_size=size,
            warm_start=True,
            random_state=strategy_seed,
        ).fit(draw.X, draw.y, **fit)
        start_rows = _rows({}, start, draw, np.nan)
        for name, strategy in strategies.items():
            common = {
                "protocol": protocol.name,
                "data": source.name,
                "seed": i,
                "rho_train": float(rho),
                "model": model_name,
                "strategy": name,
            }
            rows += [{**common, **row} for row in start_rows]
            learner = deepcopy(start).set_params(strategy=strategy)
            for round_number in range(1, config.n_rounds + 1):
                learner.set_params(n_rounds=round_number).fit(draw.X, draw.y, **fit)
                share = float(wanted[learner.queried_indices_].mean())
                rows += _rows(common, learner, draw, share)
            progress.update(1)
    return rows, size


def run_active_protocol(
    protocol, source, config=None, *, checkpoint=None, resume=True, show_progress=False
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
        Latent factors (ID / OOD tests) or objective confounding (consistent /
        inconsistent tests).
    source : source
        One of :data:`SOURCES` or a :class:`PairSource`.
    config : ActiveConfig or None, default=None
        The settings; None: ``ActiveConfig()``.
    checkpoint, resume : default=None, True
        As for :func:`run_protocol`: the rows of each draw (every model and
        strategy on it) are kept in the run's results file once it is done; the
        key also holds the whole ``config`` but ``device``.
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
    >>> from skpref.experiments import ActiveConfig, SOURCES, run_active_protocol
    >>> source = SOURCES["synthetic"](n_train=100, n_test=50, n_features=4,
    ...                               label_noise=0.3)
    >>> config = ActiveConfig(strategies=["random", "quadrant"], n_seeds=1,
    ...                       n_rounds=2, budget=0.2, n_members=2, width=8,
    ...                       lr=1e-2, max_epochs=2, device="cpu")
    >>> result = run_active_protocol("active-positivity", source, config)
    >>> result.runs.query("test == 'OOD'")[["strategy", "n_bought"]].values.tolist()
    [['random', 0], ['random', 10], ['random', 20], ['quadrant', 0], ['quadrant', 10], ['quadrant', 20]]
    """  # noqa: E501
    config = ActiveConfig() if config is None else config
    if not isinstance(config, ActiveConfig):
        raise ValueError(
            f"{_OWNER}: config must be an ActiveConfig or None; got {config!r}."
        )
    # the settings first: a bad one stops the run before the source is prepared
    named = get_protocol(protocol, _OWNER)
    if not named.active:
        raise ValueError(
            f"{_OWNER} runs the active protocols (active-positivity, "
            f"active-confounding); got {named.name!r}. Use run_protocol for it."
        )
    strategies = _check_config(config, named)
    protocol, specs, rhos, n_seeds, draws = check_run(
        protocol,
        source,
        config.models,
        config.rhos,
        config.n_seeds,
        config.random_state,
        _OWNER,
    )
    if config.pool_rho is not None:
        source.check_rho(config.pool_rho)  # e.g. a synthetic latent pool at |rho| = 1
    # what the rows of a draw depend on: not the draws made (rhos, n_seeds), so
    # that more seeds or rhos reuse the draws already kept, nor the device
    keyed = dataclasses.replace(
        config, device=None, models=specs, strategies=strategies, rhos=None,
        n_seeds=None,
    )  # fmt: skip
    store = results_file(
        checkpoint, resume, protocol, source, {"config": keyed}, _OWNER
    )
    progress = tqdm(
        total=len(draws) * len(specs) * len(strategies),
        disable=not show_progress,
        leave=False,
        dynamic_ncols=True,
        desc=f"{protocol.name} on {source.name}",
        unit="run",
    )
    rows, sizes, reused = [], [], 0
    with progress:
        for planned in draws:
            i, _, rho, *_ = planned
            kept = store.load((i, rho)) if store is not None else None
            if kept is None:
                draw_rows, size = _run_draw(
                    protocol, source, planned, specs, strategies, config, progress
                )
                if store is not None:
                    store.save((i, rho), draw_rows, {"query_size": size})
            else:
                draw_rows, size = kept[0], kept[1]["query_size"]
                reused += 1
                progress.update(len(specs) * len(strategies))
            rows += draw_rows
            sizes.append(size)
    ensemble = config.ensemble or RewardEnsemble
    settings = {
        **dataclasses.asdict(config),
        "rhos": rhos,
        "n_seeds": n_seeds,
        "models": [name for name, _ in specs],
        "strategies": {name: repr(s) for name, s in strategies.items()},
        "query_size": sorted(set(sizes)),
        "ensemble": getattr(ensemble, "__name__", repr(ensemble)),
    }
    summary = (
        None
        if store is None
        else Bunch(file=str(store.path), reused=reused, fitted=len(draws) - reused)
    )
    return run_result(protocol, source, rows, settings, checkpoint=summary)
