"""EvaluationReport: scores with intervals, the length ruler beside them, figures."""

import base64
import html
import io

import numpy as np

__all__ = ["EvaluationReport"]


def _percent(value):
    return "" if value is None or np.isnan(value) else f"{100 * value:.1f}"


class EvaluationReport:
    """The result of :func:`evaluate`: scores, intervals and per-example results.

    Parameters
    ----------
    benchmark : str
        The benchmark's name.
    scorer_name : str
        How the report names the scorer.
    scores : pandas.DataFrame
        One row per subset, section, style and total: ``level``, ``name``,
        ``score``, ``ci_low``, ``ci_high``, ``n`` (examples), ``ruler`` (the
        length ruler's score), ``length_controlled`` (accuracy averaged over
        strata of the chosen-rejected length difference) and
        ``ruler_agreement`` (share of comparisons decided as the ruler does).
    results : pandas.DataFrame
        Per-example results (``id``, ``subset``, ``value``, the rewards).
    resamples : ndarray of shape (n_resamples + 1, n_rows)
        The score of each row of ``scores`` on each bootstrap resample; row 0
        is the estimate. :func:`compare` pairs two reports through them.
    alpha : float
        The intervals are ``1 - alpha`` percentile bootstrap intervals.
    random_state : int
        Seed of the resamples.

    Attributes
    ----------
    total : float
        The benchmark's final score.

    Examples
    --------
    >>> from skpref.evaluation import evaluate, length_ruler, load_benchmark
    >>> bench = load_benchmark("pairs", [{"prompt": "Q", "chosen": "long answer",
    ...                                   "rejected": "short"}] * 10)
    >>> report = evaluate(length_ruler, bench, n_resamples=10)
    >>> report.total
    1.0
    """

    def __init__(
        self, benchmark, scorer_name, scores, results, resamples, alpha, random_state
    ):
        self.benchmark = benchmark
        self.scorer_name = scorer_name
        self.scores = scores
        self.results = results
        self.resamples = resamples
        self.alpha = alpha
        self.random_state = random_state

    @property
    def total(self):
        """The benchmark's final score."""
        return float(self.scores.loc[self.scores["level"] == "total", "score"].iloc[0])

    def __repr__(self):
        row = self.scores[self.scores["level"] == "total"].iloc[0]
        return (
            f"EvaluationReport({self.benchmark!r}, {self.scorer_name!r}: total "
            f"{_percent(row['score'])} [{_percent(row['ci_low'])}, "
            f"{_percent(row['ci_high'])}], ruler {_percent(row['ruler'])})"
        )

    def _table(self):
        level = int(round(100 * (1 - self.alpha)))
        header = ["level", "name", "n", "score", f"{level}% CI", "ruler", "LC",
                  "agrees with ruler"]  # fmt: skip
        rows = [
            [
                str(r.level),
                str(r.name),
                str(r.n),
                _percent(r.score),
                f"[{_percent(r.ci_low)}, {_percent(r.ci_high)}]",
                _percent(r.ruler),
                _percent(r.length_controlled),
                _percent(r.ruler_agreement),
            ]
            for r in self.scores.itertuples()
        ]
        return header, rows

    def to_markdown(self):
        """Return the scores as a Markdown table (percentages).

        Examples
        --------
        >>> from skpref.evaluation import evaluate, length_ruler, load_benchmark
        >>> bench = load_benchmark("pairs", [{"prompt": "Q", "chosen": "yes",
        ...                                   "rejected": "no!"}] * 10)
        >>> print(evaluate(length_ruler, bench, n_resamples=10).to_markdown()
        ...       .splitlines()[0])
        | level | name | n | score | 95% CI | ruler | LC | agrees with ruler |
        """
        header, rows = self._table()
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)

    def plot(self, ax=None):
        """Bar chart of the subset scores with their intervals and the ruler's.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            None draws on a new figure.

        Returns
        -------
        ax : matplotlib Axes
        """
        import matplotlib.pyplot as plt

        shown = self.scores[self.scores["level"].isin(["subset", "prior", "total"])]
        if ax is None:
            _, ax = plt.subplots(figsize=(max(4.0, 0.5 * len(shown) + 2), 3.5))
        x = np.arange(len(shown))
        score = shown["score"].to_numpy(float)
        errors = np.vstack(
            [score - shown["ci_low"].to_numpy(), shown["ci_high"].to_numpy() - score]
        )
        ax.bar(x, score, color="tab:blue", alpha=0.8, label=self.scorer_name)
        ax.errorbar(x, score, yerr=np.clip(errors, 0, None), fmt="none", ecolor="k",
                    capsize=3)  # fmt: skip
        ax.scatter(x, shown["ruler"], marker="_", s=300, color="tab:red", zorder=3,
                   label="length ruler")  # fmt: skip
        ax.set_xticks(x, shown["name"], rotation=60, ha="right")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(f"score ({int(round(100 * (1 - self.alpha)))}% CI)")
        ax.set_xlabel(f"{self.benchmark} subset")
        ax.set_title(f"{self.scorer_name} on {self.benchmark}")
        ax.legend(loc="lower right", fontsize="small")
        return ax

    def to_html(self):
        """Return a self-contained HTML report: the table and the figure (PNG).

        Examples
        --------
        >>> from skpref.evaluation import evaluate, length_ruler, load_benchmark
        >>> bench = load_benchmark("pairs", [{"prompt": "Q", "chosen": "yes",
        ...                                   "rejected": "no!"}] * 10)
        >>> page = evaluate(length_ruler, bench, n_resamples=10).to_html()
        >>> page.startswith("<!DOCTYPE html>"), "data:image/png;base64," in page
        (True, True)
        """
        import matplotlib.pyplot as plt

        ax = self.plot()
        buffer = io.BytesIO()
        ax.figure.tight_layout()
        ax.figure.savefig(buffer, format="png", dpi=100)
        plt.close(ax.figure)
        image = base64.b64encode(buffer.getvalue()).decode("ascii")
        header, rows = self._table()
        cells = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in rows
        )
        head = "".join(f"<th>{html.escape(c)}</th>" for c in header)
        title = html.escape(f"{self.scorer_name} on {self.benchmark}")
        return (
            "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
            f"<title>{title}</title><style>body{{font-family:sans-serif}}"
            "td,th{padding:2px 8px;text-align:right}</style></head><body>"
            f"<h1>{title}</h1><p>Total: {_percent(self.total)} %. Intervals: "
            f"percentile bootstrap over examples within subsets (seed "
            f"{self.random_state}). Ruler: reward = response length. LC: accuracy "
            "averaged over strata of the chosen-rejected length difference.</p>"
            f"<img alt='scores' src='data:image/png;base64,{image}'>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"
            "</body></html>\n"
        )
