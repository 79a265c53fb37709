"""The active-learning loop: rounds of query, label, refit, as one estimator."""

import hashlib
import time
from copy import deepcopy
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from skpref.active._base import call_strategy
from skpref.active._learner_checks import (
    check_budget,
    check_oracle_labels,
    check_pool_inputs,
    check_strategy_fits_model,
)
from skpref.active._random import RandomSampling
from skpref.utils import HasMethods, Interval, fit_context

__all__ = ["ActiveLearner"]

_OWNER = "ActiveLearner"


def _fitted_or_given_has(name):
    """``available_if`` test: the fitted model (else the given one) has ``name``."""

    def check(self):
        model = getattr(self, "estimator_", self.estimator)
        return hasattr(model, name)

    return check


def _fingerprint(*arrays):
    """Return a digest of the arrays' values and shapes: which data a fit saw.

    Values are compared as float64, so the same data in another dtype is the same.
    """
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array, dtype=np.float64)
        digest.update(f"{array.shape}".encode())
        digest.update(array.data)
    return digest.hexdigest()


def _round_seed(base, round_number):
    """Return the seed of one round, the same whether fitted in one go or warm."""
    return int(np.random.SeedSequence([base, round_number]).generate_state(1)[0])


class ActiveLearner(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Buy labels in rounds: query the pool, ask an oracle, refit the reward model.

    ``fit(X, y, X_pool=..., oracle=...)`` fits a clone of ``estimator`` on the
    labelled pairs, then for each of ``n_rounds`` rounds lets ``strategy`` choose
    ``query_size`` pairs of the pool that are not labelled yet, asks
    ``oracle(indices)`` for their labels (a person, a labelling service, or the
    known labels of a simulation) and refits a fresh clone on everything labelled
    so far. Once fitted, it predicts like the last model (``predict_proba``,
    ``decision_function``, ``score``, ``predict_reward``...).

    Nothing bought is lost: the pairs and labels are recorded (``queried_indices_``,
    ``queried_labels_``, ``history_``) as soon as the oracle answers, so they
    survive an error in a later round; with ``warm_start=True`` the next ``fit``
    on the same data continues from them (refitting first if the error came
    before the refit) instead of buying again. ``warm_start`` also extends a
    finished run: raise ``n_rounds`` and fit again.

    Without ``X_pool`` there is nothing to query: ``fit(X, y)`` fits the model
    on ``(X, y)`` alone, so the learner also works where scikit-learn fits
    estimators (``clone``, ``cross_val_score``).

    Parameters
    ----------
    estimator : estimator instance
        An unfitted reward model in the pair contract (cloned for every fit), e.g.
        an ensemble for :class:`BALDSampling`.
    strategy : strategy or None, default=None
        Chooses the pairs of each round: an object with ``select`` (the
        strategies of :mod:`skpref.active`) or a function with its signature;
        None: :class:`RandomSampling`.
    n_rounds : int, default=5
        Rounds of querying; the budget is ``n_rounds * query_size`` labels.
    query_size : int, default=10
        Pairs bought per round (the query batch; the model's own minibatch size
        is the estimator's ``batch_size``).
    warm_start : bool, default=False
        Continue an earlier fit on the same ``X``, ``y`` and ``X_pool``: keep the
        labels bought and run only the rounds still missing. A fit without
        ``X_pool`` after labels were bought is then an error, not a reset.
    random_state : int, RandomState instance or None, default=None
        Seeds the strategy's random choices, one seed per round (a warm
        continuation makes the choices of an uninterrupted fit). The estimator
        keeps its own ``random_state``.
    verbose : int, default=0
        1 or more shows a progress bar over the rounds.

    Attributes
    ----------
    estimator_ : estimator
        The model fitted on every pair labelled so far.
    queried_indices_ : ndarray of shape (n_bought,)
        Rows of ``X_pool`` bought, in the order bought.
    queried_labels_ : ndarray of shape (n_bought,)
        The oracle's labels of those rows.
    query_round_ : ndarray of shape (n_bought,)
        The round (1, 2, ...) each row was bought in.
    history_ : pandas.DataFrame
        One row per fitted model: ``round`` (0 for the initial fit),
        ``n_queried`` (bought in that round), ``n_labelled`` (training pairs),
        ``query_seconds``, ``label_seconds`` and ``fit_seconds``.
    data_fingerprint_ : tuple of str
        Digests of ``(X, y)`` and of ``X_pool`` as the first fit got them: a
        warm start on other data is refused.
    n_features_in_ : int
        Columns of ``X``.
    classes_ : ndarray of shape (2,)
        The fitted model's classes.

    See Also
    --------
    RandomSampling, MarginSampling, BALDSampling, DisagreementQuadrantSampling,
    InconsistentPairSampling, KCenterDiversity : The strategies.

    Examples
    --------
    >>> from skpref import BTLRewardRegressor
    >>> from skpref.active import ActiveLearner, MarginSampling
    >>> from skpref.datasets import make_latent_preferences
    >>> train = make_latent_preferences(100, n_features=4, rho=0.9, label_noise=0.3,
    ...                                 random_state=0)
    >>> pool = make_latent_preferences(200, n_features=4, rho=0.0, label_noise=0.3,
    ...                                random_state=1)
    >>> model = BTLRewardRegressor(hidden_dim=8, latent_dim=4, max_epochs=3,
    ...                            device="cpu", random_state=0)
    >>> learner = ActiveLearner(model, strategy=MarginSampling(), n_rounds=2,
    ...                         query_size=5, random_state=0)
    >>> learner = learner.fit(train.X, train.y, X_pool=pool.X,
    ...                       oracle=lambda rows: pool.y[rows])
    >>> learner.history_[["round", "n_queried", "n_labelled"]].to_numpy().tolist()
    [[0, 0, 100], [1, 5, 105], [2, 5, 110]]
    >>> learner.predict_proba(pool.X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "strategy": [HasMethods(["select"]), callable, None],
        "n_rounds": [Interval(Integral, 0, None, closed="left")],
        "query_size": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        *,
        strategy=None,
        n_rounds=5,
        query_size=10,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.strategy = strategy
        self.n_rounds = n_rounds
        self.query_size = query_size
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    @property
    def _with_objective(self):
        """Whether the wrapped model reads the objective from the last column."""
        params = self.estimator.get_params(deep=False)
        default = bool(getattr(self.estimator, "_with_objective", False))
        return bool(params.get("with_objective", default))

    # -- fitting -----------------------------------------------------------------

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, X_pool=None, oracle=None, side_information=None):
        """Fit on ``(X, y)``, then buy labels from the pool in rounds.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features)
            The pairs labelled already, in the estimator's pair layout.
        y : array-like of shape (n_pairs,)
            Their labels (``1`` where a is preferred; soft labels in ``[0, 1]``
            where the estimator takes them).
        X_pool : array-like of shape (n_pool, n_features), default=None
            Unlabelled pairs to buy labels for, in the layout of ``X``. None:
            no querying, only the fit on ``(X, y)``.
        oracle : callable, default=None
            ``oracle(indices) -> labels``: the labels of the rows ``indices`` of
            ``X_pool`` (an int array), one per index. Required with ``X_pool``.
        side_information : array-like of shape (n_pool, ...), default=None
            Per-pool-pair information for the strategy (e.g. latent factor
            differences for :class:`DisagreementQuadrantSampling`, prompt types
            for :class:`InconsistentPairSampling`).

        Returns
        -------
        self : ActiveLearner
            The fitted learner.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        if X_pool is None:
            if oracle is not None or side_information is not None:
                raise ValueError(
                    f"{_OWNER}.fit got an oracle or side_information but no "
                    "X_pool; pass the unlabelled pairs as X_pool=..., or drop them."
                )
            bought = len(getattr(self, "queried_indices_", ()))
            if self.warm_start and bought:
                raise ValueError(
                    f"{_OWNER}: warm_start=True continues the last fit, which bought "
                    f"{bought} labels, but fit got no X_pool; pass the same X_pool "
                    "and oracle to continue, or set warm_start=False to start over "
                    "(queried_indices_ and queried_labels_ hold what was bought)."
                )
            empty_pool = np.empty((0, X.shape[1]), dtype=X.dtype)
            self._reset(X_pool=empty_pool, n_given=len(X))
            self.data_fingerprint_ = (_fingerprint(X, y), _fingerprint(empty_pool))
            self._refit(X, y, round_number=0, timings={})
            return self
        X_pool, side_information = check_pool_inputs(
            X, X_pool, oracle, side_information
        )
        strategy = RandomSampling() if self.strategy is None else self.strategy
        check_strategy_fits_model(strategy, self.estimator)
        if not self._continues(X, y, X_pool):
            self._reset(X_pool, n_given=len(X))
            self.data_fingerprint_ = (_fingerprint(X, y), _fingerprint(X_pool))
        check_budget(
            self.n_rounds,
            self.query_size,
            rounds_done=self._last_round(),
            n_pool=len(X_pool),
            n_bought=len(self.queried_indices_),
        )
        base_seed = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max
        )
        if self._unfitted_labels():
            self._refit_all(X, y, X_pool, self._last_round(), {})
        rounds = range(self._last_round() + 1, self.n_rounds + 1)
        if self.verbose:
            from tqdm.auto import tqdm

            rounds = tqdm(rounds, desc=_OWNER, unit="round", leave=False)
        for round_number in rounds:
            rng = np.random.RandomState(_round_seed(base_seed, round_number))
            timings = self._buy(
                strategy, X_pool, side_information, oracle, rng, round_number
            )
            self._refit_all(X, y, X_pool, round_number, timings)
        return self

    def _continues(self, X, y, X_pool):
        """Whether this fit continues the last one (warm start on the same data).

        The bought labels belong to rows of the last fit's pool, so a warm start
        on other data (even of the same size) is an error, never a silent
        relabelling: the data are compared by a fingerprint of their values.
        """
        if not (self.warm_start and hasattr(self, "queried_indices_")):
            return False
        given, pool = _fingerprint(X, y), _fingerprint(X_pool)
        if self.data_fingerprint_[0] == given and len(self.queried_indices_) == 0:
            # nothing bought yet: any pool continues
            self.n_pool_, self.data_fingerprint_ = len(X_pool), (given, pool)
            return True
        if self.data_fingerprint_ != (given, pool):
            what = " and ".join(
                name
                for name, old, new in (
                    ("X and y", self.data_fingerprint_[0], given),
                    ("X_pool", self.data_fingerprint_[1], pool),
                )
                if old != new
            )
            raise ValueError(
                f"{_OWNER}: warm_start=True continues the last fit, whose "
                f"{len(self.queried_indices_)} bought labels belong to rows of its "
                f"X_pool, but {what} differ from that fit's ({self.n_given_} given "
                f"and {self.n_pool_} pool pairs; got {len(X)} and {len(X_pool)}). "
                "Pass the same data, or set warm_start=False to start over "
                "(queried_indices_ and queried_labels_ hold what was bought)."
            )
        return True

    def _reset(self, X_pool, n_given):
        self.n_given_, self.n_pool_ = n_given, len(X_pool)
        self.queried_indices_ = np.empty(0, dtype=np.int64)
        self.queried_labels_ = np.empty(0)
        self.query_round_ = np.empty(0, dtype=np.int64)
        self.history_ = pd.DataFrame(columns=_HISTORY)
        self.__dict__.pop("estimator_", None)

    def _last_round(self):
        return int(self.query_round_.max(initial=0))

    def _unfitted_labels(self):
        """Whether labels were bought that no fitted model has seen yet."""
        if not hasattr(self, "estimator_"):
            return True
        fitted = int(self.history_["n_labelled"].iloc[-1])
        return fitted != self.n_given_ + len(self.queried_indices_)

    def _buy(self, strategy, X_pool, side_information, oracle, rng, round_number):
        """Query one batch and record it with the oracle's labels; return timings."""
        start = time.perf_counter()
        remaining = np.setdiff1d(np.arange(len(X_pool)), self.queried_indices_)
        chosen = call_strategy(
            strategy,
            self.estimator_,
            X_pool[remaining],
            self.query_size,
            None if side_information is None else side_information[remaining],
            rng,
        )
        rows = remaining[chosen]
        query_seconds = time.perf_counter() - start
        start = time.perf_counter()
        labels = check_oracle_labels(oracle(rows.copy()), len(rows))
        self.queried_indices_ = np.concatenate([self.queried_indices_, rows])
        self.queried_labels_ = np.concatenate([self.queried_labels_, labels])
        self.query_round_ = np.concatenate(
            [self.query_round_, np.full(len(rows), round_number)]
        )
        return {
            "query_seconds": query_seconds,
            "label_seconds": time.perf_counter() - start,
        }

    def _refit_all(self, X, y, X_pool, round_number, timings):
        rows = self.queried_indices_
        X_all = np.concatenate([X, X_pool[rows]])
        labels = self.queried_labels_
        if np.all(labels == np.round(labels)):  # hard labels: the type of y's
            y_all = np.concatenate([y, labels.astype(y.dtype, copy=False)])
        else:  # shares in [0, 1]: never cast to y's int or bool
            y_all = np.concatenate([y.astype(np.float64), labels])
        self._refit(X_all, y_all, round_number, timings)

    def _refit(self, X, y, round_number, timings):
        start = time.perf_counter()
        self.estimator_ = clone(self.estimator).fit(X, y)
        row = {
            "round": round_number,
            "n_queried": int(np.sum(self.query_round_ == round_number))
            if round_number
            else 0,
            "n_labelled": len(y),
            "query_seconds": timings.get("query_seconds", 0.0),
            "label_seconds": timings.get("label_seconds", 0.0),
            "fit_seconds": time.perf_counter() - start,
        }
        rows = [] if self.history_.empty else self.history_.to_dict("records")
        self.history_ = pd.DataFrame([*rows, row], columns=_HISTORY)

    # -- prediction: the last fitted model's ---------------------------------------

    @property
    def classes_(self):
        """The classes of the fitted model."""
        check_is_fitted(self)
        return self.estimator_.classes_

    @available_if(_fitted_or_given_has("predict"))
    def predict(self, X):
        """Predicted label of each pair by the last fitted model."""
        check_is_fitted(self)
        return self.estimator_.predict(X)

    @available_if(_fitted_or_given_has("predict_proba"))
    def predict_proba(self, X):
        """``[P(b > a), P(a > b)]`` of each pair by the last fitted model."""
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_fitted_or_given_has("decision_function"))
    def decision_function(self, X):
        """``r(a) - r(b)`` of each pair by the last fitted model."""
        check_is_fitted(self)
        return self.estimator_.decision_function(X)

    @available_if(_fitted_or_given_has("decision_function_members"))
    def decision_function_members(self, X):
        """Each ensemble member's ``r(a) - r(b)``, by the last fitted ensemble."""
        check_is_fitted(self)
        return self.estimator_.decision_function_members(X)

    @available_if(_fitted_or_given_has("predict_reward"))
    def predict_reward(self, E, return_std=False):
        """Reward of single responses by the last fitted model; an ensemble's spread.

        ``return_std=True`` also returns the members' standard deviation, as
        ``RewardEnsemble.predict_reward`` does; a single model has none.
        """
        check_is_fitted(self)
        if not return_std:
            return self.estimator_.predict_reward(E)
        if not hasattr(self.estimator_, "predict_reward_members"):
            raise ValueError(
                f"{_OWNER}.predict_reward(return_std=True) needs an ensemble's "
                f"members; the model is a {type(self.estimator_).__name__}. Wrap it "
                "in skpref.RewardEnsemble, or call it with return_std=False."
            )
        return self.estimator_.predict_reward(E, return_std=True)

    @available_if(_fitted_or_given_has("predict_reward_members"))
    def predict_reward_members(self, E):
        """Each ensemble member's centred reward, by the last fitted ensemble."""
        check_is_fitted(self)
        return self.estimator_.predict_reward_members(E)

    def score(self, X, y, sample_weight=None):
        """Return the last fitted model's ``score`` (pairwise accuracy)."""
        check_is_fitted(self)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags = deepcopy(inner.input_tags)
        tags.classifier_tags = deepcopy(inner.classifier_tags)
        return tags


_HISTORY = "round n_queried n_labelled query_seconds label_seconds fit_seconds".split()
