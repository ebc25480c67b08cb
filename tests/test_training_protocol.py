"""The training protocol of the torch estimators: how training stops, and the learning-rate
grid chosen on the validation split (batched with the replicates)."""

import math

import numpy as np
import pytest
from sklearn.base import clone

from nprates.estimators import SelectiveSSMRegressor, SSMRegressor, WindowMLP, fit_replicates
from nprates.estimators.neural import TransformerRegressor
from nprates.estimators.training import TrainingConfig, train_replicates

T, L = 8, 4
FAST = dict(batch_size=16, device="cpu", random_state=0, min_steps=0, patience_steps=0)


def noisy_data(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, T, 2))
    y = np.sin(3 * X[:, -L:, 0]) * X[:, -L - 1:-1, 1] + 0.3 * rng.normal(size=(n, L))
    return X, y


# -- stopping -----------------------------------------------------------------------------

def test_stopped_by_records_early_stopping_and_the_cap():
    X, y = noisy_data(48)
    stopped = WindowMLP(width=16, **{**FAST, "lr": 3e-2}, max_epochs=300, patience=3).fit(X, y)
    assert stopped.stopped_by_ == "early_stopping" and stopped.n_epochs_ < 300
    assert stopped.n_epochs_ == stopped.best_epoch_ + 3
    capped = WindowMLP(width=16, **FAST, max_epochs=2, patience=50).fit(X, y)
    assert capped.stopped_by_ == "cap" and capped.n_epochs_ == 2
    steps = WindowMLP(width=16, **FAST, max_steps=3, patience=50).fit(X, y)
    assert steps.stopped_by_ == "cap" and steps.n_steps_ == 3
    no_val = WindowMLP(width=16, **FAST, max_epochs=3, val_fraction=0.0).fit(X, y)
    assert no_val.stopped_by_ == "cap"  # nothing to stop early on


def test_each_batched_replicate_records_how_it_stopped():
    Xs, ys = zip(*(noisy_data(48, seed) for seed in range(4)))
    est = WindowMLP(width=16, **{**FAST, "lr": 3e-2}, max_epochs=12, patience=2)
    fits = fit_replicates(est, Xs, ys, [0, 1, 2, 3])
    reasons = [f.stopped_by_ for f in fits]
    assert set(reasons) <= {"early_stopping", "cap"}
    for f in fits:  # each as its own fit says
        assert f.stopped_by_ == ("cap" if f.n_epochs_ == 12 and f.n_epochs_ - f.best_epoch_ < 2
                                 else "early_stopping")
        single = clone(est).set_params(random_state=f.random_state).fit(
            Xs[f.random_state], ys[f.random_state])
        assert single.stopped_by_ == f.stopped_by_ and single.n_epochs_ == f.n_epochs_


def test_patience_in_steps_outlasts_patience_in_epochs_at_small_n():
    """40 sequences, 32 for training: one step per epoch; 2 epochs of patience would stop
    after 2 steps without improvement, patience_steps=25 keeps training 25 steps."""
    X, y = noisy_data(40)
    y = y + np.random.default_rng(1).normal(size=y.shape)  # mostly noise: stops improving
    kw = {**FAST, "batch_size": 32, "lr": 3e-2, "max_epochs": 500, "patience": 2}
    epochs_only = WindowMLP(width=16, **kw).fit(X, y)
    with_steps = WindowMLP(width=16, **{**kw, "patience_steps": 25}).fit(X, y)
    assert epochs_only.n_steps_ == epochs_only.best_epoch_ + 2
    assert with_steps.stopped_by_ == "early_stopping"
    assert with_steps.n_steps_ == with_steps.n_epochs_ == with_steps.best_epoch_ + 25
    assert with_steps.n_steps_ > epochs_only.n_steps_


def test_patience_in_epochs_governs_when_epochs_are_long():
    """Four steps per epoch: patience=3 epochs (12 steps) outlasts patience_steps=5."""
    X, y = noisy_data(80)
    y = y + np.random.default_rng(2).normal(size=y.shape)
    kw = {**FAST, "lr": 3e-2, "max_epochs": 500, "patience": 3, "patience_steps": 5}
    est = WindowMLP(width=16, **kw).fit(X, y)
    assert est.stopped_by_ == "early_stopping"
    assert est.n_epochs_ == est.best_epoch_ + 3 and est.n_steps_ == 4 * est.n_epochs_


# -- the learning-rate grid ----------------------------------------------------------------

GRID_ESTIMATORS = {
    "ssm": SSMRegressor(8, 1, d_state=4, fnn_width=16, max_epochs=2, **FAST),
    "transformer": TransformerRegressor(8, 1, n_heads=2, fnn_width=16, max_epochs=4, **FAST),
    "window_mlp": WindowMLP(width=16, max_epochs=4, **FAST),
    "selective_ssm": SelectiveSSMRegressor(8, 1, d_state=4, fnn_width=16, max_epochs=2,
                                           scan="sequential", **FAST),
}
GRID = (1e-3, 1e-2, 3e-2)


@pytest.mark.parametrize("name", GRID_ESTIMATORS)
def test_a_grid_keeps_the_candidate_with_the_best_validation_loss(name):
    X, y = noisy_data(48)
    est = clone(GRID_ESTIMATORS[name]).set_params(lr=list(GRID), lr_extend=0)
    fitted = clone(est).fit(X, y)
    assert list(fitted.lr_scores_) == list(GRID) == fitted.lr_grid_
    assert fitted.lr_edge_ == (fitted.lr_ != GRID[1])
    assert fitted.lr_ == min(GRID, key=fitted.lr_scores_.get)
    assert fitted.val_loss_ == fitted.lr_scores_[fitted.lr_]
    assert 0 < fitted.selection_seconds_ <= fitted.fit_seconds_
    # every candidate as trained alone at its own rate: same validation loss
    for lr in GRID:
        alone = clone(est).set_params(lr=lr).fit(X, y)
        assert alone.lr_ == lr and alone.selection_seconds_ == 0.0
        assert alone.lr_scores_ == {lr: alone.val_loss_}
        np.testing.assert_allclose(fitted.lr_scores_[lr], alone.val_loss_, rtol=1e-4)
        if lr == fitted.lr_:
            np.testing.assert_allclose(fitted.predict(X), alone.predict(X), rtol=1e-4,
                                       atol=1e-5)
            assert fitted.n_epochs_ == alone.n_epochs_


def test_grid_with_replicates_equals_separate_grid_fits():
    Xs, ys = zip(*(noisy_data(48, seed) for seed in range(3)))
    est = clone(GRID_ESTIMATORS["window_mlp"]).set_params(lr=GRID, max_epochs=30, patience=3)
    batched = fit_replicates(est, Xs, ys, [4, 5, 6])
    for b, X, y in zip(batched, Xs, ys):
        single = clone(est).set_params(random_state=b.random_state).fit(X, y)
        assert b.lr_ == single.lr_ and b.n_epochs_ == single.n_epochs_
        assert b.lr_grid_ == single.lr_grid_ and b.lr_edge_ == single.lr_edge_
        assert b.stopped_by_ == single.stopped_by_
        np.testing.assert_allclose(list(b.lr_scores_.values()),
                                   list(single.lr_scores_.values()), rtol=1e-4)
        np.testing.assert_allclose(b.predict(X), single.predict(X), rtol=1e-4, atol=1e-5)


def test_a_best_rate_at_the_grid_edge_is_extended_up_to_the_limit():
    """Rates far too small for 3 epochs: the largest always wins, so the grid grows by
    its own ratio (x10) beyond the top, lr_extend times, and the kept rate is the last."""
    X, y = noisy_data(48)
    est = WindowMLP(width=16, max_epochs=3, lr=[1e-6, 1e-5], **FAST)
    fitted = clone(est).set_params(lr_extend=2).fit(X, y)
    np.testing.assert_allclose(fitted.lr_grid_, [1e-6, 1e-5, 1e-4, 1e-3])
    assert list(fitted.lr_scores_) == fitted.lr_grid_ and fitted.lr_ == fitted.lr_grid_[-1]
    assert fitted.lr_edge_  # still at the edge: the limit was reached
    alone = clone(est).set_params(lr=fitted.lr_).fit(X, y)  # the extension as trained alone
    np.testing.assert_allclose(fitted.val_loss_, alone.val_loss_, rtol=1e-4)
    assert alone.lr_grid_ == [fitted.lr_] and not alone.lr_edge_
    plain = clone(est).set_params(lr_extend=0).fit(X, y)
    assert plain.lr_grid_ == [1e-6, 1e-5] and plain.lr_edge_ and plain.lr_ == 1e-5


def test_extension_rule_goes_beyond_the_edge_holding_the_best_rate():
    from types import SimpleNamespace

    from nprates.estimators.neural import _extension

    def tried(scores):  # {lr: best validation loss}, inf: diverged
        return [(lr, SimpleNamespace(val_loss=v, diverged_epoch=None if v < math.inf else 1),
                 None) for lr, v in scores.items()]

    grid = [3e-3, 1e-2]
    assert _extension(tried({3e-3: 1.0, 1e-2: 2.0}), grid, 2) == pytest.approx(9e-4)
    assert _extension(tried({3e-3: 2.0, 1e-2: 1.0}), grid, 2) == pytest.approx(1e-2 / 0.3)
    assert _extension(tried({3e-3: 2.0, 1e-2: 1.0, 0.1 / 3: 1.5}), grid, 2) is None  # interior
    assert _extension(tried({3e-3: 2.0, 1e-2: 1.5, 0.1 / 3: 1.0}), grid, 1) is None  # limit
    assert _extension(tried({9e-4: 0.5, 3e-3: 1.0, 1e-2: 2.0}), grid, 2) == pytest.approx(2.7e-4)
    assert _extension(tried({3e-3: math.inf, 1e-2: math.inf}), grid, 2) is None  # all diverged
    assert _extension(tried({3e-3: 1.0}), [3e-3], 2) is None  # one rate: nothing to select
    assert _extension(tried({3e-3: 1.0, 1e-2: 2.0}), grid, 0) is None


def test_verbose_prints_progress_every_k_epochs(capsys):
    X, y = noisy_data(48)
    WindowMLP(width=16, max_epochs=6, lr=1e-2, verbose=2, **FAST).fit(X, y)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 2", "epoch 4", "epoch 6"]
    assert all("training loss" in line and "validation loss" in line for line in lines)
    WindowMLP(width=16, max_epochs=6, lr=1e-2, **FAST).fit(X, y)
    assert capsys.readouterr().err == ""
    with pytest.raises(ValueError, match="verbose"):
        WindowMLP(width=16, verbose=-1, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="lr_extend"):
        WindowMLP(width=16, lr_extend=1.5, **FAST).fit(X, y)


def test_a_diverged_candidate_is_never_chosen():
    X, y = noisy_data(48)
    est = WindowMLP(width=16, max_epochs=3, lr=[1e-2, 1e30], lr_extend=0, **FAST).fit(X, y)
    assert est.lr_ == 1e-2 and est.lr_scores_[1e30] == math.inf


def test_per_replicate_rates_equal_separate_training():
    """train_replicates with lrs: replicate r trains as if alone at lrs[r] (AdamW is linear
    in the rate), the SSM group at ssm_lr."""
    import torch

    from nprates.estimators.layers import stack_replicates
    from nprates.estimators.neural import NeuralRegressor

    X, y = noisy_data(32)
    est = SSMRegressor(8, 1, d_state=4, fnn_width=8, **FAST).fit(X, y)  # for the layout
    Xt = torch.as_tensor(X, dtype=torch.float32)[None]
    Yt = torch.as_tensor((y - est.y_mean_) / est.y_scale_, dtype=torch.float32)[None]
    config = TrainingConfig(max_epochs=3, batch_size=16, ssm_lr=1e-3)

    def network():
        torch.manual_seed(0)
        return est._make_network(1)

    def trained(lrs):
        net = stack_replicates([network() for _ in lrs])
        R = len(lrs)
        train_replicates(net, NeuralRegressor._loss, Xt.expand(R, -1, -1, -1),
                         Yt.expand(R, -1, -1), None, None, [0] * R, config, lrs=lrs)
        return net

    together = trained([1e-3, 3e-2]).state_dict()
    for r, lr in enumerate([1e-3, 3e-2]):
        alone = trained([lr]).state_dict()
        for key, value in alone.items():
            torch.testing.assert_close(together[key][r:r + 1], value, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("lr, message", [
    ([], "empty"), ([1e-3, 1e-3], "twice"), ([1e-3, -1.0], "lr"), ("fast", "lr"),
    ([1e-3, float("nan")], "lr")])
def test_bad_grids(lr, message):
    X, y = noisy_data(16)
    with pytest.raises(ValueError, match=message):
        WindowMLP(width=16, lr=lr, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="val_fraction"):
        WindowMLP(width=16, lr=[1e-3, 1e-2], val_fraction=0.0, **FAST).fit(X, y)


# -- racing the candidates of a grid --------------------------------------------------------

def test_racing_keeps_the_winner_of_the_full_grid_and_stops_the_losers_early():
    """A rate far too small trails from the start: with racing it stops once it has trained
    a patience window, while the kept candidate trains exactly as without racing."""
    X, y = noisy_data(64)
    est = WindowMLP(width=16, lr=[1e-6, 1e-2], lr_extend=0, max_epochs=200, patience=5,
                    **FAST)
    full = clone(est).fit(X, y)
    raced = clone(est).set_params(lr_race=0.05).fit(X, y)
    assert full.lr_ == raced.lr_ == 1e-2
    assert raced.n_epochs_ == full.n_epochs_ and raced.stopped_by_ == full.stopped_by_
    np.testing.assert_allclose(raced.val_loss_, full.val_loss_, rtol=1e-4)
    np.testing.assert_allclose(raced.predict(X), full.predict(X), rtol=1e-4, atol=1e-5)
    # the loser's best score is from the epoch it was dropped at: the patience window
    assert raced.lr_scores_[1e-6] >= full.lr_scores_[1e-6]
    assert raced.selection_seconds_ < full.selection_seconds_


def first_trailing_epoch(history, rival, start, margin=0.1):
    """The first epoch >= start whose lowest loss so far trails the rival's by the margin."""
    for epoch in range(start, len(history) + 1):
        if min(history[:epoch]) > (1 + margin) * min(rival[:epoch]):
            return epoch
    return None


def test_a_racing_candidate_stops_at_the_first_epoch_it_trails_by_the_margin():
    import torch

    from nprates.estimators.layers import stack_replicates
    from nprates.estimators.neural import NeuralRegressor

    X, y = noisy_data(64)
    est = WindowMLP(width=16, **FAST).fit(X, y)  # for the layout
    Xt = torch.as_tensor(X, dtype=torch.float32)[None].expand(3, -1, -1, -1)
    Yt = torch.as_tensor((y - est.y_mean_) / est.y_scale_, dtype=torch.float32)[None]
    Yt = Yt.expand(3, -1, -1)
    torch.manual_seed(0)
    net = stack_replicates([est._make_network(1) for _ in range(3)])
    config = TrainingConfig(max_epochs=40, batch_size=16, patience=4, race_margin=0.1)
    # replicates 0 and 1 race (one group); replicate 2 is alone in its group: never raced
    outs = train_replicates(net, NeuralRegressor._loss, Xt[:, :48], Yt[:, :48], Xt[:, 48:],
                            Yt[:, 48:], [0, 0, 0], config, lrs=[1e-6, 1e-2, 1e-6],
                            groups=["a", "a", "b"])
    loser, winner, alone = outs
    assert loser.stopped_by == "race"
    assert loser.n_epochs == first_trailing_epoch(loser.val_history, winner.val_history, 4)
    assert alone.stopped_by != "race" and alone.n_epochs > 4
    assert winner.stopped_by != "race"


def test_an_extension_races_against_the_earlier_rounds_curve():
    """In an extension round a candidate races against the lowest validation loss the
    earlier candidates had reached by the same epoch (``reference``)."""
    import torch

    from nprates.estimators.layers import stack_replicates
    from nprates.estimators.neural import NeuralRegressor, _lowest_curve

    X, y = noisy_data(64)
    est = WindowMLP(width=16, **FAST).fit(X, y)
    Xt = torch.as_tensor(X, dtype=torch.float32)[None]
    Yt = torch.as_tensor((y - est.y_mean_) / est.y_scale_, dtype=torch.float32)[None]
    config = TrainingConfig(max_epochs=40, batch_size=16, patience=4, race_margin=0.1)

    def run(lr, reference):
        torch.manual_seed(0)
        net = stack_replicates([est._make_network(1)])
        return train_replicates(net, NeuralRegressor._loss, Xt[:, :48], Yt[:, :48],
                                Xt[:, 48:], Yt[:, 48:], [0], config, lrs=[lr], groups=[0],
                                reference=reference)[0]

    good = run(1e-2, None)
    assert good.stopped_by != "race"  # nothing to race against
    curve = _lowest_curve([(1e-2, good, None)])
    assert len(curve) == good.n_epochs and curve == list(np.minimum.accumulate(
        good.val_history))
    slow = run(1e-6, [curve])
    assert slow.stopped_by == "race"
    assert slow.n_epochs == first_trailing_epoch(slow.val_history, good.val_history, 4)
    assert run(1e-2, [[v * 2 for v in curve]]).stopped_by != "race"  # a worse reference


@pytest.mark.parametrize("value", [-0.1, float("nan"), "x", True])
def test_bad_race_margins(value):
    X, y = noisy_data(16)
    with pytest.raises(ValueError, match="lr_race"):
        WindowMLP(width=16, lr=[1e-3, 1e-2], lr_race=value, **FAST).fit(X, y)


# -- learning-rate decay on a plateau ------------------------------------------------------

class _Slope:
    """A stub network of the replicate layout: one scalar ``p`` per replicate, output
    ``p * x``. With the mean output as the loss, a training batch of ones has loss ``p``
    and gradient 1, so AdamW (no weight decay on a vector) moves ``p`` by exactly the
    learning rate per step, and ``train_history`` traces the rate used."""

    @staticmethod
    def network(R):
        import torch

        class Slope(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.p = torch.nn.Parameter(torch.zeros(R, 1))

            def forward(self, x):  # (R, b, 1) -> (R, b, 1)
                return self.p.view(-1, 1, 1) * x

        return Slope()

    @staticmethod
    def loss(outputs, targets):
        return outputs.mean(dim=(1, 2))


def test_lr_decay_multiplies_a_replicates_rate_after_a_third_of_its_patience():
    import torch

    ones, zeros = torch.ones(2, 4, 1), torch.zeros(2, 4, 1)
    # replicate 0 validates on zeros: loss 0 at every epoch, best at epoch 1, a plateau after;
    # replicate 1 validates on ones: its loss p falls at every epoch, it never decays
    X_val = torch.stack([zeros[0], ones[1]])
    config = TrainingConfig(lr=0.1, max_epochs=14, batch_size=4, patience=9, lr_decay=0.5)
    plateau, falling = train_replicates(_Slope.network(2), _Slope.loss, ones, ones, X_val,
                                        X_val, [0, 1], config)
    # patience 9: decays after 3 epochs without improvement (epochs 4 and 7), stop at 10
    assert plateau.stopped_by == "early_stopping" and plateau.n_epochs == 10
    assert plateau.lr_decays == 2
    np.testing.assert_allclose(np.diff(plateau.train_history),
                               [-0.1] * 4 + [-0.05] * 3 + [-0.025] * 2, rtol=1e-5)
    assert falling.lr_decays == 0 and falling.n_epochs == 14
    np.testing.assert_allclose(np.diff(falling.train_history), [-0.1] * 13, rtol=1e-5)


def test_lr_decay_waits_for_a_third_of_the_step_patience_too():
    import torch

    ones = torch.ones(1, 4, 1)
    # one step per epoch; patience 3 epochs but 12 steps: decays every 4 steps, not every one
    config = TrainingConfig(lr=0.1, max_epochs=40, batch_size=4, patience=3,
                            patience_steps=12, lr_decay=0.5)
    out = train_replicates(_Slope.network(1), _Slope.loss, ones, ones, 0 * ones, 0 * ones,
                           [0], config)[0]
    assert out.n_epochs == 13 and out.lr_decays == 2  # decays at epochs 5 and 9
    np.testing.assert_allclose(np.diff(out.train_history),
                               [-0.1] * 5 + [-0.05] * 4 + [-0.025] * 3, rtol=1e-5)


def test_without_lr_decay_training_is_unchanged_and_decay_is_recorded_on_the_estimator():
    X, y = noisy_data(64)
    plain = WindowMLP(width=16, **{**FAST, "lr": 3e-2}, max_epochs=60, patience=6).fit(X, y)
    same = WindowMLP(width=16, **{**FAST, "lr": 3e-2}, max_epochs=60, patience=6,
                     lr_decay=None).fit(X, y)
    np.testing.assert_array_equal(plain.predict(X), same.predict(X))
    assert plain.lr_decays_ == 0
    decayed = clone(plain).set_params(lr_decay=0.3).fit(X, y)
    assert decayed.lr_decays_ >= 1 and decayed.lr_ == 3e-2
    # the same up to the epoch of the first decay (patience 6: the second epoch without a
    # better validation loss), to rounding (a decaying fit steps at per-replicate rates);
    # then the lower rate moves the validation loss by far more than rounding
    val, ref = decayed.history_["val_loss"], plain.history_["val_loss"]
    first = next(e for e in range(1, len(val) + 1) if e - int(np.argmin(val[:e])) - 1 >= 2)
    np.testing.assert_allclose(val[:first], ref[:first], rtol=1e-6)
    after = min(len(val), len(ref))
    assert np.max(np.abs(np.subtract(val[first:after], ref[first:after])) / ref[first:after]) > 1e-3


@pytest.mark.parametrize("value", [0.0, 1.0, 1.5, -0.5, float("nan"), "x"])
def test_bad_lr_decays(value):
    X, y = noisy_data(16)
    with pytest.raises(ValueError, match="lr_decay"):
        WindowMLP(width=16, lr_decay=value, **FAST).fit(X, y)
