"""scikit-learn estimators around the torch networks: SSMRegressor, TransformerRegressor, WindowMLP.

Shapes as for every estimator of this package: X (n, T, d); y (n, L), the outputs at the
last L positions of each sequence, or (n,), the last position. ``predict`` returns y's
layout. Hyperparameters live in ``__init__``; ``sklearn.base.clone``, ``get_params``,
``set_params`` and ``GridSearchCV`` work as for any scikit-learn regressor.

Fitting: the targets are standardised with the mean and standard deviation of the
training split (fitted ``y_mean_``, ``y_scale_``), so the default learning rates suit any
output scale; predictions are mapped back, and clipped to [-bound, bound] when ``bound``
is given (in eval mode: validation and prediction, not the training loss). A fraction
``val_fraction`` of the training sequences (never test data) is held out for early
stopping; the best weights are restored. Training stops early once the validation loss
has not improved for ``patience`` epochs and ``patience_steps`` optimiser steps (so at
small n, one step per epoch, it still waits ``patience_steps`` steps), not before
``min_steps`` steps; otherwise at the cap, ``max_epochs`` epochs or ``max_steps`` steps.
The defaults (1000 epochs, patience 20 epochs and 200 steps) let early stopping end
every fit of the quick study (n = 64..2048, 2 layers of width 16): at most 427 epochs.
Losses are MSEs on the original scale in ``history_`` (per epoch), ``train_loss_`` (the
restored model on the training split) and ``val_loss_`` (best validation MSE). A fit
whose loss becomes NaN or inf raises ``TrainingDiverged``.

Learning rate: ``lr`` is a number, or a sequence of numbers (a grid). Every candidate of
a grid trains on the same training/validation split, from the same initial weights, in
the same mini-batch order (as more replicates of one batched computation); the one with
the lowest best validation loss is kept (ties: the earlier tried; a candidate whose
loss diverged is never kept, and the fit raises ``TrainingDiverged`` only when all do).
A grid cannot hide the best rate at its edge: when the kept candidate has the lowest or
highest rate tried, the next rate beyond that edge (the edge times its ratio to its
neighbour, e.g. 3.33e-2 after {3e-3, 1e-2}) trains too, on the same split, from the same
weights, in the same order, at most ``lr_extend`` times per side (default 2; 0: the grid
as given). ``lr_grid_`` lists the rates tried, ``lr_edge_`` says whether the kept one is
still at an edge of them (the extension limit was reached; always True for a grid with
``lr_extend=0`` whose best rate is at an end).

Fitted attributes: ``network_``, ``history_``, ``train_loss_``, ``val_loss_``,
``n_epochs_``, ``best_epoch_`` (1-based epoch of the restored weights), ``n_steps_``,
``stopped_by_`` ("early_stopping", "cap" or "race"), ``lr_decays_`` (how often the kept
candidate's rate decayed on a plateau; 0 without ``lr_decay``), ``lr_`` (the initial
learning rate of the kept candidate),
``lr_scores_`` ({lr: best validation loss} over the final grid, inf for a diverged
candidate; ``{lr: val_loss_}`` for a number), ``lr_grid_`` (the rates tried, ascending),
``lr_edge_``, ``selection_seconds_`` (wall time of training the grid and its extensions,
per replicate; 0 for a number; part of
``fit_seconds_``), ``n_params_``, ``fit_seconds_``, ``device_``, the layout
``n_features_in_`` (d), ``seq_len_`` (T), ``n_scored_`` (L), ``output_1d_``, and
``y_mean_``, ``y_scale_``.

Replicates: ``nprates.estimators.replicates.fit_replicates`` trains R copies that differ only in
data and ``random_state`` in one batched computation (``training``), with the results of
R separate fits. The same random_state gives the same predictions (on CPU). Three seeds
derived from random_state drive the validation split, the initialisation and the
mini-batch order.
"""

from __future__ import annotations

import math
import numbers
import sys
import time

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._baseline import resolve_window
from .windows import SequenceInput, check_outputs, check_sequences
from .device import resolve_device
from .architectures import SSMArchitecture, TransformerArchitecture
from .errors import TrainingDiverged
from .layers import OutputClip, replicate_state, set_replicate_state, stack_replicates
from .networks import WindowMLPNetwork
from .training import TrainingConfig, train_replicates

PREDICT_TOKENS = 2 ** 16  # tokens per chunk of a prediction pass


def _seeds(random_state) -> list[int]:
    """Independent seeds for the validation split, the initialisation and the shuffling."""
    entropy = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    return [int(s) for s in np.random.SeedSequence(entropy).generate_state(3)]


def _best_candidate(candidates) -> int:
    """Index of the kept candidate among ``(lr, outcome, weights)`` tuples: the lowest best
    validation loss among those that did not diverge (ties: the earlier tried)."""
    return min(range(len(candidates)), key=lambda k: (candidates[k][1].diverged_epoch is not None,
                                                       candidates[k][1].val_loss))


def _extension(candidates, grid: list, limit: int) -> float | None:
    """The next learning rate to try for one replicate, or None.

    When the kept candidate (``_best_candidate``) sits at the lowest or highest rate tried
    so far, the next rate beyond that edge, one step of the ratio between the edge and its
    neighbour, as long as fewer than ``limit`` rates lie beyond that side of ``grid``. A
    one-rate grid is never extended (no selection, no step to repeat); neither is a
    replicate whose candidates all diverged."""
    if len(grid) < 2 or limit < 1:
        return None
    best = _best_candidate(candidates)
    if candidates[best][1].diverged_epoch is not None:
        return None
    rates = sorted(lr for lr, _, _ in candidates)
    lr = candidates[best][0]
    if lr == rates[0] and sum(r < min(grid) for r in rates) < limit:
        return rates[0] * rates[0] / rates[1]
    if lr == rates[-1] and sum(r > max(grid) for r in rates) < limit:
        return rates[-1] * rates[-1] / rates[-2]
    return None


def _lowest_curve(candidates) -> list[float]:
    """Per epoch, the lowest validation loss so far over ``(lr, outcome, weights)``
    candidates (a shorter history holds its last value); [] for none. Diverged candidates
    do not count."""
    curves = []
    for _, outcome, _ in candidates:
        if outcome.diverged_epoch is None and outcome.val_history:
            curves.append(np.minimum.accumulate(np.asarray(outcome.val_history, dtype=float)))
    if not curves:
        return []
    length = max(len(c) for c in curves)
    padded = [np.pad(c, (0, length - len(c)), mode="edge") for c in curves]
    return np.min(padded, axis=0).tolist()


def _check_int(name: str, value, low: int = 1, none_ok: bool = False) -> None:
    if none_ok and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}{' or None' if none_ok else ''}, "
                         f"got {value!r}")


def _check_real(name: str, value, low: float, low_ok: bool, high: float = math.inf,
                none_ok: bool = False) -> None:
    if none_ok and value is None:
        return
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and math.isfinite(value) and (value >= low if low_ok else value > low) and value < high)
    if not ok:
        interval = f"{'[' if low_ok else '('}{low}, {high})"
        raise ValueError(f"{name} must be a number in {interval}"
                         f"{' or None' if none_ok else ''}, got {value!r}")


class NeuralSequenceEstimator(SequenceInput, BaseEstimator):
    """Base of the torch sequence estimators: checks, seeds, batched fitting, prediction.

    Subclasses define ``__init__`` listing every hyperparameter (scikit-learn reads them
    from its signature) and these overridable pieces:

    - ``_build_network(n_replicates)``: the network factory, from the hyperparameters and
      the fitted layout (``n_features_in_``, ``seq_len_``, ``n_scored_``,
      ``_n_outputs()``); returns a module of the replicate layout (``layers``). The task
      bases implement it with an ``architectures`` mixin's ``_network``, so a regressor
      and a classifier of one kind build their networks alike.
    - task pieces (``NeuralRegressor`` implements them for regression): ``_check_inputs``,
      ``_check_targets``, ``_fit_targets``, ``_encode_targets``, ``_n_outputs``,
      ``_output_layer``, ``_loss``, ``_loss_units``, ``_decode``. A classifier overrides
      the same: labels to int64 class indices (``_fit_targets`` records ``classes_``),
      ``_n_outputs`` the number of classes, no output layer, ``_loss`` the cross-entropy
      at the scored positions (per replicate, shape (R,)), ``_loss_units`` 1, ``_decode``
      the arg-max class; token-index inputs need ``_check_inputs`` and an ``embed``
      module passed to the network by ``_build_network``.
    - ``_val_metric`` and ``_val_metric_name``: an optional validation metric,
      ``_val_metric(outputs, targets) -> (R,)`` with ``_loss``'s arguments, evaluated in
      the validation pass of every epoch and recorded in ``history_[_val_metric_name]``
      (NaN per epoch when ``val_fraction`` is 0). None for the regressors (history_ holds
      the losses only); the classifiers record ``"val_accuracy"``.

    The training hyperparameters every subclass takes: ``lr`` (a number or a grid),
    ``weight_decay``, ``batch_size``, ``max_epochs``, ``max_steps``, ``min_steps``,
    ``patience``, ``patience_steps``, ``val_fraction``, ``device``, ``random_state`` (and
    ``ssm_lr`` where the network has SSM layers).
    """

    _val_metric = None        # the validation metric hook (class docstring); None: none
    _val_metric_name = None

    # -- fitting --------------------------------------------------------------------------

    def fit(self, X, y):
        """Train on sequences X (n, T, d) and outputs y (n, L) or (n,); return self."""
        result = self._fit_batch([self], [X], [y])[0]
        if isinstance(result, TrainingDiverged):
            raise result
        return self

    def _fit_replicates(self, Xs, ys, random_states) -> list:
        """Fitted clones, one per (X, y, random_state), trained as one batch; a replicate
        whose loss diverged gives its ``TrainingDiverged`` instead."""
        clones = [clone(self).set_params(random_state=seed) for seed in random_states]
        return self._fit_batch(clones, list(Xs), list(ys))

    def _fit_batch(self, estimators, Xs, ys) -> list:
        start = time.perf_counter()
        self._check_params()
        grid = self._lr_candidates()
        device = resolve_device(self.device)
        if not len(estimators) == len(Xs) == len(ys):
            raise ValueError(f"got {len(Xs)} X arrays and {len(ys)} y arrays for "
                             f"{len(estimators)} replicates")
        nets, parts, shuffle_seeds, shapes = [], [], [], None
        for r, (est, X, y) in enumerate(zip(estimators, Xs, ys)):
            X = est._check_inputs(X, reset=True)
            y, was_1d = est._check_targets(X, y)
            if shapes is None:
                shapes = (X.shape, y.shape)
                n_val = self._validation_size(X.shape[0])
            elif (X.shape, y.shape) != shapes:
                raise ValueError(f"replicates trained together need equal shapes: replicate "
                                 f"{r} has X {X.shape}, y {y.shape}, replicate 0 has X "
                                 f"{shapes[0]}, y {shapes[1]}")
            split_seed, init_seed, shuffle_seed = _seeds(est.random_state)
            order = np.random.default_rng(split_seed).permutation(X.shape[0])
            train, val = order[n_val:], order[:n_val]
            est._set_layout(X, y, was_1d)
            est._fit_targets(y[train])
            Y = est._encode_targets(y)
            parts.append((X[train], Y[train], X[val], Y[val]))
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(init_seed)
                nets.append(est._make_network(1))
            shuffle_seeds.append(shuffle_seed)
        data = [torch.as_tensor(np.stack(p)).to(device) for p in zip(*parts)]  # (R, n, ...)
        if n_val == 0:
            data[2:] = [None, None]

        # Every candidate (replicate r, learning rate) trains on r's split, from r's initial
        # weights, in r's mini-batch order, as one network replicate of a batched round. The
        # first round trains the grid; each later one the extensions some replicates need.
        tried = [[] for _ in estimators]  # per replicate: (lr, outcome, weights), in order
        pending = [(r, lr) for r in range(len(estimators)) for lr in grid]
        grid_start = time.perf_counter()
        while pending:
            reps = [r for r, _ in pending]
            index = torch.tensor(reps, device=device)
            network = stack_replicates([nets[r] for r in reps]).to(device)
            X_tr, Y_tr, X_va, Y_va = (None if d is None else d[index] for d in data)
            outcomes = train_replicates(network, self._loss, X_tr, Y_tr, X_va, Y_va,
                                        [shuffle_seeds[r] for r in reps],
                                        self._training_config(), metric_fn=self._val_metric,
                                        lrs=[lr for _, lr in pending], groups=reps,
                                        reference=[_lowest_curve(tried[r]) for r in reps])
            state = replicate_state(network)
            for k, ((r, lr), outcome) in enumerate(zip(pending, outcomes)):
                weights = {name: v[k:k + 1].clone() for name, v in state.items()}
                tried[r].append((lr, outcome, weights))
            pending = [(r, lr) for r in sorted(set(reps))
                       if (lr := _extension(tried[r], grid, self._lr_extend())) is not None]
            if pending and self._verbose():
                print(f"{type(self).__name__}: the best learning rate is at an edge of the "
                      f"grid; trying {sorted({lr for _, lr in pending})}", file=sys.stderr,
                      flush=True)
        selection = (time.perf_counter() - grid_start) / len(estimators) if len(grid) > 1 else 0.0
        seconds = (time.perf_counter() - start) / len(estimators)
        results = []
        for est, net, candidates in zip(estimators, nets, tried):
            units = est._loss_units()
            scores = {lr: (o.val_loss * units if o.diverged_epoch is None else math.inf)
                      for lr, o, _ in candidates}
            best = _best_candidate(candidates)
            lr, outcome, weights = candidates[best]
            rates = sorted(scores)
            at_edge = len(rates) > 1 and lr in (rates[0], rates[-1])
            results.append(est._finish(net, weights, outcome, seconds, device, lr, scores,
                                       selection, rates, at_edge))
        return results

    def _finish(self, network, state, outcome, seconds, device, lr, lr_scores, selection,
                lr_grid, lr_edge):
        """Set the fitted attributes from one replicate's outcome (trained at ``lr``, the
        scores of the final grid ``lr_scores``); self or the exception."""
        if outcome.diverged_epoch is not None:
            return TrainingDiverged(
                f"{type(self).__name__} diverged: the loss became NaN or inf at epoch "
                f"{outcome.diverged_epoch} (random_state={self.random_state!r}, lr={lr!r}); "
                f"try a lower lr or rescale the inputs", epoch=outcome.diverged_epoch,
                random_state=self.random_state)
        network = network.to(device)
        set_replicate_state(network, state)
        units = self._loss_units()
        self.network_ = network.eval()
        self.history_ = {"train_loss": [v * units for v in outcome.train_history],
                         "val_loss": [v * units for v in outcome.val_history]}
        if self._val_metric is not None:
            self.history_[self._val_metric_name] = list(outcome.val_metric_history)
        self.train_loss_ = outcome.train_loss * units
        self.val_loss_ = outcome.val_loss * units
        self.n_epochs_, self.best_epoch_ = outcome.n_epochs, outcome.best_epoch
        self.n_steps_ = outcome.n_steps
        self.stopped_by_ = outcome.stopped_by
        self.lr_decays_ = outcome.lr_decays
        self.lr_, self.lr_scores_, self.selection_seconds_ = lr, lr_scores, selection
        self.lr_grid_, self.lr_edge_ = list(lr_grid), bool(lr_edge)
        self.n_params_ = sum(p.numel() for p in network.parameters())
        self.fit_seconds_ = seconds
        self.device_ = str(device)
        return self

    def _lr_extend(self) -> int:
        """``lr_extend``; 0 for a subclass that does not declare it."""
        return getattr(self, "lr_extend", 0)

    def _lr_race(self) -> float | None:
        """``lr_race``; None (no race) for a subclass that does not declare it."""
        return getattr(self, "lr_race", None)

    def _lr_decay(self) -> float | None:
        """``lr_decay``; None (constant rates) for a subclass that does not declare it."""
        return getattr(self, "lr_decay", None)

    def _verbose(self) -> int:
        """``verbose``; 0 for a subclass that does not declare it."""
        return getattr(self, "verbose", 0)

    def _make_network(self, n_replicates: int) -> nn.Module:
        network = self._build_network(n_replicates)
        head = self._output_layer(n_replicates)
        return network if head is None else nn.Sequential(network, head)

    def _build_network(self, n_replicates: int) -> nn.Module:
        raise NotImplementedError

    def _set_layout(self, X, y, was_1d) -> None:
        self.seq_len_, self.n_scored_, self.output_1d_ = X.shape[1], y.shape[1], was_1d

    def _validation_size(self, n: int) -> int:
        if self.val_fraction == 0:
            return 0
        n_val = int(round(self.val_fraction * n))
        if n_val < 1 or n_val >= n:
            raise ValueError(f"n_samples={n} sequences are too few for val_fraction="
                             f"{self.val_fraction}: the training and the validation split "
                             f"each need at least one sequence")
        return n_val

    def _lr_candidates(self) -> list[float]:
        """The learning rates to train: [lr] for a number, the grid's values for a sequence
        (distinct positive numbers; chosen by validation loss, so val_fraction > 0)."""
        if isinstance(self.lr, numbers.Real) and not isinstance(self.lr, bool):
            _check_real("lr", self.lr, 0.0, low_ok=False)
            return [float(self.lr)]
        try:
            grid = list(self.lr)
        except TypeError:
            raise ValueError(f"lr must be a positive number or a sequence of them, "
                             f"got {self.lr!r}") from None
        if not grid:
            raise ValueError("lr is an empty sequence: give a learning rate or a grid of them")
        for value in grid:
            _check_real("lr", value, 0.0, low_ok=False)
        grid = [float(v) for v in grid]
        if len(set(grid)) < len(grid):
            raise ValueError(f"lr lists a learning rate twice: {self.lr!r}")
        if len(grid) > 1 and self.val_fraction == 0:
            raise ValueError(f"lr={self.lr!r} is a grid, chosen by validation loss: it needs "
                             f"val_fraction > 0")
        return grid

    def _check_params(self) -> None:
        _check_real("weight_decay", self.weight_decay, 0.0, low_ok=True)
        _check_real("val_fraction", self.val_fraction, 0.0, low_ok=True, high=1.0)
        for name in ("batch_size", "max_epochs", "patience"):
            _check_int(name, getattr(self, name))
        _check_int("max_steps", self.max_steps, none_ok=True)
        _check_int("min_steps", self.min_steps, low=0)
        _check_int("patience_steps", self.patience_steps, low=0)
        _check_int("lr_extend", self._lr_extend(), low=0)
        _check_real("lr_race", self._lr_race(), 0.0, low_ok=True, none_ok=True)
        _check_real("lr_decay", self._lr_decay(), 0.0, low_ok=False, high=1.0, none_ok=True)
        _check_int("verbose", self._verbose(), low=0)
        self._lr_candidates()
        if hasattr(self, "ssm_lr"):
            _check_real("ssm_lr", self.ssm_lr, 0.0, low_ok=False, none_ok=True)
        if hasattr(self, "bound"):
            _check_real("bound", self.bound, 0.0, low_ok=False, none_ok=True)

    def _training_config(self) -> TrainingConfig:
        return TrainingConfig(lr=self._lr_candidates()[0], weight_decay=self.weight_decay,
                              batch_size=self.batch_size, max_epochs=self.max_epochs,
                              patience=self.patience, patience_steps=self.patience_steps,
                              max_steps=self.max_steps, min_steps=self.min_steps,
                              ssm_lr=getattr(self, "ssm_lr", None), verbose=self._verbose(),
                              race_margin=self._lr_race(), lr_decay=self._lr_decay())

    # -- prediction -----------------------------------------------------------------------

    def predict(self, X):
        """Predictions for the last ``n_scored_`` positions of X, in y's layout."""
        check_is_fitted(self, "network_")
        X = self._check_inputs(X, reset=False)
        self._check_length(X.shape[1])
        return self._decode(self._scored_outputs(X))

    def _scored_outputs(self, X) -> torch.Tensor:
        """Network outputs at the scored positions, (n, n_scored_, n_outputs), on the CPU."""
        device = torch.device(self.device_)
        chunk = max(1, PREDICT_TOKENS // X.shape[1])
        parts = []
        with torch.no_grad():
            for start in range(0, X.shape[0], chunk):
                x = torch.as_tensor(X[start:start + chunk], device=device).unsqueeze(0)
                parts.append(self.network_(x)[0, :, -self.n_scored_:].cpu())
        return torch.cat(parts)

    def _check_length(self, length: int) -> None:
        if length < self.n_scored_:
            raise ValueError(f"X has {length} tokens per sequence but the estimator predicts "
                             f"the last {self.n_scored_} positions")


class NeuralRegressor(RegressorMixin, NeuralSequenceEstimator):
    """The regression pieces: float tokens, standardised targets, MSE, clipping at ``bound``."""

    def _check_inputs(self, X, reset: bool) -> np.ndarray:
        X = check_sequences(X).astype(np.float32)
        if reset:
            self.n_features_in_ = X.shape[2]
        elif X.shape[2] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[2]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input (features "
                             f"per token, X's last axis)")
        return X

    def _check_targets(self, X, y):
        return check_outputs(X, y)

    def _fit_targets(self, y_train) -> None:
        self.y_mean_ = float(y_train.mean())
        scale = float(y_train.std())
        self.y_scale_ = scale if scale > 0 else 1.0

    def _encode_targets(self, y) -> np.ndarray:
        return ((y - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _n_outputs(self) -> int:
        return 1

    def _build_network(self, n_replicates: int) -> nn.Module:
        return self._network(self.n_features_in_, self._n_outputs(), n_replicates)

    def _output_layer(self, n_replicates: int):
        if self.bound is None:
            return None
        return OutputClip(n_replicates, (-self.bound - self.y_mean_) / self.y_scale_,
                          (self.bound - self.y_mean_) / self.y_scale_)

    @staticmethod
    def _loss(outputs, targets):
        """Per-replicate MSE at the scored (last L) positions: (R,)."""
        scored = outputs[:, :, -targets.shape[-1]:, 0]
        return (scored - targets).square().mean(dim=(1, 2))

    def _loss_units(self) -> float:
        return self.y_scale_ ** 2

    def _decode(self, outputs) -> np.ndarray:
        pred = outputs[..., 0].double().numpy() * self.y_scale_ + self.y_mean_
        return pred[:, 0] if self.output_1d_ else pred

    def score(self, X, y, sample_weight=None) -> float:
        """R^2 over all scored outputs (every sequence and position pooled)."""
        pred = self.predict(X)
        y = np.asarray(y, dtype=np.float64).reshape(pred.shape)
        if sample_weight is not None and pred.ndim == 2:
            sample_weight = np.repeat(np.asarray(sample_weight, dtype=np.float64), pred.shape[1])
        return float(r2_score(y.ravel(), pred.ravel(), sample_weight=sample_weight))


class SSMRegressor(SSMArchitecture, NeuralRegressor):
    """The papers' SSM network (``networks.SSMNetwork``) as a scikit-learn regressor.

    Architecture: token embedding, FNN, ``n_layers`` x [S4D layer, FNN], linear readout at
    every position, output clipped at ``bound``. ``residual`` and ``norm`` (pre-LayerNorm)
    default to True for reliable training (``SSMNetwork`` explains). The S4D parameters A
    and dt train with ``ssm_lr`` and no weight decay; the others with ``lr`` and
    ``weight_decay`` (none on biases and gains).

    Parameters
    ----------
    width, n_layers, d_state, window, fnn_width, fnn_depth, residual, norm, dt_min, dt_max :
        Architecture (``SSMNetwork``, ``S4DLayer``). The step sizes start log-uniform in
        [dt_min, dt_max] = [1e-2, 1]: memories of about 1 to 100 tokens, the range of the
        short sequences studied here (S4D's 1e-3..1e-1 suits thousands of tokens).
    bound : float or None
        Predictions are clipped to [-bound, bound].
    lr : float or sequence of float
        AdamW's learning rate, or a grid of them chosen by validation loss (module
        docstring).
    ssm_lr, weight_decay, batch_size, max_epochs, max_steps, min_steps, patience,
    patience_steps, val_fraction :
        Training: AdamW, mini-batches of ``batch_size`` sequences, at most ``max_epochs``
        epochs and ``max_steps`` steps (None: no limit), early stopping once ``patience``
        epochs and ``patience_steps`` steps pass without a better validation loss on
        ``val_fraction`` of the training sequences (0: no validation, the last weights are
        kept); never fewer than ``min_steps`` steps.
    lr_extend : int, default 2
        Rates tried beyond each edge of an ``lr`` grid when the best is at that edge
        (module docstring); 0: the grid as given.
    lr_race : float or None, default None
        The candidates of an ``lr`` grid race (``training`` module docstring): one whose
        lowest validation loss trails the best of the others by more than this fraction,
        once it has trained ``patience`` epochs and ``patience_steps`` steps, stops
        training. None: every candidate trains until it stops early.
    lr_decay : float in (0, 1) or None, default None
        Each candidate's learning rates are multiplied by this factor whenever its
        validation loss has not improved for a third of the patience window
        (``training`` module docstring); the stopping rule is unchanged. None: constant
        rates.
    verbose : int, default 0
        k > 0: a line to stderr every k epochs (mean training and validation loss over the
        candidates still training, in standardised units; steps so far).
    device : "auto", "cpu", "cuda" or "cuda:K"
    random_state : int, RandomState or None
    """

    def __init__(self, width=32, n_layers=2, *, d_state=16, window=None, fnn_width=64,
                 fnn_depth=1, residual=True, norm=True, dt_min=1e-2, dt_max=1.0,
                 bound=None, lr=3e-3, ssm_lr=1e-3, weight_decay=0.01, batch_size=64,
                 max_epochs=1000, max_steps=None, min_steps=0, patience=20,
                 patience_steps=200, val_fraction=0.2, lr_extend=2, lr_race=None, lr_decay=None,
                 verbose=0, device="auto",
                 random_state=None):
        self.width = width
        self.n_layers = n_layers
        self.d_state = d_state
        self.window = window
        self.fnn_width = fnn_width
        self.fnn_depth = fnn_depth
        self.residual = residual
        self.norm = norm
        self.dt_min = dt_min
        self.dt_max = dt_max
        self.bound = bound
        self.lr = lr
        self.ssm_lr = ssm_lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.max_steps = max_steps
        self.min_steps = min_steps
        self.patience = patience
        self.patience_steps = patience_steps
        self.val_fraction = val_fraction
        self.lr_extend = lr_extend
        self.lr_race = lr_race
        self.lr_decay = lr_decay
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

class TransformerRegressor(TransformerArchitecture, NeuralRegressor):
    """A causal Transformer (``networks.TransformerNetwork``) as a scikit-learn regressor.

    Architecture: token embedding plus positional encoding, ``n_layers`` x [causal
    multi-head self-attention with window ``window``, FNN] with pre-LayerNorm residual
    blocks, linear readout at every position, output clipped at ``bound``.
    ``positional="sinusoidal"`` (default) gives fixed encodings whose differences encode
    relative offsets, which suits the shift-equivariant targets and any sequence length;
    "learned" learns one vector per position (up to the training length).

    Parameters
    ----------
    width, n_layers, n_heads, window, fnn_width, fnn_depth, positional :
        Architecture (``TransformerNetwork``).
    bound, lr, weight_decay, batch_size, max_epochs, max_steps, min_steps, patience,
    patience_steps, val_fraction, lr_extend, lr_race, lr_decay, verbose, device, random_state :
        As for ``SSMRegressor``.
    """

    def __init__(self, width=32, n_layers=2, *, n_heads=4, window=None, fnn_width=64,
                 fnn_depth=1, positional="sinusoidal", bound=None, lr=3e-3,
                 weight_decay=0.01, batch_size=64, max_epochs=1000, max_steps=None,
                 min_steps=0, patience=20, patience_steps=200, val_fraction=0.2,
                 lr_extend=2, lr_race=None, lr_decay=None, verbose=0, device="auto",
                 random_state=None):
        self.width = width
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.window = window
        self.fnn_width = fnn_width
        self.fnn_depth = fnn_depth
        self.positional = positional
        self.bound = bound
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.max_steps = max_steps
        self.min_steps = min_steps
        self.patience = patience
        self.patience_steps = patience_steps
        self.val_fraction = val_fraction
        self.lr_extend = lr_extend
        self.lr_race = lr_race
        self.lr_decay = lr_decay
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    def _check_length(self, length: int) -> None:
        super()._check_length(length)
        if self.positional == "learned" and length > self.seq_len_:
            raise ValueError(f"X has {length} tokens per sequence, more than the "
                             f"{self.seq_len_} learned positions (the training length)")


class WindowMLP(NeuralRegressor):
    """An MLP on the flattened window of the last ``window`` tokens (the static estimator).

    It sees the same positions whatever the input, so it cannot select tokens
    dynamically; trained by the same machinery as ``SSMRegressor``.

    Parameters
    ----------
    window : int or None, default None
        Tokens per window; None: all the history a scored position has, T - L + 1.
    width : int, default 64
        Hidden units per layer.
    depth : int, default 2
        Hidden layers.
    bound, lr, weight_decay, batch_size, max_epochs, max_steps, min_steps, patience,
    patience_steps, val_fraction, lr_extend, lr_race, lr_decay, verbose, device, random_state :
        As for ``SSMRegressor``.
    """

    def __init__(self, window=None, width=64, *, depth=2, bound=None, lr=3e-3,
                 weight_decay=0.01, batch_size=64, max_epochs=1000, max_steps=None,
                 min_steps=0, patience=20, patience_steps=200, val_fraction=0.2,
                 lr_extend=2, lr_race=None, lr_decay=None, verbose=0, device="auto",
                 random_state=None):
        self.window = window
        self.width = width
        self.depth = depth
        self.bound = bound
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.max_steps = max_steps
        self.min_steps = min_steps
        self.patience = patience
        self.patience_steps = patience_steps
        self.val_fraction = val_fraction
        self.lr_extend = lr_extend
        self.lr_race = lr_race
        self.lr_decay = lr_decay
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    def _set_layout(self, X, y, was_1d) -> None:
        super()._set_layout(X, y, was_1d)
        self.window_ = resolve_window(self.window, X.shape[1], y.shape[1])

    def _build_network(self, n_replicates):
        return WindowMLPNetwork(self.n_features_in_, self.window_, self._n_outputs(),
                                width=self.width, depth=self.depth, n_replicates=n_replicates)

    def _check_length(self, length: int) -> None:
        super()._check_length(length)
        if length - self.n_scored_ + 1 < self.window_:
            raise ValueError(f"X has {length} tokens per sequence: too few for windows of "
                             f"{self.window_} tokens at the last {self.n_scored_} positions")
