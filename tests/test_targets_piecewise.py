import numpy as np
import pytest

from nprates import PiecewiseGammaSmooth, Smoothness


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
    with pytest.raises(ValueError, match="query_margin"):
        PiecewiseGammaSmooth(spec, window=8, t_max=3.0, query_margin=0.6)
