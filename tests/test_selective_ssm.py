"""The selective SSM layer: both scans agree, causality, and the limits of dt."""

import math

import pytest
import torch
import torch.nn.functional as F

from nprates.estimators.selective_ssm_layer import SelectiveSSMLayer, selective_scan


def _layer(d_model=6, d_state=5, seed=0, **kw):
    torch.manual_seed(seed)
    layer = SelectiveSSMLayer(d_model, d_state, **kw)
    with torch.no_grad():  # step sizes from 1e-3 to ~10: slow and fast memories alike
        layer.dt_proj.bias.copy_(torch.linspace(-7.0, 10.0, d_model))
        layer.dt_proj.weight.mul_(3.0)
    return layer


def _set_dt(layer, dt):
    """Input-independent step size dt for every channel."""
    with torch.no_grad():
        layer.dt_proj.weight.zero_()
        layer.dt_proj.bias.fill_(dt + math.log(-math.expm1(-dt)))  # softplus^-1(dt)


def _run(layer, x, scan):
    layer.scan = scan
    layer.zero_grad()
    x = x.clone().requires_grad_(True)
    y = layer(x)
    weights = torch.linspace(-1.0, 1.0, y.numel()).reshape(y.shape)
    (y * weights).sum().backward()
    grads = {name: p.grad.clone() for name, p in layer.named_parameters()}
    grads["input"] = x.grad.clone()
    return y.detach(), grads


def _assert_rel_close(a, b, rel, what):
    scale = b.abs().max().item()
    err = (a - b).abs().max().item()
    assert err <= rel * max(scale, 1e-30), f"{what}: max error {err:.3g} vs scale {scale:.3g}"


@pytest.mark.parametrize("T,chunk_size", [(1, 16), (37, 16), (64, 16), (50, 7), (33, 1),
                                          (20, 64)])
def test_scans_agree_in_outputs_and_gradients(T, chunk_size):
    layer = _layer(chunk_size=chunk_size)
    x = torch.randn(3, T, layer.d_model, generator=torch.Generator().manual_seed(T))
    y_seq, g_seq = _run(layer, x, "sequential")
    y_chk, g_chk = _run(layer, x, "chunked")
    assert y_chk.shape == y_seq.shape == x.shape and y_chk.dtype == torch.float32
    _assert_rel_close(y_chk, y_seq, 1e-5, "output")
    for name in g_seq:
        _assert_rel_close(g_chk[name], g_seq[name], 1e-5, f"gradient of {name}")


def test_sequential_scan_matches_the_indexing_loop_in_gradients():
    """The loop over ``unbind`` slices that forms each token's decay and drive inside it
    (linear backward) against the loop that indexes precomputed ``decay[:, t]``
    (quadratic backward): the same outputs and gradients to float32 precision."""
    from nprates.estimators.selective_ssm_layer import _sequential

    def indexing_loop(x, dt, A, B, C):
        decay = torch.exp(dt.unsqueeze(-1) * A)
        drive = (dt * x).unsqueeze(-1) * B.unsqueeze(2)
        h = drive.new_zeros(drive.shape[0], *drive.shape[2:])
        states = []
        for t in range(drive.shape[1]):
            h = decay[:, t] * h + drive[:, t]
            states.append(h)
        return torch.einsum("bthn,btn->bth", torch.stack(states, dim=1), C)

    g = torch.Generator().manual_seed(5)
    b, T, H, N = 4, 40, 6, 5
    inputs = (torch.randn(b, T, H, generator=g), torch.rand(b, T, H, generator=g),
              -torch.rand(H, N, generator=g) * 3, torch.randn(b, T, N, generator=g),
              torch.randn(b, T, N, generator=g))
    weights = torch.randn(b, T, H, generator=g)
    results = []
    for loop in (_sequential, indexing_loop):
        args = [t.clone().requires_grad_(True) for t in inputs]
        y = loop(*args)
        (y * weights).sum().backward()
        results.append([y.detach()] + [a.grad for a in args])
    for name, new, old in zip(("output", "x", "dt", "A", "B", "C"), *results):
        _assert_rel_close(new, old, 1e-5, f"{name}")


def test_chunked_scan_gradients_match_finite_differences():
    g = torch.Generator().manual_seed(1)
    b, T, H, N = 2, 11, 3, 4
    args = (torch.randn(b, T, H, generator=g, dtype=torch.float64),
            F.softplus(torch.randn(b, T, H, generator=g, dtype=torch.float64)),
            -torch.rand(H, N, generator=g, dtype=torch.float64) * 3 - 0.1,
            torch.randn(b, T, N, generator=g, dtype=torch.float64),
            torch.randn(b, T, N, generator=g, dtype=torch.float64),
            torch.randn(H, generator=g, dtype=torch.float64))
    args = tuple(a.requires_grad_(True) for a in args)
    assert torch.autograd.gradcheck(lambda *a: selective_scan(*a, chunk_size=4), args)


@pytest.mark.parametrize("scan", ["sequential", "chunked"])
def test_huge_decays_stay_finite_and_forget_everything(scan):
    """dt |A| in the thousands: exp(dt A) underflows to 0, never overflows."""
    layer = _layer(d_state=8, scan=scan, chunk_size=4)
    _set_dt(layer, 100.0)
    with torch.no_grad():
        layer.A_log.add_(2.0)  # |A| up to 8 e^2 ~ 59
    x = torch.randn(2, 21, layer.d_model, generator=torch.Generator().manual_seed(2))
    y, grads = _run(layer, x, scan)
    assert torch.isfinite(y).all() and all(torch.isfinite(v).all() for v in grads.values())
    dt, B, C = layer.selection(x)
    memoryless = dt * (B * C).sum(-1, keepdim=True) * x + layer.D * x  # h_t = dt B_t x_t
    _assert_rel_close(y, memoryless.detach(), 1e-5, "memoryless output")


@pytest.mark.parametrize("scan", ["sequential", "chunked"])
def test_causal(scan):
    layer = _layer(scan=scan, chunk_size=4)
    x = torch.randn(2, 19, layer.d_model, generator=torch.Generator().manual_seed(3))
    t0 = 9
    x2 = x.clone()
    x2[:, t0] += 1.0
    with torch.no_grad():
        y, y2 = layer(x), layer(x2)
    assert torch.equal(y[:, :t0], y2[:, :t0])
    assert (y[:, t0:] - y2[:, t0:]).abs().amax(dim=(0, 2)).min() > 0  # and the future moves


@pytest.mark.parametrize("scan", ["sequential", "chunked"])
def test_fixed_dt_b_c_is_the_lti_convolution(scan):
    """With dt, B, C not depending on the input: y = K * x + D x, K_s = sum_n C_n abar^s dt B_n."""
    g = torch.Generator().manual_seed(4)
    b, T, H, N = 2, 23, 3, 4
    x = torch.randn(b, T, H, generator=g)
    dt_h = torch.tensor([0.01, 0.3, 2.0])
    A = -torch.rand(H, N, generator=g) * 2 - 0.05
    B_n, C_n, D = torch.randn(N, generator=g), torch.randn(N, generator=g), torch.randn(H, generator=g)
    y = selective_scan(x, dt_h.expand(b, T, H), A, B_n.expand(b, T, N), C_n.expand(b, T, N), D,
                       scan=scan, chunk_size=5)
    # The direct convolution, in float64.
    lags = torch.arange(T, dtype=torch.float64)[:, None, None]
    a_bar = torch.exp(dt_h.double()[:, None] * A.double())                   # (H, N)
    kernel = (C_n.double() * a_bar ** lags * B_n.double()).sum(-1) * dt_h.double()  # (T, H)
    xd = x.double()
    expected = torch.stack([sum(kernel[k] * xd[:, t - k] for k in range(t + 1))
                            for t in range(T)], dim=1) + D.double() * xd
    _assert_rel_close(y.double(), expected, 1e-5, "LTI output")


@pytest.mark.parametrize("scan", ["sequential", "chunked"])
def test_tiny_dt_leaves_only_the_skip(scan):
    layer = _layer(scan=scan)
    _set_dt(layer, 1e-7)
    x = torch.randn(2, 30, layer.d_model, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        y = layer(x)
    _assert_rel_close(y, layer.D.detach() * x, 1e-4, "skip-only output")


@pytest.mark.parametrize("scan", ["sequential", "chunked"])
def test_large_dt_forgets_the_past(scan):
    layer = _layer(scan=scan)
    _set_dt(layer, 40.0)  # exp(-40) ~ 4e-18: no memory
    x = torch.randn(2, 12, layer.d_model, generator=torch.Generator().manual_seed(6))
    x2 = x.clone()
    x2[:, 5] += 3.0
    with torch.no_grad():
        y, y2 = layer(x), layer(x2)
    assert not torch.equal(y[:, 5], y2[:, 5])
    _assert_rel_close(y2[:, 6:], y[:, 6:], 1e-6, "outputs after the perturbed token")


def test_dt_depends_on_the_input():
    layer = _layer()
    x = torch.randn(1, 8, layer.d_model, generator=torch.Generator().manual_seed(7))
    dt, B, C = layer.selection(x)
    assert dt.shape == x.shape and B.shape == C.shape == (1, 8, layer.d_state)
    assert (dt > 0).all() and dt.std(dim=1).min() > 0


def test_initialisation():
    torch.manual_seed(0)
    layer = SelectiveSSMLayer(40, 8, dt_min=1e-3, dt_max=1e-1)
    assert layer.dt_rank == 3 and layer.scan == "sequential"
    dt0 = F.softplus(layer.dt_proj.bias.detach())
    assert dt0.min() >= 1e-3 * (1 - 1e-5) and dt0.max() <= 1e-1 * (1 + 1e-5)
    assert torch.allclose(layer.A, -torch.arange(1.0, 9.0).expand(40, 8))
    assert torch.equal(layer.D.detach(), torch.ones(40))
    assert all(p.dtype == torch.float32 for p in layer.parameters())


def test_autocast_keeps_the_scan_in_float32():
    layer = _layer()
    x = torch.randn(2, 17, layer.d_model, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        ref = layer(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = layer(x)
    assert y.dtype == torch.float32 and torch.isfinite(y).all()
    _assert_rel_close(y, ref, 0.05, "bfloat16 autocast output")


@pytest.mark.parametrize("kwargs,word", [({"scan": "parallel"}, "scan"),
                                         ({"chunk_size": 0}, "chunk_size"),
                                         ({"chunk_size": 2.0}, "chunk_size"),
                                         ({"dt_rank": 0}, "dt_rank"),
                                         ({"dt_min": 0.2, "dt_max": 0.1}, "dt_min"),
                                         ({"d_state": 0}, "d_state")])
def test_bad_arguments_are_refused(kwargs, word):
    with pytest.raises(ValueError, match=word):
        SelectiveSSMLayer(4, **{"d_state": 2, **kwargs})


def test_bad_shapes_are_refused():
    layer = SelectiveSSMLayer(4, 2)
    with pytest.raises(ValueError, match="shape"):
        layer(torch.randn(2, 5, 3))
    x, dt = torch.randn(1, 5, 4), torch.rand(1, 5, 4)
    with pytest.raises(ValueError, match="A must"):
        selective_scan(x, dt, -torch.ones(3, 2), torch.randn(1, 5, 2), torch.randn(1, 5, 2))
    with pytest.raises(ValueError, match="empty"):
        layer(torch.randn(2, 0, 4))
    with pytest.raises(ValueError, match="C must"):
        selective_scan(x, dt, -torch.ones(4, 2), torch.randn(1, 5, 2), torch.randn(1, 5, 3))
