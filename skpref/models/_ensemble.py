"""Ensembles of reward models, trained together by the vectorised engine."""

from numbers import Integral

import numpy as np
import pandas as pd
from scipy.special import expit, log_expit, logsumexp
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils.validation import check_is_fitted

from skpref.models._base import (
    BaseRewardModel,
    PairClassifierMixin,
    reward_moments,
    shared_docs,
    standardized,
)
from skpref.models._engine import fit_together
from skpref.utils import (
    Interval,
    Seeds,
    check_fit_data,
    fit_context,
    member_random_states,
    random_state_generator,
    single_responses,
)


@shared_docs
class RewardEnsemble(PairClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """An ensemble of reward models: averaged probabilities, reward uncertainty.

    ``n_members`` clones of a reward model, each with its own seed and, with
    ``bootstrap=True``, its own bootstrap sample, are trained together by
    skpref's engine; member ``k`` is its clone fitted alone, to rounding. The
    spread of the members' rewards measures the epistemic uncertainty of the
    reward. See :ref:`ensembles`.

    Parameters
    ----------
    estimator : BTLRewardRegressor, MultiheadRewardModel or AdversarialRewardModel
        The member model (unfitted); each member is a clone of it with its own
        ``random_state``.
    n_members : int, default=5
        Number of members.
    bootstrap : bool, default=False
        Train each member on a bootstrap sample of its training pairs, drawn
        after it holds out the validation pairs it would hold out fitted alone
        (so never among them). Multi-objective members then all get the number
        of objectives seen in ``X``.
    random_state : int, RandomState instance or None, default=None
        Seeds the members' seeds and the bootstrap samples. NumPy's and torch's
        global random states are left untouched.

    Attributes
    ----------
    members_ : list of estimators
        The fitted members, ordinary reward models (each can predict and be saved
        on its own).
    member_samples_ : list of ndarray or None
        With ``bootstrap=True``, the rows of ``X`` each member was trained on.
    member_valid_samples_ : list of ndarray or None
        With ``bootstrap=True``, the rows of ``X`` each member chose its best
        epoch on (empty without a holdout), none of them in its
        ``member_samples_``; they keep their sample weights.
    reward_offsets_ : ndarray of shape (n_members, n_objectives)
        Each member's mean reward over the responses of the training pairs (per
        objective; one column for single-objective models), subtracted from its
        rewards by :meth:`predict_reward_members`.
    %(reward_scale_attributes)s
    %(input_attributes)s
    %(objective_attributes)s
    history_ : pandas.DataFrame
        One row per epoch, one column per statistic and member (columns
        ``(name, member)``): ``history_["valid_acc"]`` holds every member's
        validation accuracy; member ``k``'s own ``history_`` is
        ``history_.xs(k, axis=1, level="member")`` (without the epochs after
        it stopped).
    feature_names_in_ : ndarray of str
        Names of the columns of ``X``, when it is a DataFrame with string
        column names; the members have them too.

    See Also
    --------
    BTLRewardRegressor, MultiheadRewardModel, AdversarialRewardModel :
        The member models.

    References
    ----------
    Lakshminarayanan, B., Pritzel, A. and Blundell, C. (2017). Simple and scalable
    predictive uncertainty estimation using deep ensembles. NeurIPS.

    Examples
    --------
    >>> from skpref import BTLRewardRegressor, RewardEnsemble
    >>> from skpref.datasets import make_latent_preferences
    >>> data = make_latent_preferences(n_pairs=400, n_features=8, random_state=0)
    >>> member = BTLRewardRegressor(hidden_dim=16, latent_dim=8, max_epochs=10,
    ...                             lr=1e-2, device="cpu")
    >>> ensemble = RewardEnsemble(member, n_members=3, random_state=0)
    >>> ensemble.fit(data.X, data.y).score(data.X, data.y) > 0.8
    True
    >>> ensemble.decision_function_members(data.X[:2]).shape
    (3, 2)
    >>> mean, std = ensemble.predict_reward(data.X[:4, :8], return_std=True)
    >>> std.shape, bool((std > 0).all())
    ((4,), True)
    """

    _parameter_constraints = {
        "estimator": "no_validation",  # checked in fit, naming what is allowed
        "n_members": [Interval(Integral, 1, None, closed="left")],
        "bootstrap": ["boolean"],
        "random_state": ["random_state"],
    }

    # as for the reward models: covariates only when asked for
    __metadata_request__fit = {"covariates": False}  # noqa: RUF012

    def __init__(self, estimator, *, n_members=5, bootstrap=False, random_state=None):
        self.estimator = estimator
        self.n_members = n_members
        self.bootstrap = bootstrap
        self.random_state = random_state

    @property
    def _with_objective(self):
        return bool(getattr(self.estimator, "_with_objective", False))

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, *, covariates=None, margin=None):
        """Fit all members together on preference pairs.

        Parameters
        ----------
        %(fit_parameters)s
        %(covariates_parameter)s
        %(margin_parameter)s

        Returns
        -------
        self : object
            The fitted ensemble.
        """
        if not isinstance(self.estimator, BaseRewardModel):
            raise ValueError(
                "RewardEnsemble trains skpref's reward models (BTLRewardRegressor, "
                "MultiheadRewardModel, AdversarialRewardModel) with its vectorised "
                f"engine; got estimator={self.estimator!r}. For other classifiers "
                "use sklearn.ensemble.BaggingClassifier."
            )
        self.estimator._validate_params()
        X, y, weight = check_fit_data(self, X, y, sample_weight)
        rng = random_state_generator(self.random_state)
        seeds = member_random_states(rng, self.n_members)
        template = self._with_all_objectives(X) if self.bootstrap else self.estimator
        members = [clone(template).set_params(random_state=s) for s in seeds]
        samples = valid = [None] * self.n_members
        if self.bootstrap:
            drawn = [_bootstrap(member, y, weight, rng) for member in members]
            samples, valid = (list(part) for part in zip(*drawn, strict=True))
        # a member without a term or an adversary to use them refuses covariates
        self.members_, rewards = fit_together(
            members,
            [(X, y, weight)] * len(members),
            rows=samples,
            valid_rows=valid,
            covariates=[covariates] * len(members),
            margins=[margin] * len(members),
            return_rewards=True,
        )
        self.member_samples_ = samples if self.bootstrap else None
        self.member_valid_samples_ = valid if self.bootstrap else None
        # the fitted attributes that describe the input, from the members
        self.classes_ = np.array([0, 1])
        self.n_pair_features_ = self.members_[0].n_pair_features_
        for name in ("n_objectives_", "objective_categories_"):
            if self._with_objective:  # a single-objective refit keeps no stale K
                setattr(self, name, getattr(self.members_[0], name))
            else:
                self.__dict__.pop(name, None)
        for member in self.members_ if hasattr(self, "feature_names_in_") else ():
            member.feature_names_in_ = self.feature_names_in_  # to predict on frames
        self.history_ = pd.concat(
            {k: member.history_ for k, member in enumerate(self.members_)},
            axis=1,
            names=["member", "name"],
        ).swaplevel(axis=1)
        # a bootstrap member's rewards are of its sample: those of all pairs serve
        if self.bootstrap:
            rewards = [member._side_rewards(X) for member in self.members_]
        self._set_reward_offsets_and_scale(rewards)
        return self

    def _with_all_objectives(self, X):
        """Return the estimator with K fixed to the objectives of ``X``.

        A bootstrap sample may miss an objective (its member would then build
        fewer heads than the others) or a pair of a bad id, which the reward
        offsets would still score: the ids of every pair are checked as a fit
        alone checks them.
        """
        template = self.estimator
        if not self._with_objective:
            return template
        fitted = clone(template)
        fitted._fit_objectives(X[:, -1])
        declared = template.n_objectives, template.objective_categories
        if any(value is not None for value in declared):
            return template
        return clone(template).set_params(n_objectives=fitted.n_objectives_)

    def _set_reward_offsets_and_scale(self, sides):
        """Set ``reward_offsets_`` and the reward scale from the members' rewards.

        ``sides`` holds each member's ``(rewards_a, rewards_b, ids)`` of all the
        training pairs. A member's offset is its mean reward over the training
        responses, per objective (0 for an objective without pairs); the scale is
        that of the ensemble's centred mean reward.
        """
        ids = sides[0][2]
        n_objectives = self.n_objectives_ if self._with_objective else 1
        counts = np.bincount(ids, minlength=n_objectives)
        self.reward_offsets_ = np.stack(
            [
                np.divide(
                    np.bincount(ids, weights=a + b, minlength=n_objectives),
                    2 * counts,
                    out=np.zeros(n_objectives),
                    where=counts > 0,
                )
                for a, b, _ in sides
            ]
        )
        rewards = np.stack([np.r_[a, b] for a, b, _ in sides])
        centred = rewards - self.reward_offsets_[:, np.r_[ids, ids]]
        self.reward_mean_, self.reward_std_ = reward_moments(self, centred.mean(0), ids)

    # -- prediction --------------------------------------------------------------

    def decision_function_members(self, X):
        """Each member's reward difference ``r_k(a) - r_k(b)`` of each pair.

        Parameters
        ----------
        %(pairs_parameter)s

        Returns
        -------
        margins : ndarray of shape (n_members, n_pairs)
            Positive where member ``k`` prefers response a.
        """
        X = self._validated_pairs(X)
        return np.stack([member._margins(X) for member in self.members_])

    def decision_function(self, X):
        """Logit of the members' mean probability: ``log P(a > b) - log P(b > a)``.

        Parameters
        ----------
        %(pairs_parameter)s

        Returns
        -------
        margin : ndarray of shape (n_pairs,)
            Positive where the ensemble prefers response a; swapping the two
            responses negates it exactly.
        """
        margins = self.decision_function_members(X)
        # log of a mean of sigmoids, computed stably; log(n_members) cancels
        return logsumexp(log_expit(margins), axis=0) - logsumexp(
            log_expit(-margins), axis=0
        )

    def predict_proba(self, X):
        """Members' mean probabilities ``[P(b > a), P(a > b)]``.

        Parameters
        ----------
        %(pairs_parameter)s

        Returns
        -------
        proba : ndarray of shape (n_pairs, 2)
            ``proba[:, 1]`` is the mean over members of ``sigmoid(r_k(a) -
            r_k(b))``; swapping the two responses swaps the columns exactly.
        """
        margins = self.decision_function_members(X)
        return np.column_stack([expit(-margins).mean(0), expit(margins).mean(0)])

    def predict_reward_members(self, E, normalize=False):
        """Each member's centred reward of single responses.

        Parameters
        ----------
        %(responses_parameter)s
        normalize : bool, default=False
            Map every member's reward by the ensemble's training scale,
            ``(r - reward_mean_) / reward_std_``: one map for all members, so
            that their mean, minimum or mean less ``k`` std is normalized too.

        Returns
        -------
        rewards : ndarray of shape (n_members, n_responses)
            Member ``k``'s reward minus its mean reward over the training
            responses (of the response's objective), ``reward_offsets_``.
        """
        check_is_fitted(self)
        E, objective = single_responses(self, E)
        rewards = np.stack(
            [
                member._rewards(E, objective) - self.reward_offsets_[k, objective]
                for k, member in enumerate(self.members_)
            ]
        )
        if normalize:  # one affine map for all: aggregates of them are normalized
            rewards = np.stack([standardized(self, r, objective) for r in rewards])
        return rewards

    def predict_reward(self, E, return_std=False, normalize=False):
        """Mean of the members' centred rewards; with their spread if asked.

        Parameters
        ----------
        %(responses_parameter)s
        return_std : bool, default=False
            Also return the standard deviation of the members' rewards.
        normalize : bool, default=False
            Z-scores on the training scale (``reward_mean_``, ``reward_std_``);
            the standard deviation is then in the same units.

        Returns
        -------
        reward : ndarray of shape (n_responses,)
            Mean centred reward (see :meth:`predict_reward_members`); compare
            rewards, do not read their absolute value.
        std : ndarray of shape (n_responses,)
            Standard deviation over the members (``ddof=0``), the epistemic
            uncertainty of the reward; only with ``return_std=True``.
        """
        rewards = self.predict_reward_members(E, normalize=normalize)
        if return_std:
            return rewards.mean(0), rewards.std(0)
        return rewards.mean(0)


def _bootstrap(member, y, weight, rng):
    """Return a member's bootstrap sample and validation rows of all the pairs.

    The validation rows are its holdout fitted alone; the sample is drawn from the
    rest, with replacement, as many rows as there are.
    """
    seeds = Seeds.from_random_state(member.random_state)
    train, valid = member._split(y, weight, np.arange(len(y)), seeds)
    sample = train[rng.randint(0, len(train), size=len(train))]
    return sample, np.array([], dtype=np.intp) if valid is None else valid
