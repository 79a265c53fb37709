"""Limited latent positivity: training pairs with ``corr(delta_1, delta_2) = rho``."""

import numbers

import numpy as np
from sklearn.utils.validation import check_array

from skpref.model_selection._base import BaseRhoSplitter
from skpref.model_selection._sampling import correlation, sample_with_correlation
from skpref.utils import Interval, StrOptions, check_factor_pair

__all__ = ["LatentCorrelationSplitter"]


class _LatentStrategy(BaseRhoSplitter):
    """The latent strategy's index generator; reads ``rho``, ``factors``, ``tol``.

    :class:`LatentCorrelationSplitter` and
    :class:`~skpref.model_selection.RhoStratifiedSplitter` (``mode="latent"``) both
    draw their splits here.
    """

    def _latent_indices(self, X, groups, delta, which):
        """Yield ``(train, test, rho_train, rho_test)`` per repetition."""
        n_pairs, n_train, n_test = self._sizes(X)
        delta = self._delta(groups, delta, n_pairs)
        j, k = check_factor_pair(self.factors, delta.shape[1], owner=self._name)
        d1, d2 = delta[:, j], delta[:, k]
        for train_rng, test_rng in self._random_states():
            yield self._draw(d1, d2, n_train, n_test, train_rng, test_rng, which)

    def _delta(self, groups, delta, n_pairs):
        delta = self._side_information(groups, delta, "delta")
        if delta is None:
            raise ValueError(
                f"{self._name} needs the delta of each pair: call split(X, y, "
                "delta=delta), route it with metadata routing "
                "(GridSearchCV(...).fit(X, y, delta=delta)), or pass it as "
                "groups=delta when metadata routing is disabled."
            )
        delta = check_array(delta, dtype=np.float64, input_name="delta")
        if delta.shape[0] != n_pairs:
            raise ValueError(
                f"{self._name}: delta has {delta.shape[0]} rows but X has "
                f"{n_pairs}; delta must have one row per pair of X."
            )
        return delta

    def _draw(self, d1, d2, n_train, n_test, train_rng, test_rng, which):
        all_pairs = np.arange(d1.size)
        train, rho_train = self._sample(d1, d2, all_pairs, n_train, train_rng, None)
        rest = np.setdiff1d(all_pairs, train)
        if which == "out_of_distribution":
            eligible = rest[d1[rest] * d2[rest] < 0]
            test = self._take_test(eligible, n_test, test_rng, "disagreement-quadrant")
            return train, test, rho_train, correlation(d1[test], d2[test])
        size = min(n_train, rest.size // 2) if n_test is None else n_test
        test, rho_test = self._sample(d1, d2, rest, size, test_rng, rest.size)
        return train, test, rho_train, rho_test

    def _sample(self, d1, d2, pool, size, rng, left_after_training):
        """Draw ``size`` pairs of ``pool`` at ``rho``: training (None) or test."""
        chosen, achieved, (lo, hi) = sample_with_correlation(
            d1, d2, pool, size, self.rho, rng
        )
        which = "training" if left_after_training is None else "in-distribution test"
        if chosen is None and left_after_training is None:
            raise ValueError(
                f"{self._name} needs at least 3 training pairs; got train_size="
                f"{self.train_size!r} ({size} pairs)."
            )
        if chosen is None:
            raise ValueError(
                f"{self._name} has {left_after_training} pairs left after training; "
                f"it cannot draw {size} in-distribution test pairs (at least 3 are "
                "needed). Lower train_size or test_size."
            )
        self._check_reached(achieved, lo, hi, which, size)
        return chosen, achieved

    def _check_reached(self, achieved, lo, hi, which, size):
        if abs(achieved - self.rho) <= self.tol:
            return
        if self.rho > hi:
            bound = f"the highest it can reach is {hi:.3f}"
        elif self.rho < lo:
            bound = f"the lowest it can reach is {lo:.3f}"
        else:
            bound = f"the closest it reached is {achieved:.3f}"
        raise ValueError(
            f"{self._name} cannot draw {size} {which} pairs with corr(delta) = "
            f"{self.rho} (tolerance {self.tol}) from these data: {bound}. Use a "
            "rho in that range, a smaller train_size or test_size, or more pairs."
        )


class LatentCorrelationSplitter(_LatentStrategy):
    """Splits whose training pairs have a chosen correlation of two latent factors.

    The protocol of the paper's Table 1 (limited latent positivity, appendix D.2).
    Given the latent factor differences ``delta = z_a - z_b`` of each pair, each of
    the ``n_splits`` repetitions draws a training set with
    ``corr(delta_j, delta_k) = rho`` (``(j, k) = factors``) and a disjoint test set:
    in-distribution (drawn the same way, with the same ``rho``) or
    out-of-distribution (only pairs in the disagreement quadrants
    ``delta_j * delta_k < 0``, where the two factors pull in opposite directions).

    The training indices of a repetition depend only on the data, ``rho``,
    ``train_size`` and ``random_state``, not on ``test``. ``delta`` follows the
    rows of ``X`` through cross-validation as metadata, requested by default:
    ``split(X, y, delta=...)``, ``GridSearchCV(..., cv=splitter).fit(X, y,
    delta=delta)`` under ``sklearn.set_config(enable_metadata_routing=True)``, or
    ``groups=delta`` without metadata routing.

    Parameters
    ----------
    rho : float, default=0.0
        Target ``corr(delta_j, delta_k)`` of the training pairs, in ``[-1, 1]``.
    n_splits : int, default=5
        Number of independent repetitions.
    train_size : float or int, default=0.5
        Number of training pairs, or their share of all pairs.
    test_size : float, int or None, default=None
        Number of test pairs, or their share of all pairs. ``None`` takes every
        disagreement-quadrant pair left after training (out-of-distribution), or
        as many pairs as the training set or half of the pairs left, whichever is
        smaller (in-distribution).
    test : {"out_of_distribution", "in_distribution"}, \
default="out_of_distribution"
        Which test pairs.
    factors : tuple of two int, default=(0, 1)
        The two columns of ``delta`` whose correlation is controlled.
    tol : float, default=0.02
        Largest accepted ``|achieved rho - rho|``.
    random_state : int, RandomState instance or None, default=None
        Seed of the sampling; an int gives the same splits on every call.

    See Also
    --------
    RhoStratifiedSplitter : This splitter and :class:`ObjectiveConfoundingSplitter`
        behind one class, chosen by ``mode``.
    skpref.causal.latent_positivity_report : How much latent positivity the data
        have before splitting.

    Notes
    -----
    The training pairs are drawn without replacement with weights
    ``exp(theta * s)``, ``theta`` found by bisection on the achieved correlation;
    ``s`` is the product of the standardised differences (an exponential tilt that
    keeps Gaussian ``delta`` Gaussian) or, where ``rho`` lies beyond what that
    reaches, ``sin(2 phi)``, ``phi`` the angle of the standardised ``delta``. A
    ``rho`` beyond what the data allow at the sizes asked for is an error that
    names the highest (or lowest) correlation reachable.

    References
    ----------
    Kobalczyk, K. and van der Schaar, M. "Preference Learning for AI Alignment: a
    Causal Perspective", ICML 2025: Table 1 and appendix D.2.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.model_selection import LatentCorrelationSplitter
    >>> delta = np.random.default_rng(0).normal(size=(400, 2))
    >>> cv = LatentCorrelationSplitter(rho=0.6, n_splits=2, train_size=100,
    ...                                test_size=50, random_state=0)
    >>> for train, test in cv.split(delta, delta=delta):
    ...     assert not set(train) & set(test)
    ...     assert np.all(delta[test, 0] * delta[test, 1] < 0)
    >>> info = cv.split_info(delta, delta=delta)
    >>> info[["n_train", "n_test"]].to_numpy().tolist()
    [[100, 50], [100, 50]]
    >>> bool(np.allclose(info["rho_train"], 0.6, atol=0.02))
    True
    """

    __metadata_request__split = {"groups": True, "delta": True}

    _parameter_constraints = {
        **BaseRhoSplitter._common_constraints,
        "rho": [Interval(numbers.Real, -1, 1, closed="both")],
        "test": [StrOptions({"in_distribution", "out_of_distribution"})],
        "factors": [tuple],
        "tol": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        *,
        rho=0.0,
        n_splits=5,
        train_size=0.5,
        test_size=None,
        test="out_of_distribution",
        factors=(0, 1),
        tol=0.02,
        random_state=None,
    ):
        self.rho = rho
        self.n_splits = n_splits
        self.train_size = train_size
        self.test_size = test_size
        self.test = test
        self.factors = factors
        self.tol = tol
        self.random_state = random_state

    def split(self, X, y=None, groups=None, *, delta=None):
        """Generate training and test indices, ``n_splits`` times.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features)
            Pair features (only their number of rows is used).
        y : array-like of shape (n_pairs,), default=None
            Ignored.
        groups : array-like of shape (n_pairs, n_factors), default=None
            ``delta`` when it cannot be passed by name (metadata routing
            disabled).
        delta : array-like of shape (n_pairs, n_factors), default=None
            Latent factor differences ``z_a - z_b`` of each pair.

        Yields
        ------
        train : ndarray of int
            Training indices.
        test : ndarray of int
            Test indices, disjoint from ``train``.
        """
        yield from self._split(X, groups, delta=delta)

    def split_info(self, X, y=None, groups=None, *, delta=None):
        """Describe the splits that :meth:`split` yields for the same arguments.

        With an int ``random_state`` the description matches ``split`` exactly.

        Parameters
        ----------
        X, y, groups, delta
            As for :meth:`split`.

        Returns
        -------
        info : pandas.DataFrame
            One row per repetition, indexed by ``split``, with ``n_train``,
            ``n_test``, ``rho_train`` and ``rho_test`` (the achieved
            correlations) and ``test``.
        """
        return self._split_info(X, groups, delta=delta)

    def _iter_indices(self, X, groups, *, delta=None):
        self._validate_params()
        yield from self._latent_indices(X, groups, delta, self.test)
