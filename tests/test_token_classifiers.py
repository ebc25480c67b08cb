"""The token classifiers: shapes, causality, learning, the loss, the per-epoch validation
accuracy, the scikit-learn contract, replicate batching and bad input."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

from nprates.estimators.classifiers import (IGNORE_INDEX, SelectiveSSMClassifier, SSMClassifier,
                                    TransformerClassifier)
from nprates.estimators.neural import SSMRegressor, WindowMLP, _seeds
from nprates.estimators.replicates import fit_replicates
from nprates.estimators.selective_estimator import SelectiveSSMRegressor
from nprates.estimators.token_embedding import ReplicatedEmbedding
from nprates.tasks import IGNORE_INDEX as TASKS_IGNORE_INDEX
from nprates.tasks import InputCopying, token_accuracy

V, T = 4, 8  # vocabulary and length of the previous-token task
SMALL = dict(width=16, fnn_width=32, batch_size=32, device="cpu", random_state=0, min_steps=0,
             patience_steps=0)
CLASSIFIERS = {
    "ssm": lambda **kw: SSMClassifier(**{**SMALL, **kw}),
    "transformer": lambda **kw: TransformerClassifier(**{**SMALL, **kw}),
    "selective": lambda **kw: SelectiveSSMClassifier(**{**SMALL, "chunk_size": 4, **kw}),
}


def previous_token(n, seed, vocab=V, length=T):
    """Random tokens; the target at t >= 1 is the token at t - 1 (none at t = 0)."""
    X = np.random.default_rng(seed).integers(0, vocab, size=(n, length))
    y = np.full_like(X, IGNORE_INDEX)
    y[:, 1:] = X[:, :-1]
    return X, y


def held_out(est, X, y):
    """The sequences of (X, y) that ``est`` held out for validation (neural.py's split:
    the first round(val_fraction * n) of a permutation drawn from the split seed)."""
    order = np.random.default_rng(_seeds(est.random_state)[0]).permutation(len(X))
    val = order[:int(round(est.val_fraction * len(X)))]
    return X[val], y[val]


def test_ignore_index_is_the_tasks_and_torchs():
    assert IGNORE_INDEX == TASKS_IGNORE_INDEX == torch.nn.CrossEntropyLoss().ignore_index


def test_replicated_embedding_looks_up_each_replicates_table():
    torch.manual_seed(0)
    emb = ReplicatedEmbedding(5, 3, n_replicates=2)
    ids = torch.tensor([[[0, 4, 2]], [[4, 4, 1]]])          # (R=2, N=1, T=3)
    out = emb(ids)
    assert out.shape == (2, 1, 3, 3)
    for r in range(2):
        assert torch.equal(out[r, 0], emb.weight[r][ids[r, 0]])


# -- shapes, causality, learning -----------------------------------------------------------

@pytest.mark.parametrize("name", CLASSIFIERS)
def test_shapes_on_a_task_batch(name):
    task = InputCopying(vocab_size=3, length=3)
    batch = task.sample(40, rng=0)
    est = CLASSIFIERS[name](max_epochs=2).fit(batch.tokens, batch.targets)
    assert est.n_tokens_ == task.n_tokens == est.n_classes_
    assert np.array_equal(est.classes_, np.arange(task.n_tokens))
    pred = est.predict(batch.tokens[:7])
    assert pred.shape == (7, task.seq_len) and pred.dtype == np.int64
    assert pred.min() >= 0 and pred.max() < est.n_classes_           # never IGNORE_INDEX
    proba = est.predict_proba(batch.tokens[:7])
    assert proba.shape == (7, task.seq_len, est.n_classes_) and proba.dtype == np.float64
    assert np.allclose(proba.sum(axis=-1), 1.0)
    assert np.array_equal(proba.argmax(axis=-1), pred)
    assert (len(est.history_["train_loss"]) == len(est.history_["val_loss"])
            == len(est.history_["val_accuracy"]) == est.n_epochs_ == 2)
    assert est.n_params_ > 0 and est.fit_seconds_ > 0


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_prediction_at_t_ignores_later_tokens(name):
    X, y = previous_token(64, 0)
    est = CLASSIFIERS[name](max_epochs=2).fit(X, y)
    X_test = previous_token(20, 1)[0]
    proba = est.predict_proba(X_test)
    for t in (0, 3, T - 2):
        changed = X_test.copy()
        changed[:, t + 1:] = (changed[:, t + 1:] + 1) % V
        changed_proba = est.predict_proba(changed)
        assert np.allclose(changed_proba[:, :t + 1], proba[:, :t + 1], atol=1e-6), t
        assert not np.allclose(changed_proba[:, t + 1:], proba[:, t + 1:], atol=1e-3), t


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_learns_the_previous_token(name):
    X, y = previous_token(256, 0)
    X_test, y_test = previous_token(500, 1)
    est = CLASSIFIERS[name](max_steps=150, max_epochs=1000).fit(X, y)
    accuracy = est.score(X_test, y_test)
    assert accuracy > 0.95, accuracy
    assert accuracy == token_accuracy(est.predict(X_test), y_test)
    accuracy = est.history_["val_accuracy"]
    assert est.best_epoch_ == 1 + accuracy.index(max(accuracy))   # stopped on accuracy
    assert est.val_loss_ < 0.2 and est.val_loss_ == est.history_["val_loss"][est.best_epoch_ - 1]


def test_losses_are_the_cross_entropy_at_the_scored_positions():
    X, y = previous_token(64, 0)
    y[:5] = IGNORE_INDEX                                      # sequences without any target
    y[5:, 1] = IGNORE_INDEX
    est = CLASSIFIERS["ssm"](max_epochs=3, val_fraction=0.0).fit(X, y)
    proba = est.predict_proba(X)
    scored = y != IGNORE_INDEX
    nll = -np.log(proba[scored, y[scored]])
    assert np.isclose(est.train_loss_, nll.mean(), rtol=1e-4)  # pooled over scored positions
    assert np.isnan(est.val_loss_)


def test_score_weights_whole_sequences():
    X, y = previous_token(64, 0)
    est = CLASSIFIERS["transformer"](max_epochs=1).fit(X, y)
    pred = est.predict(X)
    y_test = pred.copy()
    y_test[:, 0] = IGNORE_INDEX
    y_test[:32, 1] = (pred[:32, 1] + 1) % V                  # one wrong target in each of 32
    expected = 1 - 32 / (64 * (T - 1))
    assert np.isclose(est.score(X, y_test), expected)
    weights = np.r_[np.zeros(32), np.ones(32)]
    assert est.score(X, y_test, sample_weight=weights) == 1.0


def test_vocabulary_and_classes():
    X, y = previous_token(40, 0)
    est = CLASSIFIERS["ssm"](max_epochs=1).fit(X, y)
    assert est.n_tokens_ == est.n_classes_ == V
    est = CLASSIFIERS["ssm"](max_epochs=1, n_tokens=6, n_classes=5).fit(X, y)
    assert est.n_tokens_ == 6 and est.n_classes_ == 5
    assert est.predict_proba(X).shape == (40, T, 5)
    assert est.predict(np.full((2, T), 5)).shape == (2, T)  # an id unseen in training


# -- the per-epoch validation accuracy -----------------------------------------------------

@pytest.mark.parametrize("name", CLASSIFIERS)
def test_val_accuracy_is_the_held_out_accuracy_of_each_epoch(name):
    X, y = previous_token(80, 0)
    est = CLASSIFIERS[name](max_epochs=30, patience=3, lr=3e-2).fit(X, y)
    accuracy = est.history_["val_accuracy"]
    assert len(accuracy) == len(est.history_["val_loss"]) == est.n_epochs_
    assert all(0.0 <= a <= 1.0 for a in accuracy)
    assert max(accuracy) > accuracy[0] + 0.3                  # the learning shows
    assert est.best_epoch_ < est.n_epochs_                    # stopped early, best restored
    X_val, y_val = held_out(est, X, y)
    assert len(X_val) == 16
    assert accuracy[est.best_epoch_ - 1] == pytest.approx(est.score(X_val, y_val), abs=1e-6)


def test_val_accuracy_follows_the_epochs_not_the_restored_weights():
    X, y = previous_token(80, 0)
    est = CLASSIFIERS["transformer"](max_epochs=30, patience=3, lr=3e-2).fit(X, y)
    accuracy = est.history_["val_accuracy"]
    restored = est.score(*held_out(est, X, y))
    assert accuracy[-1] != pytest.approx(restored, abs=1e-6)  # the last epoch's, not the best's
    assert accuracy[est.best_epoch_ - 1] == pytest.approx(restored, abs=1e-6)


def test_val_accuracy_is_nan_without_a_validation_split():
    X, y = previous_token(48, 0)
    est = CLASSIFIERS["ssm"](max_epochs=3, val_fraction=0.0).fit(X, y)
    assert len(est.history_["val_accuracy"]) == 3
    assert np.isnan(est.history_["val_accuracy"]).all()


def test_val_accuracy_of_a_batched_replicate_is_its_own():
    est = CLASSIFIERS["transformer"](max_epochs=30, patience=3, lr=3e-2)
    data = [previous_token(48, seed) for seed in range(3)]
    Xs, ys = [X for X, _ in data], [y for _, y in data]
    batched = fit_replicates(est, Xs, ys, [5, 6, 7])
    assert len({b.n_epochs_ for b in batched}) == 3           # dropped at different epochs
    for b, X, y, seed in zip(batched, Xs, ys, [5, 6, 7]):
        single = clone(est).set_params(random_state=seed).fit(X, y)
        assert len(b.history_["val_accuracy"]) == b.n_epochs_ == single.n_epochs_
        np.testing.assert_allclose(b.history_["val_accuracy"], single.history_["val_accuracy"],
                                   atol=1e-6)


# -- early stopping on validation accuracy, training accuracy --------------------------------

@pytest.mark.parametrize("name", CLASSIFIERS)
def test_early_stopping_restores_the_first_epoch_of_highest_val_accuracy(name):
    X, y = previous_token(80, 0)
    est = CLASSIFIERS[name](max_epochs=40, patience=4, lr=3e-2).fit(X, y)
    accuracy = est.history_["val_accuracy"]
    best = accuracy.index(max(accuracy))                      # the first of the highest
    assert est.best_epoch_ == best + 1
    assert est.n_epochs_ - est.best_epoch_ == 4 or est.n_epochs_ == 40   # patience on accuracy
    assert max(accuracy[best + 1:], default=-1) <= accuracy[best]
    assert est.score(*held_out(est, X, y)) == pytest.approx(accuracy[best], abs=1e-6)


def test_train_accuracy_is_measured_on_the_training_split():
    X, y = previous_token(80, 0)
    est = CLASSIFIERS["ssm"](max_epochs=6, lr=3e-2).fit(X, y)
    order = np.random.default_rng(_seeds(est.random_state)[0]).permutation(len(X))
    train = order[int(round(est.val_fraction * len(X))):]
    assert est.train_accuracy_ == pytest.approx(est.score(X[train], y[train]), abs=1e-6)
    assert est.train_accuracy_ != pytest.approx(est.score(X, y), abs=1e-6)  # not the val split
    no_val = CLASSIFIERS["ssm"](max_epochs=3, val_fraction=0.0).fit(X, y)
    assert no_val.train_accuracy_ == pytest.approx(no_val.score(X, y), abs=1e-6)


def test_stop_on_loss_stops_on_the_validation_cross_entropy():
    X, y = previous_token(80, 0)
    est = CLASSIFIERS["transformer"](max_epochs=30, patience=3, lr=3e-2, stop_on="loss")
    est.fit(X, y)
    losses = est.history_["val_loss"]
    assert est.val_loss_ == min(losses) and est.best_epoch_ == 1 + losses.index(min(losses))
    with pytest.raises(ValueError, match="stop_on"):
        clone(est).set_params(stop_on="val_accuracy").fit(X, y)


@pytest.mark.parametrize("regressor", [SSMRegressor, WindowMLP, SelectiveSSMRegressor])
def test_regressors_history_holds_the_losses_only(regressor):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 6, 2)), rng.normal(size=40)
    est = regressor(max_epochs=2, min_steps=0, device="cpu", random_state=0).fit(X, y)
    assert set(est.history_) == {"train_loss", "val_loss"}
    assert len(est.history_["val_loss"]) == 2


# -- replicate batching --------------------------------------------------------------------

def test_batched_replicates_equal_separate_fits():
    est = CLASSIFIERS["ssm"](max_epochs=3)
    data = [previous_token(48, seed) for seed in range(3)]
    Xs, ys = [X for X, _ in data], [y for _, y in data]
    batched = fit_replicates(est, Xs, ys, [5, 6, 7])
    for b, X, y, seed in zip(batched, Xs, ys, [5, 6, 7]):
        single = clone(est).set_params(random_state=seed).fit(X, y)
        np.testing.assert_allclose(b.history_["val_loss"], single.history_["val_loss"],
                                   rtol=1e-4)
        np.testing.assert_allclose(b.predict_proba(X), single.predict_proba(X), atol=1e-5)


def test_replicates_must_agree_on_an_inferred_vocabulary():
    (X0, y0), (X1, y1) = previous_token(40, 0), previous_token(40, 1, vocab=V - 1)
    with pytest.raises(ValueError, match="n_tokens"):
        fit_replicates(CLASSIFIERS["ssm"](max_epochs=1), [X0, X1], [y0, y1], [0, 1])
    fitted = fit_replicates(CLASSIFIERS["ssm"](max_epochs=1, n_tokens=V), [X0, X1], [y0, y1],
                            [0, 1])
    assert [f.n_tokens_ for f in fitted] == [V, V]


# -- the scikit-learn contract -------------------------------------------------------------

@pytest.mark.parametrize("name", CLASSIFIERS)
def test_clone_params_and_pickle(name):
    est = CLASSIFIERS[name](max_epochs=2, n_layers=1, fnn_depth=3)
    copy = clone(est)
    assert copy.get_params() == est.get_params() and copy is not est
    assert copy.get_params()["fnn_depth"] == 3 and copy.get_params()["n_tokens"] is None
    copy.set_params(width=8, random_state=3)
    assert copy.width == 8 and est.width == 16
    X, y = previous_token(40, 0)
    fitted = pickle.loads(pickle.dumps(est.fit(X, y)))
    assert np.array_equal(fitted.predict(X), est.predict(X))
    same = CLASSIFIERS[name](max_epochs=2, n_layers=1, fnn_depth=3).fit(X, y)
    assert np.array_equal(same.predict_proba(X), est.predict_proba(X))  # same seed


def test_fnn_depth_sets_the_depth_of_every_fnn():
    X, y = previous_token(40, 0)
    counts = [CLASSIFIERS["ssm"](max_epochs=1, n_layers=1, fnn_depth=k).fit(X, y).n_params_
              for k in (1, 2, 3)]
    fnn_layer = 32 * 32 + 32                                 # one more hidden layer per FNN
    assert counts[1] - counts[0] == counts[2] - counts[1] == 2 * fnn_layer  # fnn_in + block


# -- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", CLASSIFIERS)
def test_bad_input(name):
    X, y = previous_token(40, 0)
    est = CLASSIFIERS[name](max_epochs=1)
    cases = [
        ((X + 0.5, y), "X must hold integer ids"),
        ((X, y + 0.0), "y must hold integer ids"),
        ((X[:, :, None], y), "2 dimensions"),
        ((X - 1, y), "negative token id"),
        ((X, y[:30]), "shape of X"),
        ((X, y[:, 1:]), "shape of X"),
        ((X, np.full_like(y, IGNORE_INDEX)), "no scored position"),
        ((X, np.where(y == IGNORE_INDEX, IGNORE_INDEX, y + V)), "outside \\[0, n_classes"),
        ((X[:2], y[:2]), "too few for val_fraction"),
    ]
    for args, message in cases:
        with pytest.raises(ValueError, match=message):
            clone(est).fit(*args)
    with pytest.raises(ValueError, match="n_tokens=3"):
        clone(est).set_params(n_tokens=3).fit(X, y)           # ids go up to 3
    for param, value in [("n_tokens", 0), ("n_classes", 1), ("lr", -1.0), ("batch_size", 0)]:
        with pytest.raises(ValueError, match=param):
            clone(est).set_params(**{param: value}).fit(X, y)
    est.fit(X, y)
    with pytest.raises(ValueError, match="outside \\[0, n_tokens=4"):
        est.predict(np.full((2, T), V))
    with pytest.raises(ValueError, match="tokens per sequence"):
        est.predict(X[:, :-1])
    with pytest.raises(ValueError, match="y must have the shape of X"):
        est.score(X, y[:, :-1])


def test_selective_options_are_checked():
    X, y = previous_token(40, 0)
    for param, value in [("scan", "parallel"), ("chunk_size", 0), ("d_state", 0)]:
        with pytest.raises(ValueError, match=param):
            CLASSIFIERS["selective"](**{param: value}).fit(X, y)
