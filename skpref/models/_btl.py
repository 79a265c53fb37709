"""The BTL reward model (paper, eq. 1-2, appendix D.2) and the *Base* model (E.1)."""

from skpref.models._base import (
    MODEL_PARAMETER_CONSTRAINTS,
    BaseRewardModel,
    shared_docs,
)
from skpref.models._modules import BTLRewardModule


@shared_docs
class BTLRewardRegressor(BaseRewardModel):
    """Bradley-Terry-Luce reward model on frozen response embeddings.

    A reward MLP ``r`` scores each response and ``P(a > b) = sigmoid(r(a) - r(b))``
    (eq. 1), fitted by the BTL likelihood (eq. 2); the default sizes are the
    paper's (appendix D.2). With ``with_objective=True`` the one-hot objective, the
    last column of ``X``, is appended to the features: the *Base* model of Table 2
    (Figure 5a). See :ref:`models`.

    Parameters
    ----------
    with_objective : bool, default=False
        Whether the last column of ``X`` holds the objective id (Base model).
    %(objective_parameters)s
    hidden_dim : int, default=512
        Width of the hidden layers.
    latent_dim : int, default=64
        Width of the last hidden layer, the latent the reward is read from.
    n_layers : int, default=3
        Number of GELU layers of the MLP before the final linear reward layer.
    %(training_parameters)s

    Attributes
    ----------
    %(fitted_attributes)s
    %(objective_attributes)s

    See Also
    --------
    MultiheadRewardModel : Shared encoder with one reward head per objective.
    AdversarialRewardModel : Multihead model with an objective discriminator.

    References
    ----------
    Kobalczyk, K. and van der Schaar, M. (2025). Preference Learning for AI
    Alignment: a Causal Perspective. ICML. Eq. (1)-(2), Table 1, appendix D.2.

    Examples
    --------
    >>> from skpref import BTLRewardRegressor
    >>> from skpref.datasets import make_latent_preferences
    >>> data = make_latent_preferences(n_pairs=600, n_features=8, random_state=0)
    >>> model = BTLRewardRegressor(hidden_dim=32, latent_dim=8, max_epochs=20,
    ...                            lr=1e-2, random_state=0)
    >>> model.fit(data.X, data.y).score(data.X, data.y) > 0.8
    True
    >>> model.predict_proba(data.X[:1]).shape
    (1, 2)
    """

    _parameter_constraints = {
        **BaseRewardModel._parameter_constraints,
        **MODEL_PARAMETER_CONSTRAINTS,
        "with_objective": ["boolean"],
    }

    def __init__(
        self,
        *,
        with_objective=False,
        n_objectives=None,
        objective_categories=None,
        hidden_dim=512,
        latent_dim=64,
        n_layers=3,
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
        self.with_objective = with_objective
        self.n_objectives = n_objectives
        self.objective_categories = objective_categories
        self.hidden_dim = hidden_dim
        self.latent_dim = latent_dim
        self.n_layers = n_layers
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

    def _build_module_params(self):
        return BTLRewardModule, {
            "n_features": self.n_pair_features_,
            "hidden_dim": self.hidden_dim,
            "latent_dim": self.latent_dim,
            "n_layers": self.n_layers,
            "n_objectives": self.n_objectives_ if self.with_objective else None,
            **self._invariance_parts(),
        }
