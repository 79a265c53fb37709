"""Strategies that buy the pairs positivity lacks (Assumption 5, section 3.2.1).

Under limited latent positivity the pairs that tell two factors' effects apart
are those whose factor differences disagree in sign (appendix D.1); under
confounding by the labeller's objective (section 4) they are the inconsistent
pairs, whose prompt type differs from the objective. Both strategies here take
these pairs first, given the side information that identifies them, and order
them (and fill up from the other pairs, once they run out) with any other
strategy.
"""

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_array

from skpref.active._base import BaseQueryStrategy, call_strategy
from skpref.active._random import RandomSampling
from skpref.utils import (
    HasMethods,
    Interval,
    check_factor_pair,
    encode_objective_and_prompt_type,
)

__all__ = ["DisagreementQuadrantSampling", "InconsistentPairSampling"]

_THEN = [HasMethods(["select"]), callable, None]


def _rows(side_information, rows):
    return None if side_information is None else side_information[rows]


class _SubsetFirstSampling(BaseQueryStrategy):
    """Take the pairs of a subset first, ordered by ``then``; fill up from the rest.

    Subclasses implement ``_eligible(X_pool, side_information) -> (mask,
    side_information)``: which pairs are wanted, and the side information as
    checked (an array, indexed along with the pool for ``then``).
    """

    def _select(self, model, X_pool, n, side_information, random_state):
        wanted, side_information = self._eligible(X_pool, side_information)
        then = RandomSampling() if self.then is None else self.then
        chosen = []
        for rows in (np.flatnonzero(wanted), np.flatnonzero(~wanted)):
            take = min(n - sum(len(c) for c in chosen), len(rows))
            if take == 0:
                continue
            picked = call_strategy(
                then,
                model,
                X_pool[rows],
                take,
                _rows(side_information, rows),
                random_state,
            )
            chosen.append(rows[picked])
        return np.concatenate(chosen)

    def _missing(self, what):
        return ValueError(
            f"{type(self).__name__} needs side_information: {what}. Pass it to "
            "select, or as side_information= to ActiveLearner.fit."
        )

    def _check_rows(self, side_information, n_pool):
        if len(side_information) != n_pool:
            raise ValueError(
                f"{type(self).__name__}: side_information has "
                f"{len(side_information)} rows but X_pool has {n_pool} pairs; give "
                "one row per pool pair, in the order of X_pool."
            )


class DisagreementQuadrantSampling(_SubsetFirstSampling):
    """Buy pairs whose two latent factors disagree: restore latent positivity.

    A pair is informative about how two latent factors trade off when their
    differences ``delta_j = z_j(a) - z_j(b)`` and ``delta_k`` have opposite signs
    (the second and fourth quadrants of the ``(delta_j, delta_k)`` plane,
    appendix D.1): only there does the label depend on the factors' relative
    weight. Training data with correlated factors (``rho = 0.9``) hold few such
    pairs (``1/2 - arcsin(rho)/pi``, 14%); this strategy buys them first.

    The side information is ``delta`` for every pool pair, or any estimate of
    it with the right signs (annotated factor scores, a factor probe's
    predictions): only the sign of ``delta_j * delta_k`` is used.

    Parameters
    ----------
    factors : tuple of two int, default=(0, 1)
        The two columns of ``side_information`` whose disagreement is sought.
    then : strategy or None, default=None
        Orders the disagreeing pairs (and the others, once those run out), e.g.
        :class:`BALDSampling` to take the disagreeing pairs the ensemble is
        least sure of; None: at random.

    See Also
    --------
    skpref.causal.latent_positivity_report : How many disagreeing pairs a
        training set has.
    InconsistentPairSampling : The same idea for confounding by the objective.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.active import DisagreementQuadrantSampling
    >>> delta = np.array([[1.0, 2.0], [1.0, -1.0], [-2.0, -1.0], [-1.0, 3.0]])
    >>> X_pool = np.zeros((4, 2))
    >>> picked = DisagreementQuadrantSampling().select(
    ...     None, X_pool, 2, side_information=delta, random_state=0)
    >>> sorted(picked.tolist())
    [1, 3]
    """

    _parameter_constraints = {"factors": [tuple, list], "then": _THEN}

    def __init__(self, *, factors=(0, 1), then=None):
        self.factors = factors
        self.then = then

    def _eligible(self, X_pool, side_information):
        owner = type(self).__name__
        if side_information is None:
            raise self._missing(
                "the latent factor differences delta (or estimates of them) of "
                "each pool pair, shape (n_pool, n_factors)"
            )
        delta = np.asarray(side_information)
        if delta.ndim != 2 or delta.shape[1] < 2:
            raise ValueError(
                f"{owner} expects side_information of shape (n_pool, n_factors) "
                "with n_factors >= 2 (the factor differences delta of each pool "
                f"pair); got shape {delta.shape}."
            )
        delta = check_array(delta, dtype=np.float64, input_name="side_information")
        self._check_rows(delta, len(X_pool))
        j, k = check_factor_pair(self.factors, delta.shape[1], owner=owner)
        return delta[:, j] * delta[:, k] < 0, delta


class InconsistentPairSampling(_SubsetFirstSampling):
    """Buy pairs whose prompt type differs from the labeller's objective.

    Under confounding by the objective (section 4, Example 4) labellers with
    objective ``c`` mostly see prompts of type ``c``, and the *inconsistent*
    pairs, prompt type ``t != c``, are rare or missing: what a helpfulness
    labeller prefers on a harmful prompt is never observed. This strategy buys
    those pairs first. The pool is in the multi-objective pair layout
    ``[a | b | objective]``; the side information is the prompt type of each
    pool pair, as ids in the objective coding or as names.

    The number of objectives is never read off the pool: a pool whose pairs all
    come from the helpfulness labellers (objective 0) may hold harmful prompts
    (type 1), and the pool shrinks as :class:`ActiveLearner` buys its pairs.

    Parameters
    ----------
    objective_categories : array-like of str or None, default=None
        The objective names in id order (e.g. :data:`skpref.datasets.OBJECTIVES`),
        needed when prompt types are given as names. It fixes the number of
        objectives ``K``.
    n_objectives : int or None, default=None
        Number of objectives ``K``: objective ids and prompt-type ids must then
        lie in ``0..K-1``, whichever of them the pool holds. ``None`` takes it
        from ``objective_categories`` if given, else accepts any non-negative
        integer id. Set it (or ``objective_categories``) to catch a prompt type
        coded outside the objectives.
    then : strategy or None, default=None
        Orders the inconsistent pairs (and the others, once those run out);
        None: at random.

    See Also
    --------
    DisagreementQuadrantSampling : The same idea for correlated latent factors.
    skpref.causal.objective_overlap_report : How much overlap the training set
        has.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.active import InconsistentPairSampling
    >>> X_pool = np.array([[0.1, 0.2, 0], [0.3, 0.1, 1], [0.2, 0.2, 0]])
    >>> prompt_type = ["helpful", "helpful", "harmless"]
    >>> strategy = InconsistentPairSampling(
    ...     objective_categories=["helpful", "harmless"])
    >>> sorted(strategy.select(None, X_pool, 2, side_information=prompt_type,
    ...                        random_state=0).tolist())
    [1, 2]

    Prompt types may name objectives that no pool pair is labelled under:

    >>> X_pool = np.array([[0.1, 0.2, 0], [0.3, 0.1, 0], [0.2, 0.2, 0]])
    >>> InconsistentPairSampling(n_objectives=2).select(
    ...     None, X_pool, 1, side_information=[0, 1, 0], random_state=0).tolist()
    [1]
    """

    _parameter_constraints = {
        "objective_categories": ["array-like", None],
        "n_objectives": [Interval(Integral, 1, None, closed="left"), None],
        "then": _THEN,
    }

    def __init__(self, *, objective_categories=None, n_objectives=None, then=None):
        self.objective_categories = objective_categories
        self.n_objectives = n_objectives
        self.then = then

    def _eligible(self, X_pool, side_information):
        owner = type(self).__name__
        if side_information is None:
            raise self._missing(
                "the prompt type of each pool pair (an objective id or name), "
                "shape (n_pool,)"
            )
        prompt_type = np.asarray(side_information)
        if prompt_type.ndim != 1:
            raise ValueError(
                f"{owner} expects side_information of shape (n_pool,), the prompt "
                f"type of each pool pair; got shape {prompt_type.shape}."
            )
        self._check_rows(prompt_type, len(X_pool))
        objective, prompt_ids, _ = encode_objective_and_prompt_type(
            X_pool[:, -1],
            side_information,
            self.objective_categories,
            n_objectives=self.n_objectives,
            owner=owner,
            names=("the objective column of X_pool", "side_information"),
        )
        return objective != prompt_ids, prompt_type
