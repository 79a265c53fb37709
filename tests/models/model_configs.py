"""Estimator configurations and data shared by the model tests."""

from skpref import AdversarialRewardModel, BTLRewardRegressor, MultiheadRewardModel
from skpref.datasets import make_confounded_preferences, make_latent_preferences

SMALL = {"hidden_dim": 32, "latent_dim": 16, "max_epochs": 15, "lr": 1e-2}
HEADS = {**SMALL, "head_hidden_dim": 16}


def _factory(cls, **fixed):
    def build(**overrides):
        return cls(**{**fixed, **overrides})

    return build


# name -> (factory taking parameter overrides, kind of data it trains on)
CONFIGS = {
    "btl": (_factory(BTLRewardRegressor, **SMALL), "latent"),
    "base": (
        _factory(BTLRewardRegressor, with_objective=True, **SMALL),
        "confounded",
    ),
    "multihead": (_factory(MultiheadRewardModel, **HEADS), "confounded"),
    "adversarial": (
        _factory(
            AdversarialRewardModel,
            discriminator_hidden_dim=16,
            adversary_weight=0.5,
            **HEADS,
        ),
        "confounded",
    ),
}


def make_data(kind, n_pairs=400, random_state=0):
    if kind == "latent":
        return make_latent_preferences(
            n_pairs=n_pairs, n_features=8, random_state=random_state
        )
    return make_confounded_preferences(
        n_pairs=n_pairs, n_features=8, rho=0.7, random_state=random_state
    )
