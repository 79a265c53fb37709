"""The command line's part for the active protocols: their flags and presets."""

import argparse
import math

__all__ = ["ACTIVE_FLAG_NAMES", "NOT_FLAGS", "active_presets", "add_active_options"]

#: Flags whose name is not their parameter's.
ACTIVE_FLAG_NAMES = {"n_rounds": "--rounds", "n_members": "--members"}
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
    for flag, dest, text in [
        ("--rounds", "n_rounds", "rounds the budget is spread over (default 4)"),
        ("--members", "n_members", "members of each ensemble (default 5)"),
        ("--n-pool", "n_pool", "pairs in the pool (default: as many as training)"),
    ]:
        add(flag, dest=dest, type=count, metavar="N", help=f"active-*: {text}")
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
