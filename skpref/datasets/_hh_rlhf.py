"""Anthropic HH-RLHF and its per-objective relabelling (Siththaranjan et al., 2024)."""

import numpy as np
import pandas as pd

from skpref.datasets._embeddings import _attach_reference_embeddings
from skpref.datasets._home import _check_option, _find_data_file, _read_jsonl
from skpref.datasets._pairs import (
    coded_objective,
    is_irregular,
    pair_frame,
    side_swaps,
)
from skpref.utils import split_dialogue

__all__ = [
    "HH_RLHF_TEXT_TEMPLATE",
    "OBJECTIVES",
    "RELABELED_HH_RLHF_TEXT_TEMPLATE",
    "load_hh_rlhf",
    "load_relabeled_hh_rlhf",
]

HH_RLHF_SUBSETS = (
    "harmless-base",
    "helpful-base",
    "helpful-online",
    "helpful-rejection-sampled",
)
RELABELED_SUBSETS = ("both", "helpful", "harmless")
SPLITS = ("train", "test")
#: Objective (and prompt-type) names in id order: helpful = 0, harmless = 1.
OBJECTIVES = ("helpful", "harmless")
#: ``text_template`` of :class:`~skpref.LLMEmbeddingTransformer` that puts a row of
#: :func:`load_hh_rlhf` back into the file's dialogue: the leading ``"\n\n"`` and
#: the final ``"\n\nAssistant: "`` the loader took off the prompt.
HH_RLHF_TEXT_TEMPLATE = "\n\n{prompt}\n\nAssistant: {response}"
#: The same for :func:`load_relabeled_hh_rlhf`, whose files' dialogues start
#: without ``"\n\n"``.
RELABELED_HH_RLHF_TEXT_TEMPLATE = "{prompt}\n\nAssistant: {response}"


def load_hh_rlhf(
    subset="helpful-base",
    split="test",
    *,
    data_home=None,
    shuffle_sides=True,
    random_state=0,
    irregular="keep",
    embeddings=None,
):
    r"""Load an Anthropic HH-RLHF file as a table of preference pairs.

    Each line of ``hh_rlhf/<subset>/<split>.jsonl[.gz]`` holds two whole dialogues,
    ``chosen`` and ``rejected``, that share every turn but the final assistant one.
    The shared part becomes ``prompt`` (without its leading ``"\n\n"``, the
    format of the relabelled files), the two final assistant turns become
    ``response_a`` and ``response_b``. The human labeller preferred ``chosen``.

    Parameters
    ----------
    subset : str, default="helpful-base"
        HH-RLHF subset (a folder of the upstream repository): "helpful-base",
        "harmless-base", "helpful-online" or "helpful-rejection-sampled".
    split : {"test", "train"}, default="test"
        Which split to read.
    data_home : str or path-like, default=None
        Data folder; see :func:`get_data_home`.
    shuffle_sides : bool, default=True
        If True, a random half of the pairs (exactly ``n // 2``, drawn from
        ``random_state``) gets the chosen response as ``response_b``, so labels are
        balanced. If False, ``response_a`` is always the chosen response and
        every label is 1.
    random_state : int, RandomState instance or None, default=0
        Seed of the side shuffle. The default makes loading reproducible.
    irregular : {"keep", "drop"}, default="keep"
        What to do with pairs in which a response contains a turn marker
        (``"\n\nHuman:"`` or ``"\n\nAssistant:"``): the model wrote extra
        turns into its answer. Their shared prompt is still found exactly (see
        Notes); ``"drop"`` removes them.
    embeddings : str, path-like or None, default=None
        Attach precomputed embeddings of the ``chosen``/``rejected`` texts as the
        columns ``embedding_a`` and ``embedding_b``: a model name looked up as
        ``<data_home>/embeddings/<name>/hh_rlhf__<subset>__<split>.npz`` (e.g.
        ``"all-MiniLM-L6-v2"``), or the path of such an ``.npz`` file.

    Returns
    -------
    frame : pandas.DataFrame
        One row per pair, indexed by ``row``, the 0-based line of the pair in the
        file (row ``i`` of a reference embedding file), with columns

        - ``prompt``, ``response_a``, ``response_b`` (str);
        - ``label`` (int): 1 if the human preferred ``response_a``, else 0;
        - ``a_is_chosen`` (bool): whether ``response_a`` is the file's ``chosen``
          text (equal to ``label`` here, kept so embeddings map onto a and b);
        - ``subset`` (str): the ``subset`` argument;
        - ``embedding_a``, ``embedding_b`` if ``embeddings`` is given.

    See Also
    --------
    load_relabeled_hh_rlhf : The same pairs labelled under a random objective.
    fetch_hh_rlhf : Download a file from the Hugging Face Hub, then load it.
    pair_features : Build the ``[a | b]`` array of the pair contract.

    Notes
    -----
    The shared prompt is the longest common prefix of the two dialogues cut back
    to its last ``"\n\nAssistant:"``. Splitting each dialogue at its own last
    ``"\n\nAssistant: "`` (the usual recipe) disagrees with this on 17 pairs of
    the four test files (5 harmless-base, 9 helpful-base, 0 helpful-online, 3
    helpful-rejection-sampled): there a response contains an assistant turn,
    and the usual recipe would give the two responses different prompts.
    ``irregular="drop"`` removes the 19 pairs in which a response holds any
    turn marker: those 17 and 2 helpful-online pairs whose response ends in a
    ``"\n\nHuman:"`` turn. The test files also hold 36 pairs whose two
    dialogues are identical (the label carries no preference); they are kept.
    :doc:`/datasets` shows the loop that counts them.

    The prompt loses the final ``"\n\nAssistant: "`` tag, and the default
    ``text_template="{prompt}\n\n{response}"`` of
    :class:`~skpref.LLMEmbeddingTransformer` does not put it back: the response
    would be embedded as if it continued the human's turn. Pass
    ``text_template=HH_RLHF_TEXT_TEMPLATE`` (and ``chat_template=False`` for a
    decoder model whose tokenizer has a chat template) to embed exactly the
    file's ``chosen`` / ``rejected`` dialogue, the text of the shared reference
    embeddings (see :doc:`/datasets`).

    References
    ----------
    Bai et al. (2022), "Training a Helpful and Harmless Assistant with
    Reinforcement Learning from Human Feedback", arXiv:2204.05862.

    Examples
    --------
    >>> import gzip, json, tempfile
    >>> from pathlib import Path
    >>> from skpref.datasets import load_hh_rlhf
    >>> home = Path(tempfile.mkdtemp())
    >>> (home / "hh_rlhf" / "helpful-base").mkdir(parents=True)
    >>> line = {"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!",
    ...         "rejected": "\n\nHuman: Hi\n\nAssistant: Go away."}
    >>> with gzip.open(home / "hh_rlhf/helpful-base/test.jsonl.gz", "wt") as f:
    ...     _ = f.write(json.dumps(line) + "\n")
    >>> frame = load_hh_rlhf("helpful-base", "test", data_home=home,
    ...                      shuffle_sides=False)
    >>> frame.loc[0, ["prompt", "response_a", "response_b", "label"]].tolist()[:3]
    ['Human: Hi', 'Hello!', 'Go away.']
    >>> int(frame.loc[0, "label"])
    1
    """
    owner = "load_hh_rlhf"
    _check_option(subset, HH_RLHF_SUBSETS, name="subset", owner=owner)
    _check_option(split, SPLITS, name="split", owner=owner)
    _check_option(irregular, ("keep", "drop"), name="irregular", owner=owner)
    relative = f"hh_rlhf/{subset}/{split}"
    path = _find_data_file(
        relative,
        data_home,
        owner=owner,
        how_to_get=f"Download it with fetch_hh_rlhf({subset!r}, {split!r}).",
    )
    records = _read_jsonl(path, owner=owner, required={"chosen": str, "rejected": str})

    prompts, chosen, rejected, odd = [], [], [], []
    for line_number, record in records:
        parts = split_dialogue(record["chosen"], record["rejected"])
        if parts is None:
            raise ValueError(
                f"{owner}: line {line_number} of {path}: the 'chosen' and 'rejected' "
                "dialogues share no assistant turn, so they have no common prompt; "
                "expected two dialogues that differ only in their final "
                "'\\n\\nAssistant: ' turn."
            )
        prompt, response_chosen, response_rejected = parts
        prompts.append(prompt)
        chosen.append(response_chosen)
        rejected.append(response_rejected)
        odd.append(is_irregular(response_chosen) or is_irregular(response_rejected))

    swap = side_swaps(len(records), shuffle_sides, random_state)
    index = pd.RangeIndex(len(records), name="row")
    frame = pair_frame(prompts, chosen, rejected, swap, index=index).assign(
        label=(~swap).astype(np.int64), a_is_chosen=~swap, subset=subset
    )
    if embeddings is not None:
        frame = _attach_reference_embeddings(
            frame, embeddings, relative, data_home, owner=owner
        )
    if irregular == "drop":
        frame = frame[~np.asarray(odd, dtype=bool)]
    return frame


def load_relabeled_hh_rlhf(
    subset="both",
    split="test",
    *,
    data_home=None,
    shuffle_sides=True,
    random_state=0,
    embeddings=None,
):
    r"""Load HH-RLHF relabelled per objective, the data of the paper's HH case study.

    In the relabelled data of Siththaranjan et al. (2024) each HH-RLHF test pair
    got one objective at random, ``"helpful"`` or ``"harmless"``, and GPT-3.5
    labelled it under that objective. The pair's *prompt type* is the HH-RLHF
    subset it comes from (``data_subset``), which the paper calls ``type(X)``; a
    pair is *consistent* when its objective equals its prompt type. The human
    HH-RLHF label is the preference under the prompt type's objective, so
    inconsistent pairs carry a label under both objectives.

    Parameters
    ----------
    subset : {"both", "helpful", "harmless"}, default="both"
        File to read: ``"helpful"`` and ``"harmless"`` hold the pairs judged under
        that objective, ``"both"`` their union.
    split : {"test", "train"}, default="test"
        Which split to read (the shared data holds the test split only).
    data_home : str or path-like, default=None
        Data folder; see :func:`get_data_home`.
    shuffle_sides : bool, default=True
        The file lists the two responses in an already shuffled order. If False,
        ``response_a`` is ``responses[0]`` of the file. If True, on top of that a
        random subset of exactly ``n // 2`` pairs (drawn from ``random_state``,
        independently of the data) has its two responses swapped.
    random_state : int, RandomState instance or None, default=0
        Seed of the side shuffle.
    embeddings : str, path-like or None, default=None
        Attach precomputed embeddings of the file's ``chosen``/``rejected`` texts
        as ``embedding_a``/``embedding_b``: a model name looked up as
        ``<data_home>/embeddings/<name>/hh_rlhf_relabeled_dpl__<subset>__<split>.npz``
        or the path of such a file.

    Returns
    -------
    frame : pandas.DataFrame
        One row per pair, indexed by ``row`` (0-based line in the file), with
        columns

        - ``prompt``, ``response_a``, ``response_b`` (str);
        - ``objective`` (a ``Categorical`` with the categories ``OBJECTIVES``)
          and ``objective_id`` (int): the objective of the label, coded
          ``helpful = 0``, ``harmless = 1``; any subset of the rows keeps this
          coding (see :ref:`data_format`);
        - ``prompt_type`` (``Categorical``, the file's ``data_subset``) and
          ``prompt_type_id`` (int, same coding);
        - ``consistent`` (bool): ``objective == prompt_type``;
        - ``label`` (int): GPT-3.5's preference under ``objective``, 1 if
          ``response_a`` is preferred;
        - ``human_label`` (int): the HH-RLHF human preference, given under the
          objective ``prompt_type`` (same coding);
        - ``a_is_chosen`` (bool): whether ``response_a`` is the file's ``chosen``
          text (which follows the GPT-3.5 label, so this equals ``label``);
        - ``source_index`` (int): the file's ``Index`` field, the pair's position
          in [harmless-base test, helpful-base test];
        - ``embedding_a``, ``embedding_b`` if ``embeddings`` is given.

    See Also
    --------
    load_hh_rlhf : The original pairs with their human labels.
    pair_features : Build ``[a | b | objective_id]`` for multi-objective models.

    Notes
    -----
    As with :func:`load_hh_rlhf`, the prompt ends before the final
    ``"\n\nAssistant: "`` tag. Pass
    ``text_template=RELABELED_HH_RLHF_TEXT_TEMPLATE`` to
    :class:`~skpref.LLMEmbeddingTransformer` (with ``chat_template=False`` for a
    decoder model with a chat template) to embed exactly the file's ``chosen`` /
    ``rejected`` text, which starts without ``"\n\n"``.

    References
    ----------
    Siththaranjan, Laidlaw and Hadfield-Menell (2024), "Distributional Preference
    Learning: Understanding and Accounting for Hidden Context in RLHF", ICLR.

    Examples
    --------
    >>> import gzip, json, tempfile
    >>> from pathlib import Path
    >>> from skpref.datasets import load_relabeled_hh_rlhf
    >>> home = Path(tempfile.mkdtemp())
    >>> (home / "hh_rlhf_relabeled_dpl" / "both").mkdir(parents=True)
    >>> line = {"prompt": "Human: Hi", "responses": ["Hello!", "Go away."],
    ...         "objective": "harmless", "label": 0, "original_label": 0,
    ...         "data_subset": "helpful", "Index": 7}
    >>> with gzip.open(home / "hh_rlhf_relabeled_dpl/both/test.jsonl.gz", "wt") as f:
    ...     _ = f.write(json.dumps(line) + "\n")
    >>> frame = load_relabeled_hh_rlhf(data_home=home, shuffle_sides=False)
    >>> frame.loc[0, ["objective", "prompt_type", "consistent", "label"]].to_dict()
    {'objective': 'harmless', 'prompt_type': 'helpful', 'consistent': False, 'label': 1}
    """
    owner = "load_relabeled_hh_rlhf"
    _check_option(subset, RELABELED_SUBSETS, name="subset", owner=owner)
    _check_option(split, SPLITS, name="split", owner=owner)
    relative = f"hh_rlhf_relabeled_dpl/{subset}/{split}"
    path = _find_data_file(
        relative,
        data_home,
        owner=owner,
        how_to_get=(
            "The relabelled data is not on the Hugging Face Hub; get it from "
            "github.com/cassidylaidlaw/hidden-context."
        ),
    )
    required = {
        "prompt": str,
        "responses": list,
        "objective": str,
        "label": int,
        "original_label": int,
        "data_subset": str,
    }
    records = _read_jsonl(path, owner=owner, required=required)
    for line_number, record in records:
        _check_relabeled_record(record, line_number, path, owner)

    n = len(records)
    field = [record for _, record in records]
    gpt_index = np.array([r["label"] for r in field], dtype=np.int64)
    human_index = np.array([r["original_label"] for r in field], dtype=np.int64)
    objective, objective_id = coded_objective(
        [r["objective"] for r in field], OBJECTIVES, owner=owner, argument="objective"
    )
    prompt_type, prompt_type_id = coded_objective(
        [r["data_subset"] for r in field],
        OBJECTIVES,
        owner=owner,
        argument="data_subset",
    )

    swap = side_swaps(n, shuffle_sides, random_state)
    a_index = swap.astype(np.int64)  # which entry of `responses` became a
    label = (gpt_index == a_index).astype(np.int64)
    frame = pair_frame(
        [r["prompt"] for r in field],
        [r["responses"][0] for r in field],
        [r["responses"][1] for r in field],
        swap,
        index=pd.RangeIndex(n, name="row"),
        objective=objective,
    ).assign(
        objective_id=objective_id,
        prompt_type=prompt_type,
        prompt_type_id=prompt_type_id,
        consistent=objective_id == prompt_type_id,
        label=label,
        human_label=(human_index == a_index).astype(np.int64),
        a_is_chosen=label.astype(bool),
        source_index=[r.get("Index", -1) for r in field],
    )
    if embeddings is not None:
        frame = _attach_reference_embeddings(
            frame, embeddings, relative, data_home, owner=owner
        )
    return frame


def _check_relabeled_record(record, line_number, path, owner):
    where = f"{owner}: line {line_number} of {path}"
    responses = record["responses"]
    if len(responses) != 2:
        raise ValueError(
            f"{where}: 'responses' must be a list of two strings, got "
            f"{len(responses)} items."
        )
    for position, text in enumerate(responses):
        if not isinstance(text, str):
            raise ValueError(
                f"{where}: 'responses' must be a list of two strings, but item "
                f"{position} is {text!r} ({type(text).__name__})."
            )
    for key in ("objective", "data_subset"):
        if record[key] not in OBJECTIVES:
            raise ValueError(
                f"{where}: {key!r} must be one of {list(OBJECTIVES)}, got "
                f"{record[key]!r}."
            )
    for key in ("label", "original_label"):
        # bool is an int subclass; JSON true/false is not a valid index here
        if isinstance(record[key], bool) or record[key] not in (0, 1):
            raise ValueError(
                f"{where}: {key!r} must be 0 or 1 (an index into 'responses'), "
                f"got {record[key]!r}."
            )
