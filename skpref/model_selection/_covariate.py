"""Covariate shift: training pairs whose label follows a covariate with rate ``rho``.

A reward model trained where the preferred response is usually the longer one
learns length; it is found out on pairs where the preferred response is the
shorter one. :class:`CovariateShiftSplitter` builds such folds from any pairs and
any per-pair covariate difference, so that the strength of a remedy (an
invariance weight, an eraser) can be chosen by cross-validation under the shift
it must survive.
"""

import numbers

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array

from skpref.covariates import covariate_differences
from skpref.model_selection._base import BaseRhoSplitter
from skpref.utils import Interval, StrOptions

__all__ = ["CovariateShiftSplitter"]


class CovariateShiftSplitter(BaseRhoSplitter):
    """Splits whose training labels follow a covariate; the test labels do not.

    Call a pair *aligned* when its preferred response has more of the covariate
    (is the longer one, for a length): ``sign(z_a - z_b)`` agrees with the label.
    Each of the ``n_splits`` repetitions draws training pairs of which a share
    ``(1 + rho) / 2`` is aligned, so that the correlation of the label's sign and
    the covariate difference's sign is ``rho``, and a disjoint test set where the
    covariate says less, or the opposite:

    - ``test="reversed"``: a share ``(1 - rho) / 2`` aligned (correlation
      ``-rho``);
    - ``test="balanced"``: half aligned (correlation 0);
    - ``test="against"``: only pairs whose preferred response has less of the
      covariate (correlation -1), e.g. the shorter-chosen pairs;
    - ``test="natural"``: a random draw of the pairs left, as they come.

    Pairs whose covariate difference is 0, or whose label is a tie (0.5), say
    nothing about the shift and are in no fold. The covariate difference follows
    the rows of ``X`` as metadata, requested by default: ``split(X, y,
    covariates=...)``, ``GridSearchCV(..., cv=splitter).fit(X, y,
    covariates=Z)`` under ``sklearn.set_config(enable_metadata_routing=True)``,
    or ``groups=...`` without it.

    Parameters
    ----------
    rho : float, default=0.6
        Correlation of the label's sign and the covariate difference's sign in the
        training pairs, in ``[-1, 1]``.
    n_splits : int, default=5
        Number of independent repetitions.
    train_size : float or int, default=0.5
        Number of training pairs, or their share of all pairs.
    test_size : float, int or None, default=None
        Number of test pairs, or their share of all pairs; None takes as many as
        the pairs left allow at the test's share of aligned pairs.
    test : {"reversed", "balanced", "against", "natural"}, default="reversed"
        Which test pairs.
    column : int or str, default=0
        The covariate used when ``covariates`` has several: a column position,
        or a name of a DataFrame.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws; an int gives the same splits on every call.

    See Also
    --------
    skpref.covariates.pair_covariates : Covariates of both responses of every
        pair, the ``covariates`` this splitter reads.
    RhoStratifiedSplitter : The paper's latent and confounding protocols.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.model_selection import CovariateShiftSplitter
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 1000)
    >>> length_difference = rng.normal(size=1000)
    >>> cv = CovariateShiftSplitter(rho=0.6, n_splits=2, train_size=200,
    ...                             test_size=100, random_state=0)
    >>> info = cv.split_info(y[:, None], y, covariates=length_difference)
    >>> info[["n_train", "n_test", "rho_train", "rho_test"]].to_numpy().tolist()
    [[200.0, 100.0, 0.6, -0.6], [200.0, 100.0, 0.6, -0.6]]
    """

    __metadata_request__split = {"groups": True, "covariates": True}

    _parameter_constraints = {
        **BaseRhoSplitter._common_constraints,
        "rho": [Interval(numbers.Real, -1, 1, closed="both")],
        "test": [StrOptions({"reversed", "balanced", "against", "natural"})],
        "column": [numbers.Integral, str],
    }

    def __init__(
        self,
        *,
        rho=0.6,
        n_splits=5,
        train_size=0.5,
        test_size=None,
        test="reversed",
        column=0,
        random_state=None,
    ):
        self.rho = rho
        self.n_splits = n_splits
        self.train_size = train_size
        self.test_size = test_size
        self.test = test
        self.column = column
        self.random_state = random_state

    def split(self, X, y=None, groups=None, *, covariates=None):
        """Generate training and test indices, ``n_splits`` times.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features)
            Pairs (only their number of rows is used).
        y : array-like of shape (n_pairs,)
            Labels: ``1`` where a is preferred; soft labels by their side of 0.5.
        groups : array-like, default=None
            ``covariates`` when it cannot be passed by name (metadata routing
            disabled).
        covariates : array-like of shape (n_pairs,) or (n_pairs, n_covariates), \
or pandas.DataFrame
            The covariate difference ``z_a - z_b`` of each pair (positive where
            a has more), several of them (``column`` picks one), or a table of
            ``<name>_a | <name>_b`` columns as
            :func:`~skpref.covariates.pair_covariates` returns. An array of
            exactly two unnamed columns is refused: the reward models read it
            as ``z_a | z_b``, and the same covariates are routed to both in a
            search; name its columns.

        Yields
        ------
        train : ndarray of int
            Training indices.
        test : ndarray of int
            Test indices, disjoint from ``train``.
        """
        yield from self._split(X, groups, y=y, covariates=covariates)

    def split_info(self, X, y=None, groups=None, *, covariates=None):
        """Describe the splits that :meth:`split` yields for the same arguments.

        Parameters
        ----------
        X, y, groups, covariates
            As for :meth:`split`.

        Returns
        -------
        info : pandas.DataFrame
            One row per repetition, indexed by ``split``, with ``n_train``,
            ``n_test``, ``rho_train`` and ``rho_test`` (the achieved correlations
            of the signs) and ``test``.
        """
        return self._split_info(X, groups, y=y, covariates=covariates)

    def _difference(self, groups, covariates, n_pairs):
        covariates = self._side_information(groups, covariates, "covariates")
        if covariates is None:
            raise ValueError(
                f"{self._name} needs each pair's covariate difference: call "
                "split(X, y, covariates=z_a - z_b), route it with metadata routing "
                "(GridSearchCV(...).fit(X, y, covariates=...)), or pass it as "
                "groups=... when metadata routing is disabled."
            )
        named = isinstance(covariates, pd.DataFrame)
        if named:
            if any(str(c).endswith(("_a", "_b")) for c in covariates.columns):
                covariates = covariate_differences(covariates)
            if isinstance(self.column, str):
                if self.column not in covariates.columns:
                    raise ValueError(
                        f"{self._name}: column={self.column!r} is not a covariate "
                        f"of covariates; got {list(covariates.columns)}."
                    )
                covariates = covariates[[self.column]]
        elif isinstance(self.column, str):
            raise ValueError(
                f"{self._name}: column={self.column!r} names a column, but "
                "covariates is not a DataFrame; give the column's position."
            )
        values = check_array(
            covariates, dtype=np.float64, ensure_2d=False, input_name="covariates"
        )
        if values.ndim == 2 and values.shape[1] == 2 and not named:
            # the same object, routed to a model as well, is z_a | z_b there
            raise ValueError(
                f"{self._name} got covariates as an array of two unnamed columns, "
                "which the reward models and covariate_leakage read as the "
                "covariate of response a and of response b, and this splitter "
                "would read as two covariate differences. Pass a DataFrame with "
                "columns '<name>_a' and '<name>_b' "
                "(skpref.covariates.pair_covariates), which every component reads "
                "alike, or the difference z_a - z_b as one column."
            )
        if values.ndim == 2:
            position = 0 if isinstance(self.column, str) else self.column
            if not -values.shape[1] <= position < values.shape[1]:
                raise ValueError(
                    f"{self._name}: column={self.column!r} is out of range for the "
                    f"{values.shape[1]} covariates given."
                )
            values = values[:, position]
        if values.shape[0] != n_pairs:
            raise ValueError(
                f"{self._name}: covariates has {values.shape[0]} rows but X has "
                f"{n_pairs}; give one per pair of X."
            )
        return values

    def _iter_indices(self, X, groups, *, y=None, covariates=None):
        self._validate_params()
        n_pairs, n_train, n_test = self._sizes(X)
        difference = self._difference(groups, covariates, n_pairs)
        if y is None:
            raise ValueError(f"{self._name} reads the labels: call split(X, y, ...).")
        y = check_array(y, dtype=np.float64, ensure_2d=False, input_name="y")
        if y.shape != (n_pairs,):
            raise ValueError(
                f"{self._name}: y has shape {y.shape} but X has {n_pairs} pairs."
            )
        informative = (difference != 0) & (y != 0.5)
        aligned = (difference > 0) == (y > 0.5)
        strata = (
            np.flatnonzero(informative & aligned),
            np.flatnonzero(informative & ~aligned),
        )
        for train_rng, test_rng in self._random_states():
            train = self._draw(strata, n_train, (1 + self.rho) / 2, train_rng, None)
            left = [np.setdiff1d(stratum, train) for stratum in strata]
            test = self._test(left, n_test, test_rng)
            yield (
                train,
                test,
                self._rho(aligned[train]),
                self._rho(aligned[test]),
            )

    @staticmethod
    def _rho(aligned):
        """Return the correlation of the signs for balanced labels: 2 P(aligned) - 1."""
        return float(round(2 * aligned.mean() - 1, 6))

    def _test(self, left, n_test, rng):
        if self.test == "natural":
            pool = np.sort(np.concatenate(left))
            if n_test is None:
                return pool
            return self._take_test(pool, n_test, rng, "informative")
        share = {"reversed": (1 - self.rho) / 2, "balanced": 0.5, "against": 0.0}
        share = share[self.test]
        if n_test is None:  # as many as the pairs left allow at this share
            limits = [
                len(left[0]) / share if share > 0 else np.inf,
                len(left[1]) / (1 - share) if share < 1 else np.inf,
            ]
            n_test = int(np.floor(min(limits)))
        return self._draw(left, n_test, share, rng, self.test)

    def _draw(self, strata, size, share, rng, test):
        """Draw ``size`` pairs, ``round(share * size)`` of them aligned."""
        n_aligned = int(round(share * size))
        counts = (n_aligned, size - n_aligned)
        which = "training" if test is None else f"{test} test"
        if size == 0:
            raise ValueError(
                f"{self._name}: no {which} pairs can be drawn; lower train_size, "
                "change rho, or give more pairs."
            )
        for stratum, count, kind in zip(
            strata, counts, ("aligned", "unaligned"), strict=True
        ):
            if count > len(stratum):
                raise ValueError(
                    f"{self._name} needs {count} {kind} pairs (preferred response "
                    f"with {'more' if kind == 'aligned' else 'less'} of the "
                    f"covariate) for {size} {which} pairs at rho={self.rho}, but "
                    f"only {len(stratum)} are left. Lower train_size or "
                    "test_size, or move rho towards what the data hold."
                )
        chosen = [
            rng.choice(stratum, count, replace=False)
            for stratum, count in zip(strata, counts, strict=True)
        ]
        return np.sort(np.concatenate(chosen)).astype(np.intp)
