"""A local Dask cluster shared by the distributed tests: two worker processes."""

import pytest


@pytest.fixture(scope="session")
def client():
    """A client of a 2-worker local cluster (processes, one thread each, loopback)."""
    pytest.importorskip("distributed")
    from skpref.distributed import dask_client

    with dask_client(n_workers=2, threads_per_worker=1, gpus=False) as client:
        client.wait_for_workers(2)
        yield client


def worker_pids(client):
    """The process id of each worker, by address."""
    import os

    return client.run(os.getpid)
