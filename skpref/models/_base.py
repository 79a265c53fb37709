"""The shared base of the reward estimators: validation, seeding, the skorch net."""

from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import EarlyStopping, ProgressBar

from skpref.models import _training
from skpref.models._adversary import training_block
from skpref.models._batches import Batches, PairData, Phases, Rows
from skpref.models._inputs import (
    check_fit_target,
    check_weights,
    float32_pairs,
    single_responses,
    validation_arrays,
)
from skpref.models._net import NonFiniteLossGuard, PairNet
from skpref.models._pair_classifier import PairClassifierMixin
from skpref.utils._device import resolve_device
from skpref.utils._validation import (
    Interval,
    StrOptions,
    _fit_context,
    check_pair_width,
    validate_parameter_constraints,
)

#: Rows per chunk of prediction (at least ``batch_size``).
_PREDICTION_ROWS = 8192


#: The parameters of the reward MLP (:func:`skpref.models._modules.mlp`), shared by
#: the three models of the paper; a model of another shape declares its own.
MLP_PARAMETER_CONSTRAINTS = {
    "hidden_dim": [Interval(Integral, 1, None, closed="left")],
    "latent_dim": [Interval(Integral, 1, None, closed="left")],
    "n_layers": [Interval(Integral, 2, None, closed="left")],
}


class BaseRewardModel(PairClassifierMixin, BaseEstimator):
    """Common machinery of the pair reward models; not for direct use.

    Subclasses set ``_with_objective`` (or override it as a property), ``_net_class``
    and implement ``_build_module_params`` returning the module class and its
    keyword arguments.
    """

    _parameter_constraints = {
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
        return self._fit(X, y, sample_weight, X_val=X_val, y_val=y_val)

    def _fit(self, X, y, sample_weight, *, X_val, y_val, covariates=None):
        owner = type(self).__name__
        X, y = float32_pairs(self, X, y)
        weight = check_weights(sample_weight, len(X), owner=owner)
        y = check_fit_target(y, None if sample_weight is None else weight, owner=owner)
        if (X_val is None) != (y_val is None):
            raise ValueError(f"{owner}.fit needs both X_val and y_val, or neither.")
        side = self._adversary_side(X, covariates)
        if side is not None and X_val is not None:
            raise ValueError(
                f"{owner}.fit cannot score its covariate adversary on X_val, whose "
                "covariates it does not get; hold out validation_fraction of the "
                "training pairs instead of passing X_val, y_val."
            )
        plan = self._plan_fit(X, y, weight, holdout=X_val is None)
        data = PairData([training_block(X, side)], [y], self.device_)
        valid = plan.valid_batches(data)
        if X_val is not None:
            X_val, y_val = validation_arrays(self, X_val, y_val)
            rows = Rows.of(np.arange(len(y_val)), np.ones(len(y_val)))
            valid_data = PairData([X_val], [y_val], self.device_)
            valid = Batches(valid_data, [rows], self.batch_size)
        self._train_alone(plan, Phases(plan.train_batches(data), valid))
        self._summarise_training(X)
        return self

    def _train_alone(self, plan, phases):
        """Build, initialise (from the plan's seed) and train ``net_`` on ``phases``."""
        self.net_ = self._build_net(validated=phases.valid is not None)
        with self._forked_rng():
            # the CPU generator only: the module is built on the CPU, and
            # torch.manual_seed would reseed every GPU's generator too
            torch.default_generator.manual_seed(plan.seeds.init)
            self.net_.initialize()
            self.net_.partial_fit(phases)

    def _plan_fit(self, X, y, weight, rows=None, *, holdout=True, valid_rows=None):
        """Set the fitted attributes; return what the fit trains on (a FitPlan).

        ``X``, ``y`` and ``weight`` are validated; ``rows`` (default: all) are the
        rows of ``X`` that this fit trains on, in order, less its holdout (see
        :meth:`_split`); ``valid_rows``, if given, are the rows it validates on
        instead of a holdout (none if empty), their weights scaled to a mean of 1
        among themselves.
        """
        owner = type(self).__name__
        rows = np.arange(len(X)) if rows is None else np.asarray(rows)
        self.classes_ = np.array([0, 1])
        self.n_pair_features_ = check_pair_width(
            X.shape[1], with_objective=self._with_objective, owner=owner
        )
        _training.fit_objectives(self, X[rows, -1] if self._with_objective else None)
        seeds = _training.Seeds.from_random_state(self.random_state)
        self.device_ = resolve_device(self.device, owner=owner)
        if valid_rows is None:
            kept, train, valid = self._split(y, weight, rows, seeds, holdout=holdout)
            train = _weighted(train, weight, kept)
            valid = None if valid is None else _weighted(valid, weight, kept)
        else:  # given validation pairs (a bootstrap member's): weighted by themselves
            kept = rows[weight[rows] > 0]
            valid_rows = np.asarray(valid_rows, dtype=np.intp)
            valid_rows = valid_rows[weight[valid_rows] > 0]
            train = _weighted(kept, weight, kept)
            valid = None
            if len(valid_rows):
                valid = _weighted(valid_rows, weight, valid_rows)
        return _training.FitPlan(self, train, valid, seeds)

    def _split(self, y, weight, rows, seeds, *, holdout=True):
        """Return ``(kept, train, valid)`` rows: the holdout of a fit on ``rows``.

        ``kept`` are the rows of positive weight (pairs of weight 0 are left
        out), ``train`` and ``valid`` the stratified ``validation_fraction`` of
        them held out with ``seeds.split`` (``valid`` is None without one, or
        unless ``holdout``).
        """
        kept = rows[weight[rows] > 0]
        fraction = (self.validation_fraction or 0) if holdout else 0
        return (kept, *_training.holdout(y, kept, fraction, seeds.split))

    def _adversary_side(self, X, covariates):
        """Set the adversary's fitted attributes; return its training columns.

        Only the adversarial model has an adversary (and takes ``covariates``);
        the columns returned, if any, are appended to ``X`` for training (see
        :func:`~skpref.models._adversary.training_block`).
        """
        return None

    def _declared_n_objectives(self):
        """Return the ``n_objectives`` parameter; refuse K without objective column."""
        if not self._with_objective:
            for name in ("n_objectives", "objective_categories"):
                value = getattr(self, name, None)
                if value is not None:
                    raise ValueError(
                        f"{type(self).__name__} got {name}={value!r} but "
                        "with_objective=False; set with_objective=True to read the "
                        "objective id from the last column."
                    )
        return getattr(self, "n_objectives", None)

    def _check_objectives(self, ids):
        """Let subclasses require a minimum number of objectives."""

    @contextmanager
    def _forked_rng(self):
        """Leave torch's global random state as it was (on the fit's device too)."""
        devices = [self.device_] if self.device_.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            yield

    def _build_net(self, *, validated):
        """Build the unfitted net; ``validated``: whether it gets validation pairs."""
        module, module_params = self._build_module_params()
        monitor = "valid_acc" if validated else "train_loss"
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
            callbacks=callbacks,
            **self._net_params(),
        )

    def _net_params(self):
        """Return the net's loss, optimiser and loop settings (the engine's too)."""
        return {
            "criterion": torch.nn.BCEWithLogitsLoss,
            "criterion__reduction": "none",
            "optimizer": torch.optim.Adam,
            "lr": self.lr,
            "optimizer__weight_decay": self.weight_decay,
            "max_epochs": self.max_epochs,
            "batch_size": self.batch_size,
            "train_split": None,
            "device": self.device_,
            "verbose": int(bool(self.verbose)),
        }

    def _extra_callbacks(self):
        return []

    def _summarise_training(self, X, rows=None):
        """Keep the history and check the fit on its training pairs, ``X[rows]``."""
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
            rows=rows,
        )

    def _callback(self, name):
        return dict(self.net_.callbacks_)[name]

    # -- prediction --------------------------------------------------------------

    def _batches(self, *arrays):
        """Yield the rows of ``arrays`` as tensors on the fitted device, in chunks.

        Chunks of at least ``_PREDICTION_ROWS`` rows: a prediction does not
        depend on them, and small ones leave a GPU waiting on each launch.
        ``batch_size`` is validated here too: it may have been set after ``fit``.
        """
        validate_parameter_constraints(
            {"batch_size": self._parameter_constraints["batch_size"]},
            {"batch_size": self.batch_size},
            caller_name=type(self).__name__,
        )
        size = max(self.batch_size, _PREDICTION_ROWS)
        for start in range(0, len(arrays[0]), size):
            chunk = [a[start : start + size] for a in arrays]
            yield [torch.as_tensor(a, device=self.device_) for a in chunk]

    def _margins(self, X):
        """``r(a) - r(b)`` of validated pair rows, as float64."""
        module = self.net_.module_
        module.eval()
        with torch.inference_mode():
            return _to_numpy([module.margin(X_b) for (X_b,) in self._batches(X)])

    def decision_function(self, X):
        """Reward difference ``r(a) - r(b)`` of each pair.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_columns)
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
        X : array-like of shape (n_pairs, n_columns)
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
        return self._rewards(*single_responses(self, E))

    def _rewards(self, E, objective):
        """``r(e)`` of validated single responses and their objective ids."""
        module = self.net_.module_
        module.eval()
        with torch.inference_mode():
            return _to_numpy(
                [module.reward(E_b, ids) for E_b, ids in self._batches(E, objective)]
            )

    # -- persistence -------------------------------------------------------------

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
        self.net_ = self._build_net(validated=False)
        with self._forked_rng():  # initialising draws random weights
            self.net_.initialize()
        _training.load_module_state(self.net_.module_, state["net_"], owner=self)


def _weighted(rows, weight, scaled_over):
    """``Rows`` of ``rows``, their weights divided by the mean over ``scaled_over``."""
    return Rows.of(rows, (weight[rows] / weight[scaled_over].mean()).astype(np.float32))


def _to_numpy(batches):
    """Concatenate per-batch outputs on the device; one copy to the host, float64."""
    return torch.cat(batches).cpu().numpy().astype(np.float64)
