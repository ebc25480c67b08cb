"""Token importance (estimators.importance) and selection recovery (analysis.recovery)."""

import numpy as np
import pytest
import torch
from torch import nn

from nprates.analysis.importance_summary import input_dependence, position_profile, sparsity
from nprates.analysis.recovery import selection_recovery, window_importance
from nprates.estimators import (SelectiveSSMRegressor, SSMRegressor, TransformerRegressor,
                                WindowMLP)
from nprates.estimators.importance import attributions, token_importance
from nprates.reports import plot_importance
from nprates.smoothness import Smoothness
from nprates.targets.piecewise import PiecewiseGammaSmooth

L = 8


@pytest.fixture(scope="module")
def target():
    spec = Smoothness("mixed", 1.0, 1.0, features=1, window=2)
    return PiecewiseGammaSmooth(spec, window=6, cells=12, importance="query-key", t_max=3.0,
                                seed=1)


@pytest.fixture(scope="module")
def inputs(target):
    return target.test_set(400, L, rng=np.random.default_rng(0))[0]


class ReadSelected(nn.Module):
    """A hand-built function of the selected token: the piecewise target's query-key
    selection of the most important window token, then sin(3 z) of its content."""

    def __init__(self, window):
        super().__init__()
        self.window = window

    def forward(self, x):                                   # (N, T, 3) -> (N, T)
        N, T, _ = x.shape
        pad = torch.nn.functional.pad(x, (0, 0, self.window - 1, 0), value=float("nan"))
        win = pad.unfold(1, self.window, 1)                 # (N, T, 3, W), oldest first
        query = 2 * x[..., 1:2] - 1
        scores = torch.nan_to_num(query * win[:, :, 0], nan=-torch.inf).flip(-1)
        lag = scores.detach().argmax(dim=-1)                # the first maximum: newest token
        source = (torch.arange(T) - lag).clamp(min=0)
        z = x[torch.arange(N)[:, None], source, 2]
        return torch.sin(3 * z)


def test_hand_built_selection_is_recovered(target, inputs):
    imp = token_importance(ReadSelected(target.window), inputs, L)
    rec = selection_recovery(imp, target.selection(inputs)[:, -L:], target.window)
    assert rec.top1 >= 0.95
    assert rec.mass >= 0.95
    assert rec.top1_chance == pytest.approx(1 / 6) and rec.topk_chance == pytest.approx(2 / 6)


def test_untrained_network_recovers_at_chance(target, inputs):
    # gradient x input, the method studies record (integrated gradients against the mean
    # token is biased on this class: docs/theory.md section 9)
    est = SSMRegressor(width=8, fnn_width=16, max_epochs=1, lr=1e-12, device="cpu",
                       random_state=0)
    est.fit(inputs[:40], np.zeros((40, L)))
    imp = token_importance(est, inputs, L)
    rec = selection_recovery(imp, target.selection(inputs)[:, -L:], target.window)
    for name in ("top1", "mass"):
        low, high = getattr(rec, f"{name}_interval")
        assert low <= getattr(rec, f"{name}_chance") <= high, rec.summary()
    # top-K recall sits slightly above chance (0.349 [0.338, 0.359] against 1/3 here):
    # input-scaled attributions favour large keys a little (docs/theory.md)
    assert abs(rec.topk - rec.topk_chance) < 0.03, rec.summary()


@pytest.mark.parametrize("cls", [SSMRegressor, TransformerRegressor, WindowMLP,
                                 SelectiveSSMRegressor])
def test_attributions_match_finite_differences_and_completeness(cls):
    rng = np.random.default_rng(1)
    X = rng.random((24, 10, 2)).astype(np.float32)
    params = {"width": 8, "d_state": 4} if cls is SelectiveSSMRegressor else {}
    est = cls(max_epochs=3, device="cpu", random_state=0, **params).fit(X, rng.random((24, 4)))
    x = X[:3].astype(np.float64)
    a = attributions(est, x, 4)
    # gradient x input: a / x is the gradient; check it against central differences
    # of the network in float64
    net = est.network_.double()
    try:
        def f(z):
            with torch.no_grad():
                return net(torch.as_tensor(z).unsqueeze(0))[0, :, -4:, 0].numpy() * est.y_scale_
        h = 1e-5
        for s, k in ((9, 0), (7, 1), (2, 0)):
            e = np.zeros_like(x)
            e[:, s, k] = h
            fd = (f(x + e) - f(x - e)) / (2 * h)
            np.testing.assert_allclose(a[:, :, s, k], x[:, s, k, None] * fd, rtol=2e-3,
                                       atol=1e-5)
    finally:
        net.float()
    ig = attributions(est, x, 4, method="integrated_gradients", baseline="mean", steps=64)
    base = np.broadcast_to(x.mean(axis=(0, 1)), x.shape).astype(np.float32)
    expected = est.predict(x) - est.predict(base)
    np.testing.assert_allclose(ig.sum(axis=(2, 3)), expected, rtol=0.02,
                               atol=0.02 * np.abs(expected).max())


def test_causal_positions_are_zero_and_shapes(target, inputs):
    est = TransformerRegressor(width=8, fnn_width=16, max_epochs=1, device="cpu",
                               random_state=0).fit(inputs[:20], np.zeros((20, L)))
    T = inputs.shape[1]
    for method in ("grad_input", "integrated_gradients"):
        imp = token_importance(est, inputs[:10], L, method=method, steps=2)
        assert imp.shape == (10, L, T)
        for l in range(L):
            assert np.all(imp[:, l, T - L + l + 1:] == 0)
            assert np.all(imp[:, l, T - L + l] > 0)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="method"):
        token_importance(ReadSelected(3), np.zeros((2, 4, 3)), 2, method="saliency")
    with pytest.raises(ValueError, match="baseline"):
        token_importance(ReadSelected(3), np.zeros((2, 4, 3)), 2,
                         method="integrated_gradients", baseline=[0.0])
    with pytest.raises(ValueError, match="differentiable"):
        token_importance(object(), np.zeros((2, 4, 3)), 2)
    with pytest.raises(ValueError, match="n_scored"):
        token_importance(ReadSelected(3), np.zeros((2, 4, 3)), 5)
    with pytest.raises(ValueError, match="selection"):
        selection_recovery(np.ones((2, 3, 6)), np.zeros((2, 2, 1), dtype=int), 4)


def test_recovery_by_hand():
    imp = np.zeros((2, 1, 5))
    imp[0, 0] = [0, 1, 3, 0, 2]     # lags 0..3 of position 4: 2, 0, 3, 1 -> top1 lag 2
    imp[1, 0] = [0, 0, 0, 1, 1]     # tie between lags 0 and 1: the newer token (lag 0)
    np.testing.assert_array_equal(window_importance(imp, 4)[0, 0], [2, 0, 3, 1])
    sel = np.array([[[2, 1]], [[1, 0]]])
    rec = selection_recovery(imp, sel, 4)
    assert rec.top1 == pytest.approx(0.5)
    assert rec.topk == pytest.approx((0.5 + 1.0) / 2)
    assert rec.mass == pytest.approx((3 / 6 + 1.0) / 2)


def test_summaries_of_static_and_input_driven_importance():
    rng = np.random.default_rng(2)
    n, L, T = 300, 4, 8                                  # window T - L + 1 = 5
    static = np.zeros((n, L, T))
    static[:, np.arange(L), T - L + np.arange(L) - 1] = 1.0   # always lag 1, all mass on it
    static += 1e-3 * rng.random(static.shape) * (np.arange(T) <= (T - L + np.arange(L))[:, None])
    driven = rng.random((n, L, T)) * (np.arange(T) <= (T - L + np.arange(L))[:, None])
    s = sparsity(static, k=1)
    assert s.window == 5 and s.uniform == pytest.approx(0.2) and s.mean > 0.99
    assert sparsity(driven, k=5).mean == pytest.approx(1.0)
    dep_static, dep_driven = input_dependence(static, n_permutations=20), \
        input_dependence(driven, n_permutations=20)
    assert dep_static.observed == 0.0
    assert dep_static.permutation_mean == pytest.approx(0.8, abs=0.02)
    lo, hi = dep_driven.permutation_interval
    assert lo <= dep_driven.observed <= hi and dep_driven.relative == pytest.approx(1, abs=0.05)
    profile = position_profile(static)
    assert profile.mean[1] > 0.99 and profile.mean.sum() == pytest.approx(1.0)


def test_plot_importance_draws_on_given_axes(target, inputs):
    from matplotlib.figure import Figure
    imp = token_importance(ReadSelected(target.window), inputs[:50], L)
    fig = Figure()
    axes = [fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)]
    out = plot_importance(imp, target.selection(inputs[:50])[:, -L:], window=target.window,
                          examples=5, ax=axes)
    assert out is fig
    assert axes[0].images[0].get_array().shape == (5, target.window)
    assert len(axes[0].patches) == 10                    # K = 2 outlined per example
    np.testing.assert_allclose(axes[1].lines[0].get_ydata(), position_profile(
        imp, window=target.window).mean)
    with pytest.raises(ValueError, match="ax"):
        plot_importance(imp, ax=axes[0])


def test_recovery_against_n_table_figure_and_half_way():
    from matplotlib.figure import Figure

    from nprates.analysis import simulate_curves
    from nprates.analysis.recovery import half_way_n, recovery_by_size
    from nprates.reports import plot_recovery

    table = simulate_curves({"ssm": 0.6}, replicates=3, seed=0)
    sizes = sorted(table.n.unique())
    level = {n: 0.2 + 0.7 * i / (len(sizes) - 1) for i, n in enumerate(sizes)}
    table = table.assign(recovery_top1=table.n.map(level), recovery_topk=0.5, recovery_mass=0.5,
                         recovery_top1_chance=0.2, recovery_topk_chance=0.4,
                         recovery_mass_chance=0.4, importance_method="grad_input")
    table.loc[table.n == sizes[0], "recovery_top1"] = np.nan    # a size without recovery
    by_size = recovery_by_size(table)
    assert list(by_size.n) == sizes[1:]
    np.testing.assert_allclose(by_size.top1, [level[n] for n in sizes[1:]])
    first = next(n for n in sizes if level[n] >= 0.6)
    assert half_way_n(by_size, table.target.iloc[0], "ssm") == first
    fig = Figure()
    axes = [fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)]
    assert plot_recovery(table, table.target.iloc[0], ax=axes) is fig
    np.testing.assert_allclose(axes[1].lines[0].get_ydata(), by_size.top1)
    with pytest.raises(ValueError, match="no cells with selection recovery"):
        plot_recovery(table, "nothing", ax=axes)
