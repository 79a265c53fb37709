"""Benchmarks of the reward models and of the synthetic reproduction.

Prints, measured in one run:

1. the fit time of each estimator against a minimal hand-written torch loop that
   trains the same network (the same ``nn.Module`` class and sizes) on the same
   data, with the same split, epochs, batch size, optimiser and best-validation
   weights: the ratio skpref / plain torch (target <= 1.10);
2. training and prediction throughput (pairs per second) at d = 384 (MiniLM) and
   d = 4096 (Llama-3-8B) with the paper's network;
3. the wall time of the full synthetic reproduction (both protocols, all seeds),
   target <= 10 minutes on 2 CPU cores.

Run ``python benchmarks/bench_models.py [--threads 1] [--repeats 3]
[--skip-reproduction]``. Timings take the minimum over repeats, which is the
least disturbed by other load on a shared machine.
"""

import argparse
import copy
import io
import os
import tempfile
import time

import numpy as np
import torch

from skpref.datasets import make_confounded_preferences, make_latent_preferences
from skpref.experiments import make_reward_model
from skpref.models._modules import (
    AdversarialRewardModule,
    BTLRewardModule,
    MultiheadRewardModule,
)


def plain_torch_fit(module, X, y, *, n_valid, epochs, batch_size, lr, seed):
    """The minimal loop: Adam, BCE-with-logits (+ discriminator CE), best valid acc."""
    g = torch.Generator().manual_seed(seed)
    X, y = torch.as_tensor(X), torch.as_tensor(y, dtype=torch.float32)
    perm = torch.randperm(len(y), generator=g)
    valid, train = perm[:n_valid], perm[n_valid:]
    X_tr, y_tr, X_va, y_va = X[train], y[train], X[valid], y[valid]
    optimiser = torch.optim.Adam(module.parameters(), lr=lr)
    adversarial = isinstance(module, AdversarialRewardModule)
    best, best_state = -1.0, None
    for _ in range(epochs):
        module.train()
        order = torch.randperm(len(y_tr), generator=g)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            xb, yb = X_tr[idx], y_tr[idx]
            out = module(xb)
            if adversarial:
                logit, disc_a, disc_b = out
                c = xb[:, -1].long()
                loss = torch.nn.functional.binary_cross_entropy_with_logits(
                    logit, yb
                ) + torch.nn.functional.cross_entropy(
                    torch.cat([disc_a, disc_b]), torch.cat([c, c])
                )
            else:
                loss = torch.nn.functional.binary_cross_entropy_with_logits(out, yb)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        module.eval()
        with torch.no_grad():
            out = module(X_va)
            logit = out[0] if adversarial else out
            acc = ((logit > 0).float() == y_va).float().mean().item()
        if acc > best:
            best, best_state = acc, copy.deepcopy(module.state_dict())
    module.load_state_dict(best_state)
    return module


def _module_for(name, d, width):
    if name == "BTL":
        return BTLRewardModule(d, hidden_dim=width, latent_dim=64, n_layers=3)
    if name == "Base":
        return BTLRewardModule(
            d, hidden_dim=width, latent_dim=64, n_layers=3, n_objectives=2
        )
    kwargs = {"hidden_dim": width, "latent_dim": width, "n_layers": 3,
              "head_hidden_dim": width, "n_objectives": 2}  # fmt: skip
    if name == "Multihead":
        return MultiheadRewardModule(d, **kwargs)
    module = AdversarialRewardModule(d, discriminator_hidden_dim=width, **kwargs)
    module.adversary_weight = 1.0
    return module


def bench_overhead(n_pairs, d, width, epochs, repeats):
    print(f"\n1. fit time, skpref vs plain torch: {n_pairs} pairs, d = {d}, width "
          f"{width}, {epochs} epochs, batch 64, lr 1e-4, 10% validation")  # fmt: skip
    latent = make_latent_preferences(n_pairs=n_pairs, n_features=d, random_state=0)
    conf = make_confounded_preferences(n_pairs=n_pairs, n_features=d, rho=0.8,
                                       random_state=0)  # fmt: skip
    print(f"{'model':<12} {'skpref [s]':>11} {'torch [s]':>10} {'ratio':>7}")
    ratios = {}
    for name in ("BTL", "Base", "Multihead", "Adversarial"):
        data = latent if name == "BTL" else conf
        ours, plain = [], []
        for r in range(repeats):
            model = make_reward_model(name, width=width, max_epochs=epochs,
                                      n_objectives=None if name == "BTL" else 2,
                                      random_state=r)  # fmt: skip
            start = time.perf_counter()
            model.fit(data.X, data.y)
            ours.append(time.perf_counter() - start)
            torch.manual_seed(r)
            module = _module_for(name, d, width)
            start = time.perf_counter()
            plain_torch_fit(module, data.X, data.y, n_valid=round(0.1 * n_pairs),
                            epochs=epochs, batch_size=64, lr=1e-4, seed=r)  # fmt: skip
            plain.append(time.perf_counter() - start)
        ratios[name] = min(ours) / min(plain)
        print(f"{name:<12} {min(ours):>11.2f} {min(plain):>10.2f} "
              f"{ratios[name]:>6.2f}x")  # fmt: skip
    return ratios


def bench_throughput(n_pairs, epochs):
    print(f"\n2. throughput of the paper's BTL network (width 512), {n_pairs} pairs")
    print(f"{'d':>6} {'fit [pairs/s]':>14} {'predict [pairs/s]':>18}")
    rows = {}
    for d in (384, 4096):
        rng = np.random.default_rng(0)
        X = rng.normal(size=(n_pairs, 2 * d)).astype(np.float32)
        y = (X[:, :d].sum(1) > X[:, d:].sum(1)).astype(int)
        model = make_reward_model("BTL", width=512, max_epochs=epochs, random_state=0)
        start = time.perf_counter()
        model.fit(X, y)
        fit_rate = 0.9 * n_pairs * epochs / (time.perf_counter() - start)
        start = time.perf_counter()
        model.predict_proba(X)
        predict_rate = n_pairs / (time.perf_counter() - start)
        rows[d] = (fit_rate, predict_rate)
        print(f"{d:>6} {fit_rate:>14.0f} {predict_rate:>18.0f}")
    return rows


def bench_reproduction(quick):
    from skpref._cli import main

    which = "quick" if quick else "full"
    folder = tempfile.mkdtemp(prefix="skpref-bench-")
    print(f"\n3. wall time of the {which} synthetic reproduction (both protocols)")
    walls = {}
    for protocol in ("latent-positivity", "confounding"):
        argv = ["reproduce", protocol, "--no-progress",
                "--output", os.path.join(folder, protocol)]  # fmt: skip
        if quick:
            argv.append("--quick")
        start = time.perf_counter()
        main(argv, out=io.StringIO())
        walls[protocol] = time.perf_counter() - start
        print(f"{protocol:<20} {walls[protocol]:8.1f} s")
    total = sum(walls.values())
    print(f"{'total':<20} {total:8.1f} s  (target <= 600 s on 2 CPU cores)")
    print(f"results in {folder}")
    return walls


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-pairs", type=int, default=2000)
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--skip-reproduction", action="store_true")
    parser.add_argument("--quick-reproduction", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, torch.set_num_threads({args.threads}) -> "
          f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}")  # fmt: skip
    bench_overhead(args.n_pairs, args.d, args.width, args.epochs, args.repeats)
    bench_throughput(args.n_pairs, epochs=1)
    if not args.skip_reproduction:
        bench_reproduction(args.quick_reproduction)


if __name__ == "__main__":
    main()
