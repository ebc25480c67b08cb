"""Reading a results directory: the on-disk form of the results table.

A results directory (what ``nprates run`` writes) holds::

    DIR/study.toml                          the study, as given
    DIR/cells/TARGET__ESTIMATOR__nN__rR.json  one finished cell (one results row)

Each cell file is a JSON object ``{"format": 1, "row": {...}, "sha256": HEX}`` whose
``sha256`` is ``row_digest(row)``, so a truncated or altered file is detected and
skipped instead of read. Files are written whole (through a temporary
``.NAME.PID.tmp`` renamed into place), so a directory can be read while a study still
runs; temporaries are not cell files and are ignored.

>>> table = read_results_dir("results/quick")    # doctest: +SKIP

The writing side lives with the studies (``nprates.studies.store``); it computes the
checksum with ``row_digest`` from here, so both sides agree by construction.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from pathlib import Path

import pandas as pd

from .schema import COLUMNS, OPTIONAL, row_problem, validate_results
from .untrusted import loads_json, printable, read_text

STUDY_FILE = "study.toml"
CELLS_DIR = "cells"


def row_digest(row: dict) -> str:
    """SHA-256 (hex) of a cell's row: of its compact JSON with sorted keys (NaN allowed)."""
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_cell(path) -> tuple[dict | None, str]:
    """``(row, "")`` for a sound cell file, else ``(None, reason)``; the reason names the
    field at fault and is safe to print.

    Sound: a regular file of at most ``MAX_FILE_BYTES`` holding JSON nested at most
    ``MAX_DEPTH`` deep, a ``row`` whose checksum matches, a ``cell_key`` and every field
    valid for the schema (``schema.row_problem``). A cell file may come from someone
    else (docs/trust.md): reading one never blocks (a FIFO), never reads more than the
    size limit (a link to ``/dev/zero``) and never raises. Cell files are strict JSON: a
    missing number (NaN) is written as null and read back as NaN.
    """
    try:
        payload = loads_json(read_text(path))
    except OSError as exc:
        return None, f"unreadable ({printable(exc.strerror or exc)})"
    except ValueError as exc:
        return None, f"unreadable ({exc})"
    if not isinstance(payload, dict) or not isinstance(payload.get("row"), dict):
        return None, "not a cell file"
    row = payload["row"]
    if payload.get("sha256") != row_digest(row):
        return None, "checksum mismatch"
    if "cell_key" not in row:
        return None, "field 'cell_key': missing"
    problem = row_problem(row)
    if problem:
        return None, printable(problem)
    return {k: math.nan if v is None else v for k, v in row.items()}, ""


def read_cells(cells_dir) -> tuple[dict[str, dict], dict[str, str]]:
    """The sound cells of a ``cells/`` folder by file name, and the damaged ones with
    the reason (both empty when the folder does not exist)."""
    rows, bad = {}, {}
    cells_dir = Path(cells_dir)
    if not cells_dir.is_dir():
        return rows, bad
    for path in sorted(cells_dir.glob("*.json")):
        row, reason = read_cell(path)
        if row is None:
            bad[path.name] = reason
        else:
            rows[path.name] = row
    return rows, bad


def rows_to_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a results DataFrame: schema columns first (then any others), optional
    columns filled and typed, sorted by target, estimator, n and replicate. No rows
    give an empty table with the schema's columns and dtypes."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in COLUMNS})
    frame = validate_results(pd.DataFrame(rows))
    extra = [c for c in frame.columns if c not in COLUMNS]
    frame = frame[list(COLUMNS) + extra]
    for col, default in OPTIONAL.items():
        if isinstance(default, str):
            frame[col] = frame[col].fillna("").astype(str)
        elif not isinstance(default, (bool, int)):
            frame[col] = frame[col].astype(float)
    frame = frame.sort_values(["target", "estimator", "n", "replicate"], kind="stable")
    return frame.reset_index(drop=True)


def _dtype(column: str) -> str:
    default = OPTIONAL.get(column)
    if column in ("n", "replicate", "draw"):
        return "int64"
    if isinstance(default, bool):
        return "bool"
    if column in ("target", "estimator", "status") or isinstance(default, str):
        return "object"
    return "float64"


def check_results_dir(path) -> Path:
    """``path`` as a Path if it can be a results directory, else a clear error.

    Raises FileNotFoundError if it does not exist, ValueError if it is not a
    directory, is empty, or holds neither ``study.toml`` nor ``cells/``.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"results directory {str(p)!r} does not exist")
    if not p.is_dir():
        raise ValueError(f"{str(p)!r} is not a results directory: it is a file (expected a "
                         f"directory with {STUDY_FILE} and {CELLS_DIR}/)")
    if not any(p.iterdir()):
        raise ValueError(f"results directory {str(p)!r} is empty: run a study into it first "
                         f"('nprates run STUDY.toml --out {p}')")
    if not (p / STUDY_FILE).is_file() and not (p / CELLS_DIR).is_dir():
        raise ValueError(f"{str(p)!r} is not a results directory: it holds neither "
                         f"{STUDY_FILE} nor {CELLS_DIR}/")
    return p


def read_cells_table(directory) -> pd.DataFrame:
    """The results table of the cells in ``directory/cells`` (empty if none).

    Damaged cell files are skipped with a RuntimeWarning naming the file and why.
    The directory is not checked: ``check_results_dir`` does that.
    """
    cells_dir = Path(directory) / CELLS_DIR
    rows, bad = read_cells(cells_dir)
    for name, reason in bad.items():
        # stacklevel 3: the caller of the public reader that called this.
        warnings.warn(f"{printable(cells_dir / name, 400)}: damaged cell file skipped ({reason}); "
                      f"rerun the study to recompute it", RuntimeWarning, stacklevel=3)
    return rows_to_frame(list(rows.values()))


def read_results_dir(path) -> pd.DataFrame:
    """The results table of a results directory: one row per finished cell.

    Works while a study still writes into the directory. Damaged cell files are
    skipped with a RuntimeWarning (rerunning the study recomputes them); temporary
    files are ignored. The table has the schema's columns first (``nprates.analysis.schema``)
    and is sorted by target, estimator, n and replicate.

    Raises FileNotFoundError if ``path`` does not exist; ValueError if it is not a
    directory, is empty, is not a results directory (neither ``study.toml`` nor
    ``cells/``) or holds no finished cell. Each message names ``path``.
    """
    directory = check_results_dir(path)
    table = read_cells_table(directory)
    if len(table) == 0:
        raise ValueError(f"results directory {str(directory)!r} holds no results (no finished "
                         f"cells in {directory / CELLS_DIR})")
    return table
