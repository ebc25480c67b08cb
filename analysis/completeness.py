"""The completeness flag a results table carries from its directory.

``nprates.studies.load_results`` (and the CLI) set ``table.attrs["incomplete"]``: "" when
the directory holds every cell of its study, else one line such as ``incomplete: 57 of 72
cells, missing transformer at n=2048 (3 cells)``. A table built by hand carries no flag.
The fits and the report warn with it, so a partial result never reads as a final one.
"""

from __future__ import annotations

import warnings

import pandas as pd


def incomplete(table: pd.DataFrame) -> str:
    """The table's incompleteness line ("" when complete or not known)."""
    return str(getattr(table, "attrs", {}).get("incomplete", "") or "")


def warn_if_incomplete(table: pd.DataFrame, stacklevel: int = 3) -> str:
    """Warn (UserWarning) with the table's incompleteness line, if any; return it."""
    message = incomplete(table)
    if message:
        warnings.warn(f"results are partial: {message}", UserWarning, stacklevel=stacklevel)
    return message
