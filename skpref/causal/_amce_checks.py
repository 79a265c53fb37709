"""Checks of the AMCE's inputs: hard labels, binary varying factors, clusters."""

import numpy as np

__all__ = ["check_binary_factors", "check_hard_labels", "cluster_ids"]


def check_hard_labels(y, *, owner):
    """Refuse soft labels: the AMCE here is defined by hard preferences.

    Examples
    --------
    >>> from skpref.causal._amce_checks import check_hard_labels
    >>> check_hard_labels([0.0, 1.0], owner="demo")
    """
    values = np.unique(np.asarray(y))
    if values.dtype.kind in "fc" and not np.all(np.isin(values, [0.0, 1.0])):
        bad = values[~np.isin(values, [0.0, 1.0])][0]
        raise ValueError(
            f"{owner} expects hard pair labels y in {{0, 1}} (1 means response a "
            f"is preferred); got the value {float(bad)!r}. Soft labels and ties "
            "are not supported: give each annotator's label its own row."
        )


def check_binary_factors(Z_pairs, n_factors, factor_names, *, owner):
    """Check 0/1 factors that vary within pairs; return the factors' names.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.causal._amce_checks import check_binary_factors
    >>> check_binary_factors(np.array([[1, 0], [0, 1]]), 1, None, owner="demo")
    ['factor_0']
    """
    values = np.unique(Z_pairs)
    if not np.all(np.isin(values, [0.0, 1.0])):
        bad = values[~np.isin(values, [0.0, 1.0])][0]
        raise ValueError(
            f"{owner} expects binary latent factors coded 0/1 in Z_pairs "
            f"[z_a | z_b]; got the value {float(bad)!r}. One-hot encode "
            "categorical factors, or threshold continuous ones, first."
        )
    names = factor_names
    if names is None:
        names = [f"factor_{k}" for k in range(n_factors)]
    if len(names) != n_factors:
        raise ValueError(
            f"{owner} got {len(names)} factor_names for {n_factors} factors "
            f"(Z_pairs has {2 * n_factors} columns); give one name per factor."
        )
    names = list(names)
    varies = np.any(Z_pairs[:, :n_factors] != Z_pairs[:, n_factors:], axis=0)
    if not varies.all():
        k = int(np.flatnonzero(~varies)[0])
        raise ValueError(
            f"{owner}: factor {names[k]!r} never differs between the two "
            "responses of a pair, so its effect is not identified (latent "
            "positivity, Assumption 5, fails). Drop it or collect pairs that vary "
            "it."
        )
    return names


def cluster_ids(groups, n_pairs, *, owner):
    """Return each pair's cluster as ``0..G-1``; every pair its own without groups.

    Examples
    --------
    >>> from skpref.causal._amce_checks import cluster_ids
    >>> cluster_ids(["x", "y", "x"], 3, owner="demo").tolist()
    [0, 1, 0]
    """
    if groups is None:
        return np.arange(n_pairs)
    groups = np.asarray(groups)
    if groups.shape != (n_pairs,):
        raise ValueError(
            f"{owner} expects groups of shape ({n_pairs},), one cluster id per "
            f"pair; got shape {groups.shape}."
        )
    clusters = np.unique(groups, return_inverse=True)[1].ravel()
    if clusters.max() < 1:
        raise ValueError(
            f"{owner} needs at least 2 clusters in groups for inference; got a "
            "single one."
        )
    return clusters
