"""The Adversarial reward model: Multihead + gradient-reversal discriminator (eq. 5)."""

from numbers import Integral, Real

import numpy as np
from skorch.callbacks import PassthroughScoring

from skpref.models._docstrings import FITTED_ATTRIBUTES, TRAINING_PARAMS, fill
from skpref.models._modules import AdversarialRewardModule
from skpref.models._multihead import MULTIHEAD_PARAMS, MultiheadRewardModel
from skpref.models._net import (
    AdversarialPairNet,
    AdversaryWeightSchedule,
    majority_share,
)
from skpref.utils._validation import Interval


class AdversarialRewardModel(MultiheadRewardModel):
    """Multihead reward model whose shared latent is trained to hide the objective.

    On top of :class:`MultiheadRewardModel`, a discriminator ``h`` (1 hidden GELU
    layer, width 512) predicts the labeller's objective ``c`` from the latent
    ``z = g(e)`` of each response of a pair (eq. 13). A gradient-reversal layer
    makes the encoder maximise the discriminator's loss while the discriminator
    minimises it, solving ``min_{g, f} max_h L_R - λ L_adv`` (eq. 5). Since the
    objective is correlated with the prompt type in confounded data, this removes
    prompt-type information the heads could otherwise use as a shortcut for ``c``.

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
    %(multihead_params)s
    %(training_params)s

    Attributes
    ----------
    %(fitted_attributes)s
    n_objectives_ : int
        Number of objectives (reward heads and discriminator classes).
    discriminator_chance_ : float
        The accuracy of always guessing the most frequent objective of the training
        data: a discriminator near this level means the latent hides the objective.

    See Also
    --------
    MultiheadRewardModel : The same model without the discriminator.
    BTLRewardRegressor : With ``with_objective=True``, the *Base* model.

    Notes
    -----
    ``history_`` has, besides the columns of every reward model,
    ``train_disc_acc`` / ``valid_disc_acc`` (the discriminator's accuracy over both
    responses of each pair), ``train_adv_loss`` / ``valid_adv_loss``,
    ``adversary_weight`` (the λ in force in that epoch) and ``disc_chance``.

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
    }

    _net_class = AdversarialPairNet

    def __init__(
        self,
        *,
        adversary_weight=1.0,
        adversary_warmup=0,
        discriminator_hidden_dim=512,
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
        device="auto",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            n_objectives=n_objectives,
            objective_categories=objective_categories,
            hidden_dim=hidden_dim,
            latent_dim=latent_dim,
            n_layers=n_layers,
            head_hidden_dim=head_hidden_dim,
            max_epochs=max_epochs,
            lr=lr,
            weight_decay=weight_decay,
            batch_size=batch_size,
            validation_fraction=validation_fraction,
            patience=patience,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
        self.adversary_weight = adversary_weight
        self.adversary_warmup = adversary_warmup
        self.discriminator_hidden_dim = discriminator_hidden_dim

    def _check_objectives(self, ids):
        if np.unique(ids).size < 2:
            raise ValueError(
                "AdversarialRewardModel needs pairs of at least two objectives to "
                f"train its discriminator; the objective column holds only "
                f"{np.unique(ids).tolist()}. Use MultiheadRewardModel instead."
            )
        self.discriminator_chance_ = majority_share(ids)

    def _build_module_params(self):
        return AdversarialRewardModule, {
            **self._module_params(),
            "discriminator_hidden_dim": self.discriminator_hidden_dim,
        }

    def _extra_callbacks(self):
        return [
            (
                "adversary_schedule",
                AdversaryWeightSchedule(self.adversary_weight, self.adversary_warmup),
            ),
            ("train_disc_acc", PassthroughScoring("train_disc_acc", on_train=True)),
            ("valid_disc_acc", PassthroughScoring("valid_disc_acc")),
            ("train_adv_loss", PassthroughScoring("train_adv_loss", on_train=True)),
            ("valid_adv_loss", PassthroughScoring("valid_adv_loss")),
        ]

    def _summarise_training(self, X):
        super()._summarise_training(X)
        self.history_["disc_chance"] = self.discriminator_chance_


AdversarialRewardModel.__doc__ = fill(
    AdversarialRewardModel.__doc__,
    multihead_params=MULTIHEAD_PARAMS,
    training_params=TRAINING_PARAMS,
    fitted_attributes=FITTED_ATTRIBUTES,
)
