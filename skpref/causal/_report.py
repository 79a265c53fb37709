"""The report object returned by the positivity and overlap diagnostics."""

from collections.abc import Mapping

import pandas as pd

__all__ = ["DiagnosticReport", "OverlapWarning", "PositivityWarning"]


class PositivityWarning(UserWarning):
    """Latent positivity (Assumption 5) is nearly violated.

    Too few pairs separate the effects of two latent factors: their differences
    rarely disagree in sign.

    Examples
    --------
    >>> issubclass(PositivityWarning, UserWarning)
    True
    """


class OverlapWarning(UserWarning):
    """Overlap, positivity given the labeller's objective, is nearly violated.

    The objective can be predicted from the pair features, or a prompt type is never
    labelled under some objective.

    Examples
    --------
    >>> issubclass(OverlapWarning, UserWarning)
    True
    """


class DiagnosticReport(Mapping):
    """Read-only, dict-like result of a diagnostic: printable before training.

    Keys are the names of the summary figures (scalars) and of the tables
    (:class:`pandas.DataFrame`); ``print(report)`` shows all of them and the
    problems found.

    Parameters
    ----------
    title : str
        What was diagnosed.
    summary : dict of str to float or int
        The headline figures.
    tables : dict of str to pandas.DataFrame, default=None
        Detailed tables.
    problems : list of str, default=()
        One sentence per problem found (the warnings' messages).

    Attributes
    ----------
    summary : dict
        The headline figures.
    tables : dict
        The tables.
    problems : list of str
        The problems found; empty when the data look fine.

    Examples
    --------
    >>> report = DiagnosticReport("demo", {"n_pairs": 3})
    >>> report["n_pairs"], list(report), report.problems
    (3, ['n_pairs'], [])
    """

    def __init__(self, title, summary, tables=None, problems=()):
        self.title = title
        self.summary = dict(summary)
        self.tables = dict(tables or {})
        self.problems = list(problems)

    def __getitem__(self, key):
        if key in self.summary:
            return self.summary[key]
        if key in self.tables:
            return self.tables[key]
        raise KeyError(f"{key!r} is not in this report; it has {list(self)}.")

    def __iter__(self):
        yield from self.summary
        yield from self.tables

    def __len__(self):
        return len(self.summary) + len(self.tables)

    def to_frame(self):
        """Return the summary figures as a one-column DataFrame.

        Returns
        -------
        frame : pandas.DataFrame
            Indexed by figure name, with the column ``value``.

        Examples
        --------
        >>> DiagnosticReport("demo", {"n_pairs": 3}).to_frame()
                value
        n_pairs     3
        """
        return pd.DataFrame({"value": pd.Series(self.summary, dtype=object)})

    @classmethod
    def combine(cls, title, reports):
        """Merge several reports into one, prefixing nothing.

        A name in several reports must hold the same value in each (such as
        ``n_pairs`` of reports on the same pairs); two values for one name
        raise a ``ValueError``.

        Parameters
        ----------
        title : str
            Title of the merged report.
        reports : list of DiagnosticReport

        Returns
        -------
        report : DiagnosticReport

        Examples
        --------
        >>> a = DiagnosticReport("a", {"x": 1})
        >>> b = DiagnosticReport("b", {"y": 2}, problems=["too few pairs"])
        >>> merged = DiagnosticReport.combine("both", [a, b])
        >>> dict(merged.summary), merged.problems
        ({'x': 1, 'y': 2}, ['too few pairs'])
        """
        summary, tables, problems = {}, {}, []
        for report in reports:
            for merged, part in ((summary, report.summary), (tables, report.tables)):
                for name, value in part.items():
                    if name in merged and not _same_value(merged[name], value):
                        raise ValueError(
                            f"DiagnosticReport.combine: the reports give {name!r} "
                            f"two values, {merged[name]!r:.60} and {value!r:.60}; "
                            "combine reports on the same pairs, or rename the "
                            "figure in one of them."
                        )
                    merged[name] = value
            problems.extend(report.problems)
        return cls(title, summary, tables, problems)

    def __str__(self):
        width = max((len(k) for k in self.summary), default=0)
        lines = [self.title, "=" * len(self.title)]
        for key, value in self.summary.items():
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            lines.append(f"{key:<{width}}  {shown}")
        for name, table in self.tables.items():
            lines += ["", f"{name}:", table.to_string()]
        lines.append("")
        if self.problems:
            lines += ["Problems:", *(f"- {p}" for p in self.problems)]
        else:
            lines.append("No problems found.")
        return "\n".join(lines)

    def __repr__(self):
        return (
            f"DiagnosticReport({self.title!r}, {len(self.summary)} figures, "
            f"{len(self.tables)} tables, {len(self.problems)} problems)"
        )


def _same_value(a, b):
    """Whether two figures (scalars, NaN equal to NaN) or two tables are equal."""
    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        return (
            isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame) and a.equals(b)
        )
    return bool(a == b) or bool(pd.isna(a) and pd.isna(b))
