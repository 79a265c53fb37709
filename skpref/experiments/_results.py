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

from skpref.experiments._paper import PAPER_TABLE1, PAPER_TABLE2, PAPER_TABLE3

__all__ = [
    "format_cell",
    "markdown_table",
    "summarise_confounding",
    "summarise_latent_positivity",
    "write_results",
]

_SE = " se"


def _percent(values):
    """Mean and standard error over seeds, in percent (NaN where undefined)."""
    values = pd.Series(values, dtype=float)
    return 100 * values.mean(), 100 * values.sem()


def format_cell(mean, se):
    """Format accuracy in percent as ``"mean ± se"`` (``"–"`` when missing).

    Examples
    --------
    >>> from skpref.experiments import format_cell
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
    >>> from skpref.experiments import summarise_latent_positivity
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
    >>> from skpref.experiments import summarise_confounding
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


def write_results(output, name, result, tables, *, wall_seconds=None, extra=None):
    """Write ``<name>_runs.csv``, ``<name>.md`` and ``<name>.json`` to ``output``.

    The CSV holds every run; the Markdown file the summary tables; the JSON file
    the configuration (with its seeds), package versions, wall time and the
    tables, whose cells stay numbers (missing values are ``null``).

    Parameters
    ----------
    output : str or path-like
        Folder, created if missing.
    name : str
        Stem of the file names.
    result : :class:`~sklearn.utils.Bunch`
        A run's result, with ``runs`` and ``config``.
    tables : dict of str to pandas.DataFrame
        Summary tables by title.
    wall_seconds : float, default=None
        Wall time of the run.
    extra : dict, default=None
        More entries for the JSON file.

    Returns
    -------
    paths : dict of str to pathlib.Path
        The files written, under the keys ``csv``, ``markdown`` and ``json``.

    Examples
    --------
    >>> import json, tempfile
    >>> import pandas as pd
    >>> from sklearn.utils import Bunch
    >>> from skpref.experiments import write_results
    >>> table = pd.DataFrame({"rho": [0.5], "Base": [60.0], "Base se": [float("nan")]})
    >>> result = Bunch(runs=pd.DataFrame({"accuracy": [0.6]}), config={"n_seeds": 1})
    >>> paths = write_results(tempfile.mkdtemp(), "demo", result, {"T": table})
    >>> json.loads(paths["json"].read_text())["tables"]["T"]
    [{'rho': 0.5, 'Base': 60.0, 'Base se': None}]
    """
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
    return paths
