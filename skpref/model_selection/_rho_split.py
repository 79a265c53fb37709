"""A cross-validation splitter with a controlled dependence between training pairs.

It builds the training and test sets of the paper's two robustness protocols:
limited latent positivity (Table 1, appendix D.2) and confounding by the labeller's
objective (Table 2, appendix E.1).
"""

import numbers

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

from skpref.model_selection._protocols import confounding_draw, latent_draw
from skpref.utils._validation import (
    Interval,
    RealNotInt,
    StrOptions,
    _num_samples,
    validate_parameter_constraints,
)

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


def _resolve_size(size, n_pairs, name):
    if size is None:
        return None
    if isinstance(size, numbers.Integral):
        n = int(size)
    else:
        n = int(np.floor(size * n_pairs))
    if n > n_pairs:
        raise ValueError(
            f"{_OWNER}: {name}={size!r} asks for {n} pairs but X has only "
            f"{n_pairs}; lower {name}."
        )
    return n


class RhoStratifiedSplitter(BaseCrossValidator):
    """Train/test splits with a chosen dependence ``rho`` in the training pairs.

    Each of the ``n_splits`` repetitions draws a training set with a controlled
    dependence and a disjoint test set, in one of the paper's two ways:

    - ``mode="latent"`` (Table 1, appendix D.2): from the latent factor differences
      ``delta`` of each pair, a training set with ``corr(delta_1, delta_2) = rho``
      (pairs are sampled with weights tilted towards the diagonal or the
      anti-diagonal of the ``(delta_1, delta_2)`` plane); the test set is either
      in-distribution (the same ``rho``) or out-of-distribution: only pairs in the
      disagreement quadrants ``delta_1 * delta_2 < 0``.
    - ``mode="confounding"`` (Table 2, appendix E.1): from each pair's prompt type
      ``t`` and its labeller's objective ``c`` (the last column of ``X``, as in the
      pair contract), a training set with ``P(t = c) = rho`` and the same number
      of pairs per objective; the test set holds consistent (``t = c``),
      inconsistent (``t != c``) or in-distribution pairs.

    The training indices of a repetition depend only on the data, ``rho``,
    ``train_size`` and ``random_state``, not on ``test``: two splitters that differ
    only in ``test`` give the same training sets, so consistent and inconsistent
    accuracy can be reported separately for the same models.

    The side information follows the rows of ``X`` through cross-validation as
    metadata: ``split(X, y, delta=...)`` or ``split(X, y, prompt_type=...)``.
    Both are requested by default, so with
    ``sklearn.set_config(enable_metadata_routing=True)``,
    ``GridSearchCV(..., cv=splitter).fit(X, y, delta=delta)`` routes them here.
    Without metadata routing, pass them as ``groups`` (``fit(X, y,
    groups=delta)``), which scikit-learn always hands to the splitter.

    Parameters
    ----------
    mode : {"latent", "confounding"}, default="latent"
        Which dependence to control (see above).
    rho : float, default=0.0
        Target ``corr(delta_1, delta_2)`` in ``[-1, 1]`` (``mode="latent"``) or
        target ``P(t = c)`` in ``[0, 1]`` (``mode="confounding"``) of the
        training pairs.
    n_splits : int, default=5
        Number of independent repetitions.
    train_size : float or int, default=0.5
        Number of training pairs, or their share of all pairs. In confounding
        mode it is rounded down to a multiple of the number of objectives.
    test_size : float, int or None, default=None
        Number of test pairs, or their share of all pairs. ``None`` takes every
        eligible pair left after training for out-of-distribution, consistent and
        inconsistent tests; for in-distribution tests it takes as many as the
        training set or half of the pairs left, whichever is smaller (latent
        mode), or the largest set with the same ``rho`` (confounding mode).
    test : {"in_distribution", "out_of_distribution", "consistent", \
"inconsistent"}, default="out_of_distribution"
        Which test pairs. In confounding mode ``"out_of_distribution"`` is the
        same as ``"inconsistent"``; ``"consistent"`` and ``"inconsistent"`` exist
        in confounding mode only.
    factors : tuple of two int, default=(0, 1)
        The two columns of ``delta`` whose correlation is controlled.
    tol : float, default=0.02
        Largest accepted ``|achieved rho - rho|`` in latent mode.
    random_state : int, RandomState instance or None, default=None
        Seed of the sampling; an int gives the same splits on every call.

    See Also
    --------
    skpref.causal.latent_positivity_report : How much latent positivity the data
        have before splitting.
    skpref.causal.objective_overlap_report : How well the objective can be
        predicted from the pair features.

    Notes
    -----
    In latent mode, the training pairs are drawn without replacement with weights
    ``exp(theta * sin(2 phi))``, ``phi`` the angle of the standardised
    ``(delta_1, delta_2)``, and ``theta`` found by bisection on the achieved
    correlation. A large positive (negative) ``theta`` keeps only pairs near the
    diagonal (anti-diagonal); the correlations of those two extremes bound what
    the data can give, and a ``rho`` outside them is an error that names them.

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
    >>> delta = rng.normal(size=(400, 2))
    >>> X = np.hstack([delta, np.zeros((400, 2))])
    >>> cv = RhoStratifiedSplitter(rho=0.6, n_splits=2, train_size=100,
    ...                            test_size=50, random_state=0)
    >>> for train, test in cv.split(X, delta=delta):
    ...     assert not set(train) & set(test)
    ...     assert np.all(delta[test, 0] * delta[test, 1] < 0)
    >>> info = cv.split_info(X, delta=delta)
    >>> info[["n_train", "n_test"]].to_numpy().tolist()
    [[100, 50], [100, 50]]
    >>> bool(np.allclose(info["rho_train"], 0.6, atol=0.02))
    True
    """

    __metadata_request__split = {"groups": True, "delta": True, "prompt_type": True}

    _parameter_constraints = {
        "mode": [StrOptions({"latent", "confounding"})],
        "rho": [Interval(numbers.Real, -1, 1, closed="both")],
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
        "test": [
            StrOptions(
                {
                    "in_distribution",
                    "out_of_distribution",
                    "consistent",
                    "inconsistent",
                }
            )
        ],
        "factors": [tuple],
        "tol": [Interval(numbers.Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
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

    def get_n_splits(self, X=None, y=None, groups=None, **metadata):
        """Return the number of repetitions, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored, present for API compatibility.
        **metadata : dict
            Ignored (``delta``, ``prompt_type``), accepted so that the same
            metadata can be routed here as to :meth:`split`.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits

    def _validate_params(self):
        params = {name: getattr(self, name) for name in self._parameter_constraints}
        validate_parameter_constraints(
            self._parameter_constraints, params, caller_name=_OWNER
        )
        if self.test not in _TESTS[self.mode]:
            raise ValueError(
                f"{_OWNER}(mode={self.mode!r}) accepts test in "
                f"{list(_TESTS[self.mode])}; got test={self.test!r}. Consistent and "
                "inconsistent test sets exist in confounding mode only."
            )
        if self.mode == "confounding" and self.rho < 0:
            raise ValueError(
                f"{_OWNER}(mode='confounding') reads rho as P(prompt type = "
                f"objective), a probability in [0, 1]; got rho={self.rho}."
            )

    def split(self, X, y=None, groups=None, *, delta=None, prompt_type=None):
        """Generate training and test indices, ``n_splits`` times.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features)
            Pair features. In confounding mode the last column is the objective id
            (the pair contract).
        y : array-like of shape (n_pairs,), default=None
            Ignored.
        groups : array-like, default=None
            The side information when it cannot be passed by name (metadata routing
            disabled): ``delta`` in latent mode, ``prompt_type`` in confounding
            mode.
        delta : array-like of shape (n_pairs, n_factors), default=None
            Latent factor differences ``z_a - z_b`` of each pair (latent mode).
        prompt_type : array-like of shape (n_pairs,), default=None
            Prompt type of each pair, an id in the same ``0..K-1`` coding as the
            objective (confounding mode).

        Yields
        ------
        train : ndarray of int
            Training indices.
        test : ndarray of int
            Test indices, disjoint from ``train``.
        """
        for train, test, _, _ in self._iter_draws(X, groups, delta, prompt_type):
            yield train, test

    def split_info(self, X, y=None, groups=None, *, delta=None, prompt_type=None):
        """Describe the splits that :meth:`split` yields for the same arguments.

        With an int ``random_state`` the description matches ``split`` exactly;
        with ``None`` every call draws new splits. Calling it does not change the
        splitter.

        Parameters
        ----------
        X, y, groups, delta, prompt_type
            As for :meth:`split`.

        Returns
        -------
        info : pandas.DataFrame
            One row per repetition, indexed by ``split``, with ``n_train``,
            ``n_test``, ``rho_train`` and ``rho_test`` (the achieved correlation,
            or share of consistent pairs) and ``test``.
        """
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
                self._iter_draws(X, groups, delta, prompt_type)
            )
        ]
        return pd.DataFrame(rows).set_index("split")

    def _iter_draws(self, X, groups, delta, prompt_type):
        self._validate_params()
        n_pairs = _num_samples(X)
        n_train = _resolve_size(self.train_size, n_pairs, "train_size")
        n_test = _resolve_size(self.test_size, n_pairs, "test_size")
        if self.mode == "latent":
            side = self._side_information(groups, delta, "delta", n_pairs)
            draw = latent_draw(self, side, n_train, n_test)
        else:
            side = self._side_information(groups, prompt_type, "prompt_type", n_pairs)
            draw = confounding_draw(self, X, side, n_train, n_test)
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=(self.n_splits, 2))
        for train_seed, test_seed in seeds:
            yield draw(
                np.random.RandomState(train_seed), np.random.RandomState(test_seed)
            )

    def _side_information(self, groups, value, name, n_pairs):
        if value is not None and groups is not None:
            raise ValueError(
                f"{_OWNER} got both groups and {name}; pass {name} once, by name "
                "(metadata routing) or as groups (without it)."
            )
        value = groups if value is None else value
        if value is None:
            raise ValueError(
                f"{_OWNER}(mode={self.mode!r}) needs the {name} of each pair: call "
                f"split(X, y, {name}={name}), route it with metadata routing "
                f"(GridSearchCV(...).fit(X, y, {name}={name})), or pass it as "
                f"groups={name} when metadata routing is disabled."
            )
        ensure_2d = name == "delta"
        value = check_array(
            value,
            ensure_2d=ensure_2d,
            dtype=np.float64,
            input_name=name,
        )
        if not ensure_2d and value.ndim != 1:
            raise ValueError(
                f"{_OWNER} expects prompt_type of shape (n_pairs,); got shape "
                f"{value.shape}."
            )
        if value.shape[0] != n_pairs:
            raise ValueError(
                f"{_OWNER}: {name} has {value.shape[0]} rows but X has {n_pairs}; "
                f"{name} must have one row per pair of X."
            )
        return value
