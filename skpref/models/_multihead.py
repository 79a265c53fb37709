"""The Multihead reward model: shared encoder, one head per objective (eq. 4/11)."""

from numbers import Integral

from skpref.models._base import (
    MODEL_PARAMETER_CONSTRAINTS,
    BaseRewardModel,
    shared_docs,
)
from skpref.models._modules import MultiheadRewardModule
from skpref.utils import Interval


@shared_docs
class MultiheadRewardModel(BaseRewardModel):
    """Multi-objective BTL reward model: a shared encoder, one head per objective.

    ``r(e, c) = f_c(g(e))`` (eq. 4/11): a shared encoder ``g`` maps a response to
    a latent ``z`` and the pair's objective ``c``, the last column of ``X``, picks
    the head. As the latent does not depend on the labeller's objective, it is
    more robust than the *Base* model when objectives and prompt types are
    correlated in training (Table 2). See :ref:`models`.

    Parameters
    ----------
    %(objective_parameters)s
    %(multihead_parameters)s
    %(training_parameters)s

    Attributes
    ----------
    %(fitted_attributes)s
    %(objective_attributes)s

    See Also
    --------
    BTLRewardRegressor : The single-objective model; ``with_objective=True`` is
        the paper's *Base* model.
    AdversarialRewardModel : This model plus an objective discriminator.

    References
    ----------
    Kobalczyk, K. and van der Schaar, M. (2025). Preference Learning for AI
    Alignment: a Causal Perspective. ICML. Eq. (4), appendix E.1.

    Examples
    --------
    >>> from skpref import MultiheadRewardModel
    >>> from skpref.datasets import make_confounded_preferences
    >>> data = make_confounded_preferences(n_pairs=600, n_features=8, rho=0.5,
    ...                                    random_state=0)
    >>> model = MultiheadRewardModel(hidden_dim=32, latent_dim=16,
    ...                              head_hidden_dim=16, max_epochs=20, lr=1e-2,
    ...                              random_state=0).fit(data.X, data.y)
    >>> model.n_objectives_
    2
    >>> model.score(data.X, data.y) > 0.8
    True
    """

    _parameter_constraints = {
        **BaseRewardModel._parameter_constraints,
        **MODEL_PARAMETER_CONSTRAINTS,
        "head_hidden_dim": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
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

    def _build_module_params(self):
        return MultiheadRewardModule, {
            "n_features": self.n_pair_features_,
            "hidden_dim": self.hidden_dim,
            "latent_dim": self.latent_dim,
            "n_layers": self.n_layers,
            "head_hidden_dim": self.head_hidden_dim,
            "n_objectives": self.n_objectives_ if self._with_objective else 1,
            "with_objective": self._with_objective,
            **self._invariance_parts(),
        }
