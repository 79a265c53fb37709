"""Protocol runs on a local cluster equal the local run, number for number."""

import pandas as pd
import pytest

from skpref.distributed import DaskExecutor
from skpref.experiments import PROTOCOLS, SOURCES, run_protocol
from skpref.experiments._run import FitGroup, fit_groups

CONFOUNDING = PROTOCOLS["confounding"]
SyntheticConfounded = SOURCES["synthetic"]

TINY = {"width": 8, "lr": 1e-2, "max_epochs": 2, "device": "cpu"}
#: fit_seconds is a wall time: the only column a cluster may change.
NUMBERS = ["seed", "rho", "model", "split", "group", "accuracy", "n"]


def _run(executor=None):
    source = SyntheticConfounded(n_train=200, n_test=100, n_features=4)
    return run_protocol(
        CONFOUNDING,
        source,
        models=["Base", "Adversarial"],
        rhos=[0.5, 1.0],
        n_seeds=2,
        executor=executor,
        **TINY,
    )


@pytest.fixture(scope="module")
def local_runs():
    return _run().runs


@pytest.mark.slow
def test_cluster_run_equals_the_local_run(client, local_runs):
    calls = []

    class Recording(DaskExecutor):
        def _results(self, groups, fit, resources, window):
            calls.append(window)
            return super()._results(groups, fit, resources, window)

    runs = _run(Recording(client, max_pending=3)).runs
    assert calls == [3]  # the groups did go through the cluster
    assert len(runs) == len(local_runs) == 2 * 2 * 2 * 4
    pd.testing.assert_frame_equal(runs[NUMBERS], local_runs[NUMBERS])
    assert (runs["fit_seconds"] > 0).all()


def _tiny_group(seed):
    from sklearn.linear_model import LogisticRegression

    source = SyntheticConfounded(n_train=100, n_test=50, n_features=4)
    source.prepare(CONFOUNDING, [0])
    draw = source.draw(1.0, seed, [seed + 1, seed + 2])
    return FitGroup(
        CONFOUNDING, "synthetic", seed, 1.0, draw, [("lr", LogisticRegression())]
    )


@pytest.mark.slow
def test_at_most_max_pending_groups_are_made_ahead(client):
    made = []

    def groups():
        for seed in range(6):
            made.append(seed)
            yield _tiny_group(seed)

    results = DaskExecutor(client, draws_per_task=1, max_pending=2)(
        groups(), fit_groups
    )
    first = next(results)
    assert made == [0, 1]  # the third draw is made only once the first is back
    rest = list(results)
    assert len(made) == 6 and len(rest) == 5
    assert [rows[0]["seed"] for rows in [first, *rest]] == list(range(6))


@pytest.mark.slow
def test_groups_travel_in_tasks_of_draws_per_task(client):
    made = []

    def groups():
        for seed in range(5):
            made.append(seed)
            yield _tiny_group(seed)

    results = DaskExecutor(client, draws_per_task=2, max_pending=1)(
        groups(), fit_groups
    )
    first = next(results)
    assert made == [0, 1]  # one task of two draws sent, nothing drawn ahead
    second = next(results)
    assert made == [0, 1]  # the second group came back in the same task
    rest = list(results)
    assert [rows[0]["seed"] for rows in [first, second, *rest]] == list(range(5))


@pytest.mark.slow
def test_bad_executor_arguments(client):
    with pytest.raises(ValueError, match="client must be a distributed.Client"):
        DaskExecutor("tcp://127.0.0.1:8786")([], fit_groups)
    with pytest.raises(ValueError, match="client is None"):
        DaskExecutor(None)([], fit_groups)
    with pytest.raises(ValueError, match="resources must be a dict"):
        DaskExecutor(client, resources="GPU")([], fit_groups)
    with pytest.raises(ValueError, match="max_pending must be an integer >= 1"):
        DaskExecutor(client, max_pending=0)([], fit_groups)
    with pytest.raises(ValueError, match="draws_per_task must be an integer >= 1"):
        DaskExecutor(client, draws_per_task=0)([], fit_groups)


@pytest.mark.slow
def test_a_closed_client_is_refused_before_any_work(tmp_path):
    distributed = pytest.importorskip("distributed")
    from skpref.distributed import embed_corpus

    closed = distributed.Client(
        processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None
    )
    closed.close()
    with pytest.raises(ValueError, match="DaskExecutor: the client is closed"):
        list(DaskExecutor(closed)([_tiny_group(0)], fit_groups))
    with pytest.raises(ValueError, match="embed_corpus: the client is closed"):
        embed_corpus(["a", "b"], object(), client=closed)


@pytest.mark.slow
def test_a_failing_group_raises_its_own_error(client):
    class Broken:
        def fit(self, X, y):
            raise ValueError("this model refuses to fit")

    group = _tiny_group(0)
    group.models = [("broken", Broken())]
    with pytest.raises(ValueError, match="this model refuses to fit"):
        list(DaskExecutor(client)([group], fit_groups))


@pytest.mark.slow
def test_workers_with_a_gpu_resource_get_one_group_at_a_time():
    distributed = pytest.importorskip("distributed")
    from sklearn.linear_model import LogisticRegression

    from skpref.distributed._dask import gpu_resources

    class Slow(LogisticRegression):
        def fit(self, X, y):
            import time

            time.sleep(0.4)
            return super().fit(X, y)

    groups = [_tiny_group(seed) for seed in range(3)]
    for group in groups:
        group.models = [("slow", Slow())]
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=2,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            resources={"GPU": 1},
        ) as cluster,
        distributed.Client(cluster) as client,
        distributed.get_task_stream(client) as tasks,
    ):
        assert gpu_resources(client) == {"GPU": 1}
        rows = list(DaskExecutor(client, draws_per_task=1)(iter(groups), fit_groups))
    assert [r[0]["seed"] for r in rows] == [0, 1, 2]
    # two threads, but one GPU: the groups ran one after another (two at once
    # would overlap by most of their 0.4 s; the stamps themselves jitter by ms)
    spans = sorted(
        (s["start"], s["stop"])
        for task in tasks.data
        for s in task["startstops"]
        if s["action"] == "compute"
    )
    assert len(spans) == 3
    overlaps = [a[1] - b[0] for a, b in zip(spans, spans[1:], strict=False)]
    assert max(overlaps) < 0.1, spans
