"""Capability studies: token accuracy per task setting and estimator, over replicates.

A capability study (docs/theory.md section 7) trains every estimator at one training size on
token-selection tasks whose difficulty grows with a swept parameter (sequence length for
copying, vocabulary size or number of pairs for recall). There is no rate to fit: the
result is accuracy against the swept parameter, per estimator, as in the papers'
Figure C.1. Its rows are marked by a non-empty ``task`` column (``nprates.analysis.schema``).

>>> summary = summarize_capability(results)           # doctest: +SKIP
>>> print(format_capability_table(summary))           # doctest: +SKIP

Intervals are Student-t intervals over replicates: mean +- t_{k-1} * sd / sqrt(k) over
the k successful replicates of a (task setting, estimator), clipped to [0, 1]; NaN with
fewer than two replicates. They describe replicate-to-replicate variation (training
data and initialisation), which dominates the test-set error at the study's test sizes
(that error is in the ``accuracy_se`` column of each row).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .formatting import num, wrap
from .intervals import t_interval
from .schema import validate_results

#: Columns of ``summarize_capability``'s table.
SUMMARY_COLUMNS = ["task", "task_param", "task_value", "target", "estimator", "n", "n_ok",
                   "n_failed", "accuracy", "accuracy_low", "accuracy_high", "exact_match",
                   "exact_match_low", "exact_match_high", "n_params", "train_loss",
                   "fit_seconds", "level"]


def is_capability(results: pd.DataFrame) -> bool:
    """Whether ``results`` holds capability rows (non-empty ``task``).

    Raises ValueError for a table that mixes capability and rate rows: a study is of one
    kind, and the two kinds are analysed differently.
    """
    if "task" not in results.columns:
        return False
    marked = results["task"].fillna("").astype(str).str.len() > 0
    if marked.any() and not marked.all():
        raise ValueError(f"the results table mixes {int(marked.sum())} capability rows (column "
                         f"'task' set) with {int((~marked).sum())} rate rows; analyse each "
                         f"study on its own")
    return bool(marked.any())


def _mean_interval(values: np.ndarray, level: float) -> tuple[float, float, float]:
    """Mean of per-replicate values and its t interval over replicates, clipped to [0, 1]."""
    if values.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, math.nan, math.nan
    lo, hi = t_interval(mean, values.std(ddof=1) / math.sqrt(values.size), values.size - 1,
                        level)
    return mean, max(0.0, float(lo)), min(1.0, float(hi))


def summarize_capability(results: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Accuracy and exact match per (task setting, estimator): mean over replicates with
    a ``level`` t interval (module docstring), plus parameter counts and training loss.

    Parameters
    ----------
    results : results table of a capability study (``nprates.analysis.schema``).
    level : confidence level of the intervals, in (0, 1).

    Returns one row per (task setting, estimator) with the columns ``SUMMARY_COLUMNS``:
    ``n`` the training size, ``n_ok`` / ``n_failed`` the replicates that succeeded / did
    not, ``n_params`` the median parameter count, ``train_loss`` and ``fit_seconds``
    means over successful replicates. Ordered by task (first appearance), swept value,
    then estimator (first appearance). A row without ``accuracy`` takes 1 - ``risk``.
    """
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    table = validate_results(results)
    if not is_capability(table):
        raise ValueError("the results table holds no capability rows (column 'task' is empty "
                         "everywhere): it is a rate study; use fit_rate / fit_all")
    table["accuracy"] = table["accuracy"].fillna(1.0 - table["risk"])
    tasks = list(pd.unique(table["task"]))
    estimators = list(pd.unique(table["estimator"]))
    rows = []
    for (task, value, target, estimator), group in table.groupby(
            ["task", "task_value", "target", "estimator"], sort=False, dropna=False):
        ok = group[(group["status"] == "ok") & group["accuracy"].notna()]
        acc = _mean_interval(ok["accuracy"].to_numpy(float), level)
        exact = _mean_interval(ok["exact_match"].dropna().to_numpy(float), level)
        rows.append({
            "task": task, "task_param": str(group["task_param"].iloc[0]),
            "task_value": float(value), "target": target, "estimator": estimator,
            "n": int(group["n"].max()), "n_ok": len(ok), "n_failed": len(group) - len(ok),
            "accuracy": acc[0], "accuracy_low": acc[1], "accuracy_high": acc[2],
            "exact_match": exact[0], "exact_match_low": exact[1], "exact_match_high": exact[2],
            "n_params": float(ok["n_params"].median()) if len(ok) else math.nan,
            "train_loss": float(ok["train_loss"].mean()) if len(ok) else math.nan,
            "fit_seconds": float(ok["fit_seconds"].mean()) if len(ok) else math.nan,
            "level": float(level)})
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    out["_task"] = out["task"].map(tasks.index)
    out["_estimator"] = out["estimator"].map(estimators.index)
    out = out.sort_values(["_task", "task_value", "_estimator"], kind="stable")
    return out.drop(columns=["_task", "_estimator"]).reset_index(drop=True)


def format_capability_table(summary: pd.DataFrame) -> str:
    """``summarize_capability``'s table as aligned text, one block per task."""
    level = float(summary["level"].iloc[0]) if len(summary) else 0.95
    lines = wrap(f"Capability study: no convergence rate to fit. Token accuracy and exact "
                 f"match on the test set, mean over replicates with a {level:g} t interval "
                 f"over replicates.")
    ew = max([9] + [len(str(e)) for e in summary["estimator"]]) + 2
    for task, block in summary.groupby("task", sort=False):
        param = str(block["task_param"].iloc[0])
        n = int(block["n"].iloc[0])
        lines += ["", f"task {task}: accuracy against {param} (train size {n})"]
        pw = max(len(param), 5) + 2
        lines.append(f"{param:>{pw}}{'estimator':>{ew}}{'ok/failed':>11}{'accuracy':>10}"
                     f"{'interval':>17}{'exact':>8}{'params':>10}{'train CE':>10}")
        for r in block.itertuples():
            interval = f"[{num(r.accuracy_low, '.3f')}, {num(r.accuracy_high, '.3f')}]"
            lines.append(f"{r.task_value:>{pw}.0f}{r.estimator:>{ew}}"
                         f"{f'{r.n_ok}/{r.n_failed}':>11}{num(r.accuracy, '.3f'):>10}"
                         f"{interval:>17}{num(r.exact_match, '.3f'):>8}"
                         f"{num(r.n_params, '.0f'):>10}{num(r.train_loss, '.3f'):>10}")
    lines += [""] + wrap("accuracy: fraction of scored test tokens predicted right; exact: "
                         "fraction of test sequences with every scored token right; train "
                         "CE: final training cross-entropy (nats per scored token).")
    return "\n".join(lines)
