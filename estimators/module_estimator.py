"""Bring your own network: any torch module trained under the protocol of the built-in ones.

``ModuleRegressor(factory)`` trains ``factory(n_inputs, n_outputs, **factory_kwargs)``, an
ordinary ``torch.nn.Module`` mapping (batch, T, n_inputs) to (batch, T, n_outputs) whose
output at t depends on tokens up to t, exactly as ``neural.SSMRegressor`` trains its
network: standardised targets, MSE at the scored positions, AdamW, early stopping on the
held-out validation sequences with the best weights restored, learning-rate grids chosen
by validation loss, clipping at ``bound``, the fitted attributes (``stopped_by_``,
``train_loss_``, ``lr_``, ...) and the three seeds derived from ``random_state``.

Replicates (``replicates.fit_replicates``) of the user's module are batched like the
built-in networks' with ``ReplicatedModule``: the R copies' parameters are stacked
(``torch.func.stack_module_state``) and one ``torch.func.functional_call`` is mapped over
them with ``torch.func.vmap``, giving what R separate fits give. A module that vmap cannot
trace (data-dependent Python control flow, ``.item()``, some in-place operations) is run
one replicate at a time instead, with one warning saying so; the results are the same.

In a study file the factory is an import path, ``factory = "mypackage.nets:make_gru"``,
resolved when the study is built under its trust settings (``nprates.studies``); sizes
that grow with n go through ``width`` (which takes a capacity rule and is passed to the
factory as its ``width`` keyword), fixed options through ``factory_kwargs``.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from .layers import Replicated
from .neural import NeuralRegressor, _check_int


class ReplicatedModule(Replicated):
    """``layers.Replicated`` that falls back to a loop over replicates where vmap fails.

    (R, N, ...) -> (R, N, ...): replicate r runs copy r of ``make()``. The first forward
    pass tries ``torch.func.vmap``; if tracing raises, this and every later pass loop over
    the replicates (``vmap=False`` asks for the loop from the start).
    """

    def __init__(self, make, n_replicates: int = 1, vmap: bool = True):
        super().__init__(make, n_replicates)
        self.vmap = vmap

    def forward(self, x):
        if self.vmap:
            try:
                return super().forward(x)
            except (RuntimeError, NotImplementedError, ValueError) as exc:
                self.vmap = False
                warnings.warn(f"torch.func.vmap cannot trace {type(self._template).__name__} "
                              f"({type(exc).__name__}: {str(exc).splitlines()[0]}); its "
                              f"replicates run one at a time", RuntimeWarning, stacklevel=2)
        template = self._template.train(self.training)
        outputs = []
        for r in range(x.shape[0]):
            tensors = {name: getattr(self, key)[r] for name, key in self._keys.items()}
            outputs.append(torch.func.functional_call(template, tensors, (x[r],)))
        return torch.stack(outputs)


class ModuleRegressor(NeuralRegressor):
    """A user-defined torch module as a scikit-learn regressor (module docstring).

    Parameters
    ----------
    factory : callable
        ``factory(n_inputs, n_outputs, **kwargs)`` returns a ``torch.nn.Module`` mapping
        (batch, T, n_inputs) to (batch, T, n_outputs), causal; called once per replicate
        under the replicate's initialisation seed.
    width : int or None, default None
        Passed to the factory as ``width=`` when given (the size a capacity rule sets).
    factory_kwargs : dict or None
        Further keyword arguments of the factory.
    vmap : bool, default True
        Batch the replicates with ``torch.func.vmap``; False runs them one at a time
        (same results).
    bound, lr, weight_decay, batch_size, max_epochs, max_steps, min_steps, patience,
    patience_steps, val_fraction, lr_extend, lr_race, lr_decay, verbose, device, random_state :
        As for ``SSMRegressor``. Every parameter trains with ``lr``; parameters the module
        tags ``_no_weight_decay = True`` (Mamba's convention) and vectors get no weight
        decay.
    """

    def __init__(self, factory=None, width=None, *, factory_kwargs=None, vmap=True, bound=None,
                 lr=3e-3, weight_decay=0.01, batch_size=64, max_epochs=1000, max_steps=None,
                 min_steps=0, patience=20, patience_steps=200, val_fraction=0.2, lr_extend=2,
                 lr_race=None, lr_decay=None,
                 verbose=0, device="auto", random_state=None):
        self.factory = factory
        self.width = width
        self.factory_kwargs = factory_kwargs
        self.vmap = vmap
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

    #: Parameters a study file gives as import paths (resolved when the study is built).
    import_path_params = ("factory",)

    def _check_params(self) -> None:
        super()._check_params()
        if isinstance(self.factory, str):
            raise ValueError(f"factory is the string {self.factory!r}: pass the callable (a "
                             f"study file resolves import paths when the study is built)")
        if not callable(self.factory):
            raise ValueError(f"factory must be a callable (n_inputs, n_outputs, **kwargs) -> "
                             f"torch.nn.Module, got {self.factory!r}")
        _check_int("width", self.width, none_ok=True)
        if self.factory_kwargs is not None and not isinstance(self.factory_kwargs, dict):
            raise ValueError(f"factory_kwargs must be a dict or None, got {self.factory_kwargs!r}")
        if "width" in (self.factory_kwargs or {}) and self.width is not None:
            raise ValueError("width is given twice: as width and in factory_kwargs")

    def _build_network(self, n_replicates: int) -> nn.Module:
        kwargs = dict(self.factory_kwargs or {})
        if self.width is not None:
            kwargs["width"] = self.width
        n_in, n_out = self.n_features_in_, self._n_outputs()

        def make():
            module = self.factory(n_in, n_out, **kwargs)
            if not isinstance(module, nn.Module):
                raise ValueError(f"factory returned {type(module).__name__}, not a "
                                 f"torch.nn.Module")
            return module

        network = ReplicatedModule(make, n_replicates, vmap=self.vmap)
        with torch.no_grad():
            shape = tuple(network(torch.zeros(n_replicates, 2, self.seq_len_, n_in)).shape)
        if shape != (n_replicates, 2, self.seq_len_, n_out):
            raise ValueError(f"factory's module maps (batch, T, n_inputs) = (2, {self.seq_len_}, "
                             f"{n_in}) to {shape[1:]}; expected (2, {self.seq_len_}, {n_out})")
        return network
