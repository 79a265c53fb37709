"""OpenBMB UltraFeedback: per-completion aspect scores and the pairs built from them."""

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

from skpref.datasets._home import _describe_home, _read_jsonl, get_data_home

__all__ = ["ASPECTS", "load_ultrafeedback"]

#: The four fine-grained aspects GPT-4 rated, each from 1 to 5 (or "N/A").
ASPECTS = ("instruction_following", "honesty", "truthfulness", "helpfulness")


def _rating(annotation, aspect, where):
    """Turn one aspect annotation into a float; "N/A" and missing become NaN."""
    if isinstance(annotation, list):  # some dumps wrap the annotation in a list
        annotation = annotation[0] if annotation else None
    if annotation is None:
        return math.nan
    if not isinstance(annotation, dict) or "Rating" not in annotation:
        raise ValueError(
            f"{where}: the {aspect!r} annotation must be an object with a 'Rating' "
            f"field, got {annotation!r:.80}."
        )
    rating = annotation["Rating"]
    if isinstance(rating, str) and rating.strip().upper() in {"N/A", "NA", ""}:
        return math.nan
    try:
        return float(rating)
    except (TypeError, ValueError):
        raise ValueError(
            f"{where}: the {aspect!r} rating must be a number (as a string) or "
            f"'N/A', got {rating!r}."
        ) from None


def _ultrafeedback_files(path, data_home, owner):
    if path is None:
        path = get_data_home(data_home) / "ultrafeedback"
        origin = f" (the folder ultrafeedback/ of {_describe_home(data_home)})"
    else:
        path, origin = Path(path).expanduser(), ""
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.name.endswith((".jsonl", ".jsonl.gz")) and ".cache" not in p.parts
        )
        if files:
            return files
        reason = f"the folder {path}{origin} holds no .jsonl or .jsonl.gz file"
    elif path.is_file():
        return [path]
    else:
        reason = f"{path}{origin} does not exist"
    raise FileNotFoundError(
        f"{owner}: {reason}. Give the path of an UltraFeedback .jsonl[.gz] file or "
        "of a folder of them; fetch_ultrafeedback() downloads openbmb/UltraFeedback "
        "into <data_home>/ultrafeedback."
    )


def load_ultrafeedback(path=None, *, data_home=None, random_state=0):
    r"""Load UltraFeedback in its raw OpenBMB format: completions and their pairs.

    Each record holds an ``instruction`` and its ``completions``; each completion
    has a ``response`` and ``annotations`` with GPT-4 ratings of four aspects,
    ``instruction_following``, ``honesty``, ``truthfulness`` and ``helpfulness``,
    stored as strings (``"4"``) or ``"N/A"``. This returns one row per completion
    with numeric scores, and every pair of completions of the same prompt with
    the per-aspect score differences: the ``(x, y, y', z, z')`` tuples of the
    paper's latent-positivity experiment (Table 1, Appendix D.2).

    Parameters
    ----------
    path : str, path-like or None, default=None
        A ``.jsonl`` or ``.jsonl.gz`` file, or a folder whose ``.jsonl[.gz]``
        files (searched recursively) are read in path order. ``None`` reads
        ``<data_home>/ultrafeedback/``, where :func:`fetch_ultrafeedback` puts
        the files.
    data_home : str or path-like, default=None
        Data folder used when ``path`` is None; see :func:`get_data_home`.
    random_state : int, RandomState instance or None, default=0
        Seed of the side shuffle of the pairs: for every pair of completions
        ``i < j`` of a prompt, a random half of all pairs (exactly ``n // 2``)
        puts completion ``j`` in the ``a`` position.

    Returns
    -------
    data : sklearn.utils.Bunch
        With the fields

        completions : pandas.DataFrame
            One row per completion: ``prompt_id`` (running number of the
            record), ``source``, ``instruction``, ``completion`` (position in
            the record), ``model``, ``response``, the four aspect scores as
            floats (NaN for "N/A"), and ``overall_score`` and
            ``fine_grained_score`` where the record has them (else NaN).
        pairs : pandas.DataFrame
            One row per unordered pair of completions of a prompt
            (``k (k - 1) / 2`` per prompt, 6 for the usual four): ``prompt_id``,
            ``instruction``, ``completion_a``/``completion_b`` (row labels in
            ``completions``), ``model_a``/``model_b``, ``response_a``/
            ``response_b``, and for each aspect ``<aspect>_a``, ``<aspect>_b``
            and ``delta_<aspect> = <aspect>_a - <aspect>_b`` (NaN where either
            score is "N/A"; drop those rows for the aspects you use).

    See Also
    --------
    fetch_ultrafeedback : Download the raw data from the Hugging Face Hub.

    Notes
    -----
    No label is made here: the paper labels a pair with a reward of the
    latent scores, ``r = 0.25 z_1 + 0.75 z_2`` (truthfulness, instruction
    following), which the experiment code computes from the ``delta_*``
    columns.

    References
    ----------
    Cui et al. (2024), "UltraFeedback: Boosting Language Models with Scaled AI
    Feedback", ICML.

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from skpref.datasets import load_ultrafeedback
    >>> def completion(text, ratings):
    ...     aspects = ["instruction_following", "honesty", "truthfulness",
    ...                "helpfulness"]
    ...     return {"model": "m", "response": text, "annotations": {
    ...         a: {"Rating": r, "Rationale": "..."} for a, r in zip(aspects, ratings)}}
    >>> record = {"source": "flan", "instruction": "Say hi.", "completions": [
    ...     completion("Hi!", ["5", "5", "5", "4"]),
    ...     completion("Bye.", ["1", "N/A", "3", "1"])]}
    >>> path = Path(tempfile.mkdtemp()) / "uf.jsonl"
    >>> _ = path.write_text(json.dumps(record) + "\n")
    >>> data = load_ultrafeedback(path, random_state=0)
    >>> data.completions["honesty"].tolist()
    [5.0, nan]
    >>> data.pairs[["response_a", "delta_instruction_following"]].values.tolist()
    [['Hi!', 4.0]]
    """
    owner = "load_ultrafeedback"
    rows = []
    prompt_id = 0
    for file in _ultrafeedback_files(path, data_home, owner):
        required = {"instruction": str, "completions": list}
        for line_number, record in _read_jsonl(file, owner=owner, required=required):
            where = f"{owner}: line {line_number} of {file}"
            for position, completion in enumerate(record["completions"]):
                rows.append(_completion_row(completion, where, position))
                rows[-1].update(
                    prompt_id=prompt_id,
                    source=record.get("source"),
                    instruction=record["instruction"],
                )
            prompt_id += 1
    columns = [
        "prompt_id",
        "source",
        "instruction",
        "completion",
        "model",
        "response",
        *ASPECTS,
        "overall_score",
        "fine_grained_score",
    ]
    completions = pd.DataFrame(rows, columns=columns)
    return Bunch(
        completions=completions,
        pairs=_completion_pairs(completions, random_state),
    )


def _completion_row(completion, where, position):
    if not isinstance(completion, dict) or not isinstance(
        completion.get("response"), str
    ):
        raise ValueError(
            f"{where}: completion {position} must be an object with a string "
            "'response' field and an 'annotations' object."
        )
    annotations = completion.get("annotations")
    if not isinstance(annotations, dict):
        raise ValueError(
            f"{where}: completion {position} has no 'annotations' object; expected "
            f"one with the aspects {list(ASPECTS)}."
        )
    row = {
        "completion": position,
        "model": completion.get("model"),
        "response": completion["response"],
        "overall_score": _float_or_nan(completion.get("overall_score")),
        "fine_grained_score": _float_or_nan(completion.get("fine-grained_score")),
    }
    for aspect in ASPECTS:
        row[aspect] = _rating(annotations.get(aspect), aspect, where)
    return row


def _float_or_nan(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _completion_pairs(completions, random_state):
    """Every unordered pair of completions of a prompt, sides shuffled."""
    first, second = [], []
    for indices in completions.groupby("prompt_id", sort=False).indices.values():
        for i, j in itertools.combinations(indices, 2):
            first.append(i)
            second.append(j)
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, np.int64)
    swap = check_random_state(random_state).permutation(len(first)) < len(first) // 2
    rows_a = np.where(swap, second, first)
    rows_b = np.where(swap, first, second)
    side_a = completions.iloc[rows_a].reset_index(drop=True)
    side_b = completions.iloc[rows_b].reset_index(drop=True)
    pairs = {
        "prompt_id": side_a["prompt_id"],
        "instruction": side_a["instruction"],
        "completion_a": completions.index[rows_a],
        "completion_b": completions.index[rows_b],
        "model_a": side_a["model"],
        "model_b": side_b["model"],
        "response_a": side_a["response"],
        "response_b": side_b["response"],
    }
    for aspect in ASPECTS:
        pairs[f"{aspect}_a"] = side_a[aspect]
        pairs[f"{aspect}_b"] = side_b[aspect]
        pairs[f"delta_{aspect}"] = side_a[aspect] - side_b[aspect]
    return pd.DataFrame(pairs)
