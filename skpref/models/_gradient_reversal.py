"""Gradient reversal (Ganin et al., 2016): identity forward, ``-weight`` backward."""

import torch
from torch import nn


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight):
        ctx.weight = weight
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.weight * grad_output, None


class GradientReversal(nn.Module):
    """Pass inputs through unchanged; scale their gradient by ``-weight``.

    Placing it between an encoder and a discriminator turns the min-max problem of
    eq. (5) into one minimisation: the discriminator descends its loss while the
    encoder ascends ``weight`` times it.
    """

    def __init__(self, weight=1.0):
        super().__init__()
        self.weight = float(weight)

    def forward(self, x):
        return _ReverseGradient.apply(x, self.weight)

    def extra_repr(self):
        return f"weight={self.weight}"
