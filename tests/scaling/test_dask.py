"""The Dask helpers: argument checks before any cluster starts, GPU placement."""

import sys

import pytest

from skpref.distributed import dask_client
from skpref.distributed._dask import gpu_resources, pin_gpu, require_distributed


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "pass either scheduler"),
        ({"scheduler": "tcp://h:8786", "n_workers": 2}, "pass either scheduler"),
        ({"n_workers": 0}, "n_workers must be an integer >= 1"),
        ({"n_workers": 2, "threads_per_worker": 1.5}, "threads_per_worker must be"),
        ({"n_workers": 2, "torch_threads": True}, "torch_threads must be"),
        ({"scheduler": 8786}, "scheduler must be an address string"),
        ({"n_workers": 1, "gpus": "yes"}, "gpus must be 'auto', True or False"),
        ({"n_workers": 1, "trim_memory": "no"}, "trim_memory must be True or False"),
    ],
)
def test_bad_cluster_arguments_fail_before_any_cluster(kwargs, match):
    with pytest.raises(ValueError, match=match):
        with dask_client(**kwargs):
            pass


def test_gpus_true_without_a_gpu_is_an_error(monkeypatch):
    pytest.importorskip("distributed")
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="gpus=True but torch sees no CUDA device"):
        with dask_client(n_workers=1, gpus=True):
            pass


def test_missing_distributed_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(
        ModuleNotFoundError, match=r"pip install 'skpref\[distributed\]'"
    ):
        require_distributed("a test")


def test_local_workers_share_the_gpus_round_robin():
    assert [pin_gpu(name, [2, 3]) for name in range(5)] == [2, 3, 2, 3, 2]
    assert pin_gpu("worker-a", [1]) == 1  # a named worker takes the first GPU


class _Client:
    def __init__(self, resources):
        self.resources = resources

    def scheduler_info(self, n_workers):
        workers = {f"w{i}": {"resources": r} for i, r in enumerate(self.resources)}
        return {"workers": workers}


def test_gpu_tasks_ask_for_a_gpu_only_where_workers_have_one():
    assert gpu_resources(_Client([{}, {}])) is None
    assert gpu_resources(_Client([{"GPU": 1}, {}])) == {"GPU": 1}


def _worker_trim_thresholds(client):
    import os

    return set(client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values())


@pytest.mark.slow
def test_local_workers_do_not_trim_memory_unless_asked(client, monkeypatch):
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    assert _worker_trim_thresholds(client) == {None}  # the shared 2-worker cluster
    with dask_client(n_workers=1, gpus=False, trim_memory=True) as trimming:
        assert _worker_trim_thresholds(trimming) == {"65536"}  # Dask's default
