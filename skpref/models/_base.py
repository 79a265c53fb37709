"""The shared base of the reward estimators: validation, seeding, the skorch net."""

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping, ProgressBar
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from skpref.models._net import NonFiniteLossGuard, PairNet
from skpref.utils._device import resolve_device
from skpref.utils._validation import (
    Interval,
    StrOptions,
    _fit_context,
    check_objective_ids,
    check_pair_target,
    check_pair_width,
)


class BaseRewardModel(ClassifierMixin, BaseEstimator):
    """Common machinery of the pair reward models; not for direct use.

    Subclasses set ``_with_objective`` (or override it as a property) and implement
    ``_build_module_params`` returning the module class and its keyword arguments.
    """

    _parameter_constraints = {
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 2, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "device": [StrOptions({"auto", "cpu", "cuda", "mps"}), str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    _with_objective = False

    # -- fitting -----------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, X_val=None, y_val=None):
        """Fit the reward model on preference pairs.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_columns)
            Pairs ``[response_a | response_b]`` (``2 * d`` columns), plus the
            objective id as the last column for multi-objective models (see
            :ref:`data_format`).
        y : array-like of shape (n_pairs,)
            ``1`` where response a is preferred, ``0`` where response b is.
        X_val, y_val : array-like, default=None
            A validation set for choosing the best epoch. When omitted, a stratified
            ``validation_fraction`` of ``X`` is held out (none if it is ``None``).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        owner = type(self).__name__
        X, y = validate_data(self, X, y, dtype=np.float32)
        X = _writeable(X)
        y = check_pair_target(y, owner=owner)
        self.classes_ = np.array([0, 1])
        self.n_pair_features_ = check_pair_width(
            X.shape[1], with_objective=self._with_objective, owner=owner
        )
        declared = self._declared_n_objectives()
        if self._with_objective:
            ids = check_objective_ids(X[:, -1], n_objectives=declared, owner=owner)
            self.n_objectives_ = declared or int(ids.max()) + 1
            self._check_objectives(ids)
        if (X_val is None) != (y_val is None):
            raise ValueError(f"{owner}.fit needs both X_val and y_val, or neither.")

        rng = self._rng()
        torch_seed, split_seed = (int(s) for s in rng.randint(0, 2**31 - 1, size=2))
        X_train, y_train, valid = self._train_valid(X, y, X_val, y_val, split_seed)
        self.device_ = self._resolve_device()
        devices = [self.device_] if self.device_.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(torch_seed)
            self.net_ = self._build_net(valid)
            self.net_.fit(X_train, y_train.astype(np.float32))
        self._summarise_training(has_valid=valid is not None)
        return self

    def _declared_n_objectives(self):
        return getattr(self, "n_objectives", None)

    def _check_objectives(self, ids):
        """Let subclasses require a minimum number of objectives."""

    def _rng(self):
        # A fresh seed for random_state=None that leaves NumPy's global RNG alone.
        if self.random_state is None:
            return np.random.RandomState(np.random.SeedSequence().generate_state(1))
        if isinstance(self.random_state, np.random.RandomState):
            return self.random_state
        return np.random.RandomState(self.random_state)

    def _resolve_device(self):
        return resolve_device(self.device, owner=type(self).__name__)

    def _train_valid(self, X, y, X_val, y_val, seed):
        owner = type(self).__name__
        if X_val is not None:
            X_val = _writeable(
                validate_data(self, X_val, reset=False, dtype=np.float32)
            )
            y_val = check_pair_target(y_val, owner=owner)
            if self._with_objective:
                check_objective_ids(
                    X_val[:, -1], n_objectives=self.n_objectives_, owner=owner
                )
            return X, y, Dataset(X_val, y_val.astype(np.float32))
        n_valid = round((self.validation_fraction or 0) * len(y))
        if n_valid < 1 or n_valid >= len(y):
            return X, y, None
        counts = np.bincount(y, minlength=2)
        can_stratify = counts.min() >= 2 and min(n_valid, len(y) - n_valid) >= 2
        stratify = y if can_stratify else None
        idx_train, idx_valid = train_test_split(
            np.arange(len(y)), test_size=n_valid, stratify=stratify, random_state=seed
        )
        return (
            X[idx_train],
            y[idx_train],
            Dataset(X[idx_valid], y[idx_valid].astype(np.float32)),
        )

    def _build_net(self, valid):
        module, module_params = self._build_module_params()
        monitor = "valid_acc" if valid is not None else "train_loss"
        callbacks = [
            ("nonfinite_guard", NonFiniteLossGuard()),
            (
                "best_weights",
                EarlyStopping(
                    monitor=monitor,
                    lower_is_better=monitor == "train_loss",
                    patience=self.patience or self.max_epochs + 1,
                    threshold=0.0,
                    threshold_mode="abs",
                    load_best=True,
                    sink=print,
                ),
            ),
            *self._extra_callbacks(),
        ]
        if self.verbose and self.verbose > 1:
            callbacks.append(("progress_bar", ProgressBar()))
        return PairNet(
            module,
            **{f"module__{key}": value for key, value in module_params.items()},
            optimizer=torch.optim.Adam,
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train__shuffle=True,
            train_split=predefined_split(valid) if valid is not None else None,
            callbacks=callbacks,
            device=self.device_,
            verbose=int(bool(self.verbose)),
        )

    def _extra_callbacks(self):
        return []

    def _summarise_training(self, has_valid):
        history = self.net_.history
        self.history_ = pd.DataFrame(
            [{k: v for k, v in row.items() if k != "batches"} for row in history]
        )
        self.n_epochs_ = len(history)
        self.best_epoch_ = int(self._callback("best_weights").best_epoch_)
        diverged = self._callback("nonfinite_guard").diverged_epoch_
        owner = type(self).__name__
        if diverged is not None:
            if self.best_epoch_ == 0:
                raise ValueError(
                    f"{owner}: the training loss became NaN or infinite in epoch "
                    f"{diverged}, before any usable weights existed. Lower lr (now "
                    f"{self.lr}) or standardise the features."
                )
            warnings.warn(
                f"{owner}: the training loss became NaN or infinite in epoch "
                f"{diverged}; training stopped and the weights of epoch "
                f"{self.best_epoch_} (the best so far) were kept. Lower lr (now "
                f"{self.lr}) to train further.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _callback(self, name):
        return dict(self.net_.callbacks_)[name]

    # -- prediction --------------------------------------------------------------

    def _validated_pairs(self, X):
        check_is_fitted(self)
        X = _writeable(validate_data(self, X, reset=False, dtype=np.float32))
        if self._with_objective:
            check_objective_ids(
                X[:, -1], n_objectives=self.n_objectives_, owner=type(self).__name__
            )
        return X

    def decision_function(self, X):
        """Reward difference ``r(a) - r(b)`` of each pair.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features_in_)
            Pairs in the layout seen in ``fit``.

        Returns
        -------
        margin : ndarray of shape (n_pairs,)
            Positive where response a gets the higher reward.
        """
        X = self._validated_pairs(X)
        logit = self.net_.forward(X, training=False)
        if isinstance(logit, tuple):
            logit = logit[0]
        return logit.detach().cpu().numpy().astype(np.float64)

    def predict_proba(self, X):
        """Probabilities ``[P(b > a), P(a > b)]`` under the BTL model (eq. 1).

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features_in_)
            Pairs in the layout seen in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_pairs, 2)
            ``proba[:, 1] = sigmoid(r(a) - r(b))``. Swapping the two responses of a
            pair swaps the two columns exactly.
        """
        margin = self.decision_function(X)
        # sigmoid(-m) for the first column (not 1 - sigmoid(m)) makes the swap exact.
        return np.column_stack([expit(-margin), expit(margin)])

    def predict(self, X):
        """Predicted label: ``1`` where ``r(a) > r(b)``, i.e. ``P(a > b) > 0.5``.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features_in_)
            Pairs in the layout seen in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_pairs,)
            ``1`` where response a is predicted to be preferred, else ``0``.
        """
        return (self.decision_function(X) > 0).astype(np.int64)

    def predict_reward(self, E):
        """Reward ``r(e)`` of single responses.

        Parameters
        ----------
        E : array-like of shape (n_responses, n_columns)
            ``n_columns = n_pair_features_`` (plus 1 for multi-objective models).
            Features of one prompt-response pair per row (one half of a pair row),
            plus the objective id as the last column for multi-objective models.

        Returns
        -------
        reward : ndarray of shape (n_responses,)
            Rewards are identified only up to an additive constant (per prompt):
            compare them, do not read their absolute value.
        """
        check_is_fitted(self)
        owner = type(self).__name__
        E = _writeable(check_array(E, dtype=np.float32))
        d = self.n_pair_features_
        expected = d + 1 if self._with_objective else d
        if E.shape[1] != expected:
            layout = f"{d} + 1 (objective)" if self._with_objective else f"{d}"
            raise ValueError(
                f"{owner}.predict_reward expects single responses with {layout} "
                f"columns; got {E.shape[1]}. To score pairs use predict_proba."
            )
        objective = None
        if self._with_objective:
            objective = check_objective_ids(
                E[:, -1], n_objectives=self.n_objectives_, owner=owner
            )
        module = self.net_.module_
        module.eval()
        rewards = []
        with torch.inference_mode():
            for start in range(0, len(E), self.batch_size):
                stop = start + self.batch_size
                batch = torch.as_tensor(E[start:stop, :d], device=self.device_)
                ids = None
                if objective is not None:
                    ids = torch.as_tensor(objective[start:stop], device=self.device_)
                rewards.append(module.reward(batch, ids).cpu())
        return torch.cat(rewards).numpy().astype(np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


def _writeable(array):
    """Return ``array``, copied if read-only (pandas copy-on-write, memory maps).

    torch warns on tensors made from read-only NumPy arrays.
    """
    return array if array.flags.writeable else array.copy()
