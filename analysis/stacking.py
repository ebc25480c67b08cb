"""Several studies in one table: ``stack_studies`` sets the ``study`` column that the
reports use to tell the same estimator of two studies apart.

>>> table = stack_studies([load_results("results/cpu"), load_results("results/gpu")],
...                       ["cpu", "gpu"])                        # doctest: +SKIP
>>> build_report(table, "both.pdf")     # "ssm (cpu)" and "ssm (gpu)"  # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd


def stack_studies(tables, labels) -> pd.DataFrame:
    """The rows of ``tables`` (results tables) one after the other, the ``study`` column
    of each set to its label. ``attrs`` keep what every table shares and join the
    incompleteness lines ("LABEL: incomplete: ...").

    Raises ValueError for fewer than two tables, a label count that differs from the
    table count, or repeated labels.
    """
    tables, labels = list(tables), [str(x) for x in labels]
    if len(tables) < 2:
        raise ValueError(f"tables: stacking needs at least two tables, got {len(tables)}")
    if len(labels) != len(tables):
        raise ValueError(f"labels: {len(labels)} labels for {len(tables)} tables")
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels: repeated label in {labels}")
    out = pd.concat([t.assign(study=label) for t, label in zip(tables, labels)],
                    ignore_index=True)
    shared = {k: v for k, v in tables[0].attrs.items()
              if k != "incomplete" and all(t.attrs.get(k) == v for t in tables[1:])}
    estimators = {}
    for t in tables:
        recorded = t.attrs.get("estimators")
        estimators.update(recorded if isinstance(recorded, dict) else {})
    out.attrs = {**shared, "estimators": estimators,
                 "incomplete": "; ".join(f"{label}: {t.attrs['incomplete']}"
                                         for t, label in zip(tables, labels)
                                         if t.attrs.get("incomplete"))}
    return out


def study_labels(table: pd.DataFrame) -> list:
    """The distinct non-empty values of the ``study`` column (in order of appearance)."""
    if "study" not in table:
        return []
    return [s for s in pd.unique(table["study"].astype(str)) if s and s != "nan"]
