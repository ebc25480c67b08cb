"""The results store: a directory that survives crashes and can be read at any time.

Layout::

    DIR/study.toml                          the study, as given
    DIR/cells/TARGET__ESTIMATOR__nN__rR.json  one finished cell (one results row)
    DIR/.lock                               the running process (``lock``), while it runs
    DIR/quarantine/NAME                     cell files found under a name not their own

(In a capability study TARGET is a task setting ``TASK/PARAM=VALUE``, written
``TASK@PARAM=VALUE`` in file names.)

A cell file is written once, atomically (a temporary file in the same directory,
flushed to disk, then renamed over the final name), by the one process that runs the
study; a run killed at any moment leaves only whole cell files and, at worst, a
stray temporary file that readers ignore. Each file holds the row and a SHA-256 of
it, so a truncated or damaged file is detected: ``load_results`` skips it with a
warning and the next run recomputes that cell.

This module writes; reading (and the checksum both sides share) is
``nprates.analysis.results_dir``, so that results can be read where only ``nprates.analysis`` is.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from nprates.analysis.results_dir import (CELLS_DIR, STUDY_FILE, check_results_dir, read_cells,
                                  read_cells_table, row_digest)
from nprates.analysis.untrusted import loads_json, loads_toml, read_text
from nprates.analysis.stacking import stack_studies
from nprates.studies.completeness import run_record
from nprates.studies.errors import StudyError
from nprates.studies.lock import LOCK_FILE, pid_alive
from nprates.studies.seeds import draw_slot
from nprates.studies.spec import Study

FORMAT = 1
QUARANTINE_DIR = "quarantine"
_TMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.tmp$")


def cell_filename(target: str, estimator: str, n: int, replicate: int) -> str:
    """The file name of a cell; '/' (task settings) becomes '@', which no label holds."""
    return f"{target.replace('/', '@')}__{estimator}__n{int(n)}__r{int(replicate)}.json"


def row_filename(row: dict) -> str:
    """The file name of the cell a results row belongs to (its target draw included)."""
    slot = draw_slot(row["target"], int(row.get("draw", 0) or 0))
    return cell_filename(slot, row["estimator"], row["n"], row["replicate"])


def _clean(value):
    """A JSON value: numpy scalars as Python numbers, NaN and infinities as null (strict
    JSON; the reader gives NaN back)."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


def write_cell(cells_dir: Path, row: dict) -> Path:
    """Write one row atomically as its cell file; returns the path."""
    row = {k: _clean(v) for k, v in row.items()}
    final = Path(cells_dir) / row_filename(row)
    _write_text_atomic(final, json.dumps({"format": FORMAT, "sha256": row_digest(row),
                                          "row": row}, sort_keys=True, indent=1, allow_nan=False))
    return final


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_text_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory, flushed, then renamed: readers
    see the old file or the whole new one, never a part (temporaries: ``.NAME.PID.tmp``)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class ResultsStore:
    """A study directory: ``prepare`` it for a study, then read and write cells."""

    def __init__(self, path):
        self.path = Path(path)
        self.cells_dir = self.path / CELLS_DIR

    @property
    def study_file(self) -> Path:
        return self.path / STUDY_FILE

    def stored_study(self) -> Study:
        """The study recorded in the directory (structure only, nothing imported).

        The file may come from someone else: it is read with a size and depth limit
        (StudyError when it breaks one), and a ``trust`` list that an earlier version
        recorded is ignored (it never changed a result, and trust comes from the person
        running)."""
        source = str(self.study_file)
        try:
            data = loads_toml(read_text(self.study_file))
        except ValueError as exc:
            raise StudyError(None, str(exc), source) from None
        data.pop("trust", None)
        return Study.from_dict(data, source=source)

    def check_compatible(self, study: Study, force: bool = False) -> list[str]:
        """Raise StudyError if the directory holds another study (unless ``force``).

        Returns the differing fields (empty when the directory is new or matches).
        Writes nothing.
        """
        where = str(self.path)
        if self.path.exists() and not self.path.is_dir():
            raise StudyError("--out", f"{where} exists and is not a directory")
        if not self.path.exists():
            return []
        if not self.study_file.exists():
            if any(p.name != LOCK_FILE for p in self.path.iterdir()) and not force:
                raise StudyError("--out", f"{where} is not empty and holds no {STUDY_FILE}; "
                                 f"choose another directory or use --force")
            return []
        try:
            stored = self.stored_study()
        except (StudyError, OSError, UnicodeDecodeError) as exc:
            if force:
                return ["(unreadable study.toml)"]
            raise StudyError("--out", f"{where} holds a {STUDY_FILE} that cannot be read "
                             f"({exc}); use --force to replace it") from None
        diff = stored.differences(study)
        if diff and not force:
            shown = ", ".join(diff[:6]) + (", ..." if len(diff) > 6 else "")
            raise StudyError("--out", f"{where} holds a different study (differs in {shown}); "
                             f"use --force to replace it (finished cells the studies share "
                             f"are kept) or choose another directory")
        return diff

    def prepare(self, study: Study, keep: set[str], force: bool = False) -> None:
        """Create the directory and record the study; drop cells of a replaced study.

        ``keep`` holds the names of the cell files that ``study`` resumes (their cell key
        is the study's). After a forced replacement every other cell file is deleted,
        also those of cells the new study recomputes: until they are rewritten the
        directory must not hold rows of the replaced study, which ``load_results``
        would read as this study's.
        """
        diff = self.check_compatible(study, force)
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        if diff or not self.study_file.exists():
            _write_text_atomic(self.study_file, study.to_toml())
        if diff:
            for path in self.cells_dir.glob("*.json"):
                if path.name not in keep:
                    path.unlink(missing_ok=True)
        self.remove_stale_temporaries()

    def remove_stale_temporaries(self) -> None:
        for path in self.cells_dir.glob(".*.tmp"):
            match = _TMP_RE.match(path.name)
            if match and not pid_alive(int(match["pid"])):
                path.unlink(missing_ok=True)

    def quarantine_misnamed(self, rows: dict[str, dict]) -> list[tuple[str, Path]]:
        """Move the sound cell files among ``rows`` (``finished()``'s first part) whose name
        is not their row's (a copied or renamed cell file, which would count its row twice)
        to ``DIR/quarantine/``, and drop them from ``rows``.

        Returns ``(old name, new path)`` of each file moved.
        """
        moved = []
        for name, row in list(rows.items()):
            if name != row_filename(row):
                target = self.path / QUARANTINE_DIR / name
                target.parent.mkdir(exist_ok=True)
                os.replace(self.cells_dir / name, target)
                del rows[name]
                moved.append((name, target))
        return moved

    def finished(self) -> tuple[dict[str, dict], dict[str, str]]:
        """Sound cells by file name, and damaged cell files with the reason."""
        return read_cells(self.cells_dir)

    def write(self, row: dict) -> Path:
        return write_cell(self.cells_dir, row)


def load_results(path, labels=None) -> pd.DataFrame:
    """The results table of a study directory (one row per finished cell).

    ``path`` may also be a list of directories: their tables stacked, the ``study`` column
    set to ``labels`` (default: each study's name), so that reports and figures draw the
    same estimator of two studies apart (``nprates.analysis.stacking.stack_studies``).

    Works while a study runs and after a crash. Damaged cell files are skipped with a
    warning (rerunning the study recomputes them); temporary files are ignored. A
    study directory with no finished cell yet gives an empty table with the schema's
    columns. Raises FileNotFoundError if ``path`` is not a study directory (missing,
    a file, empty, or holding neither ``study.toml`` nor ``cells/``).
    ``nprates.analysis.read_results_dir`` reads the same table but refuses an empty one.
    ``table.attrs`` carry the run's record (``nprates.studies.completeness.run_record``):
    "incomplete" ("" or ``incomplete: k of N cells, missing ...``), "run_dates", "seed",
    "study_hash", and "versions".
    """
    if isinstance(path, (list, tuple)):
        tables = [load_results(p) for p in path]
        if labels is None:
            labels = [Study.from_toml(Path(p) / STUDY_FILE).name for p in path]
        return stack_studies(tables, labels)
    try:
        directory = check_results_dir(path)
    except ValueError as exc:
        raise FileNotFoundError(str(exc)) from None
    table = for_kind(read_cells_table(directory))
    table.attrs.update(run_record(directory, table))  # "incomplete", run dates, seed, hash
    return table


#: Columns that only one kind of study fills (the other leaves them at their defaults).
KIND_COLUMNS = {
    "rate": ("noise", "theory_exponent", "a_dagger", "draw", "opt_gap", "null_risk",
             "trivial"),
    "capability": ("task", "task_param", "task_value", "accuracy", "accuracy_se",
                   "exact_match", "train_accuracy"),
}


def for_kind(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` without the columns of the other kind of study and without the per-row
    ``versions`` JSON, which moves to ``table.attrs["versions"]`` (a dict: the record
    most cells share). A table holding both kinds of rows keeps every column."""
    tasks = table["task"].astype(str) if "task" in table else pd.Series("", index=table.index)
    kinds = {"capability" if task else "rate" for task in tasks}
    drop = []
    if len(kinds) == 1:
        other = "rate" if kinds == {"capability"} else "capability"
        drop = list(KIND_COLUMNS[other])
    versions = {}
    if "versions" in table:
        records = table["versions"].astype(str)
        records = records[records.ne("") & records.ne("nan")]
        if len(records):
            try:
                versions = loads_json(records.value_counts().index[0])
            except ValueError:
                versions = {}
            versions = versions if isinstance(versions, dict) else {}
        drop.append("versions")
    table = table.drop(columns=[c for c in drop if c in table])
    table.attrs["versions"] = versions
    return table
