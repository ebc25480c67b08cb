"""The Linear Recurrent Unit (Orvieto et al., 2023): a complex diagonal linear recurrence.

A state of M complex modes reads the whole token (multi-input, unlike S4D's channel-wise
systems) and the output reads the whole state:

    h_t = lambda * h_{t-1} + gamma * (B u_t)   (h_{-1} = 0, elementwise in the M modes),
    y_t = Re(C h_t) + D * u_t,

with B (M, W) and C (W, M) complex and D (W,) real. Stability is built into the
parametrisation: lambda = exp(-exp(nu_log) + i exp(theta_log)) has modulus
exp(-exp(nu_log)) < 1 for every value of the trained parameters, and the normalisation
gamma (initialised to sqrt(1 - |lambda|^2), then trained as ``gamma_log``) keeps the state
of white-noise inputs at unit scale however close |lambda| gets to 1. The initial
modulus is uniform on the ring r_min <= |lambda| <= r_max, the phase uniform in
[0, max_phase].

The recurrence is linear and time-invariant: h is the causal convolution of v_t = gamma
B u_t with lambda^s, s = 0, 1, ..., per mode. ``forward`` computes it by a complex FFT of
length >= 2T - 1 (no wrap-around); ``recurrent`` runs it token by token (the reference of
the tests). The output at t depends on the lags t - s only, so shifting a sequence right
behind zero tokens shifts the outputs.

Shapes: (R, N, T, W) -> (R, N, T, W). Parameters, each with a leading replicate
dimension R (``layers``): ``nu_log``, ``theta_log``, ``gamma_log`` (R, M), ``B`` (R, M, W, 2)
and ``C`` (R, W, M, 2) (real and imaginary parts), ``D`` (R, W). nu_log and theta_log are
the dynamics: ``ssm_parameter_names`` gives them their own learning rate and no weight
decay.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .ssm_layer import _positive_int


class LRULayer(nn.Module):
    """Linear Recurrent Unit (module docstring): (R, N, T, width) -> (R, N, T, width), causal.

    Parameters
    ----------
    width : int
        Channels W of the input and output.
    d_state : int, default 16
        Complex modes M of the state.
    r_min, r_max : float, default 0.5, 0.99
        Ring of the initial |lambda|: memories of about 1.5 to 100 tokens.
    max_phase : float, default pi
        Initial phases are uniform in [0, max_phase].
    n_replicates : int, default 1
    """

    ssm_parameter_names = ("nu_log", "theta_log")
    no_weight_decay_names = ("gamma_log", "D")

    def __init__(self, width: int, d_state: int = 16, r_min: float = 0.5, r_max: float = 0.99,
                 max_phase: float = math.pi, n_replicates: int = 1):
        super().__init__()
        _positive_int(width, "width")
        _positive_int(d_state, "d_state")
        if not 0 <= r_min < r_max < 1:
            raise ValueError(f"need 0 <= r_min < r_max < 1, got {r_min!r}, {r_max!r}")
        if not 0 < max_phase <= 2 * math.pi:
            raise ValueError(f"max_phase must lie in (0, 2 pi], got {max_phase!r}")
        R, M, W = n_replicates, d_state, width
        radius2 = torch.rand(R, M) * (r_max ** 2 - r_min ** 2) + r_min ** 2
        nu = -0.5 * torch.log(radius2)
        theta = torch.rand(R, M).clamp_min(1e-4) * max_phase
        self.nu_log = nn.Parameter(torch.log(nu))
        self.theta_log = nn.Parameter(torch.log(theta))
        self.gamma_log = nn.Parameter(0.5 * torch.log1p(-radius2))
        self.B = nn.Parameter(torch.randn(R, M, W, 2) / math.sqrt(2 * W))
        self.C = nn.Parameter(torch.randn(R, W, M, 2) / math.sqrt(M))
        self.D = nn.Parameter(torch.randn(R, W))

    def log_lambda(self) -> torch.Tensor:
        """log lambda = -exp(nu_log) + i exp(theta_log), complex (R, M)."""
        return torch.complex(-torch.exp(self.nu_log), torch.exp(self.theta_log))

    def _drive(self, u) -> torch.Tensor:
        """v_t = gamma B u_t, complex (R, N, T, M)."""
        R, M = self.gamma_log.shape
        B = self.B * torch.exp(self.gamma_log).view(R, M, 1, 1)
        flat = u.reshape(R, -1, u.shape[-1])
        v = torch.complex(torch.bmm(flat, B[..., 0].transpose(1, 2)),
                          torch.bmm(flat, B[..., 1].transpose(1, 2)))
        return v.view(*u.shape[:-1], M)

    def _read(self, h, u) -> torch.Tensor:
        """y_t = Re(C h_t) + D u_t for states h (R, N, T, M)."""
        R = u.shape[0]
        flat_re, flat_im = (p.reshape(R, -1, p.shape[-1]) for p in (h.real, h.imag))
        y = (torch.bmm(flat_re, self.C[..., 0].transpose(1, 2))
             - torch.bmm(flat_im, self.C[..., 1].transpose(1, 2)))
        return y.view(u.shape) + u * self.D.view(R, 1, 1, -1)

    def forward(self, u):
        T = u.shape[2]
        v = self._drive(u).transpose(2, 3)                                # (R, N, M, T)
        powers = torch.exp(self.log_lambda().unsqueeze(-1)
                           * torch.arange(T, device=u.device, dtype=torch.float32))  # (R,M,T)
        n_fft = 1 << (2 * T - 2).bit_length()
        h = torch.fft.ifft(torch.fft.fft(v, n=n_fft) * torch.fft.fft(powers, n=n_fft).unsqueeze(1),
                           n=n_fft)[..., :T]
        return self._read(h.transpose(2, 3), u)

    def recurrent(self, u):
        """The same outputs by the plain recurrence, one token at a time."""
        v = self._drive(u)
        lam = torch.exp(self.log_lambda()).unsqueeze(1)                   # (R, 1, M)
        h, states = torch.zeros_like(v[:, :, 0]), []
        for t in range(u.shape[2]):
            h = lam * h + v[:, :, t]
            states.append(h)
        return self._read(torch.stack(states, 2), u)

    def extra_repr(self) -> str:
        R, M = self.nu_log.shape
        return f"width={self.D.shape[1]}, d_state={M}, replicates={R}"
