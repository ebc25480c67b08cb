"""Gated linear attention (Yang et al., 2024), with RetNet's fixed decay as a special case.

The width W is split into H heads of K = W / H channels. From each token u_t (linear
maps without bias, so a zero token writes nothing into the state) the layer computes
queries q_t = W_q u_t / sqrt(K), keys k_t, values v_t and an output gate g_t, and every
head keeps a (K, K) state that forgets each key channel at its own rate:

    S_t = diag(alpha_t) S_{t-1} + k_t v_t^T   (S_{-1} = 0),   o_t = S_t^T q_t,

returning W_out (rmsnorm(o_t) * silu(g_t)) with the RMS norm taken per head without a
gain. The forget gates are

- ``decay="data"`` (GLA): log alpha_t = logsigmoid(W_a u_t + b_a) / 16, per head and key
  channel, so how long a token is remembered depends on the tokens that follow; b_a
  starts with memories 1 / (1 - alpha) log-uniform over 1..100 tokens across the key
  channels (GLA's language models start near alpha = 1; the sequences here are short);
- ``decay="fixed"`` (RetNet): alpha = 1 - 2^(-5 - h) for head h = 0..H-1, the same for
  every token and key channel (no W_a).

Unrolled, with l_t = sum_{r <= t} log alpha_r (per key channel),
o_t = sum_{s <= t} v_s sum_k q_tk k_sk exp(l_tk - l_sk): linear attention with decay, the
parallel form. ``forward`` computes it in chunks of Q tokens: inside a chunk the (Q, Q)
parallel form, written as (q_t exp(l_t)) . (k_s exp(-l_s)) with l counted from the
chunk's start; across chunks the recurrence of the states at the chunk ends,
S_end(c) = diag(exp(l_end(c))) S_end(c-1) + sum_{s in c} (k_s exp(l_end(c) - l_s)) v_s^T,
read by each token as (q_t exp(l_t))^T S_end(c-1). So that exp(-l_s) stays finite in
float32 within a chunk (|l| <= 5 Q <= 80 for Q <= 16), log alpha is clipped at -5 per token
(alpha >= 0.0067; with the 1/16 temperature the clip acts only for W_a u_t + b_a < -80).
``recurrent`` runs the recurrence token by token (the reference of the tests).

Shapes: (R, N, T, W) -> (R, N, T, W); parameters with a leading replicate dimension R
(``layers``): ``in_proj``, ``out_proj`` and, for data gates, ``gate_bias`` (R, W).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .layers import ReplicatedLinear
from .ssm_layer import _positive_int

GATE_TEMPERATURE = 16.0
MIN_LOG_GATE = -5.0
MAX_CHUNK = 16
# The RMS norm's epsilon bounds its gain on a head output near zero (1 / sqrt(eps)): at
# 1e-6 that gain, 1000, turned float32 rounding into 1% differences between replicate-
# batched and separate fits within three optimiser steps; head outputs are O(1).
NORM_EPS = 1e-3


class GatedLinearAttention(nn.Module):
    """Chunked gated linear attention (module docstring): (R, N, T, width) -> same, causal.

    Parameters
    ----------
    width : int
        Channels W, divisible by ``n_heads``.
    n_heads : int, default 4
    decay : "data" (default) or "fixed"
        Data-dependent forget gates (GLA) or RetNet's fixed per-head decay.
    chunk_size : int, default 16
        Chunk length Q of the chunked form, at most 16.
    n_replicates : int, default 1
    """

    DECAYS = ("data", "fixed")
    no_weight_decay_names = ("gate_bias",)

    def __init__(self, width: int, n_heads: int = 4, decay: str = "data", chunk_size: int = 16,
                 n_replicates: int = 1):
        super().__init__()
        _positive_int(width, "width")
        _positive_int(n_heads, "n_heads")
        _positive_int(chunk_size, "chunk_size")
        if width % n_heads:
            raise ValueError(f"width={width} is not divisible by n_heads={n_heads}")
        if decay not in self.DECAYS:
            raise ValueError(f"decay must be one of {self.DECAYS}, got {decay!r}")
        if chunk_size > MAX_CHUNK:
            raise ValueError(f"chunk_size must be at most {MAX_CHUNK}, got {chunk_size!r}")
        R = n_replicates
        self.n_heads, self.decay, self.chunk_size = n_heads, decay, chunk_size
        n_maps = 5 if decay == "data" else 4                  # q, k, v, g (and the gate)
        self.in_proj = ReplicatedLinear(width, n_maps * width, R, bias=False)
        if decay == "data":
            # initial memories 1 / (1 - alpha) log-uniform over 1..100 tokens across the
            # key channels: alpha = exp(-1 / m) = sigmoid(b)^(1/16) at a zero input
            memory = torch.exp(torch.linspace(0.0, math.log(100.0), width))
            p = torch.exp(-GATE_TEMPERATURE / memory)
            self.gate_bias = nn.Parameter(torch.log(p / (1 - p)).repeat(R, 1))
        self.out_proj = ReplicatedLinear(width, width, R)

    def _project(self, u):
        """q, k, v and log alpha (R, N, T, H, K) (log alpha broadcastable), and g."""
        R, N, T, W = u.shape
        H = self.n_heads
        parts = self.in_proj(u).split(W, -1)
        q, k, v = (p.reshape(R, N, T, H, W // H) for p in parts[:3])
        if self.decay == "data":
            a = parts[4] + self.gate_bias.view(R, 1, 1, W)
            log_alpha = (F.logsigmoid(a) / GATE_TEMPERATURE).clamp_min(MIN_LOG_GATE)
            log_alpha = log_alpha.reshape(R, N, T, H, W // H)
        else:
            h = torch.arange(H, device=u.device, dtype=torch.float32)
            log_alpha = torch.log1p(-torch.pow(2.0, -5.0 - h)).view(1, 1, 1, H, 1)
        return q * (W // H) ** -0.5, k, v, log_alpha, parts[3]

    def _output(self, o, g):
        o = o * torch.rsqrt(o.square().mean(-1, keepdim=True) + NORM_EPS)
        return self.out_proj(o.flatten(-2) * F.silu(g))

    def forward(self, u):
        q, k, v, log_alpha, g = self._project(u)
        R, N, T, H, K = q.shape
        log_alpha = log_alpha.expand_as(q)
        Q = min(self.chunk_size, T)
        pad = -T % Q
        if pad:   # zero tokens at the end: they change no earlier output
            q, k, v, log_alpha = (F.pad(t, (0, 0, 0, 0, 0, pad)) for t in (q, k, v, log_alpha))
        n_chunks = (T + pad) // Q
        q, k, v, l = (t.reshape(R, N, n_chunks, Q, H, K) for t in (q, k, v, log_alpha))
        l = l.cumsum(3)
        q_in, k_in = q * torch.exp(l), k * torch.exp(-l)
        scores = torch.einsum("rncqhk,rncshk->rnchqs", q_in, k_in)
        causal = torch.ones(Q, Q, dtype=torch.bool, device=u.device).tril()
        o = torch.einsum("rnchqs,rncshv->rncqhv", scores.masked_fill(~causal, 0.0), v)
        l_end = l[:, :, :, -1]                                          # (R, N, c, H, K)
        ends = torch.einsum("rncshk,rncshv->rnchkv", k * torch.exp(l_end.unsqueeze(3) - l), v)
        state, before = torch.zeros_like(ends[:, :, 0]), []
        for c in range(n_chunks):
            before.append(state)
            state = torch.exp(l_end[:, :, c]).unsqueeze(-1) * state + ends[:, :, c]
        o = o + torch.einsum("rncqhk,rnchkv->rncqhv", q_in, torch.stack(before, 2))
        return self._output(o.reshape(R, N, n_chunks * Q, H, K)[:, :, :T], g)

    def recurrent(self, u):
        """The same outputs by the plain recurrence, one token at a time."""
        q, k, v, log_alpha, g = self._project(u)
        R, N, T, H, K = q.shape
        alpha = torch.exp(log_alpha.expand_as(q))
        state, outs = q.new_zeros(R, N, H, K, K), []
        for t in range(T):
            state = (alpha[:, :, t].unsqueeze(-1) * state
                     + k[:, :, t].unsqueeze(-1) * v[:, :, t].unsqueeze(-2))
            outs.append(torch.einsum("rnhk,rnhkv->rnhv", q[:, :, t], state))
        return self._output(torch.stack(outs, 2), g)

    def extra_repr(self) -> str:
        return f"n_heads={self.n_heads}, decay={self.decay!r}, chunk_size={self.chunk_size}"
