"""One splitter for both of the paper's protocols, chosen by ``mode``.

:class:`RhoStratifiedSplitter` is the name the paper's users know; it checks that
``rho`` and ``test`` make sense for its ``mode`` and draws its splits with the index
generator of that mode's strategy, the one
:class:`~skpref.model_selection.LatentCorrelationSplitter` or
:class:`~skpref.model_selection.ObjectiveConfoundingSplitter` draws with.
"""

import numbers

from skpref.model_selection._base import BaseRhoSplitter
from skpref.model_selection._confounding import _ConfoundingStrategy
from skpref.model_selection._latent import _LatentStrategy
from skpref.utils import Interval, StrOptions

__all__ = ["RhoStratifiedSplitter"]

_OWNER = "RhoStratifiedSplitter"
_TESTS = {
    "latent": ("in_distribution", "out_of_distribution"),
    "confounding": (
        "in_distribution",
        "out_of_distribution",
        "consistent",
        "inconsistent",
    ),
}
# The side information each mode reads; the other mode's is refused, not ignored.
_SIDE = {"latent": ("delta",), "confounding": ("prompt_type", "objective")}


class RhoStratifiedSplitter(_LatentStrategy, _ConfoundingStrategy):
    """Train/test splits with a chosen dependence ``rho`` in the training pairs.

    Each of the ``n_splits`` repetitions draws a training set with a controlled
    dependence and a disjoint test set, in one of the paper's two ways; ``mode``
    picks the strategy and fixes what ``rho`` and ``test`` mean:

    - ``mode="latent"``: :class:`LatentCorrelationSplitter` (Table 1, appendix
      D.2). ``rho`` is ``corr(delta_1, delta_2)`` of the latent factor differences
      of the training pairs, in ``[-1, 1]``; ``test`` is ``"out_of_distribution"``
      (the disagreement quadrants ``delta_1 * delta_2 < 0``) or
      ``"in_distribution"`` (the same ``rho``).
    - ``mode="confounding"``: :class:`ObjectiveConfoundingSplitter` (Table 2,
      appendix E.1). ``rho`` is ``P(t = c)``, the share of training pairs whose
      prompt type ``t`` equals their labeller's objective ``c``, in ``[0, 1]``;
      ``test`` is ``"inconsistent"`` (``t != c``; ``"out_of_distribution"`` means
      the same), ``"consistent"`` or ``"in_distribution"``.

    A ``test`` or ``rho`` that does not belong to the ``mode``, or side
    information of the other mode, is an error. The training indices of a
    repetition depend only on the data, ``rho``, ``train_size`` and
    ``random_state``, not on ``test``: two splitters that differ only in ``test``
    give the same training sets.

    The side information follows the rows of ``X`` as metadata, requested by
    default: ``split(X, y, delta=...)`` (latent) or ``split(X, y,
    prompt_type=..., objective=...)`` (confounding), routed from
    ``GridSearchCV(..., cv=splitter).fit(X, y, prompt_type=t)`` under
    ``sklearn.set_config(enable_metadata_routing=True)``; without metadata routing,
    ``fit(X, y, groups=t)``. In confounding mode the objective and the prompt type
    can also be columns of a DataFrame ``X`` (a text frame), as names, ids or
    Categoricals: see :class:`ObjectiveConfoundingSplitter`.

    Parameters
    ----------
    mode : {"latent", "confounding"}, default="latent"
        Which dependence to control (see above).
    rho : float, default=0.0
        Target dependence of the training pairs (see above).
    n_splits : int, default=5
        Number of independent repetitions.
    train_size : float or int, default=0.5
        Number of training pairs, or their share of all pairs. In confounding
        mode it is rounded down to a multiple of the number of objectives.
    test_size : float, int or None, default=None
        Number of test pairs, or their share of all pairs; ``None`` as in the two
        strategies.
    test : {"in_distribution", "out_of_distribution", "consistent", \
"inconsistent"}, default="out_of_distribution"
        Which test pairs (see above).
    factors : tuple of two int, default=(0, 1)
        Latent mode: the two columns of ``delta`` whose correlation is controlled.
    tol : float, default=0.02
        Largest accepted ``|achieved rho - rho|``: of the correlation (latent
        mode) or of the share of consistent pairs, which moves in steps of
        ``1 / n_train`` (confounding mode).
    random_state : int, RandomState instance or None, default=None
        Seed of the sampling; an int gives the same splits on every call.
    objective_column : str, default="objective"
        Confounding mode: column of a DataFrame ``X`` holding the objective.
    prompt_type_column : str, default="prompt_type"
        Confounding mode: column of a DataFrame ``X`` holding the prompt type.
    objective_categories : array-like of str or None, default=None
        Confounding mode: objective names in id order, needed only to compare
        names with ids.

    See Also
    --------
    LatentCorrelationSplitter : The latent strategy on its own.
    ObjectiveConfoundingSplitter : The confounding strategy on its own.
    skpref.causal.latent_positivity_report : How much latent positivity the data
        have before splitting.
    skpref.causal.objective_overlap_report : How well the objective can be
        predicted from the pair features.

    References
    ----------
    Kobalczyk, K. and van der Schaar, M. "Preference Learning for AI Alignment: a
    Causal Perspective", ICML 2025: Table 1 and appendix D.2 (latent), Table 2 and
    appendix E.1 (confounding).

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.model_selection import RhoStratifiedSplitter
    >>> rng = np.random.default_rng(0)
    >>> objective = np.tile([0, 1], 100)
    >>> prompt_type = np.where(rng.random(200) < 0.5, objective, 1 - objective)
    >>> X = np.column_stack([rng.normal(size=(200, 4)), objective])
    >>> cv = RhoStratifiedSplitter(mode="confounding", rho=0.8, n_splits=2,
    ...                            train_size=40, random_state=0)
    >>> for train, test in cv.split(X, groups=prompt_type):
    ...     assert np.all(prompt_type[test] != objective[test])
    >>> cv.split_info(X, prompt_type=prompt_type)["rho_train"].tolist()
    [0.8, 0.8]
    """

    __metadata_request__split = {
        "groups": True,
        "delta": True,
        "prompt_type": True,
        "objective": True,
    }

    _parameter_constraints = {
        **BaseRhoSplitter._common_constraints,
        "mode": [StrOptions({"latent", "confounding"})],
        "rho": [Interval(numbers.Real, -1, 1, closed="both")],
        "test": [StrOptions({test for tests in _TESTS.values() for test in tests})],
        "factors": [tuple],
        "tol": [Interval(numbers.Real, 0, 1, closed="left")],
        "objective_column": [str],
        "prompt_type_column": [str],
        "objective_categories": ["array-like", None],
    }

    def __init__(
        self,
        *,
        mode="latent",
        rho=0.0,
        n_splits=5,
        train_size=0.5,
        test_size=None,
        test="out_of_distribution",
        factors=(0, 1),
        tol=0.02,
        random_state=None,
        objective_column="objective",
        prompt_type_column="prompt_type",
        objective_categories=None,
    ):
        self.mode = mode
        self.rho = rho
        self.n_splits = n_splits
        self.train_size = train_size
        self.test_size = test_size
        self.test = test
        self.factors = factors
        self.tol = tol
        self.random_state = random_state
        self.objective_column = objective_column
        self.prompt_type_column = prompt_type_column
        self.objective_categories = objective_categories

    def split(
        self, X, y=None, groups=None, *, delta=None, prompt_type=None, objective=None
    ):
        """Generate training and test indices, ``n_splits`` times.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_pairs, n_features)
            Pair features, or in confounding mode a DataFrame (e.g. text) holding
            the objective (see :class:`ObjectiveConfoundingSplitter`).
        y : array-like of shape (n_pairs,), default=None
            Ignored.
        groups : array-like, default=None
            The side information when it cannot be passed by name (metadata
            routing disabled): ``delta`` in latent mode, ``prompt_type`` in
            confounding mode.
        delta : array-like of shape (n_pairs, n_factors), default=None
            Latent mode: latent factor differences ``z_a - z_b`` of each pair.
        prompt_type : array-like of shape (n_pairs,), default=None
            Confounding mode: prompt type of each pair, an objective name or id.
        objective : array-like of shape (n_pairs,), default=None
            Confounding mode: objective of each pair, when ``X`` does not hold it.

        Yields
        ------
        train : ndarray of int
            Training indices.
        test : ndarray of int
            Test indices, disjoint from ``train``.
        """
        yield from self._split(
            X, groups, delta=delta, prompt_type=prompt_type, objective=objective
        )

    def split_info(
        self, X, y=None, groups=None, *, delta=None, prompt_type=None, objective=None
    ):
        """Describe the splits that :meth:`split` yields for the same arguments.

        With an int ``random_state`` the description matches ``split`` exactly;
        with ``None`` every call draws new splits. Calling it does not change the
        splitter.

        Parameters
        ----------
        X, y, groups, delta, prompt_type, objective
            As for :meth:`split`.

        Returns
        -------
        info : pandas.DataFrame
            One row per repetition, indexed by ``split``, with ``n_train``,
            ``n_test``, ``rho_train`` and ``rho_test`` (the achieved correlation,
            or share of consistent pairs) and ``test``.
        """
        return self._split_info(
            X, groups, delta=delta, prompt_type=prompt_type, objective=objective
        )

    @property
    def _name(self):
        return f"{_OWNER}(mode={self.mode!r})"

    def _iter_indices(self, X, groups, **side):
        self._validate_params()
        if self.test not in _TESTS[self.mode]:
            raise ValueError(
                f"{self._name} accepts test in {list(_TESTS[self.mode])}; got "
                f"test={self.test!r}. Consistent and inconsistent test sets exist "
                "in confounding mode only."
            )
        if self.mode == "confounding" and self.rho < 0:
            raise ValueError(
                f"{self._name} reads rho as P(prompt type = objective), a "
                f"probability in [0, 1]; got rho={self.rho}."
            )
        given = [name for name, value in side.items() if value is not None]
        foreign = [name for name in given if name not in _SIDE[self.mode]]
        if foreign:
            raise ValueError(
                f"{self._name} reads {' and '.join(_SIDE[self.mode])}, not "
                f"{foreign[0]}; got {foreign[0]}=... . Use mode="
                f"{'confounding' if self.mode == 'latent' else 'latent'!r} for it, "
                "or do not pass it."
            )
        if self.mode == "latent":
            yield from self._latent_indices(X, groups, side["delta"], self.test)
        else:
            # "out_of_distribution" is the paper's other name for inconsistent pairs
            test = "inconsistent" if self.test == "out_of_distribution" else self.test
            yield from self._confounding_indices(
                X, groups, side["prompt_type"], side["objective"], test
            )
