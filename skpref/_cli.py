"""The ``skpref`` command line: argument parsing and the presets of each run.

``skpref reproduce PROTOCOL --data NAME`` runs
:func:`~skpref.experiments.run_protocol` (or, for the active protocols,
:func:`~skpref.experiments.run_active_protocol`) on the data source ``NAME`` of
:data:`~skpref.experiments.SOURCES`; each flag sets the parameter of the same
name (``--n-train`` is ``n_train``) of the source or of the run, over the preset
of ``(PROTOCOL, NAME)``. Bad flags stop before any work, through argparse (exit
status 2, a ``usage:`` line). Every run keeps its draws in
``<output>/checkpoint/`` as they are trained; ``--resume`` reads them back.
"""

import argparse
import dataclasses
import inspect
import json
import sys
import tempfile
import time
from pathlib import Path

from skpref import _cli_distributed, _cli_evaluate, _cli_serve
from skpref._cli_args import (
    COUNT,
    budget,
    check_device_here,
    device,
    number,
    torch_threads,
)
from skpref.experiments import (
    PROTOCOLS,
    SOURCES,
    ActiveConfig,
    default_embedder,
    markdown_table,
    run_active_protocol,
    run_protocol,
    summarise,
    write_results,
)

__all__ = ["PRESETS", "build_parser", "main", "preset"]

#: The checkpoint folder inside ``--output``.
FOLDER = "checkpoint"
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
    # the active protocols: the paper protocols' sizes; every strategy of a draw
    # starts from one fitted ensemble, so a run costs about
    # n_members * (1 + n_strategies * n_rounds) fits per draw
    **{
        (protocol, "synthetic"): {
            size: {**_NETWORKS[size], **_SYNTHETIC[size]} for size in ("full", "quick")
        }
        for protocol in ("active-positivity", "active-confounding")
    },
    ("active-confounding", "hh-rlhf"): {
        size: _NETWORKS[size] for size in ("full", "quick")
    },
}
#: Parameters of the runs that no flag sets.
_NOT_FLAGS = {"protocol", "source", "executor", "max_draws", "checkpoint", "resume",
              "show_progress", "ensemble"}  # fmt: skip
#: Flags of the command itself; every other flag sets a parameter.
_COMMAND_FLAGS = {"command", "command_parser", "protocol", "data", "output", "threads",
                  "no_progress", "quick", "resume", "max_draws", "scheduler",
                  "workers"}  # fmt: skip
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


def _add_active_options(add):
    """Add the flags of the active protocols (fields of ActiveConfig)."""
    add(
        "--budget",
        type=budget,
        metavar="B",
        help="active-*: labels bought, a share of the training pairs (default 0.1) "
        "or a count",
    )
    for flag, text in [
        ("--n-rounds", "rounds the budget is spread over (default 4)"),
        ("--n-members", "members of each ensemble (default 5)"),
        ("--n-pool", "pairs in the pool (default: as many as training)"),
    ]:
        add(flag, type=COUNT, metavar="N", help=f"active-*: {text}")
    add(
        "--pool-rho",
        type=number(float, -1, high=1),
        metavar="RHO",
        help="active-*: the pool's rho: latent correlation of a synthetic pool "
        "(default 0), or its share of consistent pairs (default 0.5 synthetic; "
        "hh-rlhf: the pairs left as they come)",
    )
    add(
        "--strategies",
        nargs="+",
        metavar="NAME",
        help="active-*: query strategies to compare (default: all; see "
        "skpref.experiments.ActiveConfig)",
    )


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
        choices=sorted(SOURCES),
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
        type=COUNT,
        metavar="N",
        help="ultrafeedback: embed only N random prompts (and all their pairs)",
    )
    add(
        "--max-length",
        type=COUNT,
        metavar="N",
        help="ultrafeedback: longest embedded text in tokens (default 256)",
    )
    add(
        "--seeds",
        dest="n_seeds",
        type=COUNT,
        metavar="N",
        help="number of repetitions (>= 1; default: the paper's, 3 or 5); their "
        "seeds derive from --random-state",
    )
    add("--n-train", type=COUNT, metavar="N", help="training pairs per run")
    add("--n-test", type=COUNT, metavar="N", help="test pairs per test set")
    add("--width", type=COUNT, metavar="W", help="network width (paper: 512)")
    add("--lr", type=number(float, 0, closed=False), help="learning rate (paper: 1e-4)")
    add(
        "--epochs",
        dest="max_epochs",
        type=COUNT,
        metavar="N",
        help="epochs (paper: 10)",
    )
    add(
        "--rhos",
        type=number(float, -1, high=1),
        nargs="+",
        metavar="RHO",
        help="rho values (default: the paper's)",
    )
    _add_active_options(add)
    add("--quick", action="store_true", help="fewer seeds, smaller data and networks")
    _common_options(reproduce)
    demo = commands.add_parser(
        "demo", help="a fast run of both protocols on synthetic data (< 1 minute)"
    )
    _common_options(demo)
    _cli_distributed.add_embed_command(commands)
    _cli_serve.add_serve_command(commands)
    _cli_evaluate.add_evaluate_command(commands)
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
        type=device,
        help="torch device of the models: auto, cpu, cuda, mps, cuda:1 "
        "(default: the models' default)",
    )
    add(
        "--threads",
        type=COUNT,
        default=1,
        metavar="T",
        help="torch CPU threads (default 1: fastest on small shared machines)",
    )
    add(
        "--random-state",
        type=number(int, 0),
        default=0,
        metavar="SEED",
        help="master seed (>= 0)",
    )
    add("--no-progress", action="store_true", help="hide the progress bars")
    add(
        "--resume",
        action="store_true",
        help=f"reuse the draws that an earlier run with the same settings kept in "
        f"<output>/{FOLDER}/ (every run keeps its draws there as they are trained)",
    )
    add(
        "--max-draws",
        type=number(int, 0),
        metavar="N",
        help="draws trained together, kept together: what an interruption loses "
        "(default: one draw on the CPU, the whole run on an accelerator; 0: the "
        "whole run)",
    )
    _cli_distributed.add_cluster_options(parser)
    parser.set_defaults(command_parser=parser)


def _flag(dest):
    names = {"path": "--data-path", "n_seeds": "--seeds", "max_epochs": "--epochs"}
    return names.get(dest, "--" + dest.replace("_", "-"))


def _check_output(parser, output):
    """Make the output folder and write to it once, before any work."""
    path = Path(output).expanduser()
    if path.exists() and not path.is_dir():
        parser.error(
            f"argument --output: {output!r} is a file; expected a folder "
            "(created if missing). Choose another path."
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as err:
        parser.error(
            f"argument --output: cannot write to {str(path)!r} "
            f"({err.strerror or err}); choose a writable folder."
        )
    return path


def _refuse(args, flag, value, why):
    if value is not None:  # --max-draws 0 was given too
        args.command_parser.error(f"argument {flag}: {why}")


def _plan(args, protocol_name, data, size, output):
    """Check the flags of one run; return its protocol, source and settings."""
    parser = args.command_parser
    protocol = PROTOCOLS[protocol_name]
    fitting = sorted(
        name for name, cls in SOURCES.items() if protocol.side in cls.sides
    )
    if data not in fitting:
        parser.error(
            f"argument --data: The {data!r} data do not give the {protocol.side} of "
            f"each pair that the {protocol.name} protocol needs; its data: {fitting}."
        )
    cls = SOURCES[data]
    fields = {field.name for field in dataclasses.fields(cls)}
    if protocol.active:
        for name in ("scheduler", "workers"):  # its rounds depend on each other
            _refuse(args, f"--{name}", getattr(args, name), f"the {protocol.name} "
                    "protocol runs in this process only (its rounds depend on each "
                    "other); drop --scheduler/--workers.")  # fmt: skip
        why = f"the {protocol.name} protocol trains one draw at a time; drop it."
        _refuse(args, "--max-draws", args.max_draws, why)
        runner = {field.name for field in dataclasses.fields(ActiveConfig)}
    else:
        if args.scheduler is not None or args.workers is not None:
            why = "on a cluster, its tasks set what is trained together; drop it."
            _refuse(args, "--max-draws", args.max_draws, why)
        runner = set(inspect.signature(run_protocol).parameters)
    runner -= _NOT_FLAGS
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
    if "embedder" in fields:
        settings["embedder"] = default_embedder(
            settings.pop("embedding_model", None),
            max_length=settings.pop("max_length", 256),
            cache_dir=settings.pop("embedding_cache", output / "embedding_cache"),
            progress_bar=not args.no_progress,
        )
    source = cls(**{key: value for key, value in settings.items() if key in fields})
    return protocol, source, {k: v for k, v in settings.items() if k in runner}


def _kept_draws(folder, protocol):
    """How many draws the results files of ``protocol`` in ``folder`` hold."""
    n = 0
    for path in folder.glob(f"{protocol.name}-*.json"):
        try:
            n += len(json.loads(path.read_text(encoding="utf-8"))["chunks"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a damaged file: the run says so when it reads it
    return n


def _run(args, protocol, source, settings, executor, output, out):
    """Run one protocol with the command's checkpoint; say what it reused."""
    folder = output / FOLDER
    kept = _kept_draws(folder, protocol)
    if kept and not args.resume:
        print(
            f"{folder} holds {kept} draws of earlier {protocol.name} runs; this run "
            "fits every draw again (add --resume to reuse those with the same "
            "settings).",
            file=out,
        )
    common = {"checkpoint": folder, "resume": args.resume,
              "show_progress": not args.no_progress}  # fmt: skip
    if protocol.active:
        config = ActiveConfig(**settings)
        result = run_active_protocol(protocol, source, config, **common)
    else:
        max_draws = "auto" if args.max_draws is None else args.max_draws or None
        result = run_protocol(
            protocol, source, executor=executor, max_draws=max_draws, **common,
            **settings,
        )  # fmt: skip
    kept = result.checkpoint
    print(
        f"checkpoint: reused {kept.reused} of {kept.reused + kept.fitted} draws "
        f"from {folder}",
        file=out,
    )
    return result


def _note_replaced(out, output, result):
    """Say so when the results files of an earlier run are about to be replaced.

    Every run of a protocol on a data source writes the same file names (a demo,
    a --quick and a full run too): without a word, a one-minute demo would
    replace the tables of a long run.
    """
    path = output / f"{result.name}.json"
    if not path.exists():
        return
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
        what = f"{earlier['n_runs']} runs"
        if "preset" in earlier:
            what = f"preset {earlier['preset']!r}, {what}"
    except (OSError, ValueError, KeyError, TypeError):
        what = "unreadable"
    print(
        f"replacing the results of an earlier run in {output} ({path.name}: {what}); "
        f"its draws stay in {output / FOLDER} (run it again with --resume to "
        "write them back).",
        file=out,
    )


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
    check_device_here(args)
    if args.command == "embed":
        return _cli_distributed.embed(args, out)
    if args.command == "serve":
        return _cli_serve.serve(args, out)
    if args.command == "evaluate":
        return _cli_evaluate.evaluate(args, out)
    output = _check_output(parser, args.output)
    if args.command == "demo":
        runs = [(name, "synthetic", "demo") for name in _DEMO_RHOS]
    else:
        runs = [(args.protocol, args.data, "quick" if args.quick else "full")]
    try:  # a missing model package or a bad setting is a usage error, not a trace
        plans = [(*_plan(args, *run, output), run[2]) for run in runs]
    except (ValueError, FileNotFoundError, ModuleNotFoundError) as err:
        parser.error(str(err))
    with (
        torch_threads(args.threads),
        _cli_distributed.cluster_executor(args) as executor,
    ):
        import torch

        print(f"torch threads: {torch.get_num_threads()}; output: {output}", file=out)
        for protocol, source, settings, size in plans:
            start = time.perf_counter()
            try:
                result = _run(args, protocol, source, settings, executor, output, out)
            except (ValueError, FileNotFoundError, ModuleNotFoundError) as err:
                parser.error(str(err))
            wall = time.perf_counter() - start
            _note_replaced(out, output, result)
            paths = write_results(
                result, output, wall_seconds=wall, extra={"preset": size}
            )
            _report(out, summarise(result), paths, wall)
    return 0
