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

Did each network fit its training data? A test accuracy says what an architecture can do
only when training reached what it can reach. Each (task setting, estimator) gets a
``fit`` verdict from its replicates' training accuracy (``train_accuracy``, on the
training split) and how their training ended (``stopped_by``):

- "fitted": every replicate's training accuracy is at least ``fit_threshold`` (0.99 by
  default: near-perfect, as both tasks are noiseless) and none stopped at the cap;
- "fitted (cap)": every replicate reached the threshold but one stopped at the cap;
- "not fitted": some replicate stayed below the threshold (training ended by early
  stopping: validation accuracy stopped improving);
- "not fitted (cap)": likewise, and some replicate stopped at the cap;
- "unknown": no training accuracy recorded (results of older studies).

All but "fitted" and "unknown" are optimisation-limited (``limited``): the test accuracy
of such a cell bounds what that training reached, not what the architecture can do.
``capability_verdicts`` states per setting whether the networks' test accuracies can be
compared (all fitted) or which of them are optimisation-limited; ``fnn_sweep`` reads an
FNN-size sweep (estimators that differ only in ``fnn_width`` / ``fnn_depth``, from the
``capacity`` column) and names the smallest FNN that fits its training data.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from .formatting import num, wrap
from .intervals import t_interval
from .schema import validate_results
from .untrusted import loads_json

#: Columns of ``summarize_capability``'s table.
SUMMARY_COLUMNS = ["task", "task_param", "task_value", "target", "estimator", "n", "n_ok",
                   "n_failed", "accuracy", "accuracy_low", "accuracy_high", "exact_match",
                   "exact_match_low", "exact_match_high", "train_accuracy",
                   "train_accuracy_low", "train_accuracy_high", "n_fitted", "n_cap", "fit",
                   "limited", "lr", "capacity", "n_params", "train_loss", "fit_seconds",
                   "level"]
#: Training accuracy from which a replicate counts as having fitted its training data.
FIT_THRESHOLD = 0.99
#: The ``fit`` verdicts (module docstring); all but "fitted" and "unknown" are limited.
FIT_VERDICTS = ("fitted", "fitted (cap)", "not fitted", "not fitted (cap)", "unknown")
#: The hyperparameters an FNN-size sweep varies (keys of the ``capacity`` JSON).
FNN_KEYS = ("fnn_width", "fnn_depth")


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


def _fit_verdict(train_accuracy: np.ndarray, stopped_by: np.ndarray,
                 threshold: float) -> tuple[str, int, int]:
    """The ``fit`` verdict of a cell's successful replicates (module docstring), the number
    of replicates that reached ``threshold`` and the number stopped by the cap."""
    n_cap = int((stopped_by == "cap").sum())
    known = train_accuracy[np.isfinite(train_accuracy)]
    n_fitted = int((known >= threshold).sum())
    if known.size == 0 or known.size < train_accuracy.size:
        return "unknown", n_fitted, n_cap
    verdict = "fitted" if n_fitted == known.size else "not fitted"
    return (f"{verdict} (cap)" if n_cap else verdict), n_fitted, n_cap


def _check_threshold(fit_threshold) -> float:
    if not (isinstance(fit_threshold, (int, float)) and not isinstance(fit_threshold, bool)
            and 0 < fit_threshold <= 1):
        raise ValueError(f"fit_threshold must be a number in (0, 1], got {fit_threshold!r}")
    return float(fit_threshold)


def _first(values: pd.Series) -> str:
    values = values.dropna().astype(str)
    values = values[values.str.len() > 0]
    return str(values.iloc[0]) if len(values) else ""


def summarize_capability(results: pd.DataFrame, level: float = 0.95,
                         fit_threshold: float = FIT_THRESHOLD) -> pd.DataFrame:
    """Accuracy and exact match per (task setting, estimator): mean over replicates with
    a ``level`` t interval (module docstring), the training accuracy likewise with the
    ``fit`` verdict, plus parameter counts and training loss.

    Parameters
    ----------
    results : results table of a capability study (``nprates.analysis.schema``).
    level : confidence level of the intervals, in (0, 1).
    fit_threshold : training accuracy, in (0, 1], from which a replicate has fitted its
        training data.

    Returns one row per (task setting, estimator) with the columns ``SUMMARY_COLUMNS``:
    ``n`` the training size, ``n_ok`` / ``n_failed`` the replicates that succeeded / did
    not, ``train_accuracy`` (with its interval) the mean training-split accuracy,
    ``n_fitted`` the replicates at or above ``fit_threshold``, ``n_cap`` those stopped by
    the step/epoch cap, ``fit`` the verdict and ``limited`` whether it is
    optimisation-limited (module docstring), ``lr`` the median learning rate used,
    ``capacity`` the size hyperparameters (JSON, of the first replicate), ``n_params``
    the median parameter count, ``train_loss`` and ``fit_seconds`` means over successful
    replicates. Ordered by task (first appearance), swept value, then estimator (first
    appearance). A row without ``accuracy`` takes 1 - ``risk``.
    """
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    threshold = _check_threshold(fit_threshold)
    table = validate_results(results)
    for col, default in (("train_accuracy", math.nan), ("stopped_by", ""), ("lr", math.nan),
                         ("capacity", "")):
        if col not in table.columns:
            table[col] = default
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
        train_acc = ok["train_accuracy"].to_numpy(float)
        train = _mean_interval(train_acc[np.isfinite(train_acc)], level)
        fit, n_fitted, n_cap = _fit_verdict(
            train_acc, ok["stopped_by"].fillna("").astype(str).to_numpy(), threshold)
        rows.append({
            "task": task, "task_param": str(group["task_param"].iloc[0]),
            "task_value": float(value), "target": target, "estimator": estimator,
            "n": int(group["n"].max()), "n_ok": len(ok), "n_failed": len(group) - len(ok),
            "accuracy": acc[0], "accuracy_low": acc[1], "accuracy_high": acc[2],
            "exact_match": exact[0], "exact_match_low": exact[1], "exact_match_high": exact[2],
            "train_accuracy": train[0], "train_accuracy_low": train[1],
            "train_accuracy_high": train[2], "n_fitted": n_fitted, "n_cap": n_cap,
            "fit": fit if len(ok) else "unknown",
            "limited": bool(len(ok)) and fit not in ("fitted", "unknown"),
            "lr": float(ok["lr"].median()) if ok["lr"].notna().any() else math.nan,
            "capacity": _first(ok["capacity"]),
            "n_params": float(ok["n_params"].median()) if len(ok) else math.nan,
            "train_loss": float(ok["train_loss"].mean()) if len(ok) else math.nan,
            "fit_seconds": float(ok["fit_seconds"].mean()) if len(ok) else math.nan,
            "level": float(level)})
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    out["_task"] = out["task"].map(tasks.index)
    out["_estimator"] = out["estimator"].map(estimators.index)
    out = out.sort_values(["_task", "task_value", "_estimator"], kind="stable")
    out = out.drop(columns=["_task", "_estimator"]).reset_index(drop=True)
    out.attrs["fit_threshold"] = threshold
    return out


def capability_verdicts(summary: pd.DataFrame) -> pd.DataFrame:
    """Per task setting: can the networks' test accuracies be compared?

    ``summary`` is ``summarize_capability``'s table. Returns one row per (task, swept
    value) with ``task``, ``task_param``, ``task_value``, ``status`` ("comparable": every
    estimator fitted its training data; "optimisation-limited": some did not, or stopped
    at the cap; "unknown": no training accuracy recorded for some), ``fitted`` and
    ``limited`` (comma-separated estimators) and ``verdict``: the status, with the limited
    estimators and their ``fit`` verdicts in parentheses.
    """
    rows = []
    for (task, value), block in summary.groupby(["task", "task_value"], sort=False):
        fitted = [e for e, f in zip(block["estimator"], block["fit"]) if f == "fitted"]
        limited = [(e, f) for e, f, lim in zip(block["estimator"], block["fit"],
                                                block["limited"]) if lim]
        unknown = [e for e, f in zip(block["estimator"], block["fit"]) if f == "unknown"]
        if limited:
            status = "optimisation-limited"
            verdict = f"{status} ({'; '.join(f'{e}: {f}' for e, f in limited)})"
        elif unknown:
            status = "unknown"
            verdict = f"{status} (no training accuracy: {', '.join(unknown)})"
        else:
            status = verdict = "comparable"
        rows.append({"task": task, "task_param": str(block["task_param"].iloc[0]),
                     "task_value": float(value), "status": status, "fitted": ", ".join(fitted),
                     "limited": ", ".join(e for e, _ in limited), "verdict": verdict})
    return pd.DataFrame(rows, columns=["task", "task_param", "task_value", "status", "fitted",
                                       "limited", "verdict"])


def _capacity(text: str) -> dict:
    try:
        value = loads_json(text) if text else {}
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def is_fnn_sweep(summary: pd.DataFrame) -> bool:
    """Whether the estimators of ``summary`` form an FNN-size sweep: at least two, all
    with the same ``capacity`` apart from ``FNN_KEYS`` and no two with the same FNN."""
    caps = {e: _capacity(c) for e, c in zip(summary["estimator"], summary["capacity"])}
    if len(caps) < 2 or not all(all(k in c for k in FNN_KEYS) for c in caps.values()):
        return False
    rest = {json.dumps({k: v for k, v in c.items() if k not in FNN_KEYS}, sort_keys=True)
            for c in caps.values()}
    fnns = {tuple(c[k] for k in FNN_KEYS) for c in caps.values()}
    return len(rest) == 1 and len(fnns) == len(caps)


def fnn_sweep(summary: pd.DataFrame, estimators=None) -> pd.DataFrame:
    """An FNN-size sweep read from ``summarize_capability``'s table.

    ``estimators`` (default: all of the summary) must differ only in ``fnn_width`` and
    ``fnn_depth`` (their ``capacity``), else ValueError. Returns per (task setting,
    estimator), ordered by setting then parameter count: ``task``, ``task_param``,
    ``task_value``, ``estimator``, ``fnn_width``, ``fnn_depth``, ``n_params``,
    ``train_accuracy``, ``accuracy`` (with their intervals), ``fit``, and
    ``smallest_fitted``: True on the fewest-parameter estimator whose ``fit`` is "fitted"
    in that setting (none when no FNN tried fits its training data).
    """
    if estimators is not None:
        estimators = [estimators] if isinstance(estimators, str) else list(estimators)
        missing = sorted(set(estimators) - set(summary["estimator"]))
        if missing:
            raise ValueError(f"estimators {missing} are not in the summary (it has "
                             f"{list(pd.unique(summary['estimator']))})")
        summary = summary[summary["estimator"].isin(estimators)]
    if not is_fnn_sweep(summary):
        raise ValueError(f"estimators {list(pd.unique(summary['estimator']))} do not form an "
                         f"FNN-size sweep: they must be at least two, with {list(FNN_KEYS)} "
                         f"in their capacity and the same capacity otherwise")
    out = summary.copy()
    caps = out["capacity"].map(_capacity)
    for key in FNN_KEYS:
        out[key] = caps.map(lambda c: c[key]).astype(int)
    out = out.sort_values(["task", "task_value", "n_params", "fnn_width", "fnn_depth"],
                          kind="stable")
    out["smallest_fitted"] = False
    for _, block in out.groupby(["task", "task_value"], sort=False):
        fitted = block[block["fit"] == "fitted"]
        if len(fitted):
            out.loc[fitted.index[0], "smallest_fitted"] = True
    columns = ["task", "task_param", "task_value", "estimator", *FNN_KEYS, "n_params",
               "train_accuracy", "train_accuracy_low", "train_accuracy_high", "accuracy",
               "accuracy_low", "accuracy_high", "fit", "smallest_fitted"]
    return out[columns].reset_index(drop=True)


def _sweep_lines(summary: pd.DataFrame) -> list[str]:
    """The FNN-size sweep's conclusion per setting, or [] when it is not a sweep."""
    lines = []
    for (task, value), block in summary.groupby(["task", "task_value"], sort=False):
        if not is_fnn_sweep(block):
            continue
        sweep = fnn_sweep(block)
        where = f"task {task}, {block['task_param'].iloc[0]} = {value:g}"
        best = sweep[sweep["smallest_fitted"]]
        if len(best):
            r = best.iloc[0]
            lines.append(f"{where}: the smallest FNN that fits its training data is "
                         f"{r.estimator} (fnn_width {r.fnn_width}, fnn_depth {r.fnn_depth}, "
                         f"{num(r.n_params, '.0f')} parameters).")
        else:
            r = sweep.iloc[-1]
            lines.append(f"{where}: no FNN tried fits its training data; the largest tried is "
                         f"{r.estimator} (fnn_width {r.fnn_width}, fnn_depth {r.fnn_depth}, "
                         f"{num(r.n_params, '.0f')} parameters), training accuracy "
                         f"{num(r.train_accuracy, '.3f')}.")
    return lines


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
        lines.append(f"{param:>{pw}}{'estimator':>{ew}}{'ok/failed':>11}{'train acc':>10}"
                     f"{'accuracy':>10}{'interval':>17}{'exact':>8}{'params':>10}"
                     f"{'train CE':>10}  fit")
        for r in block.itertuples():
            interval = f"[{num(r.accuracy_low, '.3f')}, {num(r.accuracy_high, '.3f')}]"
            lines.append(f"{r.task_value:>{pw}.0f}{r.estimator:>{ew}}"
                         f"{f'{r.n_ok}/{r.n_failed}':>11}{num(r.train_accuracy, '.3f'):>10}"
                         f"{num(r.accuracy, '.3f'):>10}{interval:>17}"
                         f"{num(r.exact_match, '.3f'):>8}{num(r.n_params, '.0f'):>10}"
                         f"{num(r.train_loss, '.3f'):>10}  {r.fit}")
        lines += [""] + [f"{param} = {v.task_value:g}: {v.verdict}"
                         for v in capability_verdicts(block).itertuples()]
    sweep = _sweep_lines(summary)
    if sweep:
        lines += ["", "FNN-size sweep:"] + [ln for text in sweep for ln in wrap(text)]
    threshold = float(summary.attrs.get("fit_threshold", FIT_THRESHOLD))
    lines += [""] + wrap(f"accuracy: fraction of scored test tokens predicted right; exact: "
                         f"fraction of test sequences with every scored token right; train "
                         f"acc: token accuracy on the training split (mean over replicates); "
                         f"train CE: final training cross-entropy (nats per scored token); "
                         f"fit: 'fitted' when every replicate's training accuracy is at least "
                         f"{threshold:g} and none stopped at the step/epoch cap, else "
                         f"optimisation-limited ('not fitted', or '(cap)'). A setting's test "
                         f"accuracies compare architectures only where every network fitted.")
    return "\n".join(lines)
