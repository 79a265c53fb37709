"""The reward models of the protocols, by name: the one list of model names."""

import difflib

__all__ = ["MODEL_NAMES", "SINGLE_OBJECTIVE_MODEL", "make_reward_model"]

#: The single-objective model of the paper's Table 1.
SINGLE_OBJECTIVE_MODEL = "BTL"
#: The three multi-objective models of the paper's Table 2, in its column order.
MODEL_NAMES = ("Base", "Multihead", "Adversarial")


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
    common = {
        "hidden_dim": width,
        "lr": lr,
        "max_epochs": max_epochs,
        "batch_size": batch_size,
        "random_state": random_state,
    }
    if device is not None:
        common["device"] = device
    from skpref.models import (
        AdversarialRewardModel,
        BTLRewardRegressor,
        MultiheadRewardModel,
    )

    if name == SINGLE_OBJECTIVE_MODEL:
        return BTLRewardRegressor(latent_dim=64, **common)
    if name == "Base":
        return BTLRewardRegressor(
            with_objective=True, n_objectives=n_objectives, latent_dim=64, **common
        )
    heads = {"latent_dim": width, "head_hidden_dim": width}
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
