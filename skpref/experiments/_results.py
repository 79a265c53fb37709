"""Results of the protocols: summary tables next to the paper's, CSV and JSON files."""

import json
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


def _mean_se(values):
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return np.nan, np.nan
    se = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else np.nan
    return 100 * values.mean(), 100 * se


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
    """Table 1 from the runs: mean ± s.e. over seeds, and the paper's numbers.

    Returns a DataFrame with one row per test set (ID, OOD, and the gap ID − OOD)
    and for each ``rho_train`` the columns ``"ours"`` and ``"paper"``.
    """
    rows = []
    wide = runs.pivot_table(
        index=["seed", "rho_train"], columns="test", values="accuracy"
    )
    wide["ID − OOD"] = wide["ID"] - wide["OOD"]
    for rho in sorted(runs["rho_train"].unique()):
        per_seed = wide.xs(rho, level="rho_train")
        for test in ("ID", "OOD", "ID − OOD"):
            paper = _paper_table1(test, rho)
            rows.append(
                {
                    "test": test,
                    "rho_train": rho,
                    "ours": format_cell(*_mean_se(per_seed[test])),
                    "paper": paper,
                }
            )
    return pd.DataFrame(rows)


def _paper_table1(test, rho):
    if test == "ID − OOD":
        if ("ID", rho) not in PAPER_TABLE1:
            return "–"
        return format_cell(PAPER_TABLE1[("ID", rho)][0] - PAPER_TABLE1[("OOD", rho)][0],
                           np.nan)  # fmt: skip
    return format_cell(*PAPER_TABLE1.get((test, rho), (np.nan, np.nan)))


def summarise_confounding(runs, split="test"):
    """Table 2 (``split="test"``) or Table 3 (``"train"``) from the runs.

    Returns a DataFrame with one row per (group, rho) and, for each model, the
    columns ``"<model>"`` (ours, mean ± s.e. over seeds) and ``"<model> (paper)"``.
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
                row[model] = format_cell(*_mean_se(cell["accuracy"]))
                row[f"{model} (paper)"] = format_cell(
                    *paper.get((group, model, rho), (np.nan, np.nan))
                )
            rows.append(row)
    return pd.DataFrame(rows)


def markdown_table(frame):
    """Render a DataFrame as a GitHub Markdown table (no extra dependency).

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.experiments import markdown_table
    >>> print(markdown_table(pd.DataFrame({"rho": [0.5], "Base": ["60.0 ± 0.2"]})))
    | rho | Base |
    |---|---|
    | 0.5 | 60.0 ± 0.2 |
    """
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.to_numpy()]
    return "\n".join([header, rule, *body])


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


def write_results(output, name, result, tables, *, wall_seconds=None, extra=None):
    """Write ``<name>_runs.csv``, ``<name>.md`` and ``<name>.json`` to ``output``.

    The CSV holds every run; the Markdown file the summary tables; the JSON file
    the configuration (with its seeds), package versions, wall time and the tables.
    Returns the paths written.
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
    paths["json"].write_text(json.dumps(record, indent=2, default=str), "utf-8")
    return paths
