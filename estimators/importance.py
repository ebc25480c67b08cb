"""Token importance of a fitted sequence estimator: how much output position t depends on token s.

For inputs X (n, T, d) and the estimator's outputs at the last L positions, the
importance array has shape (n, L, T): entry [i, l, s] is the importance of token s of
sequence i for the output at position p = T - L + l. Two attribution methods, both from
gradients of the output with respect to the input features:

- ``"grad_input"`` (gradient x input): a[i, l, s, f] = x[i, s, f] * dF_p / dx[i, s, f],
  at the input itself (the implicit baseline is the zero token).
- ``"integrated_gradients"``: a[i, l, s, f] = (x - b)[i, s, f] times the mean of
  dF_p / dx[i, s, f] along the straight path from the baseline b to x (midpoint rule,
  ``steps`` points). Summed over tokens and features the attributions of position p
  equal F_p(x) - F_p(b) up to the quadrature error (completeness). The baseline is a
  token b repeated at every position: ``"mean"`` (default) is the per-feature mean of the
  tokens of X (over sequences and positions), ``"zeros"`` the zero token, or an array
  of d values.

A token's importance is the L1 norm of its feature attributions, sum_f |a[i, l, s, f]|,
so features of one token cannot cancel. Causal positions only: entries with s > p are 0
by construction (not computed; a causal network's gradient there is 0 anyway).
Importances are local sensitivities of the fitted function, not evidence of how the
network uses a token (docs/theory.md section 9).

Which estimators: anything with a differentiable forward on float inputs, through this
protocol (``sequence_function``):

- an object with a method ``importance_forward(x)``, x a float32 tensor (N, T, d) ->
  outputs (N, T) at every position on the original scale;
- a fitted torch estimator of this package (``network_`` in the replicate layout
  (R=1, N, T, d) -> (1, N, T, 1), outputs standardised by ``y_mean_``/``y_scale_``):
  SSMRegressor, SelectiveSSMRegressor, TransformerRegressor, WindowMLP (with ``bound``,
  a clipped output has gradient 0);
- an ``nn.Module`` mapping (N, T, d) -> (N, T) or (N, T, 1).

The Jacobian rows are computed one output position at a time over a whole chunk of
sequences: sequences do not interact, so one backward pass of the sum over sequences of
F_p gives every sequence's gradient of F_p (L backward passes per chunk for
gradient x input, ``steps`` x L for integrated gradients, the path points batched).
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import nn

METHODS = ("grad_input", "integrated_gradients")
BASELINES = ("mean", "zeros")
CHUNK_TOKENS = 2 ** 17  # input tokens (times path points) per forward/backward pass


def sequence_function(estimator):
    """The differentiable forward of ``estimator``: a callable x (N, T, d) float32 tensor ->
    (N, T) outputs at every position (module docstring's protocol). ValueError if it has none."""
    forward = getattr(estimator, "importance_forward", None)
    if callable(forward):
        return forward
    network = getattr(estimator, "network_", None)
    if isinstance(network, nn.Module) and hasattr(estimator, "y_scale_"):
        scale, mean = float(estimator.y_scale_), float(estimator.y_mean_)
        device = next(network.parameters()).device

        def fitted(x):
            return network(x.to(device).unsqueeze(0))[0, ..., 0].cpu() * scale + mean
        return fitted
    if isinstance(estimator, nn.Module):
        def module(x):
            out = estimator(x)
            return out[..., 0] if out.dim() == 3 else out
        return module
    raise ValueError(f"estimator of type {type(estimator).__name__} has no differentiable "
                     f"forward: it needs an importance_forward(x) method, a fitted torch "
                     f"network_ with one output per position (the torch regressors of "
                     f"nprates.estimators), or to be an nn.Module")


def baseline_token(X: np.ndarray, baseline) -> np.ndarray:
    """The baseline token (d,) float32 of integrated gradients for inputs X (n, T, d)."""
    d = X.shape[2]
    if isinstance(baseline, str):
        if baseline not in BASELINES:
            raise ValueError(f"baseline must be one of {BASELINES} or an array of {d} values, "
                             f"got {baseline!r}")
        return (X.mean(axis=(0, 1)) if baseline == "mean" else np.zeros(d)).astype(np.float32)
    b = np.asarray(baseline, dtype=np.float32)
    if b.shape != (d,) or not np.all(np.isfinite(b)):
        raise ValueError(f"baseline must be one of {BASELINES} or {d} finite values (one per "
                         f"feature), got shape {b.shape}")
    return b


def _check_X(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 3 or min(X.shape) < 1:
        raise ValueError(f"X must be a non-empty array (n, T, d), got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or inf")
    return X


def attributions(estimator, X, n_scored: int, method: str = "grad_input",
                 baseline="mean", steps: int = 16) -> np.ndarray:
    """Signed feature attributions (n, L, T, d) of the last ``n_scored`` = L outputs.

    ``method``, ``baseline`` and ``steps`` as in the module docstring (baseline and steps
    matter for integrated gradients only). Entries of tokens after the output's position
    are 0.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    X = _check_X(X)
    n, T, d = X.shape
    if isinstance(n_scored, bool) or not isinstance(n_scored, numbers.Integral) \
            or not 1 <= n_scored <= T:
        raise ValueError(f"n_scored must be an integer in [1, T={T}], got {n_scored!r}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    forward = sequence_function(estimator)
    if method == "grad_input":
        b, alphas = np.zeros(d, dtype=np.float32), np.ones(1, dtype=np.float32)
    else:
        b = baseline_token(X, baseline)
        alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)
    m = alphas.size
    chunk = max(1, CHUNK_TOKENS // (T * m))
    out = np.empty((n, n_scored, T, d), dtype=np.float32)
    base = torch.as_tensor(b)
    alpha = torch.as_tensor(alphas)[:, None, None, None]
    for start in range(0, n, chunk):
        x = torch.as_tensor(X[start:start + chunk])
        delta = x - base
        path = (base + alpha * delta).reshape(-1, T, d).requires_grad_(True)   # (m * N, T, d)
        with torch.enable_grad():
            y = forward(path)
            for l in range(n_scored):
                p = T - n_scored + l
                (grad,) = torch.autograd.grad(y[:, p].sum(), path, retain_graph=l < n_scored - 1)
                mean_grad = grad.reshape(m, -1, T, d).mean(dim=0)
                a = (delta * mean_grad).detach().numpy()
                a[:, p + 1:] = 0.0
                out[start:start + x.shape[0], l] = a
    return out


def token_importance(estimator, X, n_scored: int, method: str = "grad_input",
                     baseline="mean", steps: int = 16) -> np.ndarray:
    """Importance (n, L, T) >= 0 of every token for the last L = ``n_scored`` outputs: the
    L1 norm over features of ``attributions`` (same arguments). 0 at tokens after the
    output's position."""
    return np.abs(attributions(estimator, X, n_scored, method, baseline, steps)).sum(axis=-1)
