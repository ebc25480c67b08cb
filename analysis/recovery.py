"""Selection recovery: does a model's token importance single out the truly selected tokens?

Inputs: an importance array (n, L, T) >= 0 (``nprates.estimators.importance``: output l
sits at position p = T - L + l) and the true selection of a piecewise target at the same
positions, (n, L, K) lags (0 = the position's own token), most important first, as
``PiecewiseGammaSmooth.selection(X)[:, -L:]`` gives; -1 marks a position without a full
window, which is skipped. Only the W tokens of the window of p (lags 0..W-1) compete:

- ``top1``: the window token of largest importance is the most important selected token
  (ties go to the newer token, as in the target's own selection);
- ``topk``: recall of the K selected tokens among the K most important window tokens;
- ``mass``: the share of the window's importance on the K selected tokens (positions
  whose window has no importance at all are skipped).

Chance levels, for an importance that ranks the window tokens uniformly at random:
1/W, K/W and K/W. Each measure is averaged over the positions of a sequence, then over
sequences, with a normal interval over sequences (sequences are independent; positions
of one sequence are not).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .schema import validate_results

MEASURES = ("top1", "topk", "mass")


@dataclass(frozen=True)
class Recovery:
    """Selection recovery of one importance array (module docstring).

    ``top1``, ``topk``, ``mass``: means over sequences; ``*_interval``: (low, high) at
    ``level``; ``*_chance``: the chance level; ``n_sequences``; ``window`` W;
    ``n_selected`` K.
    """

    top1: float
    topk: float
    mass: float
    top1_interval: tuple
    topk_interval: tuple
    mass_interval: tuple
    top1_chance: float
    topk_chance: float
    mass_chance: float
    n_sequences: int
    window: int
    n_selected: int
    level: float

    def columns(self) -> dict:
        """The result-table columns: ``recovery_top1``, ... and their ``_chance`` levels."""
        out = {}
        for name in MEASURES:
            out[f"recovery_{name}"] = float(getattr(self, name))
            out[f"recovery_{name}_chance"] = float(getattr(self, f"{name}_chance"))
        return out

    def summary(self) -> str:
        lines = [f"Selection recovery: {self.n_sequences} sequences, window W = {self.window}, "
                 f"K = {self.n_selected} selected ({self.level:.0%} intervals over sequences)"]
        for name in MEASURES:
            low, high = getattr(self, f"{name}_interval")
            lines.append(f"  {name:<5} {getattr(self, name):.3f}  [{low:.3f}, {high:.3f}]  "
                         f"chance {getattr(self, f'{name}_chance'):.3f}")
        return "\n".join(lines)


def window_importance(importance, window: int) -> np.ndarray:
    """Importance of the window tokens of every output, by lag: (n, L, T) -> (n, L, W);
    lags that fall before the first token are NaN."""
    importance = np.asarray(importance, dtype=np.float64)
    if importance.ndim != 3:
        raise ValueError(f"importance must have shape (n, L, T), got {importance.shape}")
    n, L, T = importance.shape
    if not 1 <= window <= T:
        raise ValueError(f"window must be in [1, T={T}], got {window!r}")
    positions = (T - L + np.arange(L))[:, None] - np.arange(window)[None, :]   # (L, W)
    out = importance[:, np.arange(L)[:, None], np.clip(positions, 0, None)]
    out[:, positions < 0] = np.nan
    return out


def mean_interval(values, level: float = 0.95) -> tuple[float, tuple]:
    """Mean of per-sequence values (NaN skipped) and its normal interval at ``level``."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.nan, (np.nan, np.nan)
    mean = float(values.mean())
    if values.size < 2:
        return mean, (np.nan, np.nan)
    half = stats.norm.ppf(0.5 + level / 2) * values.std(ddof=1) / np.sqrt(values.size)
    return mean, (mean - half, mean + half)


def per_sequence_mean(values: np.ndarray) -> np.ndarray:
    """Mean over positions (axis 1), NaN positions skipped; NaN for a sequence with none."""
    counts = np.isfinite(values).sum(axis=1)
    sums = np.nansum(values, axis=1)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def selection_recovery(importance, selection, window: int, level: float = 0.95) -> Recovery:
    """Selection recovery of ``importance`` (n, L, T) against the true ``selection``
    (n, L, K) lags in windows of ``window`` = W tokens (module docstring)."""
    selection = np.asarray(selection)
    win = window_importance(importance, window)
    n, L, _ = win.shape
    if selection.ndim != 3 or selection.shape[:2] != (n, L):
        raise ValueError(f"selection must have shape (n, L, K) = ({n}, {L}, K) like the "
                         f"importance's first two axes, got {selection.shape}")
    K = selection.shape[2]
    if not 1 <= K <= window:
        raise ValueError(f"selection has K = {K} tokens per position; need 1 <= K <= "
                         f"window = {window}")
    if selection.max() >= window or selection.min() < -1:
        raise ValueError(f"selection lags must be in [0, window - 1 = {window - 1}] "
                         f"(-1: no full window), got values in [{selection.min()}, "
                         f"{selection.max()}]")
    if not np.all(np.nan_to_num(win, nan=0.0) >= 0):
        raise ValueError("importance must be >= 0 (e.g. token_importance's L1 norms)")
    valid = np.all(selection >= 0, axis=2) & np.all(np.isfinite(win), axis=2)
    ranked = np.argsort(-np.nan_to_num(win, nan=-1.0), axis=2, kind="stable")
    top1 = (ranked[..., 0] == selection[..., 0]).astype(float)
    chosen = np.zeros(win.shape, dtype=bool)
    np.put_along_axis(chosen, ranked[..., :K], True, axis=2)
    truth = np.zeros(win.shape, dtype=bool)
    np.put_along_axis(truth, np.clip(selection, 0, None), True, axis=2)
    topk = (chosen & truth).sum(axis=2) / K
    total = np.nansum(win, axis=2)
    mass = np.where(total > 0, np.nansum(np.where(truth, win, 0.0), axis=2)
                    / np.where(total > 0, total, 1.0), np.nan)
    values = {}
    for name, per_position in (("top1", top1), ("topk", topk), ("mass", mass)):
        per_position = np.where(valid, per_position, np.nan)
        values[name] = mean_interval(per_sequence_mean(per_position), level)
    chance = {"top1": 1.0 / window, "topk": K / window, "mass": K / window}
    return Recovery(**{name: values[name][0] for name in MEASURES},
                    **{f"{name}_interval": values[name][1] for name in MEASURES},
                    **{f"{name}_chance": chance[name] for name in MEASURES},
                    n_sequences=int(np.isfinite(per_sequence_mean(
                        np.where(valid, top1, np.nan))).sum()),
                    window=int(window), n_selected=int(K), level=float(level))


RECOVERY_COLUMNS = ("recovery_top1", "recovery_topk", "recovery_mass")


def recovery_by_size(results, level: float = 0.95):
    """Recovery against n beside risk against n, from a results table with the recovery
    columns (``nprates.analysis.schema``): one row per (target, estimator, n) with recovery.

    Columns: target, estimator, n, cells (ok cells with recovery), risk (mean), and for
    top1, topk and mass the mean over cells, its normal interval over cells (``_low``,
    ``_high``; cells are independent fits) and the chance level (``_chance``), and
    ``importance_method``. An empty DataFrame when no cell has recovery.
    """
    table = validate_results(results)
    table = table[(table.status == "ok") & table.recovery_top1.notna()]
    rows = []
    for (target, estimator, n), group in table.groupby(["target", "estimator", "n"], sort=True):
        row = {"target": target, "estimator": estimator, "n": int(n), "cells": len(group),
               "risk": float(group.risk.mean())}
        for col in RECOVERY_COLUMNS:
            mean, (low, high) = mean_interval(group[col].to_numpy(float), level)
            name = col.removeprefix("recovery_")
            row.update({name: mean, f"{name}_low": low, f"{name}_high": high,
                        f"{name}_chance": float(group[f"{col}_chance"].mean())})
        row["importance_method"] = ",".join(sorted(set(group.importance_method)))
        rows.append(row)
    columns = ["target", "estimator", "n", "cells", "risk"] + [
        f"{m}{suffix}" for m in MEASURES for suffix in ("", "_low", "_high", "_chance")] + [
        "importance_method"]
    return pd.DataFrame(rows, columns=columns)


def format_recovery_table(by_size, level: float = 0.95) -> str:
    """``recovery_by_size``'s table as text."""
    lines = [f"Selection recovery against n (importance: "
             f"{', '.join(sorted(set(by_size.importance_method)))}; means over cells, "
             f"{level:.0%} intervals; chance = uniform over the window)",
             f"{'target':<12} {'estimator':<12} {'n':>6} {'cells':>5} {'risk':>9}  "
             f"{'top1 [interval]':<22} {'topk':>6} {'mass':>6}  {'chance top1/topk/mass':<20}"]
    for r in by_size.itertuples():
        lines.append(f"{r.target:<12} {r.estimator:<12} {r.n:>6} {r.cells:>5} {r.risk:>9.4g}  "
                     f"{r.top1:.3f} [{r.top1_low:.3f}, {r.top1_high:.3f}]   {r.topk:>6.3f} "
                     f"{r.mass:>6.3f}  {r.top1_chance:.3f}/{r.topk_chance:.3f}/"
                     f"{r.mass_chance:.3f}")
    return "\n".join(lines)


def half_way_n(by_size, target, estimator) -> float:
    """The smallest n of ``recovery_by_size``'s rows at which the mean rank-1 recovery of
    (target, estimator) reaches half-way between chance and 1; NaN if none does."""
    r = by_size[(by_size.target == target) & (by_size.estimator == estimator)].sort_values("n")
    above = r[r.top1 >= (1 + r.top1_chance) / 2]
    return float(above.n.iloc[0]) if len(above) else np.nan
