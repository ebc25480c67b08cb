"""The SSM network's blocks around any of the mixer families, chosen by name.

embedding -> FNN -> n_layers x [mixer, token-wise FNN] -> linear readout: the
architecture of ``networks.SSMNetwork`` (same blocks, residuals and norms) with one of
these sequence mixers, each replicate-batched and causal:

- ``"ssd"``: Mamba-2's SSD layer, input-dependent scalar decay per head (``ssd_layer``);
- ``"lru"``: the Linear Recurrent Unit, a complex diagonal recurrence (``lru_layer``);
- ``"gla"``: gated linear attention with data-dependent forget gates (``gla_layer``);
- ``"retnet"``: the same with RetNet's fixed per-head decay;
- ``"hyena"``: the order-2 Hyena operator, implicit long convolutions (``hyena_layer``).

(R, N, T, features) -> (R, N, T, n_outputs) like every network of the package.
"""

from __future__ import annotations

from torch import nn

from .gla_layer import GatedLinearAttention
from .hyena_layer import HyenaOperator
from .lru_layer import LRULayer
from .networks import SSMNetwork
from .ssd_layer import SSDLayer

MIXERS = ("ssd", "lru", "gla", "retnet", "hyena")


def make_mixer(mixer: str, width: int, n_replicates: int, d_state: int = 16, n_heads: int = 4,
               chunk_size: int = 16, filter_width: int = 32) -> nn.Module:
    """One mixer layer of family ``mixer`` (``MIXERS``); each family reads the options it
    has: d_state (ssd, lru), n_heads and chunk_size (ssd, gla, retnet), filter_width
    (hyena)."""
    R = n_replicates
    if mixer == "ssd":
        return SSDLayer(width, d_state, n_heads, chunk_size, n_replicates=R)
    if mixer == "lru":
        return LRULayer(width, d_state, n_replicates=R)
    if mixer in ("gla", "retnet"):
        return GatedLinearAttention(width, n_heads, "data" if mixer == "gla" else "fixed",
                                    chunk_size, n_replicates=R)
    if mixer == "hyena":
        return HyenaOperator(width, filter_width, n_replicates=R)
    raise ValueError(f"mixer must be one of {MIXERS}, got {mixer!r}")


class MixerNetwork(SSMNetwork):
    """``SSMNetwork`` whose blocks mix tokens with the family ``mixer``.

    Parameters
    ----------
    n_features, n_outputs, width, n_layers, fnn_width, fnn_depth, residual, norm,
    n_replicates, embed :
        As for ``SSMNetwork``.
    mixer : str, default "ssd"
        One of ``MIXERS``.
    d_state, n_heads, chunk_size, filter_width :
        The mixer's options (``make_mixer``); a family ignores those it does not have.
    """

    def __init__(self, n_features: int, n_outputs: int = 1, width: int = 32, n_layers: int = 2,
                 mixer: str = "ssd", d_state: int = 16, n_heads: int = 4, chunk_size: int = 16,
                 filter_width: int = 32, fnn_width: int = 64, fnn_depth: int = 1,
                 residual: bool = True, norm: bool = True, n_replicates: int = 1,
                 embed: nn.Module | None = None):
        if mixer not in MIXERS:
            raise ValueError(f"mixer must be one of {MIXERS}, got {mixer!r}")

        def layer(width, R):
            return make_mixer(mixer, width, R, d_state, n_heads, chunk_size, filter_width)

        super().__init__(n_features, n_outputs, width=width, n_layers=n_layers,
                         fnn_width=fnn_width, fnn_depth=fnn_depth, residual=residual,
                         norm=norm, n_replicates=n_replicates, embed=embed, mixer=layer)
