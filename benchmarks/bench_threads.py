"""Fit time of the reward models against torch's CPU threads, quiet and contended.

Why ``n_threads=None`` means one thread on the CPU. For each size (response
dimension d, network width, training pairs) it times one fit of
``BTLRewardRegressor`` (and, with ``--adversarial``, ``AdversarialRewardModel``)
with 1 and with T threads (default: every core), in two conditions:

* quiet: nothing else runs;
* contended: as many busy processes as cores minus one run beside it (each a
  single-threaded loop of matrix products), the situation of a parallel search
  (``GridSearchCV(n_jobs=2)``) or of a shared machine.

and, last, a ``GridSearchCV`` over λ of ``AdversarialRewardModel`` with
``n_jobs=2`` with each thread setting, the case a user met. It prints one row per
size and condition with the ratio ``time(T threads) / time(1 thread)`` (below 1:
more threads pay) and writes the table as CSV with ``--out``.

Run ``python benchmarks/bench_threads.py [--quick] [--repeats R] [--out FILE]``.
Timings take the minimum over repeats.
"""

import argparse
import multiprocessing
import os
import time

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import GridSearchCV

from skpref import AdversarialRewardModel, BTLRewardRegressor
from skpref.datasets import make_confounded_preferences, make_latent_preferences

SIZES = [  # (d, width, n_pairs)
    (384, 64, 2000),
    (384, 512, 2000),
    (384, 64, 10000),
    (384, 512, 10000),
    (1024, 512, 10000),
    (4096, 64, 2000),
    (4096, 512, 2000),
    (4096, 512, 10000),
    (384, 512, 30000),
]
QUICK = [(384, 64, 2000), (384, 512, 2000), (4096, 512, 2000)]


def _busy(stop, parent):
    torch.set_num_threads(1)
    a = torch.randn(256, 256)
    # stops when told, or when the benchmark died without telling it
    while not stop.is_set() and os.getppid() == parent:
        a = torch.tanh(a @ a)


class Contention:
    """``n`` single-threaded busy processes, for the duration of a ``with``."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        ctx = multiprocessing.get_context("spawn")
        self.stop = ctx.Event()
        self.workers = [
            ctx.Process(target=_busy, args=(self.stop, os.getpid()), daemon=True)
            for _ in range(self.n)
        ]
        for worker in self.workers:
            worker.start()
        time.sleep(2.0)  # let them spin up
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for worker in self.workers:
            worker.join()


def _fit_seconds(model, X, y, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
    return min(times)


def bench_sizes(sizes, threads, repeats, adversarial):
    warm = make_latent_preferences(n_pairs=200, n_features=8, random_state=0)
    BTLRewardRegressor(max_epochs=1, device="cpu").fit(warm.X, warm.y)  # warm-up
    rows = []
    for d, width, n_pairs in sizes:
        latent = make_latent_preferences(n_pairs=n_pairs, n_features=d, random_state=0)
        models = {"BTL": (BTLRewardRegressor, latent)}
        if adversarial:
            confounded = make_confounded_preferences(
                n_pairs=n_pairs, n_features=d, rho=0.8, random_state=0
            )
            models["Adversarial"] = (AdversarialRewardModel, confounded)
        for name, (cls, data) in models.items():
            X = data.X.astype(np.float32)
            for condition in ("quiet", "contended"):
                busy = Contention(os.cpu_count() - 1 if condition == "contended" else 0)
                with busy:
                    seconds = {
                        t: _fit_seconds(
                            cls(
                                hidden_dim=width,
                                max_epochs=2,
                                n_threads=t,
                                device="cpu",
                                random_state=0,
                            ),  # fmt: skip
                            X,
                            data.y,
                            repeats,
                        )
                        for t in (1, threads)
                    }
                row = {
                    "model": name, "d": d, "width": width, "n_pairs": n_pairs,
                    "condition": condition, "one_thread_s": seconds[1],
                    f"{threads}_threads_s": seconds[threads],
                    "ratio": seconds[threads] / seconds[1],
                }  # fmt: skip
                rows.append(row)
                print(
                    f"{name:<11} d={d:<5} width={width:<4} n={n_pairs:<6} "
                    f"{condition:<9} 1 thread {seconds[1]:7.2f} s, {threads} threads "
                    f"{seconds[threads]:7.2f} s, ratio {row['ratio']:.2f}",
                    flush=True,
                )
    return rows


def bench_search(threads):
    """GridSearchCV over λ, n_jobs=2: seconds per fit with each thread setting."""
    data = make_confounded_preferences(
        n_pairs=2000, n_features=384, rho=0.8, random_state=0
    )
    rows = []
    for t in (1, threads):
        model = AdversarialRewardModel(hidden_dim=512, max_epochs=5, n_threads=t,
                                       device="cpu", random_state=0)  # fmt: skip
        grid = {"adversary_weight": [0.0, 0.5, 1.0, 2.0]}
        search = GridSearchCV(model, grid, cv=2, n_jobs=2)
        start = time.perf_counter()
        search.fit(data.X.astype(np.float32), data.y)
        wall = time.perf_counter() - start
        per_fit = float(search.cv_results_["mean_fit_time"].mean())
        rows.append({"model": "GridSearchCV(n_jobs=2)", "threads": t,
                     "wall_s": wall, "per_fit_s": per_fit})  # fmt: skip
        print(f"GridSearchCV(n_jobs=2) over 4 λ x 2 folds, {t} thread(s) per fit: "
              f"{wall:.1f} s in all, {per_fit:.2f} s per fit", flush=True)  # fmt: skip
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three sizes only")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--adversarial", action="store_true")
    parser.add_argument("--out", help="CSV file for the table")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} before the run")  # fmt: skip
    rows = bench_sizes(QUICK if args.quick else SIZES, args.threads, args.repeats,
                       args.adversarial)  # fmt: skip
    search = bench_search(args.threads)
    if args.out:
        pd.concat([pd.DataFrame(rows), pd.DataFrame(search)]).to_csv(
            args.out, index=False
        )
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
