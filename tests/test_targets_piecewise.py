import numpy as np
import pytest

from nprates import PiecewiseGammaSmooth, Smoothness
from nprates.estimators import OracleProjection
from nprates.studies import Study
from nprates.studies.build import build_target, make_estimator
from nprates.targets.selection_diagnostics import (rank_one_accuracy, selection_change_rate,
                                                   smallest_gap)
from study_fixtures import ROOT


def make(importance="local", **kw):
    spec = Smoothness("mixed", a0=1.0, alpha=1.0, features=2, window=2, seed=0)
    return PiecewiseGammaSmooth(spec, window=6, importance=importance, t_max=4.0, seed=1, **kw)


def content_slice(target):
    return slice(target.features - target.content_features, target.features)


def test_most_important_token_is_the_roughest():
    target = make()
    a = target.rank_smoothness.a  # (features, rank)
    assert np.all(np.diff(a, axis=1) > 0)
    assert a.min() == a[0, 0]
    assert target.a_dagger == 1.0 and target.exponent == pytest.approx(2 / 3)


@pytest.mark.parametrize("importance", ["local", "query-key"])
def test_separation_margin_holds_on_sampled_sequences(importance):
    target = make(importance)
    X = target.sample(10_000, 1, rng=7)[0]
    scores = target.importance_scores(X)
    gaps = np.diff(np.sort(scores, axis=-1), axis=-1)
    assert gaps.min() >= target.margin - 1e-12
    assert target.margin > 0
    assert smallest_gap(target, 10_000, rng=7) == pytest.approx(gaps.min())


@pytest.mark.parametrize("importance", ["local", "query-key"])
def test_unselected_content_does_not_matter(importance):
    target = make(importance)
    X = target.sample(200, 4, rng=3)[0]
    T = X.shape[1]
    t = T - 1
    lags = target.selection(X)[:, -1]  # (n, K) for the last position
    Y = X.copy()
    rng = np.random.default_rng(4)
    cs = content_slice(target)
    for i in range(X.shape[0]):
        others = [lag for lag in range(target.window) if lag not in lags[i]]
        for lag in others:
            Y[i, t - lag, cs] = rng.random(target.content_features)
    assert np.allclose(target(Y)[:, t], target(X)[:, t], atol=1e-12)
    # changing the selected contents does change the output
    Z = X.copy()
    Z[np.arange(X.shape[0]), t - lags[:, 0], cs.start] = rng.random(X.shape[0])
    assert np.max(np.abs(target(Z)[:, t] - target(X)[:, t])) > 1e-3


def test_swapping_importances_changes_selection_and_output():
    target = make()
    X = target.sample(100, 1, rng=5)[0]
    t = X.shape[1] - 1
    lags = target.selection(X)[:, -1]
    top, last = lags[:, 0], np.argsort(target.importance_scores(X)[:, -1, ::-1], axis=-1)[:, 0]
    Y = X.copy()
    rows = np.arange(X.shape[0])
    Y[rows, t - top, 0], Y[rows, t - last, 0] = X[rows, t - last, 0], X[rows, t - top, 0]
    new = target.selection(Y)[:, -1]
    assert np.all(new[:, 0] == last)
    assert np.mean(np.abs(target(Y)[:, t] - target(X)[:, t]) > 1e-6) > 0.9


def test_query_decides_which_keys_matter():
    target = make("query-key")
    X = target.sample(50, 1, rng=8)[0]
    t = X.shape[1] - 1
    Y = X.copy()
    Y[:, t, 1] = 1.0 - X[:, t, 1]  # flip the query's sign
    first = target.selection(X)[:, -1, 0]
    flipped = target.selection(Y)[:, -1, 0]
    keys = X[:, t - np.arange(target.window), 0]
    rows = np.arange(50)
    positive = X[:, t, 1] > 0.5
    assert np.all(np.where(positive, keys[rows, first] == keys.max(1), keys[rows, first] == keys.min(1)))
    assert np.all(np.where(positive, keys[rows, flipped] == keys.min(1), keys[rows, flipped] == keys.max(1)))


def test_shift_equivariance_and_seeds():
    target = make("query-key")
    X = target.sample(5, 10, rng=1)[0]
    assert np.allclose(target(X[:, 3:])[:, target.burn_in:], target(X)[:, 3 + target.burn_in:])
    a, b = make(), make()
    assert np.array_equal(a.g.coefficients, b.g.coefficients)
    spec = Smoothness("mixed", a0=1.0, alpha=1.0, features=2, window=2, seed=0)
    c = PiecewiseGammaSmooth(spec, window=6, t_max=4.0, seed=2)
    assert not np.array_equal(a.g.coefficients, c.g.coefficients)
    X1, y1, _ = a.sample(20, 3, noise=0.1, rng=9)
    X2, y2, _ = b.sample(20, 3, noise=0.1, rng=9)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)


def test_bad_arguments_name_the_parameter():
    spec = Smoothness(features=1, window=4)
    with pytest.raises(ValueError, match="window"):
        PiecewiseGammaSmooth(spec, window=2, t_max=3.0)
    with pytest.raises(ValueError, match="importance"):
        PiecewiseGammaSmooth(spec, window=8, importance="global", t_max=3.0)
    with pytest.raises(ValueError, match="rho"):
        PiecewiseGammaSmooth(spec, window=8, t_max=3.0, rho=1.0)
    with pytest.raises(ValueError, match="rho"):
        PiecewiseGammaSmooth(spec, window=8, t_max=3.0, rho=0.0)
    with pytest.raises(ValueError, match="cells"):
        PiecewiseGammaSmooth(spec, window=8, t_max=3.0, cells=7)
    with pytest.raises(ValueError, match="query_margin"):
        PiecewiseGammaSmooth(spec, window=8, t_max=3.0, query_margin=0.6)


def test_selection_has_a_lag_per_position_and_minus_one_without_a_full_window():
    target = make("query-key")
    X = target.sample(30, 5, rng=2)[0]
    lags = target.selection(X)
    assert lags.shape == (30, X.shape[1], target.n_selected) and lags.dtype.kind == "i"
    assert np.all(lags[:, :target.burn_in] == -1)
    scored = lags[:, target.burn_in:]
    assert scored.min() >= 0 and scored.max() < target.window
    assert np.all(scored[..., 0] != scored[..., 1])
    # rank order: the importance of the rank-1 lag is the largest of the window
    scores = target.importance_scores(X)[..., ::-1]  # lag order
    top = np.take_along_axis(scores, scored[..., :1], axis=-1)[..., 0]
    assert np.allclose(top, scores.max(axis=-1))


def test_keys_of_any_window_occupy_distinct_cells_and_cells_are_uniform():
    target = make(cells=12)
    X = target.sample(4000, 20, rng=6)[0]
    cells = np.floor(X[..., 0] * target.cells).astype(int)
    for lag in range(1, target.window):
        assert np.all(cells[:, lag:] != cells[:, :-lag])
    counts = np.bincount(cells.ravel(), minlength=target.cells) / cells.size
    assert np.allclose(counts, 1 / target.cells, atol=0.01)


def test_key_marginal_density_is_bounded_as_documented():
    target = make(cells=12, rho=0.5)
    keys = target.sample(20_000, 20, rng=8)[0][..., 0].ravel()
    density, _ = np.histogram(keys, bins=240, range=(0, 1), density=True)
    assert target.key_density_bound == 2.0
    assert density.max() <= target.key_density_bound * 1.1
    assert density.max() >= target.key_density_bound * 0.8  # the bound is attained


@pytest.mark.parametrize("importance", ["local", "query-key"])
def test_top_token_needs_a_comparison_unless_cells_repeat_with_period_w(importance):
    comparative = make(importance, cells=12)
    periodic = make(importance, cells=6)  # every window holds each of the 6 cells once
    assert rank_one_accuracy(periodic, 20_000, rng=1) == 1.0
    assert 0.85 < rank_one_accuracy(comparative, 20_000, rng=1) < 0.97
    assert selection_change_rate(comparative, 2_000, rng=2) > 0.8


def test_moving_one_key_past_another_inside_the_support_changes_selection_and_output():
    target = make("local", cells=12)
    X = target.sample(300, 1, rng=11)[0]
    t = X.shape[1] - 1
    rows = np.arange(X.shape[0])
    lags = target.selection(X)[:, -1]
    cells = np.floor(X[:, :, 0] * target.cells).astype(int)
    unused = np.ones((X.shape[0], target.cells), bool)
    unused[rows[:, None], cells] = False
    top_cell = cells[rows, t - lags[:, 0]]
    # a free cell above the current top one, if the window leaves one
    above = unused & (np.arange(target.cells)[None, :] > top_cell[:, None])
    has = above.any(axis=1)
    assert has.mean() > 0.3
    new_cell = np.argmax(above, axis=1)
    mover = np.array([next(j for j in range(target.window) if j not in lags[i])
                      for i in rows])  # an unselected token
    Y = X.copy()
    offset = X[rows, t - mover, 0] * target.cells - cells[rows, t - mover]  # in [0, rho)
    Y[rows, t - mover, 0] = (new_cell + offset) / target.cells
    new = target.selection(Y)[:, -1]
    assert np.all(new[has, 0] == mover[has])  # it now ranks first
    assert np.all(new[has, 1] == lags[has, 0])
    # still on the support: distinct cells, offset inside the covered part of the cell
    moved_cells = np.floor(Y[has][:, :, 0] * target.cells).astype(int)
    assert all(len(set(c)) == target.window for c in moved_cells)
    changed = np.abs(target(Y)[has, t] - target(X)[has, t])
    assert np.mean(changed > 1e-6) > 0.9


def test_design_matrix_times_coefficients_is_the_target():
    target = make("query-key")
    X = target.sample(20, 6, rng=12)[0]
    D = target.design_matrix(X)
    assert D.shape == (20, X.shape[1] - target.burn_in, target.n_basis)
    assert target.basis_levels.shape == (target.n_basis,)
    assert np.allclose(D @ target.coefficients, target(X)[:, target.burn_in:], atol=1e-12)


def test_oracle_on_the_true_selection_learns_the_target():
    target = make("query-key")
    X, y, _ = target.sample(300, 8, noise=0.1, rng=13)
    Xt, ft = target.test_set(300, 8, rng=14)
    oracle = OracleProjection(basis=target, random_state=0).fit(X, y)
    risk = np.mean((oracle.predict(Xt) - ft) ** 2)
    assert risk < 0.05 * np.var(ft)


def test_the_piecewise_example_gives_its_oracle_the_target_as_basis():
    study = Study.from_toml(ROOT / "examples" / "piecewise.toml")
    target = build_target(study, "selection")
    assert target.cells > target.window
    oracle = make_estimator(study, "oracle", target, "cpu")
    assert oracle.basis is target


def test_sampling_and_selection_are_deterministic_and_shift_equivariant():
    a, b = make("query-key"), make("query-key")
    X1, X2 = a.sample(10, 12, rng=4)[0], b.sample(10, 12, rng=4)[0]
    assert np.array_equal(X1, X2)
    assert not np.array_equal(X1, a.sample(10, 12, rng=5)[0])
    shifted = a.selection(X1[:, 4:])[:, a.burn_in:]
    assert np.array_equal(shifted, a.selection(X1)[:, 4 + a.burn_in:])
