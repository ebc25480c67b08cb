"""ModuleRegressor: a GRU written here, trained under the built-in protocol, with
replicates batched by torch.func.vmap equal to separate fits; the loop fallback for a
module vmap cannot trace; a study file naming the factory by import path."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch import nn

from nprates.estimators import ModuleRegressor
from nprates.estimators.replicates import fit_replicates
from nprates.studies.build import make_estimator
from nprates.studies.errors import StudyError
from nprates.studies.spec import Study

T, L = 8, 4
FAST = dict(width=8, batch_size=16, device="cpu", random_state=0, patience_steps=0)


class TinyGRU(nn.Module):
    """A gated recurrent unit, token by token: (B, T, n_inputs) -> (B, T, n_outputs)."""

    def __init__(self, n_inputs, n_outputs, width=8):
        super().__init__()
        self.width = width
        self.inputs = nn.Linear(n_inputs, 3 * width)
        self.hidden = nn.Linear(width, 3 * width, bias=False)
        self.readout = nn.Linear(width, n_outputs)

    def forward(self, x):
        h = x.new_zeros(x.shape[0], self.width)
        outputs = []
        for xt in self.inputs(x).unbind(1):
            r_x, z_x, n_x = xt.chunk(3, -1)
            r_h, z_h, n_h = self.hidden(h).chunk(3, -1)
            r, z = torch.sigmoid(r_x + r_h), torch.sigmoid(z_x + z_h)
            h = (1 - z) * h + z * torch.tanh(n_x + r * n_h)
            outputs.append(h)
        return self.readout(torch.stack(outputs, 1))


def make_gru(n_inputs, n_outputs, width=8):
    return TinyGRU(n_inputs, n_outputs, width)


class Untraceable(TinyGRU):
    """Python control flow on a tensor's value: vmap cannot trace it."""

    def forward(self, x):
        out = super().forward(x)
        return out if float(out.abs().max()) < 1e6 else out.clamp(-1e6, 1e6)


def make_untraceable(n_inputs, n_outputs, width=8):
    return Untraceable(n_inputs, n_outputs, width)


def lagged_sum(n, seed):
    """y_t = x_{t,0} + x_{t-2,1} at the last L positions."""
    X = np.random.default_rng(seed).uniform(size=(n, T, 2))
    return X, X[:, T - L:, 0] + X[:, T - L - 2:T - 2, 1]


def _check_equal_to_separate_fits(est, seeds=(5, 6, 7)):
    data = [lagged_sum(32, s) for s in range(len(seeds))]
    Xs, ys = [X for X, _ in data], [y for _, y in data]
    batched = fit_replicates(est, Xs, ys, list(seeds))
    for b, X, y, seed in zip(batched, Xs, ys, seeds):
        single = clone(est).set_params(random_state=seed).fit(X, y)
        assert b.n_epochs_ == single.n_epochs_ and b.stopped_by_ == single.stopped_by_
        np.testing.assert_allclose(b.history_["val_loss"], single.history_["val_loss"],
                                   rtol=1e-5)
        np.testing.assert_allclose(b.predict(X), single.predict(X), rtol=1e-5, atol=1e-6)
    assert not np.allclose(batched[0].predict(Xs[0]), batched[1].predict(Xs[0]))


def test_vmap_batched_replicates_equal_separate_fits():
    _check_equal_to_separate_fits(ModuleRegressor(make_gru, **FAST, max_epochs=4,
                                                  lr=[3e-3, 1e-2]))


def test_untraceable_module_runs_replicates_in_a_loop_with_one_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _check_equal_to_separate_fits(ModuleRegressor(make_untraceable, **FAST, max_epochs=2))
    messages = {str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)}
    assert any("vmap cannot trace Untraceable" in m and "one at a time" in m for m in messages)


def test_learns_below_the_null_risk_under_the_protocol():
    X, y = lagged_sum(128, 0)
    X_test, y_test = lagged_sum(300, 1)
    est = ModuleRegressor(make_gru, **{**FAST, "width": 16}, lr=1e-2, max_steps=150,
                          patience=1000).fit(X, y)
    risk = np.mean((est.predict(X_test) - y_test) ** 2)
    assert risk < 0.3 * np.mean((y.mean() - y_test) ** 2)
    assert est.stopped_by_ == "cap" and est.n_steps_ == 150
    assert est.n_params_ == sum(p.numel() for p in TinyGRU(2, 1, 16).parameters())


def test_bad_factories_are_refused():
    X, y = lagged_sum(20, 0)
    with pytest.raises(ValueError, match="factory is the string"):
        ModuleRegressor("test_module_estimator:make_gru", max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="factory must be a callable"):
        ModuleRegressor(None, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="expected \\(2, 8, 1\\)"):
        ModuleRegressor(lambda n_in, n_out: nn.Linear(n_in, 3), max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="width is given twice"):
        ModuleRegressor(make_gru, 4, factory_kwargs={"width": 4}, max_epochs=1).fit(X, y)


def test_a_study_names_the_factory_by_import_path():
    spec = dict(name="byo", noise=0.1, length=4, sizes=[16, 64], replicates=1, test_size=16,
                targets={"t": {"kind": "callable", "factory": "study_fixtures:make_sine_target"}},
                estimators={"gru": {"class": "nprates.estimators.ModuleRegressor",
                                    "params": {"factory": "test_module_estimator:make_gru",
                                               "width": 12, "max_epochs": 1}}})
    study = Study.from_dict(spec).with_trust(["study_fixtures", "test_module_estimator"])
    est = make_estimator(study, "gru", None, "cpu")
    assert est.factory is make_gru and est.width == 12
    with pytest.raises(StudyError, match="module 'test_module_estimator' is not trusted"):
        make_estimator(Study.from_dict(spec).with_trust(["study_fixtures"]), "gru", None,
                       "cpu")
