"""MixerRegressor and MixerClassifier: every family builds, learns, batches replicates
exactly and clones; bad mixer names are refused."""

import numpy as np
import pytest
import torch
from sklearn.base import clone

from nprates.estimators import MixerClassifier, MixerRegressor
from nprates.estimators.mixer_network import MIXERS, MixerNetwork
from nprates.estimators.replicates import fit_replicates

T, L, LAG = 10, 6, 3
SMALL = dict(width=16, fnn_width=16, n_heads=2, d_state=4, filter_width=8, chunk_size=4,
             batch_size=32, device="cpu", random_state=0, patience_steps=0)


def delayed_copy(n, seed, d=2):
    """y_t = x_{t-3} (first feature) at the last L positions."""
    X = np.random.default_rng(seed).uniform(size=(n, T, d))
    return X, X[:, T - L - LAG:T - LAG, 0]


@pytest.mark.parametrize("mixer", MIXERS)
def test_network_layout_and_causality(mixer):
    torch.manual_seed(0)
    net = MixerNetwork(2, n_outputs=3, width=8, fnn_width=8, n_heads=2, d_state=4,
                       chunk_size=4, filter_width=8, mixer=mixer, n_replicates=2)
    x = torch.rand(2, 5, T, 2)
    out = net(x)
    assert out.shape == (2, 5, T, 3)
    changed = x.clone()
    changed[:, :, 6:] = torch.rand(2, 5, T - 6, 2)
    torch.testing.assert_close(net(changed)[:, :, :6], out[:, :, :6], rtol=0, atol=1e-5)
    assert not torch.allclose(net(changed)[:, :, 6:], out[:, :, 6:])


def difference(n, seed):
    """y_t = x_{t,0} - x_{t-1,1} at the last L positions."""
    X = np.random.default_rng(seed).uniform(size=(n, T, 2))
    return X, X[:, T - L:, 0] - X[:, T - L - 1:T - 1, 1]


@pytest.mark.parametrize("mixer", MIXERS)
def test_learns_below_the_null_risk(mixer):
    # 80 steps: risk / null risk 0.02-0.04 for ssd, lru, hyena; 0.46 for gla and retnet
    X, y = difference(64, 0)
    X_test, y_test = difference(300, 1)
    est = MixerRegressor(mixer, **SMALL, lr=1e-2, max_steps=80, patience=1000).fit(X, y)
    risk = np.mean((est.predict(X_test) - y_test) ** 2)
    null_risk = np.mean((y.mean() - y_test) ** 2)
    assert risk < 0.7 * null_risk, (mixer, risk / null_risk)


@pytest.mark.parametrize("mixer", MIXERS)
def test_batched_replicates_equal_separate_fits(mixer):
    est = MixerRegressor(mixer, **SMALL, max_epochs=3)
    data = [delayed_copy(40, seed) for seed in range(2)]
    Xs, ys = [X for X, _ in data], [y for _, y in data]
    batched = fit_replicates(est, Xs, ys, [5, 6])
    for b, X, y, seed in zip(batched, Xs, ys, [5, 6]):
        single = clone(est).set_params(random_state=seed).fit(X, y)
        assert b.n_epochs_ == single.n_epochs_ and b.best_epoch_ == single.best_epoch_
        np.testing.assert_allclose(b.history_["val_loss"], single.history_["val_loss"],
                                   rtol=1e-4)
        np.testing.assert_allclose(b.predict(X), single.predict(X), rtol=1e-4, atol=1e-5)
    assert not np.allclose(batched[0].predict(Xs[0]), batched[1].predict(Xs[0]))


def test_clone_params_and_bad_mixer():
    est = MixerRegressor("hyena", **SMALL)
    copy = clone(est)
    assert copy.get_params() == est.get_params() and copy.mixer == "hyena"
    copy.set_params(mixer="lru")
    assert est.mixer == "hyena"
    X, y = delayed_copy(20, 0)
    with pytest.raises(ValueError, match="mixer must be one of"):
        clone(est).set_params(mixer="mamba3", max_epochs=1).fit(X, y)


def test_classifier_learns_to_copy_the_previous_token():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 4, size=(256, 8))
    y = np.full_like(X, -100)
    y[:, 1:] = X[:, :-1]
    clf = MixerClassifier(n_tokens=4, mixer="gla", width=16, fnn_width=16, n_heads=2,
                          chunk_size=4, device="cpu", random_state=0, lr=1e-2,
                          max_steps=150, patience=1000, patience_steps=0).fit(X, y)
    X_test = rng.integers(0, 4, size=(100, 8))
    y_test = np.full_like(X_test, -100)
    y_test[:, 1:] = X_test[:, :-1]
    assert clf.score(X_test, y_test) > 0.9          # chance: 0.25
    assert clf.predict_proba(X_test).shape == (100, 8, 4)


def test_classifier_batched_replicates_equal_separate_fits():
    rng = np.random.default_rng(1)
    Xs = [rng.integers(0, 4, size=(40, 8)) for _ in range(2)]
    ys = []
    for X in Xs:
        y = np.full_like(X, -100)
        y[:, 1:] = X[:, :-1]
        ys.append(y)
    clf = MixerClassifier(n_tokens=4, mixer="ssd", width=8, fnn_width=8, n_heads=2, d_state=4,
                          chunk_size=4, device="cpu", max_epochs=3, patience_steps=0)
    batched = fit_replicates(clf, Xs, ys, [3, 4])
    for b, X, y, seed in zip(batched, Xs, ys, [3, 4]):
        single = clone(clf).set_params(random_state=seed).fit(X, y)
        np.testing.assert_allclose(b.history_["val_loss"], single.history_["val_loss"],
                                   rtol=1e-5)
        np.testing.assert_allclose(b.predict_proba(X), single.predict_proba(X), rtol=1e-4,
                                   atol=1e-6)


def test_the_learning_rate_grid_extends_as_for_the_built_in_networks():
    """The mixers and a user's module get the same protocol parameters (lr_extend, verbose)
    with the same defaults as SSMRegressor, and a grid whose best rate is at its upper end
    grows beyond it."""
    from nprates.estimators import ModuleRegressor, SSMRegressor

    from test_module_estimator import make_gru

    built_in = SSMRegressor().get_params()
    for est in (MixerRegressor(), MixerClassifier(), ModuleRegressor(make_gru)):
        params = est.get_params()
        for key in ("lr_extend", "verbose", "patience_steps", "val_fraction", "max_epochs"):
            assert params[key] == built_in[key], (type(est).__name__, key)
    X, y = delayed_copy(64, 0)
    grid = [1e-5, 3e-5]  # far too small: the best rate sits at the upper end
    est = MixerRegressor("lru", lr=grid, max_epochs=2, lr_extend=1, **SMALL).fit(X, y)
    assert est.lr_grid_ == pytest.approx([1e-5, 3e-5, 9e-5]) and est.lr_ == pytest.approx(9e-5)
    assert est.lr_edge_
