"""Fit-time pieces of the reward models: seeds, objectives, health checks, weights.

Everything random in a fit is drawn from three integer seeds derived from
``random_state`` by a private generator: one seeds the weight initialisation, one a
``torch.Generator`` that orders the batches (``torch.randperm`` of the training
pairs every epoch), one the validation holdout. Neither
NumPy's nor torch's global random state is read or changed, so a fit is a pure
function of its data, its parameters and these seeds.
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from skpref.models._batches import Batches, Rows
from skpref.models._net import PairHoldout
from skpref.utils._objectives import check_objective_categories
from skpref.utils._validation import check_objective_ids

# The loss of predicting 1/2 for every pair; a kept epoch that does ten times worse
# on its own training pairs has diverged.
_CHANCE_LOSS = math.log(2)
_DIVERGED_LOSS = 10 * _CHANCE_LOSS
# Training pairs whose predicted probabilities are checked for saturation, and the
# share of them at exactly 0 or 1 (|r(a) - r(b)| > 36.7, odds no preference data
# supports) that is warned about.
_N_SATURATION_PAIRS = 1024
_SATURATED_SHARE = 0.5


@dataclass(frozen=True)
class Seeds:
    """The seeds of one fit: weight initialisation, batch order, validation split."""

    init: int
    shuffle: int
    split: int

    @classmethod
    def from_random_state(cls, random_state):
        """Draw the three seeds from ``random_state`` (None: fresh entropy).

        Examples
        --------
        >>> Seeds.from_random_state(0) == Seeds.from_random_state(0)
        True
        """
        rng = random_state_generator(random_state)
        return cls(*(int(s) for s in rng.randint(0, 2**31 - 1, size=3)))


def random_state_generator(random_state):
    """Return a ``RandomState`` from ``random_state``; None: fresh entropy.

    Unlike ``check_random_state(None)``, None leaves NumPy's global generator
    alone.

    Examples
    --------
    >>> random_state_generator(0).randint(10) == random_state_generator(0).randint(10)
    True
    """
    if random_state is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(1))
    if isinstance(random_state, np.random.RandomState):
        return random_state
    return np.random.RandomState(random_state)


@dataclass
class FitPlan:
    """What one model trains on: its rows of the data, their weights, its seeds.

    A single fit and each member of the engine train from a plan; the batches of
    both come from the same rows, weights and seeds, in the same order.
    """

    estimator: object
    train: Rows
    valid: Rows | None
    seeds: Seeds

    def generator(self):
        """Return the generator of the batch order (``torch.randperm`` each epoch)."""
        return torch.Generator().manual_seed(self.seeds.shuffle)

    def train_batches(self, data):
        """Return the training batches of this model alone."""
        size = self.estimator.batch_size
        return Batches(data, [self.train], size, [self.generator()])

    def valid_batches(self, data):
        """Return the validation batches of this model alone (None: no holdout)."""
        if self.valid is None:
            return None
        return Batches(data, [self.valid], self.estimator.batch_size)


def holdout_size(fraction, n_pairs):
    """Return how many pairs a holdout of ``fraction`` takes (rounded up).

    Examples
    --------
    >>> holdout_size(0.1, 95)
    10
    """
    return math.ceil(fraction * n_pairs)


def holdout(y, rows, fraction, seed):
    """Split ``rows`` into ``(train, valid)``: a stratified holdout of ``fraction``.

    The holdout (:class:`~skpref.models._net.PairHoldout`, seeded by ``seed``)
    takes ``ceil(fraction * len(rows))`` of the rows; ``valid`` is None where that
    is no row or all of them.

    Examples
    --------
    >>> import numpy as np
    >>> train, valid = holdout(np.tile([0.0, 1.0], 10), np.arange(20), 0.1, 0)
    >>> len(train), len(valid), holdout(np.ones(5), np.arange(5), 0, 0)[1]
    (18, 2, None)
    """
    n_valid = holdout_size(fraction, len(rows))
    if not 1 <= n_valid < len(rows):
        return rows, None
    train, valid = PairHoldout(fraction, seed).split_indices(y[rows])
    return rows[train], rows[valid]


def fit_objectives(model, column):
    """Set ``objective_categories_`` and ``n_objectives_`` of a fit on ``column``.

    ``column`` holds the objective ids of the training pairs; None (a model
    without an objective column) removes those attributes, so that a refit after
    ``with_objective`` was switched off keeps no stale K.
    """
    owner = type(model).__name__
    declared = model._declared_n_objectives()
    if column is None:
        for name in ("n_objectives_", "objective_categories_"):
            model.__dict__.pop(name, None)
        return
    ids = check_objective_ids(column, owner=owner)
    names, declared = objective_names(model.objective_categories, declared, owner=owner)
    model.objective_categories_ = names
    model.n_objectives_ = n_objectives(
        ids,
        declared,
        owner=owner,
        declared_by=None if names is None else f"objective_categories={names.tolist()}",
    )
    model._check_objectives(ids)


def objective_names(categories, declared, *, owner):
    """Return ``(objective_categories_, K)`` from the two parameters that fix K.

    The names are the pipeline's objective coding (id ``k`` is ``categories[k]``);
    they fix K, and ``n_objectives``, when also given, must agree.

    Examples
    --------
    >>> names, k = objective_names(["helpful", "harmless"], None, owner="m")
    >>> names.tolist(), k
    (['helpful', 'harmless'], 2)
    """
    if categories is None:
        return None, declared
    names = check_objective_categories(categories, owner=owner)
    if declared is not None and declared != names.size:
        raise ValueError(
            f"{owner} got n_objectives={declared} but {names.size} "
            f"objective_categories {names.tolist()}; give one of them, or make "
            "them agree."
        )
    return names, names.size


def n_objectives(ids, declared, *, owner, declared_by=None):
    """Return K: ``declared``, else the number of ids seen, which must be 0..K-1.

    Inferring K from the largest id would let one stray id (99,999) build 100,000
    heads; requiring the ids seen to be exactly ``0..K-1`` catches it instead.

    Examples
    --------
    >>> import numpy as np
    >>> n_objectives(np.array([1, 0, 1]), None, owner="m")
    2
    """
    seen = np.unique(ids)
    if declared is not None:
        if seen[-1] >= declared:
            given = declared_by or f"n_objectives={declared}"
            raise ValueError(
                f"{owner} got {given}, so objective ids must be "
                f"0..{declared - 1}; the objective column holds the id "
                f"{int(seen[-1])}. Declare every objective or renumber the ids."
            )
        return int(declared)
    if seen[-1] != seen.size - 1:
        missing = sorted(set(range(seen.size)) - set(seen.tolist()))[:5]
        shown = seen.tolist() if seen.size <= 6 else [*seen[:5].tolist(), "..."]
        raise ValueError(
            f"{owner} expects objective ids 0..K-1 with none missing; the "
            f"objective column holds the ids {shown} (largest {int(seen[-1])}), "
            f"so {missing} are absent. Renumber the ids, or set n_objectives if "
            "some objectives are absent from the training pairs."
        )
    return int(seen.size)


def check_training_health(model, *, diverged_epoch, X, rows=None):
    """Raise or warn when the kept weights come from a failed fit.

    The fit trained on ``X[rows]`` (``rows`` None: all of ``X``); the rows are
    indexed, never copied whole (a bootstrap member's are as many as ``X``'s).

    A NaN/inf loss before any usable epoch raises; a NaN/inf loss later, a kept
    epoch whose training loss is more than ten times chance, or probabilities of
    exactly 0 or 1 on most training pairs warn with a
    :class:`~sklearn.exceptions.ConvergenceWarning` saying what to do. The kind of
    the warning (``"non-finite"``, ``"diverged"``, ``"saturated"``; None without
    one) is kept as ``model.convergence_warning_``, so a run of many fits can
    count them after the fact (:func:`skpref.experiments.run_protocol` does).
    """
    owner = type(model).__name__
    model.convergence_warning_ = None

    def advice():  # only when warning: the largest feature takes a pass over X
        trained = X if rows is None else X[rows]
        features = trained[:, : 2 * model.n_pair_features_]
        largest = max(abs(features.max()), abs(features.min()))
        return (
            f"Lower lr (now {model.lr:g}) or standardise the features (largest "
            f"|value| {largest:.3g})"
        )

    if diverged_epoch is not None:
        if model.best_epoch_ == 0:
            raise ValueError(
                f"{owner}: the training loss became NaN or infinite in epoch "
                f"{diverged_epoch}, before any usable weights existed. {advice()}."
            )
        _warn(
            model,
            "non-finite",
            f"{owner}: the training loss became NaN or infinite in epoch "
            f"{diverged_epoch}; training stopped and the weights of epoch "
            f"{model.best_epoch_} (the best so far) were kept. {advice()} to train "
            "further.",
        )
        return
    kept_loss = model.history_["train_loss"].iloc[model.best_epoch_ - 1]
    if kept_loss > _DIVERGED_LOSS:
        _warn(
            model,
            "diverged",
            f"{owner}: training diverged: the kept epoch {model.best_epoch_} has a "
            f"training loss of {kept_loss:.3g}, more than ten times that of "
            f"predicting 1/2 for every pair ({_CHANCE_LOSS:.3f}). {advice()}.",
        )
        return
    n = len(X) if rows is None else len(rows)
    picked = np.linspace(0, n - 1, min(n, _N_SATURATION_PAIRS)).astype(int)
    picked = picked if rows is None else np.asarray(rows)[picked]
    # P(a > b) or P(b > a) is exactly 1, the other then exactly or nearly 0.
    saturated = np.mean(expit(np.abs(model._margins(X[picked]))) == 1)
    if saturated >= _SATURATED_SHARE:
        _warn(
            model,
            "saturated",
            f"{owner}: {saturated:.0%} of the predicted probabilities on the "
            "training pairs are exactly 0 or 1: the rewards saturated, so "
            f"predict_proba carries no uncertainty there. {advice()}, or add "
            "weight_decay.",
        )


def load_module_state(module, state, *, owner):
    """Load a saved ``state_dict`` into ``module``, naming any tensor that differs."""
    expected = module.state_dict()
    name = type(owner).__name__
    if set(state) != set(expected):
        missing = sorted(set(expected) - set(state))
        extra = sorted(set(state) - set(expected))
        raise ValueError(
            f"{name}: the saved weights do not match the network built from the "
            f"saved parameters (missing {missing[:3]}, unexpected {extra[:3]}). "
            "The file was written by a different model or skpref version."
        )
    for key, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise ValueError(
                f"{name}: the saved weight {key!r} has shape {tuple(tensor.shape)} "
                f"but the network built from the saved parameters expects "
                f"{tuple(expected[key].shape)}. The parameters and weights of the "
                "file disagree: it is corrupt or was edited."
            )
    module.load_state_dict(state)


def _warn(model, kind, message):
    model.convergence_warning_ = kind
    warnings.warn(message, ConvergenceWarning, stacklevel=4)
