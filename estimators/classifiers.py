"""Token classifiers: the SSM, Transformer and selective-SSM networks on token-id sequences.

The classification counterparts of ``neural``'s regressors, for the token-selection tasks
(docs/theory.md section 7). Shapes (the ``TokenBatch`` layout of ``nprates.tasks``):

- ``X`` (n, T) integer token ids in [0, n_tokens).
- ``y`` (n, T) integer class ids in [0, n_classes) at the scored positions and
  ``IGNORE_INDEX`` (-100) everywhere else; ``fit(batch.tokens, batch.targets)``.
- ``predict(X)`` (n, T) int64: the arg-max class at every position (never -100);
  ``predict_proba(X)`` (n, T, n_classes) float64; ``score(X, y)`` the token accuracy,
  the fraction of the scored positions predicted right (pooled over sequences).

The prediction at position t depends on tokens 0..t only. Prediction takes sequences of
the training length T: the classes are read at the positions of that layout.

Architecture: a learned embedding table of the token ids (``token_embedding``) replaces
the linear embedding of the regressors; the rest is the regressors' network with
``n_classes`` outputs per position (the logits). ``SSMClassifier(n_layers=1,
fnn_depth=k)`` is "1-layer SSM + FNN(k)" of the papers' Figure C.1.

Training reuses the regressors' machinery (``neural.NeuralSequenceEstimator``): AdamW,
mini-batches of sequences, replicate batching (``replicates.fit_replicates``), early
stopping on the held-out ``val_fraction`` of the training sequences, seeding. The loss is
the cross-entropy (nats) averaged over the scored positions of a batch; ``train_loss_``
and ``val_loss_`` hold it (``val_loss_`` at the restored epoch), and ``history_`` holds per epoch ``"train_loss"``,
``"val_loss"`` and ``"val_accuracy"``: the token accuracy (``score``'s definition) of the
network of that epoch on the held-out sequences, computed in the validation-loss pass (NaN
when ``val_fraction`` is 0), to follow how selection is learnt (a plateau, then a jump)
without refitting. At ``best_epoch_`` it is the restored model's accuracy on those
sequences.

Early stopping (``stop_on``): on the validation accuracy by default, the quantity a
capability study compares: the restored weights are those of the first epoch with the
highest held-out accuracy, and training stops after ``patience`` epochs without a higher
one (never before ``min_steps`` steps; at the latest at the ``max_epochs`` / ``max_steps``
cap). ``stop_on="loss"`` stops on the validation cross-entropy instead, as the regressors
do on their MSE. ``train_accuracy_`` is the restored network's token accuracy on the
training split (the sequences it took gradient steps on, not the held-out ones), the
measure of whether it fitted its training data. (Evaluation passes average per-chunk losses and accuracies weighted by
sequences, so the recorded values are the exact pooled cross-entropy and accuracy when
every sequence has the same number of scored positions, as in both tasks.)
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from .architectures import SelectiveSSMArchitecture, SSMArchitecture, TransformerArchitecture
from .neural import NeuralSequenceEstimator, _check_int
from .token_embedding import ReplicatedEmbedding

# The ignore value of the targets: torch's cross-entropy default, and nprates.tasks'.
IGNORE_INDEX = -100


def _integer_array(values, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer ids, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def check_tokens(X) -> np.ndarray:
    """Return token ids ``X`` as an int64 array (n, T) of non-negative ids, or raise."""
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"X must have shape (n, T) of token ids (2 dimensions), got "
                         f"ndim={arr.ndim} with shape {arr.shape}")
    if min(arr.shape) < 1:
        raise ValueError(f"X is empty: shape {arr.shape}")
    arr = _integer_array(arr, "X")
    if arr.min() < 0:
        raise ValueError(f"X holds a negative token id ({arr.min()}); ids lie in [0, n_tokens)")
    return arr


def check_token_targets(X: np.ndarray, y, n_classes: int) -> np.ndarray:
    """Return targets ``y`` as int64 (n, T) aligned with checked ``X``, or raise.

    Scored entries must lie in [0, n_classes); the others hold ``IGNORE_INDEX``; at least
    one entry must be scored.
    """
    arr = np.asarray(y)
    if arr.shape != X.shape:
        raise ValueError(f"y must have the shape of X, (n, T) = {X.shape}, with "
                         f"{IGNORE_INDEX} at unscored positions; got shape {arr.shape}")
    arr = _integer_array(arr, "y")
    scored = arr[arr != IGNORE_INDEX]
    if scored.size == 0:
        raise ValueError(f"y has no scored position: every target is the ignore value "
                         f"{IGNORE_INDEX}")
    if scored.min() < 0 or scored.max() >= n_classes:
        raise ValueError(f"y holds class ids from {scored.min()} to {scored.max()}, outside "
                         f"[0, n_classes={n_classes}) (unscored positions hold {IGNORE_INDEX}; "
                         f"set n_classes for more classes)")
    return arr


def _scored_mean(values, targets):
    """Per-replicate mean of ``values`` (R, B, T), zero at unscored positions, over the
    positions where ``targets`` is not ``IGNORE_INDEX``: (R,) (0 without a scored one)."""
    R = targets.shape[0]
    counts = (targets != IGNORE_INDEX).view(R, -1).sum(dim=1).clamp(min=1)
    return values.reshape(R, -1).sum(dim=1) / counts


class TokenClassifier(ClassifierMixin, NeuralSequenceEstimator):
    """The classification pieces of ``NeuralSequenceEstimator`` (module docstring).

    Subclasses list their hyperparameters in ``__init__``, among them ``n_tokens`` (int or
    None: max id in the training X + 1), ``n_classes`` (int or None: ``n_tokens_``, the
    targets being token ids as in the token tasks) and ``width``, and take their network
    from an ``architectures`` mixin, which ``_build_network`` gives a token embedding table
    of ``width`` and ``n_classes_`` outputs.

    Every subclass also takes ``stop_on`` ("accuracy" or "loss": the validation quantity
    of early stopping, module docstring).

    Fitted attributes besides the base class's: ``n_features_in_`` (T, the columns of the
    2-D X, scikit-learn's meaning), ``n_tokens_``, ``n_classes_``, ``classes_``
    (``arange(n_classes_)``), ``train_accuracy_`` (token accuracy of the restored network
    on the training split); ``history_`` has ``"val_accuracy"`` besides the losses (module
    docstring).
    """

    _val_metric_name = "val_accuracy"
    STOP_ON = ("accuracy", "loss")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array, tags.input_tags.three_d_array = True, False  # (n, T) ids
        return tags

    def _check_params(self) -> None:
        super()._check_params()
        _check_int("n_tokens", self.n_tokens, none_ok=True)
        _check_int("n_classes", self.n_classes, low=2, none_ok=True)
        if self.stop_on not in self.STOP_ON:
            raise ValueError(f"stop_on must be one of {list(self.STOP_ON)}, got "
                             f"{self.stop_on!r}")

    def _training_config(self):
        config = super()._training_config()
        return replace(config, stop_on_metric=self.stop_on == "accuracy" and self.val_fraction > 0)

    def _finish(self, network, state, outcome, *args):
        result = super()._finish(network, state, outcome, *args)
        if result is self:
            self.train_accuracy_ = outcome.train_metric
        return result

    def _fit_replicates(self, Xs, ys, random_states) -> list:
        Xs = list(Xs)
        if self.n_tokens is None:
            inferred = [int(check_tokens(X).max()) + 1 for X in Xs]
            if len(set(inferred)) > 1:
                raise ValueError(f"n_tokens=None takes each replicate's vocabulary from its X, "
                                 f"and the replicates disagree ({inferred}); set n_tokens to "
                                 f"train them together")
        return super()._fit_replicates(Xs, ys, random_states)

    def _check_inputs(self, X, reset: bool) -> np.ndarray:
        X = check_tokens(X)
        if reset:
            self.n_tokens_ = int(X.max()) + 1 if self.n_tokens is None else self.n_tokens
            self.n_features_in_ = X.shape[1]  # token positions: predict takes this length
        if X.max() >= self.n_tokens_:
            raise ValueError(f"X holds token id {X.max()}, outside [0, n_tokens={self.n_tokens_})")
        return X

    def _check_targets(self, X, y):
        self.n_classes_ = self.n_tokens_ if self.n_classes is None else self.n_classes
        self.classes_ = np.arange(self.n_classes_)
        return check_token_targets(X, y, self.n_classes_), False

    def _fit_targets(self, y_train) -> None:
        if np.all(y_train == IGNORE_INDEX):
            raise ValueError(f"y has no scored position in the training split (the "
                             f"sequences left after holding out val_fraction={self.val_fraction})")

    def _encode_targets(self, y) -> np.ndarray:
        return y

    def _n_outputs(self) -> int:
        return self.n_classes_

    def _output_layer(self, n_replicates: int):
        return None

    def _build_network(self, n_replicates: int):
        return self._network(self.n_tokens_, self._n_outputs(), n_replicates,
                             embed=ReplicatedEmbedding(self.n_tokens_, self.width, n_replicates))

    @staticmethod
    def _loss(outputs, targets):
        """Per-replicate cross-entropy averaged over the scored positions: (R,).

        outputs (R, B, T, n_classes) logits; targets (R, B, T) with ``IGNORE_INDEX``.
        """
        n_classes = outputs.shape[-1]
        losses = F.cross_entropy(outputs.reshape(-1, n_classes), targets.reshape(-1),
                                 ignore_index=IGNORE_INDEX, reduction="none")
        return _scored_mean(losses.view(targets.shape), targets)

    @staticmethod
    def _val_metric(outputs, targets):
        """Per-replicate token accuracy: the fraction of the scored positions whose arg-max
        class is the target, (R,) float (0 for a replicate without a scored position).

        outputs (R, B, T, n_classes) logits; targets (R, B, T) with ``IGNORE_INDEX``.
        """
        return _scored_mean(outputs.argmax(dim=-1) == targets, targets)  # never at IGNORE_INDEX

    def _loss_units(self) -> float:
        return 1.0

    def _decode(self, outputs) -> np.ndarray:
        return outputs.argmax(dim=-1).numpy()

    def _check_length(self, length: int) -> None:
        if length != self.seq_len_:
            raise ValueError(f"X has {length} tokens per sequence, but the classifier was "
                             f"fitted on sequences of {self.seq_len_} tokens")

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities at every position: (n, T, n_classes_) float64."""
        check_is_fitted(self, "network_")
        X = self._check_inputs(X, reset=False)
        self._check_length(X.shape[1])
        return torch.softmax(self._scored_outputs(X).double(), dim=-1).numpy()

    def score(self, X, y, sample_weight=None) -> float:
        """Token accuracy: the fraction of the scored positions of y predicted right.

        ``sample_weight`` (n,) weights every scored position of a sequence alike.
        """
        pred = self.predict(X)
        y = check_token_targets(pred, y, self.n_classes_)
        scored = y != IGNORE_INDEX
        weights = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        if weights.shape != (len(y),):
            raise ValueError(f"sample_weight must have shape (n,) = ({len(y)},), got "
                             f"{weights.shape}")
        weights = np.broadcast_to(weights[:, None], y.shape)[scored]
        return float(np.average(pred[scored] == y[scored], weights=weights))


class SSMClassifier(SSMArchitecture, TokenClassifier):
    """The papers' SSM network (``networks.SSMNetwork``) as a token classifier.

    Architecture: token embedding table, FNN, ``n_layers`` x [S4D layer, FNN], linear
    readout of ``n_classes`` logits at every position. "1-layer SSM + FNN(k)" is
    ``SSMClassifier(n_layers=1, fnn_depth=k)``, "2-layer SSM + FNN(k)" ``n_layers=2``.

    Parameters
    ----------
    n_tokens : int or None, default None
        Vocabulary size: token ids lie in [0, n_tokens). None: the largest id of the
        training X plus one.
    n_classes : int or None, default None
        Number of classes: targets lie in [0, n_classes). None: ``n_tokens_`` (the tasks'
        targets are token ids).
    width, n_layers, d_state, window, fnn_width, fnn_depth, residual, norm, dt_min, dt_max :
        Architecture, as for ``neural.SSMRegressor``.
    lr, ssm_lr, weight_decay, batch_size, max_epochs, max_steps, min_steps, patience,
    patience_steps, val_fraction, lr_extend, lr_race, lr_decay, verbose, device, random_state :
        Training, as for ``neural.SSMRegressor``.
    stop_on : "accuracy" (default) or "loss"
        Early stopping on the validation token accuracy or cross-entropy (module
        docstring).
    """

    def __init__(self, n_tokens=None, n_classes=None, *, width=32, n_layers=2, d_state=16,
                 window=None, fnn_width=64, fnn_depth=1, residual=True, norm=True,
                 dt_min=1e-2, dt_max=1.0, lr=3e-3, ssm_lr=1e-3, weight_decay=0.01,
                 batch_size=64, max_epochs=1000, max_steps=None, min_steps=0, patience=20,
                 patience_steps=200, val_fraction=0.2, lr_extend=2, lr_race=None, lr_decay=None,
                 verbose=0, device="auto",
                 random_state=None,
                 stop_on="accuracy"):
        self.n_tokens = n_tokens
        self.n_classes = n_classes
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
        self.stop_on = stop_on


class TransformerClassifier(TransformerArchitecture, TokenClassifier):
    """A causal Transformer (``networks.TransformerNetwork``) as a token classifier.

    Architecture: token embedding table plus positional encoding, ``n_layers`` x [causal
    multi-head self-attention, FNN] (pre-LayerNorm residual blocks), linear readout of
    ``n_classes`` logits at every position.

    Parameters
    ----------
    n_tokens, n_classes :
        As for ``SSMClassifier``.
    width, n_layers, n_heads, window, fnn_width, fnn_depth, positional :
        Architecture, as for ``neural.TransformerRegressor``.
    lr, weight_decay, batch_size, max_epochs, max_steps, min_steps, patience,
    patience_steps, val_fraction, lr_extend, lr_race, lr_decay,
    verbose, device, random_state, stop_on :
        Training, as for ``SSMClassifier``.
    """

    def __init__(self, n_tokens=None, n_classes=None, *, width=32, n_layers=2, n_heads=4,
                 window=None, fnn_width=64, fnn_depth=1, positional="sinusoidal", lr=3e-3,
                 weight_decay=0.01, batch_size=64, max_epochs=1000, max_steps=None,
                 min_steps=0, patience=20, patience_steps=200, val_fraction=0.2,
                 lr_extend=2, lr_race=None, lr_decay=None, verbose=0, device="auto",
                 random_state=None,
                 stop_on="accuracy"):
        self.n_tokens = n_tokens
        self.n_classes = n_classes
        self.width = width
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.window = window
        self.fnn_width = fnn_width
        self.fnn_depth = fnn_depth
        self.positional = positional
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
        self.stop_on = stop_on


class SelectiveSSMClassifier(SelectiveSSMArchitecture, TokenClassifier):
    """The SSM network with Mamba-style selective layers (``selective_network``) as a
    token classifier.

    Architecture: token embedding table, FNN, ``n_layers`` x [selective SSM layer, FNN],
    linear readout of ``n_classes`` logits at every position. dt, B and C of each layer
    depend on its input token (``selective_ssm_layer``).

    Parameters
    ----------
    n_tokens, n_classes :
        As for ``SSMClassifier``.
    width, n_layers, d_state, dt_rank, fnn_width, fnn_depth, residual, norm, dt_min,
    dt_max, scan, chunk_size :
        Architecture, as for ``selective_estimator.SelectiveSSMRegressor``.
    lr, weight_decay, batch_size, max_epochs, max_steps, min_steps, patience,
    patience_steps, val_fraction, lr_extend, lr_race, lr_decay,
    verbose, device, random_state, stop_on :
        Training, as for ``SSMClassifier``; every parameter trains with ``lr`` (as in
        Mamba), A and D without weight decay.
    """

    def __init__(self, n_tokens=None, n_classes=None, *, width=32, n_layers=2, d_state=16,
                 dt_rank="auto", fnn_width=64, fnn_depth=1, residual=True, norm=True,
                 dt_min=1e-2, dt_max=1.0, scan="sequential", chunk_size=16, lr=3e-3,
                 weight_decay=0.01, batch_size=64, max_epochs=1000, max_steps=None,
                 min_steps=0, patience=20, patience_steps=200, val_fraction=0.2,
                 lr_extend=2, lr_race=None, lr_decay=None, verbose=0, device="auto",
                 random_state=None,
                 stop_on="accuracy"):
        self.n_tokens = n_tokens
        self.n_classes = n_classes
        self.width = width
        self.n_layers = n_layers
        self.d_state = d_state
        self.dt_rank = dt_rank
        self.fnn_width = fnn_width
        self.fnn_depth = fnn_depth
        self.residual = residual
        self.norm = norm
        self.dt_min = dt_min
        self.dt_max = dt_max
        self.scan = scan
        self.chunk_size = chunk_size
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
        self.stop_on = stop_on
