"""``run_study``: fill a study directory with one results row per cell, resumably."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from contextlib import nullcontext

import pandas as pd

from nprates.analysis.untrusted import printable
from nprates.studies.cells import Task, error_message
from nprates.studies.executors import (cpu_count, execute, is_remote, open_executor,
                                       resolve_executor)
from nprates.studies.progress import Progress
from nprates.studies.check import CheckedStudy, check_study
from nprates.studies.lock import RunLock
from nprates.studies.errors import StudyError
from nprates.studies.seeds import split_slot
from nprates.studies.spec import Study
from nprates.studies.store import ResultsStore, cell_filename, load_results
from nprates.studies.trial import trial_fits


class StudyIncomplete(RuntimeError):
    """Some tasks could not run (a worker died, a task could not be sent).

    The cells that finished are stored; running the study again retries the rest.
    ``lost`` lists ``(task label, error message)``.
    """

    def __init__(self, lost: list[tuple[str, str]], out_dir):
        self.lost = lost
        first = f"{lost[0][0]}: {lost[0][1]}"
        super().__init__(f"{len(lost)} task(s) could not run (first: {first}); finished cells "
                         f"are kept in {out_dir}: run the study again to retry the rest")


def _as_study(study) -> Study:
    if isinstance(study, Study):
        return study
    if isinstance(study, (str, os.PathLike)):
        return Study.from_toml(study)
    if isinstance(study, Mapping):
        return Study.from_dict(study)
    raise TypeError(f"study must be a Study, a mapping or a path to a TOML file, got "
                    f"{type(study).__name__}")


def plan_tasks(checked: CheckedStudy, cells, threads: int | None,
               heartbeat: str | None = None) -> list[Task]:
    """Group cells into tasks: the replicates of a batched (target, estimator, n) go
    together, other cells run one per task. Order: sample size, then target, estimator.
    ``heartbeat``: a directory the tasks write their epoch heartbeats to."""
    groups: dict[tuple, list[int]] = {}
    for target, estimator, n, replicate in cells:
        groups.setdefault((target, estimator, n), []).append(replicate)
    tasks = []
    for (target, estimator, n), reps in groups.items():
        batched = estimator in checked.batched and len(reps) > 1
        for chunk in ([reps] if batched else [[r] for r in reps]):
            tasks.append(Task(study=checked.study, target=target, estimator=estimator, n=n,
                              replicates=tuple(chunk), device=checked.device,
                              batched=batched, threads=threads, heartbeat=heartbeat))
    return tasks


def run_study(study, out_dir, executor=None, *, workers: int | None = None,
              scheduler: str | None = None, device: str | None = None, force: bool = False,
              retry_failed: bool = False, progress: bool | None = None,
              trust=(), draws: int | None = None) -> pd.DataFrame:
    """Run every unfinished cell of ``study`` and return the results table.

    Parameters
    ----------
    study : Study, mapping with the TOML layout, or path to a TOML file
    out_dir : path
        The study directory. Finished cells found there are kept and skipped; damaged
        cell files are recomputed. A directory holding a different study is refused
        (StudyError) unless ``force``, which replaces the study, keeps the finished
        cells the two studies share and deletes the others.
    executor : None, "serial", "process", "dask", a concurrent.futures.Executor or a
        dask Client
        None: "dask" if ``scheduler`` is given, else a process pool of one
        single-threaded worker per core ("serial" with ``workers=1`` or on one core).
    workers : int
        Process-pool or LocalCluster workers (default: the CPU cores). Every cell trains
        with ``executors.CELL_THREADS`` torch and BLAS threads whatever the executor, so
        that serial and parallel runs give identical risks (column ``threads``).
    scheduler : str
        Address of a running Dask scheduler; without one "dask" starts a LocalCluster.
    device : str
        Overrides the study's device ("auto", "cpu", "cuda").
    retry_failed : bool
        Recompute cells recorded as failed (diverged cells count as results).
    progress : bool or None
        A progress bar on stderr (cells done, failures, elapsed time, an ETA from a
        cost model, the latest epoch of the cells in training); None: only when stderr
        is a terminal.
    trust : list of str
        Modules whose public classes and functions the study may name, besides
        ``NPRATES_TRUST`` (``nprates.studies.trust``; a study file cannot trust anything
        itself). Without trust a study may name nprates' target and estimator classes and
        scikit-learn's estimator classes only; anything else is refused before import.
    draws : int or None
        Run only the cells of each target's first ``draws`` draws (draws 0 .. draws - 1):
        a piece of a long study whose finished pieces hold whole draws, every size and
        estimator of them. The directory records the whole study; a later run with more
        draws (or none: all) resumes. None: every cell.

    Everything is validated (check_study, then one trial fit per estimator on a tiny
    sample) before anything is written. One run at a time fills a directory: a second
    run on it raises StudyError while the first holds its lock (``DIR/.lock``). Cell
    files found under a name not their own are moved to ``DIR/quarantine/``. Each
    finished task's rows are written by this process, one file per cell, atomically; a run
    killed at any moment loses at most the tasks in flight. Raises StudyIncomplete
    (after writing what finished) if some tasks could not run at all.
    """
    study = _as_study(study)
    study = study.with_trust(trust)
    check_draws(study, draws)
    executor = resolve_executor(executor, workers, scheduler)
    checked = check_study(study, device=device,
                          check_device=not is_remote(executor, scheduler))
    trial_fits(checked)
    store = ResultsStore(out_dir)
    store.check_compatible(study, force=force)
    lock = RunLock(out_dir, note=lambda line: print(line, file=sys.stderr))
    lock.acquire()
    try:
        return _fill(checked, store, out_dir, executor, workers, scheduler, force,
                     retry_failed, progress, draws)
    finally:
        lock.release()


def check_draws(study: Study, draws) -> None:
    """StudyError naming ``draws`` unless it is None or a whole number of draws the
    study has (a rate study: 1 .. target_draws)."""
    if draws is None:
        return
    have = study.target_draws or 1
    if study.kind == "capability":
        raise StudyError("draws", "a capability study has no target draws to run in pieces")
    if isinstance(draws, bool) or not isinstance(draws, int) or not 1 <= draws <= have:
        raise StudyError("draws", f"must be a whole number from 1 to the study's "
                         f"target_draws ({have}), got {draws!r}")


def _fill(checked: CheckedStudy, store: ResultsStore, out_dir, executor, workers, scheduler,
          force: bool, retry_failed: bool, progress: bool | None,
          draws: int | None = None) -> pd.DataFrame:
    """``run_study`` once the study is checked and the directory locked."""
    study = checked.study
    cells = [c for c in checked.cells if draws is None or split_slot(c[0])[1] < draws]
    files = {cell: cell_filename(*cell) for cell in cells}
    stored, damaged = store.finished()
    moved = store.quarantine_misnamed(stored)
    todo, resumed, resumed_failed, current = [], 0, 0, set()
    for cell, name in files.items():
        row = stored.get(name)
        fresh = row is not None and row["cell_key"] == study.cell_key(*cell)
        if fresh:
            current.add(name)
        if fresh and not (retry_failed and row["status"] == "failed"):
            resumed += 1
            resumed_failed += row["status"] != "ok"
        else:
            todo.append(cell)

    bar = Progress(study.name, len(cells), resumed=resumed, failed=resumed_failed,
                   pending=[(estimator, n) for _, estimator, n, _ in todo], enabled=progress)
    local = not is_remote(executor, scheduler)
    for target, estimator, reason in checked.skipped:
        bar.note(f"note: no cells for estimator {estimator!r} on target {target!r}: {reason}")
    for name in sorted(set(damaged) & set(files.values())):
        bar.note(f"note: recomputing damaged cell file {name} ({damaged[name]})")
    for name, path in moved:
        bar.note(f"note: cell file {printable(name)} holds another cell's row (a copy?); "
                 f"moved to {printable(path, 400)}")

    lost = []
    # the executor opens before anything is written: an unreachable scheduler is bad input
    with open_executor(executor if todo else "serial", workers, scheduler) as (pool, threads, where):
        store.prepare(study, current, force=force)
        bar.workers = 1 if pool is None else (
            workers or cpu_count() if executor in ("process", "dask") and local else None)
        beats = tempfile.TemporaryDirectory(prefix="nprates-beats-") \
            if todo and bar.enabled and local else nullcontext()
        with beats as heartbeat, bar.ticking(heartbeat):
            tasks = plan_tasks(checked, todo, threads, heartbeat)
            if tasks:
                bar.note(f"{study.name}: {len(todo)} cells to run in {len(tasks)} tasks ({where})")
                bar.start_tasks([(t.estimator, t.n, len(t.replicates)) for t in tasks])
                bar.show(force=True)
            for task, result in execute(tasks, pool):
                if isinstance(result, BaseException):
                    lost.append((task.label, error_message(result)))
                    bar.note(f"lost: {task.label}: {lost[-1][1]}")
                    continue
                for row in result:
                    store.write(row)
                    if row["status"] != "ok":
                        bar.note(f"{row['status']}: {task.target}/{task.estimator}/n={row['n']}"
                                 f"/r={row['replicate']}: {row['error']}")
                bar.advance(len(result), sum(row["status"] != "ok" for row in result), result)
    bar.finish(str(out_dir))
    if lost:
        raise StudyIncomplete(sorted(lost), out_dir)
    return load_results(out_dir)
