"""The selective SSM network (``selective_network``) as a scikit-learn regressor.

Same contract as ``neural.SSMRegressor``: X (n, T, d) floats; y (n, L), the outputs at the
last L positions, or (n,), the last position; standardised targets, MSE, early stopping,
clipping at ``bound``, replicate batching (``replicates.fit_replicates``).
"""

from __future__ import annotations

from .architectures import SelectiveSSMArchitecture
from .neural import NeuralRegressor


class SelectiveSSMRegressor(SelectiveSSMArchitecture, NeuralRegressor):
    """The SSM network with Mamba-style selective layers as a scikit-learn regressor.

    Architecture: token embedding, FNN, ``n_layers`` x [selective SSM layer, FNN], linear
    readout at every position, output clipped at ``bound``. Unlike ``SSMRegressor``'s LTI
    layer, the step size dt and the matrices B and C depend on the input token
    (``selective_ssm_layer``). Every parameter trains with ``lr`` (as in Mamba); A and D
    and the biases and norms without weight decay.

    Parameters
    ----------
    width, n_layers, fnn_width, fnn_depth, residual, norm :
        As for ``SSMRegressor``.
    d_state : int, default 16
        State size per channel.
    dt_rank : int or "auto", default "auto"
        Rank of the projection that computes dt; "auto" is ceil(width / 16).
    dt_min, dt_max : float, default 1e-2, 1.0
        Range of the initial step sizes (``selective_network.SelectiveSSMNetwork``).
    scan : "sequential" (default) or "chunked"
        The scan computing the recurrence; both give the same predictions up to float
        rounding. On a CPU the sequential loop is 2-5x faster at 16-256 tokens.
    chunk_size : int, default 16
        Chunk length of the chunked scan.
    bound, lr, weight_decay, batch_size, max_epochs, max_steps, min_steps, patience,
    patience_steps, val_fraction, lr_extend, lr_race, lr_decay, verbose, device, random_state :
        As for ``SSMRegressor``.
    """

    def __init__(self, width=32, n_layers=2, *, d_state=16, dt_rank="auto", fnn_width=64,
                 fnn_depth=1, residual=True, norm=True, dt_min=1e-2, dt_max=1.0,
                 scan="sequential", chunk_size=16, bound=None, lr=3e-3, weight_decay=0.01,
                 batch_size=64, max_epochs=1000, max_steps=None, min_steps=0, patience=20,
                 patience_steps=200, val_fraction=0.2, lr_extend=2, lr_race=None, lr_decay=None,
                 verbose=0, device="auto",
                 random_state=None):
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
