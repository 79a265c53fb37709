"""The Adversarial reward model: Multihead + gradient-reversal discriminator (eq. 5)."""

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import torch
from skorch.callbacks import Callback

from skpref.covariates import encode_pair_covariate
from skpref.models._base import shared_docs
from skpref.models._engine import LossTerm, pair_mean
from skpref.models._modules import AdversarialRewardModule
from skpref.models._multihead import MultiheadRewardModel
from skpref.utils import Interval, StrOptions

OBJECTIVE = "objective"


@shared_docs
class AdversarialRewardModel(MultiheadRewardModel):
    """Multihead reward model whose shared latent is trained to hide the objective.

    On top of :class:`MultiheadRewardModel`, a discriminator ``h`` predicts the
    labeller's objective ``c`` from the latent ``z = g(e)`` of each response
    (eq. 13), behind a gradient-reversal layer: ``min_{g, f} max_h L_R - λ L_adv``
    (eq. 5). In confounded data this removes the prompt-type information the
    heads could use as a shortcut for ``c``. It can hide a covariate of each
    response instead, such as its length (``adversary_target``). See
    :ref:`models` and :ref:`adversary_covariates`.

    Parameters
    ----------
    adversary_weight : float, default=1.0
        The weight λ of the adversarial loss in eq. (5) (paper: 1.0); ``0`` gives
        the Multihead model (the discriminator still trains, but nothing flows
        back). Search it with ``GridSearchCV`` on out-of-distribution folds (see
        :class:`~skpref.RhoStratifiedSplitter`).
    adversary_warmup : int, default=0
        Epochs over which λ ramps linearly from 0 (epoch 1) to ``adversary_weight``.
    discriminator_hidden_dim : int, default=512
        Hidden width of the discriminator (paper: 512).
    adversary_target : str, default="objective"
        What the discriminator predicts from each response's latent, so that the
        latent learns to hide it. ``"objective"``: the pair's objective id, the
        last column of ``X`` (the paper's model). Any other name is a covariate
        whose values ``fit`` takes as ``covariates=`` (one value per response or
        per pair; for a built-in covariate of :mod:`skpref.covariates`, such as
        ``"length"``, the table of pairs itself); see :ref:`adversary_covariates`.
    adversary_type : {"auto", "categorical", "continuous"}, default="auto"
        How the discriminator predicts a covariate: ``"categorical"`` by
        cross-entropy over its classes, ``"continuous"`` by squared error on
        the standardised values. ``"auto"``: numbers are continuous, anything
        else (strings, booleans, categories) categorical; the objective is
        always categorical. Set ``"categorical"`` for categories coded as
        integers.
    with_objective : bool, default=True
        Whether the last column of ``X`` holds the objective id (one reward head
        per objective). ``False``: ``X`` holds plain pairs ``[a | b]``, as for
        :class:`BTLRewardRegressor`, and the model has one reward head; only
        with a covariate ``adversary_target`` (there is no objective to hide),
        and ``n_objectives`` and ``objective_categories`` stay ``None``.
    %(objective_parameters)s
    %(multihead_parameters)s
    %(training_parameters)s

    Attributes
    ----------
    %(fitted_attributes)s
    %(objective_attributes)s
    adversary_target_ : str
        The ``adversary_target`` the model was fitted with.
    adversary_type_ : {"categorical", "continuous"}
        How the discriminator predicted it.
    adversary_classes_ : ndarray or None
        The classes of a categorical covariate in code order (None for the
        objective and for continuous covariates).
    adversary_mean_, adversary_scale_ : float or None
        The mean and standard deviation that standardised a continuous covariate
        over the responses of the training pairs (None otherwise).
    discriminator_chance_ : float
        The discriminator's score without information: for a categorical target
        the accuracy of always guessing its most frequent value in the training
        data, for a continuous one the R² of predicting its mean, 0. A
        discriminator near this level means the latent hides the target.

    See Also
    --------
    MultiheadRewardModel : The same model without the discriminator.
    BTLRewardRegressor : With ``with_objective=True``, the *Base* model.

    References
    ----------
    Kobalczyk, K. and van der Schaar, M. (2025). Preference Learning for AI
    Alignment: a Causal Perspective. ICML. Eq. (5), (12)-(13), appendix E.1.

    Ganin, Y. et al. (2016). Domain-adversarial training of neural networks. JMLR.

    Examples
    --------
    >>> from skpref import AdversarialRewardModel
    >>> from skpref.datasets import make_confounded_preferences
    >>> data = make_confounded_preferences(n_pairs=600, n_features=8, rho=0.5,
    ...                                    random_state=0)
    >>> model = AdversarialRewardModel(adversary_weight=0.5, hidden_dim=32,
    ...                                latent_dim=16, head_hidden_dim=16,
    ...                                discriminator_hidden_dim=16, max_epochs=20,
    ...                                lr=1e-2, random_state=0).fit(data.X, data.y)
    >>> model.score(data.X, data.y) > 0.8
    True
    >>> list(model.history_[["train_disc_acc", "disc_chance"]].columns)
    ['train_disc_acc', 'disc_chance']
    """

    _parameter_constraints = {
        **MultiheadRewardModel._parameter_constraints,
        "adversary_weight": [Interval(Real, 0, None, closed="left")],
        "adversary_warmup": [Interval(Integral, 0, None, closed="left")],
        "discriminator_hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "adversary_target": [str],
        "adversary_type": [StrOptions({"auto", "categorical", "continuous"})],
        "with_objective": ["boolean"],
    }

    def __init__(
        self,
        *,
        adversary_weight=1.0,
        adversary_warmup=0,
        discriminator_hidden_dim=512,
        adversary_target="objective",
        adversary_type="auto",
        with_objective=True,
        n_objectives=None,
        objective_categories=None,
        hidden_dim=512,
        latent_dim=512,
        n_layers=3,
        head_hidden_dim=512,
        max_epochs=10,
        lr=1e-4,
        weight_decay=0.0,
        batch_size=64,
        validation_fraction=0.1,
        patience=None,
        n_threads=None,
        margin=0.0,
        center_rewards_coefficient=None,
        invariance=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.adversary_weight = adversary_weight
        self.adversary_warmup = adversary_warmup
        self.discriminator_hidden_dim = discriminator_hidden_dim
        self.adversary_target = adversary_target
        self.adversary_type = adversary_type
        self.with_objective = with_objective
        self.n_objectives = n_objectives
        self.objective_categories = objective_categories
        self.hidden_dim = hidden_dim
        self.latent_dim = latent_dim
        self.n_layers = n_layers
        self.head_hidden_dim = head_hidden_dim
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.n_threads = n_threads
        self.margin = margin
        self.center_rewards_coefficient = center_rewards_coefficient
        self.invariance = invariance
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _fit_inputs(self, X, y, covariates, rows, weight):
        owner = type(self).__name__
        # the invariance term reads covariates too; the objective target does not
        inputs = {}
        if self.invariance is not None:
            inputs = super()._fit_inputs(X, y, covariates, rows, weight)
            if self.adversary_target == OBJECTIVE:
                covariates = None
        if self.adversary_target == OBJECTIVE and not self.with_objective:
            raise ValueError(
                f"{owner}(with_objective=False) has no objective to hide, but "
                "adversary_target='objective'. Pass a covariate target (e.g. "
                "adversary_target='length' with covariates=...) or use "
                "with_objective=True with the objective id as the last column of X."
            )
        # (with the objective target, check_pair_width's error says it all)
        on_covariate = self.adversary_target != OBJECTIVE
        if on_covariate and (X.shape[1] % 2 == 0) == self.with_objective:
            layout, hint = (
                (
                    "[response_a | response_b | objective], of odd width",
                    "For pairs without an objective column, pass with_objective=False",
                )
                if self.with_objective
                else (
                    "[response_a | response_b], of even width",
                    "If its last column is the objective id, pass with_objective=True",
                )
            )
            raise ValueError(
                f"{owner}(with_objective={self.with_objective}) expects X laid out "
                f"as {layout}; got {X.shape[1]} columns. {hint}."
            )
        target = resolve_adversary_target(
            self.adversary_target,
            self.adversary_type,
            covariates,
            len(X),
            owner=owner,
            rows=rows,
        )
        self.adversary_target_ = self.adversary_target
        if target is None:  # the objective, the last column of X
            self.adversary_type_ = "categorical"
            self.adversary_classes_ = self.adversary_mean_ = None
            self.adversary_scale_ = None
            # the discriminator's chance: always guessing the most frequent one
            ids = X[rows, -1].astype(np.int64)
            self.discriminator_chance_ = float(np.bincount(ids).max() / ids.size)
            return inputs
        self.adversary_type_ = target.kind
        self.adversary_classes_ = target.classes
        self.adversary_mean_, self.adversary_scale_ = target.mean, target.scale
        self.discriminator_chance_ = target.chance
        return {**inputs, "target": target.values}

    def _on_objective(self):
        # files saved before the covariate adversary have no adversary_target_
        return getattr(self, "adversary_target_", OBJECTIVE) == OBJECTIVE

    def _fit_objectives(self, column):
        ids = super()._fit_objectives(column)
        if ids is None or self.adversary_target != OBJECTIVE:
            return ids
        if np.unique(ids).size < 2:
            raise ValueError(
                "AdversarialRewardModel needs pairs of at least two objectives to "
                f"train its discriminator; the objective column holds only "
                f"{np.unique(ids).tolist()}. Use MultiheadRewardModel instead."
            )
        return ids

    def _build_module_params(self):
        if self._on_objective():
            adversary, n_outputs = OBJECTIVE, None
        elif self.adversary_type_ == "continuous":
            adversary, n_outputs = "continuous", 1
        else:
            adversary, n_outputs = "categorical", len(self.adversary_classes_)
        return AdversarialRewardModule, {
            **super()._build_module_params()[1],
            "discriminator_hidden_dim": self.discriminator_hidden_dim,
            "adversary": adversary,
            "n_adversary_outputs": n_outputs,
        }

    def _loss_terms(self):
        continuous = self.adversary_type_ == "continuous"
        return (*super()._loss_terms(), DiscriminatorLoss(continuous=continuous))

    def _callbacks(self, plans):
        models = [plan.estimator for plan in plans]
        schedule = AdversarySchedule(
            [m.adversary_weight for m in models],
            [m.adversary_warmup for m in models],
            [m.discriminator_chance_ for m in models],
        )
        return [("adversary_schedule", schedule)]


def resolve_adversary_target(
    name, adversary_type, covariates, n_pairs, *, owner, rows=None
):
    """Return the adversary's covariate, coded on the training ``rows`` (None: all).

    None for the objective, which the model reads from ``X``.
    """
    if name == OBJECTIVE:
        if covariates is not None:
            raise ValueError(
                f"{owner} got covariates, but adversary_target='objective' reads the "
                "objective column of X. Name the covariate to hide, e.g. "
                "adversary_target='length', or drop covariates."
            )
        if adversary_type == "continuous":
            raise ValueError(
                f"{owner}: the objective is categorical; got adversary_type="
                "'continuous' with adversary_target='objective'. Use "
                "adversary_type='auto'."
            )
        return None
    if covariates is None:
        raise ValueError(
            f"{owner}(adversary_target={name!r}) needs the covariate's values: pass "
            f"fit(X, y, covariates=...) with columns '{name}_a' and '{name}_b' (see "
            "skpref.covariates.pair_covariates), a column "
            f"{name!r}, an array, or the pairs' texts (columns response_a, "
            "response_b) for a built-in covariate."
        )
    return encode_pair_covariate(
        covariates,
        name,
        kind=adversary_type,
        n_pairs=n_pairs,
        fit_rows=rows,
        owner=owner,
        argument="adversary_target",
    )


@dataclass(frozen=True)
class DiscriminatorLoss(LossTerm):
    """The adversary's loss (eq. 13), per pair the mean over its two responses.

    Cross-entropy for classes (recording ``disc_acc``), squared error for a
    standardised continuous covariate (recording ``disc_r2``, R² against the
    training mean); the loss is recorded as ``adv_loss``.
    """

    continuous: bool
    scored = False  # the adversary's: recorded as adv_loss, not in train_loss

    def __call__(self, net, y_pred, y_true, batch, training):
        out, target = y_pred["disc_out"], y_pred["disc_target"]
        if self.continuous:
            per_response = (out.squeeze(-1) - target) ** 2
        else:
            per_response = torch.nn.functional.cross_entropy(
                out.reshape(-1, out.shape[-1]), target.reshape(-1), reduction="none"
            ).view(target.shape)
        # the a halves, then the b halves (see the module): one value per pair
        per_pair = per_response.unflatten(-1, (2, -1)).mean(-2)
        loss = pair_mean(batch["sample_weight"] * per_pair, batch)
        with torch.no_grad():
            if self.continuous:
                net.record_mean("disc_r2", 1 - pair_mean(per_pair, batch), training)
            else:
                correct = (out.argmax(-1) == target).to(per_pair.dtype)
                accuracy = pair_mean(correct.unflatten(-1, (2, -1)).mean(-2), batch)
                net.record_mean("disc_acc", accuracy, training)
            net.record_mean("adv_loss", loss, training)
        return loss


class AdversarySchedule(Callback):
    """Set each member's gradient-reversal weight per epoch, ramped up to its λ.

    With a warm-up ``w > 0`` epoch ``e`` uses ``λ * min(1, (e - 1) / w)``: the
    encoder first finds reward-relevant features, then the adversary prunes them.
    ``chances`` (the discriminators' chance scores) are recorded beside.
    """

    def __init__(self, weights, warmups, chances):
        self.weights = weights
        self.warmups = warmups
        self.chances = chances

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history)  # the history already holds this epoch's row
        now = [
            lam * (1.0 if w == 0 else min(1.0, (epoch - 1) / w))
            for lam, w in zip(self.weights, self.warmups, strict=True)
        ]
        buffer = net.module_.stacked_buffer("reversal.weight")
        buffer.copy_(torch.tensor(now, dtype=buffer.dtype))
        net.history.record("adversary_weight", now)
        net.history.record("disc_chance", list(self.chances))
