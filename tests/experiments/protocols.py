"""The protocols and the synthetic source under the names the tests use."""

from skpref.experiments import PROTOCOLS, ActiveConfig, run_active_protocol
from skpref.experiments._sources import Synthetic

LATENT_POSITIVITY = PROTOCOLS["latent-positivity"]
CONFOUNDING = PROTOCOLS["confounding"]
ACTIVE_POSITIVITY = PROTOCOLS["active-positivity"]
ACTIVE_CONFOUNDING = PROTOCOLS["active-confounding"]
# one source serves both protocols; the tests name it by the one they draw
SyntheticLatent = SyntheticConfounded = Synthetic


def run_active(protocol, source, *, checkpoint=None, resume=True, **settings):
    """Run an active protocol with the settings of an ActiveConfig as keywords."""
    config = ActiveConfig(**settings)
    return run_active_protocol(
        protocol, source, config, checkpoint=checkpoint, resume=resume
    )
