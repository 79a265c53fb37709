"""The engine and the device-resident data path on CUDA (``pytest -m gpu``).

Initial weights, batch orders and holdouts come from CPU generators, so a fit on
CUDA differs from the same fit on the CPU by floating-point rounding only.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone

from skpref import AdversarialRewardModel, BTLRewardRegressor, RewardEnsemble
from skpref.models import _engine, fit_together
from tests.estimator_registry import SMALL_ADVERSARY, SMALL_NET, pair_data_for

pytestmark = pytest.mark.gpu

QUICK = {**SMALL_NET, "max_epochs": 4}
ADVERSARY = {**SMALL_ADVERSARY, "max_epochs": 4}


@pytest.mark.parametrize("member", [BTLRewardRegressor(**QUICK),
                                    AdversarialRewardModel(**ADVERSARY)])  # fmt: skip
def test_an_ensemble_on_cuda_matches_the_one_on_the_cpu(member):
    data = pair_data_for(member, n_pairs=300)
    on_cpu = RewardEnsemble(member, n_members=3, random_state=0).fit(data.X, data.y)
    on_gpu = RewardEnsemble(
        clone(member).set_params(device="cuda"), n_members=3, random_state=0
    ).fit(data.X, data.y)
    assert all(m.device_.startswith("cuda") for m in on_gpu.members_)
    assert_allclose(
        on_gpu.predict_proba(data.X), on_cpu.predict_proba(data.X), atol=1e-3
    )
    d = on_cpu.n_pair_features_
    E = np.hstack([data.X[:, :d], data.X[:, 2 * d :]])
    assert_allclose(
        on_gpu.predict_reward(E, return_std=True),
        on_cpu.predict_reward(E, return_std=True),
        atol=1e-3,
    )


def test_members_on_cuda_match_their_fits_alone_on_cuda():
    model = AdversarialRewardModel(**{**ADVERSARY, "device": "cuda"})
    data = pair_data_for(model, n_pairs=300)
    X, y = data.X.astype(np.float32), data.y
    configured = [clone(model).set_params(random_state=s) for s in range(3)]
    alone = [clone(m).fit(X, y) for m in configured]
    together = fit_together(configured, [(X, y, np.ones(len(y)))] * 3)
    for a, b in zip(alone, together, strict=True):
        assert_allclose(b.predict_proba(X), a.predict_proba(X), atol=1e-4)


def test_the_training_data_are_resident_on_cuda_or_streamed_alike(monkeypatch):
    model = BTLRewardRegressor(**{**QUICK, "device": "cuda"})
    data = pair_data_for(model, n_pairs=400)
    resident = clone(model).fit(data.X, data.y)
    monkeypatch.setattr(_engine, "_RESIDENT_SHARE", 0.0)
    monkeypatch.setattr(_engine, "_CHUNK_BYTES", 5 * 32 * 4 * data.X.shape[1])
    streamed = clone(model).fit(data.X, data.y)
    assert_allclose(
        streamed.predict_proba(data.X), resident.predict_proba(data.X), atol=1e-6
    )
