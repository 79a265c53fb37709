"""The shared base of the reward estimators: docs, checks, fit plan, prediction."""

import re
import textwrap
from contextlib import contextmanager
from numbers import Integral, Real
from types import FunctionType

import numpy as np
import pandas as pd
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted

from skpref._persistence import load_module_state, save
from skpref.metrics import covariate_leakage, pairwise_accuracy_score
from skpref.models import _engine
from skpref.utils import (
    HasMethods,
    Interval,
    Seeds,
    StrOptions,
    check_fit_data,
    check_margins,
    check_objective_ids,
    check_pair_width,
    check_score_target,
    check_weights,
    fit_context,
    float32_pairs,
    holdout,
    n_objectives,
    objective_names,
    resolve_device,
    single_responses,
    validate_parameter_constraints,
    validation_arrays,
)

#: Rows per chunk of prediction (at least ``batch_size``): a prediction does not
#: depend on them, and small ones leave a GPU waiting on each launch.
_PREDICTION_ROWS = 8192

#: The parameters of the objectives and of the reward MLP, shared by the three models.
MODEL_PARAMETER_CONSTRAINTS = {
    "n_objectives": [Interval(Integral, 1, None, closed="left"), None],
    "objective_categories": ["array-like", None],
    "hidden_dim": [Interval(Integral, 1, None, closed="left")],
    "latent_dim": [Interval(Integral, 1, None, closed="left")],
    "n_layers": [Interval(Integral, 2, None, closed="left")],
}


#: Parameter and attribute descriptions shared by the reward models' docstrings.
SHARED_DOCS = {
    "pairs_parameter": """\
X : array-like of shape (n_pairs, n_columns)
    Pairs in the layout seen in ``fit``.""",
    "responses_parameter": """\
E : array-like of shape (n_responses, n_columns)
    Single responses (one half of a pair row): ``n_pair_features_`` columns,
    plus the objective id as the last column for multi-objective models.""",
    "fit_parameters": """\
X : array-like of shape (n_pairs, n_columns)
    Pairs ``[response_a | response_b]`` (``2 * d`` columns), plus the objective
    id as the last column for multi-objective models (see :ref:`data_format`).
y : array-like of shape (n_pairs,)
    ``1`` where response a is preferred, ``0`` where response b is; or soft
    labels in ``[0, 1]``, the share of annotators preferring a (``0.5`` is a
    tie), trained with the BTL likelihood on soft targets.
sample_weight : array-like of shape (n_pairs,), default=None
    Non-negative weight of each pair in the loss. Weights are divided by their
    mean, so only their ratios matter; pairs of weight 0 are left out.""",
    "covariates_parameter": """\
covariates : DataFrame or array-like, default=None
    One row per pair of ``X``: the covariate that the ``invariance`` term keeps
    out of the reward (:ref:`invariance`), or that the adversary of a covariate
    ``adversary_target`` hides (:ref:`adversary_covariates`). Columns
    ``<name>_a``/``<name>_b`` of a DataFrame
    (:func:`~skpref.covariates.pair_covariates`), an array of shape
    ``(n_pairs, 2)``, or the table of pairs itself for a built-in covariate.
    Fit metadata: in a ``Pipeline`` pass ``<step>__covariates=``, or request it
    with ``set_fit_request(covariates=True)``.""",
    "margin_parameter": """margin : array-like of shape (n_pairs,), default=None
    Per-pair margins (TRL's ``margin`` column), added to the ``margin``
    parameter; finite, and not negative where a label is soft. Fit metadata,
    routed like ``sample_weight`` (``set_fit_request(margin=True)``).""",
    "validation_parameters": """\
X_val, y_val : array-like, default=None
    A validation set for choosing the best epoch, scored unweighted. When
    omitted, a stratified ``validation_fraction`` of ``X`` (with its weights) is
    held out; none if it is ``None``.""",
    "objective_parameters": """\
n_objectives : int or None, default=None
    Number of objectives ``K`` (with an objective column). ``None`` takes the
    number of ids seen in training, which must then be exactly ``0..K-1``; set
    it when an objective may be absent from training.
objective_categories : array-like of str or None, default=None
    Names of the objectives in id order (id ``k`` is ``objective_categories[k]``),
    e.g. ``skpref.datasets.OBJECTIVES``: the coding of the pipeline's embedder.
    It fixes ``K`` and lets :func:`skpref.reward_function` check that a name
    picks the right objective. ``None``: ids only.""",
    "multihead_parameters": """\
hidden_dim : int, default=512
    Width of the encoder's hidden layers (paper: 512).
latent_dim : int, default=512
    Width of the shared latent representation ``z = g(e)`` (paper: 512).
n_layers : int, default=3
    Number of GELU layers of the encoder ``g`` (paper: 3).
head_hidden_dim : int, default=512
    Hidden width of each objective's 1-hidden-layer reward head (paper: 512).""",
    "training_parameters": """\
max_epochs : int, default=10
    Number of passes over the training pairs (paper: 10).
lr : float, default=1e-4
    Adam learning rate (paper: 1e-4).
weight_decay : float, default=0.0
    Adam weight decay.
batch_size : int, default=64
    Pairs per optimisation step (validation and prediction run in chunks of
    at least 8,192 pairs, which change no prediction).
validation_fraction : float or None, default=0.1
    Share of the training pairs held out (stratified by label) to pick the epoch
    of best validation accuracy, whose weights are kept (the paper's protocol);
    ignored given ``X_val``. ``None`` or ``0``: those of lowest training loss. A
    share that would hold out every training pair is an error.
patience : int or None, default=None
    Stop after this many epochs without a better validation accuracy, or,
    without validation pairs, without a lower training loss. ``None`` trains
    all ``max_epochs`` (the best weights are kept either way).
n_threads : int or None, default=None
    CPU threads torch uses in ``fit``; torch's setting is restored afterwards.
    ``None``: one thread on the CPU, the fastest under contention (see
    :ref:`cpu_threads`), and torch's own setting on an accelerator.
margin : float, default=0.0
    A margin every training pair must be won by, added to ``fit``'s per-pair
    ``margin``: a pair where a is preferred costs ``-log sigmoid(r(a) - r(b) - m)``
    (TRL's ``margin``, see :ref:`trl_options`). Training only.
center_rewards_coefficient : float or None, default=None
    TRL's reward centring: adds ``coef * mean((r(a) + r(b))^2)`` to the loss,
    keeping rewards near 0. None or 0 adds nothing.
invariance : object or None, default=None
    A term of :mod:`skpref.invariance` that keeps a covariate (such as length)
    out of the reward; ``fit`` then needs ``covariates``. Search its strength as
    ``invariance__weight``. See :ref:`invariance`.
device : {"auto", "cpu", "cuda", "mps"} or str, default="auto"
    Torch device (``"cuda:1"`` also works); ``"auto"`` picks CUDA, then MPS,
    then the CPU. A device this machine lacks is a ``ValueError`` in ``fit``.
random_state : int, RandomState instance or None, default=None
    Seeds the initial weights, the batch order and the validation split: the
    same integer gives identical predictions on the same device. NumPy's and
    torch's global random states are left untouched.
verbose : int, default=0
    ``1`` prints a line per epoch: the training and validation losses and
    accuracies and the epoch's time.""",
    "input_attributes": """\
classes_ : ndarray of shape (2,)
    Always ``[0, 1]``: ``predict_proba(X)[:, 1]`` is ``P(a > b)``.
n_features_in_ : int
    Number of columns of ``X`` seen in ``fit``.
n_pair_features_ : int
    Number of features of one response (``d``).""",
    "fitted_attributes": """\
%(input_attributes)s
module_ : torch.nn.Module
    The fitted torch module (its reward is ``module_.reward``).
net_ : skorch.NeuralNet
    The skorch net that trained the model: ``net_.module_`` is the stack of
    members trained together. Not saved by :func:`skpref.save`.
history_ : pandas.DataFrame
    One row per epoch: ``train_loss``, ``valid_loss``, ``train_acc``,
    ``valid_acc`` (the expected agreement with the labels), ``kept`` (whether
    the epoch's weights are the best so far), ``dur``, ``train_n_pairs`` and
    ``valid_n_pairs``, TRL's reward statistics and model-specific columns (see
    :ref:`training_protocol`).
n_epochs_ : int
    Number of epochs trained.
best_epoch_ : int
    The epoch whose weights were kept (1-based).
convergence_warning_ : str or None
    The kind of :class:`~sklearn.exceptions.ConvergenceWarning` the fit
    raised: ``"non-finite"``, ``"diverged"`` or ``"saturated"`` (see
    :ref:`training_failures`); None when it raised none.
leakage_ : pandas.DataFrame, str or None
    With an ``invariance`` term or a continuous covariate adversary: how much
    the covariate still leaks into the model on the validation pairs (the
    ``table`` of :func:`~skpref.metrics.covariate_leakage`'s report;
    :meth:`summary` shows it), or why it could not be measured (no or too few
    validation pairs). None for other models.
%(reward_scale_attributes)s""",
    "reward_scale_attributes": """\
reward_mean_, reward_std_ : ndarray of shape (n_objectives,)
    Mean and standard deviation of the rewards of the training responses, per
    objective (NaN for one without pairs; one entry without an objective
    column): the scale of ``predict_reward(E, normalize=True)`` and of
    ``reward_function(..., normalize=True)``.""",
    "objective_attributes": """\
n_objectives_ : int
    Number of objectives (only with an objective column).
objective_categories_ : ndarray of str or None
    The objective names in id order, from the model's ``objective_categories``
    (only with an objective column).""",
}


def shared_docs(cls):
    """Write ``SHARED_DOCS`` into the ``%(name)s`` lines of a class's docstrings.

    At definition time, in the class's docstring and its own methods', indented
    as the placeholder is.
    """
    pattern = re.compile(r"^( *)%\((\w+)\)s$", flags=re.MULTILINE)

    def write(m):  # a text may hold placeholders of its own
        return textwrap.indent(pattern.sub(write, SHARED_DOCS[m[2]]), m[1])

    for owner in [cls, *vars(cls).values()]:
        if isinstance(owner, (type, FunctionType)) and owner.__doc__:
            owner.__doc__ = pattern.sub(write, owner.__doc__)
    return cls


@shared_docs
class PairClassifierMixin(ClassifierMixin):
    """``predict``, ``score`` and ``save`` from a ``decision_function`` of pairs.

    The reward models and :class:`~skpref.RewardEnsemble` share these; each
    defines ``decision_function`` (positive where response a is preferred) and
    ``predict_proba``.
    """

    def _validated_pairs(self, X):
        """Check that the model is fitted and ``X`` holds its kind of pairs."""
        check_is_fitted(self)
        X = float32_pairs(self, X, reset=False)
        if hasattr(self, "n_objectives_"):  # as fitted, whatever with_objective is
            check_objective_ids(
                X[:, -1], n_objectives=self.n_objectives_, owner=type(self).__name__
            )
        return X

    def predict(self, X):
        """Predicted label: ``1`` where ``P(a > b) > 0.5``, i.e. the margin is positive.

        Parameters
        ----------
        %(pairs_parameter)s

        Returns
        -------
        y_pred : ndarray of shape (n_pairs,)
            ``1`` where response a is predicted to be preferred, else ``0``.
        """
        return (self.decision_function(X) > 0).astype(np.int64)

    def score(self, X, y, sample_weight=None):
        """Return the expected agreement of the predictions with a random annotator.

        ``mean(y * [pred = 1] + (1 - y) * [pred = 0])``, weighted: the accuracy
        for hard labels, the chance that an annotator drawn at random agrees
        with the prediction for soft ones (a tie counts ½); it is
        :func:`skpref.metrics.pairwise_accuracy_score` of the predictions.

        Parameters
        ----------
        %(pairs_parameter)s
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
        return pairwise_accuracy_score(
            y, y_pred.astype(np.float64), sample_weight=weight
        )

    def save(self, path):
        """Save the fitted model to one file, safely (no pickle): :func:`skpref.save`.

        Parameters
        ----------
        path : str or path-like
            File to write (conventionally ending in ``.safetensors``).

        Returns
        -------
        path : pathlib.Path
            The file written.
        """
        return save(self, path)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


@shared_docs
class BaseRewardModel(PairClassifierMixin, BaseEstimator):
    """Common machinery of the pair reward models; not for direct use.

    A subclass returns its module class and arguments from ``_build_module_params``
    and may add loss terms, named inputs (``_fit_inputs``) and callbacks. ``fit``
    plans the fit (:meth:`_plan_fit`) and trains it as a stack of one
    (:func:`skpref.models.fit_together`).
    """

    _parameter_constraints = {
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "margin": [Interval(Real, None, None, closed="neither")],
        "center_rewards_coefficient": [Interval(Real, 0, None, closed="left"), None],
        "invariance": [HasMethods(["loss_term", "fit_inputs"]), None],
        "device": [StrOptions({"auto", "cpu", "cuda", "mps"}), str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # Not requested unless asked for (set_fit_request(covariates=True)): a search
    # routes covariates to its splitter and scorers, and a model without an
    # invariance term would otherwise make it fail for want of a request.
    __metadata_request__fit = {"covariates": False}  # noqa: RUF012

    #: Fitted attributes not saved by :func:`skpref.save`: the module (its weights
    #: are saved as the torch state ``"net_"``) and the net that trained it.
    _rebuilt_attributes = ("module_", "net_")

    @property
    def _with_objective(self):
        # MultiheadRewardModel has no with_objective: it always reads the column
        return getattr(self, "with_objective", True)

    # -- fitting -----------------------------------------------------------------

    @fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        covariates=None,
        margin=None,
    ):
        """Fit the reward model on preference pairs.

        Parameters
        ----------
        %(fit_parameters)s
        %(validation_parameters)s
        %(covariates_parameter)s
        %(margin_parameter)s

        Returns
        -------
        self : object
            The fitted estimator.
        """
        owner = type(self).__name__
        X, y, weight = check_fit_data(self, X, y, sample_weight)
        if (X_val is None) != (y_val is None):
            raise ValueError(f"{owner}.fit needs both X_val and y_val, or neither.")
        rows = valid_rows = None
        if X_val is not None:
            if covariates is not None:
                raise ValueError(
                    f"{owner}.fit cannot score its covariate adversary (or invariance "
                    "term) on X_val, "
                    "whose covariates it does not get; hold out validation_fraction "
                    "of the training pairs instead of passing X_val, y_val."
                )
            # checked against the objectives of the training pairs
            self.n_pair_features_ = check_pair_width(
                X.shape[1], with_objective=self._with_objective, owner=owner
            )
            self._fit_objectives(X[:, -1] if self._with_objective else None)
            X_val, y_val = validation_arrays(self, X_val, y_val)
            # the validation pairs after the training pairs: one block of data
            n, n_val = len(X), len(y_val)
            rows, valid_rows = np.arange(n), np.arange(n, n + n_val)
            X, y = np.vstack([X, X_val]), np.r_[y, y_val]
            weight = np.r_[weight, np.ones(n_val)]
            if margin is not None:  # validation scores the plain likelihood
                margin = np.r_[check_margins(margin, y[:n], owner), np.zeros(n_val)]
        _engine.fit_together(
            [self],
            [(X, y, weight)],
            rows=[rows],
            valid_rows=[valid_rows],
            covariates=[covariates],
            margins=[margin],
        )
        return self

    def _plan_fit(
        self, X, y, weight, rows=None, *, valid_rows=None, covariates=None, margin=None
    ):
        """Set the fitted attributes; return the ``FitPlan`` of a fit on ``X[rows]``.

        ``valid_rows`` replace the holdout (none if empty); pairs of weight 0 are
        left out.
        """
        owner = type(self).__name__
        rows = np.arange(len(X)) if rows is None else np.asarray(rows)
        seeds = Seeds.from_random_state(self.random_state)
        if valid_rows is None:
            train, valid = self._split(y, weight, rows, seeds)
        else:
            train = rows[weight[rows] > 0]
            valid_rows = np.asarray(valid_rows, dtype=np.intp)
            valid = valid_rows[weight[valid_rows] > 0]
        # the statistics of the inputs (a covariate's scale, an expert's fit) are
        # those of the pairs trained on: not the holdout, not pairs of weight 0
        inputs = self._fit_inputs(X, y, covariates, train, weight)
        self.classes_ = np.array([0, 1])
        self.n_pair_features_ = check_pair_width(
            X.shape[1], with_objective=self._with_objective, owner=owner
        )
        self._fit_objectives(X[rows, -1] if self._with_objective else None)
        self.device_ = resolve_device(self.device, owner=owner)
        # a sample drawn for this model (a bootstrap) is checked as a fit alone
        labels = np.unique(y[train])
        if len(labels) == 1 and labels[0] in (0, 1):
            raise ValueError(
                f"{owner}: the {len(train)} training pairs drawn for it (a "
                "RewardEnsemble's bootstrap sample, or the rows given to "
                f"fit_together) all have the label {labels[0]:g}, and a fit needs "
                "both labels. Give more pairs, or use bootstrap=False."
            )
        margin = self.margin + check_margins(
            np.zeros(len(y)) if margin is None else margin, y, owner
        )
        losing = rows[(margin[rows] < 0) & (y[rows] > 0) & (y[rows] < 1)]
        if len(losing):  # the per-pair margins were >= 0 there: the parameter
            raise ValueError(
                f"{owner}.fit: margin={self.margin:g} makes the margin of pair "
                f"{losing[0]} negative but its label is soft ({y[losing[0]]:g}); a "
                "negative margin would reward the losing side. Use margin >= 0 "
                "with soft labels."
            )
        if np.any(margin != 0):
            inputs["margin"] = margin
        # each part's weights scaled among themselves: a huge weight in one part
        # leaves the other's float32 weights positive, and the losses are means
        valid = _weighted(valid, weight) if valid is not None and len(valid) else None
        return _engine.FitPlan(self, _weighted(train, weight), valid, seeds, inputs)

    def _split(self, y, weight, rows, seeds):
        """Return the ``(train, valid)`` holdout of the rows of positive weight."""
        fraction, kept = self.validation_fraction or 0, rows[weight[rows] > 0]
        if fraction and np.ceil(fraction * len(kept)) >= len(kept):
            raise ValueError(
                f"{type(self).__name__}: validation_fraction={fraction:g} would hold "
                f"out all {len(kept)} training pairs, leaving none to train on; "
                "lower it, or pass validation_fraction=None to keep the epoch of "
                "lowest training loss."
            )
        return holdout(y, kept, fraction, seeds.split)

    def _fit_inputs(self, X, y, covariates, rows, weight):
        """Return the per-pair inputs of a fit: the invariance term's.

        ``rows`` are the pairs trained on, whose statistics the inputs take;
        ``weight`` holds every pair's weight.
        """
        owner = type(self).__name__
        if self.invariance is None:
            if covariates is not None:
                raise ValueError(
                    f"{owner} got covariates, but it has no invariance term to use "
                    "them (and only an AdversarialRewardModel with a covariate "
                    "adversary_target has an adversary); pass invariance=..., e.g. "
                    "skpref.invariance.Decorrelation(), or drop covariates."
                )
            return {}
        return self.invariance.fit_inputs(
            covariates, y, n_pairs=len(X), rows=rows, sample_weight=weight, owner=owner
        )

    def _invariance_parts(self):
        """Return the module arguments of the invariance term (a head, an expert)."""
        if self.invariance is None:
            return {}
        return self.invariance.module_params()

    def _fit_objectives(self, column):
        """Set ``objective_categories_`` and ``n_objectives_`` from training ids.

        ``column`` None (no objective column) removes them: a refit after
        ``with_objective`` was switched off keeps no stale K. Returns the ids.
        """
        owner = type(self).__name__
        for name in ("n_objectives", "objective_categories"):
            value = getattr(self, name)
            if value is not None and not self._with_objective:
                raise ValueError(
                    f"{owner} got {name}={value!r} but with_objective=False; set "
                    "with_objective=True to read the objective id from the last "
                    "column."
                )
        if column is None:
            for name in ("n_objectives_", "objective_categories_"):
                self.__dict__.pop(name, None)
            return None
        ids = check_objective_ids(column, owner=owner)
        names, declared = objective_names(
            self.objective_categories, self.n_objectives, owner=owner
        )
        self.objective_categories_ = names
        self.n_objectives_ = n_objectives(
            ids,
            declared,
            owner=owner,
            declared_by=None
            if names is None
            else f"objective_categories={names.tolist()}",
        )
        return ids

    def _loss_terms(self):
        """Return the terms added to the BTL loss (:class:`~skpref.models.LossTerm`)."""
        terms = ()
        if self.center_rewards_coefficient:
            terms += (_engine.CenterRewards(self.center_rewards_coefficient),)
        if self.invariance is not None:
            terms += (self.invariance.loss_term(),)
        return terms

    def _callbacks(self, plans):
        """Return extra skorch callbacks of a stack of these models' ``plans``."""
        return []

    @contextmanager
    def _forked_rng(self):
        """Leave torch's global random state as it was (on the fit's device too)."""
        devices = [self.device_] if self.device_.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            yield

    @contextmanager
    def _threads(self):
        """Run torch on ``n_threads`` CPU threads (the default: see the docs)."""
        n = self.n_threads or (1 if self.device_.startswith("cpu") else None)
        before = torch.get_num_threads()
        if n is not None:
            torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def _build_net(self, stack, plans, *, progress=None):
        """Build the skorch net that trains ``stack``, the members of ``plans``."""
        monitor = "valid_acc" if plans[0].valid is not None else "train_loss"
        patience = [p.estimator.patience for p in plans]
        callbacks = [("scores", _engine.MemberScores()), *self._callbacks(plans)]
        if self.verbose:
            callbacks.append(("log", _engine.EpochLog()))
        if progress is not None:
            callbacks.append(("progress", _engine.EpochProgress(progress)))
        # last: it ends training (raising KeyboardInterrupt) once every member stopped
        callbacks.append(("checkpoint", _engine.MemberCheckpoint(monitor, patience)))
        return _engine.RewardNet(
            stack,
            loss_terms=tuple(self._loss_terms()),
            criterion=torch.nn.BCEWithLogitsLoss,
            criterion__reduction="none",
            optimizer=torch.optim.Adam,
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=_engine.member_split,
            iterator_train=_engine.MemberBatches,
            iterator_valid=_engine.MemberBatches,
            iterator_valid__batch_size=max(self.batch_size, _PREDICTION_ROWS),
            callbacks=callbacks,
            callbacks__train_loss=None,
            callbacks__valid_loss=None,
            callbacks__print_log=None,
            device=self.device_,
        )

    # -- prediction --------------------------------------------------------------

    def _predict(self, method, *arrays):
        """Call ``module_.<method>`` on the rows of ``arrays`` in chunks; float64.

        ``batch_size`` is validated here too: it may have been set after ``fit``.
        """
        validate_parameter_constraints(
            {"batch_size": self._parameter_constraints["batch_size"]},
            {"batch_size": self.batch_size},
            caller_name=type(self).__name__,
        )
        size = max(self.batch_size, _PREDICTION_ROWS)
        self.module_.eval()
        with torch.inference_mode():
            outputs = [
                getattr(self.module_, method)(
                    *(
                        torch.as_tensor(a[i : i + size], device=self.device_)
                        for a in arrays
                    )
                )
                for i in range(0, len(arrays[0]), size)
            ]
            # kept on the device until here: one copy to the host
            return torch.cat(outputs).cpu().numpy().astype(np.float64)

    def _margins(self, X):
        """``r(a) - r(b)`` of validated pair rows, as float64."""
        return self._predict("margin", X)

    def _rewards(self, E, objective):
        """``r(e)`` of validated single responses and their objective ids."""
        return self._predict("reward", E, objective)

    def decision_function(self, X):
        """Reward difference ``r(a) - r(b)`` of each pair.

        Parameters
        ----------
        %(pairs_parameter)s

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
        %(pairs_parameter)s

        Returns
        -------
        proba : ndarray of shape (n_pairs, 2)
            ``proba[:, 1] = sigmoid(r(a) - r(b))``. Swapping the two responses of a
            pair swaps the two columns exactly.
        """
        margin = self.decision_function(X)
        # sigmoid(-m) for the first column (not 1 - sigmoid(m)) makes the swap exact
        return np.column_stack([expit(-margin), expit(margin)])

    def predict_reward(self, E, normalize=False):
        """Reward ``r(e)`` of single responses.

        Parameters
        ----------
        %(responses_parameter)s
        normalize : bool, default=False
            Return z-scores ``(r - reward_mean_) / reward_std_`` of the response's
            objective, on the scale of the training responses' rewards.

        Returns
        -------
        reward : ndarray of shape (n_responses,)
            Identified only up to an additive constant (per prompt): compare
            rewards, do not read their absolute value (or normalize them).
        """
        check_is_fitted(self)
        E, objective = single_responses(self, E)
        reward = self._rewards(E, objective)
        return standardized(self, reward, objective) if normalize else reward

    def predict_latent(self, E):
        """Latent representation ``z = g(e)`` of single responses.

        The encoder's output, which the reward head reads (with the objective's
        one-hot appended to the features for the *Base* model).

        Parameters
        ----------
        %(responses_parameter)s

        Returns
        -------
        latent : ndarray of shape (n_responses, latent_dim)
        """
        check_is_fitted(self)
        return self._predict("latent", *single_responses(self, E))

    def _leakage_covariate(self):
        """Return the continuous covariate a term or the adversary hides (or None)."""
        if self.invariance is not None:
            return self.invariance.covariate
        if getattr(self, "adversary_type_", None) == "continuous":
            return self.adversary_target_
        return None

    def _set_leakage(self, X, covariates, held_out):
        """Set ``leakage_``: the covariate's leakage on the validation pairs."""
        self.leakage_ = None
        name = self._leakage_covariate()
        if name is None:
            return
        if held_out is None:
            self.leakage_ = "no validation pairs were held out"
            return
        try:
            self.leakage_ = covariate_leakage(
                self,
                X[held_out],
                _safe_indexing(covariates, held_out),
                covariate=name,
                random_state=Seeds.from_random_state(self.random_state).split,
            ).table
        except ValueError as error:  # too few pairs on a side of the covariate
            self.leakage_ = f"the validation pairs did not allow it: {error}"

    def summary(self):
        """Report what the fit achieved against its covariate, on validation pairs.

        For a model with an ``invariance`` term or a continuous covariate
        adversary: the covariate's leakage on the pairs held out for validation
        (:func:`~skpref.metrics.covariate_leakage`: held-out R² and AUC of linear
        probes of the covariate difference from the reward and latent
        differences, the rewards' correlation with the covariate, with
        bootstrap intervals), then the term's own measures in the kept epoch
        (``valid_*`` columns of ``history_``, without intervals).

        Returns
        -------
        summary : pandas.DataFrame
            One row per measure; columns ``estimate``, ``low``, ``high`` and
            ``n``.
        """
        check_is_fitted(self)
        owner = type(self).__name__
        if self._leakage_covariate() is None:
            raise ValueError(
                f"{owner}.summary reports how much a covariate leaks into the "
                "model; this one has no invariance term and no continuous "
                "covariate adversary. Use skpref.metrics.covariate_leakage(model, "
                "X, covariates) on pairs of your own."
            )
        if isinstance(self.leakage_, str):
            raise ValueError(
                f"{owner} has no leakage report: {self.leakage_}. Use "
                "skpref.metrics.covariate_leakage(model, X_test, covariates_test)."
            )
        kept = self.history_.iloc[self.best_epoch_ - 1] if self.best_epoch_ else None
        measures = {
            name: kept[name]
            for name in self.history_.columns
            if kept is not None
            and name.startswith("valid_")
            and name
            not in ("valid_loss", "valid_acc", "valid_batch_count", "valid_n_pairs")
        }
        table = self.leakage_[["estimate", "low", "high", "n"]]
        extra = pd.DataFrame(
            {"estimate": measures, "low": np.nan, "high": np.nan, "n": np.nan}
        )
        return pd.concat([table, extra]) if measures else table

    def _side_rewards(self, X):
        """Return the rewards of the a and of the b responses of pairs, and the ids."""
        d = self.n_pair_features_
        ids = np.zeros(len(X), np.int64)
        if self._with_objective:
            ids = X[:, -1].astype(np.int64)
        return self._rewards(X[:, :d], ids), self._rewards(X[:, d : 2 * d], ids), ids

    def _set_reward_scale(self, a, b, ids):
        """Set ``reward_mean_`` and ``reward_std_`` from the training pairs' rewards."""
        self.reward_mean_, self.reward_std_ = reward_moments(self, np.r_[a, b], ids)

    # -- persistence -------------------------------------------------------------

    def _get_torch_state(self):
        """Return ``{"net_": state_dict}``, the weights to save; ``{}`` unfitted."""
        if not hasattr(self, "module_"):
            return {}
        return {"net_": self.module_.state_dict()}

    def _set_torch_state(self, state):
        """Rebuild ``module_`` (on this machine's ``device``) and load ``state``."""
        self.device_ = resolve_device(self.device, owner=type(self).__name__)
        module, params = self._build_module_params()
        with self._forked_rng():  # building draws random weights
            module = module(**params)
        load_module_state(module, state["net_"], owner=self)
        self.module_ = module.to(self.device_)


def reward_moments(model, rewards, ids):
    """Mean and standard deviation of the rewards of both sides, per objective.

    ``rewards`` holds the a sides then the b sides of the pairs of objective
    ``ids``.
    """
    n_objectives = model.n_objectives_ if model._with_objective else 1
    ids = np.r_[ids, ids]
    counts = np.bincount(ids, minlength=n_objectives)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(ids, weights=rewards, minlength=n_objectives) / counts
        centred = rewards - mean[ids]
        variance = np.bincount(ids, weights=centred**2, minlength=n_objectives)
        return mean, np.sqrt(variance / counts)


def standardized(model, reward, objective):
    """``reward`` as z-scores on the model's training scale (per objective)."""
    owner = type(model).__name__
    if not hasattr(model, "reward_std_"):
        raise ValueError(
            f"{owner} has no reward scale: it was fitted (or saved) before skpref "
            "recorded the rewards of the training responses. Refit it to use "
            "normalize=True."
        )
    ids = np.asarray(objective, dtype=np.int64)
    std = model.reward_std_[ids]
    unusable = ~(std > 0)  # NaN (no training pair) or 0 (constant rewards)
    if unusable.any():
        raise ValueError(
            f"{owner} cannot normalize rewards of objective {int(ids[unusable][0])}: "
            "its training responses gave no spread of rewards (none of them, or "
            "all equal)."
        )
    return (reward - model.reward_mean_[ids]) / std


def _weighted(rows, weight):
    """``Rows`` of ``rows``, their weights divided by their mean."""
    scaled = (weight[rows] / weight[rows].mean()).astype(np.float32)
    return _engine.Rows.of(rows, scaled)
