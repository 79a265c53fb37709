"""The ``skpref`` command line: argument parsing and the presets of each run.

``skpref reproduce PROTOCOL --data NAME`` runs
:func:`~skpref.experiments.run_protocol` on the registered data source ``NAME``;
each flag sets the parameter of the same name (``--n-train`` is ``n_train``) of
the source or of the runner, over the preset of ``(PROTOCOL, NAME)``. Bad flags
stop before any work, through argparse (exit status 2, a ``usage:`` line).
"""

import argparse
import contextlib
import dataclasses
import inspect
import math
import sys
import time

from skpref import _cli_active, _cli_distributed, _cli_output
from skpref.experiments import (
    PROTOCOLS,
    SOURCES,
    default_embedder,
    get_protocol,
    markdown_table,
)
from skpref.experiments._sources import source_class

__all__ = ["PRESETS", "build_parser", "main", "preset"]

#: Network sizes and repetitions of each preset, for every data source. "full"
#: keeps the paper's protocol (seeds, rhos, models, 10 epochs, batch 64,
#: best-validation weights) at sizes that fit about ten minutes on 2 CPU cores;
#: "quick" and "demo" shrink it further.
_NETWORKS = {
    "full": {"width": 128, "lr": 1e-3, "max_epochs": 10},
    "quick": {"width": 64, "lr": 2e-3, "max_epochs": 10, "n_seeds": 2},
    "demo": {"width": 32, "lr": 3e-3, "max_epochs": 8, "n_seeds": 1},
}
_SYNTHETIC = {
    "full": {"n_train": 2000, "n_test": 2000, "n_features": 32},
    "quick": {"n_train": 1000, "n_test": 1000, "n_features": 16},
    "demo": {"n_train": 600, "n_test": 600, "n_features": 16},
}
_DEMO_RHOS = {"latent-positivity": (0.0, 0.9), "confounding": (0.5, 0.8, 1.0)}

#: The settings of each (protocol, data) and preset, over the sources' defaults.
PRESETS = {
    **{
        (protocol, "synthetic"): {
            size: {
                **_NETWORKS[size],
                **_SYNTHETIC[size],
                **({"rhos": _DEMO_RHOS[protocol]} if size == "demo" else {}),
            }
            for size in _NETWORKS
        }
        for protocol in _DEMO_RHOS
    },
    ("confounding", "hh-rlhf"): {size: _NETWORKS[size] for size in ("full", "quick")},
    ("latent-positivity", "ultrafeedback"): {
        "full": _NETWORKS["full"],
        "quick": {**_NETWORKS["quick"], "n_train": 1000, "n_test": 1000},
    },
    **_cli_active.active_presets(_NETWORKS, _SYNTHETIC),
}
#: Parameters of run_protocol that no flag sets.
_NOT_FLAGS = {"protocol", "source", "executor", "show_progress", *_cli_active.NOT_FLAGS}
#: Flags of the command itself; every other flag sets a parameter.
_COMMAND_FLAGS = {
    "command",
    "command_parser",
    "protocol",
    "data",
    "output",
    "threads",
    "no_progress",
    "quick",
    "resume",
    "max_draws",
    "scheduler",
    "workers",
}
#: Flags that configure the embedder of a source with an ``embedder`` parameter.
_EMBEDDER_FLAGS = ("embedding_model", "embedding_cache", "max_length")


def preset(protocol, data, size):
    """Return the settings of a preset: the network sizes, then the data's.

    Examples
    --------
    >>> from skpref._cli import preset
    >>> preset("confounding", "hh-rlhf", "full")
    {'width': 128, 'lr': 0.001, 'max_epochs': 10}
    """
    return dict(PRESETS.get((protocol, data), {}).get(size, _NETWORKS[size]))


def _number(kind, low, *, closed=True, high=None):
    """Make an argparse ``type`` for a number in a range, saying so on errors."""
    words = {int: "an integer", float: "a number"}[kind]
    bound = (
        f"{'>=' if closed else '>'} {low}" if high is None else f"in [{low}, {high}]"
    )

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        ok = value is not None and math.isfinite(value)
        ok = ok and (value >= low if closed else value > low)
        if not ok or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {words} {bound}; got {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse


_COUNT = _number(int, 1)


def _device(text):
    """Check a ``--device`` with the models' device rule; keep it as written."""
    from skpref.utils import resolve_device

    try:
        resolve_device(text, owner="skpref", argument="--device")
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def build_parser():
    """Build the argument parser of the ``skpref`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
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
        choices=sorted(PROTOCOLS),
        help="latent-positivity: Table 1 (BTL, ID vs OOD); confounding: Tables 2-3 "
        "and Figure 6 (Base / Multihead / Adversarial)",
    )
    add = reproduce.add_argument
    add(
        "--data",
        choices=sorted({name for name, _ in SOURCES}),
        default="synthetic",
        help="synthetic generators (default, runs anywhere), the relabelled "
        "HH-RLHF test split with MiniLM reference embeddings (confounding), or "
        "UltraFeedback files (latent-positivity)",
    )
    add(
        "--data-path",
        dest="path",
        metavar="PATH",
        help="hh-rlhf: the data home holding hh_rlhf_relabeled_dpl/ and embeddings/; "
        "ultrafeedback: a .jsonl[.gz] file or folder (default: the data home's)",
    )
    add(
        "--embedding-model",
        metavar="PATH",
        help="ultrafeedback: model that embeds the texts (local folder, .gguf file or "
        "Hub id; default: the offline all-MiniLM-L6-v2)",
    )
    add(
        "--embedding-cache",
        metavar="DIR",
        help="ultrafeedback: embedding cache (default: <output>/embedding_cache)",
    )
    add(
        "--max-prompts",
        type=_COUNT,
        metavar="N",
        help="ultrafeedback: embed only N random prompts (and all their pairs)",
    )
    add(
        "--max-length",
        type=_COUNT,
        metavar="N",
        help="ultrafeedback: longest embedded text in tokens (default 256)",
    )
    add(
        "--seeds",
        dest="n_seeds",
        type=_COUNT,
        metavar="N",
        help="number of repetitions (>= 1; default: the paper's, 3 or 5); their "
        "seeds derive from --random-state",
    )
    add("--n-train", type=_COUNT, metavar="N", help="training pairs per run")
    add("--n-test", type=_COUNT, metavar="N", help="test pairs per test set")
    add("--width", type=_COUNT, metavar="W", help="network width (paper: 512)")
    add(
        "--lr", type=_number(float, 0, closed=False), help="learning rate (paper: 1e-4)"
    )
    add(
        "--epochs",
        dest="max_epochs",
        type=_COUNT,
        metavar="N",
        help="epochs (paper: 10)",
    )
    add(
        "--rhos",
        type=_number(float, -1, high=1),
        nargs="+",
        metavar="RHO",
        help="rho values (default: the paper's)",
    )
    _cli_active.add_active_options(add, _COUNT, _number(float, -1, high=1))
    add("--quick", action="store_true", help="fewer seeds, smaller data and networks")
    _common_options(reproduce)
    demo = commands.add_parser(
        "demo", help="a fast run of both protocols on synthetic data (< 1 minute)"
    )
    _common_options(demo)
    _cli_distributed.add_embed_command(commands)
    return parser


def _common_options(parser):
    add = parser.add_argument
    add(
        "--output",
        default="skpref-results",
        metavar="DIR",
        help="output folder, created if missing (default: ./skpref-results)",
    )
    add(
        "--device",
        type=_device,
        help="torch device of the models: auto, cpu, cuda, mps, cuda:1 "
        "(default: the models' default)",
    )
    add(
        "--threads",
        type=_COUNT,
        default=1,
        metavar="T",
        help="torch CPU threads (default 1: fastest on small shared machines)",
    )
    add(
        "--random-state",
        type=_number(int, 0),
        default=0,
        metavar="SEED",
        help="master seed (>= 0)",
    )
    add("--no-progress", action="store_true", help="hide the progress bars")
    _cli_output.add_checkpoint_options(parser)
    _cli_distributed.add_cluster_options(parser)
    parser.set_defaults(command_parser=parser)


def _flag(dest):
    names = {"path": "--data-path", "n_seeds": "--seeds", "max_epochs": "--epochs"}
    return names.get(dest, "--" + dest.replace("_", "-"))


def _plan(args, protocol_name, data, size, output):
    """Check the flags of one run; return its protocol, source and settings."""
    parser = args.command_parser
    protocol = get_protocol(protocol_name)
    try:
        cls = source_class(data, protocol)
    except ValueError as err:
        parser.error(f"argument --data: {err}")
    fields = {field.name for field in dataclasses.fields(cls)}
    runs = _cli_active.runner_of(protocol, args)  # active runs refuse a cluster
    runner = set(inspect.signature(runs).parameters) - _NOT_FLAGS
    used = fields | runner | (set(_EMBEDDER_FLAGS) if "embedder" in fields else set())
    given = {
        key: value
        for key, value in vars(args).items()
        if key not in _COMMAND_FLAGS and value is not None
    }
    unused = sorted(_flag(key) for key in given if key not in used)
    if unused:
        parser.error(
            f"argument {unused[0]}: not used by --data {data} in the "
            f"{protocol.name} protocol."
        )
    lo, hi = protocol.rho_range
    outside = [r for r in given.get("rhos", ()) if not lo <= r <= hi]
    if outside:
        parser.error(
            f"argument --rhos: the {protocol.name} protocol takes values in "
            f"[{lo}, {hi}]; got {outside[0]}."
        )
    settings = {**preset(protocol.name, data, size), **given}
    show_progress = not args.no_progress
    if "embedder" in fields:
        settings["embedder"] = default_embedder(
            settings.pop("embedding_model", None),
            max_length=settings.pop("max_length", 256),
            cache_dir=settings.pop("embedding_cache", output / "embedding_cache"),
            progress_bar=show_progress,
        )
    source = cls(**{key: value for key, value in settings.items() if key in fields})
    kwargs = {key: value for key, value in settings.items() if key in runner}
    return protocol, source, {**kwargs, "show_progress": show_progress}


@contextlib.contextmanager
def _torch_threads(n):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _report(out, tables, paths, wall):
    for title, table in tables.items():
        print(f"\n{title}\n", file=out)
        print(markdown_table(table), file=out)
    written = ", ".join(str(p) for p in paths.values())
    print(f"\nwall time {wall:.1f} s; wrote {written}", file=out)


def main(argv=None, *, out=None):
    """Run the ``skpref`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status (0 on success); bad flags and data exit with status 2
    and a message, before any model is fitted where they can be seen then.

    Examples
    --------
    >>> from skpref._cli import build_parser
    >>> build_parser().parse_args(["reproduce", "confounding", "--quick"]).quick
    True
    """
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    parser = args.command_parser
    if args.command == "embed":
        return _cli_distributed.embed(args, out)
    output = _cli_output.check_output(parser, args.output)
    if args.command == "demo":
        runs = [(name, "synthetic", "demo") for name in _DEMO_RHOS]
    else:
        runs = [(args.protocol, args.data, "quick" if args.quick else "full")]
    plans = [(*_plan(args, *run, output), run[2]) for run in runs]
    with (
        _torch_threads(args.threads),
        _cli_distributed.cluster_executor(args) as executor,
    ):
        import torch

        print(f"torch threads: {torch.get_num_threads()}; output: {output}", file=out)
        for protocol, source, kwargs, size in plans:
            start = time.perf_counter()
            try:
                result = _cli_output.run(
                    args, protocol, source, executor, kwargs, output, out
                )
            except (ValueError, FileNotFoundError, ModuleNotFoundError) as err:
                parser.error(str(err))
            wall = time.perf_counter() - start
            paths = protocol.write(
                result, output, wall_seconds=wall, extra={"preset": size}
            )
            _report(out, protocol.summarise(result), paths, wall)
    return 0
