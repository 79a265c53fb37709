"""Torch modules of the reward models (paper, section 4.1, appendices D.2 and E.1).

A member maps pair rows ``[x_a | x_b (| objective)]`` to the rewards of both
responses, each half by its own call of one network, so that swapping the halves
negates the logit ``r(a) - r(b)`` bit for bit. Training runs a :class:`MemberStack`
of ``M >= 1`` members; members share no parameter, so one Adam over the stacked
parameters takes, element by element, the steps of ``M`` separate Adams.
"""

import copy

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap


def mlp(in_dim, hidden_dim, out_dim, n_layers, *, final_activation=False):
    """Build a GELU MLP of ``n_layers`` float32 linear layers (the pairs' dtype)."""
    dims = [in_dim] + [hidden_dim] * (n_layers - 1) + [out_dim]
    layers = []
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        layers.append(nn.Linear(d_in, d_out, dtype=torch.float32))
        if i < n_layers - 1 or final_activation:
            layers.append(nn.GELU())
    return nn.Sequential(*layers)


class _ReverseGradient(torch.autograd.Function):
    # forward and setup_context apart, and a generated vmap rule: members of a
    # stack are called under torch.func.vmap, each with its own weight.
    generate_vmap_rule = True

    @staticmethod
    def forward(x, weight):
        return x.view_as(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[1])

    @staticmethod
    def backward(ctx, grad_output):
        (weight,) = ctx.saved_tensors
        return -weight * grad_output, None


class GradientReversal(nn.Module):
    """Identity forward, gradient times ``-weight`` backward (Ganin et al., 2016).

    It turns the min-max problem of eq. (5) into one minimisation; the weight is a
    non-persistent buffer, so that each member of a stack has its own.
    """

    def __init__(self, weight=1.0):
        super().__init__()
        weight = torch.tensor(float(weight), dtype=torch.float32)
        self.register_buffer("weight", weight, persistent=False)

    def forward(self, x):
        return _ReverseGradient.apply(x, self.weight.to(x.dtype))

    def extra_repr(self):
        return f"weight={float(self.weight)}"


class PairModule(nn.Module):
    """Split pair rows into halves (and objective ids); subclasses define the reward.

    A subclass defines ``latent`` (the representation ``z`` of a response) and
    ``head_reward`` (its reward from ``z``). ``extra_inputs`` names the batch
    entries besides ``X`` that ``forward`` reads. Two optional parts serve the
    invariance terms (:mod:`skpref.invariance`), and add to the training logit
    only (``logit_offset``): a ``covariate_head``, a linear reward of ``z`` of its
    own, and a bias-only ``expert``: ``expert_scale`` times the batch entry
    ``expert_logit`` (a fit of the labels on the covariate alone) plus a linear
    function of the covariate difference, trained from 0.
    """

    extra_inputs = ()

    def __init__(self, n_features, with_objective):
        super().__init__()
        self.n_features = n_features
        self.with_objective = with_objective
        self.covariate_head = self.expert = None

    def add_parts(self, latent_dim, *, covariate_head=False, expert_scale=None):
        """Add the invariance parts; a subclass calls it after its own layers.

        Built last, they leave the random initial weights of the rest as they are
        without them: a product of experts of weight 0 is the plain model.
        """
        if covariate_head:
            self.covariate_head = nn.Linear(latent_dim, 1, dtype=torch.float32)
        if expert_scale is not None:
            self.expert_scale = float(expert_scale)
            self.expert = nn.Linear(1, 1, bias=False, dtype=torch.float32)
            nn.init.zeros_(self.expert.weight)  # it starts as the fit alone
            self.extra_inputs = ("covariate", "expert_logit")

    def split(self, X):
        d = self.n_features
        objective = X[:, 2 * d].long() if self.with_objective else None
        return X[:, :d], X[:, d : 2 * d], objective

    def reward(self, E, objective):
        """Return the reward ``r(e)`` of single responses (and their objective ids)."""
        return self.head_reward(self.latent(E, objective), objective)

    def margin(self, X):
        """Return the BTL logit ``r(a) - r(b)`` of each pair row."""
        X_a, X_b, objective = self.split(X)
        return self.reward(X_a, objective) - self.reward(X_b, objective)

    def forward(self, X, covariate=None, expert_logit=None, **inputs):
        """Return the rewards and latents of both halves of each pair row.

        ``{"reward_a", "reward_b", "latent_a", "latent_b"}``, and with the
        invariance parts ``covariate_reward_a``/``_b`` and ``logit_offset``.
        """
        X_a, X_b, objective = self.split(X)
        latent_a, latent_b = self.latent(X_a, objective), self.latent(X_b, objective)
        out = {
            "reward_a": self.head_reward(latent_a, objective),
            "reward_b": self.head_reward(latent_b, objective),
            "latent_a": latent_a,
            "latent_b": latent_b,
        }
        if self.covariate_head is not None:
            out["covariate_reward_a"] = self.covariate_head(latent_a).squeeze(-1)
            out["covariate_reward_b"] = self.covariate_head(latent_b).squeeze(-1)
            out["logit_offset"] = out["covariate_reward_a"] - out["covariate_reward_b"]
        if self.expert is not None:
            difference = covariate[:, :1] - covariate[:, 1:]
            logit = expert_logit + self.expert(difference).squeeze(-1)
            out["logit_offset"] = self.expert_scale * logit
        return out


class BTLRewardModule(PairModule):
    """Reward MLP: ``n_layers`` GELU layers to the latent, then a linear reward.

    With ``n_objectives``, the one-hot objective is appended to the features: the
    paper's *Base* model (Figure 5a).
    """

    #: The weights that read the latent into the reward (see OrthogonalHeads).
    head_weights = ("head.weight",)

    def __init__(
        self,
        n_features,
        *,
        hidden_dim,
        latent_dim,
        n_layers,
        n_objectives=None,
        **parts,
    ):
        super().__init__(n_features, with_objective=n_objectives is not None)
        self.n_objectives = n_objectives
        in_dim = n_features + (n_objectives or 0)
        self.encoder = mlp(
            in_dim, hidden_dim, latent_dim, n_layers, final_activation=True
        )
        self.head = nn.Linear(latent_dim, 1, dtype=torch.float32)
        self.add_parts(latent_dim, **parts)

    def latent(self, E, objective):
        if self.with_objective:
            onehot = nn.functional.one_hot(objective, self.n_objectives).to(E.dtype)
            E = torch.cat([E, onehot], dim=1)
        return self.encoder(E)

    def head_reward(self, latent, objective):
        return self.head(latent).squeeze(-1)


class MultiheadRewardModule(PairModule):
    """Shared encoder ``g``, one reward head ``f_c`` per objective (eq. 4/11).

    Without an objective column (``with_objective=False``) it has one head.
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
        **parts,
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
        self.head_weights = tuple(f"heads.{k}.0.weight" for k in range(n_objectives))
        self.add_parts(latent_dim, **parts)

    def latent(self, E, objective):
        return self.encoder(E)

    def head_reward(self, latent, objective):
        if objective is None:  # no objective column: the one head
            return self.heads[0](latent).squeeze(1)
        # every head on every row, then the row's own: one gather, no loop over rows
        all_heads = torch.cat([head(latent) for head in self.heads], dim=1)
        return all_heads.gather(1, objective.unsqueeze(1)).squeeze(1)


class AdversarialRewardModule(MultiheadRewardModule):
    """Multihead module plus a discriminator ``h`` behind a gradient reversal (eq. 5).

    ``forward`` adds ``disc_out`` (eq. 13, the a halves stacked over the b halves)
    and ``disc_target`` in the same order: the objective id, or the batch entry
    ``target`` (a coded categorical or a standardised continuous covariate).
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
        if adversary != "objective":
            self.extra_inputs = (*self.extra_inputs, "target")
        self.reversal = GradientReversal()
        n_outputs = self.n_objectives if adversary == "objective" else None
        self.discriminator = mlp(
            latent_dim, discriminator_hidden_dim, n_outputs or n_adversary_outputs, 2
        )

    def forward(self, X, target=None, **inputs):
        out = super().forward(X, **inputs)
        if self.adversary == "objective":
            objective = self.split(X)[2]
            disc_target = torch.cat([objective, objective])
        else:
            disc_target = torch.cat([target[:, 0], target[:, 1]])
            if self.adversary == "categorical":
                disc_target = disc_target.long()
        latent = self.reversal(torch.cat([out["latent_a"], out["latent_b"]]))
        out["disc_out"] = self.discriminator(latent)
        out["disc_target"] = disc_target
        return out


class MemberStack(nn.Module):
    """``M`` members of one architecture (their weights copied), called together.

    Inputs, outputs, :meth:`stacked_parameters` and :meth:`stacked_buffer` have a
    leading member axis. Members are stacked with ``stack_module_state`` and called
    with ``functional_call`` under ``vmap``, except a stack of one, which calls its
    member: ``vmap`` would cost a fifth of a step of the paper's network (0.2 ms of
    1.4 ms, width 512, batch 64, one CPU thread) and round some products
    differently from the model trained alone.
    """

    def __init__(self, members):
        super().__init__()
        self.n_members = len(members)
        if self.n_members == 1:
            self.single = members[0]
            return
        params, buffers = stack_module_state(list(members))
        self.parameter_names = list(params)
        self.buffer_names = list(buffers)
        self.stacked = nn.ParameterList(
            nn.Parameter(p.detach()) for p in params.values()
        )
        for i, buffer in enumerate(buffers.values()):
            self.register_buffer(f"stacked_buffer_{i}", buffer)
        # the architecture without storage, in a list so that it is no submodule
        self._template = [copy.deepcopy(members[0]).to("meta")]

    def train(self, mode=True):
        # skorch sets the mode before every batch; walking the members' modules
        # costs 0.1 ms a step, and the mode changes only between the phases
        return self if self.training == mode else super().train(mode)

    def stacked_parameters(self):
        if self.n_members == 1:
            return [p.unsqueeze(0) for p in self.single.parameters()]
        return list(self.stacked)

    @property
    def architecture(self):
        """A member: its attributes (``head_weights``), not its weights, serve."""
        return self.single if self.n_members == 1 else self._template[0]

    def stacked_parameter(self, name):
        """Return the parameter ``name`` of every member, stacked (one: a view)."""
        if self.n_members == 1:
            return self.single.get_parameter(name).unsqueeze(0)
        return self.stacked[self.parameter_names.index(name)]

    def stacked_buffer(self, name):
        if self.n_members == 1:
            return self.single.get_buffer(name).unsqueeze(0)
        return getattr(self, f"stacked_buffer_{self.buffer_names.index(name)}")

    def forward(self, X, **inputs):
        if self.n_members == 1:
            named = {name: inputs[name][0] for name in self.single.extra_inputs}
            out = self.single(X[0], **named)
            return {name: value.unsqueeze(0) for name, value in out.items()}
        template = self._template[0]
        inputs = {name: inputs[name] for name in template.extra_inputs}
        params = dict(zip(self.parameter_names, self.stacked, strict=True))
        buffers = {name: self.stacked_buffer(name) for name in self.buffer_names}

        def call(member_params, member_buffers, member_X, member_inputs):
            return functional_call(
                template, (member_params, member_buffers), (member_X,), member_inputs
            )

        return vmap(call)(params, buffers, X, inputs)

    @torch.no_grad()
    def member(self, k, module):
        """Copy member ``k``'s parameters and buffers into ``module`` (same kind)."""
        names = [name for name, _ in module.named_parameters()]
        for name, stacked in zip(names, self.stacked_parameters(), strict=True):
            module.get_parameter(name).copy_(stacked[k])
        for name, buffer in module.named_buffers():
            buffer.copy_(self.stacked_buffer(name)[k])
        return module
