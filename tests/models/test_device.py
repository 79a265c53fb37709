"""device="auto" and named devices: the models run where the device rule says."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

import skpref
from skpref import BTLRewardRegressor, MultiheadRewardModel
from skpref.utils import resolve_device
from tests.estimator_registry import SMALL_NET, pair_data_for

QUICK = {**SMALL_NET, "max_epochs": 3}


def test_the_default_device_is_auto_resolved_by_the_shared_rule():
    data = pair_data_for(BTLRewardRegressor(), n_pairs=100)
    model = BTLRewardRegressor(**{**QUICK, "device": "auto"})
    assert BTLRewardRegressor().device == MultiheadRewardModel().device == "auto"
    model.fit(data.X, data.y)
    assert model.device_ == resolve_device("auto", owner="test")
    assert next(model.module_.parameters()).device.type == model.device_.split(":")[0]


@pytest.mark.gpu
def test_a_cuda_fit_matches_the_cpu_fit_and_loads_on_the_cpu(tmp_path):
    # Initial weights and batch order come from CPU generators, so the two fits
    # differ only by floating-point rounding on the device.
    data = pair_data_for(MultiheadRewardModel(), n_pairs=200)
    params = {**QUICK, "head_hidden_dim": 16}
    on_cpu = MultiheadRewardModel(**params).fit(data.X, data.y)
    on_gpu = MultiheadRewardModel(**{**params, "device": "auto"}).fit(data.X, data.y)
    assert on_gpu.device_.startswith("cuda")
    gpu_proba = on_gpu.predict_proba(data.X)
    assert_allclose(gpu_proba, on_cpu.predict_proba(data.X), atol=1e-3)
    restored = skpref.load(on_gpu.save(tmp_path / "m.safetensors"), device="cpu")
    assert restored.device_ == "cpu"
    assert_allclose(restored.predict_proba(data.X), gpu_proba, atol=1e-5)
    assert np.isfinite(gpu_proba).all() and torch.cuda.is_available()


def test_a_device_for_other_machines_is_checked_for_its_form_only():
    # here=False: the workers of a cluster check whether they have it
    assert resolve_device("cuda:7", owner="test", here=False) == "cuda:7"
    assert resolve_device("auto", owner="test", here=False) == "auto"
    for bad, words in [("gpu0", "is not a torch device"), ("meta", "does not support")]:
        with pytest.raises(ValueError, match=words):
            resolve_device(bad, owner="test", here=False)
