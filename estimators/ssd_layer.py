"""Mamba-2's SSD mixer: a selective SSM whose decay is one input-dependent scalar per head.

The width W is split into H heads of P = W / H channels. From each token u_t (linear maps
without bias, so a zero token writes nothing into the state) the layer computes

    x_t = W_x u_t (P per head),   z_t = W_z u_t (W),   B_t = W_B u_t,   C_t = W_C u_t (N each),
    dt_t = softplus(W_dt u_t + b_dt) > 0 and a_t = exp(-exp(A_log) dt_t) in (0, 1) per head,

and every head keeps a (P, N) state, all heads reading the same B_t and C_t:

    S_t = a_t S_{t-1} + dt_t x_t B_t^T   (S_{-1} = 0),   y_t = S_t C_t + D x_t,

returning W_out (y_t * silu(z_t)). Unrolled, with l_t = sum_{r <= t} log a_r,

    y_t = sum_{s <= t} exp(l_t - l_s) (C_t . B_s) dt_s x_s + D x_t,

a causal "attention" whose weights decay with the input-dependent gaps l_t - l_s: the
parallel form. ``forward`` computes it in chunks of Q tokens: inside a chunk the (Q, Q)
parallel form; across chunks the recurrence of the states at the chunk ends,

    S_end(c) = exp(l_end(c) - l_end(c-1)) S_end(c-1) + sum_{s in c} exp(l_end(c) - l_s) dt_s x_s B_s^T,

to which each token t of chunk c adds exp(l_t - l_end(c-1)) S_end(c-1) C_t. That is
O(T Q) work and T / Q sequential steps. ``recurrent`` runs the recurrence token by token
(the reference of the tests). The rule is the same at every position, so shifting a
sequence right behind zero tokens shifts the outputs.

Shapes: (R, N_seq, T, W) -> (R, N_seq, T, W); every parameter has a leading replicate
dimension R (``layers``): ``in_proj`` and ``out_proj`` (``ReplicatedLinear``), ``dt_bias``,
``A_log`` and ``D`` (R, H), these three without weight decay.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .layers import ReplicatedLinear
from .ssm_layer import _positive_int


class SSDLayer(nn.Module):
    """Chunked SSD mixer (module docstring): (R, N, T, width) -> (R, N, T, width), causal.

    Parameters
    ----------
    width : int
        Channels W, divisible by ``n_heads``.
    d_state : int, default 16
        State size N per head (the length of B_t and C_t).
    n_heads : int, default 4
    chunk_size : int, default 16
        Chunk length Q of the chunked form.
    dt_min, dt_max : float, default 1e-2, 1.0
        Initial step sizes softplus(b_dt) are log-uniform in [dt_min, dt_max]; with
        A = -(1, ..., H) the initial memories span about 1 to 100 tokens.
    n_replicates : int, default 1
    """

    no_weight_decay_names = ("dt_bias", "A_log", "D")

    def __init__(self, width: int, d_state: int = 16, n_heads: int = 4, chunk_size: int = 16,
                 dt_min: float = 1e-2, dt_max: float = 1.0, n_replicates: int = 1):
        super().__init__()
        for value, name in ((width, "width"), (d_state, "d_state"), (n_heads, "n_heads"),
                            (chunk_size, "chunk_size")):
            _positive_int(value, name)
        if width % n_heads:
            raise ValueError(f"width={width} is not divisible by n_heads={n_heads}")
        if not 0 < dt_min <= dt_max < math.inf:
            raise ValueError(f"need 0 < dt_min <= dt_max < inf, got {dt_min!r}, {dt_max!r}")
        R, H = n_replicates, n_heads
        self.d_state, self.n_heads, self.chunk_size = d_state, n_heads, chunk_size
        self.in_proj = ReplicatedLinear(width, 2 * width + 2 * d_state + H, R, bias=False)
        dt = torch.exp(torch.rand(R, H) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))   # softplus^-1(dt)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, H + 1, dtype=torch.float32)).repeat(R, 1))
        self.D = nn.Parameter(torch.ones(R, H))
        self.out_proj = ReplicatedLinear(width, width, R)

    def _project(self, u):
        """x dt (R, N, T, H, P), B and C (R, N, T, d_state), log a (R, N, T, H), x, z."""
        R, N, T, W = u.shape
        H = self.n_heads
        x, z, B, C, dt = self.in_proj(u).split([W, W, self.d_state, self.d_state, H], -1)
        dt = F.softplus(dt + self.dt_bias.view(R, 1, 1, H))
        log_a = -torch.exp(self.A_log).view(R, 1, 1, H) * dt
        x = x.reshape(R, N, T, H, W // H)
        return x * dt.unsqueeze(-1), B, C, log_a, x, z

    def _output(self, y, x, z):
        R = y.shape[0]
        y = y + x * self.D.view(R, 1, 1, self.n_heads, 1)
        return self.out_proj(y.flatten(-2) * F.silu(z))

    def forward(self, u):
        xdt, B, C, log_a, x, z = self._project(u)
        R, N, T, H, P = xdt.shape
        Q = min(self.chunk_size, T)
        pad = -T % Q
        if pad:   # zero tokens at the end: they change no earlier output
            xdt, B, C, log_a = (F.pad(t, (0, 0) * (t.dim() - 3) + (0, pad))
                                for t in (xdt, B, C, log_a))
        n_chunks = (T + pad) // Q
        xdt = xdt.view(R, N, n_chunks, Q, H, P)
        B, C = (t.view(R, N, n_chunks, Q, -1) for t in (B, C))
        l = log_a.view(R, N, n_chunks, Q, H).transpose(-1, -2).cumsum(-1)     # (R,N,c,H,Q)
        causal = torch.ones(Q, Q, dtype=torch.bool, device=u.device).tril()
        gaps = (l.unsqueeze(-1) - l.unsqueeze(-2)).masked_fill(~causal, -math.inf)
        weights = torch.exp(gaps) * torch.einsum("rncqd,rncsd->rncqs", C, B).unsqueeze(3)
        y = torch.einsum("rnchqs,rncshp->rncqhp", weights, xdt)
        to_end = torch.exp(l[..., -1:] - l)                                   # (R,N,c,H,Q)
        ends = torch.einsum("rnchs,rncsd,rncshp->rnchpd", to_end, B, xdt)
        chunk_decay = torch.exp(l[..., -1])                                   # (R,N,c,H)
        state, before = torch.zeros_like(ends[:, :, 0]), []
        for c in range(n_chunks):
            before.append(state)
            state = chunk_decay[:, :, c, :, None, None] * state + ends[:, :, c]
        y = y + torch.einsum("rncqd,rnchpd,rnchq->rncqhp", C, torch.stack(before, 2), torch.exp(l))
        return self._output(y.reshape(R, N, n_chunks * Q, H, P)[:, :, :T], x, z)

    def recurrent(self, u):
        """The same outputs by the plain recurrence, one token at a time."""
        xdt, B, C, log_a, x, z = self._project(u)
        R, N, T, H, P = xdt.shape
        state = xdt.new_zeros(R, N, H, P, self.d_state)
        ys = []
        for t in range(T):
            state = (torch.exp(log_a[:, :, t])[..., None, None] * state
                     + xdt[:, :, t, :, :, None] * B[:, :, t, None, None, :])
            ys.append(torch.einsum("rnhpd,rnd->rnhp", state, C[:, :, t]))
        return self._output(torch.stack(ys, 2), x, z)

    def extra_repr(self) -> str:
        return f"d_state={self.d_state}, n_heads={self.n_heads}, chunk_size={self.chunk_size}"
