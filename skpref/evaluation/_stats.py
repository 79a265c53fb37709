"""Intervals, length control and paired tests of reward-model evaluations."""

import numpy as np
import pandas as pd
from scipy import stats

from skpref.evaluation._scorers import response_length
from skpref.metrics import covariate_controlled_accuracy

__all__ = [
    "SMALL_SUBSET",
    "holm",
    "length_controlled_accuracy",
    "percentile_interval",
    "sign_test",
]

#: Subsets with fewer examples get a warning and an exact interval as well.
SMALL_SUBSET = 10


def percentile_interval(resamples, alpha):
    """Return the percentile bootstrap interval of each column (row 0: estimate).

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.evaluation._stats import percentile_interval
    >>> low, high = percentile_interval(np.arange(101.0)[:, None], 0.1)
    >>> float(low[0]), float(high[0])
    (5.95, 95.05)
    """
    draws = resamples[1:]
    low = np.quantile(draws, alpha / 2, axis=0)
    high = np.quantile(draws, 1 - alpha / 2, axis=0)
    return low, high


def exact_interval(values, alpha):
    """Clopper-Pearson interval of a mean of values in [0, 1] (rounded count)."""
    n = len(values)
    k = int(round(float(np.sum(values))))
    ci = stats.binomtest(k, n).proportion_ci(1 - alpha, method="exact")
    return ci.low, ci.high


def comparisons(examples, results):
    """Every chosen-against-rejected comparison, with both responses' lengths."""
    rows = []
    for prompt_rows in zip(
        examples["chosen"],
        examples["rejected"],
        results["reward_chosen"],
        results["reward_rejected"],
        results["subset"],
        strict=True,
    ):
        chosen, rejected, rc, rr, subset = prompt_rows
        for c, x in zip(chosen, rc, strict=True):
            for r, y in zip(rejected, rr, strict=True):
                rows.append((subset, response_length(c), response_length(r), x, y))
    return pd.DataFrame(
        rows, columns=["subset", "length_chosen", "length_rejected", "rc", "rr"]
    )


def length_controlled_accuracy(pairs):
    """Accuracy averaged with equal weight over strata of the length difference.

    Parameters
    ----------
    pairs : pandas.DataFrame
        Columns ``length_chosen``, ``length_rejected``, ``rc``, ``rr`` (the
        rewards of the chosen and the rejected response).

    Returns
    -------
    accuracy : float
        :func:`skpref.metrics.covariate_controlled_accuracy` of the lengths:
        the mean over the non-empty strata of the relative length difference
        ``(len_c - len_r) / max(len_c, len_r, 1)`` (cut at -0.5, -0.1, 0.1 and
        0.5) of the share of pairs in which the chosen response out-scores the
        rejected one (a tie counts as wrong).
    agreement : float
        The share of pairs of unequal lengths that the rewards order as the
        length ruler does (the longer response scores higher); equal rewards
        order neither way and count as disagreeing. NaN if no such pair.

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.evaluation._stats import length_controlled_accuracy
    >>> pairs = pd.DataFrame({"length_chosen": [10, 10, 10, 1],
    ...                       "length_rejected": [1, 1, 1, 10],
    ...                       "rc": [1, 1, 1, 0], "rr": [0, 0, 0, 1]})
    >>> length_controlled_accuracy(pairs)
    (0.5, 1.0)
    """
    lc = pairs["length_chosen"].to_numpy(float)
    lr = pairs["length_rejected"].to_numpy(float)
    wins = pairs["rc"].to_numpy(float) > pairs["rr"].to_numpy(float)
    # the chosen response as a, preferred in every pair; a win as P(a > b) = 1,
    # so that equal rewards count as a loss, as the benchmarks count them
    accuracy = covariate_controlled_accuracy(
        np.ones(len(wins)),
        wins.astype(float),
        covariates=pd.DataFrame({"length_a": lc, "length_b": lr}),
    )
    differ = lc != lr
    if not differ.any():
        return accuracy, float("nan")
    # the sign of the reward difference against that of the length difference:
    # a tie (sign 0) matches neither
    by_length = np.sign(lc[differ] - lr[differ])
    by_reward = np.sign(
        pairs["rc"].to_numpy(float)[differ] - pairs["rr"].to_numpy(float)[differ]
    )
    return accuracy, float(np.mean(by_length == by_reward))


def sign_test(a, b):
    """Exact McNemar test of paired per-example results ``a`` and ``b``.

    On 0/1 results this is McNemar's exact test: a binomial test of the
    discordant examples; on results in [0, 1] it is the sign test of the
    examples where they differ.

    Returns
    -------
    a_better, b_better : int
        The discordant examples in favour of each.
    pvalue : float

    Examples
    --------
    >>> from skpref.evaluation._stats import sign_test
    >>> sign_test([1, 1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0])
    (6, 0, 0.03125)
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    a_better, b_better = int(np.sum(a > b)), int(np.sum(b > a))
    if a_better + b_better == 0:
        return 0, 0, 1.0
    pvalue = stats.binomtest(a_better, a_better + b_better, 0.5).pvalue
    return a_better, b_better, float(pvalue)


def holm(pvalues):
    """Holm's step-down adjustment of p-values (family-wise error control).

    Examples
    --------
    >>> from skpref.evaluation._stats import holm
    >>> holm([0.01, 0.04, 0.03]).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, float)
    order = np.argsort(p)
    m = len(p)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted
