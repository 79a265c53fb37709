"""The one rule that turns a ``device`` parameter into a torch device string.

Every component that runs torch (the reward models, the embedder, the ensembles)
resolves its ``device`` here, so ``"auto"`` means the same everywhere and a device
that this machine lacks is a clear error before any work starts, not an assertion
from inside torch.
"""

import torch

__all__ = ["resolve_device"]

_EXAMPLES = "'auto', 'cpu', 'cuda', 'cuda:1' or 'mps'"


def _mps_available():
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(device, *, owner, argument="device", here=True):
    """Return the torch device string for a ``device`` parameter.

    ``"auto"`` picks CUDA, then Apple's MPS, then the CPU. Any other value must name
    a device that torch can use on this machine.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` or a torch device such as ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or
        ``"mps"``.
    owner : str
        Name used in error messages (usually the estimator's class name).
    argument : str, default="device"
        Name of the parameter, used in error messages.
    here : bool, default=True
        Whether the device is for this machine. ``False`` (a device for the
        workers of a cluster) checks only that it is a device skpref supports,
        and returns it as written.

    Returns
    -------
    device : str
        A device string torch accepts, e.g. ``"cpu"`` or ``"cuda:0"``.

    Raises
    ------
    ValueError
        If ``device`` is not a torch device, or names one this machine lacks (no
        CUDA build or GPU, a GPU index past the last one, no MPS).

    Examples
    --------
    >>> resolve_device("cpu", owner="BTLRewardRegressor")
    'cpu'
    >>> resolve_device("gpu0", owner="BTLRewardRegressor")
    Traceback (most recent call last):
    ...
    ValueError: BTLRewardRegressor: device='gpu0' is not a torch device; use 'auto', \
'cpu', 'cuda', 'cuda:1' or 'mps'.
    """
    if isinstance(device, str) and device == "auto":
        if not here:
            return device
        if torch.cuda.is_available():
            return "cuda"
        if _mps_available():
            return "mps"
        return "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(
            f"{owner}: {argument}={device!r} is not a torch device; use {_EXAMPLES}."
        ) from None
    if parsed.type not in {"cpu", "cuda", "mps"}:
        raise ValueError(
            f"{owner}: {argument}={device!r} is a device type skpref does not "
            f"support; use {_EXAMPLES}."
        )
    if not here:  # the workers of a cluster check it where they run
        return str(parsed)
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            reason = (
                "this torch build has no CUDA support"
                if torch.version.cuda is None
                else "no CUDA GPU is visible"
            )
            raise ValueError(
                f"{owner}: {argument}={device!r} but {reason}; use "
                f"{argument}='auto' (the best device present) or 'cpu'."
            )
        count = torch.cuda.device_count()
        if parsed.index is not None and parsed.index >= count:
            raise ValueError(
                f"{owner}: {argument}={device!r} but this machine has {count} CUDA "
                f"device(s), numbered 0..{count - 1}."
            )
    elif parsed.type == "mps" and not _mps_available():
        raise ValueError(
            f"{owner}: {argument}={device!r} but MPS (Apple GPUs) is not available "
            f"here; use {argument}='auto' or 'cpu'."
        )
    return str(parsed)
