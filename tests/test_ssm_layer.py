"""The S4D layer against its recurrence, and the replicate layout of the building blocks."""

import pytest
import torch
from torch import nn

from nprates.estimators.layers import (MLP, OutputClip, Replicated, ReplicatedLinear, replicate_state,
                               stack_replicates)
from nprates.estimators.ssm_layer import (DIRECT_MAX_LENGTH, S4DLayer, fft_convolution,
                                  toeplitz_convolution)
from nprates.estimators.training import TrainingConfig, parameter_groups


def _layer(seed=0, **kw):
    torch.manual_seed(seed)
    kw = {"width": 3, "d_state": 6, "dt_min": 1e-2, "dt_max": 1.0, **kw}
    return S4DLayer(**kw)


def _recurrence(layer, u):
    """h_t = A_bar h_{t-1} + B_bar u_t, y_t = 2 Re(C h_t) + D u_t, one step at a time.

    u: (N, T, H) for replicate 0. Built from the raw parameters, not from the layer's code.
    """
    p = {name: t[0].detach().double() for name, t in layer.named_parameters()}
    dt = torch.exp(p["log_dt"]).unsqueeze(-1)
    A = torch.complex(-torch.exp(p["log_A_real"]), p["A_imag"])
    A_bar = torch.exp(dt * A)
    B_bar = (A_bar - 1) / A
    C = torch.complex(p["C"][..., 0], p["C"][..., 1])
    u = u.double()
    N, T, H = u.shape
    h = torch.zeros(N, H, A.shape[-1], dtype=torch.complex128)
    ys = []
    for t in range(T):
        h = A_bar * h + B_bar * u[:, t, :, None]
        ys.append(2 * (C * h).sum(-1).real + p["D"] * u[:, t])
    return torch.stack(ys, dim=1)


# (sequences, tokens): the Toeplitz path (T <= 64 and N >= T), then the FFT path twice
@pytest.mark.parametrize("N, T", [(40, 37), (4, 37), (4, 150)])
def test_convolution_equals_recurrence(N, T):
    assert (T <= min(DIRECT_MAX_LENGTH, N)) == (N == 40)
    layer = _layer()
    u = torch.randn(1, N, T, 3)
    y = layer(u)[0].double()
    expected = _recurrence(layer, u[0])
    assert y.shape == expected.shape == (N, T, 3)
    assert torch.allclose(y, expected, rtol=1e-4, atol=1e-4 * expected.abs().max())


@pytest.mark.parametrize("N, T", [(50, 50), (2, 50), (2, 130)])
def test_convolution_equals_recurrence_in_double_precision(N, T):
    layer = _layer(seed=1).double()
    u = torch.randn(1, N, T, 3, dtype=torch.float64)
    assert torch.allclose(layer(u)[0], _recurrence(layer, u[0]), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("T, U", [(1, 1), (7, 3), (40, 40), (70, 9), (129, 129)])
def test_toeplitz_and_fft_convolutions_agree_with_their_gradients(T, U):
    torch.manual_seed(T)
    u = torch.randn(2, 3, T, 4, dtype=torch.float64, requires_grad=True)
    K = torch.randn(2, 4, U, dtype=torch.float64, requires_grad=True)
    direct = _direct_convolution(u.detach(), K.detach())
    w = torch.randn(2, 3, T, 4, dtype=torch.float64)
    grads = []
    for conv in (toeplitz_convolution, fft_convolution):
        y = conv(u, K)
        assert torch.allclose(y, direct, atol=1e-10)
        grads.append(torch.autograd.grad((y * w).sum(), (u, K)))
    for a, b in zip(*grads):
        assert torch.allclose(a, b, atol=1e-10)


def _direct_convolution(u, K):
    """y_t = sum_{s < U, s <= t} K_s u_{t-s}, one lag at a time."""
    y = torch.zeros_like(u)
    T = u.shape[2]
    for s in range(min(K.shape[-1], T)):
        y[:, :, s:] += K[:, None, None, :, s] * u[:, :, :T - s]
    return y


def test_window_truncates_the_kernel():
    U = 5
    full, windowed = _layer(seed=2), _layer(seed=2, window=U)
    K = full.kernel(20)
    assert torch.allclose(windowed.kernel(20), K[..., :U])
    u = torch.randn(1, 3, 20, 3)
    expected = _direct_convolution(u, K[..., :U]) + full.D[0] * u
    assert torch.allclose(windowed(u), expected, atol=1e-5)


def test_layer_is_causal():
    layer = _layer(seed=3)
    u = torch.randn(1, 2, 30, 3)
    v = u.clone()
    v[:, :, 18:] = torch.randn(1, 2, 12, 3)
    assert torch.allclose(layer(u)[:, :, :18], layer(v)[:, :, :18], atol=1e-6)
    assert not torch.allclose(layer(u)[:, :, 18:], layer(v)[:, :, 18:])


def test_parameters_are_float32_and_validated():
    layer = _layer()
    assert all(p.dtype == torch.float32 for p in layer.parameters())
    with pytest.raises(ValueError, match="d_state"):
        S4DLayer(4, d_state=5)
    with pytest.raises(ValueError, match="window"):
        S4DLayer(4, window=0)
    with pytest.raises(ValueError, match="dt_min"):
        S4DLayer(4, dt_min=1.0, dt_max=0.1)


def test_ssm_dynamics_get_their_own_learning_rate_and_no_weight_decay():
    net = nn.Sequential(ReplicatedLinear(2, 3), _layer())
    config = TrainingConfig(lr=1e-2, ssm_lr=1e-4, weight_decay=0.1)
    groups = {id(p): g for g in parameter_groups(net, config) for p in g["params"]}
    names = dict(net.named_parameters())
    for name in ("1.log_dt", "1.log_A_real", "1.A_imag"):
        assert (groups[id(names[name])]["lr"], groups[id(names[name])]["weight_decay"]) == (1e-4, 0)
    assert (groups[id(names["1.C"])]["lr"], groups[id(names["1.C"])]["weight_decay"]) == (1e-2, 0.1)
    assert groups[id(names["0.weight"])]["weight_decay"] == 0.1
    for name in ("0.bias", "1.D"):  # per-replicate vectors
        assert groups[id(names[name])]["weight_decay"] == 0


# -- the replicate layout ------------------------------------------------------------------

def test_stacked_replicates_equal_the_single_networks():
    singles = []
    for seed in (0, 1, 2):
        torch.manual_seed(seed)
        singles.append(nn.Sequential(MLP(3, 3, 8, 1), S4DLayer(3, 4, dt_min=0.1, dt_max=1.0)))
    stacked = stack_replicates(singles)
    x = torch.randn(3, 5, 9, 3)
    out = stacked(x)
    for r, net in enumerate(singles):
        assert torch.allclose(out[r], net(x[r:r + 1])[0], atol=1e-6)
    assert all(t.shape[0] == 3 for t in replicate_state(stacked).values())


def test_stacking_needs_a_replicate_dimension():
    with pytest.raises(ValueError, match="replicate dimension"):
        stack_replicates([nn.Linear(2, 2), nn.Linear(2, 2)])


def test_replicated_adapts_an_ordinary_module():
    torch.manual_seed(0)
    wrapped = Replicated(lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)), 2)
    x = torch.randn(2, 5, 7, 3)
    out = wrapped(x)
    assert out.shape == (2, 5, 7, 2)
    for r in range(2):
        plain = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        plain.load_state_dict({name: getattr(wrapped, "rep__" + name.replace(".", "__"))[r]
                               for name in plain.state_dict()})
        assert torch.allclose(out[r], plain(x[r]), atol=1e-6)
    out.sum().backward()
    assert all(p.grad is not None for p in wrapped.parameters())


def test_output_clip_acts_in_eval_mode_only():
    clip = OutputClip(2, low=-1.0, high=0.5)
    x = torch.linspace(-3, 3, 24).reshape(2, 3, 4, 1)
    assert torch.equal(clip.train()(x), x)
    assert torch.equal(clip.eval()(x), x.clamp(-1.0, 0.5))
