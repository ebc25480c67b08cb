"""Replicate-batched training equals separate fits; fallback for other estimators."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.tree import DecisionTreeRegressor

from nprates.estimators.errors import TrainingDiverged
from nprates.estimators.neural import SSMRegressor, TransformerRegressor, WindowMLP
from nprates.estimators.replicates import fit_replicates, supports_batching

T, L = 8, 5
SMALL = dict(min_steps=0, patience_steps=0, batch_size=16, device="cpu", random_state=0)
ESTIMATORS = {
    "ssm": SSMRegressor(width=8, fnn_width=16, **SMALL),
    "transformer": TransformerRegressor(width=8, fnn_width=16, n_heads=2, **SMALL),
    "window_mlp": WindowMLP(width=16, **SMALL),
}


def replicate_data(R, n=48, seed=0):
    rng = np.random.default_rng(seed)
    Xs = [rng.uniform(size=(n, T, 2)) for _ in range(R)]
    ys = [np.sin(3 * X[:, -L:, 0]) * X[:, -L - 1:-1, 1] + 0.3 * rng.normal(size=(n, L))
          for X in Xs]
    return Xs, ys


def separate_fits(est, Xs, ys, seeds):
    return [clone(est).set_params(random_state=s).fit(X, y) for X, y, s in zip(Xs, ys, seeds)]


def assert_same_fit(batched, single, X):
    assert batched.random_state == single.random_state
    assert batched.n_epochs_ == single.n_epochs_ and batched.best_epoch_ == single.best_epoch_
    np.testing.assert_allclose(batched.history_["val_loss"], single.history_["val_loss"],
                               rtol=1e-4)
    np.testing.assert_allclose(batched.predict(X), single.predict(X), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(batched.train_loss_, single.train_loss_, rtol=1e-4)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_batched_replicates_equal_separate_fits(name):
    est = clone(ESTIMATORS[name]).set_params(max_epochs=4)
    Xs, ys = replicate_data(3)
    seeds = [5, 6, 7]
    batched = fit_replicates(est, Xs, ys, seeds)
    assert len(batched) == 3 and not hasattr(est, "network_")  # the prototype stays unfitted
    for b, s, X in zip(batched, separate_fits(est, Xs, ys, seeds), Xs):
        assert_same_fit(b, s, X)
    assert batched[0].fit_seconds_ > 0 and batched[0].n_params_ == batched[1].n_params_


def test_early_stopping_is_per_replicate():
    """Replicates stop at different epochs; each equals its separate fit."""
    est = clone(ESTIMATORS["window_mlp"]).set_params(max_epochs=60, patience=2, lr=1e-2)
    Xs, ys = replicate_data(4, seed=1)
    seeds = [0, 1, 2, 3]
    batched = fit_replicates(est, Xs, ys, seeds)
    assert len({b.n_epochs_ for b in batched}) > 1, [b.n_epochs_ for b in batched]
    assert all(b.n_epochs_ < 60 for b in batched)
    for b, s, X in zip(batched, separate_fits(est, Xs, ys, seeds), Xs):
        assert_same_fit(b, s, X)


def test_a_diverged_replicate_leaves_the_others_alone():
    est = clone(ESTIMATORS["ssm"]).set_params(max_epochs=3)
    Xs, ys = replicate_data(3)
    Xs[1] = Xs[1] * 1e30  # finite, but the activations overflow float32
    batched = fit_replicates(est, Xs, ys, [0, 1, 2])
    assert isinstance(batched[1], TrainingDiverged) and batched[1].random_state == 1
    for r in (0, 2):
        assert_same_fit(batched[r], clone(est).set_params(random_state=r).fit(Xs[r], ys[r]),
                        Xs[r])


def test_targets_of_shape_n():
    est = clone(ESTIMATORS["transformer"]).set_params(max_epochs=2)
    Xs, ys = replicate_data(2)
    ys = [y[:, -1] for y in ys]
    batched = fit_replicates(est, Xs, ys, [0, 1])
    assert batched[0].predict(Xs[0]).shape == (48,)
    for b, s, X in zip(batched, separate_fits(est, Xs, ys, [0, 1]), Xs):
        assert_same_fit(b, s, X)


def test_fallback_fits_clones_sequentially():
    rng = np.random.default_rng(0)
    Xs = [rng.normal(size=(30, 4)) for _ in range(3)]
    ys = [X[:, 0] + rng.normal(size=30) for X in Xs]
    tree = DecisionTreeRegressor(max_features=2)
    assert not supports_batching(tree) and supports_batching(ESTIMATORS["ssm"])
    fitted = fit_replicates(tree, Xs, ys, [3, 4, 5])
    assert [f.random_state for f in fitted] == [3, 4, 5] and not hasattr(tree, "tree_")
    for f, X, y, s in zip(fitted, Xs, ys, [3, 4, 5]):
        expected = DecisionTreeRegressor(max_features=2, random_state=s).fit(X, y)
        assert np.array_equal(f.predict(X), expected.predict(X))


def test_bad_replicate_input():
    est = ESTIMATORS["window_mlp"]
    Xs, ys = replicate_data(2)
    with pytest.raises(ValueError, match="one X, one y and one random_state"):
        fit_replicates(est, Xs, ys, [0])
    with pytest.raises(ValueError, match="equal shapes"):
        fit_replicates(est, [Xs[0], Xs[1][:40]], [ys[0], ys[1][:40]], [0, 1])
    assert fit_replicates(est, [], [], []) == []
