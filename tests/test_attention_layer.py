"""Causal attention: the explicit short-sequence path against SDPA, causality and windows."""

import pytest
import torch
import torch.nn.functional as F

from nprates.estimators.attention_layer import (EXPLICIT_MAX_LENGTH, CausalSelfAttention, causal_mask,
                                        explicit_attention)


@pytest.mark.parametrize("window", [None, 1, 5])
def test_explicit_attention_equals_sdpa_with_gradients(window):
    torch.manual_seed(0)
    q, k, v = (torch.randn(3, 2, 17, 4, dtype=torch.float64, requires_grad=True)
               for _ in range(3))
    mask = causal_mask(17, window)
    w = torch.randn(3, 2, 17, 4, dtype=torch.float64)
    outs, grads = [], []
    for attend in (explicit_attention, lambda *a: F.scaled_dot_product_attention(*a[:3],
                                                                               attn_mask=a[3])):
        o = attend(q, k, v, mask)
        outs.append(o)
        grads.append(torch.autograd.grad((o * w).sum(), (q, k, v)))
    assert torch.allclose(outs[0], outs[1], atol=1e-12)
    for a, b in zip(*grads):
        assert torch.allclose(a, b, atol=1e-12)
    if window == 1:  # each position sees itself only: the output is its own value
        assert torch.allclose(outs[0], v, atol=1e-12)


@pytest.mark.parametrize("T", [EXPLICIT_MAX_LENGTH - 4, EXPLICIT_MAX_LENGTH + 6])
@pytest.mark.parametrize("window", [None, 6])
def test_layer_is_causal_and_sees_only_its_window(T, window):
    torch.manual_seed(1)
    layer = CausalSelfAttention(8, n_heads=2, window=window, n_replicates=2)
    x = torch.randn(2, 3, T, 8)
    y = layer(x)
    t = T - 10
    changed_future = x.clone()
    changed_future[:, :, t + 1:] = torch.randn(2, 3, T - t - 1, 8)
    assert torch.allclose(layer(changed_future)[:, :, :t + 1], y[:, :, :t + 1], atol=1e-6)
    changed_past = x.clone()
    changed_past[:, :, t - 6] = torch.randn(2, 3, 8)  # 6 tokens back: outside a window of 6
    moved = not torch.allclose(layer(changed_past)[:, :, t], y[:, :, t], atol=1e-6)
    assert moved == (window is None)


def test_both_paths_give_the_layer_the_same_function():
    """A layer evaluated on a long sequence agrees, on its first tokens, with the same layer
    on the short prefix: SDPA above EXPLICIT_MAX_LENGTH, explicit products below."""
    torch.manual_seed(2)
    layer = CausalSelfAttention(8, n_heads=4, n_replicates=1).double()
    x = torch.randn(1, 2, EXPLICIT_MAX_LENGTH + 20, 8, dtype=torch.float64)
    prefix = x[:, :, :EXPLICIT_MAX_LENGTH]
    assert torch.allclose(layer(x)[:, :, :EXPLICIT_MAX_LENGTH], layer(prefix), atol=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    ({"width": 8, "n_heads": 3}, "not divisible by n_heads"),
    ({"width": 8, "n_heads": 0}, "n_heads must be"),
    ({"width": 8, "window": 0}, "window must be"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CausalSelfAttention(**kwargs)
