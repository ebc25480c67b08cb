"""Every regressor refuses unusable input with a ValueError naming it, and records its
fitted layout under the same names."""

import numpy as np
import pytest
import scipy.sparse

from nprates.estimators import (KernelRidgeBaseline, KNNBaseline, OracleProjection,
                                SelectiveSSMRegressor, SSMRegressor, TransformerRegressor,
                                WindowMLP)

T, L, V = 6, 3, 2
FAST = dict(max_epochs=1, patience_steps=0, batch_size=32, device="cpu", random_state=0)


class LinearBasis:
    """The two features of the newest token and a constant (window 1)."""

    window = 1
    basis_levels = np.array([0.0, 1.0, 1.0])

    def design_matrix(self, X):
        X = np.asarray(X)
        return np.concatenate([np.ones(X.shape[:2] + (1,)), X], axis=2)


REGRESSORS = {
    "ssm": lambda: SSMRegressor(8, 1, d_state=4, fnn_width=8, **FAST),
    "transformer": lambda: TransformerRegressor(8, 1, n_heads=2, fnn_width=8, **FAST),
    "window_mlp": lambda: WindowMLP(width=8, **FAST),
    "selective_ssm": lambda: SelectiveSSMRegressor(8, 1, d_state=4, fnn_width=8, **FAST),
    "knn": lambda: KNNBaseline(cv=2, random_state=0),
    "kernel_ridge": lambda: KernelRidgeBaseline(cv=2, n_components=20, random_state=0),
    "oracle": lambda: OracleProjection(LinearBasis(), random_state=0),
}


def data(n=20):
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(n, T, 2))
    return X, X[:, -L:, 0] - X[:, -L:, 1] + 0.1 * rng.normal(size=(n, L))


@pytest.mark.parametrize("name", REGRESSORS)
def test_fitted_layout_has_one_naming(name):
    X, y = data()
    est = REGRESSORS[name]().fit(X, y)
    assert (est.n_features_in_, est.seq_len_, est.n_scored_, est.output_1d_) == (2, T, L, False)
    assert REGRESSORS[name]().fit(X, y[:, -1]).output_1d_
    with pytest.raises(ValueError, match="X has 1 features, but .* expecting 2 features"):
        est.predict(X[:, :, :1])


@pytest.mark.parametrize("name", REGRESSORS)
def test_unusable_input_is_refused_naming_it(name):
    X, y = data()
    est = REGRESSORS[name]()
    with pytest.raises(ValueError, match="requires y to be passed, but the target y is None"):
        est.fit(X, None)
    with pytest.raises(ValueError, match="X is a sparse"):
        est.fit(scipy.sparse.csr_matrix(X[:, :, 0]), y)
    with pytest.raises(ValueError, match="y is a sparse"):
        est.fit(X, scipy.sparse.csr_matrix(y))
    with pytest.raises(ValueError, match="Complex data not supported: X holds complex"):
        est.fit(X + 1e-3j, y)
    with pytest.raises(ValueError, match="Complex data not supported: y holds complex"):
        est.fit(X, y.astype(complex))
    with pytest.raises(ValueError, match=r"y holds values up to .* beyond 1e\+150"):
        est.fit(X, y * 1e200)
    fitted = est.fit(X, y)
    with pytest.raises(ValueError, match="Complex data not supported: X"):
        fitted.predict(X.astype(complex))


def test_kernel_ridge_fits_large_but_representable_outputs():
    """Outputs up to 1e100: the fit scales with them instead of overflowing."""
    X, y = data(40)
    est = KernelRidgeBaseline(cv=2, n_components=40, random_state=0)
    small = est.fit(X, y).predict(X)
    large = KernelRidgeBaseline(cv=2, n_components=40, random_state=0).fit(X, y * 1e100)
    np.testing.assert_allclose(large.predict(X), small * 1e100, rtol=1e-6)
