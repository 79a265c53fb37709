"""Benchmarks of the reward models, the vectorised engine and the reproduction.

Prints, measured in one run on one device:

1. the fit time of each reward model against a bare torch loop that trains the
   same module (class and sizes) on the same data, resident on the same device,
   with the same holdout share, epochs, batch size, optimiser and
   best-validation weights: the ratio skpref / bare (target <= 1.10, on the CPU
   and at paper size on a GPU), and where skpref's time goes: skorch's epochs,
   the pass over the training responses after training, the rest;
2. an ensemble of M members (``RewardEnsemble``, trained by the engine as one
   stack, or as stacks of one where members are large on a CPU) against one
   member and against M fits one after another (targets at width 512, M = 5:
   <= 5.5x one member on a 2-core CPU, <= 2x on a GPU);
3. the reproduction through the runner: on the CPU the full synthetic
   reproduction at the paper's width 512 (both protocols, all seeds; target
   <= 600 s on 2 cores); with ``--paper-size`` the paper-size synthetic Table 2
   (90 fits: 5 seeds x 6 rho x 3 models, 30k pairs, d = 4096; GPU target
   <= 180 s on one H100).

It ends with a short table of the ratios and writes them as JSON under ``--out``.

Run ``python benchmarks/bench_models.py --device cpu|cuda [--paper-size]
[--pairs N] [--d D] [--width W] [--epochs E] [--threads T] [--repeats R]
[--skip-reproduction] [--out DIR]``. Timings take the minimum over repeats, the
least disturbed by other load on a shared machine. Each repeat of section 1 fits
skpref and the bare loop one after the other with the same seed, so their ratio
is also given per repeat: the median of these paired ratios with a
distribution-free 90% interval (``scipy.stats.quantile_test``; with 5 repeats it
is their range, at 94%), which shows how far the machine's noise moves the ratio.
"""

import argparse
import contextlib
import io
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import quantile_test
from sklearn.base import clone
from skorch import NeuralNet

from skpref import RewardEnsemble
from skpref.datasets import make_confounded_preferences, make_latent_preferences
from skpref.experiments import PROTOCOLS, SOURCES, run_protocol
from skpref.experiments import make_reward_model as paper_model
from skpref.models._base import BaseRewardModel
from skpref.models._modules import (
    AdversarialRewardModule,
    BTLRewardModule,
    MultiheadRewardModule,
)

CONFOUNDING = PROTOCOLS["confounding"]
SyntheticConfounded = SOURCES["synthetic"]
PAPER = {"n_pairs": 30000, "d": 4096, "width": 512, "epochs": 10}
SMALL = {"n_pairs": 2000, "d": 32, "width": 512, "epochs": 3}
MODELS = ("BTL", "Base", "Multihead", "Adversarial")


def _sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _timed(device, fit):
    _sync(device)
    start = time.perf_counter()
    fit()
    _sync(device)
    return time.perf_counter() - start


def bare_fit(module, X, y, *, epochs, batch_size, lr, seed, device):
    """A bare loop on data resident on ``device``: Adam, BTL (+ adversary) loss,
    a 10% holdout and the weights of the best validation accuracy."""
    generator = torch.Generator().manual_seed(seed)
    module = module.to(device)
    X = torch.as_tensor(X, device=device)
    y = torch.as_tensor(y, dtype=torch.float32, device=device)
    order = torch.randperm(len(y), generator=generator).to(device)
    n_valid = int(np.ceil(0.1 * len(y)))
    valid, train = order[:n_valid], order[n_valid:]
    optimiser = torch.optim.Adam(module.parameters(), lr=lr)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    best, best_state = -1.0, None
    for _ in range(epochs):
        module.train()
        shuffled = train[torch.randperm(len(train), generator=generator).to(device)]
        for start in range(0, len(shuffled), batch_size):
            rows = shuffled[start : start + batch_size]
            out = module(X[rows])
            loss = bce(out["reward_a"] - out["reward_b"], y[rows])
            if "disc_out" in out:  # the adversarial module
                loss = loss + torch.nn.functional.cross_entropy(
                    out["disc_out"], out["disc_target"]
                )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        module.eval()
        with torch.no_grad():
            margin = module.margin(X[valid])
            accuracy = ((margin > 0).float() == y[valid]).float().mean().item()
        if accuracy > best:
            best = accuracy
            best_state = {k: v.clone() for k, v in module.state_dict().items()}
    module.load_state_dict(best_state)
    return module


def _data(name, size):
    if name == "BTL":
        data = make_latent_preferences(
            n_pairs=size["n_pairs"], n_features=size["d"], random_state=0
        )
    else:
        data = make_confounded_preferences(
            n_pairs=size["n_pairs"], n_features=size["d"], rho=0.8, random_state=0
        )
    return data.X.astype(np.float32), data.y


def _model(name, size, device, seed=0):
    model = paper_model(
        name,
        width=size["width"],
        max_epochs=size["epochs"],
        n_objectives=None if name == "BTL" else 2,
        device=device,
        random_state=seed,
    )
    return model.set_params(n_threads=torch.get_num_threads())


@contextlib.contextmanager
def _parts_timed(device):
    """Time skorch's epochs (training and validation) and the pass after training.

    Yields a dict that sums each part's seconds over the fits run inside.
    """
    parts = {"loop": 0.0, "pass": 0.0}
    originals = {
        "loop": (NeuralNet, "run_single_epoch", NeuralNet.run_single_epoch),
        "pass": (BaseRewardModel, "_side_rewards", BaseRewardModel._side_rewards),
    }

    def timing(part, function):
        def timed(*args, **kwargs):
            _sync(device)
            start = time.perf_counter()
            result = function(*args, **kwargs)
            _sync(device)
            parts[part] += time.perf_counter() - start
            return result

        return timed

    for part, (owner, name, function) in originals.items():
        setattr(owner, name, timing(part, function))
    try:
        yield parts
    finally:
        for owner, name, function in originals.values():
            setattr(owner, name, function)


def bench_overhead(size, device, repeats):
    print(
        f"\n1. fit time, skpref vs a bare loop on {device} (data resident there): "
        f"{size['n_pairs']} pairs, d = {size['d']}, width {size['width']}, "
        f"{size['epochs']} epochs, batch 64; where skpref's time goes, over the "
        "bare fit's: skorch's epochs (training and validation), the pass over "
        "the training responses after training (health check, reward scale), "
        "the rest (set-up, callbacks)"
    )
    print(f"{'model':<12} {'skpref [s]':>11} {'bare [s]':>10} {'ratio':>7} "
          f"{'epochs':>7} {'pass':>6} {'rest':>6}  "
          "paired: median [interval]")  # fmt: skip
    rows = {}
    for name in MODELS:
        X, y = _data(name, size)
        ours, bare, loop, post = [], [], [], []
        for r in range(repeats):
            model = _model(name, size, device, seed=r)
            with _parts_timed(device) as parts:
                ours.append(_timed(device, lambda m=model, X=X, y=y: m.fit(X, y)))
            loop.append(parts["loop"])
            post.append(parts["pass"])
            with torch.random.fork_rng():
                torch.manual_seed(r)
                module = _module_for(name, size)
            bare.append(
                _timed(
                    device,
                    lambda m=module, r=r, X=X, y=y: bare_fit(
                        m,
                        X,
                        y,
                        epochs=size["epochs"],
                        batch_size=64,
                        lr=1e-4,
                        seed=r,
                        device=device,
                    ),  # fmt: skip
                )
            )
        # each the least over the repeats, the least disturbed
        row = {"skpref_s": min(ours), "bare_s": min(bare), "epochs_s": min(loop),
               "pass_s": min(post)}  # fmt: skip
        row["ratio"] = row["skpref_s"] / row["bare_s"]
        shares = {part: row[f"{part}_s"] / row["bare_s"] for part in ("epochs", "pass")}
        shares["rest"] = row["ratio"] - shares["epochs"] - shares["pass"]
        row.update({f"{part}_share": share for part, share in shares.items()})
        row.update(_paired_ratio(np.array(ours) / np.array(bare)))
        rows[name] = row
        print(f"{name:<12} {row['skpref_s']:>11.2f} {row['bare_s']:>10.2f} "
              f"{row['ratio']:>6.2f}x {shares['epochs']:>7.3f} "
              f"{shares['pass']:>6.3f} {shares['rest']:>6.3f}  "
              f"{_paired_text(row)}")  # fmt: skip
    return rows


def _paired_ratio(ratios):
    """The median of the per-repeat ratios and a distribution-free interval of it.

    The interval is the pair of order statistics that covers the median with 90%
    confidence (``scipy.stats.quantile_test``); with 4 repeats or fewer no such
    pair exists, and it is their range, which covers the median with probability
    ``1 - 2 / 2**n``.
    """
    n, median = len(ratios), float(np.median(ratios))
    if n == 1:
        low = high = median
        level = None
    elif 1 - 2 * 0.5**n < 0.9:
        low, high, level = float(ratios.min()), float(ratios.max()), 1 - 2 * 0.5**n
    else:
        found = quantile_test(ratios, q=median, p=0.5).confidence_interval(0.9)
        low, high, level = float(found.low), float(found.high), 0.9
    return {
        "paired_ratios": ratios.tolist(),
        "paired_median": median,
        "paired_low": low,
        "paired_high": high,
        "paired_level": level,
    }


def _paired_text(row):
    if row["paired_level"] is None:
        return f"{row['paired_median']:.2f}x (one repeat)"
    return (
        f"{row['paired_median']:.2f}x [{row['paired_low']:.2f}, "
        f"{row['paired_high']:.2f}] ({row['paired_level']:.0%})"
    )


def _module_for(name, size):
    """The module the named model of ``make_reward_model`` trains."""
    d, width = size["d"], size["width"]
    if name in ("BTL", "Base"):
        objectives = None if name == "BTL" else 2
        return BTLRewardModule(d, hidden_dim=width, latent_dim=64, n_layers=3,
                               n_objectives=objectives)  # fmt: skip
    kwargs = {"hidden_dim": width, "latent_dim": width, "n_layers": 3,
              "head_hidden_dim": width, "n_objectives": 2}  # fmt: skip
    if name == "Multihead":
        return MultiheadRewardModule(d, **kwargs)
    return AdversarialRewardModule(d, discriminator_hidden_dim=width, **kwargs)


def bench_ensemble(size, device, repeats, n_members):
    print(
        f"\n2. an ensemble of {n_members} (trained together) vs one member and vs "
        f"{n_members} fits one after another: Multihead, {size['n_pairs']} pairs, "
        f"d = {size['d']}, width {size['width']}, {size['epochs']} epochs"
    )
    X, y = _data("Multihead", size)
    member = _model("Multihead", size, device)
    one, together, apart = [], [], []
    for r in range(repeats):
        one.append(_timed(device, lambda r=r: clone(member).fit(X, y)))
        ensemble = RewardEnsemble(member, n_members=n_members, random_state=r)
        together.append(_timed(device, lambda e=ensemble: e.fit(X, y)))

        def sequential(r=r):
            for k in range(n_members):
                clone(member).set_params(random_state=r * 100 + k).fit(X, y)

        apart.append(_timed(device, sequential))
    row = {
        "one_member_s": min(one),
        "ensemble_s": min(together),
        "sequential_s": min(apart),
        "n_members": n_members,
    }
    row["ensemble_vs_one"] = row["ensemble_s"] / row["one_member_s"]
    row["ensemble_vs_sequential"] = row["ensemble_s"] / row["sequential_s"]
    print(
        f"one member {row['one_member_s']:.2f} s, ensemble {row['ensemble_s']:.2f} s "
        f"({row['ensemble_vs_one']:.2f}x one member), {n_members} one after another "
        f"{row['sequential_s']:.2f} s (ensemble {row['ensemble_vs_sequential']:.2f}x)"
    )
    return row


def bench_cpu_reproduction(threads):
    from skpref._cli import main

    folder = tempfile.mkdtemp(prefix="skpref-bench-")
    print(
        "\n3. the full synthetic reproduction at width 512 (both protocols, all "
        f"seeds, the 'full' preset otherwise), {threads} torch thread(s)"
    )
    walls = {}
    for protocol in ("latent-positivity", "confounding"):
        argv = ["reproduce", protocol, "--width", "512", "--threads",
                str(threads), "--no-progress", "--output",
                os.path.join(folder, protocol)]  # fmt: skip
        start = time.perf_counter()
        main(argv, out=io.StringIO())
        walls[protocol] = time.perf_counter() - start
        print(f"{protocol:<20} {walls[protocol]:8.1f} s")
    walls["total"] = sum(walls.values())
    print(f"{'total':<20} {walls['total']:8.1f} s  (target <= 600 s on 2 CPU cores)")
    return walls


def bench_paper_table2(device):
    print(
        "\n3. the paper-size synthetic Table 2 through the runner: 5 seeds x 6 rho x "
        "3 models, 30k training pairs, d = 4096, width 512, 10 epochs"
    )
    source = SyntheticConfounded(n_train=30000, n_test=2000, n_features=4096)
    start = time.perf_counter()
    result = run_protocol(CONFOUNDING, source, device=device)
    wall = time.perf_counter() - start
    fits = result.runs.drop_duplicates(["seed", "rho", "model"])["fit_seconds"]
    row = {"wall_s": wall, "training_s": float(fits.sum()), "n_fits": len(fits)}
    print(
        f"{len(fits)} fits: {wall:.1f} s in all, of which training "
        f"{row['training_s']:.1f} s (the rest: drawing the data and scoring); "
        "target <= 180 s on one H100"
    )
    return row


def _summary(results):
    lines = [("measure", "value", "target")]
    for name, row in results.get("overhead", {}).items():
        lines.append((f"fit overhead {name}", f"{row['ratio']:.2f}x", "<= 1.10x"))
        lines.append(("  paired: median [interval]", _paired_text(row), ""))
    if "ensemble" in results:
        row = results["ensemble"]
        lines.append((f"ensemble of {row['n_members']} / one member",
                      f"{row['ensemble_vs_one']:.2f}x", "<= 5.5x CPU"))  # fmt: skip
        lines.append((f"ensemble of {row['n_members']} / sequential",
                      f"{row['ensemble_vs_sequential']:.2f}x", "< 1x"))  # fmt: skip
    if "reproduction" in results:
        total = results["reproduction"]["total"]
        lines.append(
            ("full reproduction, width 512", f"{total:.0f} s", "<= 600 s (CPU)")
        )
    if "table2" in results:
        wall = results["table2"]["wall_s"]
        lines.append(("paper-size Table 2", f"{wall:.0f} s", "<= 180 s (H100)"))
    print("\nSummary")
    for cells in lines:
        print(f"{cells[0]:<34} {cells[1]:>10}  {cells[2]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--paper-size", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--pairs", type=int, help="pairs (default: 2,000)")
    parser.add_argument("--d", type=int, help="features per response (default: 32)")
    parser.add_argument("--width", type=int, help="network width (default: 512)")
    parser.add_argument("--epochs", type=int, help="epochs (default: 3; paper 10)")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--skip-ensemble", action="store_true")
    parser.add_argument("--skip-reproduction", action="store_true")
    parser.add_argument("--out", default="bench-results")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    size = dict(PAPER if args.paper_size else SMALL)
    size.update(
        {
            k: v
            for k, v in [
                ("n_pairs", args.pairs),
                ("d", args.d),
                ("width", args.width),
                ("epochs", args.epochs),
            ]
            if v
        }
    )
    device = args.device
    name = torch.cuda.get_device_name(device) if device.startswith("cuda") else (
        platform.processor() or platform.machine())  # fmt: skip
    print(f"torch {torch.__version__}, device {device} ({name}), "
          f"{torch.get_num_threads()} thread(s), {os.cpu_count()} CPUs, load "
          f"average {os.getloadavg()[0]:.1f}")  # fmt: skip
    results = {"device": device, "device_name": name, "torch": torch.__version__,
               "threads": torch.get_num_threads(), "size": size,
               "load_average": os.getloadavg()[0]}  # fmt: skip
    if not args.skip_overhead:
        results["overhead"] = bench_overhead(size, device, args.repeats)
    if not args.skip_ensemble:
        results["ensemble"] = bench_ensemble(size, device, args.repeats, args.members)
    if not args.skip_reproduction:
        if args.paper_size:
            results["table2"] = bench_paper_table2(device)
        else:
            results["reproduction"] = bench_cpu_reproduction(args.threads)
    _summary(results)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench_models_{device.replace(':', '')}.json"
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
