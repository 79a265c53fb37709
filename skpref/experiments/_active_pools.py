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
        Dependence of a fresh pool; None: :data:`POOL_RHO`.
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
    if pool_rho is not None:
        raise ValueError(
            f"{type(source).__name__}'s pool is the pairs its draw leaves out of "
            f"training and testing, as they come; pool_rho={pool_rho} cannot be "
            "drawn from it. Leave pool_rho at None."
        )
    train, tests = source._rows(rho, draw_seeds)
    used = [train, *(tests or {}).values()]
    rest = np.setdiff1d(source.pool_, np.concatenate(used))
    if n_pool is not None:
        if n_pool > len(rest):
            raise ValueError(
                f"{type(source).__name__} has {len(rest)} pairs left for the pool "
                f"after training and testing; n_pool={n_pool} is too many."
            )
        rng = np.random.RandomState(seed)
        rest = np.sort(rng.choice(rest, n_pool, replace=False))
    return Bunch(X=source.X_[rest], y=source.y_[rest], side=source.side_[rest])


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
