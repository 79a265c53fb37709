"""Small latent-factor data and fitted models shared by the active-querying tests."""

import pytest
from sklearn.utils import Bunch

from skpref import BTLRewardRegressor, RewardEnsemble
from skpref.datasets import make_latent_preferences

#: A net that learns something in a few epochs without saturating its outputs
#: (noisy labels keep the probabilities away from 0 and 1).
TINY_NET = {
    "hidden_dim": 8,
    "latent_dim": 4,
    "max_epochs": 3,
    "lr": 1e-2,
    "batch_size": 32,
    "device": "cpu",
    "random_state": 0,
}


def latent_pairs(n_pairs, rho, seed):
    return make_latent_preferences(
        n_pairs, n_features=4, rho=rho, label_noise=0.3, random_state=seed
    )


@pytest.fixture(scope="session")
def data():
    """Training pairs at rho = 0.9 and a pool at rho = 0, noisy labels."""
    return Bunch(train=latent_pairs(150, 0.9, 0), pool=latent_pairs(300, 0.0, 1))


@pytest.fixture(scope="session")
def btl():
    return BTLRewardRegressor(**TINY_NET)


@pytest.fixture(scope="session")
def ensemble(btl):
    return RewardEnsemble(btl, n_members=3, random_state=0)


@pytest.fixture(scope="session")
def fitted_ensemble(ensemble, data):
    from sklearn.base import clone

    return clone(ensemble).fit(data.train.X, data.train.y)
