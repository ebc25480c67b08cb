"""The order estimators and targets are listed in, the same in tables, the CLI and the
reports: SSM-like estimators first, then Transformer-like, then the rest, the study
file's order within each; targets in the study file's order.

The study's order comes from ``table.attrs`` where ``nprates.studies.load_results`` (and
the CLI) record it (``"estimators"``: {label: class path}, ``"targets"``: [labels]);
without that record, labels sort by name within each family.
"""

from __future__ import annotations

import re

import pandas as pd


def family(label: str, cls: str = "") -> str:
    """'ssm', 'transformer' or '' from an estimator's label or class path."""
    text = f"{label} {cls}".lower()
    if "transformer" in text:
        return "transformer"
    if re.search(r"ssm|state.?space|mamba|s4", text):
        return "ssm"
    return ""


def order_estimators(labels, classes=None) -> list:
    """SSM-like estimators first, then Transformer-like, then the rest (order kept)."""
    classes = classes or {}
    labels = list(dict.fromkeys(str(x) for x in labels))
    rank = {"ssm": 0, "transformer": 1, "": 2}
    return sorted(labels, key=lambda x: (rank[family(x, classes.get(x, ""))], labels.index(x)))


def table_order(table: pd.DataFrame) -> tuple[list, list]:
    """(targets, estimators) of ``table`` in listing order (see the module docstring)."""
    attrs = getattr(table, "attrs", {})
    classes = attrs.get("estimators") if isinstance(attrs.get("estimators"), dict) else {}
    study_targets = list(attrs.get("targets") or [])
    targets = list(pd.unique(table["target"].astype(str)))
    estimators = list(pd.unique(table["estimator"].astype(str)))
    targets = [t for t in study_targets if t in targets] + sorted(
        t for t in targets if t not in study_targets)
    known = [e for e in classes if e in estimators] + sorted(
        e for e in estimators if e not in classes)
    return targets, order_estimators(known, classes)


def sort_like_report(frame: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (with target and estimator columns) in ``table``'s listing order."""
    targets, estimators = table_order(table)
    key = {"target": {t: i for i, t in enumerate(targets)},
           "estimator": {e: i for i, e in enumerate(estimators)}}
    rank = pd.DataFrame({c: frame[c].astype(str).map(key[c]).fillna(len(key[c]))
                         for c in ("target", "estimator")})
    return frame.iloc[rank.sort_values(["target", "estimator"], kind="stable").index.map(
        frame.index.get_loc)].reset_index(drop=True)
