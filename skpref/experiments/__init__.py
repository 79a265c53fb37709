"""The paper's experiment protocols, used by the ``skpref`` command line."""

from skpref.experiments._confounding import (
    RHOS_TABLE2,
    SYNTHETIC_GENERATOR,
    run_confounding,
)
from skpref.experiments._latent_positivity import (
    RHOS_TABLE1,
    fitted_alpha,
    run_latent_positivity,
)
from skpref.experiments._paper import PAPER_TABLE1, PAPER_TABLE2, PAPER_TABLE3
from skpref.experiments._plots import plot_accuracy_vs_rho, plot_delta_plane
from skpref.experiments._results import (
    format_cell,
    markdown_table,
    summarise_confounding,
    summarise_latent_positivity,
    write_results,
)
from skpref.experiments._ultrafeedback_protocol import (
    FACTORS,
    default_embedding_model,
    label_ultrafeedback_pairs,
    run_latent_positivity_ultrafeedback,
)

__all__ = [
    "PAPER_TABLE1",
    "PAPER_TABLE2",
    "PAPER_TABLE3",
    "format_cell",
    "markdown_table",
    "plot_accuracy_vs_rho",
    "plot_delta_plane",
    "summarise_confounding",
    "summarise_latent_positivity",
    "write_results",
    "RHOS_TABLE1",
    "RHOS_TABLE2",
    "SYNTHETIC_GENERATOR",
    "fitted_alpha",
    "run_confounding",
    "run_latent_positivity",
    "FACTORS",
    "default_embedding_model",
    "label_ultrafeedback_pairs",
    "run_latent_positivity_ultrafeedback",
]
