"""The Hugging Face Hub settings every part of skpref reads alike."""

import os

__all__ = ["offline_mode"]

_TRUE = {"1", "on", "yes", "true"}


def offline_mode():
    """Return whether ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set.

    Read at call time, not at import time, so setting it in a running session
    works. The embedder (no model download) and the dataset fetchers (no data
    download) both ask it, so one setting keeps skpref off the network.

    Examples
    --------
    >>> from skpref.utils import offline_mode
    >>> isinstance(offline_mode(), bool)
    True
    """
    return any(
        os.environ.get(name, "").strip().lower() in _TRUE
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )
