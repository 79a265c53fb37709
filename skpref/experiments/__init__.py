"""The paper's experiment protocols, used by the ``skpref`` command line.

A run is a :class:`Protocol` (what is measured), a data source (what it is
measured on) and :func:`run_protocol` (the one loop that draws training sets,
fits the reward models and scores them through :mod:`skpref.metrics`).
"""

from skpref.experiments._active import run_active_protocol
from skpref.experiments._active_protocols import ACTIVE_CONFOUNDING, ACTIVE_POSITIVITY
from skpref.experiments._active_results import plot_active_curves, summarise_active
from skpref.experiments._active_strategies import default_strategies
from skpref.experiments._embedder import default_embedder, default_embedding_model
from skpref.experiments._hh_rlhf_source import RelabeledHHRLHF
from skpref.experiments._models import (
    MODEL_NAMES,
    SINGLE_OBJECTIVE_MODEL,
    make_reward_model,
)
from skpref.experiments._pair_source import PairSource, PoolSource
from skpref.experiments._paper import PAPER_TABLE1, PAPER_TABLE2, PAPER_TABLE3
from skpref.experiments._plots import plot_accuracy_vs_rho, plot_delta_plane
from skpref.experiments._protocols import (
    CONFOUNDING,
    LATENT_POSITIVITY,
    PROTOCOLS,
    RHOS_TABLE1,
    RHOS_TABLE2,
    Protocol,
    fitted_alpha,
    get_protocol,
)
from skpref.experiments._results import (
    format_cell,
    markdown_table,
    summarise_confounding,
    summarise_latent_positivity,
    write_results,
)
from skpref.experiments._runner import (
    FitGroup,
    run_fit_group,
    run_protocol,
    score_fit_group,
)
from skpref.experiments._sources import KEYED_BY_DATA, SOURCES, Draw, PreferenceSource
from skpref.experiments._synthetic_sources import (
    SYNTHETIC_GENERATOR,
    SyntheticConfounded,
    SyntheticLatent,
)
from skpref.experiments._ultrafeedback_source import (
    FACTORS,
    UltraFeedback,
    label_ultrafeedback_pairs,
)
from skpref.experiments._vectorised import VectorisedExecutor, run_fit_groups

__all__ = [
    "ACTIVE_CONFOUNDING",
    "ACTIVE_POSITIVITY",
    "CONFOUNDING",
    "FACTORS",
    "KEYED_BY_DATA",
    "LATENT_POSITIVITY",
    "MODEL_NAMES",
    "PAPER_TABLE1",
    "PAPER_TABLE2",
    "PAPER_TABLE3",
    "PROTOCOLS",
    "RHOS_TABLE1",
    "RHOS_TABLE2",
    "SINGLE_OBJECTIVE_MODEL",
    "SOURCES",
    "SYNTHETIC_GENERATOR",
    "Draw",
    "FitGroup",
    "PairSource",
    "PoolSource",
    "PreferenceSource",
    "Protocol",
    "RelabeledHHRLHF",
    "SyntheticConfounded",
    "SyntheticLatent",
    "UltraFeedback",
    "VectorisedExecutor",
    "default_embedder",
    "default_strategies",
    "default_embedding_model",
    "fitted_alpha",
    "format_cell",
    "get_protocol",
    "label_ultrafeedback_pairs",
    "make_reward_model",
    "markdown_table",
    "plot_accuracy_vs_rho",
    "plot_active_curves",
    "plot_delta_plane",
    "run_active_protocol",
    "run_fit_group",
    "run_fit_groups",
    "run_protocol",
    "score_fit_group",
    "summarise_active",
    "summarise_confounding",
    "summarise_latent_positivity",
    "write_results",
]
