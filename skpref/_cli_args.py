"""Argument types of the ``skpref`` command line, shared by its commands."""

import argparse
import contextlib
import math

__all__ = ["COUNT", "budget", "check_device_here", "device", "number", "torch_threads"]


def number(kind, low, *, closed=True, high=None):
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


COUNT = number(int, 1)


def device(text):
    """Check that ``--device`` is a device skpref supports; keep it as written.

    Whether the machine has it is for :func:`check_device_here`: the workers of
    a ``--scheduler`` cluster may have a GPU that the machine running the
    command lacks.
    """
    from skpref.utils import resolve_device

    try:
        resolve_device(text, owner="skpref", argument="--device", here=False)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def check_device_here(args):
    """Stop, through argparse, on a ``--device`` this machine lacks.

    Unless the work runs on the workers of a ``--scheduler`` cluster, which
    check their own device.
    """
    from skpref.utils import resolve_device

    device = getattr(args, "device", None)
    if device is None or getattr(args, "scheduler", None) is not None:
        return
    try:
        resolve_device(device, owner="skpref", argument="--device")
    except ValueError as err:
        args.command_parser.error(f"argument --device: {err}")


def budget(text):
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


@contextlib.contextmanager
def torch_threads(n):
    """Run a block with ``n`` torch CPU threads; restore the number after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
