"""The networks of the torch estimators: SSM, Transformer and window MLP.

Each maps inputs (R, N, T, d) to outputs (R, N, T, n_outputs) at every position, with a
leading replicate dimension R on every parameter (``layers``). The output at t depends on
tokens up to t only. Clipping at a bound and the choice of the scored positions belong to
the estimators (``neural``), so the networks are plain function approximators.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .attention_layer import CausalSelfAttention
from .layers import MLP, ReplicatedLayerNorm, ReplicatedLinear
from .ssm_layer import S4DLayer


class Block(nn.Module):
    """A sequence mixer then a token-wise FNN.

    With ``residual``: x + mixer(norm(x)), then x + fnn(norm(x)) (pre-norm); without:
    fnn(mixer(norm(x))) with the norms at the same places. ``norm=False`` drops them.
    """

    def __init__(self, mixer: nn.Module, fnn: nn.Module, width: int, n_replicates: int,
                 residual: bool = True, norm: bool = True):
        super().__init__()
        self.mixer, self.fnn, self.residual = mixer, fnn, residual
        make_norm = (lambda: ReplicatedLayerNorm(width, n_replicates)) if norm else nn.Identity
        self.norm_mixer, self.norm_fnn = make_norm(), make_norm()

    def forward(self, x):
        for f, norm in ((self.mixer, self.norm_mixer), (self.fnn, self.norm_fnn)):
            h = f(norm(x))
            x = x + h if self.residual else h
        return x


class SSMNetwork(nn.Module):
    """The papers' SSM network (docs/theory.md section 6).

    token embedding -> FNN -> n_layers x [SSM layer, token-wise FNN] -> linear readout.

    Defaults: ``residual=True`` and ``norm=True`` (pre-LayerNorm blocks). The papers'
    constructions compose the layers directly; residual connections and normalisation
    change nothing the network can represent in principle (the FNNs can undo them) but
    make gradient training of several layers reliable, and the rates we measure are those
    of trained networks. ``residual=False, norm=False`` gives the literal composition.

    Parameters
    ----------
    n_features : int
        Features d per token (the input of the default linear embedding).
    n_outputs : int, default 1
    width : int, default 32
        Channels of the SSM layers and of the residual stream.
    n_layers : int, default 2
        Number of [SSM, FNN] blocks (the constructions use two).
    d_state, window, dt_min, dt_max :
        Passed to every ``S4DLayer`` (state size, kernel window U, step-size range).
    fnn_width : int, default 64
        Hidden units of every FNN.
    fnn_depth : int, default 1
        Hidden layers of every FNN (0: an affine map).
    residual, norm : bool, default True
    n_replicates : int, default 1
    embed : module or None
        Replaces the token embedding: any module mapping the inputs to (R, N, T, width),
        e.g. an embedding table for token indices.
    mixer : callable or None
        ``mixer(width, n_replicates)`` returns the sequence layer of each block instead of
        ``S4DLayer`` (e.g. a selective SSM wrapped in ``layers.Replicated``).
    """

    def __init__(self, n_features: int, n_outputs: int = 1, width: int = 32, n_layers: int = 2,
                 d_state: int = 16, window: int | None = None, fnn_width: int = 64,
                 fnn_depth: int = 1, residual: bool = True, norm: bool = True,
                 dt_min: float = 1e-3, dt_max: float = 1e-1, n_replicates: int = 1,
                 embed: nn.Module | None = None, mixer=None):
        super().__init__()
        R = n_replicates
        def s4d(width, R):
            return S4DLayer(width, d_state, window, dt_min, dt_max, n_replicates=R)

        make_mixer = mixer if mixer is not None else s4d
        self.embed = embed if embed is not None else ReplicatedLinear(n_features, width, R)
        self.fnn_in = MLP(width, width, fnn_width, fnn_depth, R)
        self.blocks = nn.ModuleList(
            Block(make_mixer(width, R), MLP(width, width, fnn_width, fnn_depth, R), width, R,
                  residual, norm) for _ in range(n_layers))
        self.norm_out = ReplicatedLayerNorm(width, R) if norm else nn.Identity()
        self.readout = ReplicatedLinear(width, n_outputs, R)

    def forward(self, x):
        h = self.fnn_in(self.embed(x))
        for block in self.blocks:
            h = block(h)
        return self.readout(self.norm_out(h))


def sinusoidal_positions(length: int, width: int, device=None) -> torch.Tensor:
    """The (length, width) sinusoidal encoding of Vaswani et al.: sin and cos of
    t / 10000^(2i / width) in the even and odd columns."""
    t = torch.arange(length, device=device, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, width, 2, device=device, dtype=torch.float32)
                     * (-math.log(10000.0) / width))
    pe = torch.zeros(length, width, device=device)
    pe[:, 0::2] = torch.sin(t * freq)
    pe[:, 1::2] = torch.cos(t * freq)[:, : width // 2]
    return pe


class TransformerNetwork(nn.Module):
    """Causal Transformer: embedding + positions, n_layers x [attention, FNN], readout.

    Pre-LayerNorm residual blocks, a final LayerNorm, a linear readout at every position.

    Parameters
    ----------
    n_features, n_outputs, width, n_layers, fnn_width, fnn_depth, n_replicates, embed :
        As for ``SSMNetwork``.
    n_heads : int, default 4
    window : int or None, default None
        Attention window U (``CausalSelfAttention``).
    positional : "sinusoidal" (default) or "learned"
        Sinusoidal encodings are fixed and work for any length; learned ones are a
        parameter of ``max_len`` positions.
    max_len : int, default 512
        Longest sequence with ``positional="learned"``.
    """

    POSITIONAL = ("sinusoidal", "learned")

    def __init__(self, n_features: int, n_outputs: int = 1, width: int = 32, n_layers: int = 2,
                 n_heads: int = 4, window: int | None = None, fnn_width: int = 64,
                 fnn_depth: int = 1, positional: str = "sinusoidal", max_len: int = 512,
                 n_replicates: int = 1, embed: nn.Module | None = None):
        super().__init__()
        if positional not in self.POSITIONAL:
            raise ValueError(f"positional must be one of {self.POSITIONAL}, got {positional!r}")
        R = n_replicates
        self.width, self.max_len = width, max_len
        self.embed = embed if embed is not None else ReplicatedLinear(n_features, width, R)
        self.positions = (nn.Parameter(0.02 * torch.randn(R, max_len, width))
                          if positional == "learned" else None)
        self.blocks = nn.ModuleList(
            Block(CausalSelfAttention(width, n_heads, window, R),
                  MLP(width, width, fnn_width, fnn_depth, R), width, R) for _ in range(n_layers))
        self.norm_out = ReplicatedLayerNorm(width, R)
        self.readout = ReplicatedLinear(width, n_outputs, R)

    def forward(self, x):
        T = x.shape[2]
        if self.positions is None:
            pos = sinusoidal_positions(T, self.width, device=x.device)
        elif T > self.max_len:
            raise ValueError(f"sequences of {T} tokens are longer than the {self.max_len} "
                             f"learned positions")
        else:
            pos = self.positions[:, :T].unsqueeze(1)           # (R, 1, T, width)
        h = self.embed(x) + pos
        for block in self.blocks:
            h = block(h)
        return self.readout(self.norm_out(h))


class WindowMLPNetwork(nn.Module):
    """An MLP on the flattened window of the last ``window`` tokens, at every position.

    The static estimator: it sees a fixed set of positions and cannot select tokens by
    content except through the MLP itself. Positions with fewer than ``window`` tokens of
    history see zeros in front (the estimators only score positions with a full window).

    Parameters
    ----------
    n_features : int
    window : int
    n_outputs : int, default 1
    width : int, default 64
        Hidden units per layer.
    depth : int, default 2
        Hidden layers.
    n_replicates : int, default 1
    """

    def __init__(self, n_features: int, window: int, n_outputs: int = 1, width: int = 64,
                 depth: int = 2, n_replicates: int = 1):
        super().__init__()
        self.window = window
        self.mlp = MLP(n_features * window, n_outputs, width, depth, n_replicates)

    def forward(self, x):
        padded = F.pad(x, (0, 0, self.window - 1, 0))        # zeros before the first token
        windows = padded.unfold(2, self.window, 1)           # (R, N, T, d, window)
        return self.mlp(windows.flatten(-2))
