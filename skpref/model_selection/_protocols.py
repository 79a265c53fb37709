"""The two protocols of :class:`RhoStratifiedSplitter`: latent and confounding.

Each ``*_draw`` function checks the data once and returns ``draw(train_rng,
test_rng)``, which gives one repetition's training and test indices and the
dependence they achieve.
"""

import numpy as np

from skpref.model_selection._sampling import (
    confounded_capacity,
    correlation,
    sample_confounded,
    sample_with_correlation,
)
from skpref.utils._validation import split_pairs

__all__ = ["confounding_draw", "latent_draw"]

_OWNER = "RhoStratifiedSplitter"


def latent_draw(cv, delta, n_train, n_test):
    """Return the latent-mode sampler: ``corr(delta_j, delta_k) = cv.rho``."""
    factors = tuple(cv.factors)
    if (
        len(factors) != 2
        or len(set(factors)) != 2
        or not all(0 <= int(j) < delta.shape[1] for j in factors)
    ):
        raise ValueError(
            f"{_OWNER} expects factors to be two different columns of delta "
            f"(0..{delta.shape[1] - 1}); got factors={cv.factors!r}."
        )
    d1, d2 = delta[:, factors[0]], delta[:, factors[1]]
    all_pairs = np.arange(d1.size)

    def draw(train_rng, test_rng):
        train, rho_train, (lo, hi) = sample_with_correlation(
            d1, d2, all_pairs, n_train, cv.rho, train_rng
        )
        if train is None:
            raise ValueError(
                f"{_OWNER} needs at least 3 training pairs; got train_size="
                f"{cv.train_size!r} ({n_train} pairs)."
            )
        _check_reached(cv, rho_train, lo, hi, "training", n_train)
        rest = np.setdiff1d(all_pairs, train)
        if cv.test == "out_of_distribution":
            eligible = rest[d1[rest] * d2[rest] < 0]
            test = _take(cv, eligible, n_test, test_rng, "disagreement-quadrant")
            return train, test, rho_train, correlation(d1[test], d2[test])
        size = min(n_train, rest.size // 2) if n_test is None else n_test
        test, rho_test, (lo, hi) = sample_with_correlation(
            d1, d2, rest, size, cv.rho, test_rng
        )
        if test is None:
            raise ValueError(
                f"{_OWNER} has {rest.size} pairs left after training; it cannot "
                f"draw {size} in-distribution test pairs. Lower train_size or "
                "test_size."
            )
        _check_reached(cv, rho_test, lo, hi, "in-distribution test", size)
        return train, test, rho_train, rho_test

    return draw


def _check_reached(cv, achieved, lo, hi, which, size):
    if abs(achieved - cv.rho) <= cv.tol:
        return
    if cv.rho > hi:
        bound = f"the highest it can reach is {hi:.3f}"
    elif cv.rho < lo:
        bound = f"the lowest it can reach is {lo:.3f}"
    else:
        bound = f"the closest it reached is {achieved:.3f}"
    raise ValueError(
        f"{_OWNER} cannot draw {size} {which} pairs with corr(delta) = "
        f"{cv.rho} (tolerance {cv.tol}) from these data: {bound}. Use a "
        "rho in that range, a smaller train_size or test_size, or more pairs."
    )


def _take(cv, eligible, n_test, rng, what):
    if n_test is None:
        return eligible
    if n_test > eligible.size:
        raise ValueError(
            f"{_OWNER} has only {eligible.size} {what} pairs left after "
            f"training; it cannot draw test_size={cv.test_size!r} "
            f"({n_test} pairs). Use test_size <= {eligible.size} or None."
        )
    return np.sort(rng.choice(eligible, n_test, replace=False))


def confounding_draw(cv, X, prompt_type, n_train, n_test):
    """Return the confounding-mode sampler: ``P(t = c) = cv.rho`` per objective."""
    _, _, objective = split_pairs(X, with_objective=True, owner=_OWNER)
    prompt_type = np.asarray(prompt_type)
    not_whole = prompt_type[prompt_type != np.rint(prompt_type)]
    if not_whole.size:
        raise ValueError(
            f"{_OWNER} expects integer prompt types in the objective coding "
            f"0..K-1; got the value {float(not_whole[0])!r}."
        )
    levels = np.unique(objective)
    per_objective = n_train // levels.size
    all_pairs = np.arange(objective.size)
    consistent = prompt_type == objective

    def draw(train_rng, test_rng):
        train = sample_confounded(
            prompt_type, objective, all_pairs, per_objective, cv.rho, train_rng
        )
        if train is None or per_objective == 0:
            capacity = confounded_capacity(prompt_type, objective, all_pairs, cv.rho)
            _raise_confounding(cv, capacity, per_objective, levels.size)
        rest = np.setdiff1d(all_pairs, train)
        rho_train = float(consistent[train].mean())
        if cv.test == "in_distribution":
            largest = confounded_capacity(prompt_type, objective, rest, cv.rho)[2]
            size = largest if n_test is None else n_test
            test = sample_confounded(
                prompt_type,
                objective,
                rest,
                size // levels.size,
                cv.rho,
                test_rng,
            )
            if test is None or test.size == 0:
                raise ValueError(
                    f"{_OWNER} cannot draw {size} in-distribution test pairs "
                    f"with P(t = c) = {cv.rho} from the {rest.size} pairs "
                    f"left after training; at most {largest} can be drawn. "
                    "Lower test_size or train_size."
                )
        else:
            keep = consistent[rest] == (cv.test == "consistent")
            what = "consistent" if cv.test == "consistent" else "inconsistent"
            test = _take(cv, rest[keep], n_test, test_rng, what)
        rho_test = float(consistent[test].mean()) if test.size else np.nan
        return train, test, rho_train, rho_test

    return draw


def _raise_confounding(cv, capacity, per_objective, k):
    if per_objective == 0:
        raise ValueError(
            f"{_OWNER}(mode='confounding') needs at least one training pair per "
            f"objective ({k} objectives); got train_size={cv.train_size!r}."
        )
    n_consistent, n_inconsistent, max_train = capacity
    rho_high = min(1.0, n_consistent.min() / per_objective)
    rho_low = max(0.0, 1 - n_inconsistent.min() / per_objective)
    raise ValueError(
        f"{_OWNER} cannot draw {per_objective * k} training pairs "
        f"({per_objective} per objective) with P(t = c) = {cv.rho}: at this "
        f"rho the data allow at most {max_train} training pairs, and at this "
        f"size rho must lie in [{rho_low:.3f}, {rho_high:.3f}]. Lower "
        "train_size or change rho."
    )
