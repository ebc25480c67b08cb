"""The SSM network with a Mamba-style selective SSM layer in place of the LTI layer.

embedding -> FNN -> n_layers x [selective SSM layer, FNN] -> linear readout: the
architecture of ``networks.SSMNetwork`` (same blocks, residuals and norms), with
``selective_ssm_layer.SelectiveSSMLayer`` as the sequence mixer. The selective layer is
written without the replicate dimension; ``layers.Replicated`` runs R independent copies
of it (``torch.func.vmap``), so the network has the replicate layout of the others:
(R, N, T, features) -> (R, N, T, n_outputs), causal.
"""

from __future__ import annotations

from torch import nn

from .layers import Replicated
from .networks import SSMNetwork
from .selective_ssm_layer import SelectiveSSMLayer


class SelectiveSSMNetwork(SSMNetwork):
    """``SSMNetwork`` whose blocks mix tokens with a selective SSM layer.

    Parameters
    ----------
    n_features, n_outputs, width, n_layers, fnn_width, fnn_depth, residual, norm,
    n_replicates, embed :
        As for ``SSMNetwork``.
    d_state : int, default 16
        State size N per channel of every selective layer.
    dt_rank : int or "auto", default "auto"
        Rank of the projection computing dt (``SelectiveSSMLayer``).
    dt_min, dt_max : float, default 1e-2, 1.0
        Range of the initial step sizes softplus(b_dt). With A[h, n] = -(n + 1) the
        initial memories then span about 1/(n+1) to 100/(n+1) tokens, which suits the short
        sequences studied here (Mamba's 1e-3..1e-1 suits thousands of tokens).
    scan : "sequential" (default) or "chunked"
        How the recurrence is computed (``selective_ssm_layer.selective_scan``); both give
        the same outputs up to float rounding.
    chunk_size : int, default 16
        Chunk length of the chunked scan.
    """

    def __init__(self, n_features: int, n_outputs: int = 1, width: int = 32, n_layers: int = 2,
                 d_state: int = 16, dt_rank="auto", fnn_width: int = 64, fnn_depth: int = 1,
                 residual: bool = True, norm: bool = True, dt_min: float = 1e-2,
                 dt_max: float = 1.0, scan: str = "sequential", chunk_size: int = 16,
                 n_replicates: int = 1, embed: nn.Module | None = None):
        def selective(width, R):
            return Replicated(lambda: SelectiveSSMLayer(width, d_state, dt_rank=dt_rank,
                                                        dt_min=dt_min, dt_max=dt_max,
                                                        scan=scan, chunk_size=chunk_size), R)

        super().__init__(n_features, n_outputs, width=width, n_layers=n_layers,
                         fnn_width=fnn_width, fnn_depth=fnn_depth, residual=residual,
                         norm=norm, n_replicates=n_replicates, embed=embed, mixer=selective)
