"""Everything a report shows, computed once from the results table with ``nprates.analysis``.

``ReportData.prepare`` fits every (target, estimator) with ``nprates.analysis.fit_all`` /
``fit_rate`` (the same settings give the same numbers as ``nprates fit``), checks
them against the theory with ``check_theory`` and compares every pair of estimators
on each target with ``compare_rates``. Nothing statistical is computed here: pages
only draw and describe these results. Problems that stop one fit or one comparison
do not stop the report; they become notes shown on the pages.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from nprates.analysis import (check_theory, compare_rates, fit_all, fit_rate, risk_ratios,
                              validate_results)
from nprates.analysis.results_dir import STUDY_FILE, read_results_dir
from nprates.analysis.untrusted import loads_json, loads_toml, printable, read_text
from nprates.analysis.stacking import study_labels

from .style import estimator_styles, family, order_estimators


# --------------------------------------------------------------------------- the input

def read_study(path) -> dict | None:
    """``DIR/study.toml`` of a results directory as a plain dict (None if absent).

    The file may come from someone else (docs/trust.md): it is read with a size and
    depth limit (ValueError naming the file otherwise), and every text in it is made
    safe to show (``shown_text``)."""
    p = Path(path) / STUDY_FILE
    if not p.is_file():
        return None
    try:
        return _shown_values(loads_toml(read_text(p)))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{printable(p)}: cannot read the study file ({exc})") from None


#: Longest text from a study file that a report shows (characters).
MAX_SHOWN = 300


def shown_text(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` as a report may show it: control characters escaped, at most ``limit``
    characters, and ``$`` escaped so that matplotlib draws it instead of reading mathtext."""
    return printable(text, limit).replace("$", r"\$")


def _shown_values(value):
    if isinstance(value, str):
        return shown_text(value)
    if isinstance(value, dict):
        return {shown_text(k): _shown_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shown_values(v) for v in value]
    return value


def load_input(results, study=None, loader=None):
    """(table, study dict or None, source text) from a DataFrame or a results directory.

    A directory is read by ``loader(path) -> DataFrame``, by default
    ``nprates.analysis.read_results_dir`` (the directories ``nprates run`` writes, with its
    errors for a missing, empty or cell-less directory); its ``study.toml`` supplies
    ``study`` when that is not given.
    """
    if isinstance(results, pd.DataFrame):
        if len(results) == 0:
            raise ValueError("results table is empty: nothing to report")
        table, source = results, "a results table"
    elif isinstance(results, (str, os.PathLike)):
        path = Path(results)
        table = (loader or read_results_dir)(path)
        if table is None or len(table) == 0:
            raise ValueError(f"results directory {str(path)!r} holds no results (the loader "
                             f"returned no rows)")
        if not table.attrs.get("study_hash"):
            from nprates.studies.completeness import run_record

            table.attrs.update(run_record(path, table))
        if study is None:
            study = read_study(path)
        source = str(path)
    else:
        raise ValueError(f"results must be a pandas DataFrame or a results directory, got "
                         f"{type(results).__name__}")
    if study is not None and not isinstance(study, dict):
        raise ValueError(f"study must be a dict (the study file's contents), got "
                         f"{type(study).__name__}")
    return validate_results(table), study, source


# --------------------------------------------------------------------------- the data

def study_classes(table: pd.DataFrame, study: dict | None) -> dict:
    """{label: class path} of the study's estimators in the study file's order: from
    ``study``, else from ``table.attrs["estimators"]`` (what ``load_results`` records), so
    that a table read with ``load_results`` and filtered keeps the report's order and
    colours; {} when neither says."""
    if study:
        return {str(lab): str(spec.get("class", ""))
                for lab, spec in (study.get("estimators") or {}).items()
                if isinstance(spec, dict)}
    recorded = getattr(table, "attrs", {}).get("estimators")
    return {str(k): str(v) for k, v in recorded.items()} if isinstance(recorded, dict) else {}


def estimator_palette(table: pd.DataFrame, study: dict | None) -> dict:
    """{label: {"color", "marker"}} of the estimators of ``table``, keyed by name: assigned
    over every estimator of the study (page order), so the same estimator gets the same
    colour and marker in a report, in a figure of a subset, and in one's own axes."""
    order, classes = estimator_order(table, study)
    every = order_estimators(list(classes) + order, classes)
    styles = estimator_styles(every)
    return {e: styles[e] for e in order}


def estimator_order(table: pd.DataFrame, study: dict | None) -> tuple[list, dict]:
    """The estimators of ``table`` in page order (SSM-like first, then Transformer-like,
    then the rest; the study file's order within each), and their class paths by label
    (from the study file or the table's record of it; empty without one)."""
    classes = study_classes(table, study)
    study_order = list(classes)
    present = list(pd.unique(table["estimator"].astype(str)))
    known = [e for e in study_order if e in present] + sorted(
        e for e in present if e not in study_order)
    return order_estimators(known, classes), classes


class TableViews:
    """What a report's title page reads from the results table (``self.table``) and the
    study file (``self.study``), whatever the kind of study."""

    @property
    def name(self) -> str:
        if self.study and self.study.get("name"):
            return str(self.study["name"])
        names = [s for s in pd.unique(self.table["study"].astype(str)) if s and s != "nan"]
        return ", ".join(names) if names else "results"

    def versions(self) -> dict:
        """Library versions recorded with the cells (the most common record; from
        ``table.attrs["versions"]`` where ``load_results`` moved them)."""
        vals = [v for v in self.table["versions"].astype(str) if v and v != "nan"] \
            if "versions" in self.table else []
        if not vals:
            recorded = self.table.attrs.get("versions")
            return dict(recorded) if isinstance(recorded, dict) else {}
        common = pd.Series(vals).value_counts().index[0]
        try:
            out = loads_json(common)
        except (TypeError, ValueError):
            return {"versions": shown_text(common)}
        if not isinstance(out, dict):
            return {"versions": shown_text(str(out))}
        return {shown_text(str(k), 40): shown_text(str(v), 40) for k, v in out.items()}

    def run_text(self) -> str:
        """The run's dates (from the cell files), root seed and study hash, in words ("" when
        the table carries no record of its directory)."""
        attrs = self.table.attrs
        seed = attrs.get("seed", (self.study or {}).get("seed"))
        parts = []
        dates = attrs.get("run_dates")
        if dates:
            parts.append(dates[0] if dates[0] == dates[1] else f"{dates[0]} to {dates[1]}")
        if seed is not None:
            parts.append(f"root seed {seed}")
        if attrs.get("study_hash"):
            parts.append(f"study hash {attrs['study_hash']}")
        return "; ".join(parts)

    def devices(self) -> list:
        return [shown_text(d, 40) for d in pd.unique(self.table["device"].astype(str))
                if d and d != "nan"]

    def status_counts(self) -> dict:
        c = self.table["status"].value_counts()
        return {s: int(c.get(s, 0)) for s in ("ok", "failed", "diverged")}

    def compute_seconds(self) -> float:
        v = pd.to_numeric(self.table["fit_seconds"], errors="coerce")
        return float(v.sum()) if v.notna().any() else math.nan


@dataclass
class Fit:
    """One (target, estimator): its RateFit and TheoryCheck, or why there is none."""

    target: str
    estimator: str
    fit: object = None  # analysis.RateFit
    check: object = None  # analysis.TheoryCheck
    error: str = ""
    row: dict = field(default_factory=dict)  # its row of fit_all's table


@dataclass
class Pair:
    """A comparison of two estimators on one target, or why there is none."""

    target: str
    a: str
    b: str
    comparison: object = None  # analysis.RateComparison
    error: str = ""
    #: analysis.risk_ratios of a / b at every n, plateau sizes included (a ratio needs no
    #: rate, so pairs that are not compared have one too); None when no n has both
    risk_ratio: object = None


@dataclass
class ReportData(TableViews):
    table: pd.DataFrame
    study: dict | None
    source: str
    method: str
    level: float
    margin: float
    n_boot: int
    seed: object
    polylog_k: object
    targets: list
    estimators: list
    styles: dict
    classes: dict
    fit_table: pd.DataFrame
    fits: dict  # (target, estimator) -> Fit
    pairs: dict  # target -> [Pair]
    notes: list = field(default_factory=list)  # (target, subject, text)

    # ------------------------------------------------------------------ preparation
    @classmethod
    def prepare(cls, table, study=None, source="", method="loglog", level=0.95, margin=0.1,
                n_boot=2000, seed=0, polylog_k=None, compare=True) -> "ReportData":
        """Fit every (target, estimator), check it against the theory and, with
        ``compare``, compare every pair of estimators per target (``pairs`` stays empty
        without it)."""
        table = table.copy()
        table["target"] = table["target"].astype(str)
        table["estimator"] = table["estimator"].astype(str)
        if len(study_labels(table)) > 1:  # stacked studies: each (estimator, study) apart
            table["estimator"] += " (" + table["study"].astype(str) + ")"
        estimators, classes = estimator_order(table, study)
        target_order = list((study or {}).get("targets") or {})
        tpresent = list(pd.unique(table["target"]))
        targets = [t for t in target_order if t in tpresent] + sorted(
            t for t in tpresent if t not in target_order)
        fit_table = fit_all(table, method=method, level=level, n_boot=n_boot, seed=seed,
                            polylog_k=polylog_k)
        data = cls(table=table, study=study, source=source, method=method, level=float(level),
                   margin=float(margin), n_boot=int(n_boot), seed=seed, polylog_k=polylog_k,
                   targets=targets, estimators=estimators,
                   styles=estimator_palette(table, study), classes=classes,
                   fit_table=fit_table, fits={}, pairs={})
        data._fit_each()
        if compare:
            data._compare_pairs()
        data._collect_cell_notes()
        return data

    def _fit_each(self) -> None:
        rows = {(r["target"], r["estimator"]): r for r in self.fit_table.to_dict("records")}
        for tgt in self.targets:
            for est in self.estimators_of(tgt):
                row = rows.get((tgt, est), {})
                item = Fit(tgt, est, row=row)
                if row.get("verdict") == "no fit":
                    item.error = str(row.get("warnings") or "no successful fits")
                    self.note(tgt, est, f"no exponent could be fitted: {item.error}")
                else:
                    try:
                        item.fit = fit_rate(self.table, estimator=est, target=tgt,
                                            method=self.method, level=self.level,
                                            n_boot=self.n_boot, seed=self.seed,
                                            polylog_k=self.polylog_k, second_opinion=False)
                    except ValueError as exc:
                        item.error = str(exc)
                        self.note(tgt, est, f"no exponent could be fitted: {exc}")
                    else:
                        if np.isfinite(item.fit.theory_exponent):
                            item.check = check_theory(item.fit)
                        for w in item.fit.warnings:
                            self.note(tgt, est, w)
                self.fits[(tgt, est)] = item

    def _compare_pairs(self) -> None:
        for tgt in self.targets:
            ests = self.estimators_of(tgt)
            pairs = [(a, b) for i, a in enumerate(ests) for b in ests[i + 1:]]
            fam = {e: family(e, self.classes.get(e, "")) for e in ests}
            first = [p for p in pairs if {fam[p[0]], fam[p[1]]} == {"ssm", "transformer"}]
            pairs = first[:1] + [p for p in pairs if p not in first[:1]]
            out = []
            for a, b in pairs:
                item = Pair(tgt, a, b)
                try:
                    ratios = risk_ratios(self.table, a, b, target=tgt, level=self.level)
                    item.risk_ratio = ratios if len(ratios) else None
                except ValueError:  # no finished cell of a or b: nothing to set side by side
                    pass
                if self.fits[(tgt, a)].fit is None or self.fits[(tgt, b)].fit is None:
                    missing = [e for e in (a, b) if self.fits[(tgt, e)].fit is None]
                    item.error = f"no fit for {' and '.join(missing)}"
                else:
                    try:
                        item.comparison = compare_rates(
                            self.table, a, b, margin=self.margin, target=tgt,
                            method=self.method, level=self.level, n_boot=self.n_boot,
                            seed=self.seed, polylog_k=self.polylog_k)
                    except ValueError as exc:
                        item.error = str(exc)
                        self.note(tgt, f"{a} vs {b}", f"not compared: {exc}")
                out.append(item)
            self.pairs[tgt] = out

    def _collect_cell_notes(self) -> None:
        bad = self.table[self.table["status"] != "ok"]
        for (tgt, est, status, err), g in bad.groupby(
                ["target", "estimator", "status", bad["error"].astype(str)], sort=True):
            sizes = ", ".join(str(int(n)) for n in sorted(set(g["n"])))
            msg = shown_text(err) if err else "no error message recorded"
            self.note(tgt, est, f"{len(g)} cell(s) {status} at n = {sizes}: {msg}")

    # ------------------------------------------------------------------ views
    def estimators_of(self, target) -> list:
        here = set(self.table.loc[self.table["target"] == target, "estimator"])
        return [e for e in self.estimators if e in here]

    def rows(self, target, estimator=None) -> pd.DataFrame:
        t = self.table
        m = t["target"] == target
        if estimator is not None:
            m &= t["estimator"] == estimator
        return t[m]

    def theory_exponent(self, target) -> float:
        v = pd.to_numeric(self.rows(target)["theory_exponent"], errors="coerce").dropna()
        return float(v.iloc[0]) if len(v) else math.nan

    def a_dagger(self, target) -> float:
        v = pd.to_numeric(self.rows(target)["a_dagger"], errors="coerce").dropna()
        return float(v.iloc[0]) if len(v) else math.nan

    def sizes(self, target=None) -> list:
        t = self.table if target is None else self.rows(target)
        return sorted(int(n) for n in pd.unique(t["n"]))

    def note(self, target, subject, text) -> None:
        """Record a caution shown on the pages (``subject``: an estimator or a pair)."""
        item = (str(target), str(subject), " ".join(str(text).split()))
        if item not in self.notes:
            self.notes.append(item)

    def notes_for(self, target=None, subject=None) -> list:
        return [n for n in self.notes if (target is None or n[0] == target)
                and (subject is None or n[1] == subject)]
