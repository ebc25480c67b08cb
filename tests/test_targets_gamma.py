import numpy as np
import pytest

from nprates import GammaSmooth, Smoothness
from nprates.targets.trig_series import TrigSeries, enumerate_blocks, psi


def small_target(seed=0, **kw):
    spec = Smoothness("mixed", a0=1.0, alpha=1.0, features=2, window=3, seed=1)
    return GammaSmooth(spec, t_max=kw.pop("t_max", 4.0), seed=seed, **kw)


def test_psi_matches_definition():
    x = np.linspace(0, 1, 17)
    out = psi(x, np.array([0, 3, -3, 200]))
    assert np.allclose(out[:, 0], 1.0)
    assert np.allclose(out[:, 1], np.sqrt(2) * np.sin(2 * np.pi * 3 * x), atol=1e-12)
    assert np.allclose(out[:, 2], np.sqrt(2) * np.cos(2 * np.pi * 3 * x), atol=1e-12)
    assert np.allclose(out[:, 3], np.sqrt(2) * np.sin(2 * np.pi * 200 * x), atol=1e-11)


def test_tensor_basis_is_orthonormal_by_monte_carlo():
    target = small_target()
    m = 40_000
    W = np.random.default_rng(5).random((m, target.window, target.features))
    D = target.series.design(W)[:, :60]
    gram = D.T @ D / m
    # standard error of each Monte Carlo inner product, from the sample itself
    se = np.sqrt(np.maximum((D ** 2).T @ (D ** 2) / m - gram ** 2, 1e-12) / m)
    assert np.all(np.abs(gram - np.eye(gram.shape[0])) < 6 * se + 1e-9)
    assert np.allclose(np.diag(gram), 1.0, atol=0.1)


def test_class_norm_equals_R_and_block_energies_follow_the_construction():
    spec = Smoothness("mixed", a0=1.0, alpha=1.0, features=2, window=3, seed=1)
    target = GammaSmooth(spec, t_max=5.0, norm=0.7, seed=4)
    assert target.norm_of() == pytest.approx(0.7, rel=1e-12)
    assert target.class_norm == pytest.approx(0.7)
    w = np.prod(1.0 / (1.0 + target.blocks), axis=(1, 2))
    w *= 0.7 / np.sqrt(np.sum(w ** 2))
    expected = 2.0 ** (-target.block_gamma) * w
    assert np.allclose(target.block_norm, expected, rtol=1e-12)
    assert np.allclose(target.block_gamma, spec.gamma(target.blocks))
    sizes = 2 ** target.blocks.sum(axis=(1, 2))
    assert target.n_basis == sizes.sum()
    # every coefficient in block s has magnitude rho_s / sqrt(2^|s|), with random signs
    b = target.block_index
    assert np.allclose(np.abs(target.coefficients), expected[b] / np.sqrt(sizes[b]), rtol=1e-12)
    assert 0.3 < np.mean(target.coefficients > 0) < 0.7


def test_blocks_respect_truncation_for_both_kinds():
    a = np.array([[1.0, 2.0], [3.0, 7.0]])
    mixed = enumerate_blocks(a, "mixed", 4.0, 10_000)
    assert np.all((mixed * a).sum(axis=(1, 2)) <= 4.0)
    assert not np.any(mixed[:, 1, 1])  # a = 7 > t_max: the direction is inactive
    aniso = enumerate_blocks(a, "anisotropic", 4.0, 10_000)
    assert np.all((aniso * a).max(axis=(1, 2)) <= 4.0)
    # anisotropic keeps s = (4, 2, 1, 0) although its mixed gamma is 11
    assert any(np.array_equal(s, [[4, 2], [1, 0]]) for s in aniso)


def test_target_equals_design_times_coefficients_and_burn_in_is_nan():
    target = small_target()
    X = target.sample(7, 5, rng=0)[0]
    out = target(X)
    assert out.shape == (7, 5 + target.burn_in)
    assert np.all(np.isnan(out[:, :target.burn_in]))
    D = target.design_matrix(X)
    assert D.shape == (7, 5, target.n_basis)
    assert np.allclose(D @ target.coefficients, out[:, target.burn_in:], atol=1e-12)


def test_series_without_split_direction_matches_naive_sum():
    multi = np.array([[[0, 0]], [[3, 0]], [[-1, 2]], [[0, -5]]])  # (P, d=1, V=2)
    coef = np.array([0.5, -0.2, 0.1, 0.3])
    series = TrigSeries(multi, coef)
    W = np.random.default_rng(0).random((100, 2, 1))
    naive = np.zeros(100)
    for b in range(4):
        term = np.ones(100)
        for j in range(2):
            term *= psi(W[:, j, 0], multi[b, 0, j:j + 1])[:, 0]
        naive += coef[b] * term
    assert np.allclose(series(W), naive, atol=1e-13)


def test_shift_equivariance():
    target = small_target()
    X = np.random.default_rng(1).random((4, 20, 2))
    k = 5
    assert np.allclose(target(X[:, k:])[:, target.burn_in:], target(X)[:, k + target.burn_in:])


def test_window_dependence():
    spec = Smoothness("mixed", a0=1.0, alpha=1.0, features=2, window=3, seed=1)
    target = GammaSmooth(spec, t_max=4.0, seed=0)
    X = np.random.default_rng(2).random((50, 10, 2))
    t = 9
    base = target(X)[:, t]
    # a token older than the window
    Y = X.copy()
    Y[:, t - 3] = np.random.default_rng(3).random((50, 2))
    assert np.array_equal(target(Y)[:, t], base)
    # a direction whose smoothness exceeds t_max has no active block
    inactive = [(i, j) for i in range(2) for j in range(3) if spec.a[i, j] > 4.0]
    assert inactive
    Y = X.copy()
    for i, j in inactive:
        Y[:, t - j, i] = np.random.default_rng(4).random(50)
    assert np.allclose(target(Y)[:, t], base, atol=1e-12)
    # the roughest direction matters
    i, j = spec.important_directions(4.0)[0]
    Y = X.copy()
    Y[:, t - j, i] = np.random.default_rng(5).random(50)
    assert np.max(np.abs(target(Y)[:, t] - base)) > 1e-3


def test_sample_shapes_noise_and_seeds():
    target = small_target()
    X, y, f = target.sample(30, 6, noise=0.5, rng=11)
    assert X.shape == (30, 6 + target.burn_in, 2) and y.shape == f.shape == (30, 6)
    assert np.all((X >= 0) & (X < 1))
    assert np.allclose(f, target(X)[:, target.burn_in:])
    assert 0.3 < np.std(y - f) < 0.7
    X2, y2, f2 = target.sample(30, 6, noise=0.5, rng=11)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _, _ = target.sample(30, 6, noise=0.0, rng=11)
    assert np.array_equal(X, X3)  # tokens do not depend on the noise level
    assert not np.array_equal(X, target.sample(30, 6, noise=0.5, rng=12)[0])
    Xt, ft = target.test_set(10, 6, rng=np.random.SeedSequence(3))
    assert np.allclose(ft, target(Xt)[:, target.burn_in:])


def test_same_seed_same_target_different_seed_different_target():
    assert np.array_equal(small_target(seed=3).coefficients, small_target(seed=3).coefficients)
    assert not np.array_equal(small_target(seed=3).coefficients, small_target(seed=4).coefficients)


def test_bound_rescales_within_sup_norm():
    target = small_target(bound=0.5)
    X = np.random.default_rng(0).random((2000, 3, 2))
    assert np.max(np.abs(target(X)[:, 2])) <= 0.5
    assert target.class_norm < 1.0
    assert target.norm_of() == pytest.approx(target.class_norm)


def test_bad_inputs_name_the_parameter():
    spec = Smoothness("mixed", a0=0.5, alpha=0.0, features=2, window=8)
    with pytest.raises(ValueError, match="t_max"):
        GammaSmooth(spec, t_max=6.0, max_basis=10_000)
    with pytest.raises(ValueError, match="t_max"):
        GammaSmooth(Smoothness(), t_max=-1.0)
    with pytest.raises(ValueError, match="norm"):
        GammaSmooth(Smoothness(), t_max=2.0, norm=1.5)
    with pytest.raises(ValueError, match="smoothness"):
        GammaSmooth({"a0": 1}, t_max=2.0)
    target = small_target()
    with pytest.raises(ValueError, match="X"):
        target(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="features"):
        target(np.zeros((4, 5, 3)))
    with pytest.raises(ValueError, match="window"):
        target(np.zeros((4, 2, 2)))
    X = np.random.default_rng(0).random((4, 5, 2))
    X[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        target(X)
    with pytest.raises(ValueError, match="noise"):
        target.sample(4, 5, noise=-1.0)
    with pytest.raises(ValueError, match="length"):
        target.sample(4, 0)
    with pytest.raises(ValueError, match="rng"):
        target.sample(4, 2, rng="seed")
