"""Tables and figure of the active protocols: accuracy against labels bought.

The question each run answers: with the same budget, does a strategy buy labels
that recover more of the out-of-distribution accuracy than random sampling?
Strategies are compared *paired over seeds*: each repetition starts every
strategy from the same training set, pool and fitted ensemble, so the
difference of two strategies' accuracies is taken within each repetition, and
its mean is reported with its standard error over repetitions.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from skpref.experiments._plots import _pyplot

__all__ = ["plot_active_curves", "summarise_active"]

_BASELINE = "random"


def _percent(values):
    values = pd.Series(values, dtype=float)
    return 100 * values.mean(), 100 * values.sem()


def _curves(runs):
    """Mean and s.e. [%] over seeds of every (model, rho, strategy, round, test)."""
    keys = ["model", "rho_train", "strategy", "n_bought", "test"]
    stats = runs.groupby(keys, sort=False)["accuracy"].agg(["mean", "sem"])
    return (100 * stats).reset_index()


def _accuracy_table(runs, tests):
    curves = _curves(runs)
    wide = curves.pivot_table(
        index=["model", "rho_train", "strategy", "n_bought"],
        columns="test",
        values=["mean", "sem"],
        sort=False,
        dropna=False,  # one seed: every s.e. is NaN, and the column must stay
    )
    table = pd.DataFrame(index=wide.index)
    for test in tests:
        table[test] = wide[("mean", test)]
        table[f"{test} se"] = wide[("sem", test)]
    return table.reset_index()


def _paired_table(runs, tests):
    """At the full budget: each strategy's gain on the hard test set, and vs random."""
    easy, hard = tests[0], tests[-1]
    keys = ["model", "rho_train", "strategy", "seed", "round"]
    wide = runs.pivot_table(index=keys, columns="test", values="accuracy")
    share = runs.groupby(keys)["share_informative"].first()
    last = runs["round"].max()
    rows = []
    for (model, rho), block in wide.groupby(level=["model", "rho_train"], sort=False):
        final = block.xs((model, rho, last), level=["model", "rho_train", "round"])
        begin = block.xs((model, rho, 0), level=["model", "rho_train", "round"])
        bought = share.xs((model, rho, last), level=["model", "rho_train", "round"])
        strategies = runs.loc[runs["model"] == model, "strategy"].unique()
        baseline = final.loc[_BASELINE] if _BASELINE in strategies else None
        for strategy in strategies:
            mine, mine_start = final.loc[strategy], begin.loc[strategy]
            gain = mine[hard] - mine_start[hard]
            gap = (mine_start[easy] - mine_start[hard]).mean()
            row = {"model": model, "rho_train": rho, "strategy": strategy}
            row["informative bought [%]"] = round(100 * bought.loc[strategy].mean(), 1)
            row[f"{hard} gain"], row[f"{hard} gain se"] = _percent(gain)
            closed = 100 * gain.mean() / gap if gap > 0 else np.nan
            row["gap closed [%]"] = round(closed, 1)
            for test in (hard, easy):
                compared = baseline is not None and strategy != _BASELINE
                diff = mine[test] - baseline[test] if compared else []
                name = f"{test} vs {_BASELINE}"
                row[name], row[f"{name} se"] = _percent(diff)
            mean, se = row[f"{hard} vs {_BASELINE}"], row[f"{hard} vs {_BASELINE} se"]
            row["z"] = round(mean / se, 2) if se > 0 else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def summarise_active(runs, tests, tag=""):
    """Return the summary tables of an active run, by title.

    Parameters
    ----------
    runs : pandas.DataFrame
        The ``runs`` of :func:`run_active_protocol`.
    tests : list of str
        The protocol's test groups, the in-distribution one first and the one
        positivity limits last (``["ID", "OOD"]``, ``["consistent",
        "inconsistent"]``).
    tag : str, default=""
        Appended to the titles.

    Returns
    -------
    tables : dict of str to pandas.DataFrame
        ``accuracy [%] by labels bought`` (mean and s.e. over seeds of every
        test set, per model, rho, strategy and ``n_bought``), and ``Paired over
        seeds at the full budget``: per strategy the share of informative pairs
        bought [%], the gain on the last test set since round 0, the share of
        the round-0 gap between the test sets it closes, and the paired
        differences from ``random`` on both test sets with ``z = mean / se``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.experiments import summarise_active
    >>> runs = pd.DataFrame({
    ...     "model": "BTL", "rho_train": 0.9, "seed": [0] * 8 + [1] * 8,
    ...     "strategy": (["random"] * 4 + ["quadrant"] * 4) * 2,
    ...     "round": [0, 0, 1, 1] * 4, "n_bought": [0, 0, 10, 10] * 4,
    ...     "test": ["ID", "OOD"] * 8, "share_informative": 0.5,
    ...     "accuracy": [.9, .7, .9, .72, .9, .7, .9, .78,
    ...                  .9, .6, .9, .61, .9, .6, .9, .67]})
    >>> tables = summarise_active(runs, ["ID", "OOD"])
    >>> paired = tables["Paired over seeds at the full budget"]
    >>> paired[["strategy", "OOD gain", "OOD vs random"]].round(1).values.tolist()
    [['random', 1.5, nan], ['quadrant', 7.5, 6.0]]
    """
    return {
        f"Accuracy [%] by labels bought{tag}": _accuracy_table(runs, tests),
        f"Paired over seeds at the full budget{tag}": _paired_table(runs, tests),
    }


def plot_active_curves(runs, tests, path, *, title=None):
    """Accuracy against labels bought, one line per strategy, mean ± s.e. over seeds.

    One panel per test set (columns) and training ``rho`` (rows).

    Parameters
    ----------
    runs : pandas.DataFrame
        The ``runs`` of :func:`run_active_protocol`.
    tests : list of str
        The test groups, in panel order.
    path : str or path-like
        PNG file to write.
    title : str, default=None
        Figure title.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from skpref.experiments import plot_active_curves
    >>> runs = pd.DataFrame({"model": "BTL", "rho_train": 0.9, "seed": 0,
    ...                      "strategy": "random", "n_bought": [0, 10, 0, 10],
    ...                      "test": ["ID", "ID", "OOD", "OOD"],
    ...                      "accuracy": [0.9, 0.9, 0.7, 0.75]})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "active.png"
    >>> plot_active_curves(runs, ["ID", "OOD"], out).stat().st_size > 0
    True
    """
    plt = _pyplot()
    curves = _curves(runs)
    rhos = sorted(curves["rho_train"].unique())
    fig, axes = plt.subplots(
        len(rhos),
        len(tests),
        figsize=(4.6 * len(tests), 3.6 * len(rhos)),
        squeeze=False,
    )
    several_models = curves["model"].nunique() > 1
    for row, rho in enumerate(rhos):
        for col, test in enumerate(tests):
            ax = axes[row][col]
            cell = curves[(curves["rho_train"] == rho) & (curves["test"] == test)]
            for (model, strategy), line in cell.groupby(
                ["model", "strategy"], sort=False
            ):
                label = f"{model}, {strategy}" if several_models else strategy
                ax.errorbar(
                    line["n_bought"],
                    line["mean"],
                    yerr=line["sem"].fillna(0),
                    marker="o",
                    markersize=3,
                    capsize=2,
                    label=label,
                    linestyle="--" if strategy == _BASELINE else "-",
                )
            ax.set_title(rf"{test}, $\rho_{{train}} = {rho}$")
            ax.set_xlabel("labels bought")
            ax.set_ylabel("accuracy [%]")
    axes[0][-1].legend(fontsize="x-small")
    fig.suptitle(title or "Active querying: accuracy vs labels bought (mean ± s.e.)")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
