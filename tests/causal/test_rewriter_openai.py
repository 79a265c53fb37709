"""OpenAIRewriter against a stub chat-completions server on 127.0.0.1."""

import json
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from skpref.causal import OpenAIRewriter

pytest.importorskip("httpx")

INSTRUCTION = {0: "Rewrite it without politeness.", 1: "Rewrite it politely."}


class StubServer:
    """A chat-completions server in a thread. ``script`` maps the n-th request
    (from 1) to a behaviour: an HTTP status, "malformed", or "die" (the server
    shuts down and drops the connection). Others answer "<target>|<response>"
    after ``delay`` seconds."""

    def __init__(self, script=None, delay=0.0, port=0):
        self.script, self.delay = script or {}, delay
        self.lock = threading.Lock()
        self.n_requests = self.in_flight = self.max_in_flight = 0
        self.headers = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stub.lock:
                    stub.n_requests += 1
                    n = stub.n_requests
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                    stub.headers.append(dict(self.headers))
                stub.answer(self, n, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def answer(self, handler, n, body):
        action = self.script.get(n)
        if action == "die":
            self.done()
            threading.Thread(target=self.stop).start()
            handler.close_connection = True
            return
        time.sleep(self.delay)
        # done before the answer is written: once the client reads it, it may send
        # the next request while this thread is still returning
        self.done()
        if isinstance(action, int):
            payload, status = b'{"error": "busy"}', action
        elif action == "malformed":
            payload, status = b'{"choices": [oops', 200
        else:
            message = body["messages"][0]["content"]
            target = "1" if "politely" in message.split("\n")[0] else "0"
            response = message.split("Response to rewrite:\n")[1].split("\n\n")[0]
            reply = {"choices": [{"message": {"content": f"{target}|{response}"}}]}
            payload, status = json.dumps(reply).encode(), 200
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def done(self):
        with self.lock:
            self.in_flight -= 1

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub(request):
    server = StubServer(**getattr(request, "param", {}))
    yield server
    if server.thread.is_alive():
        server.stop()


def rewriter(url, **params):
    settings = {
        "instruction": INSTRUCTION,
        "base_url": url,
        "api_key_env": None,
        "backoff": 0.01,
        "timeout": 5.0,
        "progress": False,
    }
    return OpenAIRewriter("stub-model", **{**settings, **params})


TEXTS = [f"Answer {i}." for i in range(12)]


@pytest.mark.parametrize("stub", [{"delay": 0.2}], indirect=True)
def test_rewrites_in_order_within_the_concurrency_limit(stub, monkeypatch):
    monkeypatch.setenv("STUB_KEY", "sk-test")
    rewrites = rewriter(stub.url, max_concurrency=3, api_key_env="STUB_KEY")(
        ["Human: hi"] * 12, TEXTS, [1, 0] * 6
    )
    assert rewrites == [f"{t}|{r}" for t, r in zip([1, 0] * 6, TEXTS, strict=True)]
    assert stub.max_in_flight == 3  # the limit is reached, never passed
    assert stub.headers[0]["Authorization"] == "Bearer sk-test"


@pytest.mark.parametrize("stub", [{"script": {1: 429, 2: 503, 3: 500}}], indirect=True)
def test_429_and_5xx_are_retried(stub):
    assert rewriter(stub.url, max_concurrency=1)(None, TEXTS[:2], 0) == [
        "0|Answer 0.",
        "0|Answer 1.",
    ]
    assert stub.n_requests == 5


@pytest.mark.parametrize("stub", [{"script": {1: 503, 2: 503, 3: 503}}], indirect=True)
def test_retries_give_up_with_a_clear_error(stub):
    with pytest.raises(RuntimeError, match=r"HTTP 503.*after 2 retries.*1 of 1"):
        rewriter(stub.url, max_retries=2)(None, TEXTS[:1], 0)
    assert stub.n_requests == 3


@pytest.mark.parametrize("stub", [{"script": {1: 401}}], indirect=True)
def test_a_client_error_is_not_retried(stub):
    with pytest.raises(RuntimeError, match=r"HTTP 401.*not retried"):
        rewriter(stub.url)(None, TEXTS[:1], 0)
    assert stub.n_requests == 1


@pytest.mark.parametrize("stub", [{"script": {5: "die"}}], indirect=True)
def test_a_server_that_dies_leaves_the_done_rows_in_the_cache(stub, tmp_path):
    cached = rewriter(stub.url, max_concurrency=1, max_retries=2, cache_dir=tmp_path)
    with pytest.raises(RuntimeError, match=r"8 of 12 responses are not rewritten"):
        cached(None, TEXTS, 1)
    conn = sqlite3.connect(tmp_path / "rewrites.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM rewrites").fetchone() == (4,)
    conn.close()
    # the server is back on the same address: only the 8 rows left are requested
    fresh = StubServer(port=stub.server.server_address[1])
    try:
        assert cached(None, TEXTS, 1) == [f"1|{t}" for t in TEXTS]
        assert fresh.n_requests == 8
    finally:
        fresh.stop()


@pytest.mark.parametrize("stub", [{"script": {2: "malformed"}}], indirect=True)
def test_malformed_json_is_a_clear_error(stub, tmp_path):
    cached = rewriter(stub.url, max_concurrency=1, cache_dir=tmp_path)
    with pytest.raises(ValueError, match=r"not a chat completion .*oops.* of 3"):
        cached(None, TEXTS[:3], 0)
    # not retried; the third request may have started before the failure was
    # seen, and its rewrite is kept with the first one
    conn = sqlite3.connect(tmp_path / "rewrites.sqlite")
    n_kept = conn.execute("SELECT COUNT(*) FROM rewrites").fetchone()[0]
    conn.close()
    assert stub.n_requests in (2, 3) and n_kept == stub.n_requests - 1


def test_a_missing_api_key_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("SKPREF_NO_SUCH_KEY", raising=False)
    with pytest.raises(ValueError, match="SKPREF_NO_SUCH_KEY .* is not set"):
        rewriter("http://127.0.0.1:9", api_key_env="SKPREF_NO_SUCH_KEY")(None, ["a"], 1)


def test_a_server_that_is_not_there(tmp_path):
    with pytest.raises(RuntimeError, match=r"ConnectError.*after 1 retries"):
        rewriter("http://127.0.0.1:9", max_retries=1)(None, ["a"], 1)


@pytest.mark.parametrize("stub", [{"script": {1: 401, 2: 503}}], indirect=True)
def test_a_failure_stops_the_retries_of_the_requests_in_flight(stub):
    slow_retries = rewriter(stub.url, max_concurrency=2, backoff=5.0, max_retries=3)
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"HTTP 401.*2 of 2 responses"):
        slow_retries(None, TEXTS[:2], 0)
    # the 503 would be retried after 5 s; the 401 stops it at once
    assert time.perf_counter() - start < 3.0
    assert stub.n_requests == 2
