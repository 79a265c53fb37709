"""The paper's two protocols, each a small declaration of what it measures.

- Latent positivity (Table 1, appendix D): a BTL model trained on pairs whose
  latent factor differences have ``corr(delta_1, delta_2) = rho``, scored on
  unseen pairs of the same distribution (ID) and on pairs from the disagreement
  quadrants ``delta_1 * delta_2 < 0`` (OOD).
- Confounding (Tables 2-3, Figure 6; section 4, appendix E.1): three
  multi-objective models trained on pairs whose labeller objective agrees with
  the prompt type with probability ``rho``, scored on unseen consistent and
  inconsistent pairs and on their own training pairs.
"""

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from skpref.experiments._models import MODEL_NAMES, SINGLE_OBJECTIVE_MODEL
from skpref.experiments._plots import plot_accuracy_vs_rho, plot_delta_plane
from skpref.experiments._results import (
    summarise_confounding,
    summarise_latent_positivity,
    write_results,
)

__all__ = [
    "CONFOUNDING",
    "LATENT_POSITIVITY",
    "PROTOCOLS",
    "RHOS_TABLE1",
    "RHOS_TABLE2",
    "Protocol",
    "fitted_alpha",
    "get_protocol",
]

#: The training correlations of Table 1.
RHOS_TABLE1 = (0.0, 0.3, 0.6, 0.9)
#: The confounding levels of Table 2.
RHOS_TABLE2 = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True, eq=False)
class Protocol:
    """A protocol: its side information, test groups, defaults and outputs.

    Parameters
    ----------
    name : str
        ``skpref reproduce NAME``.
    side : {"delta", "prompt_type"}
        The side information of each pair that the training sets are drawn by.
    tests : dict of str to str
        Test groups in order, each with the ``test`` kind of
        :class:`~skpref.model_selection.RhoStratifiedSplitter` that draws it.
    rho_range : tuple of two float
        Closed range of ``rho``.
    rhos, n_seeds, models : default values of :func:`run_protocol`
        The paper's.
    pair_groups : callable or None
        ``pair_groups(X, side)``: the test group of every pair, where the groups
        do not depend on ``rho`` (sources may then hold fixed test sets); None
        where they do.
    score_training : bool
        Also score each model on its training pairs, by group (Table 3).
    extras : dict of str to callable
        More columns of the runs, ``column: f(model, draw)``.
    columns : tuple of str
        Columns of the runs, in order, after ``renames``.
    renames : dict of str to str
        The protocol's names of the runner's columns ``rho``, ``group``, ``n``.
    tables : callable
        ``tables(runs, tag)``: the summary tables by title.
    figure : tuple of (str, callable)
        File name (with ``{stem}`` and ``{suffix}``) and ``plot(result, path)``.
    runner : callable or None
        ``runner(protocol, source, **settings)`` runs the protocol; None:
        :func:`run_protocol`.
    """

    name: str
    side: str
    tests: dict
    rho_range: tuple
    rhos: tuple
    n_seeds: int
    models: tuple
    pair_groups: object
    score_training: bool
    extras: dict
    columns: tuple
    renames: dict = field(default_factory=dict)
    tables: object = None
    figure: tuple = None
    runner: object = None

    @property
    def splitter_mode(self):
        """The ``mode`` of :class:`~skpref.model_selection.RhoStratifiedSplitter`."""
        return "latent" if self.side == "delta" else "confounding"

    def layout(self, rows):
        """Return the runs as a DataFrame in the protocol's columns."""
        frame = pd.DataFrame(rows).rename(columns=self.renames)
        return frame.reindex(columns=list(self.columns))

    def summarise(self, result):
        """Return the summary tables of a result, by title."""
        tag = f" ({result.title})" if result.title else ""
        return self.tables(result.runs, tag)

    def write(self, result, output, *, wall_seconds=None, extra=None):
        """Write the tables (md), runs (csv), record (json) and figure (png).

        Parameters
        ----------
        result : :class:`~sklearn.utils.Bunch`
            What :func:`run_protocol` returned.
        output : str or path-like
            Folder, created if missing.
        wall_seconds : float, default=None
            Wall time, recorded in the JSON file.
        extra : dict, default=None
            More entries for the JSON file.

        Returns
        -------
        paths : dict of str to pathlib.Path
            The files written (``csv``, ``markdown``, ``json``, ``figure``).
        """
        tables = self.summarise(result)
        paths = write_results(
            output, result.name, result, tables, wall_seconds=wall_seconds, extra=extra
        )
        template, plot = self.figure
        figure = template.format(stem=result.name, suffix=result.suffix)
        paths["figure"] = plot(result, Path(output) / figure)
        return paths


def fitted_alpha(model, E, Z):
    """Estimate the weight ``alpha_hat`` a fitted model puts on the first factor.

    The reward ``r(e)`` the model gives single responses ``E`` is regressed
    linearly on their true latent factors ``Z`` (first two columns);
    ``alpha_hat = w_1 / (w_1 + w_2)`` is the slope of the model's decision
    boundary in the ``(delta_1, delta_2)`` plane (appendix D.1, Figure 7).

    Parameters
    ----------
    model : fitted reward model
        Anything with ``predict_reward(E)``.
    E : ndarray of shape (n_responses, n_features)
        Embeddings of single responses.
    Z : ndarray of shape (n_responses, n_factors)
        Their true latent factors.

    Returns
    -------
    alpha_hat : float

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.experiments import fitted_alpha
    >>> class Linear:
    ...     def predict_reward(self, E):
    ...         return 0.3 * E[:, 0] + 0.7 * E[:, 1]
    >>> Z = np.random.default_rng(0).normal(size=(20, 2))
    >>> round(fitted_alpha(Linear(), Z, Z), 6)
    0.3
    """
    reward = model.predict_reward(E)
    design = np.column_stack([Z[:, :2], np.ones(len(Z))])
    w = np.linalg.lstsq(design, reward, rcond=None)[0]
    return float(w[0] / (w[0] + w[1]))


def _rho_achieved(model, draw):
    return float(np.corrcoef(draw.delta[:, :2].T)[0, 1])


def _alpha_hat(model, draw):
    return np.nan if draw.probe is None else fitted_alpha(model, *draw.probe)


def _consistency(X, prompt_type):
    consistent = np.asarray(prompt_type) == np.asarray(X)[:, -1]
    return np.where(consistent, "consistent", "inconsistent")


def _latent_tables(runs, tag):
    title = f"Table 1{tag}: test accuracy [%] of the BTL model, ID vs OOD"
    return {title: summarise_latent_positivity(runs)}


def _confounding_tables(runs, tag):
    return {
        f"Table 2{tag}: test accuracy [%]": summarise_confounding(runs, "test"),
        f"Table 3{tag}: training accuracy [%]": summarise_confounding(runs, "train"),
    }


def _latent_figure(result, path):
    return plot_delta_plane(result.deltas, result.runs, result.alpha, path)


def _confounding_figure(result, path):
    return plot_accuracy_vs_rho(result.runs, path)


#: Table 1 (appendix D): BTL, ID vs OOD test pairs, 3 seeds.
LATENT_POSITIVITY = Protocol(
    name="latent-positivity",
    side="delta",
    tests={"ID": "in_distribution", "OOD": "out_of_distribution"},
    rho_range=(-1.0, 1.0),
    rhos=RHOS_TABLE1,
    n_seeds=3,
    models=(SINGLE_OBJECTIVE_MODEL,),
    pair_groups=None,
    score_training=False,
    extras={"rho_achieved": _rho_achieved, "alpha_hat": _alpha_hat},
    columns=(
        "protocol",
        "data",
        "seed",
        "rho_train",
        "rho_achieved",
        "model",
        "test",
        "accuracy",
        "n_test",
        "alpha_hat",
        "fit_seconds",
        "convergence_warning",
    ),
    renames={"rho": "rho_train", "group": "test", "n": "n_test"},
    tables=_latent_tables,
    figure=("figure7_delta_plane{suffix}.png", _latent_figure),
)

#: Tables 2-3 and Figure 6 (section 4, appendix E): three models, consistent vs
#: inconsistent pairs, test and training accuracy, 5 seeds.
CONFOUNDING = Protocol(
    name="confounding",
    side="prompt_type",
    tests={"consistent": "consistent", "inconsistent": "inconsistent"},
    rho_range=(0.0, 1.0),
    rhos=RHOS_TABLE2,
    n_seeds=5,
    models=MODEL_NAMES,
    pair_groups=_consistency,
    score_training=True,
    extras={},
    columns=(
        "protocol",
        "data",
        "seed",
        "rho",
        "model",
        "split",
        "group",
        "accuracy",
        "n",
        "fit_seconds",
        "convergence_warning",
    ),
    tables=_confounding_tables,
    figure=("figure6_{stem}.png", _confounding_figure),
)

#: The protocols by name.
PROTOCOLS = {p.name: p for p in (LATENT_POSITIVITY, CONFOUNDING)}


def get_protocol(protocol):
    """Return a :class:`Protocol` given itself or its name.

    Parameters
    ----------
    protocol : Protocol or {"latent-positivity", "confounding"}

    Returns
    -------
    protocol : Protocol

    Examples
    --------
    >>> from skpref.experiments import get_protocol
    >>> get_protocol("confounding").tests
    {'consistent': 'consistent', 'inconsistent': 'inconsistent'}
    """
    if isinstance(protocol, Protocol):
        return protocol
    if isinstance(protocol, str) and protocol in PROTOCOLS:
        return PROTOCOLS[protocol]
    close = difflib.get_close_matches(str(protocol), PROTOCOLS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"Unknown protocol {protocol!r}; expected one of {sorted(PROTOCOLS)} or a "
        f"Protocol.{hint}"
    )
