"""The shared base of the reward estimators: validation, seeding, the skorch net."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import EarlyStopping, ProgressBar
from skorch.helper import predefined_split

from skpref.models import _training
from skpref.models._inputs import (
    agreement_score,
    check_fit_target,
    check_score_target,
    check_weights,
    float32_pairs,
    single_responses,
    validation_dataset,
)
from skpref.models._net import NonFiniteLossGuard, PairHoldout, PairNet
from skpref.utils._device import resolve_device
from skpref.utils._validation import (
    Interval,
    StrOptions,
    _fit_context,
    check_objective_ids,
    check_pair_width,
    validate_parameter_constraints,
)


class BaseRewardModel(ClassifierMixin, BaseEstimator):
    """Common machinery of the pair reward models; not for direct use.

    Subclasses set ``_with_objective`` (or override it as a property), ``_net_class``
    and implement ``_build_module_params`` returning the module class and its
    keyword arguments.
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
    _net_class = PairNet

    # -- fitting -----------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None):
        """Fit the reward model on preference pairs.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_columns)
            Pairs ``[response_a | response_b]`` (``2 * d`` columns), plus the
            objective id as the last column for multi-objective models (see
            :ref:`data_format`).
        y : array-like of shape (n_pairs,)
            ``1`` where response a is preferred, ``0`` where response b is; or soft
            labels in ``[0, 1]``, the share of annotators preferring a (``0.5`` is
            a tie), trained with the BTL likelihood on soft targets.
        sample_weight : array-like of shape (n_pairs,), default=None
            Non-negative weight of each pair in the loss. Weights are divided by
            their mean, so only their ratios matter (weights of 2 on every pair
            give the same model as none); pairs of weight 0 are left out.
        X_val, y_val : array-like, default=None
            A validation set for choosing the best epoch, scored unweighted. When
            omitted, a stratified ``validation_fraction`` of ``X`` (with its
            weights) is held out; none if it is ``None``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        owner = type(self).__name__
        X, y = float32_pairs(self, X, y)
        weight = check_weights(sample_weight, len(X), owner=owner)
        y = check_fit_target(y, None if sample_weight is None else weight, owner=owner)
        self.classes_ = np.array([0, 1])
        self.n_pair_features_ = check_pair_width(
            X.shape[1], with_objective=self._with_objective, owner=owner
        )
        declared = self._declared_n_objectives()
        if self._with_objective:
            ids = check_objective_ids(X[:, -1], owner=owner)
            self.objective_categories_, declared = _training.objective_names(
                self.objective_categories, declared, owner=owner
            )
            names = self.objective_categories_
            self.n_objectives_ = _training.n_objectives(
                ids,
                declared,
                owner=owner,
                declared_by=None
                if names is None
                else f"objective_categories={names.tolist()}",
            )
            self._check_objectives(ids)
        if (X_val is None) != (y_val is None):
            raise ValueError(f"{owner}.fit needs both X_val and y_val, or neither.")
        if not np.all(weight > 0):  # leave pairs of weight 0 out; copy only then
            keep = weight > 0
            X, y, weight = X[keep], y[keep], weight[keep]
        weight = weight / weight.mean()
        seeds = _training.Seeds.from_random_state(self.random_state)
        valid = self._validation(len(y), X_val, y_val, seeds.split)
        self.device_ = resolve_device(self.device, owner=owner)
        self.net_ = self._build_net(valid, seeds.shuffle)
        data = {"X": X, "sample_weight": weight.astype(np.float32)}
        # Training itself draws from seeded generators; fork_rng also keeps torch's
        # global state untouched by what draws from it anyway (the DataLoader's
        # unused worker seed).
        devices = [self.device_] if self.device_.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seeds.init)
            self.net_.initialize()
            self.net_.partial_fit(data, y.astype(np.float32))
        self._summarise_training(X)
        return self

    def _declared_n_objectives(self):
        return getattr(self, "n_objectives", None)

    def _check_objectives(self, ids):
        """Let subclasses require a minimum number of objectives."""

    def _validation(self, n_pairs, X_val, y_val, seed):
        """Return the skorch ``train_split``: the explicit set, a holdout, or none."""
        if X_val is not None:
            return predefined_split(validation_dataset(self, X_val, y_val))
        fraction = self.validation_fraction or 0
        n_valid = _training.holdout_size(fraction, n_pairs)
        if n_valid < 1 or n_valid >= n_pairs:
            return None
        return PairHoldout(fraction, random_state=seed)

    def _build_net(self, train_split, shuffle_seed):
        module, module_params = self._build_module_params()
        monitor = "valid_acc" if train_split is not None else "train_loss"
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
        return self._net_class(
            module,
            **{f"module__{key}": value for key, value in module_params.items()},
            criterion=torch.nn.BCEWithLogitsLoss,
            criterion__reduction="none",
            optimizer=torch.optim.Adam,
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(shuffle_seed),
            train_split=train_split,
            callbacks=callbacks,
            device=self.device_,
            verbose=int(bool(self.verbose)),
        )

    def _extra_callbacks(self):
        return []

    def _summarise_training(self, X):
        history = self.net_.history
        self.history_ = pd.DataFrame(
            [{k: v for k, v in row.items() if k != "batches"} for row in history]
        )
        self.n_epochs_ = len(history)
        self.best_epoch_ = int(self._callback("best_weights").best_epoch_)
        _training.check_training_health(
            self,
            diverged_epoch=self._callback("nonfinite_guard").diverged_epoch_,
            X=X,
        )

    def _callback(self, name):
        return dict(self.net_.callbacks_)[name]

    # -- prediction --------------------------------------------------------------

    def _validated_pairs(self, X):
        check_is_fitted(self)
        X = float32_pairs(self, X, reset=False)
        if self._with_objective:
            check_objective_ids(
                X[:, -1], n_objectives=self.n_objectives_, owner=type(self).__name__
            )
        return X

    def _batches(self, *arrays):
        """Yield the rows of ``arrays`` as tensors on the fitted device, in batches.

        ``batch_size`` is validated here too: it may have been set after ``fit``.
        """
        validate_parameter_constraints(
            {"batch_size": self._parameter_constraints["batch_size"]},
            {"batch_size": self.batch_size},
            caller_name=type(self).__name__,
        )
        for start in range(0, len(arrays[0]), self.batch_size):
            stop = start + self.batch_size
            yield [torch.as_tensor(a[start:stop], device=self.device_) for a in arrays]

    def _margins(self, X):
        """``r(a) - r(b)`` of validated pair rows, as float64."""
        module = self.net_.module_
        module.eval()
        with torch.inference_mode():
            margins = [module.margin(X_batch).cpu() for (X_batch,) in self._batches(X)]
        return torch.cat(margins).numpy().astype(np.float64)

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
        return self._margins(self._validated_pairs(X))

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

    def score(self, X, y, sample_weight=None):
        """Return the expected agreement of the predictions with a random annotator.

        ``mean(y * [pred = 1] + (1 - y) * [pred = 0])`` (weighted by
        ``sample_weight``): the accuracy for hard labels; with soft labels ``y``
        (the share of annotators preferring a) the chance that an annotator drawn
        at random agrees with the prediction, so a tie (``y = 0.5``) counts ½
        whatever is predicted.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features_in_)
            Pairs in the layout seen in ``fit``.
        y : array-like of shape (n_pairs,)
            Labels ``0``/``1`` or soft labels in ``[0, 1]``.
        sample_weight : array-like of shape (n_pairs,), default=None
            Non-negative weight of each pair.

        Returns
        -------
        score : float
            In ``[0, 1]``; higher is better.
        """
        owner = type(self).__name__
        y_pred = self.predict(X)
        y = check_score_target(y, owner=owner)
        if len(y) != len(y_pred):
            raise ValueError(
                f"{owner}.score got {len(y_pred)} pairs in X but {len(y)} labels "
                "in y; pass one label per pair."
            )
        weight = check_weights(sample_weight, len(y), owner=owner, method="score")
        return agreement_score(y, y_pred, weight)

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
        E, objective = single_responses(self, E)
        module = self.net_.module_
        module.eval()
        with torch.inference_mode():
            rewards = [
                module.reward(E_batch, ids).cpu()
                for E_batch, ids in self._batches(E, objective)
            ]
        return torch.cat(rewards).numpy().astype(np.float64)

    # -- persistence -------------------------------------------------------------

    def save(self, path):
        """Save the fitted model to one file, safely (no pickle).

        The weights go into a safetensors file together with the parameters and
        fitted attributes as JSON; :func:`skpref.load` reads it back. See
        :func:`skpref.save`.

        Parameters
        ----------
        path : str or path-like
            File to write (conventionally ending in ``.safetensors``).

        Returns
        -------
        path : pathlib.Path
            The file written.
        """
        from skpref._persistence import save

        return save(self, path)

    def _get_torch_state(self):
        """Return ``{"net_": state_dict}``, the weights to save; ``{}`` unfitted."""
        if not hasattr(self, "net_"):
            return {}
        return {"net_": self.net_.module_.state_dict()}

    def _set_torch_state(self, state):
        """Rebuild ``net_`` from the restored parameters and load ``state`` into it.

        The net is built on the device the ``device`` parameter resolves to on this
        machine; its history and optimiser state are not restored (``history_``
        is).
        """
        self.device_ = resolve_device(self.device, owner=type(self).__name__)
        self.net_ = self._build_net(None, shuffle_seed=0)
        with torch.random.fork_rng(devices=[]):  # initialising draws random weights
            self.net_.initialize()
        _training.load_module_state(self.net_.module_, state["net_"], owner=self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
