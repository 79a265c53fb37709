"""Preference pairs from chosen/rejected data: the one builder behind every loader.

Data comes as TRL's preference formats: an explicit ``prompt`` with ``chosen`` and
``rejected`` responses, or an implicit prompt (whole dialogues that share their
beginning), each as plain text or as conversations. :func:`preference_pairs`
turns any of them into the ``prompt / response_a / response_b`` table of the pair
contract with balanced labels; the ``load_*`` functions build their tables with
the same side shuffle (:func:`side_swaps`) and the same table builder
(:func:`pair_frame`).
"""

import difflib
import sys

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from skpref.utils import (
    check_texts,
    check_unique_columns,
    encode_objectives,
    objective_coding,
    split_implicit_prompts,
)

__all__ = ["preference_pairs"]

_TURN_MARKERS = ("\n\nHuman:", "\n\nAssistant:")


def side_swaps(n, shuffle_sides, random_state):
    """Return a boolean mask: ``True`` where the first response goes to b.

    Exactly ``n // 2`` pairs are swapped (a random subset drawn from
    ``random_state``), so labels are balanced to within one pair.
    """
    if not shuffle_sides:
        return np.zeros(n, dtype=bool)
    rng = check_random_state(random_state)
    return rng.permutation(n) < n // 2


def is_irregular(response):
    """Whether a response holds a turn marker (the model wrote extra turns)."""
    return any(marker in response for marker in _TURN_MARKERS)


def coded_objective(values, categories, *, owner, argument):
    """Return ``(column, ids)``: objective names as a coded Categorical, or ids.

    Names become a ``Categorical`` whose categories are the coding (see
    :func:`skpref.utils.objective_coding`), so any subset of the rows keeps it;
    integer ids stay integers.
    """
    coding = objective_coding(values, categories, owner=owner, argument=argument)
    ids = encode_objectives(values, coding, owner=owner, argument=argument)
    if coding is None:
        return ids, ids
    return pd.Categorical.from_codes(ids, categories=list(coding)), ids


def pair_frame(prompts, first, second, to_b, *, index, objective=None):
    """Build the pair table: ``response_a`` is ``first`` except where ``to_b``."""
    # lists, not np.where: conversations (lists of messages) must stay cells
    sides = list(zip(first, second, np.asarray(to_b, dtype=bool), strict=True))
    columns = {
        "prompt": list(prompts),
        "response_a": [s if swap else f for f, s, swap in sides],
        "response_b": [f if swap else s for f, s, swap in sides],
    }
    if objective is not None:
        columns["objective"] = objective
    return pd.DataFrame(columns, index=index)


def _column(values):
    try:
        return pd.Series(values)  # inferred: ids stay integers, texts strings
    except UnicodeEncodeError:
        # pandas' arrow-backed strings refuse a lone surrogate; keep the column
        # as objects so check_texts can name the column and row
        return pd.Series(values, dtype=object)


def _frame_of_columns(columns):
    return pd.DataFrame({name: _column(values) for name, values in columns.items()})


def _as_frame(data, owner):
    if isinstance(data, pd.DataFrame):
        return data
    datasets = sys.modules.get("datasets")  # never imported here: only if in use
    if datasets is not None:
        if isinstance(data, datasets.DatasetDict | datasets.IterableDatasetDict):
            raise ValueError(
                f"{owner} expects one split of a dataset; got a DatasetDict with the "
                f"splits {list(data)}. Pass one of them, e.g. data[{list(data)[0]!r}]."
            )
        if isinstance(data, datasets.Dataset):
            return _frame_of_columns(data.to_dict())
    if isinstance(data, list | tuple) and all(isinstance(r, dict) for r in data):
        names = list(dict.fromkeys(key for record in data for key in record))
        return _frame_of_columns({n: [r.get(n) for r in data] for n in names})
    raise ValueError(
        f"{owner} expects data as a pandas DataFrame, a list of dicts or a Hugging "
        f"Face datasets.Dataset; got {type(data).__name__}."
    )


def _require_column(frame, name, argument, owner):
    if name in frame.columns:
        return
    close = difflib.get_close_matches(str(name), [str(c) for c in frame.columns], n=1)
    hint = f" Did you mean {argument}={close[0]!r}?" if close else ""
    raise ValueError(
        f"{owner}: {argument}={name!r} is not a column of data; got the columns "
        f"{list(frame.columns)}.{hint}"
    )


def preference_pairs(
    data,
    *,
    prompt="prompt",
    chosen="chosen",
    rejected="rejected",
    objective=None,
    objective_categories=None,
    drop_identical=False,
    random_state=None,
):
    r"""Turn chosen/rejected preference data into pairs ``(X, y)`` with balanced labels.

    Accepts the preference formats of TRL: an explicit prompt column, or an
    implicit one (``chosen`` and ``rejected`` are whole dialogues that share
    their beginning); each as plain text or as conversations (lists of
    ``{"role", "content"}`` messages). A seeded random half of the pairs gets
    the chosen response as ``response_b``, so ``y`` is balanced. ``X`` is what
    :class:`~skpref.LLMEmbeddingTransformer` takes with its defaults.

    Parameters
    ----------
    data : pandas.DataFrame, list of dict or datasets.Dataset
        One row per preference. A Hugging Face ``datasets.Dataset`` (one split)
        is read with ``Dataset.to_dict``; ``datasets`` is never imported by
        skpref itself.
    prompt : str or None, default="prompt"
        Column of prompts. With ``None``, or with the default when data has no
        ``"prompt"`` column, the prompt is implicit: for text, the shared
        beginning of ``chosen`` and ``rejected`` up to their last shared
        ``"\n\nAssistant:"`` (the HH-RLHF format, leading ``"\n\n"`` removed;
        the one space after the marker, where there is one, starts neither
        response); for conversations, their shared leading messages.
    chosen, rejected : str, default="chosen", "rejected"
        Columns of the preferred and the other response.
    objective : str or None, default=None
        Column of each pair's objective (names or integer ids), for
        multi-objective models.
    objective_categories : array-like of str or None, default=None
        The coding of objective names: id ``k`` is ``objective_categories[k]``.
        None: the categories of a pandas ``Categorical`` column, else the sorted
        names (see :ref:`data_format`).
    drop_identical : bool, default=False
        Drop the rows whose chosen and rejected responses are equal (they hold
        no preference); with False such a row is an error naming it.
    random_state : int, RandomState instance or None, default=None
        Seed of the side shuffle; pass an int for reproducible pairs.

    Returns
    -------
    X : pandas.DataFrame of shape (n_pairs, 3) or (n_pairs, 4)
        Columns ``prompt``, ``response_a``, ``response_b`` (strings, or lists of
        messages for conversations) and, when ``objective`` is given,
        ``objective``: a ``Categorical`` whose categories are the coding (or
        integer ids). The index is that of ``data`` (a ``RangeIndex`` for a list
        or a Dataset), less the rows ``drop_identical`` dropped.
    y : pandas.Series of shape (n_pairs,), dtype int64
        ``1`` where ``response_a`` is the chosen response; exactly
        ``n_pairs // 2`` zeros.

    Raises
    ------
    ValueError
        For empty data, a missing column (with the closest name), a cell that is
        neither text nor a conversation, mixed formats, an implicit prompt that
        cannot be found, an empty conversational response (a dialogue that is
        the other's beginning; an empty text response, as HH-RLHF holds, is
        kept), a chosen response equal to the rejected one (unless
        ``drop_identical``), or a column name that appears more than once.

    See Also
    --------
    skpref.LLMEmbeddingTransformer : Embed the pairs for a reward model.
    load_hh_rlhf : HH-RLHF files, split with the same implicit-prompt rule.

    Examples
    --------
    >>> from skpref.datasets import preference_pairs
    >>> data = [{"prompt": "Hi", "chosen": "Hello!", "rejected": "Go away."},
    ...         {"prompt": "2+2?", "chosen": "4", "rejected": "5"}]
    >>> X, y = preference_pairs(data, random_state=0)
    >>> X.columns.tolist(), y.tolist()
    (['prompt', 'response_a', 'response_b'], [1, 0])
    >>> X.loc[1, ["response_a", "response_b"]].tolist()
    ['5', '4']
    """
    owner = "preference_pairs"
    frame = _as_frame(data, owner)
    if len(frame) == 0:
        raise ValueError(f"{owner} got empty data; there are no preferences to pair.")
    _require_column(frame, chosen, "chosen", owner)
    _require_column(frame, rejected, "rejected", owner)
    implicit = prompt is None or (prompt == "prompt" and prompt not in frame.columns)
    if not implicit:
        _require_column(frame, prompt, "prompt", owner)
    if objective is not None:
        _require_column(frame, objective, "objective", owner)
    elif objective_categories is not None:
        raise ValueError(
            f"{owner} got objective_categories but no objective column; pass "
            "objective=<the column of objective names>."
        )

    index = frame.index
    names = [chosen, rejected] if implicit else [prompt, chosen, rejected]
    check_unique_columns(
        frame, names if objective is None else [*names, objective], owner=owner
    )
    checked = {
        name: check_texts(frame[name].tolist(), column=name, owner=owner, index=index)
        for name in names
    }
    forms = {name: form for name, (_, form) in checked.items()}
    if len(set(forms.values())) > 1:
        raise ValueError(
            f"{owner} expects one format in every text column; got {forms}. Use "
            "plain strings everywhere or conversations everywhere."
        )
    chosen_texts, rejected_texts = checked[chosen][0], checked[rejected][0]
    if implicit:
        close = difflib.get_close_matches("prompt", map(str, frame.columns), n=1)
        hint = f" Did you mean prompt={close[0]!r}?" if close else ""
        prompts, chosen_texts, rejected_texts = split_implicit_prompts(
            chosen_texts,
            rejected_texts,
            forms[chosen],
            owner=owner,
            index=index,
            remedy=f"pass the column of prompts as prompt=...{hint}",
        )
    else:
        prompts = checked[prompt][0]
    equal = np.array(
        [c == r for c, r in zip(chosen_texts, rejected_texts, strict=True)]
    )
    if equal.any() and not drop_identical:
        raise ValueError(
            f"{owner}: the chosen and rejected responses are equal at row "
            f"{index[equal.argmax()]!r}, so the pair holds no preference. Pass "
            "drop_identical=True to drop such rows."
        )
    if equal.all():
        raise ValueError(
            f"{owner}: the chosen and rejected responses are equal in every row; "
            "there are no preferences to pair."
        )
    kept = ~equal
    index = index[kept]
    prompts, chosen_texts, rejected_texts = (
        [text for text, keep in zip(texts, kept, strict=True) if keep]
        for texts in (prompts, chosen_texts, rejected_texts)
    )
    column = None
    if objective is not None:
        column, _ = coded_objective(
            frame[objective][kept],
            objective_categories,
            owner=owner,
            argument=f"column {objective!r}",
        )
    swap = side_swaps(len(index), True, random_state)
    X = pair_frame(
        prompts, chosen_texts, rejected_texts, swap, index=index, objective=column
    )
    y = pd.Series((~swap).astype(np.int64), index=index, name="label")
    return X, y
