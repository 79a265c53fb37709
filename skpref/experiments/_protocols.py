"""The paper's protocols as data, its reward models by name, and the seeds of a run.

- Latent positivity (Table 1, appendix D): a BTL model trained on pairs whose
  latent factor differences have ``corr(delta_1, delta_2) = rho``, scored on
  unseen pairs of the same distribution (ID) and on pairs from the disagreement
  quadrants ``delta_1 * delta_2 < 0`` (OOD).
- Confounding (Tables 2-3, Figure 6; section 4, appendix E.1): three
  multi-objective models trained on pairs whose labeller objective agrees with
  the prompt type with probability ``rho``, scored on unseen consistent and
  inconsistent pairs and on their own training pairs.
- The active protocols (beyond the paper, appendix C.2): the same two settings,
  where an ensemble buys extra labels in rounds (:func:`run_active_protocol`).
"""

import difflib
from dataclasses import dataclass

import numpy as np

__all__ = ["PROTOCOLS", "Protocol", "get_protocol", "make_reward_model"]

#: The single-objective model of the paper's Table 1.
SINGLE_OBJECTIVE_MODEL = "BTL"
#: The three multi-objective models of the paper's Table 2, in its column order.
MODEL_NAMES = ("Base", "Multihead", "Adversarial")


@dataclass(frozen=True)
class Protocol:
    """What a protocol measures: plain data, read by the runners and the tables.

    Parameters
    ----------
    name : str
        ``skpref reproduce NAME``.
    side : {"delta", "prompt_type"}
        The side information of each pair that the training sets are drawn by:
        latent factor differences (latent positivity, Table 1) or the prompt
        type (confounding, Tables 2-3).
    tests : tuple of (str, str)
        Test groups in order, each with the ``test`` kind of
        :class:`~skpref.model_selection.RhoStratifiedSplitter` that draws it.
    rho_range : tuple of two float
        Closed range of ``rho``.
    rhos : tuple of float
        The paper's values of ``rho`` (the default of a run).
    n_seeds : int
        The paper's repetitions.
    models : tuple of str
        The paper's models (names of :func:`make_reward_model`).
    active : bool, default=False
        Run by :func:`run_active_protocol` (labels bought in rounds) rather than
        :func:`run_protocol`.

    Examples
    --------
    >>> from skpref.experiments import PROTOCOLS
    >>> protocol = PROTOCOLS["confounding"]
    >>> protocol.side, protocol.rhos[-1], protocol.models
    ('prompt_type', 1.0, ('Base', 'Multihead', 'Adversarial'))
    """

    name: str
    side: str
    tests: tuple
    rho_range: tuple
    rhos: tuple
    n_seeds: int
    models: tuple
    active: bool = False

    @property
    def groups(self):
        """The test groups' names, in order."""
        return [group for group, _ in self.tests]


_LATENT = {
    "side": "delta",
    "tests": (("ID", "in_distribution"), ("OOD", "out_of_distribution")),
    "rho_range": (-1.0, 1.0),
}
_CONFOUNDED = {
    "side": "prompt_type",
    "tests": (("consistent", "consistent"), ("inconsistent", "inconsistent")),
    "rho_range": (0.0, 1.0),
}

#: The protocols by name: Table 1, Tables 2-3, and their active variants (an
#: ensemble trained at rho_train = 0.9, or with no inconsistent pair at all, buys
#: 10% more labels from a pool where positivity holds).
PROTOCOLS = {
    p.name: p
    for p in (
        Protocol("latent-positivity", **_LATENT, rhos=(0.0, 0.3, 0.6, 0.9),
                 n_seeds=3, models=(SINGLE_OBJECTIVE_MODEL,)),
        Protocol("confounding", **_CONFOUNDED, rhos=(0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
                 n_seeds=5, models=MODEL_NAMES),
        Protocol("active-positivity", **_LATENT, rhos=(0.9,), n_seeds=5,
                 models=(SINGLE_OBJECTIVE_MODEL,), active=True),
        Protocol("active-confounding", **_CONFOUNDED, rhos=(1.0,), n_seeds=5,
                 models=("Base",), active=True),
    )
}  # fmt: skip


def get_protocol(protocol, owner):
    """Return a :class:`Protocol` given itself or its name, suggesting a name."""
    if isinstance(protocol, Protocol):
        return protocol
    if isinstance(protocol, str) and protocol in PROTOCOLS:
        return PROTOCOLS[protocol]
    close = difflib.get_close_matches(str(protocol), PROTOCOLS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"{owner}: unknown protocol {protocol!r}; expected one of "
        f"{sorted(PROTOCOLS)} or a Protocol.{hint}"
    )


def make_reward_model(
    name,
    *,
    width=512,
    lr=1e-4,
    max_epochs=10,
    batch_size=64,
    adversary_weight=1.0,
    n_objectives=None,
    device=None,
    random_state=None,
):
    """One of the paper's reward models with the paper's layout at ``width``.

    ``"BTL"`` is the single-objective model of Table 1 (3 GELU layers of width
    ``width`` down to a 64-d latent, appendix D.2); ``"Base"``, ``"Multihead"`` and
    ``"Adversarial"`` are the three models of Table 2 (appendix E.1), with every
    hidden layer, the shared latent, the heads and the discriminator of width
    ``width`` (paper: 512), λ = ``adversary_weight`` (paper: 1.0). All keep the
    weights of the epoch with the best validation accuracy (10% held out).

    Parameters
    ----------
    name : {"BTL", "Base", "Multihead", "Adversarial"}
        Which model.
    width, lr, max_epochs, batch_size : default=512, 1e-4, 10, 64
        Network width and the training settings (the paper's values).
    adversary_weight : float, default=1.0
        λ of the Adversarial model.
    n_objectives : int or None, default=None
        Objectives of the multi-objective models (None: the ids seen in ``fit``).
    device : str or None, default=None
        Torch device; None keeps the model's default.
    random_state : int or None, default=None
        Seed of the network.

    Returns
    -------
    model : estimator
        An unfitted reward model.

    Examples
    --------
    >>> from skpref.experiments import make_reward_model
    >>> make_reward_model("Multihead", width=8).head_hidden_dim
    8
    """
    from skpref.models import (
        AdversarialRewardModel,
        BTLRewardRegressor,
        MultiheadRewardModel,
    )

    common = {
        "hidden_dim": width,
        "lr": lr,
        "max_epochs": max_epochs,
        "batch_size": batch_size,
        "random_state": random_state,
    }
    if device is not None:
        common["device"] = device
    heads = {"latent_dim": width, "head_hidden_dim": width}
    if name == SINGLE_OBJECTIVE_MODEL:
        return BTLRewardRegressor(latent_dim=64, **common)
    if name == "Base":
        return BTLRewardRegressor(
            with_objective=True, n_objectives=n_objectives, latent_dim=64, **common
        )
    if name == "Multihead":
        return MultiheadRewardModel(n_objectives=n_objectives, **heads, **common)
    if name == "Adversarial":
        return AdversarialRewardModel(
            adversary_weight=adversary_weight,
            discriminator_hidden_dim=width,
            n_objectives=n_objectives,
            **heads,
            **common,
        )
    known = [SINGLE_OBJECTIVE_MODEL, *MODEL_NAMES]
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"make_reward_model got the model name {name!r}; expected one of {known}.{hint}"
    )


def seeds_from(entropy, n):
    """Draw ``n`` reproducible 31-bit seeds from an int or a list of ints.

    The first ``k`` seeds of ``seeds_from(e, n)`` are those of ``seeds_from(e, k)``
    (numpy's ``SeedSequence`` generates its words in order).

    Examples
    --------
    >>> from skpref.experiments._protocols import seeds_from
    >>> seeds_from(0, 3)[:2] == seeds_from(0, 2)
    True
    """
    state = np.random.SeedSequence(entropy).generate_state(n, dtype=np.uint32)
    return [int(s) >> 1 for s in state]


def draw_key(seed, rho):
    """Entropy of the draw of one repetition ``seed`` at one ``rho``.

    ``rho`` counts in thousandths; negative values (latent correlations) wrap
    around to stay distinct from the positive ones, as ``SeedSequence`` takes
    non-negative integers only.

    Examples
    --------
    >>> from skpref.experiments._protocols import draw_key
    >>> draw_key(7, 0.9), draw_key(7, -0.3)[1] > 1000
    ([7, 900], True)
    """
    return [int(seed), round(1000 * float(rho)) % 2**32]
