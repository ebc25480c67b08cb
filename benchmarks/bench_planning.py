"""Honesty and cost of the adaptive stopping rule (``nprates.analysis.planning``).

    python benchmarks/bench_planning.py [--n-sim 1000] [--workers 8] [--json PATH]

Simulated studies (``SimulatedStudy``: log-normal noise on log risk, or Student t
scaled to the same sd, cell seconds ``1e-3 * n^p``) run by ``run_adaptive`` until the
half-width of the 95% exponent interval is at most W (no budget, at most 12 looks). For
every setting and rule (``spending="none"``: every look at 95%; ``"sqrt"``: look j at
1 - 0.05 / sqrt(j); ``"harmonic"``: at 1 - 0.05 / j) it reports over ``--n-sim`` studies the
coverage of the final interval (with its binomial standard error), the share of
studies that reached W, the mean final half-width, looks and compute.

Against it, fixed designs of the same family (``fixed_design``: the planner's search
with the true spread and cost, from scratch, one look at 95%):

- ``fixed (planned)``: the design whose predicted half-width is W: about half of
  such studies end wider than W;
- ``fixed (95% reach)``: the same sizes with the fewest replicates whose intervals end
  at most W in at least 95% of studies (searched upwards by 10% steps, ``--n-sim``
  studies per step).

Setting "tune" is the one the spending rule was chosen on (all three rules are run);
the "check" settings only test the chosen one, "sqrt".
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nprates.analysis import fit_rate, simulate_curves  # noqa: E402
from nprates.analysis.planning import (CostModel, SimulatedStudy, fixed_design,  # noqa: E402
                                       run_adaptive)

SETTINGS = {
    # name: exponent, sizes, noise sd of log risk, noise_dist, cost power, W
    "tune": dict(exponent=0.6, sizes=[64, 128, 256, 512, 1024, 2048], noise=0.2,
                 noise_dist="lognormal", cost_power=1.0, width=0.05),
    "check-wide": dict(exponent=0.4, sizes=[100, 215, 464, 1000, 2154, 4642, 10000],
                       noise=0.35, noise_dist="t", cost_power=1.0, width=0.08),
    "check-steep-cost": dict(exponent=0.67, sizes=[64, 128, 256, 512, 1024, 2048],
                             noise=0.15, noise_dist="lognormal", cost_power=1.5, width=0.03),
}
LEVEL = 0.95
AIM = 1.0
REACH = 0.95


def _curve_kwargs(s):
    return {"noise_dist": s["noise_dist"], "tail_df": 5.0} if s["noise_dist"] == "t" else {}


def one_adaptive(args):
    name, spending, i = args
    s = SETTINGS[name]
    sim = SimulatedStudy(s["exponent"], noise=s["noise"], cost_power=s["cost_power"],
                         seed=[i, zlib.crc32(name.encode())], **_curve_kwargs(s))
    res = run_adaptive(sim, s["width"], s["sizes"], level=LEVEL, spending=spending, seed=i,
                       aim=AIM)
    (fit,) = res.fits.values()
    return {"covered": fit.ci[0] <= s["exponent"] <= fit.ci[1], "half_width": res.half_width,
            "reached": res.half_width <= s["width"], "looks": len(res.rounds),
            "seconds": res.seconds, "stopped_by": res.stopped_by}


def one_fixed(args):
    name, sizes, reps, i = args
    s = SETTINGS[name]
    rng = np.random.default_rng([i, 7, zlib.crc32(name.encode())])
    table = simulate_curves(s["exponent"], sizes=sizes, replicates=reps, noise=s["noise"],
                            seed=rng, **_curve_kwargs(s))
    fit = fit_rate(table, level=LEVEL, n_boot=1000, seed=i, second_opinion=False)
    hw = (fit.ci[1] - fit.ci[0]) / 2
    return {"covered": fit.ci[0] <= s["exponent"] <= fit.ci[1], "half_width": hw,
            "reached": hw <= s["width"]}


def _summary(rows, label, name, seconds=None):
    df = pd.DataFrame(rows)
    cov = float(df["covered"].mean())
    out = {"setting": name, "rule": label, "n_sim": len(df), "coverage": cov,
           "coverage_se": math.sqrt(cov * (1 - cov) / len(df)),
           "reached_W": float(df["reached"].mean()),
           "mean_half_width": float(df["half_width"].mean()),
           "mean_seconds": float(df["seconds"].mean()) if seconds is None else seconds,
           "mean_looks": float(df["looks"].mean()) if "looks" in df else 1.0}
    if "stopped_by" in df:
        out["stops"] = df["stopped_by"].value_counts().to_dict()
    return out


def run(n_sim: int, workers: int) -> pd.DataFrame:
    rows = []
    with ProcessPoolExecutor(workers) as pool:
        for name, s in SETTINGS.items():
            for spending in (("none", "sqrt", "harmonic") if name == "tune" else ("sqrt",)):
                t0 = time.perf_counter()
                res = list(pool.map(one_adaptive, [(name, spending, i) for i in range(n_sim)],
                                    chunksize=8))
                rows.append(_summary(res, f"adaptive ({spending})", name))
                print(f"{name} {spending}: {rows[-1]} ({time.perf_counter() - t0:.0f} s)",
                      flush=True)
            cost = CostModel.power_law(1e-3, s["cost_power"])
            plan = fixed_design(s["sizes"], s["noise"], cost, width=s["width"], level=LEVEL)
            per_rep = plan["seconds"] / plan["replicates"]
            reps = plan["replicates"]
            label = "fixed (planned)"
            while True:
                res = list(pool.map(one_fixed, [(name, plan["sizes"], reps, i)
                                                for i in range(n_sim)], chunksize=16))
                row = _summary(res, f"{label}: {len(plan['sizes'])} sizes x {reps}", name,
                               seconds=per_rep * reps)
                if label == "fixed (planned)":
                    rows.append(row)
                    print(f"{name} fixed planned: {row}", flush=True)
                    label = "fixed (95% reach)"
                if row["reached_W"] >= REACH or reps >= 40 * plan["replicates"]:
                    rows.append(row)
                    print(f"{name} fixed 95% reach: {row}", flush=True)
                    break
                reps = max(reps + 1, int(round(reps * 1.1)))
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sim", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    table = run(args.n_sim, args.workers)
    cols = ["setting", "rule", "n_sim", "coverage", "coverage_se", "reached_W",
            "mean_half_width", "mean_seconds", "mean_looks"]
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for r in table.itertuples():
        if isinstance(getattr(r, "stops", None), dict):
            print(f"{r.setting} {r.rule}: stops {r.stops}")
    print(f"total {time.perf_counter() - t0:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(table.to_dict(orient="records"), indent=1,
                                              default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
