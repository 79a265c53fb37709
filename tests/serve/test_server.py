"""The reward server and its client: the in-process rewards, over loopback HTTP."""

import asyncio
import json
import pickle
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from skpref import BTLRewardRegressor, reward_function
from skpref.datasets import preference_pairs
from skpref.serve import RemoteReward, make_app, split_query
from skpref.serve._app import _RewardService
from tests.serve.conftest import free_port, running_server
from tests.test_reward_function import (
    GOOD,
    SAFE,
    TOPICS,
    embedder,
    preference_data,
)

WORDS = ["cats", "rain", "answer", "detailed", "no", "step", "maths", "say"]


def batch(seed, n):
    """n prompts and completions of varied lengths, and an objective column."""
    rng = np.random.RandomState(seed)
    prompts = [f"Human: tell me about {TOPICS[(seed + i) % 8]} ({i})" for i in range(n)]
    completions = [" ".join(rng.choice(WORDS, rng.randint(1, 25))) for _ in range(n)]
    objective = list(rng.choice(["helpful", "harmless"], n))
    return prompts, completions, objective


@pytest.fixture(scope="module")
def multi_url(multi_pipeline):
    # a long wait, so that the concurrent requests below are batched together
    with running_server(multi_pipeline, max_wait_ms=50, max_request_items=64) as url:
        yield url


@pytest.fixture(scope="module")
def single_url(single_pipeline):
    with running_server(single_pipeline, max_request_bytes=2**20) as url:
        yield url


def in_parallel(remote, batches):
    with ThreadPoolExecutor(len(batches)) as pool:
        return list(pool.map(lambda b: remote(b[0], b[1], objective=b[2]), batches))


def test_concurrent_clients_get_the_in_process_rewards(multi_pipeline, multi_url):
    local = reward_function(multi_pipeline)
    remote = RemoteReward(multi_url)
    batches = [batch(seed, 2 + seed) for seed in range(8)]
    for (prompts, completions, objective), rewards in zip(
        batches, in_parallel(remote, batches), strict=True
    ):
        # batched with other requests: equal up to float32 rounding, as the same
        # completions scored in-process in another batch are
        expected = local(prompts, completions, objective=objective)
        np.testing.assert_allclose(rewards, expected, rtol=1e-6, atol=1e-7)
    # one objective for all, by name and by id, from the client's own setting
    prompts, completions, _ = batches[3]
    harmless = reward_function(multi_pipeline, "harmless")(prompts, completions)
    assert (
        RemoteReward(multi_url, objective="harmless")(prompts, completions) == harmless
    )
    assert RemoteReward(multi_url, objective=1)(prompts, completions) == harmless
    assert remote.__name__ == "skpref_remote_reward"


def test_unbatched_concurrent_clients_get_exactly_the_in_process_rewards(
    multi_pipeline,
):
    local = reward_function(multi_pipeline)
    batches = [batch(seed, 1 + seed) for seed in range(6)]
    with running_server(multi_pipeline, max_batch_size=1) as url:
        got = in_parallel(RemoteReward(url), batches)
    for (prompts, completions, objective), rewards in zip(batches, got, strict=True):
        assert rewards == local(prompts, completions, objective=objective)


def test_requests_were_batched_and_rewards_do_not_depend_on_the_batch(multi_url):
    # 100 completions go in requests of at most batch_size or the 64-item limit
    prompts, completions, objective = batch(11, 100)
    remote = RemoteReward(multi_url, batch_size=30)
    whole = RemoteReward(multi_url)(prompts, completions, objective=objective)
    chunked = remote(prompts, completions, objective=objective)
    np.testing.assert_allclose(chunked, whole, rtol=1e-6, atol=1e-7)
    assert len(whole) == 100


def test_batches_keep_to_max_batch_size_and_to_the_order_of_requests(
    single_pipeline,
):
    # requests of these sizes queue up at once; with max_batch_size=4 a request
    # that does not fit waits for the next batch, and one larger than the limit
    # runs alone, whole
    service = _RewardService(
        single_pipeline,
        max_batch_size=4,
        max_wait_ms=500,
        max_bytes=2**20,
        max_items=64,
    )
    calls = []

    def rewards(jobs):  # each completion is its own reward
        completions = [c for job in jobs for c in job.completions]
        calls.append(len(completions))
        return np.array([float(c) for c in completions])

    service._rewards = rewards
    requests, start = [], 0
    for size in [3, 3, 1, 5, 2, 2]:
        requests.append([str(start + i) for i in range(size)])
        start += size

    async def score_all():
        await service.start()
        try:
            scored = (service.score(None, texts, None) for texts in requests)
            return await asyncio.gather(*scored)
        finally:
            await service.stop()

    answers = asyncio.run(score_all())
    assert calls == [3, 4, 5, 4]
    assert answers == [[float(c) for c in texts] for texts in requests]


def test_conversations_are_scored_as_in_process(single_pipeline, single_url):
    prompts = [[{"role": "user", "content": "tell me about cats"}]] * 2
    completions = [
        [{"role": "assistant", "content": GOOD.format("cats")}],
        [{"role": "assistant", "content": SAFE}],
    ]
    expected = reward_function(single_pipeline)(prompts, completions)
    assert RemoteReward(single_url)(prompts, completions) == expected


def test_openrlhf_get_reward_scores_the_rendered_query(single_pipeline, single_url):
    prompts, completions, _ = batch(5, 6)
    completions[0] = "First paragraph.\n\nSecond paragraph."  # a separator inside
    queries = [f"{p}\n\n{c}" for p, c in zip(prompts, completions, strict=True)]
    # OpenRLHF also sends the prompts and labels; they are not needed
    body = {"query": queries, "prompts": prompts, "labels": [""] * 6}
    answer = httpx.post(f"{single_url}/get_reward", json=body, timeout=60)
    assert answer.status_code == 200
    expected = reward_function(single_pipeline)(prompts, completions)
    assert answer.json()["rewards"] == expected


def test_get_reward_scores_a_training_text_as_reward_function_does(tiny_models):
    # RL prompts end with the assistant's tag; the first "\n\n" of a training
    # text ends the prompt before it, and the tag must not be added a second time
    rows = [
        row | {"prompt": row["prompt"] + "\n\nAssistant:"}
        for row in preference_data(16, 2)
    ]
    X, y = preference_pairs(rows, random_state=0)
    model = BTLRewardRegressor(
        hidden_dim=8, latent_dim=4, max_epochs=3, device="cpu", random_state=0
    )
    pipe = Pipeline([("embed", embedder(tiny_models["bert"], None)), ("rm", model)])
    pipe.fit(X, y)
    assert pipe[0].text_format_["assistant_tag"]
    prompt, response = rows[0]["prompt"], rows[0]["chosen"]
    query = pipe[0].text_template.format(prompt=prompt, response=response)
    with running_server(pipe) as url:
        answer = httpx.post(f"{url}/get_reward", json={"query": [query]}, timeout=60)
        # /reward still brings a prompt without the tag to the training form
        tagless = RemoteReward(url)([prompt.removesuffix("\n\nAssistant:")], [response])
    assert answer.status_code == 200
    expected = reward_function(pipe)([prompt], [response])
    assert answer.json()["rewards"] == expected
    assert tagless == expected


def test_split_query_follows_the_text_template(single_pipeline):
    embed = single_pipeline[0]
    assert split_query(embed, "Q\n\nA\n\nB") == ("Q", "A\n\nB")
    custom = clone(embed).set_params(text_template="<q>{prompt}</q><a>{response}</a>")
    assert split_query(custom, "<q>Hi</q><a>Yo</a>") == ("Hi", "Yo")
    with pytest.raises(ValueError, match="does not have the pipeline's text format"):
        split_query(custom, "Hi Yo")
    assert split_query(embed.__class__(prompt_column=None), "Q\n\nA") == (
        None,
        "Q\n\nA",
    )
    with pytest.raises(ValueError, match="chat template, which cannot be split"):
        split_query(embed.__class__(chat_template=True), "Q\n\nA")


def test_get_reward_refuses_a_chat_template_chosen_by_auto(tiny_models):
    # chat_template="auto" (the default) renders through a decoder's chat template
    X, y = preference_pairs(preference_data(16, 3), random_state=0)
    model = BTLRewardRegressor(
        hidden_dim=8, latent_dim=4, max_epochs=3, device="cpu", random_state=0
    )
    embed = embedder(tiny_models["llama_chat"], None)
    pipe = Pipeline([("embed", embed), ("rm", model)]).fit(X, y)
    prompt, response = "Human: tell me about tea", "Para one.\n\nPara two."
    with pytest.raises(ValueError, match='chat_template="auto" and a decoder'):
        split_query(embed, f"{prompt}\n\n{response}")
    with running_server(pipe) as url:
        body = {"query": [f"{prompt}\n\n{response}"]}
        answer = httpx.post(f"{url}/get_reward", json=body, timeout=60)
        served = RemoteReward(url)([prompt], [response])
    assert answer.status_code == 422
    assert "cannot be split back into messages" in answer.json()["error"]
    assert served == reward_function(pipe)([prompt], [response])


BAD = [
    ("/reward", b"{not json", 400, "not valid JSON"),
    ("/reward", b"[1, 2]", 422, "expected a JSON object; got a JSON list"),
    ("/reward", {"prompts": ["a"]}, 422, "no 'completions'"),
    ("/reward", {"prompts": [], "completions": []}, 422, "is empty"),
    ("/reward", {"prompts": ["a"], "completions": "b"}, 422, "must be a list"),
    ("/reward", {"prompts": ["a"], "completions": [3]}, 422, "completions"),
    ("/reward", {"prompts": ["a", "b"], "completions": ["c"]}, 422, "one prompt per"),
    ("/reward", {"prompts": ["a"], "completions": ["c"], "objective": "x"}, 422, "no "),
    ("/reward", {"prompts": ["a"] * 65, "completions": ["c"] * 65}, 413, "at most"),
    ("/get_reward", {"query": ["no separator"]}, 422, "does not have"),
    ("/get_reward", {"query": []}, 422, "is empty"),
    ("/nowhere", {}, 404, "Not Found"),
]


@pytest.mark.parametrize(("route", "body", "status", "message"), BAD)
def test_bad_requests_get_a_4xx_with_a_message_and_the_server_goes_on(
    single_url, single_pipeline, route, body, status, message
):
    if route == "/reward" and status == 413:
        body = {"prompts": ["a"] * 5000, "completions": ["c"] * 5000}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer = httpx.post(single_url + route, content=content, timeout=60)
    assert answer.status_code == status
    assert message in answer.json()["error"]
    assert httpx.get(f"{single_url}/health", timeout=60).json()["status"] == "ok"
    rewards = RemoteReward(single_url)(["Human: hi"], ["Hello there."])
    assert rewards == reward_function(single_pipeline)(["Human: hi"], ["Hello there."])


def test_a_10_mb_text_is_refused_before_it_is_read(single_url):
    body = {"prompts": ["a"], "completions": ["x" * 10_000_000]}
    answer = httpx.post(f"{single_url}/reward", json=body, timeout=60)
    assert answer.status_code == 413
    assert "accepts at most 1048576" in answer.json()["error"]


def test_objective_mistakes_of_a_multi_objective_server(multi_url):
    base = {"prompts": ["a", "b"], "completions": ["c", "d"]}
    cases = [
        ({}, "the pipeline is multi-objective"),
        ({"objective": "helpfull"}, "helpful"),
        ({"objective": ["helpful"]}, "1 values for 2 texts"),
        ({"objective": True}, "must be a name"),
        ({"objective": [1.5, 0]}, "names or integer ids"),
        ({"objective": 7}, "7"),
    ]
    for extra, message in cases:
        answer = httpx.post(f"{multi_url}/reward", json=base | extra, timeout=60)
        assert answer.status_code == 422, extra
        assert message in answer.json()["error"], (extra, answer.json())
    remote = RemoteReward(multi_url)
    with pytest.raises(ValueError, match="give the dataset a column 'objective'"):
        remote(["a"], ["b"], label=[1])


@pytest.mark.parametrize(
    "one", ["harmless", np.str_("harmless"), 1, 1.0, np.int64(1), np.array("harmless")]
)
def test_the_client_takes_one_objective_for_all_as_reward_function_does(
    multi_pipeline, multi_url, one
):
    prompts, completions, _ = batch(4, 5)
    expected = reward_function(multi_pipeline)(prompts, completions, objective=one)
    assert expected == reward_function(multi_pipeline, "harmless")(prompts, completions)
    remote = RemoteReward(multi_url)
    assert remote(prompts, completions, objective=one) == expected


def test_the_client_reports_refusals_and_dead_servers(single_url):
    with pytest.raises(
        ValueError, match=r"refused the request \(HTTP 422\).*objective"
    ):
        RemoteReward(single_url, objective="helpful")(["a"], ["b"])
    dead = RemoteReward(f"http://127.0.0.1:{free_port()}", max_retries=1, backoff=0)
    with pytest.raises(ConnectionError, match="after 2 tries.*skpref serve"):
        dead(["a"], ["b"])
    assert RemoteReward(single_url)(["a"], []) == []


def test_the_client_is_picklable_and_checks_its_parameters(single_pipeline, single_url):
    remote = RemoteReward(single_url)
    first = remote(["Human: hi"], ["Hello."])
    copy = pickle.loads(pickle.dumps(remote))
    assert copy(["Human: hi"], ["Hello."]) == first
    with pytest.raises(ValueError, match="'timeout' parameter of RemoteReward"):
        RemoteReward(single_url, timeout=0)
    with pytest.raises(ValueError, match="start with http:// or https://"):
        RemoteReward("localhost:8000")


def test_make_app_checks_its_parameters(single_pipeline):
    with pytest.raises(ValueError, match="'max_wait_ms' parameter of make_app"):
        make_app(single_pipeline, max_wait_ms=-1)


def test_the_serve_command_refuses_a_missing_file(cli_error, tmp_path):
    err = cli_error(["serve", str(tmp_path / "nope.safetensors")], command="serve")
    assert "there is no file" in err
    err = cli_error(["serve", "m.safetensors", "--port", "70000"], command="serve")
    assert "--port" in err


@pytest.mark.slow
def test_skpref_serve_answers_then_stops_gracefully_on_sigterm(
    single_pipeline, tmp_path
):
    import os
    import signal
    import subprocess
    import sys
    import time

    import skpref

    path = skpref.save(single_pipeline, tmp_path / "rm.safetensors")
    port = free_port()
    command = [sys.executable, "-m", "skpref", "serve", str(path), "--port", str(port)]
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        prompts, completions, _ = batch(3, 200)  # a second or so of work
        expected = reward_function(single_pipeline)(prompts, completions)
        remote = RemoteReward(url)
        remote(prompts[:2], completions[:2])  # it asks /health once
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(remote, prompts, completions)
            time.sleep(0.2)
            server.send_signal(signal.SIGTERM)  # the request in flight finishes
            np.testing.assert_allclose(pending.result(), expected, rtol=1e-6)
        output, _ = server.communicate(timeout=60)
        # uvicorn shuts down, then re-raises the signal it caught
        assert server.returncode in (0, -signal.SIGTERM)
        assert "Finished server process" in output
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
