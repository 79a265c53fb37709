"""UltraFeedback's rated completions as a latent-positivity source (Table 1, D.2).

Each pair of completions of an UltraFeedback prompt has two latent factors, the
GPT-4 ratings of truthfulness ``z_1`` and instruction following ``z_2``. The
label comes from the reward ``r = 0.25 z_1 + 0.75 z_2`` (ties broken at random);
the model only sees embeddings of ``(instruction, completion)``. Training sets
with ``corr(delta_1, delta_2) = rho_train`` and ID / OOD test sets are drawn
by :class:`~skpref.model_selection.RhoStratifiedSplitter`.
"""

import time
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from skpref.experiments._embedder import default_embedder
from skpref.experiments._pair_source import _TEST_SIZE, _TRAIN_SIZE, PoolSource
from skpref.experiments._sources import KEYED_BY_DATA
from skpref.utils._validation import Interval

__all__ = ["FACTORS", "UltraFeedback", "label_ultrafeedback_pairs"]

#: The two latent factors ``(z_1, z_2)`` of appendix D.2, in that order.
FACTORS = ("truthfulness", "instruction_following")
#: The reward weight of the first factor, ``r = alpha z_1 + (1 - alpha) z_2``.
ALPHA = 0.25


def label_ultrafeedback_pairs(pairs, *, alpha=ALPHA, random_state=0):
    """Keep the rated pairs and label them with ``r = alpha z_1 + (1 - alpha) z_2``.

    Pairs with "N/A" (NaN) truthfulness or instruction following on either side
    are dropped. ``y = 1`` when ``r(a) > r(b)``, ``0`` when ``r(a) < r(b)`` and a
    seeded coin flip on ties (appendix D.2; ``y = 1`` means ``a`` is preferred,
    the pair contract of :ref:`data_format`).

    Parameters
    ----------
    pairs : pandas.DataFrame
        The ``pairs`` of :func:`~skpref.datasets.load_ultrafeedback`.
    alpha : float, default=0.25
        Weight of truthfulness in the reward.
    random_state : int, default=0
        Seed of the tie-breaking coin flips.

    Returns
    -------
    labelled : pandas.DataFrame
        The kept rows (index reset) with the extra columns ``reward_delta``
        (``r(a) - r(b)``), ``tie`` and ``y``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.experiments import label_ultrafeedback_pairs
    >>> pairs = pd.DataFrame({"delta_truthfulness": [4.0, -1.0, 3.0, float("nan")],
    ...                       "delta_instruction_following": [-1.0, 1.0, -1.0, 2.0]})
    >>> label_ultrafeedback_pairs(pairs)[["reward_delta", "y"]].values.tolist()
    [[0.25, 1.0], [0.5, 1.0], [0.0, 1.0]]
    """
    columns = [f"delta_{factor}" for factor in FACTORS]
    missing = [c for c in columns if c not in pairs.columns]
    if missing:
        raise ValueError(
            f"label_ultrafeedback_pairs: the pairs have no column {missing}; expected "
            "the pairs of skpref.datasets.load_ultrafeedback, which hold "
            f"{columns}."
        )
    kept = pairs.dropna(subset=columns).reset_index(drop=True)
    reward_delta = alpha * kept[columns[0]] + (1 - alpha) * kept[columns[1]]
    tie = np.isclose(reward_delta.to_numpy(dtype=float), 0.0)
    y = (reward_delta.to_numpy() > 0).astype(np.int64)
    rng = np.random.default_rng(random_state)
    y[tie] = rng.integers(0, 2, size=int(tie.sum()))
    return kept.assign(reward_delta=reward_delta, tie=tie, y=y)


@dataclass
class UltraFeedback(PoolSource, register="ultrafeedback"):
    """UltraFeedback pairs labelled by two GPT-4 ratings, embedded (Table 1, D.2).

    The pairs of :func:`~skpref.datasets.load_ultrafeedback` whose truthfulness
    and instruction following are rated on both sides are labelled by
    :func:`label_ultrafeedback_pairs`, and each ``(instruction, completion)`` is
    embedded once by ``embedder``. Each draw takes ``n_train`` training pairs
    with ``corr(delta_1, delta_2) = rho`` from ``delta = (delta_truthfulness,
    delta_instruction_following)``, then ``n_test`` unseen ID pairs (same
    ``rho``) and ``n_test`` unseen OOD pairs (``delta_1 delta_2 < 0``), with
    :class:`~skpref.model_selection.RhoStratifiedSplitter`.

    Parameters
    ----------
    path : str, path-like or None, default=None
        UltraFeedback ``.jsonl[.gz]`` file or folder in the raw OpenBMB format
        (None: ``<data home>/ultrafeedback``).
    embedder : transformer or None, default=None
        Turns a frame of ``prompt``, ``response_a``, ``response_b`` (or the
        columns named by its ``prompt_column``, ``response_a_column`` and
        ``response_b_column``) into pair features ``[a | b]``; None is
        :func:`default_embedder` (the offline all-MiniLM-L6-v2).
    n_train, n_test : int, default=2000
        Pairs per training set and per test set (paper: 15,000 each).
    max_prompts : int or None, default=None
        Keep only this many prompts (a seeded random choice) and all their pairs,
        to bound the embedding time; None keeps every prompt.
    alpha : float, default=0.25
        Weight of truthfulness in the reward that labels the pairs.

    Examples
    --------
    >>> from skpref.experiments import UltraFeedback
    >>> UltraFeedback("uf.jsonl", n_train=500).n_train
    500
    """

    path: str | None = field(default=None, metadata=KEYED_BY_DATA)
    embedder: object = field(default=None, metadata=KEYED_BY_DATA)
    n_train: float = 2000
    n_test: int | None = 2000
    max_prompts: int | None = None
    alpha: float = ALPHA

    sides = ("delta",)
    title = "UltraFeedback"
    n_source_seeds = 2
    _parameter_constraints = {
        "n_train": _TRAIN_SIZE,
        "n_test": _TEST_SIZE,
        "max_prompts": [Interval(Integral, 1, None, closed="left"), None],
        "alpha": [Interval(Real, 0, 1, closed="both")],
    }

    def _load(self, source_seeds):
        from skpref.datasets import load_ultrafeedback

        label_seed, side_seed = source_seeds
        data = load_ultrafeedback(self.path, random_state=side_seed)
        pairs = label_ultrafeedback_pairs(
            data.pairs, alpha=self.alpha, random_state=label_seed
        )
        prompts = pairs["prompt_id"].unique()
        if self.max_prompts is not None and self.max_prompts < len(prompts):
            rng = np.random.default_rng(label_seed)
            chosen = rng.choice(prompts, self.max_prompts, replace=False)
            pairs = pairs[pairs["prompt_id"].isin(chosen)].reset_index(drop=True)
        if len(pairs) == 0:
            raise ValueError(
                f"UltraFeedback: no pair of {self.path} has both {list(FACTORS)} "
                f"rated (all {len(data.pairs)} pairs have an 'N/A'); expected an "
                "UltraFeedback file with rated completions."
            )
        embedder = default_embedder() if self.embedder is None else self.embedder
        start = time.perf_counter()
        X = np.asarray(embedder.fit_transform(_texts(pairs, embedder)), np.float32)
        self.pairs_ = pairs
        self.info_.update(
            n_pairs_loaded=len(data.pairs),
            n_pairs_rated=len(pairs),
            n_ties=int(pairs["tie"].sum()),
            embedding_model=str(getattr(embedder, "model_name_or_path", embedder)),
            embedding_seconds=time.perf_counter() - start,
        )
        return Bunch(
            X=X,
            y=pairs["y"].to_numpy(),
            delta=pairs[[f"delta_{f}" for f in FACTORS]].to_numpy(dtype=float),
            latent_a=pairs[[f"{f}_a" for f in FACTORS]].to_numpy(dtype=float),
        )


def _texts(pairs, embedder):
    """Return the pairs' texts under the column names the embedder reads."""
    prompt = pairs["instruction"] if "instruction" in pairs else pairs["prompt"]
    return pd.DataFrame(
        {
            getattr(embedder, "prompt_column", "prompt"): prompt,
            getattr(embedder, "response_a_column", "response_a"): pairs["response_a"],
            getattr(embedder, "response_b_column", "response_b"): pairs["response_b"],
        }
    )
