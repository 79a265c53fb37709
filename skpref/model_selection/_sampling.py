"""Pure index samplers behind :class:`~skpref.model_selection.RhoStratifiedSplitter`.

They take a NumPy random generator and return index arrays; they know nothing about
scikit-learn, so they can be tested on their own.
"""

import numpy as np

__all__ = [
    "confounded_capacity",
    "correlation",
    "direction_score",
    "product_score",
    "sample_confounded",
    "sample_with_correlation",
]

# A tilt this strong turns weighted sampling into a deterministic "take the pairs
# with the highest score": the edge of what a subset of this size can reach.
_MAX_TILT = 1e4


def correlation(a, b):
    """Pearson correlation of two 1-D arrays; 0 when either is constant."""
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def direction_score(d1, d2):
    """``sin(2 * angle)`` of the standardised ``(d1, d2)``: +1 on the diagonal.

    The score is +1 where the two standardised differences are equal, -1 where they
    are opposite and 0 on the axes, so it ranks pairs by how much they push the
    correlation up, independently of how large the differences are.
    """
    z1 = (d1 - d1.mean()) / (d1.std() or 1.0)
    z2 = (d2 - d2.mean()) / (d2.std() or 1.0)
    norm = z1**2 + z2**2
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(norm > 0, 2 * z1 * z2 / norm, 0.0)
    return score


def _top(keys, size):
    return np.argpartition(-keys, size - 1)[:size] if size < keys.size else None


def product_score(d1, d2):
    """Product of the standardised ``d1`` and ``d2``.

    Weighting a Gaussian by ``exp(theta * z1 * z2)`` gives another Gaussian with
    a different correlation, so tilting by this score keeps Gaussian data Gaussian.
    """
    z1 = (d1 - d1.mean()) / (d1.std() or 1.0)
    z2 = (d2 - d2.mean()) / (d2.std() or 1.0)
    return z1 * z2


def sample_with_correlation(d1, d2, pool, size, target, rng):
    """Draw ``size`` indices of ``pool`` whose ``corr(d1, d2)`` is near ``target``.

    Weighted sampling without replacement (Gumbel top-k) with weights
    ``exp(theta * score)``; the tilt ``theta`` is found by bisection on the
    achieved correlation. The score is first :func:`product_score` (an exponential
    tilt that keeps Gaussian data Gaussian); when the target lies beyond what that
    tilt reaches, :func:`direction_score`, which reaches further.

    Returns
    -------
    indices : ndarray of int
        The chosen indices (a subset of ``pool``), or ``None`` if ``size`` exceeds
        the pool.
    achieved : float
        The correlation of the chosen indices.
    reachable : tuple of float
        The lowest and highest correlation this sampler reaches for this size.
    """
    pool = np.asarray(pool)
    if size > pool.size or size < 3:
        return None, np.nan, (np.nan, np.nan)
    a, b = d1[pool], d2[pool]
    noise = rng.gumbel(size=pool.size)
    chosen, reach = _tilted(a, b, product_score(a, b), noise, size, target)
    if not reach[0] <= target <= reach[1]:
        chosen, reach_dir = _tilted(a, b, direction_score(a, b), noise, size, target)
        reach = (min(reach[0], reach_dir[0]), max(reach[1], reach_dir[1]))
    chosen = _refine_by_swaps(a, b, chosen, target, rng)
    return pool[np.sort(chosen)], correlation(a[chosen], b[chosen]), reach


def _tilted(a, b, score, noise, size, target):
    def draw(theta):
        keys = theta * score + noise
        chosen = np.arange(a.size) if size == a.size else _top(keys, size)
        return chosen, correlation(a[chosen], b[chosen])

    lo_set, lo_corr = draw(-_MAX_TILT)
    hi_set, hi_corr = draw(_MAX_TILT)
    best_set, best_corr = min(
        [(lo_set, lo_corr), (hi_set, hi_corr), draw(0.0)],
        key=lambda item: abs(item[1] - target),
    )
    if lo_corr < target < hi_corr:
        # the tilt spans many orders of magnitude: bisect on its signed log
        lo_t, hi_t = -np.log1p(_MAX_TILT), np.log1p(_MAX_TILT)
        for _ in range(60):
            mid_t = 0.5 * (lo_t + hi_t)
            chosen, corr = draw(np.sign(mid_t) * np.expm1(abs(mid_t)))
            if abs(corr - target) < abs(best_corr - target):
                best_set, best_corr = chosen, corr
            if corr < target:
                lo_t = mid_t
            else:
                hi_t = mid_t
            if abs(best_corr - target) < 1e-4:
                break
    return best_set, (lo_corr, hi_corr)


def _refine_by_swaps(a, b, chosen, target, rng, n_candidates=256, n_rounds=30):
    """Greedy one-for-one swaps that bring the correlation closer to ``target``.

    With few pairs a single step of the tilt can move the correlation by several
    hundredths; swapping one chosen pair for one left out closes that last gap.
    """
    chosen = np.array(chosen)
    mask = np.zeros(a.size, dtype=bool)
    mask[chosen] = True
    m = chosen.size
    for _ in range(n_rounds):
        left_out = np.flatnonzero(~mask)
        if left_out.size == 0:
            break
        a_in, b_in = a[chosen], b[chosen]
        sums = np.array(
            [a_in.sum(), b_in.sum(), (a_in**2).sum(), (b_in**2).sum(), a_in @ b_in]
        )
        gap = abs(_corr_from_sums(sums, m) - target)
        if gap < 1e-3:
            break
        cand = rng.choice(left_out, min(n_candidates, left_out.size), replace=False)
        a_out, b_out = a[cand][None, :], b[cand][None, :]
        a_rm, b_rm = a_in[:, None], b_in[:, None]
        new = [
            sums[0] - a_rm + a_out,
            sums[1] - b_rm + b_out,
            sums[2] - a_rm**2 + a_out**2,
            sums[3] - b_rm**2 + b_out**2,
            sums[4] - a_rm * b_rm + a_out * b_out,
        ]
        new_gap = np.abs(_corr_from_sums(new, m) - target)
        i, j = np.unravel_index(np.argmin(new_gap), new_gap.shape)
        if new_gap[i, j] >= gap:
            break
        mask[chosen[i]] = False
        mask[cand[j]] = True
        chosen[i] = cand[j]
    return chosen


# Not np.corrcoef: a swap round scores every (chosen, candidate) swap at once from
# five running sums. Measured on 2,000 chosen pairs and 256 candidates: 27 ms per
# round this way, against 26 s for one np.corrcoef call per swap (50 us each).
def _corr_from_sums(sums, m):
    s1, s2, s11, s22, s12 = sums
    cov = s12 - s1 * s2 / m
    var = (s11 - s1**2 / m) * (s22 - s2**2 / m)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 0, cov / np.sqrt(np.maximum(var, 1e-300)), 0.0)


def consistent_counts(per_objective, n_objectives, rho, rng):
    """Consistent pairs of each objective in a draw of ``per_objective`` each.

    Their total is ``rho`` times the draw's size, rounded half up: the closest
    share the draw can hold. Each objective takes ``floor(rho * per_objective)``
    and the pairs left over go one each to objectives chosen at random (no
    random number is drawn where none are left over).
    """
    total = per_objective * n_objectives
    target = int(np.floor(rho * total + 0.5))
    counts = np.full(n_objectives, int(np.floor(rho * per_objective + 1e-9)))
    extra = target - int(counts.sum())
    if extra > 0:
        counts[rng.choice(n_objectives, extra, replace=False)] += 1
    return counts


def sample_confounded(prompt_type, objective, pool, per_objective, rho, rng):
    """Draw ``per_objective`` indices of ``pool`` per objective, consistent or not.

    A share ``rho`` of the drawn pairs, as close as the draw's size allows
    (:func:`consistent_counts`), is consistent (``prompt_type == objective``).

    Returns ``None`` when a stratum of the pool is too small.
    """
    pool = np.asarray(pool)
    levels = np.unique(objective)
    counts = consistent_counts(per_objective, levels.size, rho, rng)
    chosen = []
    for c, n_consistent in zip(levels, counts, strict=True):
        in_c = pool[objective[pool] == c]
        consistent = in_c[prompt_type[in_c] == c]
        inconsistent = in_c[prompt_type[in_c] != c]
        if (
            n_consistent > consistent.size
            or per_objective - n_consistent > inconsistent.size
        ):
            return None
        chosen.append(rng.choice(consistent, n_consistent, replace=False))
        chosen.append(
            rng.choice(inconsistent, per_objective - n_consistent, replace=False)
        )
    return np.sort(np.concatenate(chosen))


def confounded_capacity(prompt_type, objective, pool, rho):
    """How many pairs of ``pool`` a draw with ``P(t = c) = rho`` can take.

    Returns
    -------
    n_consistent, n_inconsistent : ndarray of int
        Consistent and inconsistent pairs of each objective in ``pool``.
    largest : int
        The largest total, equal across objectives, with a share ``rho`` of
        consistent pairs.
    """
    pool = np.asarray(pool)
    levels = np.unique(objective)
    sub_objective = objective[pool]
    same = prompt_type[pool] == sub_objective
    n_consistent = np.array([np.sum(same & (sub_objective == c)) for c in levels])
    n_inconsistent = np.array([np.sum(~same & (sub_objective == c)) for c in levels])
    with np.errstate(divide="ignore"):
        cap_consistent = n_consistent / rho if rho > 0 else np.inf
        cap_inconsistent = n_inconsistent / (1 - rho) if rho < 1 else np.inf
    cap = np.min(np.minimum(cap_consistent, cap_inconsistent))
    return n_consistent, n_inconsistent, int(np.floor(cap + 1e-9)) * levels.size
