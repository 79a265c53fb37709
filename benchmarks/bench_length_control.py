"""Length control on HH-RLHF helpful-base: the length adversary against the eraser.

The measurement behind the table of the spurious-factor section of
``docs/causal.rst``. On the 2,354 pairs of the shared helpful-base test file (the
reference all-MiniLM-L6-v2 embeddings), every pair is predicted by a model that
did not train on it (``KFold(5, shuffle=True, random_state=seed)``), for each
seed, with these reward models (all ``random_state=seed``):

* ``BTL``: ``BTLRewardRegressor(hidden_dim=64, latent_dim=32, max_epochs=15,
  lr=1e-3, batch_size=64)``, the model of ``examples/plot_length_control.py``;
* ``LEACE + BTL``: the same after a ``LinearConceptEraser`` fitted in each
  training fold on that fold's lengths in characters;
* ``adversary λ``: ``AdversarialRewardModel(adversary_target="n_characters")``
  of the same widths (one objective, so one head; ``head_hidden_dim`` and
  ``discriminator_hidden_dim`` 32, ``adversary_warmup`` epochs of warm-up), its
  discriminator regressing the log length in characters of each response from
  its latent (``--target log``), or classifying it into the quintiles of the
  log lengths of all responses (``--target quintiles``, a categorical
  adversary); ``λ = 0`` is the same network whose encoder gets nothing back
  from the discriminator, the baseline of the adversary's own architecture.

It prints, per seed and then as mean ± standard error over the seeds, the
accuracy on all held-out pairs, on those where the shorter (longer) response was
preferred, the length-preference rate, the length AMCE per 100 characters
(from the held-out probabilities) and ``latent R2``, how well a linear probe
(ridge regression, fitted on the training fold's responses) predicts a held-out
response's log length from the model's latent ``g(e)`` (the encoder's output;
after the eraser for ``LEACE + BTL``); then the paired differences from ``BTL``
and from ``adversary 0``, the wall time and the load average.

Run ``python benchmarks/bench_length_control.py [--seeds 0 1 2] [--lambdas 0 0.3
1 3] [--warmup 3] [--target log|quintiles]`` with ``SKPREF_DATA_HOME`` set (one
torch thread).
"""

import argparse
import os
import time

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline

from skpref import AdversarialRewardModel, BTLRewardRegressor
from skpref.causal import AMCEEstimator
from skpref.covariates import covariate_differences, pair_covariates
from skpref.datasets import load_hh_rlhf, pair_features
from skpref.metrics import (
    length_groups,
    length_preference_rate,
    pairwise_accuracy_score,
)
from skpref.preprocessing import LinearConceptEraser

WIDTHS = {"hidden_dim": 64, "latent_dim": 32}
TRAINING = {"max_epochs": 15, "lr": 1e-3, "batch_size": 64, "device": "cpu"}


def adversary_covariate(lengths, target):
    """The adversary's covariate: log lengths, or their quintile classes (strings)."""
    log_lengths = np.log(lengths.clip(lower=1))
    if target == "log":
        return log_lengths
    edges = np.quantile(log_lengths.to_numpy(), [0.2, 0.4, 0.6, 0.8])
    classes = np.digitize(log_lengths.to_numpy(), edges)
    return pd.DataFrame(classes.astype(str), columns=lengths.columns)


def held_out_probabilities(X, y, lengths, seed, lambdas, warmup, target="log"):
    """Return ``{method: P(a > b)}``, each pair predicted by the fold leaving it out."""
    log_lengths = np.log(lengths.clip(lower=1))
    covariate = adversary_covariate(lengths, target)
    methods = {
        "BTL": lambda: BTLRewardRegressor(**WIDTHS, **TRAINING, random_state=seed),
        "LEACE + BTL": lambda: make_pipeline(
            LinearConceptEraser(),
            BTLRewardRegressor(**WIDTHS, **TRAINING, random_state=seed),
        ),
    }
    for weight in lambdas:
        methods[f"adversary {weight:g}"] = lambda weight=weight: AdversarialRewardModel(
            adversary_target="n_characters",
            adversary_weight=weight,
            adversary_warmup=warmup,
            with_objective=False,
            head_hidden_dim=32,
            discriminator_hidden_dim=32,
            **WIDTHS,
            **TRAINING,
            random_state=seed,
        )
    proba = {name: np.empty(len(y)) for name in methods}
    probe = {name: [] for name in methods}
    for train, test in KFold(5, shuffle=True, random_state=seed).split(X):
        for name, make in methods.items():
            model = make()
            if name.startswith("adversary"):
                extra = {"covariates": covariate.iloc[train]}
            elif "LEACE" in name:
                extra = {"linearconcepteraser__concept": lengths.iloc[train]}
            else:
                extra = {}
            model.fit(X[train], y[train], **extra)
            proba[name][test] = model.predict_proba(X[test])[:, 1]
            features = model[:-1].transform(X) if "LEACE" in name else X
            net = model[-1] if "LEACE" in name else model
            probe[name].append(
                latent_r2(net, features, log_lengths.to_numpy(), train, test)
            )
    return proba, {name: float(np.mean(r2)) for name, r2 in probe.items()}


def latent_r2(model, features, target, train, test):
    """R² of a linear probe of the log length from the model's latent ``g(e)``.

    A ridge regression fitted on the latents of the training fold's responses,
    scored on the held-out fold's: how much of the length the latent still
    carries, linearly, on new pairs.
    """
    d = model.n_pair_features_

    def latents(rows):
        E = np.vstack([features[rows, :d], features[rows, d : 2 * d]])
        with torch.inference_mode():
            Z = model.module_.encoder(torch.as_tensor(E, dtype=torch.float32))
        return Z.numpy(), np.r_[target[rows, 0], target[rows, 1]]

    probe = RidgeCV(alphas=np.logspace(-3, 3, 7)).fit(*latents(train))
    return probe.score(*latents(test))


def scores(y, proba, probe, lengths, difference):
    """Return one row of figures per method."""
    groups = length_groups(y, difference)
    rows = {}
    for name, p in proba.items():
        figures = {"accuracy": pairwise_accuracy_score(y, p)}
        for group in ("shorter preferred", "longer preferred"):
            kept = groups == group
            figures[group] = pairwise_accuracy_score(y[kept], p[kept])
        figures["length rate"] = length_preference_rate(p, difference)
        amce = AMCEEstimator(step={"n_characters": 100.0}).fit(lengths, p)
        figures["length AMCE"] = amce.effects_[0]
        figures["latent R2"] = probe[name]
        rows[name] = figures
    return pd.DataFrame(rows).T


def mean_and_error(frames):
    """Return ``mean ± s.e.`` over the seeds of each cell, as text."""
    stacked = np.stack([frame.to_numpy() for frame in frames])
    mean = stacked.mean(0)
    error = stacked.std(0, ddof=1) / np.sqrt(len(frames)) if len(frames) > 1 else 0
    text = np.char.add(
        np.char.add(np.char.mod("%.3f", mean), " ± "),
        np.char.mod("%.3f", error + np.zeros_like(mean)),
    )
    return pd.DataFrame(text, index=frames[0].index, columns=frames[0].columns)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--lambdas", type=float, nargs="+", default=[0, 0.3, 1, 3])
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--target", choices=["log", "quintiles"], default="log")
    args = parser.parse_args()
    torch.set_num_threads(1)
    frame = load_hh_rlhf("helpful-base", embeddings="all-MiniLM-L6-v2")
    X, y = pair_features(frame), frame["label"].to_numpy()
    lengths = pair_covariates(frame, "n_characters")
    difference = covariate_differences(lengths)["n_characters"].to_numpy()
    start = time.perf_counter()
    tables = []
    pd.set_option("display.width", 200)
    for seed in args.seeds:
        proba, probe = held_out_probabilities(
            X, y, lengths, seed, args.lambdas, args.warmup, args.target
        )
        tables.append(scores(y, proba, probe, lengths, difference))
        print(f"seed {seed} ({time.perf_counter() - start:.0f} s)")
        print(tables[-1].round(3).to_string(), flush=True)
    print(f"\nmean ± s.e. over seeds {args.seeds}")
    print(mean_and_error(tables).to_string())
    for reference in ("BTL", f"adversary {args.lambdas[0]:g}"):
        print(f"\npaired difference from {reference}, mean ± s.e. over seeds")
        print(mean_and_error([t - t.loc[reference] for t in tables]).to_string())
    print(
        f"\nwall time {time.perf_counter() - start:.0f} s; load average "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} (1, 5, 15 min); "
        f"{os.cpu_count()} CPUs; torch threads {torch.get_num_threads()}"
    )


if __name__ == "__main__":
    main()
