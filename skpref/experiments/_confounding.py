"""The confounding protocol: the paper's Tables 2-3 and Figure 6 (section 4, E.1).

Three multi-objective reward models (Base, Multihead, Adversarial) are trained on
pairs whose labeller objective ``c`` agrees with the prompt type ``t`` with
probability ``rho = P(t = c)`` (equal counts per objective), and scored on unseen
*consistent* (``t = c``) and *inconsistent* (``t != c``) pairs, and on their own
training pairs (Table 3).
"""

import time

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from skpref.experiments._common import (
    MODEL_NAMES,
    accuracy,
    make_reward_model,
    progress,
    seeds_from,
)

__all__ = ["RHOS_TABLE2", "run_confounding"]

#: The confounding levels of Table 2.
RHOS_TABLE2 = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
#: Generator settings of the synthetic protocol: limited latent overlap between
#: prompt types, the paper's reading of HH-RLHF (Example 4, section 4.2: harmful
#: prompts vary mostly in harmlessness, helpful ones in helpfulness).
SYNTHETIC_GENERATOR = {"type_latent_scale": 3.0}


def _synthetic_source(n_train, n_test, n_features, generator_params, random_state):
    """Train sets on demand and fixed consistent/inconsistent test sets."""
    from skpref.datasets import make_confounded_preferences

    feature_map_seed, cons_seed, incons_seed = seeds_from(random_state, 3)
    make = {
        "n_features": n_features,
        "feature_map_seed": feature_map_seed,
        **generator_params,
    }
    tests = {}
    for group, rho, seed in (("consistent", 1.0, cons_seed),
                             ("inconsistent", 0.0, incons_seed)):  # fmt: skip
        data = make_confounded_preferences(
            n_pairs=n_test, rho=rho, random_state=seed, **make
        )
        tests[group] = (data.X, data.y_true)

    def train_set(rho, seed):
        data = make_confounded_preferences(
            n_pairs=n_train, rho=rho, random_state=seed, **make
        )
        return data.X, data.y, data.consistent

    return train_set, tests


def _hh_rlhf_source(n_train, n_test, data_home, random_state):
    """Relabelled HH-RLHF test split with MiniLM reference embeddings.

    A fixed share of the consistent and of the inconsistent pairs (``n_test`` of
    each, default a quarter) is held out for testing; training sets of each
    ``rho`` come from the rest through
    :class:`~skpref.model_selection.RhoStratifiedSplitter` (confounding mode).
    Labels are GPT-3.5's, under each pair's own objective.
    """
    from skpref.datasets import load_relabeled_hh_rlhf, pair_features
    from skpref.model_selection import RhoStratifiedSplitter

    split_seed, side_seed = seeds_from(random_state, 2)
    frame = load_relabeled_hh_rlhf(
        "both",
        "test",
        data_home=data_home,
        random_state=side_seed,
        embeddings="all-MiniLM-L6-v2",
    )
    X = pair_features(frame, with_objective=True)
    y = frame["label"].to_numpy()
    prompt_type = frame["prompt_type_id"].to_numpy()
    consistent = frame["consistent"].to_numpy()
    rng = np.random.RandomState(split_seed)
    tests, held = {}, []
    for group, mask in (("consistent", consistent), ("inconsistent", ~consistent)):
        rows = np.flatnonzero(mask)
        size = len(rows) // 4 if n_test is None else min(n_test, len(rows) // 2)
        chosen = np.sort(rng.choice(rows, size, replace=False))
        tests[group] = (X[chosen], y[chosen])
        held.append(chosen)
    pool = np.setdiff1d(np.arange(len(y)), np.concatenate(held))

    def train_set(rho, seed):
        splitter = RhoStratifiedSplitter(
            mode="confounding",
            rho=rho,
            n_splits=1,
            train_size=n_train,
            test="consistent",
            random_state=seed,
        )
        train, _ = next(splitter.split(X[pool], prompt_type=prompt_type[pool]))
        rows = pool[train]
        return X[rows], y[rows], consistent[rows]

    return train_set, tests


def run_confounding(
    *,
    rhos=RHOS_TABLE2,
    n_seeds=5,
    models=MODEL_NAMES,
    data="synthetic",
    n_train=2000,
    n_test=2000,
    n_features=32,
    generator_params=None,
    width=512,
    lr=1e-4,
    max_epochs=10,
    adversary_weight=1.0,
    data_home=None,
    random_state=0,
    show_progress=False,
):
    """Run the Table 2/3 protocol: three models, confounding levels, seeds.

    Parameters
    ----------
    rhos : sequence of float, default=(0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
        Values of ``P(type = objective)`` in the training sets.
    n_seeds : int, default=5
        Repetitions (paper: 5).
    models : sequence of {"Base", "Multihead", "Adversarial"}, default=all three
        Models to train.
    data : {"synthetic", "hh-rlhf"}, default="synthetic"
        ``"synthetic"``: :func:`~skpref.datasets.make_confounded_preferences`,
        one feature map for all seeds, fixed test sets of ``n_test`` consistent and
        ``n_test`` inconsistent pairs. ``"hh-rlhf"``: the relabelled HH-RLHF test
        split (4,043 pairs) with the all-MiniLM-L6-v2 reference embeddings from the
        data home; ``n_test`` pairs of each group (``None``: a quarter) are held out
        once, training sets come from the rest.
    n_train : int, default=2000
        Training pairs (equal counts per objective), 10% of which are held out
        for choosing the best epoch.
    n_test : int or None, default=2000
        Test pairs per group.
    n_features : int, default=32
        Embedding width of the synthetic features (ignored for real data).
    generator_params : dict, default=None
        Further arguments of ``make_confounded_preferences``; ``None`` means
        ``SYNTHETIC_GENERATOR`` (``type_latent_scale=3``, limited latent overlap
        between prompt types), ``{}`` the generator's own defaults.
    width, lr, max_epochs, adversary_weight : default=512, 1e-4, 10, 1.0
        Network width, learning rate, epochs and λ (paper: 512, 1e-4, 10, 1.0).
    data_home : str or path-like, default=None
        Data folder for ``data="hh-rlhf"``.
    random_state : int, default=0
        Seed of everything.
    show_progress : bool, default=False
        Show a progress bar.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``runs``: one row per (seed, rho, model, split, group) with ``protocol,
        data, seed, rho, model, split ("test" or "train"), group ("consistent" or
        "inconsistent"), accuracy, n, fit_seconds``; ``config``: the arguments.

    Examples
    --------
    >>> from skpref.experiments import run_confounding
    >>> result = run_confounding(rhos=(1.0,), n_seeds=1, models=("Base",),
    ...                          n_train=200, n_test=100, n_features=4, width=8,
    ...                          lr=1e-2, max_epochs=2)
    >>> result.runs[["split", "group", "n"]].to_numpy().tolist()
    [['test', 'consistent', 100], ['test', 'inconsistent', 100], ['train', 'consistent', 200], ['train', 'inconsistent', 0]]
    """  # noqa: E501
    unknown = sorted(set(models) - set(MODEL_NAMES))
    if unknown:
        raise ValueError(
            f"run_confounding got unknown models {unknown}; expected a subset of "
            f"{list(MODEL_NAMES)}."
        )
    if data not in ("synthetic", "hh-rlhf"):
        raise ValueError(
            f"run_confounding got data={data!r}; expected 'synthetic' or 'hh-rlhf'."
        )
    generator_params = dict(
        SYNTHETIC_GENERATOR if generator_params is None else generator_params
    )
    config = {
        "rhos": [float(r) for r in rhos],
        "n_seeds": int(n_seeds),
        "models": list(models),
        "data": data,
        "n_train": int(n_train),
        "n_test": n_test,
        "n_features": int(n_features),
        "generator_params": generator_params,
        "width": int(width),
        "lr": float(lr),
        "max_epochs": int(max_epochs),
        "adversary_weight": float(adversary_weight),
        "random_state": random_state,
    }
    source_seed, *seeds = seeds_from(random_state, n_seeds + 1)
    if data == "synthetic":
        train_set, tests = _synthetic_source(
            n_train, n_test, n_features, generator_params, source_seed
        )
    else:
        train_set, tests = _hh_rlhf_source(n_train, n_test, data_home, source_seed)
    jobs = [
        (i, seed, rho, name)
        for i, seed in enumerate(seeds)
        for rho in rhos
        for name in models
    ]
    rows, cache = [], {}
    for i, seed, rho, name in progress(
        jobs, enabled=show_progress, desc="Table 2 fits"
    ):
        data_seed, model_seed = seeds_from([seed, round(1000 * rho)], 2)
        if (i, rho) not in cache:  # one training set per (seed, rho), all models
            cache = {(i, rho): train_set(rho, data_seed)}
        X, y, consistent = cache[(i, rho)]
        model = make_reward_model(
            name,
            width=width,
            lr=lr,
            max_epochs=max_epochs,
            adversary_weight=adversary_weight,
            n_objectives=2,
            random_state=model_seed,
        )
        start = time.perf_counter()
        model.fit(X, y)
        fit_seconds = time.perf_counter() - start
        sets = {
            ("test", "consistent"): tests["consistent"],
            ("test", "inconsistent"): tests["inconsistent"],
            ("train", "consistent"): (X[consistent], y[consistent]),
            ("train", "inconsistent"): (X[~consistent], y[~consistent]),
        }
        for (split, group), (X_eval, y_eval) in sets.items():
            rows.append(
                {
                    "protocol": "confounding",
                    "data": data,
                    "seed": i,
                    "rho": float(rho),
                    "model": name,
                    "split": split,
                    "group": group,
                    "accuracy": accuracy(model, X_eval, y_eval),
                    "n": len(y_eval),
                    "fit_seconds": fit_seconds,
                }
            )
    return Bunch(runs=pd.DataFrame(rows), config=config)
