"""The torch estimators: shapes, causality, learning, the scikit-learn contract, bad input."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from nprates.estimators.errors import TrainingDiverged
from nprates.estimators.networks import SSMNetwork, TransformerNetwork, WindowMLPNetwork
from nprates.estimators.neural import SSMRegressor, TransformerRegressor, WindowMLP

T, L, LAG = 10, 6, 3  # 10 tokens, the last 6 scored, a delay of 3 tokens
SMALL = dict(min_steps=0, patience_steps=0, batch_size=32, random_state=0, device="cpu")
ESTIMATORS = {
    "ssm": lambda **kw: SSMRegressor(width=16, fnn_width=32, **{**SMALL, **kw}),
    "transformer": lambda **kw: TransformerRegressor(width=16, fnn_width=32, **{**SMALL, **kw}),
    "window_mlp": lambda **kw: WindowMLP(width=32, **{**SMALL, **kw}),
}


def delayed_copy(n, seed, d=2):
    """y_t = x_{t-3} (first feature) at the last L positions."""
    X = np.random.default_rng(seed).uniform(size=(n, T, d))
    return X, X[:, T - L - LAG:T - LAG, 0]


# -- networks ------------------------------------------------------------------------------

NETWORKS = {
    "ssm": lambda **kw: SSMNetwork(2, width=8, fnn_width=8, dt_min=0.1, dt_max=1.0, **kw),
    "transformer": lambda **kw: TransformerNetwork(2, width=8, fnn_width=8, n_heads=2, **kw),
    "transformer_learned": lambda **kw: TransformerNetwork(2, width=8, fnn_width=8, n_heads=2,
                                                           positional="learned", max_len=T, **kw),
    "window_mlp": lambda **kw: WindowMLPNetwork(2, window=4, width=8, **kw),
}


@pytest.mark.parametrize("name", NETWORKS)
def test_network_output_shape_and_causality(name):
    torch.manual_seed(0)
    net = NETWORKS[name](n_outputs=3, n_replicates=2)
    x = torch.rand(2, 5, T, 2)
    out = net(x)
    assert out.shape == (2, 5, T, 3)
    for t in (0, 4, T - 2):
        changed = x.clone()
        changed[:, :, t + 1:] = torch.rand(2, 5, T - t - 1, 2)
        assert torch.allclose(net(changed)[:, :, :t + 1], out[:, :, :t + 1], atol=1e-6), t
        assert not torch.allclose(net(changed)[:, :, t + 1:], out[:, :, t + 1:])


@pytest.mark.parametrize("name", ["ssm", "transformer"])
def test_window_limits_what_a_position_sees(name):
    """With window U the output at t ignores tokens before t - U + 1."""
    torch.manual_seed(0)
    net = NETWORKS[name](n_layers=1, window=3, fnn_depth=0)
    x = torch.rand(1, 4, T, 2)
    changed = x.clone()
    changed[:, :, :5] = torch.rand(1, 4, 5, 2)
    out, out_changed = net(x), net(changed)
    assert torch.allclose(out[:, :, 7:], out_changed[:, :, 7:], atol=1e-6)  # 7 - 3 + 1 = 5
    assert not torch.allclose(out[:, :, 5:7], out_changed[:, :, 5:7])


# -- estimators: shapes, learning ----------------------------------------------------------

@pytest.mark.parametrize("name", ESTIMATORS)
def test_output_shapes(name):
    X, y = delayed_copy(40, 0)
    est = ESTIMATORS[name](max_epochs=2).fit(X, y)
    assert est.predict(X[:7]).shape == (7, L)
    assert est.predict(np.concatenate([X[:3]] * 2, axis=1)).shape == (3, L)  # longer sequences
    est_1d = ESTIMATORS[name](max_epochs=2).fit(X, y[:, -1])
    assert est_1d.predict(X[:7]).shape == (7,)
    assert est.n_params_ > 0 and est.device_ == "cpu" and est.fit_seconds_ > 0
    assert len(est.history_["train_loss"]) == len(est.history_["val_loss"]) == est.n_epochs_ == 2


@pytest.mark.parametrize("name", ESTIMATORS)
def test_learns_a_delayed_copy(name):
    X, y = delayed_copy(256, 0)
    X_test, y_test = delayed_copy(500, 1)
    est = ESTIMATORS[name](max_epochs=40).fit(X, y)
    mse = np.mean((est.predict(X_test) - y_test) ** 2)
    assert mse < 0.05 * y_test.var(), mse
    assert est.train_loss_ < 0.05 * y.var() and est.val_loss_ < 0.05 * y.var()


@pytest.mark.parametrize("name", ESTIMATORS)
def test_beats_a_constant_on_a_smooth_target(name):
    from nprates import GammaSmooth, Smoothness

    target = GammaSmooth(Smoothness(features=1, window=4, a0=1.0), seed=0)
    X, y, _ = target.sample(256, 8, noise=0.1, rng=np.random.default_rng(0))
    X_test, _, f_test = target.sample(500, 8, noise=0.1, rng=np.random.default_rng(1))
    est = ESTIMATORS[name](max_epochs=80).fit(X, y)
    risk = np.mean((est.predict(X_test) - f_test) ** 2)
    constant = np.mean((y.mean() - f_test) ** 2)
    assert risk < 0.5 * constant, (risk, constant)


# -- fitted attributes and training options ------------------------------------------------

def test_history_and_losses_are_on_the_original_scale():
    X, y = delayed_copy(64, 0)
    a = ESTIMATORS["window_mlp"](max_epochs=5).fit(X, y)
    b = ESTIMATORS["window_mlp"](max_epochs=5).fit(X, 100 * y + 7)
    assert np.allclose(b.history_["val_loss"], 1e4 * np.array(a.history_["val_loss"]), rtol=1e-3)
    assert np.isclose(b.val_loss_, min(b.history_["val_loss"]))
    assert b.val_loss_ == b.history_["val_loss"][b.best_epoch_ - 1]
    assert np.isclose(b.train_loss_, 1e4 * a.train_loss_, rtol=1e-3)
    assert np.allclose(b.predict(X), 100 * a.predict(X) + 7, atol=1e-3)


def test_early_stopping_restores_the_best_weights():
    X, y = delayed_copy(64, 0)
    y = y + np.random.default_rng(0).normal(size=y.shape)  # pure noise to overfit
    est = ESTIMATORS["window_mlp"](max_epochs=200, patience=3, lr=1e-2).fit(X, y)
    assert est.n_epochs_ == est.best_epoch_ + 3 < 200
    val_mse = est.val_loss_
    assert val_mse == min(est.history_["val_loss"])


def test_min_steps_outlasts_patience_and_max_epochs_at_small_n():
    X, y = delayed_copy(40, 0)  # 32 training sequences: one step per epoch
    y = y + np.random.default_rng(1).normal(size=y.shape)
    est = ESTIMATORS["window_mlp"](max_epochs=5, patience=2, min_steps=30).fit(X, y)
    assert est.n_steps_ == est.n_epochs_ == 30
    assert est.val_loss_ == min(est.history_["val_loss"])  # best weights still restored
    capped = ESTIMATORS["window_mlp"](max_epochs=5, min_steps=30, max_steps=12).fit(X, y)
    assert capped.n_steps_ == 12


def test_max_steps_and_no_validation():
    X, y = delayed_copy(64, 0)
    est = ESTIMATORS["ssm"](max_steps=5, val_fraction=0.0).fit(X, y)
    assert est.n_steps_ == 5 and est.n_epochs_ == 3  # 64 sequences, batches of 32
    assert np.isnan(est.val_loss_) and np.isfinite(est.train_loss_)
    assert est.best_epoch_ == est.n_epochs_


@pytest.mark.parametrize("name", ESTIMATORS)
def test_bound_clips_predictions(name):
    X, y = delayed_copy(64, 0)
    est = ESTIMATORS[name](max_epochs=2, bound=0.3).fit(X, 3 * y)
    pred = est.predict(X)
    assert np.all(np.abs(pred) <= 0.3 + 1e-6) and np.isclose(pred.max(), 0.3, atol=1e-5)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_same_seed_same_predictions(name):
    X, y = delayed_copy(64, 0)
    a, b = (ESTIMATORS[name](max_epochs=3).fit(X, y) for _ in range(2))
    c = ESTIMATORS[name](max_epochs=3, random_state=1).fit(X, y)
    assert np.array_equal(a.predict(X), b.predict(X))
    assert not np.allclose(a.predict(X), c.predict(X))


def test_window_mlp_window():
    X, y = delayed_copy(40, 0)
    assert ESTIMATORS["window_mlp"](max_epochs=1).fit(X, y).window_ == T - L + 1
    est = ESTIMATORS["window_mlp"](max_epochs=1, window=2).fit(X, y)
    assert est.window_ == 2 and est.n_params_ == (2 * 2 + 1) * 32 + 33 * 32 + 33
    with pytest.raises(ValueError, match="window"):
        ESTIMATORS["window_mlp"](window=T).fit(X, y)
    with pytest.raises(ValueError, match="tokens"):
        est.predict(X[:, :L])  # no room for windows of 2 tokens at the first scored position


def test_transformer_options():
    X, y = delayed_copy(40, 0)
    est = ESTIMATORS["transformer"](max_epochs=1, positional="learned", window=4).fit(X, y)
    assert est.predict(X).shape == (40, L)
    with pytest.raises(ValueError, match="learned positions"):
        est.predict(np.concatenate([X, X], axis=1))
    with pytest.raises(ValueError, match="n_heads"):
        ESTIMATORS["transformer"](n_heads=3).fit(X, y)


def test_divergence_raises_a_specific_exception():
    X, y = delayed_copy(40, 0)
    with pytest.raises(TrainingDiverged, match="NaN or inf") as info:
        ESTIMATORS["ssm"](max_epochs=3).fit(X * 1e30, y)
    assert info.value.epoch == 1 and info.value.random_state == 0
    copy = pickle.loads(pickle.dumps(info.value))
    assert isinstance(copy, RuntimeError) and copy.epoch == 1 and str(copy) == str(info.value)


# -- the scikit-learn contract -------------------------------------------------------------

@pytest.mark.parametrize("name", ESTIMATORS)
def test_clone_and_params(name):
    est = ESTIMATORS[name](max_epochs=7)
    copy = clone(est)
    assert copy.get_params() == est.get_params() and copy is not est
    copy.set_params(lr=0.5, random_state=3)
    assert copy.lr == 0.5 and est.lr != 0.5
    X, y = delayed_copy(40, 0)
    fitted = pickle.loads(pickle.dumps(est.fit(X, y)))
    assert np.array_equal(fitted.predict(X), est.predict(X))


def test_grid_search():
    X, y = delayed_copy(60, 0)
    search = GridSearchCV(ESTIMATORS["window_mlp"](max_epochs=3), {"width": [4, 8]}, cv=2)
    search.fit(X, y)
    assert search.best_params_["width"] in (4, 8)
    assert search.predict(X).shape == (60, L)
    assert np.isfinite(search.score(X, y))


# -- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ESTIMATORS)
def test_bad_input(name):
    X, y = delayed_copy(40, 0)
    est = ESTIMATORS[name](max_epochs=1)
    bad_X = X.copy()
    bad_X[3, 2, 1] = np.nan
    bad_y = y.copy()
    bad_y[0, 0] = np.inf
    cases = [
        ((X, y[:30]), "different numbers of sequences"),
        ((X[:, :, 0], y), "3 dimensions"),
        ((X, y[:, :, None]), "shape"),
        ((bad_X, y), "NaN or inf"),
        ((X, bad_y), "NaN or inf"),
        ((X[:2], y[:2]), "too few for val_fraction"),
    ]
    for args, message in cases:
        with pytest.raises(ValueError, match=message):
            clone(est).fit(*args)
    with pytest.raises(ValueError, match="unknown device"):
        clone(est).set_params(device="tpu").fit(X, y)
    for param, value in [("lr", -1.0), ("batch_size", 0), ("val_fraction", 1.0),
                         ("max_steps", 0), ("bound", 0.0)]:
        with pytest.raises(ValueError, match=param):
            clone(est).set_params(**{param: value}).fit(X, y)
    est.fit(X, y)
    with pytest.raises(ValueError, match="features per token"):
        est.predict(X[:, :, :1])
    with pytest.raises(ValueError, match="tokens per sequence"):
        est.predict(X[:, :L - 1])


def test_predict_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ESTIMATORS["ssm"]().predict(delayed_copy(4, 0)[0])
