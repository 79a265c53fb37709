"""The one interface of the query strategies, and the checks every strategy shares.

A strategy chooses which unlabelled pairs of a pool to label next:
``select(model, X_pool, n, *, side_information=None, random_state=None)`` returns
``n`` distinct row indices of ``X_pool``, the pair most worth a label first. A
class with that method or a plain function with that signature both work
wherever a strategy is taken (:class:`~skpref.active.ActiveLearner`,
:class:`~skpref.active.KCenterDiversity`, the ``then`` of the positivity
strategies).
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

__all__ = [
    "BaseQueryStrategy",
    "check_pool",
    "check_query_size",
    "check_selection",
    "rank_by_score",
    "strategy_name",
]


def strategy_name(strategy):
    """Return the name of a strategy in messages: its class or function name."""
    if isinstance(strategy, BaseQueryStrategy) or hasattr(strategy, "select"):
        return type(strategy).__name__
    return getattr(strategy, "__name__", type(strategy).__name__)


def check_pool(X_pool):
    """Return the pool as a finite 2-d float array (one pair per row)."""
    return check_array(X_pool, dtype=np.float64, input_name="X_pool")


def check_query_size(n, n_pool, *, owner):
    """Check the number of pairs asked for: an integer in ``1..n_pool``.

    Parameters
    ----------
    n : int
        Pairs to select.
    n_pool : int
        Pairs in the pool.
    owner : str
        Name used in error messages.

    Returns
    -------
    n : int

    Examples
    --------
    >>> from skpref.active._base import check_query_size
    >>> check_query_size(3, 10, owner="demo")
    3
    """
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(
            f"{owner} selects n pairs, a positive integer; got n={n!r}. Ask for at "
            "least one pair."
        )
    if n > n_pool:
        raise ValueError(
            f"{owner} was asked for n={n} pairs but the pool holds only {n_pool}; "
            "lower n (the query size or budget) or add pairs to the pool."
        )
    return int(n)


def check_selection(indices, n, n_pool, *, owner):
    """Check what a strategy returned: ``n`` distinct row indices of the pool.

    A strategy may be any function; what it returns is checked here so that a
    wrong selection is an error naming it, never a silently wrong label set.

    Parameters
    ----------
    indices : array-like of int
        The strategy's answer.
    n : int
        Pairs asked for.
    n_pool : int
        Pairs in the pool.
    owner : str
        The strategy's name, used in error messages.

    Returns
    -------
    indices : ndarray of shape (n,), dtype int64

    Examples
    --------
    >>> from skpref.active._base import check_selection
    >>> check_selection([4, 0], 2, 5, owner="demo").tolist()
    [4, 0]
    """
    values = np.asarray(indices)
    whole_floats = values.dtype.kind == "f" and np.all(values == np.round(values))
    integral = values.dtype.kind in "iu" or bool(whole_floats)
    if values.ndim != 1 or not integral:
        raise ValueError(
            f"The strategy {owner} must return a 1-d array of integer row indices "
            f"of X_pool; it returned {values.dtype} values of shape {values.shape}."
        )
    values = values.astype(np.int64)
    if len(values) != n:
        raise ValueError(
            f"The strategy {owner} was asked for {n} pairs but returned "
            f"{len(values)} indices; it must return exactly n."
        )
    if np.any((values < 0) | (values >= n_pool)):
        raise ValueError(
            f"The strategy {owner} returned the index "
            f"{int(values[(values < 0) | (values >= n_pool)][0])}, outside the pool "
            f"of {n_pool} pairs (0..{n_pool - 1})."
        )
    if len(np.unique(values)) != len(values):
        raise ValueError(
            f"The strategy {owner} returned an index twice; a pair can be bought "
            "only once, so the indices must be distinct."
        )
    return values


def rank_by_score(scores, n, random_state):
    """Return the indices of the ``n`` highest scores, best first, ties at random.

    Parameters
    ----------
    scores : ndarray of shape (n_pool,)
        Higher means more worth a label.
    n : int
        Pairs to take.
    random_state : RandomState
        Breaks ties (e.g. among pairs every member is sure of).

    Returns
    -------
    indices : ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.active._base import rank_by_score
    >>> rank_by_score(np.array([0.1, 0.9, 0.5]), 2, np.random.RandomState(0)).tolist()
    [1, 2]
    """
    tie_break = random_state.random_sample(len(scores))
    return np.lexsort((tie_break, -np.asarray(scores)))[:n]


class BaseQueryStrategy(BaseEstimator):
    """Base of skpref's query strategies: check the input, rank, take the top.

    Subclasses declare their parameters in ``_parameter_constraints`` and
    implement ``_select(model, X_pool, n, side_information, random_state)`` on
    checked input (``X_pool`` a float array, ``n`` in ``1..n_pool``,
    ``random_state`` a ``RandomState``). Strategies keep no state: ``select``
    may be called with any model and pool.
    """

    _parameter_constraints = {}

    def select(self, model, X_pool, n, *, side_information=None, random_state=None):
        """Choose the ``n`` pairs of the pool to label next.

        Parameters
        ----------
        model : fitted reward model or None
            The current model (what it needs depends on the strategy).
        X_pool : array-like of shape (n_pool, n_features)
            Unlabelled pairs, in the model's pair layout.
        n : int
            Pairs to select, ``1 <= n <= n_pool``.
        side_information : array-like of shape (n_pool, ...), default=None
            Per-pair information beyond ``X_pool`` (e.g. latent factor
            differences), for the strategies that use it.
        random_state : int, RandomState instance or None, default=None
            Seeds random choices and breaks ties.

        Returns
        -------
        indices : ndarray of shape (n,)
            Distinct row indices of ``X_pool``, the pair most worth a label first.
        """
        owner = type(self).__name__
        self._validate_params()
        X_pool = check_pool(X_pool)
        n = check_query_size(n, len(X_pool), owner=owner)
        rng = check_random_state(random_state)
        chosen = self._select(model, X_pool, n, side_information, rng)
        return check_selection(chosen, n, len(X_pool), owner=owner)

    def _select(self, model, X_pool, n, side_information, random_state):
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


def call_strategy(strategy, model, X_pool, n, side_information, random_state):
    """Run a strategy object or function and check its answer.

    Parameters
    ----------
    strategy : object with ``select`` or callable
        The strategy.
    model, X_pool, n, side_information, random_state
        As for :meth:`BaseQueryStrategy.select`.

    Returns
    -------
    indices : ndarray of shape (n,), dtype int64
    """
    select = strategy.select if hasattr(strategy, "select") else strategy
    chosen = select(
        model, X_pool, n, side_information=side_information, random_state=random_state
    )
    return check_selection(chosen, n, len(X_pool), owner=strategy_name(strategy))


def required_model_methods(strategy):
    """Return the methods a strategy needs of the model, nested strategies' too.

    Read from the ``_model_methods`` of skpref's strategies and of the strategies
    among their parameters; a plain function declares nothing.

    Examples
    --------
    >>> from skpref.active import BALDSampling, KCenterDiversity
    >>> from skpref.active._base import required_model_methods
    >>> sorted(required_model_methods(KCenterDiversity(BALDSampling())))
    ['decision_function_members']
    """
    needs = set(getattr(strategy, "_model_methods", ()))
    if isinstance(strategy, BaseEstimator):
        for value in strategy.get_params(deep=False).values():
            if hasattr(value, "select") or isinstance(value, BaseQueryStrategy):
                needs |= required_model_methods(value)
    return needs
