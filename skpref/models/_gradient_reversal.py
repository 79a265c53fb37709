"""Gradient reversal (Ganin et al., 2016): identity forward, ``-weight`` backward."""

import torch
from torch import nn


class _ReverseGradient(torch.autograd.Function):
    # forward and setup_context apart, and a generated vmap rule: the engine calls
    # the module under torch.func.vmap, each member with its own weight.
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
    """Pass inputs through unchanged; scale their gradient by ``-weight``.

    Placing it between an encoder and a discriminator turns the min-max problem of
    eq. (5) into one minimisation: the discriminator descends its loss while the
    encoder ascends ``weight`` times it. The weight is a (non-persistent) buffer,
    so that the engine's stacked members each have their own.
    """

    def __init__(self, weight=1.0):
        super().__init__()
        self.register_buffer(
            "weight", torch.tensor(float(weight), dtype=torch.float32), persistent=False
        )

    def forward(self, x):
        return _ReverseGradient.apply(x, self.weight.to(x.dtype))

    def extra_repr(self):
        return f"weight={float(self.weight)}"
