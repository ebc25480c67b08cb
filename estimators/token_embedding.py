"""An embedding table of token ids with a leading replicate dimension (``layers``' layout)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ReplicatedEmbedding(nn.Module):
    """Token ids (R, ...) int64 in [0, n_tokens) -> vectors (R, ..., width).

    One (n_tokens, width) table per replicate, initialised N(0, 1) like ``nn.Embedding``;
    replicate r looks its ids up in table r only. The ids are not range-checked here (the
    estimators check them); an id outside [0, n_tokens) would read another replicate's
    table or fail.
    """

    def __init__(self, n_tokens: int, width: int, n_replicates: int = 1):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_replicates, n_tokens, width))

    def forward(self, ids):
        R, n_tokens, width = self.weight.shape
        offsets = torch.arange(R, device=ids.device).view(R, *(1,) * (ids.dim() - 1)) * n_tokens
        return F.embedding(ids + offsets, self.weight.reshape(R * n_tokens, width))

    def extra_repr(self) -> str:
        R, n_tokens, width = self.weight.shape
        return f"{n_tokens} -> {width}, replicates={R}"
