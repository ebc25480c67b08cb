"""The mixer families (``mixer_network``) as a scikit-learn regressor and a token classifier.

``MixerRegressor`` has the contract of ``neural.SSMRegressor`` (X (n, T, d) floats, y (n, L)
or (n,), standardised targets, MSE, early stopping, learning-rate grids, clipping at
``bound``, replicate batching); ``MixerClassifier`` that of ``classifiers.SSMClassifier``
(token ids, cross-entropy, early stopping on the validation accuracy). One class per task
with the family as a hyperparameter, so a study or a grid search compares families by
changing one value: ``MixerRegressor(mixer="lru")``.
"""

from __future__ import annotations

from .architectures import MixerArchitecture
from .classifiers import TokenClassifier
from .neural import NeuralRegressor


class MixerRegressor(MixerArchitecture, NeuralRegressor):
    """Embedding, FNN, ``n_layers`` x [mixer, FNN], linear readout, as a regressor.

    Parameters
    ----------
    mixer : "ssd" (default), "lru", "gla", "retnet" or "hyena"
        The sequence mixer of every block (``mixer_network``).
    width, n_layers, fnn_width, fnn_depth, residual, norm :
        As for ``SSMRegressor``.
    d_state : int, default 16
        State size: per head for "ssd", complex modes for "lru".
    n_heads : int, default 4
        Heads of "ssd", "gla" and "retnet" (they divide ``width``).
    chunk_size : int, default 16
        Chunk length of the chunked forms of "ssd", "gla" and "retnet".
    filter_width : int, default 32
        Hidden units of the implicit-filter FFN of "hyena".
    bound, lr, weight_decay, batch_size, max_epochs, max_steps, min_steps, patience,
    patience_steps, val_fraction, lr_extend, lr_race, lr_decay, verbose, device, random_state :
        As for ``SSMRegressor``.
    ssm_lr : float, default 1e-3
        Learning rate of the LRU's eigenvalue parameters (nu_log, theta_log); the other
        families have no such group and ignore it.
    """

    def __init__(self, mixer="ssd", width=32, n_layers=2, *, d_state=16, n_heads=4,
                 chunk_size=16, filter_width=32, fnn_width=64, fnn_depth=1, residual=True,
                 norm=True, bound=None, lr=3e-3, ssm_lr=1e-3, weight_decay=0.01,
                 batch_size=64, max_epochs=1000, max_steps=None, min_steps=0, patience=20,
                 patience_steps=200, val_fraction=0.2, lr_extend=2, lr_race=None, lr_decay=None,
                 verbose=0, device="auto",
                 random_state=None):
        self.mixer = mixer
        self.width = width
        self.n_layers = n_layers
        self.d_state = d_state
        self.n_heads = n_heads
        self.chunk_size = chunk_size
        self.filter_width = filter_width
        self.fnn_width = fnn_width
        self.fnn_depth = fnn_depth
        self.residual = residual
        self.norm = norm
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


class MixerClassifier(MixerArchitecture, TokenClassifier):
    """Token embedding table, FNN, ``n_layers`` x [mixer, FNN], ``n_classes`` logits per
    position, as a token classifier.

    Parameters
    ----------
    n_tokens, n_classes, stop_on :
        As for ``SSMClassifier``.
    mixer, width, n_layers, d_state, n_heads, chunk_size, filter_width, fnn_width,
    fnn_depth, residual, norm :
        Architecture, as for ``MixerRegressor``.
    lr, ssm_lr, weight_decay, batch_size, max_epochs, max_steps, min_steps, patience,
    patience_steps, val_fraction, lr_extend, lr_race, lr_decay, verbose, device, random_state :
        Training, as for ``MixerRegressor``.
    """

    def __init__(self, n_tokens=None, n_classes=None, *, mixer="ssd", width=32, n_layers=2,
                 d_state=16, n_heads=4, chunk_size=16, filter_width=32, fnn_width=64,
                 fnn_depth=1, residual=True, norm=True, lr=3e-3, ssm_lr=1e-3,
                 weight_decay=0.01, batch_size=64, max_epochs=1000, max_steps=None,
                 min_steps=0, patience=20, patience_steps=200, val_fraction=0.2, lr_extend=2,
                 lr_race=None, lr_decay=None,
                 verbose=0, device="auto", random_state=None, stop_on="accuracy"):
        self.n_tokens = n_tokens
        self.n_classes = n_classes
        self.mixer = mixer
        self.width = width
        self.n_layers = n_layers
        self.d_state = d_state
        self.n_heads = n_heads
        self.chunk_size = chunk_size
        self.filter_width = filter_width
        self.fnn_width = fnn_width
        self.fnn_depth = fnn_depth
        self.residual = residual
        self.norm = norm
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
