"""What ``reward_function`` adds to the embedder and the reward model, per call.

A text pipeline (the offline all-MiniLM-L6-v2 embedder, ``--max-length`` tokens,
and a BTL reward model fitted on a few synthetic pairs) scores ``--n`` completions
per call two ways, alternated ``--repeats`` times:

* bare: ``embedder.transform_responses`` then ``model.predict_reward``, the work
  itself;
* ``reward_function(pipeline)(prompts, completions)``: the same work plus what
  the function does around it (checks, bringing conversational prompts and
  completions to the training form, the objective, the list of floats).

Prompts and completions are given as conversations (TRL's conversational format),
so the form conversion is in the measured path. It prints the median seconds of
each and the ratio (target: reward_function <= 1.10 x bare). The embedding cache
is off in both, so every call embeds every text.

Run ``python benchmarks/bench_reward_function.py [--n 1024] [--repeats 3]``.
"""

import argparse
import platform
import statistics
import time

import numpy as np
import torch

# the synthetic texts of the server benchmark (run from benchmarks/, as a script)
from bench_serve import texts
from sklearn.pipeline import Pipeline

from skpref import BTLRewardRegressor, reward_function
from skpref.datasets import preference_pairs
from skpref.experiments import default_embedder


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024, help="completions per call")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    prompts, completions = texts(64, 0)
    rows = [
        {"prompt": p, "chosen": c, "rejected": c[: len(c) // 3]}
        for p, c in zip(prompts, completions, strict=True)
    ]
    X, y = preference_pairs(rows, random_state=0)
    embedder = default_embedder(max_length=args.max_length, cache_dir=None)
    model = BTLRewardRegressor(hidden_dim=64, latent_dim=16, max_epochs=2,
                               random_state=0)  # fmt: skip
    pipeline = Pipeline([("embed", embedder), ("reward", model)]).fit(X, y)
    reward = reward_function(pipeline)

    prompts, completions = texts(args.n, 1)
    as_user = [
        [{"role": "user", "content": p.removeprefix("Human: ")}] for p in prompts
    ]
    as_assistant = [[{"role": "assistant", "content": c}] for c in completions]

    def bare():
        E = pipeline[0].transform_responses(prompts, completions)
        return pipeline[-1].predict_reward(E)

    def through_function():
        return reward(as_user, as_assistant)

    np.testing.assert_allclose(through_function(), bare(), rtol=1e-5)  # same work
    times = {"bare": [], "reward_function": []}
    for _ in range(args.repeats):
        for name, call in (("bare", bare), ("reward_function", through_function)):
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} torch threads; {args.n} completions per call, "
          f"max_length={args.max_length}, {args.repeats} repeats")  # fmt: skip
    for name, seconds in medians.items():
        print(f"{name:>16}: {seconds:7.2f} s  ({args.n / seconds:6.1f} completions/s)")
    ratio = medians["reward_function"] / medians["bare"]
    print(f"reward_function / bare: {ratio:.3f} (target <= 1.10)")


if __name__ == "__main__":
    main()
