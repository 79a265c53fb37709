"""The latent-positivity protocol: the paper's Table 1 (appendix D.1-D.2).

A BTL model is trained on pairs whose two latent factor differences
``delta_1, delta_2`` have correlation ``rho_train`` and is tested on unseen pairs
from the same distribution (ID) and on pairs from the disagreement quadrants
``delta_1 * delta_2 < 0`` only (OOD), where the reward ``0.25 z_1 + 0.75 z_2``
and a wrongly weighted one disagree most often.
"""

import time

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from skpref.experiments._common import accuracy, make_reward_model, progress, seeds_from

__all__ = ["RHOS_TABLE1", "fitted_alpha", "run_latent_positivity"]

#: The training correlations of Table 1.
RHOS_TABLE1 = (0.0, 0.3, 0.6, 0.9)
#: The reward weight of the first factor, ``r = alpha z_1 + (1 - alpha) z_2``.
ALPHA = 0.25


def fitted_alpha(model, E, Z):
    """Estimate the weight ``alpha_hat`` a fitted model puts on the first factor.

    The reward ``r(e)`` the model gives single responses ``E`` is regressed
    linearly on their true latent factors ``Z`` (first two columns);
    ``alpha_hat = w_1 / (w_1 + w_2)`` is the slope of the model's decision
    boundary in the ``(delta_1, delta_2)`` plane (appendix D.1, Figure 7).
    """
    reward = model.predict_reward(E)
    design = np.column_stack([Z[:, :2], np.ones(len(Z))])
    w = np.linalg.lstsq(design, reward, rcond=None)[0]
    return float(w[0] / (w[0] + w[1]))


def _ood_pairs(n_pairs, n_features, feature_map_seed, seed):
    """``n_pairs`` pairs with ``delta_1 * delta_2 < 0`` (quadrants 2 and 4)."""
    from skpref.datasets import make_latent_preferences

    pool = make_latent_preferences(
        n_pairs=3 * n_pairs,
        n_features=n_features,
        rho=0.0,
        feature_map_seed=feature_map_seed,
        random_state=seed,
    )
    keep = np.flatnonzero(pool.delta[:, 0] * pool.delta[:, 1] < 0)[:n_pairs]
    return pool.X[keep], pool.y_true[keep], pool.delta[keep]


def run_latent_positivity(
    *,
    rhos=RHOS_TABLE1,
    n_seeds=3,
    n_train=2000,
    n_test=2000,
    n_features=32,
    label_noise=0.0,
    width=512,
    lr=1e-4,
    max_epochs=10,
    random_state=0,
    show_progress=False,
):
    """Run the Table 1 protocol on synthetic latent-factor data.

    For each seed and each ``rho_train``, a BTL model (:func:`make_reward_model`
    ``"BTL"``) is fitted on ``n_train`` pairs of
    :func:`~skpref.datasets.make_latent_preferences` with that correlation, and
    scored against the noise-free labels of ``n_test`` ID pairs (same ``rho``) and
    ``n_test`` OOD pairs (quadrants 2 and 4 of the ``(delta_1, delta_2)`` plane).
    One feature map (the "LLM") serves every seed; seeds differ in the sampled
    pairs and the network initialisation. The OOD test set of a seed is shared
    by all ``rho``.

    Parameters
    ----------
    rhos : sequence of float, default=(0.0, 0.3, 0.6, 0.9)
        Training correlations.
    n_seeds : int, default=3
        Repetitions (paper: 3).
    n_train, n_test : int, default=2000
        Pairs per training set and per test set.
    n_features : int, default=32
        Embedding width ``d`` of the synthetic features.
    label_noise : float, default=0.0
        BTL label noise of the training labels (tests use noise-free labels).
    width, lr, max_epochs : default=512, 1e-4, 10
        Network width, learning rate and epochs (paper: 512, 1e-4, 10).
    random_state : int, default=0
        Seed of everything.
    show_progress : bool, default=False
        Show a progress bar.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``runs``: a DataFrame with one row per (seed, rho_train, test set):
        ``protocol, data, seed, rho_train, rho_achieved, test, accuracy, n_test,
        alpha_hat, fit_seconds``; ``deltas``: the training ``delta`` of the first
        seed for each ``rho`` (for Figure 7); ``alpha``: the true weight;
        ``config``: the arguments.

    Examples
    --------
    >>> from skpref.experiments import run_latent_positivity
    >>> result = run_latent_positivity(rhos=(0.0,), n_seeds=1, n_train=200,
    ...                                n_test=100, n_features=4, width=8,
    ...                                lr=1e-2, max_epochs=2)
    >>> result.runs[["rho_train", "test"]].to_numpy().tolist()
    [[0.0, 'ID'], [0.0, 'OOD']]
    """
    from skpref.datasets import make_latent_preferences

    config = {
        "rhos": [float(r) for r in rhos],
        "n_seeds": int(n_seeds),
        "n_train": int(n_train),
        "n_test": int(n_test),
        "n_features": int(n_features),
        "label_noise": float(label_noise),
        "width": int(width),
        "lr": float(lr),
        "max_epochs": int(max_epochs),
        "random_state": random_state,
    }
    feature_map_seed, *seeds = seeds_from(random_state, n_seeds + 1)
    make = {"n_features": n_features, "feature_map_seed": feature_map_seed}
    rows, deltas = [], {}
    jobs = [(i, seed, rho) for i, seed in enumerate(seeds) for rho in rhos]
    ood = {}
    for i, seed, rho in progress(jobs, enabled=show_progress, desc="Table 1 fits"):
        data_seed, test_seed, model_seed = seeds_from([seed, round(1000 * rho)], 3)
        if i not in ood:
            ood[i] = _ood_pairs(n_test, n_features, feature_map_seed, seed)
        train = make_latent_preferences(
            n_pairs=n_train, rho=rho, label_noise=label_noise, random_state=data_seed,
            **make,
        )  # fmt: skip
        test = make_latent_preferences(
            n_pairs=n_test, rho=rho, random_state=test_seed, **make
        )
        if i == 0:
            deltas[float(rho)] = train.delta[:, :2]
        model = make_reward_model(
            "BTL", width=width, lr=lr, max_epochs=max_epochs, random_state=model_seed
        )
        start = time.perf_counter()
        model.fit(train.X, train.y)
        fit_seconds = time.perf_counter() - start
        d = n_features
        alpha_hat = fitted_alpha(model, test.X[:, :d], test.Z_a)
        achieved = float(np.corrcoef(train.delta[:, :2].T)[0, 1])
        for name, (X, y) in {"ID": (test.X, test.y_true), "OOD": ood[i][:2]}.items():
            rows.append(
                {
                    "protocol": "latent-positivity",
                    "data": "synthetic",
                    "seed": i,
                    "rho_train": float(rho),
                    "rho_achieved": achieved,
                    "test": name,
                    "accuracy": accuracy(model, X, y),
                    "n_test": len(y),
                    "alpha_hat": alpha_hat,
                    "fit_seconds": fit_seconds,
                }
            )
    return Bunch(runs=pd.DataFrame(rows), deltas=deltas, alpha=ALPHA, config=config)
