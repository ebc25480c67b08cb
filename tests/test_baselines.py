"""Classical baselines: OracleProjection, KernelRidgeBaseline, KNNBaseline."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsRegressor

from nprates.estimators._cv import Moments, holdout_split, sequence_folds
from nprates.estimators.windows import flatten_windows
from nprates.estimators.kernel_ridge import KernelRidgeBaseline
from nprates.estimators.knn import KNNBaseline
from nprates.estimators.oracle import OracleProjection

S2 = np.sqrt(2.0)


class TrigBasis:
    """A small stand-in for a target's basis: trigonometric features of a window of two
    tokens with two features each (newest token x_t, previous token x_{t-1})."""

    window = 2
    basis_levels = np.array([0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0])
    coefficients = np.array([0.3, 0.8, -0.5, 0.3, 0.25, 0.1, -0.08])

    def design_matrix(self, X):
        new, old = X[:, 1:, :], X[:, :-1, :]
        sin, cos = np.sin(2 * np.pi * new), np.cos(2 * np.pi * new)
        cols = [np.ones_like(new[..., 0]), S2 * sin[..., 0], S2 * cos[..., 0], S2 * sin[..., 1],
                S2 * np.sin(2 * np.pi * old[..., 0]), S2 * np.sin(4 * np.pi * new[..., 0]),
                2 * sin[..., 0] * np.sin(2 * np.pi * old[..., 1])]
        return np.stack(cols, axis=-1)

    def __call__(self, X):
        return self.design_matrix(X) @ self.coefficients


def make_data(n, L=6, noise=0.1, seed=0):
    """X (n, L + 1, 2), y (n, L) noisy and f (n, L) noise-free from `TrigBasis`."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, L + 1, 2))
    f = TrigBasis()(X)[:, -L:]
    return X, f + noise * rng.standard_normal(f.shape), f


def small(kind, **kw):
    """Each baseline with settings that keep the tests fast; ``kw`` overrides them."""
    if kind == "oracle":
        return OracleProjection(**{"basis": TrigBasis(), "random_state": 0, **kw})
    if kind == "krr":
        return KernelRidgeBaseline(**{"alphas": (1e-4, 1e-2), "bandwidths": (0.5, 1.0),
                                      "n_components": 100, "random_state": 0, **kw})
    return KNNBaseline(**{"random_state": 0, **kw})


KINDS = ["oracle", "krr", "knn"]


# -- shared contract ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_output_layout_follows_y(kind):
    X, y, _ = make_data(30)
    est = small(kind).fit(X, y)
    assert est.accepts_sequences is True
    Xn, _, _ = make_data(7, seed=1)
    assert est.predict(Xn).shape == (7, 6)
    est1 = small(kind).fit(X, y[:, -1])
    assert est1.predict(Xn).shape == (7,)
    # fewer scored positions than tokens allow: y covers the last L positions
    Xl, _, _ = make_data(30, L=9)
    assert small(kind).fit(Xl, y).predict(Xl).shape == (30, 6)


@pytest.mark.parametrize("kind", KINDS)
def test_records_for_the_study_runner(kind):
    X, y, _ = make_data(30)
    est = small(kind).fit(X, y)
    for name in ("fit_seconds_", "train_loss_", "val_loss_"):
        assert np.isfinite(getattr(est, name)) and getattr(est, name) >= 0, name
    assert isinstance(est.n_params_, float)
    if kind != "knn":
        assert est.n_params_ >= 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mutate, match", [
    (lambda X, y: (X, y[:-1]), "different numbers of sequences"),
    (lambda X, y: (X[:, :, 0], y), "3 dimensions"),
    (lambda X, y: (X, y[:, :, None]), "shape"),
    (lambda X, y: (X, np.ones((len(X), X.shape[1] + 1))), "last positions"),
    (lambda X, y: (np.where(X > 0.99, np.nan, X), y), "NaN or inf"),
    (lambda X, y: (X, np.where(y > 0.9, np.inf, y)), "NaN or inf"),
    (lambda X, y: (X[:1], y[:1]), "too few sequences"),
])
def test_bad_fit_input_is_named(kind, mutate, match):
    X, y, _ = make_data(30, noise=0.5)
    with pytest.raises(ValueError, match=match):
        small(kind).fit(*mutate(X, y))


@pytest.mark.parametrize("kind", KINDS)
def test_bad_predict_input(kind):
    X, y, _ = make_data(30)
    with pytest.raises(NotFittedError):
        small(kind).predict(X)
    est = small(kind).fit(X, y)
    with pytest.raises(ValueError, match="features per token"):
        est.predict(X[:, :, :1])
    with pytest.raises(ValueError, match="NaN or inf"):
        est.predict(np.full_like(X, np.nan))


@pytest.mark.parametrize("kind, grid", [
    ("oracle", {"val_fraction": [0.2, 0.4]}),
    ("krr", {"bandwidths": [(0.5,), (2.0,)]}),
    ("knn", {"weights": ["uniform", "distance"]}),
])
def test_clone_and_grid_search(kind, grid):
    est = small(kind)
    twin = clone(est)
    assert twin.get_params().keys() == est.get_params().keys()
    X, y, _ = make_data(40)
    search = GridSearchCV(est, grid, cv=2).fit(X, y)
    assert search.best_estimator_.predict(X).shape == y.shape
    assert not hasattr(est, "n_scored_")  # the search fitted clones


@pytest.mark.parametrize("kind", ["krr", "knn"])
def test_window_parameter(kind):
    X, y, _ = make_data(30, L=4)  # 5 tokens: at most 2 of history per scored position
    assert small(kind).fit(X, y).window_ == 2
    assert small(kind, window=1).fit(X, y).window_ == 1
    with pytest.raises(ValueError, match="window=3 does not fit"):
        small(kind, window=3).fit(X, y)
    with pytest.raises(ValueError, match="window must be"):
        small(kind, window=0).fit(X, y)


@pytest.mark.parametrize("kind", KINDS)
def test_learns_the_target(kind):
    X, y, _ = make_data(200, noise=0.1)
    Xt, _, ft = make_data(300, seed=5)
    risk = np.mean((small(kind).fit(X, y).predict(Xt) - ft) ** 2)
    assert risk < 0.25 * ft.var()


# -- OracleProjection -----------------------------------------------------------------------

def test_oracle_recovers_coefficients_without_noise():
    X, y, _ = make_data(20, noise=0.0)
    est = small("oracle").fit(X, y)
    np.testing.assert_allclose(est.coef_, TrigBasis.coefficients, atol=1e-9)
    assert est.level_ == 3.0 and est.n_basis_ == 7


def test_oracle_truncates_noisy_small_samples():
    fits = [OracleProjection(basis=TrigBasis(), random_state=seed)
            .fit(*make_data(12, L=2, noise=1.0, seed=seed)[:2]) for seed in range(10)]
    assert np.median([est.n_basis_ for est in fits]) < 7  # sorted levels: leading columns
    for est in fits:
        assert np.all(est.coef_[est.n_basis_:] == 0) and est.level_ in est.levels_
        assert est.levels_.shape == est.val_losses_.shape


def test_oracle_more_basis_functions_than_rows():
    X, y, _ = make_data(2, L=2, noise=0.1)  # 2 rows for training, 7 basis functions
    est = small("oracle").fit(X, y)
    assert est.n_basis_ <= 2 and np.all(np.isfinite(est.predict(X)))


def test_oracle_levels_parameter():
    X, y, _ = make_data(30)
    est = small("oracle", levels=[1.5]).fit(X, y)
    assert est.n_basis_ == 3 and est.level_ == 1.5
    with pytest.raises(ValueError, match="no basis function"):
        small("oracle", levels=[-1.0]).fit(X, y)


class NoDesign:
    window = 2
    basis_levels = np.zeros(3)


@pytest.mark.parametrize("basis", [None, NoDesign()])
def test_oracle_needs_a_basis(basis):
    X, y, _ = make_data(10)
    assert OracleProjection.needs_target_basis is True
    with pytest.raises(ValueError, match="basis"):
        OracleProjection(basis=basis).fit(X, y)


def test_oracle_needs_full_windows():
    X, y, _ = make_data(10)
    with pytest.raises(ValueError, match="full window"):
        small("oracle").fit(X, np.ones((10, X.shape[1])))


def test_oracle_on_gamma_smooth_target():
    from nprates import GammaSmooth, Smoothness
    target = GammaSmooth(Smoothness(kind="mixed", a0=1.0, alpha=1.0, features=1, window=3),
                         t_max=5, seed=0)
    Xt, ft = target.test_set(500, 8, rng=np.random.default_rng(1))

    def risk(n, noise):
        X, y, _ = target.sample(n, 8, noise=noise, rng=np.random.default_rng(0))
        est = OracleProjection(basis=target, random_state=0).fit(X, y)
        return np.mean((est.predict(Xt) - ft) ** 2), est

    risks = [risk(n, 0.1)[0] for n in (16, 64, 256)]
    assert risks[0] > risks[1] > risks[2]
    exact, est = risk(128, 0.0)
    assert exact < 1e-8 and est.n_basis_ == target.n_basis
    np.testing.assert_allclose(est.coef_, target.coefficients, atol=1e-6)


# -- KernelRidgeBaseline --------------------------------------------------------------------

def test_kernel_ridge_is_exact_below_n_components():
    X, y, _ = make_data(25, L=4)
    est = KernelRidgeBaseline(alphas=(1e-3,), bandwidths=(0.7,), random_state=0).fit(X, y)
    Z = flatten_windows(X, 4, 2)
    assert est.landmarks_.shape == (len(Z), 4) and est.n_params_ == len(Z)
    mu = y.mean()
    ref = KernelRidge(alpha=1e-3 * len(Z), kernel="rbf", gamma=est.gamma_).fit(Z, y.ravel() - mu)
    Xt, _, _ = make_data(10, L=4, seed=3)
    expected = ref.predict(flatten_windows(Xt, 4, 2)).reshape(10, 4) + mu
    np.testing.assert_allclose(est.predict(Xt), expected, atol=1e-6)
    assert est.cv_mse_.shape == (1, 1) and est.val_loss_ == est.cv_mse_[0, 0]


def test_kernel_ridge_nystroem_above_n_components():
    X, y, _ = make_data(60)
    est = small("krr", n_components=50).fit(X, y)
    assert est.landmarks_.shape == (50, 4) and est.dual_coef_.shape == (50,)
    assert est.n_params_ == 50.0
    assert est.alpha_ in (1e-4, 1e-2) and est.cv_mse_.shape == (2, 2)


def test_kernel_ridge_bad_grids():
    X, y, _ = make_data(10)
    for params, name in [({"alphas": ()}, "alphas"), ({"bandwidths": (0.5, -1)}, "bandwidths"),
                         ({"n_components": 0}, "n_components"), ({"cv": 1}, "cv")]:
        with pytest.raises(ValueError, match=name):
            small("krr", **params).fit(X, y)


# -- KNNBaseline ----------------------------------------------------------------------------

@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_knn_cv_errors_match_sklearn(weights):
    X, y, _ = make_data(24, L=3)
    X[1] = X[0]  # coinciding windows exercise the zero-distance rule of "distance"
    est = KNNBaseline(n_neighbors=[1, 3, 7], cv=3, weights=weights, random_state=4).fit(X, y)
    Z, rows = flatten_windows(X, 3, 2), y.ravel()
    fold = np.repeat(sequence_folds(24, 3, 4), 3)
    for k, mse in zip(est.neighbors_grid_, est.cv_mse_):
        sse = 0.0
        for f in range(3):
            ref = KNeighborsRegressor(n_neighbors=int(k), weights=weights)
            ref.fit(Z[fold != f], rows[fold != f])
            sse += np.sum((ref.predict(Z[fold == f]) - rows[fold == f]) ** 2)
        assert mse == pytest.approx(sse / len(rows), rel=1e-9)
    assert est.n_neighbors_ == est.neighbors_grid_[np.argmin(est.cv_mse_)]


def test_knn_default_grid_grows_with_rows():
    grids = [KNNBaseline(random_state=0).fit(*make_data(n)[:2]).neighbors_grid_ for n in (10, 200)]
    assert grids[0][0] == 1 and grids[1].max() > grids[0].max()


def test_knn_bad_parameters():
    X, y, _ = make_data(10)
    with pytest.raises(ValueError, match="weights"):
        KNNBaseline(weights="gaussian").fit(X, y)
    with pytest.raises(ValueError, match="n_neighbors"):
        KNNBaseline(n_neighbors=1000).fit(X, y)
    with pytest.raises(ValueError, match="n_neighbors"):
        KNNBaseline(n_neighbors=2.5).fit(X, y)


# -- helpers --------------------------------------------------------------------------------

def test_sequence_splits():
    folds = sequence_folds(10, 3, 0)
    assert sorted(np.bincount(folds)) == [3, 3, 4]
    assert holdout_split(10, 0.2, 0).sum() == 2 and holdout_split(2, 0.01, 0).sum() == 1
    with pytest.raises(ValueError, match="val_fraction"):
        holdout_split(10, 1.0)


def test_moments_mse_matches_direct():
    rng = np.random.default_rng(0)
    Phi, y, w = rng.normal(size=(50, 4)), rng.normal(size=50), rng.normal(size=4)
    m = Moments.zeros(4)
    m.add(Phi[:20], y[:20])
    m.add(Phi[20:], y[20:])
    assert m.mse(w, 0.3) == pytest.approx(np.mean((y - 0.3 - Phi @ w) ** 2))
    A = rng.normal(size=(4, 2))
    assert m.project(A).mse(w[:2]) == pytest.approx(np.mean((y - Phi @ A @ w[:2]) ** 2))
