"""``skpref evaluate MODEL --benchmark NAME``: a reward model's benchmark report."""

from pathlib import Path

from skpref._cli_args import COUNT, device, number

__all__ = ["add_evaluate_command", "evaluate"]


def add_evaluate_command(commands):
    """Add the ``evaluate`` command to the ``skpref`` sub-commands."""
    from skpref.evaluation import BENCHMARKS

    parser = commands.add_parser(
        "evaluate",
        help="score a reward model on RewardBench (v1, v2), RM-Bench or your own "
        "pairs, with intervals and the length ruler's scores",
    )
    add = parser.add_argument
    add(
        "model",
        metavar="MODEL",
        help="a Hugging Face reward model (folder or Hub id), a pipeline saved by "
        "skpref.save (a file), or 'length-ruler'",
    )
    add("--benchmark", choices=sorted(BENCHMARKS), required=True)
    add(
        "--data-files",
        nargs="+",
        metavar="FILE",
        help="local .parquet/.json/.jsonl[.gz] files in the official columns "
        "(default: download from the Hugging Face Hub)",
    )
    add(
        "--out",
        metavar="FILE",
        help="write the report: .html (self-contained, with the figure), .md or "
        ".csv (the scores table)",
    )
    add("--n-resamples", type=COUNT, default=1000, metavar="N", help="default 1000")
    add("--alpha", type=number(float, 0, closed=False, high=1), default=0.05)
    add("--random-state", type=number(int, 0), default=0, metavar="SEED")
    add(
        "--batch-size",
        type=COUNT,
        metavar="N",
        help="texts per forward pass of a Hugging Face model (default 8)",
    )
    add(
        "--max-length",
        type=COUNT,
        metavar="N",
        help="longest text of a Hugging Face model, in tokens (default 2048)",
    )
    add(
        "--device",
        type=device,
        help="torch device of a Hugging Face model or a saved pipeline",
    )
    add("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(command_parser=parser)


#: The flags that set how a Hugging Face model reads texts, by parameter.
_HF_FLAGS = {"batch_size": "--batch-size", "max_length": "--max-length"}


def _check_model_flags(args):
    """Stop on a flag the model would ignore: its scores would not be those asked.

    A saved pipeline embeds with the settings it was fitted with, and the length
    ruler runs no model.
    """
    if args.model == "length-ruler":
        flags, what = {**_HF_FLAGS, "device": "--device"}, "the length ruler"
    elif Path(args.model).is_file():
        flags, what = _HF_FLAGS, f"the saved pipeline {args.model!r}"
    else:
        return
    given = [flag for name, flag in flags.items() if getattr(args, name) is not None]
    if given:
        args.command_parser.error(
            f"argument {given[0]}: {what} does not use it (it sets how a Hugging "
            "Face reward model runs); drop it."
        )


def _scorer(args):
    from skpref.evaluation import HFRewardScorer, length_ruler

    if args.model == "length-ruler":
        return length_ruler
    path = Path(args.model)
    if path.is_file():
        from skpref import load

        return load(path, device=args.device)
    given = {name: getattr(args, name) for name in _HF_FLAGS}  # None: not given
    return HFRewardScorer(
        args.model,
        device=args.device,
        show_progress=not args.no_progress,
        **{name: value for name, value in given.items() if value is not None},
    )


def evaluate(args, out):
    """Run ``skpref evaluate``; print the scores; return the exit status."""
    from skpref.evaluation import evaluate as run
    from skpref.evaluation import load_benchmark

    parser = args.command_parser
    if args.out is not None and Path(args.out).suffix not in (".html", ".md", ".csv"):
        parser.error(
            f"argument --out: expected a .html, .md or .csv file; got {args.out}"
        )
    _check_model_flags(args)
    try:
        benchmark = load_benchmark(args.benchmark, args.data_files)
        report = run(
            _scorer(args),
            benchmark,
            n_resamples=args.n_resamples,
            alpha=args.alpha,
            random_state=args.random_state,
        )
    except (ValueError, FileNotFoundError, OSError) as err:
        parser.error(str(err))
    print(report.to_markdown(), file=out)
    if args.out is not None:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".html":
            path.write_text(report.to_html(), encoding="utf-8")
        elif path.suffix == ".md":
            path.write_text(report.to_markdown() + "\n", encoding="utf-8")
        else:
            report.scores.to_csv(path, index=False)
        print(f"\nwrote {path}", file=out)
    return 0
