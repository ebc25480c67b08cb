"""The Hyena operator of order 2 (Poli et al., 2023): gated implicit long convolutions.

From each token u_t a bias-free linear map gives three streams v, x1, x2 of W channels,
each passed through a causal depthwise convolution of 3 taps (the "short filter"). Two
long filters h1, h2 (W channels, one tap per lag s = 0..T-1) are not parameters per lag
but functions of the lag, computed by a small network:

    h_n(s) = FFN_n(e(s)) * exp(-rho s),
    e(s) = (s / P, cos(2 pi f s / P), sin(2 pi f s / P) for f = 1..F),

with sine activations in the FFN, P = ``filter_period`` tokens and a fixed decay rate rho
per channel, log-uniform in [``decay_min``, ``decay_max``] (the window). The operator
alternates long convolutions and gates,

    z = v,   z = x1 * (h1 * z + D1 z),   z = x2 * (h2 * z + D2 z),   y = W_out z,

where (h * z)_t = sum_{s <= t} h(s) z_{t-s} per channel and * between streams is the
elementwise product. The filters depend on the lag only, so the operator is causal and
shifting a sequence right behind zero tokens shifts the outputs. ``forward`` computes the
long convolutions as ``ssm_layer`` does (a Toeplitz product for short sequences, an FFT
otherwise); ``recurrent`` sums the lags one by one (the reference of the tests).

Shapes: (R, N, T, W) -> (R, N, T, W); parameters with a leading replicate dimension R
(``layers``): ``in_proj``, ``short`` (R, 3, 3W) short-filter taps, ``filter_net`` (the
FFN, ``ReplicatedLinear`` layers), ``D`` (R, 2, W), ``out_proj``; buffer ``decay``
(R, 2, W).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .layers import ReplicatedLinear
from .ssm_layer import DIRECT_MAX_LENGTH, _positive_int, fft_convolution, toeplitz_convolution

SHORT_TAPS = 3


class Sine(nn.Module):
    """sin(x): the FFN activation of implicit filters (smooth, oscillating filters)."""

    def forward(self, x):
        return torch.sin(x)


class HyenaOperator(nn.Module):
    """Order-2 Hyena operator (module docstring): (R, N, T, width) -> same, causal.

    Parameters
    ----------
    width : int
        Channels W.
    filter_width : int, default 32
        Hidden units of the filter FFN (two hidden layers).
    n_frequencies : int, default 4
        F, the sine/cosine pairs of the positional features.
    filter_period : float, default 64.0
        P, the period in tokens of the lowest positional frequency.
    decay_min, decay_max : float, default 0.01, 0.3
        Range of the window decay rates rho (per token): memories of about 3 to 100 tokens.
    n_replicates : int, default 1
    """

    no_weight_decay_names = ("D",)

    def __init__(self, width: int, filter_width: int = 32, n_frequencies: int = 4,
                 filter_period: float = 64.0, decay_min: float = 0.01, decay_max: float = 0.3,
                 n_replicates: int = 1):
        super().__init__()
        _positive_int(width, "width")
        _positive_int(filter_width, "filter_width")
        _positive_int(n_frequencies, "n_frequencies")
        if not 0 < filter_period < math.inf:
            raise ValueError(f"filter_period must be a positive number, got {filter_period!r}")
        if not 0 < decay_min <= decay_max < math.inf:
            raise ValueError(f"need 0 < decay_min <= decay_max < inf, got {decay_min!r}, "
                             f"{decay_max!r}")
        R, W = n_replicates, width
        self.n_frequencies, self.filter_period = n_frequencies, filter_period
        self.in_proj = ReplicatedLinear(W, 3 * W, R, bias=False)
        self.short = nn.Parameter(torch.randn(R, SHORT_TAPS, 3 * W) / math.sqrt(SHORT_TAPS))
        self.filter_net = nn.Sequential(
            ReplicatedLinear(1 + 2 * n_frequencies, filter_width, R), Sine(),
            ReplicatedLinear(filter_width, filter_width, R), Sine(),
            ReplicatedLinear(filter_width, 2 * W, R))
        self.D = nn.Parameter(torch.randn(R, 2, W))
        rates = torch.exp(torch.linspace(math.log(decay_min), math.log(decay_max), W))
        self.register_buffer("decay", rates.repeat(R, 2, 1).contiguous())
        self.out_proj = ReplicatedLinear(W, W, R)

    def filters(self, length: int) -> torch.Tensor:
        """h_1 and h_2 at lags 0..length-1: (R, 2, W, length)."""
        R, _, W = self.D.shape
        s = torch.arange(length, device=self.D.device, dtype=torch.float32).unsqueeze(1)
        angle = 2 * math.pi * s * torch.arange(1, self.n_frequencies + 1, device=s.device) \
            / self.filter_period
        e = torch.cat([s / self.filter_period, torch.cos(angle), torch.sin(angle)], 1)
        h = self.filter_net(e.expand(R, -1, -1)).view(R, length, 2, W).permute(0, 2, 3, 1)
        return h * torch.exp(-self.decay.unsqueeze(-1) * s.view(-1))

    def _streams(self, u):
        """v, x1, x2 (R, N, T, W) after the short filters."""
        z = self.in_proj(u)
        R, _, T, _ = z.shape
        padded = F.pad(z, (0, 0, SHORT_TAPS - 1, 0))   # zeros before the first token
        z = sum(padded[:, :, SHORT_TAPS - 1 - j: SHORT_TAPS - 1 - j + T]
                * self.short[:, j].view(R, 1, 1, -1) for j in range(SHORT_TAPS))
        return z.chunk(3, -1)

    def _mix(self, u, convolve):
        v, x1, x2 = self._streams(u)
        R, N, T, W = v.shape
        h = self.filters(T)
        z = v
        for n, gate in enumerate((x1, x2)):
            z = gate * (convolve(z, h[:, n]) + z * self.D[:, n].view(R, 1, 1, W))
        return self.out_proj(z)

    def forward(self, u):
        R, N, T, W = u.shape
        conv = toeplitz_convolution if T <= min(DIRECT_MAX_LENGTH, N) else fft_convolution
        return self._mix(u, conv)

    def recurrent(self, u):
        """The same outputs with the long convolutions summed lag by lag."""
        def direct(z, h):
            T = z.shape[2]
            out = torch.zeros_like(z)
            for s in range(T):
                out[:, :, s:] += h[..., s].unsqueeze(1).unsqueeze(1) * z[:, :, :T - s]
            return out
        return self._mix(u, direct)

    def extra_repr(self) -> str:
        return f"n_frequencies={self.n_frequencies}, filter_period={self.filter_period}"
