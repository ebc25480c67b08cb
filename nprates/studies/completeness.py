"""Whether a results directory holds its whole study, and the record of its run.

A run that stopped early (Ctrl-C, a crash, a lost worker) or is still running leaves a
directory that reads like a finished one. ``run_record`` compares the cells on disk with
the cells the study file asks for and looks at the run lock, and returns what the table's
``attrs`` carry from then on (``load_results`` sets them):

* ``"incomplete"``: "" when every cell is there and no run holds the directory, else one
  line, ``incomplete: 57 of 72 cells, missing transformer at n=1024, 2048 (6 cells),
  ...; a run still holds the lock (pid 4242 on host, started ...)``;
* ``"run_dates"``: (first, last) modification time of the cell files, ISO dates in UTC;
* ``"seed"``: the study's root seed; ``"study_hash"``: the first 12 hex digits of the
  SHA-256 of the study as normalised (``Study.to_dict``), equal for equal studies;
* ``"estimators"``: {label: class path} and ``"targets"``: [labels], in the study file's
  order (``nprates.analysis.ordering``: tables, the CLI and the reports list rows in it,
  and a report's colours follow it whatever subset of the table is drawn).

The analysis (``nprates.analysis.completeness``) and the reports read these attrs; the CLI
refuses an incomplete directory unless ``--partial``.
"""

from __future__ import annotations

import json
import os
import socket
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from nprates.analysis.results_dir import CELLS_DIR, STUDY_FILE
from nprates.studies.errors import StudyError
from nprates.studies.lock import LOCK_FILE, pid_alive
from nprates.studies.seeds import draw_slot, split_slot
from nprates.studies.serialise import digest
from nprates.studies.spec import Study


@dataclass(frozen=True)
class Completeness:
    """The cells a study asks for against those on disk.

    ``missing``: (target slot, estimator, n, replicate) of each expected cell with no
    current row; ``running``: the live lock owner in words ("" when none).
    """

    done: int
    total: int
    missing: tuple
    running: str = ""

    @property
    def complete(self) -> bool:
        return not self.missing and not self.running

    def message(self, limit: int = 4) -> str:
        """"" when complete, else the one-line ``incomplete: k of N cells, missing ...``."""
        if self.complete:
            return ""
        parts = [f"incomplete: {self.done} of {self.total} cells"]
        if self.missing:
            groups: dict = {}
            for _, estimator, n, _ in self.missing:
                sizes = groups.setdefault(estimator, {})
                sizes[n] = sizes.get(n, 0) + 1
            named = [f"{e} at n={', '.join(str(n) for n in sorted(sizes))} "
                     f"({sum(sizes.values())} cells)" for e, sizes in groups.items()]
            more = f", and {len(named) - limit} more" if len(named) > limit else ""
            parts[0] += f", missing {', '.join(named[:limit])}{more}"
        if self.running:
            parts.append(f"a run still holds the lock ({self.running})")
        return "; ".join(parts)


def expected_cells(study: Study, present_pairs=()) -> list[tuple]:
    """The (target slot or task setting, estimator, n, replicate) cells of ``study``.

    Pairs the study itself skips (an estimator that cannot run on a target) are left out;
    finding them imports the estimators (``check_study``), so that is done only when some
    (target, estimator) pair of the grid has no cell in ``present_pairs`` at all.
    """
    if study.kind == "capability":
        return [(s, e, study.train_size, r) for s in study.settings for e in study.estimators
                for r in range(study.replicates)]
    grid = [(slot, e, n, r) for n in study.sizes for t in study.targets
            for slot in study.target_slots(t) for e in study.estimators
            for r in range(study.replicates)]
    present = set(present_pairs)
    if all((slot, e) in present for slot, e, _, _ in grid):
        return grid
    from nprates.studies.check import check_study  # the estimators (torch): only now

    try:
        skipped = {(t, e) for t, e, _ in check_study(study, check_device=False).skipped}
    except StudyError:
        skipped = set()
    return [c for c in grid if (split_slot(c[0])[0], c[1]) not in skipped]


def lock_owner(directory) -> str:
    """Another live run holding ``directory``'s lock, in words; "" when none (or stale)."""
    path = Path(directory) / LOCK_FILE
    try:
        owner = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    if not isinstance(owner, dict):
        return ""
    pid, host = owner.get("pid"), str(owner.get("host", ""))
    here = host == socket.gethostname()
    if isinstance(pid, int) and here and (pid == os.getpid() or not pid_alive(pid)):
        return ""  # this process's own run (reading what it wrote), or a stale lock
    return f"pid {pid} on {host or '?'}, started {owner.get('started', '?')}"


def completeness(study: Study, table: pd.DataFrame, directory=None) -> Completeness:
    """``study``'s cells against the rows of ``table``, matched on (target slot,
    estimator, n, replicate) (a run replaces the rows of an edited study: ``nprates run
    --force``); the lock of ``directory`` if given."""
    slots = table["target"].astype(str)
    if "draw" in table:
        slots = [draw_slot(t, int(d)) for t, d in zip(slots, table["draw"])]
    have = set(zip(slots, table["estimator"].astype(str), table["n"].astype(int),
                   table["replicate"].astype(int)))
    cells = expected_cells(study, {(s, e) for s, e, _, _ in have})
    missing = tuple(c for c in cells if (c[0], c[1], int(c[2]), int(c[3])) not in have)
    return Completeness(done=len(cells) - len(missing), total=len(cells), missing=missing,
                        running=lock_owner(directory) if directory is not None else "")


def run_dates(directory) -> tuple[str, str] | None:
    """(first, last) modification dates of the cell files (UTC, ``YYYY-MM-DD``); links,
    folders and files that vanish are not cells and are passed over."""
    times = []
    for path in (Path(directory) / CELLS_DIR).glob("*.json"):
        try:
            info = path.lstat()
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            times.append(info.st_mtime)
    if not times:
        return None
    return _day(min(times)), _day(max(times))


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")


def study_hash(study: Study) -> str:
    """First 12 hex digits of the SHA-256 of the normalised study (``Study.to_dict``)."""
    return digest(study.to_dict())[:12]


def run_record(directory, table: pd.DataFrame) -> dict:
    """The ``attrs`` a table read from ``directory`` carries (see the module docstring);
    {} for a directory without a readable study file."""
    path = Path(directory) / STUDY_FILE
    if not path.is_file():
        return {}
    try:
        study = Study.from_toml(path)
    except (StudyError, OSError):
        return {}
    record = {"incomplete": completeness(study, table, directory).message(),
              "seed": study.seed, "study_hash": study_hash(study),
              "estimators": {label: spec.cls for label, spec in study.estimators.items()},
              "targets": list(study.targets if study.kind == "rate" else study.settings)}
    dates = run_dates(directory)
    if dates:
        record["run_dates"] = dates
    return record
