"""Reward-model benchmarks in one shape: prompt, chosen list, rejected list, subset.

``load_benchmark`` reads RewardBench (v1, its ``filtered`` split), RewardBench 2,
RM-Bench and any preference frame the library reads (``"pairs"``), from the
Hugging Face Hub or from local files in the official columns.
"""

import dataclasses
import difflib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from skpref.evaluation._constants import HUB_DATASETS, RM_BENCH_STYLES

__all__ = ["BENCHMARKS", "Benchmark", "load_benchmark"]

#: The official columns each benchmark needs.
BENCHMARKS = {
    "rewardbench": ("prompt", "chosen", "rejected", "subset", "id"),
    "rewardbench2": ("prompt", "chosen", "rejected", "num_correct", "subset", "id"),
    "rm-bench": ("prompt", "chosen", "rejected", "domain", "id"),
    "pairs": (),
}


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """A benchmark: one row per example, every response list explicit.

    Parameters
    ----------
    name : str
        One of ``BENCHMARKS``: it picks the official scoring.
    examples : pandas.DataFrame
        Columns ``id`` (unique str), ``subset``, ``prompt`` (str or a
        conversation), ``chosen`` and ``rejected`` (lists of responses: one each
        for RewardBench and pairs, ``num_correct`` and the rest for RewardBench 2,
        the three styles of ``RM_BENCH_STYLES`` for RM-Bench).

    Examples
    --------
    >>> from skpref.evaluation import load_benchmark
    >>> bench = load_benchmark("pairs", [{"prompt": "2+2?", "chosen": "4",
    ...                                   "rejected": "5"}])
    >>> bench.name, bench.examples.loc[0, "chosen"], len(bench)
    ('pairs', ['4'], 1)
    """

    name: str
    examples: pd.DataFrame

    def __len__(self):
        return len(self.examples)

    @property
    def subsets(self):
        """The subsets, in order of first appearance."""
        return list(dict.fromkeys(self.examples["subset"]))


def _read_files(data_files, owner):
    paths = [data_files] if isinstance(data_files, str | Path) else list(data_files)
    frames = []
    for path in map(Path, paths):
        if not path.is_file():
            raise FileNotFoundError(f"{owner}: no file at {path}.")
        suffixes = [s.lower() for s in path.suffixes]
        if ".parquet" in suffixes:
            frames.append(pd.read_parquet(path))
        elif ".jsonl" in suffixes or ".json" in suffixes:
            frames.append(_read_json(path))
        else:
            raise ValueError(
                f"{owner} reads .parquet, .json and .jsonl[.gz] files; got {path}."
            )
    return pd.concat(frames, ignore_index=True)


def _read_json(path):
    try:
        return pd.read_json(path, lines=True, dtype=False)
    except ValueError:  # a JSON array, as RM-Bench's total_dataset.json
        return pd.read_json(path, dtype=False)


def _from_hub(name, split, owner):
    repo, default_split = HUB_DATASETS[name]
    split = split or default_split
    try:
        import datasets

        data = datasets.load_dataset(repo, split=split)
    except Exception as err:  # offline, no datasets package, a moved repository
        raise ValueError(
            f"{owner} could not load {repo!r} (split {split!r}) from the Hugging "
            f"Face Hub ({type(err).__name__}: {err}). Download its files and pass "
            "them as data_files=[...] (parquet or JSON lines in the official "
            "columns)."
        ) from err
    return data.to_pandas()


def _require(frame, columns, name, owner):
    missing = [c for c in columns if c not in frame.columns]
    if not missing:
        return
    present = [str(c) for c in frame.columns]
    hints = []
    for column in missing:
        close = difflib.get_close_matches(column, present, n=1)
        if close:
            hints.append(f"{close[0]!r} for {column!r}")
    hint = f" Did you mean {', '.join(hints)}?" if hints else ""
    raise ValueError(
        f"{owner}: the {name!r} benchmark needs the columns {list(columns)}; "
        f"{missing} are missing from the columns {present}.{hint}"
    )


def _as_list(value, where, column, owner):
    if isinstance(value, str):
        return [value]
    if isinstance(value, np.ndarray | list | tuple):
        items = list(value)
        if all(isinstance(item, str) for item in items):
            return items
    raise ValueError(
        f"{owner}: {column!r} at {where} must be a response (str) or a list of "
        f"them; got {type(value).__name__}."
    )


def _response_lists(frame, owner, *, name):
    ids = frame["id"].astype(str)
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        raise ValueError(
            f"{owner}: the id {duplicated.iloc[0]!r} appears more than once; every "
            "example needs its own id."
        )
    lists = {}
    for column in ("chosen", "rejected"):
        lists[column] = [
            _as_list(value, f"id {i!r}", column, owner)
            for i, value in zip(ids, frame[column], strict=True)
        ]
        for i, items in zip(ids, lists[column], strict=True):
            if not items:
                raise ValueError(
                    f"{owner}: {column!r} is empty at id {i!r}; every example needs "
                    f"at least one {column} response."
                )
            if name == "rm-bench" and len(items) != len(RM_BENCH_STYLES):
                raise ValueError(
                    f"{owner}: RM-Bench has {len(RM_BENCH_STYLES)} {column} responses "
                    f"per example ({', '.join(RM_BENCH_STYLES)}); got {len(items)} at "
                    f"id {i!r}."
                )
    return ids, lists


def _official(frame, name, owner):
    _require(frame, BENCHMARKS[name], name, owner)
    ids, lists = _response_lists(frame, owner, name=name)
    subset = frame["domain" if name == "rm-bench" else "subset"].astype(str)
    if name == "rewardbench":
        for i, c, r in zip(ids, lists["chosen"], lists["rejected"], strict=True):
            if len(c) != 1 or len(r) != 1:
                raise ValueError(
                    f"{owner}: RewardBench v1 has one chosen and one rejected "
                    f"response per example; got lists at id {i!r}. Use "
                    "'rewardbench2' for lists."
                )
    if name == "rewardbench2":
        for i, c, k in zip(ids, lists["chosen"], frame["num_correct"], strict=True):
            if int(k) != len(c):
                raise ValueError(
                    f"{owner}: num_correct is {k} at id {i!r} but 'chosen' holds "
                    f"{len(c)} responses; they must agree."
                )
    return pd.DataFrame(
        {
            "id": ids.to_numpy(),
            "subset": subset.to_numpy(),
            "prompt": frame["prompt"].to_numpy(),
            "chosen": lists["chosen"],
            "rejected": lists["rejected"],
        }
    )


def _pairs_frame(data, owner):
    if isinstance(data, str | Path) or (
        isinstance(data, list | tuple) and data and isinstance(data[0], str | Path)
    ):
        return _read_files(data, owner)
    if isinstance(data, list | tuple) and all(isinstance(r, dict) for r in data):
        return pd.DataFrame(list(data))
    if hasattr(data, "to_pandas") and not isinstance(data, pd.DataFrame):
        return data.to_pandas()  # a datasets.Dataset
    if not isinstance(data, pd.DataFrame):
        raise ValueError(
            f"{owner}: 'pairs' takes files, a DataFrame, a list of dicts or a "
            f"datasets.Dataset; got {type(data).__name__}."
        )
    return data


def _pairs(data, owner):
    from skpref.datasets import preference_pairs

    frame = _pairs_frame(data, owner).reset_index(drop=True)
    loaded = {"response_a", "response_b", "label"} <= set(frame.columns)
    a, b = ("response_a", "response_b") if loaded else ("chosen", "rejected")
    if a in frame.columns and b in frame.columns:
        equal = np.array([x == y for x, y in zip(frame[a], frame[b], strict=True)])
        if equal.any():
            warnings.warn(
                f"{owner}: dropped {equal.sum()} of {len(frame)} pairs whose two "
                "responses are equal (they hold no preference).",
                UserWarning,
                stacklevel=3,
            )
            frame = frame[~equal].reset_index(drop=True)
    if loaded:  # the frame of load_hh_rlhf
        X, a_chosen = frame, frame["label"].to_numpy() == 1
    else:  # chosen/rejected text or conversations, explicit or implicit prompt
        X, y = preference_pairs(frame, random_state=0)
        a_chosen = y.to_numpy() == 1
    a, b = X["response_a"].tolist(), X["response_b"].tolist()
    chosen = [[x] if k else [z] for x, z, k in zip(a, b, a_chosen, strict=True)]
    rejected = [[z] if k else [x] for x, z, k in zip(a, b, a_chosen, strict=True)]
    ids = frame["id"] if "id" in frame.columns else pd.Series(frame.index)
    subset = frame["subset"] if "subset" in frame.columns else "pairs"
    examples = pd.DataFrame(
        {
            "id": ids.astype(str).to_numpy(),
            "subset": np.broadcast_to(np.asarray(subset, dtype=object), len(X)),
            "prompt": X["prompt"].to_numpy(),
            "chosen": chosen,
            "rejected": rejected,
        }
    )
    duplicated = examples["id"][examples["id"].duplicated()]
    if len(duplicated):
        raise ValueError(
            f"{owner}: the id {duplicated.iloc[0]!r} appears more than once; every "
            "example needs its own id."
        )
    return examples


def load_benchmark(name, data_files=None, *, split=None):
    """Load a reward-model benchmark from the Hub or from local files.

    Parameters
    ----------
    name : {"rewardbench", "rewardbench2", "rm-bench", "pairs"}
        ``"rewardbench"``: RewardBench v1, the ``filtered`` split of
        ``allenai/reward-bench`` (columns ``prompt, chosen, rejected, subset,
        id``). ``"rewardbench2"``: ``allenai/reward-bench-2`` (``prompt``,
        ``chosen`` and ``rejected`` lists, ``num_correct, subset, id``).
        ``"rm-bench"``: ``THU-KEG/RM-Bench`` (``prompt``, three ``chosen`` and
        three ``rejected`` styles, ``domain, id``). ``"pairs"``: any preference
        data :func:`~skpref.datasets.preference_pairs` reads, or a frame of
        :func:`~skpref.datasets.load_hh_rlhf` (optional ``id`` and ``subset``
        columns).
    data_files : str, path, list of them, DataFrame or list of dict, default=None
        Local ``.parquet``, ``.json`` or ``.jsonl[.gz]`` files in the official
        columns (or, for ``"pairs"``, the data itself). None downloads the
        benchmark with ``datasets.load_dataset`` (needs a network).
    split : str or None, default=None
        The Hub split; None: the official one.

    Returns
    -------
    benchmark : Benchmark

    Raises
    ------
    ValueError
        For an unknown name, missing columns (named, with close matches), an
        empty response list, a response count that disagrees with
        ``num_correct`` or RM-Bench's three styles, or a duplicated id.

    Examples
    --------
    >>> from skpref.evaluation import load_benchmark
    >>> load_benchmark("reward-bench")
    Traceback (most recent call last):
    ...
    ValueError: load_benchmark knows the benchmarks ['pairs', 'rewardbench', \
'rewardbench2', 'rm-bench']; got 'reward-bench'. Did you mean 'rewardbench'?
    """
    owner = "load_benchmark"
    if name not in BENCHMARKS:
        close = difflib.get_close_matches(str(name), list(BENCHMARKS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"{owner} knows the benchmarks {sorted(BENCHMARKS)}; got {name!r}.{hint}"
        )
    if name == "pairs":
        if data_files is None:
            raise ValueError(
                f"{owner}: 'pairs' evaluates your own data; pass it as data_files= "
                "(files, a DataFrame or a list of dicts)."
            )
        return Benchmark(name, _pairs(data_files, owner))
    if data_files is None:
        frame = _from_hub(name, split, owner)
    elif isinstance(data_files, pd.DataFrame):
        frame = data_files
    else:
        frame = _read_files(data_files, owner)
    if len(frame) == 0:
        raise ValueError(f"{owner}: the {name!r} data has no rows.")
    return Benchmark(name, _official(frame, name, owner))
