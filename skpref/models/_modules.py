"""Torch modules of the reward models (paper, section 4.1 and appendices D.2/E.1).

Every module maps a batch of pair rows ``[x_a | x_b]`` (plus the objective id as the
next column for multi-objective models) to the logit ``r(a) - r(b)`` with
``margin``; ``forward`` returns what the module's training loss needs (the margin,
and for the adversarial model also the discriminator's logits and targets). Rewards
of the two halves are computed by separate calls of the same network on equally
shaped inputs, so swapping the halves negates the logit bit for bit.
"""

import torch
from torch import nn

from skpref.models._gradient_reversal import GradientReversal


def mlp(in_dim, hidden_dim, out_dim, n_layers, *, final_activation=False):
    """Build a GELU MLP of ``n_layers`` linear layers: in -> hidden ... -> out.

    Its weights are float32 whatever torch's default dtype (see ``linear``).
    """
    dims = [in_dim] + [hidden_dim] * (n_layers - 1) + [out_dim]
    layers = []
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        layers.append(linear(d_in, d_out))
        if i < n_layers - 1 or final_activation:
            layers.append(nn.GELU())
    return nn.Sequential(*layers)


def linear(d_in, d_out):
    """Return a float32 ``nn.Linear``, whatever torch's default dtype (pairs are)."""
    return nn.Linear(d_in, d_out, dtype=torch.float32)


class _PairModule(nn.Module):
    """Split pair rows into halves (and objective ids) and difference the rewards."""

    def __init__(self, n_features, with_objective):
        super().__init__()
        self.n_features = n_features
        self.with_objective = with_objective

    def split(self, X):
        d = self.n_features
        objective = X[:, 2 * d].long() if self.with_objective else None
        return X[:, :d], X[:, d : 2 * d], objective

    def reward(self, E, objective):  # pragma: no cover - abstract
        raise NotImplementedError

    def margin(self, X):
        """Return the BTL logit ``r(a) - r(b)`` of each pair row."""
        X_a, X_b, objective = self.split(X)
        return self.reward(X_a, objective) - self.reward(X_b, objective)

    def forward(self, X):
        return self.margin(X)


class BTLRewardModule(_PairModule):
    """Reward MLP of the BTL model: ``n_layers`` GELU layers to the latent, then linear.

    With ``n_objectives`` set, the one-hot objective is concatenated to the response
    features: the paper's *Base* multi-objective model (Figure 5a).
    """

    def __init__(
        self, n_features, *, hidden_dim, latent_dim, n_layers, n_objectives=None
    ):
        super().__init__(n_features, with_objective=n_objectives is not None)
        self.n_objectives = n_objectives
        in_dim = n_features + (n_objectives or 0)
        self.encoder = mlp(
            in_dim, hidden_dim, latent_dim, n_layers, final_activation=True
        )
        self.head = linear(latent_dim, 1)

    def reward(self, E, objective):
        if self.with_objective:
            onehot = nn.functional.one_hot(objective, self.n_objectives).to(E.dtype)
            E = torch.cat([E, onehot], dim=1)
        return self.head(self.encoder(E)).squeeze(-1)


class MultiheadRewardModule(_PairModule):
    """Shared encoder ``g`` and one reward head ``f_c`` per objective (eq. 4/11).

    With ``with_objective=False`` the pair rows hold no objective column and the
    module has one head (``n_objectives=1``), used for every pair.
    """

    def __init__(
        self,
        n_features,
        *,
        hidden_dim,
        latent_dim,
        n_layers,
        head_hidden_dim,
        n_objectives,
        with_objective=True,
    ):
        if not with_objective and n_objectives != 1:
            raise ValueError(
                "MultiheadRewardModule without an objective column has one head; "
                f"got n_objectives={n_objectives}. Pass n_objectives=1."
            )
        super().__init__(n_features, with_objective=with_objective)
        self.n_objectives = n_objectives
        self.encoder = mlp(
            n_features, hidden_dim, latent_dim, n_layers, final_activation=True
        )
        self.heads = nn.ModuleList(
            mlp(latent_dim, head_hidden_dim, 1, 2) for _ in range(n_objectives)
        )

    def head_rewards(self, latent, objective):
        if objective is None:  # no objective column: the one head
            return self.heads[0](latent).squeeze(1)
        # All heads on all rows, then the row's own head: one gather, no Python loop
        # over rows; K is small so the extra head evaluations are cheap.
        all_heads = torch.cat([head(latent) for head in self.heads], dim=1)
        return all_heads.gather(1, objective.unsqueeze(1)).squeeze(1)

    def reward(self, E, objective):
        return self.head_rewards(self.encoder(E), objective)


class AdversarialRewardModule(MultiheadRewardModule):
    """Multihead model plus a discriminator ``h`` behind a gradient-reversal layer.

    ``forward`` returns ``(margin, disc_out, disc_target)``: the discriminator
    predicts its target from the latent of each response (eq. 13), the outputs
    of the a halves stacked over those of the b halves, and ``disc_target`` the
    targets in the same order. With ``adversary="objective"`` the target is the
    pair's objective id, for both halves; otherwise it is read from the two
    columns after the pair and its objective id, if any (``with_objective``):
    the coded or standardised covariate of response a, then of response b (see
    :mod:`skpref.models._adversary`), as
    class codes (``"categorical"``, one logit per class) or as numbers
    (``"continuous"``, one output). The reversal multiplies the encoder's
    gradient from the discriminator loss by ``-adversary_weight`` (eq. 5/12);
    ``adversary_weight`` is set by the training schedule before each epoch.
    """

    def __init__(
        self,
        n_features,
        *,
        discriminator_hidden_dim,
        latent_dim,
        adversary="objective",
        n_adversary_outputs=None,
        **kwargs,
    ):
        super().__init__(n_features, latent_dim=latent_dim, **kwargs)
        self.adversary = adversary
        self.reversal = GradientReversal()
        n_outputs = self.n_objectives if adversary == "objective" else None
        self.discriminator = mlp(
            latent_dim, discriminator_hidden_dim, n_outputs or n_adversary_outputs, 2
        )

    @property
    def adversary_weight(self):
        return float(self.reversal.weight)

    @adversary_weight.setter
    def adversary_weight(self, value):
        self.reversal.weight.fill_(float(value))

    def disc_target(self, X, objective):
        """Return the discriminator's targets: the a halves, then the b halves."""
        if self.adversary == "objective":
            return torch.cat([objective, objective])
        first = 2 * self.n_features + int(self.with_objective)
        target = torch.cat([X[:, first], X[:, first + 1]])
        return target.long() if self.adversary == "categorical" else target

    def forward(self, X):
        X_a, X_b, objective = self.split(X)
        latent_a, latent_b = self.encoder(X_a), self.encoder(X_b)
        margin = self.head_rewards(latent_a, objective) - self.head_rewards(
            latent_b, objective
        )
        disc_out = self.discriminator(self.reversal(torch.cat([latent_a, latent_b])))
        return margin, disc_out, self.disc_target(X, objective)
