"""Latent positivity diagnostics (Assumption 5, section 3.2.1, appendix D.1)."""

import itertools
import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array

from skpref.causal._report import DiagnosticReport, PositivityWarning
from skpref.utils import Interval, check_factor_pair, validate_params

__all__ = [
    "disagreement_quadrant_mass",
    "disagreement_share",
    "latent_positivity_report",
]


@validate_params(
    {"rho": ["array-like", Interval(numbers.Real, -1, 1, closed="both")]},
    prefer_skip_nested_validation=True,
)
def disagreement_quadrant_mass(rho):
    """Probability that two correlated Gaussian differences disagree in sign.

    For ``(delta_1, delta_2)`` bivariate normal with mean zero and correlation
    ``rho``, ``P(delta_1 * delta_2 < 0) = 1/2 - arcsin(rho) / pi`` (appendix D.1).
    Only these pairs tell the effect of factor 1 from that of factor 2.

    Parameters
    ----------
    rho : float or array-like of float
        Correlation(s) in ``[-1, 1]``.

    Returns
    -------
    mass : float or ndarray
        The probability of the second and fourth quadrants.

    Examples
    --------
    >>> float(disagreement_quadrant_mass(0.0))
    0.5
    >>> round(float(disagreement_quadrant_mass(0.9)), 4)
    0.1436
    """
    rho_arr = np.asarray(rho, dtype=np.float64)
    if np.any(np.abs(rho_arr) > 1) or not np.all(np.isfinite(rho_arr)):
        raise ValueError(
            "disagreement_quadrant_mass expects correlations in [-1, 1]; got "
            f"{float(rho_arr[~(np.abs(rho_arr) <= 1)][0])!r}."
        )
    mass = 0.5 - np.arcsin(rho_arr) / np.pi
    return float(mass) if mass.ndim == 0 else mass


def _check_delta(delta, owner):
    delta = check_array(delta, dtype=np.float64, input_name="delta")
    if delta.shape[1] < 2:
        raise ValueError(
            f"{owner} expects delta of shape (n_pairs, n_factors) with at least 2 "
            f"factors (the differences z_a - z_b of each latent factor); got "
            f"{delta.shape[1]} column."
        )
    return delta


@validate_params(
    {"delta": ["array-like"], "factors": [tuple, list]},
    prefer_skip_nested_validation=True,
)
def disagreement_share(delta, factors=(0, 1)):
    """Share of pairs whose two factor differences have opposite signs.

    Parameters
    ----------
    delta : array-like of shape (n_pairs, n_factors)
        Latent factor differences ``z_a - z_b``.
    factors : tuple of two int, default=(0, 1)
        The columns compared.

    Returns
    -------
    share : float
        ``mean(delta[:, j] * delta[:, k] < 0)``.

    Examples
    --------
    >>> disagreement_share([[1, -1], [1, 1], [-2, 3], [0, 1]])
    0.5
    """
    delta = _check_delta(delta, "disagreement_share")
    j, k = check_factor_pair(factors, delta.shape[1], owner="disagreement_share")
    return float(np.mean(delta[:, j] * delta[:, k] < 0))


@validate_params(
    {
        "delta": ["array-like"],
        "factor_names": ["array-like", None],
        "min_informative": [Interval(numbers.Integral, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def latent_positivity_report(delta, *, factor_names=None, min_informative=50):
    """How well the data separate the effects of the latent factors.

    For every two factors ``j, k`` it reports their correlation, the share and
    number of *informative* pairs (``delta_j * delta_k < 0``: the disagreement
    quadrants of appendix D.1, the only pairs whose label depends on how the two
    effects compare) and the share a Gaussian with that correlation would have,
    ``1/2 - arcsin(rho)/pi``. For every factor it reports the effective number of
    pairs ``n * (1 - R_j^2)``, ``R_j^2`` the share of the variance of ``delta_j``
    explained by the other differences: a linear reward's coefficient of factor
    ``j`` is estimated as precisely as from that many uncorrelated pairs.

    Parameters
    ----------
    delta : array-like of shape (n_pairs, n_factors)
        Latent factor differences ``z_a - z_b`` of each pair, ``n_factors >= 2``.
    factor_names : list of str, default=None
        Names of the factors; ``factor_0, factor_1, ...`` by default.
    min_informative : int, default=50
        A :class:`PositivityWarning` is issued when two factors have fewer
        informative pairs than this, or a factor's effective number of pairs is
        below it.

    Returns
    -------
    report : DiagnosticReport
        Summary ``n_pairs``, ``min_disagreement_share``, ``min_n_informative``,
        ``min_n_effective``; tables ``factor_pairs`` and ``factors``.

    Warns
    -----
    PositivityWarning
        When the effects of two factors cannot be told apart reliably.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> delta = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], size=2000)
    >>> report = latent_positivity_report(delta, factor_names=["truth", "follow"])
    >>> round(report["min_disagreement_share"], 2), report.problems  # theory: 1/3
    (0.32, [])
    """
    owner = "latent_positivity_report"
    delta = _check_delta(delta, owner)
    n_pairs, n_factors = delta.shape
    if factor_names is None:
        factor_names = [f"factor_{j}" for j in range(n_factors)]
    if len(factor_names) != n_factors:
        raise ValueError(
            f"{owner} got {len(factor_names)} factor_names for {n_factors} columns "
            "of delta; give one name per column."
        )
    std = delta.std(axis=0)
    problems = []
    rows = []
    for j, k in itertools.combinations(range(n_factors), 2):
        rho = (
            float(np.corrcoef(delta[:, j], delta[:, k])[0, 1])
            if std[j] > 0 and std[k] > 0
            else np.nan
        )
        informative = int(np.sum(delta[:, j] * delta[:, k] < 0))
        rows.append(
            {
                "factor_a": factor_names[j],
                "factor_b": factor_names[k],
                "correlation": rho,
                "disagreement_share": informative / n_pairs,
                "gaussian_share": (
                    disagreement_quadrant_mass(np.clip(rho, -1, 1))
                    if np.isfinite(rho)
                    else np.nan
                ),
                "n_informative": informative,
            }
        )
        if informative < min_informative:
            problems.append(
                f"only {informative} of {n_pairs} pairs have differences of "
                f"{factor_names[j]} and {factor_names[k]} of opposite signs, fewer "
                f"than min_informative={min_informative}: their effects cannot be "
                "told apart reliably (latent positivity, Assumption 5). Collect "
                "pairs where the two factors disagree."
            )
    factor_rows = []
    for j in range(n_factors):
        if std[j] == 0:
            n_eff = 0.0
        else:
            others = np.delete(delta, j, axis=1)
            design = np.column_stack([np.ones(n_pairs), others])
            coef, *_ = np.linalg.lstsq(design, delta[:, j], rcond=None)
            resid = delta[:, j] - design @ coef
            n_eff = n_pairs * float(resid.var() / delta[:, j].var())
        factor_rows.append(
            {
                "factor": factor_names[j],
                "share_nonzero": float(np.mean(delta[:, j] != 0)),
                "n_effective": n_eff,
            }
        )
        if n_eff < min_informative:
            problems.append(
                f"{factor_names[j]} has an effective number of pairs of "
                f"{n_eff:.1f} (n * (1 - R^2) against the other factors), below "
                f"min_informative={min_informative}: its effect is nearly "
                "confounded with the others (latent positivity, Assumption 5)."
            )
    pairs_table = pd.DataFrame(rows)
    factors_table = pd.DataFrame(factor_rows).set_index("factor")
    for problem in problems:
        warnings.warn(problem, PositivityWarning, stacklevel=2)
    summary = {
        "n_pairs": n_pairs,
        "min_disagreement_share": float(pairs_table["disagreement_share"].min()),
        "min_n_informative": int(pairs_table["n_informative"].min()),
        "min_n_effective": float(factors_table["n_effective"].min()),
    }
    return DiagnosticReport(
        "Latent positivity",
        summary,
        {"factor_pairs": pairs_table, "factors": factors_table},
        problems,
    )
