"""Pieces shared by the protocols: the reward models, seeds, progress bars."""

import numpy as np

__all__ = ["MODEL_NAMES", "make_reward_model", "progress", "seeds_from"]

#: The three multi-objective models of the paper's Table 2, in its column order.
MODEL_NAMES = ("Base", "Multihead", "Adversarial")


def seeds_from(entropy, n):
    """Draw ``n`` reproducible 31-bit seeds from an int or a list of ints."""
    state = np.random.SeedSequence(entropy).generate_state(n, dtype=np.uint32)
    return [int(s) >> 1 for s in state]


def progress(iterable, *, enabled, desc, total=None):
    """Wrap ``iterable`` in a tqdm bar when ``enabled`` (on stderr), else return it."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, leave=False, dynamic_ncols=True)


def make_reward_model(
    name,
    *,
    width=512,
    lr=1e-4,
    max_epochs=10,
    batch_size=64,
    adversary_weight=1.0,
    n_objectives=None,
    random_state=None,
):
    """One of the paper's reward models with the paper's layout at ``width``.

    ``"BTL"`` is the single-objective model of Table 1 (3 GELU layers of width
    ``width`` down to a 64-d latent, appendix D.2); ``"Base"``, ``"Multihead"`` and
    ``"Adversarial"`` are the three models of Table 2 (appendix E.1), with every
    hidden layer, the shared latent, the heads and the discriminator of width
    ``width`` (paper: 512), λ = ``adversary_weight`` (paper: 1.0). All keep the
    weights of the epoch with the best validation accuracy (10% held out).
    """
    common = {
        "hidden_dim": width,
        "lr": lr,
        "max_epochs": max_epochs,
        "batch_size": batch_size,
        "random_state": random_state,
    }
    from skpref.models import (
        AdversarialRewardModel,
        BTLRewardRegressor,
        MultiheadRewardModel,
    )

    if name == "BTL":
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
    raise ValueError(
        f"make_reward_model got the model name {name!r}; expected one of "
        f"{['BTL', *MODEL_NAMES]}."
    )


def accuracy(model, X, y):
    """Pairwise accuracy of ``model`` on ``(X, y)``; NaN for an empty set."""
    if len(y) == 0:
        return np.nan
    return float(np.mean(model.predict(X) == np.asarray(y)))
