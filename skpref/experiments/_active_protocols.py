"""The active protocols: what they compare, test on, and write."""

from skpref.experiments._active import run_active_protocol
from skpref.experiments._active_results import plot_active_curves, summarise_active
from skpref.experiments._protocols import PROTOCOLS, Protocol, _consistency

__all__ = ["ACTIVE_CONFOUNDING", "ACTIVE_POSITIVITY"]

_COLUMNS = (
    "protocol",
    "data",
    "seed",
    "rho_train",
    "model",
    "strategy",
    "round",
    "n_bought",
    "test",
    "accuracy",
    "n_test",
    "share_informative",
    "fit_seconds",
)


def _declare(name, side, tests, rho_range, rhos, models, pair_groups):
    groups = list(tests)
    return Protocol(
        name=name,
        side=side,
        tests=tests,
        rho_range=rho_range,
        rhos=rhos,
        n_seeds=5,
        models=models,
        pair_groups=pair_groups,
        score_training=False,
        extras={},
        columns=_COLUMNS,
        tables=lambda runs, tag: summarise_active(runs, groups, tag),
        figure=(
            name.replace("-", "_") + "{suffix}.png",
            lambda result, path: plot_active_curves(result.runs, groups, path),
        ),
        runner=run_active_protocol,
    )


#: Latent positivity (beyond Table 1): BTL ensembles trained at rho = 0.9 buy 10%
#: more labels from a pool at rho = 0; ID and OOD accuracy after each round.
ACTIVE_POSITIVITY = _declare(
    "active-positivity",
    "delta",
    {"ID": "in_distribution", "OOD": "out_of_distribution"},
    (-1.0, 1.0),
    (0.9,),
    ("BTL",),
    None,
)
#: Confounding (beyond Table 2): Base ensembles trained at P(type = C) = 1, no
#: inconsistent pair at all (no overlap, where only new data can help), buy 10%
#: more labels from the pairs left; consistent and inconsistent accuracy.
ACTIVE_CONFOUNDING = _declare(
    "active-confounding",
    "prompt_type",
    {"consistent": "consistent", "inconsistent": "inconsistent"},
    (0.0, 1.0),
    (1.0,),
    ("Base",),
    _consistency,
)
# The command line and get_protocol find protocols by name in one registry.
PROTOCOLS.update({p.name: p for p in (ACTIVE_POSITIVITY, ACTIVE_CONFOUNDING)})
