"""The command line's output folder: checked first, and the checkpoint it holds.

``--output`` is created and written to once, before any work. ``skpref
reproduce`` keeps the rows of each draw in ``<output>/checkpoint/`` as soon as
it is trained (:func:`~skpref.experiments.run_protocol`'s ``checkpoint``). How
many draws are trained, and kept, together is ``--max-draws``; by default
(:class:`~skpref.experiments.VectorisedExecutor`'s ``max_draws="auto"``) the
whole run where the engine stacks the models (a GPU, small models: fastest),
else one draw at a time, where that costs nothing.
``--resume`` reads back the draws kept there with the same settings; without it
a run fits every draw again and replaces the files of its own draws, leaving
the others.
"""

import tempfile
from pathlib import Path

__all__ = ["FOLDER", "add_checkpoint_options", "check_output", "run"]

#: The checkpoint folder inside ``--output``.
FOLDER = "checkpoint"


def check_output(parser, output):
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


def add_checkpoint_options(parser):
    """Add ``--resume`` and ``--max-draws`` to a command."""
    from skpref._cli import _number  # skpref._cli imports this module

    parser.add_argument(
        "--resume",
        action="store_true",
        help=f"reuse the draws that an earlier run with the same settings kept in "
        f"<output>/{FOLDER}/ (every run keeps its draws there as they are trained)",
    )
    parser.add_argument(
        "--max-draws",
        type=_number(int, 0),
        metavar="N",
        help="draws trained together, kept together: what an interruption loses "
        "(default: the whole run where the models train stacked, else one draw; "
        "0: the whole run)",
    )


def _refuse(args, flags, why):
    """Stop on the first of ``flags`` (flag: value) that was given: ``why`` not."""
    for flag, value in flags.items():
        if value is not None and value is not False:  # 0 was given (0 == False)
            args.command_parser.error(f"argument {flag}: {why}")


def _settings(args, protocol, output, executor, settings, out):
    """Return the executor and runner settings of a checkpointed run."""
    folder = output / FOLDER
    kept = len(list(folder.glob(f"{protocol.name}-*.json")))
    if kept and not args.resume:
        print(
            f"{folder} holds {kept} draws of earlier {protocol.name} runs; this run "
            "fits every draw again (add --resume to reuse those with the same "
            "settings).",
            file=out,
        )
    settings = {**settings, "checkpoint": folder, "resume": args.resume}
    if protocol.runner is not None:  # an active run: one draw after another
        why = f"the {protocol.name} protocol trains one draw at a time; drop it."
        _refuse(args, {"--max-draws": args.max_draws}, why)
        return executor, settings
    if args.scheduler is not None or args.workers is not None:
        why = "on a cluster, its tasks set what is trained together; drop it."
        _refuse(args, {"--max-draws": args.max_draws}, why)
    if executor is None:
        from skpref.experiments import VectorisedExecutor

        chunk = "auto" if args.max_draws is None else args.max_draws or None
        executor = VectorisedExecutor(
            max_draws=chunk, show_progress=settings.get("show_progress", False)
        )
    return executor, settings


def run(args, protocol, source, executor, settings, output, out):
    """Run a protocol with the command's checkpoint; say how many draws it reused.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        What the protocol's runner returns.
    """
    from skpref import _cli_active

    executor, settings = _settings(args, protocol, output, executor, settings, out)
    result = _cli_active.run(protocol, source, executor, settings)
    kept = result.get("checkpoint")
    if kept is not None:
        print(
            f"checkpoint: reused {kept.reused} of {kept.reused + kept.fitted} draws "
            f"from {kept.folder}",
            file=out,
        )
    return result
