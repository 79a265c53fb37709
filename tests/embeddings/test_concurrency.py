"""Threads of one process (a Dask worker with several threads) embed safely.

The loaded tokenizer is shared and its padding and truncation sides are set per
call, so embeddings run one at a time per process.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from skpref import LLMEmbeddingTransformer
from skpref.embeddings import _run


def _frame(n):
    return pd.DataFrame(
        {
            "prompt": [f"question {i} " * (1 + i % 9) for i in range(n)],
            "response_a": [f"answer {i} " * (1 + i % 5) for i in range(n)],
            "response_b": ["no"] * n,
        }
    )


def _embed(model, side, frame):
    embedder = LLMEmbeddingTransformer(
        model_name_or_path=model, cache_dir=None, dtype="float32", device="cpu",
        truncation_side=side, max_length=12, progress_bar=False,
    )  # fmt: skip
    return embedder.fit_transform(frame)


def test_threads_embed_one_at_a_time_and_get_their_own_settings(
    tiny_models, monkeypatch
):
    model, frame = tiny_models["llama_left"], _frame(30)
    expected = {side: _embed(model, side, frame) for side in ("left", "right")}
    assert not np.allclose(expected["left"], expected["right"])  # settings matter
    active, most = [], []
    lock = threading.Lock()
    original = _run.embed_token_ids

    def slow_and_counted(*args, **kwargs):
        with lock:
            active.append(1)
            most.append(len(active))
        time.sleep(0.02)  # widen the window in which two threads would overlap
        try:
            return original(*args, **kwargs)
        finally:
            with lock:
                active.pop()

    monkeypatch.setattr(_run, "embed_token_ids", slow_and_counted)
    sides = ["left", "right"] * 4
    with ThreadPoolExecutor(4) as pool:
        outputs = list(pool.map(lambda side: _embed(model, side, frame), sides))
    assert max(most) == 1
    for side, output in zip(sides, outputs, strict=True):
        np.testing.assert_array_equal(output, expected[side])
