"""The official per-example results and their aggregation, on bootstrap resamples.

Every score is computed on a stack of resamples whose row 0 is the data itself:
a subset's score is a function of per-unit weights (how often each example, or
each Ties prompt, is drawn), and sections and totals combine the subset rows of
one resample, so their intervals come from the same resamples.
"""

import math
import warnings

import numpy as np
import pandas as pd

from skpref.evaluation._constants import (
    EXAMPLE_COUNTS,
    PRIOR_SETS,
    RM_BENCH_SECTIONS,
    SUBSET_MAPPING,
    TIES_WEIGHTS,
)

__all__ = ["example_results", "resample_scores", "total_subsets"]

_STYLE_CELLS = {
    "hard": np.triu(np.ones((3, 3), bool), 1),  # chosen plainer than rejected
    "normal": np.eye(3, dtype=bool),
    "easy": np.tril(np.ones((3, 3), bool), -1),
}


def _best_of_n(chosen, rejected):
    """RewardBench 2's result: 1 / (ties at the top) if the first chosen is top."""
    scores = np.concatenate([chosen, rejected])
    top = scores.max()
    return 1.0 / np.sum(scores == top) if scores[0] == top else 0.0


def example_results(name, examples, chosen, rejected):
    """Per-example results of one benchmark from the rewards of its responses.

    Parameters
    ----------
    name : str
        The benchmark's name.
    examples : pandas.DataFrame
        :attr:`Benchmark.examples`.
    chosen, rejected : list of ndarray
        The rewards of each example's chosen and rejected responses.

    Returns
    -------
    results : pandas.DataFrame
        ``id``, ``subset``, ``value`` (the example's share of its subset's
        score: 1 or 0 for a pair, RewardBench 2's tie-penalised best-of-n, the
        mean of RM-Bench's nine comparisons), RM-Bench's ``hard``, ``normal``
        and ``easy``, and the rewards ``reward_chosen``, ``reward_rejected``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skpref.evaluation._scoring import example_results
    >>> ex = pd.DataFrame({"id": ["a"], "subset": ["s"]})
    >>> example_results("rewardbench2", ex, [np.array([2.0])],
    ...                 [np.array([2.0, 1.0, 0.0])])["value"].tolist()
    [0.5]
    """
    out = {"id": examples["id"].to_numpy(), "subset": examples["subset"].to_numpy()}
    if name == "rewardbench2":
        out["value"] = [_best_of_n(c, r) for c, r in zip(chosen, rejected, strict=True)]
    elif name == "rm-bench":
        wins = np.stack(
            [c[:, None] > r[None, :] for c, r in zip(chosen, rejected, strict=True)]
        )
        out["value"] = wins.mean(axis=(1, 2))
        for style, cells in _STYLE_CELLS.items():
            out[style] = wins[:, cells].mean(axis=1)
    else:  # upstream counts a tie as a loss
        out["value"] = [
            float(c[0] > r[0]) for c, r in zip(chosen, rejected, strict=True)
        ]
    out["reward_chosen"] = list(chosen)
    out["reward_rejected"] = list(rejected)
    return pd.DataFrame(out)


def _ties_units(results):
    """Per-prompt statistics of RewardBench 2's Ties subset (upstream's rules)."""
    stats = {}
    for ex_id, c, r in zip(
        results["id"],
        results["reward_chosen"],
        results["reward_rejected"],
        strict=True,
    ):
        kind, sep, pid = str(ex_id).partition(":")
        if not sep or kind not in ("ref", "tied"):
            raise ValueError(
                f"RewardBench 2's Ties ids read 'ref:<n>' or 'tied:<n>'; got {ex_id!r}."
            )
        if len(c) and len(r):
            dcm = c.max() - c.min() if len(c) > 1 else None
            cim, accurate = c.min() - r.max(), bool(c.min() > r.max())
        else:
            dcm, cim, accurate = None, 0.0, False
        stats.setdefault(pid, {})[kind] = (accurate, dcm, cim)
    pids = list(stats)
    columns = {k: np.zeros(len(pids)) for k in
               ("has_ref", "has_tied", "ref_acc", "tied_acc", "valid", "pref",
                "pref_hard", "ratio_valid", "margin")}  # fmt: skip
    for i, pid in enumerate(pids):
        ref, tied = stats[pid].get("ref"), stats[pid].get("tied")
        if ref is not None:
            columns["has_ref"][i], columns["ref_acc"][i] = 1, ref[0]
        if tied is not None:
            columns["has_tied"][i], columns["tied_acc"][i] = 1, tied[0]
        if ref is not None and tied is not None and tied[1] is not None:
            hard = min(ref[2], tied[2])
            columns["valid"][i] = 1
            columns["pref"][i] = tied[2] > tied[1]
            columns["pref_hard"][i] = hard > tied[1]
            if tied[1] > 0:
                columns["ratio_valid"][i] = 1
                columns["margin"][i] = math.tanh(hard / tied[1] - 1)
    columns["common"] = columns["has_ref"] * columns["has_tied"]
    return columns


def _ratio(w, values, mask, empty):
    den = w @ mask
    num = w @ (values * mask)
    out = np.full(len(w), empty, dtype=float)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _ties_score(units, w):
    """Upstream's Ties score under unit weights ``w`` of shape (n_resamples, n)."""
    common = w @ units["common"] > 0
    pref = _ratio(w, units["pref"], units["valid"], np.nan)
    pref_hard = _ratio(w, units["pref_hard"], units["valid"], np.nan)
    margin = _ratio(w, units["margin"], units["ratio_valid"], 0.0)
    parts = {
        "tied_accuracy": _ratio(w, units["tied_acc"], units["has_tied"], 0.0),
        "ref_accuracy": _ratio(w, units["ref_acc"], units["has_ref"], 0.0),
        "correctness_preferred": np.where(common, pref, 0.0),
        "correctness_preferred_hard": np.where(common, pref_hard, 0.0),
        "margin_score": np.where(common, margin, 0.0),
    }
    return sum(TIES_WEIGHTS[k] * v for k, v in parts.items())


def _draws(rng, n, n_resamples):
    """Row 0: the data; then ``n_resamples`` draws of n of the n units."""
    draws = rng.integers(0, n, (n_resamples, n), dtype=np.int32)
    return np.vstack([np.arange(n, dtype=np.int32)[None], draws])


def _subset_scores(name, subset, results, draws_of, metrics):
    if name == "rewardbench2" and subset.lower() == "ties":
        units = _ties_units(results)
        draws = draws_of(len(units["has_ref"]))
        n = draws.shape[1]
        flat = (draws + n * np.arange(len(draws))[:, None]).ravel()
        w = np.bincount(flat, minlength=draws.size).reshape(draws.shape)
        score = _ties_score(units, w.astype(float))
        return {m: score for m in metrics}, n
    draws = draws_of(len(results))
    return {m: results[m].to_numpy(float)[draws].mean(axis=1) for m in metrics}, len(
        results
    )


def _mean_rows(rows, weights=None):
    stack = np.stack(rows)
    if weights is None:
        return stack.mean(axis=0)
    weights = np.asarray(weights, float)
    return (weights[:, None] * stack).sum(axis=0) / weights.sum()


def total_subsets(name, subsets):
    """Return the subsets, of those given, that the total of ``name`` counts.

    RewardBench v1: those of its four sections (or, with none of them, every
    subset but the prior sets); RM-Bench: its five domains; others: all.
    """
    sections = {"rewardbench": SUBSET_MAPPING, "rm-bench": RM_BENCH_SECTIONS}
    if name not in sections:
        return list(subsets)
    known = {s for members in sections[name].values() for s in members}
    counted = [s for s in subsets if s in known]
    if name == "rewardbench" and not counted:
        counted = [s for s in subsets if s not in PRIOR_SETS]
    return counted


def resample_scores(name, results, *, n_resamples, random_state):
    """Scores of every subset, section and total on bootstrap resamples.

    Returns
    -------
    rows : list of (level, name, n)
    resamples : ndarray of shape (n_resamples + 1, n_rows)
        Row 0 is the point estimate.
    """
    rng = np.random.default_rng(random_state)
    metrics = ["value"] + ([*_STYLE_CELLS] if name == "rm-bench" else [])
    subsets = list(dict.fromkeys(results["subset"]))
    parts = dict(list(results.groupby("subset", sort=False)))
    scores, sizes = {}, {}
    for subset in subsets:
        part = parts[subset]
        scores[subset], sizes[subset] = _subset_scores(
            name, subset, part, lambda n: _draws(rng, n, n_resamples), metrics
        )
    rows, columns = [], []

    def add(level, label, n, column):
        rows.append((level, label, n))
        columns.append(column)

    priors = [s for s in subsets if name == "rewardbench" and s in PRIOR_SETS]
    for subset in subsets:
        level = "prior" if subset in priors else "subset"
        add(level, subset, sizes[subset], scores[subset]["value"])
    if name == "rewardbench":
        sections = {
            section: [s for s in members if s in scores]
            for section, members in SUBSET_MAPPING.items()
        }
        present = {k: v for k, v in sections.items() if v}
        totals = []
        for section, members in present.items():
            weights = [EXAMPLE_COUNTS[s] for s in members]
            totals.append(_mean_rows([scores[s]["value"] for s in members], weights))
            add("section", section, sum(sizes[s] for s in members), totals[-1])
        counted = total_subsets(name, subsets)
        other = [s for s in subsets if s not in counted and s not in priors]
        if other or not totals:
            warnings.warn(
                f"{other or counted} are not RewardBench v1 subsets: they are "
                "reported but left out of the sections"
                + (
                    "."
                    if totals
                    else "; the total is their accuracy over all "
                    "examples, not RewardBench's score."
                ),
                UserWarning,
                stacklevel=3,
            )
        n_total = sum(sizes[s] for s in counted)
        if totals:
            add("total", "total", n_total, _mean_rows(totals))
        else:
            column = _mean_rows([scores[s]["value"] for s in counted],
                                [sizes[s] for s in counted])  # fmt: skip
            add("total", "total", n_total, column)
    elif name == "rm-bench":
        counted = total_subsets(name, subsets)
        if not counted:
            raise ValueError(
                f"The RM-Bench examples are of the domains {subsets}, none of "
                f"RM-Bench's own ({[s for v in RM_BENCH_SECTIONS.values() for s in v]}"
                "), which its sections and total are made of. Check the 'domain' "
                'column, or load the examples as load_benchmark("pairs", ...).'
            )
        if len(counted) < len(subsets):
            warnings.warn(
                f"{[s for s in subsets if s not in counted]} are not RM-Bench "
                "domains: they are reported but left out of the sections, the "
                "styles and the total.",
                UserWarning,
                stacklevel=3,
            )
        present = {
            section: [s for s in members if s in scores]
            for section, members in RM_BENCH_SECTIONS.items()
        }
        present = {k: v for k, v in present.items() if v}
        section_of = {}
        for metric in metrics:
            section_of[metric] = [
                _mean_rows(
                    [scores[s][metric] for s in members],
                    [sizes[s] for s in members],
                )
                for members in present.values()
            ]
        for section, column in zip(present, section_of["value"], strict=True):
            add("section", section, sum(sizes[s] for s in present[section]), column)
        n_total = sum(sizes[s] for s in counted)
        for style in _STYLE_CELLS:
            add("style", style, n_total, _mean_rows(section_of[style]))
        add("total", "total", n_total, _mean_rows(section_of["value"]))
    else:
        counted = [s for s in subsets if s not in priors]
        weights = None if name == "rewardbench2" else [sizes[s] for s in counted]
        column = _mean_rows([scores[s]["value"] for s in counted], weights)
        add("total", "total", sum(sizes[s] for s in counted), column)
    return rows, np.column_stack(columns)
