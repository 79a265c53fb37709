"""Figures of the protocols with matplotlib's Agg backend (no display needed)."""

from pathlib import Path

import numpy as np

__all__ = ["plot_figure"]

BASELINE = "random"
_STYLE = {"Base": "tab:gray", "Multihead": "tab:blue", "Adversarial": "tab:red"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt

    return plt


def plot_accuracy_vs_rho(runs, path, *, title=None):
    """Figure 6: test accuracy against ``rho`` per model, consistent vs inconsistent.

    Parameters
    ----------
    runs : pandas.DataFrame
        The ``runs`` of a confounding run (:func:`run_protocol`).
    path : str or path-like
        PNG file to write.
    title : str, default=None
        Figure title.

    Returns
    -------
    path : pathlib.Path
        The file written. Error bars are one standard error over seeds.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from skpref.experiments._plots import plot_accuracy_vs_rho
    >>> runs = pd.DataFrame({"split": "test", "group": ["consistent", "inconsistent"],
    ...                      "model": "Base", "rho": 0.5, "seed": 0,
    ...                      "accuracy": [0.7, 0.6]})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "fig6.png"
    >>> plot_accuracy_vs_rho(runs, out).stat().st_size > 0
    True
    """
    plt = _pyplot()
    test = runs[runs["split"] == "test"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for (model, group), cell in test.groupby(["model", "group"], sort=False):
        stats = cell.groupby("rho")["accuracy"].agg(["mean", "sem"])
        ax.errorbar(
            stats.index,
            100 * stats["mean"],
            yerr=100 * stats["sem"].fillna(0),
            color=_STYLE.get(model),
            linestyle="-" if group == "consistent" else "--",
            marker="o" if group == "consistent" else "s",
            capsize=3,
            label=f"{model}, {group}",
        )
    ax.axhline(50, color="black", linewidth=0.5)
    ax.set_xlabel(r"$\rho = P(\mathrm{type}(X) = C)$ in training")
    ax.set_ylabel("test accuracy [%]")
    ax.set_title(title or "Test accuracy vs. confounding (cf. paper Figure 6)")
    ax.legend(fontsize="small", ncol=2)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_delta_plane(deltas, runs, alpha, path, *, max_points=600):
    """Figure 7: the ``(delta_1, delta_2)`` plane with true and fitted boundaries.

    One panel per ``rho_train``: the training pairs' latent differences, the
    disagreement quadrants (shaded), the true boundary
    ``alpha delta_1 + (1 - alpha) delta_2 = 0`` and the boundary of each seed's
    fitted model (its ``alpha_hat``, see :func:`~skpref.experiments._run.fitted_alpha`).

    Parameters
    ----------
    deltas : dict of float to ndarray of shape (n_pairs, 2)
        Training ``delta`` per ``rho_train`` (``result.deltas``).
    runs : pandas.DataFrame
        The ``runs`` of a latent-positivity run (``alpha_hat`` per seed).
    alpha : float or None
        The true weight of the first factor; None when unknown (no true
        boundary, and the points are not coloured by their label).
    path : str or path-like
        PNG file to write.
    max_points : int, default=600
        Points drawn per panel.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, pathlib
    >>> from skpref.experiments._plots import plot_delta_plane
    >>> deltas = {0.0: np.random.default_rng(0).normal(size=(50, 2))}
    >>> runs = pd.DataFrame({"rho_train": [0.0], "seed": [0], "alpha_hat": [0.3]})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "fig7.png"
    >>> plot_delta_plane(deltas, runs, 0.25, out).stat().st_size > 0
    True
    """
    plt = _pyplot()
    rhos = sorted(deltas)
    fig, axes = plt.subplots(
        1, len(rhos), figsize=(3.2 * len(rhos), 3.4), squeeze=False
    )
    line = np.linspace(-4, 4, 2)
    for ax, rho in zip(axes[0], rhos, strict=True):
        delta = deltas[rho][:max_points]
        ax.fill_between([-4, 0], 0, 4, color="tab:red", alpha=0.12, linewidth=0)
        ax.fill_between([0, 4], -4, 0, color="tab:red", alpha=0.12, linewidth=0)
        if alpha is None:
            ax.scatter(*delta.T, s=4, color="tab:gray", alpha=0.5)
        else:
            label = alpha * delta[:, 0] + (1 - alpha) * delta[:, 1] > 0
            ax.scatter(*delta[label].T, s=4, color="tab:blue", alpha=0.5)
            ax.scatter(*delta[~label].T, s=4, color="tab:orange", alpha=0.5)
            ax.plot(line, -alpha / (1 - alpha) * line, color="black", label="true")
        fitted = runs[runs["rho_train"] == rho].drop_duplicates("seed")["alpha_hat"]
        fitted = fitted.dropna()
        for i, alpha_hat in enumerate(fitted):
            ax.plot(
                line,
                -alpha_hat / (1 - alpha_hat) * line,
                color="tab:green",
                linewidth=0.8,
                linestyle="--",
                label="fitted (per seed)" if i == 0 else None,
            )
        ax.set_xlim(-4, 4)
        ax.set_ylim(-4, 4)
        ax.set_aspect("equal")
        ax.set_title(rf"$\rho^{{tr}} = {rho}$")
        ax.set_xlabel(r"$\delta_1$")
    axes[0][0].set_ylabel(r"$\delta_2$")
    if axes[0][0].get_legend_handles_labels()[0]:
        axes[0][0].legend(fontsize="x-small", loc="lower left")
    fig.suptitle("Latent differences and decision boundaries (cf. paper Figure 7)")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def curves(runs):
    """Mean and s.e. [%] over seeds of every (model, rho, strategy, round, test)."""
    keys = ["model", "rho_train", "strategy", "n_bought", "test"]
    stats = runs.groupby(keys, sort=False)["accuracy"].agg(["mean", "sem"])
    return (100 * stats).reset_index()


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
    >>> from skpref.experiments._plots import plot_active_curves
    >>> runs = pd.DataFrame({"model": "BTL", "rho_train": 0.9, "seed": 0,
    ...                      "strategy": "random", "n_bought": [0, 10, 0, 10],
    ...                      "test": ["ID", "ID", "OOD", "OOD"],
    ...                      "accuracy": [0.9, 0.9, 0.7, 0.75]})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "active.png"
    >>> plot_active_curves(runs, ["ID", "OOD"], out).stat().st_size > 0
    True
    """
    plt = _pyplot()
    stats = curves(runs)
    rhos = sorted(stats["rho_train"].unique())
    fig, axes = plt.subplots(
        len(rhos),
        len(tests),
        figsize=(4.6 * len(tests), 3.6 * len(rhos)),
        squeeze=False,
    )
    several_models = stats["model"].nunique() > 1
    for row, rho in enumerate(rhos):
        for col, test in enumerate(tests):
            ax = axes[row][col]
            cell = stats[(stats["rho_train"] == rho) & (stats["test"] == test)]
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
                    linestyle="--" if strategy == BASELINE else "-",
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


def plot_figure(result, path):
    """Draw the figure of a run's protocol (Figure 6, Figure 7 or the active curves).

    Parameters
    ----------
    result : :class:`~sklearn.utils.Bunch`
        What :func:`run_protocol` or :func:`run_active_protocol` returned.
    path : str or path-like
        PNG file to write.

    Returns
    -------
    path : pathlib.Path
    """
    protocol = result.protocol
    if protocol.active:
        return plot_active_curves(result.runs, protocol.groups, path)
    if protocol.side == "delta":
        return plot_delta_plane(result.deltas, result.runs, result.alpha, path)
    return plot_accuracy_vs_rho(result.runs, path)


def figure_name(result):
    """Return the file name of a run's figure."""
    protocol = result.protocol
    if protocol.active:
        return protocol.name.replace("-", "_") + f"{result.suffix}.png"
    if protocol.side == "delta":
        return f"figure7_delta_plane{result.suffix}.png"
    return f"figure6_{result.name}.png"
