"""Several modules of one architecture as one: stacked weights, one vmapped call.

:class:`StackedModules` holds the parameters and buffers of ``M`` modules stacked
along a new first axis (``torch.func.stack_module_state``) and calls the modules'
own ``forward`` on all of them at once (``torch.func.functional_call`` under
``torch.func.vmap``): inputs and outputs gain a leading member axis. The
members share no parameter, so the gradient of the sum of their losses is each
member's own gradient, and one Adam over the stacked parameters takes, element
by element, the steps of ``M`` separate Adams.
"""

import copy

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap


class StackedModules(nn.Module):
    """``M`` modules of one architecture, called together on stacked inputs.

    Parameters
    ----------
    modules : list of torch.nn.Module
        The members, equal in architecture; their current weights are copied.
    """

    def __init__(self, modules):
        super().__init__()
        params, buffers = stack_module_state(list(modules))
        self.n_members = len(modules)
        self.parameter_names = list(params)
        self.buffer_names = list(buffers)
        self.stacked = nn.ParameterList(
            nn.Parameter(p.detach()) for p in params.values()
        )
        for i, buffer in enumerate(buffers.values()):
            self.register_buffer(f"stacked_buffer_{i}", buffer)
        # The members' architecture, without storage; in a list so that it is not
        # a submodule (its parameters are not the ones trained).
        self._template = [copy.deepcopy(modules[0]).to("meta")]

    def _buffers_by_name(self):
        return {
            name: getattr(self, f"stacked_buffer_{i}")
            for i, name in enumerate(self.buffer_names)
        }

    def forward(self, X):
        params = dict(zip(self.parameter_names, self.stacked, strict=True))
        template = self._template[0]

        def call(member_params, member_buffers, member_X):
            return functional_call(template, (member_params, member_buffers), member_X)

        return vmap(call)(params, self._buffers_by_name(), X)

    @torch.no_grad()
    def copy_member_to(self, k, module):
        """Copy member ``k``'s parameters into ``module`` (of the same architecture)."""
        for name, stacked in zip(self.parameter_names, self.stacked, strict=True):
            module.get_parameter(name).copy_(stacked[k])

    @torch.no_grad()
    def copy_buffers_from(self, k, module):
        """Set member ``k``'s buffers (e.g. its adversary weight) from ``module``."""
        for name, stacked in self._buffers_by_name().items():
            stacked[k].copy_(module.get_buffer(name))
