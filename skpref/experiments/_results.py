"""Results of the protocols: summary tables next to the paper's, CSV and JSON files.

Summary tables hold numbers: a column ``X`` of mean accuracies [%] comes with a
column ``X se`` of their standard errors over seeds. Markdown shows the two as
one cell ``"mean ± se"``; the JSON file keeps them as numbers.
"""

import json
import math
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from skpref.experiments._plots import BASELINE, curves, figure_name, plot_figure
from skpref.experiments._protocols import MODEL_NAMES

__all__ = ["markdown_table", "summarise", "write_results"]

_SE = " se"

#: Table 1: test accuracy of the BTL model by ``rho_train`` and test set.
PAPER_TABLE1 = {
    ("ID", 0.0): (69.3, 0.2),
    ("ID", 0.3): (68.3, 0.2),
    ("ID", 0.6): (67.8, 0.2),
    ("ID", 0.9): (67.6, 0.2),
    ("OOD", 0.0): (64.5, 0.2),
    ("OOD", 0.3): (62.0, 0.2),
    ("OOD", 0.6): (59.7, 0.2),
    ("OOD", 0.9): (57.8, 0.1),
}


def _table(rows):
    """``{(group, model, rho): (mean, se)}`` from rows ``rho: [6 cells]``."""
    table = {}
    for rho, cells in rows.items():
        for i, cell in enumerate(cells):
            if cell is None:
                continue
            group = "inconsistent" if i < 3 else "consistent"
            table[(group, MODEL_NAMES[i % 3], rho)] = cell
    return table


#: Table 2: test accuracy by (consistency group, model, rho).
# fmt: off
PAPER_TABLE2 = _table(
    {
        0.5: [
            (60.0, 0.2), (62.9, 0.2), (63.7, 0.2),
            (60.9, 0.1), (66.0, 0.1), (66.3, 0.1),
        ],
        0.6: [
            (59.6, 0.1), (62.4, 0.1), (63.0, 0.1),
            (61.3, 0.1), (67.0, 0.1), (67.3, 0.1),
        ],
        0.7: [
            (58.4, 0.1), (60.6, 0.1), (62.3, 0.1),
            (62.5, 0.2), (67.2, 0.1), (67.6, 0.1),
        ],
        0.8: [
            (56.7, 0.1), (58.6, 0.1), (61.3, 0.1),
            (63.7, 0.2), (67.6, 0.2), (67.9, 0.2),
        ],
        0.9: [
            (55.9, 0.1), (56.3, 0.1), (58.9, 0.1),
            (64.2, 0.2), (67.9, 0.2), (68.4, 0.2),
        ],
        1.0: [
            (54.9, 0.1), (53.8, 0.1), (53.5, 0.1),
            (64.1, 0.2), (67.9, 0.2), (68.4, 0.2),
        ],
    }
)
# fmt: on

#: Table 3: training accuracy by (consistency group, model, rho); no inconsistent
#: training pairs exist at rho = 1.
# fmt: off
PAPER_TABLE3 = _table(
    {
        0.5: [
            (73.5, 0.2), (72.2, 0.2), (72.2, 0.2),
            (74.1, 0.2), (74.8, 0.2), (74.2, 0.2),
        ],
        0.6: [
            (71.3, 0.2), (73.0, 0.2), (73.0, 0.2),
            (73.1, 0.1), (75.8, 0.1), (75.8, 0.1),
        ],
        0.7: [
            (73.9, 0.2), (70.0, 0.2), (68.0, 0.2),
            (78.0, 0.1), (74.9, 0.1), (72.7, 0.1),
        ],
        0.8: [
            (69.4, 0.3), (68.0, 0.3), (69.9, 0.3),
            (75.1, 0.1), (75.3, 0.1), (74.7, 0.1),
        ],
        0.9: [
            (73.7, 0.4), (64.5, 0.4), (67.2, 0.4),
            (80.1, 0.1), (75.0, 0.1), (74.6, 0.1),
        ],
        1.0: [
            None, None, None,
            (79.6, 0.1), (74.1, 0.1), (72.4, 0.1),
        ],
    }
)
# fmt: on


def _percent(values):
    """Mean and standard error over seeds, in percent (NaN where undefined)."""
    values = pd.Series(values, dtype=float)
    return 100 * values.mean(), 100 * values.sem()


def format_cell(mean, se):
    """Format accuracy in percent as ``"mean ± se"`` (``"–"`` when missing).

    Examples
    --------
    >>> from skpref.experiments._results import format_cell
    >>> format_cell(61.25, 0.31), format_cell(float("nan"), float("nan"))
    ('61.2 ± 0.3', '–')
    """
    if mean is None or np.isnan(mean):
        return "–"
    if se is None or np.isnan(se):
        return f"{mean:.1f}"
    return f"{mean:.1f} ± {se:.1f}"


def summarise_latent_positivity(runs):
    """Table 1 from the runs: mean and s.e. over seeds, and the paper's numbers.

    Parameters
    ----------
    runs : pandas.DataFrame
        The ``runs`` of a latent-positivity run.

    Returns
    -------
    table : pandas.DataFrame
        One row per test set (ID, OOD, and the gap ID − OOD) and ``rho_train``,
        with the columns ``ours``, ``ours se``, ``paper`` and ``paper se``
        (accuracy in percent), and first a ``model`` column where the runs hold
        more than one model.

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.experiments._results import summarise_latent_positivity
    >>> runs = pd.DataFrame({"seed": [0, 1, 0, 1], "rho_train": 0.0,
    ...                      "test": ["ID", "ID", "OOD", "OOD"],
    ...                      "accuracy": [0.7, 0.8, 0.6, 0.6]})
    >>> summarise_latent_positivity(runs).round(2).values.tolist()[0]
    ['ID', 0.0, 75.0, 5.0, 69.3, 0.2]
    """
    runs = runs if "model" in runs else runs.assign(model="BTL")
    models = list(dict.fromkeys(runs["model"]))
    rows = []
    for model in models:
        wide = runs[runs["model"] == model].pivot_table(
            index=["seed", "rho_train"], columns="test", values="accuracy"
        )
        wide["ID − OOD"] = wide["ID"] - wide["OOD"]
        for rho in sorted(wide.index.unique(level="rho_train")):
            per_seed = wide.xs(rho, level="rho_train")
            for test in ("ID", "OOD", "ID − OOD"):
                ours, ours_se = _percent(per_seed[test])
                paper, paper_se = _paper_table1(test, rho)
                rows.append(
                    {
                        "model": model,
                        "test": test,
                        "rho_train": rho,
                        "ours": ours,
                        f"ours{_SE}": ours_se,
                        "paper": paper,
                        f"paper{_SE}": paper_se,
                    }
                )
    table = pd.DataFrame(rows)
    return table if len(models) > 1 else table.drop(columns="model")


def _paper_table1(test, rho):
    if test != "ID − OOD":
        return PAPER_TABLE1.get((test, rho), (np.nan, np.nan))
    if ("ID", rho) not in PAPER_TABLE1:
        return np.nan, np.nan
    return PAPER_TABLE1[("ID", rho)][0] - PAPER_TABLE1[("OOD", rho)][0], np.nan


def summarise_confounding(runs, split="test"):
    """Table 2 (``split="test"``) or Table 3 (``"train"``) from the runs.

    Parameters
    ----------
    runs : pandas.DataFrame
        The ``runs`` of a confounding run.
    split : {"test", "train"}, default="test"
        Which pairs the accuracy is measured on.

    Returns
    -------
    table : pandas.DataFrame
        One row per (group, rho) and, for each model, the columns ``"<model>"``
        and ``"<model> se"`` (ours: mean and s.e. over seeds, in percent), and
        ``"<model> (paper)"`` and ``"<model> (paper) se"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.experiments._results import summarise_confounding
    >>> runs = pd.DataFrame({"split": "test", "rho": 1.0, "model": "Base",
    ...                      "group": ["consistent", "inconsistent"],
    ...                      "accuracy": [0.9, 0.6]})
    >>> summarise_confounding(runs)[["group", "Base", "Base (paper)"]].values.tolist()
    [['inconsistent', 60.0, 54.9], ['consistent', 90.0, 64.1]]
    """
    paper = PAPER_TABLE2 if split == "test" else PAPER_TABLE3
    chosen = runs[runs["split"] == split]
    models = list(dict.fromkeys(chosen["model"]))
    rows = []
    for group in ("inconsistent", "consistent"):
        for rho in sorted(chosen["rho"].unique()):
            row = {"group": group, "rho": rho}
            for model in models:
                cell = chosen[
                    (chosen["group"] == group)
                    & (chosen["rho"] == rho)
                    & (chosen["model"] == model)
                ]
                row[model], row[f"{model}{_SE}"] = _percent(cell["accuracy"])
                published = paper.get((group, model, rho), (np.nan, np.nan))
                row[f"{model} (paper)"], row[f"{model} (paper){_SE}"] = published
            rows.append(row)
    return pd.DataFrame(rows)


def _accuracy_table(runs, tests):
    wide = curves(runs).pivot_table(
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
        baseline = final.loc[BASELINE] if BASELINE in strategies else None
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
                compared = baseline is not None and strategy != BASELINE
                diff = mine[test] - baseline[test] if compared else []
                name = f"{test} vs {BASELINE}"
                row[name], row[f"{name} se"] = _percent(diff)
            mean, se = row[f"{hard} vs {BASELINE}"], row[f"{hard} vs {BASELINE} se"]
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
    >>> from skpref.experiments._results import summarise_active
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


def markdown_table(frame):
    """Render a DataFrame as a GitHub Markdown table (no extra dependency).

    A column ``X`` that has a partner column ``"X se"`` is shown with it as one
    cell ``"mean ± se"`` (:func:`format_cell`); other cells as they are.

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.experiments import markdown_table
    >>> print(markdown_table(pd.DataFrame({"rho": [0.5], "Base": [60.04],
    ...                                    "Base se": [0.21]})))
    | rho | Base |
    |---|---|
    | 0.5 | 60.0 ± 0.2 |
    """
    shown = [c for c in frame.columns if not _is_se_of(c, frame.columns)]
    cells = {
        column: (
            [
                format_cell(m, s)
                for m, s in zip(frame[column], frame[f"{column}{_SE}"], strict=True)
            ]
            if f"{column}{_SE}" in frame.columns
            else [str(v) for v in frame[column]]
        )
        for column in shown
    }
    header = "| " + " | ".join(str(c) for c in shown) + " |"
    rule = "|" + "---|" * len(shown)
    body = ["| " + " | ".join(row) + " |" for row in zip(*cells.values(), strict=True)]
    return "\n".join([header, rule, *body])


def _is_se_of(column, columns):
    name = str(column)
    return name.endswith(_SE) and name[: -len(_SE)] in columns


def _versions():
    import sklearn
    import skorch
    import torch

    import skpref

    return {
        "skpref": skpref.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "skorch": skorch.__version__,
        "torch": torch.__version__,
        "torch_num_threads": torch.get_num_threads(),
    }


def _plain(value):
    """``value`` with only JSON types: numbers stay numbers, NaN becomes null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def summarise(result):
    """Return the summary tables of a run, by title, next to the paper's numbers.

    Table 1 for latent positivity, Tables 2 (test) and 3 (training accuracy)
    for confounding, and for an active protocol the accuracy by labels bought
    and the strategies compared with ``random`` paired over seeds. A column
    ``X`` of mean accuracies [%] comes with a column ``X se`` of their standard
    errors over seeds.

    Parameters
    ----------
    result : :class:`~sklearn.utils.Bunch`
        What :func:`run_protocol` or :func:`run_active_protocol` returned.

    Returns
    -------
    tables : dict of str to pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.utils import Bunch
    >>> from skpref.experiments import PROTOCOLS, summarise
    >>> runs = pd.DataFrame({"seed": [0, 1, 0, 1], "rho_train": 0.0,
    ...                      "test": ["ID", "ID", "OOD", "OOD"],
    ...                      "accuracy": [0.7, 0.8, 0.6, 0.6]})
    >>> result = Bunch(runs=runs, protocol=PROTOCOLS["latent-positivity"], title=None)
    >>> [(title, table.round(1).values.tolist()[0])
    ...  for title, table in summarise(result).items()]
    [('Table 1: test accuracy [%] of the BTL model, ID vs OOD', ['ID', 0.0, 75.0, 5.0, 69.3, 0.2])]
    """  # noqa: E501
    tag = f" ({result.title})" if result.title else ""
    protocol, runs = result.protocol, result.runs
    if protocol.active:
        return summarise_active(runs, protocol.groups, tag)
    if protocol.side == "delta":
        title = f"Table 1{tag}: test accuracy [%] of the BTL model, ID vs OOD"
        return {title: summarise_latent_positivity(runs)}
    return {
        f"Table 2{tag}: test accuracy [%]": summarise_confounding(runs, "test"),
        f"Table 3{tag}: training accuracy [%]": summarise_confounding(runs, "train"),
    }


def write_results(result, output, *, wall_seconds=None, extra=None):
    """Write a run's tables (md), runs (csv), record (json) and figure (png).

    The CSV holds every run; the Markdown file the summary tables
    (:func:`summarise`); the JSON file the configuration (with its seeds),
    package versions, wall time and the tables, whose cells stay numbers
    (missing values are ``null``); the figure is Figure 7 (latent positivity),
    Figure 6 (confounding) or the accuracy against labels bought (active).

    Parameters
    ----------
    result : :class:`~sklearn.utils.Bunch`
        What :func:`run_protocol` or :func:`run_active_protocol` returned.
    output : str or path-like
        Folder, created if missing.
    wall_seconds : float, default=None
        Wall time of the run, recorded in the JSON file.
    extra : dict, default=None
        More entries for the JSON file.

    Returns
    -------
    paths : dict of str to pathlib.Path
        The files written, under the keys ``csv``, ``markdown``, ``json`` and
        ``figure``.

    Examples
    --------
    >>> import json, tempfile
    >>> from skpref.experiments import SOURCES, run_protocol, write_results
    >>> source = SOURCES["synthetic"](n_train=100, n_test=50, n_features=4)
    >>> result = run_protocol("latent-positivity", source, rhos=[0.0], n_seeds=1,
    ...                       width=8, lr=1e-2, max_epochs=2)
    >>> paths = write_results(result, tempfile.mkdtemp())
    >>> sorted(paths), paths["figure"].name
    (['csv', 'figure', 'json', 'markdown'], 'figure7_delta_plane.png')
    """
    tables = summarise(result)
    name = result.name
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": output / f"{name}_runs.csv",
        "markdown": output / f"{name}.md",
        "json": output / f"{name}.json",
    }
    result.runs.to_csv(paths["csv"], index=False)
    text = [f"# {name}\n"]
    for title, table in tables.items():
        text += [f"## {title}\n", markdown_table(table), ""]
    paths["markdown"].write_text("\n".join(text), encoding="utf-8")
    record = {
        "name": name,
        "config": result.config,
        "versions": _versions(),
        "wall_seconds": wall_seconds,
        "n_runs": len(result.runs),
        "tables": {title: table.to_dict("records") for title, table in tables.items()},
        **(extra or {}),
    }
    text = json.dumps(_plain(record), indent=2, allow_nan=False)
    paths["json"].write_text(text, encoding="utf-8")
    paths["figure"] = plot_figure(result, output / figure_name(result))
    return paths
