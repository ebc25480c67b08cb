"""Target evaluation throughput: GammaSmooth and PiecewiseGammaSmooth, ~3,000 basis functions."""

from __future__ import annotations

from nprates.bench.timing import median_time
from nprates.smoothness import Smoothness
from nprates.targets import GammaSmooth, PiecewiseGammaSmooth


def standard_targets() -> dict:
    """The benchmark targets: 8 directions with a = 1..8 (mixed), t_max = 9: 2,937 functions."""
    spec = Smoothness("mixed", a0=1.0, alpha=1.0, features=2, window=4, seed=0)
    return {
        "GammaSmooth": GammaSmooth(spec, t_max=9, seed=0),
        "PiecewiseGammaSmooth": PiecewiseGammaSmooth(spec, window=16, t_max=9, seed=0),
    }


def run(sequences: int = 10_000, length: int = 64, repeats: int = 3) -> list[dict]:
    """Median time of evaluating each target on ``sequences`` x ``length`` uniform tokens."""
    rows = []
    for name, target in standard_targets().items():
        X = target.sample(sequences, length - target.burn_in, rng=0)[0]
        t = median_time(lambda: target(X), repeats=repeats, warmup=0)
        rows.append({"target": name, "n_basis": target.n_basis, "sequences": sequences,
                     "length": length, "seconds": t["median"],
                     "sequences_per_second": sequences / t["median"]})
    return rows
