import numpy as np
import pytest

from nprates import Smoothness, recommended_t_max, theoretical_exponent


def test_mixed_a0_1_alpha_1_gives_a_dagger_1_and_two_thirds():
    spec = Smoothness("mixed", a0=1.0, alpha=1.0, features=2, window=8)
    assert spec.a_dagger == 1.0
    assert theoretical_exponent(spec) == pytest.approx(2 / 3)
    assert sorted(spec.a.ravel()) == list(np.arange(1.0, 17.0))


def test_mixed_a_dagger_is_smallest_entry_and_scales_with_a0():
    spec = Smoothness("mixed", a0=2.0, alpha=0.5, features=1, window=4)
    assert spec.a_dagger == 2.0
    assert spec.exponent == pytest.approx(0.8)


def test_anisotropic_a_dagger_is_harmonic_combination():
    # a = {1, 2}: a_dagger = 1 / (1 + 1/2) = 2/3, exponent = (4/3) / (4/3 + 1) = 4/7
    spec = Smoothness("anisotropic", a0=1.0, alpha=1.0, features=1, window=2)
    assert spec.a_dagger == pytest.approx(2 / 3)
    assert spec.exponent == pytest.approx(4 / 7)


def test_explicit_ranks_place_the_roughest_direction():
    ranks = np.array([[4, 3], [2, 1]])
    spec = Smoothness(a0=1.0, alpha=2.0, features=2, window=2, ranks=ranks)
    assert spec.a[1, 1] == 1.0 and spec.a[0, 0] == 16.0
    assert spec.important_directions(4.0) == [(1, 1), (1, 0)]


def test_seeded_rank_permutation_is_reproducible_and_not_always_newest_first():
    a = Smoothness(features=2, window=8, seed=3).ranks
    assert np.array_equal(a, Smoothness(features=2, window=8, seed=3).ranks)
    roughest = {tuple(np.argwhere(Smoothness(features=2, window=8, seed=s).ranks == 1)[0])
                for s in range(10)}
    assert len(roughest) > 1


def test_theoretical_exponent_accepts_numbers_and_targets():
    assert theoretical_exponent(2.0) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="a_dagger"):
        theoretical_exponent(0.0)


def test_recommended_t_max_follows_theory_formula():
    spec = Smoothness(a0=1.0)
    assert recommended_t_max(spec, 2 ** 12) == pytest.approx(12 / 3 + 3)


@pytest.mark.parametrize("kwargs, name", [
    ({"a0": 0.0}, "a0"), ({"a0": -1.0}, "a0"), ({"alpha": -0.5}, "alpha"),
    ({"window": 0}, "window"), ({"features": 0}, "features"), ({"kind": "sobolev"}, "kind"),
    ({"a0": float("nan")}, "a0"), ({"window": 2.5}, "window"),
    ({"ranks": [[1, 2]], "features": 1, "window": 3}, "ranks"),
    ({"ranks": [[1, 1, 2]], "features": 1, "window": 3}, "ranks"),
])
def test_bad_smoothness_arguments_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Smoothness(**kwargs)
