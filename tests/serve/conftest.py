"""Fitted text pipelines and a reward server on the loopback interface."""

import contextlib
import socket
import threading
import time

import pytest
from sklearn.pipeline import Pipeline

from skpref import BTLRewardRegressor, MultiheadRewardModel
from skpref.datasets import preference_pairs
from tests.test_reward_function import embedder, preference_data

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("httpx")


@pytest.fixture(scope="session")
def single_pipeline(tiny_models):
    X, y = preference_pairs(preference_data(32, 1), random_state=0)
    model = BTLRewardRegressor(
        hidden_dim=16, latent_dim=8, max_epochs=5, lr=1e-2, device="cpu", random_state=0
    )
    pipe = Pipeline([("embed", embedder(tiny_models["bert"], None)), ("rm", model)])
    return pipe.fit(X, y)


@pytest.fixture(scope="session")
def multi_pipeline(tiny_models):
    X, y = preference_pairs(
        preference_data(48, 0),
        objective="objective",
        objective_categories=["helpful", "harmless"],
        random_state=0,
    )
    model = MultiheadRewardModel(
        objective_categories=["helpful", "harmless"],
        hidden_dim=16,
        latent_dim=8,
        head_hidden_dim=8,
        max_epochs=10,
        lr=1e-2,
        device="cpu",
        random_state=0,
    )
    pipe = Pipeline([("embed", embedder(tiny_models["bert"], None)), ("rm", model)])
    return pipe.fit(X, y)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(pipeline, **params):
    """Serve ``make_app(pipeline, **params)`` with uvicorn in a thread; yield a URL."""
    import uvicorn

    from skpref.serve import make_app

    port = free_port()
    config = uvicorn.Config(
        make_app(pipeline, **params), host="127.0.0.1", port=port, log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the reward server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
