"""Everything a capability report shows, computed once from the results table.

``CapabilityData.prepare`` summarises accuracy per (task setting, estimator) with
``nprates.analysis.capability.summarize_capability`` (t intervals over replicates, training
accuracy and the ``fit`` verdict with its ``limited`` flag at ``fit_threshold``) and
``capability_verdicts`` (per setting: comparable, or which networks are
optimisation-limited); the pages only draw and describe it. A capability study (docs/theory.md section 7) has no rate to
fit, so nothing of ``ReportData`` (fits, comparisons) applies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nprates.analysis.capability import (FIT_THRESHOLD, capability_verdicts,
                                         summarize_capability)

from .data import TableViews, estimator_order, estimator_palette, shown_text

TASK_KIND_NAMES = {"copying": "input copying", "recall": "associative recall"}


@dataclass
class CapabilityData(TableViews):
    table: pd.DataFrame
    study: dict | None
    source: str
    level: float
    summary: pd.DataFrame  # analysis.capability.summarize_capability's table
    verdicts: pd.DataFrame  # analysis.capability.capability_verdicts' table
    tasks: list
    estimators: list
    styles: dict
    classes: dict
    fit_threshold: float = FIT_THRESHOLD
    notes: list = field(default_factory=list)  # (task, text)

    @classmethod
    def prepare(cls, table, study=None, source="", level=0.95,
                fit_threshold=FIT_THRESHOLD) -> "CapabilityData":
        table = table.copy()
        for col in ("target", "estimator", "task", "task_param"):
            table[col] = table[col].astype(str)
        summary = summarize_capability(table, level=level, fit_threshold=fit_threshold)
        estimators, classes = estimator_order(table, study)
        study_tasks = list((study or {}).get("tasks") or {})
        present = list(pd.unique(summary["task"]))
        tasks = [t for t in study_tasks if t in present] + [t for t in present
                                                            if t not in study_tasks]
        data = cls(table=table, study=study, source=source, level=float(level),
                   summary=summary, verdicts=capability_verdicts(summary), tasks=tasks,
                   estimators=estimators, styles=estimator_palette(table, study),
                   classes=classes, fit_threshold=float(fit_threshold))
        data._collect_cell_notes()
        data._collect_verdict_notes()
        return data

    def _collect_cell_notes(self) -> None:
        bad = self.table[self.table["status"] != "ok"]
        for (task, est, status, err), g in bad.groupby(
                ["task", "estimator", "status", bad["error"].astype(str)], sort=True):
            param = str(g["task_param"].iloc[0])
            values = ", ".join(f"{v:g}" for v in sorted(set(g["task_value"])))
            msg = shown_text(err) if err else "no error message recorded"
            self.notes.append((task, f"{est}: {len(g)} cell(s) {status} at {param} = {values}: "
                                     f"{msg}"))

    def _collect_verdict_notes(self) -> None:
        """One note per setting whose networks did not all fit their training data."""
        for v in self.verdicts.itertuples():
            if v.status != "comparable":
                self.notes.append((v.task, f"{v.task_param} = {v.task_value:g}: {v.verdict}"))

    # ------------------------------------------------------------------ views
    def rows(self, task, estimator=None) -> pd.DataFrame:
        """The results rows of a task (and estimator)."""
        t = self.table
        m = t["task"] == task
        if estimator is not None:
            m &= t["estimator"] == estimator
        return t[m]

    def summary_of(self, task, estimator=None) -> pd.DataFrame:
        s = self.summary
        m = s["task"] == task
        if estimator is not None:
            m &= s["estimator"] == estimator
        return s[m]

    def estimators_of(self, task) -> list:
        here = set(self.rows(task)["estimator"])
        return [e for e in self.estimators if e in here]

    def param(self, task) -> str:
        """The name of the parameter swept in ``task``."""
        return str(self.rows(task)["task_param"].iloc[0])

    def values(self, task) -> list:
        """The swept values of ``task``, ascending."""
        return sorted(float(v) for v in pd.unique(self.rows(task)["task_value"]))

    def spec(self, task) -> dict:
        """The task's table in the study file ({} without one)."""
        spec = ((self.study or {}).get("tasks") or {}).get(task)
        return spec if isinstance(spec, dict) else {}

    def describe(self, task) -> str:
        """The task in words: kind, fixed parameters, swept parameter and values."""
        spec = self.spec(task)
        param = self.param(task)
        swept = f"{param} swept over {', '.join(f'{v:g}' for v in self.values(task))}"
        if not spec:
            return swept
        kind = str(spec.get("kind", "?"))
        fixed = [f"{k} = {v}" for k, v in spec.items() if k not in ("kind", param)]
        return "; ".join([TASK_KIND_NAMES.get(kind, kind)] + fixed + [swept])

    def chance(self, task) -> np.ndarray | None:
        """Token accuracy of uniform guessing, 1 / vocab_size, at each swept value (None
        when the vocabulary size is not known: no study file and not swept)."""
        values = np.asarray(self.values(task))
        if self.param(task) == "vocab_size":
            return 1.0 / values
        vocab = self.spec(task).get("vocab_size")
        if isinstance(vocab, (int, float)) and not isinstance(vocab, bool) and vocab > 0:
            return np.full(values.shape, 1.0 / vocab)
        return None

    def exact_equals_accuracy(self, task) -> bool:
        """Whether exact match equals token accuracy in every row (one scored token per
        sequence, as in associative recall): then one panel says it all."""
        ok = self.rows(task)
        ok = ok[ok["status"] == "ok"]
        return len(ok) > 0 and bool(np.allclose(ok["exact_match"], ok["accuracy"],
                                                rtol=0, atol=1e-12, equal_nan=False))

    def param_counts(self, task, estimator) -> tuple[float, float]:
        """Smallest and largest parameter count of an estimator over a task's settings."""
        v = self.summary_of(task, estimator)["n_params"].dropna()
        return (float(v.min()), float(v.max())) if len(v) else (math.nan, math.nan)

    def train_sizes(self) -> list:
        return sorted(int(n) for n in pd.unique(self.table["n"]))

    def notes_for(self, task) -> list:
        return [text for t, text in self.notes if t == task]
