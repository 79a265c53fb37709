"""What chunking a run costs: wall time of one run by ``VectorisedExecutor(max_draws)``.

A checkpointed run keeps a fit group only once its chunk of ``max_draws`` draws
is trained, so ``max_draws`` bounds the work an interruption loses; the engine
gains by stacking many draws. This prints the wall time of the same run (the
command line's "full" confounding preset on synthetic data by default) for each
``max_draws``, with a checkpoint folder, and the time to read the finished run
back from it.

``python benchmarks/bench_checkpoint.py --seeds 5 --epochs 2 --max-draws 0 6 1``
(0 means None: the whole run in one chunk).
"""

import argparse
import tempfile
import time

import torch

from skpref.experiments import PROTOCOLS, SOURCES, run_protocol

CONFOUNDING = PROTOCOLS["confounding"]
SyntheticConfounded = SOURCES["synthetic"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-draws", type=int, nargs="+", default=[0, 6, 1])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = {
        "n_seeds": args.seeds,
        "width": args.width,
        "lr": 1e-3,
        "max_epochs": args.epochs,
        "device": "cpu",
    }
    print(
        f"confounding, synthetic n_train={args.n_train} d=32, {args.seeds} seeds x 6 "
        f"rho x 3 models, width {args.width}, {args.epochs} epochs, "
        f"{args.threads} torch thread(s)"
    )
    for max_draws in args.max_draws:
        chunk = None if max_draws == 0 else max_draws
        with tempfile.TemporaryDirectory() as folder:
            source = SyntheticConfounded(n_train=args.n_train, n_test=2000)
            start = time.perf_counter()
            run_protocol(
                CONFOUNDING,
                source,
                max_draws=chunk,
                checkpoint=folder,
                **settings,
            )
            wall = time.perf_counter() - start
            start = time.perf_counter()
            again = run_protocol(
                CONFOUNDING,
                SyntheticConfounded(n_train=args.n_train, n_test=2000),
                checkpoint=folder,
                **settings,
            )
            read = time.perf_counter() - start
        n_draws = len(again.runs[["seed", "rho"]].drop_duplicates())
        print(
            f"max_draws={chunk}: {wall:.1f} s ({wall / n_draws:.2f} s per draw); "
            f"read back {again.checkpoint.reused} draws in {read:.2f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
