"""One learning rate per network against a grid chosen per cell, paired cell by cell.

    python benchmarks/fixed_lr_pilot.py PILOT_DIR results/decisive
    python benchmarks/fixed_lr_pilot.py DECAY_DIR results/decisive --label decay
    python benchmarks/fixed_lr_pilot.py DECAY_DIR results/fixed-lr-pilot --label decay --against fixed

PILOT_DIR holds the cells of benchmarks/fixed_lr_pilot.toml (or of lr_decay_pilot.toml):
the decisive study's mixed class refitted at n = 689 and 3200 with one rate per network
(constant, or decayed on plateaus). Each pilot cell is paired with the cell of the
reference directory that has the same target, draw, n and replicate (their data seeds must
agree, or the script stops); ``--label`` and ``--against`` name the two protocols in the
output (default "fixed" and "grid"). Per estimator it prints:

- per n, the risk ratio pilot / reference: the geometric mean over the draws with a t interval
  over the per-draw log ratios (estimand: the class, draws random), in how many pairs
  both cells kept the same (initial) learning rate, and the risk ratio of the two
  protocols as one estimator (per pair the cell with the lower validation loss) to the
  reference, with how often the pilot's cell was chosen; a choice between two fits gains
  from the better of two training runs as well as from the protocol;
- per n, the median over the pairs' cells of the optimisation gap (training MSE minus the
  noise variance) over the risk, for each protocol (above 0.5 the fits' rule calls a size
  optimisation-limited);
- the two-point exponent of each draw, -(log risk at the top n - log risk at the bottom n)
  / log(top / bottom), for both protocols: their class means, the mean paired difference
  with its t interval, and their between-draw standard deviations with the Pitman-Morgan
  test of equal variances for paired samples (the spread that sets how many draws a
  comparison needs);
- the fit seconds summed over the paired cells and the mean epochs of the kept fit. The two
  runs ran under different loads, so the seconds are a rough guide only; the number of
  learning-rate candidates trained is the load-free part of the cost.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from nprates.analysis import read_results_dir
from nprates.analysis.intervals import t_interval

KEYS = ["target", "estimator", "n", "draw", "replicate"]


def paired_cells(pilot: pd.DataFrame, grid: pd.DataFrame, label: str = "fixed",
                 against: str = "grid") -> pd.DataFrame:
    """Inner join of the two tables' fitted network cells on KEYS, suffixes _label/_against."""
    if label == against:
        raise ValueError(f"the two protocols need different names, got {label!r} twice")
    def ok(table):
        return table[(table["status"] == "ok") & table["lr"].notna()]
    pairs = ok(pilot).merge(ok(grid), on=KEYS, suffixes=(f"_{label}", f"_{against}"))
    if not (pairs[f"data_seed_{label}"] == pairs[f"data_seed_{against}"]).all():
        raise ValueError("pilot and grid cells do not share their data seeds: not a paired design")
    return pairs


def mean_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` and its t interval over them (len - 1 df)."""
    values = np.asarray(values, dtype=float)
    mean, k = values.mean(), len(values)
    return (mean, *t_interval(mean, values.std(ddof=1) / np.sqrt(k), k - 1, level))


def pitman_morgan(a: np.ndarray, b: np.ndarray) -> float:
    """p-value of equal variances of paired samples a, b (correlation of a + b with a - b)."""
    r, _ = stats.pearsonr(a + b, a - b)
    df = len(a) - 2
    t = r * np.sqrt(df / (1 - r * r))
    return float(2 * stats.t.sf(abs(t), df))


def report(pairs: pd.DataFrame, label: str = "fixed", against: str = "grid") -> str:
    a, b = label, against
    lines = []
    for estimator, cells in pairs.groupby("estimator"):
        rates = cells[f"lr_{a}"].unique()
        kept = f"rate {rates[0]:g}" if len(rates) == 1 else "rate chosen per cell"
        lines.append(f"{estimator} ({a} {kept}; {b} as in its study)")
        lines.append(f"  n      draws  risk {a}/{b} [95% t over draws]  pairs that kept the same rate"
                     f"  risk chosen/{b} [95% t]  {a} chosen")
        gaps = []
        for n, at_n in cells.groupby("n"):
            gaps.append(f"n = {n}: {np.median(at_n[f'opt_gap_{a}'] / at_n[f'risk_{a}']):.2f} / "
                        f"{np.median(at_n[f'opt_gap_{b}'] / at_n[f'risk_{b}']):.2f}")
            log_ratio = np.log(at_n[f"risk_{a}"] / at_n[f"risk_{b}"])
            mean, lo, hi = mean_interval(log_ratio)
            same = np.isclose(at_n[f"lr_{b}"], at_n[f"lr_{a}"], rtol=0.02).sum()
            # per pair, the protocol with the lower validation loss: the two as one estimator
            pick_a = at_n[f"val_loss_{a}"] < at_n[f"val_loss_{b}"]
            chosen = np.where(pick_a, at_n[f"risk_{a}"], at_n[f"risk_{b}"])
            c_mean, c_lo, c_hi = mean_interval(np.log(chosen / at_n[f"risk_{b}"]))
            lines.append(f"  {n:<6d} {len(at_n):5d}  {np.exp(mean):.3f} [{np.exp(lo):.3f}, {np.exp(hi):.3f}]"
                         f"              {same} of {len(at_n)}"
                         f"                    {np.exp(c_mean):.3f} [{np.exp(c_lo):.3f}, {np.exp(c_hi):.3f}]"
                         f"  {pick_a.sum()} of {len(at_n)}")
        lines.append(f"  median optimisation gap / risk, {a} / {b}: {', '.join(gaps)}")
        sizes = sorted(cells["n"].unique())
        bottom, top = sizes[0], sizes[-1]
        wide = cells.pivot_table(index="draw", columns="n", values=[f"risk_{a}", f"risk_{b}"])
        wide = wide.dropna()
        span = np.log(top / bottom)
        slope = {how: -(np.log(wide[(f"risk_{how}", top)]) - np.log(wide[(f"risk_{how}", bottom)])) / span
                 for how in (a, b)}
        diff, lo, hi = mean_interval(slope[a] - slope[b])
        lines.append(f"  two-point exponent, n = {bottom} to {top}, {len(wide)} draws:")
        width = max(len(a), len(b))
        for how in (b, a):
            m, l, h = mean_interval(slope[how])
            lines.append(f"    {how:{width}s}  mean {m:.3f} [{l:.3f}, {h:.3f}], between-draw sd {slope[how].std(ddof=1):.3f}")
        lines.append(f"    {a} - {b}  {diff:+.3f} [{lo:+.3f}, {hi:+.3f}]; equal sd (Pitman-Morgan) "
                     f"p = {pitman_morgan(slope[a].to_numpy(), slope[b].to_numpy()):.3f}")
        secs = cells[[f"fit_seconds_{a}", f"fit_seconds_{b}"]].sum()
        lines.append(f"  fit seconds summed: {a} {secs.iloc[0]:.0f}, {b} {secs.iloc[1]:.0f} "
                     f"(ratio {secs.iloc[0] / secs.iloc[1]:.2f}; different loads); "
                     f"mean epochs kept fit: {a} {cells[f'epochs_{a}'].mean():.0f}, {b} {cells[f'epochs_{b}'].mean():.0f}")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pilot", type=Path, help="results directory of benchmarks/fixed_lr_pilot.toml or lr_decay_pilot.toml")
    parser.add_argument("grid", type=Path, help="the reference results directory (results/decisive)")
    parser.add_argument("--label", default="fixed", help="the pilot's protocol (default: fixed)")
    parser.add_argument("--against", default="grid", help="the reference's protocol (default: grid)")
    args = parser.parse_args(argv)
    pairs = paired_cells(read_results_dir(args.pilot), read_results_dir(args.grid), args.label,
                         args.against)
    if pairs.empty:
        raise SystemExit("no paired cells: run the pilot first")
    print(report(pairs, args.label, args.against))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
