"""Calibration of the exponent intervals on simulated power laws with a known exponent.

    python benchmarks/bench_calibration.py [--n-sim 1000] [--offset-sims 1000] [--json PATH]

For 7 sizes over two decades (100..10000) and R replicates per size it simulates
risk = n^-0.5 * exp(0.3 eps) tables, fits each with ``fit_rate`` and reports the
share of nominal-95% intervals that contain 0.5 (coverage, with its binomial
standard error), the mean bias, the ratio of the mean reported SE to the spread of
the estimates, and the mean interval width:

- ``loglog`` with R = 3, 5, 10 replicates (log-normal noise), with heavy-tailed
  noise (Student t, 3 df) and with nested data (replicate curves sharing data);
- ``offset`` on a pure power law (true floor 0) and on a curve with a floor;
- for reference, the naive percentile bootstrap (m of m replicates per size, no t
  correction), the construction ``fit_rate`` avoids.

Also times one default ``fit_rate`` (2000 draws, statsmodels second opinion) on a
98-row table. ``run_calibration()`` returns the table as a DataFrame.

    python benchmarks/bench_calibration.py --verdicts [--n-sim 2000] [--workers 8]

measures instead how often ``check_theory`` says what (``verdict_rates``) on 7 sizes
over 100..10000, 5 replicates, log-normal noise sd 0.15, theoretical exponent 2/3 and the
default tolerance, for several levels of the curvature test: a true exponent equal to
the theory's, one 0.117 below it, and curves whose local exponent drifts by +-0.15 over
the range (local exponent 2/3 at the middle size). It also measures the coverage of the
class exponent with 5 target draws whose exponents scatter with sd 0.05.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nprates.analysis import coverage, fit_rate, simulate_curves  # noqa: E402
from nprates.analysis.simulate import default_sizes, verdict_rates  # noqa: E402

EXPONENT = 0.5
NOISE = 0.3


def naive_percentile_coverage(replicates: int, n_sim: int, n_boot: int = 1000,
                              seed: int = 0, level: float = 0.95) -> dict:
    """Coverage of the naive percentile bootstrap (m of m replicates within each size)."""
    rng = np.random.default_rng(seed)
    x = np.log(default_sizes())
    c = -(x - x.mean()) / ((x - x.mean()) ** 2).sum()
    K, R = len(x), replicates
    hits, est = 0, []
    a = 50 * (1 - level)
    for _ in range(n_sim):
        Y = -EXPONENT * x[:, None] + NOISE * rng.standard_normal((K, R))
        idx = rng.integers(0, R, (n_boot, K, R))
        boot = np.take_along_axis(np.broadcast_to(Y, (n_boot, K, R)), idx, 2).mean(2) @ c
        lo, hi = np.percentile(boot, [a, 100 - a])
        hits += lo <= EXPONENT <= hi
        est.append(Y.mean(1) @ c)
    cov = hits / n_sim
    return {"coverage": cov, "coverage_se": (cov * (1 - cov) / n_sim) ** 0.5,
            "bias": float(np.mean(est) - EXPONENT)}


def scenarios(n_sim: int, offset_sims: int):
    floor = 0.3 * 10_000 ** -EXPONENT  # 30% of the power-law part at the largest size
    yield "loglog", "R=3", dict(method="loglog", replicates=3, n_sim=n_sim)
    yield "loglog", "R=5", dict(method="loglog", replicates=5, n_sim=n_sim)
    yield "loglog", "R=10", dict(method="loglog", replicates=10, n_sim=n_sim)
    yield "loglog", "R=5, t(3) noise", dict(method="loglog", replicates=5, n_sim=n_sim,
                                            noise_dist="t")
    yield "loglog", "R=5, nested curves", dict(method="loglog", replicates=5, n_sim=n_sim,
                                               nested=True)
    yield "offset", "R=5, floor 0", dict(method="offset", replicates=5, n_sim=offset_sims,
                                         n_boot=500)
    yield "offset", "R=5, floor 0.003", dict(method="offset", replicates=5, offset=floor,
                                             n_sim=offset_sims, n_boot=500)


def run_calibration(n_sim: int = 1000, offset_sims: int = 1000, seed: int = 0,
                    naive: bool = True, verbose: bool = False) -> pd.DataFrame:
    """The calibration table (one row per scenario); see the module docstring."""
    rows = []
    for i, (method, label, kw) in enumerate(scenarios(n_sim, offset_sims)):
        res = coverage(exponent=EXPONENT, noise=NOISE, seed=seed + i, **kw)
        rows.append({"method": method, "scenario": label, "n_sim": res.n_sim,
                     "coverage": res.coverage, "coverage_se": res.coverage_se,
                     "bias": res.bias, "se_ratio": res.mean_se / res.sd_estimate,
                     "mean_width": res.mean_width, "errors": res.n_errors,
                     "seconds": res.seconds})
        if verbose:
            print(_format(pd.DataFrame(rows[-1:])).splitlines()[-1], flush=True)
    if naive:
        for R in (3, 5, 10):
            t0 = time.perf_counter()
            r = naive_percentile_coverage(R, n_sim, seed=seed + 100 + R)
            rows.append({"method": "naive percentile", "scenario": f"R={R}", "n_sim": n_sim,
                         "coverage": r["coverage"], "coverage_se": r["coverage_se"],
                         "bias": r["bias"], "se_ratio": np.nan, "mean_width": np.nan,
                         "errors": 0, "seconds": time.perf_counter() - t0})
    return pd.DataFrame(rows)


def time_default_fit(repeats: int = 5) -> float:
    """Median seconds of one default fit_rate on 7 sizes x 14 replicates (98 rows)."""
    table = simulate_curves(EXPONENT, replicates=14, noise=NOISE, seed=0)
    fit_rate(table)  # warm up imports (statsmodels)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fit_rate(table)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _format(table: pd.DataFrame) -> str:
    lines = [f"{'method':<18}{'scenario':<22}{'n_sim':>6}{'coverage':>16}{'bias':>9}"
             f"{'SE/SD':>7}{'width':>7}{'sec':>7}"]
    for r in table.itertuples():
        cov = f"{r.coverage:.3f}+-{r.coverage_se:.3f}"
        ratio = "" if not np.isfinite(r.se_ratio) else f"{r.se_ratio:.3f}"
        width = "" if not np.isfinite(r.mean_width) else f"{r.mean_width:.3f}"
        lines.append(f"{r.method:<18}{r.scenario:<22}{r.n_sim:>6}{cov:>16}{r.bias:>+9.4f}"
                     f"{ratio:>7}{width:>7}{r.seconds:>7.1f}")
    return "\n".join(lines)


THEORY = 2 / 3
VERDICT_SCENARIOS = {"equal to theory": (THEORY, 0.0), "0.117 below": (THEORY - 0.117, 0.0),
                     "drift +0.15": (THEORY, 0.15), "drift -0.15": (THEORY, -0.15)}
CURVATURE_ALPHAS = (0.05, 0.1, 0.2)


def _verdict_chunk(task):
    scenario, alpha, n_sim, seed = task
    exponent, drift = VERDICT_SCENARIOS[scenario]
    res = verdict_rates(exponent, THEORY, n_sim, drift=drift, seed=seed, n_boot=500,
                        curvature_alpha=alpha)
    return scenario, alpha, n_sim, res


def _draws_chunk(task):
    n_sim, seed = task
    hits = []
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(n_sim)):
        t = simulate_curves(0.6, replicates=5, noise=0.15, draws=5, draw_sd=0.05,
                            seed=np.random.default_rng(child))
        lo, hi = fit_rate(t, n_boot=500, seed=i, second_opinion=False).ci
        hits.append(lo <= 0.6 <= hi)
    return hits


def run_verdicts(n_sim: int, workers: int, seed: int = 0) -> pd.DataFrame:
    """Shares of verdicts per (scenario, curvature level), and the draws coverage."""
    from concurrent.futures import ProcessPoolExecutor

    chunk = max(n_sim // max(workers, 1), 1)
    tasks = [(sc, a, chunk, seed + 1000 * j) for sc in VERDICT_SCENARIOS
             for a in CURVATURE_ALPHAS for j in range(max(n_sim // chunk, 1))]
    rows: dict = {}
    with ProcessPoolExecutor(max(workers, 1)) as pool:
        for sc, a, m, res in pool.map(_verdict_chunk, tasks):
            row = rows.setdefault((sc, a), {"scenario": sc, "curvature_alpha": a, "n_sim": 0})
            for k, v in res.items():
                row[k] = row.get(k, 0.0) + v * m
            row["n_sim"] += m
        hits = sum(pool.map(_draws_chunk, [(chunk, seed + 7 + j) for j in
                                           range(max(n_sim // chunk, 1))]), [])
    table = pd.DataFrame(list(rows.values())).fillna(0.0)
    for col in table.columns[3:]:
        table[col] = table[col] / table["n_sim"]
    table.attrs["draws_coverage"] = (float(np.mean(hits)), len(hits))
    return table


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sim", type=int, default=1000)
    parser.add_argument("--offset-sims", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, metavar="PATH")
    parser.add_argument("--verdicts", action="store_true",
                        help="measure check_theory's verdict rates instead")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if args.verdicts:
        table = run_verdicts(args.n_sim, args.workers, args.seed)
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(table.round(4).to_string(index=False))
        cov, m = table.attrs["draws_coverage"]
        print(f"5 draws (exponent sd 0.05), 5 replicates: coverage of the class exponent "
              f"{cov:.3f} +- {(cov * (1 - cov) / m) ** 0.5:.3f} over {m} studies")
        if args.json:
            Path(args.json).write_text(table.to_json(orient="records", indent=2))
        return
    print(f"true exponent {EXPONENT}, 7 sizes 100..10000, log-noise sd {NOISE}, nominal 95%")
    print(_format(pd.DataFrame(columns=["method"])).splitlines()[0], flush=True)
    table = run_calibration(args.n_sim, args.offset_sims, args.seed, verbose=True)
    for r in table[table["method"] == "naive percentile"].itertuples():
        print(_format(pd.DataFrame([r._asdict()])).splitlines()[-1])
    fit_s = time_default_fit()
    print(f"default fit_rate (2000 draws + statsmodels) on 98 rows: {fit_s * 1000:.0f} ms")
    if args.json:
        out = {"table": table.to_dict(orient="records"), "default_fit_seconds": fit_s}
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
