"""Confounding by the labeller's objective: training pairs with ``P(t = c) = rho``."""

import numbers

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array

from skpref.model_selection._base import BaseRhoSplitter
from skpref.model_selection._sampling import confounded_capacity, sample_confounded
from skpref.utils import Interval, StrOptions, encode_objective_and_prompt_type

__all__ = ["ObjectiveConfoundingSplitter"]


class _ConfoundingStrategy(BaseRhoSplitter):
    """The confounding strategy's index generator; reads ``rho`` and ``tol``.

    It also reads the columns and the coding of the objective and prompt type.

    :class:`ObjectiveConfoundingSplitter` and
    :class:`~skpref.model_selection.RhoStratifiedSplitter` (``mode="confounding"``)
    both draw their splits here.
    """

    def _confounding_indices(self, X, groups, prompt_type, objective, which):
        """Yield ``(train, test, rho_train, rho_test)`` per repetition."""
        n_pairs, n_train, n_test = self._sizes(X)
        objective, prompt_type = self._objective_and_prompt_type(
            X, groups, prompt_type, objective
        )
        if objective.size != n_pairs:
            raise ValueError(
                f"{self._name}: objective and prompt_type have {objective.size} "
                f"entries but X has {n_pairs} pairs; give one per pair of X."
            )
        n_objectives = np.unique(objective).size
        per_objective = n_train // n_objectives
        if per_objective == 0:
            raise ValueError(
                f"{self._name} needs at least one training pair per objective "
                f"({n_objectives} objectives); got train_size={self.train_size!r}."
            )
        self._check_reachable(per_objective * n_objectives, "training")
        all_pairs = np.arange(objective.size)
        consistent = prompt_type == objective
        for train_rng, test_rng in self._random_states():
            train = sample_confounded(
                prompt_type, objective, all_pairs, per_objective, self.rho, train_rng
            )
            if train is None:
                capacity = confounded_capacity(
                    prompt_type, objective, all_pairs, self.rho
                )
                self._raise_unreachable(capacity, per_objective, n_objectives)
            rest = np.setdiff1d(all_pairs, train)
            if which == "in_distribution":
                test = self._in_distribution_test(
                    prompt_type, objective, rest, n_objectives, n_test, test_rng
                )
            else:
                keep = consistent[rest] == (which == "consistent")
                test = self._take_test(rest[keep], n_test, test_rng, which)
            yield (
                train,
                test,
                float(consistent[train].mean()),
                float(consistent[test].mean()),
            )

    def _check_reachable(self, n, what):
        """Raise if no share of consistent pairs among ``n`` is within ``tol``."""
        closest = np.floor(self.rho * n + 0.5) / n
        if abs(closest - self.rho) <= self.tol + 1e-12:
            return
        raise ValueError(
            f"{self._name} cannot draw {n} {what} pairs with P(t = c) = "
            f"{self.rho}: the share of consistent pairs among {n} moves in steps "
            f"of 1/{n}, and the closest, {closest:.3f}, is "
            f"{abs(closest - self.rho):.3f} from rho (tol={self.tol}). Choose a "
            f"size for which rho * size is a whole number, or raise tol."
        )

    def _in_distribution_test(self, prompt_type, objective, rest, k, n_test, rng):
        largest = confounded_capacity(prompt_type, objective, rest, self.rho)[2]
        size = largest if n_test is None else n_test
        if size >= k:
            self._check_reachable(size // k * k, "in-distribution test")
        test = sample_confounded(prompt_type, objective, rest, size // k, self.rho, rng)
        if test is None or test.size == 0:
            raise ValueError(
                f"{self._name} cannot draw {size} in-distribution test pairs with "
                f"P(t = c) = {self.rho} from the {rest.size} pairs left after "
                f"training; at most {largest} can be drawn. Lower test_size or "
                "train_size."
            )
        return test

    def _raise_unreachable(self, capacity, per_objective, k):
        n_consistent, n_inconsistent, max_train = capacity
        rho_high = min(1.0, n_consistent.min() / per_objective)
        rho_low = max(0.0, 1 - n_inconsistent.min() / per_objective)
        reach = (
            f"at this size rho must lie in [{rho_low:.3f}, {rho_high:.3f}]"
            if rho_low <= rho_high
            else "at this size no rho can be reached (an objective lacks consistent "
            "pairs, another inconsistent ones)"
        )
        raise ValueError(
            f"{self._name} cannot draw {per_objective * k} training pairs "
            f"({per_objective} per objective) with P(t = c) = {self.rho}: at this "
            f"rho the data allow at most {max_train} training pairs, and {reach}. "
            "Lower train_size or change rho."
        )

    def _objective_and_prompt_type(self, X, groups, prompt_type, objective):
        frame = X if isinstance(X, pd.DataFrame) else None
        if objective is None:
            objective = self._objective_from_X(X, frame)
        prompt_type = self._side_information(groups, prompt_type, "prompt_type")
        if prompt_type is None:
            if frame is None or self.prompt_type_column not in frame.columns:
                where = (
                    f", or keep it in the column {self.prompt_type_column!r} of X"
                    if frame is not None
                    else ""
                )
                raise ValueError(
                    f"{self._name} needs the prompt_type of each pair: call "
                    "split(X, y, prompt_type=prompt_type), route it with metadata "
                    "routing (GridSearchCV(...).fit(X, y, prompt_type=prompt_type)), "
                    "or pass it as groups=prompt_type when metadata routing is "
                    f"disabled{where}."
                )
            prompt_type = frame[self.prompt_type_column]
        objective, prompt_type, _ = encode_objective_and_prompt_type(
            objective, prompt_type, self.objective_categories, owner=self._name
        )
        return objective, prompt_type

    def _objective_from_X(self, X, frame):
        if frame is not None and self.objective_column in frame.columns:
            return frame[self.objective_column]
        if frame is not None and not all(
            pd.api.types.is_numeric_dtype(dtype) for dtype in frame.dtypes
        ):
            raise ValueError(
                f"{self._name} reads each pair's objective from the column "
                f"{self.objective_column!r} of a DataFrame X, but X has the columns "
                f"{list(frame.columns)[:8]}. Set objective_column, or pass "
                "objective=... to split."
            )
        X = check_array(X, dtype=None, ensure_all_finite=False, input_name="X")
        last = X[:, -1]
        try:
            return last.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{self._name} reads each pair's objective from the last column of "
                f"a numeric X (the pair contract [a | b | objective]); it holds "
                f"{last[0]!r}. Pass X as a DataFrame with an "
                f"{self.objective_column!r} column, or objective=... to split."
            ) from None


class ObjectiveConfoundingSplitter(_ConfoundingStrategy):
    """Splits whose training pairs confound the prompt type with the objective.

    The protocol of the paper's Table 2 (appendix E.1). Each pair has a prompt
    type ``t`` and the objective ``c`` of its labeller, coded alike; a pair is
    *consistent* when ``t = c``. Each of the ``n_splits`` repetitions draws a
    training set with ``P(t = c) = rho`` and the same number of pairs per
    objective, and a disjoint test set of consistent pairs, inconsistent pairs
    (``t != c``: "what would a helpfulness-focused labeller prefer on a harmless
    prompt?") or in-distribution pairs (the same ``rho``).

    Objectives and prompt types may be names (``"helpful"``), integer ids or pandas
    ``Categorical`` columns; they are compared in one coding
    (``objective_categories``, else a Categorical's categories, else the sorted
    names). Where they come from, first found first:

    - the objective: ``split(..., objective=...)``, else the column
      ``objective_column`` of a DataFrame ``X`` (a text frame), else the last
      column of a numeric ``X`` (the pair contract ``[a | b | objective]``);
    - the prompt type: ``split(..., prompt_type=...)`` or ``groups``, else the
      column ``prompt_type_column`` of a DataFrame ``X``.

    ``objective`` and ``prompt_type`` are requested as metadata by default, so
    ``GridSearchCV(..., cv=splitter).fit(X, y, prompt_type=t)`` routes them here
    under ``sklearn.set_config(enable_metadata_routing=True)``; without it,
    ``fit(X, y, groups=t)`` does.

    Parameters
    ----------
    rho : float, default=0.5
        Target share of consistent training pairs ``P(t = c)``, in ``[0, 1]``.
    n_splits : int, default=5
        Number of independent repetitions.
    train_size : float or int, default=0.5
        Number of training pairs, or their share of all pairs; rounded down to a
        multiple of the number of objectives.
    test_size : float, int or None, default=None
        Number of test pairs, or their share of all pairs. ``None`` takes every
        consistent (inconsistent) pair left after training, or, for
        in-distribution tests, the largest set with the same ``rho``.
        In-distribution test sets are rounded down to a multiple of the number
        of objectives, like the training set.
    test : {"inconsistent", "consistent", "in_distribution"}, \
default="inconsistent"
        Which test pairs.
    objective_column : str, default="objective"
        Column of a DataFrame ``X`` holding the objective.
    prompt_type_column : str, default="prompt_type"
        Column of a DataFrame ``X`` holding the prompt type.
    objective_categories : array-like of str or None, default=None
        Objective names in id order (e.g. :data:`skpref.datasets.OBJECTIVES`),
        needed only to compare names with ids.
    tol : float, default=0.02
        Largest accepted ``|achieved rho - rho|``. The share of consistent pairs
        in ``n`` pairs moves in steps of ``1 / n`` (the closest one is drawn, the
        consistent pairs spread over the objectives as evenly as they go), so a
        small training or in-distribution test set may not hold ``rho``: that is
        an error, not a silently different ``rho``.
    random_state : int, RandomState instance or None, default=None
        Seed of the sampling; an int gives the same splits on every call.

    See Also
    --------
    RhoStratifiedSplitter : This splitter and :class:`LatentCorrelationSplitter`
        behind one class, chosen by ``mode``.
    skpref.causal.objective_overlap_report : How well the objective can be
        predicted from the pair features.

    References
    ----------
    Kobalczyk, K. and van der Schaar, M. "Preference Learning for AI Alignment: a
    Causal Perspective", ICML 2025: Table 2 and appendix E.1.

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.model_selection import ObjectiveConfoundingSplitter
    >>> frame = pd.DataFrame({
    ...     "objective": ["helpful", "harmless"] * 10,
    ...     "prompt_type": ["helpful"] * 10 + ["harmless"] * 10})
    >>> cv = ObjectiveConfoundingSplitter(rho=1.0, n_splits=1, train_size=8,
    ...                                   random_state=0)
    >>> train, test = next(cv.split(frame))
    >>> consistent = frame["objective"] == frame["prompt_type"]
    >>> bool(consistent[train].all()), bool((~consistent[test]).all())
    (True, True)
    >>> info = cv.split_info(frame)
    >>> info[["n_train", "n_test"]].to_numpy().tolist()
    [[8, 10]]
    >>> info[["rho_train", "rho_test"]].to_numpy().tolist()
    [[1.0, 0.0]]
    """

    __metadata_request__split = {"groups": True, "prompt_type": True, "objective": True}

    _parameter_constraints = {
        **BaseRhoSplitter._common_constraints,
        "rho": [Interval(numbers.Real, 0, 1, closed="both")],
        "test": [StrOptions({"consistent", "inconsistent", "in_distribution"})],
        "objective_column": [str],
        "prompt_type_column": [str],
        "objective_categories": ["array-like", None],
        "tol": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        *,
        rho=0.5,
        n_splits=5,
        train_size=0.5,
        test_size=None,
        test="inconsistent",
        objective_column="objective",
        prompt_type_column="prompt_type",
        objective_categories=None,
        tol=0.02,
        random_state=None,
    ):
        self.rho = rho
        self.n_splits = n_splits
        self.train_size = train_size
        self.test_size = test_size
        self.test = test
        self.objective_column = objective_column
        self.prompt_type_column = prompt_type_column
        self.objective_categories = objective_categories
        self.tol = tol
        self.random_state = random_state

    def split(self, X, y=None, groups=None, *, prompt_type=None, objective=None):
        """Generate training and test indices, ``n_splits`` times.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_pairs, n_features)
            Pairs: a numeric array whose last column is the objective, or a
            DataFrame (e.g. text) with the columns ``objective_column`` and,
            unless ``prompt_type`` is given, ``prompt_type_column``.
        y : array-like of shape (n_pairs,), default=None
            Ignored.
        groups : array-like of shape (n_pairs,), default=None
            The prompt types when they cannot be passed by name (metadata routing
            disabled).
        prompt_type : array-like of shape (n_pairs,), default=None
            Prompt type of each pair: an objective name or id.
        objective : array-like of shape (n_pairs,), default=None
            Objective of each pair's labeller, when ``X`` does not hold it.

        Yields
        ------
        train : ndarray of int
            Training indices.
        test : ndarray of int
            Test indices, disjoint from ``train``.
        """
        yield from self._split(X, groups, prompt_type=prompt_type, objective=objective)

    def split_info(self, X, y=None, groups=None, *, prompt_type=None, objective=None):
        """Describe the splits that :meth:`split` yields for the same arguments.

        With an int ``random_state`` the description matches ``split`` exactly.

        Parameters
        ----------
        X, y, groups, prompt_type, objective
            As for :meth:`split`.

        Returns
        -------
        info : pandas.DataFrame
            One row per repetition, indexed by ``split``, with ``n_train``,
            ``n_test``, ``rho_train`` and ``rho_test`` (the shares of consistent
            pairs) and ``test``.
        """
        return self._split_info(X, groups, prompt_type=prompt_type, objective=objective)

    def _iter_indices(self, X, groups, *, prompt_type=None, objective=None):
        self._validate_params()
        yield from self._confounding_indices(
            X, groups, prompt_type, objective, self.test
        )
