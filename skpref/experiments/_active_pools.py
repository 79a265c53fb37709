"""The unlabelled pools of the active protocols, one rule per kind of data source.

A pool is what a labelling budget can buy: pairs with hidden labels (the oracle's
answers) and the side information the informed strategies read. The synthetic
sources draw a fresh pool at a chosen dependence (latent correlation 0, or
unconfounded prompts); the sources that hold every pair offer the pairs that the
draw left out of its training and test sets.
"""

from functools import singledispatch

import numpy as np
from sklearn.utils import Bunch

from skpref.experiments._pair_source import PoolSource
from skpref.experiments._synthetic_sources import SyntheticConfounded, SyntheticLatent

__all__ = ["POOL_RHO", "candidate_pool", "informative_pairs"]

#: The dependence of a fresh synthetic pool, by the protocol's side information:
#: uncorrelated latent factors, and prompts unconfounded with the objective.
POOL_RHO = {"delta": 0.0, "prompt_type": 0.5}


@singledispatch
def candidate_pool(source, rho, draw_seeds, *, n_pool, pool_rho, seed):
    """Return the pool of one draw: ``Bunch(X, y, side)``.

    Parameters
    ----------
    source : PreferenceSource
        A prepared source.
    rho : float
        The training set's dependence.
    draw_seeds : list of int
        The draw's seeds (as given to ``source.draw``).
    n_pool : int or None
        Pairs in the pool; None: as many as the training set (fresh pools) or
        every pair left (held pools).
    pool_rho : float or None
        Dependence of the pool: a fresh synthetic pool's (None:
        :data:`POOL_RHO`), or the share of consistent pairs drawn from the pairs
        left (confounding; None: the pairs left as they come).
    seed : int
        Seed of the pool.

    Returns
    -------
    pool : :class:`~sklearn.utils.Bunch`
        ``X`` pair features, ``y`` the oracle's labels, ``side`` the side
        information of each pair (``delta`` or ``prompt_type``).
    """
    raise ValueError(
        f"{type(source).__name__} cannot give an unlabelled pool for the active "
        "protocols; use SyntheticLatent, SyntheticConfounded or a source that "
        "holds every pair (RelabeledHHRLHF, UltraFeedback, PairSource)."
    )


def _fresh_rho(source, pool_rho):
    return POOL_RHO[source.protocol_.side] if pool_rho is None else pool_rho


@candidate_pool.register
def _(source: SyntheticLatent, rho, draw_seeds, *, n_pool, pool_rho, seed):
    size = source.n_train if n_pool is None else n_pool
    data = source._pairs(size, _fresh_rho(source, pool_rho), seed, source.label_noise)
    return Bunch(X=data.X, y=data.y, side=data.delta)


@candidate_pool.register
def _(source: SyntheticConfounded, rho, draw_seeds, *, n_pool, pool_rho, seed):
    size = source.n_train if n_pool is None else n_pool
    data = source._generate(size, _fresh_rho(source, pool_rho), seed)
    return Bunch(X=data.X, y=data.y, side=data.prompt_type)


@candidate_pool.register
def _(source: PoolSource, rho, draw_seeds, *, n_pool, pool_rho, seed):
    owner = type(source).__name__
    train, tests = source._rows(rho, draw_seeds)
    used = [train, *(tests or {}).values()]
    rest = np.setdiff1d(source.pool_, np.concatenate(used))
    rng = np.random.RandomState(seed)
    if pool_rho is not None:
        rest = _confounded_rows(source, rest, pool_rho, n_pool, rng, owner)
    elif n_pool is not None:
        if n_pool > len(rest):
            raise ValueError(
                f"{owner} has {len(rest)} pairs left for the pool after training "
                f"and testing; n_pool={n_pool} is too many."
            )
        rest = np.sort(rng.choice(rest, n_pool, replace=False))
    return Bunch(X=source.X_[rest], y=source.y_[rest], side=source.side_[rest])


def _confounded_rows(source, rest, pool_rho, n_pool, rng, owner):
    """Rows of ``rest`` with ``P(type = objective) = pool_rho``, equal per objective."""
    from skpref.model_selection._sampling import confounded_capacity, sample_confounded

    if source.protocol_.side != "prompt_type":
        raise ValueError(
            f"{owner}'s pool is the pairs its draw leaves out, as they come; "
            f"pool_rho={pool_rho} (a share of consistent pairs) applies to the "
            "confounding protocol only. Leave pool_rho at None."
        )
    objective = source.X_[:, -1].astype(np.int64)
    *_, largest = confounded_capacity(source.side_, objective, rest, pool_rho)
    n_objectives = np.unique(objective[rest]).size
    size = largest if n_pool is None else n_pool
    if size > largest or size < n_objectives:
        raise ValueError(
            f"{owner} has room for at most {largest} pool pairs with P(type = "
            f"objective) = {pool_rho} among the {len(rest)} pairs left after "
            f"training and testing; n_pool={size} cannot be drawn. Lower n_pool "
            "or change pool_rho."
        )
    per_objective = size // n_objectives
    return sample_confounded(
        source.side_, objective, rest, per_objective, pool_rho, rng
    )


def informative_pairs(pool, side):
    """Which pool pairs restore positivity: disagreeing factors, or inconsistent.

    Parameters
    ----------
    pool : :class:`~sklearn.utils.Bunch`
        A pool of :func:`candidate_pool`.
    side : {"delta", "prompt_type"}
        The protocol's side information.

    Returns
    -------
    mask : ndarray of bool of shape (n_pool,)
        ``delta_1 * delta_2 < 0``, or prompt type != objective (the last column).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from skpref.experiments._active_pools import informative_pairs
    >>> pool = Bunch(X=np.zeros((2, 3)), side=np.array([[1.0, -1.0], [1.0, 2.0]]))
    >>> informative_pairs(pool, "delta").tolist()
    [True, False]
    """
    if side == "delta":
        return pool.side[:, 0] * pool.side[:, 1] < 0
    return np.asarray(pool.side) != pool.X[:, -1]
