"""Dask's distributed scheduler, imported on demand: clients, worker setup, GPUs.

skpref imports and works without Dask; only the functions of
:mod:`skpref.distributed` that need a cluster import it, through
:func:`require_distributed`, which names the extra to install when it is missing.
"""

import contextlib
import numbers
import os

__all__ = ["dask_client", "gpu_resources", "require_distributed"]

EXTRA = "pip install 'skpref[distributed]'"


def require_distributed(feature):
    """Import and return :mod:`distributed`, or say which extra installs it.

    Parameters
    ----------
    feature : str
        What needs Dask, for the message.

    Returns
    -------
    distributed : module

    Examples
    --------
    >>> from skpref.distributed._dask import require_distributed
    >>> require_distributed("this example").__name__  # doctest: +SKIP
    'distributed'
    """
    try:
        import distributed
    except ImportError as exc:
        raise ModuleNotFoundError(
            f"{feature} needs Dask's distributed scheduler, which is not installed. "
            f"Install skpref's distributed extra: {EXTRA}.",
            name="distributed",
        ) from exc
    return distributed


def check_count(value, name, owner, *, none_ok=False):
    """Check an integer >= 1 (or None where ``none_ok``); return it.

    Examples
    --------
    >>> from skpref.distributed._dask import check_count
    >>> check_count(4, "shard_size", "embed_corpus")
    4
    """
    if value is None and none_ok:
        return None
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        expected = "an integer >= 1 or None" if none_ok else "an integer >= 1"
        raise ValueError(f"{owner}: {name} must be {expected}; got {value!r}.")
    return int(value)


def check_client(client, owner):
    """Check that ``client`` is a :class:`distributed.Client` (or None)."""
    if client is None:
        return None
    distributed = require_distributed(owner)
    if not isinstance(client, distributed.Client):
        raise ValueError(
            f"{owner}: client must be a distributed.Client (connected to the "
            f"cluster) or None to run here; got {type(client).__name__}."
        )
    if client.status != "running":
        raise ValueError(
            f"{owner}: the client is {client.status}, so no task could reach the "
            "cluster; pass a connected client (e.g. one opened with "
            "skpref.distributed.dask_client and used inside its with-block)."
        )
    return client


def gpu_resources(client):
    """Resources a GPU task asks for: ``{"GPU": 1}`` when workers advertise GPUs.

    Workers started with ``--resources GPU=1`` (one per GPU) then run one GPU task
    at a time each; on a cluster without that resource, tasks ask for nothing.
    """
    try:
        info = client.scheduler_info(n_workers=-1)  # newer Dask lists 5 by default
    except TypeError:  # Dask before 2025: every worker, and no such argument
        info = client.scheduler_info()
    workers = info["workers"].values()
    if any(info.get("resources", {}).get("GPU") for info in workers):
        return {"GPU": 1}
    return None


def _worker_plugin_classes():
    """Worker plugins, defined when Dask is there (their base class is Dask's)."""
    distributed = require_distributed("skpref.distributed")

    class TorchThreads(distributed.WorkerPlugin):
        """Set the torch CPU threads of each worker (also of restarted ones)."""

        name = "skpref-torch-threads"

        def __init__(self, n_threads):
            self.n_threads = n_threads

        def setup(self, worker):
            import torch

            torch.set_num_threads(self.n_threads)

    class PinGPU(distributed.WorkerPlugin):
        """Show each local worker one GPU, by its index, before CUDA starts."""

        name = "skpref-pin-gpu"

        def __init__(self, devices):
            self.devices = list(devices)

        def setup(self, worker):
            os.environ["CUDA_VISIBLE_DEVICES"] = str(pin_gpu(worker.name, self.devices))

    return TorchThreads, PinGPU


def pin_gpu(worker_name, devices):
    """Return the GPU a local worker uses: its index modulo the number of GPUs.

    Examples
    --------
    >>> from skpref.distributed._dask import pin_gpu
    >>> [pin_gpu(name, [0, 1]) for name in range(3)]
    [0, 1, 0]
    """
    index = worker_name if isinstance(worker_name, numbers.Integral) else 0
    return devices[int(index) % len(devices)]


def _check_cluster_args(scheduler, n_workers, threads_per_worker, torch_threads, gpus):
    owner = "dask_client"
    if (scheduler is None) == (n_workers is None):
        raise ValueError(
            f"{owner}: pass either scheduler (the address of a running cluster, "
            "e.g. 'tcp://10.0.0.1:8786') or n_workers (a local cluster); got "
            f"scheduler={scheduler!r} and n_workers={n_workers!r}."
        )
    check_count(n_workers, "n_workers", owner, none_ok=True)
    check_count(threads_per_worker, "threads_per_worker", owner)
    check_count(torch_threads, "torch_threads", owner, none_ok=True)
    if not (gpus == "auto" or isinstance(gpus, bool)):
        raise ValueError(f"{owner}: gpus must be 'auto', True or False; got {gpus!r}.")
    if scheduler is not None and not isinstance(scheduler, str):
        raise ValueError(
            f"{owner}: scheduler must be an address string such as "
            f"'tcp://10.0.0.1:8786'; got {type(scheduler).__name__}."
        )


#: The environment Dask's nanny gives the worker processes it starts.
_TRIM_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


@contextlib.contextmanager
def dask_client(
    scheduler=None,
    *,
    n_workers=None,
    threads_per_worker=1,
    torch_threads=None,
    gpus="auto",
    trim_memory=False,
):
    """Connect to a Dask cluster, or start a local one, for the block's duration.

    Parameters
    ----------
    scheduler : str or None, default=None
        Address of a running scheduler (``"tcp://host:8786"``); its workers are
        used as they are.
    n_workers : int or None, default=None
        Start a local cluster of this many worker processes instead, on the
        loopback interface, without a dashboard; closed when the block ends.
    threads_per_worker : int, default=1
        Tasks a local worker runs at once.
    torch_threads : int or None, default=None
        Torch CPU threads of every worker (set on each worker, also on those that
        join or restart later). None keeps the workers' own setting (one thread
        in processes that Dask's nanny starts: it sets ``OMP_NUM_THREADS=1``).
    gpus : "auto" or bool, default="auto"
        Local cluster only: give every worker one GPU (``CUDA_VISIBLE_DEVICES``,
        round robin) and the resource ``GPU=1``. ``"auto"``: when torch sees a
        CUDA device.
    trim_memory : bool, default=False
        Local cluster only: keep Dask's ``MALLOC_TRIM_THRESHOLD_=65536`` in the
        workers, which returns freed memory to the system at once. Off by
        default: torch allocates and frees many small tensors per step, and with
        the setting a reward-model fit ran 1.38× slower (4.48 s against 3.24 s,
        one process on the development machine), the cost of the 2-worker sweep
        in ``benchmarks/bench_distributed.py``. A value set in the environment
        wins either way.

    Yields
    ------
    client : distributed.Client

    Examples
    --------
    >>> from skpref.distributed import dask_client
    >>> with dask_client(n_workers=1) as client:  # doctest: +SKIP
    ...     print(len(client.scheduler_info()["workers"]))
    1
    """
    _check_cluster_args(scheduler, n_workers, threads_per_worker, torch_threads, gpus)
    if not isinstance(trim_memory, bool):
        raise ValueError(
            f"dask_client: trim_memory must be True or False; got {trim_memory!r}."
        )
    distributed = require_distributed("dask_client")
    TorchThreads, PinGPU = _worker_plugin_classes()
    devices = _local_gpus() if n_workers is not None and gpus is not False else []
    if gpus is True and not devices:
        raise ValueError(
            "dask_client: gpus=True but torch sees no CUDA device here; use "
            "gpus='auto' or False for a CPU cluster."
        )
    with contextlib.ExitStack() as stack:
        if scheduler is not None:
            client = stack.enter_context(distributed.Client(scheduler))
        else:
            # Each nanny reads its workers' environment once, when it is made
            # (restarted workers get the same): None unsets a variable there.
            import dask

            environ = {} if trim_memory else {_TRIM_KEY: None}
            with dask.config.set(environ):
                cluster = stack.enter_context(
                    distributed.LocalCluster(
                        n_workers=n_workers,
                        threads_per_worker=threads_per_worker,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                        # the scheduler's HTTP server (metrics, health) runs
                        # even without a dashboard: a free loopback port
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                        resources={"GPU": 1} if devices else None,
                    )
                )
            client = stack.enter_context(distributed.Client(cluster))
            if devices:
                client.register_plugin(PinGPU(devices))
        if torch_threads is not None:
            client.register_plugin(TorchThreads(torch_threads))
        yield client


def _local_gpus():
    import torch

    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
