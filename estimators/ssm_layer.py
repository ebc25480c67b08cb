"""The papers' SSM layer: channel-wise, linear, time-invariant, diagonal (S4D), in plain torch.

Each of the H channels is its own single-input single-output system with a diagonal
complex state of N/2 modes (the state size N counts real numbers; modes come in conjugate
pairs, hence the factor 2 below). With zero-order-hold discretisation of step dt,

    A_bar = exp(dt A),   B_bar = (exp(dt A) - 1) / A * B,
    h_t = A_bar h_{t-1} + B_bar u_t   (h_{-1} = 0),   y_t = 2 Re(C h_t) + D u_t,

so y = K * u + D u, a causal convolution with the kernel

    K_s = 2 Re(C A_bar^s B_bar),   s = 0, 1, ...   (K_0 weights the current token).

In docs/theory.md's indexing, h_{t+1} = A h_t + B u_t, the output reads the state after u_t
entered it: y_t = C h_{t+1} + D u_t. As in S4D, B is fixed to 1 (a trainable B would only
rescale C). The kernel is computed in float32 from the parameters (a Vandermonde product),
truncated to a window of U tokens (K_s = 0 for s >= U; default: the whole sequence), and
applied as a Toeplitz matrix product (short sequences) or by FFT. Parameters: ``log_dt``
(H,), ``log_A_real`` and ``A_imag`` (H, N/2) with
A = -exp(log_A_real) + i A_imag (S4D-Lin initialisation: -1/2 + i pi n), ``C`` (H, N/2, 2)
(real and imaginary parts) and ``D`` (H,), each with a leading replicate dimension
(``layers``). A and dt are the dynamics: ``ssm_parameter_names`` gives them their own
learning rate and no weight decay.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


# Up to this many tokens, and with at least as many sequences as tokens, the convolution is
# a matrix product with the kernel's (T, T) Toeplitz matrix; otherwise an FFT. On a 2-core
# CPU the direct product is 1.1-6x faster there (tiny FFTs are slow, odd lengths slower
# still). Building the Toeplitz matrices and their gradient costs about as much as
# convolving T sequences, so for a handful of sequences the FFT wins even at T = 32.
DIRECT_MAX_LENGTH = 64


def toeplitz_convolution(u: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Causal convolution y_t = sum_s K_s u_{t-s}: u (R, N, T, H), K (R, H, U) with U <= T,
    as one batched product with the Toeplitz matrices M[t, j] = K_{t-j} (zero outside
    0 <= t-j < U) of shape (R, H, T, T)."""
    T, U = u.shape[2], K.shape[-1]
    padded = F.pad(K.flip(-1), (T - U, T - 1))   # entry T-1+j-t holds K_{t-j}
    M = padded.unfold(-1, T, 1).flip(-2)         # row t: the window starting at T-1-t
    return torch.einsum("rhtj,rnjh->rnth", M, u)


def fft_convolution(u: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The same convolution by FFT along the contiguous last axis, zero-padded to a power
    of two >= T + U - 1 (no wrap-around, so causal)."""
    T = u.shape[2]
    n_fft = 1 << (T + K.shape[-1] - 2).bit_length()
    u_f = torch.fft.rfft(u.transpose(2, 3), n=n_fft)                    # (R, N, H, F)
    k_f = torch.fft.rfft(K, n=n_fft).unsqueeze(1)                       # (R, 1, H, F)
    return torch.fft.irfft(u_f * k_f, n=n_fft)[..., :T].transpose(2, 3)  # (R, N, T, H)


def _positive_int(value, name: str, even: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (even and value % 2):
        kind = "a positive even integer" if even else "a positive integer"
        raise ValueError(f"{name} must be {kind}, got {value!r}")


class S4DLayer(nn.Module):
    """Diagonal LTI state-space layer: (R, N, T, width) -> (R, N, T, width), causal.

    Parameters
    ----------
    width : int
        Number of channels H (each has its own state).
    d_state : int, default 16
        State size N per channel (even: N/2 complex modes).
    window : int or None, default None
        Kernel length U: the output at t sees tokens t-U+1..t. None: the whole sequence.
    dt_min, dt_max : float, default 1e-3, 1e-1
        The step sizes dt are initialised log-uniformly in [dt_min, dt_max].
    n_replicates : int, default 1
        Leading replicate dimension R of every parameter.
    """

    ssm_parameter_names = ("log_dt", "log_A_real", "A_imag")

    def __init__(self, width: int, d_state: int = 16, window: int | None = None,
                 dt_min: float = 1e-3, dt_max: float = 1e-1, n_replicates: int = 1):
        super().__init__()
        _positive_int(width, "width")
        _positive_int(d_state, "d_state", even=True)
        if window is not None:
            _positive_int(window, "window")
        if not 0 < dt_min <= dt_max < math.inf:
            raise ValueError(f"need 0 < dt_min <= dt_max < inf, got {dt_min!r}, {dt_max!r}")
        self.window = window
        R, H, M = n_replicates, width, d_state // 2
        log_dt = torch.rand(R, H) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        self.log_dt = nn.Parameter(log_dt)
        self.log_A_real = nn.Parameter(torch.full((R, H, M), math.log(0.5)))
        self.A_imag = nn.Parameter(math.pi * torch.arange(M, dtype=torch.float32).repeat(R, H, 1))
        self.C = nn.Parameter(torch.randn(R, H, M, 2) * math.sqrt(0.5))
        self.D = nn.Parameter(torch.randn(R, H))

    def discrete(self):
        """(dt A, C B_bar), complex, each of shape (R, H, N/2); A_bar = exp(dt A)."""
        dt = torch.exp(self.log_dt).unsqueeze(-1)
        A = torch.complex(-torch.exp(self.log_A_real), self.A_imag)
        B_bar = (torch.exp(dt * A) - 1) / A
        return dt * A, torch.complex(self.C[..., 0], self.C[..., 1]) * B_bar

    def kernel(self, length: int) -> torch.Tensor:
        """K_s for s < min(U, length): shape (R, H, min(U, length)).

        With s = a c + b (c ~ sqrt(U)), C B_bar A_bar^s = (C B_bar A_bar^(a c)) A_bar^b, so the
        Vandermonde product is one batched (a x N/2) @ (N/2 x c) matrix product of two small
        power tables instead of (R, H, N/2, U) complex exponentials.
        """
        U = length if self.window is None else min(self.window, length)
        dtA, CB = self.discrete()
        c = math.isqrt(U - 1) + 1
        a = -(-U // c)
        steps = torch.arange(max(a, c), device=CB.device, dtype=torch.float32)
        outer = CB.unsqueeze(-1) * torch.exp(dtA.unsqueeze(-1) * (steps[:a] * c))  # (R,H,N/2,a)
        inner = torch.exp(dtA.unsqueeze(-1) * steps[:c])                         # (R,H,N/2,c)
        K = torch.matmul(outer.transpose(-1, -2), inner)                         # (R, H, a, c)
        return 2 * K.real.flatten(-2)[..., :U]

    def forward(self, u):
        R, N, T, H = u.shape
        K = self.kernel(T)
        conv = toeplitz_convolution if T <= min(DIRECT_MAX_LENGTH, N) else fft_convolution
        return conv(u, K) + u * self.D.view(R, 1, 1, H)

    def extra_repr(self) -> str:
        R, H, M = self.log_A_real.shape
        return f"width={H}, d_state={2 * M}, window={self.window}, replicates={R}"
