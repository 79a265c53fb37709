"""The ``skpref`` command line: reproduce the paper's experiments from one command."""

import argparse
import sys
import time
from pathlib import Path

__all__ = ["build_parser", "main"]

#: Sizes of the synthetic runs. "full" keeps the paper's protocol (seeds, rhos,
#: models, 10 epochs, batch 64, best-validation weights) at sizes that fit about
#: ten minutes on 2 CPU cores; "quick" and "demo" shrink it further.
PRESETS = {
    "full": {"n_train": 2000, "n_test": 2000, "n_features": 32, "width": 128,
             "lr": 1e-3, "max_epochs": 10},
    "quick": {"n_train": 1000, "n_test": 1000, "n_features": 16, "width": 64,
              "lr": 2e-3, "max_epochs": 10},
    "demo": {"n_train": 600, "n_test": 600, "n_features": 16, "width": 32,
             "lr": 3e-3, "max_epochs": 8},
}  # fmt: skip
#: Seeds of each protocol: the paper's, then the quick/demo ones.
SEEDS = {
    "latent-positivity": {"full": 3, "quick": 2, "demo": 1},
    "confounding": {"full": 5, "quick": 2, "demo": 1},
}
DEMO_RHOS = {"latent-positivity": (0.0, 0.9), "confounding": (0.5, 0.8, 1.0)}


def build_parser():
    """Build the argument parser of the ``skpref`` command."""
    parser = argparse.ArgumentParser(
        prog="skpref",
        description="Causal preference learning: reproduce the experiments of "
        "Kobalczyk & van der Schaar (ICML 2025).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    reproduce = commands.add_parser(
        "reproduce", help="run one protocol of the paper and write its results"
    )
    reproduce.add_argument(
        "protocol",
        choices=["latent-positivity", "confounding"],
        help="latent-positivity: Table 1 (BTL, ID vs OOD); confounding: Tables 2-3 "
        "and Figure 6 (Base / Multihead / Adversarial)",
    )
    reproduce.add_argument(
        "--data",
        choices=["synthetic", "hh-rlhf"],
        default="synthetic",
        help="synthetic generators (default, runs anywhere) or the relabelled "
        "HH-RLHF test split with MiniLM reference embeddings from the data home",
    )
    reproduce.add_argument(
        "--ultrafeedback",
        metavar="PATH",
        help="latent-positivity only: run Table 1 on this UltraFeedback .jsonl[.gz] "
        "file or folder (raw OpenBMB format) instead of synthetic data",
    )
    reproduce.add_argument(
        "--embedding-model",
        metavar="PATH",
        help="with --ultrafeedback: model that embeds the texts (local folder, "
        ".gguf file or Hub id; default: the offline all-MiniLM-L6-v2)",
    )
    reproduce.add_argument(
        "--embedding-cache",
        metavar="DIR",
        help="with --ultrafeedback: embedding cache folder (default: "
        "<output>/embedding_cache)",
    )
    reproduce.add_argument(
        "--max-prompts",
        type=int,
        help="with --ultrafeedback: embed only this many random prompts (and all "
        "their pairs), to bound the embedding time on a CPU",
    )
    reproduce.add_argument(
        "--max-length",
        type=int,
        default=256,
        help="with --ultrafeedback: longest embedded text in tokens (default 256)",
    )
    reproduce.add_argument("--seeds", type=int, help="number of seeds")
    reproduce.add_argument("--n-train", type=int, help="training pairs per run")
    reproduce.add_argument("--n-test", type=int, help="test pairs per test set")
    reproduce.add_argument("--width", type=int, help="network width (paper: 512)")
    reproduce.add_argument("--lr", type=float, help="learning rate (paper: 1e-4)")
    reproduce.add_argument("--epochs", type=int, help="epochs (paper: 10)")
    reproduce.add_argument(
        "--rhos", type=float, nargs="+", help="rho values (default: the paper's)"
    )
    reproduce.add_argument(
        "--quick", action="store_true", help="fewer seeds, smaller data and networks"
    )
    _common_options(reproduce)
    demo = commands.add_parser(
        "demo", help="a fast run of both protocols on synthetic data (< 1 minute)"
    )
    _common_options(demo)
    return parser


def _common_options(parser):
    parser.add_argument(
        "--output",
        default="skpref-results",
        help="output folder (default: ./skpref-results)",
    )
    parser.add_argument("--data-home", help="data folder (default: the data home)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: fastest on small shared machines)",
    )
    parser.add_argument("--random-state", type=int, default=0, help="master seed")
    parser.add_argument(
        "--no-progress", action="store_true", help="hide the progress bars"
    )


def _settings(args, protocol, preset):
    settings = dict(PRESETS[preset])
    if args.command == "reproduce":
        for key, value in (
            ("n_train", args.n_train),
            ("n_test", args.n_test),
            ("width", args.width),
            ("lr", args.lr),
            ("max_epochs", args.epochs),
        ):
            if value is not None:
                settings[key] = value
        seeds = args.seeds or SEEDS[protocol][preset]
        rhos = args.rhos
    else:
        seeds, rhos = SEEDS[protocol][preset], DEMO_RHOS[protocol]
    settings["n_seeds"] = seeds
    if rhos is not None:
        settings["rhos"] = tuple(rhos)
    settings["random_state"] = args.random_state
    settings["show_progress"] = not args.no_progress
    return settings


def _run_latent(args, preset, output, out):
    from skpref.experiments import run_latent_positivity

    if getattr(args, "ultrafeedback", None):
        return _run_latent_ultrafeedback(args, preset, output, out)
    if getattr(args, "data", "synthetic") != "synthetic":
        raise SystemExit(
            "skpref reproduce latent-positivity runs on synthetic data only in this "
            "version: the relabelled HH-RLHF data have no latent factor scores. Use "
            "--data synthetic, or --ultrafeedback PATH for the real-data run."
        )
    start = time.perf_counter()
    result = run_latent_positivity(**_settings(args, "latent-positivity", preset))
    wall = time.perf_counter() - start
    title = "Table 1: test accuracy [%] of the BTL model, ID vs OOD"
    return _write_latent(result, "", title, preset, output, out, wall)


def _write_latent(result, suffix, title, preset, output, out, wall):
    """Write and report the outputs of a latent-positivity run (Table 1, Fig. 7)."""
    from skpref.experiments import (
        plot_delta_plane,
        summarise_latent_positivity,
        write_results,
    )

    tables = {title: summarise_latent_positivity(result.runs)}
    paths = write_results(output, f"latent_positivity{suffix}", result, tables,
                          wall_seconds=wall, extra={"preset": preset})  # fmt: skip
    paths["figure"] = plot_delta_plane(
        result.deltas, result.runs, result.alpha,
        output / f"figure7_delta_plane{suffix}.png",
    )  # fmt: skip
    _report(out, tables, paths, wall)
    return result


def _run_latent_ultrafeedback(args, preset, output, out):
    from skpref.experiments import run_latent_positivity_ultrafeedback

    settings = _settings(args, "latent-positivity", preset)
    settings.pop("n_features")
    cache = args.embedding_cache or output / "embedding_cache"
    start = time.perf_counter()
    result = run_latent_positivity_ultrafeedback(
        args.ultrafeedback, embedding_model=args.embedding_model, cache_dir=cache,
        max_length=args.max_length, max_prompts=args.max_prompts, **settings,
    )  # fmt: skip
    wall = time.perf_counter() - start
    title = "Table 1 (UltraFeedback): test accuracy [%] of the BTL model, ID vs OOD"
    return _write_latent(result, "_ultrafeedback", title, preset, output, out, wall)


def _run_confounding(args, preset, output, out):
    from skpref.experiments import (
        plot_accuracy_vs_rho,
        run_confounding,
        summarise_confounding,
        write_results,
    )

    data = getattr(args, "data", "synthetic")
    settings = _settings(args, "confounding", preset)
    if data == "hh-rlhf":
        settings.pop("n_features")
        if args.n_train is None:
            settings["n_train"] = 1400
        if args.n_test is None:
            settings["n_test"] = None
        settings["data_home"] = args.data_home
    start = time.perf_counter()
    result = run_confounding(data=data, **settings)
    wall = time.perf_counter() - start
    tables = {
        "Table 2: test accuracy [%]": summarise_confounding(result.runs, "test"),
        "Table 3: training accuracy [%]": summarise_confounding(result.runs, "train"),
    }
    name = "confounding" if data == "synthetic" else f"confounding_{data}"
    paths = write_results(output, name, result, tables, wall_seconds=wall,
                          extra={"preset": preset})  # fmt: skip
    paths["figure"] = plot_accuracy_vs_rho(result.runs, output / f"figure6_{name}.png")
    _report(out, tables, paths, wall)
    return result


def _report(out, tables, paths, wall):
    from skpref.experiments import markdown_table

    for title, table in tables.items():
        print(f"\n{title}\n", file=out)
        print(markdown_table(table), file=out)
    written = ", ".join(str(p) for p in paths.values())
    print(f"\nwall time {wall:.1f} s; wrote {written}", file=out)


def main(argv=None, *, out=None):
    """Run the ``skpref`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status (0 on success).

    Examples
    --------
    >>> from skpref._cli import build_parser
    >>> build_parser().parse_args(["reproduce", "confounding", "--quick"]).quick
    True
    """
    import torch

    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    print(f"torch threads: {torch.get_num_threads()}; output: {output}", file=out)
    if args.command == "demo":
        _run_latent(args, "demo", output, out)
        _run_confounding(args, "demo", output, out)
        return 0
    preset = "quick" if args.quick else "full"
    if args.protocol == "latent-positivity":
        _run_latent(args, preset, output, out)
    elif args.ultrafeedback:
        raise SystemExit(
            "skpref reproduce confounding does not use --ultrafeedback: UltraFeedback "
            "is the real data of latent-positivity (Table 1). Drop --ultrafeedback "
            "or run 'skpref reproduce latent-positivity --ultrafeedback PATH'."
        )
    else:
        _run_confounding(args, preset, output, out)
    return 0
