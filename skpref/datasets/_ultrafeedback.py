"""OpenBMB UltraFeedback: per-completion aspect scores and the pairs built from them."""

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

from skpref.datasets._home import (
    _check_option,
    _describe_home,
    _read_jsonl,
    get_data_home,
)
from skpref.datasets._pairs import pair_frame, side_swaps

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


def load_ultrafeedback(
    path=None, *, data_home=None, random_state=0, reward_weights=None, ties="random"
):
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
        puts completion ``j`` in the ``a`` position; then of the coin flips
        that break ties (``ties="random"``).
    reward_weights : dict of str to float or None, default=None
        Label the pairs with the reward ``r = sum_k w_k z_k`` of the aspect
        scores ``z_k`` (aspect name to weight ``w_k``; the paper's label is
        ``{"truthfulness": 0.25, "instruction_following": 0.75}``). Pairs with
        "N/A" in a weighted aspect on either side are then dropped. None: no
        label.
    ties : {"random", "keep"}, default="random"
        Label of a pair whose two rewards are equal (``np.isclose``):
        ``"random"`` a seeded coin flip (0 or 1), ``"keep"`` the soft label
        ``0.5`` (no preference), for reward models that take soft labels.

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
            score is "N/A"; drop those rows for the aspects you use). The
            instruction is also the column ``prompt``, so the pairs hold the
            ``prompt / response_a / response_b`` columns the embedder reads.
            With ``reward_weights``: ``reward_delta`` (``r(a) - r(b)``),
            ``tie`` (bool) and ``label`` (1 if a is preferred, 0 if b; 0.5 on
            ties with ``ties="keep"``, so the column is float there).

    See Also
    --------
    fetch_ultrafeedback : Download the raw data from the Hugging Face Hub.

    Notes
    -----
    The paper labels a pair with a reward of the latent scores,
    ``r = 0.25 z_1 + 0.75 z_2`` (truthfulness, instruction following), with
    ties broken at random (Appendix D.2); ``reward_weights`` makes that label,
    and ``ties="keep"`` keeps the ties as ``0.5`` instead.

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
    >>> weights = {"truthfulness": 0.5, "helpfulness": 0.5}
    >>> load_ultrafeedback(path, reward_weights=weights).pairs["label"].tolist()
    [1]
    """
    owner = "load_ultrafeedback"
    _check_option(ties, ("random", "keep"), name="ties", owner=owner)
    weights = _check_weights(reward_weights, owner)
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
    rng = check_random_state(random_state)
    pairs = _completion_pairs(completions, rng)
    if weights is not None:
        pairs = _label_pairs(pairs, weights, ties, rng)
    return Bunch(completions=completions, pairs=pairs)


def _check_weights(reward_weights, owner):
    if reward_weights is None:
        return None
    if not isinstance(reward_weights, dict) or not reward_weights:
        raise ValueError(
            f"{owner} expects reward_weights as a non-empty dict of aspect name to "
            "weight, e.g. {'truthfulness': 0.25, 'instruction_following': 0.75}; "
            f"got {reward_weights!r}."
        )
    for aspect, weight in reward_weights.items():
        _check_option(aspect, ASPECTS, name="each key of reward_weights", owner=owner)
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ValueError(
                f"{owner} expects a number as the weight of {aspect!r} in "
                f"reward_weights; got {weight!r}."
            )
    return dict(reward_weights)


def _label_pairs(pairs, weights, ties, rng):
    """Keep the pairs rated on every weighted aspect; label them by the reward."""
    kept = pairs.dropna(subset=[f"delta_{aspect}" for aspect in weights])
    reward_delta = sum(w * kept[f"delta_{a}"] for a, w in weights.items())
    tie = np.isclose(reward_delta.to_numpy(dtype=float), 0.0)
    if ties == "keep":
        label = np.where(tie, 0.5, (reward_delta.to_numpy() > 0).astype(float))
    else:
        label = (reward_delta.to_numpy() > 0).astype(np.int64)
        label[tie] = rng.randint(0, 2, size=int(tie.sum()))
    return kept.assign(reward_delta=reward_delta, tie=tie, label=label)


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


def _completion_pairs(completions, rng):
    """Every unordered pair of completions of a prompt, sides shuffled."""
    first, second = [], []
    for indices in completions.groupby("prompt_id", sort=False).indices.values():
        for i, j in itertools.combinations(indices, 2):
            first.append(i)
            second.append(j)
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, np.int64)
    swap = side_swaps(len(first), True, rng)
    rows_a = np.where(swap, second, first)
    rows_b = np.where(swap, first, second)
    side_a = completions.iloc[rows_a].reset_index(drop=True)
    side_b = completions.iloc[rows_b].reset_index(drop=True)
    texts = pair_frame(
        completions["instruction"].to_numpy()[first],
        completions["response"].to_numpy()[first],
        completions["response"].to_numpy()[second],
        swap,
        index=side_a.index,
    )
    pairs = {
        "prompt_id": side_a["prompt_id"],
        "instruction": side_a["instruction"],
        "completion_a": completions.index[rows_a],
        "completion_b": completions.index[rows_b],
        "model_a": side_a["model"],
        "model_b": side_b["model"],
        "prompt": texts["prompt"],
        "response_a": texts["response_a"],
        "response_b": texts["response_b"],
    }
    for aspect in ASPECTS:
        pairs[f"{aspect}_a"] = side_a[aspect]
        pairs[f"{aspect}_b"] = side_b[aspect]
        pairs[f"delta_{aspect}"] = side_a[aspect] - side_b[aspect]
    return pd.DataFrame(pairs)
