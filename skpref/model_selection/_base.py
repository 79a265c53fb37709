"""The base of the rho-controlled splitters: one ``_iter_indices`` per strategy.

As in scikit-learn's ``BaseShuffleSplit``, the base owns what every strategy
shares (the parameters ``n_splits``, ``train_size``, ``test_size`` and
``random_state``, the seeds of the repetitions, ``split`` and ``split_info``); each
strategy only says, in ``_iter_indices``, how one repetition's training and test
pairs are drawn.
"""

import numbers
from abc import abstractmethod

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state

from skpref.utils import (
    Interval,
    RealNotInt,
    num_samples,
    validate_parameter_constraints,
)

__all__ = ["BaseRhoSplitter"]


class BaseRhoSplitter(BaseCrossValidator):
    """Shared machinery of the splitters that control a dependence ``rho``.

    Subclasses declare their own parameters in ``_parameter_constraints`` (on top
    of :attr:`_common_constraints`), define ``split`` and ``split_info`` with their
    side information as keyword arguments, and implement ``_iter_indices``.
    """

    _common_constraints = {
        "n_splits": [Interval(numbers.Integral, 1, None, closed="left")],
        "train_size": [
            Interval(RealNotInt, 0, 1, closed="neither"),
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "test_size": [
            Interval(RealNotInt, 0, 1, closed="neither"),
            Interval(numbers.Integral, 1, None, closed="left"),
            None,
        ],
        "random_state": ["random_state"],
    }

    @property
    def _name(self):
        """Who speaks in error messages."""
        return type(self).__name__

    def get_n_splits(self, X=None, y=None, groups=None, **metadata):
        """Return the number of repetitions, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored, present for API compatibility.
        **metadata : dict
            Ignored (the side information), accepted so that the same metadata can
            be routed here as to ``split``.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits

    def _validate_params(self):
        params = {name: getattr(self, name) for name in self._parameter_constraints}
        validate_parameter_constraints(
            self._parameter_constraints, params, caller_name=type(self).__name__
        )

    def _sizes(self, X):
        """Return ``n_pairs`` and the numbers of training and test pairs."""
        n_pairs = num_samples(X)
        return (
            n_pairs,
            self._resolve_size(self.train_size, n_pairs, "train_size"),
            self._resolve_size(self.test_size, n_pairs, "test_size"),
        )

    def _resolve_size(self, size, n_pairs, name):
        if size is None:
            return None
        if isinstance(size, numbers.Integral):
            n = int(size)
        else:
            n = int(np.floor(size * n_pairs))
        if n > n_pairs:
            raise ValueError(
                f"{self._name}: {name}={size!r} asks for {n} pairs but X has only "
                f"{n_pairs}; lower {name}."
            )
        if n == 0:  # a share of too few pairs: an empty fold scores nothing
            raise ValueError(
                f"{self._name}: {name}={size!r} of {n_pairs} pairs is less than one "
                f"pair; raise {name}, or give it as a number of pairs."
            )
        return n

    def _random_states(self):
        """One (training, test) pair of random states per repetition.

        The training draw has its own stream, so the training pairs of a
        repetition do not depend on which test set is asked for.
        """
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=(self.n_splits, 2))
        for train_seed, test_seed in seeds:
            yield np.random.RandomState(train_seed), np.random.RandomState(test_seed)

    def _side_information(self, groups, value, name):
        """Return ``value``, given by name or as ``groups`` (exactly one of them)."""
        if value is not None and groups is not None:
            raise ValueError(
                f"{self._name} got both groups and {name}; pass {name} once, by name "
                "(metadata routing) or as groups (without it)."
            )
        return groups if value is None else value

    def _take_test(self, eligible, n_test, rng, what):
        """Draw ``n_test`` of the ``eligible`` pairs (all of them for None).

        An empty test set is an error, not an empty fold: nothing could score it,
        and ``cross_val_score`` would report NaN.
        """
        if eligible.size == 0:
            raise ValueError(
                f"{self._name}: no {what} pairs are left for testing once the "
                f"training pairs are drawn. Lower train_size, change rho, or test "
                "on other pairs."
            )
        if n_test is None:
            return eligible
        if n_test > eligible.size:
            raise ValueError(
                f"{self._name} has only {eligible.size} {what} pairs left after "
                f"training; it cannot draw test_size={self.test_size!r} "
                f"({n_test} pairs). Use test_size <= {eligible.size} or None."
            )
        return np.sort(rng.choice(eligible, n_test, replace=False))

    @abstractmethod
    def _iter_indices(self, X, groups, **side):
        """Yield ``(train, test, rho_train, rho_test)`` for each repetition."""

    def _split(self, X, groups, **side):
        for train, test, _, _ in self._iter_indices(X, groups, **side):
            yield train, test

    def _split_info(self, X, groups, **side):
        rows = [
            {
                "split": i,
                "n_train": train.size,
                "n_test": test.size,
                "rho_train": rho_train,
                "rho_test": rho_test,
                "test": self.test,
            }
            for i, (train, test, rho_train, rho_test) in enumerate(
                self._iter_indices(X, groups, **side)
            )
        ]
        return pd.DataFrame(rows).set_index("split")
