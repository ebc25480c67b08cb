"""How an estimator's architecture hyperparameters become a network, once per kind.

A regressor (``neural``, ``selective_estimator``) and a token classifier
(``classifiers``) of the same kind build the same network from the same hyperparameters;
they differ only in the inputs (float features, or token ids through an ``embed`` table)
and the outputs (one value, or ``n_classes`` logits per position). Each mixin here holds
the mapping for one kind in ``_network(n_inputs, n_outputs, n_replicates, embed)``; the
task bases (``neural.NeuralRegressor``, ``classifiers.TokenClassifier``) call it from
``_build_network`` with their inputs and outputs.
"""

from __future__ import annotations

from torch import nn

from .mixer_network import MixerNetwork
from .networks import SSMNetwork, TransformerNetwork
from .selective_network import SelectiveSSMNetwork


class SSMArchitecture:
    """``networks.SSMNetwork`` from width, n_layers, d_state, window, fnn_width, fnn_depth,
    residual, norm, dt_min and dt_max."""

    def _network(self, n_inputs: int, n_outputs: int, n_replicates: int,
                 embed: nn.Module | None = None) -> nn.Module:
        return SSMNetwork(n_inputs, n_outputs, width=self.width, n_layers=self.n_layers,
                          d_state=self.d_state, window=self.window, fnn_width=self.fnn_width,
                          fnn_depth=self.fnn_depth, residual=self.residual, norm=self.norm,
                          dt_min=self.dt_min, dt_max=self.dt_max, n_replicates=n_replicates,
                          embed=embed)


class TransformerArchitecture:
    """``networks.TransformerNetwork`` from width, n_layers, n_heads, window, fnn_width,
    fnn_depth and positional; learned positions cover the training length."""

    def _network(self, n_inputs: int, n_outputs: int, n_replicates: int,
                 embed: nn.Module | None = None) -> nn.Module:
        return TransformerNetwork(n_inputs, n_outputs, width=self.width,
                                  n_layers=self.n_layers, n_heads=self.n_heads,
                                  window=self.window, fnn_width=self.fnn_width,
                                  fnn_depth=self.fnn_depth, positional=self.positional,
                                  max_len=self.seq_len_, n_replicates=n_replicates, embed=embed)


class SelectiveSSMArchitecture:
    """``selective_network.SelectiveSSMNetwork`` from width, n_layers, d_state, dt_rank,
    fnn_width, fnn_depth, residual, norm, dt_min, dt_max, scan and chunk_size."""

    def _network(self, n_inputs: int, n_outputs: int, n_replicates: int,
                 embed: nn.Module | None = None) -> nn.Module:
        return SelectiveSSMNetwork(n_inputs, n_outputs, width=self.width,
                                   n_layers=self.n_layers, d_state=self.d_state,
                                   dt_rank=self.dt_rank, fnn_width=self.fnn_width,
                                   fnn_depth=self.fnn_depth, residual=self.residual,
                                   norm=self.norm, dt_min=self.dt_min, dt_max=self.dt_max,
                                   scan=self.scan, chunk_size=self.chunk_size,
                                   n_replicates=n_replicates, embed=embed)


class MixerArchitecture:
    """``mixer_network.MixerNetwork`` from mixer, width, n_layers, d_state, n_heads,
    chunk_size, filter_width, fnn_width, fnn_depth, residual and norm."""

    def _network(self, n_inputs: int, n_outputs: int, n_replicates: int,
                 embed: nn.Module | None = None) -> nn.Module:
        return MixerNetwork(n_inputs, n_outputs, width=self.width, n_layers=self.n_layers,
                            mixer=self.mixer, d_state=self.d_state, n_heads=self.n_heads,
                            chunk_size=self.chunk_size, filter_width=self.filter_width,
                            fnn_width=self.fnn_width, fnn_depth=self.fnn_depth,
                            residual=self.residual, norm=self.norm, n_replicates=n_replicates,
                            embed=embed)
