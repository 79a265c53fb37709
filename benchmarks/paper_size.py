"""The paper-size synthetic runs for the docs, on one GPU.

Two commands, each well under 10 minutes on one H100 (estimate; the data are
drawn on the host's CPU cores), writing into one folder:

``python benchmarks/paper_size.py tables --device cuda --out paper-size``
    The synthetic Table 2 at the paper's size (30k training pairs, d = 4096,
    width 512, lr 1e-4, 10 epochs, batch 64, 5 seeds x 6 rho x Base /
    Multihead / Adversarial, 2,000 test pairs per group) and the synthetic
    Table 1 (15k training pairs, d = 4096, 3 seeds x 4 rho, BTL). Writes
    ``tables.md`` (Tables 1-3, with the device and wall times),
    ``tables_runs.csv``, ``tables.json``, ``figure6_confounding.png`` and
    ``figure7_delta_plane.png``.

``python benchmarks/paper_size.py scaling --device cuda --out paper-size``
    How the Adversarial - Multihead difference on inconsistent test pairs
    depends on the training-set size: n_train in 2k, 4k, 8k, 15k, 30k at
    rho = 0.9 and 1, 5 seeds, paired by seed (both models are fitted on the same
    draws). Writes ``scaling.md``, ``scaling_runs.csv`` and
    ``figure_scaling.png``.

``--generator defaults`` draws the confounded data with the generator's own
defaults instead of the protocol's ``SYNTHETIC_GENERATOR``
(``type_latent_scale=3``); the docs report both. ``--narrow`` runs both with the
paper's training-set sizes, learning rate, epochs and batch size but d = 64,
width 128 and 3 seeds, a size two CPU cores run (``scaling`` in about 8 minutes):
it separates the effect of the training-set size from that of the embedding
width. ``--rhos`` and ``--sizes`` restrict a run to some values of rho and of
the training-set size (a paper-size spot check on a CPU: ``scaling --device cpu
--sizes 30000 --rhos 1``). ``--small`` runs both at toy sizes (the CPU test of
this script).
"""

import argparse
import json
import platform
import time
from pathlib import Path

import pandas as pd
import torch

from skpref.experiments import (
    PROTOCOLS,
    SOURCES,
    markdown_table,
    run_protocol,
    summarise,
)
from skpref.experiments._plots import plot_figure

CONFOUNDING = PROTOCOLS["confounding"]
LATENT_POSITIVITY = PROTOCOLS["latent-positivity"]
SyntheticConfounded = SyntheticLatent = SOURCES["synthetic"]

PAPER = {
    "network": {"width": 512, "lr": 1e-4, "max_epochs": 10, "batch_size": 64},
    "table2": {"n_train": 30000, "n_test": 2000, "n_features": 4096},
    "table1": {"n_train": 15000, "n_test": 2000, "n_features": 4096},
    "seeds": {"table2": 5, "table1": 3, "scaling": 5},
    "rhos": {"table2": None, "table1": None, "scaling": (0.9, 1.0)},
    "sizes": (2000, 4000, 8000, 15000, 30000),
}
NARROW = {
    "network": {"width": 128, "lr": 1e-4, "max_epochs": 10, "batch_size": 64},
    "table2": {"n_train": 30000, "n_test": 2000, "n_features": 64},
    "table1": {"n_train": 15000, "n_test": 2000, "n_features": 64},
    "seeds": {"table2": 3, "table1": 3, "scaling": 3},
    "rhos": PAPER["rhos"],
    "sizes": PAPER["sizes"],
}
SMALL = {
    "network": {"width": 16, "lr": 1e-2, "max_epochs": 2, "batch_size": 64},
    "table2": {"n_train": 200, "n_test": 100, "n_features": 6},
    "table1": {"n_train": 200, "n_test": 100, "n_features": 6},
    "seeds": {"table2": 2, "table1": 2, "scaling": 2},
    "rhos": {"table2": (0.5, 1.0), "table1": (0.0, 0.9), "scaling": (0.9, 1.0)},
    "sizes": (150, 300),
}


def _device_name(device):
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def _run(protocol, source, sizes, part, device, models=None):
    start = time.perf_counter()
    result = run_protocol(
        protocol,
        source,
        models=models,
        n_seeds=sizes["seeds"][part],
        rhos=sizes["rhos"][part],
        device=device,
        show_progress=True,
        **sizes["network"],
    )
    wall = time.perf_counter() - start
    rho = "rho_train" if protocol is LATENT_POSITIVITY else "rho"
    fits = result.runs.drop_duplicates(["seed", rho, "model"])
    return result, {"wall_s": wall, "training_s": float(fits["fit_seconds"].sum())}


def tables(sizes, device, out):
    """Tables 1-3 at the paper's size: tables.md, runs, JSON, two figures."""
    lines, frames, record = [], [], {}
    runs = (
        ("table2", CONFOUNDING, SyntheticConfounded(**sizes["table2"])),
        ("table1", LATENT_POSITIVITY, SyntheticLatent(**sizes["table1"])),
    )
    for part, protocol, source in runs:
        result, times = _run(protocol, source, sizes, part, device)
        record[part] = {**times, "config": result.config}
        lines.append(
            f"## {protocol.name}: {source.n_train} training pairs, d = "
            f"{source.n_features}, {result.config['n_seeds']} seeds; "
            f"{times['wall_s']:.0f} s in all, {times['training_s']:.0f} s training"
        )
        for title, table in summarise(result).items():
            lines += ["", f"{title}", "", markdown_table(table), ""]
        frames.append(result.runs)
        figure = (
            "figure6_confounding" if protocol is CONFOUNDING else "figure7_delta_plane"
        )
        plot_figure(result, out / f"{figure}.png")
    runs = pd.concat(frames, ignore_index=True)
    _write(out, "tables", lines, runs, device, record, sizes)


def scaling(sizes, device, out):
    """Adversarial - Multihead on inconsistent pairs vs n_train: md, runs, figure."""
    frames, record = [], {}
    for n_train in sizes["sizes"]:  # the same test sets and seeds at every size
        source = SyntheticConfounded(**{**sizes["table2"], "n_train": n_train})
        result, times = _run(
            CONFOUNDING, source, sizes, "scaling", device, ["Multihead", "Adversarial"]
        )
        record[str(n_train)] = times
        runs = result.runs.query("split == 'test' and group == 'inconsistent'")
        frames.append(runs.assign(n_train=n_train))
    runs = pd.concat(frames, ignore_index=True)
    summary = scaling_summary(runs)
    lines = [
        "## Adversarial - Multihead, test accuracy [%] on inconsistent pairs, "
        f"by training-set size ({len(runs['seed'].unique())} seeds, paired by seed)",
        "",
        markdown_table(summary),
    ]
    plot_scaling(summary, out / "figure_scaling.png")
    _write(out, "scaling", lines, runs, device, record, sizes, json_file=False)


def scaling_summary(runs):
    """Mean accuracy of each model and the paired difference, by n_train and rho."""
    wide = runs.pivot_table(
        index=["n_train", "rho", "seed"], columns="model", values="accuracy"
    )
    wide["difference"] = wide["Adversarial"] - wide["Multihead"]
    grouped = (100 * wide).groupby(level=["n_train", "rho"])
    summary = grouped.mean().add_suffix(" mean")
    sem = grouped.sem(ddof=1).add_suffix(" s.e.")
    return pd.concat([summary, sem], axis=1).round(2).reset_index()


def plot_scaling(summary, path):
    """The paired difference against n_train, one line per rho (mean +/- s.e.)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 3.5))
    for rho, rows in summary.groupby("rho"):
        axis.errorbar(
            rows["n_train"], rows["difference mean"], yerr=rows["difference s.e."],
            marker="o", capsize=3, label=f"rho = {rho:g}",
        )  # fmt: skip
    axis.axhline(0, color="grey", linewidth=0.8)
    axis.set_xscale("log")
    axis.set_xlabel("training pairs")
    axis.set_ylabel("Adversarial - Multihead [points]")
    axis.set_title("Inconsistent test pairs")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def _write(out, stem, lines, runs, device, record, sizes, *, json_file=True):
    header = [
        f"# {stem}: {_device_name(device)} ({device}), torch {torch.__version__}",
        "",
        f"Sizes: {json.dumps(sizes, default=str)}",
        "",
    ]
    walls = {k: round(v["wall_s"], 1) for k, v in record.items()}
    lines = header + lines + ["", f"Wall time per run [s]: {walls}"]
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    runs.to_csv(out / f"{stem}_runs.csv", index=False)
    if json_file:
        text = json.dumps(
            {
                "device": device,
                "device_name": _device_name(device),
                "sizes": sizes,
                **record,
            },
            indent=2,
            default=str,
        )
        (out / f"{stem}.json").write_text(text, encoding="utf-8")


def _numbers(text, kind, ok, what):
    try:
        values = tuple(kind(part) for part in text.split(","))
    except ValueError:
        values = ()
    if not values or not all(ok(v) for v in values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated {what}; got {text!r}"
        )
    return values


def _unit_floats(text):
    return _numbers(text, float, lambda v: 0 <= v <= 1, "numbers in [0, 1]")


def _positive_ints(text):
    return _numbers(text, int, lambda v: v >= 1, "integers >= 1")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["tables", "scaling"])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", default="paper-size")
    parser.add_argument(
        "--generator",
        choices=["protocol", "defaults"],
        default="protocol",
        help="confounded data: the protocol's generator or the generator's defaults",
    )
    parser.add_argument(
        "--seeds", type=int, default=None, help="seeds of every part (preset's)"
    )
    parser.add_argument(
        "--rhos",
        type=_unit_floats,
        default=None,
        help="comma-separated rho values of every part (preset's)",
    )
    parser.add_argument(
        "--sizes",
        type=_positive_ints,
        default=None,
        help="comma-separated training-set sizes of 'scaling' (preset's)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (torch's default)"
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--small", action="store_true", help="toy sizes (a test)")
    size.add_argument("--narrow", action="store_true", help="d = 64, width 128")
    args = parser.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        parser.error(
            f"argument --threads: expected an integer >= 1; got {args.threads}"
        )
    sizes = SMALL if args.small else NARROW if args.narrow else PAPER
    if args.seeds is not None:
        if args.seeds < 2:
            parser.error(
                f"argument --seeds: expected an integer >= 2; got {args.seeds}"
            )
        sizes = {**sizes, "seeds": dict.fromkeys(sizes["seeds"], args.seeds)}
    if args.rhos is not None:
        sizes = {**sizes, "rhos": dict.fromkeys(sizes["rhos"], args.rhos)}
    if args.sizes is not None:
        sizes = {**sizes, "sizes": args.sizes}
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.generator == "defaults":
        sizes = {**sizes, "table2": {**sizes["table2"], "generator_params": {}}}
    out = Path(args.out)  # made once every argument is known to be good
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    {"tables": tables, "scaling": scaling}[args.part](sizes, args.device, out)
    print(f"{args.part}: {time.perf_counter() - start:.0f} s; wrote into {out}")


if __name__ == "__main__":
    main()
