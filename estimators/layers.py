"""Building blocks with a leading replicate dimension, and how replicates are stacked.

Every network of the torch estimators maps a tensor of shape (R, N, T, features) to
(R, N, T, outputs): R independent replicates of one model (same architecture, own seed
and data), N sequences of T tokens. Every parameter and buffer has a leading dimension of
size R and replicate r uses slice r only, so replicates never interact. A network built
with R = 1 under seed s is exactly replicate r of ``stack_replicates([...])``: R fits train
in one batched computation (bmm, batched FFT, batched attention) and give what R separate
fits give.

``Replicated`` adapts an ordinary module written without the replicate dimension (e.g. a
layer taking (N, T, H)) to this layout with ``torch.func.vmap``, so any layer can be
plugged into these networks and the training loop (at vmap's speed).

Optimiser hints a module may declare (read by ``training.parameter_groups``):
``ssm_parameter_names`` (state-space dynamics: own learning rate, no weight decay) and
``no_weight_decay_names``; per-replicate vectors (biases, norms) never get weight decay.
"""

from __future__ import annotations

import copy
import itertools
import math

import torch
import torch.nn.functional as F
from torch import nn


class ReplicatedLinear(nn.Module):
    """Affine map of the last dimension, one weight matrix per replicate.

    (R, ..., in_features) -> (R, ..., out_features). Initialised like ``nn.Linear``:
    weight and bias uniform in +-1/sqrt(in_features).
    """

    def __init__(self, in_features: int, out_features: int, n_replicates: int = 1,
                 bias: bool = True):
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(
            torch.empty(n_replicates, in_features, out_features).uniform_(-bound, bound))
        self.bias = (nn.Parameter(torch.empty(n_replicates, out_features).uniform_(-bound, bound))
                     if bias else None)

    def forward(self, x):
        R, *batch, n_in = x.shape
        flat = x.reshape(R, -1, n_in)
        if self.bias is None:
            out = torch.bmm(flat, self.weight)
        else:
            out = torch.baddbmm(self.bias.unsqueeze(1), flat, self.weight)
        return out.reshape(R, *batch, -1)

    def extra_repr(self) -> str:
        R, n_in, n_out = self.weight.shape
        return f"{n_in} -> {n_out}, replicates={R}, bias={self.bias is not None}"


class ReplicatedLayerNorm(nn.Module):
    """LayerNorm over the last dimension with a per-replicate gain and bias."""

    def __init__(self, width: int, n_replicates: int = 1, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(n_replicates, width))
        self.bias = nn.Parameter(torch.zeros(n_replicates, width))

    def forward(self, x):
        shape = (x.shape[0],) + (1,) * (x.dim() - 2) + (x.shape[-1],)
        normed = F.layer_norm(x, x.shape[-1:], eps=self.eps)
        return torch.addcmul(self.bias.view(shape), normed, self.weight.view(shape))


class MLP(nn.Sequential):
    """Token-wise feed-forward network: ``depth`` hidden layers of ``hidden`` units (GELU).

    depth = 0 is a single affine map in_features -> out_features.
    """

    def __init__(self, in_features: int, out_features: int, hidden: int, depth: int,
                 n_replicates: int = 1):
        sizes = [in_features] + [hidden] * depth + [out_features]
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            if i > 0:
                layers.append(nn.GELU())
            layers.append(ReplicatedLinear(a, b, n_replicates))
        super().__init__(*layers)


class OutputClip(nn.Module):
    """Clamp outputs to [low, high] (one pair per replicate) in eval mode only.

    Training sees the raw outputs (clamping would stop the gradient of predictions that
    start outside the bound); validation and prediction see the clipped ones.
    """

    def __init__(self, n_replicates: int = 1, low: float = -math.inf, high: float = math.inf):
        super().__init__()
        self.register_buffer("low", torch.full((n_replicates,), float(low)))
        self.register_buffer("high", torch.full((n_replicates,), float(high)))

    def forward(self, x):
        if self.training:
            return x
        shape = (x.shape[0],) + (1,) * (x.dim() - 1)
        return torch.clamp(x, self.low.view(shape), self.high.view(shape))


class Replicated(nn.Module):
    """R copies of an ordinary module, run as one module of the replicate layout.

    ``make()`` returns a module mapping (N, ...) -> (N, ...) (no replicate dimension);
    ``Replicated(make, R)`` maps (R, N, ...) -> (R, N, ...) with replicate r using copy
    r, via ``torch.func.stack_module_state`` and ``torch.func.vmap``. The copies'
    ``_no_weight_decay`` tags (Mamba's convention) become ``no_weight_decay_names``.
    Modules that draw random numbers in ``forward`` (dropout) are not supported.
    """

    def __init__(self, make, n_replicates: int = 1):
        super().__init__()
        copies = [make() for _ in range(n_replicates)]
        params, buffers = torch.func.stack_module_state(copies)
        self._keys = {name: "rep__" + name.replace(".", "__") for name in (*params, *buffers)}
        for name, value in params.items():
            self.register_parameter(self._keys[name], nn.Parameter(value.detach()))
        for name, value in buffers.items():
            self.register_buffer(self._keys[name], value)
        self.no_weight_decay_names = tuple(
            self._keys[name] for name, p in copies[0].named_parameters()
            if getattr(p, "_no_weight_decay", False))
        # The template holds the structure only; unregistered, so it has no parameters.
        object.__setattr__(self, "_template", copy.deepcopy(copies[0]).to("meta"))

    def forward(self, x):
        template = self._template.train(self.training)
        tensors = {name: getattr(self, key) for name, key in self._keys.items()}

        def one(tensors, x):
            return torch.func.functional_call(template, tensors, (x,))

        return torch.func.vmap(one)(tensors, x)


# -- stacking replicates ------------------------------------------------------------------

def replicate_state(module: nn.Module) -> dict:
    """{name: tensor} of every parameter and buffer (each with a leading replicate dim)."""
    return dict(itertools.chain(module.named_parameters(), module.named_buffers()))


def set_replicate_state(module: nn.Module, state: dict) -> None:
    """Replace every parameter and buffer by ``state[name]`` (any leading size).

    The parameters become new ``nn.Parameter`` objects: an optimiser built before holds
    the old ones.
    """
    for prefix, mod in module.named_modules():
        for registry in (mod._parameters, mod._buffers):
            for key, old in registry.items():
                if old is None:
                    continue
                new = state[f"{prefix}.{key}" if prefix else key].detach()
                registry[key] = (nn.Parameter(new, requires_grad=old.requires_grad)
                                 if isinstance(old, nn.Parameter) else new)


def stack_replicates(networks: list) -> nn.Module:
    """One network whose replicate r is ``networks[r]`` (each built with R = 1)."""
    states = [replicate_state(net) for net in networks]
    for name, t in states[0].items():
        if t.dim() == 0 or t.shape[0] != 1:
            raise ValueError(f"{name} (shape {tuple(t.shape)}) has no leading replicate "
                             f"dimension of size 1; build networks with n_replicates=1")
    stacked = copy.deepcopy(networks[0])
    set_replicate_state(stacked, {name: torch.cat([s[name] for s in states])
                                  for name in states[0]})
    return stacked
