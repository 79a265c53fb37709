"""evaluate: score a benchmark; compare: paired tests of two reports."""

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd

from skpref.evaluation._benchmarks import Benchmark, load_benchmark
from skpref.evaluation._report import EvaluationReport
from skpref.evaluation._scorers import length_ruler, score_responses
from skpref.evaluation._scoring import (
    example_results,
    resample_scores,
    total_subsets,
)
from skpref.evaluation._stats import (
    SMALL_SUBSET,
    comparisons,
    exact_interval,
    holm,
    length_controlled_accuracy,
    percentile_interval,
    sign_test,
)
from skpref.utils import Interval, validate_params

__all__ = ["compare", "evaluate"]


def _rewards(scorer, examples):
    prompts, responses, where, sizes = [], [], [], []
    for ex_id, prompt, chosen, rejected in zip(
        examples["id"],
        examples["prompt"],
        examples["chosen"],
        examples["rejected"],
        strict=True,
    ):
        for side, items in (("chosen", chosen), ("rejected", rejected)):
            for k, response in enumerate(items):
                prompts.append(prompt)
                responses.append(response)
                where.append(f"id {ex_id!r}, {side} response {k}")
        sizes += [len(chosen), len(rejected)]
    if scorer is length_ruler:  # free to recompute: no cache holding the texts
        flat = length_ruler(prompts, responses)
    else:
        flat = score_responses(scorer, prompts, responses, where=where)
    parts = np.split(flat, np.cumsum(sizes)[:-1])
    return parts[0::2], parts[1::2]


def _scorer_name(scorer):
    for attribute in ("__name__", "name_or_path"):
        if hasattr(scorer, attribute):
            return str(getattr(scorer, attribute))
    if isinstance(scorer, str):
        return scorer
    model = getattr(scorer, "model", None)  # an HFRewardScorer
    if model is not None and not isinstance(scorer, type):
        return str(getattr(model, "name_or_path", model))
    return type(scorer).__name__


def _total_rows(benchmark, subsets):
    """Mask of the rows (by their ``subsets``) that the benchmark's total counts."""
    return subsets.isin(total_subsets(benchmark, subsets.unique())).to_numpy()


def _length_columns(benchmark, rows, examples, results):
    pairs = comparisons(examples, results)
    lc, agreement = [], []
    for level, name, _ in rows:
        if level in ("subset", "prior"):
            part = pairs[pairs["subset"] == name]
        elif level == "total":
            part = pairs[_total_rows(benchmark, pairs["subset"])]
        else:
            part = None
        value = (np.nan, np.nan) if part is None or part.empty else None
        value = value or length_controlled_accuracy(part)
        lc.append(value[0])
        agreement.append(value[1])
    return lc, agreement


@validate_params(
    {
        "scorer": "no_validation",
        "benchmark": [Benchmark, str],
        "data_files": "no_validation",
        "n_resamples": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def evaluate(
    scorer,
    benchmark,
    *,
    data_files=None,
    n_resamples=1000,
    alpha=0.05,
    random_state=0,
):
    """Score a reward model on a benchmark the official way, with intervals.

    Parameters
    ----------
    scorer : Pipeline, HFRewardScorer, str, transformers model or callable
        A fitted skpref text pipeline (scored by
        :func:`~skpref.predict_text_reward`), a Hugging Face reward model (a
        path, a loaded ``AutoModelForSequenceClassification`` or an
        :class:`HFRewardScorer`), or any callable ``(prompts, responses) ->
        rewards``. Rewards are cached per scorer object and text.
    benchmark : Benchmark or str
        A loaded benchmark, or a name for :func:`load_benchmark`.
    data_files : see :func:`load_benchmark`
        Used with a benchmark name.
    n_resamples : int, default=1000
        Bootstrap resamples (examples drawn within subsets).
    alpha : float, default=0.05
        The intervals cover ``1 - alpha``.
    random_state : int, default=0
        Seed of the resamples; two reports with one seed on one benchmark
        share them, which :func:`compare` uses.

    Returns
    -------
    report : EvaluationReport

    Warns
    -----
    UserWarning
        For a subset of fewer than 10 examples: its interval is then also the
        exact (Clopper-Pearson) one, the wider of the two.

    Examples
    --------
    >>> from skpref.evaluation import evaluate, load_benchmark
    >>> bench = load_benchmark("pairs", [{"prompt": "Q", "chosen": "a",
    ...                                   "rejected": "b"}])
    >>> evaluate(lambda p, r: [1.0], bench)
    Traceback (most recent call last):
    ...
    ValueError: The scorer returned 1 rewards of shape (1,) for 2 responses; it \
must return one reward per response.
    """
    if not isinstance(benchmark, Benchmark):
        benchmark = load_benchmark(benchmark, data_files)
    examples = benchmark.examples
    chosen, rejected = _rewards(scorer, examples)
    results = example_results(benchmark.name, examples, chosen, rejected)
    rows, resamples = resample_scores(
        benchmark.name, results, n_resamples=n_resamples, random_state=random_state
    )
    low, high = percentile_interval(resamples, alpha)
    for i, (level, name, n) in enumerate(rows):
        if level in ("subset", "prior") and n < SMALL_SUBSET:
            warnings.warn(
                f"evaluate: the subset {name!r} has {n} examples (fewer than "
                f"{SMALL_SUBSET}); its interval is wide and its score unreliable.",
                UserWarning,
                stacklevel=2,
            )
            values = results.loc[results["subset"] == name, "value"]
            exact = exact_interval(values.to_numpy(float), alpha)
            low[i], high[i] = min(low[i], exact[0]), max(high[i], exact[1])
    ruler_c, ruler_r = _rewards(length_ruler, examples)
    ruler_results = example_results(benchmark.name, examples, ruler_c, ruler_r)
    _, ruler = resample_scores(
        benchmark.name, ruler_results, n_resamples=0, random_state=random_state
    )
    lc, agreement = _length_columns(benchmark.name, rows, examples, results)
    scores = pd.DataFrame(
        {
            "level": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "score": resamples[0],
            "ci_low": low,
            "ci_high": high,
            "n": [r[2] for r in rows],
            "ruler": ruler[0],
            "length_controlled": lc,
            "ruler_agreement": agreement,
        }
    )
    return EvaluationReport(
        benchmark.name,
        _scorer_name(scorer),
        scores,
        results,
        resamples,
        alpha,
        random_state,
    )


def compare(report_a, report_b):
    """Paired comparison of two reports on one benchmark.

    Per subset and in total, an exact McNemar test (a binomial test of the
    examples one model gets right and the other wrong; the sign test where
    results are fractions), Holm-corrected over all tests, and the difference
    of the scores with a paired bootstrap interval (both reports' resamples
    draw the same examples when they share the seed).

    Parameters
    ----------
    report_a, report_b : EvaluationReport
        Of one benchmark, with one seed and number of resamples.

    Returns
    -------
    comparison : pandas.DataFrame
        ``level``, ``name``, ``score_a``, ``score_b``, ``difference`` (a - b),
        ``ci_low``, ``ci_high``, ``a_better``, ``b_better`` (discordant
        examples), ``pvalue``, ``pvalue_holm`` (NaN for sections and styles).

    Examples
    --------
    >>> from skpref.evaluation import compare, evaluate, load_benchmark
    >>> bench = load_benchmark("pairs", [{"prompt": "Q", "chosen": "yes",
    ...                                   "rejected": "no!"}] * 10)
    >>> a = evaluate(lambda p, r: [float(x == "yes") for x in r], bench)
    >>> b = evaluate(lambda p, r: [0.0 for x in r], bench)
    >>> total = compare(a, b).iloc[-1]
    >>> float(total.difference), int(total.a_better), float(total.pvalue)
    (1.0, 10, 0.001953125)
    """
    ra, rb = report_a.results, report_b.results
    same = (
        report_a.benchmark == report_b.benchmark
        and len(ra) == len(rb)
        and (ra["id"].to_numpy() == rb["id"].to_numpy()).all()
    )
    if not same:
        raise ValueError(
            "compare expects two reports on the same benchmark examples, in the "
            f"same order; got {report_a.benchmark!r} ({len(ra)} examples) and "
            f"{report_b.benchmark!r} ({len(rb)} examples)."
        )
    if (report_a.random_state, report_a.resamples.shape) != (
        report_b.random_state,
        report_b.resamples.shape,
    ):
        raise ValueError(
            "compare pairs the bootstrap resamples of the two reports; evaluate "
            "both with the same random_state and n_resamples (got "
            f"{report_a.random_state} and {report_b.random_state})."
        )
    if report_a.alpha != report_b.alpha:
        raise ValueError(
            "compare gives the difference an interval at the reports' level; "
            f"they were evaluated with alpha={report_a.alpha} and "
            f"alpha={report_b.alpha}. Evaluate both with the same alpha."
        )
    difference = report_a.resamples - report_b.resamples
    low, high = percentile_interval(difference, report_a.alpha)
    sa, sb = report_a.scores, report_b.scores
    tests = []
    for level, name in zip(sa["level"], sa["name"], strict=True):
        if level in ("subset", "prior"):
            rows = (ra["subset"] == name).to_numpy()
        elif level == "total":
            rows = _total_rows(report_a.benchmark, ra["subset"])
        else:
            tests.append((np.nan, np.nan, np.nan))
            continue
        tests.append(sign_test(ra["value"][rows], rb["value"][rows]))
    pvalues = np.array([t[2] for t in tests], float)
    tested = ~np.isnan(pvalues)
    adjusted = np.full(len(pvalues), np.nan)
    adjusted[tested] = holm(pvalues[tested])
    return pd.DataFrame(
        {
            "level": sa["level"],
            "name": sa["name"],
            "score_a": sa["score"],
            "score_b": sb["score"],
            "difference": difference[0],
            "ci_low": low,
            "ci_high": high,
            "a_better": [t[0] for t in tests],
            "b_better": [t[1] for t in tests],
            "pvalue": pvalues,
            "pvalue_holm": adjusted,
        }
    )
