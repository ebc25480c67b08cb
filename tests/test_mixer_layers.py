"""The mixer families (SSD, LRU, GLA with data and fixed decay, Hyena): the fast form
equals the plain recurrence, the output at t ignores later tokens, shifting the input
behind zero tokens shifts the output, and replicates stacked from separate layers give
the separate layers' outputs."""

import pytest
import torch

from nprates.estimators.gla_layer import GatedLinearAttention
from nprates.estimators.hyena_layer import HyenaOperator
from nprates.estimators.layers import stack_replicates
from nprates.estimators.lru_layer import LRULayer
from nprates.estimators.ssd_layer import SSDLayer

WIDTH = 8
FAMILIES = {
    "ssd": lambda R: SSDLayer(WIDTH, d_state=4, n_heads=2, chunk_size=4, n_replicates=R),
    "lru": lambda R: LRULayer(WIDTH, d_state=6, n_replicates=R),
    "gla": lambda R: GatedLinearAttention(WIDTH, n_heads=2, chunk_size=4, n_replicates=R),
    "retnet": lambda R: GatedLinearAttention(WIDTH, n_heads=2, decay="fixed", chunk_size=4,
                                             n_replicates=R),
    "hyena": lambda R: HyenaOperator(WIDTH, filter_width=8, n_replicates=R),
}
# float32 rounding of sums of O(1) terms over <= 100 tokens, relative to the output scale
TOLERANCE = 2e-6


def _layer(family, R=2, seed=0):
    torch.manual_seed(seed)
    return FAMILIES[family](R)


def _inputs(R, N, T, seed=1):
    return torch.randn(R, N, T, WIDTH, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("N, T", [(3, 1), (3, 13), (40, 24), (2, 100)])
def test_fast_form_equals_the_recurrence(family, N, T):
    # (40, 24): Hyena's Toeplitz product; (2, 100): its FFT; 13 and 100 are not multiples
    # of the chunk length of SSD and GLA
    layer = _layer(family)
    u = _inputs(2, N, T)
    with torch.no_grad():
        fast, reference = layer(u), layer.recurrent(u)
    scale = reference.abs().max()
    assert scale > 0.1
    assert (fast - reference).abs().max() <= TOLERANCE * scale * max(1, T / 10)


@pytest.mark.parametrize("family", FAMILIES)
def test_causal(family):
    layer = _layer(family)
    u = _inputs(2, 40, 30)   # Toeplitz form for Hyena; T = 100 below for the FFT
    for x in (u, _inputs(2, 2, 100)):
        t0 = x.shape[2] // 2
        changed = x.clone()
        changed[:, :, t0:] += torch.randn_like(changed[:, :, t0:])
        with torch.no_grad():
            y, y_changed = layer(x), layer(changed)
        scale = y.abs().max()
        assert (y[:, :, :t0] - y_changed[:, :, :t0]).abs().max() <= 1e-6 * scale
        assert (y[:, :, t0:] - y_changed[:, :, t0:]).abs().max() > 1e-2 * scale


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("shift", [1, 7])
def test_shift_behind_zero_tokens_shifts_the_output(family, shift):
    layer = _layer(family)
    u = _inputs(2, 3, 21)
    shifted = torch.cat([torch.zeros(2, 3, shift, WIDTH), u], 2)
    with torch.no_grad():
        y, y_shifted = layer(u), layer(shifted)
    assert (y_shifted[:, :, shift:] - y).abs().max() <= 1e-5 * y.abs().max()


@pytest.mark.parametrize("family", FAMILIES)
def test_stacked_replicates_equal_separate_layers(family):
    separate = [_layer(family, R=1, seed=s) for s in (3, 4)]
    stacked = stack_replicates(separate)
    u = _inputs(2, 3, 10)
    with torch.no_grad():
        together = stacked(u)
        alone = torch.cat([layer(u[r:r + 1]) for r, layer in enumerate(separate)])
    assert torch.equal(together, alone) or (together - alone).abs().max() <= 1e-6
    assert (together[0] - together[1]).abs().max() > 1e-2   # the replicates differ


@pytest.mark.parametrize("make, message", [
    (lambda: SSDLayer(10, n_heads=4), "not divisible by n_heads"),
    (lambda: LRULayer(8, r_min=0.9, r_max=0.5), "r_min < r_max"),
    (lambda: GatedLinearAttention(8, decay="slow"), "decay must be one of"),
    (lambda: GatedLinearAttention(8, chunk_size=32), "chunk_size must be at most 16"),
    (lambda: HyenaOperator(8, decay_min=0.0), "decay_min"),
])
def test_bad_arguments_name_themselves(make, message):
    with pytest.raises(ValueError, match=message):
        make()
