"""A stand-in for ``skpref.RewardEnsemble`` until the engine branch lands it.

``MemberEnsemble(estimator, n_members=5, bootstrap=False, random_state=None)``
has the constructor and the prediction methods the brief gives for
``RewardEnsemble`` (``decision_function_members``, ``predict_reward_members``,
``predict_proba``, ``predict_reward(E, return_std=True)``): independently seeded
clones of a reward model, fitted on the same pairs (or on bootstrap resamples).
The active-querying tests, and the figures while ``RewardEnsemble`` is missing,
use it; nothing in ``skpref`` imports it.
"""

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted


class MemberEnsemble(ClassifierMixin, BaseEstimator):
    """Seeded clones of a reward model; predictions average the members'."""

    def __init__(self, estimator, *, n_members=5, bootstrap=False, random_state=None):
        self.estimator = estimator
        self.n_members = n_members
        self.bootstrap = bootstrap
        self.random_state = random_state

    def fit(self, X, y):
        X, y = np.asarray(X), np.asarray(y)
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_members)
        self.members_ = []
        for seed in seeds:
            rows = (
                np.random.RandomState(seed).randint(len(X), size=len(X))
                if self.bootstrap
                else np.arange(len(X))
            )
            member = clone(self.estimator).set_params(random_state=int(seed))
            self.members_.append(member.fit(X[rows], y[rows]))
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        return self

    @property
    def _with_objective(self):
        params = self.estimator.get_params(deep=False)
        return bool(params.get("with_objective", False))

    def decision_function_members(self, X):
        check_is_fitted(self)
        return np.stack([m.decision_function(X) for m in self.members_])

    def predict_reward_members(self, E):
        check_is_fitted(self)
        return np.stack([m.predict_reward(E) for m in self.members_])

    def decision_function(self, X):
        return self.decision_function_members(X).mean(axis=0)

    def predict_proba(self, X):
        p = expit(self.decision_function_members(X)).mean(axis=0)
        return np.column_stack([1.0 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] > 0.5).astype(np.int64)

    def predict_reward(self, E, return_std=False):
        rewards = self.predict_reward_members(E)
        if return_std:
            return rewards.mean(axis=0), rewards.std(axis=0)
        return rewards.mean(axis=0)
