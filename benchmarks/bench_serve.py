"""Throughput of the reward server over loopback against in-process calls.

A text pipeline (the offline all-MiniLM-L6-v2 embedder and a BTL reward model
fitted on a few synthetic pairs) is saved with ``skpref.save`` and served by
``skpref serve`` in a separate process on 127.0.0.1. The same completions are
then scored two ways, at ``--batch`` completions per call:

* in-process: ``skpref.reward_function(pipeline)`` called one batch after another
  (what an RL job does with the model in its own process);
* served: ``--clients`` threads, each with a ``RemoteReward``, sending batches
  concurrently (what several rollout workers do); the server gathers them into
  larger model calls (micro-batching).

Both use ``--threads`` torch threads. It prints completions per second of each
and their ratio, served / in-process (target: >= 0.8 at batch 64 with 8 clients),
by wall time and by CPU time (the server's process and the clients' together
against the in-process loop's). On a machine shared with other work, wall-time
ratios move with the load (a second process also gets a second share of the
CPUs); the CPU-time ratio measures what the HTTP round trips cost and moves less.

Run ``python benchmarks/bench_serve.py [--batch 64] [--clients 8] [--calls 4]``.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import torch
from sklearn.pipeline import Pipeline

import skpref
from skpref import BTLRewardRegressor, reward_function
from skpref.datasets import preference_pairs
from skpref.experiments import default_embedder
from skpref.serve import RemoteReward

WORDS = (
    "the a answer because step first then water bread tax chess rain music train "
    "cat maths explain example detail careful rather not say sure here is why how"
).split()


def texts(n, seed):
    rng = np.random.RandomState(seed)
    prompts = [f"Human: {' '.join(rng.choice(WORDS, 12))}?" for _ in range(n)]
    completions = [" ".join(rng.choice(WORDS, rng.randint(20, 80))) for _ in range(n)]
    return prompts, completions


def fitted_pipeline(max_length):
    prompts, completions = texts(128, 0)
    rows = [
        {"prompt": p, "chosen": c, "rejected": c[: len(c) // 2]}
        for p, c in zip(prompts[:64], completions[:64], strict=True)
    ]
    X, y = preference_pairs(rows, random_state=0)
    embed = default_embedder(max_length=max_length, cache_dir=None).set_params(
        device="cpu", dtype="float32"
    )
    model = BTLRewardRegressor(max_epochs=5, device="cpu", random_state=0)
    return Pipeline([("embed", embed), ("rm", model)]).fit(X, y)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(path, threads):
    port = free_port()
    command = [
        sys.executable, "-m", "skpref", "serve", str(path), "--port", str(port),
        "--threads", str(threads), "--device", "cpu", "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=os.environ | {"HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("skpref serve did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--calls", type=int, default=4, help="batches per client")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    pipeline = fitted_pipeline(args.max_length)
    n_batches = args.clients * args.calls
    batches = [texts(args.batch, 100 + i) for i in range(n_batches)]
    n = n_batches * args.batch
    local = reward_function(pipeline)
    local(*batches[0])  # warm up

    with tempfile.TemporaryDirectory() as folder:
        path = skpref.save(pipeline, Path(folder) / "rm.safetensors")
        server, url = start_server(path, args.threads)
        try:
            remote = RemoteReward(url)
            remote(*batches[0])  # warm up (and ask /health once)

            def one_client(i):
                return [remote(*batches[j]) for j in range(i, n_batches, args.clients)]

            local_s, served_s, local_cpu, served_cpu = [], [], [], []
            for _ in range(args.repeats):
                start, cpu = time.perf_counter(), time.process_time()
                for prompts, completions in batches:
                    local(prompts, completions)
                local_s.append(time.perf_counter() - start)
                local_cpu.append(time.process_time() - cpu)
                start, cpu = time.perf_counter(), time.process_time()
                server_cpu = cpu_seconds(server.pid)
                with ThreadPoolExecutor(args.clients) as pool:
                    list(pool.map(one_client, range(args.clients)))
                served_s.append(time.perf_counter() - start)
                served_cpu.append(
                    time.process_time() - cpu + cpu_seconds(server.pid) - server_cpu
                )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)

    in_process, served = n / min(local_s), n / min(served_s)
    print(
        f"{n} completions in batches of {args.batch}, {args.clients} clients, "
        f"{args.threads} torch threads, max_length {args.max_length}, best of "
        f"{args.repeats}"
    )
    print(f"in-process: {in_process:8.1f} completions/s")
    print(f"served:     {served:8.1f} completions/s")
    print(f"ratio served / in-process: {served / in_process:.2f} (target >= 0.8)")
    cpu_ratio = min(local_cpu) / min(served_cpu)
    print(
        f"CPU seconds: in-process {min(local_cpu):.1f}, served {min(served_cpu):.1f} "
        f"(server + clients); ratio of throughputs per CPU second: {cpu_ratio:.2f}"
    )


if __name__ == "__main__":
    main()
