"""Downloads from the Hugging Face Hub into the data home (no network at import)."""

from skpref.datasets._hh_rlhf import HH_RLHF_SUBSETS, SPLITS, load_hh_rlhf
from skpref.datasets._home import _check_option, get_data_home
from skpref.datasets._ultrafeedback import load_ultrafeedback
from skpref.utils import offline_mode

__all__ = ["fetch_hh_rlhf", "fetch_ultrafeedback"]

HH_RLHF_REPO = "Anthropic/hh-rlhf"
ULTRAFEEDBACK_REPO = "openbmb/UltraFeedback"
# written into ultrafeedback/ once snapshot_download has returned
ULTRAFEEDBACK_MARKER = ".skpref_complete"


def _hub():
    # imported here so that importing skpref never touches huggingface_hub
    import huggingface_hub

    return huggingface_hub


def fetch_hh_rlhf(subset="helpful-base", split="train", *, data_home=None, **kwargs):
    """Download an HH-RLHF file from the Hugging Face Hub, then load it.

    The file ``<subset>/<split>.jsonl.gz`` of the dataset ``Anthropic/hh-rlhf`` is
    stored as ``<data_home>/hh_rlhf/<subset>/<split>.jsonl.gz``, the layout
    :func:`load_hh_rlhf` reads; a file already there is not downloaded again.

    Parameters
    ----------
    subset : str, default="helpful-base"
        HH-RLHF subset: "helpful-base", "harmless-base", "helpful-online" or
        "helpful-rejection-sampled".
    split : {"train", "test"}, default="train"
        Which split.
    data_home : str or path-like, default=None
        Data folder (created if needed); see :func:`get_data_home`.
    **kwargs
        Passed on to :func:`load_hh_rlhf` (``shuffle_sides``, ``random_state``,
        ``irregular``, ``embeddings``).

    Returns
    -------
    frame : pandas.DataFrame
        As returned by :func:`load_hh_rlhf`.

    Examples
    --------
    >>> from skpref.datasets import fetch_hh_rlhf
    >>> frame = fetch_hh_rlhf("helpful-base", "test")  # doctest: +SKIP
    """
    owner = "fetch_hh_rlhf"
    _check_option(subset, HH_RLHF_SUBSETS, name="subset", owner=owner)
    _check_option(split, SPLITS, name="split", owner=owner)
    folder = get_data_home(data_home) / "hh_rlhf"
    if not (folder / subset / f"{split}.jsonl.gz").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        _hub().hf_hub_download(
            HH_RLHF_REPO,
            f"{subset}/{split}.jsonl.gz",
            repo_type="dataset",
            local_dir=folder,
        )
    return load_hh_rlhf(subset, split, data_home=data_home, **kwargs)


def fetch_ultrafeedback(*, data_home=None, **kwargs):
    """Download the raw OpenBMB UltraFeedback data from the Hub, then load it.

    The JSON-lines files of ``openbmb/UltraFeedback`` are stored in
    ``<data_home>/ultrafeedback/``. A download that finishes leaves the marker
    file ``ultrafeedback/.skpref_complete``; while it is there nothing is
    downloaded again (offline too). Without it, an interrupted download for
    instance, ``huggingface_hub.snapshot_download`` runs again: it keeps the
    files already complete and resumes the others. With ``HF_HUB_OFFLINE=1`` a
    folder without the marker is an error rather than a partial dataset.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Data folder (created if needed); see :func:`get_data_home`.
    **kwargs
        Passed on to :func:`load_ultrafeedback` (``random_state``).

    Returns
    -------
    data : sklearn.utils.Bunch
        As returned by :func:`load_ultrafeedback`.

    Examples
    --------
    >>> from skpref.datasets import fetch_ultrafeedback
    >>> data = fetch_ultrafeedback()  # doctest: +SKIP
    """
    folder = get_data_home(data_home) / "ultrafeedback"
    marker = folder / ULTRAFEEDBACK_MARKER
    if not marker.is_file():
        # any .jsonl file is not enough: an interrupted download leaves some
        if offline_mode():
            raise FileNotFoundError(
                f"fetch_ultrafeedback found no finished download in {folder} (no "
                f"{ULTRAFEEDBACK_MARKER} file) and offline mode is on "
                "(HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE), so it cannot download "
                "the rest. Run it once with network access, or, "
                "if the folder holds a complete copy you put there yourself, read "
                f"it with load_ultrafeedback({str(folder)!r})."
            )
        folder.mkdir(parents=True, exist_ok=True)
        _hub().snapshot_download(
            ULTRAFEEDBACK_REPO,
            repo_type="dataset",
            local_dir=folder,
            allow_patterns=["*.jsonl", "*.jsonl.gz"],
        )
        marker.write_text(f"{ULTRAFEEDBACK_REPO}\n", encoding="utf-8")
    return load_ultrafeedback(folder, **kwargs)
