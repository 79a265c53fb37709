"""Pairs that only a model reading the prompt can rank (RRM-style augmentation).

A reward model can score a response by what it is (long, polite, formatted)
without reading the prompt. Robust Reward Models (Liu et al., 2024, "RRM: Robust
Reward Model Training Mitigates Reward Hacking") add pairs that such a model gets
wrong: a response to this prompt against a response to another prompt (the
on-prompt response wins, whatever its style), and two responses to other prompts
(a tie). :func:`augment_pairs` adds them to text pairs before embedding.
"""

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from skpref.utils import Interval, StrOptions, check_unique_columns, validate_params

__all__ = ["augment_pairs"]

_OWNER = "augment_pairs"


def _prompt_keys(prompts):
    """Hashable keys of prompts (conversations by their messages)."""
    return np.array(
        [p if isinstance(p, str) else repr(list(p)) for p in prompts], dtype=object
    )


def _other_prompt_rows(keys, rows, rng, n_draws):
    """For each row, ``n_draws`` random rows whose prompt differs from its own."""
    n = len(keys)
    others = rng.randint(0, n, size=(len(rows), n_draws))
    clash = keys[others] == keys[rows][:, None]
    # redraw the clashes; the share of clashes is the share of the row's prompt,
    # below 1 for every row (at least two prompts), so this ends
    while clash.any():
        others[clash] = rng.randint(0, n, size=int(clash.sum()))
        clash = keys[others] == keys[rows][:, None]
    return others


#: Columns the skpref loaders add that describe a pair's label, not its prompt.
_LABEL_COLUMNS = ("label", "a_is_chosen")


def _source_pair_columns(columns, response_a, response_b):
    """Return the columns that describe a pair's two responses or its label."""
    names = {str(c) for c in columns}
    twins = [
        c
        for c in columns
        if str(c).endswith(("_a", "_b"))
        and f"{str(c)[:-2]}_{'b' if str(c).endswith('_a') else 'a'}" in names
    ]
    return [
        c
        for c in columns
        if (c in twins or c in _LABEL_COLUMNS) and c not in (response_a, response_b)
    ]


@validate_params(
    {
        "X": [pd.DataFrame],
        "y": ["array-like"],
        "strategy": [StrOptions({"rrm"})],
        "ratio": [Interval(numbers.Real, 0, None, closed="left")],
        "tie_ratio": [Interval(numbers.Real, 0, None, closed="left")],
        "prompt": [str],
        "response_a": [str],
        "response_b": [str],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def augment_pairs(
    X,
    y,
    *,
    strategy="rrm",
    ratio=1.0,
    tie_ratio=0.25,
    prompt="prompt",
    response_a="response_a",
    response_b="response_b",
    random_state=None,
):
    """Add pairs whose losing response answers another prompt, and off-prompt ties.

    For ``round(ratio * n_pairs)`` pairs drawn from ``X`` (each pair once before
    any twice), one of its two responses, at random, meets a response to another
    prompt: the on-prompt response is preferred. For ``round(tie_ratio *
    n_pairs)`` pairs, the prompt meets two responses to other prompts: a tie,
    label ``0.5``. The added pairs copy the columns of the prompt (the
    objective, the subset) from the pair whose prompt they hold, and the
    on-prompt response lands on side ``a`` in a seeded random half of them.
    Columns of the source pair's responses or label would be wrong for them:
    every other ``<name>_a``/``<name>_b`` pair of columns (the loaders'
    embeddings) and the loaders' ``label`` and ``a_is_chosen`` are left
    empty (None) in the added pairs; embed their texts anew.

    Parameters
    ----------
    X : pandas.DataFrame of shape (n_pairs, n_columns)
        Text pairs, e.g. from :func:`preference_pairs`, with at least two
        different prompts.
    y : array-like of shape (n_pairs,)
        Their labels (``1`` where a is preferred; soft labels are kept).
    strategy : {"rrm"}, default="rrm"
        The augmentation: Robust Reward Models' off-prompt pairs.
    ratio : float, default=1.0
        Off-prompt pairs added per pair of ``X``.
    tie_ratio : float, default=0.25
        Off-prompt ties added per pair of ``X``.
    prompt, response_a, response_b : str, default="prompt", "response_a", \
"response_b"
        The columns of prompts and responses.
    random_state : int, RandomState instance or None, default=None
        Seed of every draw; an int gives the same pairs on every call.

    Returns
    -------
    X_out : pandas.DataFrame of shape (n_pairs + n_added, n_columns)
        The pairs of ``X``, then the added ones; a new ``RangeIndex``.
    y_out : ndarray of shape (n_pairs + n_added,)
        Their labels: float64 when ties were added, else the type of ``y``.
    origin : pandas.DataFrame of shape (n_pairs + n_added, 3)
        Per row of ``X_out``: ``kind`` (``"original"``, ``"off_prompt"`` or
        ``"tie"``), ``source`` (the label in ``X``'s index of the pair whose
        prompt the row holds: group by it, e.g. with ``GroupKFold``, so that no
        prompt is in both a training and a test fold) and ``n_off_prompt`` (how
        many of its responses answer another prompt).

    Raises
    ------
    ValueError
        For a missing or duplicated column, labels of another length, or fewer
        than two different prompts.

    References
    ----------
    Liu, T. et al. "RRM: Robust Reward Model Training Mitigates Reward Hacking",
    ICLR 2025.

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.datasets import augment_pairs
    >>> X = pd.DataFrame({"prompt": ["Hi", "2+2?"], "response_a": ["Hello!", "5"],
    ...                   "response_b": ["Go away.", "4"]})
    >>> X_out, y_out, origin = augment_pairs(X, [1, 0], ratio=1.0, tie_ratio=0.5,
    ...                                      random_state=0)
    >>> origin["kind"].tolist()
    ['original', 'original', 'off_prompt', 'off_prompt', 'tie']
    >>> X_out.loc[2:].assign(y=y_out[2:])
      prompt response_a response_b    y
    2   2+2?     Hello!          4  0.0
    3     Hi     Hello!          4  1.0
    4     Hi          4          5  0.5
    """
    for name, argument in (
        (prompt, "prompt"),
        (response_a, "response_a"),
        (response_b, "response_b"),
    ):
        if name not in X.columns:
            raise ValueError(
                f"{_OWNER}: {argument}={name!r} is not a column of X; got the "
                f"columns {list(X.columns)}."
            )
    check_unique_columns(
        X, [prompt, response_a, response_b], owner=_OWNER, argument="X"
    )
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(
            f"{_OWNER} expects one label per pair of X ({len(X)}); got y of shape "
            f"{y.shape}."
        )
    keys = _prompt_keys(X[prompt].tolist())
    if len(set(keys)) < 2:
        raise ValueError(
            f"{_OWNER} pairs a prompt with responses to other prompts, but X has "
            f"{'no' if len(X) == 0 else 'only one'} prompt; pass pairs of at "
            "least two different prompts."
        )
    rng = check_random_state(random_state)
    n = len(X)
    n_off, n_tie = round(ratio * n), round(tie_ratio * n)
    # each pair once before any twice: cycles of permutations
    cycles = -(-(n_off + n_tie) // n) if n_off + n_tie else 0
    rows = np.concatenate([rng.permutation(n) for _ in range(cycles)] or [[]])
    rows = rows.astype(np.intp)
    off_rows, tie_rows = rows[:n_off], rows[n_off : n_off + n_tie]
    responses = np.empty(2 * n, dtype=object)  # conversations stay cells
    responses[:] = [*X[response_a].tolist(), *X[response_b].tolist()]

    def response_of(pair_rows):
        """Return one of the two responses of each of ``pair_rows``, at random."""
        return responses[pair_rows + n * rng.randint(0, 2, size=len(pair_rows))]

    on_prompt = response_of(off_rows)
    off_prompt = response_of(_other_prompt_rows(keys, off_rows, rng, 1)[:, 0])
    to_a = rng.permutation(n_off) < (n_off + 1) // 2  # the on-prompt side
    others = _other_prompt_rows(keys, tie_rows, rng, 2)
    tie_a, tie_b = response_of(others[:, 0]), response_of(others[:, 1])

    added = X.iloc[np.concatenate([off_rows, tie_rows])].copy()
    for column in _source_pair_columns(X.columns, response_a, response_b):
        added[column] = pd.Series(None, index=added.index, dtype=object)
    sides = list(zip(on_prompt, off_prompt, to_a, strict=True))
    for column, cells in (
        (response_a, [on if a else off for on, off, a in sides] + list(tie_a)),
        (response_b, [off if a else on for on, off, a in sides] + list(tie_b)),
    ):  # in the column's own dtype, so that concatenating keeps it
        added[column] = pd.Series(cells, index=added.index, dtype=X[column].dtype)
    X_out = pd.concat([X, added], ignore_index=True)

    ties = np.full(n_tie, 0.5)
    y_dtype = np.float64 if n_tie else y.dtype
    y_out = np.concatenate([y, to_a.astype(y.dtype), ties]).astype(y_dtype)
    origin = pd.DataFrame(
        {
            "kind": ["original"] * n + ["off_prompt"] * n_off + ["tie"] * n_tie,
            "source": list(X.index) + list(X.index[off_rows]) + list(X.index[tie_rows]),
            "n_off_prompt": [0] * n + [1] * n_off + [2] * n_tie,
        }
    )
    return X_out, y_out, origin
