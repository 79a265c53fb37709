"""The command line's part for the active protocols: their flags and presets."""

import argparse
import math

__all__ = ["NOT_FLAGS", "active_presets", "add_active_options", "run", "runner_of"]

#: Parameters of run_active_protocol that no flag sets (Python only).
NOT_FLAGS = {"ensemble"}


def active_presets(networks, synthetic):
    """Return the presets of the active protocols: the paper protocols' sizes.

    Every strategy of a draw starts from one fitted ensemble, so a run costs about
    ``n_members * (1 + n_strategies * n_rounds)`` fits per draw.
    """
    sizes = ("full", "quick")
    return {
        **{
            (protocol, "synthetic"): {
                size: {**networks[size], **synthetic[size]} for size in sizes
            }
            for protocol in ("active-positivity", "active-confounding")
        },
        ("active-confounding", "hh-rlhf"): {size: networks[size] for size in sizes},
    }


def _budget(text):
    """``--budget``: a share of the training pairs (``0.1``) or a count (``200``)."""
    try:
        value = int(text)
        ok = value >= 1
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        ok = 0 < value <= 1  # False for NaN
    if not ok:
        raise argparse.ArgumentTypeError(
            f"expected a share of the training pairs in (0, 1] or a number of "
            f"labels >= 1; got {text!r}"
        )
    return value


def add_active_options(add, count, rho):
    """Add the flags of the active protocols with ``add`` (``add_argument``).

    ``count`` and ``rho`` are the argparse types of counts and of rho values.
    """
    add(
        "--budget",
        type=_budget,
        metavar="B",
        help="active-*: labels bought, a share of the training pairs (default 0.1) "
        "or a count",
    )
    for flag, text in [
        ("--n-rounds", "rounds the budget is spread over (default 4)"),
        ("--n-members", "members of each ensemble (default 5)"),
        ("--n-pool", "pairs in the pool (default: as many as training)"),
    ]:
        add(flag, type=count, metavar="N", help=f"active-*: {text}")
    add(
        "--pool-rho",
        type=rho,
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
        "skpref.experiments.default_strategies)",
    )


def runner_of(protocol, args):
    """Return the function that runs ``protocol``; stop if an active one goes to Dask.

    The rounds of an active run depend on each other, so it runs in this process
    only: ``--scheduler``/``--workers`` stop it before any work.
    """
    from skpref.experiments import run_protocol

    if protocol.runner is None:
        return run_protocol
    for name in ("scheduler", "workers"):
        if getattr(args, name, None) is not None:
            args.command_parser.error(
                f"argument --{name}: the {protocol.name} protocol runs in this "
                "process only (its rounds depend on each other); drop "
                "--scheduler/--workers."
            )
    return protocol.runner


def run(protocol, source, executor, settings):
    """Run a protocol: the paper's on ``executor`` (None: here), an active one here."""
    if protocol.runner is None:
        from skpref.experiments import run_protocol

        return run_protocol(protocol, source, executor=executor, **settings)
    return protocol.runner(protocol, source, **settings)
