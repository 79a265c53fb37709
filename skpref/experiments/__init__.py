"""The paper's protocols, used by the ``skpref`` command line.

A run is a protocol (what is measured: plain data, :data:`PROTOCOLS`), a data
source (what it is measured on: :data:`SOURCES` by name, or :class:`PairSource`
for your own pairs) and :func:`run_protocol` (Table 1, Tables 2-3) or
:func:`run_active_protocol` (labels bought in rounds, :class:`ActiveConfig`).
:func:`summarise` gives the paper's tables, :func:`write_results` writes them
with the runs, the record and the figure.
"""

from skpref.experiments._active import ActiveConfig, run_active_protocol
from skpref.experiments._pool_sources import (
    PairSource,
    RelabeledHHRLHF,
    UltraFeedback,
    default_embedder,
)
from skpref.experiments._protocols import PROTOCOLS, Protocol, make_reward_model
from skpref.experiments._results import markdown_table, summarise, write_results
from skpref.experiments._run import run_protocol
from skpref.experiments._sources import Synthetic

#: The data sources of ``skpref reproduce --data NAME``, by name: dataclasses
#: whose fields are their parameters (``SOURCES["synthetic"](n_train=200)``).
#: ``synthetic`` feeds every protocol, ``hh-rlhf`` the confounding ones and
#: ``ultrafeedback`` the latent-positivity ones.
SOURCES = {
    "synthetic": Synthetic,
    "hh-rlhf": RelabeledHHRLHF,
    "ultrafeedback": UltraFeedback,
}

__all__ = [
    "PROTOCOLS",
    "SOURCES",
    "ActiveConfig",
    "PairSource",
    "Protocol",
    "default_embedder",
    "make_reward_model",
    "markdown_table",
    "run_active_protocol",
    "run_protocol",
    "summarise",
    "write_results",
]
