"""The protocol runner's fit groups, run on the workers of a Dask cluster."""

import collections

from skpref.distributed._dask import check_client, check_count, gpu_resources

__all__ = ["DaskExecutor"]

_OWNER = "DaskExecutor"


class DaskExecutor:
    """Send the fit groups of :func:`~skpref.experiments.run_protocol` to workers.

    An ``executor`` for :func:`~skpref.experiments.run_protocol`: the fit
    groups (one draw and its seeded, unfitted models each) are sent in tasks of
    ``draws_per_task`` groups, and each task is run on a worker by the runner's
    ``fit`` function, which trains the task's reward models together (as the
    runner does in one process); the rows come back in the groups' order.
    The seeds of a group do not depend on where, when or with which others it
    runs, so the results equal those of a local run up to floating-point
    rounding (with the same torch threads). A worker that dies takes its task
    with it and Dask runs the task again elsewhere.

    Parameters
    ----------
    client : distributed.Client
        A client connected to the cluster (see :func:`dask_client`).
    resources : dict, "auto" or None, default="auto"
        Dask resources each task asks for. ``"auto"``: ``{"GPU": 1}`` when the
        workers advertise a ``GPU`` resource (one GPU task per worker at a
        time), else none.
    draws_per_task : int, default=4
        How many fit groups (draws) one task trains together. Larger tasks
        stack more models per engine pass (the gain is on GPUs and at small
        widths); smaller ones spread a short run over more workers.
    max_pending : int or None, default=None
        Most tasks sent and not yet returned; a group's draw is made only when
        its task is sent, so this bounds the data held at once. None: twice
        the cluster's threads.

    See Also
    --------
    dask_client : Connect to a cluster or start a local one.
    skpref.experiments.run_protocol : The runner that calls the executor.

    Examples
    --------
    >>> from skpref.distributed import DaskExecutor, dask_client
    >>> from skpref.experiments import SOURCES, run_protocol
    >>> source = SOURCES["synthetic"](n_train=200, n_test=100, n_features=4)
    >>> with dask_client(n_workers=2) as client:  # doctest: +SKIP
    ...     result = run_protocol("confounding", source, models=["Base"], rhos=[1.0],
    ...                           n_seeds=2, width=8, max_epochs=2,
    ...                           executor=DaskExecutor(client))
    >>> len(result.runs)  # doctest: +SKIP
    8
    """

    def __init__(self, client, *, resources="auto", draws_per_task=4, max_pending=None):
        self.client = client
        self.resources = resources
        self.draws_per_task = draws_per_task
        self.max_pending = max_pending

    def _check(self):
        check_client(self.client, _OWNER)
        if self.client is None:
            raise ValueError(
                f"{_OWNER}: client is None; pass a distributed.Client, or run "
                "run_protocol without an executor to fit here."
            )
        if not (
            self.resources is None
            or self.resources == "auto"
            or isinstance(self.resources, dict)
        ):
            raise ValueError(
                f"{_OWNER}: resources must be a dict such as {{'GPU': 1}}, 'auto' "
                f"or None; got {self.resources!r}."
            )
        check_count(self.draws_per_task, "draws_per_task", _OWNER)
        check_count(self.max_pending, "max_pending", _OWNER, none_ok=True)

    def __call__(self, groups, fit):
        """Run the groups on the cluster; yield each group's rows, in order.

        Parameters
        ----------
        groups : iterable of fit groups
        fit : callable
            ``fit(list of groups)``: the rows of each group, run on a worker.

        Yields
        ------
        rows : list of dict
        """
        self._check()
        resources = self.resources
        if resources == "auto":
            resources = gpu_resources(self.client)
        window = self.max_pending
        if window is None:
            window = 2 * max(1, sum(self.client.nthreads().values()))
        return self._results(groups, fit, resources, window)

    def _results(self, groups, fit, resources, window):
        pending = collections.deque()
        try:
            for task in self._tasks(groups):
                pending.append(
                    self.client.submit(fit, task, pure=False, resources=resources)
                )
                if len(pending) >= window:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:  # an error or an abandoned run: stop what is still queued
            if pending:
                self.client.cancel(list(pending))

    def _tasks(self, groups):
        """Chunk the groups into tasks, drawing each group only when needed."""
        task = []
        for group in groups:
            task.append(group)
            if len(task) == self.draws_per_task:
                yield task
                task = []
        if task:
            yield task
